#!/bin/sh
# Run libFuzzer targets: run.sh BUILDDIR SECONDS NAME...
# Each target runs for SECONDS with its corpus in BUILDDIR/corpus/NAME (kept between runs, git
# ignored), seeded from tests/fuzz/corpus/NAME when that exists (read-only). Crash inputs land
# in BUILDDIR/crashes/. Exit status 1 if any target failed.
set -u
dir=$1 secs=$2
shift 2
status=0
for name in "$@"; do
	bin="$dir/fuzzers/$name"
	corpus="$dir/corpus/$name"
	mkdir -p "$corpus" "$dir/crashes"
	if [ ! -x "$bin" ]; then
		echo "fuzz: $name: not built" >&2
		status=1
		continue
	fi
	seeds=""
	[ -d "tests/fuzz/corpus/$name" ] && seeds="tests/fuzz/corpus/$name"
	echo "fuzz: $name for ${secs}s"
	if "$bin" -max_total_time="$secs" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
	    -artifact_prefix="$dir/crashes/$name-" -print_final_stats=1 "$corpus" $seeds \
	    >"$dir/$name.log" 2>&1; then
		echo "ok   $name: $(grep -E 'stat::number_of_executed_units' "$dir/$name.log" | awk '{print $2}') runs"
	else
		echo "FAIL $name: see $dir/$name.log"
		grep -E 'ERROR|SUMMARY|Test unit written' "$dir/$name.log" | head -n 5 | sed 's/^/    /'
		status=1
	fi
done
exit $status
