#!/bin/sh
# The official JSON Schema Test Suite (draft4) against common/jsonschema. The suite comes from
# npm (json-schema-test-suite 0.0.10), fetched once into .cache/; the cases are run by the
# Check program test_jsonschema when JSONSCHEMA_SUITE names the folder.
. "$(dirname "$0")/../lib.sh"

VER=0.0.10
CACHE="$FURROW_ROOT/.cache/json-schema-test-suite-$VER"
UNIT=${FURROW_UNIT:-$FURROW_ROOT/build/tests}

if [ ! -d "$CACHE/package/tests/draft4" ]; then
	mkdir -p "$CACHE"
	if ! (cd "$T_TMP" && npm pack --silent "json-schema-test-suite@$VER" >/dev/null 2>&1 &&
	    tar xzf "json-schema-test-suite-$VER.tgz" -C "$CACHE"); then
		rm -rf "$CACHE"
	fi
fi
if [ ! -d "$CACHE/package/tests/draft4" ] || [ ! -x "$UNIT/test_jsonschema" ]; then
	skip "JSON Schema Test Suite draft4" "suite not downloadable or test_jsonschema not built"
	done_testing
	exit 0
fi

JSONSCHEMA_SUITE="$CACHE/package/tests/draft4" CK_FORK=no "$UNIT/test_jsonschema" \
    >"$T_TMP/out" 2>&1
rc=$?
cases=$(sed -n 's/^suite: .*: \([0-9]*\) cases$/\1/p' "$T_TMP/out" | awk '{s+=$1} END {print s+0}')
files=$(grep -c '^suite: .* cases$' "$T_TMP/out")
diag "$cases cases in $files files"
grep '^suite: .*got' "$T_TMP/out" | while read -r line; do diag "$line"; done
check "all draft4 suite cases pass" [ "$rc" -eq 0 ]
check "every suite file ran (30)" [ "$files" -eq 30 ]
check "the suite has its cases (> 250)" [ "$cases" -gt 250 ]
done_testing
