/*
 * adapt_ga: /com.google.analytics/v1, Google Analytics measurement protocol hits (form-encoded,
 * one per body line) as self-describing events with contexts (snowplow/enrich 6.10.0
 * adapters/registry/GoogleAnalyticsAdapter.scala). The path is AdapterRegistry's
 * (Vendor.GoogleAnalytics, "v1"), the one Snowplow's GA plugin posts to; the adapter's own
 * "com.google.analytics.measurement-protocol" is only its tracker name and schema vendor.
 *
 * A hit becomes: ue_pr = the hit type's event (page_view, event, item, …) built from its
 * fields; co = one context per group of flat fields (general, user, session, …) and one per
 * composite field group (product pr<N>…, impression il<N>pi<M>…, custom dimension cd<N>, …);
 * plus the direct tracker-protocol mappings (uip -> ip, dl -> url, ti -> tr_id/ti_id, …).
 * Key order follows upstream's Scala maps (scala.h, smap.h), so the JSON matches byte for byte;
 * small composite groups keep their pairs' order, as upstream's specs show. Hits are bounded to
 * GA_MAX_PARAMS parameters (Google's own limit is 8 KB a hit).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "jnum.h"

#define GA_TV "com.google.analytics.measurement-protocol-v1"
#define GA_V "iglu:com.google.analytics.measurement-protocol/"
#define GA_SFX "/jsonschema/1-0-0"
#define GA_MAX_PARAMS 2048
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

enum ga_kind { K_ID, K_INT, K_TWODEC, K_DBL, K_BOOL };

struct ga_tr {
	const char *mp;        /* measurement-protocol field ("IF…": a value from the name) */
	const char *name;      /* field in the schema */
	enum ga_kind kind;
};

struct ga_data {
	const char *schema;
	const struct ga_tr *tr;
	size_t n;
};

#define T(a) a, NELEM(a)

/* unstructEventData */
static const struct ga_tr tr_pageview[] = { { "dl", "documentLocationUrl", K_ID },
	{ "dh", "documentHostName", K_ID }, { "dp", "documentPath", K_ID },
	{ "dt", "documentTitle", K_ID } };
static const struct ga_tr tr_screenview[] = { { "cd", "screenName", K_ID } };
static const struct ga_tr tr_event[] = { { "ec", "category", K_ID }, { "ea", "action", K_ID },
	{ "el", "label", K_ID }, { "ev", "value", K_INT } };
static const struct ga_tr tr_transaction[] = { { "ti", "id", K_ID },
	{ "ta", "affiliation", K_ID }, { "tr", "revenue", K_TWODEC },
	{ "ts", "shipping", K_TWODEC }, { "tt", "tax", K_TWODEC }, { "tcc", "couponCode", K_ID },
	{ "cu", "currencyCode", K_ID } };
static const struct ga_tr tr_item[] = { { "ti", "transactionId", K_ID }, { "in", "name", K_ID },
	{ "ip", "price", K_TWODEC }, { "iq", "quantity", K_INT }, { "ic", "code", K_ID },
	{ "iv", "category", K_ID }, { "cu", "currencyCode", K_ID } };
static const struct ga_tr tr_social[] = { { "sn", "network", K_ID }, { "sa", "action", K_ID },
	{ "st", "actionTarget", K_ID } };
static const struct ga_tr tr_exception[] = { { "exd", "description", K_ID },
	{ "exf", "isFatal", K_BOOL } };
static const struct ga_tr tr_timing[] = { { "utc", "userTimingCategory", K_ID },
	{ "utv", "userTimingVariableName", K_ID }, { "utt", "userTimingTime", K_INT },
	{ "utl", "userTimingLabel", K_ID }, { "plt", "pageLoadTime", K_INT },
	{ "dns", "dnsTime", K_INT }, { "pdt", "pageDownloadTime", K_INT },
	{ "rrt", "redirectResponseTime", K_INT }, { "tcp", "tcpConnectTime", K_INT },
	{ "srt", "serverResponseTime", K_INT }, { "dit", "domInteractiveTime", K_INT },
	{ "clt", "contentLoadTime", K_INT } };

static const struct {
	const char *hit;
	struct ga_data d;
} ga_hits[] = {
	{ "pageview", { GA_V "page_view" GA_SFX, T(tr_pageview) } },
	{ "screenview", { GA_V "screen_view" GA_SFX, T(tr_screenview) } },
	{ "event", { GA_V "event" GA_SFX, T(tr_event) } },
	{ "transaction", { GA_V "transaction" GA_SFX, T(tr_transaction) } },
	{ "item", { GA_V "item" GA_SFX, T(tr_item) } },
	{ "social", { GA_V "social" GA_SFX, T(tr_social) } },
	{ "exception", { GA_V "exception" GA_SFX, T(tr_exception) } },
	{ "timing", { GA_V "timing" GA_SFX, T(tr_timing) } },
};

/* contextData (the page view is a context too) */
static const struct ga_tr tr_undocumented[] = { { "a", "a", K_ID }, { "jid", "jid", K_ID },
	{ "gjid", "gjid", K_ID } };
static const struct ga_tr tr_private[] = { { "_v", "v", K_ID }, { "_u", "u", K_ID },
	{ "_gid", "gid", K_ID }, { "_s", "s", K_INT }, { "_r", "r", K_INT } };
static const struct ga_tr tr_general[] = { { "v", "protocolVersion", K_ID },
	{ "tid", "trackingId", K_ID }, { "aip", "anonymizeIp", K_BOOL },
	{ "ds", "dataSource", K_ID }, { "qt", "queueTime", K_INT }, { "z", "cacheBuster", K_ID } };
static const struct ga_tr tr_user[] = { { "cid", "clientId", K_ID }, { "uid", "userId", K_ID } };
static const struct ga_tr tr_session[] = { { "sc", "sessionControl", K_ID },
	{ "uip", "ipOverride", K_ID }, { "ua", "userAgentOverride", K_ID },
	{ "geoid", "geographicalOverride", K_ID } };
