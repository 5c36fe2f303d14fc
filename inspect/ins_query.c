/*
 * ins_query: request parsing and record matching for the query endpoints (see ins_query.h).
 */
#include "ins_query.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sdkjson.h"
#include "timefmt.h"
#include "pct.h"

#define QS_MAX_PARAMS   256
#define JSON_MAX_DEPTH  64

static int
qerr(struct ins_query_error *e, int status, const char *fmt, ...)
{
	va_list ap;

	e->status = status;
	va_start(ap, fmt);
	vsnprintf(e->text, sizeof(e->text), fmt, ap);
	va_end(ap);
	return -1;
}

void
ins_query_free(struct ins_query *q)
{
	size_t i, j;

	free(q->event_type);
	free(q->schema);
	for (i = 0; i < q->ncontexts; i++)
		free(q->contexts[i]);
	free(q->contexts);
	free(q->vendor);
	free(q->version);
	free(q->event_id);
	for (i = 0; i < q->nfilters; i++) {
		for (j = 0; j < q->filters[i].nvalues; j++)
			free(q->filters[i].values[j]);
		free(q->filters[i].values);
		free(q->filters[i].hashes);
	}
	free(q->filters);
	free(q->search);
	memset(q, 0, sizeof(*q));
}

static void
query_init(struct ins_query *q, enum ins_endpoint ep)
{
	memset(q, 0, sizeof(*q));
	q->ep = ep;
	q->limit = -1;
	q->valid = -1;
	q->sort_col = -1;
	q->page = 1;
	q->page_size = INS_PAGE_SIZE_DEFAULT;
	q->min = q->min_good = q->min_bad = -1;
	q->wait_ms = q->settle_ms = -1;
}

/* ---- columns ---- */

int
ins_query_complex_column(const char *name)
{
	return strncmp(name, "contexts_", 9) == 0 || strncmp(name, "unstruct_event", 14) == 0;
}

int
ins_query_column(const char *name)
{
	int c;

	if (strcmp(name, "geo_location") == 0)
		return INS_COL_GEO_LOCATION;
	if (strcmp(name, "schema") == 0)
		return INS_COL_SCHEMA;
	c = event_col_by_name(name);
	if (c < 0 || event_cols[c].type == EVT_JSON)
		return INS_COL_NONE;        /* not a key of the SDK document */
	return c;
}

static int
parse_long(const char *s, size_t n, long *out)
{
	char tmp[32], *end;
	long v;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	v = strtol(tmp, &end, 10);
	if (errno || *end || end == tmp)
		return -1;
	*out = v;
	return 0;
}

static int
parse_double(const char *s, size_t n, double *out)
{
	char tmp[64], *end;

	if (n == 0 || n >= sizeof(tmp))
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	*out = strtod(tmp, &end);
	return *end ? -1 : 0;
}

