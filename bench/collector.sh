#!/bin/sh
# Benchmark: furrow's collector against nginx (Debian nginx-light, empty_gif) on the same
# machine, in the same run, for both of the collector's outputs: a FIFO drained by cat, and a
# durable line log (log:PATH, what the launcher uses: records appended before the answer).
# Server and load generator are pinned to different cores (taskset); the figure of merit is
# requests per CPU-second of the server process (utime + stime from /proc/PID/stat; nginx's
# master and worker), with and without keep-alive, for a realistic GET page view and a tp2 POST.
#
#   bench/collector.sh [SECONDS] [CONNECTIONS] [REPETITIONS]     (defaults 4, 50 and 3)
#   BASE_BIN=/path/to/other/bin bench/collector.sh   adds that build's collector -> log as
#                                                    "base-log" (a before/after in one run)
#
# Each repetition runs every case on the three servers one after the other, in an order that
# rotates from one repetition to the next (interleaved: a load spike from elsewhere on the
# machine hits all three alike). Per case and server: min and median of req/CPU-s over the
# repetitions; the ratios are of the medians. Between runs the log is removed and the collector
# reopens it (SIGHUP), so the disk holds one run's records at most. Results and logs go to
# $BENCH_OUT (default: a fresh directory under /tmp, kept and printed).
#
# Needs: wrk, nginx, taskset, curl, a built bin/collector (make).
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECS=${1:-4}
CONNS=${2:-50}
REPS=${3:-3}
BIN=${FURROW_BIN:-$ROOT/bin}
for c in wrk nginx taskset curl; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c is missing (apt-get install wrk nginx-light util-linux curl)" >&2; exit 69; }
done
[ -x "$BIN/collector" ] || { echo "bench: build first (make)" >&2; exit 69; }
NCPU=$(nproc)
SRV_CPU=0
LOAD_CPU=$(( NCPU > 1 ? 1 : 0 ))
[ "$NCPU" -gt 1 ] || echo "bench: one CPU only: server and wrk share it" >&2
HZ=$(getconf CLK_TCK)
OUT=${BENCH_OUT:-$(mktemp -d /tmp/furrow-bench-collector.XXXXXX)}
mkdir -p "$OUT"
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -f "$OUT/raw.log" "$OUT/base.log" "$OUT/raw.fifo"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until curl -sf -o /dev/null "$1"; do i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05; done; }
# cpu_ticks PID...: utime + stime of the processes
cpu_ticks() { t=0; for p in "$@"; do s=$(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + ${s% *} + ${s#* })); done; echo $t; }

# A realistic JavaScript-tracker page view, and the same as a tp2 POST with a context.
Q='e=pv&url=https%3A%2F%2Fwww.example.com%2Fblog%2F2024%2Fhow-we-build-things%3Futm_source%3Dnewsletter&page=How%20we%20build%20things%20-%20Example%20Blog&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.17.0&tna=sp1&aid=example-site&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&f_pdf=0&f_qt=0&f_realp=0&f_wma=0&f_dir=0&f_fla=0&f_java=0&f_gears=0&f_ag=0&res=1920x1080&cd=24&cookie=1&eid=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b&dtm=1700000000000&vp=1280x720&ds=1265x4318&vid=3&sid=3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11&duid=5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f&stm=1700000000012'
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
COOKIE='Cookie: sp=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b; _ga=GA1.2.3'
cat >"$OUT/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
wrk.body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","url":"https://www.example.com/blog/2024/how-we-build-things?utm_source=newsletter","page":"How we build things - Example Blog","refr":"https://www.google.com/","tv":"js-3.17.0","tna":"sp1","aid":"example-site","p":"web","tz":"Europe/London","lang":"en-GB","cs":"UTF-8","res":"1920x1080","cd":"24","cookie":"1","eid":"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b","dtm":"1700000000000","vp":"1280x720","ds":"1265x4318","vid":"3","sid":"3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11","duid":"5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f","cx":"eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0wIiwiZGF0YSI6W3sic2NoZW1hIjoiaWdsdTpjb20uc25vd3Bsb3dhbmFseXRpY3Muc25vd3Bsb3cvd2ViX3BhZ2UvanNvbnNjaGVtYS8xLTAtMCIsImRhdGEiOnsiaWQiOiIxYjFlNGI4Yi0yYzYxLTQ3YjEtOGE0Yy04YjFlMWY2ZDdhOWQifX1dfQ","stm":"1700000000012"}]}'
LUA

# nginx, one worker pinned to the server core
NPORT=$(port)
mkdir -p "$OUT/nginx"
cat >"$OUT/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
master_process on;
error_log $OUT/nginx/error.log;
pid $OUT/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $OUT/nginx/body;
    proxy_temp_path $OUT/nginx/proxy;
    fastcgi_temp_path $OUT/nginx/fastcgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT;
        location = /i { empty_gif; }
        location = /com.snowplowanalytics.snowplow/tp2 { return 200 "ok"; }
    }
}
NGX
NGINX_CMD="taskset -c $SRV_CPU nginx -p $OUT/nginx -c $OUT/nginx/nginx.conf"
$NGINX_CMD 2>"$OUT/nginx/stderr" &
NGINX_MASTER=$!
PIDS="$PIDS $NGINX_MASTER"
wait_up "http://127.0.0.1:$NPORT/i" || { echo "bench: nginx did not start" >&2; cat "$OUT/nginx/stderr" "$OUT/nginx/error.log" >&2; exit 69; }
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

# collector -> FIFO drained by cat; cat shares the server core (on the load core it would
# compete with wrk and fall behind; its CPU time is not counted as the server's)
FPORT=$(port)
mkfifo "$OUT/raw.fifo"
taskset -c "$SRV_CPU" cat "$OUT/raw.fifo" >/dev/null &
PIDS="$PIDS $!"
FIFO_CMD="taskset -c $SRV_CPU $BIN/collector --bind 127.0.0.1 -p $FPORT -o $OUT/raw.fifo --bad $OUT/bad-fifo.json --stats-interval 0"
$FIFO_CMD 2>"$OUT/collector-fifo.log" &
FPID=$!
PIDS="$PIDS $FPID"
# collector -> line log (as under the launcher)
LPORT=$(port)
LOG_CMD="taskset -c $SRV_CPU $BIN/collector --bind 127.0.0.1 -p $LPORT -o log:$OUT/raw.log --bad $OUT/bad-log.json --stats-interval 0"
$LOG_CMD 2>"$OUT/collector-log.log" &
LPID=$!
PIDS="$PIDS $LPID"
SERVERS="nginx collector-fifo collector-log"
if [ -n "${BASE_BIN:-}" ]; then
	BPORT=$(port)
	BASE_CMD="taskset -c $SRV_CPU $BASE_BIN/collector --bind 127.0.0.1 -p $BPORT -o log:$OUT/base.log --bad $OUT/bad-base.json --stats-interval 0"
	$BASE_CMD 2>"$OUT/collector-base.log" &
	BPID=$!
	PIDS="$PIDS $BPID"
	SERVERS="$SERVERS base-log"
	wait_up "http://127.0.0.1:$BPORT/health" || { echo "bench: base collector did not start" >&2; exit 69; }
fi
wait_up "http://127.0.0.1:$FPORT/health" || { echo "bench: collector (FIFO) did not start" >&2; exit 69; }
wait_up "http://127.0.0.1:$LPORT/health" || { echo "bench: collector (log) did not start" >&2; exit 69; }

echo "# $(date -u +%FT%TZ) $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), ${SECS}s per run, $CONNS connections, $REPS repetitions, server on CPU $SRV_CPU, wrk on CPU $LOAD_CPU"
echo "# nginx:         $NGINX_CMD"
echo "# collector-fifo: $FIFO_CMD   (reader: taskset -c $SRV_CPU cat $OUT/raw.fifo >/dev/null)"
echo "# collector-log:  $LOG_CMD"
[ -z "${BASE_BIN:-}" ] || echo "# base-log:       $BASE_CMD"
echo "# load:          taskset -c $LOAD_CPU wrk -t1 -c$CONNS -d${SECS}s -H 'User-Agent: $UA' -H '$COOKIE' [-H 'Connection: close'] [-s $OUT/post.lua] URL"
echo "#   URL: http://127.0.0.1:PORT/i?<page view query, $(printf %s "$Q" | wc -c) bytes> or http://127.0.0.1:PORT/com.snowplowanalytics.snowplow/tp2"

# run SERVER CASE: one wrk run; appends "case server req cpu_ticks non2xx" to results
run() {
	server=$1 case=$2
	case $server in
	nginx) p=$NPORT pids=$NGINX_PIDS ;;
	collector-fifo) p=$FPORT pids=$FPID ;;
	collector-log) p=$LPORT pids=$LPID
		rm -f "$OUT/raw.log"; kill -HUP "$LPID"
		wait_up "http://127.0.0.1:$LPORT/health" ;;
	base-log) p=$BPORT pids=$BPID
		rm -f "$OUT/base.log"; kill -HUP "$BPID"
		wait_up "http://127.0.0.1:$BPORT/health" ;;
	esac
	case $case in
	get-ka) set -- "http://127.0.0.1:$p/i?$Q" ;;
	post-ka) set -- -s "$OUT/post.lua" "http://127.0.0.1:$p/com.snowplowanalytics.snowplow/tp2" ;;
	get-close) set -- -H "Connection: close" "http://127.0.0.1:$p/i?$Q" ;;
	post-close) set -- -H "Connection: close" -s "$OUT/post.lua" "http://127.0.0.1:$p/com.snowplowanalytics.snowplow/tp2" ;;
	esac
	t0=$(cpu_ticks $pids)
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" -H "User-Agent: $UA" -H "$COOKIE" "$@" >"$OUT/wrk.out"
	t1=$(cpu_ticks $pids)
	reqs=$(awk '/requests in/ {print $1}' "$OUT/wrk.out")
	bad=$(awk '/Non-2xx/ {print $NF}' "$OUT/wrk.out")
	echo "$case $server $reqs $((t1 - t0)) ${bad:-0}" >>"$OUT/results"
}

