#!/bin/sh
# Benchmark: furrow's collector serving HTTPS (--tls-cert/--tls-key, OpenSSL) against nginx
# terminating TLS with the same certificate and key and answering with empty_gif, on the same
# machine, in the same run, interleaved: each repetition runs nginx then the collector for each
# case, so drift (other load, thermal) hits both alike. Server and load generator are pinned to
# different cores (taskset); the figure of merit is requests per second of server CPU (utime +
# stime from /proc/PID/stat), with keep-alive and without (a full TLS handshake per request).
# The collector writes its records to a FIFO drained by cat (not counted as server CPU).
# Goals (issue 16): collector/nginx >= 0.8 with keep-alive, >= 0.7 without.
#
#   bench/collector-tls.sh [SECONDS] [CONNECTIONS] [REPS]      (defaults 10, 50, 3)
#
# Needs: wrk (built with OpenSSL, as Debian's is), nginx, openssl, taskset, a built
# bin/collector. Prints one line per run, then per case the ratio of the medians and of each rep.
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-10}
CONNS=${2:-50}
REPS=${3:-3}
BIN=${FURROW_BIN:-$PWD/bin}
for c in wrk nginx openssl taskset; do
	command -v "$c" >/dev/null 2>&1 || { echo "bench: $c is missing (apt-get install wrk nginx-light openssl util-linux)" >&2; exit 69; }
