#!/bin/sh
# collector over HTTPS (issue 16): --tls-cert/--tls-key/--tls-port through OpenSSL, with a CA,
# an intermediate and leaf certificates made here by the openssl CLI. Checks the flags and their
# startup errors (78 for a certificate or key that cannot be used), HTTPS next to plain HTTP,
# TLS 1.2+ only, keep-alive, the sp cookie's attributes, the handshake as part of the request
# deadline (a silent or trickling handshake is closed like a slowloris request), plain HTTP sent
# to the TLS port, a certificate reload on SIGHUP while a keep-alive client keeps sending (no
# request lost, no connection dropped), Snowplow's Node tracker trusting the test CA through
# NODE_EXTRA_CA_CERTS, and Snowplow's browser tracker in headless Chromium trusting it through an
# NSS database (a screenshot goes to build/test-output/collector_tls/).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"
. "$FURROW_ROOT/tests/tools/tls_certs.sh"

C="$FURROW_BIN/collector"
P="$T_TMP/pki"
tls_certs "$P" || { cat "$P/openssl.log"; fail "openssl could not make the test PKI"; done_testing; exit; }
TLS_CLIENT="python3 $TOOLS/tls_client.py"

# --- flags and startup errors -------------------------------------------------------------------
"$C" -p 0 --tls-cert "$P/server.pem" -o /dev/null 2>"$T_TMP/e"; eq "--tls-cert without --tls-key: 64" 64 "$?"
"$C" -p 0 --tls-port 8443 -o /dev/null 2>"$T_TMP/e"; eq "--tls-port without a certificate: 64" 64 "$?"
"$C" -p 0 --tls-port 70000 --tls-cert "$P/server.pem" --tls-key "$P/server.key" 2>"$T_TMP/e"
eq "--tls-port out of range: 64" 64 "$?"
"$C" --bind 127.0.0.1 -p 0 --tls-port 0 --tls-cert "$P/server.pem" --tls-key "$P/other.key" \
    -o "$T_TMP/x" 2>"$T_TMP/e"; rc=$?
eq "certificate and key that do not belong together: 78" 78 "$rc"
check "... says so" grep -q "^collector: .* error: TLS: private key $P/other.key does not match certificate $P/server.pem\$" "$T_TMP/e"
"$C" --bind 127.0.0.1 -p 0 --tls-port 0 --tls-cert "$P/missing.pem" --tls-key "$P/server.key" \
    -o "$T_TMP/x" 2>"$T_TMP/e"; rc=$?
eq "missing certificate file: 78" 78 "$rc"
check "... says which and why" grep -q "error: TLS: certificate $P/missing.pem: No such file or directory" "$T_TMP/e"
"$C" --bind 127.0.0.1 -p 0 --tls-port 0 --tls-cert "$P/server.key" --tls-key "$P/server.key" \
    -o "$T_TMP/x" 2>"$T_TMP/e"; rc=$?
eq "a key given as the certificate: 78" 78 "$rc"
check "... says why (OpenSSL's reason)" grep -q "error: TLS: certificate $P/server.key: no start line" "$T_TMP/e"

# --- both listeners, one collector -------------------------------------------------------------
# certificate files the SIGHUP test below replaces, as a renewal would
cp "$P/server.pem" "$T_TMP/cert.pem"; cp "$P/server.key" "$T_TMP/key.pem"
TPORT=$(free_port)
start_collector -o "$T_TMP/out.raw" --request-timeout 2 --tls-port "$TPORT" \
    --tls-cert "$T_TMP/cert.pem" --tls-key "$T_TMP/key.pem" || fail "start with TLS"
