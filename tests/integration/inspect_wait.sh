#!/bin/bash
# inspect: the wait primitive. A request with min / min_good / min_bad, wait_ms, settle_ms is
# held until the store holds that many matching events (and none arrived for settle_ms) or
# wait_ms passes; held requests cost nothing while they wait and go away with their client.
# Also the CI loop the issue asks for: reset, send, wait with min, assert bad == 0, 50 times.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"

d=$T_TMP/w
mkdir -p "$d"
: >"$d/good.tsv"
: >"$d/bad.json"
start_inspect --source "log:$d/good.tsv" --bad-source "log:$d/bad.json" --max-held 1500 \
    --max-connections 2000 --max-wait-ms 20000 || { fail "inspect starts"; done_testing; exit; }
add_good() { enriched_range "$1" "$2" 0=app 5=page_view >>"$d/good.tsv"; }
ms() { date +%s%3N; }

# held until the events arrive, answered as soon as they do
t0=$(ms)
curl -s -D "$T_TMP/h1" "$IURL/micro/good?min=3&wait_ms=10000" >"$T_TMP/r1" &
c1=$!
wait_for 5 sh -c "curl -s '$IURL/micro/stats' | jq -e '.held == 1' >/dev/null"
eq "the request is held" 1 "$(j /micro/stats | jq .held)"
add_good 1 2
sleep 0.2
check "two events are not enough" kill -0 $c1
add_good 3 3
wait $c1
t1=$(ms)
eq "answered with the three events" 3 "$(jq length "$T_TMP/r1")"
check "Furrow-Timed-Out: 0" grep -qi '^furrow-timed-out: 0' "$T_TMP/h1"
check "answered before wait_ms ($((t1 - t0)) ms)" sh -c "[ $((t1 - t0)) -lt 5000 ]"

# already satisfied: at once; not satisfied in time: what there is, marked
t0=$(ms)
eq "satisfied at once" '{"total":3,"good":3,"bad":0,"timedOut":false}' "$(j '/micro/all?min_good=3&wait_ms=5000')"
check "without waiting" sh -c "[ $(( $(ms) - t0 )) -lt 1000 ]"
t0=$(ms)
eq "timed out: /micro/all says so in the body" '{"total":3,"good":3,"bad":0,"timedOut":true}' "$(j '/micro/all?min_bad=1&wait_ms=300')"
check "after wait_ms" sh -c "[ $(( $(ms) - t0 )) -ge 300 ]"
curl -s -D "$T_TMP/h2" -o "$T_TMP/r2" "$IURL/micro/good?min=10&wait_ms=200"
check "timed out: arrays say so in Furrow-Timed-Out: 1" grep -qi '^furrow-timed-out: 1' "$T_TMP/h2"
eq "and carry what there is" 3 "$(jq length "$T_TMP/r2")"
check "Furrow-Timed-Out is readable by browsers (CORS)" grep -qi '^access-control-expose-headers: Furrow-Timed-Out' "$T_TMP/h2"
eq "/micro/events: timedOut in the body too" true \
    "$(jpost '/micro/events?min=9&wait_ms=100' '{"filters":[],"page":1,"pageSize":1}' | jq .timedOut)"
# the man page's Cypress example: POST /micro/good with the filter and the wait in the body
curl -s -D "$T_TMP/hc" -H 'Content-Type: application/json' "$IURL/micro/good" \
    -d '{"event_type":"page_view","min":1,"wait_ms":2000}' >"$T_TMP/rc"
check "POST body with min and wait_ms: Furrow-Timed-Out: 0" grep -qi '^furrow-timed-out: 0' "$T_TMP/hc"
eq "and the events" 3 "$(jq length "$T_TMP/rc")"
eq "wait parameters in a JSON body" false \
    "$(jpost /micro/events '{"filters":[],"page":1,"pageSize":1,"min":3,"wait_ms":1000}' | jq .timedOut)"

# filters count: only matching events wake a request
curl -s "$IURL/micro/good?event_type=struct&min=1&wait_ms=10000" >"$T_TMP/r3" &
c3=$!
wait_for 5 sh -c "curl -s '$IURL/micro/stats' | jq -e '.held == 1' >/dev/null"
add_good 4 6
sleep 0.3
check "page views do not wake a wait for struct events" kill -0 $c3
enriched_line 7 0=app 5=struct >>"$d/good.tsv"
wait $c3
eq "a struct event does" '["struct"]' "$(jq -c '[.[].event.event]' "$T_TMP/r3")"

