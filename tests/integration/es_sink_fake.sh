#!/bin/bash
# es-sink failure paths against a scripted fake _bulk endpoint (fake_es.py): items rejected for
# load retried alone, 5xx retried, 413 split, content rejections as bad rows, the retry deadline
# (exit 69), request format (NDJSON, trailing newline, _id), basic auth and SigV4 headers.
. "$(dirname "$0")/../lib.sh"

SINK=$FURROW_BIN/es-sink
GOLD=$FURROW_ROOT/tests/golden/es-sink
FAKE=$FURROW_ROOT/tests/integration/fake_es.py

# fake MODE: start a fake server, set URL and LOG
fake() {
	LOG=$T_TMP/$1.log
	rm -f "$T_TMP/$1.port" "$LOG"
	bg python3 "$FAKE" "$T_TMP/$1.port" "$LOG" "$1"
	wait_for 10 test -s "$T_TMP/$1.port" || { fail "fake server $1 did not start"; return 1; }
	URL=http://127.0.0.1:$(cat "$T_TMP/$1.port")
}
sink() { "$SINK" --url "$URL" --stats-interval 0 --retry-base-ms 10 --retry-max-ms 50 "$@"; }

# ---- request format, basic auth ----
fake ok
ES_USER=alice ES_PASSWORD=s3cret sink --bad "$T_TMP/b.json" <"$GOLD/good.tsv" 2>"$T_TMP/ok.err"
check "ok: exit 0" [ $? -eq 0 ]
eq "one request for 20 documents" "1 20" "$(jq -r '"\(.n) \(.ndocs)"' "$LOG")"
eq "path is /_bulk, response filtered" "/_bulk?filter_path=errors,items.*.status,items.*.error" "$(jq -r .path "$LOG")"
eq "content type is NDJSON" application/x-ndjson "$(jq -r '.headers["content-type"]' "$LOG")"
eq "body ends with a newline" true "$(jq -r .trailing_newline "$LOG")"
eq "_id is the lower-cased event_id" 9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b "$(jq -r '.ids[18]' "$LOG")"
eq "basic auth from ES_USER/ES_PASSWORD" "Basic $(printf alice:s3cret | base64)" "$(jq -r '.headers.authorization' "$LOG")"

# ---- date-suffixed index names ----
: >"$LOG"
sink --index ev --shard-date-format '-%Y.%m.%d' --bad "$T_TMP/b.json" <"$GOLD/good.tsv" 2>/dev/null
eq "shard: suffix from derived_tstamp, none when it is empty" "ev ev-2023.11.14" \
    "$(jq -r '.indexes[]' "$LOG" | sort -u | tr '\n' ' ' | sed 's/ $//')"
: >"$LOG"
sink --index ev --shard-date-format '_%Y%m' --shard-date-field collector_tstamp --bad "$T_TMP/b.json" \
    <"$GOLD/good.tsv" 2>/dev/null
eq "shard: another column and format" "ev_202311" "$(jq -r '.indexes[]' "$LOG" | sort -u)"
"$SINK" --input bad --shard-date-format x </dev/null 2>/dev/null
eq "shard: enriched input only (exit 64)" 64 $?

# ---- json mode: objects sent as read (invalid UTF-8 repaired), no _id ----
: >"$LOG"
printf '{"a":"x\377y"}\n[1]\n' | sink --input json --index j --bad "$T_TMP/bj.json" 2>/dev/null
check "json: exit 0" [ $? -eq 0 ]
eq "json: one document, no _id" "1 null" "$(jq -r '"\(.ndocs) \(.ids[0])"' "$LOG")"
eq "json: the non-object is a bad row" 1 "$(wc -l <"$T_TMP/bj.json")"

# ---- SigV4 ----
: >"$LOG"
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=secret AWS_SESSION_TOKEN=tok AWS_REGION=eu-west-1 \
    sink --aws-sigv4 es --bad "$T_TMP/b.json" <"$GOLD/good.tsv" 2>/dev/null
