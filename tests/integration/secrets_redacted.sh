#!/bin/bash
# Secrets never in logs or bad rows (GUIDE, issue 10 §3): credentials in the userinfo of a URL
# (es-sink --url, s3-sink --endpoint, an Iglu registry URI, an enrichment's download URI) are
# masked wherever the URL is shown: warnings, errors, generic_error and ResolutionError rows.
. "$(dirname "$0")/../lib.sh"

GOLD=$FURROW_ROOT/tests/golden/es-sink
SECRET=Pw0rd-9f3e1c
dead=$(free_port)      # nothing listens there

# no_secret NAME FILE...: none of the files contains the password
no_secret() {
	name=$1; shift
	if cat "$@" 2>/dev/null | grep -q "$SECRET"; then
		fail "$name"
		cat "$@" 2>/dev/null | grep -o ".\{60\}$SECRET.\{20\}" | head -n 3 | sed 's/^/# leaked: /'
	else
		ok "$name"
	fi
}

# ---- es-sink: a node that is down, with credentials in --url ----
head -n 3 "$GOLD/good.tsv" | "$FURROW_BIN/es-sink" --url "http://elastic:$SECRET@127.0.0.1:$dead" \
    --stats-interval 0 --retry-base-ms 10 --retry-max-ms 50 --retry-deadline 1 \
    --bad "$T_TMP/es.bad" >/dev/null 2>"$T_TMP/es.err"
eq "es-sink, node down: exit 69" 69 $?
eq "es-sink: the documents became bad rows" 3 "$(wc -l <"$T_TMP/es.bad")"
check "es-sink: the warning still names the node" grep -q "http://\*\*\*@127.0.0.1:$dead" "$T_TMP/es.err"
check "es-sink: the bad rows still name the node" grep -q "http://\*\*\*@127.0.0.1:$dead" "$T_TMP/es.bad"
no_secret "es-sink: no password in its log or its generic_error rows" "$T_TMP/es.err" "$T_TMP/es.bad"

# ---- s3-sink: credentials in --endpoint ----
mkdir -p "$T_TMP/spool"
echo 'a line' | AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI \
    "$FURROW_BIN/s3-sink" --bucket b --spool "$T_TMP/spool" --path-style \
    --endpoint "http://minio:$SECRET@127.0.0.1:$dead" --retry-base-ms 10 --retry-max-ms 50 \
    --retry-deadline 1 --drain-seconds 2 --stats-interval 0 --bad "$T_TMP/s3.bad" \
    >/dev/null 2>"$T_TMP/s3.err"
check "s3-sink: the log names the endpoint" grep -q "endpoint http://\*\*\*@127.0.0.1:$dead" "$T_TMP/s3.err"
AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI "$FURROW_BIN/s3-sink" --bucket b \
    --spool "$T_TMP/spool" --endpoint "ftp://minio:$SECRET@127.0.0.1:$dead" </dev/null \
    >/dev/null 2>>"$T_TMP/s3.err"
eq "s3-sink: a non-HTTP endpoint is a usage error" 64 $?
no_secret "s3-sink: no password in its log" "$T_TMP/s3.err" "$T_TMP/s3.bad"

# ---- enrich: an Iglu registry URI with credentials, and the registry down ----
check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
UE=$(python3 -c 'import json,urllib.parse as u; print(u.quote(json.dumps({"schema":"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0","data":{"schema":"iglu:com.acme/button_click/jsonschema/1-0-0","data":{"id":"x"}}}), safe=""))')
echo "{\"path\":\"/i\",\"qs\":\"e=ue&p=web&tv=t&ue_pr=$UE\"}" | "$T_TMP/mkraw" >"$T_TMP/ue.raw"
cat >"$T_TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3",
 "data":{"cacheSize":500,"cacheTtl":600,"repositories":[
   {"name":"private registry","priority":0,"vendorPrefixes":["com.acme"],
    "connection":{"http":{"uri":"http://iglu:$SECRET@127.0.0.1:$dead/api"}}}]}}
JSON
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --resolver "$T_TMP/resolver.json" \
    --registry-timeout 1000 --bad "$T_TMP/en.bad" <"$T_TMP/ue.raw" >/dev/null 2>"$T_TMP/en.err"
eq "enrich, registry down: exit 0" 0 $?
eq "enrich: one bad row" 1 "$(wc -l <"$T_TMP/en.bad")"
check "enrich: the bad row names the registry's URL" grep -q "http://\*\*\*@127.0.0.1:$dead/api" "$T_TMP/en.bad"
no_secret "enrich: no registry password in its log or its bad rows" "$T_TMP/en.err" "$T_TMP/en.bad"

# ---- enrich: an enrichment whose database is downloaded from a URI with credentials ----
mkdir -p "$T_TMP/enr"
sed "s|\"uri\": \"file:../mmdb\"|\"uri\": \"http://maxmind:$SECRET@127.0.0.1:$dead/db\"|" \
    "$FURROW_ROOT/tests/golden/enrichments/conf/ip_lookups.json" >"$T_TMP/enr/ip_lookups.json"
"$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" --enrichments "$T_TMP/enr" \
    </dev/null >/dev/null 2>"$T_TMP/dl.err"
eq "enrich, download fails: a startup error" 78 $?
check "enrich: the error names the download URL" grep -q "http://\*\*\*@127.0.0.1:$dead/db" "$T_TMP/dl.err"
no_secret "enrich: no download password in its log" "$T_TMP/dl.err"
done_testing