# held requests are filed by one of their filters (schema, event type, an indexed column):
# each wakes for its own events only, and unfiled ones (free text) still see everything
curl -s "$IURL/micro/good?schema=iglu:com.acme/checkout/jsonschema/1-0-0&min=1&wait_ms=10000" >"$T_TMP/k1" &
k1=$!
curl -s "$IURL/micro/events?min=2&wait_ms=10000" -d '{"filters":[{"column":"app_id","values":["keyed"]}]}' >"$T_TMP/k2" &
k2=$!
curl -s "$IURL/micro/events?min=1&wait_ms=10000" -d '{"search":"needle-in-a-line"}' >"$T_TMP/k3" &
k3=$!
wait_for 5 sh -c "curl -s '$IURL/micro/stats' | jq -e '.held == 3' >/dev/null"
enriched_range 30 31 0=keyed 5=page_view >>"$d/good.tsv"
wait $k2
eq "filed by app_id: woken by its two events" 2 "$(jq .totalItems "$T_TMP/k2")"
check "the schema one still waits" kill -0 $k1
enriched_line 32 0=other 5=unstruct 125=com.acme 126=checkout 127=jsonschema 128=1-0-0 >>"$d/good.tsv"
wait $k1
eq "filed by schema: woken by its event" '["unstruct"]' "$(jq -c '[.[].eventType]' "$T_TMP/k1")"
check "the free-text one still waits" kill -0 $k3
enriched_line 33 0=other 30=needle-in-a-line >>"$d/good.tsv"
wait $k3
eq "unfiled: woken by its event" 1 "$(jq .totalItems "$T_TMP/k3")"

# settle_ms: held until no matching event arrived for that long
t0=$(ms)
curl -s "$IURL/micro/all?min_good=14&settle_ms=600&wait_ms=10000" >"$T_TMP/r4" &
c4=$!
sleep 0.2
add_good 8 10
sleep 0.3
add_good 11 11
wait $c4
t1=$(ms)
eq "settled answer" '{"total":15,"good":15,"bad":0,"timedOut":false}' "$(cat "$T_TMP/r4")"
check "not before 600 ms after the last event ($((t1 - t0)) ms)" sh -c "[ $((t1 - t0)) -ge 1050 ]"

# bad rows: min on /micro/bad, min_bad on /micro/all
curl -s "$IURL/micro/bad?min=1&wait_ms=10000" >"$T_TMP/r5" &
c5=$!
sleep 0.2
echo '{"schema":"iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0","data":{"processor":{"artifact":"t","version":"0.1.0"},"failure":{"timestamp":"2023-11-14T22:15:00Z","errors":["boom"]},"payload":"x"}}' >>"$d/bad.json"
wait $c5
eq "a bad row wakes /micro/bad?min=1" '["boom"]' "$(jq -c '.[0].summary' "$T_TMP/r5")"

# reset while held: counting starts again
curl -s "$IURL/micro/good?min=1&wait_ms=10000" >"$T_TMP/r6" &
c6=$!
sleep 0.2
check "(a request for min=1 is answered at once when the store has events)" sh -c "! kill -0 $c6 2>/dev/null || wait $c6"
j /micro/reset >/dev/null
curl -s "$IURL/micro/all?min_good=1&wait_ms=10000" >"$T_TMP/r7" &
c7=$!
sleep 0.3
check "after reset, min_good=1 waits" kill -0 $c7
add_good 20 20
wait $c7
eq "and is answered by the next event" '{"total":1,"good":1,"bad":0,"timedOut":false}' "$(cat "$T_TMP/r7")"

# /micro/stats?since=G: the UI's long poll
g=$(j /micro/stats | jq .generation)
curl -s "$IURL/micro/stats?since=$g&wait_ms=10000" >"$T_TMP/r8" &
c8=$!
sleep 0.3
check "stats?since=current waits" kill -0 $c8
add_good 21 21
wait $c8
check "and answers with a newer generation" sh -c "[ \$(jq .generation '$T_TMP/r8') -gt $g ]"

# a client that goes away releases its hold (EV_CLOSED), without waiting for wait_ms
curl -s -m 1 "$IURL/micro/good?min=999&wait_ms=20000" >/dev/null
wait_for 5 sh -c "curl -s '$IURL/micro/stats' | jq -e '.held == 0' >/dev/null"
eq "a departed client is not held" 0 "$(j /micro/stats | jq .held)"

