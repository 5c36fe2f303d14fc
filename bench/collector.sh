#!/bin/sh
# Benchmark: furrow's collector against nginx (Debian nginx-light, empty_gif) on the same
# machine, in the same run. Server and load generator are pinned to different cores (taskset);
# the figure of merit is requests per second of server CPU (utime + stime from /proc/PID/stat),
# with and without keep-alive. The collector writes its records to a FIFO drained by cat.
#
#   bench/collector.sh [SECONDS] [CONNECTIONS]      (defaults 10 and 50)
#
# Needs: wrk, nginx, taskset, a built bin/collector (make). Prints one line per case, the ratio
# collector/nginx, and the collector's resident set size.
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-50}
BIN=${FURROW_BIN:-$PWD/bin}
for c in wrk nginx taskset; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c is missing (apt-get install wrk nginx-light util-linux)" >&2; exit 69; }
done
[ -x "$BIN/collector" ] || { echo "bench: build first (make)" >&2; exit 69; }
NCPU=$(nproc)
SRV_CPU=0
LOAD_CPU=$(( NCPU > 1 ? 1 : 0 ))
[ "$NCPU" -gt 1 ] || echo "bench: one CPU only: server and wrk share it" >&2
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/furrow-bench.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until curl -sf -o /dev/null "$1"; do i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05; done; }
# cpu_ticks PID...: utime + stime of the processes
cpu_ticks() { t=0; for p in "$@"; do s=$(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + ${s% *} + ${s#* })); done; echo $t; }

# A realistic JavaScript-tracker page view.
Q='e=pv&url=https%3A%2F%2Fwww.example.com%2Fblog%2F2024%2Fhow-we-build-things%3Futm_source%3Dnewsletter&page=How%20we%20build%20things%20-%20Example%20Blog&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.17.0&tna=sp1&aid=example-site&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&f_pdf=0&f_qt=0&f_realp=0&f_wma=0&f_dir=0&f_fla=0&f_java=0&f_gears=0&f_ag=0&res=1920x1080&cd=24&cookie=1&eid=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b&dtm=1700000000000&vp=1280x720&ds=1265x4318&vid=3&sid=3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11&duid=5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f&stm=1700000000012'
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
cat >"$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json; charset=UTF-8"
wrk.body = '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","url":"https://www.example.com/blog/2024/how-we-build-things?utm_source=newsletter","page":"How we build things - Example Blog","refr":"https://www.google.com/","tv":"js-3.17.0","tna":"sp1","aid":"example-site","p":"web","tz":"Europe/London","lang":"en-GB","cs":"UTF-8","res":"1920x1080","cd":"24","cookie":"1","eid":"9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b","dtm":"1700000000000","vp":"1280x720","ds":"1265x4318","vid":"3","sid":"3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11","duid":"5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f","cx":"eyJzY2hlbWEiOiJpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9jb250ZXh0cy9qc29uc2NoZW1hLzEtMC0wIiwiZGF0YSI6W3sic2NoZW1hIjoiaWdsdTpjb20uc25vd3Bsb3dhbmFseXRpY3Muc25vd3Bsb3cvd2ViX3BhZ2UvanNvbnNjaGVtYS8xLTAtMCIsImRhdGEiOnsiaWQiOiIxYjFlNGI4Yi0yYzYxLTQ3YjEtOGE0Yy04YjFlMWY2ZDdhOWQifX1dfQ","stm":"1700000000012"}]}'
LUA

# run NAME URL PIDS KEEPALIVE [wrk args...]: prints "NAME requests cpu_s req_per_cpu_s"
run() {
	name=$1 url=$2 pids=$3 ka=$4
	shift 4
	hdr=""
	[ "$ka" = yes ] || hdr="Connection: close"
	t0=$(cpu_ticks $pids)
	if [ -n "$hdr" ]; then
		taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" -H "$hdr" -H "User-Agent: $UA" \
		    -H 'Cookie: sp=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b; _ga=GA1.2.3' "$@" "$url" >"$TMP/wrk.out"
	else
		taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" -H "User-Agent: $UA" \
		    -H 'Cookie: sp=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b; _ga=GA1.2.3' "$@" "$url" >"$TMP/wrk.out"
	fi
	t1=$(cpu_ticks $pids)
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	bad=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk.out")
	errs=$(grep -E 'Socket errors' "$TMP/wrk.out" || true)
	awk -v n="$name" -v r="$reqs" -v t=$((t1 - t0)) -v hz="$HZ" -v s="$SECS" -v b="${bad:-0}" -v e="$errs" 'BEGIN {
	    cpu = t / hz; printf "%-34s %9d req %7.0f req/s  server cpu %6.2f s  %9.0f req/cpu-s%s%s\n",
	    n, r, r / s, cpu, (cpu > 0 ? r / cpu : 0), (b > 0 ? "  non-2xx " b : ""), (e != "" ? "  " e : "") }' \
	    | tee -a "$TMP/results"
}

# nginx, one worker pinned to the server core
NPORT=$(port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<NGX
worker_processes 1;
daemon off;
master_process on;
error_log $TMP/nginx/error.log;
pid $TMP/nginx/nginx.pid;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    keepalive_requests 1000000;
    server {
        listen 127.0.0.1:$NPORT;
        location = /i { empty_gif; }
        location = /com.snowplowanalytics.snowplow/tp2 { return 200 "ok"; }
    }
}
NGX
taskset -c "$SRV_CPU" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
NGINX_MASTER=$!
PIDS="$PIDS $NGINX_MASTER"
wait_up "http://127.0.0.1:$NPORT/i" || { echo "bench: nginx did not start" >&2; cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2; exit 69; }
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

# collector, writing to a FIFO drained by cat; cat shares the server core (on the load core
# it would compete with wrk and fall behind; its CPU time is not counted as the server's)
CPORT=$(port)
mkfifo "$TMP/raw.fifo"
taskset -c "$SRV_CPU" cat "$TMP/raw.fifo" >/dev/null &
PIDS="$PIDS $!"
taskset -c "$SRV_CPU" "$BIN/collector" --bind 127.0.0.1 -p "$CPORT" -o "$TMP/raw.fifo" \
    --bad "$TMP/bad.json" --stats-interval 0 -q 2>"$TMP/collector.log" &
CPID=$!
PIDS="$PIDS $CPID"
wait_up "http://127.0.0.1:$CPORT/health" || { echo "bench: collector did not start" >&2; exit 69; }

echo "# $(date -u +%FT%TZ) $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), ${SECS}s per case, $CONNS connections, server on CPU $SRV_CPU, wrk on CPU $LOAD_CPU"
run "nginx    GET /i keep-alive" "http://127.0.0.1:$NPORT/i?$Q" "$NGINX_PIDS" yes
run "collector GET /i keep-alive" "http://127.0.0.1:$CPORT/i?$Q" "$CPID" yes
run "nginx    POST tp2 keep-alive" "http://127.0.0.1:$NPORT/com.snowplowanalytics.snowplow/tp2" "$NGINX_PIDS" yes -s "$TMP/post.lua"
run "collector POST tp2 keep-alive" "http://127.0.0.1:$CPORT/com.snowplowanalytics.snowplow/tp2" "$CPID" yes -s "$TMP/post.lua"
run "nginx    GET /i no keep-alive" "http://127.0.0.1:$NPORT/i?$Q" "$NGINX_PIDS" no
run "collector GET /i no keep-alive" "http://127.0.0.1:$CPORT/i?$Q" "$CPID" no
run "nginx    POST tp2 no keep-alive" "http://127.0.0.1:$NPORT/com.snowplowanalytics.snowplow/tp2" "$NGINX_PIDS" no -s "$TMP/post.lua"
run "collector POST tp2 no keep-alive" "http://127.0.0.1:$CPORT/com.snowplowanalytics.snowplow/tp2" "$CPID" no -s "$TMP/post.lua"
awk '{ v[NR] = $(NF) } 
     /req\/cpu-s/ { for (i = 1; i <= NF; i++) if ($i == "req/cpu-s") x[NR] = $(i - 1) }
     END { split("GET keep-alive|POST keep-alive|GET no keep-alive|POST no keep-alive", lab, "|");
           for (k = 0; k < 4; k++) printf "ratio collector/nginx, %-20s %.2f\n", lab[k + 1] ":", x[2 * k + 2] / x[2 * k + 1] }' "$TMP/results"
echo "collector RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$CPID/status), peak $(awk '/VmHWM/ {print $2, $3}' /proc/$CPID/status)"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true
grep 'stats at exit' "$TMP/collector.log" | sed 's/^/# /' || true
