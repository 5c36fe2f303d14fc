#!/usr/bin/env bash
# bench/e2e.sh: the whole pipeline end to end against a real Elasticsearch (issue 7, Benchmark).
#
#   bench/e2e.sh [--rate N] [--duration S] [--batch N] [--conns N] [--warmup S]
#                [--max] [--max-rates "R1 R2 ..."] [--max-duration S] [--max-batch N]
#
# Starts Elasticsearch with tests/setup-es.sh and the pipeline with fifo-setup.sh as a user
# would (default enrichments, es-sink with the launcher's defaults; FURROW_ES_ARGS and the other
# FURROW_* settings pass through), on loopback and a free port, and waits for run/ready.
#
# Warm-up: --warmup seconds (default 20, 0 for none) at the same rate first, not reported in
# the figures (a fresh Elasticsearch's JIT makes its first bulk requests several times slower).
# Steady phase: bench/e2e-load.js sends --rate events/s (default 1000) for --duration seconds
# (default 60): with --batch 1 (default) one GET /i per event like a web tracker, otherwise tp2
# POSTs of N events. Each event has a unique eid, its send time in dtm/stm and a sequence
# number in se_va; the probe polls the good index every 50 ms and records when each event
# first becomes searchable. Reports p50/p95/p99 of tracker send -> searchable, collector
# responses, and for every stage its peak VmRSS during the phase (sampled each second), VmHWM
# at the end and its CPU use (utime+stime from /proc/PID/stat over the phase), plus the peak
# of the summed RSS of all stages (without Elasticsearch).
#
# --max: then steps the rate up through --max-rates (tp2 POSTs of --max-batch events, each
# step --max-duration seconds) and stops at the first step that is not sustained: the
# generator fell behind by more than 3%, the collector refused events (503) or events went
# missing, or the end-to-end lag grew (p95 over 5 s). The last sustained step is the maximum;
# the per-stage CPU of the failing step shows the stage that limits it (a stage near 100% of
# one core, or Elasticsearch).
#
# Needs node, curl, jq, java (for Elasticsearch; fetched once into .cache/ by
# tests/setup-es.sh). FURROW_ES_HEAP defaults to 1g here. A benchmark, not a test.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
prog=bench/e2e.sh
rate=1000 duration=60 batch=1 conns=8 warmup=20
max=0 max_rates="1000 1500 2000 3000 4000 6000 8000 11000 15000" max_duration=20 max_batch=10
while [ $# -gt 0 ]; do
	case "$1" in
	--rate) rate=$2; shift 2 ;;
	--duration) duration=$2; shift 2 ;;
	--batch) batch=$2; shift 2 ;;
	--conns) conns=$2; shift 2 ;;
	--warmup) warmup=$2; shift 2 ;;
	--max) max=1; shift ;;
	--max-rates) max_rates=$2; shift 2 ;;
	--max-duration) max_duration=$2; shift 2 ;;
	--max-batch) max_batch=$2; shift 2 ;;
	-h|--help) sed -n '2,29p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $prog [--rate N] [--duration S] [--batch N] [--conns N] [--max] ..." >&2; exit 64 ;;
	esac
done

