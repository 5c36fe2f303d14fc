#!/usr/bin/env bash
# fifo-setup.sh: start, stop and watch the furrow pipeline on one machine (fifo-setup.sh(1)).
#
# The stages are joined by durable line logs in the data directory (common/linelog.h), not by
# pipes: a writer appends whole lines, a reader commits the offset it has handed on, so any
# stage can die at any moment and its successor resumes where it stopped.
#
#   collector ──> raw.log ──> enrich ──> good.tsv ──> es-sink (good index), s3-sink (enriched/)
#       │                       │
#       └──────────> bad.json <─┘ ──> es-sink (bad index), s3-sink (bad/)
#
# With FURROW_KAFKA_BROKERS set, Kafka topics take the logs' places (furrow-raw, furrow-enriched,
# furrow-bad, and furrow-pii for the PII enrichment's events, unless FURROW_KAFKA_TOPIC_RAW /
# _ENRICHED / _BAD / _PII say otherwise): the same graph,
# with the consumer groups' offsets kept by Kafka, and no data files. With FURROW_KINESIS_REGION
# (or FURROW_KINESIS_ENDPOINT) set, Kinesis streams take them (the same names, or
# FURROW_KINESIS_STREAM_RAW / _ENRICHED / _BAD / _PII), each group's leases and checkpoints in the
# DynamoDB table named after the group.
#
# `start` starts the readers before the writers, each stage in its own session (a terminal's
# Ctrl-C reaches only this script), waits for the collector's /health and stays in the
# foreground supervising: no death goes unnoticed (wait -n wakes it, and a sweep of /proc every
# second catches what wait -n did not report), a failed stage is restarted within a budget, and
# SIGTERM, SIGINT or SIGHUP stop the pipeline in order: the collector first, then each reader
# once its consumer group has committed the end of its log. `stop` asks the supervisor for that
# (or does it itself when the supervisor is gone); `status` shows the stages, their counters and
# each group's backlog.
#
# Settings come from the environment or from --config FILE (shell assignments, NAME=value);
# fifo-setup.sh(1) lists them all.
set -u

prog=fifo-setup.sh
version=0.1.0

die() { echo "$prog: $1" >&2; exit "${2:-70}"; }
say() { printf '%s: %(%Y-%m-%dT%H:%M:%S)T %s\n' "$prog" -1 "$*" >&2; }

usage() {
	cat <<EOF
usage: $prog [--config FILE] start|stop|status
       $prog -h | --help | -V | --version
EOF
}

cmd=""
config=""
while [ $# -gt 0 ]; do
	case "$1" in
	--config) [ $# -ge 2 ] || { usage >&2; exit 64; }; config=$2; shift 2 ;;
	--config=*) config=${1#--config=}; shift ;;
	-h|--help) usage; exit 0 ;;
	-V|--version) echo "$prog $version"; exit 0 ;;
	start|stop|status) [ -z "$cmd" ] || { usage >&2; exit 64; }; cmd=$1; shift ;;
	*) usage >&2; exit 64 ;;
	esac
done
[ -n "$cmd" ] || { usage >&2; exit 64; }
# wait -n -p (bash 5.1) names the child that ended.
[ "${BASH_VERSINFO[0]}${BASH_VERSINFO[1]}" -ge 51 ] 2>/dev/null ||
	die "bash 5.1 or later is needed (this is $BASH_VERSION)" 69

if [ -n "$config" ]; then
	[ -r "$config" ] || die "$config: cannot read configuration" 66
	# shellcheck disable=SC1090
	set -a; . "$config" || die "$config: invalid configuration" 78; set +a
fi

# Where this launcher lives decides where the rest is: the source tree (bin/, schemas/,
# enrichments/ beside it) or an installation (PREFIX/bin beside it, PREFIX/share/furrow).
here=$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")
if [ -f "$here/Makefile" ] && [ -d "$here/schemas" ]; then
	share=$here bin_dir=$here/bin
else
	share=$(cd "$here/../share/furrow" 2>/dev/null && pwd) || share=""
	bin_dir=$here
fi

