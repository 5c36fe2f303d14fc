#!/bin/bash
# pg-sink against a real PostgreSQL (Debian's postgresql, a cluster of our own: setup-pg.sh):
# golden events into atomic.events checked column by column and with SQL; the entity tables
# named, typed and filled as Snowplow's Postgres Loader does (tests/golden/pg-sink/columns.txt
# and entities.txt are derived by hand from the schemas in tests/golden/pg-sink/iglu and the
# loader's rules, pg_schema.h); a replay adds nothing; a version bump migrates, a major one gets
# a new table; refused rows become bad rows while the rest loads; --input bad; passwords.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-pg.sh"

SINK=$FURROW_BIN/pg-sink
G=$FURROW_ROOT/tests/golden/pg-sink
trap 'pg_cleanup; t_cleanup' EXIT

PG_FSYNC=off pg_setup || { fail "PostgreSQL starts"; done_testing; exit 1; }
ok "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') started on port $PG_PORT"

sink() { # sink NAME ARGS... < input: pg-sink with the test registry; stderr in $T_TMP/NAME.err
	"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" --stats-interval 0 \
	    --bad "$T_TMP/$1.bad" "${@:2}" 2>"$T_TMP/$1.err"
}
sinkb() { # sinkb NAME ARGS...: pg-sink --input bad
	"$SINK" --url "$PG_URL" --input bad --stats-interval 0 --bad "$T_TMP/$1.bad" "${@:2}" 2>"$T_TMP/$1.err"
}
counters() { grep ' exit: ' "$T_TMP/$1.err" | sed 's/.* exit: //'; }
counter() { counters "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
nbad() { cat "$T_TMP/$1.bad" 2>/dev/null | wc -l; }

# ---- golden events ----
sink golden --setup <"$G/golden.tsv"
eq "golden: exit 0" 0 $?
eq "golden: no bad rows" 0 "$(nbad golden)"
eq "golden: 12 events loaded, 12 entities" "12 12" "$(counter golden loaded) $(counter golden entities)"

pg_sql "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = 'atomic'
    AND table_name = 'events' ORDER BY ordinal_position" | tr '|' '\t' >"$T_TMP/types"
eq "atomic.events has the 128 atomic columns" 128 "$(wc -l <"$T_TMP/types")"
eq "... in the loader's order, without the three JSON columns" \
    "app_id etl_tstamp collector_tstamp event_id true_tstamp" \
    "$(awk -F '\t' 'NR==1||NR==3||NR==4||NR==7||NR==128 {printf "%s%s", s, $1; s=" "}' "$T_TMP/types")"
eq "column types: the loader's, VARCHARs widened to enrich's limits" \
    "uuid character(2) character varying(10000) character varying(4096) double precision boolean" \
    "$(pg_sql "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid =
        'atomic.events'::regclass AND attname IN ('page_url', 'se_label', 'geo_country', 'event_id',
        'se_value', 'br_cookies') ORDER BY attnum" | tr '\n' ' ' | sed 's/ $//')"
pg_sql "COPY atomic.events TO STDOUT" >"$T_TMP/rows"
python3 "$FURROW_ROOT/tests/integration/pg_sink_compare.py" "$G/golden.tsv" "$T_TMP/types" "$T_TMP/rows" \
    >"$T_TMP/compare"
eq "every column of every event as in the TSV (pg_sink_compare.py)" 0 $?
tail -n 20 "$T_TMP/compare"

eq "SQL: events by type" "page_ping:1 page_view:4 struct:2 transaction:1 transaction_item:1 unstruct:3" \
    "$(pg_sql "SELECT event || ':' || count(*) FROM atomic.events GROUP BY event ORDER BY event" | tr '\n' ' ' | sed 's/ $//')"
eq "SQL: a context joined to its events (web_page.id by page title)" \
    "Home|a1b2c3d4-0001 Ünïcødé \\ back\\slash \"quote\" 'single' €|a1b2c3d4-0002 |a1b2c3d4-0002" \
    "$(pg_sql "SELECT coalesce(e.page_title, ''), c.id FROM atomic.events e
        JOIN atomic.com_snowplowanalytics_snowplow_web_page_1 c
          ON c.root_id = e.event_id AND c.root_tstamp = e.collector_tstamp ORDER BY e.event_id" | tr '\n' ' ' | sed 's/ $//')"
eq "SQL: users by type across events (two contexts of one event)" "enterprise:1 free:1 premium:1 :1" \
    "$(pg_sql "SELECT coalesce(u.user_type, '') || ':' || count(*) FROM atomic.events e
        JOIN atomic.com_acme_user_context_1 u ON u.root_id = e.event_id AND u.root_tstamp = e.collector_tstamp
        GROUP BY u.user_type ORDER BY u.user_type" | tr '\n' ' ' | sed 's/ $//')"
eq "SQL: the self-describing event's typed columns" "Add to basket|3|2023-11-14 22:13:20.123|0.25|b|t" \
    "$(pg_sql "SELECT label, position, clicked_at, \"meta.ratio\", tags->>1, flag FROM atomic.com_acme_button_click_1
        b JOIN atomic.events e ON b.root_id = e.event_id WHERE e.event_name = 'button_click' AND position IS NOT NULL")"

pg_sql "SELECT table_name, ordinal_position, column_name, upper(data_type) ||
    coalesce('(' || character_maximum_length || ')', ''), is_nullable FROM information_schema.columns
    WHERE table_schema = 'atomic' AND table_name <> 'events' AND ordinal_position > 6 ORDER BY 1, 2" >"$T_TMP/columns"
check "entity tables: names, columns, order, types, NOT NULL (columns.txt)" diff "$G/columns.txt" "$T_TMP/columns"
diff "$G/columns.txt" "$T_TMP/columns" | head -n 20 | sed 's/^/# /'
eq "entity tables: the loader's six metadata columns first" \
    "schema_vendor schema_name schema_format schema_version root_id root_tstamp" \
    "$(pg_sql "SELECT column_name FROM information_schema.columns WHERE table_schema = 'atomic' AND
        table_name = 'com_acme_user_context_1' AND ordinal_position <= 6 ORDER BY ordinal_position" | tr '\n' ' ' | sed 's/ $//')"
eq "entity tables: COMMENT ON TABLE names the schema, as the loader's" \
    "iglu:com.acme/button_click/jsonschema/1-0-0" \
    "$(pg_sql "SELECT obj_description('atomic.com_acme_button_click_1'::regclass, 'pg_class')")"
for t in $(pg_sql "SELECT tablename FROM pg_tables WHERE schemaname = 'atomic' AND tablename <> 'events' ORDER BY 1"); do
	pg_sql "COPY (SELECT '$t', * FROM atomic.\"$t\") TO STDOUT"
done | LC_ALL=C sort >"$T_TMP/entities"
check "entity rows: every value (entities.txt)" diff <(LC_ALL=C sort "$G/entities.txt") "$T_TMP/entities"
diff <(LC_ALL=C sort "$G/entities.txt") "$T_TMP/entities" | head -n 10 | sed 's/^/# /'

# ---- replay: nothing twice ----
counts() { pg_sql "SELECT (SELECT count(*) FROM atomic.events) || ' ' || (SELECT count(*) FROM atomic.com_acme_user_context_1)
    || ' ' || (SELECT count(*) FROM atomic.com_acme_button_click_1) || ' ' ||
    (SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_web_page_1)"; }
before=$(counts)
sink replay <"$G/golden.tsv"
eq "replay: exit 0" 0 $?
eq "replay: no new row in any table" "$before" "$(counts)"
eq "replay: counted as duplicates" "0 12" "$(counter replay loaded) $(counter replay duplicates)"
{ cat "$G/golden.tsv"; head -n 3 "$G/golden.tsv"; } | sink twice --batch-rows 100000
eq "the same event twice in one batch: loaded once" "$before" "$(counts)"

# ---- version bumps ----
sink migrate <"$G/migrate.tsv"
eq "migrate: exit 0, no bad rows" "0 0" "$? $(nbad migrate)"
eq "1-0-1 adds its two columns at the end, nullable (ALTER TABLE ADD COLUMN)" \
    "21|score|double precision|YES 22|variant|character varying|YES" \
    "$(pg_sql "SELECT ordinal_position, column_name, data_type, is_nullable FROM information_schema.columns
        WHERE table_schema = 'atomic' AND table_name = 'com_acme_button_click_1' AND ordinal_position > 20
        ORDER BY 1" | tr '\n' ' ' | sed 's/ $//')"
eq "... the comment moves to 1-0-1" "iglu:com.acme/button_click/jsonschema/1-0-1" \
    "$(pg_sql "SELECT obj_description('atomic.com_acme_button_click_1'::regclass, 'pg_class')")"
eq "... old and new rows side by side" "1-0-0|minimal|| 1-0-1|new version|0.75|B 1-0-0|old version||" \
    "$(pg_sql "SELECT schema_version, label, score, variant FROM atomic.com_acme_button_click_1
        WHERE \"meta.source\" IS NOT NULL AND position IS NULL ORDER BY root_id" | tr '\n' ' ' | sed 's/ $//')"
eq "2-0-0 (a breaking change) gets a table of its own" "text|NO position|YES" \
    "$(pg_sql "SELECT column_name, is_nullable FROM information_schema.columns WHERE table_schema = 'atomic'
        AND table_name = 'com_acme_button_click_2' AND ordinal_position > 6 ORDER BY ordinal_position" | tr '\n' ' ' | sed 's/ $//')"
eq "... with its row" "major two|5" "$(pg_sql "SELECT text, position FROM atomic.com_acme_button_click_2")"
# inside one batch: 1-0-0 rows were formatted before the layout grew to 1-0-1
sed -n 8p "$G/golden.tsv" >"$T_TMP/grow.tsv"; sed -n 1p "$G/migrate.tsv" >>"$T_TMP/grow.tsv"
sink grow --schema grow --setup <"$T_TMP/grow.tsv"
eq "a layout that grows within one batch: both rows, the older padded with NULLs" "1-0-0|minimal| 1-0-1|new version|B" \
    "$(pg_sql "SELECT schema_version, label, variant FROM grow.com_acme_button_click_1 ORDER BY root_id" | tr '\n' ' ' | sed 's/ $//')"

# ---- a table dropped under a running pg-sink's feet is made again ----
pg_sql "DROP TABLE atomic.com_acme_user_context_1" >/dev/null
awk -F '\t' -v OFS='\t' '{ $7 = sprintf("22222222-0000-4000-8000-%012d", NR); print }' "$G/golden.tsv" |
    sink dropped
eq "dropped: exit 0, no bad rows" "0 0" "$? $(nbad dropped)"
eq "... the table is back with the new events' contexts" 4 \
    "$(pg_sql "SELECT count(*) FROM atomic.com_acme_user_context_1 WHERE root_id::text LIKE '22222222%'")"

# ---- a table of the same name that holds another schema is left alone ----
pg_sql "CREATE SCHEMA clash AUTHORIZATION furrow; CREATE TABLE clash.com_acme_button_click_1 (x int);
    ALTER TABLE clash.com_acme_button_click_1 OWNER TO furrow;
    COMMENT ON TABLE clash.com_acme_button_click_1 IS 'iglu:com.acme/button-click/jsonschema/1-0-0'" >/dev/null
sink clash --schema clash --setup <"$G/migrate.tsv"
eq "a name clash: the other schema's events are bad rows, the rest loads" "2 1" \
    "$(nbad clash) $(pg_sql "SELECT count(*) FROM clash.com_acme_button_click_2")"
check "... saying which schema the table holds" grep -q 'the table holds iglu:com.acme/button-click/jsonschema/1-0-0' "$T_TMP/clash.bad"
eq "... and the table is untouched" "x" "$(pg_sql "SELECT string_agg(attname, ',') FROM pg_attribute
    WHERE attrelid = 'clash.com_acme_button_click_1'::regclass AND attnum > 0")"

# ---- refused rows: bad rows, the rest loads ----
sink refused --batch-rows 1000 <"$G/refused.tsv"
eq "refused: exit 0" 0 $?
eq "refused: the 10 good events loaded (one batch)" "10" \
    "$(pg_sql "SELECT count(*) FROM atomic.events WHERE page_title LIKE 'good %'")"
eq "refused: nothing of a refused event loaded" "0 0" \
    "$(pg_sql "SELECT (SELECT count(*) FROM atomic.events WHERE app_id LIKE 'refused:%') || ' ' ||
        (SELECT count(*) FROM atomic.com_acme_button_click_1 WHERE label IN ('z'))")"
eq "refused: 7 bad rows, in = loaded + bad" "7 17 10 7" \
    "$(nbad refused) $(counter refused in) $(counter refused loaded) $(counter refused bad)"
reason() { jq -r --arg a "$1" 'select(.data.payload | startswith($a)) | .data.failure.errors[0]' "$T_TMP/refused.bad"; }
check "a value too long for its column (22001, named by COPY's line)" sh -c "echo '$(reason refused:xxx)' | grep -q 'value too long for type character varying(255) (SQLSTATE 22001); COPY events, line 3, column app_id'"
check "CHAR(2) too long" sh -c "echo '$(reason refused:geo)' | grep -q 'character(2) (SQLSTATE 22001)'"
check "not an integer (22P02)" sh -c "echo '$(reason refused:txn)' | grep -q 'SQLSTATE 22P02'"
check "an entity value too long: its event is refused" sh -c "echo '$(reason refused:entity)' | grep -q 'COPY com_acme_button_click_1, line 1, column label'"
check "an entity value of the wrong JSON type (the loader's cast)" sh -c "echo '$(reason refused:cast)' | grep -q 'Invalid type INTEGER for value \"three\" (column position)'"
check "an entity whose schema no registry has" sh -c "echo '$(reason refused:unknown)' | grep -q 'cannot resolve iglu:com.acme/nowhere/jsonschema/1-0-0'"
check "not an enriched event" sh -c "echo '$(reason refused:columns)' | grep -q 'FieldNumberMismatch'"
eq "bad rows are generic_error with the whole line as payload" \
    "$(cut -c1-30 "$G/refused.tsv" | grep refused | LC_ALL=C sort | tr '\n' ' ')" \
    "$(jq -r '.data.payload[0:30]' "$T_TMP/refused.bad" | LC_ALL=C sort | tr '\n' ' ')"
eq "bad rows: schema and artifact" "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0 furrow-pg-sink" \
    "$(jq -r '.schema + " " + .data.processor.artifact' "$T_TMP/refused.bad" | sort -u)"

# a refusal PostgreSQL names no line for (a trigger): found by halving the batch
pg_sql "CREATE FUNCTION atomic.no_forbidden() RETURNS trigger LANGUAGE plpgsql AS \$\$BEGIN
    IF NEW.app_id = 'forbidden' THEN RAISE EXCEPTION 'forbidden app' USING ERRCODE = '23514'; END IF;
    RETURN NEW; END\$\$; CREATE TRIGGER no_forbidden AFTER INSERT ON atomic.events FOR EACH ROW
    EXECUTE FUNCTION atomic.no_forbidden()" >/dev/null
awk -F '\t' -v OFS='\t' '{ for (i = 0; i < 40; i++) { $7 = sprintf("11111111-0000-4000-8000-%012d", i);
    $1 = (i == 7 || i == 23 || i == 24) ? "forbidden" : "shop"; print } }' <(sed -n 4p "$G/golden.tsv") >"$T_TMP/forbidden.tsv"
