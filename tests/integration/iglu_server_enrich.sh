#!/bin/sh
# Push a schema to iglu-server and a running enrich uses it for the next event, without a
# restart, also when the key was looked up and missed before the push (the local folder is
# looked at again on a miss, at most every 200 ms: common/iglu.c). Then enrich as an HTTP
# client of the server, as Snowplow Mini wires its resolver (uri .../api, an apikey).
. "$(dirname "$0")/../lib.sh"

IGS="$FURROW_BIN/iglu-server"
E="$FURROW_BIN/enrich"
SUPER=4ed2d87a-6da5-48e8-a23b-36a26e61f974
DIR="$T_TMP/iglu"
PORT=$(free_port)
B="http://127.0.0.1:$PORT"
SD='"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"'
check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson

# event NAME DATA-JSON: one raw record with an unstructured event of com.acme/NAME/1-0-0
event() {
	ue=$(python3 -c 'import json,sys,urllib.parse as u; print(u.quote(json.dumps({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/%s/jsonschema/1-0-0" % sys.argv[1],"data":json.loads(sys.argv[2])}}), safe=""))' "$1" "$2")
	echo "{\"path\":\"/i\",\"qs\":\"e=ue&p=web&tv=t&aid=$1&ue_pr=$ue\"}" | "$T_TMP/mkraw"
}
push() { # push NAME [isPublic] -> status
	curl -s -o "$T_TMP/push.out" -w '%{http_code}' -X POST "$B/api/schemas?isPublic=${2:-true}" \
	    -H "apikey: $SUPER" -H 'Content-Type: application/json' \
	    -d "{$SD,\"description\":\"t\",\"self\":{\"vendor\":\"com.acme\",\"name\":\"$1\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"maxLength\":10,\"description\":\"id\"}},\"required\":[\"id\"],\"additionalProperties\":false}"
}
lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
has_lines() { [ "$(lines "$1")" -ge "$2" ]; }

IGLU_SUPER_API_KEY=$SUPER bg "$IGS" -d "$DIR" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 \
    --allow-patches 2>"$T_TMP/igs.log"
check "iglu-server is up" wait_for 10 curl -sf "$B/api/meta/health"

# ---- the launcher's wiring: the server's folder as a local registry in enrich's resolver,
# asked before the built-in registry (priority -1 sorts ahead of its 0), with a cacheTtl of 1 s
# so that a patched version (--allow-patches) is used after a second ----
cat >"$T_TMP/resolver-local.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":1,"repositories":[
   {"name":"iglu-server","priority":-1,"vendorPrefixes":[],
    "connection":{"embedded":{"path":"$DIR"}}}]}}
JSON
mkfifo "$T_TMP/in"
"$E" --schemas "$FURROW_ROOT/schemas" --resolver "$T_TMP/resolver-local.json" \
    --bad "$T_TMP/bad" --stats-interval 0 <"$T_TMP/in" >"$T_TMP/good" 2>"$T_TMP/enrich.log" &
epid=$!; T_PIDS="$T_PIDS $epid"
exec 7>"$T_TMP/in"

event late '{"id":"x"}' >&7
check "an event for a schema nobody pushed yet is a bad row" wait_for 10 has_lines "$T_TMP/bad" 1
eq "... a ResolutionError naming the local registry" "ResolutionError iglu-server" \
    "$(jq -r '.data.failure.messages[0].error | "\(.error) \([.lookupHistory[].repository] | map(select(. == "iglu-server")) | .[0])"' "$T_TMP/bad")"
eq "push the schema: 201" 201 "$(push late)"
sleep 0.3   # the documented re-check period (200 ms) passes; the next event must use the schema
event late '{"id":"x"}' >&7
check "the next event after the push is good, enrich still running" wait_for 5 has_lines "$T_TMP/good" 1
eq "... it is the com.acme/late event" late "$(cut -f1 "$T_TMP/good" | tail -1)"
check "... and its unstruct_event column carries the data" sh -c 'tail -1 "$1" | cut -f59 | grep -q "com.acme/late/jsonschema/1-0-0"' _ "$T_TMP/good"
event late '{"id":5}' >&7
check "the pushed schema validates: a wrong type is a bad row" wait_for 5 has_lines "$T_TMP/bad" 2
check "... a schema violation, not a resolution error" sh -c 'tail -1 "$1" | jq -e ".data.failure.messages[0].error.error == \"ValidationError\"" >/dev/null' _ "$T_TMP/bad"
eq "push a second schema, private this time: 201" 201 "$(push other false)"
sleep 0.3
event other '{"id":"y"}' >&7
check "a private schema is used too (the folder needs no key)" wait_for 5 has_lines "$T_TMP/good" 2
patch=$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$B/api/schemas/com.acme/late/jsonschema/1-0-0?isPublic=true" \
    -H "apikey: $SUPER" -H 'Content-Type: application/json' \
    -d '{"description":"t","type":"object","properties":{"id":{"type":"integer","minimum":0,"maximum":9,"description":"id"}},"required":["id"],"additionalProperties":false}')
eq "patch com.acme/late 1-0-0 (id now an integer): 200" 200 "$patch"
sleep 1.2   # cacheTtl (1 s) passes: the cached schema is looked up again
event late '{"id":5}' >&7
check "after cacheTtl the patched version is used" wait_for 5 has_lines "$T_TMP/good" 3
exec 7>&-
wait "$epid"; eq "enrich exits 0 at EOF" 0 $?
eq "lines in (5) = good + bad" 5 $(( $(lines "$T_TMP/good") + $(lines "$T_TMP/bad") ))

# ---- enrich as an HTTP client of the server (Mini's wiring: uri .../api and an apikey) ----
r=$(curl -s -X POST "$B/api/auth/keygen" -H "apikey: $SUPER" -H 'Content-Type: application/json' -d '{"vendorPrefix":"com.acme"}')
READ=$(echo "$r" | jq -r .read)
resolver_http() {
	cat >"$T_TMP/resolver-http.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
   {"name":"Iglu Server","priority":0,"vendorPrefixes":["com.acme"],
    "connection":{"http":{"uri":"$B/api"$1}}}]}}
JSON
}
{ event late '{"id":3}'; event other '{"id":"b"}'; } >"$T_TMP/two.raw"
resolver_http ",\"apikey\":\"$READ\""
"$E" --schemas "$FURROW_ROOT/schemas" --resolver "$T_TMP/resolver-http.json" --bad "$T_TMP/hbad" \
    --stats-interval 0 <"$T_TMP/two.raw" >"$T_TMP/hgood" 2>/dev/null
eq "over HTTP with a read key: the public and the private schema resolve" "2 0" "$(lines "$T_TMP/hgood") $(lines "$T_TMP/hbad")"
resolver_http ""
"$E" --schemas "$FURROW_ROOT/schemas" --resolver "$T_TMP/resolver-http.json" --bad "$T_TMP/nbad" \
    --stats-interval 0 <"$T_TMP/two.raw" >"$T_TMP/ngood" 2>/dev/null
eq "over HTTP without a key: the private one is NotFound" "1 1" "$(lines "$T_TMP/ngood") $(lines "$T_TMP/nbad")"
check "... as a NotFound from the server, in the lookupHistory" sh -c 'jq -e "[.data.failure.messages[0].error.lookupHistory[] | select(.repository == \"Iglu Server\") | .errors[].error] == [\"NotFound\"]" "$1" >/dev/null' _ "$T_TMP/nbad"
check "the server saw the resolver's requests and logged no error" sh -c '! grep -q " error: " "$1"' "$T_TMP/igs.log"
done_testing
