/*
 * pg_tables: layouts from Iglu, tables in PostgreSQL (see pg_tables.h).
 */
#include "pg_tables.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pct.h"

/* The loader's metadata columns (storage/definitions.scala metaColumns). */
static const char *const pgt_meta[PGTABLES_META_COLS][2] = {
	{ "schema_vendor", "VARCHAR(128) NOT NULL" },
	{ "schema_name", "VARCHAR(128) NOT NULL" },
	{ "schema_format", "VARCHAR(128) NOT NULL" },
	{ "schema_version", "VARCHAR(128) NOT NULL" },
	{ "root_id", "UUID NOT NULL" },
	{ "root_tstamp", "TIMESTAMP NOT NULL" },
};

struct pgtables {
	struct iglu_resolver  *r;
	char                  *schema;
	struct pgtable        *v;
	size_t                 n, cap, max;
	struct pgtables_stats  st;
};

struct pgtables *
pgtables_new(struct iglu_resolver *r, const char *schema, size_t max_tables)
{
	struct pgtables *t = calloc(1, sizeof(*t));

	if (t == NULL || (t->schema = strdup(schema)) == NULL) {
		free(t);
		return NULL;
	}
	t->r = r;
	t->max = max_tables;
	return t;
}

void
pgtables_free(struct pgtables *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->n; i++) {
		pgcols_free(&t->v[i].cols);
		free(t->v[i].broken);
	}
	free(t->v);
	free(t->schema);
	free(t);
}

size_t
pgtables_count(const struct pgtables *t)
{
	return t->n;
}

struct pgtable *
pgtables_get(struct pgtables *t, size_t idx)
{
	return idx < t->n ? &t->v[idx] : NULL;
}

const struct pgtables_stats *
pgtables_stats(const struct pgtables *t)
{
	return &t->st;
}

void
pgtables_forget_db(struct pgtables *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		t->v[i].in_db = 0;
}

int
pgtables_qualified(const struct pgtables *t, const char *table, struct buf *out)
{
	if (pgschema_ident(out, t->schema) == -1 || buf_append_byte(out, '.') == -1)
		return -1;
	return pgschema_ident(out, table);
}

int
pgtables_column_list(const struct pgtable *tb, const char *prefix, struct buf *out)
{
	size_t i;

	for (i = 0; i < PGTABLES_META_COLS + tb->cols.n; i++) {
		const char *name = i < PGTABLES_META_COLS ? pgt_meta[i][0] :
		    tb->cols.v[i - PGTABLES_META_COLS].name;
		if ((i > 0 && buf_append_byte(out, ',') == -1) || buf_append_str(out, prefix) == -1 ||
		    pgschema_ident(out, name) == -1)
			return -1;
	}
	return 0;
}

/* ---- layouts from Iglu ---- */

static int
ver_cmp(int r1, int a1, int r2, int a2)
{
	return r1 != r2 ? (r1 < r2 ? -1 : 1) : (a1 != a2 ? (a1 < a2 ? -1 : 1) : 0);
}

/* 1 when a lookup failure came from a registry that failed (not one that said "not found"). */
static int
registry_failed(const json_t *client_error)
{
	const json_t *hist = json_object_get(client_error, "lookupHistory"), *h;
	size_t i, j;

	json_array_foreach(hist, i, h) {
		const json_t *errs = json_object_get(h, "errors"), *e;
		json_array_foreach(errs, j, e) {
			const char *kind = json_string_value(json_object_get(e, "error"));
			if (kind && (strcmp(kind, "RepoFailure") == 0 || strcmp(kind, "ClientFailure") == 0))
				return 1;
		}
	}
	return 0;
}

/* The schema document of one version: 1 found (*out incref'd), 0 not found, -1 a registry
 * failed (err set). */
static int
fetch_version(struct pgtables *t, const struct iglu_key *k, json_t **out, char *err,
    size_t errlen)
{
	const json_t *doc = iglu_resolver_schema_json(t->r, k);
	json_t *cerr = NULL;
	char uri[IGLU_URI_MAX];
	int failed;

	if (doc != NULL) {
		*out = json_incref((json_t *)doc);
		return 1;
	}
	iglu_resolver_lookup(t->r, k, &cerr);
	failed = registry_failed(cerr);
	if (failed) {
		char *text = cerr ? json_dumps(cerr, JSON_COMPACT) : NULL;
		snprintf(err, errlen, "cannot resolve %s: %.600s", iglu_key_format(k, uri, sizeof(uri)),
		    text ? text : "registry failure");
		free(text);
	}
	json_decref(cerr);
	return failed ? -1 : 0;
}