static const struct ga_tr tr_traffic[] = { { "dr", "documentReferrer", K_ID },
	{ "cn", "campaignName", K_ID }, { "cs", "campaignSource", K_ID },
	{ "cm", "campaignMedium", K_ID }, { "ck", "campaignKeyword", K_ID },
	{ "cc", "campaignContent", K_ID }, { "ci", "campaignId", K_ID },
	{ "gclid", "googleAdwordsId", K_ID }, { "dclid", "googleDisplayAdsId", K_ID } };
static const struct ga_tr tr_system[] = { { "sr", "screenResolution", K_ID },
	{ "vp", "viewportSize", K_ID }, { "de", "documentEncoding", K_ID },
	{ "sd", "screenColors", K_ID }, { "ul", "userLanguage", K_ID },
	{ "je", "javaEnabled", K_BOOL }, { "fl", "flashVersion", K_ID } };
static const struct ga_tr tr_link[] = { { "linkid", "id", K_ID } };
static const struct ga_tr tr_app[] = { { "an", "name", K_ID }, { "aid", "id", K_ID },
	{ "av", "version", K_ID }, { "aiid", "installerId", K_ID } };
static const struct ga_tr tr_product_action[] = { { "pa", "productAction", K_ID },
	{ "pal", "productActionList", K_ID }, { "cos", "checkoutStep", K_INT },
	{ "col", "checkoutStepOption", K_ID } };
static const struct ga_tr tr_experiment[] = { { "xid", "id", K_ID },
	{ "xvar", "variant", K_ID } };
static const struct ga_tr tr_hit[] = { { "t", "type", K_ID },
	{ "ni", "nonInteractionHit", K_BOOL } };
static const struct ga_tr tr_promotion_action[] = { { "promoa", "promotionAction", K_ID } };

static const struct ga_data ga_contexts[] = {
	{ GA_V "page_view" GA_SFX, T(tr_pageview) },
	{ "iglu:com.google.analytics/undocumented/jsonschema/1-0-0", T(tr_undocumented) },
	{ "iglu:com.google.analytics/private/jsonschema/1-0-0", T(tr_private) },
	{ GA_V "general" GA_SFX, T(tr_general) },
	{ GA_V "user" GA_SFX, T(tr_user) },
	{ GA_V "session" GA_SFX, T(tr_session) },
	{ GA_V "traffic_source" GA_SFX, T(tr_traffic) },
	{ GA_V "system_info" GA_SFX, T(tr_system) },
	{ GA_V "link" GA_SFX, T(tr_link) },
	{ GA_V "app" GA_SFX, T(tr_app) },
	{ GA_V "product_action" GA_SFX, T(tr_product_action) },
	{ GA_V "content_experiment" GA_SFX, T(tr_experiment) },
	{ GA_V "hit" GA_SFX, T(tr_hit) },
	{ GA_V "promotion_action" GA_SFX, T(tr_promotion_action) },
};

/* compositeContextData */
static const struct ga_tr tr_product[] = { { "IFpr", "index", K_INT }, { "prid", "sku", K_ID },
	{ "prnm", "name", K_ID }, { "prbr", "brand", K_ID }, { "prca", "category", K_ID },
	{ "prva", "variant", K_ID }, { "prpr", "price", K_TWODEC }, { "prqt", "quantity", K_INT },
	{ "prcc", "couponCode", K_ID }, { "prps", "position", K_INT },
	{ "cu", "currencyCode", K_ID } };
static const struct ga_tr tr_product_cd[] = { { "IFprcd", "productIndex", K_INT },
	{ "IFcd", "dimensionIndex", K_INT }, { "prcd", "value", K_ID } };
static const struct ga_tr tr_product_cm[] = { { "IFprcm", "productIndex", K_INT },
	{ "IFcm", "metricIndex", K_INT }, { "prcm", "value", K_INT } };
static const struct ga_tr tr_impression_list[] = { { "IFil", "index", K_INT },
	{ "ilnm", "name", K_ID } };
static const struct ga_tr tr_impression[] = { { "IFilpi", "listIndex", K_INT },
	{ "IFpi", "productIndex", K_INT }, { "ilpiid", "sku", K_ID }, { "ilpinm", "name", K_ID },
	{ "ilpibr", "brand", K_ID }, { "ilpica", "category", K_ID }, { "ilpiva", "variant", K_ID },
	{ "ilpips", "position", K_INT }, { "ilpipr", "price", K_TWODEC },
	{ "cu", "currencyCode", K_ID } };
static const struct ga_tr tr_impression_cd[] = { { "IFilpicd", "listIndex", K_INT },
	{ "IFpicd", "productIndex", K_INT }, { "IFcd", "customDimensionIndex", K_INT },
	{ "ilpicd", "value", K_ID } };
static const struct ga_tr tr_impression_cm[] = { { "IFilpicm", "listIndex", K_INT },
	{ "IFpicm", "productIndex", K_INT }, { "IFcm", "customMetricIndex", K_INT },
	{ "ilpicm", "value", K_INT } };
static const struct ga_tr tr_promotion[] = { { "IFpromo", "index", K_INT },
	{ "promoid", "id", K_ID }, { "promonm", "name", K_ID }, { "promocr", "creative", K_ID },
	{ "promops", "position", K_ID } };
static const struct ga_tr tr_custom_dimension[] = { { "IFcd", "index", K_INT },
	{ "cd", "value", K_ID } };
static const struct ga_tr tr_custom_metric[] = { { "IFcm", "index", K_INT },
	{ "cm", "value", K_DBL } };
static const struct ga_tr tr_content_group[] = { { "IFcg", "index", K_INT },
	{ "cg", "value", K_ID } };

static const struct ga_data ga_composites[] = {
	{ GA_V "product" GA_SFX, T(tr_product) },
	{ GA_V "product_custom_dimension" GA_SFX, T(tr_product_cd) },
	{ GA_V "product_custom_metric" GA_SFX, T(tr_product_cm) },
	{ GA_V "product_impression_list" GA_SFX, T(tr_impression_list) },
	{ GA_V "product_impression" GA_SFX, T(tr_impression) },
	{ GA_V "product_impression_custom_dimension" GA_SFX, T(tr_impression_cd) },
	{ GA_V "product_impression_custom_metric" GA_SFX, T(tr_impression_cm) },
	{ GA_V "promotion" GA_SFX, T(tr_promotion) },
	{ GA_V "custom_dimension" GA_SFX, T(tr_custom_dimension) },
	{ GA_V "custom_metric" GA_SFX, T(tr_custom_metric) },
	{ GA_V "content_group" GA_SFX, T(tr_content_group) },
};

