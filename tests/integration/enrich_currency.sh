#!/bin/sh
# enrich with a currency_conversion_config through bin/enrich, Open Exchange Rates' historical
# API served from recorded answers by a local server (FURROW_OER_URL): transaction and
# transaction item events converted into the base currency (amounts from
# tests/tools/forex_reference.py), base_currency on every event, one request per day, and a
# day the service has no rates for as an enrichment_failures bad row.
. "$(dirname "$0")/../lib.sh"

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
python3 "$FURROW_ROOT/tests/tools/api_server.py" "$T_TMP/port" "$FURROW_ROOT/tests/golden/currency" \
    >"$T_TMP/server.log" 2>&1 &
T_PIDS="$T_PIDS $!"
check "the rates server is up" wait_for 10 test -s "$T_TMP/port"
port=$(cat "$T_TMP/port")

mkdir -p "$T_TMP/conf"
cat >"$T_TMP/conf/currency_conversion_config.json" <<'JSON'
{"schema":"iglu:com.snowplowanalytics.snowplow/currency_conversion_config/jsonschema/1-0-0",
 "data":{"vendor":"com.snowplowanalytics.snowplow","name":"currency_conversion_config","enabled":true,
  "parameters":{"accountType":"DEVELOPER","apiKey":"test-app-id","baseCurrency":"EUR","rateAt":"EOD_PRIOR"}}}
JSON
# 2023-11-14T19:26:40Z, and the next day (no recorded answer)
{
	printf '{"path":"/i","ts":1699990000000,"qs":"e=tr&p=web&tv=t&aid=tr&tr_id=o1&tr_tt=12.3&tr_tx=1.23&tr_sh=0.5&tr_cu=GBP"}\n'
	printf '{"path":"/i","ts":1699990000000,"qs":"e=ti&p=web&tv=t&aid=ti&ti_id=o1&ti_sk=s&ti_pr=1500&ti_qu=1&ti_cu=JPY"}\n'
	printf '{"path":"/i","ts":1699990000000,"qs":"e=pv&p=web&tv=t&aid=pv"}\n'
	printf '{"path":"/i","ts":1700076400000,"qs":"e=tr&p=web&tv=t&aid=tomorrow&tr_id=o2&tr_tt=1&tr_cu=GBP"}\n'
} | "$T_TMP/mkraw" >"$T_TMP/in.raw"
FURROW_OER_URL="http://127.0.0.1:$port/oer/" FURROW_ENRICH_NOW_MS=1700100000000 \
    "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --enrichments "$T_TMP/conf" \
    --bad "$T_TMP/bad.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "exit status 0" 0 $?
# columns 110-115: tr_total_base tr_tax_base tr_shipping_base ti_currency ti_price_base base_currency
eq "transaction: GBP into EUR" "tr 13.99 1.40 0.57 EUR" \
    "$(awk -F'\t' '$1 == "tr" {print $1, $110, $111, $112, $115}' "$T_TMP/good.tsv")"
eq "transaction item: JPY into EUR" "ti JPY 9.12 EUR" \
    "$(awk -F'\t' '$1 == "ti" {print $1, $113, $114, $115}' "$T_TMP/good.tsv")"
eq "a page view: base_currency only" "pv  EUR" \
    "$(awk -F'\t' '$1 == "pv" {print $1, $110 $111 $112 $114, $115}' "$T_TMP/good.tsv")"
eq "one request for the day" 1 \
    "$(curl -sf "http://127.0.0.1:$port/hits" | jq '."/oer/historical/2023-11-14.json"')"
eq "no rates for the next day: enrichment_failures" \
    "currency-conversion: Open Exchange Rates error, type: [OtherErrors], message: [not_available]" \
    "$(jq -r '.data.failure.messages[0] | .enrichment.identifier + ": " + .message.error' "$T_TMP/bad.jsonl")"
check "the API key is in no output" sh -c '! grep -q test-app-id "$1" "$2" "$3"' _ "$T_TMP/good.tsv" "$T_TMP/bad.jsonl" "$T_TMP/err"
done_testing
