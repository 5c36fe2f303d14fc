#!/bin/sh
# Webhooks end to end: every request of upstream's adapter specs (tests/golden/webhooks/
# vectors.jsonl, see tests/unit/test_adapt.c) sent to the real collector, which must store it
# unchanged (path, query string, content type, body), then each stored record through the real
# enrich: the events' columns, or the adapter_failures row naming the field. Also: an unknown
# vendor stays adapter_failures, and every line in gives good events or bad rows.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

G=$FURROW_ROOT/tests/golden/webhooks
SCHEMAS=${FURROW_SCHEMAS:-$FURROW_ROOT/schemas}

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json"
check "collector is up" test -n "$PORT"
mkdir -p "$T_TMP/work"
python3 "$TOOLS/webhooks_check.py" "$G/vectors.jsonl" "$PORT" "$T_TMP/out.raw" \
    "$FURROW_BIN/enrich" "$SCHEMAS" "$G/resolver.json" "$T_TMP/work" >"$T_TMP/results" \
    2>"$T_TMP/driver.err"
eq "driver ran" 0 $?
sed 's/^/# /' "$T_TMP/driver.err" | head -20
while IFS= read -r line; do
	case "$line" in
	PASS\ *) ok "${line#PASS }" ;;
	*) fail "${line#FAIL }" ;;
	esac
done <"$T_TMP/results"
check "every vector was checked" test "$(grep -c ': stored unchanged' "$T_TMP/results")" -eq \
    "$(grep -c . "$G/vectors.jsonl")"

# An unknown vendor/version, a malformed body of each kind and a body that is not UTF-8:
# adapter_failures rows, never a crash, and line accounting holds.
: >"$T_TMP/out.raw"
curl -s -o /dev/null "$URL/com.acme/v9?e=pv"
# GoogleAnalyticsAdapterSpec's Api; AdapterRegistry routes GA on /com.google.analytics/v1 only
curl -s -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary 't=pageview&dh=host&dp=path' "$URL/com.google.analytics.measurement-protocol/v1"
curl -s -o /dev/null -H 'Content-Type: application/json' --data-binary '{"a":' \
    "$URL/com.mailgun/v1"
curl -s -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary 'mandrill_events=%5B' "$URL/com.mandrill/v1"
printf 'type=sub\377scribe' | curl -s -o /dev/null -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary @- "$URL/com.mailchimp/v1"
wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge 5 ]"
"$FURROW_BIN/enrich" --schemas "$SCHEMAS" --bad "$T_TMP/bad2.jsonl" <"$T_TMP/out.raw" \
    >"$T_TMP/good2.tsv" 2>"$T_TMP/err2"
eq "enrich exits 0" 0 $?
eq "five adapter_failures rows" 5 "$(grep -c '/adapter_failures/' "$T_TMP/bad2.jsonl")"
check "the unknown vendor is named" grep -q '"field":"vendor/version","value":"com.acme/v9","expectation":"vendor/version combination is not supported"' "$T_TMP/bad2.jsonl"
check "GA's measurement-protocol vendor is not a route" grep -q '"field":"vendor/version","value":"com.google.analytics.measurement-protocol/v1","expectation":"vendor/version combination is not supported"' "$T_TMP/bad2.jsonl"
check "a mailgun body that is not JSON names the body" grep -q '"field":"body","value":"{\\"a\\":","expectation":"could not parse body: invalid json: exhausted input"' "$T_TMP/bad2.jsonl"
check "mandrill names mandril_events (upstream's spelling)" grep -q '"field":"mandril_events"' "$T_TMP/bad2.jsonl"
check "a body that is not UTF-8 is read with U+FFFD" grep -q 'sub\\ufffdscribe\|sub�scribe' "$T_TMP/bad2.jsonl"
eq "no good events" 0 "$(wc -l <"$T_TMP/good2.tsv")"

stop_collector
eq "collector stops cleanly" 0 "$CRC"
done_testing
