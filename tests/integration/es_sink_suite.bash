# The es-sink suite against a real engine, sourced by es_sink_elasticsearch.sh and
# es_sink_opensearch.sh after they set FURROW_ES_ENGINE. One engine start per script; each
# case uses its own indexes. Cases: setup and mappings, good events searchable per field type,
# bad rows in the bad index, replay without duplicates, a mapping conflict inside one batch,
# several URLs, the engine stopped for 20 s mid-stream, SIGTERM mid-batch (spool), SIGTERM with
# a healthy engine.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-es.sh"

SINK=$FURROW_BIN/es-sink
GOLD=$FURROW_ROOT/tests/golden/es-sink
trap 'es_cleanup; t_cleanup' EXIT

if ! es_start 180; then
	skip "$ES_ENGINE $ES_VERSION" "could not fetch or start it (Maven Central unreachable?)"
	done_testing
	exit 0
fi
diag "$ES_ENGINE $ES_VERSION at $ES_URL"

sink() { "$SINK" --url "$ES_URL" --stats-interval 0 "$@"; }
mapping_type() { curl -fsS "$ES_URL/$1/_mapping/field/$2" | jq -r ".\"$1\".mappings[\"$2\"].mapping[] .type"; }
# searchable_is INDEX N [QUERY]: the index answers N without an explicit refresh (for wait_for,
# which re-runs its command: a $(...) in its arguments would be evaluated only once)
searchable_is() {
	local q=${3:-'{"query":{"match_all":{}}}'}
	test "$(curl -fsS -H 'Content-Type: application/json' "$ES_URL/$1/_count" -d "$q" 2>/dev/null |
	    jq -r .count)" = "$2"
}
# count_is INDEX N: N documents after a refresh
count_is() { test "$(es_count "$1" 2>/dev/null)" = "$2"; }
# gen_events N PREFIX: N distinct good events (the golden lines with fresh event_ids)
gen_events() {
	awk -F'\t' -v OFS='\t' -v n="$1" -v p="$2" '
	    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
	      $7 = sprintf("%s-1c4d-4e5f-8a7b-%012x", p, i); print } }' "$GOLD/good.tsv"
}

# ---- setup and mappings ----
diag "$(date +%T) setup and mappings"
sink --setup-only --index good 2>"$T_TMP/setup.err"
check "--setup-only creates the good index (exit 0)" [ $? -eq 0 ]
sink --setup-only --input bad --index bad 2>>"$T_TMP/setup.err"
check "--setup-only creates the bad index" curl -fsS -o /dev/null "$ES_URL/bad"
sink --setup-only --index good 2>"$T_TMP/setup2.err"
check "--setup on an existing index is fine" grep -q "already exists" "$T_TMP/setup2.err"
eq "good mapping: geo_location is geo_point" geo_point "$(mapping_type good geo_location)"
eq "good mapping: collector_tstamp is date" date "$(mapping_type good collector_tstamp)"
eq "good mapping: page_urlport is long" long "$(mapping_type good page_urlport)"
eq "good mapping: br_cookies is boolean" boolean "$(mapping_type good br_cookies)"
eq "good mapping: app_id is keyword" keyword "$(mapping_type good app_id)"
eq "bad mapping: data.failure.messages is nested" nested "$(curl -fsS "$ES_URL/bad/_mapping" | jq -r '.bad.mappings.properties.data.properties.failure.properties.messages.type')"
eq "refresh_interval set by --setup" 500ms "$(curl -fsS "$ES_URL/good/_settings" | jq -r '.good.settings.index.refresh_interval')"

