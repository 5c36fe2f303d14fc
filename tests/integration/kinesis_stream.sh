#!/bin/bash
# kinesis: streams against kinesalite and dynalite (tests/setup-kinesis.sh):
#  - the collector puts one Kinesis record per event, Snowplow's binary Thrift, each under a
#    random UUID partition key (stream-collector's KinesisSink: the key the collector chose, a
#    random UUID unless useIpAddressAsPartitionKey); --ip-partition-key keys by client IP;
#  - enrich --partition-key event_id keys each enriched record by its event id (common-streams'
#    KinesisSink: the configured field, else a random UUID);
#  - ProvisionedThroughputExceeded, whole requests and single records of a PutRecords (made by
#    a fault proxy: kinesalite never throttles), is retried after a back-off: every record on the
#    stream exactly once;
#  - a group's checkpoints in the lease table are the last sequence numbers after a clean stop,
#    and the leases are given back;
#  - credentials from the EC2 instance metadata service (IMDSv2) when neither the environment nor
#    a profile has them, renewed before they expire. There is no EC2 here: tests/tools/imds.py
#    stands in for the service at AWS_EC2_METADATA_SERVICE_ENDPOINT, as the AWS SDKs honour it.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kinesis.sh"
trap 'kinesis_cleanup >/dev/null 2>&1; t_cleanup' EXIT

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kinesis_start >"$T_TMP/kinesis-start.log" 2>&1 ||
    unavailable "kinesalite and dynalite" "$(tail -n 3 "$T_TMP/kinesis-start.log")"
ok "kinesalite at $FURROW_KINESIS_ENDPOINT, dynalite at $FURROW_DYNAMODB_ENDPOINT"
K="python3 $FURROW_ROOT/tests/tools/kinesis.py"
for s in raw:2 enriched:2 bad:1 thr:1 ipraw:1 imds:1; do
	kinesis_stream "${s%%:*}" "${s#*:}" || unavailable "stream ${s%%:*}" "cannot create it"
done

# ---- credentials and signatures ----
# kinesalite checks that a request is signed (a well-formed SigV4 Authorization header), not the
# signature itself: an unsigned request is refused, furrow's signed ones are taken
eq "kinesalite refuses an unsigned request" MissingAuthenticationTokenException \
    "$(curl -s -X POST -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: Kinesis_20131202.ListStreams' -d '{}' "$FURROW_KINESIS_ENDPOINT" |
        jq -r '.__type' | sed 's/.*#//')"
closed=$(free_port)
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/nohome" \
    AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$closed \
    "$FURROW_BIN/enrich" --source kinesis:raw --group no-creds --output /dev/null \
    2>"$T_TMP/nocreds.err"
eq "without credentials enrich stops at startup (78)" 78 $?
check "and says where it looked" grep -q "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile default in $T_TMP/nohome/.aws/credentials; instance metadata at http://127.0.0.1:$closed: no session token: " "$T_TMP/nocreds.err"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/nohome" \
    AWS_EC2_METADATA_DISABLED=true \
    "$FURROW_BIN/enrich" --source kinesis:raw --group no-creds --output /dev/null \
    2>"$T_TMP/nocreds-off.err"
eq "AWS_EC2_METADATA_DISABLED=true: the service is not asked (78)" "78 1" \
    "$? $(grep -c "instance metadata off (AWS_EC2_METADATA_DISABLED)" "$T_TMP/nocreds-off.err")"
mkdir -p "$T_TMP/home/.aws"; : >"$T_TMP/nothing"
printf '[furrow]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret-%s\n' $$ \
    >"$T_TMP/home/.aws/credentials"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/home" AWS_PROFILE=furrow \
    "$FURROW_BIN/enrich" --source "$T_TMP/nothing" --output kinesis:bad --bad /dev/null \
    2>"$T_TMP/profile.err" </dev/null
eq "credentials from a profile of ~/.aws/credentials" 0 $?
check "the secret is in no log" sh -c "! grep -q profile-secret '$T_TMP/profile.err'"

