#!/bin/sh
# enrich on hostile input: garbage lines, random bytes, lines of several MB, and Iglu registries
# that are down, slow or answer garbage. Never a crash; lines in = good events + bad rows.
. "$(dirname "$0")/../lib.sh"

E="$FURROW_BIN/enrich"
S="--schemas $FURROW_ROOT/schemas"
check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson

# reconcile NAME IN GOOD BAD: non-empty lines in = good + bad
reconcile() {
	n=$(LC_ALL=C grep -ac . "$2"); g=$(wc -l <"$3"); b=$(wc -l <"$4")
	eq "$1: lines in ($n) = good ($g) + bad ($b)" "$n" $((g + b))
}

# Random bytes, base64 of random bytes, and text.
head -c 200000 /dev/urandom >"$T_TMP/rand.bin"
{ tr -d '\n\r\000' <"$T_TMP/rand.bin" | fold -w 300; echo;
  base64 -w 500 "$T_TMP/rand.bin";
  printf 'hello\nwor ld\n====\n-_-_\nCwBk\n'; } | LC_ALL=C grep -a . >"$T_TMP/garbage.raw"
"$E" $S --bad "$T_TMP/g.bad" <"$T_TMP/garbage.raw" >"$T_TMP/g.tsv" 2>"$T_TMP/g.err"
eq "garbage: exit 0" 0 $?
reconcile "garbage" "$T_TMP/garbage.raw" "$T_TMP/g.tsv" "$T_TMP/g.bad"
check "garbage: every bad row is JSON" sh -c 'jq -e .schema "$1" >/dev/null' _ "$T_TMP/g.bad"

# Lines of several MB: over the limit -> size_violation, and the next line still works.
echo '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=after"}' | "$T_TMP/mkraw" >"$T_TMP/one.raw"
head -c 12000000 /dev/zero | tr '\0' 'A' >"$T_TMP/big.raw"
echo >>"$T_TMP/big.raw"
cat "$T_TMP/one.raw" >>"$T_TMP/big.raw"
"$E" $S --bad "$T_TMP/big.bad" <"$T_TMP/big.raw" >"$T_TMP/big.tsv" 2>/dev/null
eq "12 MB line: exit 0" 0 $?
reconcile "12 MB line" "$T_TMP/big.raw" "$T_TMP/big.tsv" "$T_TMP/big.bad"
eq "12 MB line: size_violation" \
    "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0 10485760 12000000" \
    "$(jq -r '[.schema, .data.failure.maximumAllowedSizeBytes, .data.failure.actualSizeBytes] | join(" ")' "$T_TMP/big.bad")"
eq "12 MB line: payload cut to max/10" 1048576 "$(jq -r '.data.payload | length' "$T_TMP/big.bad")"
eq "the line after it is enriched" after "$(cut -f1 "$T_TMP/big.tsv")"

# Runs of over-long lines (issue 10): two 11 MB lines in a row, then two 1.2 MB lines under a
# 1 MB limit (they fit the read buffer but not the limit), then a good line. One size_violation
# per over-long line, each with its own length and prefix; lines in = good + bad.
{ head -c 11000000 /dev/zero | tr '\0' 'A'; echo; head -c 11000001 /dev/zero | tr '\0' 'B'; echo;
  cat "$T_TMP/one.raw"; } >"$T_TMP/run.raw"
"$E" $S --bad "$T_TMP/run.bad" <"$T_TMP/run.raw" >"$T_TMP/run.tsv" 2>/dev/null
eq "two 11 MB lines: exit 0" 0 $?
reconcile "two 11 MB lines" "$T_TMP/run.raw" "$T_TMP/run.tsv" "$T_TMP/run.bad"
eq "two 11 MB lines: one size_violation each, own length and prefix" "11000000 A
11000001 B" "$(jq -r '"\(.data.failure.actualSizeBytes) \(.data.payload[0:1])"' "$T_TMP/run.bad")"
{ head -c 1200000 /dev/zero | tr '\0' 'C'; echo; head -c 1200001 /dev/zero | tr '\0' 'D'; echo;
  cat "$T_TMP/one.raw"; } >"$T_TMP/run2.raw"
"$E" $S --max-line-bytes 1000000 --bad "$T_TMP/run2.bad" <"$T_TMP/run2.raw" >"$T_TMP/run2.tsv" 2>/dev/null
reconcile "two 1.2 MB lines, 1 MB limit" "$T_TMP/run2.raw" "$T_TMP/run2.tsv" "$T_TMP/run2.bad"
eq "two 1.2 MB lines: one size_violation each" "1200000 C
1200001 D" "$(jq -r '"\(.data.failure.actualSizeBytes) \(.data.payload[0:1])"' "$T_TMP/run2.bad")"

