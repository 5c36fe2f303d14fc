#!/bin/bash
# fifo-setup.sh: usage, status when stopped and while running, and a clean stop.
. "$(dirname "$0")/../lib.sh"
launcher=$FURROW_ROOT/fifo-setup.sh
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
unset FURROW_ES_URL FURROW_S3_BUCKET

start() { # DATADIR
	export FURROW_PORT=$(free_port) FURROW_DATA_DIR=$1
	bash "$launcher" start >"$1.launcher.log" 2>&1 &
	lpid=$!
	wait_for 60 test -f "$1/run/ready"
}
alive_stages() {
	local f left=""
	for f in "$FURROW_DATA_DIR"/run/*.pid; do
		[ "$(basename "$f")" = fifo-setup.pid ] && continue
		kill -0 "$(cat "$f")" 2>/dev/null && left="$left $(basename "$f" .pid)"
	done
	echo "$left"
}

FURROW_DATA_DIR=$T_TMP/none bash "$launcher" status >/dev/null 2>&1
eq "status when not running exits 3" 3 $?
bash "$launcher" --bogus >/dev/null 2>&1
eq "usage error exits 64" 64 $?

# ---- a stage dies: reported, everything shut down ----
check "pipeline starts" start "$T_TMP/a"
out=$(bash "$launcher" status 2>&1)
eq "status exits 0 while running" 0 $?
for s in collector enrich fanout merge-bad; do
	check "status lists $s running" sh -c "echo \"\$1\" | grep -Eq \"^$s +pid [0-9]+ +running\"" _ "$out"
done
bash "$launcher" stop >/dev/null 2>&1
eq "stop exits 0" 0 $?
wait "$lpid"
eq "the launcher exits 0" 0 $?
eq "no stage left running" "" "$(alive_stages)"
# Not covered here yet: a stage killed mid-run (reported, pipeline shut down) and
# FURROW_RESTART=on-failure; both raced with bash's job reaping in this harness.
done_testing
