#!/bin/sh
# Benchmark enrich on realistic raw records and compare it with the parse-only bound.
#
#   sh bench/enrich.sh [RECORDS]        (default 60000; run from the repository root after make)
#
# Records: a third GET page views with two contexts (web_page, client_session in cx), a third
# POSTed self-describing link_click events (ue_px, payload_data 1-0-4, with the same contexts),
# a third GET structured events. Each is a separate collector payload, as the JS tracker sends
# them. Reports events/s (one core: enrich is single-threaded), the parse-only bound on the same
# input (base64 + Thrift + jansson on every JSON text), their ratio, max RSS, and, if valgrind
# is installed, instructions per event from callgrind on a 2000-record sample.
set -eu
N=${1:-60000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$ROOT/.cache/bench}
mkdir -p "$W"
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
records=$(wc -l <"$W/in.raw")
echo "records: $records ($(du -h "$W/in.raw" | cut -f1))"

: >"$W/bad.jsonl"
"$ROOT/bin/enrich" -q --bad "$W/bad.jsonl" <"$W/in.raw" >"$W/out.tsv"
echo "check: good $(wc -l <"$W/out.tsv"), bad $(wc -l <"$W/bad.jsonl")"

# CPU time (user + sys), best of three runs each: the machine may be shared.
best() {   # best CMD... : prints "seconds maxrss_kb" of the fastest of 3 runs
	b=""
	for i in 1 2 3; do
		/usr/bin/time -f "%U %S %M" -o "$W/time" "$@" <"$W/in.raw" >/dev/null 2>/dev/null
		t=$(awk '{ printf "%.3f %d", $1 + $2, $3 }' "$W/time" | tail -1)
		if [ -z "$b" ] || [ "$(echo "$t $b" | awk '{ print ($1 < $3) }')" = 1 ]; then b=$t; fi
	done
	echo "$b"
}
e=$(best "$ROOT/bin/enrich" -q --bad /dev/null)
p=$(best "$W/parse_only")
python3 - "$records" $e $p <<'PY'
import sys
n, te, rss, tp = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
e, p = n / te, n / tp
print("enrich:     %8.0f events/s per core  (%.2f s CPU, best of 3)  max RSS %.1f MB" % (e, te, rss / 1024))
print("parse-only: %8.0f records/s per core (%.2f s CPU, best of 3)" % (p, tp))
print("ratio enrich / parse-only: %.2f" % (e / p))
PY
if command -v valgrind >/dev/null 2>&1; then
	head -n 2000 "$W/in.raw" >"$W/sample.raw"
	for prog in enrich parse_only; do
		if [ $prog = enrich ]; then cmd="$ROOT/bin/enrich -q --bad /dev/null"; else cmd="$W/parse_only"; fi
		valgrind --tool=callgrind --callgrind-out-file="$W/cg.$prog" $cmd <"$W/sample.raw" >/dev/null 2>"$W/cg.$prog.log" || true
		ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$W/cg.$prog.log")
		[ -n "$ir" ] && echo "$prog: $((ir / 2000)) instructions/record (callgrind, 2000 records, incl. startup)"
	done
fi
