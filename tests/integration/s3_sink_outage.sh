#!/bin/bash
# s3-sink when the store goes away: the S3 server is down for 20 s in the middle of a stream and
# comes back on the same port. Every line ends up in the store exactly once (retries PUT the same
# key, so they cannot duplicate an object), retries are counted, the sink exits 0 at EOF.
# Then SIGTERM while the store is down: the sink exits 0 within --drain-seconds, says what stays
# in the spool, and the next run uploads it.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
sink() { "${SINK[@]}" "$@"; }
fetch_all() { for k in $(s3_ls bkt "$1"); do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done; }
nkeys() { [ "$(s3_ls bkt "$1" | wc -l)" -ge "$2" ]; }
in_log() { grep -q "$2" "$1"; }

seq -f 'event-%05g' 1 1000 >"$T_TMP/in"
mkfifo "$T_TMP/fifo"
"${SINK[@]}" --spool "$T_TMP/sp" --prefix out/ --rotate-records 100 --retry-base-ms 200 \
    --retry-max-ms 2000 --stats-interval 1 <"$T_TMP/fifo" 2>"$T_TMP/err" &
pid=$!
exec 3>"$T_TMP/fifo"
sed -n 1,300p "$T_TMP/in" >&3
check "before the outage: 3 objects" wait_for 20 nkeys out/ 3
s3_stop
down=$(date +%s)
sed -n 301,800p "$T_TMP/in" >&3
check "during the outage: uploads fail and are retried" wait_for 20 in_log "$T_TMP/err" 'failed (attempt 2)'
spooled() { [ "$(ls "$T_TMP/sp" | grep -c '\.gz$')" -ge 5 ]; }
check "during the outage: closed files wait in the spool" wait_for 20 spooled
# The outage itself: 20 s without a server (a fault, not a readiness wait).
left=$(( 20 - ($(date +%s) - down) ))
[ "$left" -gt 0 ] && sleep "$left"
check "the sink is still running" kill -0 "$pid"
s3_restart || fail "S3 server restarts"
sed -n 801,1000p "$T_TMP/in" >&3
exec 3>&-
check "after the outage: every object arrives" wait_for 30 nkeys out/ 10
wait "$pid"
eq "exit 0 at EOF" 0 $?
eq "10 objects" 10 "$(s3_ls bkt out/ | wc -l)"
fetch_all out/ | sort >"$T_TMP/out"
eq "every line stored" 1000 "$(wc -l <"$T_TMP/out")"
eq "no line stored twice" "" "$(uniq -d "$T_TMP/out")"
check "store = input" cmp -s "$T_TMP/in" "$T_TMP/out"
check "retries counted" grep -Eq 'exit: .*retries=[1-9]' "$T_TMP/err"
eq "spool empty" "" "$(ls "$T_TMP/sp")"

# --- SIGTERM while the store is down ---
s3_stop
mkfifo "$T_TMP/fifo2"
"${SINK[@]}" --spool "$T_TMP/sp2" --prefix term/ --retry-base-ms 200 --retry-max-ms 1000 \
    --drain-seconds 2 <"$T_TMP/fifo2" 2>"$T_TMP/err2" &
pid=$!
exec 3>"$T_TMP/fifo2"
seq 1 50 >&3
check "SIGTERM: the line reached the spool" wait_for 10 sh -c "ls '$T_TMP/sp2' | grep -q part"
start=$(date +%s)
kill -TERM "$pid"
wait "$pid"
eq "SIGTERM with the store down: exit 0" 0 $?
check "SIGTERM: within the drain time" test $(( $(date +%s) - start )) -le 6
exec 3>&-
check "SIGTERM: log says what stays in the spool" grep -q '1 files .* stay in the spool' "$T_TMP/err2"
eq "SIGTERM: closed file in the spool" 1 "$(ls "$T_TMP/sp2" | grep -c '\.gz$')"
s3_restart || fail "S3 server restarts"
sink --spool "$T_TMP/sp2" --prefix term/ </dev/null 2>/dev/null
eq "next run: exit 0" 0 $?
eq "next run: the 50 lines are in the store" "$(seq 1 50)" "$(fetch_all term/)"

