#!/usr/bin/env bash
# fifo-setup.sh: start, stop and watch the furrow pipeline on one machine (fifo-setup(1)).
#
#   collector ──raw.fifo──> enrich ──enriched.fifo──> fan-out ──> es-sink (good) | s3-sink | good.tsv
#       │                     │
#       └─bad-collector.fifo──┴─bad-enrich.fifo──> merge ──> es-sink (bad) | s3-sink | bad.json
#
# `start` creates the run directory and one FIFO per writer, starts the readers before the
# writers, waits for the collector's /health and then stays in the foreground supervising.
# `stop` asks the supervisor to shut down in pipeline order (collector first, so every stage
# downstream sees EOF, drains and exits). `status` shows each stage, its pid and its counters.
#
# Settings come from the environment or from --config FILE (shell assignments, NAME=value):
#   FURROW_PORT (8080), FURROW_BIND (0.0.0.0), FURROW_DATA_DIR (./furrow-data),
#   FURROW_RUN_DIR ($FURROW_DATA_DIR/run), FURROW_ES_URL, FURROW_S3_BUCKET, FURROW_S3_ENDPOINT,
#   FURROW_S3_REGION (us-east-1), FURROW_S3_PREFIX, FURROW_RESOLVER, FURROW_ENRICHMENTS (the
#   repository's enrichments/default when present; "none" for no enrichments), FURROW_SCHEMAS,
#   FURROW_BIN (directory of the executables), FURROW_RESTART (no | on-failure),
#   FURROW_STOP_TIMEOUT (60 seconds), FURROW_STATS_INTERVAL (10), FURROW_COLLECTOR_ARGS,
#   FURROW_ENRICH_ARGS, FURROW_ES_ARGS, FURROW_S3_ARGS (extra flags, word-split).
set -u

prog=fifo-setup.sh
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

die() { echo "$prog: $*" >&2; exit "${2:-70}"; }
say() { echo "$prog: $(date -u +%Y-%m-%dT%H:%M:%SZ) $*" >&2; }

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
	-V|--version) echo "fifo-setup.sh 0.1.0"; exit 0 ;;
	start|stop|status) [ -z "$cmd" ] || { usage >&2; exit 64; }; cmd=$1; shift ;;
	*) usage >&2; exit 64 ;;
	esac
done
[ -n "$cmd" ] || { usage >&2; exit 64; }

if [ -n "$config" ]; then
	[ -r "$config" ] || die "$config: cannot read configuration" 66
	# shellcheck disable=SC1090
	set -a; . "$config" || die "$config: invalid configuration" 78; set +a
fi

FURROW_PORT=${FURROW_PORT:-8080}
FURROW_BIND=${FURROW_BIND:-0.0.0.0}
FURROW_DATA_DIR=${FURROW_DATA_DIR:-$PWD/furrow-data}
FURROW_RUN_DIR=${FURROW_RUN_DIR:-$FURROW_DATA_DIR/run}
FURROW_ES_URL=${FURROW_ES_URL:-}
FURROW_S3_BUCKET=${FURROW_S3_BUCKET:-}
FURROW_S3_ENDPOINT=${FURROW_S3_ENDPOINT:-}
FURROW_S3_REGION=${FURROW_S3_REGION:-us-east-1}
FURROW_S3_PREFIX=${FURROW_S3_PREFIX:-}
FURROW_RESOLVER=${FURROW_RESOLVER:-}
FURROW_SCHEMAS=${FURROW_SCHEMAS:-}
FURROW_RESTART=${FURROW_RESTART:-no}
FURROW_STOP_TIMEOUT=${FURROW_STOP_TIMEOUT:-60}
FURROW_STATS_INTERVAL=${FURROW_STATS_INTERVAL:-10}
# Run from the source tree, or installed as $PREFIX/bin/furrow-fifo-setup with the data in
# $PREFIX/share/furrow.
share=$here
[ -d "$share/tools" ] || share=$(cd "$here/../share/furrow" 2>/dev/null && pwd) || share=$here
if [ -z "${FURROW_ENRICHMENTS:-}" ] && [ -d "$share/enrichments/default" ]; then
	FURROW_ENRICHMENTS=$share/enrichments/default
