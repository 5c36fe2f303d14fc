#!/bin/sh
# iglu-server through curl, every endpoint, with and without keys. Expected statuses and bodies
# are snowplow/iglu-server 0.14's: service/SchemaService.scala, AuthService.scala,
# ValidationService.scala, MetaService.scala, middleware/PermissionMiddleware.scala,
# model/IgluResponse.scala and model/VersionCursor.scala, and the cases of its
# SchemaServiceSpec, AuthServiceSpec and ValidationServiceSpec (quoted as "spec eN").
. "$(dirname "$0")/../lib.sh"

IGS="$FURROW_BIN/iglu-server"
SUPER=4ed2d87a-6da5-48e8-a23b-36a26e61f974
DIR="$T_TMP/reg"
PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SD='"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"'

# req METHOD PATH [curl args...]: prints "STATUS BODY"
req() {
	m=$1; p=$2; shift 2
	curl -s -o "$T_TMP/body" -w '%{http_code}' -X "$m" "$@" "$B$p" >"$T_TMP/code"
	printf '%s %s' "$(cat "$T_TMP/code")" "$(cat "$T_TMP/body")"
}
json() { set -- "$@"; req "$@" -H 'Content-Type: application/json'; }
schema() { # schema VENDOR NAME VERSION [extra JSON members]
	printf '{%s,"description":"test","self":{"vendor":"%s","name":"%s","format":"jsonschema","version":"%s"},"type":"object","properties":{"a":{"type":"string","maxLength":10,"description":"a"}},"additionalProperties":false%s}' \
	    "$SD" "$1" "$2" "$3" "${4:-}"
}

# ---- command line ----
"$IGS" -h >"$T_TMP/h" 2>&1; eq "-h exits 0" 0 $?
check "-h prints usage on stdout" grep -q '^usage: iglu-server' "$T_TMP/h"
eq "-V prints the version" "iglu-server 0.1.0" "$("$IGS" -V)"
"$IGS" --no-such-flag >/dev/null 2>&1; eq "unknown flag exits 64" 64 $?
"$IGS" >/dev/null 2>&1; eq "no -d exits 64" 64 $?
"$IGS" -d "$DIR" --api-key "$SUPER" >/dev/null 2>&1
eq "there is no flag that takes a key on the command line" 64 $?
IGLU_SUPER_API_KEY=not-a-uuid "$IGS" -n -d "$DIR" 2>"$T_TMP/e"; eq "a bad super key exits 78" 78 $?
check "... and says why" grep -q 'super key: $IGLU_SUPER_API_KEY is not a UUID' "$T_TMP/e"
echo "$SUPER" >"$T_TMP/super.key"
IGLU_SUPER_API_KEY=$SUPER "$IGS" -n -d "$DIR" --super-key-file "$T_TMP/nonexistent.key" 2>"$T_TMP/e"
eq "the environment wins over --super-key-file" 0 $?
check "... and says so" grep -q "not read" "$T_TMP/e"
"$IGS" -n -d "$DIR" --super-key-file "$T_TMP/new.key" --create-super-key 2>"$T_TMP/e"
eq "--create-super-key writes a key" 0 $?
check "... a UUID, mode 0600" sh -c '[ "$(stat -c %a "$1")" = 600 ] && grep -Eq "^[0-9a-f-]{36}$" "$1"' _ "$T_TMP/new.key"
check "... and logs its path, not the key" sh -c 'grep -q "new.key" "$1" && ! grep -q "$(cat "$2")" "$1"' _ "$T_TMP/e" "$T_TMP/new.key"
"$IGS" -n -d /proc/nonexistent/x 2>/dev/null; eq "an uncreatable folder exits 74" 74 $?
printf 'garbage line\n' >"$T_TMP/badkeys"
"$IGS" -n -d "$DIR" --keys "$T_TMP/badkeys" 2>/dev/null; eq "a malformed keys file exits 78" 78 $?
python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(60)' "$PORT" & busy=$!
wait_for 5 sh -c "ss -ltn | grep -q '127.0.0.1:$PORT '"
IGLU_SUPER_API_KEY=$SUPER timeout 10 "$IGS" -d "$DIR" -p "$PORT" --bind 127.0.0.1 2>/dev/null
eq "a port in use exits 69" 69 $?
kill $busy 2>/dev/null; wait $busy 2>/dev/null

