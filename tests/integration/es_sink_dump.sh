#!/bin/bash
# es-sink without a server: --dump prints the documents. Checks the SDK 2.1.0 JSON against the
# JavaScript Analytics SDK (npm snowplow-analytics-sdk, installed into .cache/npm on first use),
# the worked example of sinks.md §1.7, bad rows for invalid lines, the bad-row rewrite, json mode.
. "$(dirname "$0")/../lib.sh"

SINK=$FURROW_BIN/es-sink
GOLD=$FURROW_ROOT/tests/golden/es-sink

"$SINK" --dump --bad "$T_TMP/bad.json" <"$GOLD/good.tsv" >"$T_TMP/good.jsonl" 2>"$T_TMP/err"
check "--dump good.tsv: exit 0" [ $? -eq 0 ]
eq "--dump: one document per event" 20 "$(wc -l <"$T_TMP/good.jsonl")"
check "--dump: no bad rows" [ ! -s "$T_TMP/bad.json" ]
eq "--dump: every line is a JSON object" 20 "$(jq -c 'select(type == "object")' "$T_TMP/good.jsonl" | wc -l)"
eq "128 atomic keys on every document" 20 "$(jq -c '[keys[] | select(startswith("contexts_") or startswith("unstruct_event_") or . == "geo_location" | not)] | length' "$T_TMP/good.jsonl" | grep -c '^128$')"
d1=$(head -n 1 "$T_TMP/good.jsonl")
eq "timestamp: fraction kept" '"2023-11-14T22:13:21.045Z"' "$(jq -c .etl_tstamp <<<"$d1")"
eq "timestamp: zero fraction dropped" '"2023-11-14T22:13:01Z"' "$(jq -c .collector_tstamp <<<"$d1")"
eq "integer typed" 443 "$(jq -c .page_urlport <<<"$d1")"
eq "boolean typed" true "$(jq -c .br_features_pdf <<<"$d1")"
eq "empty is null" null "$(jq -c .txn_id <<<"$d1")"
eq "geo_location" '"37.443604,-122.4124"' "$(jq -c .geo_location <<<"$d1")"
eq "contexts flattened into arrays" '[{"id":"a1b2c3d4-0001"}]' "$(jq -c .contexts_com_snowplowanalytics_snowplow_web_page_1 <<<"$d1")"
eq "derived contexts flattened" Chrome "$(jq -r '.contexts_com_snowplowanalytics_snowplow_ua_parser_context_1[0].useragentFamily' <<<"$d1")"
eq "CamelCase names split" 1 "$(jq -c '.contexts_org_w3_performance_timing_1 | length' <<<"$d1")"
eq "raw JSON columns are not keys" "false false false" "$(jq -r '[has("contexts"), has("derived_contexts"), has("unstruct_event")] | map(tostring) | join(" ")' <<<"$d1")"
d3=$(sed -n 3p "$T_TMP/good.jsonl")
check "an integral double keeps a fraction (40.0)" grep -q '"geo_latitude":40.0,' <<<"$d3"
d10=$(sed -n 10p "$T_TMP/good.jsonl")
eq "two entities of one schema share an array" 2 "$(jq '.contexts_com_snowplowanalytics_snowplow_web_page_1 | length' <<<"$d10")"
eq "unstruct event is the inner data" "https://example.org/page10" "$(jq -r '.unstruct_event_com_snowplowanalytics_snowplow_link_click_1.targetUrl' <<<"$d10")"
eq "myURLClick → my_urlclick" 3 "$(sed -n 12p "$T_TMP/good.jsonl" | jq '.unstruct_event_com_acme_my_urlclick_2.count')"
eq "upper-case event_id lower-cased" 9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b "$(sed -n 19p "$T_TMP/good.jsonl" | jq -r .event_id)"
eq "6-digit fraction kept" '"2023-11-14T22:13:18.123456Z"' "$(sed -n 19p "$T_TMP/good.jsonl" | jq -c .refr_dvce_tstamp)"
eq "se_value is a double" 12.5 "$(sed -n 13p "$T_TMP/good.jsonl" | jq -c .se_value)"
eq "pp offsets: +120 → 120" 120 "$(sed -n 6p "$T_TMP/good.jsonl" | jq -c .pp_xoffset_max)"

# ---- the JavaScript Analytics SDK ----
# The pinned npm test clients (tests/setup-npm.sh), installed once for every test that uses them.
. "$FURROW_ROOT/tests/setup-npm.sh"
command -v npm >/dev/null && npm_setup >/dev/null 2>&1
NPM_DIR=$NPM_PREFIX
if [ -d "$NPM_DIR/node_modules/snowplow-analytics-sdk" ] && command -v node >/dev/null; then
	node "$FURROW_ROOT/tests/integration/es_sink_sdk_compare.js" "$NPM_DIR" "$GOLD/good.tsv" \
	    "$T_TMP/good.jsonl" >"$T_TMP/sdk.out"
	check "every golden event equals the JS Analytics SDK's JSON (documented differences aside)" [ $? -eq 0 ]
	grep -v '^ok' "$T_TMP/sdk.out" | head -n 20 | sed 's/^/# /'
else
	skip "JS Analytics SDK comparison" "npm package snowplow-analytics-sdk unavailable"
fi

