#!/bin/sh
# enrich as a process: flags, `cat capture.raw | enrich`, prompt output at low rates, SIGTERM,
# SIGHUP reopening --bad, EPIPE on stdout (exit 74), counters. Lines in = good + bad throughout.
. "$(dirname "$0")/../lib.sh"

E="$FURROW_BIN/enrich"
S="--schemas $FURROW_ROOT/schemas"
SPEC='CwBkAAAACzIwMy4wLjExMy43CgDIAAABi8/laAALANIAAAAFVVRGLTgLANwAAAAdZnVycm93LWNvbGxlY3Rvci0wLjEuMC1zdGRvdXQLASwAAAAKY3VybC84LjUuMAsBQAAAAAIvaQsBSgAAABllPXB2JnA9d2ViJnR2PW5vLWpzLTAuMS4wDwFeCwAAAAIAAAAbSG9zdDogY29sbGVjdG9yLmV4YW1wbGUuY29tAAAAFlVzZXItQWdlbnQ6IGN1cmwvOC41LjALAZAAAAAVY29sbGVjdG9yLmV4YW1wbGUuY29tCwGaAAAAJDlmMmI2YTNlLTFjNGQtNGU1Zi04YTdiLTBjMWQyZTNmNGE1Ygt6aQAAAEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA='

"$E" -h >"$T_TMP/h" 2>&1; eq "-h exits 0" 0 $?
check "-h prints usage on stdout" grep -q '^usage: enrich' "$T_TMP/h"
eq "-V prints the version" "enrich 0.1.0" "$("$E" -V)"
"$E" --no-such-flag >/dev/null 2>&1; eq "unknown flag exits 64" 64 $?
"$E" --schemas /nonexistent </dev/null >/dev/null 2>&1; rc=$?
check "a missing registry is a configuration error" [ "$rc" -eq 78 ]
echo '{' >"$T_TMP/bad-resolver.json"
"$E" $S --resolver "$T_TMP/bad-resolver.json" </dev/null >/dev/null 2>&1
eq "an unreadable resolver config exits 78" 78 $?

# cat capture.raw | enrich > events.tsv
for i in 1 2 3 4 5; do echo "$SPEC"; done >"$T_TMP/cap.raw"
echo "garbage" >>"$T_TMP/cap.raw"
echo "" >>"$T_TMP/cap.raw"
cat "$T_TMP/cap.raw" | "$E" $S --bad "$T_TMP/bad1" >"$T_TMP/ev.tsv" 2>"$T_TMP/err1"
eq "exit 0 at EOF" 0 $?
eq "5 good events" 5 "$(wc -l <"$T_TMP/ev.tsv")"
eq "1 bad row" 1 "$(wc -l <"$T_TMP/bad1")"
check "counters at exit" grep -q 'lines 6, empty 1, good 5, bad 1' "$T_TMP/err1"
eq "the spec example's page_view" "page_view	no-js-0.1.0	203.0.113.7" \
    "$(head -1 "$T_TMP/ev.tsv" | cut -f6,10,14)"
printf '%s' "$SPEC" | "$E" $S >"$T_TMP/nonl.tsv" 2>/dev/null
eq "a last line without a newline is processed" 1 "$(wc -l <"$T_TMP/nonl.tsv")"
"$E" $S --bad - <"$T_TMP/cap.raw" >"$T_TMP/mixed" 2>/dev/null
eq "--bad - sends bad rows to stdout" 6 "$(wc -l <"$T_TMP/mixed")"

# Low rate: a line must come out while stdin stays open.
mkfifo "$T_TMP/in"
"$E" $S --bad "$T_TMP/bad2" <"$T_TMP/in" >"$T_TMP/slow.tsv" 2>"$T_TMP/err2" &
pid=$!
exec 7>"$T_TMP/in"
echo "$SPEC" >&7
check "an event is flushed while stdin stays open" wait_for 10 \
    sh -c "[ \$(wc -l <'$T_TMP/slow.tsv') -eq 1 ]"
echo "nonsense" >&7
check "a bad row is flushed while stdin stays open" wait_for 10 test -s "$T_TMP/bad2"
mv "$T_TMP/bad2" "$T_TMP/bad2.old"
kill -HUP $pid
echo "more nonsense" >&7
check "SIGHUP reopens --bad" wait_for 10 test -s "$T_TMP/bad2"
echo "$SPEC" >&7
check "second event" wait_for 10 sh -c "[ \$(wc -l <'$T_TMP/slow.tsv') -eq 2 ]"
kill -TERM $pid
wait $pid; rc=$?
exec 7>&-
eq "SIGTERM: exit 0" 0 $rc
check "SIGTERM: counters logged" grep -q 'lines 4, empty 0, good 2, bad 2' "$T_TMP/err2"

