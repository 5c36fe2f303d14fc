#!/bin/bash
# pg-sink's /metrics and /health (--metrics-listen, issue 16) against a real PostgreSQL
# (tests/setup-pg.sh): counters reconcile with atomic.events, promtool accepts the exposition,
# /health turns 503 when the database has been stopped longer than --health-threshold and 200
# again after it is restarted; every event is loaded exactly once.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"
SINK=$FURROW_BIN/pg-sink
G=$FURROW_ROOT/tests/golden/pg-sink
trap 'pg_cleanup; t_cleanup' EXIT
command -v promtool >/dev/null || { fail "promtool installed (tests/install-deps.sh test)"; done_testing; exit; }
PG_FSYNC=off pg_setup || { fail "PostgreSQL starts"; done_testing; exit 1; }

metric() { curl -fsS -m 5 "$1/metrics" | awk -v n="$2" '!f && $1 == n { print $2; f = 1 }'; }
metric_is() { test "$(metric "$1" "$2")" = "$3"; }
metric_pos() { awk -v v="$(metric "$1" "$2")" 'BEGIN { exit !(v + 0 > 0) }'; }
status_is() { test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$1/health")" = "$2"; }
events() {
	awk -F '\t' -v OFS='\t' -v n="$1" '{ l[NR] = $0 } END {
	    for (i = 0; i < n; i++) { $0 = l[i % NR + 1]; $7 = sprintf("00000077-0000-4000-8000-%012d", i); print } }' \
	    "$G/golden.tsv"
}

"$SINK" --dump --metrics-listen nope </dev/null >/dev/null 2>&1
eq "a bad --metrics-listen is a usage error" 64 $?

P=$(free_port)
U=http://127.0.0.1:$P
events 400 >"$T_TMP/in.tsv"
mkfifo "$T_TMP/fifo"
"$SINK" --url "$PG_URL" --setup --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" \
    --stats-interval 0 --batch-rows 100 --flush-ms 100 --retry-max-ms 500 \
    --metrics-listen "127.0.0.1:$P" --health-threshold 2 --bad "$T_TMP/bad" \
    <"$T_TMP/fifo" 2>"$T_TMP/err" &
pid=$!
T_PIDS="$T_PIDS $pid"   # killed on an early exit
exec 3>"$T_TMP/fifo"
check "/health 200 with PostgreSQL up" wait_for 60 status_is "$U" 200
head -n 200 "$T_TMP/in.tsv" >&3
check "200 events loaded (counter)" wait_for 60 metric_is "$U" furrow_pg_sink_events_loaded_total 200
eq "200 rows in atomic.events" 200 "$(pg_sql "SELECT count(*) FROM atomic.events WHERE event_id::text LIKE '00000077-%'")"
eq "records in" 200 "$(metric "$U" furrow_pg_sink_records_in_total)"
check "batch histogram has samples" metric_pos "$U" furrow_pg_sink_batch_duration_seconds_count
check "the entities' schemas went through the Iglu resolver (misses)" metric_pos "$U" furrow_iglu_cache_misses_total
check "and then its cache (hits)" metric_pos "$U" furrow_iglu_cache_hits_total
curl -fsS "$U/metrics" >"$T_TMP/expo"
check "promtool check metrics" promtool check metrics <"$T_TMP/expo"

pg_stop
sed -n '201,$p' "$T_TMP/in.tsv" >&3 &
feeder=$!
check "/health 503 with PostgreSQL stopped past the threshold" wait_for 60 status_is "$U" 503
curl -s "$U/health" >"$T_TMP/why"
check "the 503 says PostgreSQL is failing" grep -q "PostgreSQL failing for" "$T_TMP/why"
check "failures counted, as connection failures (PostgreSQL is down)" metric_pos "$U" 'furrow_pg_sink_batch_failures_total{cause="connection"}'
check "peer failing seconds > 0" metric_pos "$U" furrow_pg_sink_peer_failing_seconds
pg_start 3>&-
check "/health 200 again after PostgreSQL is back" wait_for 60 status_is "$U" 200
wait $feeder
exec 3>&-
wait $pid
eq "exit 0 at EOF" 0 $?
eq "every event exactly once" "400 400" "$(pg_sql "SELECT count(*) || ' ' || count(DISTINCT event_id) FROM atomic.events WHERE event_id::text LIKE '00000077-%'")"
done_testing
