#!/bin/bash
# /metrics and /health of enrich and es-sink (--metrics-listen, common/metricsd), issue 16:
#  - scrapes share one kept-alive connection (HTTP/1.1), HTTP/1.0 closes after each answer;
#  - no socket without the flag; a bad ADDR:PORT is a usage error (64)
#  - every exposition passes `promtool check metrics` (Prometheus from Debian)
#  - counters reconcile with what went in and out (raw = good + bad rows; indexed = events)
#  - enrich's health turns 503 when its output is blocked (a full tmpfs) longer than
#    --health-threshold, and 200 again once there is room
#  - es-sink's health turns 503 when the real Elasticsearch is stopped for longer than the
#    threshold, and 200 again after it is restarted; nothing is lost
#  - a real Prometheus scrapes both stages (targets up, a query returns the counters)
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-es.sh"

E=$FURROW_BIN/enrich
SINK=$FURROW_BIN/es-sink
S="--schemas $FURROW_ROOT/schemas"
SPEC='CwBkAAAACzIwMy4wLjExMy43CgDIAAABi8/laAALANIAAAAFVVRGLTgLANwAAAAdZnVycm93LWNvbGxlY3Rvci0wLjEuMC1zdGRvdXQLASwAAAAKY3VybC84LjUuMAsBQAAAAAIvaQsBSgAAABllPXB2JnA9d2ViJnR2PW5vLWpzLTAuMS4wDwFeCwAAAAIAAAAbSG9zdDogY29sbGVjdG9yLmV4YW1wbGUuY29tAAAAFlVzZXItQWdlbnQ6IGN1cmwvOC41LjALAZAAAAAVY29sbGVjdG9yLmV4YW1wbGUuY29tCwGaAAAAJDlmMmI2YTNlLTFjNGQtNGU1Zi04YTdiLTBjMWQyZTNmNGE1Ygt6aQAAAEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA='
GOLD=$FURROW_ROOT/tests/golden/es-sink
mnt=$T_TMP/mnt
cleanup() {
	[ -n "${prom_pid:-}" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid" 2>/dev/null
	mountpoint -q "$mnt" 2>/dev/null && { umount "$mnt" 2>/dev/null || umount -l "$mnt"; }
	es_cleanup
	t_cleanup
}
trap cleanup EXIT

# metric URL NAME: the value of an unlabelled sample (or NAME{labels} given whole)
metric() { curl -fsS -m 5 "$1/metrics" | awk -v n="$2" '!f && $1 == n { print $2; f = 1 }'; }
status_of() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$1/health"; }
status_is() { test "$(status_of "$1")" = "$2"; }
metric_is() { test "$(metric "$1" "$2")" = "$3"; }
metric_pos() { awk -v v="$(metric "$1" "$2")" 'BEGIN { exit !(v + 0 > 0) }'; }
promcheck() { curl -fsS -m 5 "$1/metrics" >"$T_TMP/expo" && promtool check metrics <"$T_TMP/expo"; }
listens() { ss -Hltnp 2>/dev/null | grep -q "pid=$1,"; }

if ! command -v promtool >/dev/null; then
	fail "promtool installed (apt-get install prometheus; tests/install-deps.sh test)"
	done_testing
	exit
fi

# ---- flags ----
"$E" $S --metrics-listen nonsense </dev/null >/dev/null 2>"$T_TMP/u.err"
eq "enrich: a bad --metrics-listen is a usage error" 64 $?
check "enrich: the error names the flag" grep -q -- "--metrics-listen: expected ADDR:PORT" "$T_TMP/u.err"
"$SINK" --dump --metrics-listen 127.0.0.1:99999 </dev/null >/dev/null 2>/dev/null
eq "es-sink: a port over 65535 is a usage error" 64 $?
"$E" $S --health-threshold 0 </dev/null >/dev/null 2>/dev/null
eq "enrich: --health-threshold 0 is a usage error" 64 $?

# ---- enrich: no socket without the flag ----
mkfifo "$T_TMP/plain.fifo"
"$E" $S --bad "$T_TMP/plain.bad" <"$T_TMP/plain.fifo" >"$T_TMP/plain.tsv" 2>/dev/null &
ppid_=$!
T_PIDS="$T_PIDS $ppid_"   # killed on an early exit
exec 6>"$T_TMP/plain.fifo"
echo "$SPEC" >&6
wait_for 20 test -s "$T_TMP/plain.tsv"
check "enrich without --metrics-listen opens no listening socket" sh -c "! ss -Hltnp | grep -q 'pid=$ppid_,'"
exec 6>&-
wait $ppid_

# ---- enrich: counters, exposition, health ----
EP=$(free_port)
EU=http://127.0.0.1:$EP
mkfifo "$T_TMP/e.fifo"
"$E" $S --metrics-listen "127.0.0.1:$EP" --bad "$T_TMP/e.bad" --stats-interval 0 \
    <"$T_TMP/e.fifo" >"$T_TMP/e.tsv" 2>"$T_TMP/e.err" &
epid=$!
T_PIDS="$T_PIDS $epid"   # killed on an early exit
exec 7>"$T_TMP/e.fifo"
wait_for 20 status_is "$EU" 200
check "enrich: /health 200 at start" status_is "$EU" 200
for i in $(seq 1 50); do echo "$SPEC"; done >&7
echo garbage >&7
echo >&7
wait_for 20 metric_is "$EU" snowplow_enrich_raw_total 51
eq "enrich: snowplow_enrich_raw_total counts records" 51 "$(metric "$EU" snowplow_enrich_raw_total)"
eq "enrich: snowplow_enrich_good_total = lines out" "$(wc -l <"$T_TMP/e.tsv")" "$(metric "$EU" snowplow_enrich_good_total)"
eq "enrich: snowplow_enrich_bad_total = bad rows out" "$(wc -l <"$T_TMP/e.bad")" "$(metric "$EU" snowplow_enrich_bad_total)"
eq "enrich: bad rows by type" 1 "$(metric "$EU" 'furrow_enrich_bad_rows_total{type="collector_payload_format_violation"}')"
eq "enrich: empty lines" 1 "$(metric "$EU" furrow_enrich_empty_lines_total)"
eq "enrich: output bytes = bytes of the TSV" "$(wc -c <"$T_TMP/e.tsv")" "$(metric "$EU" 'furrow_enrich_output_bytes_total{output="good"}')"
eq "enrich: latency histogram counts every line read (the empty one too)" 52 "$(metric "$EU" furrow_enrich_processing_seconds_count)"
eq "enrich: build info" 1 "$(metric "$EU" 'furrow_build_info{program="enrich",version="0.1.0"}')"
check "enrich: promtool check metrics" promcheck "$EU"
curl -s -m 5 -o /dev/null -w '%{http_code}' "$EU/nope" >"$T_TMP/code"
eq "enrich: another path is 404" 404 "$(cat "$T_TMP/code")"
curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "$EU/metrics" >"$T_TMP/code"
eq "enrich: POST is 405" 405 "$(cat "$T_TMP/code")"
# keep-alive, as Prometheus scrapes: curl's transfers in one invocation share one connection
eq "enrich: two scrapes on one kept-alive connection" "1 0" \
    "$(curl -s -m 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "$EU/metrics" "$EU/health" | sed 's/ $//')"
eq "enrich: HTTP/1.0 closes after each answer" "1 1" \
    "$(curl -s -0 -m 5 -o /dev/null -o /dev/null -w '%{num_connects} ' "$EU/metrics" "$EU/health" | sed 's/ $//')"
# a silent client does not hold the loop up: a scrape still answers while it is connected
exec 8<>/dev/tcp/127.0.0.1/$EP
check "enrich: a scrape is served while another client stays silent" status_is "$EU" 200
exec 8>&-
exec 7>&-
wait $epid
eq "enrich: exit 0" 0 $?

# ---- enrich: output blocked (full disk) -> unhealthy after the threshold -> healthy ----
mkdir -p "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
	skip "enrich health on a full disk" "needs root to mount a tmpfs"
else
	head -c 900k /dev/zero >"$mnt/filler"
	mkfifo "$T_TMP/f.fifo"
	"$E" $S --metrics-listen "127.0.0.1:$EP" --health-threshold 1 --stats-interval 0 \
	    --output "$mnt/out.tsv" --bad "$T_TMP/f.bad" <"$T_TMP/f.fifo" 2>"$T_TMP/f.err" &
	fpid=$!
	T_PIDS="$T_PIDS $fpid"   # killed on an early exit
	exec 7>"$T_TMP/f.fifo"
	wait_for 20 status_is "$EU" 200
	for i in $(seq 1 600); do echo "$SPEC"; done >&7 &
	feeder=$!
	check "enrich: /health 503 while the output is blocked past the threshold" wait_for 60 status_is "$EU" 503
	curl -s -m 5 "$EU/health" >"$T_TMP/why"
	check "enrich: the 503 says why" grep -q "output blocked for" "$T_TMP/why"
	eq "enrich: furrow_healthy 0" 0 "$(metric "$EU" furrow_healthy)"
	check "enrich: furrow_enrich_output_blocked_seconds > 0" metric_pos "$EU" furrow_enrich_output_blocked_seconds
	rm -f "$mnt/filler"
	check "enrich: /health 200 again once there is room" wait_for 60 status_is "$EU" 200
	wait $feeder
	exec 7>&-
	wait $fpid
	eq "enrich (full disk): exit 0" 0 $?
	eq "enrich (full disk): every record came out" 600 "$(wc -l <"$mnt/out.tsv")"
fi

# ---- es-sink with a real Elasticsearch ----
if ! es_start 180; then
	skip "es-sink metrics and health" "could not fetch or start $ES_ENGINE (Maven Central unreachable?)"
	done_testing
	exit
fi
diag "$ES_ENGINE $ES_VERSION at $ES_URL"
gen_events() {
	awk -F'\t' -v OFS='\t' -v n="$1" -v p="$2" '
	    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
	      $7 = sprintf("%s-1c4d-4e5f-8a7b-%012x", p, i); print } }' "$GOLD/good.tsv"
}
count_is() { test "$(es_count "$1" 2>/dev/null)" = "$2"; }
SP=$(free_port)
SU=http://127.0.0.1:$SP
gen_events 600 cccccccc >"$T_TMP/s.tsv"
mkfifo "$T_TMP/s.fifo"
"$SINK" --url "$ES_URL" --index metrics --setup --batch-docs 100 --flush-ms 100 --retry-max-ms 500 \
    --stats-interval 0 --metrics-listen "127.0.0.1:$SP" --health-threshold 2 \
    --bad "$T_TMP/s.bad" <"$T_TMP/s.fifo" 2>"$T_TMP/s.err" &
