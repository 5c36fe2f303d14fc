#!/bin/sh
# enrich with a sql_query_enrichment_config through bin/enrich against a real PostgreSQL
# (Debian's postgresql, a throwaway cluster: tests/setup-pg.sh): placeholders bound from a
# column and a context (prepared statements, typed as upstream binds them), the row as a
# context, one query per distinct input while the cache holds it, expectedRows failures and
# SQL errors as enrichment_failures (identifier sql-query, upstream's two messages),
# ignoreOnError, column types as upstream's JDBC getters give them, EVERY_ROW and the
# property-name modes, a database that is down, and a restart of the database under a
# running enrich (the events after it are enriched, none is lost).
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"

if [ ! -x "${PG_BIN:-/nonexistent}/initdb" ]; then
	skip "PostgreSQL tests" "no PostgreSQL server (apt-get install postgresql)"
	done_testing
	exit 0
fi
PG_FSYNC=off
trap 'pg_cleanup; t_cleanup' EXIT
check "PostgreSQL is up" pg_setup
pg_sql "ALTER DATABASE furrow SET log_statement = 'all'" >/dev/null
pg_sql "CREATE TABLE users (uid text, app int, name text, score float8, active bool, joined date);
  INSERT INTO users VALUES ('u1', 7, 'Ann', 9.5, true, '2023-11-01'), ('u2', 7, 'Bob', 2, false, NULL),
  ('u2', 8, 'Bob Other', 3, true, NULL);
  CREATE TABLE typed (i2 int2, i4 int4, i8 int8, b bool, f4 float4, f8 float8, t text, v varchar(9),
  c char(3), d date, ts timestamp, tz timestamptz, n numeric, j json, jb jsonb, u uuid, a int[]);
  INSERT INTO typed VALUES (2, 4, 8000000000, true, 1.1, 2.5, 'tab	x', 'v', 'c', '2020-02-29',
  '2020-01-02 03:04:05', '2020-01-02 03:04:05.25+02', 12.50, '{\"k\":[1,2]}', '{\"z\":1}',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{1,2}');
  GRANT SELECT ON users, typed TO furrow" >/dev/null

check "mkraw builds" cc -I"$FURROW_ROOT/common" -o "$T_TMP/mkraw" \
    "$FURROW_ROOT/tests/tools/mkraw.c" "$FURROW_ROOT/common/thrift.c" \
    "$FURROW_ROOT/common/base64.c" "$FURROW_ROOT/common/buf.c" -ljansson
S=$T_TMP/iglu/schemas/com.acme
mkdir -p "$S/user/jsonschema" "$S/typed/jsonschema" "$S/app/jsonschema"
for n in user typed app; do
	cat >"$S/$n/jsonschema/1-0-0" <<JSON
{"\$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
 "self":{"vendor":"com.acme","name":"$n","format":"jsonschema","version":"1-0-0"},"type":["object","array"]}
JSON
done
cat >"$T_TMP/resolver.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-1",
 "data":{"cacheSize":500,"repositories":[{"name":"test","priority":0,"vendorPrefixes":["com.acme"],
   "connection":{"embedded":{"path":"$T_TMP/iglu"}}}]}}
JSON
sql_conf() {   # sql_conf DIR SQL EXPECTED DESCRIBES NAMES IGNORE [PORT]
	mkdir -p "$1"
	cat >"$1/sql_query_enrichment_config.json" <<JSON
{"schema":"iglu:com.snowplowanalytics.snowplow.enrichments/sql_query_enrichment_config/jsonschema/1-0-1",
 "data":{"vendor":"com.snowplowanalytics.snowplow.enrichments","name":"sql_query_enrichment_config","enabled":true,
  "parameters":{
   "inputs":[{"placeholder":1,"pojo":{"field":"user_id"}},
             {"placeholder":2,"json":{"field":"contexts","schemaCriterion":"iglu:com.acme/app/jsonschema/1-*-*","jsonPath":"\$.id"}}],
   "database":{"postgresql":{"host":"127.0.0.1","port":${7:-$PG_PORT},"sslMode":false,"username":"furrow",
     "password":"$PGPASSWORD","database":"furrow"}},
   "query":{"sql":"$2"},
   "output":{"expectedRows":"$3","json":{"schema":"iglu:com.acme/$8/jsonschema/1-0-0","describes":"$4","propertyNames":"$5"}},
   "cache":{"size":100,"ttl":60},"ignoreOnError":$6}}}
JSON
}
sql_conf "$T_TMP/c1" "SELECT name, score, active, joined AS joined_on FROM users WHERE uid = ? AND app = ?" \
    EXACTLY_ONE ALL_ROWS CAMEL_CASE false "" user
