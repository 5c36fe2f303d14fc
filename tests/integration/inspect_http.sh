#!/bin/bash
# inspect: the HTTP side. The collector's hardening through evhttp's knobs (connection cap,
# request deadline, idle timeout, header and body limits), the access token, the UI's static
# files (no path escapes the directory), and malformed requests that must never take it down.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"

d=$T_TMP/h
mkdir -p "$d"
: >"$d/good.tsv"
start_inspect --source "log:$d/good.tsv" --max-connections 4 --request-timeout 2 \
    --idle-timeout 3 --max-header-bytes 4096 --max-body-bytes 4096 || { fail start; done_testing; exit; }

python3 - "$IPORT" >"$T_TMP/conn.out" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
def conn():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
def answered(s, wait):
    s.settimeout(wait)
    try:
        return s.recv(100).startswith(b"HTTP/1.1 200")
    except socket.timeout:
        return False
# the cap: four open connections, a fifth waits for one of them to go
idle = [conn() for _ in range(4)]
time.sleep(0.3)
fifth = conn()
fifth.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
print("fifth while four are open:", answered(fifth, 1.0))
idle[0].close()
print("fifth once one closed:", answered(fifth, 3.0))
for s in idle[1:] + [fifth]:
    s.close()
time.sleep(0.3)
# a request that trickles in is cut at the request deadline (2 s), bytes or not
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\n")
t0 = time.time()
closed = False
while time.time() - t0 < 6:
    try:
        s.sendall(b"X-a: b\r\n")
        s.settimeout(0.4)
        if s.recv(100) == b"":
            closed = True
            break
    except socket.timeout:
        continue
    except OSError:
        closed = True
        break
print("slow request closed near 2 s:", closed and 1.5 < time.time() - t0 < 4.5)
# an idle keep-alive connection goes after the idle timeout (3 s)
s = conn()
s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(2)
s.recv(1000)
t0 = time.time()
s.settimeout(8)
try:
    gone = s.recv(100) == b""
except OSError:
    gone = True
print("idle connection closed near 3 s:", gone and 2 < time.time() - t0 < 6)
PY
eq "connection cap: the fifth waits" "fifth while four are open: False" "$(sed -n 1p "$T_TMP/conn.out")"
eq "connection cap: and is served when one goes" "fifth once one closed: True" "$(sed -n 2p "$T_TMP/conn.out")"
eq "request deadline" "slow request closed near 2 s: True" "$(sed -n 3p "$T_TMP/conn.out")"
eq "idle timeout" "idle connection closed near 3 s: True" "$(sed -n 4p "$T_TMP/conn.out")"

code=$(curl -s -o /dev/null -w '%{http_code}' -H "X-Big: $(head -c 8000 /dev/zero | tr '\0' a)" "$IURL/micro/all")
check "headers over --max-header-bytes are refused ($code)" sh -c "[ '$code' != 200 ]"
head -c 10000 /dev/zero | tr '\0' ' ' >"$T_TMP/body"
eq "a body over --max-body-bytes: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T_TMP/body" "$IURL/micro/good")"
eq "PUT: not implemented (evhttp answers 501)" 501 "$(curl -s -o /dev/null -w '%{http_code}' -X PUT "$IURL/micro/all")"
python3 - "$IPORT" <<'PY'
import socket, sys
port = int(sys.argv[1])
for junk in [b"\x00\xff garbage\r\n\r\n", b"GET /micro/all HTTP/9.9\r\n\r\n", b"GET\r\n\r\n",
             b"POST /micro/good HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
             b"POST /micro/good HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=3)
    s.sendall(junk)
    try:
        s.recv(1000)
    except OSError:
        pass
    s.close()
PY
check "malformed requests leave it serving" curl -sf -o /dev/null "$IURL/health"

# the UI's files
curl -s -D "$T_TMP/uh" -o "$T_TMP/ui.html" "$IURL/micro/ui"
check "/micro/ui is the page" grep -q '<title>furrow inspect</title>' "$T_TMP/ui.html"
check "as text/html" grep -qi '^content-type: text/html' "$T_TMP/uh"
check "with a content security policy" grep -qi "^content-security-policy: default-src 'self'" "$T_TMP/uh"
eq "/micro/ui/app.js" "200 text/javascript; charset=utf-8" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$IURL/micro/ui/app.js")"
eq "/micro/ui/style.css" "200 text/css; charset=utf-8" "$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$IURL/micro/ui/style.css")"
eq "no way out of the directory (..)" 404 "$(curl -s -o /dev/null -w '%{http_code}' --path-as-is "$IURL/micro/ui/../../../etc/passwd")"
eq "no way out of the directory (%2e%2e)" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/ui/%2e%2e%2f%2e%2e%2fetc%2fpasswd")"
eq "no hidden files" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/ui/.htaccess")"
eq "no missing files" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/ui/nope.js")"
eq "/micro/config" '{"collector":null,"tokenRequired":false}' "$(j /micro/config | jq -c '{collector, tokenRequired}')"
stop_inspect

# the access token, from the environment (never argv)
FURROW_INSPECT_TOKEN=s3cret-token start_inspect --source "log:$d/good.tsv" || fail "start with a token"
eq "no token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/all")"
check "401 says what to send" sh -c "curl -s -D - '$IURL/micro/all' | grep -qi '^www-authenticate: Bearer'"
eq "wrong token: 401" 401 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$IURL/micro/all")"
eq "right token: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret-token' "$IURL/micro/all")"
eq "every API endpoint asks" 401 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$IURL/micro/reset")"
eq "the UI's files do not (they hold no data)" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/ui")"
eq "/health does not" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/health")"
eq "a preflight does not" 200 "$(curl -s -o /dev/null -w '%{http_code}' -X OPTIONS "$IURL/micro/all")"
eq "/micro/config tells the UI" true "$(j /micro/config | jq .tokenRequired)"
check "the token is not in the process's arguments" sh -c "! grep -q s3cret /proc/$IPID/cmdline"
stop_inspect
echo "file-token" >"$d/token"
start_inspect --source "log:$d/good.tsv" --token-file "$d/token" || fail "start with --token-file"
eq "--token-file" "401 200" "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/all") $(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer file-token' "$IURL/micro/all")"
stop_inspect

# listening beyond loopback without a token is allowed, and said loudly
port=$(free_port)
"$FURROW_BIN/inspect" --bind 0.0.0.0 -p "$port" --source "log:$d/good.tsv" --stats-interval 0 2>"$T_TMP/open.log" &
pid=$!; T_PIDS="$T_PIDS $pid"
wait_for 10 curl -sf -o /dev/null "http://127.0.0.1:$port/health"
check "a warning about an open non-local bind" grep -q "without an access token: anyone who can reach the port" "$T_TMP/open.log"
kill "$pid"; wait "$pid"
start_inspect --source "log:$d/good.tsv" --no-ui || fail "start --no-ui"
eq "--no-ui" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/ui")"
stop_inspect
done_testing
