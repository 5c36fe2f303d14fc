/*
 * ins_columns: column names, column statistics and the timeline (see ins_columns.h).
 */
#include "ins_columns.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "fnv.h"
#include "iglu.h"
#include "ins_query.h"
#include "ins_render.h"
#include "sdkjson.h"
#include "timefmt.h"

#define SET_MIN_CAP 512

struct ins_columns {
	char **slot;          /* open addressing */
	size_t cap, n;
	uint64_t seen;        /* records before this sequence number are read */
	int has_atomic, has_geo, has_failure;
};

struct ins_columns *
ins_columns_new(void)
{
	return calloc(1, sizeof(struct ins_columns));
}

static void
set_clear(struct ins_columns *c)
{
	size_t i;

	for (i = 0; i < c->cap; i++)
		free(c->slot[i]);
	free(c->slot);
	c->slot = NULL;
	c->cap = c->n = 0;
}

void
ins_columns_free(struct ins_columns *c)
{
	if (c == NULL)
		return;
	set_clear(c);
	free(c);
}

void
ins_columns_reset(struct ins_columns *c)
{
	set_clear(c);
	c->has_atomic = c->has_geo = c->has_failure = 0;
}

static uint64_t
hash(const char *s, size_t n)
{
	return fnv_bytes(FNV_OFFSET, s, n);
}

static int
set_add(struct ins_columns *c, const char *s, size_t n)
{
	size_t i;

	if (c->n * 2 >= c->cap) {
		size_t ncap = c->cap ? c->cap * 2 : SET_MIN_CAP, j;
		char **ns;
		if (c->n >= INS_COLUMNS_MAX)
			return 0;        /* enough: a store of random keys does not grow it further */
		if ((ns = calloc(ncap, sizeof(*ns))) == NULL)
			return -1;
		for (j = 0; j < c->cap; j++) {
			if (c->slot[j] == NULL)
				continue;
			i = hash(c->slot[j], strlen(c->slot[j])) & (ncap - 1);
			while (ns[i])
				i = (i + 1) & (ncap - 1);
			ns[i] = c->slot[j];
		}
		free(c->slot);
		c->slot = ns;
		c->cap = ncap;
	}
	i = hash(s, n) & (c->cap - 1);
	while (c->slot[i]) {
		if (strlen(c->slot[i]) == n && memcmp(c->slot[i], s, n) == 0)
			return 0;
		i = (i + 1) & (c->cap - 1);
	}
	if ((c->slot[i] = malloc(n + 1)) == NULL)
		return -1;
	memcpy(c->slot[i], s, n);
	c->slot[i][n] = '\0';
	c->n++;
	return 0;
}

/* key, and key.field for every member of obj */
static int
add_with_fields(struct ins_columns *c, const char *key, const json_t *obj)
{
	const char *f;
	json_t *v;
	char name[1600];

	if (set_add(c, key, strlen(key)) == -1)
		return -1;
	json_object_foreach((json_t *)obj, f, v) {
		int n = snprintf(name, sizeof(name), "%s.%s", key, f);
		if (n > 0 && (size_t)n < sizeof(name) && set_add(c, name, (size_t)n) == -1)
			return -1;
	}
	return 0;
}

/* The keys a contexts / derived_contexts / unstruct_event column adds to the SDK document. */
static int
add_json_column(struct ins_columns *c, int col, const char *s, size_t n)
{
	struct iglu_key k;
	const char *code;
	json_t *root = json_loadb(s, n, 0, NULL), *data, *ent;
	char key[1200];
	size_t i;
	int rc = 0;

	if (root == NULL)
		return 0;
	data = json_object_get(root, "data");
	if (col == COL_UNSTRUCT_EVENT) {
		const char *schema = json_string_value(json_object_get(data, "schema"));
		if (schema && iglu_key_parse(schema, &k, &code) == 0) {
			sdkjson_field_name("unstruct_event_", &k, key, sizeof(key));
			rc = add_with_fields(c, key, json_object_get(data, "data"));
		}
	} else {
		json_array_foreach(data, i, ent) {
			const char *schema = json_string_value(json_object_get(ent, "schema"));
			if (schema == NULL || iglu_key_parse(schema, &k, &code) == -1)
				continue;
			sdkjson_field_name("contexts_", &k, key, sizeof(key));
			if ((rc = add_with_fields(c, key, json_object_get(ent, "data"))) == -1)
				break;
		}
	}
	json_decref(root);
	return rc;
}

