#!/bin/sh
# enrich with a javascript_script_config through bin/enrich: the script's context in
# derived_contexts (validated like any other), setters, params, a thrown error as an
# enrichment_failures bad row with upstream's message, drop() (no output, counted), contexts
# replaced by the script validated again (schema_violations), a runaway while(true) that
# becomes a bad row in about a second while the events after it are enriched, and the
# enrichments furrow lacks refused at startup with what to use instead.
. "$(dirname "$0")/../lib.sh"

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson

# The script's context schema, in a registry of the test's own.
S=$T_TMP/iglu/schemas/com.acme/js_context/jsonschema
mkdir -p "$S" "$T_TMP/conf"
cat >"$S/1-0-0" <<'JSON'
{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "self":{"vendor":"com.acme","name":"js_context","format":"jsonschema","version":"1-0-0"},
 "type":"object","properties":{"n":{"type":"integer"},"app":{"type":["string","null"]}},
 "required":["n"],"additionalProperties":false}
JSON
cat >"$T_TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data":{"cacheSize":500,"repositories":[{"name":"test","priority":0,"vendorPrefixes":["com.acme"],
   "connection":{"embedded":{"path":"$T_TMP/iglu"}}}]}}
JSON

cat >"$T_TMP/script.js" <<'JS'
function process(event, params) {
  var app = event.getApp_id();
  if (app === 'drop') event.drop();
  if (app === 'throw') throw 'nope, not this one';
  if (app === 'loop') while (true) {}
  if (app === 'badctx')
    event.setContexts(JSON.stringify({schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0',
      data: [{schema: 'iglu:com.acme/js_context/jsonschema/1-0-0', data: {n: 'not a number'}}]}));
  event.setUser_id(params.prefix + (event.getUser_id() || 'nobody'));
  return [{schema: 'iglu:com.acme/js_context/jsonschema/1-0-0', data: {n: event.getDomain_sessionidx(), app: app}}];
}
JS
js_conf() {   # js_conf SCRIPT_FILE > config
	printf '{"schema":"iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-1",'
	printf '"data":{"vendor":"com.snowplowanalytics.snowplow","name":"javascript_script_config","enabled":true,'
	printf '"parameters":{"script":"%s","config":{"prefix":"js:"}}}}\n' "$(base64 -w0 "$1")"
}
js_conf "$T_TMP/script.js" >"$T_TMP/conf/javascript_script_config.json"

ev() { printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=%s&vid=%s&eid=5a305bf5-e001-4000-8000-00000000000%s"}\n' "$1" "$2" "$3"; }
{ ev ok 7 1; ev drop 1 2; ev throw 1 3; ev loop 1 4; ev ok2 8 5; ev badctx 1 6; } | "$T_TMP/mkraw" >"$T_TMP/in.raw"

start=$(date +%s)
FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
    --resolver "$T_TMP/resolver.json" --enrichments "$T_TMP/conf" --bad "$T_TMP/bad.jsonl" \
    <"$T_TMP/in.raw" >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "exit status 0" 0 $?
secs=$(( $(date +%s) - start ))
check "the runaway script cost about a second, not a hang ($secs s)" test "$secs" -lt 15
eq "two good events: ok and ok2" "ok,ok2," "$(cut -f1 "$T_TMP/good.tsv" | tr '\n' ',')"
eq "the setter with params: user_id" "js:nobody" "$(sed -n 1p "$T_TMP/good.tsv" | cut -f13)"
eq "the script's context, after the getter's number" \
    '{"schema":"iglu:com.acme/js_context/jsonschema/1-0-0","data":{"n":7,"app":"ok"}}' \
    "$(sed -n 1p "$T_TMP/good.tsv" | cut -f123 | jq -c '.data[0]')"
eq "three bad rows" 3 "$(wc -l <"$T_TMP/bad.jsonl")"
eq "throw: enrichment_failures with upstream's message" \
    'Error during execution of JavaScript function: [nope, not this one]|Javascript enrichment' \
    "$(jq -r 'select(.data.payload.enriched.app_id == "throw") | .data.failure.messages[0] |
        .message.error + "|" + .enrichment.identifier' "$T_TMP/bad.jsonl")"
eq "loop: the time budget's message" \
    "Error during execution of JavaScript function: [RangeError: the script ran longer than 1000 ms (furrow's limit)]" \
    "$(jq -r 'select(.data.payload.enriched.app_id == "loop") | .data.failure.messages[0].message.error' "$T_TMP/bad.jsonl")"
eq "badctx: the replaced contexts are validated again (schema_violations)" \
    "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1 iglu:com.acme/js_context/jsonschema/1-0-0" \
    "$(jq -r 'select(.data.payload.enriched.app_id == "badctx") | .schema + " " + .data.failure.messages[0].schemaKey' "$T_TMP/bad.jsonl")"
check "drop: counted, neither good nor bad" grep -q 'good 2, bad 3, dropped 1' "$T_TMP/err"
check "drop: no row mentions the dropped event" sh -c '! grep -q "00000000002" "$1" "$2"' _ "$T_TMP/good.tsv" "$T_TMP/bad.jsonl"

# A script that does not compile, and enrichments furrow lacks: exit 78 with the reason.
mkdir -p "$T_TMP/bad-conf"
printf 'function process(event) { return [ }' >"$T_TMP/broken.js"
js_conf "$T_TMP/broken.js" >"$T_TMP/bad-conf/js.json"
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --enrichments "$T_TMP/bad-conf" </dev/null >/dev/null 2>"$T_TMP/e1"
eq "a script that does not compile: exit 78" 78 $?
check "... with upstream's message" grep -q "js.json: Error compiling JavaScript function: \[SyntaxError" "$T_TMP/e1"
rm "$T_TMP/bad-conf/js.json"
for name in yauaa_enrichment_config:ua_parser_config user_agent_utils_config:ua_parser_config \
    weather_enrichment_config:api_request_enrichment_config cross_navigation_config:_sp \
    asn_lookups:GeoLite2-ASN bot_detection_enrichment_config:iab_spiders_and_robots_enrichment \
    event_spec_enrichment_config:event; do
	n=${name%%:*} instead=${name#*:}
	printf '{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/%s/jsonschema/1-0-0","data":{"name":"%s","vendor":"com.snowplowanalytics.snowplow.enrichments","enabled":true,"parameters":{}}}' \
	    "$n" "$n" >"$T_TMP/bad-conf/$n.json"
	"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --enrichments "$T_TMP/bad-conf" </dev/null >/dev/null 2>"$T_TMP/e2"
	rc=$?
	if [ "$rc" -eq 78 ] && grep -q "$n.json: the $n enrichment is not supported by furrow: .*$instead" "$T_TMP/e2"; then
		ok "$n refused at startup, naming what to use"
	else
		fail "$n refused at startup, naming what to use"
		diag "exit $rc: $(cat "$T_TMP/e2")"
	fi
	sed 's/"enabled":true/"enabled":false/' "$T_TMP/bad-conf/$n.json" >"$T_TMP/bad-conf/x" && mv "$T_TMP/bad-conf/x" "$T_TMP/bad-conf/$n.json"
done
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --enrichments "$T_TMP/bad-conf" </dev/null >/dev/null 2>"$T_TMP/e3"
eq "the same, disabled: skipped (exit 0)" 0 $?
done_testing
