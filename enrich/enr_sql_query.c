/*
 * enr_sql_query: sql_query_enrichment_config (iglu:com.snowplowanalytics.snowplow.enrichments/
 * sql_query_enrichment_config/jsonschema/1-0-*), upstream's SqlQueryEnrichment, on PostgreSQL
 * through libpq.
 *
 * Per event:
 *  1. inputs fill the query's ? placeholders by number: an atomic column ("pojo", typed as
 *     upstream's EnrichedEvent field: text, int4, int2 for the 0/1 columns, float8 for floats
 *     and decimals) or, by JSONPath, a value of the first entity matching schemaCriterion in
 *     contexts, unstruct_event or the derived contexts so far ("json": booleans, integers,
 *     doubles, and strings that read as one of those become that type; null, arrays and
 *     objects are missing). Any missing value means no lookup and no error.
 *  2. the query runs as a prepared statement (the ? become $1..$n, never spliced), once per
 *     distinct set of values while the cache (enr_cache) holds the answer;
 *  3. each row becomes an object of its columns (names as propertyNames says; values as
 *     upstream's JDBC getters give them), and the rows become contexts as output.describes
 *     and expectedRows say.
 * One connection, opened at the first lookup and opened again when it breaks (a query that
 * fails on a broken connection is tried once more on a new one, so a database restart costs no
 * event); while the database cannot be reached, a new connection is tried at most every
 * SQL_RECONNECT_MS and lookups fail fast in between. Failures are upstream's two messages
 * ("Error while executing the sql lookup", then the reason), identifier "sql-query", unless
 * ignoreOnError. MySQL configurations are refused at startup; so are pojo fields that are not
 * columns and JSONPaths that do not compile (upstream fails every event).
 */
#include <ctype.h>
#include <errno.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "conv.h"
#include "enr.h"
#include "iglu.h"
#include "jnum.h"
#include "jsonpath.h"
#include "jsonw.h"
#include "timefmt.h"

#define SQL_IDENTIFIER       "sql-query"
#define SQL_MAX_PLACEHOLDERS 64
#define SQL_MAX_ROWS         10000       /* rows one lookup may return */
#define SQL_CONNECT_TIMEOUT  "3"         /* seconds (libpq's connect_timeout) */
#define SQL_STATEMENT_MS     10000       /* statement_timeout of the session */
#define SQL_RECONNECT_MS     1000        /* at most one connection attempt this often */
#define SQL_MAX_PREPARED     8           /* statements kept per connection (type signatures) */

/* PostgreSQL type OIDs (pg_type.h) */
#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_VARCHAR 1043
#define OID_DATE 1082
#define OID_TIMESTAMP 1114
#define OID_TIMESTAMPTZ 1184
#define OID_NUMERIC 1700
#define OID_JSONB 3802

enum sql_source { SRC_POJO, SRC_CONTEXTS, SRC_DERIVED, SRC_UNSTRUCT };
enum sql_names { NAMES_AS_IS, NAMES_CAMEL, NAMES_PASCAL, NAMES_SNAKE, NAMES_LOWER, NAMES_UPPER };
enum sql_rows { ROWS_EXACTLY_ONE, ROWS_AT_MOST_ONE, ROWS_AT_LEAST_ONE, ROWS_AT_LEAST_ZERO };

struct sql_input {
	int                   placeholder;
	enum sql_source       src;
	int                   col;
	struct iglu_criterion crit;
	struct jsonpath      *path;
};

/* One bound value: its type and text. */
struct sql_value {
	unsigned int oid;       /* 0: missing */
	struct buf   text;
};

struct sql {
	char             *schema_uri;
	struct sql_input *in;
	size_t            n_in;
	char             *query;          /* with $1..$n */
	int               n_params;       /* the ? of the original */
	const char       *kw[10];
	char             *val[10];
	PGconn           *conn;
	int64_t           next_connect_ms;
	char              conn_error[512];
	char             *prepared[SQL_MAX_PREPARED];   /* type signatures, per connection */
	int               n_prepared;
	char             *out_schema;
	int               every_row;
	enum sql_names    names;
	enum sql_rows     rows;
	struct enr_cache *cache;
	int               ignore_on_error;
	/* sql_apply's working values, kept from one event to the next (no allocation a lookup) */
	struct sql_value  v[SQL_MAX_PLACEHOLDERS + 1];
	struct sql_value  tmp;
	struct buf        key;
};