spid=$!
T_PIDS="$T_PIDS $spid"   # killed on an early exit
exec 7>"$T_TMP/s.fifo"
check "es-sink: /health 200 with Elasticsearch up" wait_for 60 status_is "$SU" 200
head -n 300 "$T_TMP/s.tsv" >&7
check "es-sink: 300 indexed" wait_for 60 metric_is "$SU" furrow_es_sink_documents_indexed_total 300
eq "es-sink: records in" 300 "$(metric "$SU" furrow_es_sink_records_in_total)"
check "es-sink: bulk duration histogram has samples" metric_pos "$SU" furrow_es_sink_bulk_duration_seconds_count
check "es-sink: promtool check metrics" promcheck "$SU"

# ---- a real Prometheus scrapes enrich and es-sink ----
mkfifo "$T_TMP/p.fifo"
# (7>&-: only the test may hold es-sink's input open, or es-sink never sees its end)
"$E" $S --metrics-listen "127.0.0.1:$EP" --bad "$T_TMP/p.bad" --stats-interval 0 \
    <"$T_TMP/p.fifo" >/dev/null 2>/dev/null 7>&- &
p_enrich=$!
T_PIDS="$T_PIDS $p_enrich"   # killed on an early exit
exec 9>"$T_TMP/p.fifo"
for i in 1 2 3; do echo "$SPEC"; done >&9
PP=$(free_port)
cat >"$T_TMP/prom.yml" <<EOF
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: furrow
    static_configs:
      - targets: ['127.0.0.1:$EP']
        labels: { stage: enrich }
      - targets: ['127.0.0.1:$SP']
        labels: { stage: es-sink }
