#!/bin/bash
# fifo-setup.sh with FURROW_METRICS_PORT (issue 16): each stage serves /metrics and /health on
# its own port from the base (the collector at the base itself, --metrics-listen), `status` lists them with what
# /health says, every exposition passes promtool, and the real Prometheus from Debian scrapes the
# running pipeline with contrib/prometheus/prometheus.yml (ports rewritten to this run's).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PG_URL FURROW_PORT FURROW_RUN_DIR FURROW_RESTART FURROW_STOP_TIMEOUT

cleanup() {
	[ -n "${prom_pid:-}" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	[ -n "${LPID:-}" ] && kill -TERM "$LPID" 2>/dev/null && wait "$LPID" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT

if ! command -v promtool >/dev/null || ! command -v prometheus >/dev/null; then
	fail "prometheus installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi
FURROW_METRICS_PORT=70000 FURROW_DATA_DIR=$T_TMP/none bash "$LAUNCHER" start >/dev/null 2>&1
eq "an invalid FURROW_METRICS_PORT exits 78" 78 $?

# a base whose stage ports (base .. base+9) are free now
port_free() { ! ss -Hltn "sport = :$1" | grep -q .; }
for try in 1 2 3 4 5 6 7 8 9 10; do
	base=$(( 20000 + RANDOM % 30000 ))
	ok_=1
	for o in 0 1 2 3 4 5 6 7 8 9; do port_free $((base + o)) || ok_=0; done
	[ $ok_ = 1 ] && break
done
export FURROW_METRICS_PORT=$base
# iglu-server's and inspect's own ports too: their defaults may be taken on a shared machine
FURROW_IGLU_PORT=$(free_port) FURROW_INSPECT_PORT=$(free_port)
export FURROW_IGLU_PORT FURROW_INSPECT_PORT
check "pipeline starts with FURROW_METRICS_PORT=$base" launcher_start "$T_TMP/a"
out=$(bash "$LAUNCHER" status 2>&1)
echo "$out" | sed 's/^/# /'
check "status: the collector's metrics on the base port, healthy" sh -c "echo \"\$1\" | grep -Eq '^metrics +collector +http://127.0.0.1:$base/metrics +health: ok'" _ "$out"
check "status: enrich's metrics on base+1, healthy" sh -c "echo \"\$1\" | grep -Eq '^metrics +enrich +http://127.0.0.1:$((base + 1))/metrics +health: ok'" _ "$out"
check "status: inspect's metrics on base+8, healthy" sh -c "echo \"\$1\" | grep -Eq '^metrics +inspect +http://127.0.0.1:$((base + 8))/metrics +health: ok'" _ "$out"
check "status: iglu-server's metrics on base+9, healthy" sh -c "echo \"\$1\" | grep -Eq '^metrics +iglu-server +http://127.0.0.1:$((base + 9))/metrics +health: ok'" _ "$out"

pv() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/i?e=pv&p=web&tv=t-1&eid=$1"; }
for i in 1 2 3; do pv "00000000-0000-4000-8000-00000000000$i" >/dev/null; done
good_is() { test "$(curl -fsS "http://127.0.0.1:$((base + 1))/metrics" | awk '$1 == "snowplow_enrich_good_total" { print $2 }')" = "$1"; }
check "enrich's good counter reaches 3" wait_for 30 good_is 3
curl -fsS "http://127.0.0.1:$((base + 1))/metrics" >"$T_TMP/enrich.prom"
check "promtool check metrics: enrich" promtool check metrics <"$T_TMP/enrich.prom"
curl -fsS "http://127.0.0.1:$base/metrics" >"$T_TMP/collector.prom"
check "promtool check metrics: collector" promtool check metrics <"$T_TMP/collector.prom"
check "the collector's page names it (furrow_build_info)" grep -q '^furrow_build_info{program="collector"' "$T_TMP/collector.prom"
for s in inspect:8 iglu-server:9; do
	curl -fsS "http://127.0.0.1:$((base + ${s#*:}))/metrics" >"$T_TMP/${s%:*}.prom"
	check "promtool check metrics: ${s%:*}" promtool check metrics <"$T_TMP/${s%:*}.prom"
	check "${s%:*}'s page names it (furrow_build_info)" grep -q "^furrow_build_info{program=\"${s%:*}\"" "$T_TMP/${s%:*}.prom"
done
eq "the collector's main port serves events only (no /metrics)" 404 \
    "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/metrics")"

# the real Prometheus with contrib's scrape configuration, ports rewritten to this run's
PP=$(free_port)
sed -e "s/127.0.0.1:930\([0-9]\)/127.0.0.1:\$((base + \1))/" \
    -e 's/scrape_interval: 15s/scrape_interval: 1s/' -e 's/evaluation_interval: 15s/evaluation_interval: 1s/' \
    "$FURROW_ROOT/contrib/prometheus/prometheus.yml" |
    while IFS= read -r line; do
	case "$line" in *'$(('*) eval "echo \"$line\"" ;; *) printf '%s\n' "$line" ;; esac
    done >"$T_TMP/prometheus.yml"
