#!/bin/bash
# inspect: the store and its inputs. The caps evict the oldest records and never grow; a
# restart loads the logs' tails again (good and bad merged in time order); standard input and
# a growing log both feed it; lines that are not events are counted and skipped, never fatal.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"

d=$T_TMP/s
mkdir -p "$d"
badrow() { echo "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0\",\"data\":{\"processor\":{\"artifact\":\"t\",\"version\":\"0.1.0\"},\"failure\":{\"timestamp\":\"$1\",\"errors\":[\"$2\"]},\"payload\":\"x\"}}"; }

# eviction by count: the newest five stay
: >"$d/good.tsv"
start_inspect --source "log:$d/good.tsv" --max-events 5 || fail "start"
for i in $(seq 1 8); do enriched_line "$i" 0=app$i; done >>"$d/good.tsv"
eq "eight in, five kept" '{"total":5,"good":5,"bad":0}' "$(j '/micro/all?min=5&settle_ms=200&wait_ms=5000' | jq -c 'del(.timedOut)')"
eq "the newest five, newest first" "app8 app7 app6 app5 app4" "$(j /micro/good | jq -r '[.[].event.app_id] | join(" ")')"
eq "evictions counted" '{"good":3,"bad":0}' "$(j /micro/stats | jq -c .evicted)"
eq "received counts all" 8 "$(j /micro/stats | jq .received.good)"
stop_inspect

# eviction by bytes: 64 KiB of ~2 KiB events holds some tens, never more than the cap
: >"$d/big.tsv"
start_inspect --source "log:$d/big.tsv" --max-bytes 64K || fail "start"
pad=$(head -c 1800 /dev/zero | tr '\0' p)
enriched_range 1 200 0=app 30="$pad" >>"$d/big.tsv"
j '/micro/all?min=999&settle_ms=300&wait_ms=3000' >/dev/null
j /micro/stats >"$T_TMP/st.json"
check "the byte cap holds ($(jq .bytes "$T_TMP/st.json") <= 65536)" sh -c "[ \$(jq .bytes '$T_TMP/st.json') -le 65536 ]"
eq "everything received, kept + evicted = received" 200 "$(jq '.good + .evicted.good' "$T_TMP/st.json")"
check "and most evicted" sh -c "[ \$(jq .evicted.good '$T_TMP/st.json') -gt 150 ]"
stop_inspect

# a restart loads the tails again, good and bad merged by time
: >"$d/good2.tsv"
: >"$d/bad2.json"
for i in 10 20 30; do enriched_line "$i" 0="g$i"; done >>"$d/good2.tsv"
badrow 2023-11-14T22:13:25Z b25 >>"$d/bad2.json"
badrow 2023-11-14T22:13:35Z b35 >>"$d/bad2.json"
start_inspect --source "log:$d/good2.tsv" --bad-source "log:$d/bad2.json" || fail "start"
eq "loaded at start" '{"total":5,"good":3,"bad":2}' "$(j /micro/all)"
jpost /micro/events '{"filters":[],"page":1,"pageSize":10}' | jq -r '[.events[] | .app_id // .contexts_com_snowplowanalytics_snowplow_failure_1[0].errors[0].message] | join(" ")' >"$T_TMP/order"
eq "newest first across both logs" "b35 g30 b25 g20 g10" "$(cat "$T_TMP/order")"
stop_inspect
enriched_line 40 0=g40 >>"$d/good2.tsv"
start_inspect --source "log:$d/good2.tsv" --bad-source "log:$d/bad2.json" || fail "restart"
eq "after a restart, the tails again (with what came meanwhile)" '{"total":6,"good":4,"bad":2}' "$(j /micro/all)"
enriched_line 50 0=g50 >>"$d/good2.tsv"
eq "and it follows the log from there" 5 "$(j '/micro/all?min_good=5&wait_ms=5000' | jq .good)"
stop_inspect
start_inspect --source "log:$d/good2.tsv" --tail-bytes 900 || fail "start"
check "--tail-bytes loads only the end ($(j /micro/all | jq .good) events)" sh -c "[ \$(curl -s '$IURL/micro/all' | jq .good) -ge 1 ] && [ \$(curl -s '$IURL/micro/all' | jq .good) -lt 5 ]"
eq "the newest one among them" g50 "$(j '/micro/good?limit=1' | jq -r '.[0].event.app_id')"
stop_inspect

