#!/usr/bin/env bash
# bench/kafka.sh: the stages on Kafka against the same stages on pipes (issue 14, Benchmark).
#
#   bench/kafka.sh [--records N] [--reps N] [--seconds S] [--only 1,2,3,4] [--no-e2e]
#
# A real broker from tests/setup-kafka.sh (one node, on this machine), and:
#  1. enrich, Kafka -> Kafka vs the same records through pipes: N realistic raw records
#     (bench/raw_input.py: page views with contexts, link clicks, structured events) enriched
#     from a topic to topics (a fresh consumer group each time) and from a pipe to a pipe. The
#     figure is events per CPU-second of the enrich process (utime + stime from /proc, its
#     librdkafka threads included; the broker and cat are not counted). Goal: Kafka >= 0.8x.
#  2. one vs two enrich instances in one consumer group on a 4-partition topic: events per
#     wall-second from the first 2% of the records to the last, and the CPU of enrich, of the
#     broker and of the whole machine (from /proc/stat) over that time: when the machine has no
#     idle CPU left, a second instance has nothing to run on (CPU-bound), and the ratio says so.
#  3. the collector, -o kafka:TOPIC vs -o FIFO (drained by cat): wrk with keep-alive GETs of a
#     realistic page view, requests per CPU-second of the collector process (wrk pinned to
#     another core than the collector when there are two). Goal: Kafka >= 0.8x.
#  4. end to end through Kafka with bench/e2e.sh (a real Elasticsearch; the launcher with
#     FURROW_KAFKA_BROKERS): p50/p95/p99 from tracker send to searchable at FURROW_BENCH_E2E_RATE
#     events/s (default 200: a rate a shared 2-core machine sustains, so that the figure is
#     latency, not a growing backlog), then the same through the launcher's logs for reference
#     (--no-e2e skips both).
# Each comparison runs its cases interleaved, --reps times (default 3), and reports each run, the
# ratio of each interleaved pair and the medians. Every command is printed as it is run.
# --only runs the numbered parts alone. A benchmark, not a test.
#
# The figures in issue 14's closing note come from `FURROW_CACHE=/work/cache bench/kafka.sh`
# (the defaults above: 60000 records, 3 reps, 10 s of wrk, end to end at 200 events/s) on a
# shared 2-core Debian 12 machine, parts 2-4 run again with --only 2,3,4 and --only 4.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
prog=bench/kafka.sh
records=60000 reps=3 secs=10 e2e=1 only=1,2,3,4 e2e_rate=${FURROW_BENCH_E2E_RATE:-200}
while [ $# -gt 0 ]; do
	case "$1" in
	--records) records=$2; shift 2 ;;
	--reps) reps=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--no-e2e) e2e=0; shift ;;
	--only) only=$2; shift 2 ;;
	-h|--help) sed -n '2,/^set -u/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "usage: $prog [--records N] [--reps N] [--seconds S] [--only 1,2,3,4] [--no-e2e]" >&2
	   exit 64 ;;
	esac