static void
sql_disconnect(struct sql *s)
{
	int i;

	if (s->conn)
		PQfinish(s->conn);
	s->conn = NULL;
	for (i = 0; i < s->n_prepared; i++)
		free(s->prepared[i]);
	s->n_prepared = 0;
}

static void
sql_free(void *state)
{
	struct sql *s = state;
	size_t i;

	if (s == NULL)
		return;
	sql_disconnect(s);
	for (i = 0; i < s->n_in; i++)
		jsonpath_free(s->in[i].path);
	free(s->in);
	for (i = 0; i < sizeof(s->val) / sizeof(s->val[0]); i++) {
		if (s->val[i] && s->kw[i] && !strcmp(s->kw[i], "password"))
			memset(s->val[i], 0, strlen(s->val[i]));
		free(s->val[i]);
	}
	for (i = 0; i <= SQL_MAX_PLACEHOLDERS; i++)
		buf_free(&s->v[i].text);
	buf_free(&s->tmp.text);
	buf_free(&s->key);
	free(s->schema_uri);
	free(s->query);
	free(s->out_schema);
	enr_cache_free(s->cache);
	free(s);
}

/*
 * JDBC's ? placeholders as PostgreSQL's $1..$n, outside string literals ('...', E'...'),
 * quoted identifiers, dollar quotes and comments; ?? is a literal ? (pgjdbc's escape). Returns
 * the count, or -1 (too many, or an unterminated quote).
 */
static int
convert_placeholders(const char *q, struct buf *out)
{
	int n = 0;

	while (*q) {
		char c = *q;
		if (c == '\'' || c == '"') {
			/* E'...' takes backslash escapes; '' and "" stand for the quote itself */
			int esc = c == '\'' && out->len > 0 && (out->data[out->len - 1] == 'E' ||
			    out->data[out->len - 1] == 'e') && (out->len == 1 ||
			    !isalnum((unsigned char)out->data[out->len - 2]));
			const char *e = q + 1;
			for (;;) {
				if (*e == '\0')
					return -1;
				if (esc && *e == '\\' && e[1] != '\0') {
					e += 2;
					continue;
				}
				if (*e == c && e[1] == c) {
					e += 2;
					continue;
				}
				if (*e == c)
					break;
				e++;
			}
			buf_append(out, q, (size_t)(e + 1 - q));
			q = e + 1;
		} else if (c == '-' && q[1] == '-') {
			size_t l = strcspn(q, "\n");
			buf_append(out, q, l);
			q += l;
		} else if (c == '/' && q[1] == '*') {
			const char *e = strstr(q + 2, "*/");
			if (e == NULL)
				return -1;
			buf_append(out, q, (size_t)(e + 2 - q));
			q = e + 2;
		} else if (c == '$' && (q[1] == '$' || isalpha((unsigned char)q[1]) || q[1] == '_')) {
			/* $tag$ ... $tag$ (but not $1, which is not JDBC anyway) */
			const char *t = q + 1, *e;
			char tag[64];
			size_t tl;
			while (isalnum((unsigned char)*t) || *t == '_')
				t++;
			if (*t != '$' || (size_t)(t - q + 1) >= sizeof(tag)) {
				buf_append_byte(out, (unsigned char)*q++);
				continue;
			}
			tl = (size_t)(t - q + 1);
			memcpy(tag, q, tl);
			tag[tl] = '\0';
			if ((e = strstr(t + 1, tag)) == NULL)
				return -1;
			buf_append(out, q, (size_t)(e + tl - q));
			q = e + tl;
		} else if (c == '?' && q[1] == '?') {
			buf_append_byte(out, '?');
			q += 2;
		} else if (c == '?') {
			if (++n > SQL_MAX_PLACEHOLDERS)
				return -1;
			buf_printf(out, "$%d", n);
			q++;
		} else {
			buf_append_byte(out, (unsigned char)*q++);
		}
	}
	return n;
}

static int
column_named(const char *name)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++)
		if (!strcmp(event_cols[i].name, name) && event_cols[i].type != EVT_JSON)
			return i;
	return -1;
}

static int
set_conn(struct sql *s, int i, const char *k, const char *v)
{
	s->kw[i] = k;
	s->val[i] = strdup(v ? v : "");
	return s->val[i] ? 0 : -1;
}

