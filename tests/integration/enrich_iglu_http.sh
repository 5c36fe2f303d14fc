#!/bin/sh
# enrich with an HTTP Iglu registry (tests/tools/iglu_registry.py, a real HTTP server on
# loopback): a schema under /schemas/ validates an event; the key "iglu:../x/jsonschema/1-0-0"
# (which IGLU-CORE's grammar admits) never reaches the registry, although a plain static server
# would answer "<uri>/schemas/../x/jsonschema/1-0-0" with a schema outside /schemas/ (issue 10).
. "$(dirname "$0")/../lib.sh"

REG=$T_TMP/registry
mkdir -p "$REG/schemas/com.acme/thing/jsonschema" "$REG/x/jsonschema"
cat >"$REG/schemas/com.acme/thing/jsonschema/1-0-0" <<'EOF'
{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "self":{"vendor":"com.acme","name":"thing","format":"jsonschema","version":"1-0-0"},
 "type":"object","properties":{"id":{"type":"integer"}},"required":["id"],"additionalProperties":false}
EOF
# anything validates against this one: if it were used, the event would be good
cat >"$REG/x/jsonschema/1-0-0" <<'EOF'
{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "self":{"vendor":"..","name":"x","format":"jsonschema","version":"1-0-0"},"type":"object"}
EOF

bg python3 "$FURROW_ROOT/tests/tools/iglu_registry.py" "$REG" "$T_TMP/port"
check "the registry starts" wait_for 20 test -s "$T_TMP/port"
port=$(cat "$T_TMP/port")
stats() { curl -s "http://127.0.0.1:$port/stats" | jq -r '.static // 0'; }
code() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port$1"; }
eq "control: a static server serves /schemas/../x/... from outside /schemas/" 200 \
    "$(code /static/schemas/../x/jsonschema/1-0-0)"

cat >"$T_TMP/resolver.json" <<EOF
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data":{"cacheSize":100,"repositories":[
   {"name":"static registry","priority":0,"vendorPrefixes":["com.acme"],
    "connection":{"http":{"uri":"http://127.0.0.1:$port/static"}}}]}}
EOF

ue() { # SCHEMA DATA: a tp1 self-describing event request for mkraw
	jq -cn --arg s "$1" --argjson d "$2" '{"path":"/i","qs":("e=ue&p=web&tv=t&ue_pr=" +
	    ({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
	      "data":{"schema":$s,"data":$d}} | tojson | @uri))}'
}
cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" "$FURROW_ROOT/tests/tools/mkraw.c" \
    "$FURROW_ROOT/common/thrift.c" "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" \
    -ljansson
{
	ue iglu:com.acme/thing/jsonschema/1-0-0 '{"id":1}'
	ue iglu:../x/jsonschema/1-0-0 '{"anything":true}'
} | "$T_TMP/mkraw" >"$T_TMP/in.raw"
before=$(stats)
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --resolver "$T_TMP/resolver.json" \
    --bad "$T_TMP/bad.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "enrich exits 0" 0 $?
eq "the schema under /schemas/ validates one event" "com.acme thing" \
    "$(cut -f126,127 "$T_TMP/good.tsv" | tr '\t' ' ')"
eq "the ../ key is a bad row" "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1" \
    "$(jq -r .schema "$T_TMP/bad.jsonl")"
eq "... a ResolutionError: NotFound in the registry" "ResolutionError NotFound" \
    "$(jq -r '.data.failure.messages[0].error | "\(.error) \(.lookupHistory[] | select(.repository == "static registry") | .errors[0].error)"' "$T_TMP/bad.jsonl")"
eq "the registry got one request (the good key), none for ../" "$((before + 1))" "$(stats)"
done_testing