FURROW_PORT=${FURROW_PORT:-8080}
FURROW_BIND=${FURROW_BIND:-0.0.0.0}
FURROW_TLS_CERT=${FURROW_TLS_CERT:-}
FURROW_TLS_KEY=${FURROW_TLS_KEY:-}
FURROW_TLS_PORT=${FURROW_TLS_PORT:-8443}
FURROW_DATA_DIR=${FURROW_DATA_DIR:-$PWD/furrow-data}
FURROW_RUN_DIR=${FURROW_RUN_DIR:-$FURROW_DATA_DIR/run}
FURROW_ES_URL=${FURROW_ES_URL:-}
FURROW_S3_BUCKET=${FURROW_S3_BUCKET:-}
FURROW_S3_ENDPOINT=${FURROW_S3_ENDPOINT:-}
FURROW_S3_REGION=${FURROW_S3_REGION:-us-east-1}
FURROW_S3_PREFIX=${FURROW_S3_PREFIX:-}
FURROW_PG_URL=${FURROW_PG_URL:-}
FURROW_RESOLVER=${FURROW_RESOLVER:-}
FURROW_SCHEMAS=${FURROW_SCHEMAS:-}
FURROW_ENRICHMENTS=${FURROW_ENRICHMENTS:-}
FURROW_KEEP_FILES=${FURROW_KEEP_FILES:-0}
FURROW_RESTART=${FURROW_RESTART:-on-failure}
FURROW_RESTART_MAX=${FURROW_RESTART_MAX:-5}
FURROW_RESTART_STABLE=${FURROW_RESTART_STABLE:-60}
FURROW_START_TIMEOUT=${FURROW_START_TIMEOUT:-60}
FURROW_STOP_TIMEOUT=${FURROW_STOP_TIMEOUT:-60}
FURROW_STATS_INTERVAL=${FURROW_STATS_INTERVAL:-10}
FURROW_INSPECT_PORT=${FURROW_INSPECT_PORT:-9090}
FURROW_INSPECT_BIND=${FURROW_INSPECT_BIND:-127.0.0.1}
FURROW_IGLU_PORT=${FURROW_IGLU_PORT:-8081}
FURROW_IGLU_BIND=${FURROW_IGLU_BIND:-127.0.0.1}
FURROW_KAFKA_BROKERS=${FURROW_KAFKA_BROKERS:-}
FURROW_KAFKA_PROPERTIES=${FURROW_KAFKA_PROPERTIES:-}
FURROW_KAFKA_TOPIC_RAW=${FURROW_KAFKA_TOPIC_RAW:-furrow-raw}
FURROW_KAFKA_TOPIC_ENRICHED=${FURROW_KAFKA_TOPIC_ENRICHED:-furrow-enriched}
FURROW_KAFKA_TOPIC_BAD=${FURROW_KAFKA_TOPIC_BAD:-furrow-bad}
FURROW_KAFKA_TOPIC_PII=${FURROW_KAFKA_TOPIC_PII:-furrow-pii}
FURROW_KINESIS_REGION=${FURROW_KINESIS_REGION:-}
FURROW_KINESIS_ENDPOINT=${FURROW_KINESIS_ENDPOINT:-}
FURROW_DYNAMODB_ENDPOINT=${FURROW_DYNAMODB_ENDPOINT:-}
FURROW_KINESIS_STREAM_RAW=${FURROW_KINESIS_STREAM_RAW:-furrow-raw}
FURROW_KINESIS_STREAM_ENRICHED=${FURROW_KINESIS_STREAM_ENRICHED:-furrow-enriched}
FURROW_KINESIS_STREAM_BAD=${FURROW_KINESIS_STREAM_BAD:-furrow-bad}
FURROW_KINESIS_STREAM_PII=${FURROW_KINESIS_STREAM_PII:-furrow-pii}
FURROW_METRICS_PORT=${FURROW_METRICS_PORT:-}
FURROW_METRICS_BIND=${FURROW_METRICS_BIND:-127.0.0.1}
if [ -z "$FURROW_ENRICHMENTS" ]; then
	FURROW_ENRICHMENTS=none
	[ -n "$share" ] && [ -d "$share/enrichments/default" ] && FURROW_ENRICHMENTS=$share/enrichments/default
fi
# The embedded Iglu registry that belongs with this launcher, wherever the executables are.
[ -n "$FURROW_SCHEMAS" ] || { [ -n "$share" ] && [ -d "$share/schemas" ] && FURROW_SCHEMAS=$share/schemas; }
if [ -z "${FURROW_BIN:-}" ]; then
	if [ -x "$bin_dir/collector" ]; then FURROW_BIN=$bin_dir; else FURROW_BIN=""; fi
fi

case "$FURROW_RESTART" in no|on-failure) ;; *) die "FURROW_RESTART: no or on-failure, not $FURROW_RESTART" 78 ;; esac
case "$FURROW_KEEP_FILES" in 0|1) ;; *) die "FURROW_KEEP_FILES: 0 or 1, not $FURROW_KEEP_FILES" 78 ;; esac
for v in FURROW_PORT FURROW_TLS_PORT FURROW_INSPECT_PORT FURROW_IGLU_PORT FURROW_RESTART_MAX FURROW_RESTART_STABLE FURROW_START_TIMEOUT \
	FURROW_STOP_TIMEOUT FURROW_STATS_INTERVAL; do
	[[ ${!v} =~ ^[0-9]{1,9}$ ]] || die "$v: not a number: ${!v}" 78
done
if [ -n "$FURROW_METRICS_PORT" ]; then
	[[ $FURROW_METRICS_PORT =~ ^[0-9]{1,5}$ ]] && [ "$FURROW_METRICS_PORT" -ge 1 ] &&
		[ "$FURROW_METRICS_PORT" -le 65526 ] ||
		die "FURROW_METRICS_PORT: a port from 1 to 65526, not $FURROW_METRICS_PORT" 78
fi

for v in FURROW_KAFKA_TOPIC_RAW FURROW_KAFKA_TOPIC_ENRICHED FURROW_KAFKA_TOPIC_BAD; do
	[[ ${!v} =~ ^[A-Za-z0-9._-]{1,249}$ ]] || die "$v: not a topic name: ${!v}" 78
done
if [ -n "$FURROW_KAFKA_BROKERS" ]; then
	# the stages read both from their environment: the properties file may hold secrets, and
	# neither ever goes into argv
	export FURROW_KAFKA_BROKERS
	[ -z "$FURROW_KAFKA_PROPERTIES" ] || export FURROW_KAFKA_PROPERTIES
fi
for v in FURROW_KINESIS_STREAM_RAW FURROW_KINESIS_STREAM_ENRICHED FURROW_KINESIS_STREAM_BAD; do
	[[ ${!v} =~ ^[A-Za-z0-9._-]{1,128}$ ]] || die "$v: not a stream name: ${!v}" 78
done
kinesis=
if [ -n "$FURROW_KINESIS_REGION$FURROW_KINESIS_ENDPOINT" ]; then
	[ -z "$FURROW_KAFKA_BROKERS" ] || die "FURROW_KAFKA_BROKERS and FURROW_KINESIS_*: one or the other" 78
	kinesis=1
	# the stages read these from their environment, and AWS credentials from theirs (or a
	# profile file): never argv
	for v in FURROW_KINESIS_REGION FURROW_KINESIS_ENDPOINT FURROW_DYNAMODB_ENDPOINT; do
		[ -z "${!v}" ] || export "${v?}"
	done
