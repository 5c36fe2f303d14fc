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
#    and the leases are given back.
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
for s in raw:2 enriched:2 bad:1 thr:1 ipraw:1; do
	kinesis_stream "${s%%:*}" "${s#*:}" || unavailable "stream ${s%%:*}" "cannot create it"
done

# ---- credentials and signatures ----
# kinesalite checks that a request is signed (a well-formed SigV4 Authorization header), not the
# signature itself: an unsigned request is refused, furrow's signed ones are taken
eq "kinesalite refuses an unsigned request" MissingAuthenticationTokenException \
    "$(curl -s -X POST -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: Kinesis_20131202.ListStreams' -d '{}' "$FURROW_KINESIS_ENDPOINT" |
        jq -r '.__type' | sed 's/.*#//')"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/nohome" \
    "$FURROW_BIN/enrich" --source kinesis:raw --group no-creds --output /dev/null \
    2>"$T_TMP/nocreds.err"
eq "without credentials enrich stops at startup (78)" 78 $?
check "and says where it looked" grep -q "no AWS credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or profile default in $T_TMP/nohome/.aws/credentials" "$T_TMP/nocreds.err"
mkdir -p "$T_TMP/home/.aws"; : >"$T_TMP/nothing"
printf '[furrow]\naws_access_key_id = AKIDPROFILE\naws_secret_access_key = profile-secret-%s\n' $$ \
    >"$T_TMP/home/.aws/credentials"
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY HOME="$T_TMP/home" AWS_PROFILE=furrow \
    "$FURROW_BIN/enrich" --source "$T_TMP/nothing" --output kinesis:bad --bad /dev/null \
    2>"$T_TMP/profile.err" </dev/null
eq "credentials from a profile of ~/.aws/credentials" 0 $?
check "the secret is in no log" sh -c "! grep -q profile-secret '$T_TMP/profile.err'"

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