IGLU_SUPER_API_KEY=$SUPER bg "$IGS" -d "$DIR" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 \
    2>"$T_TMP/server.log"
check "the server answers /api/meta/health" wait_for 10 curl -sf "$B/api/meta/health"

# ---- meta ----
eq "GET /api/meta/health: OK (MetaService)" "200 OK" "$(req GET /api/meta/health)"
eq "GET /api/meta/health/db: OK" "200 OK" "$(req GET /api/meta/health/db)"
eq "/api/meta/health is text/plain" "text/plain; charset=UTF-8" \
    "$(curl -s -o /dev/null -w '%{content_type}' "$B/api/meta/health")"
eq "GET /api/meta/server anonymous: Permission.Noop" \
    '200 {"version":"0.1.0","authInfo":{"vendor":"","schema":null,"key":[]},"database":"filesystem","schemaCount":0,"debug":false,"patchesAllowed":false}' \
    "$(req GET /api/meta/server)"
eq "GET /api/meta/server with the super key: Permission.Super" \
    '{"vendor":"","schema":"CREATE_VENDOR","key":["CREATE","DELETE"]}' \
    "$(req GET /api/meta/server -H "apikey: $SUPER" | cut -d' ' -f2 | jq -c .authInfo)"
eq "unknown endpoint: 404 EndpointNotFound" '404 {"message":"The endpoint does not exist"}' \
    "$(req GET /api/nothing)"
eq "non-UUID apikey: 400 (PermissionMiddleware)" '400 {"message":"Invalid UUID for ApiKey"}' \
    "$(req GET /api/schemas -H 'apikey: not-a-uuid')"

# ---- publishing: keys ----
eq "POST without a key: 403 Forbidden" '403 {"message":"Authentication error: not authorized"}' \
    "$(json POST /api/schemas -d "$(schema com.acme event 1-0-0)")"
eq "POST with an unknown key (treated as none): 403" '403 {"message":"Authentication error: not authorized"}' \
    "$(json POST /api/schemas -H "apikey: 00000000-0000-4000-8000-000000000000" -d "$(schema com.acme event 1-0-0)")"
eq "POST with the super key: 201 SchemaUploaded" \
    '201 {"message":"Schema created","updated":false,"location":"iglu:com.acme/event/jsonschema/1-0-0","status":201}' \
    "$(json POST '/api/schemas?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme event 1-0-0)")"
r=$(json POST /api/auth/keygen -H "apikey: $SUPER" -d '{"vendorPrefix":"com.acme"}')
eq "keygen with the super key: 200" 200 "${r%% *}"
READ=$(echo "${r#* }" | jq -r .read); WRITE=$(echo "${r#* }" | jq -r .write)
check "keygen returns a read and a write UUID" sh -c 'echo "$1 $2" | grep -Eq "^[0-9a-f-]{36} [0-9a-f-]{36}$"' _ "$READ" "$WRITE"
check "keys are kept in DIR/apikeys, mode 0600" sh -c 'grep -q "^$2 write com.acme$" "$1/apikeys" && [ "$(stat -c %a "$1/apikeys")" = 600 ]' _ "$DIR" "$WRITE"
r=$(json POST /api/auth/keygen -H "apikey: $SUPER" -d '{"vendorPrefix":"com.other"}')
OTHER_WRITE=$(echo "${r#* }" | jq -r .write); OTHER_READ=$(echo "${r#* }" | jq -r .read)
eq "POST with the read key: 403" '403 {"message":"Authentication error: not authorized"}' \
    "$(json POST /api/schemas -H "apikey: $READ" -d "$(schema com.acme event 1-0-1)")"
eq "POST with a write key for another vendor: 403" '403 {"message":"Authentication error: not authorized"}' \
    "$(json POST /api/schemas -H "apikey: $OTHER_WRITE" -d "$(schema com.acme event 1-0-1)")"
