#!/bin/sh
# collector: every route's status, headers and body bytes (collector.md §2-§4), and that only
# tracking requests store a record.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" \
    --path-map /com.acme/track=/com.snowplowanalytics.snowplow/tp2 || { fail "collector starts"; done_testing; exit 1; }
ok "collector starts and answers /health"

# status SPEC... -> "code"
st() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
hdr() { curl -s -D - -o /dev/null "$@" | tr -d '\r'; }

# the pixel, byte for byte (§3)
printf '47494638396101000100f00000ffffff00000021f90405000000002c00000000010001000002024401003b' |
    xxd -r -p >"$T_TMP/pixel.gif"
curl -s -o "$T_TMP/i.gif" "$URL/i?e=pv&p=web"
check "GET /i body is the 43-byte pixel" cmp -s "$T_TMP/pixel.gif" "$T_TMP/i.gif"
curl -s -o "$T_TMP/ice.gif" "$URL/ice.png?e=pv"
check "GET /ice.png body is the pixel" cmp -s "$T_TMP/pixel.gif" "$T_TMP/ice.gif"
curl -s -o "$T_TMP/vv.gif" "$URL/com.snowplowanalytics.snowplow/tp2?e=pv"
check "GET /{vendor}/{version} body is the pixel" cmp -s "$T_TMP/pixel.gif" "$T_TMP/vv.gif"
h=$(hdr "$URL/i?e=pv")
check "pixel: 200" sh -c "echo '$h' | grep -q '^HTTP/1.1 200 OK$'"
check "pixel: image/gif" sh -c "echo '$h' | grep -qx 'Content-Type: image/gif'"
check "pixel: Content-Length 43" sh -c "echo '$h' | grep -qx 'Content-Length: 43'"
check "pixel: Cache-Control" sh -c "echo '$h' | grep -qx 'Cache-Control: no-cache, no-store, must-revalidate'"
check "pixel: ACAO * without Origin" sh -c "echo '$h' | grep -qx 'Access-Control-Allow-Origin: \*'"
check "pixel: credentials" sh -c "echo '$h' | grep -qx 'Access-Control-Allow-Credentials: true'"
check "pixel: no P3P" sh -c "! echo '$h' | grep -qi '^P3P'"
check "pixel: no HSTS by default" sh -c "! echo '$h' | grep -qi '^Strict-Transport'"
h=$(hdr -H 'Origin: null https://shop.example.com:8443 http://other.example' "$URL/i")
eq "ACAO is the first usable Origin" "Access-Control-Allow-Origin: https://shop.example.com:8443" \
    "$(echo "$h" | grep '^Access-Control-Allow-Origin')"

# HEAD: headers only
curl -s -I -o "$T_TMP/head.txt" "$URL/i?e=pv"
tr -d '\r' <"$T_TMP/head.txt" >"$T_TMP/head2.txt"
check "HEAD /i: 200, Content-Length 43" grep -qx 'Content-Length: 43' "$T_TMP/head2.txt"
printf 'HEAD /i?e=pv HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' | raw >"$T_TMP/head.raw"
eq "HEAD /i: no body bytes" "" "$(sed -n '/^\r$/,$p' "$T_TMP/head.raw" | tail -n +2)"

# POST
h=$(curl -s -D "$T_TMP/post.h" -o "$T_TMP/post.body" -H 'Content-Type: application/json' \
    --data '{"schema":"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4","data":[{"e":"pv"}]}' \
    "$URL/com.snowplowanalytics.snowplow/tp2")
eq "POST: body ok" "ok" "$(cat "$T_TMP/post.body")"
check "POST: 200 text/plain" grep -q 'Content-Type: text/plain' "$T_TMP/post.h"
check "POST: no Cache-Control" sh -c "! grep -qi '^Cache-Control' '$T_TMP/post.h'"

# /r/ while redirects are off: 404 "redirects disabled" for every method
for m in GET POST OPTIONS PUT; do
	code=$(st -X "$m" "$URL/r/tp2?u=http://example.com")
	eq "$m /r/tp2 with redirects off: 404" 404 "$code"