: >"$OUT/results"
rep=1
while [ $rep -le "$REPS" ]; do
	for case in get-ka post-ka get-close post-close; do
		# rotate the order of the servers with the repetition
		order=$(echo $SERVERS | awk -v r=$rep '{ for (i = 0; i < NF; i++) printf "%s ", $(((i + r - 1) % NF) + 1) }')
		for server in $order; do
			run "$server" "$case"
		done
	done
	rep=$((rep + 1))
done

awk -v hz="$HZ" -v secs="$SECS" -v servers="$SERVERS" '
function median(a, n,   i, j, t) { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
{ k = $1 " " $2; n[k]++; cpu = $4 / hz; v[k, n[k]] = cpu > 0 ? $3 / cpu : 0; r[k, n[k]] = $3 / secs; bad[k] += $5 }
END {
	split("get-ka post-ka get-close post-close", cases, " "); ns = split(servers, srv, " ")
	printf "%-11s %-15s %12s %12s %10s %s\n", "case", "server", "min req/cpu-s", "median", "req/s", "(median wall)"
	for (c = 1; c <= 4; c++) for (s = 1; s <= ns; s++) {
		k = cases[c] " " srv[s]; m = n[k]
		for (i = 1; i <= m; i++) { a[i] = v[k, i]; b[i] = r[k, i] }
		lo = a[1]; for (i = 2; i <= m; i++) if (a[i] < lo) lo = a[i]
		med[k] = median(a, m)
		printf "%-11s %-15s %12.0f %12.0f %10.0f%s\n", cases[c], srv[s], lo, med[k], median(b, m), bad[k] ? "  non-2xx " bad[k] : ""
	}
	for (c = 1; c <= 4; c++)
		printf "ratio %-11s FIFO/nginx %.2f   log/nginx %.2f   log/FIFO %.2f\n", cases[c],
		    med[cases[c] " collector-fifo"] / med[cases[c] " nginx"], med[cases[c] " collector-log"] / med[cases[c] " nginx"],
		    med[cases[c] " collector-log"] / med[cases[c] " collector-fifo"]
	if (ns > 3) for (c = 1; c <= 4; c++)
		printf "ratio %-11s base-log/nginx %.2f   log/base-log %.2f\n", cases[c],
		    med[cases[c] " base-log"] / med[cases[c] " nginx"], med[cases[c] " collector-log"] / med[cases[c] " base-log"]
}' "$OUT/results" | tee "$OUT/summary"
for p in $FPID $LPID ${BPID:-}; do kill -TERM "$p"; wait "$p" 2>/dev/null || true; done
echo "collector-log at exit: $(grep -o 'records=[0-9]*' "$OUT/collector-log.log" | tail -1), $(grep -o 'log_appends=[0-9]*' "$OUT/collector-log.log" | tail -1) (records per append: the group size)"
echo "results: $OUT"
