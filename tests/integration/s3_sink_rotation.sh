#!/bin/bash
# s3-sink against a real S3 API server (tests/setup-s3.sh): rotation by records, compressed bytes
# and seconds (sinks.md §3.5), the content round trip and gzip framing (§3.4), multipart uploads.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
sink() { "${SINK[@]}" "$@"; }
# Concatenated content of the objects listed (in order) in file $1.
fetch_all() { while read -r k; do s3_get bkt "$k" "$T_TMP/o.gz" && gzip -dc "$T_TMP/o.gz"; done <"$1"; }
# One gzip member, nothing after it, ends in '\n'.
one_member() {
	python3 -c 'import sys,zlib
d=zlib.decompressobj(31); b=open(sys.argv[1],"rb").read(); t=d.decompress(b)
sys.exit(0 if d.eof and not d.unused_data and t.endswith(b"\n") else 1)' "$1"
}

# --- rotation by records: 2500 lines, 1000 per object ---
seq 1 2500 | awk '{printf "%s\tpv\tweb\t%d\n", $1, $1 * 7}' >"$T_TMP/in1"
sink --spool "$T_TMP/sp1" --prefix rec/ --rotate-records 1000 --print-keys <"$T_TMP/in1" \
    >"$T_TMP/keys1" 2>"$T_TMP/err1"
eq "records: exit 0" 0 $?
eq "records: 3 objects" 3 "$(wc -l <"$T_TMP/keys1")"
fetch_all "$T_TMP/keys1" >"$T_TMP/out1"
check "records: round trip, in order" cmp -s "$T_TMP/in1" "$T_TMP/out1"
counts=$(while read -r k; do s3_get bkt "$k" "$T_TMP/o.gz"; gzip -dc "$T_TMP/o.gz" | wc -l; done <"$T_TMP/keys1" | tr '\n' ' ')
eq "records: 1000, 1000, 500 lines" "1000 1000 500 " "$counts"
framing=ok
while read -r k; do s3_get bkt "$k" "$T_TMP/o.gz"; one_member "$T_TMP/o.gz" || framing=bad; done <"$T_TMP/keys1"
eq "framing: one gzip member per object, final newline" ok "$framing"
check "spool empty after upload" test -z "$(ls "$T_TMP/sp1")"
check "counters at exit" grep -q 'lines_in=2500 .*lines_spooled=2500 bad=0 objects_uploaded=3 .*spool_files=0 spool_bytes=0' "$T_TMP/err1"
hdrs=$(s3_curl -I "$S3_ENDPOINT/bkt/$(head -n1 "$T_TMP/keys1")")
case "$hdrs" in *[Cc]ontent-[Ee]ncoding*) fail "no Content-Encoding on objects"; diag "$hdrs" ;; *) ok "no Content-Encoding on objects" ;; esac

# --- a last line without '\n' is still a record ---
printf 'a\nb\nc' | sink --spool "$T_TMP/sp1" --prefix nonl/ --print-keys >"$T_TMP/keys1b" 2>/dev/null
eq "final line without newline is stored with one" "$(printf 'a\nb\nc\n' | od -c)" "$(fetch_all "$T_TMP/keys1b" | od -c)"

# --- rotation by compressed bytes: incompressible lines, 50 kB objects ---
head -c 300000 /dev/urandom | base64 -w 500 >"$T_TMP/in2"
sink --spool "$T_TMP/sp2" --prefix bytes/ --rotate-bytes 50000 --print-keys <"$T_TMP/in2" \
    >"$T_TMP/keys2" 2>"$T_TMP/err2"
eq "bytes: exit 0" 0 $?
n2=$(wc -l <"$T_TMP/keys2")
check "bytes: several objects ($n2)" test "$n2" -ge 5
fetch_all "$T_TMP/keys2" >"$T_TMP/out2"
check "bytes: round trip" cmp -s "$T_TMP/in2" "$T_TMP/out2"
small=0
head -n $((n2 - 1)) "$T_TMP/keys2" | while read -r k; do
	s3_get bkt "$k" "$T_TMP/o.gz"
	sz=$(stat -c %s "$T_TMP/o.gz")
	[ "$sz" -ge 50000 ] && [ "$sz" -lt 200000 ] || echo "$k $sz"
done >"$T_TMP/small2"
eq "bytes: every closed object reached the limit (and not far past it)" "" "$(cat "$T_TMP/small2")"

# --- rotation by seconds: stdin stays open ---
mkfifo "$T_TMP/fifo3"
"${SINK[@]}" --spool "$T_TMP/sp3" --prefix sec/ --rotate-seconds 1 --print-keys <"$T_TMP/fifo3" \
    >"$T_TMP/keys3" 2>"$T_TMP/err3" &
pid3=$!
exec 3>"$T_TMP/fifo3"
printf 'one\ntwo\nthree\n' >&3
has_lines() { [ "$(wc -l <"$1")" -ge "$2" ]; }
check "seconds: object written while stdin is still open" wait_for 15 has_lines "$T_TMP/keys3" 1
printf 'four\nfi' >&3
in_part() { gzip -dc "$T_TMP"/sp3/*.part 2>/dev/null | grep -q '^four$'; }
check "seconds: a line cut by the pipe is in the spool" wait_for 15 in_part
# The time limit passes in the middle of "five": the rotation waits for its end.
printf 've\n' >&3
check "seconds: second object" wait_for 15 has_lines "$T_TMP/keys3" 2
exec 3>&-
wait "$pid3"
eq "seconds: exit 0 at EOF" 0 $?
eq "seconds: two objects, nothing more" 2 "$(wc -l <"$T_TMP/keys3")"
eq "seconds: round trip" "$(printf 'one\ntwo\nthree\nfour\nfive\n')" "$(fetch_all "$T_TMP/keys3")"

# --- multipart above the threshold ---
head -c 9000000 /dev/urandom | base64 -w 2000 >"$T_TMP/in4"
sink --spool "$T_TMP/sp4" --prefix mp/ --multipart-threshold 6000000 --part-size 5242880 \
    --compression-level 1 --print-keys <"$T_TMP/in4" >"$T_TMP/keys4" 2>"$T_TMP/err4"
eq "multipart: exit 0" 0 $?
eq "multipart: one object" 1 "$(wc -l <"$T_TMP/keys4")"
fetch_all "$T_TMP/keys4" >"$T_TMP/out4"
check "multipart: round trip" cmp -s "$T_TMP/in4" "$T_TMP/out4"
done_testing
