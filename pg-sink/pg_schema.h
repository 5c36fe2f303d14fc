/*
 * pg_schema: how a self-describing entity becomes a row of its own table, the way Snowplow's
 * Postgres Loader 0.3.3 does it with schema-ddl 0.14.1 (snowplow-incubator/
 * snowplow-postgres-loader: shredding/{transform,Type,schema}.scala, storage/{sql,ddl,
 * definitions}.scala; snowplow/schema-ddl: migrations/{FlatSchema,SchemaDiff}.scala,
 * StringUtils.scala, jsonschema/Pointer.scala).
 *
 *  - Table: "<vendor>_<name>_<model>", vendor with '.' and '-' as '_' and lower-cased, name in
 *    snake_case (StringUtils.getTableName): iglu:com.acme/ButtonClick/jsonschema/1-0-0 is
 *    com_acme_button_click_1. One table per (vendor, name, model); a new model is a new table.
 *  - Columns: the JSON Schema is flattened into its leaves (FlatSchema.build): an object with
 *    "properties" is opened, anything else (strings, numbers, arrays, objects without
 *    properties, unions, oneOf) is one column. Inside items, patternProperties and oneOf
 *    nothing is opened. A column's name is its property path in snake_case joined with '.'
 *    (a nested b.c is the column "b.c"); its type comes from the first matching suggestion of
 *    Type.dataTypeSuggestions (pg_schema.c). Columns are ordered required-first then by name;
 *    the columns a later version of the same model adds follow, in that order per version
 *    (FlatSchema.extractProperties), so ALTER TABLE ADD COLUMN keeps older rows valid.
 *  - Values: the leaf at a column's path, cast as the loader's transform.cast does.
 *
 * Where pg-sink differs, it says so at the spot (and in pg-sink(1)): columns added by a
 * migration are always nullable; a NOT NULL column is only made when no enclosing object may
 * be null; a duplicate column name (after PostgreSQL's 63-byte cut) keeps the first; VARCHAR
 * lengths are kept within PostgreSQL's limits; "date" values are loaded (the loader refuses
 * them); names are lower-cased in ASCII only.
 */
#ifndef PG_SCHEMA_H
#define PG_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"
#include "iglu.h"

/* PostgreSQL's identifiers are cut to NAMEDATALEN - 1 bytes. */
#define PGSCHEMA_IDENT_MAX 63
/* A table holds at most 1600 columns (PostgreSQL's MaxHeapAttributeNumber); 6 are metadata. */
#define PGSCHEMA_MAX_COLS  1594
/* Nesting followed while flattening; deeper parts of a schema are not opened. */
#define PGSCHEMA_MAX_DEPTH 32

enum pgtype {
	PGT_JSONB, PGT_VARCHAR, PGT_CHAR, PGT_UUID, PGT_TIMESTAMP, PGT_DATE, PGT_INTEGER,
	PGT_BIGINT, PGT_DOUBLE, PGT_BOOLEAN,
};

struct pgcol {
	char        *name;      /* the column name (already cut to PGSCHEMA_IDENT_MAX bytes) */
	char       **path;      /* the property names leading to the value, npath of them */
	size_t       npath;
	enum pgtype  type;
	long         size;      /* n of VARCHAR(n) / CHAR(n); 0 for an unbounded VARCHAR */
	int          notnull;
};

struct pgcols {
	struct pgcol *v;
	size_t        n, cap;
};

void pgcols_init(struct pgcols *c);
void pgcols_free(struct pgcols *c);
/* Index of the column called name, or -1. */
long pgcols_find(const struct pgcols *c, const char *name);

/*
 * The columns of a table for the versions schemas[0..n) of one model, oldest first (the Iglu
 * schema documents, "self" and all). Returns 0, or -1 with err filled (out of memory, too many
 * columns, a schema that is not an object).
 */
int pgschema_columns(const json_t *const *schemas, size_t n, struct pgcols *out, char *err,
    size_t errlen);

/* schema-ddl's StringUtils.snakeCase: "PascalCase" -> "pascal_case", "HTMLParser" ->
 * "html_parser", '-' -> '_', then lower case. Appends to out; 0 or -1. */
int pgschema_snake(const char *s, size_t n, struct buf *out);
/* The table of a key: "com_acme_button_click_1" (cut to PGSCHEMA_IDENT_MAX bytes). Returns 0,
 * or -1 when out is too small. */
int pgschema_table_name(const struct iglu_key *k, char *out, size_t outlen);

/* The DDL of a column type: "VARCHAR(255)", "BIGINT", "JSONB", ... */
const char *pgschema_type_sql(const struct pgcol *c, char *buf, size_t len);
/* A quoted identifier ("a.b", with '"' doubled), appended to out. 0 or -1. */
int pgschema_ident(struct buf *out, const char *name);

/*
 * Append the COPY text cell of column c for the entity data: \N when the path leads nowhere or
 * to null, else the value cast to the column's type. Returns 0; -1 with err set when the value
 * does not fit the type ("Invalid type INTEGER for value ..."); -2 when out's cap is reached.
 */
int pgschema_cell(const struct pgcol *c, const json_t *data, struct buf *out, char *err,
    size_t errlen);

#endif
