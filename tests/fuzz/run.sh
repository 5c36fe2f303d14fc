#!/bin/sh
# Run each libFuzzer target built by `make fuzz` for a few seconds.
#   tests/fuzz/run.sh BUILD_DIR SECONDS NAME...
# Seeds come from tests/fuzz/corpus/<name>/ when present (read-only); new inputs go to a
# scratch corpus under BUILD_DIR, crashes to BUILD_DIR/fuzz-crashes/.
set -u
build=$1 secs=$2; shift 2
rc=0
for name in "$@"; do
	bin=$build/fuzzers/$name
	[ -x "$bin" ] || { echo "fuzz: $bin missing" >&2; rc=1; continue; }
	work=$build/fuzz-corpus/$name
	mkdir -p "$work" "$build/fuzz-crashes"
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	echo "fuzz: $name for ${secs}s"
	"$bin" -max_total_time="$secs" -artifact_prefix="$build/fuzz-crashes/$name-" \
	    "$work" $seeds || rc=1
done
exit $rc