#define GA_COMPOSITE_REGEX "(pr|promo|il|cd|cm|cg)(\\d+)([a-zA-Z]*)(\\d*)([a-zA-Z]*)(\\d*)$"

/* ---- a Scala immutable.Map with any values (keys are strings or schema URIs) ---- */

struct gent {
	char *key;
	int32_t hash;          /* key.## */
	void *val;
};

struct gmap {
	struct gent *e;
	size_t n, cap;
	int hashed;
};

/* The value slot for key (appended when new, with *created set). NULL when memory ran out. */
static void **
gmap_slot(struct gmap *m, const char *key, int32_t hash, int *created)
{
	size_t i;

	if (created)
		*created = 0;
	for (i = 0; i < m->n; i++)
		if (strcmp(m->e[i].key, key) == 0)
			return &m->e[i].val;
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 8;
		struct gent *ne = realloc(m->e, nc * sizeof(*ne));
		if (ne == NULL)
			return NULL;
		m->e = ne;
		m->cap = nc;
	}
	if ((m->e[m->n].key = strdup(key)) == NULL)
		return NULL;
	m->e[m->n].hash = hash;
	m->e[m->n].val = NULL;
	if (created)
		*created = 1;
	if (++m->n >= 5)
		m->hashed = 1;
	return &m->e[m->n - 1].val;
}

static void *
gmap_get(const struct gmap *m, const char *key)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->e[i].key, key) == 0)
			return m->e[i].val;
	return NULL;
}

static size_t *
gmap_order(const struct gmap *m)
{
	size_t *ix = malloc((m->n ? m->n : 1) * sizeof(*ix)), i;
	int32_t *hc;

	if (ix == NULL)
		return NULL;
	for (i = 0; i < m->n; i++)
		ix[i] = i;
	if (!m->hashed || m->n < 2)
		return ix;
	if ((hc = malloc(m->n * sizeof(*hc))) == NULL) {
		free(ix);
		return NULL;
	}
	for (i = 0; i < m->n; i++)
		hc[i] = m->e[i].hash;
	scala_hash_sort(ix, m->n, hc);
	free(hc);
	return ix;
}

static void
gmap_free(struct gmap *m, void (*vfree)(void *))
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].key);
		if (vfree)
			vfree(m->e[i].val);
	}
	free(m->e);
	memset(m, 0, sizeof(*m));
}

static void
ajson_free_v(void *p)
{
	ajson_free(p);
}

static int32_t
str_hash(const char *s)
{
	return scala_string_hash(s, strlen(s));
}

/* SchemaKey.hashCode of "iglu:vendor/name/format/M-R-A" (the URIs above are well formed). */
static int32_t
schema_hash(const char *uri)
{
	char v[128], n[128], f[32];
	int a, b, c;

	if (sscanf(uri, "iglu:%127[^/]/%127[^/]/%31[^/]/%d-%d-%d", v, n, f, &a, &b, &c) != 6)
		return 0;
	return scala_schemakey_hash(v, n, f, a, b, c);
}

/* ---- translations (ConversionUtils) ---- */

/* A translated value: JSON, or an adapter failure. */
struct gval {
	struct ajson *ok;
	json_t *fail;
};

static void
gval_free(void *p)
{
	struct gval *g = p;

	if (g == NULL)
		return;
	ajson_free(g->ok);
	json_decref(g->fail);
	free(g);
}

/* A java.math.BigDecimal literal: sign, digits (with a point), exponent. The digits without
 * leading zeros go to d (at most dmax), *scale = digits after the point - exponent. 0 or -1. */
static int
big_decimal(const char *s, char *d, size_t dmax, size_t *nd, long *scale, int *neg)
{
	size_t i = 0, k = 0;
	int any = 0, point = 0;
	long exp = 0;

	*neg = 0;
	*scale = 0;
	if (s[i] == '-' || s[i] == '+')
		*neg = s[i++] == '-';
	for (; (s[i] >= '0' && s[i] <= '9') || (s[i] == '.' && !point); i++) {
		if (s[i] == '.') {
			point = 1;
			continue;
		}
		any = 1;
		if (point)
			(*scale)++;
		if (k == 0 && s[i] == '0')
			continue;
		if (k == dmax)
			return -1;
		d[k++] = s[i];
	}
	if (!any)
		return -1;
	if (s[i] == 'e' || s[i] == 'E') {
		int en = 0;
		size_t st;
		i++;
		if (s[i] == '-' || s[i] == '+')
			en = s[i++] == '-';
		st = i;
		for (; s[i] >= '0' && s[i] <= '9'; i++)
			if ((exp = exp * 10 + (s[i] - '0')) > 1000000)
				exp = 1000000;
		if (i == st)
			return -1;
		*scale -= en ? -exp : exp;
	}
	if (s[i] != '\0')
		return -1;
	*nd = k;
	return 0;
}

/* The double a decimal value (digits, scale) rounds to, printed as Java prints it; an
 * infinite one is null (Json.fromDoubleOrNull). */
static struct ajson *
decimal_json(const char *d, size_t nd, long scale)
{
	char t[600], num[JNUM_BUFSZ];
	double x;

	if (nd == 0)
		return ajson_num("0.0", 3);            /* BigDecimal has no negative zero */
	if ((long)nd - scale > 400)
		return ajson_new(AJ_NULL);
	if ((long)nd - scale < -400)
		return ajson_num("0.0", 3);
	snprintf(t, sizeof(t), "%.*se%ld", (int)nd, d, -scale);
	errno = 0;
	x = strtod(t, NULL);
	if (!isfinite(x))
		return ajson_new(AJ_NULL);
	jnum_java_double(x, num);
	return ajson_num(num, strlen(num));
}

/* stringToTwoDecimals: BigDecimal(s).setScale(2, HALF_EVEN).toDouble; stringToDouble:
 * BigDecimal(s).toDouble. NULL for "Cannot be converted to Double". */
