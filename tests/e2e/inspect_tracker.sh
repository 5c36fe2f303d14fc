#!/bin/bash
# End to end for inspect: Snowplow's real Node tracker (@snowplow/node-tracker, the events of
# tests/e2e/node-tracker.js) -> collector -> enrich -> the logs -> inspect, then the questions a
# test suite asks Micro: /micro/good filtered by schema and by context (the documented
# FiltersGood), /micro/all waited on with min_good instead of a sleep.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/inspect.sh"
. "$FURROW_ROOT/tests/setup-npm.sh"

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
npm_setup >"$T_TMP/npm.log" 2>&1 || unavailable "npm test clients" "npm install failed"
start_pipeline || { fail "the pipeline starts"; cat "$T_TMP"/*.log | sed 's/^/# /'; done_testing; exit; }
ok "collector, enrich and inspect start"

WEB_PAGE=iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0
GEO=iglu:com.snowplowanalytics.snowplow/geolocation_context/jsonschema/1-0-0
LINK=iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1

node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$CURL" e2e-inspect post >"$T_TMP/sent.json" 2>"$T_TMP/node.log"
eq "the node tracker sent its 9 events" 9 "$(jq '.sent | length' "$T_TMP/sent.json")"
eq "all 9 stored, none failed (waited with min_good, no sleep)" '{"total":9,"good":9,"bad":0,"timedOut":false}' \
    "$(j '/micro/all?min_good=9&wait_ms=15000')"
eq "event types" "page_ping page_view page_view struct struct transaction transaction_item transaction_item unstruct" \
    "$(j /micro/good | jq -r '[.[].eventType] | sort | join(" ")')"

jpost /micro/good "{\"schema\":\"$LINK\"}" >"$T_TMP/link.json"
eq "filtered by schema: the link click" 1 "$(jq length "$T_TMP/link.json")"
eq "its self-describing data in the SDK document" '{"targetUrl":"https://shop.example/sale","elementId":"banner"}' \
    "$(jq -c '.[0].event.unstruct_event_com_snowplowanalytics_snowplow_link_click_1' "$T_TMP/link.json")"
eq "its contexts" "[\"$WEB_PAGE\",\"$GEO\"]" "$(jq -c '.[0].contexts' "$T_TMP/link.json")"
eq "filtered by context: web_page on two events" "page_view unstruct" \
    "$(jpost /micro/good "{\"contexts\":[\"$WEB_PAGE\"]}" | jq -r '[.[].eventType] | sort | join(" ")')"
eq "filtered by schema and two contexts" 1 "$(jpost /micro/good "{\"schema\":\"$LINK\",\"contexts\":[\"$WEB_PAGE\",\"$GEO\"]}" | jq length)"
eq "a context the events lack" 0 "$(jpost /micro/good '{"contexts":["iglu:com.acme/none/jsonschema/1-0-0"]}' | jq length)"
eq "the geolocation context's data" '[{"latitude":51.5,"longitude":-0.12}]' \
    "$(jpost /micro/good "{\"contexts\":[\"$GEO\"]}" | jq -c '.[0].event.contexts_com_snowplowanalytics_snowplow_geolocation_context_1')"
eq "filtered by event_type" 2 "$(jpost /micro/good '{"event_type":"transaction_item"}' | jq length)"
eq "the same through /micro/events: app and event filters" 2 \
    "$(jpost /micro/events '{"filters":[{"column":"app_id","values":["e2e-inspect"]},{"column":"event","values":["struct"]}],"page":1,"pageSize":10}' | jq .totalItems)"
eq "the tracker's parameters, derived" '{"aid":"e2e-inspect","e":"se","tna":"e2e"}' \
    "$(jpost /micro/good '{"event_type":"struct","limit":1}' | jq -c '.[0].rawEvent.parameters | {aid, e, tna}')"
eq "/micro/iglu serves the schema the event names" "$LINK" \
    "$(j /micro/iglu/com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1 | jq -r '"iglu:\(.self.vendor)/\(.self.name)/\(.self.format)/\(.self.version)"')"

# a second run in the same store: wait for the new total, then only this run's by app
node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$CURL" e2e-second get >/dev/null 2>>"$T_TMP/node.log"
eq "GET requests too; waited for 18" 18 "$(j '/micro/all?min_good=18&wait_ms=15000' | jq .good)"
eq "the second run by app_id" 9 "$(jpost /micro/events '{"filters":[{"column":"app_id","values":["e2e-second"]}],"page":1,"pageSize":100}' | jq .totalItems)"
done_testing
