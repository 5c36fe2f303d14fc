#!/bin/bash
# fifo-setup.sh with FURROW_KINESIS_ENDPOINT (and FURROW_DYNAMODB_ENDPOINT, FURROW_KINESIS_REGION):
# the stages wired through Kinesis streams (furrow-raw, furrow-enriched, furrow-bad) of
# kinesalite, enrich's leases and checkpoints in dynalite (tests/setup-kinesis.sh). Under a
# steady load with bad events mixed in, enrich is killed with SIGKILL and restarted by the
# launcher (its new worker takes the dead one's leases after the failover time); after a clean
# stop every event id answered 200 is on the enriched stream, every bad one in a bad row, no
# data file was written, and the AWS secret is in no command line and no log.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
. "$FURROW_ROOT/tests/setup-kinesis.sh"
trap 'kinesis_cleanup >/dev/null 2>&1; t_cleanup' EXIT
unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kinesis_start >"$T_TMP/kinesis.log" 2>&1 ||
    unavailable "kinesalite and dynalite" "$(tail -n 3 "$T_TMP/kinesis.log")"
for s in furrow-raw:3 furrow-enriched:2 furrow-bad:1; do
	kinesis_stream "${s%%:*}" "${s#*:}" || unavailable "stream ${s%%:*}" "cannot create it"
done
ok "Kinesis at $FURROW_KINESIS_ENDPOINT, DynamoDB at $FURROW_DYNAMODB_ENDPOINT"
K="python3 $FURROW_ROOT/tests/tools/kinesis.py"
export AWS_SECRET_ACCESS_KEY=furrow-secret-$$-aws FURROW_KINESIS_FAILOVER_MS=3000
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
export FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT FURROW_PG_URL FURROW_KAFKA_BROKERS

d=$T_TMP/data
check "the pipeline starts on Kinesis" launcher_start "$d"
for s in collector enrich; do
	check "$s runs" running "$s"
done
argv_of() { tr '\0' ' ' <"/proc/$(pid_of "$1")/cmdline"; }
check "enrich reads kinesis:furrow-raw" sh -c "echo '$(argv_of enrich)' | grep -q 'kinesis:furrow-raw'"
leaked=0
for s in collector enrich; do argv_of "$s" | grep -qF "$AWS_SECRET_ACCESS_KEY" && leaked=1; done
eq "the AWS secret is in no stage's argv" 0 "$leaked"
LOAD_BAD_EVERY=10 load_start "$T_TMP/acked"
acked_grows "$T_TMP/acked" 300
old=$(pid_of enrich)
kill -9 "$old"
check "enrich restarted after SIGKILL" wait_for 30 sh -c "p=\$(cat '$d/run/enrich.pid'); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
acked_grows "$T_TMP/acked" 300
load_stop
diag "load: $(cat "$T_TMP/load.json")"

sort -u "$T_TMP/acked" >"$T_TMP/acked.sorted"
eids() { $K dump furrow-enriched | python3 -c '
import base64, sys
for l in sys.stdin:
    print(base64.b64decode(l).decode().split("\t")[6])' | sort -u; }
all_in() { eids >"$T_TMP/got"; [ -z "$(comm -23 "$T_TMP/acked.sorted" "$T_TMP/got" | head -n 1)" ]; }
check "every event answered 200 is on kinesis:furrow-enriched" wait_for 120 all_in
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "clean stop" 0 $?
launcher_wait
eq "the launcher ends with 0" 0 "$LRC"
$K dump furrow-bad | while read -r l; do echo "$l" | base64 -d; echo; done >"$T_TMP/bad.json"
missing_bad=0
for id in $(sort -u "$T_TMP/acked.bad"); do
	grep -qF "$id" "$T_TMP/bad.json" || missing_bad=$((missing_bad + 1))
done
check "some bad events were sent" test -s "$T_TMP/acked.bad"
eq "every bad event is a bad row on kinesis:furrow-bad" 0 "$missing_bad"
eq "no data files: the streams hold the data" "" "$(cd "$d" && ls raw.log good.tsv bad.json 2>/dev/null)"
check "the AWS secret is in no log" sh -c "! grep -rqF '$AWS_SECRET_ACCESS_KEY' '$d' '$d.launcher.log'"
done_testing