# SIGTERM that arrives during the read(2) that brought three whole lines and a fragment: the
# three lines were taken from the pipe, so they are "in hand" and must be enriched, not dropped;
# the fragment is no record. A signal at that exact point cannot be timed from outside: strace
# raises it on entry to the first read of the FIFO (-P), in the real enrich. (LeakSanitizer
# cannot run under ptrace: it is off for that run on the sanitize build.)
if command -v strace >/dev/null; then
	mkfifo "$T_TMP/in4"
	printf '%s\n%s\nnonsense\n%s' "$SPEC" "$SPEC" "CwBk" >"$T_TMP/in4.data"
	{ cat "$T_TMP/in4.data"; sleep 5; } >"$T_TMP/in4" &     # one write(2); then holds it open
	wpid=$!
	T_PIDS="$T_PIDS $wpid"
	ASAN_OPTIONS=detect_leaks=0 strace -o /dev/null -P "$T_TMP/in4" -e trace=read -e inject=read:signal=SIGTERM:when=1 \
	    "$E" $S --bad "$T_TMP/bad4" <"$T_TMP/in4" >"$T_TMP/term4.tsv" 2>"$T_TMP/err5"
	eq "SIGTERM during the read: exit 0" 0 $?
	eq "SIGTERM during the read: the whole lines read are enriched" 2 "$(wc -l <"$T_TMP/term4.tsv")"
	eq "SIGTERM during the read: ... and the bad one is a bad row" 1 "$(wc -l <"$T_TMP/bad4")"
	check "SIGTERM during the read: counters" grep -q 'lines 3, empty 0, good 2, bad 1' "$T_TMP/err5"
	check "SIGTERM during the read: the fragment is logged, not enriched" \
	    grep -q 'unterminated line at shutdown: 4 bytes' "$T_TMP/err5"
	kill $wpid 2>/dev/null
else
	skip "SIGTERM during the read" "strace not installed"
fi

# SIGTERM while only part of a line has been read: enrich must not sit in read(2) waiting for the
# rest, where a signal is never seen; it stops, the part left out and logged.
mkfifo "$T_TMP/in5"
"$E" $S --bad "$T_TMP/bad5" <"$T_TMP/in5" >"$T_TMP/term5.tsv" 2>"$T_TMP/err6" &
pid=$!
T_PIDS="$T_PIDS $pid"
exec 7>"$T_TMP/in5"
printf 'CwBkAAAA' >"$T_TMP/in5.data"; cat "$T_TMP/in5.data" >&7
# asleep in poll (or, wrongly, in a pipe read): either way the part has been taken from the pipe
check "part of a line: enrich has read it and waits" wait_for 10 grep -Eq 'poll|pipe_read' \
    "/proc/$pid/wchan"
kill -TERM $pid
check "part of a line: SIGTERM stops enrich (it does not wait in read for the rest)" \
    wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
exec 7>&-
wait $pid
eq "part of a line at SIGTERM: exit 0" 0 $?
check "part of a line at SIGTERM: logged, not enriched" \
    grep -q 'unterminated line at shutdown: 8 bytes' "$T_TMP/err6"

# --stats-interval: counters while running, not only at exit.
mkfifo "$T_TMP/in3"
"$E" $S --stats-interval 1 --bad /dev/null <"$T_TMP/in3" >/dev/null 2>"$T_TMP/err4" &
pid=$!
exec 8>"$T_TMP/in3"
echo "$SPEC" >&8
check "--stats-interval logs counters while running" wait_for 10 \
    grep -q 'lines 1, empty 0, good 1, bad 0' "$T_TMP/err4"
exec 8>&-
wait $pid
eq "EOF after stats: exit 0" 0 $?

# EPIPE on stdout is fatal: exit 74.
i=0; : >"$T_TMP/many.raw"
while [ $i -lt 200 ]; do echo "$SPEC"; i=$((i + 1)); done >"$T_TMP/200.raw"
for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do cat "$T_TMP/200.raw"; done >"$T_TMP/many.raw"
( "$E" $S <"$T_TMP/many.raw" 2>"$T_TMP/err3"; echo $? >"$T_TMP/rc3" ) | head -c 1 >/dev/null
eq "EPIPE on stdout exits 74" 74 "$(cat "$T_TMP/rc3")"
check "EPIPE is logged" grep -q 'writing standard output' "$T_TMP/err3"
done_testing
