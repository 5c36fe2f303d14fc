/*
 * enr_campaign: campaign_attribution (iglu:com.snowplowanalytics.snowplow/
 * campaign_attribution/1-0-*). From the page URL's query string, for each of mkt_medium,
 * mkt_source, mkt_term, mkt_content and mkt_campaign the first configured parameter name
 * that is present wins; the first click-id parameter present (gclid → Google, msclkid →
 * Microsoft, dclid → DoubleClick, then the configured mktClickId map) sets mkt_clickid and
 * mkt_network (enriched-event.md §6.4). The query is split on '&' and ';' and decoded as
 * Apache's URLEncodedUtils does; when a name repeats, its last value counts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"

struct strlist {
	char  **v;
	size_t  n;
};

struct clickid {
	char *param;
	char *network;
};

struct campaign {
	struct strlist  fields[5];   /* medium, source, term, content, campaign */
	struct clickid *click;
	size_t          n_click;
};

static const char *const campaign_keys[5] = {
	"mktMedium", "mktSource", "mktTerm", "mktContent", "mktCampaign",
};
static const int campaign_cols[5] = {
	COL_MKT_MEDIUM, COL_MKT_SOURCE, COL_MKT_TERM, COL_MKT_CONTENT, COL_MKT_CAMPAIGN,
};

static void
campaign_free(void *state)
{
	struct campaign *c = state;
	size_t i, j;

	if (c == NULL)
		return;
	for (i = 0; i < 5; i++) {
		for (j = 0; j < c->fields[i].n; j++)
			free(c->fields[i].v[j]);
		free(c->fields[i].v);
	}
	for (i = 0; i < c->n_click; i++) {
		free(c->click[i].param);
		free(c->click[i].network);
	}
	free(c->click);
	free(c);
}

static int
add_click(struct campaign *c, const char *param, const char *network)
{
	struct clickid *nv;
	size_t i;

	for (i = 0; i < c->n_click; i++)
		if (!strcmp(c->click[i].param, param)) {
			char *n = strdup(network);
			if (n == NULL)
				return -1;
			free(c->click[i].network);
			c->click[i].network = n;
			return 0;
		}
	if ((nv = realloc(c->click, (c->n_click + 1) * sizeof(*nv))) == NULL)
		return -1;
	c->click = nv;
	nv[c->n_click].param = strdup(param);
	nv[c->n_click].network = strdup(network);
	c->n_click++;
	return nv[c->n_click - 1].param && nv[c->n_click - 1].network ? 0 : -1;
}

static void *
campaign_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *fields = json_object_get(json_object_get(ctx->data, "parameters"), "fields");
	json_t *click, *v;
	const char *k;
	struct campaign *c;
	size_t i, j;

	if (!json_is_object(fields)) {
		snprintf(err, errlen, "parameters.fields: an object is required");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		goto oom;
	for (i = 0; i < 5; i++) {
		json_t *a = json_object_get(fields, campaign_keys[i]);
		if (!json_is_array(a)) {
			snprintf(err, errlen, "parameters.fields.%s: an array of parameter names is required",
			    campaign_keys[i]);
			campaign_free(c);
			return NULL;
		}
		if ((c->fields[i].v = calloc(json_array_size(a) + 1, sizeof(char *))) == NULL)
			goto oom;
		json_array_foreach(a, j, v) {
			if (!json_is_string(v)) {
				snprintf(err, errlen, "parameters.fields.%s[%zu]: a string is required",
				    campaign_keys[i], j);
				campaign_free(c);
				return NULL;
			}
			if ((c->fields[i].v[c->fields[i].n++] = strdup(json_string_value(v))) == NULL)
				goto oom;
		}
	}
	if (add_click(c, "gclid", "Google") < 0 || add_click(c, "msclkid", "Microsoft") < 0 ||
	    add_click(c, "dclid", "DoubleClick") < 0)
		goto oom;
	click = json_object_get(fields, "mktClickId");
	if (click != NULL && !json_is_object(click)) {
		snprintf(err, errlen, "parameters.fields.mktClickId: an object is required");
		campaign_free(c);
		return NULL;
	}
	json_object_foreach(click, k, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "parameters.fields.mktClickId.%s: a string is required", k);
			campaign_free(c);
			return NULL;
		}
		if (add_click(c, k, json_string_value(v)) < 0)
			goto oom;
	}
	return c;
oom:
	snprintf(err, errlen, "out of memory");
	campaign_free(c);
	return NULL;
}

/* The value of the last occurrence of name, or NULL. */
static const char *
qs_get(const struct enr_qparam *q, long n, const char *name)
{
	long i;

	for (i = n - 1; i >= 0; i--)
		if (!strcmp(q[i].name, name))
			return q[i].value;
	return NULL;
}

static int
campaign_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct campaign *c = state;
	struct enr_qparam *q;
	long n;
	size_t i, j;

	(void)failures;
	if (ev->col[COL_PAGE_URL] == NULL)
		return 0;                       /* no page URI: nothing to attribute */
	n = enr_query_parse(ev->col[COL_PAGE_URLQUERY], "&;", 1, &q);
	if (n < 0)
		return 0;
	for (i = 0; i < 5; i++) {
		const char *v = NULL;
		for (j = 0; j < c->fields[i].n && v == NULL; j++)
			v = qs_get(q, n, c->fields[i].v[j]);
		enr_set_tsv_safe(ev, campaign_cols[i], v, v ? strlen(v) : 0);
	}
	for (i = 0; i < c->n_click; i++) {
		const char *v = qs_get(q, n, c->click[i].param);
		if (v != NULL) {
			enr_set_tsv_safe(ev, COL_MKT_CLICKID, v, strlen(v));
			enr_set_tsv_safe(ev, COL_MKT_NETWORK, c->click[i].network,
			    strlen(c->click[i].network));
			break;
		}
	}
	if (i == c->n_click) {
		enrich_event_set(ev, COL_MKT_CLICKID, NULL, 0);
		enrich_event_set(ev, COL_MKT_NETWORK, NULL, 0);
	}
	enr_query_free(q, n);
	return 0;
}

const struct enr_module enr_campaign = {
	"com.snowplowanalytics.snowplow", "campaign_attribution", 1, ENRICH_STAGE_EARLY, 40,
	"campaign-attribution", campaign_load, campaign_apply, campaign_free,
};
