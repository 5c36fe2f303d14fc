#!/bin/bash
# The collector's /metrics and /health on their own port (--metrics-listen, common/metricsd via
# metricsd_ev on its libevent loop), issue 16:
#  - a bad ADDR:PORT is a usage error (64); a port taken is 69; without the flag no second socket
#  - the page: the Snowplow Scala Stream Collector names (http_requests_total,
#    http_request_duration_seconds, service_version) plus furrow_build_info, furrow_healthy and
#    the process metrics; `promtool check metrics` (Prometheus from Debian) passes on it and on
#    the main port's --metrics page, which stays as it was for compatibility (plus the same series)
#  - counts reconcile with the requests sent; without --metrics the main port has no /metrics
#  - /health on the metrics port follows the logs: 503 with the reason while the output FIFO is
#    full (requests get 503 too, as /sink-health says), 200 once a reader drains it
#  - keep-alive on the libevent loop: curl's scrapes share one connection;
#  - metricsd's limits on the libevent loop: a silent connection is dropped at its deadline,
#    more connections than METRICSD_MAX_CONN displace the oldest, a POST is 405
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
series() { awk -v n="$2" '$1 == n { print $2 }' "$1"; }
listens() { ss -Hltnp 2>/dev/null | grep "pid=$1," | wc -l | tr -d ' '; }

if ! command -v promtool >/dev/null; then
	fail "promtool installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi

# ---- flags ----
"$FURROW_BIN/collector" --metrics-listen nonsense -o "$T_TMP/x.raw" </dev/null 2>"$T_TMP/u.err"
eq "a bad --metrics-listen is a usage error" 64 $?
check "the error names the flag" grep -q -- "--metrics-listen: expected ADDR:PORT" "$T_TMP/u.err"
"$FURROW_BIN/collector" --metrics-listen 127.0.0.1:70000 -o "$T_TMP/x.raw" </dev/null 2>/dev/null
eq "a port over 65535 is a usage error" 64 $?

# ---- no flag: one socket, no /metrics on the main port ----
start_collector -o "$T_TMP/plain.raw" || fail "start without metrics"
eq "without --metrics-listen: one listening socket" 1 "$(listens "$CPID")"
eq "without --metrics: GET /metrics on the main port is 404" 404 "$(code "$URL/metrics")"
stop_collector

# ---- a taken port ----
taken=$(free_port)
command python3 -c 'import socket,sys,time; s=socket.socket(); s.bind(("127.0.0.1",int(sys.argv[1]))); s.listen(); time.sleep(30)' "$taken" >/dev/null 2>&1 &
holder=$!
T_PIDS="$T_PIDS $holder"
wait_for 10 sh -c "ss -Hltn | grep -q ':$taken '"
"$FURROW_BIN/collector" --bind 127.0.0.1 -p "$(free_port)" --metrics-listen "127.0.0.1:$taken" \
    -o "$T_TMP/x.raw" </dev/null 2>"$T_TMP/taken.err"
eq "a metrics port taken: exit 69" 69 $?
check "the error says which flag" grep -q -- "--metrics-listen" "$T_TMP/taken.err"
kill "$holder"; wait "$holder" 2>/dev/null

# ---- the page ----
MP=$(free_port)
MURL="http://127.0.0.1:$MP"
mkfifo "$T_TMP/raw.fifo"
cat "$T_TMP/raw.fifo" >"$T_TMP/got.raw" &
reader=$!
T_PIDS="$T_PIDS $reader"
start_collector --metrics --metrics-listen "127.0.0.1:$MP" -o "$T_TMP/raw.fifo" \
    --bad "$T_TMP/bad.json" --queue-bytes 3000 || fail "start with --metrics-listen"
check "the metrics port answers /health 200" wait_for 10 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$MURL/health') = 200 ]"
eq "two listening sockets" 2 "$(listens "$CPID")"
for i in $(seq 1 7); do code "$URL/i?e=pv&n=$i" >/dev/null; done
code -X POST -H 'Content-Type: application/json' --data '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}' "$URL/com.snowplowanalytics.snowplow/tp2" >/dev/null
curl -fsS -m 5 "$MURL/metrics" >"$T_TMP/sep.prom"
curl -fsS -m 5 "$URL/metrics" >"$T_TMP/main.prom"
check "promtool check metrics: the metrics port's page" promtool check metrics <"$T_TMP/sep.prom"
# keep-alive on the libevent loop too (metricsd_ev): curl's transfers share one connection
eq "two scrapes on one kept-alive connection" "1 0" \
    "$(curl -s -m 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "$MURL/metrics" "$MURL/health" | sed 's/ $//')"
check "promtool check metrics: the main port's --metrics page" promtool check metrics <"$T_TMP/main.prom"
eq "7 pixel requests counted (SSC name and labels)" 7 \
    "$(series "$T_TMP/sep.prom" 'http_requests_total{endpoint="pixel",method="GET",code="200"}')"
