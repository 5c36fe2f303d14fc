#!/bin/sh
# collector: size limits, tp2 splitting and size_violation rows (collector.md §10), request-line
# and header caps, timeouts, the connection cap, and malformed requests that must never crash
# it, stall other clients or produce a corrupt line.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --max-record-bytes 3000 \
    --max-payload-bytes 20000 --drop-payload-bytes 50000 --max-request-line 2000 \
    --max-header-bytes 4000 --request-timeout 2 --max-connections 8 || fail "start"

# a tp2 body: 12 events of ~500 bytes, one of 5000 bytes (too big alone), in a known order
python3 - "$T_TMP" <<'PY'
import json, sys
d = sys.argv[1]
ev = [{"e": "pv", "eid": "%02d" % i, "pad": "x" * 480} for i in range(12)]
ev.insert(5, {"e": "ue", "eid": "big", "pad": "y" * 5000})
body = {"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": ev, "extra": 1}
open(d + "/split.json", "w").write(json.dumps(body))
open(d + "/split.eids", "w").write(" ".join(e["eid"] for e in ev if e["eid"] != "big"))
PY
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
    --data-binary @"$T_TMP/split.json" "$URL/com.snowplowanalytics.snowplow/tp2")
eq "oversized batch: 200" 200 "$code"
wait_for 5 sh -c "[ -s '$T_TMP/bad.json' ]"
decode "$T_TMP/out.raw" >"$T_TMP/dec.json"
nrec=$(wc -l <"$T_TMP/dec.json")
check "split into several records ($nrec)" sh -c "[ $nrec -ge 3 ]"
check "every record under the target" sh -c "jq -e '._size < 3000' '$T_TMP/dec.json' | grep -qv false"
eq "events kept in input order, the big one left out" "$(cat "$T_TMP/split.eids")" \
    "$(jq -r '.body | fromjson | .data[].eid' "$T_TMP/dec.json" | tr '\n' ' ' | sed 's/ $//')"
eq "batch bodies keep only schema and data" '["data","schema"]' \
    "$(jq -c '.body | fromjson | keys' "$T_TMP/dec.json" | sort -u)"
eq "batch schema is the original" "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4" \
    "$(jq -r '.body | fromjson | .schema' "$T_TMP/dec.json" | sort -u)"
eq "other fields copied to every batch" "/com.snowplowanalytics.snowplow/tp2 application/json" \
    "$(jq -r '"\(.path) \(.contentType)"' "$T_TMP/dec.json" | sort -u)"
eq "one bad row for the big event" 1 "$(lines "$T_TMP/bad.json")"
jq -c . "$T_TMP/bad.json" >/dev/null 2>&1 && ok "bad row is JSON" || fail "bad row is JSON"
eq "bad row schema" "iglu:com.snowplowanalytics.snowplow.badrows/size_violation/jsonschema/1-0-0" "$(jq -r .schema "$T_TMP/bad.json")"
eq "bad row processor" '{"artifact":"furrow-collector","version":"0.1.0"}' "$(jq -c .data.processor "$T_TMP/bad.json")"
eq "bad row sizes" "3000 $(python3 -c 'import json;print(len(json.dumps({"e":"ue","eid":"big","pad":"y"*5000},separators=(",",":"))))')" \
    "$(jq -r '"\(.data.failure.maximumAllowedSizeBytes) \(.data.failure.actualSizeBytes)"' "$T_TMP/bad.json")"
eq "bad row expectation" "oversized collector payload: this POST request split is still too large" "$(jq -r .data.failure.expectation "$T_TMP/bad.json")"
eq "bad row payload cut to max/10" 300 "$(jq -r '.data.payload | length' "$T_TMP/bad.json")"
check "bad row timestamp is an Instant" sh -c "jq -r .data.failure.timestamp '$T_TMP/bad.json' | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{3})?Z$'"

