#!/bin/bash
# bench/es-sink.sh: es-sink against its transport bound, curl posting the same bulk bodies.
#
#   bench/es-sink.sh [EVENTS] [REPETITIONS]      # defaults 100000 and 3
#   BASE_BIN=/other/build/bin bench/es-sink.sh   # adds that build's es-sink (before/after)
#   ES=1 bench/es-sink.sh                        # also the end-to-end run against Elasticsearch
#
# Primary figure: a canned bulk endpoint (nginx answering every request with a fixed
# {"took":1,"errors":false,"items":[]}, Debian nginx-light), so that what is measured is
# es-sink and not the engine. Both sides send the same EVENTS documents (the golden events of
# tests/golden/es-sink/good.tsv with fresh event_ids) in the same requests: the bodies es-sink
# sent in a capture run (nginx keeps them: client_body_in_file_only) are what curl posts, one
# after the other on one connection (a curl config with one entry per body). The figure of
# merit is documents per CPU-second of the process (user + system, /usr/bin/time), since the
# machine may be shared; runs are interleaved (order alternating with the repetition), each
# case repeated REPETITIONS times, min and median reported, the ratio of medians printed.
# `es-sink --dump` alone (the transform, no transport) is reported too, and with valgrind
# installed, callgrind instructions per document of it on 20,000 documents.
#
# With ES=1 (or ES_URL set), the end-to-end figure follows: es-sink and curl into fresh
# indexes of a real engine (tests/setup-es.sh starts one unless ES_URL is given), after a
# warm-up of the engine; wall-clock documents/s, best of two rounds.
#
# Output stays under $BENCH_OUT (default: a fresh directory under /tmp, printed).
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
REPS=${2:-3}
BATCH=500
SINK=${FURROW_BIN:-$root/bin}/es-sink
OUT=${BENCH_OUT:-$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-es.XXXXXX")}
mkdir -p "$OUT"
NGINX_PID=""
started=0
cleanup() {
	[ -z "$NGINX_PID" ] || { kill "$NGINX_PID" 2>/dev/null; wait "$NGINX_PID" 2>/dev/null; }
	[ "$started" = 1 ] && es_cleanup
	rm -rf "$OUT/bodies" "$OUT/nginx/body" "$OUT/dump.json"
}
trap cleanup EXIT

for c in nginx curl /usr/bin/time; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c is missing (apt-get install nginx-light curl time)" >&2; exit 69; }
done
[ -x "$SINK" ] || { echo "bench: build first (make)" >&2; exit 69; }

gen() {  # gen N PREFIX: N distinct events
	awk -F'\t' -v OFS='\t' -v n="$1" -v p="$2" '
	    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
	      $7 = sprintf("%s-1c4d-4e5f-8a7b-%012x", p, i); print } }' "$root/tests/golden/es-sink/good.tsv"
}
gen "$N" aaaaaaaa >"$OUT/events.tsv"
echo "input: $N events, $(wc -c <"$OUT/events.tsv") bytes of TSV, batches of $BATCH documents"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
CAPTURE=$(port)
CANNED=$(port)
mkdir -p "$OUT/nginx" "$OUT/bodies"
cat >"$OUT/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
master_process off;
error_log $OUT/nginx/error.log;
pid $OUT/nginx/nginx.pid;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/body;
    client_max_body_size 0;
    client_body_buffer_size 64m;
    keepalive_requests 1000000;
    default_type application/json;
    server {
        listen 127.0.0.1:$CANNED;
        location / { return 200 '{"took":1,"errors":false,"items":[]}'; }
    }
}
NGX
nginx -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" 2>"$OUT/nginx/stderr" &
NGINX_PID=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$CANNED/"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: nginx did not start" >&2; cat "$OUT/nginx/stderr" >&2; exit 69; }
	sleep 0.05
done

