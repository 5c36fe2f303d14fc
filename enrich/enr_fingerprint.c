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
	const char *name, *value;
	size_t      nlen;
	size_t      order;
};

/* By name (as strcmp orders them), then by arrival, so the last of equal names ends each run. */
static int
cmp_param(const struct param_ref *x, const struct param_ref *y)
{
	size_t m = x->nlen < y->nlen ? x->nlen : y->nlen;
	int c = (unsigned char)x->name[0] - (unsigned char)y->name[0];

	if (c == 0 && m > 0 && (c = memcmp(x->name, y->name, m)) == 0)
		c = x->nlen < y->nlen ? -1 : x->nlen > y->nlen;
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
cmp_param_cb(const void *a, const void *b)
{
	return cmp_param(a, b);
}

#define FP_TEXT_BYTES 4096   /* the text hashed, when it fits: no allocation per event */
static char fp_text[FP_TEXT_BYTES];   /* one, reused: enrich is single-threaded */

int
enr_fingerprint_compute(const char *algo, char *const *exclude, size_t n_exclude,
    const struct raw_param *params, size_t n_params, char out[129])
{
	struct param_ref stackv[64], *v = stackv;
	char *text = fp_text;
	size_t i, j, n = 0, len = 0, need = 0;
	int rc = -1;

	if (n_params > 64 && (v = calloc(n_params, sizeof(*v))) == NULL)
		return -1;
	for (i = 0; i < n_params; i++)
		if (params[i].name != NULL && params[i].value != NULL) {
			v[n].name = params[i].name;
			v[n].value = params[i].value;
			v[n].nlen = strlen(params[i].name);
			v[n].order = i;
			need += v[n].nlen + strlen(params[i].value) + 2;
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
		qsort(v, n, sizeof(*v), cmp_param_cb);
	}
	if (need > sizeof(fp_text) && (text = malloc(need)) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		/* a later value of the same name wins */
		int skip = i + 1 < n && v[i + 1].nlen == v[i].nlen &&
		    !memcmp(v[i + 1].name, v[i].name, v[i].nlen);
		size_t vl;
		for (j = 0; j < n_exclude && !skip; j++)
			skip = exclude[j][0] == v[i].name[0] && !strcmp(exclude[j], v[i].name);
		if (skip)
			continue;
		vl = strlen(v[i].value);
		memcpy(text + len, v[i].name, v[i].nlen);
		text[len + v[i].nlen] = 0x1f;
		memcpy(text + len + v[i].nlen + 1, v[i].value, vl);
		text[len + v[i].nlen + 1 + vl] = 0x1f;
		len += v[i].nlen + vl + 2;
	}
	if (enr_hex_digest(algo, len ? text : "", len, out) > 0)
		rc = 0;
out:
	if (text != fp_text)
		free(text);
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
