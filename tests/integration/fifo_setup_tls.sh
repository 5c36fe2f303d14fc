#!/bin/bash
# fifo-setup.sh with HTTPS on the collector (issue 16): FURROW_TLS_CERT/FURROW_TLS_KEY (and
# FURROW_TLS_PORT) give the collector its TLS listener next to the plain one; an event sent over
# HTTPS goes through the pipeline; SIGHUP to the collector's pid (not the supervisor's) reloads a
# renewed certificate while the pipeline runs; half a setting is a configuration error (78).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
. "$FURROW_ROOT/tests/tools/tls_certs.sh"
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
# free ports for inspect and iglu-server too: other runs on this machine may hold the defaults
FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
export FURROW_INSPECT_PORT FURROW_IGLU_PORT
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PG_URL FURROW_PORT FURROW_RUN_DIR FURROW_RESTART FURROW_STOP_TIMEOUT

P=$T_TMP/pki
tls_certs "$P" || { fail "openssl could not make the test PKI"; done_testing; exit; }
subject() { python3 "$FURROW_ROOT/tests/tools/tls_client.py" subject "$FURROW_TLS_PORT" "$P/ca.pem"; }

FURROW_TLS_CERT=$P/server.pem FURROW_DATA_DIR=$T_TMP/none bash "$LAUNCHER" start >/dev/null 2>"$T_TMP/e1"
eq "FURROW_TLS_CERT without FURROW_TLS_KEY: 78" 78 $?
check "... says so" grep -q "FURROW_TLS_CERT and FURROW_TLS_KEY go together" "$T_TMP/e1"
FURROW_TLS_CERT=$P/nope.pem FURROW_TLS_KEY=$P/server.key FURROW_DATA_DIR=$T_TMP/none bash "$LAUNCHER" start >/dev/null 2>"$T_TMP/e2"
eq "an unreadable certificate: 78" 78 $?

cp "$P/server.pem" "$T_TMP/cert.pem"; cp "$P/server.key" "$T_TMP/key.pem"
export FURROW_TLS_CERT=$T_TMP/cert.pem FURROW_TLS_KEY=$T_TMP/key.pem FURROW_TLS_PORT=$(free_port)
check "pipeline starts with HTTPS" launcher_start "$T_TMP/a"
check "ready line names the HTTPS port" grep -q "ready: collector on port $FURROW_PORT, HTTPS on port $FURROW_TLS_PORT;" "$T_TMP/a.launcher.log"
eid=00000000-0000-4000-8000-000000000161
code=$(curl -s --cacert "$P/ca.pem" -o /dev/null -w '%{http_code}' "https://localhost:$FURROW_TLS_PORT/i?e=pv&p=web&tv=tls-1&eid=$eid")
eq "an event over HTTPS: 200" 200 "$code"
check "... enriched into good.tsv" wait_for 30 sh -c "cut -f 7 '$FURROW_DATA_DIR/good.tsv' | grep -q '$eid'"
eq "plain HTTP on FURROW_PORT too" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/i?e=pv&p=web&tv=plain-1")"
eq "leaf 1 in service" furrow-leaf-1 "$(subject)"
cp "$P/renewed.pem" "$T_TMP/cert.pem"; cp "$P/renewed.key" "$T_TMP/key.pem"
kill -HUP "$(pid_of collector)"
check "SIGHUP to the collector: renewed certificate in service" wait_for 10 sh -c "[ \"\$(python3 '$FURROW_ROOT/tests/tools/tls_client.py' subject '$FURROW_TLS_PORT' '$P/ca.pem')\" = furrow-leaf-2 ]"
alive() { kill -0 "$LPID" && running collector; }
check "... and the pipeline goes on (supervisor and collector running)" alive
check "status shows the collector's TLS counters" wait_for 10 sh -c "bash '$LAUNCHER' status 2>&1 | grep -Eq '^collector +pid [0-9]+ +running +stats.*tls_connections=[1-9]'"
bash "$LAUNCHER" status 2>&1 | grep '^collector' | sed 's/^/# /' 
bash "$LAUNCHER" stop >/dev/null 2>&1
launcher_wait
eq "stop: exit 0" 0 "$LRC"
done_testing