# ---- good events, searchable with the right types ----
diag "$(date +%T) good events, searchable with the right types"
start=$(date +%s%N)
sink --index good --bad "$T_TMP/bad1.json" <"$GOLD/good.tsv" 2>"$T_TMP/good.err"
check "good.tsv: exit 0" [ $? -eq 0 ]
wait_for 30 searchable_is good 20
diag "good events searchable after $(( ($(date +%s%N) - start) / 1000000 )) ms (no explicit refresh)"
eq "20 good events indexed" 20 "$(es_count good)"
check "no bad rows for good events" [ ! -s "$T_TMP/bad1.json" ]
check "counters logged at exit" grep -q "in=20 indexed=20 bad=0" "$T_TMP/good.err"
eq "keyword query (app_id)" 19 "$(es_count good '{"query":{"term":{"app_id":"shop"}}}')"
eq "long range query (page_urlport)" 19 "$(es_count good '{"query":{"range":{"page_urlport":{"gte":443}}}}')"
eq "boolean query (br_cookies=false)" 1 "$(es_count good '{"query":{"term":{"br_cookies":false}}}')"
eq "date range query (collector_tstamp)" 5 "$(es_count good '{"query":{"range":{"collector_tstamp":{"gte":"2023-11-14T22:13:01Z","lte":"2023-11-14T22:13:05Z"}}}}')"
eq "geo_distance query (geo_location)" 1 "$(es_count good '{"query":{"geo_distance":{"distance":"10km","geo_location":{"lat":37.44,"lon":-122.41}}}}')"
eq "double query (tr_total)" 1 "$(es_count good '{"query":{"range":{"tr_total":{"gt":199.9,"lt":200}}}}')"
eq "context field query" 4 "$(es_count good '{"query":{"term":{"contexts_com_snowplowanalytics_snowplow_web_page_1.id.keyword":"a1b2c3d4-0003"}}}')"
eq "unstruct field query" 1 "$(es_count good '{"query":{"term":{"unstruct_event_com_acme_my_urlclick_2.count":3}}}')"
eq "_id is the lower-cased event_id" true "$(curl -fsS "$ES_URL/good/_doc/9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b" | jq -r .found)"

# ---- latency of one event at a low rate (reported, not asserted: no timed assertions) ----
diag "$(date +%T) latency"
sink --setup-only --index latency 2>/dev/null
sink --index latency <"$GOLD/good.tsv" 2>/dev/null      # mappings in place, as in steady state
mkfifo "$T_TMP/lat.fifo"
"$SINK" --url "$ES_URL" --index latency --stats-interval 0 <"$T_TMP/lat.fifo" 2>/dev/null &
lpid=$!
exec 7>"$T_TMP/lat.fifo"
for k in 1 2 3; do
	id=$(printf 'dddddddd-1c4d-4e5f-8a7b-%012x' "$k")
	t0=$(date +%s%N)
	sed -n "${k}p" "$GOLD/good.tsv" | awk -F'\t' -v OFS='\t' -v id="$id" '{ $7 = id; print }' >&7
	wait_for 10 searchable_is latency 1 "{\"query\":{\"term\":{\"event_id\":\"$id\"}}}"
	diag "one event searchable $(( ($(date +%s%N) - t0) / 1000000 )) ms after it was written (flush-ms 200, refresh_interval 500ms, poll overhead included)"
done
exec 7>&-
wait $lpid
check "latency probe: es-sink exit 0" [ $? -eq 0 ]

# ---- replay: no duplicates ----
diag "$(date +%T) replay: no duplicates"
sink --index good --bad "$T_TMP/bad1.json" <"$GOLD/good.tsv" 2>/dev/null
check "replay: exit 0" [ $? -eq 0 ]
eq "replay leaves 20 documents (_id = event_id)" 20 "$(es_count good)"