int
ins_colval(const struct ins_rec *r, int col, char *tmp, const char **s, size_t *n)
{
	const char *v;
	size_t len, i;
	long l;
	double d;
	int64_t ms;

	if (col == INS_COL_GEO_LOCATION) {
		const char *la, *lo;
		size_t lan, lon;
		double x, y;
		char a[32], b[32];
		la = ins_rec_col(r, COL_GEO_LATITUDE, &lan);
		lo = ins_rec_col(r, COL_GEO_LONGITUDE, &lon);
		if (parse_double(la, lan, &x) || parse_double(lo, lon, &y))
			return 0;
		sdkjson_double(x, a);
		sdkjson_double(y, b);
		*n = (size_t)snprintf(tmp, INS_COLVAL_TMP, "%s,%s", a, b);
		*s = tmp;
		return 1;
	}
	if (col == INS_COL_SCHEMA) {
		size_t vn, nn, fn, sn;
		const char *ve = ins_rec_col(r, COL_EVENT_VENDOR, &vn);
		const char *na = ins_rec_col(r, COL_EVENT_NAME, &nn);
		const char *fo = ins_rec_col(r, COL_EVENT_FORMAT, &fn);
		const char *se = ins_rec_col(r, COL_EVENT_VERSION, &sn);
		if (!vn || !nn || !fn || !sn || vn + nn + fn + sn + 8 >= INS_COLVAL_TMP) {
			*s = "null";
			*n = 4;
			return 1;
		}
		*n = (size_t)snprintf(tmp, INS_COLVAL_TMP, "iglu:%.*s/%.*s/%.*s/%.*s", (int)vn, ve,
		    (int)nn, na, (int)fn, fo, (int)sn, se);
		*s = tmp;
		return 1;
	}
	if (col < 0 || col >= EVENT_NCOLS || event_cols[col].type == EVT_JSON)
		return 0;
	v = ins_rec_col(r, col, &len);
	if (len == 0) {
		*s = "null";
		*n = 4;
		return 1;
	}
	*s = v;
	*n = len;
	switch (event_cols[col].type) {
	case EVT_INT:
		if (parse_long(v, len, &l) == 0) {
			*n = (size_t)snprintf(tmp, INS_COLVAL_TMP, "%ld", l);
			*s = tmp;
		}
		break;
	case EVT_DEC:
	case EVT_FLOAT:
		if (parse_double(v, len, &d) == 0) {
			if (d != d || d > 1.7976931348623157e308 || d < -1.7976931348623157e308) {
				*s = "null";
				*n = 4;
			} else {
				sdkjson_double(d, tmp);
				*s = tmp;
				*n = strlen(tmp);
			}
		}
		break;
	case EVT_BOOL:
		if (len == 1 && (v[0] == '1' || v[0] == '0')) {
			*s = v[0] == '1' ? "true" : "false";
			*n = v[0] == '1' ? 4 : 5;
		}
		break;
	case EVT_TS:
		if (ins_parse_tsv_time(v, len, &ms) == 0 && timefmt_instant(ms, tmp) == 0) {
			*s = tmp;
			*n = strlen(tmp);
		}
		break;
	case EVT_UUID:
		if (len < INS_COLVAL_TMP) {
			for (i = 0; i < len; i++)
				tmp[i] = (char)tolower((unsigned char)v[i]);
			*s = tmp;
		}
		break;
	default:
		break;
	}
	return 1;
}

/* ---- the contexts column ---- */

static const char *
js_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* p at '"': the byte after the closing quote, or NULL. */
static const char *
js_string(const char *p, const char *e, int *escaped)
{
	if (p >= e || *p != '"')
		return NULL;
	for (p++; p < e; p++) {
		if (*p == '\\') {
			if (escaped)
				*escaped = 1;
			if (++p >= e)
				return NULL;
		} else if (*p == '"') {
			return p + 1;
		}
	}
	return NULL;
}

static const char *
js_value(const char *p, const char *e, int depth)
{
	p = js_ws(p, e);
	if (p >= e || depth > JSON_MAX_DEPTH)
		return NULL;
	if (*p == '"')
		return js_string(p, e, NULL);
	if (*p == '{' || *p == '[') {
		char close = *p == '{' ? '}' : ']';
		int obj = *p == '{';
		p = js_ws(p + 1, e);
		if (p < e && *p == close)
			return p + 1;
		for (;;) {
			if (obj) {
				if ((p = js_string(js_ws(p, e), e, NULL)) == NULL)
					return NULL;
				p = js_ws(p, e);
				if (p >= e || *p != ':')
					return NULL;
				p++;
			}
			if ((p = js_value(p, e, depth + 1)) == NULL)
				return NULL;
			p = js_ws(p, e);
			if (p >= e)
				return NULL;
			if (*p == close)
				return p + 1;
			if (*p != ',')
				return NULL;
			p++;
		}
	}
	/* a number, true, false, null */
	while (p < e && (isalnum((unsigned char)*p) || *p == '-' || *p == '+' || *p == '.'))
		p++;
	return p;
}

static int
key_is(const char *k, const char *kend, const char *want)
{
	size_t n = strlen(want);

	return (size_t)(kend - k) == n + 2 && memcmp(k + 1, want, n) == 0;
}

/* Walk {"k":v,…} at p, calling fn(key, keyend, value, arg) for each member; returns the end. */
static const char *
js_object(const char *p, const char *e,
    int (*fn)(const char *k, const char *kend, const char *v, const char *e, void *arg), void *arg,
    int *stop)
{
	p = js_ws(p, e);
	if (p >= e || *p != '{')
		return NULL;
	p = js_ws(p + 1, e);
	if (p < e && *p == '}')
		return p + 1;
	for (;;) {
		const char *k = js_ws(p, e), *kend, *v, *vend;
		if ((kend = js_string(k, e, NULL)) == NULL)
			return NULL;
		p = js_ws(kend, e);
		if (p >= e || *p != ':')
			return NULL;
		v = js_ws(p + 1, e);
		if ((vend = js_value(v, e, 1)) == NULL)
			return NULL;
		if (!*stop && fn(k, kend, v, vend, arg))
			*stop = 1;
		p = js_ws(vend, e);
		if (p >= e)
			return NULL;
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return NULL;
		p++;
	}
}