S="https://localhost:$TPORT"
check "startup log names the TLS port and certificate" grep -q "listening on 127.0.0.1 port $TPORT (TLS: /CN=furrow-leaf-1, valid until" "$T_TMP/err.log"
code=$(curl -s --cacert "$P/ca.pem" -o "$T_TMP/px" -D "$T_TMP/h1" -w '%{http_code}' "$S/i?e=pv&tv=curl-tls")
eq "curl over HTTPS trusting only the root CA (chain sent by the server): 200" 200 "$code"
check "... the pixel" sh -c "[ \$(wc -c <'$T_TMP/px') -eq 43 ]"
eq "plain HTTP on --port at the same time: 200" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/i?e=pv&tv=curl-plain")"
# Snowplow's collector sets the cookie attributes from its configuration, whatever the scheme:
# Service.cookieHeader builds ResponseCookie(..., sameSite = cookieConfig.sameSite, secure =
# cookieConfig.secure, httpOnly = cookieConfig.httpOnly) and reference.conf defaults them to
# secure = true, httpOnly = true, sameSite = "None" (snowplow/stream-collector,
# core/src/main/scala/.../collector/core/Service.scala, core/src/main/resources/reference.conf).
# Over HTTPS that is what a browser needs to send the cookie back from a third-party context.
check "sp cookie over HTTPS: SameSite=None; Secure; HttpOnly" grep -qi '^Set-Cookie: sp=[0-9a-f-]*; Expires=[^;]*; Path=/; SameSite=None; Secure; HttpOnly' "$T_TMP/h1"
# HTTP/1.1 keep-alive over TLS: three requests, one connection
nc=$(curl -s --cacert "$P/ca.pem" -o /dev/null -o /dev/null -o /dev/null -w '%{num_connects}' \
    "$S/i?e=pv&ka=1" "$S/i?e=pv&ka=2" "$S/i?e=pv&ka=3" | tr -d '\n')
eq "keep-alive over TLS: 3 requests on 1 connection" 100 "$nc"
check "TLS 1.2 accepted" curl -sf --cacert "$P/ca.pem" --tlsv1.2 --tls-max 1.2 -o /dev/null "$S/health"
check "TLS 1.3 accepted" curl -sf --cacert "$P/ca.pem" --tlsv1.3 -o /dev/null "$S/health"
check "TLS 1.1 refused" sh -c "! openssl s_client -connect 127.0.0.1:$TPORT -tls1_1 </dev/null >/dev/null 2>&1"
check "curl without the CA refuses the certificate" sh -c "! curl -s -o /dev/null '$S/health'"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$TPORT/health")
eq "plain HTTP to the TLS port: no HTTP answer" 000 "$code"
check "... the collector still serves HTTPS" curl -sf --cacert "$P/ca.pem" -o /dev/null "$S/health"
# POST of a tracker payload over TLS, chunked
body='{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv","tv":"curl-post","p":"web"}]}'
code=$(printf '%s' "$body" | curl -s --cacert "$P/ca.pem" -o /dev/null -w '%{http_code}' \
    -H 'Content-Type: application/json' -H 'Transfer-Encoding: chunked' --data-binary @- \
    "$S/com.snowplowanalytics.snowplow/tp2")
eq "POST /tp2 over TLS (chunked): 200" 200 "$code"

# the same limits as plain HTTP (collector.md §10.1): an over-long request line is 414
long=$(head -c 30000 /dev/zero | tr '\0' a)
eq "over TLS, a 30000-byte request line: 414" 414 "$(curl -s --cacert "$P/ca.pem" -o /dev/null -w '%{http_code}' "$S/i?e=pv&x=$long")"

# mangled handshakes: a real ClientHello with bytes changed or cut short, random records
n=$($TLS_CLIENT garbage "$TPORT" 150 16)
eq "150 mangled handshakes: each one closed by the server" 150 "$n"
check "... the collector still serves HTTPS" curl -sf --cacert "$P/ca.pem" -o /dev/null "$S/health"

# --- the handshake is under the request deadline (--request-timeout 2) --------------------------
t=$($TLS_CLIENT silent "$TPORT" 15)
check "a connection that never starts the handshake is closed at the deadline ($t s)" \
    sh -c "[ '$t' != open ] && awk 'BEGIN{exit !($t >= 1.5 && $t < 8)}'"