done
[ -x "$BIN/collector" ] || { echo "bench: build first (make)" >&2; exit 69; }
NCPU=$(nproc)
SRV_CPU=0
LOAD_CPU=$(( NCPU > 1 ? 1 : 0 ))
[ "$NCPU" -gt 1 ] || echo "bench: one CPU only: server and wrk share it" >&2
HZ=$(getconf CLK_TCK)
TMP=$(mktemp -d /tmp/furrow-bench-tls.XXXXXX)
PIDS=""
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { i=0; until curl -sf --cacert "$TMP/pki/ca.pem" -o /dev/null "$1"; do i=$((i + 1)); [ $i -lt 200 ] || return 1; sleep 0.05; done; }
cpu_ticks() { t=0; for p in "$@"; do s=$(cut -d' ' -f14,15 "/proc/$p/stat"); t=$((t + ${s% *} + ${s#* })); done; echo $t; }

# the same certificate chain (EC P-256 leaf + intermediate) and key for both servers
. tests/tools/tls_certs.sh
tls_certs "$TMP/pki" || { cat "$TMP/pki/openssl.log" >&2; exit 70; }
CERT=$TMP/pki/server.pem
KEY=$TMP/pki/server.key

# A realistic JavaScript-tracker page view (as bench/collector.sh).
Q='e=pv&url=https%3A%2F%2Fwww.example.com%2Fblog%2F2024%2Fhow-we-build-things%3Futm_source%3Dnewsletter&page=How%20we%20build%20things%20-%20Example%20Blog&refr=https%3A%2F%2Fwww.google.com%2F&tv=js-3.17.0&tna=sp1&aid=example-site&p=web&tz=Europe%2FLondon&lang=en-GB&cs=UTF-8&res=1920x1080&cd=24&cookie=1&eid=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b&dtm=1700000000000&vp=1280x720&ds=1265x4318&vid=3&sid=3a1c7a43-0f1e-4d7e-9f8c-2b7f1e0d9c11&duid=5d6e7f80-9a1b-4c2d-8e3f-4a5b6c7d8e9f&stm=1700000000012'
UA='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'

# run NAME URL PIDS KEEPALIVE: prints "NAME requests cpu_s req_per_cpu_s"
run() {
	name=$1 url=$2 pids=$3 ka=$4
	set -- -t1 -c"$CONNS" -d"${SECS}s" -H "User-Agent: $UA" \
	    -H 'Cookie: sp=9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b; _ga=GA1.2.3'
	[ "$ka" = yes ] || set -- "$@" -H "Connection: close"
	t0=$(cpu_ticks $pids)
	taskset -c "$LOAD_CPU" wrk "$@" "$url" >"$TMP/wrk.out"
	t1=$(cpu_ticks $pids)
	reqs=$(awk '/requests in/ {print $1}' "$TMP/wrk.out")
	bad=$(awk '/Non-2xx/ {print $NF}' "$TMP/wrk.out")
	errs=$(grep -E 'Socket errors' "$TMP/wrk.out" || true)
	awk -v n="$name" -v r="$reqs" -v t=$((t1 - t0)) -v hz="$HZ" -v s="$SECS" -v b="${bad:-0}" -v e="$errs" 'BEGIN {
	    cpu = t / hz; printf "%-36s %9d req %7.0f req/s  server cpu %6.2f s  %9.0f req/cpu-s%s%s\n",
	    n, r, r / s, cpu, (cpu > 0 ? r / cpu : 0), (b > 0 ? "  non-2xx " b : ""), (e != "" ? "  " e : "") }' \
	    | tee -a "$TMP/results"
}

# nginx, one worker pinned to the server core, TLS 1.2/1.3 with its defaults otherwise
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
        listen 127.0.0.1:$NPORT ssl;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        ssl_protocols TLSv1.2 TLSv1.3;
        location = /i { empty_gif; }
    }
}
NGX
taskset -c "$SRV_CPU" nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" 2>"$TMP/nginx/stderr" &
NGINX_MASTER=$!
PIDS="$PIDS $NGINX_MASTER"
wait_up "https://localhost:$NPORT/i" || { echo "bench: nginx did not start" >&2; cat "$TMP/nginx/stderr" "$TMP/nginx/error.log" >&2; exit 69; }
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

CPORT=$(port)
TPORT=$(port)
mkfifo "$TMP/raw.fifo"
taskset -c "$SRV_CPU" cat "$TMP/raw.fifo" >/dev/null &
PIDS="$PIDS $!"
set -- taskset -c "$SRV_CPU" "$BIN/collector" --bind 127.0.0.1 -p "$CPORT" --tls-port "$TPORT" \
    --tls-cert "$CERT" --tls-key "$KEY" -o "$TMP/raw.fifo" --bad "$TMP/bad.json" --stats-interval 0 -q
echo "# collector: $*" | sed "s|$TMP|\$TMP|g"
"$@" 2>"$TMP/collector.log" &
CPID=$!
PIDS="$PIDS $CPID"
wait_up "https://localhost:$TPORT/health" || { echo "bench: collector did not start" >&2; cat "$TMP/collector.log" >&2; exit 69; }

echo "# nginx: $(nginx -v 2>&1 | sed 's/.*: //'), $(openssl version)"
echo "# load: taskset -c $LOAD_CPU wrk -t1 -c$CONNS -d${SECS}s -H 'User-Agent: ...' -H 'Cookie: ...' [-H 'Connection: close'] https://localhost:PORT/i?<page view>"
echo "# $(date -u +%FT%TZ) $(uname -m), $NCPU CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), ${SECS}s per run, $CONNS connections, $REPS reps interleaved, server on CPU $SRV_CPU, wrk on CPU $LOAD_CPU"
r=1
while [ "$r" -le "$REPS" ]; do
	run "rep $r nginx     GET /i keep-alive" "https://localhost:$NPORT/i?$Q" "$NGINX_PIDS" yes
	run "rep $r collector GET /i keep-alive" "https://localhost:$TPORT/i?$Q" "$CPID" yes
	run "rep $r nginx     GET /i no keep-alive" "https://localhost:$NPORT/i?$Q" "$NGINX_PIDS" no
	run "rep $r collector GET /i no keep-alive" "https://localhost:$TPORT/i?$Q" "$CPID" no
	r=$((r + 1))
done
# per case: each rep's ratio, and the ratio of the medians, against the goal
awk '{ for (i = 1; i <= NF; i++) if ($i == "req/cpu-s") v = $(i - 1)
       ka = ($0 ~ /no keep-alive/) ? "no keep-alive" : "keep-alive"
       srv = ($0 ~ /collector/) ? "c" : "n"
       n[ka, srv]++; x[ka, srv, n[ka, srv]] = v }
     function median(k, s,    m, i, j, t, a) {
       m = n[k, s]; for (i = 1; i <= m; i++) a[i] = x[k, s, i]
       for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
       return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2 }
     END { split("keep-alive|no keep-alive", ks, "|"); goal["keep-alive"] = 0.8; goal["no keep-alive"] = 0.7
       for (q = 1; q <= 2; q++) { k = ks[q]; reps = ""
         for (i = 1; i <= n[k, "c"]; i++) reps = reps sprintf(" %.2f", x[k, "c", i] / x[k, "n", i])
         r = median(k, "c") / median(k, "n")
         printf "ratio collector/nginx over TLS, %-14s %.2f (median req/cpu-s %.0f vs %.0f; per rep:%s)  goal >= %.1f: %s\n",
           k ":", r, median(k, "c"), median(k, "n"), reps, goal[k], (r >= goal[k] ? "met" : "NOT met") } }' "$TMP/results"
echo "collector RSS after the run: $(awk '/VmRSS/ {print $2, $3}' /proc/$CPID/status), peak $(awk '/VmHWM/ {print $2, $3}' /proc/$CPID/status)"
kill -TERM "$CPID"; wait "$CPID" 2>/dev/null || true
grep 'stats at exit' "$TMP/collector.log" | sed 's/^/# /' || true
