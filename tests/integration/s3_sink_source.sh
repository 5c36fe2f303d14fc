#!/bin/bash
# s3-sink reading a durable log (--source log:PATH --group NAME) into a real S3 API server
# (S3Proxy): the group's offset is committed once lines are in the fsynced spool, so s3-sink
# killed with SIGKILL at any moment, again and again while the log grows, loses no line: what it
# had not committed is read again (at most duplicated), and the store ends up holding every line.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style --spool "$T_TMP/sp"
    --prefix k/ --rotate-records 300 --rotate-seconds 1 --stats-interval 0
    --source "log:$T_TMP/good.tsv" --group s3)
fetch_all() { for k in $(s3_ls bkt "$1"); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done; }
committed() { sed 's/^0*//; s/^$/0/' "$T_TMP/good.tsv.offsets/s3" 2>/dev/null || echo 0; }
append() { # append FROM TO: lines to the log, whole, as enrich writes them
	awk -v a="$1" -v b="$2" 'BEGIN { for (i = a; i <= b; i++) printf "line-%06d\tpayload-%d\n", i, i * 31 }' \
	    >>"$T_TMP/good.tsv"
}
start() { "${SINK[@]}" 2>>"$T_TMP/err" & SPID=$!; T_PIDS="$T_PIDS $SPID"; }

append 1 500
start
check "the first lines are committed" wait_for 20 sh -c "[ \$(sed 's/^0*//' '$T_TMP/good.tsv.offsets/s3') = \$(stat -c %s '$T_TMP/good.tsv') ]"
# kill -9 ten times while the log grows
for round in $(seq 1 10); do
	append $((500 + (round - 1) * 300 + 1)) $((500 + round * 300))
	# let it take some of the new lines (or none): the kill lands at an arbitrary point
	wait_for 5 sh -c "[ \$(sed 's/^0*//' '$T_TMP/good.tsv.offsets/s3') -gt $(committed) ]"
	kill -9 "$SPID"; wait "$SPID" 2>/dev/null
	start
done
total=$((500 + 10 * 300))
check "after the kills: everything committed" wait_for 30 sh -c "[ \$(sed 's/^0*//' '$T_TMP/good.tsv.offsets/s3') = \$(stat -c %s '$T_TMP/good.tsv') ]"
# the last sink must be up (its handlers installed) before the TERM: the offsets may already be
# complete from its predecessor, and a sanitizer build takes a while to reach main()
check "the last sink is up" wait_for 20 sh -c "[ \$(grep -c 'archiving' '$T_TMP/err') -ge 11 ]"
kill -TERM "$SPID"; wait "$SPID"
eq "SIGTERM: exit 0 (uploads drained)" 0 $?
fetch_all k/ | sort >"$T_TMP/out"
eq "no line lost across 10 kill -9" "$total" "$(sort -u "$T_TMP/out" | wc -l)"
check "every stored line is whole" sh -c "! grep -v '^line-[0-9]\{6\}	payload-[0-9]*$' '$T_TMP/out'"
diag "duplicates after 10 kill -9: $(( $(wc -l <"$T_TMP/out") - total ))"
eq "the spool is empty" "" "$(ls "$T_TMP/sp")"

"$FURROW_BIN/s3-sink" --bucket bkt --spool "$T_TMP/sp2" --group x </dev/null 2>"$T_TMP/g.err"
eq "a group without a log: usage error (exit 64)" 64 $?
done_testing