done
eq "HEAD /r/tp2 with redirects off: 404" 404 "$(st -I "$URL/r/tp2?u=http://example.com")"
eq "/r/ body" "redirects disabled" "$(curl -s "$URL/r/tp2?u=http://example.com")"

# CORS preflight, any path
h=$(hdr -X OPTIONS -H 'Origin: https://www.example.com' "$URL/anything/at/all")
check "OPTIONS: 200" sh -c "echo '$h' | grep -q '^HTTP/1.1 200'"
check "OPTIONS: ACAO echoes Origin" sh -c "echo '$h' | grep -qx 'Access-Control-Allow-Origin: https://www.example.com'"
check "OPTIONS: credentials" sh -c "echo '$h' | grep -qx 'Access-Control-Allow-Credentials: true'"
check "OPTIONS: allow headers" sh -c "echo '$h' | grep -qx 'Access-Control-Allow-Headers: Content-Type, SP-Anonymous'"
check "OPTIONS: max age 3600" sh -c "echo '$h' | grep -qx 'Access-Control-Max-Age: 3600'"
check "OPTIONS: no Allow-Methods" sh -c "! echo '$h' | grep -qi 'Access-Control-Allow-Methods'"
check "OPTIONS: empty body" sh -c "echo '$h' | grep -qx 'Content-Length: 0'"

# health, sink health, robots
eq "/health body" "ok" "$(curl -s "$URL/health")"
eq "/sink-health 200" 200 "$(st "$URL/sink-health")"
eq "/sink-health body" "ok" "$(curl -s "$URL/sink-health")"
printf 'User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\nUser-agent: AdsBot-Google\nDisallow: /' >"$T_TMP/robots.want"
curl -s -o "$T_TMP/robots.got" "$URL/robots.txt"
check "/robots.txt exact bytes" cmp -s "$T_TMP/robots.want" "$T_TMP/robots.got"
eq "/crossdomain.xml off: 404" 404 "$(st "$URL/crossdomain.xml")"
eq "GET / off: 404" 404 "$(st "$URL/")"
eq "/metrics off: 404" 404 "$(st "$URL/metrics")"

# 404s
eq "POST /i: 404" 404 "$(st -X POST --data x "$URL/i")"
eq "one segment: 404" 404 "$(st "$URL/foo")"
eq "three segments: 404" 404 "$(st "$URL/a/b/c")"
eq "trailing slash: 404" 404 "$(st "$URL/a/b/")"
eq "PUT /a/b: 404" 404 "$(st -X PUT "$URL/a/b")"
eq "404 body" "Not found" "$(curl -s "$URL/a/b/c")"
eq "bad escape in vendor: 400" 400 "$(st "$URL/com.acme%zz/tp2")"

n_before=$(lines "$T_TMP/out.raw")
# path map: stored path is the target
curl -s -o /dev/null "$URL/com.acme/track?e=pv&tv=map"
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -gt $n_before ]"
eq "path-map rewrites the stored path" "/com.snowplowanalytics.snowplow/tp2" \
    "$(decode "$T_TMP/out.raw" | jq -r 'select(.querystring=="e=pv&tv=map") | .path')"

# every tracking request above stored exactly one record and nothing else stored
# tracking: /i x2 (+ Origin x1), /ice.png, /v/v, HEAD x2, POST, map = 9
want=9
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw') -ge $want ]"
eq "one record per tracking request, none for the rest" $want "$(lines "$T_TMP/out.raw")"
check "every line decodes" decode_ok "$T_TMP/out.raw"
eq "paths stored" "/com.snowplowanalytics.snowplow/tp2 /com.snowplowanalytics.snowplow/tp2 /com.snowplowanalytics.snowplow/tp2 /i /i /i /i /i /ice.png" \
    "$(decode "$T_TMP/out.raw" | jq -r .path | sort | tr '\n' ' ' | sed 's/ $//')"