# W > P: one size_violation, nothing stored
recs=$(lines "$T_TMP/out.raw")
python3 -c 'print("{\"schema\":\"s\",\"data\":[" + ",".join(["{\"p\":\"" + "z"*1000 + "\"}"]*25) + "]}")' >"$T_TMP/huge.json"
code=$(curl -s -o "$T_TMP/huge.out" -w "%{http_code}" --data-binary @"$T_TMP/huge.json" "$URL/com.snowplowanalytics.snowplow/tp2")
eq "payload over --max-payload-bytes: 200" 200 "$code"
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/bad.json') -ge 2 ]"
eq "over P: max = P" 20000 "$(tail -n 1 "$T_TMP/bad.json" | jq -r .data.failure.maximumAllowedSizeBytes)"
check "over P: expectation" sh -c "tail -n 1 '$T_TMP/bad.json' | jq -r .data.failure.expectation | grep -q '^oversized collector payload: Payload exceeds max size of 20000. Actual length: '"
check "over P: payload is the toString rendering" sh -c "tail -n 1 '$T_TMP/bad.json' | jq -r .data.payload | grep -q '^CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0, ipAddress:127.0.0.1, timestamp:'"
eq "over P: payload length P/10" 2000 "$(tail -n 1 "$T_TMP/bad.json" | jq -r '.data.payload | length')"
# a body that is not JSON, between R and P
head -c 5000 /dev/zero | tr '\0' 'a' >"$T_TMP/notjson"
curl -s -o /dev/null --data-binary @"$T_TMP/notjson" "$URL/com.snowplowanalytics.snowplow/tp2"
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/bad.json') -ge 3 ]"
check "not JSON: cannot split" sh -c "tail -n 1 '$T_TMP/bad.json' | jq -r .data.failure.expectation | grep -q '^oversized collector payload: cannot split POST requests which are not json'"
eq "not JSON: max = R" 3000 "$(tail -n 1 "$T_TMP/bad.json" | jq -r .data.failure.maximumAllowedSizeBytes)"
# JSON without a data array
python3 -c 'print("{\"schema\":\"s\",\"data\":{\"p\":\"" + "z"*4000 + "\"}}")' >"$T_TMP/nodata.json"
curl -s -o /dev/null --data-binary @"$T_TMP/nodata.json" "$URL/com.snowplowanalytics.snowplow/tp2"
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/bad.json') -ge 4 ]"
eq "no data array" "oversized collector payload: cannot split POST requests which do not contain a data array" \
    "$(tail -n 1 "$T_TMP/bad.json" | jq -r .data.failure.expectation)"
# a GET that is too big cannot be split
q=$(head -c 1900 /dev/zero | tr '\0' 'q')
curl -s -o /dev/null -H "X-Pad: $(head -c 1500 /dev/zero | tr '\0' 'p')" "$URL/i?e=pv&x=$q"
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/bad.json') -ge 5 ]"
eq "GET too big" "oversized collector payload: GET requests cannot be split" "$(tail -n 1 "$T_TMP/bad.json" | jq -r .data.failure.expectation)"
eq "none of those stored a record" "$recs" "$(lines "$T_TMP/out.raw")"

# 413, 414, 431
head -c 60000 /dev/zero | tr '\0' 'b' >"$T_TMP/drop.body"
eq "body over --drop-payload-bytes: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T_TMP/drop.body" "$URL/com.snowplowanalytics.snowplow/tp2")"
eq "chunked body over the limit: 413" 413 "$(curl -s -o /dev/null -w '%{http_code}' -H 'Transfer-Encoding: chunked' --data-binary @"$T_TMP/drop.body" "$URL/com.snowplowanalytics.snowplow/tp2")"
eq "request line over the cap: 414" 414 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/i?x=$(head -c 2100 /dev/zero | tr '\0' 'l')")"
eq "header block over the cap: 431" 431 "$(curl -s -o /dev/null -w '%{http_code}' -H "X-A: $(head -c 2100 /dev/zero | tr '\0' 'h')" -H "X-B: $(head -c 2100 /dev/zero | tr '\0' 'h')" "$URL/i")"
n431=$(python3 -c 'print("GET /i HTTP/1.1\r\n" + "".join("X-%d: v\r\n" % i for i in range(200)) + "\r\n", end="")' | raw --status)
eq "too many header fields: 431" 431 "$n431"
eq "nothing stored by 413/414/431" "$recs" "$(lines "$T_TMP/out.raw")"

