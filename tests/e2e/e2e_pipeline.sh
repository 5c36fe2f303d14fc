#!/bin/bash
# End to end: the whole pipeline started by fifo-setup.sh against a real Elasticsearch and a
# real S3 API server, driven by Snowplow's real trackers:
#  - @snowplow/node-tracker: page views, a page ping, structured events, a self-describing event
#    with contexts, an ecommerce transaction with items;
#  - @snowplow/browser-tracker (+ link click plugin) in headless Chromium on a page served from
#    another origin: a page view, a real link click, a self-describing event (CORS preflight,
#    POST with credentials, the sp cookie);
#  - invalid events (unknown schema, data failing its schema, a malformed body) → bad rows;
# then a clean stop, S3 contents, and the counters of every stage reconciled.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-es.sh"
S3_WORKDIR=$T_TMP/s3 . "$FURROW_ROOT/tests/setup-s3.sh"
. "$FURROW_ROOT/tests/setup-npm.sh"

# In CI a missing service is a failure, not a skip.
unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
cleanup_services() { es_cleanup >/dev/null 2>&1; s3_stop >/dev/null 2>&1; }
trap 'cleanup_services; t_cleanup' EXIT

npm_setup || unavailable "npm test clients" "npm install failed"
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || unavailable "headless chromium" "chromium not installed"
es_start >"$T_TMP/es-start.log" 2>&1 || unavailable "Elasticsearch" "$(tail -n 3 "$T_TMP/es-start.log")"
s3_start >"$T_TMP/s3-start.log" 2>&1 || unavailable "S3 server" "$(tail -n 3 "$T_TMP/s3-start.log")"
s3_mb furrow-e2e >/dev/null || unavailable "S3 bucket" "cannot create bucket"
ok "Elasticsearch $ES_VERSION at $ES_URL and S3 at $S3_ENDPOINT"