# --- SIGTERM with the store up: the open file is uploaded ---
mkfifo "$T_TMP/fifo3"
"${SINK[@]}" --spool "$T_TMP/sp3" --prefix term3/ <"$T_TMP/fifo3" 2>"$T_TMP/err3" &
pid=$!
exec 3>"$T_TMP/fifo3"
seq 1 7 >&3
check "SIGTERM (store up): line in the spool" wait_for 10 sh -c "ls '$T_TMP/sp3' | grep -q part"
kill -TERM "$pid"
wait "$pid"
eq "SIGTERM (store up): exit 0" 0 $?
exec 3>&-
eq "SIGTERM (store up): open file uploaded" "$(seq 1 7)" "$(fetch_all term3/)"
eq "SIGTERM (store up): spool empty" "" "$(ls "$T_TMP/sp3")"

# --- SIGTERM in the middle of a line (issue 10 §3): the line in hand is read to its end, not a
# byte further, and archived whole; what follows stays in the pipe for the next reader ---
mkfifo "$T_TMP/fifo4"
"${SINK[@]}" --spool "$T_TMP/sp4" --prefix term4/ --stats-interval 1 <"$T_TMP/fifo4" 2>"$T_TMP/err4" &
pid=$!
exec 3>"$T_TMP/fifo4"
# each piece in one write(2) (bash's printf may write piece by piece)
printf 'one\ntwo-first-half' >"$T_TMP/piece"; cat "$T_TMP/piece" >&3
check "mid-line: both pieces read" wait_for 10 in_log "$T_TMP/err4" 'bytes_in=18'
kill -TERM "$pid"
check "mid-line: the signal is seen" wait_for 10 in_log "$T_TMP/err4" 'stopping on signal'
printf -- '-second-half\nthree\n' >"$T_TMP/piece"
cat "$T_TMP/piece" >&3        # the writer finishes its line, and writes one more
wait "$pid"
eq "mid-line SIGTERM: exit 0" 0 $?
eq "mid-line SIGTERM: the line in hand archived whole, nothing after it" \
    "$(printf 'one\ntwo-first-half-second-half')" "$(fetch_all term4/)"
eq "mid-line SIGTERM: the next line is still in the pipe" three "$(timeout 5 head -n 1 "$T_TMP/fifo4")"
exec 3>&-

# --- the same on the bad stream, and the writer never finishes: not parsed, a bad row ---
BR='{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1","data":{"n":1}}'
mkfifo "$T_TMP/fifo5"
"${SINK[@]}" --input bad --spool "$T_TMP/sp5" --prefix term5/ --stats-interval 1 --bad "$T_TMP/b5" \
    <"$T_TMP/fifo5" 2>"$T_TMP/err5" &
pid=$!
exec 3>"$T_TMP/fifo5"
printf '%s\n%s' "$BR" "$BR" >"$T_TMP/piece"
cat "$T_TMP/piece" >&3        # the second row's newline never comes
check "bad stream: both read" wait_for 10 in_log "$T_TMP/err5" "bytes_in=$(( 2 * ${#BR} + 1 ))"
kill -TERM "$pid"
wait "$pid"
eq "bad stream, unfinished line at SIGTERM: exit 0" 0 $?
exec 3>&-
eq "bad stream: only the whole row is archived" "$BR" \
    "$(fetch_all com.snowplowanalytics.snowplow.badrows.schema_violations/term5/)"
eq "bad stream: the unfinished one is a bad row" 1 "$(wc -l <"$T_TMP/b5")"
eq "bad stream: ... saying why, with its bytes" "true" \
    "$(jq -r --arg l "$BR" '(.data.failure.errors[0] | test("unterminated")) and .data.payload == $l' "$T_TMP/b5")"
check "bad stream: counters reconcile (lines_in=2, spooled=1, bad=1)" \
    in_log "$T_TMP/err5" 'exit: lines_in=2 .*lines_spooled=1 bad=1'
done_testing