static struct ajson *
ga_decimal(const char *s, int two)
{
	char d[512];
	size_t nd;
	long scale;
	int neg;
	struct ajson *j;

	if (big_decimal(s, d, sizeof(d) - 2, &nd, &scale, &neg) == -1)
		return NULL;
	if (two && scale > 2) {
		/* keep nd - (scale - 2) digits; round half to even */
		long drop = scale - 2, keep = (long)nd - drop, k;
		int up = 0;
		if (keep < 0) {
			nd = 0;                             /* below 0.005: zero */
		} else {
			char first = keep < (long)nd ? d[keep] : '0';
			int rest = 0;
			for (k = keep + 1; k < (long)nd; k++)
				rest |= d[k] != '0';
			up = first > '5' || (first == '5' && (rest || (keep > 0 && (d[keep - 1] - '0') % 2)));
			nd = (size_t)keep;
			for (k = keep - 1; up && k >= 0; k--) {
				if (d[k] == '9') {
					d[k] = '0';
				} else {
					d[k]++;
					up = 0;
				}
			}
			if (up) {                           /* 99.995 -> 100.00 */
				memmove(d + 1, d, nd);
				d[0] = '1';
				nd++;
			}
			while (nd > 0 && d[0] == '0') {
				memmove(d, d + 1, nd - 1);
				nd--;
			}
		}
		scale = 2;
	}
	j = decimal_json(d, nd, scale);
	if (j && neg && nd > 0 && j->type == AJ_NUM && j->s[0] != '-') {
		struct ajson *m;
		char t[JNUM_BUFSZ + 1];
		snprintf(t, sizeof(t), "-%s", j->s);
		m = ajson_num(t, strlen(t));
		ajson_free(j);
		j = m;
	}
	return j;
}

static struct gval *
translate(const struct ga_tr *tr, const char *value)
{
	struct gval *g = calloc(1, sizeof(*g));
	const char *err = NULL;

	if (g == NULL)
		return NULL;
	switch (tr->kind) {
	case K_ID:
		g->ok = ajson_str(value, strlen(value));
		break;
	case K_INT: {
		/* stringToJInteger then i.toInt: "null" would unbox null upstream (a crash); here it
		 * is the same failure as any other non-integer */
		long long v = 0;
		size_t i = 0;
		int neg = 0, okv = 1;
		if (value[0] == '-' || value[0] == '+')
			neg = value[i++] == '-';
		if (value[i] == '\0')
			okv = 0;
		for (; okv && value[i]; i++) {
			if (value[i] < '0' || value[i] > '9' || (v = v * 10 + (value[i] - '0')) >
			    2147483648LL)
				okv = 0;
		}
		if (okv && (neg ? -v : v) <= 2147483647LL)
			g->ok = ajson_int(neg ? -v : v);
		else
			err = "Cannot be converted to java.lang.Integer";
		break;
	}
	case K_TWODEC:
	case K_DBL:
		if ((g->ok = ga_decimal(value, tr->kind == K_TWODEC)) == NULL)
			err = "Cannot be converted to Double";
		break;
	case K_BOOL:
		if (strcmp(value, "1") == 0 || strcmp(value, "0") == 0)
			g->ok = ajson_new(value[0] == '1' ? AJ_TRUE : AJ_FALSE);
		else
			err = "Cannot be converted to boolean, only 1 or 0 are supported";
		break;
	}
	if (err) {
		g->fail = json_pack("{s:s,s:s,s:s}", "field", tr->name, "value", value,
		    "expectation", err);
		if (g->fail == NULL) {
			free(g);
			return NULL;
		}
	} else if (g->ok == NULL) {
		free(g);
		return NULL;
	}
	return g;
}

static const struct ga_tr *
find_tr(const struct ga_tr *tr, size_t n, const char *mp)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(tr[i].mp, mp) == 0)
			return &tr[i];
	return NULL;
}

/* A map name -> struct gval as a JSON object, in map order. */
static struct ajson *
gvals_json(const struct gmap *m)
{
	struct ajson *o = ajson_new(AJ_OBJ);
	size_t *ix = gmap_order(m), i;

	if (o == NULL || ix == NULL)
		goto fail;
	for (i = 0; i < m->n; i++) {
		const struct gval *g = m->e[ix[i]].val;
		if (ajson_append(o, m->e[ix[i]].key, strlen(m->e[ix[i]].key), ajson_copy(g->ok)) == -1)
			goto fail;
	}
	free(ix);
	return o;
fail:
	free(ix);
	ajson_free(o);
	return NULL;
}

/* ---- composite fields ---- */

/* breakDownCompField(fieldName): the regex's six groups (a full match), empty ones dropped,
 * split into names (even positions) and numbers (odd). 0, or -1 when the name does not
 * match. */
static int
break_down(const char *k, char strs[3][64], size_t *ns, char ints[3][16], size_t *ni)
{
	static const char *const prefixes[] = { "pr", "promo", "il", "cd", "cm", "cg" };
	size_t p, i, g, len = strlen(k);

	for (p = 0; p < NELEM(prefixes); p++) {
		size_t pl = strlen(prefixes[p]), st[6], en[6];
		if (len < pl || memcmp(k, prefixes[p], pl) != 0)
			continue;
		st[0] = 0;
		en[0] = i = pl;
		for (g = 1; g < 6; g++) {                /* \d+ [a-zA-Z]* \d* [a-zA-Z]* \d* */
			int digit = g % 2 == 1;
			st[g] = i;
			while (i < len && (digit ? (k[i] >= '0' && k[i] <= '9') :
			    ((k[i] >= 'a' && k[i] <= 'z') || (k[i] >= 'A' && k[i] <= 'Z'))))
				i++;
			en[g] = i;
		}
		if (en[1] == st[1] || i != len)
			continue;
		*ns = *ni = 0;
		for (g = 0; g < 6; g++) {
			size_t gl = en[g] - st[g];
			if (gl == 0)
				continue;
			if (*ns + *ni >= 6 || gl >= (*ns == *ni ? 64 : 16))
				return -1;                      /* beyond any real field: a failure */
			if (*ns == *ni) {
				memcpy(strs[*ns], k + st[g], gl);
				strs[(*ns)++][gl] = '\0';
			} else {
				memcpy(ints[*ni], k + st[g], gl);
				ints[(*ni)++][gl] = '\0';
			}
		}
		return 0;
	}
	return -1;
}

