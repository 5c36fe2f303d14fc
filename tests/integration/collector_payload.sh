#!/bin/sh
# collector: every CollectorPayload field of every stored record (collector.md §7-§9,
# enriched-event.md §12), decoded by an independent Python decoder.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

n=0
next() { n=$((n + 1)); wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw' 2>/dev/null || echo 0) -ge $n ]"; }
last() { tail -n 1 "$T_TMP/out.raw" | python3 "$TOOLS/collector_decode.py"; }

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" || fail "start"

# A GET with every header the payload cares about
t0=$(date +%s%3N)
curl -s -o /dev/null -A 'Mozilla/5.0 (test) ü' -e 'https://ref.example/page?x=1' \
    -H 'Cookie: a=b; sp=11111111-2222-4333-8444-555555555555;  c=d;bad=x y"z' \
    -H 'X-Custom:   spaced value  ' -H 'Cookie: second=1' \
    "$URL/i?e=pv&url=http%3A%2F%2Fx.com%2F&tv=js-3.0.0&aid=%zz+raw"; next
t1=$(date +%s%3N)
last >"$T_TMP/p.json"
j() { jq -r "$1" "$T_TMP/p.json"; }
eq "schema" "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0" "$(j .schema)"
eq "ipAddress: the peer" "127.0.0.1" "$(j .ipAddress)"
check "timestamp: arrival time in ms" sh -c "[ $(j .timestamp) -ge $((t0 - 1000)) ] && [ $(j .timestamp) -le $((t1 + 1000)) ]"
eq "encoding" "UTF-8" "$(j .encoding)"
eq "collector" "furrow-collector-0.1.0-stdout" "$(j .collector)"
eq "userAgent" "Mozilla/5.0 (test) ü" "$(j .userAgent)"
eq "refererUri" "https://ref.example/page?x=1" "$(j .refererUri)"
eq "path" "/i" "$(j .path)"
eq "querystring raw, not decoded" "e=pv&url=http%3A%2F%2Fx.com%2F&tv=js-3.0.0&aid=%zz+raw" "$(j .querystring)"
eq "body unset for GET" "null" "$(j .body)"
eq "contentType unset for GET" "null" "$(j .contentType)"
eq "hostname without the port" "127.0.0.1" "$(j .hostname)"
eq "networkUserId from the cookie" "11111111-2222-4333-8444-555555555555" "$(j .networkUserId)"
eq "headers: in order, as received, cookies re-rendered, no extra element" \
    "$(printf '%s\n' "Host: 127.0.0.1:$PORT" 'User-Agent: Mozilla/5.0 (test) ü' 'Accept: */*' \
      'Referer: https://ref.example/page?x=1' \
      'Cookie: a=b;sp=11111111-2222-4333-8444-555555555555;c=d' \
      'X-Custom: spaced value' 'Cookie: second=1')" \
    "$(j '.headers[]')"

# POST: body, content type normalised, the bare content-type quirk last
curl -s -o /dev/null -H 'Content-Type: Application/JSON;Charset=UTF-8' \
    --data-binary '{"schema":"s","data":[{"e":"pv","p":"wé"}]}' \
    "$URL/com.snowplowanalytics.snowplow/tp2?x=1"; next
last >"$T_TMP/p.json"
eq "POST: path" "/com.snowplowanalytics.snowplow/tp2" "$(j .path)"
eq "POST: querystring" "x=1" "$(j .querystring)"
eq "POST: body" '{"schema":"s","data":[{"e":"pv","p":"wé"}]}' "$(j .body)"
eq "POST: contentType normalised" "application/json; charset=utf-8" "$(j .contentType)"
eq "POST: raw Content-Type header kept" "Content-Type: Application/JSON;Charset=UTF-8" \
    "$(j '.headers[] | select(startswith("Content-Type"))')"
eq "POST: last header is the bare normalised content type" "application/json; charset=utf-8" "$(j '.headers[-1]')"
curl -s -o /dev/null -X POST --data 'a' "$URL/v/tp2"; next
eq "POST: no query gives querystring \"\"" '""' "$(last | jq -c .querystring)"
curl -s -o /dev/null -X POST -H 'Content-Type:' --data-binary '' "$URL/v/tp2"; next
last >"$T_TMP/p.json"
eq "empty POST: body \"\"" '""' "$(jq -c .body "$T_TMP/p.json")"
eq "POST without Content-Type: no contentType" "null" "$(j .contentType)"
# invalid UTF-8 in the body becomes U+FFFD
printf 'ab\377cd' >"$T_TMP/bin.body"
curl -s -o /dev/null -H 'Content-Type: text/plain' --data-binary @"$T_TMP/bin.body" "$URL/v/tp2"; next
eq "invalid UTF-8 body repaired" "ab�cd" "$(last | jq -r .body)"
# unparseable content type: trimmed, lower-cased
curl -s -o /dev/null -H 'Content-Type:  Weird Type ' --data 'x' "$URL/v/tp2"; next
eq "unparseable content type stored trimmed and lower-cased" "weird type" "$(last | jq -r .contentType)"
# chunked POST body
curl -s -o /dev/null -H 'Transfer-Encoding: chunked' -H 'Content-Type: application/json' \
    --data-binary '{"chunked":true}' "$URL/v/tp2"; next
eq "chunked body reassembled" '{"chunked":true}' "$(last | jq -r .body)"
# Expect: 100-continue with a body over 1 kB
head -c 3000 /dev/zero | tr '\0' 'x' >"$T_TMP/big.body"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Expect: 100-continue' --data-binary @"$T_TMP/big.body" "$URL/v/tp2"); next
eq "Expect: 100-continue POST: 200" 200 "$code"
eq "Expect: 100-continue body stored" 3000 "$(last | jq -r '.body | length')"

# X-Forwarded-For: first entry if it is an IP literal
xff() { curl -s -o /dev/null -H "X-Forwarded-For: $1" "$URL/i"; next; IP=$(last | jq -r .ipAddress); }
xff ' 192.0.2.3 , 10.0.0.1'; eq "XFF first entry" "192.0.2.3" "$IP"
xff '2001:db8::1, 10.0.0.1'; eq "XFF IPv6, plain form" "2001:db8::1" "$IP"
xff 'foo, 10.0.0.1'; eq "XFF not an address: unknown" "unknown" "$IP"
eq "XFF kept in headers" "X-Forwarded-For: foo, 10.0.0.1" "$(last | jq -r '.headers[] | select(startswith("X-Forwarded-For"))')"
# X-Real-Ip is not used for the IP
curl -s -o /dev/null -H 'X-Real-Ip: 198.51.100.9' "$URL/i"; next
eq "X-Real-Ip ignored for the IP" "127.0.0.1" "$(last | jq -r .ipAddress)"

# SP-Anonymous: headers removed, ip unknown, nuid zero
curl -s -o /dev/null -H 'SP-Anonymous: *' -H 'X-Forwarded-For: 192.0.2.3' -H 'X-REAL-IP: 192.0.2.4' \
    -H 'Cookie: sp=11111111-2222-4333-8444-555555555555' -H 'Content-Type: application/json' \
    --data '{"a":1}' "$URL/com.snowplowanalytics.snowplow/tp2"; next
last >"$T_TMP/p.json"
eq "SP-Anonymous: ip unknown" "unknown" "$(j .ipAddress)"
eq "SP-Anonymous: nuid zero" "00000000-0000-0000-0000-000000000000" "$(j .networkUserId)"
eq "SP-Anonymous: XFF, X-Real-Ip, Cookie removed" "" "$(j '.headers[] | select(test("^(x-forwarded-for|x-real-ip|cookie):"; "i"))')"
eq "SP-Anonymous: header itself kept" "SP-Anonymous: *" "$(j '.headers[] | select(startswith("SP-Anonymous"))')"

# absolute-form request target: hostname from the URI
printf 'GET http://collector.example.com:9999/i?e=pv HTTP/1.1\r\nHost: other.example\r\nConnection: close\r\n\r\n' | raw >/dev/null; next
eq "absolute-form: hostname from the URI" "collector.example.com" "$(last | jq -r .hostname)"
eq "absolute-form: path" "/i" "$(last | jq -r .path)"
# HTTP/1.0 without Host
printf 'GET /i?e=pv HTTP/1.0\r\n\r\n' | raw >"$T_TMP/r10"; next
check "HTTP/1.0: answered in 1.0" grep -q '^HTTP/1.0 200' "$T_TMP/r10"
eq "no Host: hostname unset" "null" "$(last | jq -r .hostname)"
# a record per request, and every one decodes
check "every record decodes" decode_ok "$T_TMP/out.raw"
eq "records = tracking requests" "$n" "$(lines "$T_TMP/out.raw")"
check "lines are padded standard base64" sh -c "! grep -q '[^A-Za-z0-9+/=]' '$T_TMP/out.raw'"
stop_collector

# IPv6: listen on ::1, the peer address in plain text form (§7)
if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null; then
	P6=$(free_port)
	"$FURROW_BIN/collector" --bind ::1 -p "$P6" --stats-interval 0 -o "$T_TMP/v6.raw" 2>>"$T_TMP/err.log" &
	p6=$!
	T_PIDS="$T_PIDS $p6"
	wait_for 10 curl -sfg "http://[::1]:$P6/health"
	curl -sg -o /dev/null "http://[::1]:$P6/i?e=pv"
	kill -TERM "$p6"; wait "$p6"
	eq "IPv6 peer: plain form" "::1" "$(decode "$T_TMP/v6.raw" | jq -r .ipAddress)"
	eq "IPv6 Host: the bracketed host without the port" "[::1]" "$(decode "$T_TMP/v6.raw" | jq -r .hostname)"
else
	skip "IPv6 peer" "no IPv6 loopback"
	skip "IPv6 Host" "no IPv6 loopback"
fi
done_testing
