#!/bin/sh
# Benchmark: schema GETs per CPU-second of iglu-server against nginx (Debian nginx-light)
# serving the same schema files statically, keep-alive, on the same machine in the same run.
# Cases are interleaved (nginx, iglu-server, nginx, ...) for REPS repetitions; the figure of
# merit is requests per second of server CPU (utime + stime from /proc/PID/stat, nginx's master
# and worker together). Server and wrk are pinned to different cores (taskset). Every command
# is printed before it runs. Results go to OUT (outside the tree by default).
#
#   bench/iglu-server.sh [SECONDS] [CONNECTIONS] [REPS]     (defaults 10, 50, 3)
#   OUT=/tmp/furrow-bench-iglu-server.txt   SCHEMAS=50
#
# Needs: wrk, nginx, taskset, curl, a built bin/iglu-server (make). Goal: >= 50000 GETs/CPU-s.
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-50}
REPS=${3:-3}
N=${SCHEMAS:-50}
OUT=${OUT:-/tmp/furrow-bench-iglu-server.txt}
BIN=${FURROW_BIN:-$PWD/bin}
for c in wrk nginx taskset curl; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c is missing (apt-get install wrk nginx-light util-linux curl)" >&2; exit 69; }
done
[ -x "$BIN/iglu-server" ] || { echo "bench: build first (make)" >&2; exit 69; }
NCPU=$(nproc)
SRV_CPU=0
LOAD_CPU=$(( NCPU > 1 ? 1 : 0 ))
[ "$NCPU" -gt 1 ] || echo "bench: one CPU only: server and wrk share it" >&2
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/furrow-bench-iglu.XXXXXX)
chmod 755 "$TMP"   # nginx workers run as nobody
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM
: >"$OUT"

say() { echo "$*" | tee -a "$OUT"; }
show() { say "\$ $*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until curl -sf -o /dev/null "$1"; do i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05; done; }
cpu_ticks() { t=0; for p in "$@"; do s=$(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + ${s% *} + ${s#* })); done; echo $t; }

# iglu-server on a fresh folder, filled through its own API
KEY=4ed2d87a-6da5-48e8-a23b-36a26e61f974
IPORT=$(port)
show "IGLU_SUPER_API_KEY=... taskset -c $SRV_CPU $BIN/iglu-server -d $TMP/reg --bind 127.0.0.1 -p $IPORT --stats-interval 0 -q"
IGLU_SUPER_API_KEY=$KEY taskset -c "$SRV_CPU" "$BIN/iglu-server" -d "$TMP/reg" --bind 127.0.0.1 \
    -p "$IPORT" --stats-interval 0 -q 2>"$TMP/iglu.log" &
IPID=$!
PIDS="$PIDS $IPID"
wait_up "http://127.0.0.1:$IPORT/api/meta/health" || { echo "bench: iglu-server did not start" >&2; exit 69; }
i=1
while [ "$i" -le "$N" ]; do
	curl -sf -o /dev/null -X POST "http://127.0.0.1:$IPORT/api/schemas?isPublic=true" -H "apikey: $KEY" \
	    -H 'Content-Type: application/json' -d "{\"\$schema\":\"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#\",\"description\":\"Schema $i of the benchmark: a button click with a few typed fields\",\"self\":{\"vendor\":\"com.acme\",\"name\":\"event_$i\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"maxLength\":64,\"description\":\"id\"},\"label\":{\"type\":[\"string\",\"null\"],\"maxLength\":255,\"description\":\"label\"},\"value\":{\"type\":[\"number\",\"null\"],\"minimum\":0,\"maximum\":1000000,\"description\":\"value\"},\"at\":{\"type\":\"string\",\"format\":\"date-time\",\"description\":\"when\"}},\"required\":[\"id\",\"at\"],\"additionalProperties\":false}"
	i=$((i + 1))
done
say "# $N schemas published into $TMP/reg/schemas ($(du -sk "$TMP/reg/schemas" | cut -f1) kB)"

# nginx serving the same files at the same paths
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
    default_type application/json;
    server {
        listen 127.0.0.1:$NPORT;
        location /api/schemas/ { alias $TMP/reg/schemas/; }
    }
}
NGX
show "taskset -c $SRV_CPU nginx -p $TMP/nginx -c $TMP/nginx/nginx.conf   # location /api/schemas/ { alias $TMP/reg/schemas/; }"
taskset -c "$SRV_CPU" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
NGINX_MASTER=$!
PIDS="$PIDS $NGINX_MASTER"
wait_up "http://127.0.0.1:$NPORT/api/schemas/com.acme/event_1/jsonschema/1-0-0" ||
    { echo "bench: nginx did not start" >&2; cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2; exit 69; }
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

# wrk walks the N schemas round robin, as a resolver with a cold cache would
cat >"$TMP/walk.lua" <<LUA
local i = 0
request = function()
    i = i % $N + 1
    return wrk.format("GET", "/api/schemas/com.acme/event_" .. i .. "/jsonschema/1-0-0")
end
LUA

# run NAME PORT PIDS: one case; prints and records "NAME requests cpu_s req/cpu-s"
run() {
	name=$1 p=$2 pids=$3
	show "taskset -c $LOAD_CPU wrk -t1 -c$CONNS -d${SECS}s -s $TMP/walk.lua http://127.0.0.1:$p"
	t0=$(cpu_ticks $pids)
	taskset -c "$LOAD_CPU" wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$TMP/walk.lua" "http://127.0.0.1:$p" >"$TMP/wrk.out"
	t1=$(cpu_ticks $pids)
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	bad=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk.out")
	awk -v n="$name" -v r="$reqs" -v t=$((t1 - t0)) -v hz="$HZ" -v s="$SECS" -v b="${bad:-0}" 'BEGIN {
	    cpu = t / hz; printf "%-12s %9d GETs %8.0f GET/s  server cpu %6.2f s  %9.0f GETs/cpu-s%s\n",
	    n, r, r / s, cpu, (cpu > 0 ? r / cpu : 0), (b > 0 ? "  NON-2XX " b : "") }' | tee -a "$OUT"
}

say "# $(date -u +%FT%TZ) $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), ${SECS}s per case, $CONNS keep-alive connections, $REPS reps interleaved, server on CPU $SRV_CPU, wrk on CPU $LOAD_CPU"
r=1
while [ "$r" -le "$REPS" ]; do
	run "nginx" "$NPORT" "$NGINX_PIDS"
	run "iglu-server" "$IPORT" "$IPID"
	r=$((r + 1))
done
awk '/GETs\/cpu-s/ { for (i = 1; i <= NF; i++) if ($i == "GETs/cpu-s") v = $(i - 1);
       if ($1 == "nginx") n[++a] = v; else g[++b] = v }
     function median(x, k,   i, j, t) { for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
       return k % 2 ? x[(k + 1) / 2] : (x[k / 2] + x[k / 2 + 1]) / 2 }
     END { mn = median(n, a); mg = median(g, b);
       printf "median GETs/cpu-s: iglu-server %.0f, nginx %.0f; ratio iglu-server/nginx %.2f; goal 50000: %s\n",
       mg, mn, mg / mn, (mg >= 50000 ? "met" : "NOT met") }' "$OUT" | tee -a "$OUT.summary"
cat "$OUT.summary" >>"$OUT"; rm -f "$OUT.summary"
say "iglu-server RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$IPID/status), peak $(awk '/VmHWM/ {print $2, $3}' /proc/$IPID/status)"
say "# results in $OUT"