/* One broken-down field: the IF pairs and the value pair, in the order upstream's small Maps
 * keep them (insertion). */
struct bd {
	char ifk[3][200], ifv[3][16];
	size_t nif;
	char vk[200];
	const char *v;
};

static int
bd_eq_if(const struct bd *a, const struct bd *b)
{
	size_t i;

	if (a->nif != b->nif)
		return 0;
	for (i = 0; i < a->nif; i++)
		if (strcmp(a->ifk[i], b->ifk[i]) || strcmp(a->ifv[i], b->ifv[i]))
			return 0;
	return 1;
}

struct kv {
	const char *k;
	const char *v;
};

static int
kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct kv *)a)->k, ((const struct kv *)b)->k);
}

/* The grouped values of one composite key: list of strings. */
struct glist {
	const char **v;
	size_t n, cap;
};

static void
glist_free(void *p)
{
	struct glist *l = p;

	if (l) {
		free(l->v);
		free(l);
	}
}

/* A composite context table: newName -> struct gseq (all values or the first failure). */
struct gseq {
	struct ajson **v;
	size_t n;
	json_t *fail;
};

static void
gseq_free(void *p)
{
	struct gseq *s = p;
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		ajson_free(s->v[i]);
	free(s->v);
	json_decref(s->fail);
	free(s);
}

static void
gmap_free_seqmap(void *p)
{
	struct gmap *m = p;

	if (m) {
		gmap_free(m, gseq_free);
		free(m);
	}
}

/* buildCompositeContexts: appends {schema, data} entities to ctxs; a failure is added to
 * fails (the first one: upstream's Either stops there). */
static int
composite_contexts(const struct smap *params, size_t *pix, struct ajson *ctxs,
    struct adapt_out *fails)
{
	struct kv *comp = NULL;
	struct bd *bds = NULL;
	size_t nc = 0, i, nb = 0;
	struct gmap grouped = { 0 }, translated = { 0 };
	size_t *gix = NULL, *tix = NULL;
	struct smap_ent *cu = smap_get(params, "cu");
	int rc = -1;