# wait_ms is capped by --max-wait-ms; a wrong value is a 400
eq "negative wait_ms: 400" 400 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/all?wait_ms=-1")"

# a thousand held requests: all held, ingest goes on, each answered, none left behind
python3 - "$IPORT" "$d/good.tsv" "$FURROW_ROOT" >"$T_TMP/thousand.out" <<'PY'
import socket, sys, time, json, subprocess, urllib.request
port, log = int(sys.argv[1]), sys.argv[2]
def stats():
    return json.load(urllib.request.urlopen("http://127.0.0.1:%d/micro/stats" % port))
socks = []
for i in range(1000):
    s = socket.create_connection(("127.0.0.1", port))
    # distinct filters for a third of them, the same filter for the rest
    q = "event_type=t%d&" % i if i % 3 == 0 else ""
    s.sendall(("GET /micro/good?%smin=1000000&wait_ms=15000 HTTP/1.1\r\nHost: x\r\n\r\n" % q).encode())
    socks.append(s)
deadline = time.time() + 10
while stats()["held"] < 1000 and time.time() < deadline:
    time.sleep(0.05)
print("held", stats()["held"])
before = stats()["good"]
with open(log, "a") as f:
    for i in range(2000):
        c = [""] * 131
        c[3] = "2023-11-14 22:13:20.000"; c[6] = "9f2b6a3e-1c4d-4e5f-8a7b-%012d" % (100000 + i)
        c[10] = "c"; c[11] = "e"; c[5] = "page_view"
        f.write("\t".join(c) + "\n")
t0 = time.time()
r = json.load(urllib.request.urlopen("http://127.0.0.1:%d/micro/all?min_good=%d&wait_ms=10000" % (port, before + 2000)))
print("ingested", r["good"] - before, "timedOut", r["timedOut"])
for s in socks:
    s.close()
deadline = time.time() + 10
while stats()["held"] > 0 and time.time() < deadline:
    time.sleep(0.05)
print("left", stats()["held"])
PY
eq "1000 requests held at once" "held 1000" "$(sed -n 1p "$T_TMP/thousand.out")"
eq "ingest goes on under them" "ingested 2000 timedOut False" "$(sed -n 2p "$T_TMP/thousand.out")"
eq "all released when their clients close" "left 0" "$(sed -n 3p "$T_TMP/thousand.out")"
check "inspect is still there" kill -0 "$IPID"
stop_inspect
eq "SIGTERM with nothing held: exit 0" 0 "$IRC"

# SIGTERM answers held requests (with what there is) before exiting
start_inspect --source "log:$d/good.tsv" || fail "restart"
curl -s "$IURL/micro/all?min_good=999999&wait_ms=20000" >"$T_TMP/r9" &
c9=$!
wait_for 5 sh -c "curl -s '$IURL/micro/stats' | jq -e '.held == 1' >/dev/null"
stop_inspect
wait $c9
eq "a held request is answered at shutdown, timed out" true "$(jq .timedOut "$T_TMP/r9")"
eq "exit 0" 0 "$IRC"

# the CI pattern, 50 times through the real collector and enrich: reset, send, wait, assert
start_pipeline || fail "pipeline"
pass=0
for run in $(seq 1 50); do
	j /micro/reset >/dev/null
	curl -s -o /dev/null "$CURL/i?e=pv&p=web&tv=ci&aid=ci-$run&url=https%3A%2F%2Fshop.example%2F"
	curl -s -o /dev/null "$CURL/i?e=se&p=web&tv=ci&aid=ci-$run&se_ca=c&se_ac=a"
	curl -s -o /dev/null -H 'Content-Type: application/json' "$CURL/com.snowplowanalytics.snowplow/tp2" \
	    -d "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4\",\"data\":[{\"e\":\"pp\",\"p\":\"web\",\"tv\":\"ci\",\"aid\":\"ci-$run\"}]}"
	r=$(j '/micro/all?min_good=3&wait_ms=10000')
	apps=$(j /micro/good | jq -r '[.[].event.app_id] | unique | join(",")')
	if [ "$r" = '{"total":3,"good":3,"bad":0,"timedOut":false}' ] && [ "$apps" = "ci-$run" ]; then
		pass=$((pass + 1))
	else
		diag "run $run: $r apps=$apps"
	fi
done
eq "reset, send 3, wait for min_good=3, bad == 0: 50 runs out of 50" 50 "$pass"
done_testing
