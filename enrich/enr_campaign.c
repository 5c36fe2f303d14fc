/*
 * enr_campaign: campaign_attribution (iglu:com.snowplowanalytics.snowplow/
 * campaign_attribution/1-0-*). From the page URL's query string, for each of mkt_medium,
 * mkt_source, mkt_term, mkt_content and mkt_campaign the first configured parameter name
 * that is present wins; the first click-id parameter present (gclid → Google, msclkid →
 * Microsoft, dclid → DoubleClick, then the configured mktClickId map) sets mkt_clickid and
 * mkt_network (enriched-event.md §6.4). The query is split on '&' and ';' and decoded as
 * Apache's URLEncodedUtils does; when a name repeats, its last value counts.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "utf8.h"

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

/*
 * The query's parameters as enr_query_parse splits them, undecoded: a name is decoded only
 * when decoding could change it, a value only when it is the one a column gets. A page URL
 * carries a few parameters and the enrichment reads at most six; decoding them all cost a
 * third of its instructions in allocations. (Without PCT_STRICT, decoding fails only out of
 * memory, so decoding fewer values loses no failure that mattered.)
 */
#define QV_MAX 64

struct qview {
	const char *name;    /* raw bytes, or dname when decoding changes them */
	size_t      nlen;
	char       *dname;
	const char *val;
	size_t      vlen;
};

/* The views of query into v (at most QV_MAX); the count, -1 when there are more or out of
 * memory (then use enr_query_parse). Splitting and trimming as enr_query_parse does. */
static long
qview_split(const char *query, struct qview *v)
{
	const char *p = query;
	long n = 0;

	if (query == NULL)
		return 0;
	while (*p) {
		size_t tl = strcspn(p, "&;"), nl;
		const char *t = p, *eq;

		p += tl;
		if (*p)
			p++;
		while (tl && isspace((unsigned char)*t)) {
			t++;
			tl--;
		}
		while (tl && isspace((unsigned char)t[tl - 1]))
			tl--;
		if (tl == 0)
			continue;
		if (n == QV_MAX)
			goto fail;
		eq = memchr(t, '=', tl);
		nl = eq ? (size_t)(eq - t) : tl;
		v[n].name = t;
		v[n].nlen = nl;
		v[n].dname = NULL;
		v[n].val = eq ? eq + 1 : "";
		v[n].vlen = eq ? tl - nl - 1 : 0;
		if (memchr(t, '%', nl) != NULL || memchr(t, '+', nl) != NULL ||
		    utf8_valid_prefix(t, nl) != nl) {
			if ((v[n].dname = enr_url_decode(t, nl, 1)) == NULL)
				goto fail;
		}
		n++;
	}
	return n;
fail:
	while (n > 0)
		free(v[--n].dname);
	return -1;
}

/* The index of the last occurrence of name, or -1. */
static long
qview_get(const struct qview *v, long n, const char *name)
{
	size_t len = strlen(name);
	long i;

	for (i = n - 1; i >= 0; i--)
		if (v[i].dname ? !strcmp(v[i].dname, name) :
		    v[i].nlen == len && !memcmp(v[i].name, name, len))
			return i;
	return -1;
}

/* Set col to the decoded value of parameter i (-1: none); -1 out of memory. */
static int
qview_set(struct enrich_event *ev, int col, const struct qview *v, long i)
{
	char *d;
	int rc;

	if (i < 0)
		return enr_set_tsv_safe(ev, col, NULL, 0);
	if ((d = enr_url_decode(v[i].val, v[i].vlen, 1)) == NULL)
		return -1;
	rc = enr_set_tsv_safe(ev, col, d, strlen(d));
	free(d);
	return rc;
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

/* campaign_apply with every parameter decoded first: for queries of more than QV_MAX. */
static int
campaign_apply_decoded(struct campaign *c, struct enrich_event *ev)
{
	struct enr_qparam *q;
	long n;
	size_t i, j;

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

static int
campaign_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct campaign *c = state;
	struct qview v[QV_MAX];
	long n, found[6];
	size_t i, j, click = 0;

	(void)failures;
	if (ev->col[COL_PAGE_URL] == NULL)
		return 0;                       /* no page URI: nothing to attribute */
	if ((n = qview_split(ev->col[COL_PAGE_URLQUERY], v)) < 0)
		return campaign_apply_decoded(c, ev);
	/* which parameter each column gets, then their values */
	for (i = 0; i < 5; i++)
		for (j = 0, found[i] = -1; j < c->fields[i].n && found[i] < 0; j++)
			found[i] = qview_get(v, n, c->fields[i].v[j]);
	for (click = 0, found[5] = -1; click < c->n_click; click++)
		if ((found[5] = qview_get(v, n, c->click[click].param)) >= 0)
			break;
	for (i = 0; i < 5; i++)
		if (qview_set(ev, campaign_cols[i], v, found[i]) < 0)
			goto out;
	if (found[5] >= 0) {
		if (qview_set(ev, COL_MKT_CLICKID, v, found[5]) < 0)
			goto out;
		enr_set_tsv_safe(ev, COL_MKT_NETWORK, c->click[click].network,
		    strlen(c->click[click].network));
	} else {
		enrich_event_set(ev, COL_MKT_CLICKID, NULL, 0);
		enrich_event_set(ev, COL_MKT_NETWORK, NULL, 0);
	}
out:
	while (n > 0)
		free(v[--n].dname);
	return 0;
}

const struct enr_module enr_campaign = {
	"com.snowplowanalytics.snowplow", "campaign_attribution", 1, ENRICH_STAGE_EARLY, 40,
	"campaign-attribution", campaign_load, campaign_apply, campaign_free,
};