/*
 * The layout for model k->model up to k's version: every version M-r-a <= k that the
 * registries have, oldest first. Returns 0; -1 (unusable) or -2 (retry) with err set.
 */
static int
layout_for(struct pgtables *t, const struct iglu_key *k, struct pgcols *cols, char *err,
    size_t errlen)
{
	json_t *docs[PGTABLES_MAX_PROBES];
	size_t n = 0, probes = 0, i;
	int r, a, rc = -1, have_target = 0;
	char uri[IGLU_URI_MAX];

	for (r = 0; r <= k->revision && probes < PGTABLES_MAX_PROBES; r++) {
		for (a = 0; probes < PGTABLES_MAX_PROBES; a++) {
			struct iglu_key v = *k;
			int f;

			if (r == k->revision && a > k->addition)
				break;
			v.revision = r;
			v.addition = a;
			probes++;
			f = fetch_version(t, &v, &docs[n], err, errlen);
			if (f == -1) {
				rc = -2;
				goto out;
			}
			if (f == 0 && r < k->revision)
				break;          /* the next revision, if any */
			if (f == 0)
				continue;       /* a gap below the version in hand */
			have_target = r == k->revision && a == k->addition;
			n++;
		}
	}
	if (!have_target) {
		json_t *cerr = NULL;
		char *text;

		iglu_resolver_lookup(t->r, k, &cerr);
		text = cerr ? json_dumps(cerr, JSON_COMPACT) : NULL;
		snprintf(err, errlen, "cannot resolve %s: %.600s", iglu_key_format(k, uri, sizeof(uri)),
		    text ? text : "not found");
		free(text);
		json_decref(cerr);
		goto out;
	}
	{
		char why[512];
		if (pgschema_columns((const json_t *const *)docs, n, cols, why, sizeof(why)) == -1) {
			snprintf(err, errlen, "cannot make a table for %s: %s",
			    iglu_key_format(k, uri, sizeof(uri)), why);
			goto out;
		}
	}
	rc = 0;
out:
	for (i = 0; i < n; i++)
		json_decref(docs[i]);
	return rc;
}

/* Append to tb's layout the columns of cols it lacks (taking them over). */
static int
layout_grow(struct pgtable *tb, struct pgcols *cols)
{
	size_t i;

	for (i = 0; i < cols->n; i++) {
		if (pgcols_find(&tb->cols, cols->v[i].name) >= 0)
			continue;
		if (tb->cols.n >= PGSCHEMA_MAX_COLS)
			return -1;
		if (tb->cols.n == tb->cols.cap) {
			size_t nc = tb->cols.cap ? tb->cols.cap * 2 : 16;
			struct pgcol *nv = realloc(tb->cols.v, nc * sizeof(*nv));
			if (nv == NULL)
				return -1;
			tb->cols.v = nv;
			tb->cols.cap = nc;
		}
		tb->cols.v[tb->cols.n++] = cols->v[i];
		memset(&cols->v[i], 0, sizeof(cols->v[i]));
		tb->in_db = 0;
	}
	return 0;
}

