#!/bin/bash
# fifo-setup.sh never loses an event it acknowledged when a stage is killed (issue 10 §2).
# Under a steady 500 events/s, each with its own event id, every stage of the embedded default is
# killed with SIGKILL again and again:
#  A. FURROW_RESTART=on-failure: the launcher notices every death and restarts the stage (a
#     budget of 3 quick restarts, reset after 1 s of stable running, so 10 kills in a row also
#     prove the reset);
#  B. FURROW_RESTART=no: each death stops the pipeline in order; the test starts it again, and
#     the next start resumes where the dead stage stopped.
# Every kill comes after at least 100 more events were answered 200, so every kill is under load.
# At the end every id answered 200 must be in good.tsv: none lost. Duplicates are allowed (at
# least once: a reader killed before its commit reads its last lines again) and reported.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_STOP_TIMEOUT=30 FURROW_BIN
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT FURROW_RUN_DIR
kills=${FURROW_TEST_KILLS:-10}
stages="collector enrich iglu-server inspect"

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t%???} )); }
restarted() { [ "$(pid_of "$1")" != "$2" ] && running "$1"; }
report() { # MODE STAGE: reconcile the ids answered 200 while STAGE was being killed
	reconcile "$T_TMP/$1.$2.acked" "$T_TMP/$1/good.tsv"
	diag "$1: kill -9 of $2 x $kills: answered 200: $N_ACKED, delivered: $N_DELIVERED lines, lost: $N_LOST, duplicated: $N_DUPS"
	eq "$1: $2 killed: every event answered 200 is in good.tsv" 0 "$N_LOST"
	[ "$N_LOST" = 0 ] || diag "lost: $(head -n 5 "$T_TMP/lost" | tr '\n' ' ')"
	check "$1: $2 killed: at least $((kills * 100)) events answered 200" test "$N_ACKED" -ge $((kills * 100))
}

# ---- A: restart on failure ----
export FURROW_RESTART=on-failure FURROW_RESTART_MAX=3 FURROW_RESTART_STABLE=1
a=$T_TMP/A
check "A: pipeline starts" launcher_start "$a"
for s in $stages; do
	load_start "$T_TMP/A.$s.acked"
	up_since=$(now_ms)
	missed=""
	for i in $(seq 1 "$kills"); do
		acked_grows "$T_TMP/A.$s.acked" 100 || missed="$missed #$i:no-load"
		# past the stable period since its last start, so this kill starts the budget afresh
		while [ $(( $(now_ms) - up_since )) -lt 1200 ]; do sleep 0.05; done
		old=$(pid_of "$s")
		kill -9 "$old"
		wait_for 30 restarted "$s" "$old" || missed="$missed #$i"
		up_since=$(now_ms)
	done
	eq "A: $s restarted after each of its $kills kills" "" "$missed"
	check "A: events flow after its last restart" acked_grows "$T_TMP/A.$s.acked" 200
	load_stop
	diag "A: load while $s was killed: $(cat "$T_TMP/load.json")"
	eq "A: $s: $kills deaths reported" "$kills" "$(grep -c "ERROR: $s was killed by signal 9" "$a.launcher.log")"
	eq "A: $s: $kills restarts" "$kills" "$(grep -c "restarted $s " "$a.launcher.log")"
done
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "A: clean stop" 0 $?
launcher_wait
eq "A: the launcher exits 0" 0 "$LRC"
eq "A: no stage left running" "" "$(alive_stages)"
for s in $stages; do report A "$s"; done

# ---- B: no restart: each death stops the pipeline; the next start resumes ----
export FURROW_RESTART=no
unset FURROW_PORT
b=$T_TMP/B
launcher_start "$b" || fail "B: pipeline starts"
for s in $stages; do
	load_start "$T_TMP/B.$s.acked"
	bad=""
	for i in $(seq 1 "$kills"); do
		[ -f "$b/run/ready" ] || launcher_start "$b" || bad="$bad #$i:start"
		acked_grows "$T_TMP/B.$s.acked" 100 || bad="$bad #$i:no-load"
		kill -9 "$(pid_of "$s")"
		launcher_wait
		[ "$LRC" = 1 ] || bad="$bad #$i:status=$LRC"
		[ -z "$(alive_stages)" ] || bad="$bad #$i:left:$(alive_stages)"
	done
	load_stop
	diag "B: load while $s was killed: $(cat "$T_TMP/load.json")"
	eq "B: each kill of $s stopped the pipeline (exit 1, nothing left running)" "" "$bad"
	eq "B: $s: $kills deaths reported" "$kills" "$(grep -c "ERROR: $s was killed by signal 9" "$b.launcher.log")"
done
eq "B: no restarts" 0 "$(grep -c 'restarted ' "$b.launcher.log")"
# the last start reads what the last killed stage left
launcher_start "$b" || fail "B: final start"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "B: clean stop" 0 $?
launcher_wait
for s in $stages; do report B "$s"; done
eq "B: every good line has 131 columns" "" "$(awk -F'\t' 'NF != 131 {print NR": "NF; exit}' "$b/good.tsv")"
done_testing