int
ins_columns_update(struct ins_columns *c, const struct ins_store *st)
{
	static const int json_cols[] = { COL_CONTEXTS, COL_DERIVED_CONTEXTS, COL_UNSTRUCT_EVENT };
	static const char *const failure_fields[] = { "failureType", "errors", "schema", "data",
	    "timestamp", "componentName", "componentVersion" };
	uint64_t seq, next = ins_store_next_seq(st);
	size_t i, n;

	if (c->seen < ins_store_first_seq(st))
		c->seen = ins_store_first_seq(st);
	for (seq = c->seen; seq < next; seq++) {
		const struct ins_rec *r = ins_store_get(st, seq);
		const char *v;
		if (r == NULL)
			continue;
		if (!c->has_atomic) {
			for (i = 0; i < EVENT_NCOLS; i++)
				if (event_cols[i].type != EVT_JSON &&
				    set_add(c, event_cols[i].name, strlen(event_cols[i].name)) == -1)
					return -1;
			c->has_atomic = 1;
		}
		if (!c->has_geo) {
			size_t a, b;
			ins_rec_col(r, COL_GEO_LATITUDE, &a);
			ins_rec_col(r, COL_GEO_LONGITUDE, &b);
			if (a && b) {
				if (set_add(c, "geo_location", 12) == -1)
					return -1;
				c->has_geo = 1;
			}
		}
		if (r->kind == INS_BAD && !c->has_failure) {
			char name[128];
			if (set_add(c, INS_FAILURE_KEY, strlen(INS_FAILURE_KEY)) == -1)
				return -1;
			for (i = 0; i < sizeof(failure_fields) / sizeof(failure_fields[0]); i++) {
				snprintf(name, sizeof(name), "%s.%s", INS_FAILURE_KEY, failure_fields[i]);
				if (set_add(c, name, strlen(name)) == -1)
					return -1;
			}
			c->has_failure = 1;
		}
		for (i = 0; i < sizeof(json_cols) / sizeof(json_cols[0]); i++) {
			v = ins_rec_col(r, json_cols[i], &n);
			if (n && add_json_column(c, json_cols[i], v, n) == -1)
				return -1;
		}
	}
	c->seen = next;
	return 0;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int
ins_columns_write(const struct ins_columns *c, struct buf *out)
{
	char **v = NULL;
	size_t i, n = 0;
	int rc = 0;

	if (c->n && (v = malloc(c->n * sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < c->cap; i++)
		if (c->slot[i])
			v[n++] = c->slot[i];
	qsort(v, n, sizeof(*v), cmp_str);
	rc = buf_append_byte(out, '[');
	for (i = 0; i < n && rc == 0; i++)
		rc = (i && buf_append_byte(out, ',')) || ins_json_str(out, v[i], strlen(v[i]));
	free(v);
	return rc || buf_append_byte(out, ']') ? -1 : 0;
}

/* ---- /micro/columnStats ---- */

static int
ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static json_t *
load_body(const char *body, size_t len, int *status, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *o = json_loadb(body ? body : "", len, 0, &jerr);

	if (o == NULL) {
		*status = 400;
		snprintf(err, errlen, "the request body is not JSON: %s", jerr.text);
		return NULL;
	}
	if (!json_is_object(o)) {
		*status = 422;
		snprintf(err, errlen, "the request body must be a JSON object");
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Distinct values of col over the store, newest first, at most INS_COLSTATS_VALUES. */
static int
distinct_values(const struct ins_store *st, int col, struct buf *out)
{
	char seen[INS_COLSTATS_VALUES][256];
	size_t seen_len[INS_COLSTATS_VALUES];
	char tmp[INS_COLVAL_TMP];
	size_t nseen = 0, i = ins_store_count(st), j;

	if (buf_append_byte(out, '['))
		return -1;
	while (i-- > 0 && nseen < INS_COLSTATS_VALUES) {
		const char *v;
		size_t n;
		if (!ins_colval(ins_store_at(st, i), col, tmp, &v, &n))
			continue;
		for (j = 0; j < nseen; j++)
			if (seen_len[j] == n && memcmp(seen[j], v, n < 256 ? n : 256) == 0)
				break;
		if (j < nseen)
			continue;
		memcpy(seen[nseen], v, n < 256 ? n : 256);
		seen_len[nseen] = n;
		if ((nseen++ && buf_append_byte(out, ',')) || ins_json_str(out, v, n))
			return -1;
	}
	return buf_append_byte(out, ']');
}

int
ins_columnstats(const struct ins_store *st, const char *body, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	int status = 0;
	json_t *o = load_body(body, len, &status, err, errlen), *cols, *c;
	size_t i;

	if (o == NULL)
		return status;
	cols = json_object_get(o, "columns");
	if (!json_is_array(cols)) {
		snprintf(err, errlen, "columns: expected an array of strings");
		json_decref(o);
		return 422;
	}
	json_array_foreach(cols, i, c) {
		if (!json_is_string(c)) {
			snprintf(err, errlen, "columns: expected an array of strings");
			json_decref(o);
			return 422;
		}
	}
	if (buf_append_byte(out, '{'))
		goto oom;
	json_array_foreach(cols, i, c) {
		const char *name = json_string_value(c);
		int complex = ins_query_complex_column(name);
		int filterable = !complex && !ends_with(name, "_tstamp");
		if ((i && buf_append_byte(out, ',')) || ins_json_str(out, name, strlen(name)) ||
		    buf_printf(out, ":{\"sortable\":%s,\"filterable\":%s,\"values\":",
		    complex ? "false" : "true", filterable ? "true" : "false"))
			goto oom;
		if (filterable ? distinct_values(st, ins_query_column(name), out) :
		    buf_append_str(out, "null"))
			goto oom;
		if (buf_append_byte(out, '}'))
			goto oom;
	}
	json_decref(o);
	return buf_append_byte(out, '}') ? 500 : 0;
oom:
	json_decref(o);
	snprintf(err, errlen, "out of memory");
	return 500;
}

/* ---- /micro/timeline ---- */

struct bucket {
	int64_t start, end;
	uint64_t valid, failed;
	size_t index;
};

static int
cmp_bucket_start(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

static int
cmp_bucket_index(const void *a, const void *b)
{
	const struct bucket *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

int
ins_timeline(const struct ins_store *st, const char *body, size_t len, struct buf *out,
    char *err, size_t errlen)
{
	int status = 0, overlap = 0;
	json_t *o = load_body(body, len, &status, err, errlen), *arr, *b;
	struct bucket *bk = NULL;
	size_t i, j, nb, n = ins_store_count(st);

	if (o == NULL)
		return status;
	arr = json_object_get(o, "buckets");
	if (!json_is_array(arr)) {
		snprintf(err, errlen, "buckets: expected an array of {\"start\",\"end\"}");
		status = 422;
		goto out;
	}
	nb = json_array_size(arr);
	if (nb > INS_TIMELINE_BUCKETS) {
		snprintf(err, errlen, "buckets: at most %d", INS_TIMELINE_BUCKETS);
		status = 422;
		goto out;
	}
	if (nb && (bk = calloc(nb, sizeof(*bk))) == NULL) {
		status = 500;
		goto out;
	}
	json_array_foreach(arr, i, b) {
		const char *s = json_string_value(json_object_get(b, "start"));
		const char *e = json_string_value(json_object_get(b, "end"));
		if (s == NULL || e == NULL || ins_parse_iso_time(s, strlen(s), &bk[i].start) ||
		    ins_parse_iso_time(e, strlen(e), &bk[i].end)) {
			snprintf(err, errlen, "buckets: each needs ISO-8601 \"start\" and \"end\"");
			status = 422;
			goto out;
		}
		bk[i].index = i;
	}
	qsort(bk, nb, sizeof(*bk), cmp_bucket_start);
	for (i = 1; i < nb; i++)
		if (bk[i].start < bk[i - 1].end)
			overlap = 1;
	for (j = 0; j < n; j++) {
		const struct ins_slot *r = ins_store_slot(st, j);
		int64_t t = r->tstamp_ms;
		if (overlap) {
			for (i = 0; i < nb; i++)
				if (t >= bk[i].start && t < bk[i].end)
					r->kind == INS_GOOD ? bk[i].valid++ : bk[i].failed++;
			continue;
		}
		/* sorted, disjoint: the last bucket that starts at or before t */
		{
			size_t lo = 0, hi = nb;
			while (lo < hi) {
				size_t mid = (lo + hi) / 2;
				if (bk[mid].start <= t)
					lo = mid + 1;
				else
					hi = mid;
			}
			if (lo > 0 && t < bk[lo - 1].end)
				r->kind == INS_GOOD ? bk[lo - 1].valid++ : bk[lo - 1].failed++;
		}
	}
	qsort(bk, nb, sizeof(*bk), cmp_bucket_index);
	if (buf_append_str(out, "{\"points\":[")) {
		status = 500;
		goto out;
	}
	for (i = 0; i < nb; i++) {
		char s[TIMEFMT_BUFSZ], e[TIMEFMT_BUFSZ];
		timefmt_instant(bk[i].start, s);
		timefmt_instant(bk[i].end, e);
		if (buf_printf(out, "%s{\"validEvents\":%llu,\"failedEvents\":%llu,\"bucket\":"
		    "{\"start\":\"%s\",\"end\":\"%s\"}}", i ? "," : "",
		    (unsigned long long)bk[i].valid, (unsigned long long)bk[i].failed, s, e)) {
			status = 500;
			goto out;
		}
	}
	if (buf_append_str(out, "]}"))
		status = 500;
out:
	if (status == 500)
		snprintf(err, errlen, "out of memory");
	free(bk);
	json_decref(o);
	return status;
}