static void *
sql_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters"), *it;
	const json_t *inputs = json_object_get(p, "inputs"), *db = json_object_get(p, "database");
	const json_t *pg = json_object_get(db, "postgresql"), *out = json_object_get(p, "output");
	const json_t *oj = json_object_get(out, "json"), *cache = json_object_get(p, "cache");
	const char *sqltext = enr_json_str(json_object_get(p, "query"), "sql");
	const char *rows = enr_json_str(out, "expectedRows"), *names = enr_json_str(oj, "propertyNames");
	const char *describes = enr_json_str(oj, "describes"), *schema = enr_json_str(oj, "schema");
	struct sql *s;
	struct buf q;
	struct iglu_key k;
	char port[16], opts[128], why[512];
	size_t i;

	if (json_object_get(db, "mysql") != NULL) {
		snprintf(err, errlen, "parameters.database.mysql: MySQL is not supported by furrow "
		    "(PostgreSQL only)");
		return NULL;
	}
	if (!json_is_object(pg) || !json_is_array(inputs) || sqltext == NULL || !json_is_object(cache)) {
		snprintf(err, errlen, "parameters: \"inputs\", \"database\".\"postgresql\", "
		    "\"query\".\"sql\" and \"cache\" are required");
		return NULL;
	}
	if (rows == NULL || names == NULL || describes == NULL || schema == NULL ||
	    iglu_key_parse(schema, &k, NULL) < 0) {
		snprintf(err, errlen, "parameters.output: \"expectedRows\" and \"json\" with a valid "
		    "\"schema\", \"propertyNames\" and \"describes\" are required");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->in = calloc(json_array_size(inputs) + 1, sizeof(*s->in))) == NULL) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i <= SQL_MAX_PLACEHOLDERS; i++)
		buf_init(&s->v[i].text, 0);
	buf_init(&s->tmp.text, 0);
	buf_init(&s->key, 0);
	s->schema_uri = strdup(ctx->schema_uri);
	s->out_schema = strdup(schema);
	s->every_row = !strcmp(describes, "EVERY_ROW");
	s->names = !strcmp(names, "CAMEL_CASE") ? NAMES_CAMEL : !strcmp(names, "PASCAL_CASE") ?
	    NAMES_PASCAL : !strcmp(names, "SNAKE_CASE") ? NAMES_SNAKE : !strcmp(names, "LOWER_CASE") ?
	    NAMES_LOWER : !strcmp(names, "UPPER_CASE") ? NAMES_UPPER : NAMES_AS_IS;
	s->rows = !strcmp(rows, "EXACTLY_ONE") ? ROWS_EXACTLY_ONE : !strcmp(rows, "AT_MOST_ONE") ?
	    ROWS_AT_MOST_ONE : !strcmp(rows, "AT_LEAST_ONE") ? ROWS_AT_LEAST_ONE : ROWS_AT_LEAST_ZERO;
	json_array_foreach(inputs, i, it) {
		struct sql_input *in = &s->in[s->n_in];
		const json_t *pojo = json_object_get(it, "pojo"), *js = json_object_get(it, "json");
		json_int_t ph = json_integer_value(json_object_get(it, "placeholder"));
		if (ph < 1 || ph > SQL_MAX_PLACEHOLDERS || (pojo == NULL) == (js == NULL)) {
			snprintf(err, errlen, "parameters.inputs[%zu]: a \"placeholder\" (1-%d) and either "
			    "\"pojo\" or \"json\" are required", i, SQL_MAX_PLACEHOLDERS);
			goto fail;
		}
		in->placeholder = (int)ph;
		s->n_in++;
		if (pojo) {
			const char *f = enr_json_str(pojo, "field");
			in->src = SRC_POJO;
			if (f == NULL || (in->col = column_named(f)) < 0) {
				snprintf(err, errlen, "parameters.inputs[%zu]: pojo field %s is not an atomic "
				    "field", i, f ? f : "(none)");
				goto fail;
			}
		} else {
			const char *f = enr_json_str(js, "field"), *c = enr_json_str(js, "schemaCriterion");
			const char *jp = enr_json_str(js, "jsonPath");
			if (f == NULL || c == NULL || jp == NULL || iglu_criterion_parse(c, &in->crit) < 0) {
				snprintf(err, errlen, "parameters.inputs[%zu].json: \"field\", a valid "
				    "\"schemaCriterion\" and \"jsonPath\" are required", i);
				goto fail;
			}
			in->src = !strcmp(f, "contexts") ? SRC_CONTEXTS : !strcmp(f, "derived_contexts") ?
			    SRC_DERIVED : SRC_UNSTRUCT;
			if (strcmp(f, "contexts") && strcmp(f, "derived_contexts") &&
			    strcmp(f, "unstruct_event")) {
				snprintf(err, errlen, "parameters.inputs[%zu].json: wrong field [%s]: should be "
				    "one of derived_contexts, contexts, unstruct_event", i, f);
				goto fail;
			}
			if ((in->path = jsonpath_compile(jp, why, sizeof(why))) == NULL) {
				snprintf(err, errlen, "parameters.inputs[%zu].json.jsonPath %s: %s", i, jp, why);
				goto fail;
			}
		}
	}
	buf_init(&q, 0);
	s->n_params = convert_placeholders(sqltext, &q);
	s->query = q.data ? q.data : strdup("");
	if (s->n_params < 0) {
		snprintf(err, errlen, "parameters.query.sql: an unterminated quote or comment, or more "
		    "than %d placeholders", SQL_MAX_PLACEHOLDERS);
		goto fail;
	}
	snprintf(port, sizeof(port), "%lld",
	    (long long)json_integer_value(json_object_get(pg, "port")));
	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c TimeZone=UTC", SQL_STATEMENT_MS);
	if (set_conn(s, 0, "host", enr_json_str(pg, "host")) < 0 || set_conn(s, 1, "port", port) < 0 ||
	    set_conn(s, 2, "dbname", enr_json_str(pg, "database")) < 0 ||
	    set_conn(s, 3, "user", enr_json_str(pg, "username")) < 0 ||
	    set_conn(s, 4, "password", enr_json_str(pg, "password")) < 0 ||
	    set_conn(s, 5, "sslmode", json_is_true(json_object_get(pg, "sslMode")) ? "require" :
	    "prefer") < 0 || set_conn(s, 6, "connect_timeout", SQL_CONNECT_TIMEOUT) < 0 ||
	    set_conn(s, 7, "options", opts) < 0 ||
	    set_conn(s, 8, "application_name", "furrow-enrich") < 0) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	s->kw[9] = NULL;
	s->ignore_on_error = json_is_true(json_object_get(p, "ignoreOnError"));
	s->cache = enr_cache_new((long)json_integer_value(json_object_get(cache, "size")),
	    (long)json_integer_value(json_object_get(cache, "ttl")));
	if (s->schema_uri == NULL || s->out_schema == NULL || s->query == NULL || s->cache == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return s;
fail:
	sql_free(s);
	return NULL;
}