eq "POST with the vendor's write key: 201" 201 \
    "$(json POST '/api/schemas?isPublic=true' -H "apikey: $WRITE" -d "$(schema com.acme event 1-0-1)" | cut -d' ' -f1)"
eq "the write key covers sub-vendors (Vendor.check wildcard)" 201 \
    "$(json POST /api/schemas -H "apikey: $WRITE" -d "$(schema com.acme.sub thing 1-0-0)" | cut -d' ' -f1)"
eq "but not a vendor that only shares a prefix of characters" 403 \
    "$(json POST /api/schemas -H "apikey: $WRITE" -d "$(schema com.acmex thing 1-0-0)" | cut -d' ' -f1)"

# ---- publishing: rules ----
eq "a version that exists: 409 (spec e11)" '409 {"message":"Schema already exists"}' \
    "$(json POST '/api/schemas?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme event 1-0-0)")"
eq "a gap in versions: 409 PreviousMissing (spec e12)" \
    '409 {"message":"Preceding SchemaVer in the group is missing, check that schemas published in proper order"}' \
    "$(json PUT '/api/schemas/com.acme/event/jsonschema/1-2-0?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme event 1-2-0)")"
eq "1-1-0 after 1-0-1: 201" 201 "$(json PUT '/api/schemas/com.acme/event/jsonschema/1-1-0?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme event 1-1-0)" | cut -d' ' -f1)"
eq "1-0-2 once 1-1-0 exists: 409 SchemaNonSequential" '409 {"message":"The schema version is not sequential"}' \
    "$(json PUT '/api/schemas/com.acme/event/jsonschema/1-0-2?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme event 1-0-2)")"
eq "private after public: 409 Availability" \
    '409 {"message":"Inconsistent schema availability. Cannot add private schema, previous versions are public"}' \
    "$(json PUT '/api/schemas/com.acme/event/jsonschema/2-0-0' -H "apikey: $SUPER" -d "$(schema com.acme event 2-0-0)")"
eq "PUT with self for another key: 400 SchemaMismatch" \
    '400 {"uriSchemaKey":"iglu:com.acme/event/jsonschema/2-0-0","payloadSchemaKey":"iglu:com.acme/other/jsonschema/1-0-0","message":"Mismatch: the schema metadata does not match the payload and URI"}' \
    "$(json PUT '/api/schemas/com.acme/event/jsonschema/2-0-0?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme other 1-0-0)")"
eq "POST of a schema that is not self-describing: 400 InvalidSchema" '400 {"message":"Cannot decode JSON schema"}' \
    "$(json POST /api/schemas -H "apikey: $SUPER" -d '{"type":"object"}')"
eq "PUT of a body only: stored under the path's key (spec e17)" 201 \
    "$(json PUT /api/schemas/com.acme/body/jsonschema/1-0-0 -H "apikey: $SUPER" -d '{"type":"object","description":"b","properties":{"field_a":{"type":"string"}}}' | cut -d' ' -f1)"
eq "... and served self-describing, private, to a reader of the vendor" \
    '{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"body","format":"jsonschema","version":"1-0-0"},"type":"object","description":"b","properties":{"field_a":{"type":"string"}}}' \
    "$(req GET /api/schemas/com.acme/body/jsonschema/1-0-0 -H "apikey: $READ" | cut -d' ' -f2-)"
