#!/bin/bash
# s3-sink object keys and partitions (sinks.md §3.2, §3.3), --input bad partitioning by schema and
# its bad rows (§3.8), --input raw, and configuration errors (exit 78) / usage (64).
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
sink() { "${SINK[@]}" "$@"; }
get() { s3_get bkt "$1" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; }
UUID='[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}'
TS='[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{6}'

# --- enriched: date partition and prefix ---
printf 'x\t1\ny\t2\n' | sink --spool "$T_TMP/sp" --prefix pre- \
    --partition 'enriched/y={yyyy}/m={MM}/d={dd}/h={HH}' --print-keys >"$T_TMP/k1" 2>"$T_TMP/e1"
eq "enriched: exit 0" 0 $?
k=$(cat "$T_TMP/k1")
check "enriched: key layout ($k)" grep -Eq "^enriched/y=[0-9]{4}/m=[0-9]{2}/d=[0-9]{2}/h=[0-9]{2}/pre-$TS-$UUID\.gz\$" "$T_TMP/k1"
d=$(echo "$k" | sed -E 's|^enriched/y=([0-9]+)/m=([0-9]+)/d=([0-9]+)/h=([0-9]+)/pre-([0-9]+)-([0-9]+)-([0-9]+)-([0-9]{2}).*|\1\2\3\4 \5\6\7\8|')
eq "enriched: partition date = file time" "${d% *}" "${d#* }"
check "enriched: listed by the store" test "$(s3_ls bkt enriched/)" = "$k"
eq "enriched: content" "$(printf 'x\t1\ny\t2\n')" "$(get "$k")"

# --- prefix with folders, no partition; normalisation ---
echo z | sink --spool "$T_TMP/sp" --prefix '/a//b/./c-' --print-keys >"$T_TMP/k2" 2>/dev/null
check "prefix folders normalised ($(cat "$T_TMP/k2"))" grep -Eq "^a/b/c-$TS-$UUID\.gz\$" "$T_TMP/k2"

# --- bad: partitioned by {vendor}.{schema}; one object per full schema key ---
BR=iglu:com.snowplowanalytics.snowplow.badrows
{
	echo "{\"schema\":\"$BR/schema_violations/jsonschema/2-0-1\",\"data\":{\"n\":1}}"
	echo "{\"schema\":\"$BR/size_violation/jsonschema/1-0-0\",\"data\":{\"n\":2}}"
	echo 'this is not json'
	echo "{\"schema\":\"$BR/schema_violations/jsonschema/2-0-1\",\"data\":{\"n\":3}}"
	echo '{"schema":"iglu:com.acme/x/jsonschema/1-01-0","data":{}}'
	echo "{\"schema\":\"$BR/schema_violations/jsonschema/2-0-0\",\"data\":{\"n\":4}}"
	echo '{"no":"schema"}'
} >"$T_TMP/bad-in"
sink --spool "$T_TMP/spb" --input bad --bad "$T_TMP/bad-out" --print-keys <"$T_TMP/bad-in" \
    >"$T_TMP/k3" 2>"$T_TMP/e3"
eq "bad: exit 0" 0 $?
eq "bad: 3 objects (two versions of schema_violations, one size_violation)" 3 "$(wc -l <"$T_TMP/k3")"
sv=$(grep -Ec "^com.snowplowanalytics.snowplow.badrows.schema_violations/$TS-$UUID\.gz\$" "$T_TMP/k3")
eq "bad: two schema_violations objects in their partition" 2 "$sv"
check "bad: size_violation partition" grep -Eq "^com.snowplowanalytics.snowplow.badrows.size_violation/$TS-$UUID\.gz\$" "$T_TMP/k3"
all=$(while read -r k; do get "$k"; done <"$T_TMP/k3" | sort)
eq "bad: every placed line stored once" "$(grep '"data":{"n"' "$T_TMP/bad-in" | sort)" "$all"
mixed=0
while read -r k; do
	v=$(get "$k" | jq -r .schema | sort -u | wc -l)
	[ "$v" -eq 1 ] || mixed=1
done <"$T_TMP/k3"
eq "bad: each object holds one schema key" 0 "$mixed"
eq "bad: 3 bad rows" 3 "$(wc -l <"$T_TMP/bad-out")"
eq "bad rows: generic_error 1-0-0" "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0" \
    "$(jq -r .schema "$T_TMP/bad-out" | sort -u)"
