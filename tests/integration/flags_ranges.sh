#!/bin/bash
# Every flag of every stage is range-checked (issue 10 §3): a value out of range, too long or of
# the wrong shape is a usage error (exit 64) with "prog: --flag: ..." on stderr, never a crash
# (s3-sink used to die with SIGSEGV on a 500-byte --region), an overflow (seconds * 1000) or a
# value silently cut into a fixed buffer or written into a header.
. "$(dirname "$0")/../lib.sh"

long() { head -c "$1" /dev/zero | tr '\0' "${2:-a}"; }
BIG=99999999999999999999
HUGE=9223372036854775807

mkdir -p "$T_TMP/spool"
export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI

# usage STAGE FLAG ARGS...: the stage exits 64 and names the flag
usage() {
	stage=$1 flag=$2; shift 2
	timeout 10 "$FURROW_BIN/$stage" "$@" </dev/null >/dev/null 2>"$T_TMP/err"
	rc=$?
	if [ "$rc" -eq 64 ] && grep -q -- "^$stage: .*$flag" "$T_TMP/err"; then
		ok "$stage $flag $(printf '%.40s' "$*"): usage error"
	else
		fail "$stage $flag $(printf '%.40s' "$*"): usage error (exit $rc)"
		head -c 300 "$T_TMP/err" | sed 's/^/# /'
	fi
}

S3="--bucket b --spool $T_TMP/spool"
usage s3-sink --region $S3 --region "$(long 500)"
usage s3-sink --region $S3 --region 'us east'
usage s3-sink --bucket --bucket 'a b' --spool "$T_TMP/spool"
usage s3-sink --bucket --bucket "$(long 300)" --spool "$T_TMP/spool"
usage s3-sink --endpoint $S3 --endpoint "http://$(long 3000)"
usage s3-sink --rotate-seconds $S3 --rotate-seconds "$HUGE"
usage s3-sink --rotate-bytes $S3 --rotate-bytes "$BIG"
usage s3-sink --rotate-records $S3 --rotate-records -1
usage s3-sink --retry-deadline $S3 --retry-deadline 18446744073709551615
usage s3-sink --retry-base-ms $S3 --retry-base-ms 0
usage s3-sink --drain-seconds $S3 --drain-seconds 10000000000000
usage s3-sink --connect-timeout $S3 --connect-timeout 99999999999
usage s3-sink --stats-interval $S3 --stats-interval 9999999999999
usage s3-sink --part-size $S3 --part-size 99999999999999
usage s3-sink --multipart-threshold $S3 --multipart-threshold "$HUGE"
usage s3-sink --max-line-bytes $S3 --max-line-bytes 99999999999999
usage s3-sink --spool-max-bytes $S3 --spool-max-bytes 0
usage s3-sink --compression-level $S3 --compression-level 10
usage s3-sink --compression-level $S3 --compression-level ' 5'
AWS_REGION=$(long 500) "$FURROW_BIN/s3-sink" $S3 </dev/null >/dev/null 2>"$T_TMP/err"
eq "s3-sink: a 500-byte AWS_REGION is a configuration error, not a crash" 78 $?

usage es-sink --url --url ftp://example.com
usage es-sink --url --url "http://$(long 3000)"
usage es-sink --index --index 'a/b'
usage es-sink --index --index "$(long 300 x)"
usage es-sink --aws-region --aws-region "$(long 300)"
usage es-sink --shard-date-format --shard-date-format "$(long 300 Y)"
usage es-sink --shard-date-field --shard-date-field "$(long 300)"
usage es-sink --batch-docs --batch-docs "$BIG"
usage es-sink --retry-deadline --retry-deadline "$HUGE"
usage es-sink --max-line --max-line 0x100

usage enrich --stats-interval --stats-interval 99999999999999
usage enrich --max-line-bytes --max-line-bytes 99999999999999
usage enrich --registry-timeout --registry-timeout 99999999999999
usage enrich --registry-timeout --registry-timeout -5
usage enrich --pii --pii ''
usage enrich --pii --pii "$(long 5000)"
usage enrich --group --source log:"$T_TMP/l.log" --group '../x'
usage enrich --group --source log:"$T_TMP/l.log" --group .hidden
usage es-sink --group --source log:"$T_TMP/l.log" --group .hidden
usage s3-sink --group $S3 --source log:"$T_TMP/l.log" --group .hidden
usage pg-sink --group --source log:"$T_TMP/l.log" --group .hidden
usage pg-sink --batch-rows --batch-rows "$BIG"
usage pg-sink --retry-deadline --retry-deadline "$HUGE"
usage pg-sink --schema --schema 'a;b'
usage pg-sink --schema --schema "$(long 100)"
usage pg-sink --url --url "postgresql://u:pw@h/d"
usage pg-sink --url --url "$(long 3000)"
usage pg-sink --input --input json

usage collector --bind --bind 999.1.1.1
usage collector --port -p 70000
usage collector --client-cookie-name --client-cookie-name 'a;b'
usage collector --cookie-name --cookie-name "$(long 300)"
usage collector --cookie-domain --cookie-domain 'a b'
usage collector --cookie-fallback-domain --cookie-fallback-domain 'x;y'
usage collector --crossdomain --crossdomain '"><x'
usage collector --redirect-domain --redirect-domain 'a/b'
usage collector --cookie-bounce-fallback --cookie-bounce-fallback nope
usage collector --cookie-bounce-name --cookie-bounce-name 'a&b'
usage collector --forwarded-proto-header --forwarded-proto-header 'a b'
usage collector --dnt-cookie --dnt-cookie 'a b=x'
usage collector --path-map --path-map "/a=/$(long 2000 b)"
usage collector --max-request-line --max-request-line 0
usage collector --max-header-bytes --max-header-bytes 0
usage collector --queue-bytes --queue-bytes 0
usage collector --hsts --hsts "$HUGE"
usage collector --stats-interval --stats-interval "$BIG"

usage iglu-server --port -p 70000 -d "$T_TMP/igs"
usage iglu-server --max-json-depth --max-json-depth 0 -d "$T_TMP/igs"
usage iglu-server --stats-interval --stats-interval +5 -d "$T_TMP/igs"
usage inspect --port -p 8K
usage inspect --max-bytes --max-bytes 99999999999999G
usage inspect --max-line-bytes --max-line-bytes 1KB
usage inspect --max-events --max-events 0

# the limits themselves are accepted
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --stats-interval 31536000 --max-line-bytes 16 \
    </dev/null >/dev/null 2>&1
eq "enrich: values at the bounds are accepted" 0 $?
echo 'x' | "$FURROW_BIN/es-sink" --dump --index good-2 --batch-docs 100000 --retry-deadline 0 \
    --bad /dev/null >/dev/null 2>&1
eq "es-sink: values at the bounds are accepted" 0 $?
done_testing