r=$(json PUT /api/schemas/com.acme/bad/jsonschema/1-0-0 -H "apikey: $SUPER" -d "{$SD,\"self\":{\"vendor\":\"com.acme\",\"name\":\"bad\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{},\"additionalProperties\":false,\"required\":[\"xyz\"]}")
eq "an invalid schema: 400" 400 "${r%% *}"
eq "... with the readable reason of spec e16" "Elements specified as required [xyz] don't exist in schema properties ERROR /" \
    "$(echo "${r#* }" | jq -r '.report[] | select(.level=="ERROR") | "\(.message) \(.level) \(.pointer)"')"
r=$(json POST /api/schemas -H "apikey: $SUPER" -d "{$SD,\"self\":{\"vendor\":\"com.acme\",\"name\":\"bad\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\",\"minimum\":5,\"maximum\":1,\"maxLength\":3}}}")
eq "contradictions are errors with their pointer (schema-ddl Linter)" \
    "A field with numeric type has a minimum value [5] greater than the maximum value [1] /properties/n|String properties [maxLength] require either string or absent values /properties/n" \
    "$(echo "${r#* }" | jq -r '[.report[] | select(.level=="ERROR") | "\(.message) \(.pointer)"] | join("|")')"
r=$(json POST /api/schemas -H "apikey: $SUPER" -d "{$SD,\"self\":{\"vendor\":\"com.acme\",\"name\":\"bad\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"strin\"}}}")
eq "a draft-04 violation: 400 with the validator's message" 400 "${r%% *}"
check "... naming the field" sh -c 'echo "$1" | jq -e "[.report[].message] | any(test(\"properties.n.type\"))" >/dev/null' _ "${r#* }"
check "nothing of the refused schemas reached the folder" sh -c '[ ! -e "$1/schemas/com.acme/bad" ]' "$DIR"
eq "a body that is not JSON: 400" '400 {"message":"The request body was malformed."}' \
    "$(json POST /api/schemas -H "apikey: $SUPER" -d '{nope')"
deep=$(python3 -c 'print("{\"a\":"*50 + "1" + "}"*50)')
eq "JSON deeper than 40: 422 (spec e21)" '422 {"message":"The request body was invalid."}' \
    "$(json POST /api/schemas -H "apikey: $SUPER" -d "$deep")"
python3 -c 'import json; print(json.dumps({"type":"object","description":"x"*120000}))' >"$T_TMP/big.json"
eq "a body over 100000 bytes: 413 PayloadTooLarge" '413 {"message":"The payload is too large"}' \
    "$(json PUT /api/schemas/com.acme/big/jsonschema/1-0-0 -H "apikey: $SUPER" -d @"$T_TMP/big.json")"
eq "a form body (curl -d without a type): 415, as http4s" 415 \
    "$(req POST /api/schemas -H "apikey: $SUPER" -d "$(schema com.acme form 1-0-0)" | cut -d' ' -f1)"

# $supersedes (spec e19, e20)
for v in 1-0-0 1-0-1 1-0-2; do json PUT "/api/schemas/com.acme/sup/jsonschema/$v?isPublic=true" -H "apikey: $SUPER" -d "$(schema com.acme sup $v)" >/dev/null; done
for v in 1-0-0 2-0-0; do json PUT "/api/schemas/com.acme/sup2/jsonschema/$v" -H "apikey: $SUPER" -d "$(schema com.acme sup2 $v)" >/dev/null; done
eq "\$supersedes of a version above: 409 SupersededInvalid" \
    '409 {"message":"Superseded schema version(s) must be below the superseding version"}' \
    "$(json PUT '/api/schemas/com.acme/sup2/jsonschema/1-0-1' -H "apikey: $SUPER" -d "$(schema com.acme sup2 1-0-1 ',"$supersedes":["2-0-0"]')")"
eq "\$supersedes of a missing version: 409 SupersededMissing" \
    '409 {"message":"Superseded schema version(s) do not exist"}' \
    "$(json PUT '/api/schemas/com.acme/sup2/jsonschema/1-0-1' -H "apikey: $SUPER" -d "$(schema com.acme sup2 1-0-1 ',"$supersedes":["1-0-2"]')")"
eq "\$supersedes: 201" 201 \
    "$(json PUT '/api/schemas/com.acme/sup/jsonschema/1-0-3?isPublic=true' -H "apikey: $SUPER" -d "$(schema com.acme sup 1-0-3 ',"$supersedes":["1-0-0","1-0-1"]')" | cut -d' ' -f1)"
eq "the superseded schemas now carry \$supersededBy" "1-0-3 1-0-3 null" \
    "$(for v in 1-0-0 1-0-1 1-0-2; do req GET /api/schemas/com.acme/sup/jsonschema/$v | cut -d' ' -f2- | jq -r '."$supersededBy"'; done | tr '\n' ' ' | sed 's/ $//')"
eq "the superseding one its \$supersedes, first after \$schema" '["$schema","$supersedes","self"]' \
    "$(req GET /api/schemas/com.acme/sup/jsonschema/1-0-3 | cut -d' ' -f2- | jq -c '[keys_unsorted[0:3][]]')"

# ---- reading ----
eq "GET a public schema without a key: 200, canonical (spec e3)" \
    '200 {"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"event","format":"jsonschema","version":"1-0-0"},"description":"test","type":"object","properties":{"a":{"type":"string","maxLength":10,"description":"a"}},"additionalProperties":false}' \
    "$(req GET /api/schemas/com.acme/event/jsonschema/1-0-0)"
eq "GET a missing schema: 404 SchemaNotFound (spec e1)" '404 {"message":"The schema is not found"}' \
    "$(req GET /api/schemas/com.acme/nonexistent/jsonschema/1-0-0)"
eq "GET a private schema without a key: 404, as if absent" '404 {"message":"The schema is not found"}' \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0)"
eq "... with an unknown key: 404 (spec e5)" 404 \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0 -H 'apikey: e8f1161f-5fbc-46df-b0ea-063f025e20c9' | cut -d' ' -f1)"
eq "... with another vendor's read key: 404" 404 \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0 -H "apikey: $OTHER_READ" | cut -d' ' -f1)"
eq "... with the vendor's read key: 200 (spec e4)" 200 \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0 -H "apikey: $READ" | cut -d' ' -f1)"
eq "a UUID written Java's lenient way is the same key" 200 \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0 -H "apikey: $(echo "$READ" | tr a-f A-F)" | cut -d' ' -f1)"
eq "a bad version: 400 (spec e14)" \
    "400 {\"message\":\"Cannot parse version part 'boom' as SchemaVer, INVALID_SCHEMAVER\"}" \
    "$(req GET /api/schemas/com.acme/event/jsonschema/boom)"
