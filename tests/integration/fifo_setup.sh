#!/bin/bash
# fifo-setup.sh as a supervisor (issue 10 §2): usage; status with each stage's counters and each
# consumer group's backlog; Ctrl-C (SIGINT to the terminal's process group) under load is an
# ordered stop that loses nothing; `stop` and `status` when the process that ran `start` has
# not reaped the supervisor (a zombie); a hung stage (SIGSTOP) does not stall the stop forever;
# the restart budget; a configuration error is not restarted; the stages a killed supervisor
# left behind are refused by `start` and stopped in order by `stop`.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT FURROW_RUN_DIR FURROW_RESTART FURROW_STOP_TIMEOUT

pv() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/i?e=pv&p=web&tv=t-1&eid=$1"; }
status() { bash "$LAUNCHER" status 2>&1; }
good_has() { [ "$(cut -f 7 "$FURROW_DATA_DIR/good.tsv" 2>/dev/null | grep -c "$1")" -ge "${2:-1}" ]; }
uuid() { printf '00000000-0000-4000-8000-%012d\n' "$1"; }

FURROW_DATA_DIR=$T_TMP/none bash "$LAUNCHER" status >/dev/null 2>&1
eq "status when not running exits 3" 3 $?
bash "$LAUNCHER" --bogus >/dev/null 2>&1
eq "usage error exits 64" 64 $?
eq "--version" "fifo-setup.sh 0.1.0" "$(bash "$LAUNCHER" --version)"
FURROW_RESTART=sometimes FURROW_DATA_DIR=$T_TMP/none bash "$LAUNCHER" start >/dev/null 2>&1
eq "an invalid FURROW_RESTART exits 78" 78 $?

# ---- status, and Ctrl-C under load ----
check "pipeline starts" launcher_start "$T_TMP/a"
FURROW_DATA_DIR=$T_TMP/a bash "$LAUNCHER" start >/dev/null 2>&1
eq "a second start is refused (69)" 69 $?
eq "an event" 200 "$(pv "$(uuid 1)")"
wait_for 10 good_has "$(uuid 1)"
# counters are logged every second
wait_for 10 sh -c "bash '$LAUNCHER' status | grep -q 'lines [1-9][0-9]*, empty 0, good [1-9]'"
out=$(status)
eq "status exits 0 while running" 0 $?
check "status: supervisor running" sh -c "echo \"\$1\" | grep -Eq '^supervisor +pid [0-9]+ running'" _ "$out"
check "status: collector running, with its counters" sh -c "echo \"\$1\" | grep -Eq '^collector +pid [0-9]+ +running +stats.*stored_requests=[1-9]'" _ "$out"
check "status: enrich running, with its counters" sh -c "echo \"\$1\" | grep -Eq '^enrich +pid [0-9]+ +running +lines [1-9][0-9]*, empty 0, good [1-9][0-9]*, bad 0'" _ "$out"
check "status: the backlog of group enrich on raw.log" sh -c "echo \"\$1\" | grep -Eq '^backlog +.*/raw.log group enrich: 0 bytes'" _ "$out"
echo "$out" | sed "s/^/# /"
load_start "$T_TMP/a.acked"
check "load flows" acked_grows "$T_TMP/a.acked" 500
kill -INT -- "-$LPID"      # what a terminal's Ctrl-C does: SIGINT to the foreground process group
wait_for 60 sh -c "! kill -0 $LPID 2>/dev/null" || { fail "Ctrl-C stops the launcher"; kill -TERM "$LPID"; }
launcher_wait
eq "Ctrl-C: the launcher stops in order and exits 0" 0 "$LRC"
load_stop
check "Ctrl-C: the collector stopped first, then enrich" sh -c \
	"grep -E 'collector stopped|enrich stopped' '$T_TMP/a.launcher.log' | tr '\n' ' ' | grep -q 'collector stopped.*enrich stopped'"
eq "Ctrl-C: no stage reports an error" "" "$(grep ERROR "$T_TMP/a.launcher.log")"
eq "Ctrl-C: no stage left running" "" "$(alive_stages)"
reconcile "$T_TMP/a.acked" "$T_TMP/a/good.tsv"
diag "Ctrl-C: answered 200: $N_ACKED, delivered: $N_DELIVERED, lost: $N_LOST, duplicates: $N_DUPS"
eq "Ctrl-C: every event answered 200 is in good.tsv" 0 "$N_LOST"
out=$(status)
eq "status after the stop exits 3" 3 $?
check "status after the stop: supervisor not running" sh -c "echo \"\$1\" | grep -q '^supervisor  *not running'" _ "$out"