# ---- invalid lines → bad rows → bad index ----
diag "$(date +%T) invalid lines → bad rows → bad index"
sink --index good --bad "$T_TMP/bad2.json" <"$GOLD/invalid.tsv" 2>/dev/null
check "invalid.tsv: exit 0" [ $? -eq 0 ]
eq "one bad row per invalid line" 7 "$(wc -l <"$T_TMP/bad2.json")"
eq "bad rows are generic_error" 7 "$(jq -r .schema "$T_TMP/bad2.json" | grep -c generic_error/jsonschema/1-0-0)"
cat "$T_TMP/bad2.json" "$GOLD/badrows.jsonl" >"$T_TMP/allbad.jsonl"
sink --input bad --index bad --bad "$T_TMP/bad3.json" <"$T_TMP/allbad.jsonl" 2>"$T_TMP/bad.err"
check "bad rows: exit 0" [ $? -eq 0 ]
check "every bad row fits the bad mapping" [ ! -s "$T_TMP/bad3.json" ]
eq "14 bad rows in the bad index" 14 "$(es_count bad)"
eq "generic_error errors became errors_list" 8 "$(es_count bad '{"query":{"exists":{"field":"data.failure.errors_list"}}}')"
eq "nested messages are searchable" 1 "$(es_count bad '{"query":{"nested":{"path":"data.failure.messages","query":{"match":{"data.failure.messages.field":"contexts"}}}}}')"

# ---- a mapping conflict inside one batch ----
diag "$(date +%T) a mapping conflict inside one batch"
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/json' "$ES_URL/conflict" \
    -d '{"mappings":{"properties":{"contexts_com_acme_shoe_1":{"properties":{"size":{"type":"long"}}}}}}'
sink --index conflict --bad "$T_TMP/bad4.json" <"$GOLD/conflict.tsv" 2>"$T_TMP/conflict.err"
check "conflict batch: exit 0" [ $? -eq 0 ]
check "conflict batch was one request" grep -q "requests=1 " "$T_TMP/conflict.err"
eq "the other two documents are indexed" 2 "$(es_count conflict)"
eq "the conflicting document is one bad row" 1 "$(wc -l <"$T_TMP/bad4.json")"
check "its reason says Elasticsearch rejected it" grep -q "Elasticsearch rejected record with message" "$T_TMP/bad4.json"
eq "its payload is the input line" "$(sed -n 2p "$GOLD/conflict.tsv")" "$(jq -r .data.payload "$T_TMP/bad4.json")"

# ---- several URLs, one dead ----
diag "$(date +%T) several URLs, one dead"
dead=$(free_port)
sink --url "http://127.0.0.1:$dead" --index multi --retry-base-ms 10 --retry-max-ms 50 \
    --bad "$T_TMP/bad5.json" <"$GOLD/good.tsv" 2>/dev/null
check "dead URL skipped: exit 0" [ $? -eq 0 ]
eq "dead URL skipped: all indexed" 20 "$(es_count multi)"

# ---- the engine stopped for 20 s in the middle of a stream ----
diag "$(date +%T) the engine stopped for 20 s in the middle of a stream"
# (the costliest case: es_sink_opensearch.sh sets FURROW_ES_SKIP_OUTAGE=1 to keep the suite short)
if [ "${FURROW_ES_SKIP_OUTAGE:-0}" = 1 ]; then
	skip "engine stopped for 20 s mid-stream" "FURROW_ES_SKIP_OUTAGE=1"
else
N=3000
gen_events $N aaaaaaaa >"$T_TMP/stream.tsv"
mkfifo "$T_TMP/in.fifo"
"$SINK" --url "$ES_URL" --index outage --batch-docs 100 --flush-ms 100 --retry-max-ms 1000 \
    --stats-interval 0 --bad "$T_TMP/bad6.json" <"$T_TMP/in.fifo" 2>"$T_TMP/outage.err" &
spid=$!
exec 7>"$T_TMP/in.fifo"
head -n 1000 "$T_TMP/stream.tsv" >&7
wait_for 30 count_is outage 1000
eq "outage: first 1000 indexed" 1000 "$(es_count outage)"
es_stop
diag "engine stopped"
# keep feeding while it is down: es-sink retries and stops reading (back-pressure)
sed -n '1001,$p' "$T_TMP/stream.tsv" >&7 &
feeder=$!
sleep 20      # the outage itself (a duration under test, not a readiness wait)
check "es-sink still running while the engine is down" kill -0 $spid
es_start 120
diag "engine restarted"
wait $feeder
exec 7>&-
wait $spid
check "outage: es-sink exit 0" [ $? -eq 0 ]
eq "outage: every event present exactly once" $N "$(es_count outage)"
check "outage: no bad rows" [ ! -s "$T_TMP/bad6.json" ]
check "outage: retries were logged" grep -q "retrying" "$T_TMP/outage.err"
fi