# lines that are not events: counted, logged, skipped; inspect goes on
: >"$d/mixed.tsv"
: >"$d/mixed.json"
start_inspect --source "log:$d/mixed.tsv" --bad-source "log:$d/mixed.json" --max-line-bytes 1M || fail "start"
echo "not a tsv line" >>"$d/mixed.tsv"
printf 'a\tb\tc\n' >>"$d/mixed.tsv"
head -c 10485760 /dev/zero | tr '\0' x >>"$d/mixed.tsv"; echo >>"$d/mixed.tsv"
enriched_line 1 0=after >>"$d/mixed.tsv"
echo "not json" >>"$d/mixed.json"
echo '[1,2,3]' >>"$d/mixed.json"
badrow 2023-11-14T22:13:25Z fine >>"$d/mixed.json"
eq "the good lines after them are stored" '{"total":2,"good":1,"bad":1}' "$(j '/micro/all?min=2&settle_ms=300&wait_ms=10000' | jq -c 'del(.timedOut)')"
eq "three rejected good lines (one of 10 MB), two bad ones" '{"good":3,"bad":2}' "$(j /micro/stats | jq -c .rejected)"
check "each logged" sh -c "grep -c 'skipped' '$T_TMP/inspect.log' | grep -qx 5"
check "the 10 MB line logged with its size" grep -q "10485760 bytes is longer than --max-line-bytes" "$T_TMP/inspect.log"
check "still serving" curl -sf -o /dev/null "$IURL/health"
stop_inspect
eq "exit 0" 0 "$IRC"

# a line being written (no newline yet) waits for its end
: >"$d/part.tsv"
start_inspect --source "log:$d/part.tsv" || fail "start"
enriched_line 1 0=whole | tr -d '\n' >>"$d/part.tsv"
eq "a partial line is not read" 0 "$(j '/micro/all?min=1&wait_ms=300' | jq .total)"
echo >>"$d/part.tsv"
eq "read once its newline comes" 1 "$(j '/micro/all?min=1&wait_ms=5000' | jq .total)"
stop_inspect

# standard input: a hand pipeline (enrich ... | inspect); EOF leaves it serving
mkfifo "$d/in"
IPORT=$(free_port); IURL="http://127.0.0.1:$IPORT"
"$FURROW_BIN/inspect" --bind 127.0.0.1 -p "$IPORT" --stats-interval 0 <"$d/in" 2>>"$T_TMP/inspect.log" &
IPID=$!; T_PIDS="$T_PIDS $IPID"
exec 3>"$d/in"
wait_for 10 curl -sf "$IURL/health" || fail "inspect on stdin starts"
for i in 1 2 3; do enriched_line "$i" 0=stdin; done >&3
eq "lines from standard input" 3 "$(j '/micro/all?min=3&wait_ms=5000' | jq .good)"
exec 3>&-
wait_for 5 grep -q "end of input" "$T_TMP/inspect.log"
check "EOF: still serving" curl -sf -o /dev/null "$IURL/health"
eq "with what it read" 3 "$(j /micro/all | jq .good)"
stop_inspect
eq "SIGTERM after EOF: exit 0" 0 "$IRC"

# --exit-on-eof for scripts: `cat capture.tsv | inspect --exit-on-eof` ends by itself
for i in 1 2; do enriched_line "$i"; done | "$FURROW_BIN/inspect" -p 0 --exit-on-eof --stats-interval 0 2>"$T_TMP/eof.log"
eq "--exit-on-eof exits 0 at EOF" 0 $?
check "and says what it had" grep -q "good in=2 stored=2" "$T_TMP/eof.log"

# startup errors: clear message, sysexits code
"$FURROW_BIN/inspect" -p 0 --source "$d/nope.tsv" 2>"$T_TMP/e1.log"
eq "a missing input file: 66" 66 $?
check "with the reason" grep -q "inspect: .* error: $d/nope.tsv: No such file or directory" "$T_TMP/e1.log"
"$FURROW_BIN/inspect" --max-events 0 2>/dev/null
eq "a bad flag value: 64" 64 $?
"$FURROW_BIN/inspect" --ui "$d/none" -p 0 2>/dev/null </dev/null
eq "a missing --ui directory: 78" 78 $?
done_testing