struct ctx_walk {
	int (*fn)(const char *uri, size_t n, void *arg);
	void *arg;
	int stop, bad;
};

static int
ctx_entity_member(const char *k, const char *kend, const char *v, const char *vend, void *arg)
{
	struct ctx_walk *w = arg;
	int escaped = 0;

	if (!key_is(k, kend, "schema") || *v != '"')
		return 0;
	js_string(v, vend, &escaped);
	if (escaped) {
		json_t *s = json_loadb(v, (size_t)(vend - v), JSON_DECODE_ANY, NULL);
		int rc = json_is_string(s) ? w->fn(json_string_value(s), json_string_length(s), w->arg) : 0;
		json_decref(s);
		return rc;
	}
	return w->fn(v + 1, (size_t)(vend - v - 2), w->arg);
}

static int
ctx_top_member(const char *k, const char *kend, const char *v, const char *vend, void *arg)
{
	struct ctx_walk *w = arg;
	const char *p;

	if (!key_is(k, kend, "data"))
		return 0;
	if (*v != '[') {
		w->bad = 1;
		return 1;
	}
	p = js_ws(v + 1, vend);
	if (p < vend && *p == ']')
		return 0;
	while (p < vend) {
		int stop = 0;
		const char *end;
		if (*p == '{')
			end = js_object(p, vend, ctx_entity_member, w, &stop);
		else
			end = js_value(p, vend, 1);
		if (end == NULL) {
			w->bad = 1;
			return 1;
		}
		if (stop)
			return 1;
		p = js_ws(end, vend);
		if (p < vend && *p == ',')
			p = js_ws(p + 1, vend);
		else
			break;
	}
	return 0;
}

int
ins_contexts_each(const char *json, size_t len, int (*fn)(const char *uri, size_t n, void *arg),
    void *arg)
{
	struct ctx_walk w = { fn, arg, 0, 0 };
	int stop = 0;

	if (len == 0)
		return 0;
	if (js_object(json, json + len, ctx_top_member, &w, &stop) == NULL || w.bad)
		return -1;
	return 0;
}

struct ctx_find {
	const char *uri;
	size_t n;
	int found;
};

static int
ctx_find_cb(const char *uri, size_t n, void *arg)
{
	struct ctx_find *f = arg;

	if (n == f->n && memcmp(uri, f->uri, n) == 0) {
		f->found = 1;
		return 1;
	}
	return 0;
}

int
ins_has_context(const struct ins_rec *r, const char *uri)
{
	struct ctx_find f = { uri, strlen(uri), 0 };
	size_t len;
	const char *c = ins_rec_col(r, COL_CONTEXTS, &len);

	/* cheap refusal first: the URI must occur in the text at all */
	if (f.n == 0 || len < f.n || memmem(c, len, uri, f.n) == NULL)
		return 0;
	ins_contexts_each(c, len, ctx_find_cb, &f);
	return f.found;
}

/* ---- matching ---- */

static int
col_eq(const struct ins_rec *r, int col, const char *want)
{
	size_t n;
	const char *v = ins_rec_col(r, col, &n);

	return strlen(want) == n && memcmp(v, want, n) == 0;
}

/* The event's schema (Micro's GoodEvent.schema) equals uri. */
static int
schema_eq(const struct ins_rec *r, const char *uri)
{
	static const int cols[4] = { COL_EVENT_VENDOR, COL_EVENT_NAME, COL_EVENT_FORMAT,
	    COL_EVENT_VERSION };
	const char *p = uri;
	int i;

	if (strncmp(p, "iglu:", 5) != 0)
		return 0;
	p += 5;
	for (i = 0; i < 4; i++) {
		size_t n;
		const char *v = ins_rec_col(r, cols[i], &n);
		if (n == 0 || strncmp(p, v, n) != 0)
			return 0;
		p += n;
		if (i < 3) {
			if (*p != '/')
				return 0;
			p++;
		}
	}
	return *p == '\0';
}

static int
id_eq(const struct ins_rec *r, const char *id)
{
	size_t n;
	const char *v = ins_rec_col(r, COL_EVENT_ID, &n);

	return strlen(id) == n && strncasecmp(v, id, n) == 0;
}

