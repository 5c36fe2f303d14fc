#!/bin/sh
# collector: the sp cookie (collector.md §5) and SP-Anonymous (§6), one Set-Cookie case at a time.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/collector.sh"

UUID_RE='[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}'
setc() { curl -s -D - -o /dev/null "$@" | tr -d '\r' | grep '^Set-Cookie:' ; }
# the last record's field
last() { tail -n 1 "$T_TMP/out.raw" | python3 "$TOOLS/collector_decode.py" | jq -r "$1"; }
n=0
# wait for the record of the request just made
next() { n=$((n + 1)); wait_for 5 sh -c "[ \$(wc -l <'$T_TMP/out.raw' 2>/dev/null || echo 0) -ge $n ]"; }

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --cookie-domain acme.com \
    --cookie-domain shop.acme.com --cookie-fallback-domain fallback.net || fail "start"

# new visitor: a fresh v4 UUID, the default attributes
c=$(setc "$URL/i?e=pv"); next
check "new visitor: sp=<uuid v4>" sh -c "echo '$c' | grep -q '^Set-Cookie: sp=$UUID_RE; '"
nuid=$(echo "$c" | sed 's/^Set-Cookie: sp=\([^;]*\);.*/\1/')
eq "new visitor: payload nuid = cookie" "$nuid" "$(last .networkUserId)"
check "attributes: Expires, fallback Domain, Path, SameSite=None, Secure, HttpOnly" sh -c \
    "echo '$c' | grep -Eq '^Set-Cookie: sp=[^;]+; Expires=[A-Z][a-z]{2}, [0-9]{2} [A-Z][a-z]{2} [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT; Domain=fallback.net; Path=/; SameSite=None; Secure; HttpOnly$'"
exp=$(echo "$c" | sed 's/.*Expires=\([^;]*\);.*/\1/')
days=$(( ($(date -d "$exp" +%s) - $(date +%s)) / 86400 ))
check "Expires is about 365 days ahead ($days)" sh -c "[ $days -ge 364 ] && [ $days -le 365 ]"
check "no Max-Age" sh -c "! echo '$c' | grep -q Max-Age"

# returning visitor: the cookie's value is reused and re-issued (sliding expiry)
c=$(setc -H 'Cookie: other=1; sp=11111111-2222-4333-8444-555555555555; x=y' "$URL/i?e=pv"); next
check "returning: same value re-issued" sh -c "echo '$c' | grep -q '^Set-Cookie: sp=11111111-2222-4333-8444-555555555555; Expires='"
eq "returning: payload nuid from the cookie" "11111111-2222-4333-8444-555555555555" "$(last .networkUserId)"

# nuid parameter beats the cookie
c=$(setc -H 'Cookie: sp=11111111-2222-4333-8444-555555555555' "$URL/i?e=pv&nuid=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"); next
check "nuid param wins" sh -c "echo '$c' | grep -q '^Set-Cookie: sp=aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee;'"
eq "nuid param in payload" "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee" "$(last .networkUserId)"

# domain from Origin: first configured domain that matches any Origin host
c=$(setc -H 'Origin: https://www.shop.acme.com' "$URL/i"); next
check "Origin subdomain of the first domain: Domain=acme.com" sh -c "echo '$c' | grep -q '; Domain=acme.com;'"
c=$(setc -H 'Origin: http://other.net https://acme.com:8443' "$URL/i"); next
check "second Origin host equal to a domain" sh -c "echo '$c' | grep -q '; Domain=acme.com;'"
c=$(setc -H 'Origin: https://notacme.com' "$URL/i"); next
check "suffix without a dot does not match: fallback" sh -c "echo '$c' | grep -q '; Domain=fallback.net;'"

# SP-Anonymous without a cookie: no Set-Cookie, zero nuid, ip unknown
c=$(setc -H 'SP-Anonymous: *' -X POST --data '{}' "$URL/com.snowplowanalytics.snowplow/tp2"); next
eq "SP-Anonymous, no cookie: no Set-Cookie" "" "$c"
eq "SP-Anonymous: nuid zero" "00000000-0000-0000-0000-000000000000" "$(last .networkUserId)"
eq "SP-Anonymous: ip unknown" "unknown" "$(last .ipAddress)"
# SP-Anonymous with the cookie: delete it (empty value, Expires in the past)
c=$(setc -H 'SP-Anonymous: 1' -H 'Cookie: sp=11111111-2222-4333-8444-555555555555' "$URL/i"); next
check "SP-Anonymous with cookie: sp= deleted" sh -c "echo '$c' | grep -q '^Set-Cookie: sp=; Expires='"
exp=$(echo "$c" | sed 's/.*Expires=\([^;]*\);.*/\1/')
check "delete: Expires in the past" sh -c "[ $(date -d "$exp" +%s) -lt $(( $(date +%s) - 86400 * 300 )) ]"
eq "SP-Anonymous with cookie: nuid still zero" "00000000-0000-0000-0000-000000000000" "$(last .networkUserId)"
stop_collector