sql_conf "$T_TMP/c2" "SELECT name, score, active, joined AS joined_on FROM users WHERE uid = ? AND app = ?" \
    EXACTLY_ONE ALL_ROWS CAMEL_CASE true "" user
sql_conf "$T_TMP/c3" "SELECT * FROM typed WHERE ? <> '' AND ? > 0" AT_LEAST_ONE EVERY_ROW AS_IS false "" typed
sql_conf "$T_TMP/c4" "SELECT name FROM nope WHERE uid = ? AND app = ?" AT_MOST_ONE ALL_ROWS AS_IS false "" user
sql_conf "$T_TMP/c5" "SELECT uid, name FROM users WHERE uid = ? OR app = ? ORDER BY name" AT_LEAST_ZERO ALL_ROWS UPPER_CASE false "" user

ctx() { printf 'co=%%7B%%22schema%%22%%3A%%22iglu%%3Acom.snowplowanalytics.snowplow%%2Fcontexts%%2Fjsonschema%%2F1-0-0%%22%%2C%%22data%%22%%3A%%5B%%7B%%22schema%%22%%3A%%22iglu%%3Acom.acme%%2Fapp%%2Fjsonschema%%2F1-0-0%%22%%2C%%22data%%22%%3A%%7B%%22id%%22%%3A%s%%7D%%7D%%5D%%7D' "$1"; }
ev() { printf '{"path":"/i","qs":"e=pv&p=web&tv=t&aid=%s&uid=%s&%s"}\n' "$1" "$2" "$(ctx "$3")"; }
run() {   # run CONFDIR < raw > good, bad rows in (a new) $T_TMP/bad.jsonl
	rm -f "$T_TMP/bad.jsonl"
	FURROW_ENRICH_NOW_MS=1700000100000 "$FURROW_BIN/enrich" --schemas "$FURROW_ROOT/schemas" \
	    --resolver "$T_TMP/resolver.json" --enrichments "$1" --bad "$T_TMP/bad.jsonl"
}
executions() { grep -c 'execute furrow_sql' "$PG_DIR/server.log"; }

{ ev a u1 7; ev b u2 7; ev c u1 7; ev d nobody 7; ev e u1 7; ev f u2 8; ev g u1 '%227%22'; } | "$T_TMP/mkraw" >"$T_TMP/in1.raw"
before=$(executions)
run "$T_TMP/c1" <"$T_TMP/in1.raw" >"$T_TMP/good1.tsv" 2>"$T_TMP/err1"
eq "exit status 0" 0 $?
eq "the row as a context (CAMEL_CASE, a date as Joda prints it)" \
    '{"schema":"iglu:com.acme/user/jsonschema/1-0-0","data":{"name":"Ann","score":9.5,"active":true,"joinedOn":"2023-11-01T00:00:00.000Z"}}' \
    "$(awk -F'\t' '$1 == "a"' "$T_TMP/good1.tsv" | cut -f123 | jq -c '.data[0]')"
eq "the second placeholder from the context picks the row" "Bob,Bob Other" \
    "$(awk -F'\t' '$1 == "b" || $1 == "f"' "$T_TMP/good1.tsv" | cut -f123 | jq -r '.data[0].data.name' | paste -sd,)"
eq "a string \"7\" from JSON binds as an integer too" "Ann" \
    "$(awk -F'\t' '$1 == "g"' "$T_TMP/good1.tsv" | cut -f123 | jq -r '.data[0].data.name')"
eq "one query per distinct input (u1/7 three times, u2/7, nobody/7, u2/8)" 4 $(( $(executions) - before ))
eq "no row for EXACTLY_ONE: upstream's two messages" \
    "sql-query: Error while executing the sql lookup|sql-query: SQL Query Enrichment: exactly one row was expected" \
    "$(jq -r '.data.failure.messages | map(.enrichment.identifier + ": " + .message.error) | join("|")' "$T_TMP/bad.jsonl")"