static int
colfilter_match(const struct ins_colfilter *f, const struct ins_rec *r)
{
	char tmp[INS_COLVAL_TMP];
	const char *v;
	size_t n, i;

	if (f->nvalues == 0)
		return 1;
	if (!ins_colval(r, f->col, tmp, &v, &n))
		return 0;
	for (i = 0; i < f->nvalues; i++)
		if (strlen(f->values[i]) == n && strncasecmp(f->values[i], v, n) == 0)
			return 1;
	return 0;
}

int
ins_query_match(const struct ins_query *q, const struct ins_rec *r)
{
	size_t i, n;
	const char *v;

	switch (q->ep) {
	case INS_EP_GOOD:
		if (r->kind != INS_GOOD)
			return 0;
		if (q->event_type && !col_eq(r, COL_EVENT, q->event_type))
			return 0;
		if (q->schema && !schema_eq(r, q->schema))
			return 0;
		for (i = 0; i < q->ncontexts; i++)
			if (!ins_has_context(r, q->contexts[i]))
				return 0;
		return q->event_id == NULL || id_eq(r, q->event_id);
	case INS_EP_BAD:
		if (r->kind != INS_BAD)
			return 0;
		if (q->vendor) {
			v = ins_rec_vendor(r, &n);
			if (n && (strlen(q->vendor) != n || memcmp(q->vendor, v, n) != 0))
				return 0;
		}
		if (q->version) {
			v = ins_rec_version(r, &n);
			if (n && (strlen(q->version) != n || memcmp(q->version, v, n) != 0))
				return 0;
		}
		return q->event_id == NULL || id_eq(r, q->event_id);
	case INS_EP_EVENTS:
		if (q->valid == 1 && r->kind != INS_GOOD)
			return 0;
		if (q->valid == 0 && r->kind != INS_BAD)
			return 0;
		if (q->has_start && r->tstamp_ms < q->start_ms)
			return 0;
		if (q->has_end && r->tstamp_ms >= q->end_ms)
			return 0;
		for (i = 0; i < q->nfilters; i++)
			if (!colfilter_match(&q->filters[i], r))
				return 0;
		if (q->search && strcasestr(ins_rec_line(r), q->search) == NULL)
			return 0;
		return 1;
	default:
		return 1;
	}
}

int
ins_query_match_slot(const struct ins_query *q, const struct ins_slot *sl)
{
	size_t i, j;
	int rest = 0;

	switch (q->ep) {
	case INS_EP_GOOD:
		/* the index refuses; the record decides (these filters are exact, not case-blind) */
		if (sl->kind != INS_GOOD ||
		    (q->event_type && sl->h[ins_index_of(COL_EVENT)] != q->h_event_type) ||
		    (q->schema && sl->h[ins_index_of(INS_COL_SCHEMA)] != q->h_schema) ||
		    (q->event_id && sl->h[ins_index_of(COL_EVENT_ID)] != q->h_event_id))
			return 0;
		return ins_query_match(q, sl->r);
	case INS_EP_BAD:
		if (sl->kind != INS_BAD ||
		    (q->event_id && sl->h[ins_index_of(COL_EVENT_ID)] != q->h_event_id))
			return 0;
		return ins_query_match(q, sl->r);
	case INS_EP_EVENTS:
		if ((q->valid == 1 && sl->kind != INS_GOOD) || (q->valid == 0 && sl->kind != INS_BAD) ||
		    (q->has_start && sl->tstamp_ms < q->start_ms) ||
		    (q->has_end && sl->tstamp_ms >= q->end_ms))
			return 0;
		/* indexed filters: equal hashes of the lower-cased value are a match (64 bits) */
		for (i = 0; i < q->nfilters; i++) {
			const struct ins_colfilter *f = &q->filters[i];
			if (f->nvalues == 0)
				continue;
			if (f->idx < 0) {
				rest = 1;
				continue;
			}
			for (j = 0; j < f->nvalues; j++)
				if (sl->h[f->idx] == f->hashes[j])
					break;
			if (j == f->nvalues)
				return 0;
		}
		if (!rest && q->search == NULL)
			return 1;
		for (i = 0; i < q->nfilters; i++)
			if (q->filters[i].idx < 0 && !colfilter_match(&q->filters[i], sl->r))
				return 0;
		return q->search == NULL || strcasestr(ins_rec_line(sl->r), q->search) != NULL;
	default:
		return 1;
	}
}

/* ---- parsing ---- */