SINK_ARGS="--index bench --batch-docs $BATCH --batch-bytes 1000000000 --stats-interval 0 -q --bad $OUT/bad.json"
# the capture run: the exact bodies es-sink sends, kept by a small Python endpoint (not timed)
python3 - "$CAPTURE" "$OUT/bodies" <<'PY' &
import http.server, sys
port, out = int(sys.argv[1]), sys.argv[2]
n = 0
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def answer(self, body):
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_GET(self): self.answer(b'{}')
    def do_HEAD(self): self.answer(b'')
    def do_POST(self):
        global n
        body = self.rfile.read(int(self.headers["Content-Length"]))
        n += 1
        with open("%s/%06d" % (out, n), "wb") as f:
            f.write(body)
        self.answer(b'{"took":1,"errors":false,"items":[]}')
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
CAPTURE_PID=$!
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$CAPTURE/"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: the capture endpoint did not start" >&2; exit 69; }
	sleep 0.05
done
"$SINK" --url "http://127.0.0.1:$CAPTURE" $SINK_ARGS <"$OUT/events.tsv" || { echo "bench: capture run failed" >&2; exit 1; }
kill "$CAPTURE_PID"; wait "$CAPTURE_PID" 2>/dev/null
# one entry per body, "next" between entries (a trailing one makes curl fail: no URL)
first=$(ls "$OUT/bodies" | sort -n | head -n 1)
ls "$OUT/bodies" | sort -n | while read -r f; do
	[ "$f" = "$first" ] || echo next
	printf 'url = "http://127.0.0.1:%s/_bulk?filter_path=errors,items.*.status,items.*.error"\ndata-binary = "@%s"\nheader = "Content-Type: application/x-ndjson"\noutput = "/dev/null"\nwrite-out = "%%{http_code}\\n"\n' \
	    "$CANNED" "$OUT/bodies/$f"
done >"$OUT/curl.conf"
echo "bodies: $(ls "$OUT/bodies" | wc -l) requests, $(cat "$OUT"/bodies/* | wc -c) bytes"

CMD_SINK="$SINK --url http://127.0.0.1:$CANNED $SINK_ARGS <$OUT/events.tsv"
CMD_CURL="curl -s -K $OUT/curl.conf"
CMD_DUMP="$SINK --dump -q <$OUT/events.tsv >$OUT/dump.json"
echo "# es-sink:  $CMD_SINK"
echo "# curl:     $CMD_CURL   (the bound)"
echo "# dump:     $CMD_DUMP   (the transform alone)"
if [ -n "${BASE_BIN:-}" ]; then
	CMD_BASE="$BASE_BIN/es-sink --url http://127.0.0.1:$CANNED $SINK_ARGS <$OUT/events.tsv"
	echo "# base:     $CMD_BASE"
fi

# timed NAME CMD: one run, appends "NAME cpu_s wall_s" to results
timed() {
	/usr/bin/time -f "%U %S %e" -o "$OUT/time" sh -c "$2" >"$OUT/$1.out" 2>"$OUT/$1.err" || echo "bench: $1 failed (see $OUT/$1.err)" >&2
	tail -n 1 "$OUT/time" | awk -v n="$1" '{ print n, $1 + $2, $3 }' >>"$OUT/results"
}
: >"$OUT/results"
for rep in $(seq "$REPS"); do
	if [ $((rep % 2)) = 1 ]; then order="sink curl dump base"; else order="base dump curl sink"; fi
	for w in $order; do
		case $w in
		sink) timed es-sink "$CMD_SINK" ;;
		curl) timed curl "$CMD_CURL"
			[ "$(grep -vc '^200' "$OUT/curl.out")" = 0 ] || echo "bench: curl got non-200 answers" >&2 ;;
		dump) timed dump "$CMD_DUMP" ;;
		base) [ -z "${BASE_BIN:-}" ] || timed base "$CMD_BASE" ;;
		esac
	done