# --no-cookie; then flags for the attributes, the client cookie and do-not-track
start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --no-cookie || fail "start"
c=$(setc -H 'Cookie: sp=11111111-2222-4333-8444-555555555555' "$URL/i"); next
eq "--no-cookie: no Set-Cookie" "" "$c"
check "--no-cookie: a fresh nuid still in the payload, cookie not read" sh -c \
    "[ \"\$(tail -n 1 '$T_TMP/out.raw' | python3 '$TOOLS/collector_decode.py' | jq -r .networkUserId)\" != 11111111-2222-4333-8444-555555555555 ]"
stop_collector

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --cookie-name sid --no-cookie-secure \
    --no-cookie-http-only --cookie-same-site Lax --cookie-expiry 10 --client-cookie-name sid_js \
    --dnt-cookie 'dnt=yes|1' || fail "start"
t0=$(date +%s)
c=$(setc -H 'Cookie: sid=abc' "$URL/i"); next
t1=$(date +%s)
exp=$(echo "$c" | head -n 1 | sed -n 's/.*Expires=\([^;]*\);.*/\1/p')
eq "flags: name, no Secure, no HttpOnly, Lax, no Domain" \
    "Set-Cookie: sid=abc; Expires=$exp; Path=/; SameSite=Lax" "$(echo "$c" | head -n 1)"
# the request's second lies between t0 and t1 (a slow run may cross a second boundary)
check "flags: Expires is 10 days after the request" sh -c \
    "e=\$(date -u -d '$exp' +%s) && [ \$e -ge $((t0 + 864000)) ] && [ \$e -le $((t1 + 864000)) ]"
check "client cookie: same value under the second name" sh -c "echo '$c' | sed -n 2p | grep -q '^Set-Cookie: sid_js=abc; '"
check "client cookie: no HttpOnly" sh -c "! echo '$c' | sed -n 2p | grep -q HttpOnly"
before=$(lines "$T_TMP/out.raw")
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: dnt=yes' "$URL/i")
c=$(setc -H 'Cookie: dnt=1' "$URL/i")
eq "do-not-track: answered 200" 200 "$code"
eq "do-not-track: no Set-Cookie" "" "$c"
curl -s -o /dev/null -H 'Cookie: dnt=yess' "$URL/i"; next
eq "do-not-track: stores nothing (only the non-matching value stored)" $((before + 1)) "$(lines "$T_TMP/out.raw")"
stop_collector

start_collector -o "$T_TMP/out.raw" --bad "$T_TMP/bad.json" --cookie-bounce \
    --forwarded-proto-header X-Forwarded-Proto --cookie-same-site omit || fail "start"
before=$(lines "$T_TMP/out.raw")
h=$(curl -s -D - -o /dev/null -H 'X-Forwarded-Proto: https' "$URL/i?e=pv" | tr -d '\r')
check "bounce: 302" sh -c "echo '$h' | grep -q '^HTTP/1.1 302'"
check "bounce: Location adds n3pc=true" sh -c "echo '$h' | grep -qx 'Location: https://127.0.0.1:$PORT/i?e=pv&n3pc=true'"
check "--cookie-same-site omit: no SameSite" sh -c "! echo '$h' | grep -q SameSite"
code=$(curl -s -o /dev/null -w '%{http_code}' "$URL/i?e=pv&n3pc=true"); next
eq "bounced request: 200" 200 "$code"
eq "bounce stored only the second request" $((before + 1)) "$(lines "$T_TMP/out.raw")"
eq "bounced request: fallback nuid" "00000000-0000-4000-A000-000000000000" "$(last .networkUserId)"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Cookie: sp=abc' "$URL/i?e=pv"); next
eq "bounce: not when the cookie is there" 200 "$code"
stop_collector
done_testing
