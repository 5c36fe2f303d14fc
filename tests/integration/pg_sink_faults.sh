#!/bin/bash
# pg-sink when things break, against a real PostgreSQL (setup-pg.sh), counted by event id:
#  - the database stopped for 20 s in the middle of a stream on a pipe: pg-sink stops reading
#    (the writer blocks on the full pipe), retries with back-off, and when the database is back
#    every event is in atomic.events exactly once, every entity row too;
#  - kill -9 in the middle of a batch (its COPY held up by a lock, so the kill lands inside the
#    transaction), then a restart on the same durable log: exactly once;
#  - kill -9 at random moments, four times, while a log is loaded: exactly once;
#  - the log read again from the start by a new group (a COMMIT that came before a crash):
#    nothing twice.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"

SINK=$FURROW_BIN/pg-sink
G=$FURROW_ROOT/tests/golden/pg-sink
trap 'pg_cleanup; t_cleanup' EXIT

PG_FSYNC=off pg_setup || { fail "PostgreSQL starts"; done_testing; exit 1; }
"$SINK" --url "$PG_URL" --setup-only 2>/dev/null
eq "setup" 0 $?

# events N TAG: N distinct events (the golden ones, ids 0000TAG-...; one entity per event on
# average)
events() {
	awk -F '\t' -v OFS='\t' -v n="$1" -v tag="$2" '{ l[NR] = $0 } END {
	    for (i = 0; i < n; i++) { $0 = l[i % NR + 1]; $7 = sprintf("%08d-0000-4000-8000-%012d", tag, i); print } }' \
	    "$G/golden.tsv"
}
# entities FILE: how many entity rows the events of FILE hold (contexts, derived contexts and the
# self-describing event, read with Python's json, not pg-sink)
entities() {
	python3 -c 'import json, sys
n = 0
for l in open(sys.argv[1], encoding="utf-8"):
    f = l.rstrip("\n").split("\t")
    for c in (52, 122):
        n += len(json.loads(f[c])["data"]) if f[c] else 0
    n += 1 if f[58] else 0
print(n)' "$1"
}
loaded() { pg_sql "SELECT count(*) FROM atomic.events WHERE event_id::text LIKE '$(printf %08d "$1")-%'"; }
exactly_once() { # exactly_once NAME TAG N E: N events and E entity rows of TAG, each once
	local tag; tag=$(printf %08d "$2")
	eq "$1: every event exactly once" "$3 $3" "$(pg_sql "SELECT count(*) || ' ' || count(DISTINCT event_id)
	    FROM atomic.events WHERE event_id::text LIKE '$tag-%'")"
	eq "$1: every entity row exactly once" "$4" "$(pg_sql "SELECT
	    (SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_web_page_1 WHERE root_id::text LIKE '$tag-%') +
	    (SELECT count(*) FROM atomic.com_acme_user_context_1 WHERE root_id::text LIKE '$tag-%') +
	    (SELECT count(*) FROM atomic.com_acme_button_click_1 WHERE root_id::text LIKE '$tag-%') +
	    (SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_ua_parser_context_1 WHERE root_id::text LIKE '$tag-%') +
	    (SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_link_click_1 WHERE root_id::text LIKE '$tag-%')")"
}

# ---- the database stopped 20 s mid-stream (stdin is a pipe) ----
N=6000
events $N 1 >"$T_TMP/stream.tsv"
# a writer at about 300 events/s that says how far it got
cat >"$T_TMP/writer.py" <<'EOF'
import os, sys, time
lines = open(sys.argv[1], "rb").read().splitlines(True)
out, count, t0 = sys.stdout.buffer, sys.argv[2], time.time()
for i, l in enumerate(lines):
    out.write(l)
    out.flush()
    if i % 10 == 0:
        with open(count + ".tmp", "w") as f: f.write(str(i + 1))
        os.rename(count + ".tmp", count)
        time.sleep(max(0, t0 + i / 300.0 - time.time()))
