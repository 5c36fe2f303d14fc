#!/bin/bash
# furrow test runner. Runs each argument as a test program and adds up the results:
#  - Check suites (build/tests/test_*): their "Checks: N, Failures: F, Errors: E" lines;
#  - shell tests (*.sh): TAP-style "ok N - name" / "not ok N - name" lines, "# SKIP" allowed.
# A program that exits non-zero without reporting a failure counts as one failed test.
# The last line of output is "N passed, N failed" (plus ", N skipped"), which CI reads.
#
# Tests run concurrently, FURROW_TEST_JOBS at a time (default 4; 1 runs them one by one in the
# order given). Most of the suite's time is spent waiting (JVMs starting, deadlines polled,
# processes draining), not computing, so a few at once fit even a 2-core machine. Every test
# is independent: its own free ports, temporary directories, processes and log file
# ($FURROW_TEST_LOGS/NAME.log); downloads shared between tests are serialised by
# tests/fetchlock.sh. A test's line is printed when it ends.
passed=0 failed=0 skipped=0
logdir=${FURROW_TEST_LOGS:-build/test-logs}
jobs=${FURROW_TEST_JOBS:-4}
mkdir -p "$logdir"
failed_names=""

# Two queues: heavy tests (a JVM broker or search engine, a whole pipeline) run at most
# FURROW_TEST_HEAVY at a time (default 2), so that JVMs starting together on a small machine do
# not all miss their start deadlines; the slow light tests go first among the others.
heavy='kafka|kinesis|elasticsearch|opensearch|readme|e2e_|iglu_server_scala'
slow='inspect_ui|inspect_tracker|fifo_setup|prometheus|s3_sink_(crash|outage|backpressure)|pg_sink|enrich_sql|sinks_kill'
hjobs=${FURROW_TEST_HEAVY:-2}
heavy_q=() light_q=()
for t in "$@"; do [[ $(basename "$t") =~ $heavy ]] && heavy_q+=("$t"); done
first='sinks_kill|fifo_setup_kill'   # the longest (minutes of steady load): first of all
for t in "$@"; do n=$(basename "$t"); [[ $n =~ $heavy ]] || { [[ $n =~ $first ]] && light_q+=("$t"); }; done
for t in "$@"; do n=$(basename "$t"); [[ $n =~ $heavy || $n =~ $first ]] || { [[ $n =~ $slow ]] && light_q+=("$t"); }; done
for t in "$@"; do n=$(basename "$t"); [[ $n =~ $heavy || $n =~ $first || $n =~ $slow ]] || light_q+=("$t"); done

# run_one TEST: run it, write its log and "passed failed skipped seconds" to NAME.result.
run_one() {
	local t=$1 name log start rc secs p s f c tap
	name=$(basename "$t")
	log="$logdir/$name.log"
	start=$(date +%s)
	case "$t" in
	*.sh) CK_VERBOSITY=normal timeout "${FURROW_TEST_TIMEOUT:-900}" bash "$t" >"$log" 2>&1 </dev/null ;;
	*)    CK_VERBOSITY=normal CK_DEFAULT_TIMEOUT=60 timeout "${FURROW_TEST_TIMEOUT:-900}" "$t" >"$log" 2>&1 </dev/null ;;
	esac
	rc=$?
	secs=$(( $(date +%s) - start ))
	case "$t" in
	*.sh)
		# colour codes a background server (a JVM's logger) left on the line are not the test's
		tap=$(sed 's/\x1b\[[0-9;]*m//g' "$log")
		p=$(grep -E '^ok [0-9]+' <<<"$tap" | grep -vc '# SKIP')
		s=$(grep -E '^ok [0-9]+.*# SKIP' <<<"$tap" | wc -l)
		f=$(grep -Ec '^not ok [0-9]+' <<<"$tap")
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
	echo "$p $f $s $secs" >"$logdir/$name.result"
}

# report TEST: print its line and add it up.
report() {
	local name log p f s secs
	name=$(basename "$1")
	log="$logdir/$name.log"
	read -r p f s secs <"$logdir/$name.result" || { p=0 f=1 s=0 secs=0; }
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
	if [ "$f" -gt 0 ]; then
		echo "FAIL $name: $p passed, $f failed ($secs s); log: $log"
		grep -E '^not ok|:[0-9]+:[EF]:|ERROR|AddressSanitizer|runtime error' "$log" | head -n 30 | sed 's/^/    /'
		failed_names="$failed_names $name"
	elif [ "$s" -gt 0 ]; then
		echo "ok   $name: $p passed, $s skipped ($secs s)"
	else
		echo "ok   $name: $p passed ($secs s)"
	fi
}

declare -A running=() is_heavy=()   # pid -> test; pid -> 1 for a heavy test
nheavy=0
start_one() { # TEST HEAVY
	rm -f "$logdir/$(basename "$1").result"
	run_one "$1" &
	running[$!]=$1
	[ "$2" = 1 ] && { is_heavy[$!]=1; nheavy=$((nheavy + 1)); }
}
while :; do
	while [ "${#running[@]}" -lt "$jobs" ]; do
		if [ "${#heavy_q[@]}" -gt 0 ] && [ "$nheavy" -lt "$hjobs" ]; then
			start_one "${heavy_q[0]}" 1; heavy_q=("${heavy_q[@]:1}")
		elif [ "${#light_q[@]}" -gt 0 ]; then
			start_one "${light_q[0]}" 0; light_q=("${light_q[@]:1}")
		elif [ "${#heavy_q[@]}" -gt 0 ] && [ "${#running[@]}" -eq 0 ]; then
			start_one "${heavy_q[0]}" 1; heavy_q=("${heavy_q[@]:1}")
		else
			break
		fi
	done
	[ "${#running[@]}" -gt 0 ] || break
	done_pid=
	wait -n -p done_pid
	if [ -z "$done_pid" ] || [ -z "${running[$done_pid]:-}" ]; then
		continue
	fi
	report "${running[$done_pid]}"
	unset "running[$done_pid]"
	if [ -n "${is_heavy[$done_pid]:-}" ]; then unset "is_heavy[$done_pid]"; nheavy=$((nheavy - 1)); fi
done

[ -z "$failed_names" ] || echo "failed:$failed_names"
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