sink halving --batch-rows 1000 <"$T_TMP/forbidden.tsv"
eq "halving: 37 loaded, the 3 forbidden ones are bad rows" "37 3" \
    "$(pg_sql "SELECT count(*) FROM atomic.events WHERE event_id::text LIKE '11111111%'") $(nbad halving)"
check "... with PostgreSQL's reason" grep -q 'forbidden app (SQLSTATE 23514)' "$T_TMP/halving.bad"
pg_sql "DROP TRIGGER no_forbidden ON atomic.events" >/dev/null

# ---- --input bad: the bad-rows table, JSONB ----
{ cat "$FURROW_ROOT/tests/golden/es-sink/badrows.jsonl"; echo 'not json'; echo '[1,2]'; } >"$T_TMP/badrows.jsonl"
n_json=$(( $(wc -l <"$T_TMP/badrows.jsonl") - 1 ))
sinkb bad --setup <"$T_TMP/badrows.jsonl"
eq "--input bad: exit 0" 0 $?
eq "--input bad: every JSON line is a row; the other one a bad row" "$n_json 1" \
    "$(pg_sql "SELECT count(*) FROM atomic.bad_rows") $(nbad bad)"
eq "--input bad: envelope in columns, failure and payload as JSONB" \
    "schema_violations|2-0-1|furrow-enrich|jsonb|jsonb|2023-11-14 22:13:21.045" \
    "$(pg_sql "SELECT schema_name, schema_version, processor_artifact, pg_typeof(failure), pg_typeof(payload),
        failure_tstamp FROM atomic.bad_rows WHERE schema_name = 'schema_violations'")"