/* ---- inputs ---- */

static json_t *
first_match(json_t *list, const struct iglu_criterion *crit)
{
	size_t i, n = json_is_array(list) ? json_array_size(list) : (list ? 1 : 0);

	for (i = 0; i < n; i++) {
		json_t *e = json_is_array(list) ? json_array_get(list, i) : list;
		const char *sc = json_string_value(json_object_get(e, "schema"));
		struct iglu_key k;
		if (sc && iglu_key_parse(sc, &k, NULL) == 0 && iglu_criterion_matches(crit, &k))
			return json_object_get(e, "data");
	}
	return NULL;
}

/* Java's Integer.parseInt / Long.parseLong: a sign and digits, within range. */
static int
java_long(const char *t, long long min, long long max, long long *v)
{
	const char *p = t + (*t == '-' || *t == '+');
	char *end;

	if (!isdigit((unsigned char)*p))
		return 0;
	errno = 0;
	*v = strtoll(t, &end, 10);
	return *end == '\0' && errno == 0 && *v >= min && *v <= max;
}

/* Java's Double.parseDouble on a string (leading and trailing whitespace allowed; NaN and
 * Infinity; an f, F, d or D suffix). */
static int
java_double(const char *t, double *d)
{
	char tmp[512], *end;
	size_t l;

	while (isspace((unsigned char)*t))
		t++;
	l = strlen(t);
	while (l && isspace((unsigned char)t[l - 1]))
		l--;
	if (l == 0 || l >= sizeof(tmp))
		return 0;
	memcpy(tmp, t, l);
	tmp[l] = '\0';
	if (strchr("fFdD", tmp[l - 1]) && l > 1 && !isalpha((unsigned char)tmp[l - 2]))
		tmp[--l] = '\0';
	if (!strcmp(tmp, "NaN") || !strcmp(tmp, "Infinity") || !strcmp(tmp, "+Infinity") ||
	    !strcmp(tmp, "-Infinity")) {
		*d = tmp[0] == 'N' ? NAN : tmp[0] == '-' ? -INFINITY : INFINITY;
		return 1;
	}
	if (strpbrk(tmp, "nNiIxX") != NULL)    /* strtod's nan, inf and hex: not Java's */
		return 0;
	*d = strtod(tmp, &end);
	return *end == '\0';
}

