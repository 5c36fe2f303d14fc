#!/bin/bash
# s3-sink's /metrics and /health (--metrics-listen, issue 16) against the real S3 test server
# (tests/setup-s3.sh): counters reconcile with the objects in the store, promtool accepts the
# exposition, and /health turns 503 when the store has been down longer than --health-threshold
# and 200 again once it is back; every line arrives exactly once.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
command -v promtool >/dev/null || { fail "promtool installed (tests/install-deps.sh test)"; done_testing; exit; }
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

metric() { curl -fsS -m 5 "$1/metrics" | awk -v n="$2" '!f && $1 == n { print $2; f = 1 }'; }
metric_is() { test "$(metric "$1" "$2")" = "$3"; }
metric_pos() { awk -v v="$(metric "$1" "$2")" 'BEGIN { exit !(v + 0 > 0) }'; }
status_is() { test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$1/health")" = "$2"; }
nkeys() { [ "$(s3_ls bkt "$1" | wc -l)" -ge "$2" ]; }

"$FURROW_BIN/s3-sink" --bucket bkt --spool "$T_TMP/x" --metrics-listen 1.2.3 </dev/null 2>/dev/null
eq "a bad --metrics-listen is a usage error" 64 $?

P=$(free_port)
U=http://127.0.0.1:$P
seq -f 'event-%05g' 1 600 >"$T_TMP/in"
mkfifo "$T_TMP/fifo"
"$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style --spool "$T_TMP/sp" \
    --prefix m/ --rotate-records 100 --retry-base-ms 200 --retry-max-ms 1000 --stats-interval 0 \
    --metrics-listen "127.0.0.1:$P" --health-threshold 2 <"$T_TMP/fifo" 2>"$T_TMP/err" &
pid=$!
T_PIDS="$T_PIDS $pid"   # killed on an early exit
exec 3>"$T_TMP/fifo"
check "/health 200 with the store up" wait_for 30 status_is "$U" 200
sed -n 1,300p "$T_TMP/in" >&3
check "3 objects uploaded (counter)" wait_for 30 metric_is "$U" furrow_s3_sink_objects_uploaded_total 3
eq "3 objects in the store" 3 "$(s3_ls bkt m/ | wc -l)"
eq "records spooled" 300 "$(metric "$U" furrow_s3_sink_records_spooled_total)"
eq "upload histogram: one sample per object" 3 "$(metric "$U" furrow_s3_sink_upload_duration_seconds_count)"
curl -fsS "$U/metrics" >"$T_TMP/expo"
check "promtool check metrics" promtool check metrics <"$T_TMP/expo"

s3_stop
sed -n 301,600p "$T_TMP/in" >&3
check "/health 503 with the store down past the threshold" wait_for 60 status_is "$U" 503
curl -s "$U/health" >"$T_TMP/why"
check "the 503 says uploads are failing" grep -q "uploads failing for" "$T_TMP/why"
check "retries counted, as connection failures (the store is down)" metric_pos "$U" 'furrow_s3_sink_upload_retries_total{cause="connection"}'
check "spool files waiting" metric_pos "$U" furrow_s3_sink_spool_files
curl -fsS "$U/metrics" >"$T_TMP/expo2"
check "promtool check metrics while failing" promtool check metrics <"$T_TMP/expo2"
s3_restart || fail "S3 server restarts"
check "/health 200 again after the store is back" wait_for 60 status_is "$U" 200
exec 3>&-
wait "$pid"
eq "exit 0 at EOF" 0 $?
for k in $(s3_ls bkt m/); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done | sort >"$T_TMP/out"
check "every line stored exactly once" cmp -s "$T_TMP/in" "$T_TMP/out"
done_testing
