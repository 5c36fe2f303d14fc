#!/bin/sh
# The PII enrichment's emitEvent through bin/enrich: with --pii, each good event in which
# something was pseudonymised is followed on the pii stream by a pii_transformation event as
# enrich 5.x's getPiiEvent builds it (platform srv, the parent's app_id, etl and collector
# timestamps, a parent_event context, the changes as its unstruct_event); none for an event
# with nothing to change or one that became a bad row; without --pii, none at all. Without
# emitEvent, --pii is not even opened (it may name a topic or file that does not exist).
. "$(dirname "$0")/../lib.sh"

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
mkdir -p "$T_TMP/conf"
cat >"$T_TMP/conf/pii_enrichment_config.json" <<'JSON'
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"pii_enrichment_config",
  "emitEvent":true,"enabled":true,
  "parameters":{"pii":[{"pojo":{"field":"user_id"}}],
   "strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"pepper123"}}}}}
JSON
{
	printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=shop&uid=john%%40acme.com&eid=5a305bf5-e001-4000-8000-000000000001"}\n'
	printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=shop&eid=5a305bf5-e001-4000-8000-000000000002"}\n'
	printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=shop&uid=x&eid=not-a-uuid"}\n'
} | "$T_TMP/mkraw" >"$T_TMP/in.raw"
run() {
	FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
	    --enrichments "$T_TMP/conf" --bad "$T_TMP/bad.jsonl" "$@" <"$T_TMP/in.raw"
}
run --pii "$T_TMP/pii.tsv" >"$T_TMP/good.tsv" 2>"$T_TMP/err"
eq "exit status 0" 0 $?
eq "two good events, one bad row" "2 1" "$(wc -l <"$T_TMP/good.tsv") $(wc -l <"$T_TMP/bad.jsonl")"
eq "one pii_transformation event" 1 "$(wc -l <"$T_TMP/pii.tsv")"
eq "131 fields" 131 "$(awk -F'\t' '{print NF}' "$T_TMP/pii.tsv")"
eq "app_id, platform, etl and collector timestamps, event, event_vendor/name/format/version" \
    "shop srv 2023-11-14 22:15:00.000 2023-11-14 22:13:20.000 pii_transformation com.snowplowanalytics.snowplow pii_transformation jsonschema 1-0-0" \
    "$(awk -F'\t' '{print $1, $2, $3, $4, $6, $126, $127, $128, $129}' "$T_TMP/pii.tsv")"
check "a new event id" sh -c 'test "$(cut -f7 "$1")" != 5a305bf5-e001-4000-8000-000000000001' _ "$T_TMP/pii.tsv"
eq "derived_tstamp and true_tstamp: the processing time" "2023-11-14 22:15:00.000 2023-11-14 22:15:00.000" \
    "$(awk -F'\t' '{print $125, $131}' "$T_TMP/pii.tsv")"
eq "v_etl" "furrow-enrich-" "$(cut -f12 "$T_TMP/pii.tsv" | cut -c1-14)"
eq "the parent_event context" \
    '{"schema":"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1","data":[{"schema":"iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0","data":{"parentEventId":"5a305bf5-e001-4000-8000-000000000001"}}]}' \
    "$(cut -f53 "$T_TMP/pii.tsv")"
eq "the changes as its unstruct_event" \
    '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0","data":{"pii":{"pojo":[{"fieldName":"user_id","originalValue":"john@acme.com","modifiedValue":"7d8a4beae5bc9d314600667d2f410918f9af265017a6ade99f60a9c8f3aac6e9"}]},"strategy":{"pseudonymize":{"hashFunction":"SHA-256"}}}}}' \
    "$(cut -f59 "$T_TMP/pii.tsv")"
check "the parent is pseudonymised in the good stream" grep -q 7d8a4beae5bc9d3146 "$T_TMP/good.tsv"
check "counted" grep -q "pii 1" "$T_TMP/err"
rm -f "$T_TMP/bad.jsonl"
run >"$T_TMP/good2.tsv" 2>/dev/null
eq "without --pii: the same good events, no second event" "2" "$(wc -l <"$T_TMP/good2.tsv")"
check "without --pii: no pii_transformation anywhere" sh -c '! grep -q pii_transformation "$1"' _ "$T_TMP/good2.tsv"

# without emitEvent, --pii names a stream enrich never opens (a systemd unit always passes it):
# a path in a missing directory is no error, and nothing is made there
mkdir -p "$T_TMP/conf-off"
sed 's/"emitEvent":true/"emitEvent":false/' "$T_TMP/conf/pii_enrichment_config.json" \
    >"$T_TMP/conf-off/pii_enrichment_config.json"
FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
    --enrichments "$T_TMP/conf-off" --bad /dev/null --pii "$T_TMP/no/such/dir/pii.tsv" \
    <"$T_TMP/in.raw" >"$T_TMP/good3.tsv" 2>"$T_TMP/err3"
eq "emitEvent off: --pii not opened, enrich runs" 0 $?
eq "emitEvent off: the good events" 2 "$(wc -l <"$T_TMP/good3.tsv")"
check "emitEvent off: a notice says --pii is not opened" grep -q -- "--pii .*no PII enrichment with emitEvent: not opened" "$T_TMP/err3"
check "emitEvent off: nothing made at --pii" test ! -e "$T_TMP/no"
run --pii "$T_TMP/no/such/dir/pii.tsv" >/dev/null 2>"$T_TMP/err4"
check "emitEvent on: a --pii that cannot be opened stops enrich at startup" test $? -ne 0
check "emitEvent on: the error names --pii" grep -q -- "--pii" "$T_TMP/err4"
done_testing
