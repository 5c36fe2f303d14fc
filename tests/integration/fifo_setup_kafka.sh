#!/bin/bash
# fifo-setup.sh with FURROW_KAFKA_BROKERS: the stages wired through topics (furrow-raw,
# furrow-enriched, furrow-bad) of a real Kafka broker (tests/setup-kafka.sh), with pg-sink for
# good and bad events (FURROW_PG_URL, a real PostgreSQL from tests/setup-pg.sh). Under a steady
# load with bad events mixed in, enrich and pg-sink-good are each killed with SIGKILL and
# restarted by the launcher; after a clean stop every event id answered 200 is in
# atomic.events exactly once, every bad event is a row of atomic.bad_rows, each group
# committed the end of its topic, no data file (raw.log, good.tsv, bad.json) was written, and
# neither the brokers' properties nor the database password are in a command line or a log.
# The PII enrichment (emitEvent, user_ipaddress pseudonymised) runs beside the default ones:
# the launcher gives enrich --pii kafka:furrow-pii, and every good event answered 200 has a
# pii_transformation event there naming it as its parent.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
. "$FURROW_ROOT/tests/setup-kafka.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"
trap 'kafka_cleanup >/dev/null 2>&1; pg_cleanup >/dev/null 2>&1; t_cleanup' EXIT
unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kafka_start >"$T_TMP/kafka.log" 2>&1 || unavailable "Kafka" "$(tail -n 3 "$T_TMP/kafka.log")"
PG_FSYNC=off pg_setup >"$T_TMP/pg.log" 2>&1 || unavailable "PostgreSQL" "$(tail -n 3 "$T_TMP/pg.log")"
for t in furrow-raw:3 furrow-enriched:3 furrow-bad:1 furrow-pii:1; do
	kafka_topic "${t%%:*}" "${t#*:}" || unavailable "topic ${t%%:*}" "cannot create it"
done
ok "Kafka at $KAFKA_BROKERS, PostgreSQL on $PG_PORT"
# a properties file the stages read (never argv), whose secret must not reach a log either; a
# killed member's partitions move after the session timeout: 6 s (the broker's minimum)
secret=furrow-secret-$$-sasl
printf 'sasl.password=%s\nsession.timeout.ms=6000\nheartbeat.interval.ms=500\n' "$secret" \
    >"$T_TMP/kafka.properties"
export FURROW_KAFKA_BROKERS=$KAFKA_BROKERS FURROW_KAFKA_PROPERTIES=$T_TMP/kafka.properties
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_PG_URL=$PG_URL FURROW_BIN
export FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT
mkdir -p "$T_TMP/enrichments"
cp -r "$FURROW_ROOT/enrichments/default" "$FURROW_ROOT/enrichments/data" "$T_TMP/enrichments/"
cat >"$T_TMP/enrichments/default/pii_enrichment_config.json" <<'JSON'
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"pii_enrichment_config",
  "emitEvent":true,"enabled":true,
  "parameters":{"pii":[{"pojo":{"field":"user_ipaddress"}}],
   "strategy":{"pseudonymize":{"hashFunction":"SHA-256","salt":"furrow-test"}}}}}
JSON
export FURROW_ENRICHMENTS=$T_TMP/enrichments/default

d=$T_TMP/data
check "the pipeline starts on Kafka" launcher_start "$d"
for s in collector enrich pg-sink-good pg-sink-bad; do
	check "$s runs" running "$s"
done
pii_flag() { tr '\0' ' ' <"/proc/$(pid_of enrich)/cmdline" | grep -q -- "--pii kafka:furrow-pii "; }
check "enrich writes the PII events to furrow-pii" pii_flag
LOAD_BAD_EVERY=10 load_start "$T_TMP/acked"
acked_grows "$T_TMP/acked" 300
for s in enrich pg-sink-good; do
	old=$(pid_of "$s")
	kill -9 "$old"
	check "$s restarted after SIGKILL" wait_for 30 sh -c "p=\$(cat '$d/run/$s.pid'); [ -n \"\$p\" ] && [ \"\$p\" != $old ]"
	acked_grows "$T_TMP/acked" 300