# ---- credentials from the instance metadata service ----
# A stand-in for EC2's instance metadata service (there is no EC2 here): IMDSv2 only, a new
# credential set at every ask, each expiring 330 s after it is issued, so that the refresh
# window (aws.h: AWS_CREDS_REFRESH_S, 300 s before the expiry) opens 30 s later (room for a
# slow start on a loaded machine). A pass-through proxy before kinesalite notes which access key
# signed each request (kinesalite does not check).
iport=$(free_port) sport=$(free_port) port=$(free_port)
python3 "$FURROW_ROOT/tests/tools/imds.py" "$iport" 330 "$T_TMP/imds.json" &
T_PIDS="$T_PIDS $!"
python3 "$FURROW_ROOT/tests/tools/kinesis_throttle.py" "$sport" "$FURROW_KINESIS_ENDPOINT" \
    "$T_TMP/signers.json" pass &
T_PIDS="$T_PIDS $!"
imds_up() { curl -sf "http://127.0.0.1:$iport/furrow-stand-in-ready"; }
signers_up() { curl -s -o /dev/null "http://127.0.0.1:$sport/"; }
both_up() { imds_up && signers_up; }
check "instance metadata stand-in and signer proxy ready" wait_for 30 both_up
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/nohome" \
    AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$iport" \
    FURROW_KINESIS_ENDPOINT="http://127.0.0.1:$sport/" \
    "$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kinesis:imds --bad kinesis:bad \
    --no-cookie 2>"$T_TMP/collector-imds.err" &
pc=$!
check "collector on instance-metadata credentials ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" 100 imdsa 2000 >"$T_TMP/sent-imds"
read -r sent1 _ <"$T_TMP/sent-imds"
imds_in() { [ "$($K count imds)" -ge 100 ]; }
check "the first 100 records are in" wait_for 30 imds_in
# the first set's refresh window opens (the clock passing the stand-in's expiry - 300 s)
window_open() { [ "$(date +%s)" -gt "$(( $(jq .expires "$T_TMP/imds.json") - 300 ))" ]; }
if window_open; then
	skip "the first set signed the first records" "this machine took 30 s to start and send"
	first_ok=1
else
	first_ok=$(jq -r '.akids | index("ASIAFURROWIMDS1") != null' "$T_TMP/signers.json")
	eq "the first set signed the first records, with its session token" "true 0" \
	    "$first_ok $(jq .without_token "$T_TMP/signers.json")"
fi
check "the refresh window opens" wait_for 60 window_open
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" 100 imdsb 2000 >"$T_TMP/sent-imds"
read -r sent2 _ <"$T_TMP/sent-imds"
argv_clean() { ! tr '\0' ' ' </proc/$pc/cmdline | grep -qE 'imds-secret|imds-session|ASIAFURROW'; }
check "no secret on the collector's command line" argv_clean
kill -TERM $pc; wait $pc
eq "200 events answered 200 and the collector stops with 0" "100 100 0" "$sent1 $sent2 $?"
eq "every record on kinesis:imds" 200 "$($K count imds)"
eq "the stand-in gave a session token before each of two credential sets, no request without one" \
    "2 2 0" "$(jq -r '"\(.tokens) \(.creds) \(.refused)"' "$T_TMP/imds.json")"
eq "then the renewed set signed, with its session token" "ASIAFURROWIMDS2 0" \
    "$(jq -r '"\(.akids[-1]) \(.without_token)"' "$T_TMP/signers.json")"
check "the collector names the role" grep -q "credentials of role furrow-test-role from the instance metadata service" "$T_TMP/collector-imds.err"
check "no secret, session token or IMDS token in the log" sh -c \
    "! grep -qE 'imds-secret|imds-session|furrow-imds-token' '$T_TMP/collector-imds.err'"

# ---- the collector's records and keys ----
port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kinesis:raw --bad kinesis:bad \
    --no-cookie 2>"$T_TMP/collector.err" &
