/*
 * enr_fingerprint: event_fingerprint_config (iglu:com.snowplowanalytics.snowplow/
 * event_fingerprint_config/1-0-*). event_fingerprint is the hex digest (MD5, SHA1, SHA256,
 * SHA384 or SHA512) of name U+001F value U+001F for every raw parameter that has a value,
 * sorted by name, minus the excluded ones (enriched-event.md §10). A name given twice counts
 * once, with its last value, as upstream's parameter map keeps it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "enr.h"

struct fingerprint {
	char    algo[16];
	char  **exclude;
	size_t  n_exclude;
};

static void
fingerprint_free(void *state)
{
	struct fingerprint *f = state;
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->n_exclude; i++)
		free(f->exclude[i]);
	free(f->exclude);
	free(f);
}

static void *
fingerprint_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const char *algo = enr_json_str(p, "hashAlgorithm");
	json_t *ex = json_object_get(p, "excludeParameters"), *v;
	struct fingerprint *f;
	size_t i;

	if (algo == NULL) {
		snprintf(err, errlen, "parameters.hashAlgorithm: a string is required");
		return NULL;
	}
	if (strcmp(algo, "MD5") && strcmp(algo, "SHA1") && strcmp(algo, "SHA256") &&
	    strcmp(algo, "SHA384") && strcmp(algo, "SHA512")) {
		snprintf(err, errlen, "[%s] is not a supported event fingerprint generation algorithm",
		    algo);
		return NULL;
	}
	if (!json_is_array(ex)) {
		snprintf(err, errlen, "parameters.excludeParameters: an array of names is required");
		return NULL;
	}
	if ((f = calloc(1, sizeof(*f))) == NULL ||
	    (f->exclude = calloc(json_array_size(ex) + 1, sizeof(char *))) == NULL) {
		free(f);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(f->algo, sizeof(f->algo), "%s", algo);
	json_array_foreach(ex, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "parameters.excludeParameters[%zu]: a string is required", i);
			fingerprint_free(f);
			return NULL;
		}
		f->exclude[f->n_exclude++] = strdup(json_string_value(v));
	}
	return f;
}

struct param_ref {
	const struct raw_param *p;
	size_t                  order;
};

/* By name, then by arrival, so that the last of equal names ends each run. */
static int
cmp_param(const void *a, const void *b)
{
	const struct param_ref *x = a, *y = b;
	int c = strcmp(x->p->name, y->p->name);

	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

int
enr_fingerprint_compute(const char *algo, char *const *exclude, size_t n_exclude,
    const struct raw_param *params, size_t n_params, char out[129])
{
	struct param_ref stackv[64], *v = stackv;
	struct buf b;
	size_t i, j, n = 0;
	int rc = -1;

	if (n_params > 64 && (v = calloc(n_params, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n_params; i++)
		if (params[i].name != NULL && params[i].value != NULL) {
			v[n].p = &params[i];
			v[n].order = i;
			n++;
		}
	if (n <= 64) {                  /* insertion sort: a handful of parameters */
		for (i = 1; i < n; i++) {
			struct param_ref t = v[i];
			for (j = i; j > 0 && cmp_param(&v[j - 1], &t) > 0; j--)
				v[j] = v[j - 1];
			v[j] = t;
		}
	} else {
		qsort(v, n, sizeof(*v), cmp_param);
	}
	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		int skip = i + 1 < n && !strcmp(v[i + 1].p->name, v[i].p->name);  /* a later value wins */
		size_t nl, vl;
		for (j = 0; j < n_exclude && !skip; j++)
			skip = !strcmp(exclude[j], v[i].p->name);
		if (skip)
			continue;
		nl = strlen(v[i].p->name);
		vl = strlen(v[i].p->value);
		if (buf_reserve(&b, nl + vl + 2) < 0)
			goto out;
		memcpy(b.data + b.len, v[i].p->name, nl);
		b.data[b.len + nl] = 0x1f;
		memcpy(b.data + b.len + nl + 1, v[i].p->value, vl);
		b.data[b.len + nl + 1 + vl] = 0x1f;
		b.len += nl + vl + 2;
	}
	if (enr_hex_digest(algo, b.data ? b.data : "", b.len, out) > 0)
		rc = 0;
out:
	buf_free(&b);
	if (v != stackv)
		free(v);
	return rc;
}

static int
fingerprint_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct fingerprint *f = state;
	char hex[129];

	(void)failures;
	if (enr_fingerprint_compute(f->algo, f->exclude, f->n_exclude, ev->params, ev->n_params,
	        hex) == 0)
		enrich_event_set_str(ev, COL_EVENT_FINGERPRINT, hex);
	return 0;
}

const struct enr_module enr_fingerprint = {
	"com.snowplowanalytics.snowplow", "event_fingerprint_config", 1, ENRICH_STAGE_EARLY, 50,
	"event-fingerprint", fingerprint_load, fingerprint_apply, fingerprint_free,
};