	/* composite = the parameters with a value and a digit in the name, sorted */
	if ((comp = calloc(params->n + 1, sizeof(*comp))) == NULL)
		goto done;
	for (i = 0; i < params->n; i++) {
		const struct smap_ent *en = &params->e[pix[i]];
		if (en->v != NULL && strpbrk(en->k, "0123456789") != NULL &&
		    strlen(en->k) == en->klen) {
			comp[nc].k = en->k;
			comp[nc++].v = en->v;
		}
	}
	qsort(comp, nc, sizeof(*comp), kv_cmp);
	if ((bds = calloc(nc + 1, sizeof(*bds))) == NULL)
		goto done;
	for (i = 0; i < nc; i++) {
		char strs[3][64], ints[3][16], acc[200] = "";
		size_t ns, ni, s;
		if (break_down(comp[i].k, strs, &ns, ints, &ni) == -1 || !(ns == ni || ns == ni + 1)) {
			rc = adapt_fail_input(fails, comp[i].k, NULL,
			    "composite field name has to conform to regex " GA_COMPOSITE_REGEX);
			goto done;
		}
		/* IF + the suffix joins of the names (all of them, or all but the last) */
		for (s = 0; s < ni; s++) {
			size_t t;
			char j[200] = "IF";
			for (t = s; t < (ns == ni ? ns : ns - 1); t++)
				strncat(j, strs[t], sizeof(j) - strlen(j) - 1);
			snprintf(bds[nb].ifk[s], sizeof(bds[nb].ifk[s]), "%s", j);
			snprintf(bds[nb].ifv[s], sizeof(bds[nb].ifv[s]), "%s", ints[s]);
		}
		bds[nb].nif = ni;
		for (s = 0; s < ns; s++)
			strncat(acc, strs[s], sizeof(acc) - strlen(acc) - 1);
		snprintf(bds[nb].vk, sizeof(bds[nb].vk), "%s", acc);
		bds[nb++].v = comp[i].v;
	}
	/* grouped: the value pairs of every field, then the IF pairs with consecutive duplicate
	 * maps dropped, grouped by key */
	for (i = 0; i < 2 * nb; i++) {
		const struct bd *b = &bds[i < nb ? i : i - nb];
		size_t np = i < nb ? 1 : b->nif, p;
		if (i >= nb && i > nb && bd_eq_if(b, &bds[i - nb - 1]))
			continue;
		for (p = 0; p < np; p++) {
			const char *key = i < nb ? b->vk : b->ifk[p];
			const char *val = i < nb ? b->v : b->ifv[p];
			int created;
			struct glist **l = (struct glist **)gmap_slot(&grouped, key, str_hash(key),
			    &created);
			if (l == NULL)
				goto done;
			if (created && (*l = calloc(1, sizeof(**l))) == NULL)
				goto done;
			if ((*l)->n == (*l)->cap) {
				size_t ncap = (*l)->cap ? (*l)->cap * 2 : 4;
				const char **nv = realloc((*l)->v, ncap * sizeof(*nv));
				if (nv == NULL)
					goto done;
				(*l)->v = nv;
				(*l)->cap = ncap;
			}
			(*l)->v[(*l)->n++] = val;
		}
	}
	/* the immutable Map built from groupBy: five keys or more iterate in HashMap order
	 * (GoogleAnalyticsAdapterSpec e9, e10, e12, e15); fewer keep the order the pairs came
	 * in (e11 and e13 pin it: the value pair before the index pair) */
	if ((gix = gmap_order(&grouped)) == NULL)
		goto done;
	/* translated: for each grouped key, for each composite schema whose table has it, the
	 * translated values under the new name (additions keyed by schema, ++ into the map) */
	for (i = 0; i < grouped.n; i++) {
		const struct gent *ge = &grouped.e[gix[i]];
		const struct glist *l = ge->val;
		struct gmap add = { 0 };
		size_t d, *aix;
		for (d = 0; d < NELEM(ga_composites); d++) {
			const struct ga_tr *tr = find_tr(ga_composites[d].tr, ga_composites[d].n, ge->key);
			struct gmap *cur;
			void **slot;
			struct gseq *sq;
			size_t v;
			int created;
			if (tr == NULL)
				continue;
			/* trTable = m.getOrElse(schema, Map.empty) + (newName -> values): a copy */
			cur = gmap_get(&translated, ga_composites[d].schema);
			slot = gmap_slot(&add, ga_composites[d].schema, schema_hash(ga_composites[d].schema),
			    NULL);
			if (slot == NULL)
				goto add_fail;
			if (*slot == NULL) {
				struct gmap *cp = calloc(1, sizeof(*cp));
				size_t e;
				if (cp == NULL)
					goto add_fail;
				*slot = cp;
				for (e = 0; cur && e < cur->n; e++) {
					void **s2 = gmap_slot(cp, cur->e[e].key, cur->e[e].hash, NULL);
					struct gseq *src = cur->e[e].val, *dst;
					size_t q;
					if (s2 == NULL || (dst = calloc(1, sizeof(*dst))) == NULL)
						goto add_fail;
					*s2 = dst;
					dst->fail = src->fail ? json_incref(src->fail) : NULL;
					if (src->n && (dst->v = calloc(src->n, sizeof(*dst->v))) == NULL)
						goto add_fail;
					for (q = 0; q < src->n; q++)
						dst->v[dst->n++] = ajson_copy(src->v[q]);
				}
				cp->hashed = cur ? cur->hashed : 0;
			}
			slot = gmap_slot((struct gmap *)*slot, tr->name, str_hash(tr->name), &created);
			if (slot == NULL || (sq = calloc(1, sizeof(*sq))) == NULL)
				goto add_fail;
			gseq_free(*slot);
			*slot = sq;
			if ((sq->v = calloc(l->n + 1, sizeof(*sq->v))) == NULL)
				goto add_fail;
			for (v = 0; v < l->n && sq->fail == NULL; v++) {
				struct gval *g = translate(tr, l->v[v]);
				if (g == NULL)
					goto add_fail;
				if (g->fail)
					sq->fail = json_incref(g->fail);
				else
					sq->v[sq->n++] = ajson_copy(g->ok);
				gval_free(g);
			}
		}
		/* m ++ additions */
		if ((aix = gmap_order(&add)) == NULL)
			goto add_fail;
		for (d = 0; d < add.n; d++) {
			void **slot = gmap_slot(&translated, add.e[aix[d]].key, add.e[aix[d]].hash, NULL);
			if (slot == NULL) {
				free(aix);
				goto add_fail;
			}
			gmap_free_seqmap(*slot);
			*slot = add.e[aix[d]].val;
			add.e[aix[d]].val = NULL;
		}
		free(aix);
		gmap_free(&add, gmap_free_seqmap);
		continue;
add_fail:
		gmap_free(&add, gmap_free_seqmap);
		goto done;
	}
	/* traverseMap: the first failure, in map order (schemas, then names) */
	if ((tix = gmap_order(&translated)) == NULL)
		goto done;
	for (i = 0; i < translated.n; i++) {
		const struct gmap *m = translated.e[tix[i]].val;
		size_t *mix = gmap_order(m), e;
		if (mix == NULL)
			goto done;
		for (e = 0; e < m->n; e++) {
			const struct gseq *sq = m->e[mix[e]].val;
			if (sq->fail) {
				rc = json_array_append(fails->fail ? fails->fail :
				    (fails->fail = json_array()), sq->fail);
				free(mix);
				goto done;
			}
		}
		free(mix);
	}
	/* transpose each table into rows, zip with the names (re-attaching the currency), keep
	 * the rows with more fields than the table's IF fields */
	for (i = 0; i < translated.n; i++) {
		const char *schema = translated.e[tix[i]].key;
		const struct gmap *m = translated.e[tix[i]].val;
		const struct ga_data *cd = NULL;
		size_t *mix = gmap_order(m), row, d, minsize = 0, maxn = 0, e;
		int with_cu;
		if (mix == NULL)
			goto done;
		for (d = 0; d < NELEM(ga_composites); d++)
			if (strcmp(ga_composites[d].schema, schema) == 0)
				cd = &ga_composites[d];
		for (d = 0; cd && d < cd->n; d++)
			minsize += strncmp(cd->tr[d].mp, "IF", 2) == 0;
		with_cu = cu && cu->v && cd && find_tr(cd->tr, cd->n, "cu") != NULL;
		for (e = 0; e < m->n; e++)
			if (((const struct gseq *)m->e[e].val)->n > maxn)
				maxn = ((const struct gseq *)m->e[e].val)->n;
		for (row = 0; row < maxn; row++) {
			struct gmap rowm = { 0 };
			struct ajson **vals = calloc(m->n + 1, sizeof(*vals));
			size_t nv = 0, z;
			struct ajson *data = NULL, *ent;
			if (vals == NULL) {
				free(mix);
				goto done;
			}
			/* transpose: the row-th element of each column that still has one */
			for (e = 0; e < m->n; e++) {
				const struct gseq *sq = m->e[mix[e]].val;
				if (sq->n > row)
					vals[nv++] = sq->v[row];
			}
			/* (currencyCode ::) keys zip row, toMap */
			if (with_cu) {
				void **s = gmap_slot(&rowm, "currencyCode", str_hash("currencyCode"), NULL);
				if (s == NULL)
					goto row_fail;
				*s = ajson_str(cu->v, strlen(cu->v));
			}
			for (z = 0; z < nv && z < m->n; z++) {
				void **s = gmap_slot(&rowm, m->e[mix[z]].key, m->e[mix[z]].hash, NULL);
				if (s == NULL)
					goto row_fail;
				ajson_free(*s);
				*s = ajson_copy(vals[z]);
			}
			if (rowm.n > minsize + (with_cu ? 1 : 0)) {
				size_t *rix = gmap_order(&rowm), q;
				if (rix == NULL || (data = ajson_new(AJ_OBJ)) == NULL) {
					free(rix);
					goto row_fail;
				}
				for (q = 0; q < rowm.n; q++)
					if (ajson_append(data, rowm.e[rix[q]].key, strlen(rowm.e[rix[q]].key),
					    ajson_copy(rowm.e[rix[q]].val)) == -1) {
						free(rix);
						goto row_fail;
					}
				free(rix);
				if ((ent = ajson_new(AJ_OBJ)) == NULL ||
				    ajson_set(ent, "schema", 6, ajson_str(schema, strlen(schema))) == -1 ||
				    ajson_set(ent, "data", 4, data) == -1 || ajson_push(ctxs, ent) == -1) {
					data = NULL;
					goto row_fail;
				}
				data = NULL;
			}
			gmap_free(&rowm, ajson_free_v);
			free(vals);
			continue;
row_fail:
			ajson_free(data);
			gmap_free(&rowm, ajson_free_v);
			free(vals);
			free(mix);
			goto done;
		}
		free(mix);
	}
	rc = 0;
done:
	free(comp);
	free(bds);
	free(gix);
	free(tix);
	gmap_free(&grouped, glist_free);
	gmap_free(&translated, gmap_free_seqmap);
	return rc;
}

