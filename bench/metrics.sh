#!/bin/bash
# bench/metrics.sh: what --metrics-listen costs (issue 16: at most 2 % of a stage's throughput).
#
#   bench/metrics.sh [REPS] [ENRICH_RECORDS] [ES_EVENTS]     # defaults 5, 60000, 100000
#   ES_URL=http://host:9200 bench/metrics.sh                 # a running engine for es-sink
#
# Each stage runs the same input REPS times without the flag and REPS times with it, interleaved
# in ABBA order (off on, on off, off on, ...), so that a machine shared with other work slows
# both alike and neither always runs second. BENCH_STAGES="enrich es-sink" picks the stages. With the
# flag, a scraper fetches /metrics every 0.2 s for the whole run (75 times Prometheus's default
# 15 s interval: an upper bound of the serving cost). The measure is the stage's CPU time (user +
# system, /usr/bin/time), not wall time; the report gives each run, the medians, and
# cost = median(on) / median(off) - 1 against the 2 % floor.
#   enrich:  raw records from the golden requests (tests/golden/enrich/requests.jsonl, mkraw),
#            repeated to ENRICH_RECORDS lines; output to /dev/null.
#   es-sink: ES_EVENTS distinct golden events (tests/golden/es-sink/good.tsv) into a fresh
#            index of a real Elasticsearch (tests/setup-es.sh) each run, 500 per _bulk.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
REPS=${1:-5}
NE=${2:-60000}
NS=${3:-100000}
STAGES=${BENCH_STAGES:-enrich es-sink}
BIN=${FURROW_BIN:-$root/bin}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
started=0 scraper=""
cleanup() {
	[ -n "$scraper" ] && kill "$scraper" 2>/dev/null
	[ "$started" = 1 ] && es_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
[ -x "$BIN/enrich" ] && [ -x "$BIN/es-sink" ] || { echo "bench: build first (make)" >&2; exit 1; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# scrape PORT: fetch /metrics every 0.2 s until killed
scrape() { while :; do curl -s -o /dev/null -m 1 "http://127.0.0.1:$1/metrics"; sleep 0.2; done; }
# cpu OUT CMD...: run CMD with stdin as given, append its user+sys seconds to OUT
cpu() {
	local out=$1; shift
	/usr/bin/time -f '%U %S' -o "$tmp/time" "$@" || echo "bench: $1 failed" >&2
	awk '{ printf "%.3f\n", $1 + $2 }' "$tmp/time" >>"$out"
}
median() { sort -n "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {  # report NAME UNITS N
	local off on
	off=$(median "$tmp/$1.off") on=$(median "$tmp/$1.on")
	echo "$1 CPU-seconds without --metrics-listen: $(tr '\n' ' ' <"$tmp/$1.off")"
	echo "$1 CPU-seconds with    --metrics-listen: $(tr '\n' ' ' <"$tmp/$1.on")"
	awk -v off="$off" -v on="$on" -v n="$3" -v u="$2" -v name="$1" 'BEGIN {
	    cost = on / off - 1
	    printf "%s: median %.3f s off, %.3f s on: %.0f vs %.0f %s per CPU-second; cost %+.2f %% (floor: <= 2 %%) %s\n",
	        name, off, on, n / off, n / on, u, cost * 100, (cost <= 0.02 ? "PASS" : "FAIL") }'
}

# ---- enrich ----
P=$(free_port)
if [[ " $STAGES " == *" enrich "* ]]; then
cc -O2 -I"$root/common" -o "$tmp/mkraw" "$root/tests/tools/mkraw.c" "$root/common/thrift.c" \
    "$root/common/base64.c" "$root/common/buf.c" -ljansson || exit 1
"$tmp/mkraw" <"$root/tests/golden/enrich/requests.jsonl" >"$tmp/one.raw"
awk -v n="$NE" '{ l[NR] = $0 } END { for (i = 0; i < n; i++) print l[i % NR + 1] }' "$tmp/one.raw" >"$tmp/in.raw"
echo "enrich input: $NE records ($(wc -c <"$tmp/in.raw") bytes)"
E="$BIN/enrich -q --schemas $root/schemas --resolver $root/tests/golden/enrich/resolver.json --stats-interval 0 --bad /dev/null"
cpu /dev/null $E <"$tmp/in.raw" >/dev/null 2>&1          # warm the page cache
enrich_off() {
	echo "+ $E < in.raw > /dev/null"
	cpu "$tmp/enrich.off" $E <"$tmp/in.raw" >/dev/null
}
enrich_on() {
	echo "+ $E --metrics-listen 127.0.0.1:$P < in.raw > /dev/null   (scraped every 0.2 s)"
	scrape "$P" & scraper=$!
	cpu "$tmp/enrich.on" $E --metrics-listen "127.0.0.1:$P" <"$tmp/in.raw" >/dev/null
	kill "$scraper"; wait "$scraper" 2>/dev/null; scraper=""
}
for r in $(seq 1 "$REPS"); do
	if [ $((r % 2)) = 1 ]; then enrich_off; enrich_on; else enrich_on; enrich_off; fi
done
report enrich records "$NE"
fi
[[ " $STAGES " == *" es-sink "* ]] || exit 0

# ---- es-sink ----
. "$root/tests/setup-es.sh"
if [ -z "${ES_URL:-}" ]; then
	FURROW_ES_HEAP=${FURROW_ES_HEAP:-1g} es_start 180 || { echo "es-sink: no Elasticsearch: skipped"; exit 0; }
	started=1
fi
echo "engine: $ES_ENGINE at $ES_URL"
awk -F'\t' -v OFS='\t' -v n="$NS" '
    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
      $7 = sprintf("aaaaaaaa-1c4d-4e5f-8a7b-%012x", i); print } }' "$root/tests/golden/es-sink/good.tsv" >"$tmp/events.tsv"
echo "es-sink input: $NS events ($(wc -c <"$tmp/events.tsv") bytes)"
S="$BIN/es-sink -q --url $ES_URL --batch-docs 500 --batch-bytes 1000000000 --stats-interval 0"
fresh() { curl -s -o /dev/null -X DELETE "$ES_URL/bench_metrics"; $S --index bench_metrics --setup-only || exit 1; }
fresh; $S --index bench_metrics --bad /dev/null <"$tmp/events.tsv"      # warm-up
sink_off() {
	fresh
	echo "+ $S --index bench_metrics --bad /dev/null < events.tsv"
	cpu "$tmp/es-sink.off" $S --index bench_metrics --bad /dev/null <"$tmp/events.tsv"
}
sink_on() {
	fresh
	echo "+ $S --index bench_metrics --bad /dev/null --metrics-listen 127.0.0.1:$P < events.tsv   (scraped every 0.2 s)"
	scrape "$P" & scraper=$!
	cpu "$tmp/es-sink.on" $S --index bench_metrics --bad /dev/null --metrics-listen "127.0.0.1:$P" <"$tmp/events.tsv"
	kill "$scraper"; wait "$scraper" 2>/dev/null; scraper=""
}
for r in $(seq 1 "$REPS"); do
	if [ $((r % 2)) = 1 ]; then sink_off; sink_on; else sink_on; sink_off; fi
done
[[ " $STAGES " == *" enrich "* ]] && report enrich records "$NE"
report es-sink documents "$NS"
