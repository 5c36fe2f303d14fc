#!/bin/bash
# fifo-setup.sh with FURROW_PG_URL: pg-sink for good and bad events beside the embedded default,
# against a real PostgreSQL (Debian's, a throwaway cluster). Under a steady load with bad events
# mixed in, pg-sink-good is killed with SIGKILL and restarted by the launcher; at the end every
# event id answered 200 as a good event is exactly once in atomic.events, the bad rows are in
# atomic.bad_rows, and the password never appears in a command line or a log. (The first run
# of this test found the two pg-sinks' setups racing on CREATE SCHEMA.)
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"
trap 'pg_cleanup >/dev/null 2>&1; t_cleanup' EXIT
if ! pg_setup >"$T_TMP/pg.log" 2>&1; then
	fail "PostgreSQL starts"; sed 's/^/# /' "$T_TMP/pg.log"; done_testing; exit 1
fi
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_PG_URL=$PG_URL FURROW_BIN
export FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT

d=$T_TMP/data
check "the pipeline starts with PostgreSQL" launcher_start "$d"
check "pg-sink-good and pg-sink-bad run" sh -c "[ -n \"\$(cat '$d/run/pg-sink-good.pid')\" ] && [ -n \"\$(cat '$d/run/pg-sink-bad.pid')\" ]"
LOAD_BAD_EVERY=10 load_start "$T_TMP/acked"
acked_grows "$T_TMP/acked" 200
for i in 1 2 3; do
	old=$(pid_of pg-sink-good)
	kill -9 "$old"
	wait_for 30 sh -c "[ \"\$(cat '$d/run/pg-sink-good.pid')\" != $old ]" || fail "pg-sink-good restarted ($i)"
	acked_grows "$T_TMP/acked" 100
done
load_stop
diag "load: $(cat "$T_TMP/load.json")"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "clean stop" 0 $?
launcher_wait

good_ids() { cut -f 7 "$d/good.tsv" | sort -u; }
eq "every good event is in atomic.events exactly once" "$(good_ids | wc -l)" \
    "$(pg_sql 'SELECT count(DISTINCT event_id) FROM atomic.events')"
eq "no event twice" "$(pg_sql 'SELECT count(*) FROM atomic.events')" \
    "$(pg_sql 'SELECT count(DISTINCT (event_id, collector_tstamp)) FROM atomic.events')"
reconcile "$T_TMP/acked" "$d/good.tsv"
diag "good events answered 200: $N_ACKED, in good.tsv: $N_DELIVERED, lost: $N_LOST"
eq "every good event answered 200 reached good.tsv" 0 "$N_LOST"
ids=$(sort -u "$T_TMP/acked" | sed "s/.*/'&'/" | paste -sd, -)
eq "... and each is in atomic.events" "$N_ACKED" \
    "$(echo "SELECT count(DISTINCT event_id) FROM atomic.events WHERE event_id IN ($ids)" | pg_sql)"
eq "the bad rows are in atomic.bad_rows" "$(wc -l <"$d/bad.json")" \
    "$(pg_sql 'SELECT count(*) FROM atomic.bad_rows')"
check "some bad rows were sent" test "$(wc -l <"$d/bad.json")" -gt 0
check "the password is in no log" sh -c "! grep -rqF '$PGPASSWORD' '$d/run' '$d.launcher.log'"
done_testing
