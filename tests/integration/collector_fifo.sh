#!/bin/sh
# collector: back-pressure without loss (collector.md §1, §12). A FIFO with no reader yet, a
# reader that goes away and comes back, a full queue answered with 503, and the SIGTERM drain.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hit() { # hit N TAG: N tracking requests, prints the status codes
	for i in $(seq 1 "$1"); do code "$URL/i?e=pv&tag=$2&n=$i"; echo; done
}

# A: FIFO without a reader (ENXIO), then a reader, then the reader gone (EPIPE), then back
mkfifo "$T_TMP/raw.fifo"
check "starts although the FIFO has no reader" \
    start_collector -o "$T_TMP/raw.fifo" --bad "$T_TMP/bad.json"
eq "/sink-health: 503 without a reader" 503 "$(code "$URL/sink-health")"
eq "20 requests answered 200 with no reader" "200" "$(hit 20 a | sort -u)"
cat "$T_TMP/raw.fifo" >>"$T_TMP/got.raw" &
r1=$!
check "the queued records arrive when a reader opens" wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/got.raw') -ge 20 ]"
check "/sink-health: 200 with a reader" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 200 ]"
hit 10 b >/dev/null
check "live records flow" wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/got.raw') -ge 30 ]"
kill "$r1"; wait "$r1" 2>/dev/null
eq "15 requests answered 200 after the reader left" "200" "$(hit 15 c | sort -u)"
check "/sink-health: 503 after EPIPE" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 503 ]"
cat "$T_TMP/raw.fifo" >>"$T_TMP/got.raw" &
r2=$!
T_PIDS="$T_PIDS $r2"
check "records queued while the reader was gone arrive" wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/got.raw') -ge 45 ]"
stop_collector
wait "$r2" 2>/dev/null
eq "exactly 45 lines, nothing lost or doubled" 45 "$(lines "$T_TMP/got.raw")"
check "every line decodes" decode_ok "$T_TMP/got.raw"
eq "45 distinct requests" 45 "$(decode "$T_TMP/got.raw" | jq -r .querystring | sort -u | wc -l | tr -d ' ')"
eq "exit 0" 0 "$CRC"

# A2: a reader that leaves with lines still in the pipe: the next reader gets them
mkfifo "$T_TMP/a2.fifo"
check "start A2" start_collector -o "$T_TMP/a2.fifo" --bad "$T_TMP/bad.json"
hit 20 a2 >/dev/null
# read exactly 5 lines, one byte at a time, then leave; the other 15 stay in the pipe
python3 -c '
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
out, n = b"", 0
while n < 5:
    c = os.read(fd, 1)
    if not c:
        break
    out += c
    n += c == b"\n"
open(sys.argv[2], "wb").write(out)
' "$T_TMP/a2.fifo" "$T_TMP/a2.first"
eq "first reader took 5 lines" 5 "$(lines "$T_TMP/a2.first")"
hit 5 a2b >/dev/null
cat "$T_TMP/a2.fifo" >"$T_TMP/a2.rest" &
ra=$!
T_PIDS="$T_PIDS $ra"
check "second reader gets the 15 left in the pipe and the 5 sent after" \
    wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/a2.rest') -ge 20 ]"
stop_collector
wait "$ra" 2>/dev/null
cat "$T_TMP/a2.first" "$T_TMP/a2.rest" >"$T_TMP/a2.all"
eq "25 lines in all" 25 "$(lines "$T_TMP/a2.all")"
check "no line lost or broken" decode_ok "$T_TMP/a2.all"
eq "25 distinct requests" 25 "$(decode "$T_TMP/a2.all" | jq -r .querystring | sort -u | wc -l | tr -d ' ')"

# B: a full queue answers 503 and stores nothing; a reader frees it
mkfifo "$T_TMP/b.fifo"
check "start B" start_collector -o "$T_TMP/b.fifo" --bad "$T_TMP/bad.json" --queue-bytes 3000
hit 10 q >"$T_TMP/codes"
n200=$(grep -c '^200$' "$T_TMP/codes")
n503=$(grep -c '^503$' "$T_TMP/codes")
check "queue full: some 200 ($n200), then 503 ($n503)" sh -c "[ $n200 -ge 1 ] && [ $n503 -ge 1 ] && [ $((n200 + n503)) -eq 10 ]"
eq "the 503s come after the 200s" "$(printf '200\n%.0s' $(seq 1 $n200); printf '503\n%.0s' $(seq 1 $n503))" "$(cat "$T_TMP/codes")"
h=$(curl -s -D - -o "$T_TMP/503.body" "$URL/i?e=pv" | tr -d '\r')
check "503 has no Set-Cookie" sh -c "! echo '$h' | grep -q Set-Cookie"
eq "503 body" "Service Unavailable" "$(cat "$T_TMP/503.body")"
eq "/sink-health: 503 while full" 503 "$(code "$URL/sink-health")"
eq "/health still 200" 200 "$(code "$URL/health")"
cat "$T_TMP/b.fifo" >"$T_TMP/b.raw" &
rb=$!
T_PIDS="$T_PIDS $rb"
check "queued records arrive" wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/b.raw') -ge $n200 ]"
check "/sink-health back to 200" wait_for 5 sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' '$URL/sink-health') = 200 ]"
eq "accepting again" 200 "$(code "$URL/i?e=pv&tag=after")"
stop_collector
wait "$rb" 2>/dev/null
eq "lines = requests answered 200" $((n200 + 1)) "$(lines "$T_TMP/b.raw")"

# C: SIGTERM drains the queue to a reader that arrives late; exit 0
mkfifo "$T_TMP/c.fifo"
check "start C" start_collector -o "$T_TMP/c.fifo" --bad "$T_TMP/bad.json" --drain-timeout 20
hit 5 d >/dev/null
kill -TERM "$CPID"
check "still running, draining" sh -c "kill -0 $CPID"
cat "$T_TMP/c.fifo" >"$T_TMP/c.raw" &
rc_=$!
wait "$CPID"; crc=$?
wait "$rc_"
eq "drain: exit 0" 0 "$crc"
eq "drain: all 5 written" 5 "$(lines "$T_TMP/c.raw")"

# D: no reader before --drain-timeout: exit 74 and say so
mkfifo "$T_TMP/d.fifo"
check "start D" start_collector -o "$T_TMP/d.fifo" --bad "$T_TMP/bad.json" --drain-timeout 1
hit 2 e >/dev/null
stop_collector
eq "undrained queue: exit 74" 74 "$CRC"
check "undrained queue: logged" grep -q 'not written' "$T_TMP/err.log"
done_testing