fi
FURROW_ENRICHMENTS=${FURROW_ENRICHMENTS:-none}
# The embedded Iglu registry that belongs with this launcher, wherever the executables are.
if [ -z "$FURROW_SCHEMAS" ] && [ -d "$share/schemas" ]; then
	FURROW_SCHEMAS=$share/schemas
fi
if [ -z "${FURROW_BIN:-}" ]; then
	if [ -x "$here/bin/collector" ]; then FURROW_BIN=$here/bin; else FURROW_BIN=""; fi
fi

case "$FURROW_DATA_DIR" in /*) ;; *) FURROW_DATA_DIR=$PWD/$FURROW_DATA_DIR ;; esac
case "$FURROW_RUN_DIR" in /*) ;; *) FURROW_RUN_DIR=$PWD/$FURROW_RUN_DIR ;; esac
run=$FURROW_RUN_DIR
supervisor_pid_file=$run/fifo-setup.pid

exe() {
	if [ -n "$FURROW_BIN" ]; then echo "$FURROW_BIN/$1"; else command -v "$1" || echo "$1"; fi
}

# ---- status and stop (talk to a running supervisor) ----

alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

do_status() {
	[ -d "$run" ] || { echo "not running (no run directory $run)"; return 3; }
	local sup rc=0 f name pid state last
	sup=$(cat "$supervisor_pid_file" 2>/dev/null)
	if alive "$sup"; then echo "supervisor: pid $sup, running"; else echo "supervisor: not running"; rc=3; fi
	for f in "$run"/*.pid; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .pid)
		[ "$name" = fifo-setup ] && continue
		pid=$(cat "$f")
		if alive "$pid"; then state=running; else state=exited; rc=3; fi
		last=$(grep -E 'stats|counters|in=|events' "$run/$name.log" 2>/dev/null | tail -n 1)
		printf '%-16s pid %-8s %-8s %s\n' "$name" "$pid" "$state" "${last#*: }"
	done
	return $rc
}

do_stop() {
	local sup
	sup=$(cat "$supervisor_pid_file" 2>/dev/null)
	alive "$sup" || die "not running (no supervisor in $run)" 69
	kill -TERM "$sup"
	# the supervisor removes its pid file when the pipeline has drained
	local deadline=$(( $(date +%s) + FURROW_STOP_TIMEOUT + 30 ))
	while alive "$sup"; do
		[ "$(date +%s)" -lt "$deadline" ] || die "supervisor $sup did not stop in time" 70
		sleep 0.1
	done
	local st
	st=$(cat "$run/exit-status" 2>/dev/null || echo 70)
	[ "$st" = 0 ] || echo "$prog: pipeline stopped with status $st (see $run/*.log)" >&2
	return "$st"
}

case "$cmd" in
status) do_status; exit $? ;;
stop) do_stop; exit $? ;;
esac

# ---- start: build the pipeline and supervise it ----

for s in collector enrich; do
	[ -x "$(exe $s)" ] || die "$(exe $s): not found or not executable (run make first)" 69
done
[ -z "$FURROW_ES_URL" ] || [ -x "$(exe es-sink)" ] || die "$(exe es-sink): not found" 69
[ -z "$FURROW_S3_BUCKET" ] || [ -x "$(exe s3-sink)" ] || die "$(exe s3-sink): not found" 69

old=$(cat "$supervisor_pid_file" 2>/dev/null)
alive "$old" && die "already running (supervisor pid $old, run directory $run)" 69

mkdir -p "$FURROW_DATA_DIR" "$run" || die "$run: cannot create run directory" 73
rm -f "$run"/*.fifo "$run"/*.pid "$run"/exit-status
echo $$ >"$supervisor_pid_file"

mkfifo "$run/raw.fifo" "$run/enriched.fifo" "$run/bad-collector.fifo" "$run/bad-enrich.fifo" ||
	die "$run: cannot create FIFOs" 73

# Names and pids of the stages, in pipeline order (upstream first).
declare -a order=()
declare -A pids=() cmds=() restarts=()

# launch NAME COMMAND: start one stage in the background, stderr to NAME.log.
launch() {
	local name=$1 c=$2
	cmds[$name]=$c
	bash -c "exec $c" 2>>"$run/$name.log" &
	pids[$name]=$!
	echo "${pids[$name]}" >"$run/$name.pid"
	say "started $name (pid ${pids[$name]})"
}

q() { printf '%q' "$1"; }

good_outputs=()
bad_outputs=()
sinks=()

# Sinks first: they are the readers at the end of each chain.
if [ -z "$FURROW_ES_URL" ] && [ -z "$FURROW_S3_BUCKET" ]; then
	good_outputs+=("$FURROW_DATA_DIR/good.tsv")
	bad_outputs+=("$FURROW_DATA_DIR/bad.json")
fi
if [ -n "$FURROW_ES_URL" ]; then
	mkfifo "$run/good-es.fifo" "$run/bad-es.fifo"
	good_outputs+=("$run/good-es.fifo")
	bad_outputs+=("$run/bad-es.fifo")
	launch es-sink-good "$(q "$(exe es-sink)") --url $(q "$FURROW_ES_URL") --input enriched --setup \
		--bad $(q "$FURROW_DATA_DIR/sink-bad.json") --stats-interval $FURROW_STATS_INTERVAL \
		${FURROW_ES_ARGS:-} < $(q "$run/good-es.fifo")"
	launch es-sink-bad "$(q "$(exe es-sink)") --url $(q "$FURROW_ES_URL") --input bad --setup \
		--bad $(q "$FURROW_DATA_DIR/sink-bad.json") --stats-interval $FURROW_STATS_INTERVAL \
		${FURROW_ES_ARGS:-} < $(q "$run/bad-es.fifo")"
	sinks+=(es-sink-good es-sink-bad)
fi
if [ -n "$FURROW_S3_BUCKET" ]; then
	mkfifo "$run/good-s3.fifo" "$run/bad-s3.fifo"
	mkdir -p "$FURROW_DATA_DIR/spool/enriched" "$FURROW_DATA_DIR/spool/bad"
	good_outputs+=("$run/good-s3.fifo")
	bad_outputs+=("$run/bad-s3.fifo")
	s3common="--bucket $(q "$FURROW_S3_BUCKET") --region $(q "$FURROW_S3_REGION")"
	[ -z "$FURROW_S3_ENDPOINT" ] || s3common="$s3common --endpoint $(q "$FURROW_S3_ENDPOINT") --path-style"
	launch s3-sink-good "$(q "$(exe s3-sink)") $s3common --input enriched \
		--prefix $(q "${FURROW_S3_PREFIX}enriched/") --spool $(q "$FURROW_DATA_DIR/spool/enriched") \
		--bad $(q "$FURROW_DATA_DIR/sink-bad.json") --stats-interval $FURROW_STATS_INTERVAL \
		${FURROW_S3_ARGS:-} < $(q "$run/good-s3.fifo")"
	launch s3-sink-bad "$(q "$(exe s3-sink)") $s3common --input bad \
		--partition $(q "${FURROW_S3_PREFIX}bad/{vendor}.{schema}") --spool $(q "$FURROW_DATA_DIR/spool/bad") \
		--bad $(q "$FURROW_DATA_DIR/sink-bad.json") --stats-interval $FURROW_STATS_INTERVAL \
		${FURROW_S3_ARGS:-} < $(q "$run/bad-s3.fifo")"
	sinks+=(s3-sink-good s3-sink-bad)
fi

# Fan-out and merge: whole lines to every output. tee copies the same bytes to each output,
# so each output gets whole lines; the merge reads whole lines from each bad FIFO and writes
# each line with a single write, so lines from different writers never interleave.
outs=""
for o in "${good_outputs[@]}"; do outs="$outs $(q "$o")"; done
launch fanout "tee -a --output-error=exit $outs < $(q "$run/enriched.fifo") > /dev/null"

outs=""
for o in "${bad_outputs[@]}"; do outs="$outs $(q "$o")"; done
launch merge-bad "perl $(q "$share/tools/linemerge.pl") -s $(q "$run/bad-collector.fifo") \
	$(q "$run/bad-enrich.fifo") -- $outs"

enrich_flags="--bad $(q "$run/bad-enrich.fifo") --stats-interval $FURROW_STATS_INTERVAL"
[ -z "$FURROW_RESOLVER" ] || enrich_flags="$enrich_flags --resolver $(q "$FURROW_RESOLVER")"
[ -z "$FURROW_SCHEMAS" ] || enrich_flags="$enrich_flags --schemas $(q "$FURROW_SCHEMAS")"
[ "$FURROW_ENRICHMENTS" = none ] || enrich_flags="$enrich_flags --enrichments $(q "$FURROW_ENRICHMENTS")"
launch enrich "$(q "$(exe enrich)") $enrich_flags ${FURROW_ENRICH_ARGS:-} \
	< $(q "$run/raw.fifo") > $(q "$run/enriched.fifo")"

launch collector "$(q "$(exe collector)") --port $FURROW_PORT --bind $(q "$FURROW_BIND") \
	--output $(q "$run/raw.fifo") --bad $(q "$run/bad-collector.fifo") \
	--stats-interval $FURROW_STATS_INTERVAL ${FURROW_COLLECTOR_ARGS:-}"

order=(collector enrich fanout merge-bad "${sinks[@]}")

stopping=0
status=0

shutdown_pipeline() {
	stopping=1
	say "stopping: collector first, then each stage drains"
	local name pid deadline
	deadline=$(( $(date +%s) + FURROW_STOP_TIMEOUT ))
	for name in "${order[@]}"; do
		pid=${pids[$name]:-}
		alive "$pid" || continue
		# The collector is told to stop; every other stage stops when its input reaches EOF.
		# The bad-row merge has two writers that may have been restarted, so it is told to stop
		# once both are gone, and drains its pipes. A stage that has not finished by the
		# deadline is told too.
		case "$name" in collector|merge-bad) kill -TERM "$pid" 2>/dev/null ;; esac
		while alive "$pid"; do
			if [ "$(date +%s)" -ge "$deadline" ]; then
				say "$name (pid $pid) did not drain in time: sending SIGTERM"
				kill -TERM "$pid" 2>/dev/null
				deadline=$(( $(date +%s) + 10 ))
			fi
			sleep 0.05
		done
		wait "$pid" 2>/dev/null
		local st=$?
		if [ "$st" -ne 0 ]; then
			say "$name exited with status $st"
			status=1
		else
			say "$name stopped"
		fi
	done
	echo "$status" >"$run/exit-status"
	rm -f "$supervisor_pid_file"
	exit "$status"
}
trap shutdown_pipeline TERM INT

# Readiness: the collector answers /health.
health_ok() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$FURROW_PORT/health"
	else
		(exec 3<>"/dev/tcp/127.0.0.1/$FURROW_PORT" && printf 'GET /health HTTP/1.0\r\n\r\n' >&3 &&
			head -n 1 <&3 | grep -q ' 200 ') 2>/dev/null
	fi
}
deadline=$(( $(date +%s) + 30 ))
until health_ok; do
	if ! alive "${pids[collector]}" || [ "$(date +%s)" -ge "$deadline" ]; then
		say "ERROR: the collector did not become ready; see $run/collector.log"
		tail -n 5 "$run/collector.log" >&2
		status=1
		shutdown_pipeline
	fi
	sleep 0.1
done
say "ready: collector on port $FURROW_PORT; good → ${good_outputs[*]}; bad → ${bad_outputs[*]}"
echo "ready" >"$run/ready"

# Supervise: a stage that dies is reported loudly; with FURROW_RESTART=on-failure it is
# restarted (at most 5 times), otherwise the whole pipeline is shut down so nothing is left
# blocked on a FIFO without a reader.
while :; do
	wait -n 2>/dev/null
	[ "$stopping" = 1 ] && continue
	for name in "${order[@]}"; do
		pid=${pids[$name]}
		alive "$pid" && continue
		wait "$pid" 2>/dev/null
		st=$?
		say "ERROR: stage $name (pid $pid) died with status $st; last log lines:"
		tail -n 5 "$run/$name.log" >&2
		if [ "$FURROW_RESTART" = on-failure ] && [ "${restarts[$name]:-0}" -lt 5 ]; then
			restarts[$name]=$(( ${restarts[$name]:-0} + 1 ))
			say "restarting $name (attempt ${restarts[$name]})"
			launch "$name" "${cmds[$name]}"
		else
			status=1
			shutdown_pipeline
		fi
	done
done