pc=$!
check "collector ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
N=1200
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" $N kin 2000 >"$T_TMP/sent"
read -r sent _ <"$T_TMP/sent"
eq "$N events answered 200" $N "$sent"
kill -TERM $pc; wait $pc
eq "the collector stops with 0 once Kinesis has every record" 0 $?
$K dumpkeys raw >"$T_TMP/raw.keys"
eq "$N records on kinesis:raw" $N "$(wc -l <"$T_TMP/raw.keys")"
eq "each under a random UUID key" $N "$(cut -f1 "$T_TMP/raw.keys" | sort -u |
    grep -cE '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')"
cut -f2 "$T_TMP/raw.keys" >"$T_TMP/raw.b64"
eq "the records are Thrift CollectorPayloads that enrich reads" $N \
    "$("$FURROW_BIN/enrich" <"$T_TMP/raw.b64" 2>/dev/null | awk -F'\t' '$1 == "kin"' | wc -l)"

"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kinesis:ipraw --bad kinesis:bad \
    --no-cookie --ip-partition-key 2>"$T_TMP/collector-ip.err" &
pc=$!
check "collector --ip-partition-key ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" 20 kinip 2000 >/dev/null
kill -TERM $pc; wait $pc
eq "--ip-partition-key: every record keyed by the client IP" "20 127.0.0.1" \
    "$($K dumpkeys ipraw | cut -f1 | sort | uniq -c | awk '{print $1, $2}')"

# ---- enrich: kinesis -> kinesis, keys, checkpoints ----
"$FURROW_BIN/enrich" --source kinesis:raw --output kinesis:enriched --bad kinesis:bad \
    --group enrich-test --partition-key event_id 2>"$T_TMP/enrich.err" &
pe=$!
good() { [ "$($K count enriched)" -ge "$1" ]; }
check "enrich puts $N enriched records" wait_for 60 good $N
# every commit is checkpointed within a second while records flow; stop once they are
ckpt_done() { [ "$($K leases enrich-test | awk '{print $1, $4}' | sort)" = "$($K lastseq raw | sort)" ]; }
check "the checkpoints reach the last record of each shard" wait_for 30 ckpt_done
kill -TERM $pe; wait $pe
eq "enrich stops with 0" 0 $?
eq "the leases are given back at a clean stop" "- -" "$($K leases enrich-test | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//;s/^-$/- -/')"
$K dumpkeys enriched >"$T_TMP/enriched.keys"
eq "enriched records are keyed by their event id" $N \
    "$(python3 -c '
import base64, sys
n = 0
for line in open(sys.argv[1]):
    key, data = line.rstrip("\n").split("\t")
    cols = base64.b64decode(data).decode().split("\t")
    n += cols[6] == key
print(n)' "$T_TMP/enriched.keys")"

# ---- throttling: whole requests and single records refused ----
pport=$(free_port)
python3 "$FURROW_ROOT/tests/tools/kinesis_throttle.py" "$pport" "$FURROW_KINESIS_ENDPOINT" \
    "$T_TMP/throttle.json" &
T_PIDS="$T_PIDS $!"
proxy_up() { curl -s -o /dev/null "http://127.0.0.1:$pport/" -X POST; }
check "fault proxy ready" wait_for 30 proxy_up
FURROW_KINESIS_ENDPOINT=http://127.0.0.1:$pport/ "$FURROW_BIN/collector" -p "$port" \
    --bind 127.0.0.1 -o kinesis:thr --bad kinesis:bad --no-cookie 2>"$T_TMP/collector-thr.err" &
pc=$!
check "collector behind the fault proxy ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
M=600
python3 "$FURROW_ROOT/tests/tools/send_events.py" "$port" $M thr 3000 >"$T_TMP/sent-thr"
read -r sent _ <"$T_TMP/sent-thr"
eq "$M events answered 200 while Kinesis throttles" $M "$sent"
kill -TERM $pc; wait $pc
eq "the collector stops with 0 once the throttled records are in" 0 $?
eq "every record on the stream exactly once" "$M $M" \
    "$($K dump thr | sort | uniq | wc -l) $($K count thr)"
check "the proxy refused whole requests and single records" python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s["refused"] > 0 and s["records_failed"] > 0 else 1)' "$T_TMP/throttle.json"
check "the collector says it sends them again" grep -q "sending .*again in" "$T_TMP/collector-thr.err"

done_testing
