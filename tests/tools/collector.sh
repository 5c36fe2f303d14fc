# Helpers for the collector's integration tests; source after tests/lib.sh.
# start_collector ARGS...  starts bin/collector on a free loopback port with its output in
# $T_TMP/out.raw (unless ARGS give -o) and bad rows in $T_TMP/bad.json, and waits for /health.
# Sets PORT, CPID and URL.
TOOLS="$FURROW_ROOT/tests/tools"
# Prefer the system interpreter: a version-manager shim can cost a second per start.
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
start_collector() {
	PORT=$(free_port)
	URL="http://127.0.0.1:$PORT"
	"$FURROW_BIN/collector" --bind 127.0.0.1 -p "$PORT" --stats-interval 0 "$@" \
	    2>>"$T_TMP/err.log" &
	CPID=$!
	T_PIDS="$T_PIDS $CPID"
	wait_for 10 curl -sf "$URL/health"
}
# stop_collector: SIGTERM and wait; sets CRC to the exit status.
stop_collector() {
	kill -TERM "$CPID" 2>/dev/null
	wait "$CPID"
	CRC=$?
}
# decode FILE: JSON lines of the decoded payloads (fails if any line is corrupt).
decode() { python3 "$TOOLS/collector_decode.py" <"$1"; }
raw() { python3 "$TOOLS/rawhttp.py" "$PORT" "$@"; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
# decode_ok FILE: every line of FILE is a well-formed record.
decode_ok() { python3 "$TOOLS/collector_decode.py" <"$1" >/dev/null; }
