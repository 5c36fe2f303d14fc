#!/bin/bash
# Kafka topics carry Snowplow's own messages (DESIGN.md "Scaling past one machine"), checked byte
# for byte with kcat against a real broker (tests/setup-kafka.sh):
#  - raw: one binary Thrift CollectorPayload per message, no base64, no newline. Produced by kcat
#    and enriched by furrow, the result is what enrich makes of the same records as base64 lines;
#    produced by furrow's collector and consumed by kcat, it decodes as the collector's lines do.
#  - enriched: one 131-column TSV line per message without its newline; bad: one bad-row JSON.
#  - keys as Snowplow's: stream-collector's KafkaSink keys a request's records by a random UUID,
#    or by the client IP with useIpAddressAsPartitionKey (core/Service.scala ipAndPartitionKey);
#    enrich's good sink keys by the partitionKey field, else a random UUID, and adds the
#    attributes fields as headers (common-streams kafka/sink/KafkaSink.scala toProducerRecord).
#  - poison on the raw topic (garbage, a truncated record, an over-long record) becomes bad rows
#    and the group's committed offset reaches the end: no stuck partition.
#  - enrich --pii naming a missing topic: not opened without the PII enrichment's emitEvent (no
#    error), a clear startup error with it.
#  - inspect reads the topics without a group; a properties file's secrets never reach the logs.
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
for t in raw:1 enriched:2 bad:1 craw:3 cbad:1; do
	kafka_topic "${t%%:*}" "${t#*:}" || unavailable "topic ${t%%:*}" "cannot create it"
done
G=$FURROW_ROOT/tests/golden/enrich
F=$FURROW_ROOT/tests/tools/kafka_frames.py
D='@@furrow-record-delimiter@@'
NOW=1700000100000

# end offset of a topic (all partitions)
topic_end() {
	local n=0 p
	for p in $(kcat -b "$B" -L -t "$1" 2>/dev/null | sed -n 's/.*partition \([0-9]*\),.*/\1/p'); do
		n=$((n + $(kcat -b "$B" -Q -t "$1:$p:-1" 2>/dev/null | awk '{print $NF}')))
	done
	echo "$n"
}
at_least() { [ "$(topic_end "$1")" -ge "$2" ]; }

# ---- raw Thrift produced by kcat, enriched by furrow ----
cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" "$FURROW_ROOT/tests/tools/mkraw.c" \
    "$FURROW_ROOT/common/thrift.c" "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" \
    -ljansson || { fail "mkraw builds"; done_testing; exit; }
"$T_TMP/mkraw" <"$G/requests.jsonl" >"$T_TMP/in.raw"
# poison: garbage bytes, a truncated record, a record longer than --max-line-bytes
printf 'not thrift at all \001\002\377' | base64 -w0 >>"$T_TMP/in.raw"; echo >>"$T_TMP/in.raw"
head -n1 "$T_TMP/in.raw" | base64 -d 2>/dev/null | head -c 40 | base64 -w0 >>"$T_TMP/in.raw"
echo >>"$T_TMP/in.raw"
head -c 300000 /dev/zero | tr '\0' 'x' | base64 -w0 >>"$T_TMP/in.raw"; echo >>"$T_TMP/in.raw"
records=$(grep -c . "$T_TMP/in.raw")

# the reference: the same records as base64 lines through a file
FURROW_ENRICH_NOW_MS=$NOW "$FURROW_BIN/enrich" --resolver "$G/resolver.json" \
    --max-line-bytes 250000 --bad "$T_TMP/ref-bad.jsonl" <"$T_TMP/in.raw" \
    >"$T_TMP/ref-good.tsv" 2>"$T_TMP/ref.err"
ref_good=$(wc -l <"$T_TMP/ref-good.tsv")
ref_bad=$(wc -l <"$T_TMP/ref-bad.jsonl")
check "reference run: good events and bad rows" test "$ref_good" -gt 5 -a "$ref_bad" -gt 3

python3 "$F" lines2bin "$D" <"$T_TMP/in.raw" | kcat -P -b "$B" -t raw -D "$D" -p 0
eq "kcat produced every record as one binary message" "$records" "$(topic_end raw)"

FURROW_ENRICH_NOW_MS=$NOW "$FURROW_BIN/enrich" --resolver "$G/resolver.json" \
    --max-line-bytes 250000 --source kafka:raw --output kafka:enriched --bad kafka:bad \
    --group fmt --kafka-brokers "$B" --partition-key app_id --attributes app_id,platform \
    --pii kafka:no-such-pii 2>"$T_TMP/enrich.err" &
