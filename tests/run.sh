#!/bin/sh
# furrow test runner. Runs each argument as a test program and adds up the results:
#  - Check suites (build/tests/test_*): their "Checks: N, Failures: F, Errors: E" lines;
#  - shell tests (*.sh): TAP-style "ok N - name" / "not ok N - name" lines, "# SKIP" allowed.
# A program that exits non-zero without reporting a failure counts as one failed test.
# The last line of output is "N passed, N failed" (plus ", N skipped"), which CI reads.
passed=0 failed=0 skipped=0
logdir=${FURROW_TEST_LOGS:-build/test-logs}
mkdir -p "$logdir"
failed_names=""
for t in "$@"; do
	name=$(basename "$t")
	log="$logdir/$name.log"
	start=$(date +%s)
	case "$t" in
	*.sh) CK_VERBOSITY=normal timeout "${FURROW_TEST_TIMEOUT:-900}" bash "$t" >"$log" 2>&1 ;;
	*)    CK_VERBOSITY=normal CK_DEFAULT_TIMEOUT=60 timeout "${FURROW_TEST_TIMEOUT:-900}" "$t" >"$log" 2>&1 ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	case "$t" in
	*.sh)
		p=$(grep -E '^ok [0-9]+' "$log" | grep -vc '# SKIP')
		s=$(grep -E '^ok [0-9]+.*# SKIP' "$log" | wc -l)
		f=$(grep -Ec '^not ok [0-9]+' "$log")
		;;
	*)
		c=$(sed -n 's/.*Checks: \([0-9]*\), Failures: \([0-9]*\), Errors: \([0-9]*\).*/\1 \2 \3/p' "$log" |
		    awk '{c+=$1; f+=$2+$3} END {print c+0, f+0}')
		f=${c#* }; p=$(( ${c% *} - f )); s=0
		;;
	esac
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc" >>"$log"
	fi
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name: $p passed, $f failed ($secs s); log: $log"
		grep -E '^not ok|:[0-9]+:[EF]:|ERROR|AddressSanitizer|runtime error' "$log" | head -n 30 | sed 's/^/    /'
		failed_names="$failed_names $name"
	else
		if [ "$s" -gt 0 ]; then echo "ok   $name: $p passed, $s skipped ($secs s)"; else echo "ok   $name: $p passed ($secs s)"; fi
	fi
done
[ -z "$failed_names" ] || echo "failed:$failed_names"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