static char *
dupn(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* Form-decode s[0..n) ('+' is a space, %XX a byte). NULL on a bad escape or a NUL byte. */
static char *
form_decode(const char *s, size_t n)
{
	char *d = malloc(n + 1), *o = d;
	size_t i;

	if (d == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (s[i] == '+') {
			*o++ = ' ';
		} else if (s[i] == '%') {
			int h, l;
			if (i + 2 >= n || (h = pct_hexval((unsigned char)s[i + 1])) < 0 ||
			    (l = pct_hexval((unsigned char)s[i + 2])) < 0 || (h == 0 && l == 0)) {
				free(d);
				return NULL;
			}
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return d;
}

static int
set_string(char **dst, const char *s, size_t n, const char *name, struct ins_query_error *e,
    int status)
{
	if (n > INS_QUERY_MAX_STRING)
		return qerr(e, status, "%s: longer than %d bytes", name, INS_QUERY_MAX_STRING);
	free(*dst);
	if ((*dst = dupn(s, n)) == NULL)
		return qerr(e, 500, "out of memory");
	return 0;
}

static int
add_context(struct ins_query *q, const char *s, size_t n, struct ins_query_error *e, int status)
{
	char **c;

	if (q->ncontexts >= INS_QUERY_MAX_CONTEXTS)
		return qerr(e, status, "contexts: more than %d", INS_QUERY_MAX_CONTEXTS);
	if ((c = realloc(q->contexts, (q->ncontexts + 1) * sizeof(*c))) == NULL)
		return qerr(e, 500, "out of memory");
	q->contexts = c;
	q->contexts[q->ncontexts] = NULL;
	if (set_string(&q->contexts[q->ncontexts], s, n, "contexts", e, status) == -1)
		return -1;
	q->ncontexts++;
	return 0;
}

static void
clear_contexts(struct ins_query *q)
{
	size_t i;

	for (i = 0; i < q->ncontexts; i++)
		free(q->contexts[i]);
	q->ncontexts = 0;
}

/* The wait parameters and the count ones, shared by the query string and the body. */
static int
set_number(struct ins_query *q, const char *name, long v, struct ins_query_error *e, int status)
{
	if (strcmp(name, "limit") == 0) {
		q->limit = v < 0 ? 0 : v;
		return 0;
	}
	if (strcmp(name, "page") == 0) {
		q->page = v;
		return 0;
	}
	if (strcmp(name, "pageSize") == 0) {
		if (v > INS_PAGE_SIZE_MAX)
			return qerr(e, status, "pageSize: at most %d", INS_PAGE_SIZE_MAX);
		q->page_size = v;
		return 0;
	}
	if (v < 0)
		return qerr(e, status, "%s: must not be negative", name);
	if (strcmp(name, "min") == 0)
		q->min = v;
	else if (strcmp(name, "min_good") == 0)
		q->min_good = v;
	else if (strcmp(name, "min_bad") == 0)
		q->min_bad = v;
	else if (strcmp(name, "wait_ms") == 0)
		q->wait_ms = v;
	else if (strcmp(name, "settle_ms") == 0)
		q->settle_ms = v;
	else if (strcmp(name, "since") == 0)
		q->since = (uint64_t)v;
	else
		return 1;    /* not a number parameter */
	q->waits |= strcmp(name, "since") != 0;
	return 0;
}

static int
is_number_param(const char *name)
{
	static const char *const names[] = { "limit", "page", "pageSize", "min", "min_good",
	    "min_bad", "wait_ms", "settle_ms", "since" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

static int
qs_param(struct ins_query *q, const char *name, const char *value, struct ins_query_error *e)
{
	size_t n = strlen(value);

	if (is_number_param(name)) {
		long v;
		if (parse_long(value, n, &v) == -1)
			return qerr(e, 400, "%s: not an integer: '%.40s'", name, value);
		return set_number(q, name, v, e, 400) == -1 ? -1 : 0;
	}
	if (q->ep == INS_EP_GOOD) {
		if (strcmp(name, "event_type") == 0)
			return set_string(&q->event_type, value, n, name, e, 400);
		if (strcmp(name, "schema") == 0)
			return set_string(&q->schema, value, n, name, e, 400);
		if (strcmp(name, "contexts") == 0) {
			/* a comma-separated list, or the parameter repeated */
			const char *p = value, *c;
			while (*p) {
				c = strchr(p, ',');
				if (c == NULL)
					c = p + strlen(p);
				if (c > p && add_context(q, p, (size_t)(c - p), e, 400) == -1)
					return -1;
				p = *c ? c + 1 : c;
			}
			return 0;
		}
	}
	if ((q->ep == INS_EP_GOOD || q->ep == INS_EP_BAD) && strcmp(name, "event_id") == 0)
		return set_string(&q->event_id, value, n, name, e, 400);
	if (q->ep == INS_EP_BAD) {
		if (strcmp(name, "vendor") == 0)
			return set_string(&q->vendor, value, n, name, e, 400);
		if (strcmp(name, "version") == 0)
			return set_string(&q->version, value, n, name, e, 400);
	}
	if (q->ep == INS_EP_EVENTS) {
		if (strcmp(name, "search") == 0)
			return n ? set_string(&q->search, value, n, name, e, 400) : 0;
		if (strcmp(name, "validEvents") == 0) {
			if (strcmp(value, "true") == 0)
				q->valid = 1;
			else if (strcmp(value, "false") == 0)
				q->valid = 0;
			else if (strcmp(value, "null") == 0 || n == 0)
				q->valid = -1;
			else
				return qerr(e, 400, "validEvents: expected true, false or null");
			return 0;
		}
	}
	return 0;     /* unknown parameters are ignored, as Micro ignores unknown JSON fields */
}

static int
parse_query_string(struct ins_query *q, const char *qs, struct ins_query_error *e)
{
	const char *p = qs;
	int params = 0;

	while (*p) {
		const char *amp = strchr(p, '&'), *eq;
		size_t len = amp ? (size_t)(amp - p) : strlen(p);
		char *name, *value;
		int rc;

		if (++params > QS_MAX_PARAMS)
			return qerr(e, 400, "more than %d query parameters", QS_MAX_PARAMS);
		eq = memchr(p, '=', len);
		name = form_decode(p, eq ? (size_t)(eq - p) : len);
		value = eq ? form_decode(eq + 1, len - (size_t)(eq - p) - 1) : dupn("", 0);
		if (name == NULL || value == NULL) {
			free(name);
			free(value);
			return qerr(e, 400, "malformed query string");
		}
		rc = len ? qs_param(q, name, value, e) : 0;
		free(name);
		free(value);
		if (rc == -1)
			return -1;
		p += len;
		if (*p == '&')
			p++;
	}
	return 0;
}

/* ---- the JSON body ---- */

static int
json_opt_string(json_t *o, const char *key, char **dst, struct ins_query_error *e)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return qerr(e, 422, "%s: expected a string", key);
	return set_string(dst, json_string_value(v), json_string_length(v), key, e, 422);
}

static int
json_numbers(struct ins_query *q, json_t *o, struct ins_query_error *e)
{
	static const char *const names[] = { "limit", "page", "pageSize", "min", "min_good",
	    "min_bad", "wait_ms", "settle_ms", "since" };
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_t *v = json_object_get(o, names[i]);
		if (v == NULL || json_is_null(v))
			continue;
		if (!json_is_integer(v) || json_integer_value(v) > 2147483647LL ||
		    json_integer_value(v) < -2147483647LL)
			return qerr(e, 422, "%s: expected an integer", names[i]);
		if (set_number(q, names[i], (long)json_integer_value(v), e, 422) == -1)
			return -1;
	}
	return 0;
}

static int
json_time(json_t *o, const char *key, int *has, int64_t *ms, struct ins_query_error *e)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v) ||
	    ins_parse_iso_time(json_string_value(v), json_string_length(v), ms) == -1)
		return qerr(e, 422, "timeRange.%s: expected an ISO-8601 instant", key);
	*has = 1;
	return 0;
}