done
awk -v n="$N" '
function median(a, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
{ c[$1]++; cpu[$1, c[$1]] = $2; wall[$1, c[$1]] = $3 }
END {
	split("es-sink curl dump base", names, " ")
	for (x = 1; x <= 4; x++) {
		w = names[x]; if (!c[w]) continue
		for (i = 1; i <= c[w]; i++) { a[i] = n / cpu[w, i]; b[i] = n / wall[w, i] }
		lo = a[1]; for (i = 2; i <= c[w]; i++) if (a[i] < lo) lo = a[i]
		med[w] = median(a, c[w])
		printf "%-8s docs per CPU-s: min %8.0f  median %8.0f   (median wall %8.0f docs/s, %d runs)\n", w, lo, med[w], median(b, c[w]), c[w]
	}
	printf "ratio es-sink / curl (medians, docs per CPU-s): %.2f\n", med["es-sink"] / med["curl"]
	if (c["base"]) printf "ratio es-sink / base: %.2f   base / curl: %.2f\n", med["es-sink"] / med["base"], med["base"] / med["curl"]
}' "$OUT/results" | tee "$OUT/summary"

if command -v valgrind >/dev/null 2>&1; then
	head -n 20000 "$OUT/events.tsv" >"$OUT/sample.tsv"
	for b in "$SINK" ${BASE_BIN:+"$BASE_BIN/es-sink"}; do
		valgrind --tool=callgrind --callgrind-out-file="$OUT/callgrind.out" "$b" --dump -q \
		    <"$OUT/sample.tsv" >/dev/null 2>"$OUT/callgrind.log"
		ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$OUT/callgrind.log")
		[ -z "$ir" ] || echo "callgrind: $b --dump: $((ir / 20000)) instructions per document (20,000 documents, startup included)"
	done
fi

# ---- end to end, against a real engine ----
if [ "${ES:-0}" = 1 ] || [ -n "${ES_URL:-}" ]; then
	. "$root/tests/setup-es.sh"
	if [ -z "${ES_URL:-}" ]; then
		FURROW_ES_HEAP=${FURROW_ES_HEAP:-1g} es_start 180 || exit 1
		started=1
	fi
	echo "end to end: $ES_ENGINE at $ES_URL"
	sed "s#http://127.0.0.1:$CANNED/_bulk?filter_path=[^\"]*#$ES_URL/_bulk#" "$OUT/curl.conf" >"$OUT/curl-es.conf"
	sed -i "s/\"_index\":\"bench\"/\"_index\":\"bench_curl\"/g" "$OUT"/bodies/* 2>/dev/null
	gen 20000 eeeeeeee >"$OUT/warm.tsv"
	curl -s -o /dev/null -X DELETE "$ES_URL/bench_warm"
	"$SINK" --url "$ES_URL" --index bench_warm --setup-only -q || exit 1
	"$SINK" --url "$ES_URL" --index bench_warm --stats-interval 0 -q <"$OUT/warm.tsv"
	calc() { awk "BEGIN { print $1 }"; }
	now() { date +%s.%N; }
	for round in 1 2; do
		for idx in bench_sink bench_curl; do
			curl -s -o /dev/null -X DELETE "$ES_URL/$idx"
			"$SINK" --url "$ES_URL" --index "$idx" --setup-only -q || exit 1
		done
		run_sink() { local t0; t0=$(now); "$SINK" --url "$ES_URL" --index bench_sink --batch-docs $BATCH \
		    --batch-bytes 1000000000 --stats-interval 0 -q --bad "$OUT/bad.json" <"$OUT/events.tsv"; ts=$(calc "$(now) - $t0"); }
		run_curl() { local t0; t0=$(now); curl -s -K "$OUT/curl-es.conf" >/dev/null; tc=$(calc "$(now) - $t0"); }
		if [ $round = 1 ]; then run_sink; run_curl; else run_curl; run_sink; fi
		curl -s -o /dev/null -X POST "$ES_URL/bench_sink,bench_curl/_refresh"
		printf 'end to end, round %d: es-sink %s docs in %.2f s; curl %s docs in %.2f s; ratio %.2f\n' "$round" \
		    "$(curl -s "$ES_URL/bench_sink/_count" | jq .count)" "$ts" \
		    "$(curl -s "$ES_URL/bench_curl/_count" | jq .count)" "$tc" "$(calc "$tc / $ts")"
	done
fi
echo "results: $OUT"
