# Helpers for inspect's tests; source after tests/lib.sh.
#
# start_inspect ARGS...   bin/inspect on a free loopback port (its log in $T_TMP/inspect.log),
#                         waits for /health. Sets IPORT, IPID and IURL.
# stop_inspect            SIGTERM and wait; sets IRC to the exit status.
# start_pipeline [ARGS]   the embedded default by hand: collector -> log:raw.log -> enrich ->
#                         log:good.tsv / log:bad.json -> inspect (ARGS go to inspect). Sets
#                         CURL (the collector) besides the above; the logs are in $T_TMP/data.
# j GET-PATH              curl the inspect API.   jpost PATH JSON   POST a JSON body.
if [ -x /usr/bin/python3 ]; then python3() { /usr/bin/python3 "$@"; }; fi
start_inspect() {
	IPORT=$(free_port)
	IURL="http://127.0.0.1:$IPORT"
	"$FURROW_BIN/inspect" --bind 127.0.0.1 -p "$IPORT" --stats-interval 0 "$@" \
	    2>>"$T_TMP/inspect.log" &
	IPID=$!
	T_PIDS="$T_PIDS $IPID"
	wait_for 15 curl -sf "$IURL/health"
}
stop_inspect() {
	kill -TERM "$IPID" 2>/dev/null
	wait "$IPID"
	IRC=$?
}
start_pipeline() {
	local d="$T_TMP/data" cport
	mkdir -p "$d"
	cport=$(free_port)
	CURL="http://127.0.0.1:$cport"
	"$FURROW_BIN/enrich" --source "log:$d/raw.log" --output "log:$d/good.tsv" \
	    --bad "log:$d/bad.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 \
	    2>>"$T_TMP/enrich.log" &
	T_PIDS="$T_PIDS $!"
	"$FURROW_BIN/collector" --bind 127.0.0.1 -p "$cport" -o "log:$d/raw.log" \
	    --bad "log:$d/bad.json" --stats-interval 0 2>>"$T_TMP/collector.log" &
	T_PIDS="$T_PIDS $!"
	wait_for 10 curl -sf "$CURL/health" || return 1
	start_inspect --source "log:$d/good.tsv" --bad-source "log:$d/bad.json" \
	    --schemas "$FURROW_ROOT/schemas" --collector-url "$CURL" "$@"
}
j() { curl -s "$IURL$1"; }
jpost() { curl -s -H 'Content-Type: application/json' -d "$2" "$IURL$1"; }
# enriched lines with columns set: enriched_range FIRST LAST [COL=VALUE...] (COL by index);
# enriched_line N [COL=VALUE...] is one of them. The event id and the second of
# collector_tstamp come from the number.
enriched_range() {
	python3 - "$@" <<'PY'
import sys
first, last = int(sys.argv[1]), int(sys.argv[2])
for n in range(first, last + 1):
    c = [""] * 131
    c[3] = "2023-11-14 22:13:%02d.000" % (n % 60)
    c[6] = "9f2b6a3e-1c4d-4e5f-8a7b-%012d" % n
    c[10] = "furrow-collector-0.1.0-stdout"
    c[11] = "furrow-enrich-0.1.0"
    for kv in sys.argv[3:]:
        k, v = kv.split("=", 1)
        c[int(k)] = v
    print("\t".join(c))
PY
}
enriched_line() { n=$1; shift; enriched_range "$n" "$n" "$@"; }