static int
add_filter(struct ins_query *q, json_t *f, struct ins_query_error *e)
{
	json_t *col = json_object_get(f, "column"), *values = json_object_get(f, "values");
	json_t *value = json_object_get(f, "value"), *x;
	struct ins_colfilter *cf;
	size_t i;

	if (!json_is_object(f) || !json_is_string(col))
		return qerr(e, 422, "filters: each needs a string \"column\"");
	if (ins_query_complex_column(json_string_value(col)))
		return 0;     /* Micro ignores filters on complex columns */
	if (q->nfilters >= INS_QUERY_MAX_FILTERS)
		return qerr(e, 422, "filters: more than %d", INS_QUERY_MAX_FILTERS);
	cf = &q->filters[q->nfilters++];
	memset(cf, 0, sizeof(*cf));
	cf->col = ins_query_column(json_string_value(col));
	if ((cf->values = calloc(INS_QUERY_MAX_VALUES + 1, sizeof(char *))) == NULL)
		return qerr(e, 500, "out of memory");
	if (values && !json_is_null(values)) {
		if (!json_is_array(values))
			return qerr(e, 422, "filters: \"values\" must be an array of strings");
		json_array_foreach(values, i, x) {
			if (!json_is_string(x))
				return qerr(e, 422, "filters: \"values\" must be an array of strings");
			if (json_string_length(x) == 0)
				continue;    /* Micro drops empty values */
			if (cf->nvalues >= INS_QUERY_MAX_VALUES)
				return qerr(e, 422, "filters: more than %d values", INS_QUERY_MAX_VALUES);
			if (set_string(&cf->values[cf->nvalues], json_string_value(x),
			    json_string_length(x), "filters", e, 422) == -1)
				return -1;
			cf->nvalues++;
		}
	}
	if (value && !json_is_null(value)) {
		if (!json_is_string(value))
			return qerr(e, 422, "filters: \"value\" must be a string");
		if (json_string_length(value) && cf->nvalues < INS_QUERY_MAX_VALUES) {
			if (set_string(&cf->values[cf->nvalues], json_string_value(value),
			    json_string_length(value), "filters", e, 422) == -1)
				return -1;
			cf->nvalues++;
		}
	}
	return 0;
}

