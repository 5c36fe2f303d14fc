#!/bin/bash
# fifo-setup.sh as a supervisor: status, a stage that dies (reported loudly, the pipeline shut
# down so nothing stays blocked), and FURROW_RESTART=on-failure bringing a stage back without
# losing the events sent after it.
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
pv() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/i?e=pv&p=web&tv=t-$1&url=https%3A%2F%2Fexample.com%2F$1"; }

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
kill -9 "$(cat "$T_TMP/a/run/enrich.pid")"
if wait_for 60 sh -c "! kill -0 $lpid 2>/dev/null"; then ok "the launcher ends after a stage dies"; else fail "the launcher ends after a stage dies"; fi
wait "$lpid"
eq "the launcher's status says a stage failed" 1 $?
check "the death is reported loudly" grep -q 'ERROR: stage enrich (pid [0-9]*) died' "$T_TMP/a.launcher.log"
eq "no stage left running or blocked" "" "$(alive_stages)"

# ---- FURROW_RESTART=on-failure ----
export FURROW_RESTART=on-failure
check "pipeline starts (restart on failure)" start "$T_TMP/b"
eq "event before the failure" 200 "$(pv 1)"
old=$(cat "$T_TMP/b/run/enrich.pid")
kill -9 "$old"
if wait_for 30 sh -c "[ \"\$(cat $T_TMP/b/run/enrich.pid)\" != $old ] && kill -0 \$(cat $T_TMP/b/run/enrich.pid)"; then
	ok "enrich restarted"; else fail "enrich restarted"; fi
eq "event after the restart" 200 "$(pv 2)"
bash "$launcher" stop >/dev/null 2>&1
eq "clean stop after a restart" 0 $?
wait "$lpid"
check "the event sent after the restart is in good.tsv" grep -q 'https://example.com/2' "$T_TMP/b/good.tsv"
eq "no stage left running" "" "$(alive_stages)"
done_testing