eq "repr=uri" '200 "iglu:com.acme/event/jsonschema/1-0-0"' "$(req GET '/api/schemas/com.acme/event/jsonschema/1-0-0?repr=uri')"
r=$(req GET '/api/schemas/com.acme/event/jsonschema/1-0-0?repr=meta')
eq "repr=meta: self, metadata, body, no \$schema (Schema.Repr.Full)" '["self","metadata","description"] true' \
    "$(echo "${r#* }" | jq -c '[keys_unsorted[0:3][]]') $(echo "${r#* }" | jq '.metadata.isPublic')"
eq "repr=bogus: 400" "400 {\"message\":\"Unknown schema representation format: 'bogus'\"}" \
    "$(req GET '/api/schemas/com.acme/event/jsonschema/1-0-0?repr=bogus')"
eq "list all, anonymous: public only, as URIs (spec e7)" \
    '["iglu:com.acme/event/jsonschema/1-0-0","iglu:com.acme/event/jsonschema/1-0-1","iglu:com.acme/event/jsonschema/1-1-0","iglu:com.acme/sup/jsonschema/1-0-0","iglu:com.acme/sup/jsonschema/1-0-1","iglu:com.acme/sup/jsonschema/1-0-2","iglu:com.acme/sup/jsonschema/1-0-3"]' \
    "$(req GET /api/schemas | cut -d' ' -f2-)"
eq "list all with the super key: private ones too (spec e8)" 11 \
    "$(req GET /api/schemas -H "apikey: $SUPER" | cut -d' ' -f2- | jq length)"
eq "list by vendor" 3 "$(req GET /api/schemas/com.acme -H "apikey: $READ" | cut -d' ' -f2- | jq '[.[] | select(startswith("iglu:com.acme/event"))] | length')"
eq "list by name, repr=canonical (spec e10)" '["1-0-0","1-0-1","1-1-0"]' \
    "$(req GET '/api/schemas/com.acme/event?repr=canonical' | cut -d' ' -f2- | jq -c '[.[].self.version]')"
eq "list by model (spec e15)" '["iglu:com.acme/event/jsonschema/1-0-0","iglu:com.acme/event/jsonschema/1-0-1","iglu:com.acme/event/jsonschema/1-1-0"]' \
    "$(req GET /api/schemas/com.acme/event/jsonschema/1 | cut -d' ' -f2-)"
eq "list with repr=meta" 'true' "$(req GET '/api/schemas/com.acme/event?repr=meta' | cut -d' ' -f2- | jq '.[0].metadata.isPublic')"
eq "an empty vendor listing: 404 No schemas available" '404 {"message":"No schemas available"}' \
    "$(req GET /api/schemas/com.nobody)"
eq "a trailing slash is ignored (AutoSlash)" 200 "$(req GET /api/schemas/com.acme/event/ | cut -d' ' -f1)"
eq "HEAD of a schema: 200" 200 "$(curl -s -o /dev/null -I -w '%{http_code}' "$B/api/schemas/com.acme/event/jsonschema/1-0-0")"
eq "meta/server counts what the key can read" 2 \
    "$(req GET /api/meta/server -H "apikey: $OTHER_READ" | cut -d' ' -f2- | jq '.schemaCount + 2')"

# ---- path traversal in every segment ----
touch "$T_TMP/secret"
mkdir -p "$DIR/schemas/x/y/z"
for p in \
    /api/schemas/../../../../etc/passwd \
    /api/schemas/%2e%2e/%2e%2e/jsonschema/1-0-0 \
    /api/schemas/../schemas/com.acme/jsonschema/1-0-0 \
    /api/schemas/..%2F..%2F..%2Fsecret/x/jsonschema/1-0-0 \
    /api/schemas/com.acme/..%2Fevent/jsonschema/1-0-0 \
    /api/schemas/com.acme/event/..%2Fevent%2Fjsonschema/1-0-0 \
    /api/schemas/com.acme/event/jsonschema/..%2F1-0-0 \
    /api/schemas/com.acme/event/jsonschema/1-0-0%00 \
    /api/schemas/com.acme%00/event/jsonschema/1-0-0 \
    /api/schemas/. /api/schemas/.. /api/schemas/%2e%2e \
    /api/schemas/com.acme/%2e%2e /api/schemas/com.acme/event/%2e%2e/1 \
    "/api/schemas/..%5c..%5csecret/x/jsonschema/1-0-0"; do
	r=$(req GET "$p" --path-as-is)
	case "${r%% *}" in
	400|404) ok "GET $p: ${r%% *}" ;;
	*) fail "GET $p: $r" ;;
	esac