/* ---- one hit ---- */

static void
gmap_free_gvals(void *p)
{
	struct gmap *m = p;

	if (m) {
		gmap_free(m, gval_free);
		free(m);
	}
}

static int
fail_push(json_t **fails, json_t *m)
{
	if (m == NULL)
		return -1;
	if (*fails == NULL && (*fails = json_array()) == NULL) {
		json_decref(m);
		return -1;
	}
	return json_array_append_new(*fails, m);
}

/* The direct mappings of a hit type (directMappings). */
static const char *
direct_name(const char *mp, const char *hit)
{
	static const struct { const char *mp, *tp; } dm[] = {
		{ "uip", "ip" }, { "dr", "refr" }, { "de", "cs" }, { "sd", "cd" }, { "ul", "lang" },
		{ "je", "f_java" }, { "dl", "url" }, { "dt", "page" }, { "ta", "tr_af" },
		{ "tr", "tr_tt" }, { "ts", "tr_sh" }, { "tt", "tr_tx" }, { "in", "ti_nm" },
		{ "ip", "ti_pr" }, { "iq", "ti_qu" }, { "ic", "ti_sk" }, { "iv", "ti_ca" },
		{ "ua", "ua" },
	};
	size_t i;

	if (strcmp(mp, "ti") == 0)
		return strcmp(hit, "transaction") == 0 ? "tr_id" : "ti_id";
	if (strcmp(mp, "cu") == 0)
		return strcmp(hit, "transaction") == 0 ? "tr_cu" : "ti_cu";
	for (i = 0; i < NELEM(dm); i++)
		if (strcmp(dm[i].mp, mp) == 0)
			return dm[i].tp;
	return NULL;
}

