#!/bin/sh
# enrich golden tests: realistic tracker requests (encoded with common/thrift by mkraw) and
# hand-built raw lines -> expected TSV and bad rows, compared field by field
# (tests/golden/enrich/README). Also: lines in = good events + bad rows.
. "$(dirname "$0")/../lib.sh"

G=$FURROW_ROOT/tests/golden/enrich
SCHEMAS=${FURROW_SCHEMAS:-$FURROW_ROOT/schemas}
if [ ! -d "$SCHEMAS" ]; then
	skip "golden" "no embedded registry at $SCHEMAS"
	done_testing
	exit 0
fi

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
"$T_TMP/mkraw" <"$G/requests.jsonl" >"$T_TMP/in.raw"
cat "$G/handmade.raw" >>"$T_TMP/in.raw"

FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$SCHEMAS" \
    --resolver "$G/resolver.json" --bad "$T_TMP/bad.jsonl" <"$T_TMP/in.raw" >"$T_TMP/good.tsv" \
    2>"$T_TMP/err"
eq "exit status 0" 0 $?

if python3 "$FURROW_ROOT/tests/tools/golden_cmp.py" "$G/expected.tsv" "$T_TMP/good.tsv" \
    "$G/expected-bad.jsonl" "$T_TMP/bad.jsonl" >"$T_TMP/diff"; then
	ok "output matches the golden files field by field"
else
	fail "output matches the golden files field by field"
	sed 's/^/# /' "$T_TMP/diff"
fi

# Accounting: non-empty lines in + the 2 extra events of the one 3-event POST = good + bad.
lines=$(grep -c . "$T_TMP/in.raw")
good=$(wc -l <"$T_TMP/good.tsv")
bad=$(wc -l <"$T_TMP/bad.jsonl")
eq "lines in (+2 extra POST events) = good + bad" $((lines + 2)) $((good + bad))
check "counters logged at exit" grep -q "lines $lines, empty 1, good $good, bad $bad" "$T_TMP/err"
check "every good line has 131 fields" awk -F'\t' 'NF != 131 { exit 1 }' "$T_TMP/good.tsv"
check "every bad row is JSON" sh -c 'jq -e . "$1" >/dev/null' _ "$T_TMP/bad.jsonl"
done_testing