say() { echo "$prog: $*" >&2; }
for c in node curl jq; do command -v $c >/dev/null || { say "$c not found"; exit 69; }; done
[ -x "$root/bin/collector" ] && [ -x "$root/bin/enrich" ] && [ -x "$root/bin/es-sink" ] ||
	{ say "build first (make)"; exit 69; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-e2e-bench.XXXXXX")
data=$tmp/data run=$tmp/data/run
sup="" sampler="" es_started=0
cleanup() {
	trap - EXIT INT TERM
	[ -n "$sampler" ] && kill "$sampler" 2>/dev/null
	if [ -n "$sup" ] && kill -0 "$sup" 2>/dev/null; then
		FURROW_DATA_DIR=$data bash "$root/fifo-setup.sh" stop >>"$tmp/launcher.log" 2>&1
		local deadline=$(( $(date +%s) + 60 ))
		while kill -0 "$sup" 2>/dev/null && [ "$(date +%s)" -lt "$deadline" ]; do sleep 0.1; done
		kill -0 "$sup" 2>/dev/null && kill -TERM "$sup" 2>/dev/null
		# any stage left behind (the supervisor was killed)
		for f in "$run"/*.pid; do [ -f "$f" ] && kill -TERM "$(cat "$f")" 2>/dev/null; done
	fi
	[ "$es_started" = 1 ] && es_cleanup
	if [ "${FURROW_BENCH_KEEP:-0}" = 1 ]; then say "kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

. "$root/tests/setup-es.sh"
FURROW_ES_HEAP=${FURROW_ES_HEAP:-1g} es_start 180 || exit 69
es_started=1

port=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
export FURROW_ES_URL=$ES_URL FURROW_PORT=$port FURROW_DATA_DIR=$data FURROW_BIND=127.0.0.1
bash "$root/fifo-setup.sh" start >"$tmp/launcher.log" 2>&1 &
sup=$!
deadline=$(( $(date +%s) + 60 ))
until [ -f "$run/ready" ]; do
	if ! kill -0 "$sup" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
		say "pipeline did not become ready"; cat "$tmp/launcher.log" "$run"/*.log >&2; exit 70
	fi
	sleep 0.1
done

hz=$(getconf CLK_TCK)
stages=()
for f in "$run"/*.pid; do
	n=$(basename "$f" .pid); [ "$n" = fifo-setup ] && continue; stages+=("$n")
done
pid_of() { case "$1" in elasticsearch) echo "$ES_PID" ;; *) cat "$run/$1.pid" ;; esac; }
ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status" 2>/dev/null; }

# RSS sampler: every second, "epoch name VmRSS_kB" for every stage and Elasticsearch.
(
	while :; do
		t=$(date +%s)
		for n in "${stages[@]}" elasticsearch; do echo "$t $n $(kb "$(pid_of "$n")" VmRSS)"; done
		sleep 1
	done
) >"$tmp/rss.log" 2>/dev/null &
sampler=$!

say "Elasticsearch $ES_VERSION (heap ${FURROW_ES_HEAP:-1g}) at $ES_URL; pipeline on port $port:" \
	"${stages[*]}; FURROW_ES_ARGS='${FURROW_ES_ARGS:-}'"
say "nproc $(nproc), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"

# phase NAME RATE DURATION BATCH: one load run; prints the summary JSON (with stage figures) on
# stdout and a readable report on stderr.
phase() {
	local name=$1 r=$2 d=$3 b=$4 n t0 t1 out
	declare -A c0=()
	for n in "${stages[@]}" elasticsearch; do c0[$n]=$(ticks "$(pid_of "$n")"); done
	t0=$(date +%s.%N); local s0; s0=$(date +%s)
	node "$root/bench/e2e-load.js" --collector "http://127.0.0.1:$port" --es "$ES_URL" \
		--rate "$r" --duration "$d" --batch "$b" --conns "$conns" --app-id "bench-$name-$$" \
		>"$tmp/$name.json" 2>"$tmp/$name.err" &
	local lg=$! lt0; lt0=$(ticks $lg)
	local lgt=0
	while kill -0 $lg 2>/dev/null; do lgt=$(ticks $lg); lgt=$(( lgt - lt0 )); sleep 0.5; done
	wait $lg || { say "load generator failed:"; cat "$tmp/$name.err" >&2; return 1; }
	t1=$(date +%s.%N); local s1; s1=$(date +%s)
	local wall; wall=$(echo "$t1 - $t0" | bc -l)
	local js='{}'
	for n in "${stages[@]}" elasticsearch; do
		local p c1 cpu peak hwm
		p=$(pid_of "$n"); c1=$(ticks "$p")
		cpu=$(echo "scale=1; 100 * (${c1:-0} - ${c0[$n]:-0}) / $hz / $wall" | bc -l)
		peak=$(awk -v n="$n" -v a="$s0" -v z="$s1" '$2 == n && $1 >= a && $1 <= z && $3 > m {m = $3} END {print m + 0}' "$tmp/rss.log")
		hwm=$(kb "$p" VmHWM)
		js=$(jq -c --arg n "$n" --argjson cpu "$cpu" --argjson peak "$peak" --argjson hwm "${hwm:-0}" \
			'.[$n] = {cpu_pct: $cpu, rss_peak_kb: $peak, hwm_kb: $hwm}' <<<"$js")
	done
	local sumpeak
	sumpeak=$(awk -v a="$s0" -v z="$s1" '$1 >= a && $1 <= z && $2 != "elasticsearch" {s[$1] += $3}
		END {for (t in s) if (s[t] > m) m = s[t]; print m + 0}' "$tmp/rss.log")
	local lgcpu; lgcpu=$(echo "scale=1; 100 * $lgt / $hz / $wall" | bc -l)
	jq -c --argjson st "$js" --argjson sum "$sumpeak" --argjson lg "$lgcpu" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" --arg name "$name" \
		'. + {phase: $name, stages: $st, pipeline_rss_peak_kb: $sum, loadgen_cpu_pct: $lg, loadavg_end: $load}' \
		"$tmp/$name.json" | tee "$tmp/$name.full.json"
	jq -r '"phase \(.phase): \(.events) events at \(.rate)/s (batch \(.batch)) sent in \(.send_seconds) s = \(.achieved_rate)/s; " +
		"collector ok \(.responses_ok), errors \(.responses_error) (503: \(.responses_503)), network errors \(.network_errors); " +
		"searchable \(.searchable), rejected \(.events_rejected), missing \(.missing)\n" +
		"  send -> searchable ms: p50 \(.latency_ms.p50) p95 \(.latency_ms.p95) p99 \(.latency_ms.p99) max \(.latency_ms.max) (min \(.latency_ms.min))\n" +
		"  lag of the oldest unsearchable event, per second (ms): \(.lag_ms_per_second | map(tostring) | join(" "))\n" +
		"  pipeline RSS peak (sum of stages, without Elasticsearch): \(.pipeline_rss_peak_kb / 1024 * 10 | round / 10) MB; load generator CPU \(.loadgen_cpu_pct)%; loadavg at end \(.loadavg_end)\n" +
		"  stage            CPU%   RSS peak MB  VmHWM MB\n" +
		(.stages | to_entries | map("  \(.key + "                " | .[:16]) \(.value.cpu_pct | tostring | .[:6] | . + "      " | .[:6]) \(.value.rss_peak_kb / 1024 * 10 | round / 10 | tostring | . + "           " | .[:12]) \(.value.hwm_kb / 1024 * 10 | round / 10)") | join("\n"))' \
		"$tmp/$name.full.json" >&2
	jq -r '"  busiest: " + (.stages | to_entries | max_by(.value.cpu_pct) | "\(.key) \(.value.cpu_pct)%")' \
		"$tmp/$name.full.json" >&2
	# the stages' own counters (cumulative since start): bulk latency, queues
	for n in collector es-sink-good; do
		grep -E 'counters|stats' "$run/$n.log" 2>/dev/null | tail -n 1 | sed 's/^/  /' >&2
	done
}

if [ "$warmup" -gt 0 ]; then
	say "warm-up: $rate events/s for $warmup s (not part of the figures)"
	phase warmup "$rate" "$warmup" "$batch" >/dev/null 2>"$tmp/warmup.report" || exit 70
	jq -r '"warm-up: send -> searchable p50 \(.latency_ms.p50) p95 \(.latency_ms.p95) ms"' "$tmp/warmup.full.json" >&2
fi
say "steady phase: $rate events/s for $duration s, batch $batch, $conns connections"
phase steady "$rate" "$duration" "$batch" || exit 70

if [ "$max" = 1 ]; then
	best=0
	for r in $max_rates; do
		say "max search: $r events/s for $max_duration s (tp2 POSTs of $max_batch)"
		phase "max-$r" "$r" "$max_duration" "$max_batch" >/dev/null || exit 70
		f=$tmp/max-$r.full.json
		if jq -e --argjson r "$r" '.achieved_rate >= 0.97 * $r and .responses_503 == 0 and .events_rejected == 0
			and .missing == 0 and .latency_ms.p95 != null and .latency_ms.p95 <= 5000' "$f" >/dev/null; then
			best=$r
		else
			say "not sustained at $r events/s (see the figures above)"
			break
		fi
	done
	[ "$best" = 0 ] && best="below the first step"
	say "maximum sustained rate: $best events/s (steps: $max_rates; sustained = generator within 3%," \
		"no 503, nothing missing, p95 send -> searchable <= 5 s)"
fi
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
