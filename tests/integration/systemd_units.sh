#!/bin/bash
# The systemd units in systemd/ run the same graph as fifo-setup.sh, on line logs in
# /var/lib/furrow (furrow.target), or on Kafka topics with several instances per machine
# (furrow-kafka.target, template units NAME@.service), or on Kinesis streams (furrow-kinesis.target,
# furrow-kinesis-NAME@.service):
#  - systemd-analyze verify accepts each unit (paths pointed at this build);
#  - every flag a unit passes to a stage is one that stage's --help documents;
#  - the wiring: no FIFO, tee or line merger is left; every log or topic a unit reads (--source
#    log:X, kafka:T) is written by another unit (--output/--bad); each reader of a log or topic
#    has its own consumer group (a template's instances share theirs); what they write is in their StateDirectory; the collector is stopped before enrich,
#    and enrich before the sinks (units stop in the reverse order of After=); every topic or
#    stream named has a default in its unit; enrich's templates pass --pii as fifo-setup.sh does;
#  - the collector's and enrich's ExecStart lines, run as written (paths pointed at this build
#    and a temporary state directory), carry an event from HTTP to good.tsv.
. "$(dirname "$0")/../lib.sh"
units=$FURROW_ROOT/systemd
state=/var/lib/furrow

execstart() { sed -n 's/^ExecStart=//p' "$1"; }
# words after a flag in a unit's ExecStart: flag_values UNIT FLAG
flag_values() { execstart "$1" | tr ' ' '\n' | awk -v f="$2" 'p {print; p=0} $0 == f {p=1}'; }

# ---- the wiring ----
eq "no FIFO, tee, line merger or tmpfiles left" "" \
	"$(grep -lE 'fifo|/tee|linemerge|StandardInput|StandardOutput' "$units"/* 2>/dev/null; ls "$units" | grep -v -E '\.(service|target)$|^resolver\.json$')"