done
load_stop
diag "load: $(cat "$T_TMP/load.json")"

# everything answered 200 reaches PostgreSQL (the launcher's stop drains in pipeline order)
sort -u "$T_TMP/acked" >"$T_TMP/acked.sorted"
n_acked=$(wc -l <"$T_TMP/acked.sorted")
loaded() { [ "$(pg_sql "SELECT count(*) FROM atomic.events" 2>/dev/null || echo 0)" -ge "$n_acked" ]; }
wait_for 120 loaded
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "clean stop" 0 $?
launcher_wait
eq "the launcher ends with 0" 0 "$LRC"

pg_sql "SELECT event_id FROM atomic.events" | sort >"$T_TMP/pg-ids"
eq "every event answered 200 is in atomic.events" "" "$(comm -23 "$T_TMP/acked.sorted" "$T_TMP/pg-ids" | head -n 5)"
eq "... exactly once" "" "$(uniq -d "$T_TMP/pg-ids" | head -n 5)"
diag "events answered 200: $n_acked, rows in atomic.events: $(wc -l <"$T_TMP/pg-ids")"
n_bad=$(sort -u "$T_TMP/acked.bad" | wc -l)
check "some bad events were sent" test "$n_bad" -gt 0
missing_bad=0
for id in $(sort -u "$T_TMP/acked.bad"); do
	[ "$(pg_sql "SELECT count(*) FROM atomic.bad_rows WHERE payload::text LIKE '%$id%'" 2>/dev/null)" -ge 1 ] ||
		missing_bad=$((missing_bad + 1))
done
eq "every bad event is a row of atomic.bad_rows" 0 "$missing_bad"

end_of() { for p in $(seq 0 $(($2 - 1))); do printf '%s %s ' "$p" "$(kcat -b "$KAFKA_BROKERS" -Q -t "$1:$p:-1" | awk '{print $NF}')"; done; }
for g in enrich:furrow-raw:3 pg-sink-good:furrow-enriched:3 pg-sink-bad:furrow-bad:1; do
	IFS=: read -r grp top np <<<"$g"
	eq "group $grp committed the end of $top" "$(end_of "$top" "$np")" \
	    "$(kafka_group_offsets "$grp" "$top" | tr '\n' ' ')"
done
# the PII enrichment's events: one a good event (more after enrich's SIGKILL: at least once)
kcat -b "$KAFKA_BROKERS" -C -t furrow-pii -e -q -f '%s\n' >"$T_TMP/pii.tsv" 2>/dev/null
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    c = line.rstrip("\n").split("\t")
    if c[5] != "pii_transformation":
        continue
    for ctx in json.loads(c[52])["data"]:
        if ctx["schema"].startswith("iglu:com.snowplowanalytics.snowplow/parent_event/"):
            print(ctx["data"]["parentEventId"])' "$T_TMP/pii.tsv" | sort -u >"$T_TMP/pii-parents"
diag "pii_transformation events on furrow-pii: $(wc -l <"$T_TMP/pii.tsv"), parents: $(wc -l <"$T_TMP/pii-parents")"
eq "every good event answered 200 has a pii_transformation event on furrow-pii" "" \
    "$(comm -23 "$T_TMP/acked.sorted" "$T_TMP/pii-parents" | head -n 5)"
check "its user_ipaddress is pseudonymised in atomic.events" test \
    "$(pg_sql "SELECT count(*) FROM atomic.events WHERE user_ipaddress = '127.0.0.1'")" = 0
eq "no data files: the topics hold the streams" "" "$(cd "$d" && ls raw.log good.tsv bad.json 2>/dev/null)"
check "the properties' value is in no log" sh -c "! grep -rqF '$secret' '$d' '$d.launcher.log'"
check "the password is in no log" sh -c "! grep -rqF '$PGPASSWORD' '$d/run' '$d.launcher.log'"
done_testing