port=$(free_port)
data=$T_TMP/data
export FURROW_INSPECT_PORT=$(free_port) FURROW_IGLU_PORT=$(free_port)
export FURROW_PORT=$port FURROW_BIND=127.0.0.1 FURROW_DATA_DIR=$data FURROW_STATS_INTERVAL=1
export FURROW_ES_URL=$ES_URL FURROW_S3_BUCKET=furrow-e2e FURROW_S3_ENDPOINT=$S3_ENDPOINT
export FURROW_S3_REGION=$S3_REGION FURROW_ES_ARGS="--flush-ms 100"
export FURROW_S3_ARGS="--rotate-seconds 2"
# Page and collector are both on 127.0.0.1 (different ports): cross-origin, same-site, so a
# plain-http Lax cookie is stored and sent back.
export FURROW_COLLECTOR_ARGS="--no-cookie-secure --cookie-same-site Lax"
bash "$FURROW_ROOT/fifo-setup.sh" start >"$T_TMP/launcher.log" 2>&1 &
launcher=$!
if wait_for 60 test -f "$data/run/ready"; then ok "pipeline ready with es-sink and s3-sink"
else fail "pipeline ready"; sed 's/^/# /' "$T_TMP/launcher.log" "$data"/run/*.log; done_testing; exit; fi
c=http://127.0.0.1:$port

# ---- real trackers ----
out=$(cd "$T_TMP" && node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$c" e2e-node post 2>"$T_TMP/node.err")
eq "node tracker sent 9 events without failure" '{"sent":["page_view","page_view","page_ping","struct","struct","unstruct","transaction","transaction_item","transaction_item"],"failures":0}' "$out"
out=$(cd "$T_TMP" && node "$FURROW_ROOT/tests/e2e/node-tracker.js" "$c" e2e-node-get get 2>>"$T_TMP/node.err")
check "node tracker (GET) sent 9 events" test "$(echo "$out" | jq -r .failures)" = 0
bout=$(cd "$T_TMP" && node "$FURROW_ROOT/tests/e2e/browser.js" "$c" e2e-browser 2>"$T_TMP/browser.err")
brc=$?
if [ $brc -eq 0 ]; then ok "browser tracker: 3 POSTs answered 200 ($bout)"
else fail "browser tracker: $bout"; sed 's/^/# /' "$T_TMP/browser.err" | head -20; fi
nuid=$(echo "$bout" | jq -r '.nuid // empty' 2>/dev/null)
check "the browser holds an sp cookie with a UUID" sh -c "echo '$nuid' | grep -Eq '^[0-9a-f-]{36}$'"

# ---- invalid events ----
ue() { jq -rn --arg s "$1" --argjson d "$2" '{"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":$s,"data":$d}} | @uri'; }
codes=$(curl -s -o /dev/null -w '%{http_code}' "$c/i?e=ue&p=web&tv=curl&aid=e2e-bad&ue_pr=$(ue iglu:com.acme/unknown/jsonschema/1-0-0 '{}')")
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' "$c/i?e=ue&p=web&tv=curl&aid=e2e-bad&ue_pr=$(ue iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1 '{"elementId":"no-target"}')")"
codes="$codes $(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d '{"schema": not json' "$c/com.snowplowanalytics.snowplow/tp2")"
eq "invalid events answered 200" "200 200 200" "$codes"

# ---- Elasticsearch ----
es_count() { # INDEX QUERY
	curl -s -XPOST "$ES_URL/$1/_refresh" >/dev/null
	curl -s "$ES_URL/$1/_count" -H 'Content-Type: application/json' -d "$2" | jq -r '.count // 0'
}
app() { printf '{"query":{"term":{"app_id":"%s"}}}' "$1"; }
wait_count() { [ "$(es_count "$1" "$2")" -ge "$3" ]; }
wait_for 30 wait_count good "$(app e2e-node)" 9
eq "node tracker events in the good index" 9 "$(es_count good "$(app e2e-node)")"
wait_for 30 wait_count good "$(app e2e-node-get)" 9
eq "node tracker GET events in the good index" 9 "$(es_count good "$(app e2e-node-get)")"
wait_for 30 wait_count good "$(app e2e-browser)" 3
eq "browser events in the good index" 3 "$(es_count good "$(app e2e-browser)")"
wait_for 30 wait_count bad '{"query":{"match_all":{}}}' 3
eq "bad rows in the bad index" 3 "$(es_count bad '{"query":{"match_all":{}}}')"

search() { curl -s "$ES_URL/good/_search?size=100" -H 'Content-Type: application/json' -d "$1"; }
node=$(search "$(app e2e-node)")
ev() { echo "$node" | jq -c "[.hits.hits[]._source | select(.event == \"$1\")]"; }
eq "event types (node tracker)" "page_ping page_view page_view struct struct transaction transaction_item transaction_item unstruct" \
	"$(echo "$node" | jq -r '[.hits.hits[]._source.event] | sort | join(" ")')"
pv=$(ev page_view | jq -c '[.[] | select(.page_urlpath == "/home")][0]')
eq "page view: page_url" "https://shop.example/home?utm_source=news&utm_medium=email" "$(echo "$pv" | jq -r .page_url)"
eq "page view: page_title" "Home" "$(echo "$pv" | jq -r .page_title)"
eq "page view: campaign attribution (mkt_source, mkt_medium)" "news email" "$(echo "$pv" | jq -r '"\(.mkt_source) \(.mkt_medium)"')"
eq "page view: referer parser (refr_medium, refr_source, refr_term)" "search Google furrow" \
	"$(echo "$pv" | jq -r '"\(.refr_medium) \(.refr_source) \(.refr_term)"')"
eq "page view: web_page context flattened" "1b7f3c52-4b8a-4a61-9bb4-0c2de6a91f10" \
	"$(echo "$pv" | jq -r '.contexts_com_snowplowanalytics_snowplow_web_page_1[0].id')"
eq "page view: domain_userid, v_tracker" "8c4a6d2e-0f0b-4f6e-9c1b-5a7f3e2d1c00 node-" \
	"$(echo "$pv" | jq -r '"\(.domain_userid) \(.v_tracker[0:5])"')"
check "page view: event_fingerprint set (default enrichments)" test -n "$(echo "$pv" | jq -r '.event_fingerprint // empty')"
check "page view: ua_parser_context derived" test "$(echo "$pv" | jq -r '.contexts_com_snowplowanalytics_snowplow_ua_parser_context_1 | length')" -ge 1
pp=$(ev page_ping | jq -c '.[0]')
eq "page ping offsets" "1 10 5 600" "$(echo "$pp" | jq -r '"\(.pp_xoffset_min) \(.pp_xoffset_max) \(.pp_yoffset_min) \(.pp_yoffset_max)"')"
se=$(ev struct | jq -c '[.[] | select(.se_action == "play")][0]')
eq "structured event fields" "video play intro hd 12.5" "$(echo "$se" | jq -r '"\(.se_category) \(.se_action) \(.se_label) \(.se_property) \(.se_value)"')"
sde=$(ev unstruct | jq -c '.[0]')
eq "self-describing event flattened" "https://shop.example/sale banner" \
	"$(echo "$sde" | jq -r '.unstruct_event_com_snowplowanalytics_snowplow_link_click_1 | "\(.targetUrl) \(.elementId)"')"
eq "self-describing event: two contexts" "1 1" "$(echo "$sde" | jq -r '"\(.contexts_com_snowplowanalytics_snowplow_web_page_1 | length) \(.contexts_com_snowplowanalytics_snowplow_geolocation_context_1 | length)"')"
eq "event_vendor/name/format/version" "com.snowplowanalytics.snowplow link_click jsonschema 1-0-1" \
	"$(echo "$sde" | jq -r '"\(.event_vendor) \(.event_name) \(.event_format) \(.event_version)"')"
tr=$(ev transaction | jq -c '.[0]')
eq "transaction fields" "order-1 web 42.5 2.5 5 London UK GBP" \
	"$(echo "$tr" | jq -r '"\(.tr_orderid) \(.tr_affiliation) \(.tr_total) \(.tr_tax) \(.tr_shipping) \(.tr_city) \(.tr_country) \(.tr_currency)"')"
eq "transaction items" "sku-1 Mug kitchen 10 2|sku-2 Tea food 17.5 1" \
	"$(ev transaction_item | jq -r '[.[] | "\(.ti_sku) \(.ti_name) \(.ti_category) \(.ti_price) \(.ti_quantity)"] | sort | join("|")')"
eq "typed fields searchable (range on tr_total, term on se_value; POST and GET runs)" "2 2" \
	"$(es_count good '{"query":{"range":{"tr_total":{"gte":42,"lte":43}}}}') $(es_count good '{"query":{"term":{"se_value":12.5}}}')"

br=$(search "$(app e2e-browser)")
eq "browser event types" "page_view unstruct unstruct" "$(echo "$br" | jq -r '[.hits.hits[]._source.event] | sort | join(" ")')"
eq "browser events carry the sp cookie's network_userid" "$nuid" \
	"$(echo "$br" | jq -r '[.hits.hits[]._source.network_userid] | unique | join(",")')"
eq "browser link click (real click) and site search" "link_click site_search" \
	"$(echo "$br" | jq -r '[.hits.hits[]._source | select(.event == "unstruct") | .event_name] | sort | join(" ")')"
check "browser page view has a page_url on the page's origin" \
	test "$(echo "$br" | jq -r '[.hits.hits[]._source | select(.event == "page_view")][0].page_url' | cut -c1-17)" = "http://127.0.0.1:"

bad=$(curl -s -XPOST "$ES_URL/bad/_refresh" >/dev/null; curl -s "$ES_URL/bad/_search?size=100")
eq "bad row types" "schema_violations schema_violations tracker_protocol_violations" \
	"$(echo "$bad" | jq -r '[.hits.hits[]._source.schema | split("/")[1]] | sort | join(" ")')"

# ---- clean stop, S3, counters ----
bash "$FURROW_ROOT/fifo-setup.sh" stop >>"$T_TMP/launcher.log" 2>&1
eq "stop exits 0" 0 $?
wait "$launcher"
eq "launcher exits 0" 0 $?
good_total=$(es_count good '{"query":{"match_all":{}}}')
bad_total=$(es_count bad '{"query":{"match_all":{}}}')
eq "good index total" 21 "$good_total"

s3_lines() { # PREFIX
	local n=0 k
	for k in $(s3_ls furrow-e2e "$1"); do
		s3_get furrow-e2e "$k" "$T_TMP/obj.gz" && n=$((n + $(gunzip -c "$T_TMP/obj.gz" | wc -l)))
	done
	echo $n
}
eq "S3 enriched/ holds every good event" "$good_total" "$(s3_lines enriched/)"
eq "S3 bad/ holds every bad row" "$bad_total" "$(s3_lines bad/)"

stat() { # STAGE KEY: the value of KEY=N in the stage's last counter line
	grep -E 'stats at exit|exit:|lines [0-9]' "$data/run/$1.log" | tail -n 1 | grep -oE "(^|[ ,;:])$2[= ][0-9]+" | grep -oE '[0-9]+$'
}
records=$(stat collector records); cbad=$(stat collector bad_rows)
elines=$(stat enrich lines); egood=$(stat enrich good); ebad=$(stat enrich bad)
gin=$(stat es-sink-good in); gidx=$(stat es-sink-good indexed); gbad=$(stat es-sink-good bad)
bdin=$(stat es-sink-bad in); bidx=$(stat es-sink-bad indexed); bbad=$(stat es-sink-bad bad)
s3g=$(stat s3-sink-good lines_in); s3b=$(stat s3-sink-bad lines_in)
diag "collector records=$records bad=$cbad; enrich lines=$elines good=$egood bad=$ebad; es good in=$gin indexed=$gidx bad=$gbad; es bad in=$bdin indexed=$bidx bad=$bbad; s3 good=$s3g bad=$s3b"
eq "collector records = lines read by enrich" "$records" "$elines"
eq "enrich good = es-sink (good) input = indexed + bad" "$egood $egood" "$gin $((gidx + gbad))"
eq "collector + enrich bad rows = es-sink (bad) input = indexed + bad" "$((cbad + ebad)) $((cbad + ebad))" "$bdin $((bidx + bbad))"
eq "s3-sink inputs = enrich good / all bad" "$egood $((cbad + ebad))" "$s3g $s3b"
eq "indexed = documents in Elasticsearch" "$gidx $bidx" "$good_total $bad_total"
done_testing