long
pgtables_for(struct pgtables *t, const struct iglu_key *k, char *err, size_t errlen)
{
	struct pgcols cols;
	char name[PGSCHEMA_IDENT_MAX + 1], uri[IGLU_URI_MAX];
	size_t i;
	int r;

	for (i = 0; i < t->n; i++) {
		struct pgtable *tb = &t->v[i];
		if (tb->key.model != k->model || strcmp(tb->key.name, k->name) != 0 ||
		    strcmp(tb->key.vendor, k->vendor) != 0 || strcmp(tb->key.format, k->format) != 0)
			continue;
		if (tb->broken != NULL) {
			snprintf(err, errlen, "%s", tb->broken);
			return -1;
		}
		if (ver_cmp(k->revision, k->addition, tb->key.revision, tb->key.addition) <= 0)
			return (long)i;
		if ((r = layout_for(t, k, &cols, err, errlen)) != 0)
			return r;
		if (layout_grow(tb, &cols) == -1) {
			pgcols_free(&cols);
			snprintf(err, errlen, "table %s: out of memory or more than %d columns", tb->name,
			    PGSCHEMA_MAX_COLS);
			return -1;
		}
		pgcols_free(&cols);
		tb->key.revision = k->revision;
		tb->key.addition = k->addition;
		log_info("table %s: layout of %s, %zu columns", tb->name,
		    iglu_key_format(k, uri, sizeof(uri)), tb->cols.n);
		return (long)i;
	}
	if (strcmp(k->format, "jsonschema") != 0) {
		snprintf(err, errlen, "cannot make a table for %s: not a jsonschema",
		    iglu_key_format(k, uri, sizeof(uri)));
		return -1;
	}
	if (pgschema_table_name(k, name, sizeof(name)) == -1) {
		snprintf(err, errlen, "no table name for %s", iglu_key_format(k, uri, sizeof(uri)));
		return -1;
	}
	for (i = 0; i < t->n; i++) {
		if (strcmp(t->v[i].name, name) == 0) {
			snprintf(err, errlen, "table %s already holds %s/%s model %d, not %s", name,
			    t->v[i].key.vendor, t->v[i].key.name, t->v[i].key.model,
			    iglu_key_format(k, uri, sizeof(uri)));
			return -1;
		}
	}
	if (t->n >= t->max) {
		snprintf(err, errlen, "no table for %s: pg-sink already loads %zu tables (--max-tables)",
		    iglu_key_format(k, uri, sizeof(uri)), t->max);
		return -1;
	}
	if ((r = layout_for(t, k, &cols, err, errlen)) != 0)
		return r;
	if (t->n == t->cap) {
		size_t nc = t->cap ? t->cap * 2 : 16;
		struct pgtable *nv = realloc(t->v, nc * sizeof(*nv));
		if (nv == NULL) {
			pgcols_free(&cols);
			snprintf(err, errlen, "out of memory");
			return -2;
		}
		t->v = nv;
		t->cap = nc;
	}
	memset(&t->v[t->n], 0, sizeof(t->v[t->n]));
	memcpy(t->v[t->n].name, name, sizeof(name));
	t->v[t->n].key = *k;
	t->v[t->n].cols = cols;
	log_info("table %s: layout of %s, %zu columns", name, iglu_key_format(k, uri, sizeof(uri)),
	    cols.n);
	return (long)t->n++;
}

/* ---- the database ---- */

static void
pgt_mark_broken(struct pgtable *tb, const struct pgerr *e)
{
	char msg[1200];

	snprintf(msg, sizeof(msg), "PostgreSQL refused table %s: %s", tb->name, e->msg);
	free(tb->broken);
	tb->broken = strdup(msg);
	log_error("%s; its entities become bad rows", msg);
}

/* The column names listed one per line in hex (encode(...,'hex')): 1 when name is one. */
static int
hex_list_has(const char *list, const char *name)
{
	const char *p = list;
	size_t n = strlen(name);

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p), i;
		int match = len == 2 * n;

		for (i = 0; match && i < n; i++)
			match = pct_hexval(p[2 * i]) * 16 + pct_hexval(p[2 * i + 1]) == (unsigned char)name[i];
		if (match)
			return 1;
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	return 0;
}

