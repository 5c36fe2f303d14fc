#!/bin/bash
# End to end through Kafka (DESIGN.md "Scaling past one machine"), every part real: a Kafka
# broker (tests/setup-kafka.sh), Elasticsearch (tests/setup-es.sh), an S3 API server
# (tests/setup-s3.sh), PostgreSQL (tests/setup-pg.sh):
#
#   trackers -> collector -> kafka:raw -> enrich -> kafka:enriched -> es-sink (good index)
#                              |                 |                 -> pg-sink (atomic.events)
#                              |                 -> kafka:bad      -> es-sink (bad index)
#                              |                                   -> pg-sink (atomic.bad_rows)
#                              +-> s3-sink --input raw (archive)
#
# Events are reconciled by event id: every event the collector answered 200 is in the good
# index exactly once (es-sink's _id is the event id), the invalid ones are bad rows in the bad
# index, the raw archive holds every record, and each consumer group committed the end of its
# topic after a clean stop.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kafka.sh"
. "$FURROW_ROOT/tests/setup-es.sh"
S3_WORKDIR=$T_TMP/s3 . "$FURROW_ROOT/tests/setup-s3.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
cleanup_services() {
	kafka_cleanup >/dev/null 2>&1; es_cleanup >/dev/null 2>&1; s3_stop >/dev/null 2>&1
	pg_cleanup >/dev/null 2>&1
}
trap 'cleanup_services; t_cleanup' EXIT

kafka_start >"$T_TMP/kafka-start.log" 2>&1 || unavailable "Kafka" "$(tail -n 3 "$T_TMP/kafka-start.log")"
es_start >"$T_TMP/es-start.log" 2>&1 || unavailable "Elasticsearch" "$(tail -n 3 "$T_TMP/es-start.log")"
s3_start >"$T_TMP/s3-start.log" 2>&1 || unavailable "S3 server" "$(tail -n 3 "$T_TMP/s3-start.log")"
s3_mb furrow-kafka >/dev/null || unavailable "S3 bucket" "cannot create it"
PG_FSYNC=off pg_setup >"$T_TMP/pg-start.log" 2>&1 || unavailable "PostgreSQL" "$(tail -n 3 "$T_TMP/pg-start.log")"
for t in furrow-raw:3 furrow-enriched:3 furrow-bad:1; do
	kafka_topic "${t%%:*}" "${t#*:}" || unavailable "topic ${t%%:*}" "cannot create it"
done
ok "Kafka at $KAFKA_BROKERS, Elasticsearch $ES_VERSION at $ES_URL, S3 at $S3_ENDPOINT, PostgreSQL on $PG_PORT"
export FURROW_KAFKA_BROKERS=$KAFKA_BROKERS

port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kafka:furrow-raw --bad kafka:furrow-bad \
    --no-cookie 2>"$T_TMP/collector.err" &
pc=$!
"$FURROW_BIN/enrich" --source kafka:furrow-raw --output kafka:furrow-enriched \
    --bad kafka:furrow-bad --group enrich 2>"$T_TMP/enrich.err" &
pe=$!
"$FURROW_BIN/es-sink" --url "$ES_URL" --setup --source kafka:furrow-enriched --group es-good \
    --flush-ms 100 2>"$T_TMP/es-good.err" &
pg=$!
"$FURROW_BIN/es-sink" --url "$ES_URL" --setup --input bad --source kafka:furrow-bad \
    --group es-bad --flush-ms 100 2>"$T_TMP/es-bad.err" &
pb=$!
"$FURROW_BIN/s3-sink" --bucket furrow-kafka --endpoint "$S3_ENDPOINT" --path-style \
    --input raw --source kafka:furrow-raw --group s3-raw --spool "$T_TMP/spool" \
    --rotate-seconds 2 2>"$T_TMP/s3.err" &
ps3=$!
"$FURROW_BIN/pg-sink" --url "$PG_URL" --setup --source kafka:furrow-enriched --group pg-good \
    --flush-ms 100 2>"$T_TMP/pg-good.err" &
ppg=$!
"$FURROW_BIN/pg-sink" --url "$PG_URL" --setup --input bad --source kafka:furrow-bad \
    --group pg-bad --flush-ms 100 2>"$T_TMP/pg-bad.err" &
ppb=$!
check "collector ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"

N=3000
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" $N e2e-kafka 1000 >"$T_TMP/sent"
read -r sent retried <"$T_TMP/sent"
eq "$N events answered 200" $N "$sent"
ue() { jq -rn --arg s "$1" --argjson d "$2" '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":$s,"data":$d}} | @uri'; }
codes=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=ue&p=web&tv=t&aid=e2e-kafka-bad&ue_pr=$(ue iglu:com.acme/unknown/jsonschema/1-0-0 '{}')")
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"schema": not json' "http://127.0.0.1:$port/com.snowplowanalytics.snowplow/tp2")"
eq "two invalid events answered 200" "200 200" "$codes"