stop_collector
eq "SIGTERM: exit 0" 0 "$CRC"

# options: redirects, crossdomain, root response, HSTS, CORS max age
start_collector -o "$T_TMP/out2.raw" --bad "$T_TMP/bad2.json" --redirects \
    --redirect-domain example.com --crossdomain '*.acme.com' --crossdomain acme.org \
    --root-response 302:/home --hsts 100 --cors-max-age 10 --metrics || fail "collector starts (options)"
h=$(hdr "$URL/r/tp2?u=http%3A%2F%2Fexample.com%2Fpath%3Fa%3D1&e=pv")
check "redirect: 302" sh -c "echo '$h' | grep -q '^HTTP/1.1 302'"
check "redirect: Location is u decoded" sh -c "echo '$h' | grep -qx 'Location: http://example.com/path?a=1'"
check "redirect: Cache-Control on GET" sh -c "echo '$h' | grep -qx 'Cache-Control: no-cache, no-store, must-revalidate'"
check "redirect: Set-Cookie" sh -c "echo '$h' | grep -q '^Set-Cookie: sp='"
check "HSTS when enabled" sh -c "echo '$h' | grep -qx 'Strict-Transport-Security: max-age=100'"
eq "redirect to a host not allowed: 400" 400 "$(st "$URL/r/tp2?u=http://evil.com/&e=x")"
eq "redirect without u: 400" 400 "$(st "$URL/r/tp2?e=x")"
eq "redirect with unparseable u: 400" 400 "$(st "$URL/r/tp2?u=http://exa%20mple.com/%zz")"
eq "POST redirect: 302" 302 "$(st -X POST --data 'a=1' "$URL/r/tp2?u=http://example.com")"
eq "OPTIONS /r/ with redirects on: 200" 200 "$(st -X OPTIONS "$URL/r/tp2")"
eq "CORS max age flag" "Access-Control-Max-Age: 10" "$(hdr -X OPTIONS "$URL/i" | grep Max-Age)"
printf '<?xml version="1.0"?>\n<cross-domain-policy>\n<allow-access-from domain="*.acme.com" secure="true" />\n<allow-access-from domain="acme.org" secure="true" />\n</cross-domain-policy>' >"$T_TMP/cd.want"
curl -s -o "$T_TMP/cd.got" "$URL/crossdomain.xml"
check "/crossdomain.xml exact" cmp -s "$T_TMP/cd.want" "$T_TMP/cd.got"
check "/crossdomain.xml text/xml" sh -c "curl -s -D - -o /dev/null '$URL/crossdomain.xml' | grep -qi '^Content-Type: text/xml'"
h=$(hdr "$URL/")
check "root response: 302" sh -c "echo '$h' | grep -q '^HTTP/1.1 302'"
check "root response: Location" sh -c "echo '$h' | grep -qx 'Location: /home'"
# the redirects (2 x 302 GET/POST, 3 x 400) are all stored
wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out2.raw') -ge 5 ]"
eq "redirects store their event, 302 or 400" 5 "$(lines "$T_TMP/out2.raw")"
eq "redirect paths" "/r/tp2" "$(decode "$T_TMP/out2.raw" | jq -r .path | sort -u)"
curl -s -D "$T_TMP/m.h" -o "$T_TMP/metrics" "$URL/metrics"
check "/metrics: Prometheus text type" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T_TMP/m.h"
check "/metrics: redirect counter" grep -qx 'http_requests_total{endpoint="redirect",method="GET",code="302"} 1' "$T_TMP/metrics"
check "/metrics: 400 redirects counted" grep -qx 'http_requests_total{endpoint="redirect",method="GET",code="400"} 3' "$T_TMP/metrics"
check "/metrics: histogram +Inf bucket = count" grep -qx 'http_request_duration_seconds_bucket{endpoint="redirect",method="POST",code="302",le="+Inf"} 1' "$T_TMP/metrics"
check "/metrics: version gauge" grep -qx 'service_version{version="0.1.0"} 1' "$T_TMP/metrics"
stop_collector
done_testing