done
for p in /api/schemas/..%2F..%2Fx/n/jsonschema/1-0-0 /api/schemas/com.acme/..%2F..%2Fx/jsonschema/1-0-0 \
    /api/schemas/com.acme/n/..%2F..%2Fx/1-0-0 /api/schemas/com.acme/n/jsonschema/..%2F1-0-0 \
    /api/schemas/../n/jsonschema/1-0-0 /api/schemas/%2e%2e/n/jsonschema/1-0-0 /api/schemas/./n/jsonschema/1-0-0; do
	r=$(json PUT "$p" --path-as-is -H "apikey: $SUPER" -d '{"type":"object","description":"t","properties":{}}')
	case "${r%% *}" in
	400|404) ok "PUT $p: ${r%% *}" ;;
	*) fail "PUT $p: $r" ;;
	esac
done
eq "a self naming \"..\" as vendor is not a schema" '400 {"message":"Cannot decode JSON schema"}' \
    "$(json POST /api/schemas -H "apikey: $SUPER" -d "{$SD,\"self\":{\"vendor\":\"..\",\"name\":\"n\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\"}")"
check "nothing was written outside DIR/schemas" sh -c '[ -z "$(find "$1" -newer "$2/secret" -not -path "$2/reg/*" -not -name body -not -name code 2>/dev/null)" ]' "$T_TMP" "$T_TMP"
check "... nor inside it under a dot name" sh -c '[ -z "$(find "$1/schemas" "$1/meta" -name ".*")" ]' "$DIR"

# ---- DELETE ----
eq "DELETE without a key: 401 Not enough permissions" '401 {"message":"Not enough permissions"}' \
    "$(req DELETE /api/schemas/com.acme/event/jsonschema/1-1-0)"