static void
set_value(struct sql_value *v, unsigned oid, const char *text)
{
	v->oid = oid;
	buf_reset(&v->text);
	buf_append_str(&v->text, text);
}

static void
set_double(struct sql_value *v, double d)
{
	char t[JNUM_BUFSZ];

	if (isnan(d))
		snprintf(t, sizeof(t), "NaN");
	else if (isinf(d))
		snprintf(t, sizeof(t), d > 0 ? "Infinity" : "-Infinity");
	else
		jnum_java_double(d, t);
	set_value(v, OID_FLOAT8, t);
}

/* Input.extractFromJson, into v (oid 0: missing). */
static void
from_json(const json_t *j, struct sql_value *v)
{
	char t[64];
	long long ll;
	double d;

	v->oid = 0;
	if (json_is_boolean(j)) {
		set_value(v, OID_BOOL, json_is_true(j) ? "true" : "false");
	} else if (json_is_integer(j)) {
		snprintf(t, sizeof(t), "%lld", (long long)json_integer_value(j));
		set_value(v, json_integer_value(j) >= INT32_MIN && json_integer_value(j) <= INT32_MAX ?
		    OID_INT4 : OID_INT8, t);
	} else if (json_is_real(j)) {
		d = json_real_value(j);
		if (d == floor(d) && fabs(d) < 9.2e18) {
			snprintf(t, sizeof(t), "%lld", (long long)d);
			set_value(v, d >= INT32_MIN && d <= INT32_MAX ? OID_INT4 : OID_INT8, t);
		} else {
			set_double(v, d);
		}
	} else if (json_is_string(j)) {
		const char *s = json_string_value(j);
		if (java_long(s, INT32_MIN, INT32_MAX, &ll))
			set_value(v, OID_INT4, s[0] == '+' ? s + 1 : s);
		else if (java_long(s, INT64_MIN, INT64_MAX, &ll))
			set_value(v, OID_INT8, s[0] == '+' ? s + 1 : s);
		else if (java_double(s, &d))
			set_double(v, d);
		else if (!strcasecmp(s, "true") || !strcasecmp(s, "false"))
			set_value(v, OID_BOOL, tolower((unsigned char)s[0]) == 't' ? "true" : "false");
		else
			set_value(v, OID_VARCHAR, s);
	}
}

/* Input.pull for one input. -1 out of memory. */
static int
input_value(const struct sql_input *in, const struct enrich_event *ev, struct sql_value *v)
{
	struct jsonpath_matches m = { NULL, 0, 0 };
	json_t *list, *data;
	const char *c;

	v->oid = 0;
	if (in->src == SRC_POJO) {
		c = ev->col[in->col];
		if (c == NULL) {
			if (in->col == COL_USERAGENT && ev->useragent_empty)
				set_value(v, OID_VARCHAR, "");
			return 0;
		}
		switch (event_cols[in->col].type) {
		case EVT_INT:   set_value(v, OID_INT4, c); break;
		case EVT_BOOL:  set_value(v, OID_INT2, c); break;    /* setByte */
		case EVT_FLOAT: set_value(v, OID_FLOAT8, c); break;  /* setFloat: pgjdbc binds float8 */
		case EVT_DEC:   set_double(v, strtod(c, NULL)); break;
		default:        set_value(v, OID_VARCHAR, c); break;
		}
		return 0;
	}
	list = in->src == SRC_CONTEXTS ? ev->contexts : in->src == SRC_DERIVED ? ev->derived :
	    ev->unstruct;
	if ((data = first_match(list, &in->crit)) == NULL)
		return 0;
	if (jsonpath_query(in->path, data, &m) < 0) {
		jsonpath_matches_free(&m);
		return -1;
	}
	if (m.n == 1)            /* more than one: an array, which is missing */
		from_json(m.v[0], v);
	jsonpath_matches_free(&m);
	return 0;
}

/* ---- rows to JSON ---- */