# A 3 MB POST body under a 1 MB limit, and a valid 3 MB record under the default limit.
python3 -c 'import json; print(json.dumps({"path":"/com.snowplowanalytics.snowplow/tp2","ct":"application/json","body":json.dumps({"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","p":"web","tv":"t","page":"x"*3000000}]})}))' |
    "$T_TMP/mkraw" >"$T_TMP/post.raw"
"$E" $S --max-line-bytes 1000000 --bad "$T_TMP/p1.bad" <"$T_TMP/post.raw" >"$T_TMP/p1.tsv" 2>/dev/null
reconcile "3 MB record, 1 MB limit" "$T_TMP/post.raw" "$T_TMP/p1.tsv" "$T_TMP/p1.bad"
check "3 MB record, 1 MB limit: size_violation" grep -q size_violation "$T_TMP/p1.bad"
"$E" $S --bad "$T_TMP/p2.bad" <"$T_TMP/post.raw" >"$T_TMP/p2.tsv" 2>/dev/null
reconcile "3 MB record" "$T_TMP/post.raw" "$T_TMP/p2.tsv" "$T_TMP/p2.bad"
check "3 MB record: page_title too long -> schema_violations" \
    sh -c 'jq -e ".data.failure.messages[0].error.dataReports[0].keyword == \"atomic_field_length_exceeded\"" "$1" >/dev/null' _ "$T_TMP/p2.bad"

# Registries: com.acme events resolved through an HTTP registry that is down, slow or broken.
UE=$(python3 -c 'import json,urllib.parse as u; print(u.quote(json.dumps({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button_click/jsonschema/1-0-0","data":{"id":"x"}}}), safe=""))')
for i in 1 2 3; do echo "{\"path\":\"/i\",\"qs\":\"e=ue&p=web&tv=t&ue_pr=$UE\"}"; done | "$T_TMP/mkraw" >"$T_TMP/ue.raw"
resolver() {
	cat >"$T_TMP/resolver-$1.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
   {"name":"test registry","priority":0,"vendorPrefixes":["com.acme"],
    "connection":{"http":{"uri":"http://127.0.0.1:$2/api","apikey":"00000000-0000-4000-8000-000000000000"}}}]}}
JSON
}

port=$(free_port)
resolver dead "$port"
start=$(date +%s)
"$E" $S --resolver "$T_TMP/resolver-dead.json" --registry-timeout 1000 --bad "$T_TMP/d.bad" \
    <"$T_TMP/ue.raw" >"$T_TMP/d.tsv" 2>/dev/null
eq "registry down: exit 0" 0 $?
check "registry down: no stall" [ $(( $(date +%s) - start )) -lt 20 ]
reconcile "registry down" "$T_TMP/ue.raw" "$T_TMP/d.tsv" "$T_TMP/d.bad"
eq "registry down: schema_violations with a ResolutionError naming the registry" \
    "ResolutionError test registry" \
    "$(head -1 "$T_TMP/d.bad" | jq -r '.data.failure.messages[0].error | [.error, (.lookupHistory[] | select(.repository == "test registry") | .repository)] | join(" ")')"

# A registry that accepts connections and never answers, and one that answers garbage.
cat >"$T_TMP/srv.py" <<'PY'
import http.server, sys, time
mode = sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        if mode == "slow":
            time.sleep(30)
        body = b"this is not json {" if mode == "garbage" else b"{}"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
PY
for mode in slow garbage; do
	port=$(free_port)
	bg python3 "$T_TMP/srv.py" "$port" "$mode"
	wait_for 10 python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" ||
	    diag "$mode registry did not start"
	resolver "$mode" "$port"
	start=$(date +%s)
	"$E" $S --resolver "$T_TMP/resolver-$mode.json" --registry-timeout 1000 \
	    --bad "$T_TMP/$mode.bad" <"$T_TMP/ue.raw" >"$T_TMP/$mode.tsv" 2>/dev/null
	eq "registry $mode: exit 0" 0 $?
	check "registry $mode: no stall" [ $(( $(date +%s) - start )) -lt 20 ]
	reconcile "registry $mode" "$T_TMP/ue.raw" "$T_TMP/$mode.tsv" "$T_TMP/$mode.bad"
	check "registry $mode: schema_violations" \
	    sh -c 'jq -e ".schema | endswith(\"schema_violations/jsonschema/2-0-1\")" "$1" >/dev/null' _ "$T_TMP/$mode.bad"
done
done_testing