t=$($TLS_CLIENT trickle "$TPORT" 15)
check "a ClientHello trickled a byte at a time is closed at the deadline ($t s)" \
    sh -c "[ '$t' != open ] && awk 'BEGIN{exit !($t >= 1.5 && $t < 8)}'"
check "... the collector still serves HTTPS" curl -sf --cacert "$P/ca.pem" -o /dev/null "$S/health"

# --- SIGHUP: a renewed certificate while a keep-alive client is sending -------------------------
eq "before the reload: leaf 1" furrow-leaf-1 "$($TLS_CLIENT subject "$TPORT" "$P/ca.pem")"
lines_before=$(lines "$T_TMP/out.raw")
$TLS_CLIENT keepalive "$TPORT" "$P/ca.pem" "$T_TMP/stop" >"$T_TMP/ka.out" 2>"$T_TMP/ka.err" &
kpid=$!
T_PIDS="$T_PIDS $kpid"
wait_for 20 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge $((lines_before + 50)) ]"
cp "$P/renewed.pem" "$T_TMP/cert.pem"; cp "$P/renewed.key" "$T_TMP/key.pem"
kill -HUP "$CPID"
check "SIGHUP: reload logged with the new certificate" wait_for 10 grep -q "SIGHUP: TLS certificate reloaded: /CN=furrow-leaf-2" "$T_TMP/err.log"
n=$(lines "$T_TMP/out.raw")
check "the keep-alive client goes on sending after the reload" wait_for 20 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge $((n + 50)) ]"
eq "a new handshake gets the renewed certificate" furrow-leaf-2 "$($TLS_CLIENT subject "$TPORT" "$P/ca.pem")"
# a broken renewal (key of another certificate): the previous one stays in service
cp "$P/other.key" "$T_TMP/key.pem"
kill -HUP "$CPID"
check "SIGHUP with a mismatched key: error logged" wait_for 10 grep -q "error: SIGHUP: TLS: private key $T_TMP/key.pem does not match certificate $T_TMP/cert.pem (still serving the previous certificate)" "$T_TMP/err.log"
eq "... still serving leaf 2" furrow-leaf-2 "$($TLS_CLIENT subject "$TPORT" "$P/ca.pem")"
touch "$T_TMP/stop"
wait "$kpid"
read -r answered errors conns <"$T_TMP/ka.out" || true
check "keep-alive client: sent through both reloads ($answered answered)" sh -c "[ '${answered:-0}' -ge 100 ]"
eq "keep-alive client: no failed request" 0 "${errors:-x}"
eq "keep-alive client: one connection from start to end" 1 "${conns:-x}"
wait_for 10 sh -c "[ \$(python3 '$TOOLS/collector_decode.py' <'$T_TMP/out.raw' | grep -c 'tv=tls-keepalive') -ge ${answered:-0} ]"
eq "keep-alive client: every request answered 200 is a record" "${answered:-0}" \
    "$(python3 "$TOOLS/collector_decode.py" <"$T_TMP/out.raw" | grep -c 'tv=tls-keepalive')"
[ "${errors:-0}" = 0 ] || diag "$(cat "$T_TMP/ka.err")"

