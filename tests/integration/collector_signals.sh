#!/bin/sh
# collector: command line (cli.md), SIGHUP reopening, and SIGTERM under load: every tracking
# request answered 2xx is a line in the output, no more, no less.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

C="$FURROW_BIN/collector"
out=$("$C" --help); rc=$?
eq "--help: exit 0" 0 "$rc"
check "--help: usage on stdout" sh -c 'printf "%s\n" "$1" | grep -q "^usage: collector"' _ "$out"
eq "--version" "collector 0.1.0" "$("$C" --version)"
eq "-V" "collector 0.1.0" "$("$C" -V)"
"$C" --no-such-flag >/dev/null 2>&1; eq "unknown flag: 64" 64 "$?"
"$C" -p 70000 >/dev/null 2>&1; eq "bad port: 64" 64 "$?"
"$C" --cookie-same-site Sometimes >/dev/null 2>&1; eq "bad SameSite: 64" 64 "$?"
"$C" --dnt-cookie 'x=(' >/dev/null 2>&1; eq "bad DNT regex: 64" 64 "$?"
"$C" extra-arg >/dev/null 2>&1; eq "stray argument: 64" 64 "$?"
"$C" --bad - >/dev/null 2>&1; eq "--bad - without -o: 64" 64 "$?"
"$C" -o /nonexistent/dir/out --bind 127.0.0.1 -p 0 2>"$T_TMP/e2"; rc=$?
eq "cannot open the output: 74" 74 "$rc"

# SIGHUP: reopen --output and --bad after rotation
start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --stats-interval 1 || fail start
"$C" -p "$PORT" --bind 127.0.0.1 --stats-interval 0 -o "$T_TMP/x" 2>"$T_TMP/e1"; rc=$?
eq "port in use: 69" 69 "$rc"
check "port in use: says why" grep -q "^collector: .* error: listen: 127.0.0.1 port $PORT: " "$T_TMP/e1"
for i in 1 2 3; do curl -s -o /dev/null "$URL/i?e=pv&before=$i"; done
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge 3 ]"
mv "$T_TMP/out.raw" "$T_TMP/out.raw.1"
kill -HUP "$CPID"
wait_for 5 test -f "$T_TMP/out.raw"
for i in 1 2; do curl -s -o /dev/null "$URL/i?e=pv&after=$i"; done
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge 2 ]"
eq "SIGHUP: old file keeps the first 3" 3 "$(lines "$T_TMP/out.raw.1")"
eq "SIGHUP: new file gets the next 2" 2 "$(lines "$T_TMP/out.raw")"
check "periodic stats on stderr" wait_for 5 grep -q 'info: stats: requests: pixel_2xx=' "$T_TMP/err.log"
stop_collector
eq "SIGTERM: exit 0" 0 "$CRC"
check "stats at exit" grep -q 'stats at exit: requests: pixel_2xx=5 .* stored_requests=5 records=5' "$T_TMP/err.log"

# SIGTERM under load, output to a FIFO drained by cat
mkfifo "$T_TMP/load.fifo"
cat "$T_TMP/load.fifo" >"$T_TMP/load.raw" &
reader=$!
start_collector -o "$T_TMP/load.fifo" --bad "$T_TMP/bad.json" || fail "start (load)"
python3 "$TOOLS/load.py" "$PORT" 20 8 >"$T_TMP/answered" &
loader=$!
wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/load.raw') -ge 300 ]"
kill -TERM "$CPID"
wait "$CPID"; crc=$?
wait "$loader"
wait "$reader"
eq "SIGTERM under load: exit 0" 0 "$crc"
answered=$(cat "$T_TMP/answered")
check "load was real ($answered answered)" sh -c "[ $answered -ge 300 ]"
eq "lines written = requests answered 2xx" "$answered" "$(lines "$T_TMP/load.raw")"
check "no corrupt line" decode_ok "$T_TMP/load.raw"
SIGINT_PORT=$(free_port)
"$C" --bind 127.0.0.1 -p "$SIGINT_PORT" --stats-interval 0 -o "$T_TMP/int.raw" 2>/dev/null &
ip=$!
wait_for 5 curl -sf "http://127.0.0.1:$SIGINT_PORT/health"
kill -INT "$ip"; wait "$ip"
eq "SIGINT: exit 0" 0 "$?"
done_testing
