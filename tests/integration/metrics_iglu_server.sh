#!/bin/bash
# iglu-server's /metrics and /health on their own port (--metrics-listen, common/metricsd via
# metricsd_ev on its libevent loop), issue 16: schema reads, misses and writes by outcome
# reconcile with the requests made, and the page passes `promtool check metrics` (Prometheus
# from Debian).
. "$(dirname "$0")/../lib.sh"

IGS="$FURROW_BIN/iglu-server"
SUPER=4ed2d87a-6da5-48e8-a23b-36a26e61f974
DIR="$T_TMP/reg"
PORT=$(free_port)
B="http://127.0.0.1:$PORT"
MP=$(free_port)
MURL="http://127.0.0.1:$MP"
SD='"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"'
schema() { # schema VERSION
	printf '{%s,"description":"test","self":{"vendor":"com.acme","name":"event","format":"jsonschema","version":"%s"},"type":"object","properties":{"a":{"type":"string","maxLength":10,"description":"a"}},"additionalProperties":false}' \
	    "$SD" "$1"
}
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
series() { curl -fsS -m 5 "$MURL/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }

if ! command -v promtool >/dev/null; then
	fail "promtool installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi
"$IGS" -d "$DIR" --metrics-listen nonsense 2>"$T_TMP/u.err"
eq "a bad --metrics-listen is a usage error" 64 $?
check "the error names the flag" grep -q -- "--metrics-listen: expected ADDR:PORT" "$T_TMP/u.err"

IGLU_SUPER_API_KEY=$SUPER bg "$IGS" -d "$DIR" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 \
    --metrics-listen "127.0.0.1:$MP" 2>"$T_TMP/igs.log"
check "the metrics port answers /health 200" wait_for 10 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$MURL/health') = 200 ]"
check "the API answers" wait_for 10 curl -sf "$B/api/meta/health"
eq "publish 1-0-0: 201" 201 "$(code -X POST -H "apikey: $SUPER" -H 'Content-Type: application/json' -d "$(schema 1-0-0)" "$B/api/schemas?isPublic=true")"
eq "publish 1-0-0 again: 409" 409 "$(code -X POST -H "apikey: $SUPER" -H 'Content-Type: application/json' -d "$(schema 1-0-0)" "$B/api/schemas?isPublic=true")"
for i in 1 2 3; do code "$B/api/schemas/com.acme/event/jsonschema/1-0-0" >/dev/null; done
eq "a missing schema: 404" 404 "$(code "$B/api/schemas/com.acme/event/jsonschema/9-0-0")"
eq "4 reads of one schema (3 found, 1 not)" 4 "$(series furrow_iglu_server_schema_reads_total)"
eq "1 not found" 1 "$(series furrow_iglu_server_not_found_total)"
eq "1 published" 1 "$(series 'furrow_iglu_server_schema_writes_total{outcome="published"}')"
eq "1 refused" 1 "$(series 'furrow_iglu_server_schema_writes_total{outcome="refused"}')"
check "requests counted (at least the 6 above)" sh -c "[ \"\$(curl -fsS '$MURL/metrics' | awk '\$1 == \"furrow_iglu_server_requests_total\" { print \$2 }')\" -ge 6 ]"
curl -fsS -m 5 "$MURL/metrics" >"$T_TMP/igs.prom"
check "promtool check metrics: iglu-server" promtool check metrics <"$T_TMP/igs.prom"
check "furrow_build_info names iglu-server" grep -q '^furrow_build_info{program="iglu-server",version="' "$T_TMP/igs.prom"
# one observation of the request duration per request handled, each within the last bucket
n=$(awk '$1 == "furrow_iglu_server_requests_total" { print $2 }' "$T_TMP/igs.prom")
eq "request_duration_seconds_count = requests_total" "$n" \
    "$(awk '$1 == "furrow_iglu_server_request_duration_seconds_count" { print $2 }' "$T_TMP/igs.prom")"
eq "request_duration_seconds le=+Inf = requests_total" "$n" \
    "$(awk '$1 == "furrow_iglu_server_request_duration_seconds_bucket{le=\"+Inf\"}" { print $2 }' "$T_TMP/igs.prom")"
check "request durations sum to more than 0" awk '$1 == "furrow_iglu_server_request_duration_seconds_sum" && $2 > 0 { ok = 1 } END { exit !ok }' "$T_TMP/igs.prom"
done_testing
