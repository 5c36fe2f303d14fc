#!/bin/sh
# An independent resolver against iglu-server: Snowplow's own iglu-scala-client (the _2.12
# build on Maven Central, 1.1.1, the resolver inside Snowplow's enrich 2.x and 3.x) driven by
# tests/jvm/iglu-client (Harness.scala), over HTTP with and without an apikey. It must resolve
# and validate against what iglu-server publishes, and see a private schema as NotFound without
# a key. The client and its dependencies are fetched by mvn into ~/.m2 on the first run; the
# harness is built in build/jvm (git-ignored).
. "$(dirname "$0")/../lib.sh"

IGS="$FURROW_BIN/iglu-server"
SUPER=4ed2d87a-6da5-48e8-a23b-36a26e61f974
SD='"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"'
JB="$FURROW_ROOT/build/jvm/iglu-client"

if ! command -v mvn >/dev/null 2>&1 || ! command -v java >/dev/null 2>&1; then
	skip "Snowplow's iglu-scala-client" "java and mvn are needed (sh tests/install-deps.sh test)"
	done_testing; exit
fi
mkdir -p "$JB"
cp -R "$FURROW_ROOT/tests/jvm/iglu-client/pom.xml" "$FURROW_ROOT/tests/jvm/iglu-client/src" "$JB/"
# Downloads into ~/.m2 are serialised with the other tests' (tests run concurrently).
. "$FURROW_ROOT/tests/fetchlock.sh"
if ! fetch_locked sh -c 'cd "$1" && mvn -q -B dependency:resolve dependency:resolve-plugins' _ "$JB" >"$T_TMP/mvn-deps.log" 2>&1; then
	skip "Snowplow's iglu-scala-client" "Maven Central unreachable: $(grep -m1 ERROR "$T_TMP/mvn-deps.log")"
	done_testing; exit
fi
check "the harness builds against com.snowplowanalytics:iglu-scala-client_2.12:1.1.1" \
    sh -c 'cd "$1" && mvn -q -B package -DskipTests >"$2" 2>&1 && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$1/cp.txt" >>"$2" 2>&1' _ "$JB" "$T_TMP/mvn.log" ||
    { cat "$T_TMP/mvn.log"; done_testing; exit; }
CP="$JB/target/classes:$(cat "$JB/cp.txt")"

PORT=$(free_port)
B="http://127.0.0.1:$PORT"
IGLU_SUPER_API_KEY=$SUPER bg "$IGS" -d "$T_TMP/reg" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 2>"$T_TMP/igs.log"
check "iglu-server is up" wait_for 10 curl -sf "$B/api/meta/health"
push() { # push NAME VERSION PUBLIC EXTRA
	curl -s -o /dev/null -w '%{http_code}' -X POST "$B/api/schemas?isPublic=$3" -H "apikey: $SUPER" \
	    -H 'Content-Type: application/json' \
	    -d "{$SD,\"description\":\"t\",\"self\":{\"vendor\":\"com.acme\",\"name\":\"$1\",\"format\":\"jsonschema\",\"version\":\"$2\"},\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":100,\"description\":\"id\"}${4:-}},\"required\":[\"id\"],\"additionalProperties\":false}"
}
eq "push a public schema" 201 "$(push click 1-0-0 true)"
eq "push a private one" 201 "$(push secret 1-0-0 false)"
eq "push a public 1-0-1 with one more property" 201 \
    "$(push click 1-0-1 true ',"label":{"type":"string","maxLength":10,"description":"l"}')"
READ=$(curl -s -X POST "$B/api/auth/keygen" -H "apikey: $SUPER" -H 'Content-Type: application/json' -d '{"vendorPrefix":"com.acme"}' | jq -r .read)
config() {
	cat >"$T_TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
   {"name":"iglu-server","priority":0,"vendorPrefixes":["com.acme"],
    "connection":{"http":{"uri":"$B/api"$1}}}]}}
JSON
}
cat >"$T_TMP/in" <<'EOF2'
{"schema":"iglu:com.acme/click/jsonschema/1-0-0","data":{"id":3}}
{"schema":"iglu:com.acme/click/jsonschema/1-0-0","data":{"id":"x"}}
{"schema":"iglu:com.acme/secret/jsonschema/1-0-0","data":{"id":4}}
{"schema":"iglu:com.acme/nothing/jsonschema/1-0-0","data":{}}
{"schema":"iglu:com.acme/click/jsonschema/1-0-1","data":{"id":5,"label":"x"}}
EOF2
config ",\"apikey\":\"$READ\""
java -cp "$CP" Harness "$T_TMP/resolver.json" <"$T_TMP/in" >"$T_TMP/out" 2>"$T_TMP/java.err"
eq "the client ran" 0 $?
eq "a valid instance of a pushed schema: OK" OK "$(sed -n 1p "$T_TMP/out")"
eq "an invalid one: the client's ValidationError" \
    'ERROR ValidationError $.id: string found, integer expected' \
    "$(sed -n 2p "$T_TMP/out" | sed 's/^ERROR //' | jq -r '"ERROR \(.error) \(.dataReports[0].message)"')"
eq "a private schema with a read key: OK" OK "$(sed -n 3p "$T_TMP/out")"
eq "a schema nobody pushed: NotFound from iglu-server in the lookupHistory" "ResolutionError NotFound" \
    "$(sed -n 4p "$T_TMP/out" | sed 's/^ERROR //' | jq -r '"\(.error) \(.lookupHistory[] | select(.repository == "iglu-server") | .errors[0].error)"')"
eq "the next addition of a pushed schema: OK" OK "$(sed -n 5p "$T_TMP/out")"
config ""
java -cp "$CP" Harness "$T_TMP/resolver.json" <"$T_TMP/in" >"$T_TMP/out2" 2>>"$T_TMP/java.err"
eq "without a key the public schema still resolves" OK "$(sed -n 1p "$T_TMP/out2")"
eq "without a key the private schema is NotFound" "ResolutionError NotFound" \
    "$(sed -n 3p "$T_TMP/out2" | sed 's/^ERROR //' | jq -r '"\(.error) \(.lookupHistory[] | select(.repository == "iglu-server") | .errors[0].error)"')"
check "iglu-server logged no error" sh -c '! grep -q " error: " "$1"' "$T_TMP/igs.log"
done_testing
