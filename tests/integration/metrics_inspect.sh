#!/bin/bash
# inspect's /metrics and /health on their own port (--metrics-listen, common/metricsd via
# metricsd_ev on its libevent loop), issue 16: the store's counters (in, stored, evicted by
# --max-events), requests by status class and held requests reconcile with what was done, and
# the page passes `promtool check metrics` (Prometheus from Debian).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"

series() { curl -fsS -m 5 "$MURL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
series_is() { test "$(series "$1")" = "$2"; }

if ! command -v promtool >/dev/null; then
	fail "promtool installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi
"$FURROW_BIN/inspect" --metrics-listen 9100 </dev/null 2>"$T_TMP/u.err"
eq "a bad --metrics-listen is a usage error" 64 $?
check "the error names the flag" grep -q -- "--metrics-listen: expected ADDR:PORT" "$T_TMP/u.err"

d=$T_TMP/s
mkdir -p "$d"
: >"$d/good.tsv"
MP=$(free_port)
MURL=http://127.0.0.1:$MP
start_inspect --source "log:$d/good.tsv" --max-events 5 --metrics-listen "127.0.0.1:$MP" ||
    fail "start with --metrics-listen"
eq "/health on the metrics port: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$MURL/health")"
# eight good events through the log (tests/tools/inspect.sh's enriched_line)
for i in $(seq 1 8); do enriched_line "$i" 0=app$i; done >>"$d/good.tsv"
check "the store took 8 good events" wait_for 20 series_is 'furrow_inspect_events_in_total{kind="good"}' 8
eq "5 stored (--max-events 5)" 5 "$(series 'furrow_inspect_events_stored{kind="good"}')"
eq "3 evicted" 3 "$(series 'furrow_inspect_events_evicted_total{kind="good"}')"
before=$(series 'furrow_inspect_requests_total{code="2xx"}')
for i in 1 2 3; do curl -fsS -m 5 "$IURL/micro/stats" >/dev/null; done
curl -s -m 5 -o /dev/null "$IURL/micro/nonesuch"
eq "3 more 2xx requests counted" $((before + 3)) "$(series 'furrow_inspect_requests_total{code="2xx"}')"
check "a 4xx counted" sh -c "[ \"\$(curl -fsS '$MURL/metrics' | awk '\$1 == \"furrow_inspect_requests_total{code=\\\"4xx\\\"}\" { print \$2 }')\" -ge 1 ]"
curl -fsS -m 5 "$IURL/micro/good?wait_ms=300&min=99" >/dev/null
eq "a held request that timed out" 1 "$(series 'furrow_inspect_waits_total{outcome="timed_out"}')"
# /micro/iglu through the resolver (the embedded registry): one miss, then the cache
for i in 1 2; do curl -fsS -m 5 -o /dev/null "$IURL/micro/iglu/com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"; done
curl -s -m 5 -o /dev/null "$IURL/micro/iglu/com.acme/nonesuch/jsonschema/1-0-0"
curl -fsS -m 5 "$MURL/metrics" >"$T_TMP/inspect.prom"
eq "Iglu: 2 cache misses (the schema once, the missing one once)" 2 "$(awk '$1 == "furrow_iglu_cache_misses_total" { print $2 }' "$T_TMP/inspect.prom")"
check "Iglu: the second read was a cache hit" awk '$1 == "furrow_iglu_cache_hits_total" && $2 >= 1 { ok = 1 } END { exit !ok }' "$T_TMP/inspect.prom"
check "Iglu: the missing schema counted" awk '$1 == "furrow_iglu_schema_not_found_total" && $2 >= 1 { ok = 1 } END { exit !ok }' "$T_TMP/inspect.prom"
check "promtool check metrics: inspect" promtool check metrics <"$T_TMP/inspect.prom"
check "furrow_build_info names inspect" grep -q '^furrow_build_info{program="inspect",version="' "$T_TMP/inspect.prom"
check "store bytes reported" grep -Eq '^furrow_inspect_store_bytes [1-9]' "$T_TMP/inspect.prom"
# one observation of the request duration per answer, the held one included
n=$(awk '$1 ~ /^furrow_inspect_requests_total\{/ { n += $2 } END { print n + 0 }' "$T_TMP/inspect.prom")
eq "request_duration_seconds_count = requests answered" "$n" \
    "$(awk '$1 == "furrow_inspect_request_duration_seconds_count" { print $2 }' "$T_TMP/inspect.prom")"
check "request durations sum to more than 0" awk '$1 == "furrow_inspect_request_duration_seconds_sum" && $2 > 0 { ok = 1 } END { exit !ok }' "$T_TMP/inspect.prom"
check "the held request's 300 ms wait is not in its duration (all under 0.25 s)" awk -v n="$n" '
    $1 == "furrow_inspect_request_duration_seconds_bucket{le=\"0.25\"}" { b = $2 }
    END { exit !(b == n) }' "$T_TMP/inspect.prom"
stop_inspect
eq "clean exit" 0 "$IRC"
done_testing
