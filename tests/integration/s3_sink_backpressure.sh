#!/bin/bash
# s3-sink back-pressure: while the store is down, the spool grows up to --spool-max-bytes and then
# the sink stops reading stdin (the writer blocks on the full pipe) instead of growing without
# bound. When the store comes back, everything drains and every line is stored once.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"
s3_stop

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
in_log() { grep -q "$2" "$1"; }
spool_bytes() { du -sb "$T_TMP/sp" | cut -f1; }
retries() { grep -Eo 'attempt [0-9]+' "$T_TMP/err" | wc -l; }
more_retries() { [ "$(retries)" -ge "$1" ]; }

# 4 MB of incompressible lines: the spool holds about what was read.
head -c 3000000 /dev/urandom | base64 -w 1000 >"$T_TMP/in"
total=$(wc -l <"$T_TMP/in")
MAX=300000
mkfifo "$T_TMP/fifo"
"${SINK[@]}" --spool "$T_TMP/sp" --prefix bp/ --spool-max-bytes $MAX --rotate-bytes 100000 \
    --retry-base-ms 200 --retry-max-ms 1000 --stats-interval 1 <"$T_TMP/fifo" 2>"$T_TMP/err" &
pid=$!
cat "$T_TMP/in" >"$T_TMP/fifo" &
writer=$!
check "spool full: the sink says it stops reading" wait_for 20 in_log "$T_TMP/err" 'not reading stdin'
# Bound: the limit plus one read block (256 KiB) compressed, plus gzip overhead.
BOUND=$((MAX + 300000))
b1=$(spool_bytes)
check "spool bounded when it stops ($b1 <= $BOUND)" test "$b1" -le "$BOUND"
n=$(retries)
check "time passes: more failed uploads" wait_for 20 more_retries $((n + 4))
b2=$(spool_bytes)
check "spool still bounded later ($b2 <= $BOUND)" test "$b2" -le "$BOUND"
check "the writer is blocked (stdin not read)" kill -0 "$writer"
check "counters logged" wait_for 10 in_log "$T_TMP/err" 'counters: lines_in='
read_so_far=$(grep -Eo 'lines_in=[0-9]+' "$T_TMP/err" | tail -n1 | cut -d= -f2)
check "lines read so far < total ($read_so_far < $total)" test "$read_so_far" -lt "$total"

s3_restart || fail "S3 server restarts"
writer_done() { ! kill -0 "$writer" 2>/dev/null; }
check "store back: the writer finishes" wait_for 60 writer_done
wait "$pid"
eq "exit 0" 0 $?
for k in $(s3_ls bkt bp/); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done | sort >"$T_TMP/out"
sort "$T_TMP/in" >"$T_TMP/in.sorted"
check "every line stored once" cmp -s "$T_TMP/in.sorted" "$T_TMP/out"
check "reading resumed" grep -q 'spool has room again' "$T_TMP/err"
eq "spool empty" "" "$(ls "$T_TMP/sp")"
done_testing