count() { # INDEX QUERY
	curl -s -XPOST "$ES_URL/$1/_refresh" >/dev/null
	curl -s "$ES_URL/$1/_count" -H 'Content-Type: application/json' -d "$2" | jq -r '.count // 0'
}
app='{"query":{"term":{"app_id":"e2e-kafka"}}}'
all='{"query":{"match_all":{}}}'
reached() { [ "$(count "$1" "$2")" -ge "$3" ]; }
wait_for 120 reached good "$app" $N
eq "every event in the good index" $N "$(count good "$app")"
wait_for 60 reached bad "$all" 2
eq "the two bad rows in the bad index" 2 "$(count bad "$all")"
# reconcile by event id: the ids sent are the ids indexed
python3 - "$N" >"$T_TMP/sent-ids" <<'EOF'
import sys, uuid
for i in range(int(sys.argv[1])):
    print(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-kafka-%d" % i))
EOF
curl -s "$ES_URL/good/_search?size=10000&_source=event_id" -H 'Content-Type: application/json' \
    -d "$app" | jq -r '.hits.hits[]._source.event_id' | sort >"$T_TMP/es-ids"
if diff <(sort "$T_TMP/sent-ids") "$T_TMP/es-ids" >/dev/null; then
	ok "the event ids in Elasticsearch are the ids sent, each once"
else fail "event ids reconcile"; diag "sent $(wc -l <"$T_TMP/sent-ids"), indexed $(wc -l <"$T_TMP/es-ids")"; fi
pg_count() { pg_sql "SELECT count(*) FROM atomic.$1 $2" 2>/dev/null || echo 0; }
pg_reached() { [ "$(pg_count "$1" "$2")" -ge "$3" ]; }
wait_for 120 pg_reached events "WHERE app_id = 'e2e-kafka'" $N
wait_for 60 pg_reached bad_rows "" 2
pg_sql "SELECT event_id FROM atomic.events WHERE app_id = 'e2e-kafka'" | sort >"$T_TMP/pg-ids"
if diff <(sort "$T_TMP/sent-ids") "$T_TMP/pg-ids" >/dev/null; then
	ok "the event ids in atomic.events are the ids sent, each once"
else fail "event ids reconcile in PostgreSQL"; diag "sent $N, loaded $(wc -l <"$T_TMP/pg-ids")"; fi
eq "the two bad rows in atomic.bad_rows" 2 "$(pg_count bad_rows "")"

# ---- a clean stop, in pipeline order ----
for s in collector:$pc enrich:$pe es-sink-good:$pg es-sink-bad:$pb s3-sink:$ps3 \
    pg-sink-good:$ppg pg-sink-bad:$ppb; do
	kill -TERM "${s#*:}"; wait "${s#*:}"; eq "${s%%:*} stops with 0" 0 $?
done
records=$((N + 2))      # the invalid events are records too; enrich makes them bad rows
check "collector: $records records" grep -q "records=$records " "$T_TMP/collector.err"
check "enrich: lines in = good + bad" grep -q "lines $records, empty 0, good $N, bad 2" "$T_TMP/enrich.err"
end_of() { for p in $(seq 0 $(($2 - 1))); do printf '%s %s ' "$p" "$(kcat -b "$KAFKA_BROKERS" -Q -t "$1:$p:-1" | awk '{print $NF}')"; done; }
for g in enrich:furrow-raw:3 es-good:furrow-enriched:3 es-bad:furrow-bad:1 s3-raw:furrow-raw:3 \
    pg-good:furrow-enriched:3 pg-bad:furrow-bad:1; do
	IFS=: read -r grp top np <<<"$g"
	eq "group $grp committed the end of $top" "$(end_of "$top" "$np")" \
	    "$(kafka_group_offsets "$grp" "$top" | tr '\n' ' ')"
done
for k in $(s3_ls furrow-kafka); do
	s3_get furrow-kafka "$k" "$T_TMP/obj.gz" && gunzip -c "$T_TMP/obj.gz" >>"$T_TMP/archived.raw"
done
eq "the raw archive holds every record" $records "$(wc -l <"$T_TMP/archived.raw")"
eq "as base64 lines that enrich as from the topic" $N \
    "$("$FURROW_BIN/enrich" <"$T_TMP/archived.raw" 2>/dev/null | wc -l)"

done_testing