# malformed requests: each answered (or closed), never a crash, never a record
m() { printf '%b' "$2" | raw --status --timeout 5 >"$T_TMP/st"; eq "$1" "$3" "$(cat "$T_TMP/st")"; }
m "bad method token: 400" 'G@T /i HTTP/1.1\r\nHost: x\r\n\r\n' 400
m "unknown method: 404" 'FOO /i HTTP/1.1\r\nHost: x\r\n\r\n' 404
m "no HTTP version: 400" 'GET /i\r\n\r\n' 400
m "HTTP/2.0 text: 505" 'GET /i HTTP/2.0\r\nHost: x\r\n\r\n' 505
m "garbage version: 400" 'GET /i HTTP/1.1x\r\n\r\n' 400
m "header without colon: 400" 'GET /i HTTP/1.1\r\nHost x\r\n\r\n' 400
m "space before colon: 400" 'GET /i HTTP/1.1\r\nHost : x\r\n\r\n' 400
m "obsolete line folding: 400" 'GET /i HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n' 400
m "control character in a header: 400" 'GET /i HTTP/1.1\r\nX-A: a\001b\r\n\r\n' 400
m "NUL in the target: 400" 'GET /i\000x HTTP/1.1\r\nHost: x\r\n\r\n' 400
m "bad Content-Length: 400" 'POST /a/b HTTP/1.1\r\nContent-Length: 1x\r\n\r\n' 400
m "two Content-Lengths: 400" 'POST /a/b HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab' 400
m "CL and TE together: 400" 'POST /a/b HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n' 400
m "unknown transfer coding: 501" 'POST /a/b HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n' 501
m "bad chunk size: 400" 'POST /a/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' 400
m "invalid escape in a path segment: 400" 'GET /com.acme/tp%2 HTTP/1.1\r\nHost: x\r\n\r\n' 400
m "relative target: 400" 'GET i HTTP/1.1\r\nHost: x\r\n\r\n' 400
# RFC 9112 §3.2: a server MUST answer 400 to an HTTP/1.1 request without Host, with two, or with
# an invalid value; HTTP/1.0 needs none
m "HTTP/1.1 without Host: 400" 'GET /health HTTP/1.1\r\n\r\n' 400
m "HTTP/1.1 with two Hosts: 400" 'GET /health HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n' 400
m "HTTP/1.1 with an invalid Host: 400" 'GET /health HTTP/1.1\r\nHost: a b\r\n\r\n' 400
m "HTTP/1.0 without Host: 200" 'GET /health HTTP/1.0\r\n\r\n' 200
# RFC 9110 §9.1: the method is case-sensitive; a lower-case one is malformed (400, as nginx), not an
# unknown route
m "lower-case method: 400" 'get /health HTTP/1.1\r\nHost: x\r\n\r\n' 400
m "mixed-case method: 400" 'Get /i?e=pv HTTP/1.1\r\nHost: x\r\n\r\n' 400
# a request cut short by a half-close (the client still reads): 400, not a silent close
# (RFC 9112 §6.3: the message is incomplete; the server answers before it closes)
hc() { printf '%b' "$2" | raw --shut --status --timeout 5 >"$T_TMP/st"; eq "$1" "$3" "$(cat "$T_TMP/st")"; }
hc "body shorter than Content-Length, then half-close: 400" 'POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b' 400
hc "chunked body cut, then half-close: 400" 'POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab' 400
hc "head cut, then half-close: 400" 'GET /i?e=pv HTTP/1.1\r\nHost: x' 400
hc "a whole request, then half-close: answered" 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n' 200
hc "nothing but empty lines, then half-close: closed without an answer" '\r\n\r\n' none
m "bare LF line ends accepted" 'GET /health HTTP/1.1\nHost: x\n\n' 200
printf 'POST /a/b HTTP/1.1\r\nContent-Length: 100\r\n\r\nonly ten b' | raw --half
printf 'POST /a/b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab' | raw --half
printf 'GET /i?e=pv HTTP/1.1\r\nHost: x' | raw --half
printf '\r\n\r\n\r\n' | raw --half
head -c 3000 /dev/urandom | raw --half
eq "truncated requests store nothing" "$recs" "$(lines "$T_TMP/out.raw")"
eq "invalid escapes in the query are stored raw" 200 "$(curl -s -o /dev/null -w '%{http_code}' "$URL/i?e=pv&x=%zz%&y=%E0%A4")"
recs=$((recs + 1))