EOF
promtool check config "$T_TMP/prom.yml" >/dev/null 2>&1
check "prometheus config is valid" [ $? -eq 0 ]
prometheus --config.file="$T_TMP/prom.yml" --storage.tsdb.path="$T_TMP/tsdb" \
    --web.listen-address="127.0.0.1:$PP" >"$T_TMP/prom.log" 2>&1 7>&- 9>&- &
prom_pid=$!
PU=http://127.0.0.1:$PP
targets_up() { test "$(curl -fsS "$PU/api/v1/targets" | jq '[.data.activeTargets[] | select(.health == "up")] | length')" = 2; }
query() { curl -fsS "$PU/api/v1/query" --data-urlencode "query=$1" | jq -r '.data.result[0].value[1] // empty'; }
query_is() { test "$(query "$1")" = "$2"; }
check "prometheus: both stages' targets are up" wait_for 60 targets_up
check "prometheus: enrich's good counter is queryable" wait_for 30 query_is 'snowplow_enrich_good_total{stage="enrich"}' 3
check "prometheus: es-sink's indexed counter is queryable" wait_for 30 query_is 'furrow_es_sink_documents_indexed_total{stage="es-sink"}' 300

# ---- Elasticsearch stopped: es-sink unhealthy after the threshold; healthy after restart ----
es_stop
diag "engine stopped"
sed -n '301,$p' "$T_TMP/s.tsv" >&7 9>&- &
feeder=$!
check "es-sink: /health 503 with Elasticsearch stopped past the threshold" wait_for 90 status_is "$SU" 503
curl -s -m 5 "$SU/health" >"$T_TMP/why"
check "es-sink: the 503 says Elasticsearch is failing" grep -q "Elasticsearch failing for" "$T_TMP/why"
check "es-sink: furrow_es_sink_peer_failing_seconds > 0" metric_pos "$SU" furrow_es_sink_peer_failing_seconds
check "es-sink: connection failures counted" metric_pos "$SU" 'furrow_es_sink_bulk_failures_total{cause="connection"}'
check "prometheus: sees furrow_healthy 0 for es-sink" wait_for 30 query_is 'furrow_healthy{stage="es-sink"}' 0
check "es-sink: promtool check metrics while failing" promcheck "$SU"
es_start 120 7>&- 9>&-
diag "engine restarted"
check "es-sink: /health 200 after Elasticsearch is back" wait_for 90 status_is "$SU" 200
wait $feeder
exec 7>&-
wait $spid
eq "es-sink: exit 0" 0 $?
eq "es-sink: every event indexed exactly once" 600 "$(es_count metrics)"
check "es-sink: no bad rows" [ ! -s "$T_TMP/s.bad" ]
exec 9>&-
wait $p_enrich
done_testing
