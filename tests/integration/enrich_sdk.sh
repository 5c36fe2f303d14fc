#!/bin/sh
# Compatibility: every good event of the golden set (and of a fresh run of its requests) parses
# with Snowplow's JavaScript Analytics SDK (npm snowplow-analytics-sdk, installed once by
# tests/setup-npm.sh).
. "$(dirname "$0")/../lib.sh"

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	skip "sdk" "node/npm not installed"
	done_testing
	exit 0
fi
# The pinned npm test clients (tests/setup-npm.sh), installed once for every test that uses them.
. "$FURROW_ROOT/tests/setup-npm.sh"
npm_setup >"$T_TMP/npm.log" 2>&1 || sed 's/^/# /' "$T_TMP/npm.log"
NPM_DIR=$NPM_PREFIX
check "snowplow-analytics-sdk is installed" test -d "$NPM_DIR/node_modules/snowplow-analytics-sdk"

G=$FURROW_ROOT/tests/golden/enrich
# The golden file has "*" for random ids; put a UUID back so the line is a real event.
sed 's/\t\*\t/\t00000000-0000-4000-8000-000000000000\t/' "$G/expected.tsv" >"$T_TMP/golden.tsv"
check "the golden events parse with the SDK" node "$FURROW_ROOT/tests/tools/sdk-parse.js" \
    "$NPM_DIR" "$T_TMP/golden.tsv"

cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" "$FURROW_ROOT/tests/tools/mkraw.c" \
    "$FURROW_ROOT/common/thrift.c" "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" \
    -ljansson
"$T_TMP/mkraw" <"$G/requests.jsonl" | "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
    --resolver "$G/resolver.json" --bad /dev/null >"$T_TMP/fresh.tsv" 2>/dev/null
check "a fresh run has good events" test -s "$T_TMP/fresh.tsv"
check "a fresh run's events parse with the SDK" node "$FURROW_ROOT/tests/tools/sdk-parse.js" \
    "$NPM_DIR" "$T_TMP/fresh.tsv"
done_testing