static void
transform_name(enum sql_names mode, const char *in, struct buf *out)
{
	size_t i, n = strlen(in);

	buf_reset(out);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		switch (mode) {
		case NAMES_CAMEL:
		case NAMES_PASCAL:   /* "_([a-z\\d])" -> upper case */
			if (c == '_' && i + 1 < n && (islower((unsigned char)in[i + 1]) ||
			    isdigit((unsigned char)in[i + 1]))) {
				buf_append_byte(out, (unsigned char)toupper((unsigned char)in[++i]));
				continue;
			}
			break;
		case NAMES_SNAKE:    /* "[A-Z\\d]" -> "_" + lower case */
			if (isupper(c) || isdigit(c)) {
				buf_append_byte(out, '_');
				c = (unsigned char)tolower(c);
			}
			break;
		case NAMES_LOWER:
			c = (unsigned char)tolower(c);
			break;
		case NAMES_UPPER:
			c = (unsigned char)toupper(c);
			break;
		default:
			break;
		}
		buf_append_byte(out, c);
	}
	if (mode == NAMES_PASCAL && out->len > 0)
		out->data[0] = (char)toupper((unsigned char)out->data[0]);
}

/* A column's value as upstream's JsonOutput.getValue sees the JDBC object. */
static json_t *
cell(const PGresult *r, int row, int col)
{
	const char *t = PQgetvalue(r, row, col);
	size_t len = (size_t)PQgetlength(r, row, col);
	char buf[64];
	double d;
	json_t *j;

	if (PQgetisnull(r, row, col))
		return json_null();
	switch (PQftype(r, col)) {
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
		return json_integer(strtoll(t, NULL, 10));
	case OID_BOOL:
		return json_boolean(t[0] == 't');
	case OID_FLOAT4:       /* java.lang.Float, widened to double */
		d = (double)strtof(t, NULL);
		return isfinite(d) ? json_real(d) : json_null();
	case OID_FLOAT8:
		d = strtod(t, NULL);
		return isfinite(d) ? json_real(d) : json_null();
	case OID_TEXT:
	case OID_VARCHAR:
	case 1042:             /* bpchar */
	case 19:               /* name */
		return jsonw_string_new(t, len);
	case OID_DATE:         /* java.sql.Date -> Joda DateTime.toString, in UTC */
		if (len == 10) {
			snprintf(buf, sizeof(buf), "%sT00:00:00.000Z", t);
			return json_string(buf);
		}
		return jsonw_string_new(t, len);
	case OID_TIMESTAMP:
	case OID_TIMESTAMPTZ: {  /* java.sql.Timestamp.toString: at least one fraction digit */
		size_t l = len;
		if (PQftype(r, col) == OID_TIMESTAMPTZ && l > 3 && (t[l - 3] == '+' || t[l - 3] == '-'))
			l -= 3;      /* the session is in UTC: "+00" */
		if (l >= sizeof(buf) - 3)
			return jsonw_string_new(t, len);
		memcpy(buf, t, l);
		buf[l] = '\0';
		if (l == 19)
			strcat(buf, ".0");
		return json_string(buf);
	}
	default:               /* toString, read as JSON when it is (numeric, json, jsonb) */
		j = json_loadb(t, len, JSON_DECODE_ANY, NULL);
		return j ? j : jsonw_string_new(t, len);
	}
}

/* The contexts of a result (a new array), or NULL with err. */
static json_t *
envelope(const struct sql *s, const PGresult *r, char *err, size_t errlen)
{
	int nrows = PQntuples(r), ncols = PQnfields(r), i, k;
	json_t *rows = json_array(), *out = json_array();
	struct buf name;

	if (nrows > SQL_MAX_ROWS) {
		snprintf(err, errlen, "SQL Query Enrichment: more than %d rows (furrow's limit)",
		    SQL_MAX_ROWS);
		goto fail;
	}
	if ((s->rows == ROWS_EXACTLY_ONE && nrows != 1) || (s->rows == ROWS_AT_MOST_ONE && nrows > 1) ||
	    (s->rows == ROWS_AT_LEAST_ONE && nrows == 0)) {
		snprintf(err, errlen, "%s", s->rows == ROWS_EXACTLY_ONE ?
		    "SQL Query Enrichment: exactly one row was expected" : s->rows == ROWS_AT_MOST_ONE ?
		    "SQL Query Enrichment: at most one row was expected" :
		    "SQL Query Enrichment: at least one row was expected. 0 given instead");
		goto fail;
	}
	buf_init(&name, 0);
	for (i = 0; i < nrows; i++) {
		json_t *o = json_object();
		for (k = 0; k < ncols; k++) {
			transform_name(s->names, PQfname(r, k), &name);
			json_object_set_new(o, name.data ? name.data : "", cell(r, i, k));
		}
		json_array_append_new(rows, o);
	}
	buf_free(&name);
	if (s->every_row) {
		for (i = 0; i < nrows; i++)
			json_array_append_new(out, json_pack("{s:s,s:O}", "schema", s->out_schema, "data",
			    json_array_get(rows, (size_t)i)));
	} else if (s->rows == ROWS_AT_LEAST_ONE || s->rows == ROWS_AT_LEAST_ZERO) {
		json_array_append_new(out, json_pack("{s:s,s:O}", "schema", s->out_schema, "data", rows));
	} else if (nrows == 1) {
		json_array_append_new(out, json_pack("{s:s,s:O}", "schema", s->out_schema, "data",
		    json_array_get(rows, 0)));
	}
	json_decref(rows);
	return out;
fail:
	json_decref(rows);
	json_decref(out);
	return NULL;
}