eq "DELETE with a write key: 401" 401 "$(req DELETE /api/schemas/com.acme/event/jsonschema/1-1-0 -H "apikey: $WRITE" | cut -d' ' -f1)"
eq "DELETE with the super key, patches refused: 405" '405 {"message":"DELETE is forbidden on production registry"}' \
    "$(req DELETE /api/schemas/com.acme/event/jsonschema/1-1-0 -H "apikey: $SUPER")"

# ---- validation service ----
eq "validate/schema without a key: 403" '403 {"message":""}' \
    "$(json POST /api/validation/validate/schema/jsonschema -d "$(schema com.acme v 1-0-0)")"
eq "validate/schema of a clean schema (spec e2)" \
    '200 {"message":"The schema provided is a valid self-describing iglu:com.acme/nonexistent/jsonschema/1-0-0 schema"}' \
    "$(json POST /api/validation/validate/schema/jsonschema -H "apikey: $READ" -d "{$SD,\"self\":{\"vendor\":\"com.acme\",\"name\":\"nonexistent\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"description\":\"schema with no issues\",\"properties\":{}}")"
eq "validate/schema without \$schema and description (spec e1)" \
    '200 {"message":"The schema does not conform to a JSON Schema v4 specification","report":[{"message":"The schema is missing the \"description\" property","level":"INFO","pointer":"/"},{"message":"At the root level, the schema should have a \"type\" property set to \"object\" and have a \"properties\" property","level":"WARNING","pointer":"/"},{"message":"No $schema field in top-level of schema","level":"ERROR","pointer":"/"},{"message":"JSON Schema is not self-describing","level":"ERROR","pointer":"/"}]}' \
    "$(json POST /api/validation/validate/schema/jsonschema -H "apikey: $READ" -d '{"self":{"vendor":"com.acme","name":"nonexistent","format":"jsonschema","version":"1-0-0"},"type":"object"}')"
eq "validate/schema: an unknown keyword is a warning (spec e11)" \
    '{"message":"The schema does not conform to a JSON Schema v4 specification","report":[{"message":"$.properties.inner.misplacedProperty: is not defined in the schema and the schema does not allow additional properties","level":"WARNING","pointer":"/properties/inner"}]}' \
    "$(json POST /api/validation/validate/schema/jsonschema -H "apikey: $READ" -d "{$SD,\"self\":{\"vendor\":\"com.acme\",\"name\":\"nonexistent\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"description\":\"schema with no issues\",\"properties\":{\"inner\":{\"description\":\"A property containing invalid property\",\"misplacedProperty\":{\"type\":\"string\"}}}}" | cut -d' ' -f2-)"
eq "validate/schema of a non-JSON body (spec e5)" '400 {"message":"The request body was malformed."}' \
    "$(json POST /api/validation/validate/schema/jsonschema -H "apikey: $READ" -d 'non-json')"
eq "validate/schema with another format: 400" "400 {\"message\":\"Unknown schema format: 'avro'\"}" \
    "$(json POST /api/validation/validate/schema/avro -H "apikey: $READ" -d '{}')"
eq "the deprecated /api/schemas/validate/… route" 200 \
    "$(json POST /api/schemas/validate/com.acme/x/jsonschema/1-0-0 -H "apikey: $READ" -d '{}' | cut -d' ' -f1)"
eq "validate/instance without a key: 404" '404 {"message":"The schema is not found"}' \
    "$(json POST /api/validation/validate/instance -d '{"schema":"iglu:com.acme/event/jsonschema/1-0-0","data":{}}')"
eq "validate/instance, valid (spec e7)" '200 {"message":"Instance is valid iglu:com.acme/event/jsonschema/1-0-0"}' \
    "$(json POST /api/validation/validate/instance -H "apikey: $READ" -d '{"schema":"iglu:com.acme/event/jsonschema/1-0-0","data":{"a":"x"}}')"
eq "validate/instance, invalid at the root (spec e6)" \
    '200 {"message":"The data for a field instance is invalid against its schema","report":[{"message":"$: array found, object expected","path":"$","keyword":"type","targets":["array","object"]}]}' \
    "$(json POST /api/validation/validate/instance -H "apikey: $READ" -d '{"schema":"iglu:com.acme/event/jsonschema/1-0-0","data":[]}')"
