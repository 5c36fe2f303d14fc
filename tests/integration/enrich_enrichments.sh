#!/bin/sh
# enrich with --enrichments: Mini's default set plus anon_ip, ip_lookups, cookie and header
# extractors, IAB and PII on realistic tracker requests, compared field by field with golden
# files (tests/golden/enrichments/README); configuration and database errors at startup.
. "$(dirname "$0")/../lib.sh"

G=$FURROW_ROOT/tests/golden/enrichments
SCHEMAS=$FURROW_ROOT/schemas

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
"$T_TMP/mkraw" <"$G/requests.jsonl" >"$T_TMP/in.raw"

# The layout the configurations expect: conf/ next to data/, mmdb/ and iab/.
W=$T_TMP/w
mkdir -p "$W/conf" "$W/data" "$W/mmdb"
cp "$G"/conf/*.json "$FURROW_ROOT"/enrichments/default/*.json "$W/conf/"
cp "$FURROW_ROOT/enrichments/data/referers.json" "$W/data/"
cp -R "$G/iab" "$W/iab"
check "test MaxMind databases written" perl "$FURROW_ROOT/tests/tools/write-mmdb.pl" "$W/mmdb"

run_enrich() {
	FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$SCHEMAS" \
	    --resolver "$FURROW_ROOT/tests/golden/enrich/resolver.json" "$@"
}

run_enrich --enrichments "$W/conf" --bad "$T_TMP/bad.jsonl" <"$T_TMP/in.raw" \
    >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "exit status 0" 0 $?
if python3 "$FURROW_ROOT/tests/tools/golden_cmp.py" "$G/expected.tsv" "$T_TMP/good.tsv" \
    "$G/expected-bad.jsonl" "$T_TMP/bad.jsonl" >"$T_TMP/diff"; then
	ok "output matches the golden files field by field"
else
	fail "output matches the golden files field by field"
	sed 's/^/# /' "$T_TMP/diff"
fi
eq "4 good events" 4 "$(wc -l <"$T_TMP/good.tsv")"
eq "1 enrichment_failures row" "iglu:com.snowplowanalytics.snowplow.badrows/enrichment_failures/jsonschema/2-0-1" \
    "$(jq -r .schema "$T_TMP/bad.jsonl")"

# An empty User-Agent header (sent, but empty) gives the all-"Other" ua_parser_context, as
# enrich 6.10 does (setUseragent keeps "", getUaParser parses it); no header gives none.
printf '%s\n' '{"path":"/i","qs":"e=pv&p=web&tv=t","ua":""}' '{"path":"/i","qs":"e=pv&p=web&tv=t"}' |
    "$T_TMP/mkraw" | run_enrich --enrichments "$W/conf" --bad "$T_TMP/bad-ua.jsonl"     >"$T_TMP/good-ua.tsv" 2>/dev/null
uactx() { sed -n "$1p" "$T_TMP/good-ua.tsv" | cut -f123 | jq -c '[.data[] |
    select(.schema | contains("ua_parser_context")) | .data.useragentFamily, .data.osVersion,
    .data.deviceFamily, .data.useragentMajor]'; }
eq "empty User-Agent: the all-Other ua_parser_context" '["Other","Other","Other",null]' "$(uactx 1)"
eq "no User-Agent: no ua_parser_context" '[]' "$(uactx 2)"

# Without --enrichments the enrichment columns stay empty.
run_enrich --bad "$T_TMP/bad0.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good0.tsv" 2>/dev/null
eq "no enrichments: 5 good events" 5 "$(wc -l <"$T_TMP/good0.tsv")"
eq "no enrichments: no refr_medium, mkt_source, fingerprint or derived contexts" "" \
    "$(cut -f45,49,123,130 "$T_TMP/good0.tsv" | tr -d '\t\n')"

# An http(s) database is fetched once at startup into the cache directory, and the cached
# copy serves when the server is gone.
port=$(free_port)
mkdir -p "$W/http/conf" "$W/http/www"
cp "$FURROW_ROOT/enrichments/data/referers.json" "$W/http/www/referers-latest.json"
sed "s|\"file:../data\"|\"http://127.0.0.1:$port/assets/\"|; s|referers.json|referers-latest.json|" \
    "$FURROW_ROOT/enrichments/default/referer_parser.json" >"$W/http/conf/referer_parser.json"
mkdir -p "$W/http/www/assets" && mv "$W/http/www/referers-latest.json" "$W/http/www/assets/"
(cd "$W/http/www" && exec python3 -m http.server --bind 127.0.0.1 "$port") >"$T_TMP/http.log" 2>&1 &
http_pid=$!
T_PIDS="$T_PIDS $http_pid"
check "asset server is up" wait_for 10 curl -sf "http://127.0.0.1:$port/" -o /dev/null
FURROW_CACHE_DIR=$T_TMP/cache run_enrich --enrichments "$W/http/conf" --bad "$T_TMP/bh.jsonl" \
    <"$T_TMP/in.raw" >"$T_TMP/gh.tsv" 2>"$T_TMP/eh"
eq "http database: exit status 0" 0 $?
eq "http database: referrers classified" "search,social,internal,unknown,," \
    "$(cut -f45 "$T_TMP/gh.tsv" | tr '\n' ',')"
check "http database: fetched once into the cache" sh -c 'ls "$1"/*-referers-latest.json >/dev/null' _ "$T_TMP/cache"
eq "http database: one request" 1 "$(grep -c 'GET /assets/referers-latest.json' "$T_TMP/http.log")"
kill "$http_pid" 2>/dev/null
wait "$http_pid" 2>/dev/null
FURROW_CACHE_DIR=$T_TMP/cache run_enrich --enrichments "$W/http/conf" --bad "$T_TMP/bh2.jsonl" \
    <"$T_TMP/in.raw" >"$T_TMP/gh2.tsv" 2>"$T_TMP/eh2"
eq "http database: server gone, cached copy used" 0 $?
FURROW_CACHE_DIR=$T_TMP/empty-cache run_enrich --enrichments "$W/http/conf" \
    --bad "$T_TMP/bh3.jsonl" </dev/null >/dev/null 2>"$T_TMP/eh3"
eq "http database: server gone, no cache: exit 78" 78 $?
check "http database: the error names the file and the URL" \
    grep -q "referer_parser.json: referer database: cannot download http://127.0.0.1:$port/assets/referers-latest.json" "$T_TMP/eh3"

# Startup errors: exit 78 and "enrich: ... --enrichments: <file>: <reason>" on stderr.
startup_error() {
	name=$1 want=$2
	run_enrich --enrichments "$W/bad" --bad "$T_TMP/b.jsonl" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"
	rc=$?
	if [ "$rc" -eq 78 ] && grep -q -- "--enrichments: $W/bad/$want" "$T_TMP/e"; then
		ok "$name"
	else
		fail "$name"
		diag "exit $rc: $(cat "$T_TMP/e")"
	fi
}
mkdir -p "$W/bad"
printf '{"schema": "iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0", "data": {' \
    >"$W/bad/anon_ip.json"
startup_error "malformed JSON is a startup error" "anon_ip.json: invalid JSON"
printf '%s' '{"schema":"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0","data":{"name":"anon_ip","vendor":"com.snowplowanalytics.snowplow","enabled":true,"parameters":{"anonOctets":9}}}' \
    >"$W/bad/anon_ip.json"
startup_error "a schema violation is a startup error" "anon_ip.json: does not validate against iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-0"
rm "$W/bad/anon_ip.json"
sed 's|file:../mmdb|file:../nowhere|' "$G/conf/ip_lookups.json" >"$W/bad/ip_lookups.json"
startup_error "a missing database is a startup error" "ip_lookups.json: parameters.geo: database .*No such file or directory"
mkdir -p "$T_TMP/mmdb-bad"
printf 'not a MaxMind database' >"$T_TMP/mmdb-bad/GeoIP2-City.mmdb"
sed "s|file:../mmdb|file://$T_TMP/mmdb-bad|" "$G/conf/ip_lookups.json" >"$W/bad/ip_lookups.json"
startup_error "a corrupt database is a startup error, not a crash" "ip_lookups.json: parameters.geo: .*GeoIP2-City.mmdb: "
rm "$W/bad/ip_lookups.json"
sed 's|referers.json|corrupt.json|' "$FURROW_ROOT/enrichments/default/referer_parser.json" >"$W/bad/referer_parser.json"
mkdir -p "$W/data"
printf '{"search": [' >"$W/data/corrupt.json"
startup_error "a corrupt referer database is a startup error" "referer_parser.json: referer database .*corrupt.json: invalid JSON"
done_testing