check "the password is in no output" sh -c '! grep -q "$1" "$2" "$3" "$4"' _ "$PGPASSWORD" "$T_TMP/good1.tsv" "$T_TMP/bad.jsonl" "$T_TMP/err1"

run "$T_TMP/c2" <"$T_TMP/in1.raw" >"$T_TMP/good2.tsv" 2>/dev/null
eq "ignoreOnError: seven good events, the unknown user without context" "7 " \
    "$(wc -l <"$T_TMP/good2.tsv") $(awk -F'\t' '$1 == "d"' "$T_TMP/good2.tsv" | cut -f123)"

ev t u2 1 | "$T_TMP/mkraw" >"$T_TMP/in3.raw"
run "$T_TMP/c3" <"$T_TMP/in3.raw" >"$T_TMP/good3.tsv" 2>"$T_TMP/err3"
eq "column types as JDBC gives them (EVERY_ROW, AS_IS)" \
    '{"i2":2,"i4":4,"i8":8000000000,"b":true,"f4":1.100000023841858,"f8":2.5,"t":"tab\tx","v":"v","c":"c  ","d":"2020-02-29T00:00:00.000Z","ts":"2020-01-02 03:04:05.0","tz":"2020-01-02 01:04:05.25","n":12.5,"j":{"k":[1,2]},"jb":{"z":1},"u":"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11","a":"{1,2}"}' \
    "$(cut -f123 "$T_TMP/good3.tsv" | jq -c '.data[0].data')"

run "$T_TMP/c4" <"$T_TMP/in3.raw" >/dev/null 2>&1
eq "an SQL error: upstream's two messages, PostgreSQL's reason" \
    'Error while executing the sql lookup|SQL Query enrichment: ERROR:  relation "nope" does not exist' \
    "$(jq -r '.data.failure.messages | map(.message.error) | join("|")' "$T_TMP/bad.jsonl")"

run "$T_TMP/c5" <"$T_TMP/in3.raw" >"$T_TMP/good5.tsv" 2>/dev/null
eq "ALL_ROWS with AT_LEAST_ZERO: one context holding every row (UPPER_CASE)" \
    '[{"UID":"u2","NAME":"Bob"},{"UID":"u2","NAME":"Bob Other"}]' \
    "$(cut -f123 "$T_TMP/good5.tsv" | jq -c '.data[0].data')"

# The database down: enrich starts, the lookups fail fast, every event is accounted for.
sql_conf "$T_TMP/c6" "SELECT name FROM users WHERE uid = ? AND app = ?" AT_MOST_ONE ALL_ROWS AS_IS false "$(free_port)" user
{ ev x1 u1 7; ev x2 u2 7; } | "$T_TMP/mkraw" >"$T_TMP/in6.raw"
run "$T_TMP/c6" <"$T_TMP/in6.raw" >"$T_TMP/good6.tsv" 2>"$T_TMP/err6"
eq "database unreachable: exit 0, two bad rows" "0 2" "$? $(wc -l <"$T_TMP/bad.jsonl")"
check "... saying it cannot connect" grep -q "SQL Query enrichment: cannot connect to 127.0.0.1:" "$T_TMP/bad.jsonl"

# A restart of the database under a running enrich: the events after it are enriched.
mkfifo "$T_TMP/fifo"
run "$T_TMP/c1" <"$T_TMP/fifo" >"$T_TMP/good7.tsv" 2>"$T_TMP/err7" &
epid=$!
T_PIDS="$T_PIDS $epid"
exec 3>"$T_TMP/fifo"
ev r1 u1 7 | "$T_TMP/mkraw" >&3
check "before the restart: enriched" wait_for 20 grep -q "Ann" "$T_TMP/good7.tsv"
pg_stop 3>&-
check "PostgreSQL restarted" pg_start 3>&-   # (the server must not hold the FIFO open)
ev r2 u2 7 | "$T_TMP/mkraw" >&3
check "after the restart: enriched on a new connection" wait_for 20 grep -q "Bob" "$T_TMP/good7.tsv"
exec 3>&-
wait "$epid"
eq "enrich ended cleanly" 0 $?
eq "after the restart: no bad row" 0 "$(wc -l <"$T_TMP/bad.jsonl")"
done_testing