eq "1 POST counted" 1 \
    "$(series "$T_TMP/sep.prom" 'http_requests_total{endpoint="post",method="POST",code="200"}')"
eq "their latency histogram counts 7" 7 \
    "$(series "$T_TMP/sep.prom" 'http_request_duration_seconds_count{endpoint="pixel",method="GET",code="200"}')"
check "service_version (SSC)" grep -q '^service_version{version="' "$T_TMP/sep.prom"
check "furrow_build_info names the collector" grep -q '^furrow_build_info{program="collector",version="' "$T_TMP/sep.prom"
eq "furrow_healthy 1" 1 "$(series "$T_TMP/sep.prom" furrow_healthy)"
check "process_cpu_seconds_total" grep -q '^process_cpu_seconds_total [0-9]' "$T_TMP/sep.prom"
check "process_start_time_seconds" grep -q '^process_start_time_seconds [0-9]' "$T_TMP/sep.prom"
check "the main port's page has the same families" bash -c "diff <(grep '^# TYPE' '$T_TMP/sep.prom') <(grep '^# TYPE' '$T_TMP/main.prom')"
eq "HEAD /metrics: 200" 200 "$(code -I "$MURL/metrics")"
eq "POST /metrics: 405" 405 "$(code -X POST "$MURL/metrics")"
eq "GET /elsewhere: 404" 404 "$(code "$MURL/i")"

# ---- limits: a silent connection, and more than METRICSD_MAX_CONN ----
python3 - "$MP" >"$T_TMP/limits.out" 2>&1 <<'PY'
import socket, sys, time, urllib.request
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port)); s.sendall(b"GET /metr")
s.settimeout(15); t = time.time()
d = s.recv(100)
print("silent", "closed" if d == b"" and time.time() - t < 12 else "open")
many = [socket.create_connection(("127.0.0.1", port)) for _ in range(12)]
print("many", urllib.request.urlopen("http://127.0.0.1:%d/health" % port, timeout=5).status)
PY
check "a silent connection is dropped at its deadline" grep -q '^silent closed' "$T_TMP/limits.out"
check "12 idle connections do not lock scrapers out" grep -q '^many 200' "$T_TMP/limits.out"
eq "events still answered" 200 "$(code "$URL/i?e=pv&n=limits")"

# ---- /health follows the logs ----
kill -STOP "$reader"
pad=$(head -c 600 /dev/zero | tr '\0' x)
for i in $(seq 1 400); do
	[ "$(code "$URL/i?e=pv&fill=$i&pad=$pad")" = 503 ] && break
done
eq "the output is full: requests get 503" 503 "$(code "$URL/i?e=pv&more=1&pad=$pad")"
eq "/health on the metrics port: 503" 503 "$(code "$MURL/health")"
check "it says why" sh -c "curl -s '$MURL/health' | grep -q 'good log refuses appends'"
check "furrow_healthy 0" sh -c "curl -fsS '$MURL/metrics' | grep -qx 'furrow_healthy 0'"
check "503s counted" sh -c "curl -fsS '$MURL/metrics' | grep -q '^http_requests_total{endpoint=\"pixel\",method=\"GET\",code=\"503\"} [1-9]'"
check "refusals counted (furrow_collector_refused_total)" sh -c "curl -fsS '$MURL/metrics' | grep -q '^furrow_collector_refused_total [1-9]'"
check "the good queue's depth shows (furrow_collector_queue_bytes)" sh -c "curl -fsS '$MURL/metrics' | grep -q '^furrow_collector_queue_bytes{output=\"good\"} [1-9]'"
kill -CONT "$reader"
check "/health 200 again once the reader drains" wait_for 20 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$MURL/health') = 200 ]"
check "the queue drained (furrow_collector_queue_bytes 0)" wait_for 20 sh -c "curl -fsS '$MURL/metrics' | grep -qx 'furrow_collector_queue_bytes{output=\"good\"} 0'"
curl -fsS "$MURL/metrics" >"$T_TMP/end.prom"
n200=$(awk '$1 ~ /^http_requests_total\{endpoint="(pixel|post)",.*code="200"/ { s += $2 } END { print s + 0 }' "$T_TMP/end.prom")
nrec=$(series "$T_TMP/end.prom" furrow_collector_records_total)
nbytes=$(series "$T_TMP/end.prom" 'furrow_collector_output_bytes_total{output="good"}')
stop_collector
eq "clean exit" 0 "$CRC"
wait "$reader" 2>/dev/null
eq "lines written = requests answered 200 (by the metrics)" "$n200" "$(lines "$T_TMP/got.raw")"
eq "lines written = furrow_collector_records_total" "$nrec" "$(lines "$T_TMP/got.raw")"
eq "bytes read by the reader = furrow_collector_output_bytes_total{output=\"good\"}" "$nbytes" "$(wc -c <"$T_TMP/got.raw")"
done_testing
