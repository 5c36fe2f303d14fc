#!/bin/bash
# End to end through Kinesis (the AWS layout of furrow(7)), every part real except AWS itself:
# kinesalite and dynalite (tests/setup-kinesis.sh), Elasticsearch (tests/setup-es.sh), an S3 API
# server (tests/setup-s3.sh):
#
#   trackers -> collector -> kinesis:furrow-raw -> enrich -> kinesis:furrow-enriched -> es-sink (good)
#                                |                       -> kinesis:furrow-bad      -> es-sink (bad)
#                                +-> s3-sink --input raw (the archive Firehose would write)
#
# Events are reconciled by event id: every event the collector answered 200 is in the good
# index exactly once (es-sink's _id is the event id), the invalid ones are bad rows in the bad
# index, the raw archive holds every record, and after a clean stop each group's lease table
# has checkpointed the last record of every shard.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kinesis.sh"
. "$FURROW_ROOT/tests/setup-es.sh"
S3_WORKDIR=$T_TMP/s3 . "$FURROW_ROOT/tests/setup-s3.sh"

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
cleanup_services() { kinesis_cleanup >/dev/null 2>&1; es_cleanup >/dev/null 2>&1; s3_stop >/dev/null 2>&1; }
trap 'cleanup_services; t_cleanup' EXIT

kinesis_start >"$T_TMP/kinesis-start.log" 2>&1 ||
    unavailable "kinesalite and dynalite" "$(tail -n 3 "$T_TMP/kinesis-start.log")"
es_start >"$T_TMP/es-start.log" 2>&1 || unavailable "Elasticsearch" "$(tail -n 3 "$T_TMP/es-start.log")"
# one set of test credentials for all: s3_start configures the S3 server with the ones
# kinesis_start exported (the local Kinesis and DynamoDB accept any well-formed signature)
s3_start >"$T_TMP/s3-start.log" 2>&1 || unavailable "S3 server" "$(tail -n 3 "$T_TMP/s3-start.log")"
s3_mb furrow-kinesis >/dev/null || unavailable "S3 bucket" "cannot create it"
K="python3 $FURROW_ROOT/tests/tools/kinesis.py"
for s in furrow-raw:3 furrow-enriched:3 furrow-bad:1; do
	kinesis_stream "${s%%:*}" "${s#*:}" || unavailable "stream ${s%%:*}" "cannot create it"
done
ok "Kinesis at $FURROW_KINESIS_ENDPOINT, Elasticsearch $ES_VERSION at $ES_URL, S3 at $S3_ENDPOINT"

port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kinesis:furrow-raw \
    --bad kinesis:furrow-bad --no-cookie 2>"$T_TMP/collector.err" &
pc=$!
"$FURROW_BIN/enrich" --source kinesis:furrow-raw --output kinesis:furrow-enriched \
    --bad kinesis:furrow-bad --group furrow-enrich 2>"$T_TMP/enrich.err" &
pe=$!
"$FURROW_BIN/es-sink" --url "$ES_URL" --setup --source kinesis:furrow-enriched \
    --group furrow-es-good --flush-ms 100 2>"$T_TMP/es-good.err" &
pg=$!
"$FURROW_BIN/es-sink" --url "$ES_URL" --setup --input bad --source kinesis:furrow-bad \
    --group furrow-es-bad --flush-ms 100 2>"$T_TMP/es-bad.err" &
pb=$!
"$FURROW_BIN/s3-sink" --bucket furrow-kinesis --endpoint "$S3_ENDPOINT" --path-style \
    --input raw --source kinesis:furrow-raw --group furrow-s3-raw --spool "$T_TMP/spool" \
    --rotate-seconds 2 2>"$T_TMP/s3.err" &
ps3=$!
check "collector ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"

N=3000
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" $N e2e-kin 1000 >"$T_TMP/sent"
read -r sent retried <"$T_TMP/sent"
eq "$N events answered 200" $N "$sent"
ue() { jq -rn --arg s "$1" --argjson d "$2" '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":$s,"data":$d}} | @uri'; }
codes=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=ue&p=web&tv=t&aid=e2e-kin-bad&ue_pr=$(ue iglu:com.acme/unknown/jsonschema/1-0-0 '{}')")
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"schema": not json' "http://127.0.0.1:$port/com.snowplowanalytics.snowplow/tp2")"
eq "two invalid events answered 200" "200 200" "$codes"

count() { # INDEX QUERY
	curl -s -XPOST "$ES_URL/$1/_refresh" >/dev/null
	curl -s "$ES_URL/$1/_count" -H 'Content-Type: application/json' -d "$2" | jq -r '.count // 0'
}
app='{"query":{"term":{"app_id":"e2e-kin"}}}'
all='{"query":{"match_all":{}}}'
reached() { [ "$(count "$1" "$2")" -ge "$3" ]; }
wait_for 120 reached good "$app" $N
eq "every event in the good index" $N "$(count good "$app")"
wait_for 60 reached bad "$all" 2
eq "the two bad rows in the bad index" 2 "$(count bad "$all")"
python3 - "$N" >"$T_TMP/sent-ids" <<'PY'
import sys, uuid
for i in range(int(sys.argv[1])):
    print(uuid.uuid5(uuid.NAMESPACE_URL, "e2e-kin-%d" % i))
PY
curl -s "$ES_URL/good/_search?size=10000&_source=event_id" -H 'Content-Type: application/json' \
    -d "$app" | jq -r '.hits.hits[]._source.event_id' | sort >"$T_TMP/es-ids"
if diff <(sort "$T_TMP/sent-ids") "$T_TMP/es-ids" >/dev/null; then
	ok "the event ids in Elasticsearch are the ids sent, each once"
else fail "event ids reconcile"; diag "sent $(wc -l <"$T_TMP/sent-ids"), indexed $(wc -l <"$T_TMP/es-ids")"; fi

# every commit is checkpointed within a second while records flow: wait for the checkpoints
ckpt_at_end() { # TABLE STREAM
	[ "$($K leases "$1" | awk '{print $1, $4}' | sort)" = \
	  "$($K lastseq "$2" | sort | sed 's/ -$/ TRIM_HORIZON/')" ]
}
for g in furrow-enrich:furrow-raw furrow-es-good:furrow-enriched furrow-es-bad:furrow-bad \
    furrow-s3-raw:furrow-raw; do
	check "group ${g%%:*} checkpoints the last record of every shard of ${g#*:}" \
	    wait_for 60 ckpt_at_end "${g%%:*}" "${g#*:}"
done

# ---- a clean stop, in pipeline order ----
for s in collector:$pc enrich:$pe es-sink-good:$pg es-sink-bad:$pb s3-sink:$ps3; do
	kill -TERM "${s#*:}"; wait "${s#*:}"; eq "${s%%:*} stops with 0" 0 $?
done
records=$((N + 2))
check "collector: $records records" grep -q "records=$records " "$T_TMP/collector.err"
check "enrich: lines in = good + bad" grep -q "lines $records, empty 0, good $N, bad 2" "$T_TMP/enrich.err"
for k in $(s3_ls furrow-kinesis); do
	s3_get furrow-kinesis "$k" "$T_TMP/obj.gz" && gunzip -c "$T_TMP/obj.gz" >>"$T_TMP/archived.raw"
done
eq "the raw archive holds every record" $records "$(wc -l <"$T_TMP/archived.raw")"
eq "as base64 lines that enrich as from the stream" $N \
    "$("$FURROW_BIN/enrich" <"$T_TMP/archived.raw" 2>/dev/null | wc -l)"

done_testing
