#!/bin/bash
# Benchmark: enrich's records per CPU-second through the stream layer's backends, on the same
# input (N raw Thrift records from tests/tools/mkraw.c):
#   file        raw lines from a file to files (the floor: no stream backend at all)
#   put         from a file to kinesis:STREAM (PutRecords batches, the sink's worker thread)
#   get         from kinesis:STREAM in a group (GetRecords, leases, checkpoints) to files
#   kafka-put / kafka-get   the same through Kafka topics, when BENCH_KAFKA=1 (starts a broker
#               with tests/setup-kafka.sh)
# against kinesalite and dynalite (tests/setup-kinesis.sh). Only enrich's own CPU (user + sys of
# the process, from wait4's rusage) is counted, not the servers'. The variants run interleaved,
# REPS times (default 3); the ratio of each to the file floor is printed with every command.
#   bench/kinesis.sh [N] [REPS]
set -eu
cd "$(dirname "$0")/.."
N=${1:-20000} REPS=${2:-3}
ROOT=$(pwd)
export FURROW_ROOT=$ROOT
W=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench-kinesis.XXXXXX")
T_TMP=$W
. tests/setup-kinesis.sh
cleanup() { kinesis_cleanup >/dev/null 2>&1; [ -z "${BENCH_KAFKA:-}" ] || kafka_cleanup >/dev/null 2>&1; rm -rf "$W"; }
trap cleanup EXIT
[ -x bin/enrich ] || make -s bin/enrich
kinesis_start >"$W/start.log" 2>&1 || { cat "$W/start.log"; exit 1; }
K="python3 tests/tools/kinesis.py"
cc -Icommon -o "$W/mkraw" tests/tools/mkraw.c common/thrift.c common/base64.c common/buf.c -ljansson
python3 tests/tools/kafka_frames.py events "$N" bench | "$W/mkraw" >"$W/raw.b64"
kinesis_stream src 4 && $K put src <"$W/raw.b64"
if [ -n "${BENCH_KAFKA:-}" ]; then
	. tests/setup-kafka.sh
	kafka_start >"$W/kafka.log" 2>&1 || { tail -3 "$W/kafka.log"; exit 1; }
	kafka_topic ksrc 4 && kafka_topic kdst 4
	python3 tests/tools/kafka_frames.py lines2bin @@d@@ <"$W/raw.b64" |
	    kcat -P -b "$KAFKA_BROKERS" -t ksrc -D @@d@@
	export FURROW_KAFKA_BROKERS=$KAFKA_BROKERS
fi

# cpu OUT CMD...: run CMD; when OUT has N lines (0: wait for CMD's own end) send SIGTERM;
# print its user+sys CPU seconds
cpu() {
	python3 - "$N" "$@" <<'PY'
import os, signal, subprocess, sys, time
n, out, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
p = subprocess.Popen(cmd, stderr=subprocess.DEVNULL)
if out != "-":
    deadline = time.time() + 300
    while time.time() < deadline:
        try:
            with open(out, "rb") as f:
                if sum(1 for _ in f) >= n:
                    break
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    p.send_signal(signal.SIGTERM)
_, status, ru = os.wait4(p.pid, 0)
print("%.3f" % (ru.ru_utime + ru.ru_stime))
PY
}

variants="file put get"
[ -z "${BENCH_KAFKA:-}" ] || variants="$variants kafka-put kafka-get"
declare -A total
for v in $variants; do total[$v]=0; done
for r in $(seq 1 "$REPS"); do
	kinesis_stream "dst$r" 4
	for v in $variants; do
		rm -f "$W/out" "$W/bad"
		case $v in
		file) cmd=(bin/enrich --source "$W/raw.b64" --output "$W/out" --bad "$W/bad"); out=- ;;
		put) cmd=(bin/enrich --source "$W/raw.b64" --output "kinesis:dst$r" --bad "$W/bad"); out=- ;;
		get) cmd=(bin/enrich --source kinesis:src --group "bench-get-$r" --output "$W/out" --bad "$W/bad"); out=$W/out ;;
		kafka-put) cmd=(bin/enrich --source "$W/raw.b64" --output kafka:kdst --bad "$W/bad"); out=- ;;
		kafka-get) cmd=(bin/enrich --source kafka:ksrc --group "bench-kget-$r" --output "$W/out" --bad "$W/bad"); out=$W/out ;;
		esac
		s=$(cpu "$out" "${cmd[@]}")
		echo "rep $r $v: $s CPU-s, $(python3 -c "print(round($N / max($s, 0.001)))") records/CPU-s: ${cmd[*]}"
		total[$v]=$(python3 -c "print(${total[$v]} + $s)")
	done
done
[ "$($K count dst1)" -eq "$N" ] || { echo "bench: dst1 holds $($K count dst1) records, not $N" >&2; exit 1; }
echo "N=$N records, $REPS interleaved reps; records per CPU-second (ratio to the file floor):"
for v in $variants; do
	python3 -c "
n, reps, t, f = $N, $REPS, ${total[$v]}, ${total[file]}
print('  %-10s %8.0f records/CPU-s  (%.2f of file)' % ('$v', n * reps / t, f / t))"
done