done
say() { echo "$prog: $*" >&2; }
part() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }
for c in kcat wrk python3 jq; do command -v $c >/dev/null || { say "$c not found"; exit 69; }; done
for s in collector enrich; do [ -x "$root/bin/$s" ] || { say "build first (make)"; exit 69; }; done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-kafka-bench.XXXXXX")
pids=""
cleanup() {
	trap - EXIT INT TERM
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	kafka_cleanup >/dev/null 2>&1     # (a bare wait would wait for the broker too)
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
. "$root/tests/setup-kafka.sh"

hz=$(getconf CLK_TCK)
ticks() { sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}'; }
# the whole machine: "busy total" ticks since boot, all cores (idle and iowait are not busy)
machine() { awk '/^cpu / {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat; }
now() { date +%s.%N; }
run() { echo "+ $*" >&2; "$@"; }           # print the exact command, then run it
median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
topic_end() {
	local n=0 p
	for p in $(seq 0 $(($2 - 1))); do
		n=$((n + $(kcat -b "$KAFKA_BROKERS" -Q -t "$1:$p:-1" 2>/dev/null | awk '{print $NF}')))
	done
	echo "$n"
}

FURROW_KAFKA_HEAP=${FURROW_KAFKA_HEAP:-512m} kafka_start >"$tmp/kafka.log" 2>&1 ||
	{ cat "$tmp/kafka.log" >&2; exit 69; }
export FURROW_KAFKA_BROKERS=$KAFKA_BROKERS
for t in raw:4 enriched:4 bad:1 craw:4 cbad:1; do kafka_topic "${t%%:*}" "${t#*:}" || exit 69; done
say "Kafka $KAFKA_VERSION at $KAFKA_BROKERS (pid $KAFKA_PID); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the records ----
if part 1 || part 2; then
cc -O2 -I"$root/common" -o "$tmp/mkraw" "$root/tests/tools/mkraw.c" "$root/common/thrift.c" \
    "$root/common/base64.c" "$root/common/buf.c" -ljansson || exit 70
python3 "$root/bench/raw_input.py" "$records" | "$tmp/mkraw" >"$tmp/grouped.raw"
python3 -c '
import sys
lines = open(sys.argv[1]).read().splitlines()
k = len(lines) // 3
out = []
for i in range(k):
    out += [lines[i], lines[k + i], lines[2 * k + i]]
open(sys.argv[2], "w").write("\n".join(out) + "\n")' "$tmp/grouped.raw" "$tmp/in.raw"
n=$(wc -l <"$tmp/in.raw")
D='@@furrow-bench-delimiter@@'
python3 "$root/tests/tools/kafka_frames.py" lines2bin "$D" <"$tmp/in.raw" >"$tmp/in.bin"
echo "+ kcat -P -b $KAFKA_BROKERS -t raw -D '$D' < in.bin    (one binary record per message)" >&2
kcat -P -b "$KAFKA_BROKERS" -t raw -D "$D" <"$tmp/in.bin" || exit 70
say "$n raw records ($(du -h "$tmp/in.raw" | cut -f1) as base64 lines) on topic raw (4 partitions)"
fi

# enrich_kafka GROUP INSTANCES: enrich the whole raw topic with INSTANCES members of a fresh
# group; prints "cpu_s wall_s broker_cpu_s enrich_cpu_s": the enrich processes' CPU from their
# start (as the pipe case counts it), then the wall time, the broker's and enrich's CPU from 2%
# of the records to the end, and the machine's busy share of all its cores over that time.
enrich_kafka() {
	local group=$1 k=$2 i p target start e t0="" c0=0 b0=0 cpu=0 m0="" mt0=0
	local -a ps=()
	start=$(topic_end enriched 4)
	target=$((start + n))
	for i in $(seq 1 "$k"); do
		[ "$group$i" = "${group}1" ] && echo "+ $root/bin/enrich -q --source kafka:raw --output kafka:enriched --bad kafka:bad --group $group (x$k)" >&2
		"$root/bin/enrich" -q --source kafka:raw --output kafka:enriched --bad kafka:bad \
		    --group "$group" 2>>"$tmp/enrich.err" &
		ps+=($!)
		pids="$pids $!"
	done
	local last=-1 stall
	stall=$(date +%s)
	while :; do
		e=$(topic_end enriched 4)
		if [ "$e" != "$last" ]; then last=$e; stall=$(date +%s); fi
		if [ $(($(date +%s) - stall)) -gt 120 ]; then   # not a number to report: stop
			say "enrich made no progress for 120 s ($((e - start)) of $n enriched); see $tmp/enrich.err"
			tail -n 5 "$tmp/enrich.err" >&2
			kill "${ps[@]}"; wait
			exit 70
		fi
		if [ -z "$t0" ] && [ $((e - start)) -ge $((n / 50)) ]; then
			t0=$(now); b0=$(ticks "$KAFKA_PID"); c0=0; read -r m0 mt0 <<<"$(machine)"
			for p in "${ps[@]}"; do c0=$((c0 + $(ticks "$p"))); done
		fi
		[ "$e" -ge "$target" ] && break
		sleep 0.1
	done
	local t1 b1 c1=0 m1 mt1
	t1=$(now); b1=$(ticks "$KAFKA_PID"); read -r m1 mt1 <<<"$(machine)"
	for p in "${ps[@]}"; do c1=$((c1 + $(ticks "$p"))); done
	for p in "${ps[@]}"; do kill -TERM "$p"; wait "$p"; done
	awk -v a="$c1" -v h="$hz" -v t0="$t0" -v t1="$t1" -v b=$((b1 - b0)) -v c=$((c1 - c0)) \
	    -v m=$((m1 - m0)) -v mt=$((mt1 - mt0)) \
	    'BEGIN { printf "%.3f %.3f %.3f %.3f %.1f\n", a / h, t1 - t0, b / h, c / h, 100 * m / mt }'
}

# enrich_pipe: the same records through pipes; prints cpu_s.
enrich_pipe() {
	echo "+ cat in.raw | $root/bin/enrich -q --bad /dev/null | cat >/dev/null" >&2
	cat "$tmp/in.raw" | /usr/bin/time -f "%U %S" -o "$tmp/time" "$root/bin/enrich" -q \
	    --bad /dev/null | cat >/dev/null
	awk '{printf "%.3f\n", $1 + $2}' "$tmp/time"
}

# ---- 1. enrich Kafka -> Kafka vs pipes ----
if part 1; then
say "1. enrich: Kafka -> Kafka vs pipe -> pipe, $n records, $reps reps interleaved"
for r in $(seq 1 "$reps"); do
	p=$(enrich_pipe)
	read -r kc _ _ _ _ <<<"$(enrich_kafka "bench-one-$r-$$" 1)"
	[ -n "$kc" ] || exit 70
	echo "$p" >>"$tmp/pipe.cpu"; echo "$kc" >>"$tmp/kafka.cpu"
	printf '   rep %d: pipe %6.2f s CPU (%7.0f events/cpu-s)   kafka %6.2f s CPU (%7.0f events/cpu-s)   ratio %.2f\n' \
	    "$r" "$p" "$(echo "$n / $p" | bc -l)" "$kc" "$(echo "$n / $kc" | bc -l)" "$(echo "$p / $kc" | bc -l)"
	echo "$p / $kc" | bc -l >>"$tmp/enrich.ratio"
done
pm=$(median <"$tmp/pipe.cpu") km=$(median <"$tmp/kafka.cpu")
printf '   median: pipe %.0f events/cpu-s, kafka %.0f events/cpu-s, ratio kafka/pipe %.2f, median of the pairs %.2f (goal >= 0.8)\n' \
    "$(echo "$n / $pm" | bc -l)" "$(echo "$n / $km" | bc -l)" "$(echo "$pm / $km" | bc -l)" "$(median <"$tmp/enrich.ratio")"
fi

# ---- 2. one vs two enrich instances in one group ----
if part 2; then
say "2. enrich: 1 vs 2 instances in one group (4 partitions), $reps reps interleaved"
for r in $(seq 1 "$reps"); do
	for k in 1 2; do
		read -r _ wall bcpu ecpu busy <<<"$(enrich_kafka "bench-k$k-$r-$$" "$k")"
		[ -n "$wall" ] || exit 70
		tp=$(echo "($n - $n / 50) / $wall" | bc -l)
		echo "$tp" >>"$tmp/tp.$k"
		echo "$busy" >>"$tmp/busy.$k"
		printf '   rep %d, %d instance(s): %7.0f events/s  (enrich %5.1f%% of a core, broker %5.1f%%; machine %5.1f%% busy of %d cores)\n' \
		    "$r" "$k" "$tp" "$(echo "100 * $ecpu / $wall" | bc -l)" "$(echo "100 * $bcpu / $wall" | bc -l)" "$busy" "$(nproc)"
	done
done
t1m=$(median <"$tmp/tp.1") t2m=$(median <"$tmp/tp.2")
printf '   median: 1 instance %.0f events/s, 2 instances %.0f events/s, ratio %.2f (goal >= 1.8 where the cores allow; %d cores here)\n' \
    "$t1m" "$t2m" "$(echo "$t2m / $t1m" | bc -l)" "$(nproc)"
printf '   the machine was %.0f%% / %.0f%% busy (median, 1 / 2 instances): %s\n' "$(median <"$tmp/busy.1")" \
    "$(median <"$tmp/busy.2")" "$(awk -v b="$(median <"$tmp/busy.2")" 'BEGIN { print (b >= 90) ? "no idle core left for a second instance: CPU-bound" : "there was idle CPU" }')"
fi

# ---- 3. the collector: Kafka vs FIFO ----
if part 3; then
say "3. collector: -o kafka:craw vs -o FIFO, wrk ${secs}s keep-alive GETs, $reps reps interleaved"
ncpu=$(nproc); srv_cpu=0; load_cpu=$(( ncpu > 1 ? 1 : 0 ))
Q='e=pv&url=https%3A%2F%2Fwww.example.com%2Fblog%2F2024%2Fhow-we-build-things%3Futm_source%3Dnewsletter&page=How%20we%20build%20things%20-%20Example%20Blog&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.17.0&tna=sp1&aid=example-site&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b&dtm=1700000000000&vp=1280x720&ds=1265x4318&vid=3&sid=3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11&duid=5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f&stm=1700000000012'
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
collector_case() { # MODE: prints "requests cpu_s non2xx"
	local mode=$1 port out cp drain="" t0 t1 reqs bad
	port=$(free_port)
	if [ "$mode" = kafka ]; then out=kafka:craw; else
		rm -f "$tmp/raw.fifo"; mkfifo "$tmp/raw.fifo"; cat "$tmp/raw.fifo" >/dev/null & drain=$!; out=$tmp/raw.fifo
	fi
	echo "+ taskset -c $srv_cpu $root/bin/collector -q -p $port --bind 127.0.0.1 -o $out --bad /dev/null --no-cookie" >&2
	taskset -c "$srv_cpu" "$root/bin/collector" -q -p "$port" --bind 127.0.0.1 -o "$out" \
	    --bad /dev/null --no-cookie 2>>"$tmp/collector.err" &
	cp=$!
	pids="$pids $cp"
	until curl -sf -o /dev/null "http://127.0.0.1:$port/health"; do sleep 0.05; done
	t0=$(ticks "$cp")
	echo "+ taskset -c $load_cpu wrk -t1 -c50 -d${secs}s -H 'User-Agent: ...' 'http://127.0.0.1:$port/i?<page view>'" >&2
	taskset -c "$load_cpu" wrk -t1 -c50 -d"${secs}s" -H "User-Agent: $UA" \
	    "http://127.0.0.1:$port/i?$Q" >"$tmp/wrk.out"
	t1=$(ticks "$cp")
	kill -TERM "$cp"; wait "$cp"
	[ -z "$drain" ] || wait "$drain"
	reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk.out")
	bad=$(awk '/Non-2xx/ {print $NF}' "$tmp/wrk.out")
	echo "$reqs $(echo "($t1 - $t0) / $hz" | bc -l) ${bad:-0}"
}
for r in $(seq 1 "$reps"); do
	for mode in fifo kafka; do
		read -r q c b <<<"$(collector_case $mode)"
		echo "$(echo "$q / $c" | bc -l)" >>"$tmp/col.$mode"
		[ "$mode" = fifo ] && fr=$(echo "$q / $c" | bc -l)
		printf '   rep %d, %-5s: %8d requests, collector %5.2f s CPU, %7.0f req/cpu-s%s\n' "$r" "$mode" \
		    "$q" "$c" "$(echo "$q / $c" | bc -l)" "$([ "$b" = 0 ] || echo ", non-2xx $b")"
	done
	echo "$(echo "$q / $c" | bc -l) / $fr" | bc -l >>"$tmp/col.ratio"
done
cf=$(median <"$tmp/col.fifo") ck=$(median <"$tmp/col.kafka")
printf '   median: fifo %.0f req/cpu-s, kafka %.0f req/cpu-s, ratio kafka/fifo %.2f, median of the pairs %.2f (goal >= 0.8)\n' \
    "$cf" "$ck" "$(echo "$ck / $cf" | bc -l)" "$(median <"$tmp/col.ratio")"
fi

# ---- 4. end to end through Kafka ----
if [ "$e2e" = 1 ] && part 4; then
	say "4. end to end, tracker send -> searchable in Elasticsearch (bench/e2e.sh)"
	for t in furrow-raw:4 furrow-enriched:4 furrow-bad:1; do kafka_topic "${t%%:*}" "${t#*:}" || exit 69; done
	e2e_args=(--rate "$e2e_rate" --duration 30 --warmup 10)
	echo "+ FURROW_KAFKA_BROKERS=$KAFKA_BROKERS bench/e2e.sh ${e2e_args[*]}" >&2
	FURROW_KAFKA_BROKERS=$KAFKA_BROKERS bash "$root/bench/e2e.sh" "${e2e_args[@]}" 2>&1 |
	    grep -E 'send -> searchable|collector|enrich|es-sink|kafka' | grep -v '^{' | sed 's/^/   kafka: /'
	echo "+ bench/e2e.sh ${e2e_args[*]}    (the launcher's logs)" >&2
	env -u FURROW_KAFKA_BROKERS bash "$root/bench/e2e.sh" "${e2e_args[@]}" 2>&1 |
	    grep -E 'send -> searchable' | sed 's/^/   logs:  /'
fi