epid=$!
if wait_for 60 at_least enriched "$ref_good" && wait_for 30 at_least bad "$ref_bad"; then
	ok "enrich read the raw topic and wrote both topics"
else
	fail "enrich read the raw topic and wrote both topics"; sed 's/^/# /' "$T_TMP/enrich.err"
fi
kill -TERM $epid; wait $epid
eq "enrich stops with 0 on SIGTERM" 0 $?
check "enrich counted every message" grep -q "lines $records, empty 0, good $ref_good, bad $ref_bad" "$T_TMP/enrich.err"
eq "the group committed the end of the raw topic (poison did not stick)" "0 $records" \
    "$(kafka_group_offsets fmt raw)"
# --pii names a topic that does not exist (the systemd units always pass it): without the PII
# enrichment's emitEvent it is never opened, no error, nothing waits for it; with it, enrich
# stops at startup saying so
check "no PII enrichment: --pii kafka:no-such-pii not opened, not an error" \
    sh -c "grep -q 'no-such-pii: no PII enrichment with emitEvent: not opened' '$T_TMP/enrich.err' && ! grep -i 'error' '$T_TMP/enrich.err'"
mkdir -p "$T_TMP/pii-conf"
cat >"$T_TMP/pii-conf/pii_enrichment_config.json" <<'JSON'
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"pii_enrichment_config",
  "emitEvent":true,"enabled":true,
  "parameters":{"pii":[{"pojo":{"field":"user_id"}}],
   "strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"pepper123"}}}}}
JSON
timeout 60 "$FURROW_BIN/enrich" --resolver "$G/resolver.json" --enrichments "$T_TMP/pii-conf" \
    --source kafka:raw --output kafka:enriched --bad kafka:bad --group fmt-pii --kafka-brokers "$B" \
    --pii kafka:no-such-pii </dev/null >/dev/null 2>"$T_TMP/pii.err"
rc=$?
check "emitEvent on, no such --pii topic: enrich stops at startup (not 0, not killed)" test "$rc" -ne 0 -a "$rc" -ne 124
check "and says which" grep -q -- "--pii kafka:no-such-pii: no such topic" "$T_TMP/pii.err"

kcat -C -b "$B" -t enriched -e -q -f '%R%s' >"$T_TMP/enriched.frames"
check "enriched messages: no newline inside, none added" \
    sh -c "python3 '$F' frames <'$T_TMP/enriched.frames' >'$T_TMP/good.tsv'"
check "enriched messages are 131-column TSV" awk -F'\t' 'NF != 131 { exit 1 } END { exit NR == 0 }' "$T_TMP/good.tsv"
# event_id (column 7) is random where the tracker sent none
mask() { awk -F'\t' 'BEGIN { OFS = "\t" } { $7 = "*"; print }' "$1" | sort; }
if diff <(mask "$T_TMP/ref-good.tsv") <(mask "$T_TMP/good.tsv") >"$T_TMP/good.diff"; then
	ok "enriched topic = enrich's output for the same records as lines"
else
	fail "enriched topic = enrich's output for the same records as lines"
	head -c 2000 "$T_TMP/good.diff" | sed 's/^/# /'
fi
kcat -C -b "$B" -t bad -e -q -f '%R%s' | python3 "$F" frames >"$T_TMP/bad.jsonl"
# a size_violation's failure time is the clock's, not the fixed processing time
# (and so is an Iglu lookup's lastAttempt; event_id is random where the tracker sent none)
nots() { jq -c '(if .data.failure.timestamp then .data.failure.timestamp = "*" else . end) |
    (.. | objects | select(has("event_id")) | .event_id) |= "*" |
    (.. | objects | select(has("lastAttempt")) | .lastAttempt) |= "*"' "$1" | sort; }
if diff <(nots "$T_TMP/ref-bad.jsonl") <(nots "$T_TMP/bad.jsonl") >"$T_TMP/bad.diff"; then
	ok "bad topic = enrich's bad rows for the same records, one JSON per message"
else
	fail "bad topic = enrich's bad rows for the same records"; head -c 2000 "$T_TMP/bad.diff" | sed 's/^/# /'
fi
check "the garbage message is a collector_payload_format_violation with its base64" \
    grep -q "\"payload\":\"$(printf 'not thrift at all \001\002\377' | base64 -w0)\"" "$T_TMP/bad.jsonl"
check "the over-long message is a size_violation" \
    sh -c "jq -r .schema '$T_TMP/bad.jsonl' | grep -q size_violation"
# keys and headers: --partition-key app_id, --attributes app_id,platform
kcat -C -b "$B" -t enriched -e -q -f '%k\t%h\t%s\n' >"$T_TMP/keyed"
check "enriched key = app_id (partitionKey), headers app_id and platform (attributes)" awk -F'\t' '
    { want = "app_id=" $3 ",platform=" $4; if ($3 == "") want = "platform=" $4
      if ($3 != "" && $1 != $3) exit 1; if ($3 == "" && $1 !~ /^[0-9a-f-]{36}$/) exit 1
      if ($2 != want) exit 1 } END { exit NR == 0 }' "$T_TMP/keyed"
eq "bad rows are keyed by a random UUID" 0 "$(kcat -C -b "$B" -t bad -e -q -f '%k\n' |
    grep -cvE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')"

# ---- the collector's raw topic, consumed by kcat ----
port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kafka:craw --bad kafka:cbad \
    --kafka-brokers "$B" --ip-partition-key --max-record-bytes 1000 --max-payload-bytes 2000 \
    --no-cookie \
    2>"$T_TMP/collector.err" &
cpid=$!
wait_for 30 curl -sf "http://127.0.0.1:$port/health" || fail "collector ready"
codes=""
for i in 1 2 3 4 5 6; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H "X-Forwarded-For: 198.51.100.$i" \
	    "http://127.0.0.1:$port/i?e=pv&p=web&tv=t&aid=kc&eid=00000000-0000-4000-8000-00000000000$i")"
done
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    -H 'X-Forwarded-For: 198.51.100.9' --data "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{\"e\":\"pv\",\"p\":\"web\",\"tv\":\"t\",\"aid\":\"$(head -c 3000 /dev/zero | tr '\0' 'y')\"}]}" \
    "http://127.0.0.1:$port/com.snowplowanalytics.snowplow/tp2")"