cp "$FURROW_ROOT/contrib/prometheus/furrow-alerts.yml" "$T_TMP/"
check "the rewritten contrib config is valid" promtool check config "$T_TMP/prometheus.yml"
prometheus --config.file="$T_TMP/prometheus.yml" --storage.tsdb.path="$T_TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PP" >"$T_TMP/prom.log" 2>&1 &
prom_pid=$!
PU=http://127.0.0.1:$PP
up_of() { curl -fsS "$PU/api/v1/targets" | jq -r --arg s "$1" '.data.activeTargets[] | select(.labels.stage == $s) | .health'; }
query() { curl -fsS "$PU/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
query_is() { test "$(query "$1")" = "$2"; }
check "prometheus: the collector target is up" wait_for 60 sh -c "test \"\$(curl -fsS '$PU/api/v1/targets' | jq -r '.data.activeTargets[] | select(.labels.stage == \"collector\") | .health')\" = up"
check "prometheus: the inspect target is up" wait_for 60 sh -c "test \"\$(curl -fsS '$PU/api/v1/targets' | jq -r '.data.activeTargets[] | select(.labels.stage == \"inspect\") | .health')\" = up"
check "prometheus: the iglu-server target is up" wait_for 60 sh -c "test \"\$(curl -fsS '$PU/api/v1/targets' | jq -r '.data.activeTargets[] | select(.labels.stage == \"iglu-server\") | .health')\" = up"
check "prometheus: the enrich target is up" wait_for 60 sh -c "test \"\$(curl -fsS '$PU/api/v1/targets' | jq -r '.data.activeTargets[] | select(.labels.stage == \"enrich\") | .health')\" = up"
check "prometheus: stages not started are down (es-sink-good)" wait_for 60 sh -c "test \"\$(curl -fsS '$PU/api/v1/targets' | jq -r '.data.activeTargets[] | select(.labels.stage == \"es-sink-good\") | .health')\" = down"
check "prometheus: snowplow_enrich_good_total from the pipeline" wait_for 30 query_is 'snowplow_enrich_good_total{stage="enrich"}' 3
query_ge() { awk -v v="$(query "$1")" -v n="$2" 'BEGIN { exit !(v != "" && v + 0 >= n) }'; }
check "prometheus: the collector's 200s (the events)" wait_for 30 query_ge 'sum(http_requests_total{stage="collector",code="200"})' 3
check "prometheus: furrow_healthy of enrich is 1" wait_for 30 query_is 'furrow_healthy{stage="enrich"}' 1
check "prometheus loaded the alert rules" sh -c "curl -fsS '$PU/api/v1/rules' | jq -e '[.data.groups[].rules[]] | length == 7' >/dev/null"

kill -TERM "$LPID"
launcher_wait
eq "the launcher stops and exits 0" 0 "$LRC"
LPID=
done_testing