eq "validate/instance of a missing schema (spec e8)" '404 {"message":"The schema is not found"}' \
    "$(json POST /api/validation/validate/instance -H "apikey: $READ" -d '{"schema":"iglu:com.acme/does-not-exist/jsonschema/1-0-0","data":{}}')"
eq "validate/instance of a private schema with another vendor's key (spec e10)" 404 \
    "$(json POST /api/validation/validate/instance -H "apikey: $OTHER_READ" -d '{"schema":"iglu:com.acme.sub/thing/jsonschema/1-0-0","data":{}}' | cut -d' ' -f1)"
eq "validate/instance of a non-self-describing body" '400 {"message":"JSON payload is not self-describing, INVALID_DATA_PAYLOAD"}' \
    "$(json POST /api/validation/validate/instance -H "apikey: $READ" -d '{"data":{}}')"

# ---- keys ----
eq "keygen without a key: 403 (AuthServiceSpec e4)" '403 {"message":"Not sufficient privileges to create keys"}' \
    "$(json POST /api/auth/keygen -d '{"vendorPrefix":"me.chuwy"}')"
eq "keygen with a write key: 403" 403 "$(json POST /api/auth/keygen -H "apikey: $WRITE" -d '{"vendorPrefix":"com.acme"}' | cut -d' ' -f1)"
eq "keygen without vendorPrefix: 422" '422 {"message":"The request body was invalid."}' \
    "$(json POST /api/auth/keygen -H "apikey: $SUPER" -d '{"vendor_prefix":"x"}')"
eq "keygen for every vendor (*)" 200 "$(json POST /api/auth/keygen -H "apikey: $SUPER" -d '{"vendorPrefix":"*"}' | cut -d' ' -f1)"
eq "DELETE keygen without a key: 403" '403 {"message":"Not sufficient privileges to delete key"}' \
    "$(req DELETE "/api/auth/keygen?key=$READ")"
eq "DELETE keygen with the super key (AuthServiceSpec e6)" '200 {"message":"Keys have been deleted"}' \
    "$(req DELETE "/api/auth/keygen?key=$READ" -H "apikey: $SUPER")"
eq "a deleted key reads no private schema" 404 \
    "$(req GET /api/schemas/com.acme.sub/thing/jsonschema/1-0-0 -H "apikey: $READ" | cut -d' ' -f1)"
check "... and is gone from DIR/apikeys" sh -c '! grep -q "$2" "$1/apikeys"' "$DIR" "$READ"
check "keys never reach the log" sh -c '! grep -Eq "$2|$3|$4" "$1"' "$T_TMP/server.log" "$SUPER" "$WRITE" "$OTHER_WRITE"

# ---- CORS (Server.scala's corsPolicy) ----
h=$(curl -s -D - -o /dev/null -X OPTIONS -H 'Origin: https://ui.example' -H 'Access-Control-Request-Method: PUT' "$B/api/schemas" | tr -d '\r')
check "preflight: the origin is allowed" sh -c 'echo "$1" | grep -q "^Access-Control-Allow-Origin: https://ui.example$"' _ "$h"
check "preflight: methods, headers, max-age" sh -c 'echo "$1" | grep -q "^Access-Control-Allow-Headers: content-type, apikey$" && echo "$1" | grep -q "^Access-Control-Max-Age: 86400$"' _ "$h"

# ---- a restart keeps schemas and keys ----
kill $(echo $T_PIDS | awk '{print $NF}'); wait 2>/dev/null
IGLU_SUPER_API_KEY=$SUPER bg "$IGS" -d "$DIR" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 2>>"$T_TMP/server.log"
wait_for 10 curl -sf "$B/api/meta/health"
eq "after a restart the write key still publishes" 201 \
    "$(json POST '/api/schemas?isPublic=true' -H "apikey: $WRITE" -d "$(schema com.acme event 1-1-1)" | cut -d' ' -f1)"
check "the server logged no error" sh -c '! grep -q " error: " "$1"' "$T_TMP/server.log"
done_testing
