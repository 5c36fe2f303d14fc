#!/bin/bash
# At least once on Kafka, against a real broker (tests/setup-kafka.sh):
#  - two enrich instances in one consumer group share the raw topic's partitions; one is killed
#    with SIGKILL mid-stream: the other takes its partitions over and every event id arrives on
#    the enriched topic (zero loss); duplicates are bounded by the uncommitted window (commits
#    every 0.5 s while records flow, after the outputs acknowledged them);
#  - the broker is stopped and started again mid-stream: zero loss again, enrich keeps running;
#  - at the end the group has committed the end of every partition.
# Records are produced by kcat at a steady pace (the pace is the load, not a wait for readiness).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kafka.sh"
trap 'kafka_cleanup >/dev/null 2>&1; t_cleanup' EXIT

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kafka_start >"$T_TMP/kafka-start.log" 2>&1 ||
    unavailable "Kafka broker" "$(tail -n 3 "$T_TMP/kafka-start.log")"
ok "Kafka $KAFKA_VERSION at $KAFKA_BROKERS"
B=$KAFKA_BROKERS
for t in raw:4 enriched:4 bad:1; do
	kafka_topic "${t%%:*}" "${t#*:}" || unavailable "topic ${t%%:*}" "cannot create it"
done
F=$FURROW_ROOT/tests/tools/kafka_frames.py
D='@@furrow-record-delimiter@@'
cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" "$FURROW_ROOT/tests/tools/mkraw.c" \
    "$FURROW_ROOT/common/thrift.c" "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" \
    -ljansson || { fail "mkraw builds"; done_testing; exit; }
# a dead member's partitions move after the session timeout: 6 s (the broker's minimum)
cat >"$T_TMP/kafka.properties" <<'EOF'
session.timeout.ms=6000
heartbeat.interval.ms=500
EOF
export FURROW_KAFKA_BROKERS=$B FURROW_KAFKA_PROPERTIES=$T_TMP/kafka.properties

topic_end() {
	local n=0 p
	for p in $(kcat -b "$B" -L -t "$1" 2>/dev/null | sed -n 's/.*partition \([0-9]*\),.*/\1/p'); do
		n=$((n + $(kcat -b "$B" -Q -t "$1:$p:-1" 2>/dev/null | awk '{print $NF}')))
	done
	echo "$n"
}
at_least() { [ "$(topic_end "$1")" -ge "$2" ]; }
# event ids of app $1 on the enriched topic: "unique total"
ids() {
	kcat -C -b "$B" -t enriched -e -q -f '%s\n' 2>/dev/null |
	    awk -F'\t' -v a="$1" '$1 == a { print $7 }' | sort | uniq -c |
	    awk '{ u++; t += $1 } END { print u + 0, t + 0 }'
}
all_ids() { [ "$(ids "$1" | cut -d' ' -f1)" -ge "$2" ]; }
# produce N events of app PREFIX at RATE per second, in the background
produce() {
	python3 "$F" events "$1" "$2" | "$T_TMP/mkraw" | python3 -c '
import base64, sys, time
n, rate, d = 0, float(sys.argv[1]), sys.argv[2].encode()
out = sys.stdout.buffer
t0 = time.time()
for line in sys.stdin.buffer:
    if n:
        out.write(d)
    out.write(base64.b64decode(line.strip()))
    n += 1
    if n % 100 == 0:
        out.flush()
        ahead = t0 + n / rate - time.time()
        if ahead > 0:
            time.sleep(ahead)
out.flush()' "$3" "$D" | kcat -P -b "$B" -t raw -D "$D" 2>"$T_TMP/kcat-$2.err" &
	producer=$!
}
enrich_bg() { # NAME
	"$FURROW_BIN/enrich" --source kafka:raw --output kafka:enriched --bad kafka:bad --group g \
	    --stats-interval 1 2>"$T_TMP/enrich-$1.err" &
}

# ---- two instances, one killed with SIGKILL ----
N=20000
enrich_bg a; pa=$!
check "instance a gets partitions" wait_for 30 grep -q "assigned partitions" "$T_TMP/enrich-a.err"
enrich_bg b; pb=$!
check "instance b gets partitions (the group rebalanced)" \
    wait_for 30 grep -q "assigned partitions" "$T_TMP/enrich-b.err"
t0=$(date +%s)
produce $N kill 2500
check "records flow through both instances" wait_for 60 at_least enriched 5000
kill -9 $pa; wait $pa 2>/dev/null
ok "instance a killed with SIGKILL mid-stream ($(topic_end enriched) events out)"
wait $producer
eq "kcat produced $N records" 0 $?
if wait_for 90 all_ids kill $N; then ok "no event lost: all $N event ids on the enriched topic"
else fail "no event lost"; diag "ids (unique total): $(ids kill)"; sed 's/^/# b: /' "$T_TMP/enrich-b.err" | tail -20; fi
read -r u t <<<"$(ids kill)"
dups=$((t - u))
diag "duplicates after the kill: $dups (failover in $(( $(date +%s) - t0 )) s)"
# a's uncommitted window: at most one commit interval (0.5 s) of its half of 2500/s plus what
# its outputs had not acknowledged; 2500 is a second of the whole stream
check "duplicates bounded by the uncommitted window ($dups <= 2500)" test "$dups" -le 2500
check "instance b took a's partitions over (assigned twice)" \
    test "$(grep -c "assigned partitions" "$T_TMP/enrich-b.err")" -ge 2
eq "no bad rows" 0 "$(topic_end bad)"

# ---- the broker stopped and started again mid-stream, fed by the collector ----
# Trackers send each event again until it is answered 200: while the broker is away the
# collector answers 200 as long as its producer queue has room, and every event it answered 200
# must come out of enrich.
port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kafka:raw --bad kafka:bad --no-cookie \
    2>"$T_TMP/collector.err" &
pc=$!
wait_for 30 curl -sf "http://127.0.0.1:$port/health" || fail "collector ready"
M=8000
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" $M restart 1000 >"$T_TMP/sent" &
sender=$!
check "records flow through collector and enrich" wait_for 60 all_ids restart 1500
kafka_stop
ok "broker stopped mid-stream"
if kafka_start >>"$T_TMP/kafka-start.log" 2>&1; then ok "broker started again on the same port and data"
else fail "broker started again"; tail -n 5 "$T_TMP/kafka-start.log" | sed 's/^/# /'; fi
wait $sender
read -r sent retried <"$T_TMP/sent"
eq "every event answered 200 in the end ($retried retries)" $M "$sent"
if wait_for 120 all_ids restart $M; then ok "no event lost across the broker restart"
else fail "no event lost across the broker restart"; diag "ids (unique total): $(ids restart)"
	tail -n 20 "$T_TMP/enrich-b.err" "$T_TMP/collector.err" | sed 's/^/# /'; fi
read -r u t <<<"$(ids restart)"
diag "duplicates across the restart: $((t - u))"
check "enrich b still runs" kill -0 $pb
kill -TERM $pc; wait $pc
rc=$?
eq "the collector stops with 0" 0 $rc
[ $rc = 0 ] || tail -n 20 "$T_TMP/collector.err" | sed 's/^/# /'

# ---- a clean stop commits the end ----
kill -TERM $pb; wait $pb
eq "enrich b stops with 0" 0 $?
want=$(for p in 0 1 2 3; do echo "$p $(kcat -b "$B" -Q -t "raw:$p:-1" | awk '{print $NF}')"; done)
eq "the group committed the end of every partition" "$(echo $want)" "$(echo $(kafka_group_offsets g raw))"

done_testing
