#!/bin/sh
# Benchmark: enrich's throughput with Snowplow Mini's default enrichments
# (enrichments/default: campaign_attribution, event_fingerprint, referer_parser, ua_parser)
# against no enrichments, on the same input in the same run.
#
#   sh bench/enrichments.sh [EVENTS] [DISTINCT_USER_AGENTS]
#
# The input is EVENTS tp1 page views (default 200000) built with tests/tools/mkraw.c; their
# user agents cycle through DISTINCT_USER_AGENTS real ones (default 2000, from uap-core's
# tests/test_ua.yaml), so the ua_parser cache sees both hits and misses. Each configuration
# runs five times; the fastest run counts. Prints events/s and the ratio.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-200000}
UAS=${2:-2000}
BIN=${FURROW_BIN:-$ROOT/bin}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

[ -x "$BIN/enrich" ] || { echo "bench: build first (make)" >&2; exit 1; }
cc -O2 -I"$ROOT/common" -o "$TMP/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson

python3 - "$N" "$UAS" >"$TMP/requests.jsonl" <<'PY'
import json, re, sys
n, want = int(sys.argv[1]), int(sys.argv[2])
uas = []
try:
    for line in open("/usr/share/uap-core/tests/test_ua.yaml", encoding="utf-8"):
        m = re.match(r"\s*- user_agent_string: '(.*)'\s*$", line)
        if m and m.group(1) not in uas:
            uas.append(m.group(1).replace("''", "'"))
        if len(uas) >= want:
            break
except OSError:
    pass
if not uas:
    uas = ["Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"]
refs = ["https://www.google.com/search?q=red+shoes", "https://www.bing.com/search?q=boots",
        "https://m.facebook.com/", "https://shop.example.com/cart", "http://blog.example.org/x", ""]
per = 50   # events per distinct request line ("repeat")
for i in range(0, n, per):
    ua = uas[(i // per) % len(uas)]
    ref = refs[(i // per) % len(refs)]
    qs = ("e=pv&p=web&aid=shop&tv=js-3.17.0&tna=sp1&duid=85094061-2a4d-4b5e-9c6f-7a8b9c0d1e2f"
          "&vid=3&sid=BE9520E7-1111-4222-8333-444455556666&dtm=1699999999000&stm=1700000000500"
          "&url=https%3A%2F%2Fshop.example.com%2Fp%2F" + str(i) +
          "%3Futm_source%3Dnews%26utm_medium%3Demail%26utm_campaign%3Dspring&page=Shop")
    if ref:
        qs += "&refr=" + ref.replace(":", "%3A").replace("/", "%2F").replace("?", "%3F").replace("=", "%3D").replace("+", "%2B")
    print(json.dumps({"path": "/i", "qs": qs, "ua": ua, "repeat": min(per, n - i),
                      "headers": ["Host: collector.example.com", "User-Agent: " + ua]}))
PY
"$TMP/mkraw" <"$TMP/requests.jsonl" >"$TMP/in.raw"
lines=$(wc -l <"$TMP/in.raw")

# best() runs enrich five times and prints the lowest wall time and the lowest CPU time
# (user + system of the child), in seconds; on a busy machine the CPU figure is steadier.
best() {
	python3 - "$BIN/enrich" "$TMP" "$@" <<'PY'
import os, resource, subprocess, sys, time
enrich, tmp, args = sys.argv[1], sys.argv[2], sys.argv[3:]
best = None
for _ in range(5):
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(tmp + "/in.raw", "rb") as i, open(tmp + "/good.tsv", "wb") as o, \
            open(os.devnull, "wb") as e:
        subprocess.run([enrich, "--schemas", os.environ["FURROW_BENCH_SCHEMAS"]]
                       + args + ["--bad", tmp + "/bad.jsonl"], stdin=i, stdout=o, stderr=e, check=True)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    os.unlink(tmp + "/bad.jsonl")
    best = (wall, cpu) if best is None else (min(best[0], wall), min(best[1], cpu))
print("%.4f %.4f" % best)
PY
}

export FURROW_BENCH_SCHEMAS="$ROOT/schemas"
r0=$(best)
good0=$(wc -l <"$TMP/good.tsv")
r1=$(best --enrichments "$ROOT/enrichments/default")
good1=$(wc -l <"$TMP/good.tsv")
set -- $r0 $r1
printf 'input: %d events, %s distinct user agents\n' "$lines" "$UAS"
printf 'no enrichments:   %8.0f events/s  (%d good; min of 5: %.3f s wall, %.3f s CPU)\n' \
    "$(echo "$lines / $1" | bc -l)" "$good0" "$1" "$2"
printf 'Mini default set: %8.0f events/s  (%d good; min of 5: %.3f s wall, %.3f s CPU)\n' \
    "$(echo "$lines / $3" | bc -l)" "$good1" "$3" "$4"
printf 'ratio (events/s, default set / none): %.2f wall, %.2f CPU\n' \
    "$(echo "$1 / $3" | bc -l)" "$(echo "$2 / $4" | bc -l)"
