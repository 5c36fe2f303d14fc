#!/bin/sh
# Benchmark: enrich's events per CPU-second with the JavaScript enrichment (a 20-line script),
# the API request enrichment and the SQL query enrichment (both with a warm cache), each
# against enrich without enrichments, on the same input.
#
#   sh bench/enrichments-extra.sh [EVENTS] [REPS]
#
# The input is EVENTS tp1 page views (default 100000) from 100 users, so the lookups' caches
# are warm after the first 100 events. The API server is tests/tools/api_server.py on
# 127.0.0.1; PostgreSQL a throwaway cluster (tests/setup-pg.sh; the SQL case is skipped
# without it). The configurations run interleaved (none, js, api, sql, none, js, ...), REPS
# rounds (default 3); CPU time is the enrich process's user + system time. Each figure is the
# median of the rounds; the ratio is against no enrichments, with its floor (js >= 0.5,
# api and sql >= 0.8: issue 18). The exact commands are printed first. FURROW_BENCH_KEEP=1
# keeps the working folder (input, configurations) for profiling.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
REPS=${2:-3}
BIN=${FURROW_BIN:-$ROOT/bin}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
SERVER=
. "$ROOT/tests/setup-pg.sh"
cleanup() {
	[ -z "$SERVER" ] || { kill "$SERVER" 2>/dev/null; wait "$SERVER" 2>/dev/null; } || true
	pg_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
[ -z "${FURROW_BENCH_KEEP:-}" ] || trap 'kill "$SERVER" 2>/dev/null; pg_cleanup' EXIT

[ -x "$BIN/enrich" ] || { echo "bench: build first (make)" >&2; exit 1; }
cc -O2 -I"$ROOT/common" -o "$TMP/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson

# the input: N page views, 100 users, campaign URLs, a mobile user agent every other user
python3 - "$N" >"$TMP/requests.jsonl" <<'PY'
import json, sys
n, per = int(sys.argv[1]), 1000
uas = ["Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
       "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"]
for i in range(0, n, per):
    u = (i // per) % 100
    qs = ("e=pv&p=web&aid=shop&tv=js-3.17.0&uid=u%d&duid=85094061-2a4d-4b5e-9c6f-7a8b9c0d1e2f&vid=3"
          "&url=https%%3A%%2F%%2Fshop.example.com%%2Fp%%2F%d%%3Futm_source%%3Dnews%%26utm_campaign%%3Dspring"
          "&page=Shop" % (u, i))
    print(json.dumps({"path": "/i", "qs": qs, "ua": uas[u % 2], "repeat": min(per, n - i)}))
PY
"$TMP/mkraw" <"$TMP/requests.jsonl" >"$TMP/in.raw"

# schemas of the contexts made, in a registry of the benchmark's own
for s in js_bench user; do
	mkdir -p "$TMP/iglu/schemas/com.acme/$s/jsonschema"
	printf '{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"%s","format":"jsonschema","version":"1-0-0"},"type":"object"}\n' \
	    "$s" >"$TMP/iglu/schemas/com.acme/$s/jsonschema/1-0-0"
done
cat >"$TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data":{"cacheSize":500,"repositories":[{"name":"bench","priority":0,"vendorPrefixes":["com.acme"],
   "connection":{"embedded":{"path":"$TMP/iglu"}}}]}}
JSON

# the 20-line script
cat >"$TMP/script.js" <<'JS'
function process(event, params) {
  var ua = event.getUseragent() || '';
  var url = event.getPage_url() || '';
  var mobile = /Mobile|Android|iPhone/.test(ua);
  var parts = url.split('?');
  var qs = {};
  if (parts.length > 1) {
    var kv = parts[1].split('&');
    for (var i = 0; i < kv.length; i++) {
      var p = kv[i].split('=');
      qs[p[0]] = decodeURIComponent(p[1] || '');
    }
  }
  if (event.getApp_id() === 'internal')
    event.setApp_id('internal-' + params.env);
  return [{
    schema: 'iglu:com.acme/js_bench/jsonschema/1-0-0',
    data: { mobile: mobile, campaign: qs.utm_campaign || null, path: parts[0].length }
  }];
}
JS
mkdir -p "$TMP/none" "$TMP/js" "$TMP/api" "$TMP/sql"
printf '{"schema":"iglu:com.snowplowanalytics.snowplow/javascript_script_config/jsonschema/1-0-1","data":{"vendor":"com.snowplowanalytics.snowplow","name":"javascript_script_config","enabled":true,"parameters":{"script":"%s","config":{"env":"bench"}}}}\n' \
    "$(base64 -w0 "$TMP/script.js")" >"$TMP/js/javascript_script_config.json"

python3 "$ROOT/tests/tools/api_server.py" "$TMP/port" >/dev/null 2>&1 &
SERVER=$!
i=0
while [ ! -s "$TMP/port" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
PORT=$(cat "$TMP/port")
[ -n "$PORT" ] || { echo "bench: tests/tools/api_server.py did not start" >&2; exit 1; }
cat >"$TMP/api/api_request_enrichment_config.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-2",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"api_request_enrichment_config","enabled":true,
  "parameters":{"inputs":[{"key":"uid","pojo":{"field":"user_id"}}],
   "api":{"http":{"method":"GET","uri":"http://127.0.0.1:$PORT/user/{{uid}}","timeout":2000,"authentication":{}}},
   "outputs":[{"schema":"iglu:com.acme/user/jsonschema/1-0-0","json":{"jsonPath":"\$.record"}}],
   "cache":{"size":1000,"ttl":600}}}}