# ---- invalid lines ----
"$SINK" --dump --bad "$T_TMP/bad2.json" <"$GOLD/invalid.tsv" >"$T_TMP/none.jsonl" 2>"$T_TMP/err2"
check "invalid.tsv: exit 0" [ $? -eq 0 ]
check "invalid.tsv: nothing on stdout" [ ! -s "$T_TMP/none.jsonl" ]
eq "invalid.tsv: 7 bad rows" 7 "$(wc -l <"$T_TMP/bad2.json")"
eq "NotTSV" '{"type":"NotTSV"}' "$(sed -n 1p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0]')"
eq "FieldNumberMismatch" '{"type":"FieldNumberMismatch","fieldCount":2}' "$(sed -n 2p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0]')"
eq "RowDecodingError collects errors in column order" "txn_id br_cookies" "$(sed -n 3p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0] | fromjson | .errors | map(.key) | join(" ")')"
eq "SDK message wording" "Cannot parse key 'txn_id with value x into integer" "$(sed -n 3p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0] | fromjson | .errors[0].message')"
eq "required column empty" "Field 'collector_tstamp cannot be empty" "$(sed -n 4p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0] | fromjson | .errors[0].message')"
eq "unknown contexts payload" "Unknown payload: iglu:com.acme/other/jsonschema/1-0-0" "$(sed -n 6p "$T_TMP/bad2.json" | jq -r '.data.failure.errors[0] | fromjson | .errors[0].message')"
eq "bad row payload is the line" "$(sed -n 3p "$GOLD/invalid.tsv")" "$(sed -n 3p "$T_TMP/bad2.json" | jq -r .data.payload)"
check "counters reconcile" grep -q "in=7 indexed=0 bad=7" "$T_TMP/err2"

# ---- bad-row rewrite ----
"$SINK" --dump --input bad --bad "$T_TMP/bad3.json" <"$GOLD/badrows.jsonl" >"$T_TMP/rw.jsonl" 2>/dev/null
check "--input bad: exit 0" [ $? -eq 0 ]
eq "--input bad: 7 documents" 7 "$(wc -l <"$T_TMP/rw.jsonl")"
eq "size_violation payload → payload_str" aGVsbG8= "$(sed -n 1p "$T_TMP/rw.jsonl" | jq -r .data.payload_str)"
eq "raw parameters stringified" string "$(sed -n 2p "$T_TMP/rw.jsonl" | jq -r '.data.payload.raw.parameters | type')"
eq "NotJson message error → error_str" string "$(sed -n 2p "$T_TMP/rw.jsonl" | jq -r '.data.failure.messages[0].error_str | type')"
eq "NotIglu json stringified" '{"not":"iglu"}' "$(sed -n 2p "$T_TMP/rw.jsonl" | jq -r '.data.failure.messages[1].json')"
eq "expectedMapping stringified" '{"a":"b"}' "$(sed -n 4p "$T_TMP/rw.jsonl" | jq -r '.data.failure.messages[1].expectedMapping')"
eq "enrichment message error → error_str" "connection refused" "$(sed -n 3p "$T_TMP/rw.jsonl" | jq -r '.data.failure.messages[1].message.error_str')"
eq "generic_error errors → errors_list" array "$(sed -n 7p "$T_TMP/rw.jsonl" | jq -r '.data.failure.errors_list | type')"
eq "cpfv message.error kept (an object member)" object "$(sed -n 6p "$T_TMP/rw.jsonl" | jq -r '.data.failure.message | type')"
printf '%s\n' 'not json' '{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"failure":"s"}}' |
    "$SINK" --dump --input bad --bad "$T_TMP/bad4.json" >"$T_TMP/rw2.jsonl" 2>/dev/null
eq "non-bad-row JSON indexed unchanged" '{"schema":"iglu:com.acme/x/jsonschema/1-0-0","data":{"failure":"s"}}' "$(cat "$T_TMP/rw2.jsonl")"
check "not JSON → bad row" grep -q 'cannot parse line as JSON' "$T_TMP/bad4.json"

# ---- json mode ----
printf '%s\n' '{"a":1}' '[1]' '{"b":' | "$SINK" --dump --input json --index x --bad "$T_TMP/bad5.json" >"$T_TMP/j.jsonl" 2>/dev/null
eq "json mode: the object unchanged" '{"a":1}' "$(cat "$T_TMP/j.jsonl")"
eq "json mode: non-objects are bad rows" 2 "$(wc -l <"$T_TMP/bad5.json")"

# ---- over-long line ----
{ head -c 5000 /dev/zero | tr '\0' x; echo; head -n 1 "$GOLD/good.tsv"; } |
    "$SINK" --dump --max-line 4096 --bad "$T_TMP/bad6.json" >"$T_TMP/l.jsonl" 2>/dev/null
eq "over-long line: bad row, next line fine" "1 1" "$(wc -l <"$T_TMP/bad6.json") $(wc -l <"$T_TMP/l.jsonl")"

# ---- the exit line, on every way out ----
check "end of input: the exit line" grep -q 'info: exit: in=20 indexed=20 bad=0 ' "$T_TMP/err"
"$SINK" --dump --source "$T_TMP/no-such-file" 2>"$T_TMP/err7"
eq "--source missing: exit 66" 66 "$?"
check "--source missing: the exit line after the error" \
    sh -c 'tail -n 1 "$1" | grep -q "info: exit: in=0 indexed=0 "' sh "$T_TMP/err7"
port=$(free_port)
"$SINK" --url "http://127.0.0.1:$port" --setup --retry-deadline 1 --retry-base-ms 50 \
    </dev/null 2>"$T_TMP/err8"
eq "--setup without a server: exit 69" 69 "$?"
check "--setup without a server: the exit line after the error" \
    sh -c 'tail -n 1 "$1" | grep -q "info: exit: in=0 indexed=0 "' sh "$T_TMP/err8"

done_testing
