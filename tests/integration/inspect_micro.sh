#!/bin/bash
# inspect: Snowplow Micro's REST API, driven as Micro's own tests and documentation drive it,
# against the real collector and enrich. Sources (snowplow/snowplow-micro 4.5.2):
#   src/test/scala/.../MicroApiSpec.scala      good data, bad data, reset
#   src/main/scala/.../Routing.scala           endpoints, methods, the 404 text, /micro/iglu
#   src/main/scala/.../model.scala             GoodEvent, BadEvent, FiltersGood, FiltersBad,
#                                              EventsRequest/Response, Timeline*, ColumnStats
#   src/main/scala/.../storage/InMemoryStorage.scala   filters, paging, newest first
#   docs.snowplow.io/docs/api-reference/snowplow-micro/api/   the documented examples
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"

start_pipeline || { fail "the pipeline starts"; cat "$T_TMP"/*.log | sed 's/^/# /'; done_testing; exit; }
ok "collector, enrich and inspect start"

# MicroApiSpec "Micro should accept good data": GET /i?e=pp&p=web&tv=lol, then /micro/all and /micro/good
curl -s -o /dev/null "$CURL/i?e=pp&p=web&tv=lol"
eq "/micro/all after one good event (exact body)" '{"total":1,"good":1,"bad":0}' "$(j '/micro/all?min=1&wait_ms=5000' | jq -c 'del(.timedOut)')"
eq "/micro/all without wait parameters is exactly Micro's summary" '{"total":1,"good":1,"bad":0}' "$(j /micro/all)"
j /micro/good >"$T_TMP/good.json"
eq "/micro/good is an array of one" 1 "$(jq length "$T_TMP/good.json")"
eq "eventType" page_ping "$(jq -r '.[0].eventType' "$T_TMP/good.json")"
eq "schema" "iglu:com.snowplowanalytics.snowplow/page_ping/jsonschema/1-0-0" "$(jq -r '.[0].schema' "$T_TMP/good.json")"
eq "event.platform" web "$(jq -r '.[0].event.platform' "$T_TMP/good.json")"
eq "event.v_tracker" lol "$(jq -r '.[0].event.v_tracker' "$T_TMP/good.json")"
eq "GoodEvent fields in Micro's order" '["rawEvent","eventType","schema","contexts","event","incomplete"]' \
    "$(jq -c '.[0] | keys_unsorted' "$T_TMP/good.json")"
eq "incomplete is false" false "$(jq '.[0].incomplete' "$T_TMP/good.json")"
eq "rawEvent keys (RawEvent)" '["api","parameters","contentType","source","context"]' "$(jq -c '.[0].rawEvent | keys_unsorted' "$T_TMP/good.json")"
eq "rawEvent parameters derived from the event" '{"e":"pp","p":"web","tv":"lol"}' \
    "$(jq -c '.[0].rawEvent.parameters | {e, p, tv}' "$T_TMP/good.json")"
eq "rawEvent context keys" '["timestamp","ipAddress","useragent","refererUri","headers","userId"]' \
    "$(jq -c '.[0].rawEvent.context | keys_unsorted' "$T_TMP/good.json")"
check "event is the SDK document (131 columns less the 3 JSON ones)" sh -c "[ \$(jq '.[0].event | keys | length' '$T_TMP/good.json') -ge 128 ]"

# MicroApiSpec "Micro should handle bad data": eid=invalidEventId
curl -s -o /dev/null "$CURL/i?e=pp&p=web&tv=lol&eid=invalidEventId"
eq "/micro/all after a bad event" '{"total":2,"good":1,"bad":1}' "$(j '/micro/all?min_bad=1&wait_ms=5000' | jq -c 'del(.timedOut)')"
j /micro/bad >"$T_TMP/bad.json"
eq "/micro/bad is an array of one" 1 "$(jq length "$T_TMP/bad.json")"
eq "BadEvent fields: Micro's, then furrow's" '["collectorPayload","rawEvent","errors","type","badRow","summary"]' \
    "$(jq -c '.[0] | keys_unsorted' "$T_TMP/bad.json")"
eq "errors[] as Micro writes them: a sentence, then the bad row as a string" \
    '["Error while validating the event.","iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1"]' \
    "$(jq -c '.[0].errors | [.[0], (.[1] | fromjson | .schema)]' "$T_TMP/bad.json")"
eq "the bad row as JSON (snowplow-micro #74)" schema_violations "$(jq -r '.[0].badRow.schema | split("/")[1]' "$T_TMP/bad.json")"
eq "a readable reason" "atomic field eid: Not a valid UUID" "$(jq -r '.[0].summary[0]' "$T_TMP/bad.json")"
eq "collectorPayload.api (GET /i is tp1)" '{"vendor":"com.snowplowanalytics.snowplow","version":"tp1"}' "$(jq -c '.[0].collectorPayload.api' "$T_TMP/bad.json")"
eq "collectorPayload.querystring as name=value strings" '["e=pp","p=web","tv=lol","eid=invalidEventId"]' \
    "$(jq -c '.[0].collectorPayload.querystring' "$T_TMP/bad.json")"
eq "rawEvent.parameters from the bad row" invalidEventId "$(jq -r '.[0].rawEvent.parameters.eid' "$T_TMP/bad.json")"

# MicroApiSpec "Micro should reset stored data": GET /micro/reset answers "Reset completed"
eq "GET /micro/reset" '"Reset completed"' "$(j /micro/reset)"
eq "empty after reset" '{"total":0,"good":0,"bad":0}' "$(j /micro/all)"
eq "POST /micro/reset" '"Reset completed"' "$(curl -s -X POST "$IURL/micro/reset")"
check "reset answers application/json" sh -c "curl -s -D - -o /dev/null '$IURL/micro/reset' | grep -qi '^content-type: application/json'"

# The documented /micro/good filters: event_type, schema, contexts, limit
PAGE='{"schema":"iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0","data":{"id":"0e6a9d1c-8f5e-4b7e-9a51-3c1f2d4e5a6b"}}'
CTX=$(jq -cn --argjson p "$PAGE" '{schema:"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",data:[$p]}')
UE='{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","data":{"targetUrl":"https://shop.example/sale"}}}'
enc() { jq -rn --arg v "$1" '$v|@uri'; }
curl -s -o /dev/null "$CURL/i?e=pv&p=web&tv=t&aid=shop&url=https%3A%2F%2Fshop.example%2F&co=$(enc "$CTX")"
curl -s -o /dev/null "$CURL/i?e=ue&p=web&tv=t&aid=shop&ue_pr=$(enc "$UE")&co=$(enc "$CTX")"
curl -s -o /dev/null "$CURL/i?e=ue&p=web&tv=t&aid=blog&ue_pr=$(enc "$UE")"
curl -s -o /dev/null "$CURL/i?e=se&p=web&tv=t&aid=blog&se_ca=video&se_ac=play"
eq "four good events" 4 "$(j '/micro/all?min_good=4&wait_ms=5000' | jq .good)"
eq "POST /micro/good {event_type}" '["unstruct","unstruct"]' "$(jpost /micro/good '{"event_type":"unstruct"}' | jq -c '[.[].eventType]')"
eq "POST /micro/good {schema}" 2 "$(jpost /micro/good '{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"}' | jq length)"
eq "POST /micro/good {contexts}" '["unstruct","page_view"]' \
    "$(jpost /micro/good '{"contexts":["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]}' | jq -c '[.[].eventType]')"
eq "POST /micro/good {schema, contexts}" 1 \
    "$(jpost /micro/good '{"schema":"iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1","contexts":["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]}' | jq length)"
eq "POST /micro/good {limit}: newest first" '["struct","unstruct"]' "$(jpost /micro/good '{"limit":2}' | jq -c '[.[].eventType]')"
eq "GoodEvent.contexts lists the context schemas" '["iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"]' \
    "$(jpost /micro/good '{"event_type":"page_view"}' | jq -c '.[0].contexts')"
eq "the context in the SDK document" '[{"id":"0e6a9d1c-8f5e-4b7e-9a51-3c1f2d4e5a6b"}]' \
    "$(jpost /micro/good '{"event_type":"page_view"}' | jq -c '.[0].event.contexts_com_snowplowanalytics_snowplow_web_page_1')"
eq "GET with the same filters in the query string (furrow)" 1 "$(j '/micro/good?event_type=unstruct&contexts=iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0' | jq length)"
eq "POST a body that is not JSON: 400 (http4s)" 400 "$(curl -s -o /dev/null -w '%{http_code}' -d '{nope' "$IURL/micro/good")"
eq "POST a body of the wrong shape: 422 (http4s)" 422 "$(curl -s -o /dev/null -w '%{http_code}' -d '{"limit":"x"}' "$IURL/micro/good")"

# /micro/bad filters: vendor, version, limit
curl -s -o /dev/null "$CURL/com.acme/v9?e=pv"
curl -s -o /dev/null "$CURL/i?e=pv&p=nope&tv=t"
eq "two bad rows" 2 "$(j '/micro/all?min_bad=2&wait_ms=5000' | jq .bad)"
eq "POST /micro/bad {vendor}" 1 "$(jpost /micro/bad '{"vendor":"com.acme"}' | jq length)"
eq "POST /micro/bad {vendor, version}" 1 "$(jpost /micro/bad '{"vendor":"com.snowplowanalytics.snowplow","version":"tp1"}' | jq length)"
eq "POST /micro/bad {limit}" 1 "$(jpost /micro/bad '{"limit":1}' | jq length)"
eq "adapter_failures summary" "vendor/version = 'com.acme/v9': vendor/version combination is not supported" \
    "$(jpost /micro/bad '{"vendor":"com.acme"}' | jq -r '.[0].summary[0]')"
eq "adapter_failures: Micro's first error sentence" "Error while extracting event(s) from collector payload and validating it/them." \
    "$(jpost /micro/bad '{"vendor":"com.acme"}' | jq -r '.[0].errors[0]')"

# /micro/events (EventsRequest), columns, columnStats, timeline
jpost /micro/events '{"filters":[],"page":1,"pageSize":2}' >"$T_TMP/ev.json"
eq "EventsResponse keys" '["events","totalPages","totalItems"]' "$(jq -c keys_unsorted "$T_TMP/ev.json")"
eq "paging" "2 3 6" "$(jq -r '"\(.events|length) \(.totalPages) \(.totalItems)"' "$T_TMP/ev.json")"
eq "validEvents false: failed events only, with Micro's failure entity" "2 2" \
    "$(jpost /micro/events '{"filters":[],"validEvents":false,"page":1,"pageSize":10}' | jq -r '"\(.totalItems) \([.events[] | select(.contexts_com_snowplowanalytics_snowplow_failure_1)] | length)"')"
eq "filter values (4.4+)" 2 "$(jpost /micro/events '{"filters":[{"column":"app_id","values":["blog"]}],"page":1,"pageSize":10}' | jq .totalItems)"
eq "filter value (older UIs)" 2 "$(jpost /micro/events '{"filters":[{"column":"app_id","value":"SHOP"}],"page":1,"pageSize":10}' | jq .totalItems)"
eq "two filters" 1 "$(jpost /micro/events '{"filters":[{"column":"app_id","values":["blog"]},{"column":"event","values":["struct"]}],"page":1,"pageSize":10}' | jq .totalItems)"
eq "sorting by app_id ascending" '["blog","blog","shop","shop"]' \
    "$(jpost /micro/events '{"filters":[],"validEvents":true,"sorting":{"column":"app_id","desc":false},"page":1,"pageSize":10}' | jq -c '[.events[].app_id]')"
eq "page past the end: empty, totals kept" "0 6" "$(jpost /micro/events '{"filters":[],"page":9,"pageSize":2}' | jq -r '"\(.events|length) \(.totalItems)"')"
now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
eq "timeRange ending before the events" 0 "$(jpost /micro/events '{"filters":[],"timeRange":{"start":null,"end":"2020-01-01T00:00:00Z"},"page":1,"pageSize":10}' | jq .totalItems)"
j /micro/columns >"$T_TMP/cols.json"
check "/micro/columns is sorted and has the atomic columns" sh -c "jq -e '. == sort and index(\"app_id\") != null and index(\"collector_tstamp\") != null' '$T_TMP/cols.json' >/dev/null"
check "/micro/columns has context fields" sh -c "jq -e 'index(\"contexts_com_snowplowanalytics_snowplow_web_page_1.id\") != null' '$T_TMP/cols.json' >/dev/null"
check "/micro/columns has unstruct fields" sh -c "jq -e 'index(\"unstruct_event_com_snowplowanalytics_snowplow_link_click_1.targetUrl\") != null' '$T_TMP/cols.json' >/dev/null"
jpost /micro/columnStats '{"columns":["app_id","collector_tstamp","contexts_com_snowplowanalytics_snowplow_web_page_1"]}' >"$T_TMP/cs.json"
eq "columnStats of a simple column" '{"sortable":true,"filterable":true,"values":["blog","null","shop"]}' "$(jq -c '.app_id | .values |= sort' "$T_TMP/cs.json")"
eq "columnStats of a timestamp" '{"sortable":true,"filterable":false,"values":null}' "$(jq -c '.collector_tstamp' "$T_TMP/cs.json")"
eq "columnStats of a complex column" '{"sortable":false,"filterable":false,"values":null}' "$(jq -c '.contexts_com_snowplowanalytics_snowplow_web_page_1' "$T_TMP/cs.json")"
start=$(date -u -d '-10 minutes' +%Y-%m-%dT%H:%M:%SZ); end=$(date -u -d '+1 minute' +%Y-%m-%dT%H:%M:%SZ)
eq "timeline" "{\"points\":[{\"validEvents\":4,\"failedEvents\":2,\"bucket\":{\"start\":\"$start\",\"end\":\"$end\"}}]}" \
    "$(jpost /micro/timeline "{\"buckets\":[{\"start\":\"$start\",\"end\":\"$end\"}]}")"

# /micro/iglu with the resolver enrich uses
eq "/micro/iglu finds an embedded schema" '{"vendor":"com.snowplowanalytics.snowplow","name":"link_click","format":"jsonschema","version":"1-0-1"}' \
    "$(j /micro/iglu/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1 | jq -c .self)"
eq "/micro/iglu, unknown schema: 404 with the resolution error" "404 ResolutionError" \
    "$(curl -s -o "$T_TMP/ig" -w '%{http_code}' "$IURL/micro/iglu/com.acme/nope/jsonschema/1-0-0") $(jq -r .error "$T_TMP/ig")"
eq "/micro/iglu, bad version: Micro's message" '"Schema lookup should be in format iglu/{vendor}/{schemaName}/jsonschema/{model}-{revision}-{addition}"' \
    "$(j /micro/iglu/com.acme/nope/jsonschema/1-0)"

# 404 listing the endpoints; CORS; health; the UI redirect
eq "unknown /micro path: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "$IURL/micro/nope")"
check "the 404 lists the endpoints" sh -c "curl -s '$IURL/micro/nope' | jq -r . | grep -q '^Supported endpoints: /micro/all, /micro/good, /micro/bad, /micro/events'"
eq "wrong method on an endpoint: 404 as Micro" 404 "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$IURL/micro/columns")"
curl -s -D "$T_TMP/h" -o /dev/null -H 'Origin: http://localhost:3000' "$IURL/micro/all"
check "CORS: the origin allowed with credentials" sh -c "grep -qi '^access-control-allow-origin: http://localhost:3000' '$T_TMP/h' && grep -qi '^access-control-allow-credentials: true' '$T_TMP/h'"
curl -s -D "$T_TMP/h" -o /dev/null -X OPTIONS -H 'Origin: http://localhost:3000' -H 'Access-Control-Request-Method: POST' "$IURL/micro/good"
check "CORS preflight" sh -c "grep -q '^HTTP/1.1 200' '$T_TMP/h' && grep -qi '^access-control-allow-headers: Content-Type' '$T_TMP/h' && grep -qi '^access-control-max-age: 3600' '$T_TMP/h'"
eq "/health" OK "$(curl -s "$IURL/health")"
eq "/ redirects to the UI" "302 /micro/ui" "$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "$IURL/" | sed "s|$IURL||")"

stop_inspect
eq "SIGTERM: exit 0" 0 "$IRC"
done_testing