with open(count + ".tmp", "w") as f: f.write(str(len(lines)))
os.rename(count + ".tmp", count)
EOF
written() { cat "$T_TMP/written" 2>/dev/null || echo 0; }
( python3 "$T_TMP/writer.py" "$T_TMP/stream.tsv" "$T_TMP/written" |
    "$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 --batch-rows 200 \
        --flush-ms 100 --retry-base-ms 50 --retry-max-ms 1000 --bad "$T_TMP/outage.bad" \
        2>"$T_TMP/outage.err"; echo $? >"$T_TMP/outage.rc" ) &
T_PIDS="$T_PIDS $!"
check "loading before the outage" wait_for 60 sh -c "[ \$($PSQL -d furrow -Atc \"SELECT count(*) FROM atomic.events\") -ge 600 ]"
before=$(loaded 1)
pg_stop
ok "PostgreSQL stopped at $before events loaded, $(written) written"
sleep 5
w1=$(written)
sleep 15      # the outage lasts 20 s
w2=$(written)
eq "during the outage pg-sink reads nothing: the writer is blocked on the full pipe" "$w1" "$w2"
check "... while pg-sink retries" grep -q 'retrying a batch' "$T_TMP/outage.err"
pg_start
ok "PostgreSQL started again"
check "the stream ends and pg-sink exits" wait_for 120 test -s "$T_TMP/outage.rc"
eq "pg-sink: exit 0" 0 "$(cat "$T_TMP/outage.rc")"
eq "no bad rows" 0 "$(cat "$T_TMP/outage.bad" 2>/dev/null | wc -l)"
exactly_once outage 1 $N "$(entities "$T_TMP/stream.tsv")"
diag "$(grep ' exit: ' "$T_TMP/outage.err" | sed 's/.* exit: //')"

# ---- kill -9 in the middle of a batch, then a restart on the same log ----
M=2000
events $M 2 >"$T_TMP/log.tsv"
EM=$(entities "$T_TMP/log.tsv")
size() { stat -c %s "$T_TMP/log.tsv"; }
offset() { sed 's/^0*//; s/^$/0/' "$T_TMP/log.tsv.offsets/$1" 2>/dev/null || echo 0; }
run_sink() { # run_sink NAME GROUP ARGS...: pg-sink on the log in the background, pid in SPID
	"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 --batch-rows 500 \
	    --flush-ms 50 --retry-base-ms 50 --retry-max-ms 500 --source "log:$T_TMP/log.tsv" \
	    --group "$2" --bad "$T_TMP/log.bad" "${@:3}" 2>>"$T_TMP/$1.err" &
	SPID=$!
	T_PIDS="$T_PIDS $SPID"
}
# a session holds atomic.events: pg-sink's first COPY waits inside its transaction
$PSQL -d furrow -c "BEGIN; LOCK TABLE atomic.events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300)" \
    >/dev/null 2>&1 &
LOCKER=$!
T_PIDS="$T_PIDS $LOCKER"
check "the lock is held" wait_for 20 sh -c "[ \$($PSQL -d furrow -Atc \"SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'events' AND l.mode = 'AccessExclusiveLock' AND l.granted\") = 1 ]"
run_sink mid pg
check "pg-sink is inside a batch, waiting for the table" wait_for 30 sh -c "[ \$($PSQL -d furrow -Atc \"SELECT count(*) FROM pg_stat_activity WHERE application_name = 'furrow-pg-sink' AND wait_event_type = 'Lock'\") = 1 ]"
kill -9 "$SPID"; wait "$SPID" 2>/dev/null
eq "killed mid-batch: nothing committed" 0 "$(offset pg)"
pg_sql "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE '%pg_sleep(300)%' AND pid <> pg_backend_pid()" >/dev/null
wait "$LOCKER" 2>/dev/null
eq "... and nothing of the batch in the table" 0 "$(loaded 2)"
run_sink mid2 pg
check "restarted: the log is loaded to its end" wait_for 60 sh -c "[ \$(sed 's/^0*//' '$T_TMP/log.tsv.offsets/pg') = $(size) ]"
kill -TERM "$SPID"; wait "$SPID"
eq "SIGTERM: exit 0" 0 $?
exactly_once "kill -9 mid-batch" 2 $M "$EM"

# ---- kill -9 at random moments ----
K=30000
events $K 3 >"$T_TMP/more.tsv"
EK=$(entities "$T_TMP/more.tsv")
cat "$T_TMP/more.tsv" >>"$T_TMP/log.tsv"
for i in 1 2 3 4; do
	run_sink "rand$i" pg
	sleep "$(printf 0.%03d $(( RANDOM % 400 + 100 )))"
	kill -9 "$SPID"; wait "$SPID" 2>/dev/null
	diag "kill -9 number $i: offset $(offset pg) of $(size), $(loaded 3) events of $K loaded"
done
run_sink rand5 pg
check "after four kills: the log is loaded to its end" wait_for 120 sh -c "[ \$(sed 's/^0*//' '$T_TMP/log.tsv.offsets/pg') = $(size) ]"
kill -TERM "$SPID"; wait "$SPID"
exactly_once "four kill -9" 3 $K "$EK"

# ---- the whole log again, by a new group ----
run_sink again pg-again
check "a new group reads the whole log" wait_for 120 sh -c "[ \$(sed 's/^0*//' '$T_TMP/log.tsv.offsets/pg-again' 2>/dev/null) = $(size) ]"
kill -TERM "$SPID"; wait "$SPID"
exactly_once "read again" 2 $M "$EM"
exactly_once "read again" 3 $K "$EK"
eq "no bad rows on the way" 0 "$(cat "$T_TMP/log.bad" 2>/dev/null | wc -l)"

# ---- SIGTERM while the database is down, input on a pipe: the lines go to --spool ----
pg_stop
events 300 4 >"$T_TMP/spool-in.tsv"
"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 --retry-base-ms 50 \
    --retry-max-ms 200 --term-timeout 1 --spool "$T_TMP/spool.tsv" --bad "$T_TMP/spool.bad" \
    --setup 2>"$T_TMP/spool.err" < <(cat "$T_TMP/spool-in.tsv") &
SPID=$!
T_PIDS="$T_PIDS $SPID"
check "pg-sink waits for the database before reading" wait_for 20 grep -q 'PostgreSQL not ready' "$T_TMP/spool.err"
pg_start
check "... and starts when it is back" wait_for 30 grep -q 'table events ready' "$T_TMP/spool.err"
check "the lines are loaded" wait_for 30 sh -c "[ \$($PSQL -d furrow -Atc \"SELECT count(*) FROM atomic.events WHERE event_id::text LIKE '00000004-%'\") = 300 ]"
wait "$SPID"
eq "end of input: exit 0" 0 $?
events 300 5 >"$T_TMP/spool-in2.tsv"
mkfifo "$T_TMP/in.fifo"
"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 --retry-base-ms 50 \
    --retry-max-ms 200 --term-timeout 1 --spool "$T_TMP/spool.tsv" --bad "$T_TMP/spool.bad" \
    2>"$T_TMP/spool2.err" <"$T_TMP/in.fifo" &
SPID=$!
T_PIDS="$T_PIDS $SPID"
exec 7>"$T_TMP/in.fifo"
check "connected" wait_for 20 grep -q 'connected to' "$T_TMP/spool2.err"
pg_stop
cat "$T_TMP/spool-in2.tsv" >&7
check "retrying while the database is down" wait_for 30 grep -q 'retrying a batch' "$T_TMP/spool2.err"
kill -TERM "$SPID"; wait "$SPID"
eq "SIGTERM during the outage, input on a pipe: exit 69 (lines diverted)" 69 $?
exec 7>&-
eq "... every line read is in the spool, none lost" 300 "$(wc -l <"$T_TMP/spool.tsv")"
eq "... none is a bad row" 0 "$(cat "$T_TMP/spool.bad" 2>/dev/null | wc -l)"
pg_start
"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 <"$T_TMP/spool.tsv" 2>/dev/null
eq "the spool replayed later: loaded" "0 300" "$? $(loaded 5)"
done_testing
