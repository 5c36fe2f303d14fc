#!/bin/sh
# enrich with an api_request_enrichment_config through bin/enrich, against a real HTTP server
# (tests/tools/api_server.py): the answer's context validated and written, one request per
# distinct URI while the cache holds it, a 500, an answer that is not JSON and a slow server
# as enrichment_failures bad rows (identifier api-request) while the events around them are
# enriched, and ignoreOnError.
. "$(dirname "$0")/../lib.sh"

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson

python3 "$FURROW_ROOT/tests/tools/api_server.py" "$T_TMP/port" >"$T_TMP/server.log" 2>&1 &
T_PIDS="$T_PIDS $!"
check "the API server is up" wait_for 10 test -s "$T_TMP/port"
port=$(cat "$T_TMP/port")

S=$T_TMP/iglu/schemas/com.acme/user/jsonschema
mkdir -p "$S" "$T_TMP/conf" "$T_TMP/conf-ignore"
cat >"$S/1-0-0" <<'JSON'
{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "self":{"vendor":"com.acme","name":"user","format":"jsonschema","version":"1-0-0"},
 "type":"object","properties":{"id":{"type":"string"},"name":{"type":"string"},
 "tags":{"type":"array","items":{"type":"string"}}},"required":["id","name"],"additionalProperties":false}
JSON
cat >"$T_TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data":{"cacheSize":500,"repositories":[{"name":"test","priority":0,"vendorPrefixes":["com.acme"],
   "connection":{"embedded":{"path":"$T_TMP/iglu"}}}]}}
JSON
api_conf() {   # api_conf URI_PATH IGNORE
	cat <<JSON
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"api_request_enrichment_config","enabled":true,
  "parameters":{"inputs":[{"key":"uid","pojo":{"field":"user_id"}},{"key":"where","pojo":{"field":"app_id"}}],
   "api":{"http":{"method":"GET","uri":"http://127.0.0.1:$port$1","timeout":500,"authentication":{}}},
   "outputs":[{"schema":"iglu:com.acme/user/jsonschema/1-0-0","json":{"jsonPath":"\$.record"}}],
   "cache":{"size":100,"ttl":60},"ignoreOnError":$2}}}
JSON
}
api_conf '/{{where}}/{{uid}}' false >"$T_TMP/conf/api_request_enrichment_config.json"
api_conf '/{{where}}/{{uid}}' true >"$T_TMP/conf-ignore/api_request_enrichment_config.json"

# app_id chooses the server's route: user (fine), status (500), garbage, slow (past the timeout)
ev() { printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=%s&uid=%s"}\n' "$1" "$2"; }
{ ev user u1; ev user u2; ev user u1; ev status 500; ev garbage g; ev user u1; ev slow s1; ev user u2; } |
    "$T_TMP/mkraw" >"$T_TMP/in.raw"
run() {
	FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
	    --resolver "$T_TMP/resolver.json" "$@"
}
run --enrichments "$T_TMP/conf" --bad "$T_TMP/bad.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "exit status 0" 0 $?
eq "five good events, with the user context" "u1 User u1,u2 User u2,u1 User u1,u1 User u1,u2 User u2," \
    "$(cut -f13,123 "$T_TMP/good.tsv" | while IFS="$(printf '\t')" read -r uid ctx; do
        printf '%s %s,' "$uid" "$(echo "$ctx" | jq -r '.data[0].data.name')"; done)"
hits() { curl -sf "http://127.0.0.1:$port/hits" | jq -r --arg p "$1" '.[$p] // 0'; }
eq "the cache: one request for u1 (three events)" 1 "$(hits /user/u1)"
eq "the cache: one request for u2 (two events)" 1 "$(hits /user/u2)"
eq "three enrichment_failures rows" "3" "$(jq -r .schema "$T_TMP/bad.jsonl" | grep -c enrichment_failures)"
msg() { jq -r --arg a "$1" 'select(.data.payload.enriched.app_id == $a) | .data.failure.messages[0] |
    .enrichment.identifier + ": " + .message.error' "$T_TMP/bad.jsonl"; }
eq "500" "api-request: Request failed with status 500" "$(msg status)"
check "not JSON" sh -c 'echo "$1" | grep -q "^api-request: Response is not JSON: "' _ "$(msg garbage)"
eq "slow: the config's timeout" "api-request: Request timed out after 500 ms" "$(msg slow)"

run --enrichments "$T_TMP/conf-ignore" --bad "$T_TMP/bad2.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good2.tsv" 2>/dev/null
eq "ignoreOnError: every event is good" 8 "$(wc -l <"$T_TMP/good2.tsv")"
eq "ignoreOnError: no bad rows" 0 "$(wc -l <"$T_TMP/bad2.jsonl")"
eq "ignoreOnError: the failed ones have no context" "status,garbage,slow," \
    "$(awk -F'\t' '$123 == "" {printf "%s,", $1}' "$T_TMP/good2.tsv")"
done_testing