eq "six GETs and an oversized POST answered 200" " 200 200 200 200 200 200 200" "$codes"
check "the raw topic has the six records" wait_for 20 at_least craw 6
check "the bad topic has the size violation" wait_for 20 at_least cbad 1
kill -TERM $cpid; wait $cpid
eq "collector stops with 0" 0 $?
kcat -C -b "$B" -t craw -e -q -f '%R%s' | python3 "$F" frames b64 >"$T_TMP/c.raw"
check "raw messages decode as CollectorPayloads (binary Thrift, no base64)" \
    sh -c "python3 '$FURROW_ROOT/tests/tools/collector_decode.py' <'$T_TMP/c.raw' >'$T_TMP/c.json'"
eq "their client IPs" "198.51.100.1 198.51.100.2 198.51.100.3 198.51.100.4 198.51.100.5 198.51.100.6" \
    "$(jq -r .ipAddress "$T_TMP/c.json" | sort | xargs)"
eq "keyed by the client IP (--ip-partition-key)" "$(jq -r .ipAddress "$T_TMP/c.json" | sort | xargs)" \
    "$(kcat -C -b "$B" -t craw -e -q -f '%k\n' | sort | xargs)"
eq "and they enrich like lines" 6 "$("$FURROW_BIN/enrich" <"$T_TMP/c.raw" 2>/dev/null | wc -l)"
kcat -C -b "$B" -t cbad -e -q -f '%R%s' | python3 "$F" frames >"$T_TMP/cbad.jsonl"
eq "the bad topic holds one size_violation as JSON" \
    "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0" \
    "$(jq -r .schema "$T_TMP/cbad.jsonl")"

# ---- inspect reads the topics without a group ----
iport=$(free_port)
"$FURROW_BIN/inspect" -p "$iport" --source kafka:enriched --bad-source kafka:bad \
    --kafka-brokers "$B" --no-ui 2>"$T_TMP/inspect.err" &
ipid=$!
all() { curl -sf "http://127.0.0.1:$iport/micro/all" | jq -e ".good == $ref_good and .bad == $ref_bad"; }
if wait_for 30 all; then ok "inspect shows the topics' events ($ref_good good, $ref_bad bad)"
else fail "inspect shows the topics' events"; curl -s "http://127.0.0.1:$iport/micro/all" | sed 's/^/# /'; fi
kill -TERM $ipid; wait $ipid

# ---- the launcher wires the stages through topics when FURROW_KAFKA_BROKERS is set ----
for t in lraw lenriched lbad; do kafka_topic "$t" 2; done
ld=$T_TMP/launcher
mkdir -p "$ld"
lport=$(free_port)
(cd "$ld" && FURROW_KAFKA_BROKERS=$B FURROW_KAFKA_TOPIC_RAW=lraw FURROW_KAFKA_TOPIC_ENRICHED=lenriched \
    FURROW_KAFKA_TOPIC_BAD=lbad FURROW_PORT=$lport FURROW_BIND=127.0.0.1 \
    FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port) FURROW_DATA_DIR=$ld/data \
    bash "$FURROW_ROOT/fifo-setup.sh" start >"$ld/launcher.log" 2>&1 &)