# --- Snowplow's Node tracker over HTTPS, trusting the test CA ----------------------------------
if command -v node >/dev/null 2>&1 && command -v bash >/dev/null 2>&1 &&
    NODE_PATH=$(bash -c ". '$FURROW_ROOT/tests/setup-npm.sh' && npm_setup >/dev/null && echo \"\$NODE_PATH\"" 2>"$T_TMP/npm.err"); then
	before=$(lines "$T_TMP/out.raw")
	out=$(cd "$T_TMP" && NODE_PATH=$NODE_PATH NODE_EXTRA_CA_CERTS="$P/ca.pem" \
	    node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$S" tls-node post 2>"$T_TMP/node.err"); rc=$?
	eq "node tracker over HTTPS (NODE_EXTRA_CA_CERTS): exit 0" 0 "$rc"
	# the tracker batches its 9 events into POSTs; count the events by app id in what was stored
	check "node tracker: its 9 events stored" wait_for 10 sh -c "tail -n +$((before + 1)) '$T_TMP/out.raw' | python3 '$TOOLS/collector_decode.py' | grep -o '.aid.....tls-node.' | wc -l | grep -qx 9"
	[ "$rc" = 0 ] || diag "$(cat "$T_TMP/node.err")"
	before=$(lines "$T_TMP/out.raw")
	(cd "$T_TMP" && NODE_PATH=$NODE_PATH timeout 60 node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$S" tls-node-untrusted post >/dev/null 2>&1)
	eq "node tracker without the CA: nothing stored (the handshake fails)" "$before" "$(lines "$T_TMP/out.raw")"
else
	skip "node tracker over HTTPS" "node or the npm test clients unavailable: $(tail -1 "$T_TMP/npm.err" 2>/dev/null)"
fi

# --- Snowplow's browser tracker in headless Chromium, trusting the test CA ---------------------
# Chromium on Linux trusts the CAs of the NSS database in $HOME/.pki/nssdb: a fresh HOME with
# the test root in it, nothing else (no --ignore-certificate-errors). Without it: no request.
if [ -n "${NODE_PATH:-}" ] && command -v certutil >/dev/null 2>&1 && [ -x "${CHROMIUM:-/usr/bin/chromium}" ]; then
	mkdir -p "$T_TMP/home/.pki/nssdb"
	certutil -d "sql:$T_TMP/home/.pki/nssdb" -N --empty-password &&
	    certutil -d "sql:$T_TMP/home/.pki/nssdb" -A -t "C,," -n furrow-test-root -i "$P/ca.pem"
	shots=${FURROW_TEST_OUT:-$FURROW_ROOT/build/test-output}/collector_tls
	mkdir -p "$shots"
	before=$(lines "$T_TMP/out.raw")
	# the page on https://localhost too (same site as the collector: a first-party cookie)
	bout=$(cd "$T_TMP" && HOME=$T_TMP/home NODE_PATH=$NODE_PATH SCREENSHOT=$shots/browser-https.png \
	    PAGE_TLS_CERT=$P/server.pem PAGE_TLS_KEY=$P/server.key \
	    node "$FURROW_ROOT/tests/e2e/browser.js" "$S" tls-browser 2>"$T_TMP/browser.err"); rc=$?
	eq "browser tracker over HTTPS: 3 POSTs answered 200" 0 "$rc"
	[ "$rc" = 0 ] || diag "$bout $(tail -5 "$T_TMP/browser.err")"
	check "... the sp cookie set, Secure and SameSite=None as the browser stored it" sh -c "echo '$bout' | grep -q '\"nuid\":\"[0-9a-f-]\{36\}\".*\"cookieSecure\":true,\"cookieSameSite\":\"None\"'"
	check "... its events stored" wait_for 10 sh -c "tail -n +$((before + 1)) '$T_TMP/out.raw' | python3 '$TOOLS/collector_decode.py' | grep -q 'tls-browser'"
	check "... screenshot saved ($shots/browser-https.png)" test -s "$shots/browser-https.png"
	mkdir -p "$T_TMP/home2"
	(cd "$T_TMP" && HOME=$T_TMP/home2 NODE_PATH=$NODE_PATH timeout 120 node "$FURROW_ROOT/tests/e2e/browser.js" "$S" tls-untrusted >"$T_TMP/b2.out" 2>&1); rc=$?
	check "browser without the test CA: the tracker's requests fail" sh -c "[ $rc -ne 0 ] && ! grep -q '\"statuses\":\[200' '$T_TMP/b2.out'"
else
	skip "browser tracker over HTTPS" "needs the npm clients, certutil (libnss3-tools) and chromium"
fi

stop_collector
eq "SIGTERM: exit 0" 0 "$CRC"
check "no corrupt record" decode_ok "$T_TMP/out.raw"
check "TLS stats at exit" grep -q "stats at exit: .*; tls_connections=[1-9][0-9]* tls_open=0 tls_handshake_errors=[1-9]" "$T_TMP/err.log"
done_testing