eq "bad rows: processor" "furrow-s3-sink 0.1.0" "$(head -n1 "$T_TMP/bad-out" | jq -r '.data.processor | "\(.artifact) \(.version)"')"
eq "bad rows: not JSON" "this is not json" "$(jq -r 'select(.data.failure.errors[0] | startswith("Can'"'"'t parse JSON holding self-describing event: ")) | .data.payload' "$T_TMP/bad-out")"
eq "bad rows: bad SchemaVer" "Can't extract schema from self-describing event: INVALID_SCHEMAVER" \
    "$(sed -n 2p "$T_TMP/bad-out" | jq -r '.data.failure.errors[0]')"
eq "bad rows: no schema" "Can't extract schema from self-describing event: INVALID_DATA_PAYLOAD" \
    "$(sed -n 3p "$T_TMP/bad-out" | jq -r '.data.failure.errors[0]')"
eq "bad rows: timestamp" "true true true" "$(jq '.data.failure.timestamp | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$")' "$T_TMP/bad-out" | tr '\n' ' ' | sed 's/ $//')"
check "bad: in = out + bad" grep -q 'lines_in=7 .*lines_spooled=4 bad=3 ' "$T_TMP/e3"

# --- bad: a custom template with every schema placeholder ---
head -n 1 "$T_TMP/bad-in" | sink --spool "$T_TMP/spb" --input bad --prefix p- \
    --partition '{vendor}/{schema}/{format}/model={model}/{yyyy}' --print-keys >"$T_TMP/k4" 2>/dev/null
check "bad: template placeholders ($(cat "$T_TMP/k4"))" grep -Eq "^com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/model=2/[0-9]{4}/p-$TS-$UUID\.gz\$" "$T_TMP/k4"

# --- raw: lines stored as they come ---
printf 'CwBkAAAACzIwMy4w==\r\nYWJj\n\nZGVm\n' >"$T_TMP/raw-in"
sink --spool "$T_TMP/spr" --input raw --prefix raw/ --print-keys <"$T_TMP/raw-in" >"$T_TMP/k5" 2>/dev/null
eq "raw: exit 0" 0 $?
get "$(cat "$T_TMP/k5")" >"$T_TMP/raw-out"
check "raw: byte-for-byte" cmp -s "$T_TMP/raw-in" "$T_TMP/raw-out"

# --- empty input: no object ---
sink --spool "$T_TMP/spe" --prefix empty/ --print-keys </dev/null >"$T_TMP/k6" 2>/dev/null
eq "empty input: exit 0" 0 $?
eq "empty input: no object" "" "$(cat "$T_TMP/k6"; s3_ls bkt empty/)"

# --- configuration errors ---
cfg() { sink --spool "$T_TMP/spc" "$@" </dev/null >/dev/null 2>"$T_TMP/ec"; echo $?; }
eq "schema placeholder in enriched mode: 78" 78 "$(cfg --partition '{vendor}/x')"
check "  message" grep -q 'Enriched events can only get partitioned by date and time' "$T_TMP/ec"
eq "unknown placeholder: 78" 78 "$(cfg --input bad --partition '{mm}')"
eq "'..' in prefix: 78" 78 "$(cfg --prefix '../up-')"
eq "bad endpoint: 78" 78 "$(sink --spool "$T_TMP/spc" --endpoint ftp://x </dev/null 2>/dev/null; echo $?)"
eq "missing secret: 78" 78 "$(AWS_SECRET_ACCESS_KEY= cfg)"
check "  message" grep -q 'AWS_SECRET_ACCESS_KEY' "$T_TMP/ec"
eq "missing bucket: 78" 78 "$("$FURROW_BIN/s3-sink" --spool "$T_TMP/spc" </dev/null 2>/dev/null; echo $?)"
eq "missing spool: 78" 78 "$("$FURROW_BIN/s3-sink" --bucket b </dev/null 2>/dev/null; echo $?)"
eq "unknown option: 64" 64 "$(cfg --frobnicate)"
eq "bad --input: 64" 64 "$(cfg --input thrift)"
check "--help on stdout" sh -c '"$1" --help | grep -q -- "--rotate-bytes"' _ "$FURROW_BIN/s3-sink"
eq "--version" "s3-sink 0.1.0" "$("$FURROW_BIN/s3-sink" --version)"
mkdir -p "$T_TMP/spl"
mkfifo "$T_TMP/fifo5"
"${SINK[@]}" --spool "$T_TMP/spl" <"$T_TMP/fifo5" 2>/dev/null &
p5=$!
exec 5>"$T_TMP/fifo5"
has_lock() { [ -e "$T_TMP/spl/.lock" ]; }
wait_for 10 has_lock
eq "second sink on the same spool: 78" 78 "$(sink --spool "$T_TMP/spl" </dev/null 2>/dev/null; echo $?)"
exec 5>&-
wait "$p5"
done_testing
