#!/bin/bash
# s3-sink credentials against a signature-checking S3 server (tests/setup-s3.sh): a wrong secret
# key or an unknown key id is refused, reported clearly, and ends the sink with exit 78
# (EX_CONFIG: credentials are configuration, and systemd does not restart on 78) at once (no
# retry loop), keeping the file in the spool; the next run with the right keys uploads it. Other permanent errors (no such bucket) exit 69.
. "$(dirname "$0")/../lib.sh"
S3_WORKDIR=$T_TMP/s3
. "$FURROW_ROOT/tests/setup-s3.sh"
trap 's3_stop; t_cleanup' EXIT
if ! s3_start; then fail "S3 test server starts"; done_testing; exit 1; fi
s3_mb bkt || fail "create bucket"

SINK=("$FURROW_BIN/s3-sink" --bucket bkt --endpoint "$S3_ENDPOINT" --path-style)
sink() { "${SINK[@]}" "$@"; }
seq 1 500 >"$T_TMP/in"

# --- wrong secret ---
start=$(date +%s)
AWS_SECRET_ACCESS_KEY=not-the-secret sink --spool "$T_TMP/sp" <"$T_TMP/in" 2>"$T_TMP/e1"
eq "wrong secret: exit 78" 78 $?
check "wrong secret: reported with the S3 code" grep -q 'refused: HTTP 403 SignatureDoesNotMatch' "$T_TMP/e1"
check "wrong secret: says what to check" grep -q 'AWS_SECRET_ACCESS_KEY' "$T_TMP/e1"
check "wrong secret: no retry" grep -q 'retries=0 ' "$T_TMP/e1"
check "wrong secret: fast (no hot loop, no back-off)" test $(( $(date +%s) - start )) -le 5
eq "wrong secret: the file stays in the spool" 1 "$(ls "$T_TMP/sp" | grep -c '\.gz$')"
check "wrong secret: log says it stays" grep -q 'stay in the spool' "$T_TMP/e1"
eq "wrong secret: nothing in the store" "" "$(s3_ls bkt)"

# --- unknown key id, with stdin still open: the sink stops by itself ---
mkfifo "$T_TMP/fifo"
AWS_ACCESS_KEY_ID=AKIDUNKNOWN "${SINK[@]}" --spool "$T_TMP/sp2" --rotate-records 10 <"$T_TMP/fifo" 2>"$T_TMP/e2" &
pid=$!
exec 3>"$T_TMP/fifo"
seq 1 20 >&3
gone() { ! kill -0 "$pid" 2>/dev/null; }
check "unknown key id: exits while stdin is open" wait_for 10 gone
wait "$pid"
eq "unknown key id: exit 78" 78 $?
exec 3>&-
check "unknown key id: reported" grep -q 'InvalidAccessKeyId' "$T_TMP/e2"

# --- the right keys: leftovers go first ---
sink --spool "$T_TMP/sp" --print-keys </dev/null >"$T_TMP/k3" 2>"$T_TMP/e3"
eq "right keys: exit 0" 0 $?
check "right keys: leftovers announced" grep -q 'left by an earlier run' "$T_TMP/e3"
eq "right keys: one object" 1 "$(wc -l <"$T_TMP/k3")"
s3_get bkt "$(cat "$T_TMP/k3")" "$T_TMP/o.gz"
check "right keys: content" sh -c 'gzip -dc "$1" | cmp -s - "$2"' _ "$T_TMP/o.gz" "$T_TMP/in"
eq "right keys: spool empty" "" "$(ls "$T_TMP/sp")"

# --- no such bucket: permanent, 69 ---
"$FURROW_BIN/s3-sink" --bucket nosuchbucket --endpoint "$S3_ENDPOINT" --path-style \
    --spool "$T_TMP/sp4" <"$T_TMP/in" 2>"$T_TMP/e4"
eq "no such bucket: exit 69" 69 $?
check "no such bucket: reported" grep -q 'HTTP 404 NoSuchBucket' "$T_TMP/e4"
done_testing