if wait_for 60 test -f "$ld/data/run/ready"; then ok "launcher ready on Kafka"
else fail "launcher ready on Kafka"; sed 's/^/# /' "$ld/launcher.log"; fi
eq "an event and a malformed one answered 200" "200 200" \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$lport/i?e=pv&p=web&tv=t&aid=launch") $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{' "http://127.0.0.1:$lport/com.snowplowanalytics.snowplow/tp2")"
check "the event reaches FURROW_KAFKA_TOPIC_ENRICHED" wait_for 30 at_least lenriched 1
check "the bad row reaches FURROW_KAFKA_TOPIC_BAD" wait_for 30 at_least lbad 1
eq "the collector wrote FURROW_KAFKA_TOPIC_RAW" 2 "$(topic_end lraw)"
check "status names the groups in Kafka" sh -c "FURROW_DATA_DIR='$ld/data' bash '$FURROW_ROOT/fifo-setup.sh' status | grep -q 'kafka:lraw group enrich'"
FURROW_DATA_DIR=$ld/data bash "$FURROW_ROOT/fifo-setup.sh" stop 2>>"$ld/launcher.log"
eq "the launcher stops with 0" 0 $?
eq "no data files beside the topics" "" "$(ls "$ld/data" | grep -E 'raw.log|good.tsv|bad.json')"
# the collector keys each request by a random UUID: a partition may have got nothing, and then
# the group has nothing to commit for it (listed only are the partitions that got records)
lraw_ends=
for p in 0 1; do
	e=$(kcat -b "$B" -Q -t "lraw:$p:-1" | awk '{print $NF}')
	[ "$e" -gt 0 ] && lraw_ends="$lraw_ends $p $e"
done
eq "enrich's group committed the end of FURROW_KAFKA_TOPIC_RAW" "${lraw_ends# }" \
    "$(echo $(kafka_group_offsets enrich lraw))"

# ---- configuration errors ----
cat >"$T_TMP/secret.properties" <<'EOF'
# SASL, as a user would write it
security.protocol=SASL_PLAINTEXT
sasl.mechanisms=PLAIN-Zq9-SUPERSECRET
sasl.username=furrow
sasl.password=SUPERSECRET-password
EOF
"$FURROW_BIN/enrich" --source kafka:raw --kafka-brokers "$B" \
    --kafka-properties "$T_TMP/secret.properties" </dev/null >/dev/null 2>"$T_TMP/props.err"
eq "an unknown SASL mechanism: exit 78" 78 $?
check "no secret in the log" sh -c "! grep -q SUPERSECRET '$T_TMP/props.err'"
printf 'linger.ms=5\nsasl.password=x\nqueue.buffering.max.ms=SUPERSECRET\n' >"$T_TMP/bad-value.properties"
"$FURROW_BIN/collector" -p "$(free_port)" -o kafka:craw --kafka-brokers "$B" \
    --kafka-properties "$T_TMP/bad-value.properties" 2>"$T_TMP/value.err"
eq "an invalid property value: exit 78" 78 $?
check "the error names the file and the line" grep -q "bad-value.properties: line 3" "$T_TMP/value.err"
check "and not the value" sh -c "! grep -q SUPERSECRET '$T_TMP/value.err'"
printf 'enable.auto.commit=true\n' >"$T_TMP/reserved.properties"
"$FURROW_BIN/es-sink" --source kafka:enriched --kafka-brokers "$B" --dump \
    --kafka-properties "$T_TMP/reserved.properties" >/dev/null 2>"$T_TMP/reserved.err"
eq "a property at least once depends on cannot be changed: exit 78" 78 $?
FURROW_KAFKA_BROKERS=$B "$FURROW_BIN/enrich" --source kafka:no-such-topic </dev/null \
    >/dev/null 2>"$T_TMP/notopic.err"
rc=$?
check "a missing topic is an error that says so (exit $rc)" \
    sh -c "[ $rc -ne 0 ] && grep -q 'no-such-topic: no such topic' '$T_TMP/notopic.err'"
"$FURROW_BIN/enrich" --source kafka:raw </dev/null >/dev/null 2>"$T_TMP/nobroker.err"
check "no brokers: exit 78 and a hint" sh -c "[ $? -eq 78 ] && grep -q FURROW_KAFKA_BROKERS '$T_TMP/nobroker.err'"

done_testing