static int
ga_hit(struct adapt_out *out, const char *line, size_t len, struct adapt_out *fails)
{
	struct adapt_type hit_types[NELEM(ga_hits)];
	struct smap params, mappings;
	struct smap_ent *t;
	struct gmap contexts = { 0 }, data = { 0 };
	const struct ga_data *hd = NULL;
	struct ajson *ctxs = NULL, *ue = NULL;
	struct adapt_out tmp;
	size_t *pix = NULL, i, k;
	const char *schema;
	char err[512];
	int rc;

	smap_init(&params);
	smap_init(&mappings);
	adapt_out_init(&tmp);
	rc = adapt_form_parse(line, len, &params, err, sizeof(err));
	if (rc == -1) {
		rc = adapt_fail_input_n(fails, "body", 4, line, len, err);
		goto done;
	}
	if (rc < 0)
		goto done;
	if (params.n > GA_MAX_PARAMS) {
		snprintf(err, sizeof(err), "more than %d parameters in one hit", GA_MAX_PARAMS);
		rc = adapt_fail_input_n(fails, "body", 4, line, len, err);
		goto done;
	}
	t = smap_get(&params, "t");
	if (t == NULL || t->v == NULL) {
		rc = adapt_fail_input_n(fails, "body", 4, line, len,
		    "no t parameter provided: cannot determine hit type");
		goto done;
	}
	rc = -1;
	if ((pix = smap_order(&params)) == NULL)
		goto done;
	/* mappings: params folded through directMappings (None values included) */
	for (i = 0; i < params.n; i++) {
		const struct smap_ent *en = &params.e[pix[i]];
		const char *tp = direct_name(en->k, t->v);
		if (tp && strlen(en->k) == en->klen && smap_put(&mappings, tp, en->v) == -1)
			goto done;
	}
	/* translationTable and schema: both failures are reported */
	for (i = 0; i < NELEM(ga_hits); i++) {
		hit_types[i].type = ga_hits[i].hit;
		hit_types[i].schema = ga_hits[i].d.schema;
		if (strcmp(ga_hits[i].hit, t->v) == 0)
			hd = &ga_hits[i].d;
	}
	if (hd == NULL && adapt_fail_input(&tmp, "t", t->v, "no matching hit type") == -1)
		goto done;
	schema = adapt_lookup_schema(&tmp, t->v, hit_types, NELEM(hit_types), -1);
	/* simple contexts: Map[schema, Map[name, value]] in params order */
	for (i = 0; i < params.n; i++) {
		const struct smap_ent *en = &params.e[pix[i]];
		const struct ga_tr *tr = NULL;
		size_t d;
		struct gmap **m;
		void **slot;
		if (en->v == NULL || strlen(en->k) != en->klen)
			continue;
		for (d = 0; d < NELEM(ga_contexts) && tr == NULL; d++)
			tr = find_tr(ga_contexts[d].tr, ga_contexts[d].n, en->k);
		if (tr == NULL)
			continue;
		d--;
		m = (struct gmap **)gmap_slot(&contexts, ga_contexts[d].schema,
		    schema_hash(ga_contexts[d].schema), NULL);
		if (m == NULL || (*m == NULL && (*m = calloc(1, sizeof(**m))) == NULL))
			goto done;
		if ((slot = gmap_slot(*m, tr->name, str_hash(tr->name), NULL)) == NULL)
			goto done;
		gval_free(*slot);
		if ((*slot = translate(tr, en->v)) == NULL)
			goto done;
	}
	{
		size_t *cix = gmap_order(&contexts);
		if (cix == NULL)
			goto done;
		for (i = 0; i < contexts.n; i++) {              /* every failure, in map order */
			const struct gmap *m = contexts.e[cix[i]].val;
			size_t *mix = gmap_order(m);
			if (mix == NULL) {
				free(cix);
				goto done;
			}
			for (k = 0; k < m->n; k++) {
				const struct gval *g = m->e[mix[k]].val;
				if (g->fail && fail_push(&tmp.fail, json_incref(g->fail)) == -1) {
					free(mix);
					free(cix);
					goto done;
				}
			}
			free(mix);
		}
		/* the contexts JSON: simple ones (minus the page view of a page view hit), then the
		 * composite ones */
		if ((ctxs = ajson_new(AJ_ARR)) == NULL) {
			free(cix);
			goto done;
		}
		for (i = 0; i < contexts.n && !tmp.fail; i++) {
			const char *cs = contexts.e[cix[i]].key;
			struct ajson *ent, *d;
			if (strcmp(t->v, "pageview") == 0 && strcmp(cs, ga_hits[0].d.schema) == 0)
				continue;
			if ((d = gvals_json(contexts.e[cix[i]].val)) == NULL ||
			    (ent = ajson_new(AJ_OBJ)) == NULL) {
				ajson_free(d);
				free(cix);
				goto done;
			}
			if (ajson_set(ent, "schema", 6, ajson_str(cs, strlen(cs))) == -1 ||
			    ajson_set(ent, "data", 4, d) == -1 || ajson_push(ctxs, ent) == -1) {
				free(cix);
				goto done;
			}
		}
		free(cix);
	}
	if (composite_contexts(&params, pix, ctxs, &tmp) == -1)
		goto done;
	if (tmp.fail) {
		/* translationTable, schema, contexts, composite: accumulated in that order */
		for (i = 0; i < json_array_size(tmp.fail); i++)
			if (fail_push(&fails->fail, json_incref(json_array_get(tmp.fail, i))) == -1)
				goto done;
		rc = 0;
		goto done;
	}
	/* the event's own fields: the first failure, in map order */
	for (i = 0; i < params.n; i++) {
		const struct smap_ent *en = &params.e[pix[i]];
		const struct ga_tr *tr;
		void **slot;
		if (en->v == NULL || strlen(en->k) != en->klen ||
		    (tr = find_tr(hd->tr, hd->n, en->k)) == NULL)
			continue;
		if ((slot = gmap_slot(&data, tr->name, str_hash(tr->name), NULL)) == NULL)
			goto done;
		gval_free(*slot);
		if ((*slot = translate(tr, en->v)) == NULL)
			goto done;
	}
	{
		size_t *dix = gmap_order(&data);
		if (dix == NULL)
			goto done;
		for (i = 0; i < data.n; i++) {
			const struct gval *g = data.e[dix[i]].val;
			if (g->fail) {
				rc = fail_push(&fails->fail, json_incref(g->fail));
				free(dix);
				goto done;
			}
		}
		free(dix);
	}
	if ((ue = gvals_json(&data)) == NULL)
		goto done;
	{
		/* result._3 ++ mappings ++ Map(e, ue_pr, tv, p) */
		struct adapt_event *ev;
		struct smap ps;
		struct buf b;
		buf_init(&b, 0);
		smap_init(&ps);
		rc = 0;
		if (ctxs->n > 0) {
			buf_append_str(&b, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/"
			    "jsonschema/1-0-1\",\"data\":");
			rc |= ajson_print(ctxs, &b);
			rc |= buf_append_byte(&b, '}');
			rc |= smap_putn(&ps, "co", 2, b.data, b.len);
		}
		rc |= smap_add_all(&ps, &mappings, NULL, NULL);
		/* ue_pr: the event wrapped as adapt_unstruct does, then the fixed parameters */
		if (rc == 0 && (ev = adapt_unstruct(out, GA_TV, NULL, schema, ue, "srv")) != NULL) {
			struct smap fixed = ev->params;
			struct smap_ent *pr = smap_get(&fixed, "ue_pr");
			rc |= smap_put(&ps, "e", "ue");
			rc |= smap_put(&ps, "ue_pr", pr->v);
			rc |= smap_put(&ps, "tv", GA_TV);
			rc |= smap_put(&ps, "p", "srv");
			smap_free(&fixed);
			ev->params = ps;
			smap_init(&ps);
		} else {
			rc = -1;
		}
		smap_free(&ps);
		buf_free(&b);
	}
done:
	ajson_free(ue);
	ajson_free(ctxs);
	free(pix);
	adapt_out_free(&tmp);
	gmap_free(&contexts, gmap_free_gvals);
	gmap_free(&data, gval_free);
	smap_free(&params);
	smap_free(&mappings);
	return rc;
}

int
adapt_ga_run(const struct adapt_req *req, struct adapt_out *out)
{
	struct adapt_out fails;
	size_t st = 0, i;
	int rc = 0, any = 0;

	/* body.linesIterator: lines end at LF or FF; a CR before the LF goes too. Every hit's
	 * failures are reported (rawEvents.sequence accumulates them) */
	adapt_out_init(&fails);
	for (i = 0; req->body && i < req->body_len && rc == 0; i = st) {
		size_t e = i, l;
		while (e < req->body_len && req->body[e] != '\n' && req->body[e] != '\f')
			e++;
		l = e - i;
		if (e < req->body_len && req->body[e] == '\n' && l > 0 && req->body[e - 1] == '\r')
			l--;
		st = e + 1;
		any = 1;
		rc = ga_hit(out, req->body + i, l, &fails);
	}
	if (rc == 0 && !any)
		rc = adapt_fail_input(out, "body", NULL, "empty body");
	if (rc == 0 && fails.fail) {
		adapt_events_clear(out);
		json_decref(out->fail);
		out->fail = json_incref(fails.fail);
	}
	adapt_out_free(&fails);
	return rc;
}
