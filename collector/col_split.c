/*
 * col_split: tp2 batch splitting (see col_split.h).
 */
#include "col_split.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static int
set_error(struct col_split *out, const char *fmt, const char *arg)
{
	size_t n = strlen(fmt) + (arg ? strlen(arg) : 0) + 1;

	out->error = malloc(n);
	if (out->error == NULL)
		return -1;
	snprintf(out->error, n, fmt, arg ? arg : "");
	return 0;
}

static int
add_item(struct col_split_item **v, size_t *n, char *json, size_t len)
{
	struct col_split_item *p = realloc(*v, (*n + 1) * sizeof(**v));

	if (p == NULL)
		return -1;
	*v = p;
	p[*n].json = json;
	p[*n].len = len;
	(*n)++;
	return 0;
}

/* Close a batch: {"schema":S,"data":[e1,e2,...]} from the compact event texts. */
static int
emit_batch(struct col_split *out, const char *schema_json, size_t schema_len, char **ev,
    size_t *evlen, const size_t *idx, size_t cnt)
{
	static const char pre[] = "{\"schema\":", mid[] = ",\"data\":[", post[] = "]}";
	size_t len = sizeof(pre) - 1 + schema_len + sizeof(mid) - 1 + sizeof(post) - 1, i, o;
	char *j;

	for (i = 0; i < cnt; i++)
		len += evlen[idx[i]] + 1;
	j = malloc(len + 1);
	if (j == NULL)
		return -1;
	o = 0;
	memcpy(j + o, pre, sizeof(pre) - 1);
	o += sizeof(pre) - 1;
	memcpy(j + o, schema_json, schema_len);
	o += schema_len;
	memcpy(j + o, mid, sizeof(mid) - 1);
	o += sizeof(mid) - 1;
	for (i = 0; i < cnt; i++) {
		if (i > 0)
			j[o++] = ',';
		memcpy(j + o, ev[idx[i]], evlen[idx[i]]);
		o += evlen[idx[i]];
	}
	memcpy(j + o, post, sizeof(post) - 1);
	o += sizeof(post) - 1;
	j[o] = '\0';
	if (add_item(&out->batches, &out->n_batches, j, o) == -1) {
		free(j);
		return -1;
	}
	return 0;
}

int
col_split_body(const char *body, size_t body_len, size_t whole, size_t target,
    struct col_split *out)
{
	json_t *root = NULL, *schema, *data;
	json_error_t jerr;
	char **ev = NULL, *schema_json = NULL, *data_json = NULL;
	size_t *evlen = NULL, *idx = NULL, n = 0, nidx, i, d, budget, cur;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	if (body == NULL)
		return set_error(out, "GET requests cannot be split", NULL);
	root = json_loadb(body, body_len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		rc = set_error(out, "cannot split POST requests which are not json %s", jerr.text);
		goto done;
	}
	schema = json_is_object(root) ? json_object_get(root, "schema") : NULL;
	if (!json_is_object(root) || !json_is_string(schema) || json_object_get(root, "data") == NULL) {
		rc = set_error(out, "cannot split POST requests which are not self-describing %s",
		    !json_is_object(root) ? "the body is not a JSON object" :
		    !json_is_string(schema) ? "the body has no schema string" : "the body has no data");
		goto done;
	}
	data = json_object_get(root, "data");
	if (!json_is_array(data)) {
		rc = set_error(out, "cannot split POST requests which do not contain a data array", NULL);
		goto done;
	}
	data_json = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
	schema_json = json_dumps(schema, JSON_COMPACT | JSON_ENCODE_ANY);
	if (data_json == NULL || schema_json == NULL)
		goto done;
	d = strlen(data_json);
	if (whole < d || whole - d >= target) {
		rc = set_error(out, "cannot split this POST request because event without \"data\" "
		    "field is still too big", NULL);
		goto done;
	}
	budget = target - (whole - d);
	n = json_array_size(data);
	if (n == 0) {
		/* nothing to split off: the envelope alone is the oversized part (upstream would
		 * store nothing at all, which would lose the request silently) */
		rc = set_error(out, "cannot split this POST request because event without \"data\" "
		    "field is still too big", NULL);
		goto done;
	}
	ev = calloc(n ? n : 1, sizeof(*ev));
	evlen = calloc(n ? n : 1, sizeof(*evlen));
	idx = calloc(n ? n : 1, sizeof(*idx));
	if (ev == NULL || evlen == NULL || idx == NULL)
		goto done;
	for (i = 0; i < n; i++) {
		ev[i] = json_dumps(json_array_get(data, i), JSON_COMPACT | JSON_ENCODE_ANY);
		if (ev[i] == NULL)
			goto done;
		evlen[i] = strlen(ev[i]);
	}
	/* Walk the events (§10.2 step 5). An event too big alone is reported and skipped without
	 * closing the current batch, as upstream does. */
	cur = 0;
	nidx = 0;
	for (i = 0; i < n; i++) {
		size_t s = evlen[i];

		if (s + 1 > budget) {
			if (add_item(&out->too_big, &out->n_too_big, ev[i], s) == -1)
				goto done;
			ev[i] = NULL;
			continue;
		}
		if (cur + s + 1 > budget) {
			if (emit_batch(out, schema_json, strlen(schema_json), ev, evlen, idx, nidx) == -1)
				goto done;
			nidx = 0;
			cur = 0;
		}
		idx[nidx++] = i;
		cur += s + 1;
	}
	if (nidx > 0 && emit_batch(out, schema_json, strlen(schema_json), ev, evlen, idx, nidx) == -1)
		goto done;
	rc = 0;
done:
	if (ev)
		for (i = 0; i < n; i++)
			free(ev[i]);
	free(ev);
	free(evlen);
	free(idx);
	free(schema_json);
	free(data_json);
	json_decref(root);
	if (rc == -1)
		col_split_free(out);
	return rc;
}

void
col_split_free(struct col_split *s)
{
	size_t i;

	for (i = 0; i < s->n_batches; i++)
		free(s->batches[i].json);
	for (i = 0; i < s->n_too_big; i++)
		free(s->too_big[i].json);
	free(s->batches);
	free(s->too_big);
	free(s->error);
	memset(s, 0, sizeof(*s));
}
