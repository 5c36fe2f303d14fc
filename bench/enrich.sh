#!/bin/sh
# Benchmark enrich on realistic raw records and compare it with the parse-only bound.
#
#   sh bench/enrich.sh [RECORDS] [REPETITIONS]    (defaults 60000 and 5; after make)
#
# Records: a third GET page views with two contexts (web_page, client_session in cx), a third
# POSTed self-describing link_click events (ue_px, payload_data 1-0-4, with the same contexts),
# a third GET structured events, interleaved; each is a separate collector payload, as the JS
# tracker sends them (bench/raw_input.py). The parse-only bound (bench/parse_only.c) does
# base64 + Thrift + jansson on every JSON text of the same input.
#
# Each repetition runs enrich and parse_only one after the other, in an order that alternates
# from one repetition to the next (interleaved: load from elsewhere on the shared machine hits
# both alike). The figure is CPU-seconds (user + system) of the process, from wait4(); per
# command the min and median, records per CPU-second, and the ratio of the medians (and of the
# mins); max RSS. With valgrind installed, instructions per record from callgrind on a
# 2000-record sample, minus a run on empty input (startup is not per record). The exact
# commands are printed.
#
# Files go to $BENCH_DIR (default: a fresh directory under ${TMPDIR:-/tmp}, removed at exit
# unless BENCH_KEEP=1), never into the repository.
set -eu
N=${1:-60000}
REPS=${2:-5}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${FURROW_BIN:-$ROOT/bin}
[ -x "$BIN/enrich" ] || { echo "bench: build first (make)" >&2; exit 69; }
if [ -n "${BENCH_DIR:-}" ]; then
	W=$BENCH_DIR
	mkdir -p "$W"
else
	W=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-enrich.XXXXXX")
	[ "${BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$W"' EXIT INT TERM
fi
cc -O2 -I"$ROOT/common" -o "$W/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson
cc -O2 -D_GNU_SOURCE -I"$ROOT/common" -o "$W/parse_only" "$ROOT/bench/parse_only.c" \
    "$ROOT/common/thrift.c" "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson

python3 "$ROOT/bench/raw_input.py" "$N" >"$W/req.jsonl"
"$W/mkraw" <"$W/req.jsonl" >"$W/unsorted.raw"
# interleave the three kinds (the file is grouped by kind)
python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
k = len(lines) // 3
out = []
for i in range(k):
    out += [lines[i], lines[k + i], lines[2 * k + i]]
open(sys.argv[2], "w").write("\n".join(out) + "\n")' "$W/unsorted.raw" "$W/in.raw"
rm -f "$W/req.jsonl" "$W/unsorted.raw"
records=$(wc -l <"$W/in.raw")

ENRICH="$BIN/enrich -q --bad $W/bad.jsonl"
PARSE="$W/parse_only"
echo "records: $records ($(du -h "$W/in.raw" | cut -f1)) in $W/in.raw"
echo "commands (stdin $W/in.raw, stdout /dev/null), $REPS repetitions, interleaved:"
echo "  enrich:     $ENRICH"
echo "  parse-only: $PARSE"

python3 - "$W" "$REPS" "$records" "$ENRICH" "$PARSE" <<'PY'
import os, shlex, statistics, subprocess, sys
w, reps, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
cmds = {"enrich": shlex.split(sys.argv[4]), "parse-only": shlex.split(sys.argv[5])}
cpu = {k: [] for k in cmds}
rss = {k: 0 for k in cmds}

def run(name):
    with open(w + "/in.raw", "rb") as i, open(os.devnull, "wb") as o, open(w + "/err.log", "wb") as e:
        p = subprocess.Popen(cmds[name], stdin=i, stdout=o, stderr=e)
        _, status, ru = os.wait4(p.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench: %s failed (see %s/err.log)" % (name, w))
    rss[name] = max(rss[name], ru.ru_maxrss)
    return ru.ru_utime + ru.ru_stime

for r in range(reps):
    order = ["enrich", "parse-only"] if r % 2 == 0 else ["parse-only", "enrich"]
    for name in order:
        cpu[name].append(run(name))
    print("  rep %d: enrich %.3f s, parse-only %.3f s CPU" % (r + 1, cpu["enrich"][-1], cpu["parse-only"][-1]))
for k in ("enrich", "parse-only"):
    mn, md = min(cpu[k]), statistics.median(cpu[k])
    print("%-11s %8.0f records/CPU-s median, %8.0f best  (CPU s: min %.3f, median %.3f; max RSS %.1f MB)"
          % (k + ":", n / md, n / mn, mn, md, rss[k] / 1024))
print("ratio enrich / parse-only (records per CPU-second): %.2f of medians, %.2f of mins"
      % (statistics.median(cpu["parse-only"]) / statistics.median(cpu["enrich"]),
         min(cpu["parse-only"]) / min(cpu["enrich"])))
PY
bad=$(wc -l <"$W/bad.jsonl")
[ "$bad" -eq 0 ] || echo "bench: warning: $bad bad rows (see $W/bad.jsonl)" >&2

if command -v valgrind >/dev/null 2>&1; then
	S=2000
	head -n "$S" "$W/in.raw" >"$W/sample.raw"
	echo "callgrind: $S records of $W/sample.raw minus empty input (startup excluded):"
	for prog in enrich parse_only; do
		if [ $prog = enrich ]; then cmd="$BIN/enrich -q --bad /dev/null"; else cmd="$W/parse_only"; fi
		for input in sample empty; do
			if [ $input = sample ]; then f="$W/sample.raw"; else f=/dev/null; fi
			valgrind --tool=callgrind --callgrind-out-file="$W/cg.$prog.$input" $cmd <"$f" \
			    >/dev/null 2>"$W/cg.$prog.$input.log" || true
		done
		ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/cg.$prog.sample.log")
		ir0=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/cg.$prog.empty.log")
		[ -n "$ir" ] && [ -n "$ir0" ] &&
		    echo "  $prog: $(( (ir - ir0) / S )) instructions/record (startup $ir0 instructions): valgrind --tool=callgrind $cmd <$W/sample.raw (and </dev/null)"
	done
fi