# ---- disk space: raw.log is given back as enrich reads it, unless FURROW_KEEP_FILES=1 ----
# 60 requests of 100 events each (about 7 MB of raw records; enrich gives space back every 4 MB)
"$PYTHON" -c '
import json
e = {"e": "pv", "p": "web", "tv": "bulk-1", "url": "https://example.com/" + "a" * 800}
print(json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                  "data": [e] * 100}))' >"$T_TMP/bulk.json"
bulk() { # DATADIR: send the 60 requests, wait until enrich has read them all
	local i codes=""
	for i in $(seq 1 60); do
		codes="$codes$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
			--data-binary @"$T_TMP/bulk.json" "http://127.0.0.1:$FURROW_PORT/com.snowplowanalytics.snowplow/tp2") "
	done
	[ "$(echo $codes | tr ' ' '\n' | sort -u)" = 200 ] || return 1
	wait_for 60 sh -c "[ \$(wc -l <'$1/good.tsv') -ge 6000 ] && bash '$LAUNCHER' status | grep -q 'raw.log group enrich: 0 bytes'"
}
for keep in 0 1; do
	unset FURROW_PORT
	FURROW_KEEP_FILES=$keep launcher_start "$T_TMP/s$keep" || fail "start (FURROW_KEEP_FILES=$keep)"
	check "FURROW_KEEP_FILES=$keep: 6000 events through" bulk "$T_TMP/s$keep"
	size=$(stat -c %s "$T_TMP/s$keep/raw.log")
	used=$(allocated "$T_TMP/s$keep/raw.log")
	diag "FURROW_KEEP_FILES=$keep: raw.log $size bytes, $used on disk"
	if [ "$keep" = 0 ]; then
		check "raw.log: what enrich has read is given back (at least 4 MB)" test $((size - used)) -ge $((4 << 20))
	else
		eq "FURROW_KEEP_FILES=1: raw.log is kept whole" "$size" "$used"
	fi
	eq "FURROW_KEEP_FILES=$keep: good.tsv is kept whole" "$(stat -c %s "$T_TMP/s$keep/good.tsv")" "$(allocated "$T_TMP/s$keep/good.tsv")"
	bash "$LAUNCHER" stop >/dev/null 2>&1
	launcher_wait
done

# ---- the supervisor's standard error is a pipe whose reader has gone (Ctrl-C killed it) ----
export FURROW_DATA_DIR=$T_TMP/p FURROW_PORT=$(free_port)
( bash "$LAUNCHER" start 2>&1 | head -c 1 >/dev/null ) &
T_PIDS="$T_PIDS $!"
wait_for 60 test -f "$T_TMP/p/run/ready"
eq "an event" 200 "$(pv "$(uuid 6)")"
check "the supervisor is still there after a line to its broken standard error" sh -c "bash '$LAUNCHER' status | grep -q '^supervisor .* running'"
bash "$LAUNCHER" stop >"$T_TMP/p.stop.log" 2>&1
eq "stop after the supervisor lost its standard error: 0" 0 $?
eq "the supervisor stopped the pipeline itself" "0" "$(cat "$T_TMP/p/run/exit-status" | tr -d ' ')"
eq "no stage left running" "" "$(alive_stages)"
check "the event is delivered" good_has "$(uuid 6)"

# ---- stop and status while the process that ran start has not reaped the supervisor ----
export FURROW_DATA_DIR=$T_TMP/z FURROW_PORT=$(free_port)
out=$("$PYTHON" - "$LAUNCHER" "$T_TMP/z" <<'EOF'
import os, subprocess, sys, time
launcher, data = sys.argv[1], sys.argv[2]
log = open(data + ".launcher.log", "w")
p = subprocess.Popen(["bash", launcher, "start"], stdout=log, stderr=log)
deadline = time.time() + 60
while not os.path.exists(data + "/run/ready") and time.time() < deadline:
    time.sleep(0.05)
t = time.time()
stop = subprocess.run(["bash", launcher, "stop"], capture_output=True).returncode
took = time.time() - t
zombie = open("/proc/%d/stat" % p.pid).read().rsplit(") ", 1)[1].split()[0]
st = subprocess.run(["bash", launcher, "status"], capture_output=True, text=True)
print(stop, "fast" if took < 15 else "slow %.1fs" % took, zombie, st.returncode,
      st.stdout.splitlines()[0])
p.wait()
EOF
)
eq "a zombie supervisor: stop exits 0 at once; status says not running (3)" \
	"0 fast Z 3 supervisor       not running" "$out"