# slow clients: one byte per second gets 408 after --request-timeout, and does not stall others
printf 'GET /i?e=slow HTTP/1.1\r\nHost: x\r\n\r\n' | raw --slow 1 --timeout 10 >"$T_TMP/slow.out" &
slow=$!
printf 'GET /i?e=hold HTTP/1.1\r\nHost: x\r\n' | raw --timeout 10 >"$T_TMP/hold.out" &
hold=$!
sleep 0.3   # let both connect (not a readiness wait: the checks below hold either way)
fast=$(for i in 1 2 3 4 5; do curl -s -o /dev/null -w '%{http_code} ' --max-time 5 "$URL/i?e=fast$i"; done)
eq "other clients served while slow ones hang on" "200 200 200 200 200 " "$fast"
check "... and the slow clients were still connected meanwhile" kill -0 "$slow"
recs=$((recs + 5))
wait $slow; wait $hold
check "one byte per second: 408" grep -q '^HTTP/1.1 408' "$T_TMP/slow.out"
check "headers never finished: 408" grep -q '^HTTP/1.1 408' "$T_TMP/hold.out"

# connection cap (issue 10): 8 silent connections; a 9th is served at once and the oldest silent
# one is closed to make room. 8 connections in the middle of a body are busy and never closed to
# make room: then the 9th waits until one ends (their 408 after --request-timeout).
python3 - "$PORT" "$T_TMP/cap" <<'PY' &
import os, socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(8)]
time.sleep(0.2)      # let the server accept them all before the 9th comes
open(flag, "w").close()
while not os.path.exists(flag + ".done"):
    time.sleep(0.05)
closed = 0
for s in socks:
    s.setblocking(False)
    try:
        closed += s.recv(1) == b""
    except BlockingIOError:
        pass
    except OSError:
        closed += 1
open(flag + ".closed", "w").write(str(closed))
PY
cap=$!
wait_for 5 test -f "$T_TMP/cap"
t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 8 "$URL/health")
touch "$T_TMP/cap.done"
wait $cap
check "9th connection served at once while 8 silent ones are held ($t)" sh -c "echo '$t' | awk '{exit !(\$1 == 200 && \$2 < 0.5)}'"
eq "... and the oldest silent connection was closed for it" 1 "$(cat "$T_TMP/cap.closed")"
python3 - "$PORT" "$T_TMP/busy" <<'PY' &
import socket, sys, time
port, flag = int(sys.argv[1]), sys.argv[2]
socks = []
for _ in range(8):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"POST /com.snowplowanalytics.snowplow/tp2 HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
    socks.append(s)
time.sleep(0.2)
open(flag, "w").close()
for s in socks:
    s.settimeout(10)
    try:
        s.recv(100)
    except OSError:
        pass
PY
busy=$!
wait_for 5 test -f "$T_TMP/busy"
t=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' --max-time 8 "$URL/health")
wait $busy
check "8 busy connections: the 9th waits for the first to end ($t)" sh -c "echo '$t' | awk '{exit !(\$1 == 200 && \$2 > 0.8)}'"

wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge $recs ]"
eq "records: exactly the accepted tracking requests" "$recs" "$(lines "$T_TMP/out.raw")"
check "no corrupt line" decode_ok "$T_TMP/out.raw"
check "still alive" curl -sf -o /dev/null "$URL/health"
stop_collector
eq "exit 0" 0 "$CRC"
check "exit stats count the server's own answers" grep -q 'server_408=10 server_413=2 server_414=1 server_431=2' "$T_TMP/err.log"
done_testing
