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
# curl config file with one entry per body). A warm-up run precedes both. Reports documents/s
# for each, the ratio, and es-sink's peak RSS. Needs the engine from tests/setup-es.sh, curl,
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

for idx in bench_warm bench_sink bench_curl; do
	curl -s -o /dev/null -X DELETE "$ES_URL/$idx"
	"$SINK" --url "$ES_URL" --index "$idx" --setup-only -q || exit 1
done
"$SINK" --url "$ES_URL" --index bench_warm --stats-interval 0 -q <"$tmp/warm.tsv"

now() { date +%s.%N; }
t0=$(now)
/usr/bin/time -f '%M' -o "$tmp/rss" "$SINK" --url "$ES_URL" --index bench_sink --batch-docs $BATCH --batch-bytes 1000000000 \
    --stats-interval 0 --bad "$tmp/bad.json" <"$tmp/events.tsv" 2>"$tmp/sink.err"
rc=$?
t1=$(now)
curl -s -K "$tmp/curl.conf" >"$tmp/curl.codes"
t2=$(now)

curl -s -o /dev/null -X POST "$ES_URL/bench_sink,bench_curl/_refresh"
ns=$(curl -s "$ES_URL/bench_sink/_count" | jq .count)
nc=$(curl -s "$ES_URL/bench_curl/_count" | jq .count)
calc() { awk "BEGIN { print $1 }"; }
ts=$(calc "$t1 - $t0"); tc=$(calc "$t2 - $t1")
rs=$(calc "$N / $ts"); rcu=$(calc "$N / $tc")
printf 'es-sink: %d docs indexed (exit %d) in %.2f s = %.0f docs/s, peak RSS %d kB\n' "$ns" "$rc" "$ts" "$rs" "$(cat "$tmp/rss")"
printf 'curl:    %d docs indexed (%d requests, non-2xx: %d) in %.2f s = %.0f docs/s\n' "$nc" \
    "$(wc -l <"$tmp/curl.codes")" "$(grep -vc '^2' "$tmp/curl.codes")" "$tc" "$rcu"
printf 'ratio es-sink/curl: %.2f\n' "$(calc "$rs / $rcu")"
grep 'exit:' "$tmp/sink.err" | sed 's/^/es-sink counters: /'
