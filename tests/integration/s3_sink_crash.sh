#!/bin/bash
# s3-sink killed with SIGKILL mid-stream, then restarted: closed files and the open file left in
# the spool are uploaded first, and no line that had reached the spool is lost (sinks.md §3.6;
# issue "kill -9 at any moment loses at most the lines not yet written to the spool file").
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
fetch_all() { for k in $(s3_ls bkt "$1"); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done; }
in_log() { grep -q "$2" "$1"; }

awk 'BEGIN { for (i = 1; i <= 3000; i++) printf "line-%05d\tpayload-%d\n", i, i * 31 }' >"$T_TMP/in"

# Phase 1: the store is down, so closed files pile up in the spool next to the open one.
s3_stop
mkfifo "$T_TMP/fifo"
"${SINK[@]}" --spool "$T_TMP/sp" --prefix k/ --rotate-records 500 --retry-base-ms 200 \
    --retry-max-ms 1000 --stats-interval 1 <"$T_TMP/fifo" 2>"$T_TMP/err1" &
pid=$!
exec 3>"$T_TMP/fifo"
sed -n 1,2200p "$T_TMP/in" >&3
# Readiness: the counters say all 2200 lines were read (and so written to the spool).
check "phase 1: 2200 lines read" wait_for 20 in_log "$T_TMP/err1" 'lines_in=2200 '
kill -KILL "$pid"
wait "$pid" 2>/dev/null
exec 3>&-
eq "phase 1: four closed files in the spool" 4 "$(ls "$T_TMP/sp" | grep -c '\.gz$')"
eq "phase 1: one open file in the spool" 1 "$(ls "$T_TMP/sp" | grep -c '\.part$')"

# Phase 2: store back, restart with the rest of the input.
s3_restart || fail "S3 server restarts"
sed -n '2201,$p' "$T_TMP/in" | "${SINK[@]}" --spool "$T_TMP/sp" --prefix k/ --rotate-records 500 2>"$T_TMP/err2"
eq "phase 2: exit 0" 0 $?
check "phase 2: the open file was salvaged" grep -q 'salvaged 200 lines of the unfinished file' "$T_TMP/err2"
check "phase 2: leftovers uploaded first" grep -q '5 files .* left by an earlier run' "$T_TMP/err2"
fetch_all k/ | sort >"$T_TMP/out"
eq "no line lost" 3000 "$(sort -u "$T_TMP/out" | wc -l)"
eq "no line twice" "" "$(uniq -d "$T_TMP/out")"
check "store = input" cmp -s "$T_TMP/in" "$T_TMP/out"
eq "spool empty" "" "$(ls "$T_TMP/sp")"

# Phase 3: kill -9 in the bad stream, where each schema has its own open file.
BR=iglu:com.snowplowanalytics.snowplow.badrows
for i in $(seq 1 40); do
	echo "{\"schema\":\"$BR/schema_violations/jsonschema/2-0-1\",\"data\":{\"i\":$i}}"
	echo "{\"schema\":\"$BR/enrichment_failures/jsonschema/2-0-1\",\"data\":{\"i\":$i}}"
done >"$T_TMP/bad"
mkfifo "$T_TMP/fifo2"
"${SINK[@]}" --spool "$T_TMP/spb" --input bad --stats-interval 1 <"$T_TMP/fifo2" 2>"$T_TMP/err3" &
pid=$!
exec 3>"$T_TMP/fifo2"
cat "$T_TMP/bad" >&3
check "phase 3: 80 bad rows read" wait_for 20 in_log "$T_TMP/err3" 'lines_in=80 '
kill -KILL "$pid"
wait "$pid" 2>/dev/null
exec 3>&-
eq "phase 3: two open files" 2 "$(ls "$T_TMP/spb" | grep -c '\.part$')"
"${SINK[@]}" --spool "$T_TMP/spb" --input bad --print-keys </dev/null >"$T_TMP/k3" 2>/dev/null
eq "phase 3: restart exit 0" 0 $?
check "phase 3: partitions kept" test "$(sed 's|/.*||' "$T_TMP/k3" | sort | tr '\n' ' ')" = \
    "com.snowplowanalytics.snowplow.badrows.enrichment_failures com.snowplowanalytics.snowplow.badrows.schema_violations "
got=$(for k in $(cat "$T_TMP/k3"); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done | sort)
eq "phase 3: every bad row stored" "$(sort "$T_TMP/bad")" "$got"
done_testing
