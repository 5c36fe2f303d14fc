#!/bin/sh
# enrich on raw records (20 copies) whose query string holds N parameters (half of them
# repeated), for N = 10,000 ... 80,000: parse and de-duplication must stay linear (raw records may come from
# collectors with bigger limits than furrow's). Prints the CPU seconds of each size (best of 3
# runs, sizes interleaved) and the ratio 80,000 / 10,000: about 8 when linear, 64 when
# quadratic (before the fix one 80,000-parameter line took 22 s).
#
#   sh bench/enrich-params.sh          (from the repository root, after make)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$ROOT/.cache/bench}
mkdir -p "$W"
cc -O2 -I"$ROOT/common" -o "$W/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson
SIZES="10000 20000 40000 80000"
for n in $SIZES; do
	python3 -c '
import json, sys
n = int(sys.argv[1])
qs = "e=pv&p=web&tv=t&" + "&".join("p%d=v%d" % (i % (n // 2), i) for i in range(n))
print(json.dumps({"path": "/i", "qs": qs, "repeat": 20}))' "$n" | "$W/mkraw" >"$W/params-$n.raw"
done
CMD="$ROOT/bin/enrich -q --schemas $ROOT/schemas --bad /dev/null"
echo "command: $CMD <params-N.raw >/dev/null"
for n in $SIZES; do echo 9999 >"$W/best-$n"; done
for rep in 1 2 3; do
	for n in $SIZES; do
		/usr/bin/time -f "%U %S" -o "$W/time" $CMD <"$W/params-$n.raw" >/dev/null
		awk -v b="$(cat "$W/best-$n")" '{ t = $1 + $2; print (t < b ? t : b) }' "$W/time" \
		    >"$W/best-$n.new"
		mv "$W/best-$n.new" "$W/best-$n"
	done
done
for n in $SIZES; do printf '%6d parameters x 20 records: %.2f s CPU (best of 3)\n' "$n" "$(cat "$W/best-$n")"; done
awk -v a="$(cat "$W/best-10000")" -v b="$(cat "$W/best-80000")" 'BEGIN {
	if (a < 0.01) a = 0.01
	printf "ratio 80,000 / 10,000: %.1f (linear 8, quadratic 64)\n", b / a }'