fi

# HTTPS on the collector: both files or neither; the collector itself checks that they are a
# certificate chain and its key (exit 78), and reloads them on SIGHUP to its own pid.
if [ -n "$FURROW_TLS_CERT$FURROW_TLS_KEY" ]; then
	[ -n "$FURROW_TLS_CERT" ] && [ -n "$FURROW_TLS_KEY" ] ||
		die "FURROW_TLS_CERT and FURROW_TLS_KEY go together" 78
	for v in FURROW_TLS_CERT FURROW_TLS_KEY; do
		case "${!v}" in /*) ;; *) printf -v "$v" '%s' "$PWD/${!v}" ;; esac
		[ -r "${!v}" ] || die "$v: cannot read ${!v}" 78
	done
fi
case "$FURROW_DATA_DIR" in /*) ;; *) FURROW_DATA_DIR=$PWD/$FURROW_DATA_DIR ;; esac
case "$FURROW_RUN_DIR" in /*) ;; *) FURROW_RUN_DIR=$PWD/$FURROW_RUN_DIR ;; esac
data=$FURROW_DATA_DIR
run=$FURROW_RUN_DIR
supervisor_pid_file=$run/fifo-setup.pid

local_addr() { case "$1" in 0.0.0.0|'') echo 127.0.0.1 ;; ::) echo ::1 ;; *) echo "$1" ;; esac; }
exe() {
	if [ -n "$FURROW_BIN" ]; then echo "$FURROW_BIN/$1"; else command -v "$1" || echo "$1"; fi
}

# ---- processes ----

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t%???} )); }

# proc_fields PID: the fields of /proc/PID/stat after "pid (comm)" in the array f
# (f[0] state, f[1] ppid, f[3] session, f[19] start time), without forking.
proc_fields() {
	local line
	f=()
	{ read -r line <"/proc/$1/stat"; } 2>/dev/null || return 1
	read -r -a f <<<"${line##*) }"
}

# proc_live PID [STARTTIME]: the process exists, is not a zombie (a zombie answers kill -0 until
# its parent reaps it) and, given STARTTIME, is the very process that started then.
proc_live() {
	local -a f
	[ -n "$1" ] && proc_fields "$1" || return 1
	case "${f[0]}" in Z|X|x) return 1 ;; esac
	[ -z "${2:-}" ] || [ "${f[19]}" = "$2" ]
}

proc_starttime() { local -a f; proc_fields "$1" && echo "${f[19]}"; }

# supervisor_pid: the running supervisor's pid, if there is one.
supervisor_pid() {
	local p
	{ read -r p <"$supervisor_pid_file"; } 2>/dev/null || return 1
	proc_live "$p" || return 1
	grep -qa fifo-setup "/proc/$p/cmdline" 2>/dev/null || return 1
	echo "$p"
}

# stage_pid NAME: the pid of stage NAME if it runs. Each stage leads its own session, so a pid
# that was reused by another process does not pass for the stage.
stage_pid() {
	local p
	local -a f
	{ read -r p <"$run/$1.pid"; } 2>/dev/null || return 1
	proc_live "$p" && proc_fields "$p" && [ "${f[3]}" = "$p" ] && echo "$p"
}

# ---- logs and consumer groups ----

# log_end LOG: the offset after its last whole line (a fragment left by a killed writer is not
# counted: the next writer cuts it off).
log_end() {
	local size tailsize
	size=$(stat -c %s "$1" 2>/dev/null) || { echo 0; return; }
	if [ "$size" -gt 0 ] && [ "$(tail -c 1 "$1" | od -An -tx1 | tr -d ' ')" != 0a ]; then
		tailsize=$(tail -n 1 "$1" | wc -c)
		size=$((size - tailsize))
	fi
	echo "$size"
}

# committed LOG GROUP: the group's committed offset (-1 when the group has none yet).
committed() {
	local off
	{ read -r off <"$1.offsets/$2"; } 2>/dev/null && [[ $off =~ ^[0-9]+$ ]] || { echo -1; return; }
	echo $((10#$off))
}

# The stage table written by `start`: one line per stage in stopping order (upstream first):
# NAME, the log it reads and its consumer group ("-" for none).
read_stage_table() {
	local name log group metrics
	stages=()
	declare -gA src_log=() src_group=() metrics_at=()
	[ -r "$run/stages" ] || return 1
	while IFS=$'\t' read -r name log group metrics; do
		stages+=("$name")
		src_log[$name]=$log
		src_group[$name]=$group
		metrics_at[$name]=${metrics:--}
	done <"$run/stages"
}

# ---- status ----

# A stage's counter line (common/log.c format): enrich's "lines N, empty N, good N, bad N", the
# collector's "stats: ...", the sinks' "...: in=N ..." and "...: lines_in=N ...".
counters_re='^[a-z0-9-]+: [0-9T:.-]+Z info: (stats|lines [0-9]+, empty|[a-z ]*: (in|lines_in)=[0-9])'

# health_text HOST:PORT: "ok", "UNHEALTHY (why)" or "no answer".
health_text() {
	local body code
	if ! command -v curl >/dev/null 2>&1; then echo "(curl needed)"; return; fi
	body=$(curl -sS -m 2 -w '\n%{http_code}' "http://$1/health" 2>/dev/null) || { echo "no answer"; return; }
	code=${body##*$'\n'}
	body=${body%$'\n'*}
	case "$code" in
	200) echo ok ;;
	*) echo "UNHEALTHY ($code: $(printf '%s' "$body" | head -n 1 | cut -c1-200))" ;;
	esac
}

do_status() {
	local sup rc=0 name p state last log group end off
	if ! read_stage_table; then echo "not running (no pipeline in $run)"; return 3; fi
	if sup=$(supervisor_pid); then echo "supervisor       pid $sup running"
	else echo "supervisor       not running"; rc=3; fi
	for name in "${stages[@]}"; do
		if p=$(stage_pid "$name"); then state=running
		else state=exited rc=3; { read -r p <"$run/$name.pid"; } 2>/dev/null || p=-; fi
		last=$(grep -E "$counters_re" "$run/$name.log" 2>/dev/null | tail -n 1 | sed 's/^.* info: //')
		printf '%-16s pid %-8s %-8s %s\n' "$name" "$p" "$state" "$last"
	done
	# FURROW_METRICS_PORT: where each stage serves /metrics, and what its /health says
	for name in "${stages[@]}"; do
		[ "${metrics_at[$name]}" != - ] || continue
		printf 'metrics          %-16s http://%s/metrics  health: %s\n' "$name" \
			"${metrics_at[$name]}" "$(health_text "${metrics_at[$name]}")"
	done
	for name in "${stages[@]}"; do
		log=${src_log[$name]} group=${src_group[$name]}
		[ "$group" != - ] || continue
		case "$log" in kafka:*)
			printf 'backlog          %s group %s: in Kafka (kafka-consumer-groups.sh --describe --group %s)\n' \
				"$log" "$group" "$group"
			continue ;;
		kinesis:*)
			printf 'backlog          %s group %s: checkpoints in the DynamoDB table %s\n' \
				"$log" "$group" "$group"
			continue ;;
		esac
		end=$(log_end "$log")
		off=$(committed "$log" "$group")
		if [ "$off" -lt 0 ]; then
			printf 'backlog          %s group %s: %s bytes (not started yet)\n' "$log" "$group" "$end"
		else
			printf 'backlog          %s group %s: %s bytes\n' "$log" "$group" \
				"$(( end > off ? end - off : 0 ))"
		fi
	done
	return $rc
}

# ---- stopping in order ----

# Run by the supervisor (its own children: their exit status is known) or by `stop` when the
# supervisor is gone (stages left behind: their status is not). Sets stop_status.
stop_status=0
supervising=0
declare -A pid=() tstart=()

# reap NAME PID: wait for a stage that has ended; prints its exit status ("?" when unknown).
reap() {
	local st=?
	if [ "$supervising" = 1 ] && ! proc_live "$2"; then
		wait "$2" 2>/dev/null
		st=$?
		[ "$st" != 127 ] || st=?
	fi
	echo "$st"
}

# describe STATUS: how a stage ended, from its wait status.
describe() {
	if [ "$1" = "?" ]; then echo "ended"
	elif [ "$1" -gt 128 ]; then echo "was killed by signal $(( $1 - 128 )) ($(kill -l "$1" 2>/dev/null))"
	else echo "exited with status $1"; fi
}

# stop_stage NAME PID: SIGTERM, then SIGKILL if it has not ended within FURROW_STOP_TIMEOUT.
# Nothing is lost by the SIGKILL: what the stage had not committed is read again next time.
stop_stage() {
	local name=$1 p=$2 deadline st
	kill -TERM "$p" 2>/dev/null
	deadline=$(( $(now_ms) + FURROW_STOP_TIMEOUT * 1000 ))
	while proc_live "$p" "${tstart[$name]:-}"; do
		if [ "$(now_ms)" -ge "$deadline" ]; then
			say "ERROR: $name (pid $p) did not stop within ${FURROW_STOP_TIMEOUT}s of SIGTERM: SIGKILL"
			kill -KILL "$p" 2>/dev/null
			stop_status=1
			deadline=$(( $(now_ms) + 10000 ))
		fi
		sleep 0.05
	done
	st=$(reap "$name" "$p")
	case "$st" in
	0|\?) say "$name stopped" ;;
	*) say "ERROR: $name $(describe "$st") when asked to stop"; stop_status=1 ;;
	esac
}

# wait_drained NAME PID: wait until the stage's group has committed the end of its log.
wait_drained() {
	local name=$1 p=$2 log=${src_log[$1]} group=${src_group[$1]} deadline end off
	# a topic keeps what was not read, and the group's offsets, for the next start
	case "$log" in kafka:*|kinesis:*) return 0 ;; esac
	deadline=$(( $(now_ms) + FURROW_STOP_TIMEOUT * 1000 ))
	while :; do
		end=$(log_end "$log")
		off=$(committed "$log" "$group")
		[ "$off" -ge 0 ] || off=0        # the group has not opened the log yet
		[ "$off" -ge "$end" ] && return 0
		proc_live "$p" "${tstart[$name]:-}" || return 1
		if [ "$(now_ms)" -ge "$deadline" ]; then
			say "$name has not read all of $log within ${FURROW_STOP_TIMEOUT}s: the $((end - off)) bytes left are read at the next start"
			return 1
		fi
		sleep 0.1
	done
}

stop_pipeline() {
	local name p
	for name in "${stages[@]}"; do
		if [ "$supervising" = 1 ]; then
			p=${pid[$name]:-}
			proc_live "$p" "${tstart[$name]:-}" || continue
		else
			p=$(stage_pid "$name") || continue
		fi
		[ "${src_group[$name]}" = - ] || wait_drained "$name" "$p"
		stop_stage "$name" "$p"
	done
}

do_stop() {
	local sup st deadline n
	if ! sup=$(supervisor_pid); then
		read_stage_table || die "not running (no pipeline in $run)" 69
		local left=""
		for n in "${stages[@]}"; do stage_pid "$n" >/dev/null && left="$left $n"; done
		[ -n "$left" ] || die "not running (no supervisor in $run)" 69
		say "the supervisor is gone; stopping what it left running:$left"
		stop_pipeline
		return "$stop_status"
	fi
	kill -TERM "$sup"
	# Each stage may take FURROW_STOP_TIMEOUT to drain and as long again to stop.
	read_stage_table || stages=(x)
	deadline=$(( $(now_ms) + (FURROW_STOP_TIMEOUT * 2 * ${#stages[@]} + 30) * 1000 ))
	while proc_live "$sup"; do
		[ "$(now_ms)" -lt "$deadline" ] || die "the supervisor (pid $sup) did not stop in time" 70
		sleep 0.05
	done
	{ read -r st <"$run/exit-status"; } 2>/dev/null || st=70
	[ "$st" = 0 ] || echo "$prog: the pipeline stopped with status $st (see $run/*.log)" >&2
	return "$st"
}

case "$cmd" in
status) do_status; exit $? ;;
stop) do_stop; exit $? ;;
esac

# ---- start: the stage table ----

for s in collector enrich inspect iglu-server; do
	[ -x "$(exe $s)" ] || die "$(exe $s): not found or not executable (run make first)" 69
done
[ -z "$FURROW_ES_URL" ] || [ -x "$(exe es-sink)" ] || die "$(exe es-sink): not found" 69
[ -z "$FURROW_S3_BUCKET" ] || [ -x "$(exe s3-sink)" ] || die "$(exe s3-sink): not found" 69
[ -z "$FURROW_PG_URL" ] || [ -x "$(exe pg-sink)" ] || die "$(exe pg-sink): not found" 69
command -v setsid >/dev/null || die "setsid (util-linux) not found" 69

mkdir -p "$data" "$run" || die "$run: cannot create the data and run directories" 74
if sup=$(supervisor_pid); then die "already running (supervisor pid $sup, run directory $run)" 69; fi
if read_stage_table; then
	left=""
	for n in "${stages[@]}"; do stage_pid "$n" >/dev/null && left="$left $n"; done
	[ -z "$left" ] || die "stages of an earlier run still running:$left (run: $prog stop)" 69
fi
rm -f "$run"/*.pid "$run/ready" "$run/stages"
echo $$ >"$supervisor_pid_file"
# 70 until the supervisor writes its own status over it in place, which needs no new disk
# space: the data directory may be on a full disk by then.
echo "70 " >"$run/exit-status"

declare -a stages=()
declare -A argv=() src_log=() src_group=() metrics_at=() launched_ms=() restarts=() restart_ms=()

# add_stage NAME LOG GROUP COMMAND ARGS...: a stage, in stopping order (upstream first); LOG and
# GROUP are the log it reads and its consumer group ("-": it reads none, or without a group).
add_stage() {
	local name=$1 log=$2 group=$3
	shift 3
	stages+=("$name")
	src_log[$name]=$log
	src_group[$name]=$group
	argv[$name]=$(printf '%q ' "$@")
	metrics_at[$name]=${stage_metrics:--}
	printf '%s\t%s\t%s\t%s\n' "$name" "$log" "$group" "${metrics_at[$name]}" >>"$run/stages"
	stage_metrics=""
}

# FURROW_METRICS_PORT: every stage serves /metrics and /health on its own port, base + a fixed
# offset per stage (fifo-setup.sh(1)), the collector's at the base itself.
declare -A metrics_offset=([collector]=0 [enrich]=1 [es-sink-good]=2 [es-sink-bad]=3 [s3-sink-good]=4
	[s3-sink-bad]=5 [pg-sink-good]=6 [pg-sink-bad]=7 [inspect]=8
	[iglu-server]=9)
stage_metrics=""
# metrics_for NAME: the flags for NAME into mflags (none without FURROW_METRICS_PORT), and
# stage_metrics for the stage table.
metrics_for() {
	mflags=()
	[ -n "$FURROW_METRICS_PORT" ] || return 0
	[ -n "${metrics_offset[$1]:-}" ] || return 0
	local port=$(( FURROW_METRICS_PORT + metrics_offset[$1] )) b l
	b=$FURROW_METRICS_BIND l=$(local_addr "$FURROW_METRICS_BIND")
	[[ $b == *:* ]] && b="[$b]"
	[[ $l == *:* ]] && l="[$l]"
	mflags=(--metrics-listen "$b:$port")
	stage_metrics=$l:$port
}

# Extra flags, split on white space as documented.
read -r -a collector_args <<<"${FURROW_COLLECTOR_ARGS:-}"
read -r -a enrich_args <<<"${FURROW_ENRICH_ARGS:-}"
read -r -a es_args <<<"${FURROW_ES_ARGS:-}"
read -r -a s3_args <<<"${FURROW_S3_ARGS:-}"
read -r -a pg_args <<<"${FURROW_PG_ARGS:-}"

# The data directory (fifo-setup.sh(1), FILES): raw.log holds what the collector answered 200
# for and enrich has not read yet; good.tsv and bad.json are the pipeline's output, kept whole
# unless sinks read them (then reclaimed behind the sinks, or kept with FURROW_KEEP_FILES=1).
raw=$data/raw.log good=$data/good.tsv bad=$data/bad.json sink_bad=$data/sink-bad.json
reclaim=(--reclaim)
[ "$FURROW_KEEP_FILES" = 1 ] && reclaim=()
stats=(--stats-interval "$FURROW_STATS_INTERVAL")
# The streams between the stages: the logs, or Kafka topics (then what the collector's drain
# could not hand to the broker at a stop is spilled to the data directory and sent first at the
# next start).
# On a topic or a stream, enrich also writes the PII enrichment's pii_transformation events
# (enrich(1) --pii) to furrow-pii, as Snowplow's enrich-kafka and enrich-kinesis write them to
# their pii output, when an enrichment configuration has the PII enrichment's emitEvent on (so
# a pipeline without it needs no such topic or stream); the logs have no reader for them.
pii_events=0
if [ "$FURROW_ENRICHMENTS" != none ]; then
	for f in "$FURROW_ENRICHMENTS"/*.json; do
		[ -f "$f" ] && grep -q pii_enrichment_config "$f" &&
			grep -qE '"emitEvent"[[:space:]]*:[[:space:]]*true' "$f" && pii_events=1
	done
fi
raw_s=log:$raw good_s=log:$good bad_s=log:$bad spill=() pii=()
if [ -n "$FURROW_KAFKA_BROKERS" ]; then
	raw=kafka:$FURROW_KAFKA_TOPIC_RAW good=kafka:$FURROW_KAFKA_TOPIC_ENRICHED
	bad=kafka:$FURROW_KAFKA_TOPIC_BAD
	raw_s=$raw good_s=$good bad_s=$bad reclaim=() spill=(--spill "$data/collector.spill")
	[ "$pii_events" = 0 ] || pii=(--pii "kafka:$FURROW_KAFKA_TOPIC_PII")
elif [ -n "$kinesis" ]; then
	raw=kinesis:$FURROW_KINESIS_STREAM_RAW good=kinesis:$FURROW_KINESIS_STREAM_ENRICHED
	bad=kinesis:$FURROW_KINESIS_STREAM_BAD
	raw_s=$raw good_s=$good bad_s=$bad reclaim=() spill=(--spill "$data/collector.spill")
	[ "$pii_events" = 0 ] || pii=(--pii "kinesis:$FURROW_KINESIS_STREAM_PII")
fi

tls=()
[ -n "$FURROW_TLS_CERT" ] &&
	tls=(--tls-cert "$FURROW_TLS_CERT" --tls-key "$FURROW_TLS_KEY" --tls-port "$FURROW_TLS_PORT")
metrics_for collector
add_stage collector - - "$(exe collector)" "${mflags[@]}" --port "$FURROW_PORT" --bind "$FURROW_BIND" \
	"${tls[@]}" --output "$raw_s" --bad "$bad_s" "${spill[@]}" "${stats[@]}" "${collector_args[@]}"

# iglu-server: the user's own schemas, in data/iglu (a plain Iglu folder: vendor/name/format/
# version files, fit for git). enrich reads that folder directly as an embedded registry ahead of
# furrow's own, and looks again on a miss, so a schema pushed while the pipeline runs is used by
# the next event (iglu-server(1)). The super key comes from FURROW_IGLU_API_KEY through the
# environment, or is generated into the data directory; it is never in argv or a log.
iglu_dir=$data/iglu
mkdir -p "$iglu_dir" || die "$iglu_dir: cannot create" 74
iglu_flags=(-d "$iglu_dir" -p "$FURROW_IGLU_PORT" --bind "$FURROW_IGLU_BIND" --allow-patches)
if [ -n "${FURROW_IGLU_API_KEY:-}" ]; then
	export IGLU_SUPER_API_KEY=$FURROW_IGLU_API_KEY
	iglu_key_note="the super key is FURROW_IGLU_API_KEY"
else
	unset IGLU_SUPER_API_KEY
	iglu_flags+=(--super-key-file "$data/iglu-super.key" --create-super-key)
	iglu_key_note="the super key is in $data/iglu-super.key"
fi
# The resolver enrich and inspect use, unless the user gave one: the iglu-server folder first
# (priority -1; furrow's embedded registry, --schemas, is priority 0), a short cache so that a
# patched schema is seen within a second.
resolver=$FURROW_RESOLVER
if [ -z "$resolver" ]; then
	resolver=$run/resolver.json
	iglu_dir_json=${iglu_dir//\\/\\\\}
	iglu_dir_json=${iglu_dir_json//\"/\\\"}
	printf '%s\n' '{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",' \
		' "data":{"cacheSize":500,"cacheTtl":1,"repositories":[' \
		'  {"name":"iglu-server","priority":-1,"vendorPrefixes":[],' \
		"   \"connection\":{\"embedded\":{\"path\":\"$iglu_dir_json\"}}}]}}" >"$resolver" ||
		die "$resolver: cannot write" 74
fi

enrich_flags=(--resolver "$resolver")
[ -z "$FURROW_SCHEMAS" ] || enrich_flags+=(--schemas "$FURROW_SCHEMAS")
[ "$FURROW_ENRICHMENTS" = none ] || enrich_flags+=(--enrichments "$FURROW_ENRICHMENTS")
metrics_for enrich
add_stage enrich "$raw" enrich "$(exe enrich)" "${mflags[@]}" --source "$raw_s" --group enrich "${reclaim[@]}" \
	--output "$good_s" --bad "$bad_s" "${pii[@]}" "${enrich_flags[@]}" "${stats[@]}" "${enrich_args[@]}"

metrics_for iglu-server
add_stage iglu-server - - "$(exe iglu-server)" "${mflags[@]}" "${iglu_flags[@]}" "${stats[@]}"

if [ -n "$FURROW_ES_URL" ]; then
	metrics_for es-sink-good
	add_stage es-sink-good "$good" es-sink-good "$(exe es-sink)" "${mflags[@]}" --url "$FURROW_ES_URL" \
		--input enriched --setup --source "$good_s" --group es-sink-good "${reclaim[@]}" \
		--bad "$sink_bad" "${stats[@]}" "${es_args[@]}"
	metrics_for es-sink-bad
	add_stage es-sink-bad "$bad" es-sink-bad "$(exe es-sink)" "${mflags[@]}" --url "$FURROW_ES_URL" \
		--input bad --setup --source "$bad_s" --group es-sink-bad "${reclaim[@]}" \
		--bad "$sink_bad" "${stats[@]}" "${es_args[@]}"
fi
# PostgreSQL: tables built from the schemas enrich validated against (the same resolver); the
# password comes from PGPASSWORD or ~/.pgpass, never the URL (pg-sink refuses one that has it).
if [ -n "$FURROW_PG_URL" ]; then
	pg_res=(--resolver "$resolver")
	[ -z "$FURROW_SCHEMAS" ] || pg_res+=(--schemas "$FURROW_SCHEMAS")
	metrics_for pg-sink-good
	add_stage pg-sink-good "$good" pg-sink-good "$(exe pg-sink)" "${mflags[@]}" --url "$FURROW_PG_URL" \
		--input enriched --setup --source "$good_s" --group pg-sink-good "${reclaim[@]}" \
		"${pg_res[@]}" --bad "$sink_bad" "${stats[@]}" "${pg_args[@]}"
	metrics_for pg-sink-bad
	add_stage pg-sink-bad "$bad" pg-sink-bad "$(exe pg-sink)" "${mflags[@]}" --url "$FURROW_PG_URL" \
		--input bad --setup --source "$bad_s" --group pg-sink-bad "${reclaim[@]}" \
		--bad "$sink_bad" "${stats[@]}" "${pg_args[@]}"
fi
if [ -n "$FURROW_S3_BUCKET" ]; then
	mkdir -p "$data/spool/enriched" "$data/spool/bad" || die "$data/spool: cannot create" 74
	s3common=(--bucket "$FURROW_S3_BUCKET" --region "$FURROW_S3_REGION")
	[ -z "$FURROW_S3_ENDPOINT" ] || s3common+=(--endpoint "$FURROW_S3_ENDPOINT" --path-style)
	metrics_for s3-sink-good
	add_stage s3-sink-good "$good" s3-sink-good "$(exe s3-sink)" "${mflags[@]}" "${s3common[@]}" --input enriched \
		--prefix "${FURROW_S3_PREFIX}enriched/" --spool "$data/spool/enriched" \
		--source "$good_s" --group s3-sink-good "${reclaim[@]}" \
		--bad "$sink_bad" "${stats[@]}" "${s3_args[@]}"
	metrics_for s3-sink-bad
	add_stage s3-sink-bad "$bad" s3-sink-bad "$(exe s3-sink)" "${mflags[@]}" "${s3common[@]}" --input bad \
		--partition "${FURROW_S3_PREFIX}bad/{vendor}.{schema}" --spool "$data/spool/bad" \
		--source "$bad_s" --group s3-sink-bad "${reclaim[@]}" \
		--bad "$sink_bad" "${stats[@]}" "${s3_args[@]}"
fi

# inspect: Snowplow Micro's API and the UI over good.tsv and bad.json (read without a group, so
# it holds back no reclaiming, and it stops last). Local by default: events may hold personal
# data; on another address it asks for a token (FURROW_INSPECT_TOKEN, else generated).
inspect_flags=(--bind "$FURROW_INSPECT_BIND" -p "$FURROW_INSPECT_PORT" --source "$good_s"
	--bad-source "$bad_s" --collector-url "http://localhost:$FURROW_PORT" --resolver "$resolver")
[ -z "$FURROW_SCHEMAS" ] || inspect_flags+=(--schemas "$FURROW_SCHEMAS")
case "$FURROW_INSPECT_BIND" in
127.*|::1|localhost) ;;
*)
	if [ -n "${FURROW_INSPECT_TOKEN:-}" ]; then
		export FURROW_INSPECT_TOKEN
		inspect_token_note="its token is FURROW_INSPECT_TOKEN"
	else
		if [ ! -s "$data/inspect.token" ]; then
			(umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data/inspect.token") ||
				die "$data/inspect.token: cannot write" 74
		fi
		inspect_flags+=(--token-file "$data/inspect.token")
		inspect_token_note="its token is in $data/inspect.token"
	fi
	;;
esac
metrics_for inspect
add_stage inspect - - "$(exe inspect)" "${mflags[@]}" "${inspect_flags[@]}" "${stats[@]}"

# ---- start: launching and supervising ----

# launch NAME: start the stage in its own session (setsid: a terminal's signals do not reach
# it), standard error appended to run/NAME.log.
launch() {
	local name=$1 p
	local -a c
	eval "c=(${argv[$name]})"
	setsid -- "${c[@]}" </dev/null >/dev/null 2>>"$run/$name.log" &
	p=$!
	pid[$name]=$p
	tstart[$name]=$(proc_starttime "$p") || tstart[$name]=gone
	launched_ms[$name]=$(now_ms)
	echo "$p" >"$run/$name.pid"
}

# Standard error may be a pipe whose reader a Ctrl-C has killed: a log line must not kill the
# supervisor halfway through stopping the pipeline.
trap '' PIPE
stop_requested=0      # a signal asked for a stop
failed=0              # a stage failed: the pipeline stops, and `start` exits 1
ticker=""
ticker_start=""
trap 'stop_requested=1' TERM INT HUP
trap '[ -z "$ticker" ] || kill "$ticker" 2>/dev/null' EXIT

finish() { # stop everything in order and exit
	[ "$failed" = 0 ] || stop_status=1
	say "stopping: the collector first, then each stage once it has read everything before it"
	stop_pipeline
	printf '%-3s\n' "$stop_status" 1<>"$run/exit-status" ||
		say "ERROR: cannot write $run/exit-status: \`stop' reports 70"
	rm -f "$supervisor_pid_file" "$run/ready"
	say "stopped (status $stop_status)"
	exit "$stop_status"
}

# died NAME STATUS: an unplanned end. Restart, or stop the pipeline in order.
died() {
	local name=$1 st=$2 n delay
	pid[$name]=""
	say "ERROR: $name $(describe "$st") without being asked to; its last log lines:"
	tail -n 5 "$run/$name.log" 2>/dev/null | sed 's/^/    /' >&2
	if [ "$starting" = 1 ]; then
		say "the pipeline is not ready yet: stopping it"
		failed=1
		return
	fi
	if [ "$FURROW_RESTART" = no ]; then
		say "FURROW_RESTART=no: stopping the pipeline (nothing is lost: the next start resumes)"
		failed=1
		return
	fi
	case "$st" in
	0) say "$name exited cleanly on its own: stopping the pipeline"; failed=1; return ;;
	64|78) say "$name: a usage or configuration error; restarting would not help"; failed=1; return ;;
	esac
	# The budget: FURROW_RESTART_MAX restarts in a row; a run of FURROW_RESTART_STABLE seconds
	# starts it afresh.
	n=${restarts[$name]:-0}
	(( $(now_ms) - launched_ms[$name] >= FURROW_RESTART_STABLE * 1000 )) && n=0
	if [ "$n" -ge "$FURROW_RESTART_MAX" ]; then
		say "ERROR: $name failed $n times in a row within ${FURROW_RESTART_STABLE}s of starting: giving up"
		failed=1
		return
	fi
	restarts[$name]=$((n + 1))
	delay=$(( n == 0 ? 0 : (n > 4 ? 5000 : 250 << n) ))
	restart_ms[$name]=$(( $(now_ms) + delay ))
	say "restarting $name in ${delay} ms (restart $((n + 1)) of at most $FURROW_RESTART_MAX in a row)"
}

# sweep: every stage that is no longer running and was not asked to stop has died. wait -n
# alone can miss a death (bash may consume the job's status change elsewhere), and kill -0
# cannot tell a zombie from a live process; /proc can.
sweep() {
	local name p st
	for name in "${stages[@]}"; do
		p=${pid[$name]:-}
		[ -n "$p" ] || continue
		proc_live "$p" "${tstart[$name]}" && continue
		st=$(reap "$name" "$p")
		died "$name" "$st"
	done
}

restart_due() {
	local name t=$(now_ms)
	for name in "${stages[@]}"; do
		[ -n "${restart_ms[$name]:-}" ] && [ "$t" -ge "${restart_ms[$name]}" ] || continue
		restart_ms[$name]=""
		launch "$name"
		say "restarted $name (pid ${pid[$name]})"
	done
}

# Readers before writers: a new consumer group exists before the first line is written.
supervising=1
starting=1
for (( i = ${#stages[@]} - 1; i >= 0; i-- )); do
	launch "${stages[i]}"
	say "started ${stages[i]} (pid ${pid[${stages[i]}]})"
done

# http_ok HOST PORT PATH: the server answers PATH with 200.
http_ok() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 1 "http://$1:$2$3" 2>/dev/null
	else
		(exec 3<>"/dev/tcp/$1/$2" && printf 'GET %s HTTP/1.0\r\n\r\n' "$3" >&3 &&
			head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
	fi
}
health_ok() {
	http_ok 127.0.0.1 "$FURROW_PORT" /health &&
		http_ok "$(local_addr "$FURROW_IGLU_BIND")" "$FURROW_IGLU_PORT" /api/meta/health &&
		http_ok "$(local_addr "$FURROW_INSPECT_BIND")" "$FURROW_INSPECT_PORT" /health
}
deadline=$(( $(now_ms) + FURROW_START_TIMEOUT * 1000 ))
until health_ok; do
	sweep
	[ "$stop_requested$failed" = 00 ] || finish
	if [ "$(now_ms)" -ge "$deadline" ]; then
		say "ERROR: the collector, iglu-server and inspect did not all answer their health checks within ${FURROW_START_TIMEOUT}s; see $run/*.log"
		failed=1
		finish
	fi
	sleep 0.1
done
outputs="good → $good_s, bad → $bad_s"
[ -z "$FURROW_ES_URL" ] || outputs="$outputs, Elasticsearch $FURROW_ES_URL"
[ -z "$FURROW_S3_BUCKET" ] || outputs="$outputs, s3://$FURROW_S3_BUCKET/$FURROW_S3_PREFIX"
[ -z "$FURROW_PG_URL" ] || outputs="$outputs, PostgreSQL"
https=""
[ -z "$FURROW_TLS_CERT" ] || https=", HTTPS on port $FURROW_TLS_PORT"
say "ready: collector on port $FURROW_PORT$https; $outputs"
say "inspect: http://$(local_addr "$FURROW_INSPECT_BIND"):$FURROW_INSPECT_PORT/micro/ui (Snowplow Micro's API under /micro/)${inspect_token_note:+; $inspect_token_note}"
say "iglu-server: http://$(local_addr "$FURROW_IGLU_BIND"):$FURROW_IGLU_PORT/api/schemas, schemas in $iglu_dir/schemas; $iglu_key_note"
echo ready >"$run/ready"
starting=0

while :; do
	[ "$stop_requested$failed" = 00 ] || finish
	sweep
	restart_due
	[ "$stop_requested$failed" = 00 ] || continue
	# The ticker bounds the wait, so that the sweep runs at least once a second.
	if [ -z "$ticker" ] || ! proc_live "$ticker" "$ticker_start"; then
		[ -z "$ticker" ] || wait "$ticker" 2>/dev/null
		sleep 1 &
		ticker=$!
		ticker_start=$(proc_starttime "$ticker")
	fi
	live=()
	for name in "${stages[@]}"; do [ -z "${pid[$name]:-}" ] || live+=("${pid[$name]}"); done
	wait -n "${live[@]}" "$ticker" 2>/dev/null
done
