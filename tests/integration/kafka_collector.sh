#!/bin/bash
# The collector on a Kafka topic when the broker is away (collector.md §1, DESIGN.md "The
# acknowledged-event rule"), against a real broker (tests/setup-kafka.sh):
#  - a request is answered 200 once its record is in the producer's queue (the broker is down);
#  - over --queue-bytes of unacknowledged records it answers 503 and /sink-health says so;
#  - SIGTERM drains for --drain-timeout; what the broker never acknowledged comes back from the
#    producer into the --spill file (base64 lines), and the next start sends it to the topic
#    before taking requests: every event answered 200 is on the topic in the end.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kafka.sh"
trap 'kafka_cleanup >/dev/null 2>&1; t_cleanup' EXIT

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kafka_start >"$T_TMP/kafka-start.log" 2>&1 ||
    unavailable "Kafka broker" "$(tail -n 3 "$T_TMP/kafka-start.log")"
kafka_topic craw 1 && kafka_topic cbad 1 || unavailable "topics" "cannot create them"
ok "Kafka $KAFKA_VERSION at $KAFKA_BROKERS"
B=$KAFKA_BROKERS
F=$FURROW_ROOT/tests/tools/kafka_frames.py

start_collector() {
	"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kafka:craw --bad kafka:cbad \
	    --kafka-brokers "$B" --queue-bytes 20000 --drain-timeout 2 --spill "$T_TMP/spill" \
	    --no-cookie 2>>"$T_TMP/collector.err" &
	pc=$!
}
port=$(free_port)
start_collector
check "collector ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
kafka_stop
ok "broker stopped"

# send until the first 503; remember the event ids answered 200
n=0 codes=""
: >"$T_TMP/ids"
while [ $n -lt 500 ]; do
	eid=$(printf '00000000-0000-4000-8000-%012d' $n)
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=pv&p=web&tv=t&eid=$eid")
	[ "$code" = 200 ] || break
	echo "$eid" >>"$T_TMP/ids"
	n=$((n + 1))
done
diag "$n requests answered 200 with the broker down, then $code"
check "answered 200 while the records wait in the producer's queue" test "$n" -gt 10
eq "then 503: --queue-bytes of records not acknowledged" 503 "$code"
eq "/sink-health says 503" 503 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/sink-health")"

kill -TERM $pc; wait $pc
eq "SIGTERM: the collector exits 0 after the drain" 0 $?
check "the drain says what it spilled" grep -q "spilled to $T_TMP/spill" "$T_TMP/collector.err"
eq "the spill holds every record answered 200" "$n" "$(wc -l <"$T_TMP/spill")"
python3 "$FURROW_ROOT/tests/tools/collector_decode.py" <"$T_TMP/spill" >"$T_TMP/spill.json"
eq "as the base64 lines of their records" "$(sort "$T_TMP/ids" | xargs)" \
    "$(jq -r .querystring "$T_TMP/spill.json" | sed 's/.*eid=//' | sort | xargs)"

kafka_start >>"$T_TMP/kafka-start.log" 2>&1 || fail "broker started again"
start_collector
check "the restarted collector is ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
check "it replayed the spill first" grep -q "spill replayed" "$T_TMP/collector.err"
check "and removed it" test ! -e "$T_TMP/spill"
kill -TERM $pc; wait $pc
eq "the collector exits 0" 0 $?
kcat -C -b "$B" -t craw -e -q -f '%R%s' | python3 "$F" frames b64 >"$T_TMP/topic.raw"
python3 "$FURROW_ROOT/tests/tools/collector_decode.py" <"$T_TMP/topic.raw" >"$T_TMP/topic.json"
eq "every event answered 200 is on the topic, once" "$(sort "$T_TMP/ids" | xargs)" \
    "$(jq -r .querystring "$T_TMP/topic.json" | sed 's/.*eid=//' | sort | xargs)"
check "keyed by a random UUID per request" sh -c "kcat -C -b '$B' -t craw -e -q -f '%k\n' |
    grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$' | grep -qx $n"

done_testing