JSON

CONFIGS="none js api"
if PG_FSYNC=off pg_setup >/dev/null 2>&1; then
	pg_sql "CREATE TABLE users (uid text PRIMARY KEY, name text, score float8);
	  INSERT INTO users SELECT 'u' || i, 'User ' || i, i / 3.0 FROM generate_series(0, 99) i;
	  GRANT SELECT ON users TO furrow" >/dev/null
	cat >"$TMP/sql/sql_query_enrichment_config.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/1-0-1",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"sql_query_enrichment_config","enabled":true,
  "parameters":{"inputs":[{"placeholder":1,"pojo":{"field":"user_id"}}],
   "database":{"postgresql":{"host":"127.0.0.1","port":$PG_PORT,"sslMode":false,"username":"furrow",
     "password":"$PGPASSWORD","database":"furrow"}},
   "query":{"sql":"SELECT name, score FROM users WHERE uid = ?"},
   "output":{"expectedRows":"EXACTLY_ONE","json":{"schema":"iglu:com.acme/user/jsonschema/1-0-0","describes":"ALL_ROWS","propertyNames":"CAMEL_CASE"}},
   "cache":{"size":1000,"ttl":600}}}}
JSON
	CONFIGS="$CONFIGS sql"
else
	echo "bench: no PostgreSQL (apt-get install postgresql): the SQL case is skipped" >&2
fi

echo "commands (each run: stdin $TMP/in.raw, $(wc -l <"$TMP/in.raw") events):"
for c in $CONFIGS; do
	printf '  %-4s %s --schemas %s --resolver %s%s --bad %s/bad.jsonl < in.raw > good.tsv\n' "$c" \
	    "$BIN/enrich" "$ROOT/schemas" "$TMP/resolver.json" \
	    "$([ "$c" = none ] || echo " --enrichments $TMP/$c")" "$TMP"
done

python3 - "$BIN/enrich" "$ROOT/schemas" "$TMP" "$REPS" $CONFIGS <<'PY'
import os, resource, subprocess, sys
enrich, schemas, tmp, reps, configs = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5:]
floors = {"js": 0.5, "api": 0.8, "sql": 0.8}
events = sum(1 for _ in open(tmp + "/in.raw", "rb"))
cpu = {c: [] for c in configs}
for r in range(reps):
    for c in configs:
        args = [enrich, "--schemas", schemas, "--resolver", tmp + "/resolver.json", "--bad", tmp + "/bad.jsonl"]
        if c != "none":
            args += ["--enrichments", tmp + "/" + c]
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(tmp + "/in.raw", "rb") as i, open(tmp + "/good.tsv", "wb") as o, open(os.devnull, "wb") as e:
            subprocess.run(args, stdin=i, stdout=o, stderr=e, check=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        good = sum(1 for _ in open(tmp + "/good.tsv", "rb"))
        bad = sum(1 for _ in open(tmp + "/bad.jsonl", "rb"))
        os.unlink(tmp + "/bad.jsonl")
        if good != events or bad != 0:
            sys.exit("bench: %s: %d good, %d bad of %d events" % (c, good, bad, events))
        cpu[c].append(t)
        print("round %d %-4s %.3f CPU-s  %8.0f events/CPU-s" % (r + 1, c, t, events / t))
med = {c: sorted(v)[len(v) // 2] for c, v in cpu.items()}
print("median of %d rounds:" % reps)
for c in configs:
    line = "  %-4s %8.0f events/CPU-s" % (c, events / med[c])
    if c != "none":
        ratio = med["none"] / med[c]
        line += "  ratio %.2f (floor %.1f: %s)" % (ratio, floors[c], "ok" if ratio >= floors[c] else "BELOW")
    print(line)
PY
