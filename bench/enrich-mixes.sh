#!/bin/sh
# enrich against the parse-only bound (bench/parse_only.c: base64 + Thrift + jansson on every
# JSON text, nothing else) on three mixes, in CPU-seconds of the process (user + sys):
#   pv2     GET page views with two contexts (web_page, client_session)
#   tp2x10  POSTed tp2 batches of 10 self-describing link_click events, each with the two contexts
#   cx50    GET page views with 50 contexts
# Inputs from bench/enrich_mixes.py (100 distinct records a mix, repeated round-robin). Each
# repetition runs, per mix, enrich and parse-only one after the other, the order alternating
# between repetitions; per mix: min and median CPU-seconds of each, and the ratio of the medians
# parse-only / enrich (1.0 = enrich costs no more than parsing). Startup is included but is
# under 20 ms (the records are many). Optional: BENCH_CALLGRIND=1 adds callgrind instructions per
# record on 1,000 records, startup (an empty input) subtracted.
#
#   sh bench/enrich-mixes.sh [RECORDS] [REPS]     (defaults 100000 and 3; tp2x10 gets RECORDS/10)
#
# Written under BENCH_DIR (default a fresh mktemp directory, printed).
set -eu
N=${1:-100000}
REPS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-mixes.XXXXXX")}
mkdir -p "$W"
[ -x "$ROOT/bin/enrich" ] || { echo "bench: build first (make)" >&2; exit 69; }
cc -O2 -I"$ROOT/common" -o "$W/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson
cc -O2 -D_GNU_SOURCE -I"$ROOT/common" -o "$W/parse_only" "$ROOT/bench/parse_only.c" \
    "$ROOT/common/thrift.c" "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson
MIXES="pv2 tp2x10 cx50"
for m in $MIXES; do
	n=$N
	[ $m = tp2x10 ] && n=$((N / 10))
	python3 "$ROOT/bench/enrich_mixes.py" $m $n | "$W/mkraw" >"$W/$m.raw"
	: >"$W/$m.bad"
	good=$("$ROOT/bin/enrich" -q --schemas "$ROOT/schemas" --bad "$W/$m.bad" <"$W/$m.raw" | wc -l)
	echo "$m: $(wc -l <"$W/$m.raw") records, $(du -h "$W/$m.raw" | cut -f1), enrich: $good good, $(wc -l <"$W/$m.bad") bad"
done
ENRICH="$ROOT/bin/enrich -q --schemas $ROOT/schemas --bad /dev/null"
echo "commands (stdin: $W/MIX.raw, stdout: /dev/null):"
echo "  enrich:     $ENRICH"
echo "  parse-only: $W/parse_only        (cc -O2 bench/parse_only.c common/{thrift,base64,buf}.c -ljansson)"
: >"$W/times"
one() {   # one MIX NAME CMD...
	m=$1 name=$2; shift 2
	/usr/bin/time -f "%U %S" -o "$W/time" "$@" <"$W/$m.raw" >/dev/null 2>"$W/stderr"
	awk -v m=$m -v n=$name '{ printf "%s %s %.3f\n", m, n, $1 + $2 }' "$W/time" >>"$W/times"
}
rep=1
while [ $rep -le "$REPS" ]; do
	for m in $MIXES; do
		if [ $((rep % 2)) = 1 ]; then
			one $m enrich $ENRICH; one $m parse "$W/parse_only"
		else
			one $m parse "$W/parse_only"; one $m enrich $ENRICH
		fi
	done
	rep=$((rep + 1))
done
echo "CPU-seconds over $REPS interleaved repetitions:"
awk -v mixes="$MIXES" '
function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ k = $1 " " $2; c[k]++; v[k, c[k]] = $3 }
END {
	nm = split(mixes, ms, " ")
	for (i = 1; i <= nm; i++) {
		for (s = 0; s < 2; s++) {
			k = ms[i] " " (s ? "parse" : "enrich")
			for (j = 1; j <= c[k]; j++) a[j] = v[k, j]
			med[k] = median(a, c[k]); lo[k] = a[1]
		}
		printf "  %-7s enrich min %6.2f median %6.2f s   parse-only min %6.2f median %6.2f s   ratio %.2f (medians), %.2f (mins)\n",
		    ms[i], lo[ms[i] " enrich"], med[ms[i] " enrich"], lo[ms[i] " parse"], med[ms[i] " parse"],
		    med[ms[i] " parse"] / med[ms[i] " enrich"], lo[ms[i] " parse"] / lo[ms[i] " enrich"]
	}
}' "$W/times"
if [ "${BENCH_CALLGRIND:-0}" = 1 ] && command -v valgrind >/dev/null 2>&1; then
	cg() { valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'; }
	e0=$(cg $ENRICH </dev/null); p0=$(cg "$W/parse_only" </dev/null)
	for m in $MIXES; do
		head -n 1000 "$W/$m.raw" >"$W/$m.1k"
		e=$(cg $ENRICH <"$W/$m.1k"); p=$(cg "$W/parse_only" <"$W/$m.1k")
		awk -v m=$m -v e=$((e - e0)) -v p=$((p - p0)) 'BEGIN {
		    printf "  %-7s callgrind: enrich %.0f, parse-only %.0f instructions/record, ratio %.2f\n", m, e / 1000, p / 1000, p / e }'
	done
fi
echo "results: $W"