/* ---- the database ---- */

static void
quiet_notices(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* The first line of a libpq message, without "ERROR:  " noise at the end. */
static void
pq_message(const char *m, char *out, size_t outlen)
{
	size_t l = m ? strcspn(m, "\n") : 0;

	snprintf(out, outlen, "%.*s", (int)(l < outlen ? l : outlen - 1), m ? m : "unknown error");
}

static int
sql_connect(struct sql *s, char *err, size_t errlen)
{
	int64_t now = timefmt_mono_ms();

	if (s->conn && PQstatus(s->conn) == CONNECTION_OK)
		return 0;
	sql_disconnect(s);
	if (now < s->next_connect_ms) {
		snprintf(err, errlen, "%s", s->conn_error);
		return -1;
	}
	s->next_connect_ms = now + SQL_RECONNECT_MS;
	s->conn = PQconnectdbParams(s->kw, (const char *const *)s->val, 0);
	if (s->conn == NULL || PQstatus(s->conn) != CONNECTION_OK) {
		char m[400];
		pq_message(s->conn ? PQerrorMessage(s->conn) : "out of memory", m, sizeof(m));
		snprintf(s->conn_error, sizeof(s->conn_error), "SQL Query enrichment: cannot connect to "
		    "%s:%s/%s: %s", s->val[0], s->val[1], s->val[2], m);
		snprintf(err, errlen, "%s", s->conn_error);
		sql_disconnect(s);
		return -1;
	}
	PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
	return 0;
}

/* Run the query with the values: the result, or NULL with err. *broken is set when the
 * connection failed (worth one more try on a new one). */
static PGresult *
sql_run(struct sql *s, struct sql_value *v, char *err, size_t errlen, int *broken)
{
	const char *vals[SQL_MAX_PLACEHOLDERS];
	Oid types[SQL_MAX_PLACEHOLDERS];
	char sig[SQL_MAX_PLACEHOLDERS * 6 + 1], name[32];
	size_t sl = 0;
	PGresult *r;
	int i, slot = -1;

	*broken = 0;
	if (sql_connect(s, err, errlen) < 0)
		return NULL;
	sig[0] = '\0';
	for (i = 0; i < s->n_params; i++) {
		vals[i] = v[i].text.data ? v[i].text.data : "";
		types[i] = v[i].oid;
		sl += (size_t)snprintf(sig + sl, sizeof(sig) - sl, "%u,", v[i].oid);
	}
	/* one prepared statement per type signature */
	for (i = 0; i < s->n_prepared; i++)
		if (!strcmp(s->prepared[i], sig))
			slot = i;
	if (slot < 0 && s->n_prepared < SQL_MAX_PREPARED) {
		snprintf(name, sizeof(name), "furrow_sql_%d", s->n_prepared);
		r = PQprepare(s->conn, name, s->query, s->n_params, types);
		if (PQresultStatus(r) != PGRES_COMMAND_OK) {
			char m[400];
			pq_message(PQresultErrorMessage(r), m, sizeof(m));
			snprintf(err, errlen, "SQL Query enrichment: %s", m);
			*broken = PQstatus(s->conn) != CONNECTION_OK;
			PQclear(r);
			return NULL;
		}
		PQclear(r);
		slot = s->n_prepared;
		if ((s->prepared[slot] = strdup(sig)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		s->n_prepared++;
	}
	if (slot >= 0) {
		snprintf(name, sizeof(name), "furrow_sql_%d", slot);
		r = PQexecPrepared(s->conn, name, s->n_params, vals, NULL, NULL, 0);
	} else {
		r = PQexecParams(s->conn, s->query, s->n_params, types, vals, NULL, NULL, 0);
	}
	if (PQresultStatus(r) == PGRES_TUPLES_OK)
		return r;
	if (PQresultStatus(r) == PGRES_COMMAND_OK)
		snprintf(err, errlen, "SQL Query enrichment: No results were returned by the query.");
	else {
		char m[400];
		pq_message(PQresultErrorMessage(r), m, sizeof(m));
		snprintf(err, errlen, "SQL Query enrichment: %s", m);
	}
	*broken = PQstatus(s->conn) != CONNECTION_OK;
	PQclear(r);
	return NULL;
}

static int
sql_fail(struct sql *s, json_t *failures, const char *first, const char *second)
{
	if (s->ignore_on_error)
		return 0;
	enr_add_failure(failures, s->schema_uri, SQL_IDENTIFIER, json_pack("{s:s}", "error", first));
	enr_add_failure(failures, s->schema_uri, SQL_IDENTIFIER, json_pack("{s:s}", "error", second));
	return -1;
}

static int
sql_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct sql *s = state;
	struct sql_value *v = s->v;
	struct buf *key = &s->key;
	char err[1024];
	const char *e = NULL;
	json_t *answer = NULL;
	int filled[SQL_MAX_PLACEHOLDERS + 1] = { 0 }, nfilled = 0, i, rc = 0;
	size_t k;

	for (i = 0; i <= SQL_MAX_PLACEHOLDERS; i++) {
		v[i].oid = 0;
		buf_reset(&v[i].text);
	}
	buf_reset(key);
	for (k = 0; k < s->n_in; k++) {
		struct sql_value *tmp = &s->tmp;
		int ph = s->in[k].placeholder;
		buf_reset(&tmp->text);
		if (input_value(&s->in[k], ev, tmp) < 0) {
			rc = sql_fail(s, failures, "Error while building the map of placeholders",
			    "out of memory");
			goto out;
		}
		if (tmp->oid != 0) {     /* a later input for the same placeholder wins */
			v[ph - 1].oid = tmp->oid;
			buf_reset(&v[ph - 1].text);
			buf_append(&v[ph - 1].text, tmp->text.data ? tmp->text.data : "", tmp->text.len);
			nfilled += !filled[ph];
			filled[ph] = 1;
		}
	}
	/* Input.isConsistent and allPlaceholdersAreFilled: exactly 1..n, n the query's count */
	if (nfilled != s->n_params)
		goto out;
	for (i = 1; i <= s->n_params; i++)
		if (!filled[i])
			goto out;
	for (i = 0; i < s->n_params; i++) {     /* "oid:text\x1f" each */
		char num[16];
		int n = snprintf(num, sizeof(num), "%u:", v[i].oid);
		buf_append(key, num, (size_t)n);
		if (v[i].text.data)     /* as %s: up to a NUL */
			buf_append_str(key, v[i].text.data);
		buf_append_byte(key, 0x1f);
	}
	if (key->data == NULL)
		buf_append(key, "", 0);
	if (enr_cache_get(s->cache, key->data ? key->data : "", enr_cache_now_s(), &answer, &e) == 0) {
		json_t *fresh = NULL;
		PGresult *r;
		int broken;
		if ((r = sql_run(s, v, err, sizeof(err), &broken)) == NULL && broken) {
			sql_disconnect(s);        /* a restarted database: once more, on a new one */
			s->next_connect_ms = 0;
			r = sql_run(s, v, err, sizeof(err), &broken);
		}
		if (r != NULL) {
			fresh = envelope(s, r, err, sizeof(err));
			PQclear(r);
		}
		answer = enr_cache_put(s->cache, key->data ? key->data : "", enr_cache_now_s(), fresh,
		    fresh ? NULL : err, &e);
	}
	if (answer == NULL) {
		rc = sql_fail(s, failures, "Error while executing the sql lookup", e ? e : "lookup failed");
		goto out;
	}
	for (k = 0; k < json_array_size(answer); k++)
		enrich_event_add_derived(ev, json_incref(json_array_get(answer, k)));  /* shared */
out:
	json_decref(answer);
	return rc;
}

const struct enr_module enr_sql_query = {
	"com.snowplowanalytics.snowplow.enrichments", "sql_query_enrichment_config", 1,
	ENRICH_STAGE_LATE, 14, SQL_IDENTIFIER, sql_load, sql_apply, sql_free,
};

int
enr_sql_convert_placeholders(const char *sql, struct buf *out)
{
	return convert_placeholders(sql, out);
}