check "sigv4: exit 0" [ $? -eq 0 ]
check "sigv4: Authorization is AWS4-HMAC-SHA256 for eu-west-1/es" \
    grep -q 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/[0-9]*/eu-west-1/es/aws4_request' "$LOG"
eq "sigv4: payload hash header is the body's SHA-256" "$(jq -r .body_sha256 "$LOG")" \
    "$(jq -r '.headers["x-amz-content-sha256"]' "$LOG")"
eq "sigv4: session token header" tok "$(jq -r '.headers["x-amz-security-token"]' "$LOG")"

# ---- an item rejected for load is retried alone ----
fake item429
sink --bad "$T_TMP/b429.json" <"$GOLD/good.tsv" 2>"$T_TMP/429.err"
check "item 429: exit 0" [ $? -eq 0 ]
eq "item 429: second request carries only the rejected document" \
    "1 9f2b6a3e-1c4d-4e5f-8a7b-000000000002" "$(jq -r 'select(.n==2) | "\(.ndocs) \(.ids[0])"' "$LOG")"
check "item 429: counted as retried, all indexed" grep -q "indexed=20 bad=0 spooled=0 pending=0 retried=1" "$T_TMP/429.err"

# ---- 503 retried with back-off ----
fake fail503
sink --bad "$T_TMP/b503.json" <"$GOLD/good.tsv" 2>"$T_TMP/503.err"
check "503: exit 0" [ $? -eq 0 ]
eq "503: four requests (3 refused + 1)" 4 "$(wc -l <"$LOG")"
check "503: all indexed" grep -q "indexed=20 bad=0" "$T_TMP/503.err"

# ---- 413 splits the batch ----
fake split413
sink --batch-docs 8 --bad "$T_TMP/b413.json" <"$GOLD/good.tsv" 2>"$T_TMP/413.err"
check "413: exit 0" [ $? -eq 0 ]
check "413: all indexed" grep -q "indexed=20 bad=0" "$T_TMP/413.err"
eq "413: accepted requests of at most 2 documents add up to 20" 20 "$(jq -s 'map(select(.ndocs <= 2) | .ndocs) | add' "$LOG")"

# ---- content rejections become bad rows ----
fake item400
sink --bad "$T_TMP/b400.json" <"$GOLD/good.tsv" 2>"$T_TMP/400.err"
check "400 items: exit 0" [ $? -eq 0 ]
eq "400 items: 6 bad rows" 6 "$(wc -l <"$T_TMP/b400.json")"
check "400 items: reason carried" grep -q 'rejected record with message mapper_parsing_exception: failed to parse field' "$T_TMP/b400.json"
check "400 items: counters reconcile" grep -q "in=20 indexed=14 bad=6" "$T_TMP/400.err"
eq "400 items: not retried" 1 "$(wc -l <"$LOG")"

# ---- retry deadline ----
fake always503
start=$(date +%s)
sink --retry-deadline 2 --bad "$T_TMP/bdead.json" <"$GOLD/good.tsv" 2>"$T_TMP/dead.err"
rc=$?
eq "retry deadline: exit 69" 69 "$rc"
eq "retry deadline: every document became a bad row" 20 "$(wc -l <"$T_TMP/bdead.json")"
check "retry deadline: reason says so" grep -q "did not accept the document after" "$T_TMP/bdead.json"

# ---- --bad unwritable: exit 74 ----
fake ok
sink --bad /proc/version <"$GOLD/invalid.tsv" 2>/dev/null
rc=$?
eq "unwritable --bad: exit 74" 74 "$rc"

# ---- usage ----
"$SINK" --input json </dev/null 2>/dev/null
eq "--input json without --index: exit 64" 64 $?
"$SINK" --bogus </dev/null 2>/dev/null
eq "unknown option: exit 64" 64 $?
eq "--version" "es-sink 0.1.0" "$("$SINK" --version)"
check "--help on stdout" sh -c "'$SINK' --help | grep -q usage"

done_testing
