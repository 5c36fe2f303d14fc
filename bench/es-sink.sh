#!/bin/bash
# bench/es-sink.sh: es-sink against curl posting the same documents as pre-built bulk bodies.
#
#   bench/es-sink.sh [EVENTS]            # default 100000
#   ES_URL=http://host:9200 bench/es-sink.sh   # use a running engine instead of starting one
#
# Both write EVENTS enriched events (the golden events of tests/golden/es-sink/good.tsv with
# fresh event_ids) into fresh indexes created by `es-sink --setup-only`, with the same batch
# size (500 documents; es-sink's byte limit is lifted so that its batches are 500 too). curl gets the exact bulk bodies es-sink would send (built beforehand
# from `es-sink --dump`, not timed) and posts them one after the other on one connection (a
# curl config file with one entry per body). A warm-up run precedes both; then two rounds, the
# second with curl first. Reports documents/s per round, the best of each and their ratio, and
# es-sink's peak RSS. Needs the engine from tests/setup-es.sh, curl,
# jq, /usr/bin/time.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
BATCH=500
SINK=${FURROW_BIN:-$root/bin}/es-sink
tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
started=0
cleanup() { [ "$started" = 1 ] && es_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT

[ -x "$SINK" ] || { echo "bench: build first (make)" >&2; exit 1; }
. "$root/tests/setup-es.sh"
if [ -z "${ES_URL:-}" ]; then
	FURROW_ES_HEAP=${FURROW_ES_HEAP:-1g} es_start 180 || exit 1
	started=1
fi
echo "engine: $ES_ENGINE at $ES_URL"

gen() {  # gen N PREFIX: N distinct events
	awk -F'\t' -v OFS='\t' -v n="$1" -v p="$2" '
	    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
	      $7 = sprintf("%s-1c4d-4e5f-8a7b-%012x", p, i); print } }' "$root/tests/golden/es-sink/good.tsv"
}
gen "$N" aaaaaaaa >"$tmp/events.tsv"
gen 20000 eeeeeeee >"$tmp/warm.tsv"
echo "input: $N events, $(wc -c <"$tmp/events.tsv") bytes of TSV"

# curl's bodies: exactly what es-sink sends (action line + document), BATCH documents each
"$SINK" --dump <"$tmp/events.tsv" 2>/dev/null |
    jq -c '{index: {_index: "bench_curl", _id: .event_id}}, .' >"$tmp/ndjson"
split -l $((BATCH * 2)) -d -a 5 "$tmp/ndjson" "$tmp/body."
for f in "$tmp"/body.*; do
	[ "$f" = "$tmp/body.00000" ] || echo next
	printf 'url = "%s/_bulk"\ndata-binary = "@%s"\nheader = "Content-Type: application/x-ndjson"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' "$ES_URL" "$f"
done >"$tmp/curl.conf"

curl -s -o /dev/null -X DELETE "$ES_URL/bench_warm"
"$SINK" --url "$ES_URL" --index bench_warm --setup-only -q || exit 1
"$SINK" --url "$ES_URL" --index bench_warm --stats-interval 0 -q <"$tmp/warm.tsv"

now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }
# two rounds, alternating who goes first, into fresh indexes each time; best of each reported
best_s=0 best_c=0
for round in 1 2; do
	for idx in bench_sink bench_curl; do
		curl -s -o /dev/null -X DELETE "$ES_URL/$idx"
		"$SINK" --url "$ES_URL" --index "$idx" --setup-only -q || exit 1
	done
	run_sink() {
		local t0 t1
		t0=$(now)
		/usr/bin/time -f '%M' -o "$tmp/rss.$round" "$SINK" --url "$ES_URL" --index bench_sink \
		    --batch-docs $BATCH --batch-bytes 1000000000 --stats-interval 0 \
		    --bad "$tmp/bad.json" <"$tmp/events.tsv" 2>"$tmp/sink.err.$round" || echo "es-sink failed"
		t1=$(now)
		ts=$(calc "$t1 - $t0")
	}
	run_curl() {
		local t0 t1
		t0=$(now)
		curl -s -K "$tmp/curl.conf" >"$tmp/curl.codes"
		t1=$(now)
		tc=$(calc "$t1 - $t0")
	}
	if [ $round = 1 ]; then run_sink; run_curl; else run_curl; run_sink; fi
	curl -s -o /dev/null -X POST "$ES_URL/bench_sink,bench_curl/_refresh"
	ns=$(curl -s "$ES_URL/bench_sink/_count" | jq .count)
	nc=$(curl -s "$ES_URL/bench_curl/_count" | jq .count)
	rs=$(calc "$N / $ts"); rcu=$(calc "$N / $tc")
	printf 'round %d: es-sink %d docs in %.2f s = %.0f docs/s (peak RSS %d kB); curl %d docs (%d requests, non-2xx %d) in %.2f s = %.0f docs/s\n' \
	    $round "$ns" "$ts" "$rs" "$(cat "$tmp/rss.$round")" "$nc" "$(wc -l <"$tmp/curl.codes")" \
	    "$(grep -vc '^2' "$tmp/curl.codes")" "$tc" "$rcu"
	grep 'exit:' "$tmp/sink.err.$round" | sed 's/^/  es-sink counters: /'
	best_s=$(calc "($rs > $best_s) ? $rs : $best_s"); best_c=$(calc "($rcu > $best_c) ? $rcu : $best_c")
done
printf 'best: es-sink %.0f docs/s, curl %.0f docs/s, ratio %.2f\n' "$best_s" "$best_c" "$(calc "$best_s / $best_c")"