# ---- a hung stage: the stop escalates to SIGKILL, and nothing is lost ----
export FURROW_STOP_TIMEOUT=2
unset FURROW_PORT
check "pipeline starts (hung stage)" launcher_start "$T_TMP/h"
eq "an event before enrich hangs" 200 "$(pv "$(uuid 2)")"
wait_for 10 good_has "$(uuid 2)"
kill -STOP "$(pid_of enrich)"
eq "an event while enrich hangs" 200 "$(pv "$(uuid 3)")"
t0=$(date +%s)
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "stop reports the stage it had to kill (1)" 1 $?
check "stop took less than 15 s" test $(( $(date +%s) - t0 )) -lt 15
launcher_wait
check "the hang is reported with the SIGKILL" grep -q 'ERROR: enrich (pid [0-9]*) did not stop within 2s of SIGTERM: SIGKILL' "$T_TMP/h.launcher.log"
eq "no stage left running" "" "$(alive_stages)"
check "status shows the backlog left for the next start" sh -c "bash '$LAUNCHER' status | grep -Eq 'raw.log group enrich: [1-9][0-9]* bytes'"
check "the next start resumes" launcher_start "$T_TMP/h"
check "the event sent while enrich hung is delivered" wait_for 10 good_has "$(uuid 3)"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "clean stop" 0 $?
launcher_wait
unset FURROW_STOP_TIMEOUT

# ---- a sink that has not opened its log yet (Elasticsearch unreachable) does not hold up a stop ----
unset FURROW_PORT
FURROW_ES_URL=http://127.0.0.1:$(free_port) FURROW_STOP_TIMEOUT=20 launcher_start "$T_TMP/e" ||
	fail "pipeline starts with an unreachable Elasticsearch"
check "status: the sinks' groups have not started" sh -c \
	"bash '$LAUNCHER' status | grep -q 'bad.json group es-sink-bad: 0 bytes (not started yet)'"
t0=$(date +%s)
bash "$LAUNCHER" stop >/dev/null 2>&1
check "the stop does not wait for them (less than 10 s of FURROW_STOP_TIMEOUT=20)" test $(( $(date +%s) - t0 )) -lt 10
launcher_wait
eq "no stage left running" "" "$(alive_stages)"

# ---- the restart budget ----
export FURROW_RESTART=on-failure FURROW_RESTART_MAX=2 FURROW_RESTART_STABLE=60
unset FURROW_PORT
check "pipeline starts (budget of 2)" launcher_start "$T_TMP/r"
restarted() { [ "$(pid_of enrich)" != "$1" ] && running enrich; }
for i in 1 2; do
	old=$(pid_of enrich)
	kill -9 "$old"
	check "restart $i" wait_for 30 restarted "$old"
done
eq "an event after two restarts" 200 "$(pv "$(uuid 4)")"
check "it is delivered" wait_for 10 good_has "$(uuid 4)"
kill -9 "$(pid_of enrich)"
launcher_wait
eq "a third quick death exhausts the budget: the pipeline stops (1)" 1 "$LRC"
check "giving up is reported" grep -q 'ERROR: enrich failed 2 times in a row within 60s of starting: giving up' "$T_TMP/r.launcher.log"
eq "no stage left running" "" "$(alive_stages)"
unset FURROW_RESTART FURROW_RESTART_MAX FURROW_RESTART_STABLE

# ---- a configuration error is not restarted ----
unset FURROW_PORT
FURROW_ENRICH_ARGS=--no-such-flag launcher_start "$T_TMP/c"
launcher_wait
eq "a stage that fails at start: start exits 1" 1 "$LRC"
check "its exit status is reported" grep -q 'ERROR: enrich exited with status 64' "$T_TMP/c.launcher.log"
eq "no restart" 0 "$(grep -c 'restarted enrich' "$T_TMP/c.launcher.log")"
eq "no stage left running" "" "$(alive_stages)"

# ---- a killed supervisor leaves its stages running: start refuses, stop stops them in order ----
unset FURROW_PORT
check "pipeline starts (supervisor to be killed)" launcher_start "$T_TMP/k"
eq "an event" 200 "$(pv "$(uuid 5)")"
kill -9 "$LPID"
launcher_wait
eq "the stages keep running" " collector enrich iglu-server inspect" "$(alive_stages)"
FURROW_DATA_DIR=$T_TMP/k bash "$LAUNCHER" start >/dev/null 2>&1
eq "start refuses while they run (69)" 69 $?
out=$(status)
eq "status: supervisor gone (3)" 3 $?
check "status: the stages still running" sh -c "echo \"\$1\" | grep -Eq '^enrich +pid [0-9]+ +running'" _ "$out"
bash "$LAUNCHER" stop >"$T_TMP/k.stop.log" 2>&1
eq "stop stops them" 0 $?
check "in order" sh -c "grep -E 'collector stopped|enrich stopped' '$T_TMP/k.stop.log' | tr '\n' ' ' | grep -q 'collector stopped.*enrich stopped'"
eq "no stage left running" "" "$(alive_stages)"
check "the event is delivered" good_has "$(uuid 5)"
done_testing