static int
parse_events_body(struct ins_query *q, json_t *o, struct ins_query_error *e)
{
	json_t *filters = json_object_get(o, "filters"), *f, *v, *tr, *so;
	size_t i;

	if (filters && !json_is_null(filters)) {
		if (!json_is_array(filters))
			return qerr(e, 422, "filters: expected an array");
		if (json_array_size(filters) > INS_QUERY_MAX_FILTERS)
			return qerr(e, 422, "filters: more than %d", INS_QUERY_MAX_FILTERS);
		if (q->filters == NULL &&
		    (q->filters = calloc(INS_QUERY_MAX_FILTERS, sizeof(*q->filters))) == NULL)
			return qerr(e, 500, "out of memory");
		json_array_foreach(filters, i, f)
			if (add_filter(q, f, e) == -1)
				return -1;
	}
	v = json_object_get(o, "validEvents");
	if (v && !json_is_null(v)) {
		if (!json_is_boolean(v))
			return qerr(e, 422, "validEvents: expected true, false or null");
		q->valid = json_is_true(v);
	}
	tr = json_object_get(o, "timeRange");
	if (tr && !json_is_null(tr)) {
		if (!json_is_object(tr))
			return qerr(e, 422, "timeRange: expected an object");
		if (json_time(tr, "start", &q->has_start, &q->start_ms, e) == -1 ||
		    json_time(tr, "end", &q->has_end, &q->end_ms, e) == -1)
			return -1;
	}
	so = json_object_get(o, "sorting");
	if (so && !json_is_null(so)) {
		json_t *c = json_object_get(so, "column"), *d = json_object_get(so, "desc");
		if (!json_is_object(so) || !json_is_string(c) || (d && !json_is_boolean(d)))
			return qerr(e, 422, "sorting: expected {\"column\": string, \"desc\": boolean}");
		/* Micro leaves complex columns unsorted */
		q->sort_col = ins_query_complex_column(json_string_value(c)) ? -1 :
		    ins_query_column(json_string_value(c));
		q->sort_desc = json_is_true(d);
	}
	v = json_object_get(o, "search");
	if (v && !json_is_null(v)) {
		if (!json_is_string(v))
			return qerr(e, 422, "search: expected a string");
		if (json_string_length(v) &&
		    set_string(&q->search, json_string_value(v), json_string_length(v), "search", e,
		    422) == -1)
			return -1;
	}
	return 0;
}

