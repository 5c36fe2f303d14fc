#!/bin/sh
# collector: an event answered 200 is never lost (DESIGN.md "The acknowledged-event rule").
# A log output (-o log:PATH, or any regular file) has each request's lines appended before the
# answer, so kill -9 right after the 200s loses nothing; its bound is the unread backlog of the
# log's consumer groups; a full disk answers 503 and /sink-health says so until there is room.
# A FIFO output whose reader never drains spills at the end of the drain and replays the spill
# at the next start before taking requests.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hit() { # hit N TAG: N tracking requests, prints the status codes
	for i in $(seq 1 "$1"); do code "$URL/i?e=pv&tag=$2&n=$i"; echo; done
}
tags() { decode "$1" | jq -r .querystring | sed -n 's/.*tag=\([a-z0-9]*\)&n=\([0-9]*\).*/\1-\2/p' | sort -u; }

# A: kill -9 right after the answers: every 200 is in the log
start_collector -o "log:$T_TMP/raw.log" --bad "$T_TMP/bad.json" || fail "starts with a log output"
eq "100 requests answered 200" 200 "$(hit 100 a | sort -u)"
kill -9 "$CPID"; wait "$CPID" 2>/dev/null
eq "all 100 are in the log after kill -9" 100 "$(tags "$T_TMP/raw.log" | grep -c '^a-')"
check "every line decodes" decode_ok "$T_TMP/raw.log"
# a half-written line left by a killed writer is cut off by the next one
printf 'CgAAAAAAA' >>"$T_TMP/raw.log"
start_collector -o "log:$T_TMP/raw.log" --bad "$T_TMP/bad.json" || fail "restart"
eq "after restart: 200" 200 "$(hit 1 b)"
stop_collector
check "a fragment left by a killed writer is cut off, not glued to the next record" decode_ok "$T_TMP/raw.log"
eq "101 records" 101 "$(lines "$T_TMP/raw.log")"

# B: the backlog of the slowest consumer group bounds what is accepted
mkdir -p "$T_TMP/raw.log.offsets"
size=$(stat -c %s "$T_TMP/raw.log")
printf '%020d\n' "$size" >"$T_TMP/raw.log.offsets/enrich"
start_collector -o "log:$T_TMP/raw.log" --bad "$T_TMP/bad.json" --queue-bytes 20000 || fail "start B"
codes=$(hit 60 c)
check "503 once the unread backlog passes --queue-bytes" sh -c "echo '$codes' | grep -q 503"
n200=$(echo "$codes" | grep -c 200)
check "/sink-health: 503 while the backlog is full" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 503 ]"
printf '%020d\n' "$(stat -c %s "$T_TMP/raw.log")" >"$T_TMP/raw.log.offsets/enrich"
check "/sink-health: 200 once the group has read it" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 200 ]"
eq "200 again" 200 "$(hit 1 d)"
stop_collector
eq "every request answered 200 is in the log, no other" "$((n200))" "$(tags "$T_TMP/raw.log" | grep -c '^c-')"

# C: a full disk: 503 and unhealthy, then everything resumes when space returns
if [ "$(id -u)" = 0 ] && mkdir -p "$T_TMP/small" && mount -t tmpfs -o size=256k tmpfs "$T_TMP/small" 2>/dev/null; then
	start_collector -o "log:$T_TMP/small/raw.log" --bad "$T_TMP/bad.json" || fail "start C"
	head -c 1000000 /dev/zero >"$T_TMP/small/filler" 2>/dev/null  # fills the disk
	codes=$(hit 80 e)
	check "a full disk answers 503" sh -c "echo '$codes' | grep -q 503"
	eq "/sink-health: 503 on a full disk" 503 "$(code "$URL/sink-health")"
	rm -f "$T_TMP/small/filler"
	check "/sink-health: 200 when there is room again" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 200 ]"
	eq "200 again" 200 "$(hit 1 f)"
	stop_collector
	check "the log holds only whole records" decode_ok "$T_TMP/small/raw.log"
	eq "each 200 is in the log exactly once" "$(echo "$codes" | grep -c 200)" "$(tags "$T_TMP/small/raw.log" | grep -c '^e-')"
	umount "$T_TMP/small"
	# the reserve: a log output leaves a tenth of a small file system (2% of a large one, 1-64
	# MiB) to the stages after it, so enrich can still write what it reads and give space back
	mkdir -p "$T_TMP/res" && mount -t tmpfs -o size=4m tmpfs "$T_TMP/res"
	start_collector -o "log:$T_TMP/res/raw.log" --bad "$T_TMP/bad.json" || fail "start reserve"
	eq "reserve: 200 with the disk empty" 200 "$(hit 1 r)"
	free=$(df -B1 --output=avail "$T_TMP/res" | tail -n 1 | tr -d ' ')
	head -c $((free - 200 * 1024)) /dev/zero >"$T_TMP/res/filler"
	check "reserve: 503 with 200 KiB still free" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/i?e=pv') = 503 ]"
	eq "reserve: /sink-health says 503" 503 "$(code "$URL/sink-health")"
	rm -f "$T_TMP/res/filler"
	check "reserve: 200 again with room" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/i?e=pv') = 200 ]"
	stop_collector
	umount "$T_TMP/res"
else
	skip "full disk on a small tmpfs" "needs root to mount a tmpfs"
fi

# D: a FIFO reader that never reads: the drain spills, the next start replays before serving
mkfifo "$T_TMP/raw.fifo"
exec 8<>"$T_TMP/raw.fifo"      # holds the FIFO open for reading but reads nothing yet
start_collector -o "$T_TMP/raw.fifo" --bad "$T_TMP/bad2.json" --drain-timeout 1 \
    --spill "$T_TMP/spill.raw" || fail "start D"
eq "300 requests answered 200 (the pipe fills, the queue holds the rest)" 200 "$(hit 300 g | sort -u)"
stop_collector
eq "the stop exits 0: nothing was dropped" 0 "$CRC"
check "the records the pipe could not take are in the spill" test -s "$T_TMP/spill.raw"
check "the spill is whole records" decode_ok "$T_TMP/spill.raw"
check "the stop says it spilled" grep -q 'spilled to' "$T_TMP/err.log"
# what the pipe holds is read now, then the restarted collector replays the spill first
python3 -c '
import os, sys
os.set_blocking(0, False)
out = b""
while True:
    try:
        c = os.read(0, 65536)
    except BlockingIOError:
        break
    if not c:
        break
    out += c
sys.stdout.buffer.write(out)' <&8 >"$T_TMP/got.raw"
exec 8<&-
cat "$T_TMP/raw.fifo" >>"$T_TMP/got.raw" &
T_PIDS="$T_PIDS $!"
start_collector -o "$T_TMP/raw.fifo" --bad "$T_TMP/bad2.json" --spill "$T_TMP/spill.raw" ||
    fail "restart D"
check "the replayed spill is removed once written" wait_for 10 sh -c "[ ! -e '$T_TMP/spill.raw' ]"
stop_collector
check "the replay log line" grep -q 'replaying [0-9]* bytes of records' "$T_TMP/err.log"
wait_for 5 sh -c "[ \$(grep -c . '$T_TMP/got.raw') -ge 300 ]"
eq "all 300 answered 200 arrive: pipe + spill" 300 "$(tags "$T_TMP/got.raw" | grep -c '^g-')"
check "nothing corrupt" decode_ok "$T_TMP/got.raw"
done_testing
