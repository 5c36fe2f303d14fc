/*
 * pg_tables: the tables pg-sink loads entities into, one per (vendor, name, model), and their
 * place in the database.
 *
 * A table's layout (its data columns, pg_schema.h) is built from the Iglu schemas of its model,
 * from M-0-0 up to the newest version seen in the data: the loader lists a model's versions
 * with Iglu Server's schema list; pg-sink asks the resolver for each version in turn (M-0-0,
 * M-0-1, ... then M-1-0, ...), so it works with any registry, embedded ones included. A layout
 * only grows: columns a newer version adds are appended, never reordered, so rows already
 * formatted with the shorter layout stay valid (padded with NULLs).
 *
 * In the database (pgtables_sync): CREATE TABLE with the loader's six metadata columns
 * (schema_vendor, schema_name, schema_format, schema_version, root_id, root_tstamp) and the
 * layout; later, ALTER TABLE ... ADD COLUMN for whatever the layout has and the table lacks
 * (columns someone else added are left alone), and COMMENT ON TABLE with the newest schema
 * URI, as the loader does (storage/sql.scala commentTable). DDL runs in its own transaction
 * under an advisory lock per table, so several pg-sinks may share a database.
 */
#ifndef PG_TABLES_H
#define PG_TABLES_H

#include <stddef.h>

#include "buf.h"
#include "iglu.h"
#include "pg_conn.h"
#include "pg_schema.h"

#define PGTABLES_META_COLS 6
/* Versions of one model looked at when building a layout. */
#define PGTABLES_MAX_PROBES 256

struct pgtable {
	char            name[PGSCHEMA_IDENT_MAX + 1];
	struct iglu_key key;        /* model group; revision/addition: the layout's version */
	struct pgcols   cols;       /* the data columns, after the metadata ones */
	int             in_db;      /* the database has the table with all of cols */
	char           *broken;     /* why the database refused the table (NULL: fine) */
};

struct pgtables_stats {
	unsigned long created, altered, commented;
};

struct pgtables;

struct pgtables *pgtables_new(struct iglu_resolver *r, const char *schema, size_t max_tables);
void pgtables_free(struct pgtables *t);
size_t pgtables_count(const struct pgtables *t);
struct pgtable *pgtables_get(struct pgtables *t, size_t idx);
const struct pgtables_stats *pgtables_stats(const struct pgtables *t);

/*
 * The table for an entity of schema k, its layout holding k's version. Returns the table's
 * index; -1 with err set when the schema cannot be used (unknown, not a schema, too many
 * tables: the entity's event becomes a bad row); -2 with err set when a registry failed and
 * asking again later may work.
 */
long pgtables_for(struct pgtables *t, const struct iglu_key *k, char *err, size_t errlen);

/*
 * Make the database match table idx (create, add columns, comment). Returns 0 (check the
 * table's broken for a refusal, e.g. a schema PostgreSQL cannot take); -1 with e set when the
 * connection or the server failed and a retry may work.
 */
int pgtables_sync(struct pgtables *t, size_t idx, struct pgconn *c, struct pgerr *e);
/* Forget what is known of the database (after a missing table or column was reported). */
void pgtables_forget_db(struct pgtables *t);

/* "schema_vendor","schema_name",...,"root_tstamp","<col>",... with prefix before each. */
int pgtables_column_list(const struct pgtable *tb, const char *prefix, struct buf *out);
/* The quoted, schema-qualified name: "atomic"."com_acme_x_1". */
int pgtables_qualified(const struct pgtables *t, const char *table, struct buf *out);

#endif
