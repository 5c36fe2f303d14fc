# Helpers for the launcher's tests (tests/integration/fifo_setup*.sh); source after tests/lib.sh.
#
#   launcher_start DATADIR   start fifo-setup.sh on free ports (FURROW_PORT, _INSPECT_PORT, _IGLU_PORT), in its own process
#                            group as an interactive shell would start it in a terminal; wait for
#                            run/ready. Sets LPID (the supervisor's pid; its process group too).
#   launcher_wait            wait for the supervisor to end; sets LRC to its exit status
#   pid_of STAGE             the stage's pid from its pid file
#   running STAGE            the stage runs (and is not a zombie)
#   alive_stages             the names of the stages still running (empty when none)
#   load_start ACKED [RATE]  steady_load.py against the collector (500 events/s; with
#                            LOAD_BAD_EVERY=N every Nth is a bad row, its id in ACKED.bad);
#                            sets LOADPID
#   load_stop                stop it; its JSON summary is in $T_TMP/load.json
#   acked FILE               how many ids FILE holds
#   acked_grows FILE N       wait (30 s) until FILE holds N more ids than now
#   allocated FILE [FROM]    bytes of FILE from offset FROM (0) to its end that take disk space
#                            (the rest are holes: given back by a reader with --reclaim)
#   reconcile ACKED FILE...  compare the ids answered 200 with the event ids (column 7) of the
#                            enriched files: sets N_ACKED (ids), N_DELIVERED (their lines),
#                            N_LOST (ids missing, listed in $T_TMP/lost), N_DUPS (ids delivered
#                            more than once)
LAUNCHER=${FURROW_LAUNCHER:-$FURROW_ROOT/fifo-setup.sh}
# Prefer the system interpreter (a version-manager shim can cost a second per start); a command,
# not a function, so that $! is the interpreter's own pid.
PYTHON=/usr/bin/python3
[ -x "$PYTHON" ] || PYTHON=python3

launcher_start() {
	export FURROW_DATA_DIR=$1
	FURROW_PORT=${FURROW_PORT:-$(free_port)}
	# inspect and iglu-server too: their defaults (9090, 8081) may be taken on a shared machine
	FURROW_INSPECT_PORT=${FURROW_INSPECT_PORT:-$(free_port)}
	FURROW_IGLU_PORT=${FURROW_IGLU_PORT:-$(free_port)}
	export FURROW_PORT FURROW_INSPECT_PORT FURROW_IGLU_PORT
	rm -f "$1/run/ready"
	# As a terminal runs a foreground job: SIGINT not ignored (a shell without job control
	# starts background jobs with SIGINT ignored, and bash cannot trap a signal ignored at entry).
	setsid env --default-signal=INT,QUIT bash "$LAUNCHER" start >>"$1.launcher.log" 2>&1 &
	LPID=$!
	T_PIDS="$T_PIDS $LPID"
	wait_for 60 ready_or_gone "$1"
	test -f "$1/run/ready"
}
ready_or_gone() { [ -f "$1/run/ready" ] || ! proc_running "$LPID"; }
launcher_wait() {
	wait "$LPID"
	LRC=$?
}
pid_of() { cat "$FURROW_DATA_DIR/run/$1.pid" 2>/dev/null; }
# not a zombie: a zombie answers kill -0
proc_running() { [ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | grep -q '^[ZX]'; }
running() { proc_running "$(pid_of "$1")"; }
alive_stages() {
	local f left=""
	for f in "$FURROW_DATA_DIR"/run/*.pid; do
		[ -e "$f" ] || continue
		[ "$(basename "$f")" = fifo-setup.pid ] && continue
		proc_running "$(cat "$f")" && left="$left $(basename "$f" .pid)"
	done
	echo "$left"
}

load_start() {
	: >>"$1"
	"$PYTHON" "$FURROW_ROOT/tests/tools/steady_load.py" "$FURROW_PORT" "${2:-500}" "$1" 4 \
		"${LOAD_BAD_EVERY:-0}" >"$T_TMP/load.json" 2>"$T_TMP/load.err" &
	LOADPID=$!
	T_PIDS="$T_PIDS $LOADPID"
}
load_stop() {
	kill -TERM "$LOADPID" 2>/dev/null
	wait "$LOADPID"
}
acked() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
at_least() { [ "$(acked "$1")" -ge "$2" ]; }
acked_grows() { wait_for 30 at_least "$1" $(( $(acked "$1") + $2 )); }

allocated() {
	"$PYTHON" - "$1" "${2:-0}" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
pos, end, n = int(sys.argv[2]), os.fstat(fd).st_size, 0
while pos < end:
    try:
        data = os.lseek(fd, pos, os.SEEK_DATA)
    except OSError:
        break
    hole = os.lseek(fd, data, os.SEEK_HOLE)
    n += min(hole, end) - data
    pos = hole
print(n)
EOF
}
reconcile() {
	local ackfile=$1
	shift
	sort -u "$ackfile" >"$T_TMP/acked.sorted"
	cat "$@" 2>/dev/null | cut -f 7 | sort >"$T_TMP/delivered.sorted"
	N_ACKED=$(wc -l <"$T_TMP/acked.sorted" | tr -d ' ')
	# of the ids in ACKED: how many lines delivered, how many missing, how many more than once
	N_DELIVERED=$(join "$T_TMP/acked.sorted" "$T_TMP/delivered.sorted" | wc -l | tr -d ' ')
	sort -u "$T_TMP/delivered.sorted" >"$T_TMP/delivered.unique"
	comm -23 "$T_TMP/acked.sorted" "$T_TMP/delivered.unique" >"$T_TMP/lost"
	N_LOST=$(wc -l <"$T_TMP/lost" | tr -d ' ')
	N_DUPS=$(uniq -d "$T_TMP/delivered.sorted" | comm -12 - "$T_TMP/acked.sorted" | wc -l | tr -d ' ')
}
