#!/bin/sh
# Benchmark: enrich with Snowplow Mini's default enrichments (enrichments/default:
# campaign_attribution, event_fingerprint, referer_parser, ua_parser) against enrich with none,
# on the same input, in the same run.
#
#   sh bench/enrichments.sh [EVENTS] [REPETITIONS]        (defaults 200000 and 5)
#
# Input: EVENTS tp1 page views (tests/tools/mkraw.c), each with a user agent drawn at random
# (seeded: $BENCH_SEED, default 17) from the distinct user agents of uap-core's
# tests/test_ua.yaml (Debian package uap-core: 1,424 of them), so the ua_parser sees them in
# random order, as a site does, not each repeated in a row; referers are drawn the same way.
# Each repetition runs both configurations one after the other, in an order that alternates
# from one repetition to the next (interleaved: load from elsewhere on the shared machine hits
# both alike). The figure is CPU-seconds (user + system) of the enrich process, from wait4();
# per configuration the min and median over the repetitions, events per CPU-second, and the
# ratio default / none of the medians (and of the mins). The exact commands are printed.
#
# Files go to $BENCH_DIR (default: a fresh directory under ${TMPDIR:-/tmp}, removed at exit
# unless BENCH_KEEP=1), never into the repository.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-200000}
REPS=${2:-5}
SEED=${BENCH_SEED:-17}
BIN=${FURROW_BIN:-$ROOT/bin}
UAP_TESTS=${UAP_TESTS:-/usr/share/uap-core/tests/test_ua.yaml}
[ -x "$BIN/enrich" ] || { echo "bench: build first (make)" >&2; exit 69; }
[ -r "$UAP_TESTS" ] || { echo "bench: $UAP_TESTS is missing (apt-get install uap-core)" >&2; exit 69; }
if [ -n "${BENCH_DIR:-}" ]; then
	W=$BENCH_DIR
	mkdir -p "$W"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-enrichments.XXXXXX")
	[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT INT TERM
fi

cc -O2 -I"$ROOT/common" -o "$W/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson

python3 - "$N" "$SEED" "$UAP_TESTS" >"$W/requests.jsonl" 2>"$W/uas.count" <<'PY'
import json, random, re, sys
n, seed, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
uas = []
# the file's user_agent_string values: single-quoted ('' is a quote) or double-quoted (JSON-like)
for line in open(path, encoding="utf-8"):
    m = re.match(r"\s*- user_agent_string:\s*(?:'((?:[^']|'')*)'|(\".*\"))\s*$", line)
    if m:
        uas.append(m.group(1).replace("''", "'") if m.group(1) is not None else json.loads(m.group(2)))
uas = sorted(set(uas))
print(len(uas), file=sys.stderr)
refs = ["https://www.google.com/search?q=red+shoes", "https://www.bing.com/search?q=boots",
        "https://m.facebook.com/", "https://shop.example.com/cart", "http://blog.example.org/x", ""]
rnd = random.Random(seed)
q = lambda s: s.replace("%", "%25").replace("&", "%26").replace(":", "%3A").replace("/", "%2F") \
    .replace("?", "%3F").replace("=", "%3D").replace("+", "%2B")
for i in range(n):
    ua, ref = rnd.choice(uas), rnd.choice(refs)
    qs = ("e=pv&p=web&aid=shop&tv=js-3.17.0&tna=sp1&duid=85094061-2a4d-4b5e-9c6f-7a8b9c0d1e2f"
          "&vid=3&sid=BE9520E7-1111-4222-8333-444455556666&dtm=1699999999000&stm=1700000000500"
          "&url=https%3A%2F%2Fshop.example.com%2Fp%2F" + str(i) +
          "%3Futm_source%3Dnews%26utm_medium%3Demail%26utm_campaign%3Dspring&page=Shop")
    if ref:
        qs += "&refr=" + q(ref)
    print(json.dumps({"path": "/i", "qs": qs, "ua": ua,
                      "headers": ["Host: collector.example.com", "User-Agent: " + ua]}))
PY
"$W/mkraw" <"$W/requests.jsonl" >"$W/in.raw"
rm -f "$W/requests.jsonl"
lines=$(wc -l <"$W/in.raw")
uas=$(cat "$W/uas.count")

NONE="$BIN/enrich --schemas $ROOT/schemas --bad $W/bad.none.jsonl"
DEFAULT="$BIN/enrich --schemas $ROOT/schemas --enrichments $ROOT/enrichments/default --bad $W/bad.default.jsonl"
echo "input: $lines page views, $uas distinct user agents from $UAP_TESTS in random order (seed $SEED)"
echo "commands (stdin $W/in.raw), $REPS repetitions, interleaved:"
echo "  none:    $NONE >$W/good.none.tsv"
echo "  default: $DEFAULT >$W/good.default.tsv"

python3 - "$W" "$REPS" "$lines" "$NONE" "$DEFAULT" <<'PY'
import os, shlex, statistics, subprocess, sys
w, reps, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cmds = {"none": shlex.split(sys.argv[4]), "default": shlex.split(sys.argv[5])}
cpu = {"none": [], "default": []}

def run(name):
    with open(w + "/in.raw", "rb") as i, open(w + "/good.%s.tsv" % name, "wb") as o, \
            open(w + "/err.%s.log" % name, "wb") as e:
        p = subprocess.Popen(cmds[name], stdin=i, stdout=o, stderr=e)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit("bench: %s exited %d (see %s/err.%s.log)" % (name, p.returncode, w, name))
    return ru.ru_utime + ru.ru_stime

for r in range(reps):
    order = ["none", "default"] if r % 2 == 0 else ["default", "none"]
    for name in order:
        cpu[name].append(run(name))
    print("  rep %d: none %.3f s, default %.3f s CPU" % (r + 1, cpu["none"][-1], cpu["default"][-1]))

good = {n: sum(1 for _ in open(w + "/good.%s.tsv" % n, "rb")) for n in cpu}
bad = {n: sum(1 for _ in open(w + "/bad.%s.jsonl" % n, "rb")) for n in cpu}
for n in ("none", "default"):
    mn, md = min(cpu[n]), statistics.median(cpu[n])
    print("%-8s %8.0f events/CPU-s median, %8.0f best  (CPU s: min %.3f, median %.3f; good %d, bad %d)"
          % (n + ":", lines / md, lines / mn, mn, md, good[n], bad[n]))
med = statistics.median(cpu["none"]) / statistics.median(cpu["default"])
best = min(cpu["none"]) / min(cpu["default"])
print("ratio default / none (events per CPU-second): %.2f of medians, %.2f of mins" % (med, best))
if good["none"] != lines or good["default"] != lines:
    sys.exit("bench: not every event came out good")
PY