int
pgtables_sync(struct pgtables *t, size_t idx, struct pgconn *c, struct pgerr *e)
{
	struct pgtable *tb = &t->v[idx];
	struct buf sql, res;
	char uri[IGLU_URI_MAX], qname[512], tstr[32], oid[32] = "";
	const char *params[2];
	size_t i, added = 0;
	int rc = -1, ddl = 0;

	if (tb->broken != NULL || tb->in_db)
		return 0;
	buf_init(&sql, 0);
	buf_init(&res, 0);
	snprintf(qname, sizeof(qname), "%s.%s", t->schema, tb->name);
	params[0] = qname;
	if (pgconn_exec(c, "BEGIN", 0, NULL, NULL, NULL, e) == -1 ||
	    pgconn_exec(c, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, params, NULL, NULL,
	    e) == -1)
		goto fail;
	params[0] = t->schema;
	params[1] = tb->name;
	if (pgconn_exec(c, "SELECT c.oid::text || ' ' || coalesce(obj_description(c.oid, "
	    "'pg_class'), '') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
	    "WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p')", 2, params,
	    NULL, &res, e) == -1)
		goto fail;
	iglu_key_format(&tb->key, uri, sizeof(uri));
	if (res.len == 0) {
		/* CREATE TABLE (storage/sql.scala createTable), then COMMENT ON TABLE */
		if (buf_append_str(&sql, "CREATE TABLE IF NOT EXISTS ") == -1 ||
		    pgtables_qualified(t, tb->name, &sql) == -1 || buf_append_str(&sql, " (\n") == -1)
			goto oom;
		for (i = 0; i < PGTABLES_META_COLS + tb->cols.n; i++) {
			const struct pgcol *col = i < PGTABLES_META_COLS ? NULL :
			    &tb->cols.v[i - PGTABLES_META_COLS];
			if (buf_append_str(&sql, i ? ",\n  " : "  ") == -1 ||
			    pgschema_ident(&sql, col ? col->name : pgt_meta[i][0]) == -1 ||
			    buf_printf(&sql, " %s%s", col ? pgschema_type_sql(col, tstr, sizeof(tstr)) :
			    pgt_meta[i][1], col && col->notnull ? " NOT NULL" : "") == -1)
				goto oom;
		}
		if (buf_append_str(&sql, "\n)") == -1)
			goto oom;
		ddl = 1;
		if (pgconn_exec(c, sql.data, 0, NULL, NULL, NULL, e) == -1)
			goto fail;
		t->st.created++;
	} else {
		struct iglu_key have;
		char comment[IGLU_URI_MAX + 16];
		const char *sp = strchr(res.data, ' ');

		sscanf(res.data, "%31s", oid);
		snprintf(comment, sizeof(comment), "%.*s", sp ? (int)strcspn(sp + 1, "\n") : 0,
		    sp ? sp + 1 : "");
		buf_reset(&res);
		/* two schemas can make one name (com.acme/a-b and com.acme/a_b): a table whose
		 * comment names another schema is not this one's */
		if (iglu_key_parse(comment, &have, NULL) == 0 && (strcmp(have.vendor, tb->key.vendor) ||
		    strcmp(have.name, tb->key.name) || have.model != tb->key.model)) {
			memset(e, 0, sizeof(*e));
			e->cls = PGE_SCHEMA;
			snprintf(e->msg, sizeof(e->msg), "the table holds %.300s, not %.300s", comment, uri);
			ddl = 1;
			goto fail;
		}
		params[0] = oid;
		if (pgconn_exec(c, "SELECT encode(convert_to(attname::text, 'UTF8'), 'hex') FROM "
		    "pg_attribute WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped", 1,
		    params, NULL, &res, e) == -1)
			goto fail;
		buf_reset(&sql);
		if (buf_append_str(&sql, "ALTER TABLE ") == -1 ||
		    pgtables_qualified(t, tb->name, &sql) == -1)
			goto oom;
		for (i = 0; i < tb->cols.n; i++) {
			const struct pgcol *col = &tb->cols.v[i];
			if (hex_list_has(res.data ? res.data : "", col->name))
				continue;
			/* a column a migration adds is nullable (pg-sink: the loader copies the
			 * schema's NOT NULL, which fails on a table that already has rows) */
			if (buf_append_str(&sql, added++ ? ",\n  ADD COLUMN IF NOT EXISTS " :
			    "\n  ADD COLUMN IF NOT EXISTS ") == -1 || pgschema_ident(&sql, col->name) ||
			    buf_printf(&sql, " %s", pgschema_type_sql(col, tstr, sizeof(tstr))) == -1)
				goto oom;
		}
		if (added > 0) {
			ddl = 1;
			if (pgconn_exec(c, sql.data, 0, NULL, NULL, NULL, e) == -1)
				goto fail;
			t->st.altered++;
			log_info("table %s: %zu columns added for %s", tb->name, added, uri);
		}
		/* the comment names the newest schema the table reflects; never move it back */
		if (iglu_key_parse(comment, &have, NULL) == 0 && strcmp(have.vendor, tb->key.vendor) == 0 &&
		    strcmp(have.name, tb->key.name) == 0 && have.model == tb->key.model &&
		    ver_cmp(have.revision, have.addition, tb->key.revision, tb->key.addition) >= 0)
			goto commit;
	}
	buf_reset(&sql);
	if (buf_append_str(&sql, "COMMENT ON TABLE ") == -1 ||
	    pgtables_qualified(t, tb->name, &sql) == -1 || buf_printf(&sql, " IS '%s'", uri) == -1)
		goto oom;
	ddl = 1;
	if (pgconn_exec(c, sql.data, 0, NULL, NULL, NULL, e) == -1)
		goto fail;
	t->st.commented++;
commit:
	if (pgconn_exec(c, "COMMIT", 0, NULL, NULL, NULL, e) == -1)
		goto fail;
	tb->in_db = 1;
	rc = 0;
	goto out;
oom:
	memset(e, 0, sizeof(*e));
	e->cls = PGE_TRANSIENT;
	snprintf(e->msg, sizeof(e->msg), "out of memory building DDL");
fail:
	if (pgconn_connected(c)) {
		struct pgerr ignored;
		pgconn_exec(c, "ROLLBACK", 0, NULL, NULL, NULL, &ignored);
	}
	/* a definition PostgreSQL refuses (a name or type it cannot take, too many columns)
	 * will be refused again: the table is broken; anything else is retried */
	if (ddl && (e->cls == PGE_SCHEMA || e->cls == PGE_DATA) &&
	    strcmp(e->sqlstate, "3F000") != 0) {
		pgt_mark_broken(tb, e);
		rc = 0;
	}
out:
	buf_free(&sql);
	buf_free(&res);
	return rc;
}