static int
parse_body(struct ins_query *q, const char *body, size_t len, struct ins_query_error *e)
{
	json_error_t jerr;
	json_t *o, *v;
	size_t i;
	int rc = -1;

	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		return qerr(e, 400, "the request body is not JSON: %s", jerr.text);
	if (!json_is_object(o)) {
		qerr(e, 422, "the request body must be a JSON object");
		goto out;
	}
	if (json_numbers(q, o, e) == -1)
		goto out;
	switch (q->ep) {
	case INS_EP_GOOD:
		if (json_opt_string(o, "event_id", &q->event_id, e) == -1 ||
		    json_opt_string(o, "event_type", &q->event_type, e) == -1 ||
		    json_opt_string(o, "schema", &q->schema, e) == -1)
			goto out;
		v = json_object_get(o, "contexts");
		if (v && !json_is_null(v)) {
			json_t *x;
			if (!json_is_array(v)) {
				qerr(e, 422, "contexts: expected an array of strings");
				goto out;
			}
			clear_contexts(q);
			json_array_foreach(v, i, x) {
				if (!json_is_string(x)) {
					qerr(e, 422, "contexts: expected an array of strings");
					goto out;
				}
				if (add_context(q, json_string_value(x), json_string_length(x), e, 422) == -1)
					goto out;
			}
		}
		break;
	case INS_EP_BAD:
		if (json_opt_string(o, "event_id", &q->event_id, e) == -1 ||
		    json_opt_string(o, "vendor", &q->vendor, e) == -1 ||
		    json_opt_string(o, "version", &q->version, e) == -1)
			goto out;
		break;
	case INS_EP_EVENTS:
		if (parse_events_body(q, o, e) == -1)
			goto out;
		break;
	default:
		break;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}

/* The hashes the index is matched with. */
static int
prepare_index(struct ins_query *q, struct ins_query_error *e)
{
	size_t i, j;

	if (q->event_type)
		q->h_event_type = ins_hash_ci(q->event_type, strlen(q->event_type));
	if (q->schema)
		q->h_schema = ins_hash_ci(q->schema, strlen(q->schema));
	if (q->event_id)
		q->h_event_id = ins_hash_ci(q->event_id, strlen(q->event_id));
	for (i = 0; i < q->nfilters; i++) {
		struct ins_colfilter *f = &q->filters[i];
		f->idx = ins_index_of(f->col);
		if (f->idx < 0 || f->nvalues == 0)
			continue;
		if ((f->hashes = malloc(f->nvalues * sizeof(*f->hashes))) == NULL)
			return qerr(e, 500, "out of memory");
		for (j = 0; j < f->nvalues; j++)
			f->hashes[j] = ins_hash_ci(f->values[j], strlen(f->values[j]));
	}
	return 0;
}

int
ins_query_parse(struct ins_query *q, enum ins_endpoint ep, const char *query, const char *body,
    size_t body_len, struct ins_query_error *e)
{
	size_t i;

	query_init(q, ep);
	e->status = 0;
	e->text[0] = '\0';
	if (query && *query && parse_query_string(q, query, e) == -1)
		return -1;
	for (i = 0; i < body_len; i++)
		if (body[i] != ' ' && body[i] != '\t' && body[i] != '\r' && body[i] != '\n')
			break;
	if (body && i < body_len && parse_body(q, body, body_len, e) == -1)
		return -1;
	return prepare_index(q, e);
}

/* ---- the key ---- */

static int
key_str(struct buf *out, const char *name, const char *s)
{
	if (s == NULL)
		return 0;
	return buf_printf(out, "%s=%zu:", name, strlen(s)) || buf_append_str(out, s) ||
	    buf_append_byte(out, ';');
}

int
ins_query_key(const struct ins_query *q, struct buf *out)
{
	size_t i, j;

	if (buf_printf(out, "ep=%d;", (int)q->ep))
		return -1;
	switch (q->ep) {
	case INS_EP_GOOD:
		if (key_str(out, "t", q->event_type) || key_str(out, "s", q->schema) ||
		    key_str(out, "i", q->event_id))
			return -1;
		for (i = 0; i < q->ncontexts; i++)
			if (key_str(out, "c", q->contexts[i]))
				return -1;
		break;
	case INS_EP_BAD:
		if (key_str(out, "v", q->vendor) || key_str(out, "r", q->version) ||
		    key_str(out, "i", q->event_id))
			return -1;
		break;
	case INS_EP_EVENTS:
		if (buf_printf(out, "valid=%d;", q->valid) ||
		    (q->has_start && buf_printf(out, "from=%lld;", (long long)q->start_ms)) ||
		    (q->has_end && buf_printf(out, "to=%lld;", (long long)q->end_ms)) ||
		    key_str(out, "q", q->search))
			return -1;
		for (i = 0; i < q->nfilters; i++) {
			if (buf_printf(out, "f=%d:", q->filters[i].col))
				return -1;
			for (j = 0; j < q->filters[i].nvalues; j++)
				if (key_str(out, "", q->filters[i].values[j]))
					return -1;
		}
		break;
	default:
		break;
	}
	return 0;
}
