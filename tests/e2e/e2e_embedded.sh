#!/bin/bash
# End to end, embedded default: fifo-setup.sh with no Elasticsearch and no S3, as the README's
# first command starts it (collector -> raw.log -> enrich -> good.tsv, bad rows of both in
# bad.json). Events sent with curl must land in good.tsv, bad ones in bad.json, and a clean stop
# must lose nothing: enrich has read raw.log to its end.
. "$(dirname "$0")/../lib.sh"

port=$(free_port)
data=$T_TMP/data
export FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
export FURROW_PORT=$port FURROW_DATA_DIR=$data FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1
unset FURROW_ES_URL FURROW_S3_BUCKET
bash "$FURROW_ROOT/fifo-setup.sh" start >"$T_TMP/launcher.log" 2>&1 &
launcher=$!
if wait_for 60 test -f "$data/run/ready"; then ok "pipeline starts and the collector is ready"
else fail "pipeline starts"; cat "$T_TMP/launcher.log" "$data"/run/*.log 2>/dev/null | sed 's/^/# /'; done_testing; exit; fi

c=http://127.0.0.1:$port
codes=""
for i in 1 2 3 4 5; do
	codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$c/i?e=pv&p=web&tv=curl-$i&aid=e2e&url=https%3A%2F%2Fexample.com%2Fp$i&page=Page%20$i")"
done
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$c/com.snowplowanalytics.snowplow/tp2" \
	-d '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"se","se_ca":"video","se_ac":"play","p":"web","tv":"curl-6","aid":"e2e"},{"e":"se","se_ca":"video","se_ac":"pause","p":"web","tv":"curl-7","aid":"e2e"}]}')"
# not payload_data: a tracker_protocol_violations bad row
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' "$c/com.snowplowanalytics.snowplow/tp2" -d '{"not":"a payload"}')"
# an unknown vendor: adapter_failures
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$c/com.acme/v9?e=pv")"
eq "every request answered 200" " 200 200 200 200 200 200 200 200" "$codes"

bash "$FURROW_ROOT/fifo-setup.sh" stop >>"$T_TMP/launcher.log" 2>&1
eq "stop exits 0" 0 $?
wait "$launcher"
eq "the launcher exits 0" 0 $?

good=$(wc -l <"$data/good.tsv" 2>/dev/null || echo 0)
bad=$(wc -l <"$data/bad.json" 2>/dev/null || echo 0)
eq "7 good events in good.tsv" 7 "$good"
eq "2 bad rows in bad.json" 2 "$bad"
eq "every good line has 131 columns" "" "$(awk -F'\t' 'NF != 131 {print NR": "NF}' "$data/good.tsv")"
eq "event types" "page_view page_view page_view page_view page_view struct struct" \
	"$(cut -f 6 "$data/good.tsv" | sort | tr '\n' ' ' | sed 's/ $//')"
eq "the bad rows' types" "adapter_failures tracker_protocol_violations" \
	"$(jq -r '.schema | split("/")[1]' "$data/bad.json" | sort | tr '\n' ' ' | sed 's/ $//')"
eq "page_url of the first page view" "https://example.com/p1" \
	"$(awk -F'\t' '$10 == "curl-1" {print $30}' "$data/good.tsv")"
check "after the stop, enrich has read all of raw.log" sh -c \
	"bash '$FURROW_ROOT/fifo-setup.sh' status | grep -q 'raw.log group enrich: 0 bytes'"
left=""
for f in "$data"/run/*.pid; do kill -0 "$(cat "$f")" 2>/dev/null && left="$left $(basename "$f" .pid)"; done
eq "no stage left running" "" "$left"
done_testing