# ---- SIGTERM mid-batch with the index blocked: indexed + bad + spooled = in ----
diag "$(date +%T) SIGTERM mid-batch with the index blocked: indexed + bad + spooled = in"
gen_events 80 bbbbbbbb >"$T_TMP/term.tsv"
mkfifo "$T_TMP/term.fifo"
"$SINK" --url "$ES_URL" --index term --batch-docs 500 --flush-ms 300 --retry-max-ms 500 \
    --term-timeout 2 --spool "$T_TMP/spool.tsv" --stats-interval 0 --bad "$T_TMP/bad7.json" \
    <"$T_TMP/term.fifo" 2>"$T_TMP/term.err" &
spid=$!
exec 7>"$T_TMP/term.fifo"
head -n 50 "$T_TMP/term.tsv" >&7
wait_for 30 count_is term 50
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/json' "$ES_URL/term/_settings" \
    -d '{"index.blocks.write":true}'
{ sed -n '51,80p' "$T_TMP/term.tsv"; head -n 2 "$GOLD/invalid.tsv"; } >"$T_TMP/term2of2.tsv"
cat "$T_TMP/term2of2.tsv" >&7
wait_for 30 grep -q retrying "$T_TMP/term.err"
kill -TERM $spid
wait $spid
rc=$?
exec 7>&-
eq "SIGTERM with undelivered documents: exit 69" 69 "$rc"
in=$(sed -n 's/.*exit: in=\([0-9]*\).*/\1/p' "$T_TMP/term.err")
idx=$(es_count term)
badn=$(wc -l <"$T_TMP/bad7.json")
spooled=$(wc -l <"$T_TMP/spool.tsv")
diag "in=$in indexed=$idx bad=$badn spooled=$spooled"
eq "SIGTERM: all 82 lines were read" 82 "$in"
eq "SIGTERM: indexed + bad + spooled = in" "$in" "$((idx + badn + spooled))"
eq "SIGTERM: the blocked batch went to the spool" 30 "$spooled"
check "spool holds the input lines" cmp -s "$T_TMP/spool.tsv" <(sed -n '51,80p' "$T_TMP/term.tsv")
curl -fsS -o /dev/null -X PUT -H 'Content-Type: application/json' "$ES_URL/term/_settings" \
    -d '{"index.blocks.write":false}'
sink --index term <"$T_TMP/spool.tsv" 2>/dev/null
eq "the spool replays into the index" 80 "$(es_count term)"

# ---- SIGTERM with a healthy engine: the batch in hand is delivered, exit 0 ----
diag "$(date +%T) SIGTERM with a healthy engine: the batch in hand is delivered, exit 0"
gen_events 40 cccccccc >"$T_TMP/term2.tsv"
mkfifo "$T_TMP/term2.fifo"
"$SINK" --url "$ES_URL" --index term2 --flush-ms 60000 --stats-interval 0 \
    -v --bad "$T_TMP/bad8.json" <"$T_TMP/term2.fifo" 2>"$T_TMP/term2.err" &
spid=$!
exec 7>"$T_TMP/term2.fifo"
cat "$T_TMP/term2.tsv" >&7
# the 40 lines sit in a batch waiting for a 60 s flush delay; SIGTERM must flush them now
wait_for 10 grep -q "40 documents in the batch" "$T_TMP/term2.err"
kill -TERM $spid
wait $spid
rc=$?
exec 7>&-
eq "SIGTERM, engine healthy: exit 0" 0 "$rc"
eq "SIGTERM, engine healthy: batch delivered" 40 "$(es_count term2)"

done_testing