readers=""
for u in "$units"/*.service; do
	unit=$(basename "$u")
	group=$(flag_values "$u" --group)
	for src in $(flag_values "$u" --source; flag_values "$u" --bad-source); do
		if [ "${src#kafka:}" != "$src" ] || [ "${src#kinesis:}" != "$src" ]; then
			# a template on Kafka or Kinesis (furrow-kafka.target, furrow-kinesis.target): its
			# topic or stream is written by another
			writers=""
			for w in "$units"/*.service; do
				flag_values "$w" --output | grep -qxF -- "$src" && writers="$writers $(basename "$w")"
				flag_values "$w" --bad | grep -qxF -- "$src" && writers="$writers $(basename "$w")"
			done
			check "$unit reads $src, which$writers write" test -n "$writers"
			check "$unit has a consumer group" test -n "$group"
			readers="$readers $src:$group"
			continue
		fi
		log=${src#log:}
		writers=$(grep -l -E -- "--(output|bad) log:$log( |$)" "$units"/*.service | xargs -n1 basename | tr '\n' ' ' | sed 's/ $//')
		check "$unit reads $log, which $writers write" test -n "$writers"
		check "$unit: its log is in $state" sh -c "case '$log' in $state/*) ;; *) exit 1;; esac"
		# inspect shows the logs and commits nothing (it never holds back their reclaiming);
		# every other reader commits what it has handed on, in a group of its own
		if [ "$unit" = furrow-inspect.service ]; then
			eq "$unit reads without a group" "" "$group"
		else
			check "$unit has a consumer group" test -n "$group"
			readers="$readers $log:$group"
		fi
	done
	# what writes a log or a group's offsets has /var/lib/furrow made for it
	if [ -n "$group" ] || execstart "$u" | grep -q -E -- "--(output|bad) log:"; then
		check "$unit: StateDirectory=furrow" grep -q '^StateDirectory=furrow' "$u"
	fi
done
eq "each reader of a log has its own group" "" "$(echo "$readers" | tr ' ' '\n' | sed '/^$/d' | sort | uniq -d)"
# every topic or stream a unit names has a default in the unit (kafka.env/kinesis.env may
# change it), and enrich's templates pass --pii as fifo-setup.sh does, with its default name
for u in "$units"/*.service; do
	for v in $(execstart "$u" | grep -o '${FURROW_\(KAFKA_TOPIC\|KINESIS_STREAM\)_[A-Z]*}' | tr -d '${}' | sort -u); do
		check "$(basename "$u"): a default for $v" grep -q "^Environment=.*\b$v=" "$u"
	done
done
eq "furrow-enrich@: --pii as fifo-setup.sh" 'kafka:${FURROW_KAFKA_TOPIC_PII}' \
	"$(flag_values "$units/furrow-enrich@.service" --pii)"
eq "furrow-kinesis-enrich@: --pii as fifo-setup.sh" 'kinesis:${FURROW_KINESIS_STREAM_PII}' \
	"$(flag_values "$units/furrow-kinesis-enrich@.service" --pii)"
check "furrow-enrich@: fifo-setup.sh's PII topic by default" grep -q "^Environment=.*FURROW_KAFKA_TOPIC_PII=furrow-pii\b" "$units/furrow-enrich@.service"
check "fifo-setup.sh's PII topic is furrow-pii" grep -q 'FURROW_KAFKA_TOPIC_PII:-furrow-pii}' "$FURROW_ROOT/fifo-setup.sh"
check "furrow-kinesis-enrich@: fifo-setup.sh's PII stream by default" grep -q "^Environment=.*FURROW_KINESIS_STREAM_PII=furrow-pii\b" "$units/furrow-kinesis-enrich@.service"
check "fifo-setup.sh's PII stream is furrow-pii" grep -q 'FURROW_KINESIS_STREAM_PII:-furrow-pii}' "$FURROW_ROOT/fifo-setup.sh"
check "the collector stops before enrich (After=furrow-enrich.service)" \
	grep -q '^After=.*furrow-enrich.service' "$units/furrow-collector.service"
for s in es-sink-good es-sink-bad s3-sink-good s3-sink-bad pg-sink-good pg-sink-bad; do
	check "enrich stops before furrow-$s" grep -q "^After=.*furrow-$s.service" "$units/furrow-enrich.service"
done

# ---- systemd-analyze verify and the flags ----
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze verify" "systemd-analyze not installed"
else
	mkdir -p "$T_TMP/units"
	cp "$units"/* "$T_TMP/units/"
	for u in "$T_TMP"/units/*.service; do
		sed -i "s|/usr/local/bin/|$FURROW_BIN/|g; s|/usr/local/share/furrow/|$FURROW_ROOT/|g" "$u"
	done
	for u in "$T_TMP"/units/*.service "$T_TMP"/units/*.target; do
		name=$(basename "$u")
		out=$(cd "$T_TMP/units" && systemd-analyze verify --man=no "./$name" 2>&1)
		rc=$?
		if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "$name verifies"; else fail "$name verifies"; diag "$out"; fi
	done
fi
for u in "$units"/*.service; do
	name=$(basename "$u")
	stage=$(execstart "$u" | sed 's|^/usr/local/bin/\([a-z0-9-]*\) .*|\1|')
	help=$("$FURROW_BIN/$stage" --help 2>&1)
	missing=""
	for f in $(execstart "$u" | tr ' ' '\n' | grep '^--' | sort -u); do
		echo "$help" | grep -q -- "$f" || missing="$missing $f"
	done
	eq "$name: flags known to $stage --help" "" "$missing"
done

# ---- the collector's and enrich's units carry an event to good.tsv ----
port=$(free_port)
run_unit() { # UNIT: its ExecStart, paths pointed here, in the background
	local line
	line=$(execstart "$units/$1" | sed "s|/usr/local/bin/|$FURROW_BIN/|g; s|/usr/local/share/furrow/|$FURROW_ROOT/|g; s|$state|$T_TMP/state|g; s|--port 8080|--port $port --bind 127.0.0.1|")
	# shellcheck disable=SC2086
	$line 2>>"$T_TMP/$1.log" &
	T_PIDS="$T_PIDS $!"
	eval "pid_${1//[-.]/_}=\$!"
}
mkdir -p "$T_TMP/state"
run_unit furrow-enrich.service
run_unit furrow-collector.service
check "the collector answers /health" wait_for 10 curl -sf "http://127.0.0.1:$port/health"
eq "an event answered 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/i?e=pv&p=web&tv=unit-1&eid=5f0c2c4e-4b8a-4a61-9bb4-0c2de6a91f10")"
check "it is in good.tsv" wait_for 10 grep -q 5f0c2c4e-4b8a-4a61-9bb4-0c2de6a91f10 "$T_TMP/state/good.tsv"
kill -TERM "$pid_furrow_collector_service" "$pid_furrow_enrich_service"
wait "$pid_furrow_collector_service"
eq "the collector stops with 0" 0 $?
wait "$pid_furrow_enrich_service"
eq "enrich stops with 0" 0 $?
# ---- the user's schemas: enrich and inspect resolve through the folder iglu-server writes ----
iglu_dir=$(flag_values "$units/furrow-iglu-server.service" --dir)
res=$(flag_values "$units/furrow-enrich.service" --resolver)
eq "enrich and inspect use one resolver" "$res" "$(flag_values "$units/furrow-inspect.service" --resolver)"
eq "its embedded registry is iglu-server's folder" "$iglu_dir" \
    "$(jq -r '.data.repositories[] | select(.connection.embedded) | .connection.embedded.path' \
        "$units/${res##*/}")"
done_testing