eq "--input bad: queryable with JSON operators" "furrow-enrich" \
    "$(pg_sql "SELECT DISTINCT processor_artifact FROM atomic.bad_rows WHERE payload ? 'raw'")"
eq "--input bad: JSON that is not a bad row keeps all of itself in payload" "[1, 2]" \
    "$(pg_sql "SELECT payload FROM atomic.bad_rows WHERE schema IS NULL")"
sinkb bad2 <"$T_TMP/badrows.jsonl"
eq "--input bad: a replay adds nothing" "$n_json $n_json" \
    "$(pg_sql "SELECT count(*) FROM atomic.bad_rows") $(counter bad2 duplicates)"

# ---- configuration ----
"$SINK" --url "postgresql://furrow:s3cret-pw@127.0.0.1:$PG_PORT/furrow" --setup-only 2>"$T_TMP/pw.err"
eq "a password in --url: usage error (exit 64)" 64 $?
check "... saying where a password belongs" grep -q 'PGPASSWORD' "$T_TMP/pw.err"
check "... without printing it" sh -c "! grep -q s3cret-pw '$T_TMP/pw.err'"
"$SINK" --url "host=127.0.0.1 port=$PG_PORT password=s3cret-pw" --setup-only 2>"$T_TMP/pw2.err"
eq "a password in a keyword string: exit 64" 64 $?
check "... not printed" sh -c "! grep -q s3cret-pw '$T_TMP/pw2.err'"
mkdir -p "$T_TMP/home"
printf '127.0.0.1:%s:furrow:furrow:%s\n' "$PG_PORT" "$PGPASSWORD" >"$T_TMP/home/.pgpass"
chmod 600 "$T_TMP/home/.pgpass"
env -u PGPASSWORD HOME="$T_TMP/home" "$SINK" --url "$PG_URL" --setup-only 2>"$T_TMP/pgpass.err"
eq "the password from ~/.pgpass" 0 $?
PGPASSWORD=wrong "$SINK" --url "$PG_URL" --retry-deadline 1 --retry-base-ms 50 --setup-only 2>"$T_TMP/wrong.err"
eq "a wrong password: retried until --retry-deadline, then exit 69" 69 $?
check "... saying why" grep -q 'password authentication failed' "$T_TMP/wrong.err"
sink noschema --schema nosuch </dev/null
eq "no table and no --setup: configuration error (exit 78)" 78 $?
check "... saying to run --setup" grep -q 'pg-sink --setup' "$T_TMP/noschema.err"
pg_sql "CREATE SCHEMA nokey; CREATE TABLE nokey.events (LIKE atomic.events)" >/dev/null
sink nokey --schema nokey </dev/null
eq "a loader-made atomic.events without the unique key: exit 78" 78 $?
"$SINK" --dump --resolver "$G/resolver.json" --schemas "$FURROW_ROOT/schemas" <"$G/golden.tsv" >"$T_TMP/dump" 2>/dev/null
eq "--dump: the rows pg-sink would COPY, table first" "events:12 com_acme_user_context_1:4" \
    "$(echo "events:$(grep -c '^events	' "$T_TMP/dump") com_acme_user_context_1:$(grep -c '^com_acme_user_context_1	' "$T_TMP/dump")")"
done_testing
