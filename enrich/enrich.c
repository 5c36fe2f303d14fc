/*
 * enrich: raw line -> collector payload -> adapter -> events -> TSV or bad rows (see enrich.h).
 *
 * The stages of one line follow upstream enrich (enriched-event.md §12.4, tracker-protocol.md
 * §1, §3, §6, §7; enriched-event.md §5-§9, §11, §14):
 *   1. base64 (lenient) and Thrift decoding, payload checks -> collector_payload_format_violation
 *   2. path -> adapter (tp1, tp2, redirect) -> adapter_failures / tracker_protocol_violations
 *   3. per event: parameter map, contexts and unstruct validation  -> schema_violations (phase 1)
 *   4. derived columns and enrichments                              -> enrichment_failures (2)
 *   5. derived contexts and field lengths                           -> schema_violations (3)
 * Each failed event becomes exactly one bad row (§14.4).
 */
#include "enrich.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrow.h"
#include "base64.h"
#include "conv.h"
#include "enrich_event.h"
#include "enrichments.h"
#include "event.h"
#include "fnv.h"
#include "iglu.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "pct.h"
#include "thrift.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"
#include "version.h"

#define V_ETL "furrow-enrich-" FURROW_VERSION

#define SNOWPLOW_VENDOR   "com.snowplowanalytics.snowplow"
#define CRIT_PAYLOAD_DATA "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*"
#define CRIT_CONTEXTS     "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*"
#define CRIT_UNSTRUCT     "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*"
#define CRIT_THRIFT       "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-*"
#define ATOMIC_SCHEMA     "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"
#define CONTEXTS_OUT      "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
#define UNSTRUCT_OUT      "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
#define URI_REDIRECT      "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
#define CONTEXTS_100      "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
#define VALIDATION_INFO   "iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0"

/* ---- the parameter map (tracker-protocol.md §3.2, ENRICH Transform.scala) ---- */

enum conv_kind { CV_S, CV_I, CV_D, CV_B, CV_TS, CV_UUID, CV_SPECIAL };

enum pkey {
	PK_E, PK_IP, PK_AID, PK_P, PK_TID, PK_UID, PK_DUID, PK_NUID, PK_UA, PK_FP, PK_VID, PK_SID,
	PK_DTM, PK_TTM, PK_STM, PK_TNA, PK_TV, PK_CV, PK_LANG, PK_F_PDF, PK_F_FLA, PK_F_JAVA,
	PK_F_DIR, PK_F_QT, PK_F_REALP, PK_F_WMA, PK_F_GEARS, PK_F_AG, PK_COOKIE, PK_RES, PK_CD,
	PK_TZ, PK_REFR, PK_URL, PK_PAGE, PK_CS, PK_DS, PK_VP, PK_EID, PK_CO, PK_CX, PK_SE_CA,
	PK_SE_AC, PK_SE_LA, PK_SE_PR, PK_SE_VA, PK_EV_CA, PK_EV_AC, PK_EV_LA, PK_EV_PR, PK_EV_VA,
	PK_UE_PR, PK_UE_PX, PK_TR_ID, PK_TR_AF, PK_TR_TT, PK_TR_TX, PK_TR_SH, PK_TR_CI, PK_TR_ST,
	PK_TR_CO, PK_TI_ID, PK_TI_SK, PK_TI_NM, PK_TI_NA, PK_TI_CA, PK_TI_PR, PK_TI_QU, PK_PP_MIX,
	PK_PP_MAX, PK_PP_MIY, PK_PP_MAY, PK_TR_CU, PK_TI_CU, PK_TNUID, PK_N
};

struct pmap {
	const char *name;
	enum conv_kind kind;
	int col;          /* target column; -1 for special handling */
	int pref;         /* a slot that wins over this one (plain form over legacy), or -1 */
};

static const struct pmap PMAP[PK_N] = {
	[PK_E]       = { "e", CV_SPECIAL, COL_EVENT, -1 },
	[PK_IP]      = { "ip", CV_SPECIAL, COL_USER_IPADDRESS, -1 },
	[PK_AID]     = { "aid", CV_S, COL_APP_ID, -1 },
	[PK_P]       = { "p", CV_SPECIAL, COL_PLATFORM, -1 },
	[PK_TID]     = { "tid", CV_I, COL_TXN_ID, -1 },
	[PK_UID]     = { "uid", CV_S, COL_USER_ID, -1 },
	[PK_DUID]    = { "duid", CV_S, COL_DOMAIN_USERID, -1 },
	[PK_NUID]    = { "nuid", CV_S, COL_NETWORK_USERID, -1 },
	[PK_UA]      = { "ua", CV_S, COL_USERAGENT, -1 },
	[PK_FP]      = { "fp", CV_S, COL_USER_FINGERPRINT, -1 },
	[PK_VID]     = { "vid", CV_I, COL_DOMAIN_SESSIONIDX, -1 },
	[PK_SID]     = { "sid", CV_UUID, COL_DOMAIN_SESSIONID, -1 },
	[PK_DTM]     = { "dtm", CV_TS, COL_DVCE_CREATED_TSTAMP, -1 },
	[PK_TTM]     = { "ttm", CV_TS, COL_TRUE_TSTAMP, -1 },
	[PK_STM]     = { "stm", CV_TS, COL_DVCE_SENT_TSTAMP, -1 },
	[PK_TNA]     = { "tna", CV_S, COL_NAME_TRACKER, -1 },
	[PK_TV]      = { "tv", CV_S, COL_V_TRACKER, -1 },
	[PK_CV]      = { "cv", CV_S, COL_V_COLLECTOR, -1 },
	[PK_LANG]    = { "lang", CV_S, COL_BR_LANG, -1 },
	[PK_F_PDF]   = { "f_pdf", CV_B, COL_BR_FEATURES_PDF, -1 },
	[PK_F_FLA]   = { "f_fla", CV_B, COL_BR_FEATURES_FLASH, -1 },
	[PK_F_JAVA]  = { "f_java", CV_B, COL_BR_FEATURES_JAVA, -1 },
	[PK_F_DIR]   = { "f_dir", CV_B, COL_BR_FEATURES_DIRECTOR, -1 },
	[PK_F_QT]    = { "f_qt", CV_B, COL_BR_FEATURES_QUICKTIME, -1 },
	[PK_F_REALP] = { "f_realp", CV_B, COL_BR_FEATURES_REALPLAYER, -1 },
	[PK_F_WMA]   = { "f_wma", CV_B, COL_BR_FEATURES_WINDOWSMEDIA, -1 },
	[PK_F_GEARS] = { "f_gears", CV_B, COL_BR_FEATURES_GEARS, -1 },
	[PK_F_AG]    = { "f_ag", CV_B, COL_BR_FEATURES_SILVERLIGHT, -1 },
	[PK_COOKIE]  = { "cookie", CV_B, COL_BR_COOKIES, -1 },
	[PK_RES]     = { "res", CV_SPECIAL, COL_DVCE_SCREENWIDTH, -1 },
	[PK_CD]      = { "cd", CV_S, COL_BR_COLORDEPTH, -1 },
	[PK_TZ]      = { "tz", CV_S, COL_OS_TIMEZONE, -1 },
	[PK_REFR]    = { "refr", CV_S, COL_PAGE_REFERRER, -1 },
	[PK_URL]     = { "url", CV_S, COL_PAGE_URL, -1 },
	[PK_PAGE]    = { "page", CV_S, COL_PAGE_TITLE, -1 },
	[PK_CS]      = { "cs", CV_S, COL_DOC_CHARSET, -1 },
	[PK_DS]      = { "ds", CV_SPECIAL, COL_DOC_WIDTH, -1 },
	[PK_VP]      = { "vp", CV_SPECIAL, COL_BR_VIEWWIDTH, -1 },
	[PK_EID]     = { "eid", CV_UUID, COL_EVENT_ID, -1 },
	[PK_CO]      = { "co", CV_SPECIAL, COL_CONTEXTS, -1 },
	[PK_CX]      = { "cx", CV_SPECIAL, COL_CONTEXTS, PK_CO },
	[PK_SE_CA]   = { "se_ca", CV_S, COL_SE_CATEGORY, -1 },
	[PK_SE_AC]   = { "se_ac", CV_S, COL_SE_ACTION, -1 },
	[PK_SE_LA]   = { "se_la", CV_S, COL_SE_LABEL, -1 },
	[PK_SE_PR]   = { "se_pr", CV_S, COL_SE_PROPERTY, -1 },
	[PK_SE_VA]   = { "se_va", CV_D, COL_SE_VALUE, -1 },
	[PK_EV_CA]   = { "ev_ca", CV_S, COL_SE_CATEGORY, PK_SE_CA },
	[PK_EV_AC]   = { "ev_ac", CV_S, COL_SE_ACTION, PK_SE_AC },
	[PK_EV_LA]   = { "ev_la", CV_S, COL_SE_LABEL, PK_SE_LA },
	[PK_EV_PR]   = { "ev_pr", CV_S, COL_SE_PROPERTY, PK_SE_PR },
	[PK_EV_VA]   = { "ev_va", CV_D, COL_SE_VALUE, PK_SE_VA },
	[PK_UE_PR]   = { "ue_pr", CV_SPECIAL, COL_UNSTRUCT_EVENT, -1 },
	[PK_UE_PX]   = { "ue_px", CV_SPECIAL, COL_UNSTRUCT_EVENT, PK_UE_PR },
	[PK_TR_ID]   = { "tr_id", CV_S, COL_TR_ORDERID, -1 },
	[PK_TR_AF]   = { "tr_af", CV_S, COL_TR_AFFILIATION, -1 },
	[PK_TR_TT]   = { "tr_tt", CV_D, COL_TR_TOTAL, -1 },
	[PK_TR_TX]   = { "tr_tx", CV_D, COL_TR_TAX, -1 },
	[PK_TR_SH]   = { "tr_sh", CV_D, COL_TR_SHIPPING, -1 },
	[PK_TR_CI]   = { "tr_ci", CV_S, COL_TR_CITY, -1 },
	[PK_TR_ST]   = { "tr_st", CV_S, COL_TR_STATE, -1 },
	[PK_TR_CO]   = { "tr_co", CV_S, COL_TR_COUNTRY, -1 },
	[PK_TI_ID]   = { "ti_id", CV_S, COL_TI_ORDERID, -1 },
	[PK_TI_SK]   = { "ti_sk", CV_S, COL_TI_SKU, -1 },
	[PK_TI_NM]   = { "ti_nm", CV_S, COL_TI_NAME, -1 },
	[PK_TI_NA]   = { "ti_na", CV_S, COL_TI_NAME, PK_TI_NM },
	[PK_TI_CA]   = { "ti_ca", CV_S, COL_TI_CATEGORY, -1 },
	[PK_TI_PR]   = { "ti_pr", CV_D, COL_TI_PRICE, -1 },
	[PK_TI_QU]   = { "ti_qu", CV_I, COL_TI_QUANTITY, -1 },
	[PK_PP_MIX]  = { "pp_mix", CV_I, COL_PP_XOFFSET_MIN, -1 },
	[PK_PP_MAX]  = { "pp_max", CV_I, COL_PP_XOFFSET_MAX, -1 },
	[PK_PP_MIY]  = { "pp_miy", CV_I, COL_PP_YOFFSET_MIN, -1 },
	[PK_PP_MAY]  = { "pp_may", CV_I, COL_PP_YOFFSET_MAX, -1 },
	[PK_TR_CU]   = { "tr_cu", CV_S, COL_TR_CURRENCY, -1 },
	[PK_TI_CU]   = { "ti_cu", CV_S, COL_TI_CURRENCY, -1 },
	[PK_TNUID]   = { "tnuid", CV_S, COL_NETWORK_USERID, -1 },
};

/* Names sorted for bsearch, built once. */
static int pmap_sorted[PK_N];
static int pmap_ready;

static int
pmap_cmp(const void *a, const void *b)
{
	return strcmp(PMAP[*(const int *)a].name, PMAP[*(const int *)b].name);
}

static void
pmap_init(void)
{
	int i;

	if (pmap_ready)
		return;
	for (i = 0; i < PK_N; i++)
		pmap_sorted[i] = i;
	qsort(pmap_sorted, PK_N, sizeof(int), pmap_cmp);
	pmap_ready = 1;
}

static int
pmap_find(const char *name)
{
	int lo = 0, hi = PK_N - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2, c = strcmp(name, PMAP[pmap_sorted[mid]].name);
		if (c == 0)
			return pmap_sorted[mid];
		if (c < 0)
			hi = mid - 1;
		else
			lo = mid + 1;
	}
	return -1;
}

/* The criteria enrich itself checks, parsed once (enrich_new). */
enum { CRIT_I_PAYLOAD_DATA, CRIT_I_CONTEXTS, CRIT_I_UNSTRUCT, CRIT_I_THRIFT, CRIT_I_N };
static const char *const crit_text[CRIT_I_N] = {
	[CRIT_I_PAYLOAD_DATA] = CRIT_PAYLOAD_DATA, [CRIT_I_CONTEXTS] = CRIT_CONTEXTS,
	[CRIT_I_UNSTRUCT] = CRIT_UNSTRUCT, [CRIT_I_THRIFT] = CRIT_THRIFT,
};
static struct iglu_criterion crit[CRIT_I_N];

static int
crit_init(void)
{
	int i;

	for (i = 0; i < CRIT_I_N; i++)
		if (iglu_criterion_parse(crit_text[i], &crit[i]) < 0)
			return -1;
	return 0;
}

/* ---- per-line state ---- */

/* A bump allocator for decoded strings, reset per line. */
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

struct arena {
	struct arena_block *head;
};

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + 7) & ~(size_t)7;

	if (b == NULL || b->size - b->used < need) {
		size_t sz = need > 65536 ? need : 65536;
		b = malloc(sizeof(*b) + sz);
		if (b == NULL)
			return NULL;
		b->size = sz;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	b->used += need;
	return b->data + b->used - need;
}

static char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

static void
arena_reset(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	if (b == NULL)
		return;
	for (next = b->next; next; next = b) {
		b = next->next;
		free(next);
		if (b == NULL)
			break;
	}
	a->head->next = NULL;
	a->head->used = 0;
}

static void
arena_free(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}

/*
 * A list of parameters (name, value or NULL), in arrival order. Deduplicating puts replace the
 * value of the first entry with the same name. Past PLIST_HASH_MIN entries, names are found
 * through a hash of first occurrences (linear probing, slots stamped with a generation so that
 * a reset costs nothing), so a query string with 80,000 parameters is linear, not quadratic.
 */
#define PLIST_HASH_MIN 16

struct plist_slot {
	uint32_t gen;
	uint32_t idx;
};

struct plist {
	struct raw_param *p;
	size_t n, cap;
	struct plist_slot *slot;   /* nslot (a power of two) slots, or NULL */
	size_t nslot, hashed;      /* entries [0, hashed) are in the table */
	uint32_t gen;              /* a slot is in use when its gen equals this */
};

static void
plist_reset(struct plist *l)
{
	l->n = 0;
	l->hashed = 0;
	if (++l->gen == 0) {       /* wrapped: old stamps could look current */
		if (l->slot)
			memset(l->slot, 0, l->nslot * sizeof(*l->slot));
		l->gen = 1;
	}
}

/* Bring the table up to date with entries [hashed, n); -1 when it cannot grow. */
static int
plist_index(struct plist *l)
{
	size_t i, k;

	if (l->slot == NULL || l->nslot < 2 * l->n) {
		size_t ns = l->nslot ? l->nslot : 64;
		struct plist_slot *t;

		while (ns < 4 * l->n)
			ns *= 2;
		if (l->n > UINT32_MAX || (t = calloc(ns, sizeof(*t))) == NULL)
			return -1;
		free(l->slot);
		l->slot = t;
		l->nslot = ns;
		l->gen = 1;
		l->hashed = 0;
	}
	for (i = l->hashed; i < l->n; i++) {
		for (k = (size_t)fnv_str(l->p[i].name) & (l->nslot - 1); l->slot[k].gen == l->gen;
		    k = (k + 1) & (l->nslot - 1))
			if (strcmp(l->p[l->slot[k].idx].name, l->p[i].name) == 0)
				break;             /* keep the first occurrence */
		if (l->slot[k].gen != l->gen) {
			l->slot[k].gen = l->gen;
			l->slot[k].idx = (uint32_t)i;
		}
	}
	l->hashed = l->n;
	return 0;
}

/* The first entry named name, or -1. */
static long
plist_find(struct plist *l, const char *name)
{
	size_t i, k;

	if (l->n < PLIST_HASH_MIN || plist_index(l) == -1) {
		for (i = 0; i < l->n; i++)
			if (strcmp(l->p[i].name, name) == 0)
				return (long)i;
		return -1;
	}
	for (k = (size_t)fnv_str(name) & (l->nslot - 1); l->slot[k].gen == l->gen;
	    k = (k + 1) & (l->nslot - 1))
		if (strcmp(l->p[l->slot[k].idx].name, name) == 0)
			return (long)l->slot[k].idx;
	return -1;
}

static int
plist_put(struct plist *l, char *name, char *value, int dedup)
{
	long at;

	if (dedup && (at = plist_find(l, name)) >= 0) {
		l->p[at].value = value;
		return 0;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct raw_param *np = realloc(l->p, nc * sizeof(*np));
		if (np == NULL)
			return -1;
		l->p = np;
		l->cap = nc;
	}
	l->p[l->n].name = name;
	l->p[l->n].value = value;
	l->n++;
	return 0;
}

static void
plist_free(struct plist *l)
{
	free(l->p);
	free(l->slot);
}

/*
 * Phase-3 cache of derived-context entities that passed validation, with their JSON text.
 * Enrichments hand out shared, never-modified entities for repeated inputs (ua_parser's context
 * for the same user agent is the same json_t every time; PII copies an entity before changing
 * it), so an entity pointer seen again is the same content: validation is a pure function of
 * schema and instance, and the serialised text does not change. The cache holds a reference, so
 * a cached pointer cannot be freed and reused for another entity. Direct-mapped by pointer.
 */
#define DCACHE_SLOTS   256
#define DCACHE_MAXTEXT 8192

struct dcache_slot {
	json_t *ent;
	char   *text;
	size_t  len;
};

struct enrich {
	struct iglu_resolver *resolver;
	struct dcache_slot dcache[DCACHE_SLOTS];
	struct enrichments *enrichments;
	int64_t fixed_ms;
	struct enrich_counts counts;

	/* reused between lines */
	struct buf raw;                 /* decoded Thrift bytes */
	struct buf tmp, tmp2, norm;     /* scratch */
	struct buf col;                 /* column assembly */
	struct thrift_payload tp;
	struct arena arena;
	struct plist qs;                /* query string pairs, null values kept */
	struct plist evp;               /* one event's parameters */

	/* the current payload */
	int64_t etl_ms;
	char etl_ts[TIMEFMT_BUFSZ];
	char fail_ts[TIMEFMT_BUFSZ];
	const char *vendor, *version;
	char ip[256];
	size_t ip_len;
};

struct enrich *
enrich_new(struct iglu_resolver *resolver, struct enrichments *enrichments)
{
	struct enrich *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	pmap_init();
	if (crit_init() < 0) {
		free(e);
		return NULL;
	}
	e->resolver = resolver;
	e->enrichments = enrichments;
	buf_init(&e->raw, 0);
	buf_init(&e->tmp, 0);
	buf_init(&e->tmp2, 0);
	buf_init(&e->norm, 0);
	buf_init(&e->col, 0);
	thrift_payload_init(&e->tp);
	return e;
}

void
enrich_free(struct enrich *e)
{
	size_t i;

	if (e == NULL)
		return;
	buf_free(&e->raw);
	buf_free(&e->tmp);
	buf_free(&e->tmp2);
	buf_free(&e->norm);
	buf_free(&e->col);
	for (i = 0; i < DCACHE_SLOTS; i++) {
		json_decref(e->dcache[i].ent);
		free(e->dcache[i].text);
	}
	thrift_payload_free(&e->tp);
	arena_free(&e->arena);
	plist_free(&e->qs);
	plist_free(&e->evp);
	free(e);
}

void
enrich_set_clock(struct enrich *e, int64_t fixed_ms)
{
	e->fixed_ms = fixed_ms;
}

const struct enrich_counts *
enrich_counts(const struct enrich *e)
{
	return &e->counts;
}

/* ---- JSON helpers ---- */

static json_t *
jstr(const char *s)
{
	return s ? jsonw_string_new(s, strlen(s)) : json_null();
}

static json_t *
jstrn(const char *s, size_t n)
{
	return s ? jsonw_string_new(s, n) : json_null();
}

/* A JSON string of s[0..n) cut to at most max characters (code points), so that bad rows
 * respect their schemas' maxLength (enriched-event.md §14.5). */
static json_t *
jstrmax(const char *s, size_t n, size_t max)
{
	return s ? jsonw_string_new(s, utf8_cut(s, n, max)) : json_null();
}

static json_t *
jtmax(const struct tstr *t, size_t max)
{
	return jstrmax(t->s, t->len, max);
}

static json_t *
jtstr(const struct tstr *t)
{
	return t->s ? jsonw_string_new(t->s, t->len) : json_null();
}

/* ---- payload objects (enriched-event.md §14.5) ---- */

/* The network user id as upstream prints its java.util.UUID: lower case. */
static json_t *
jnuid(const struct tstr *t)
{
	char u[UUID_STR_LEN + 1];

	if (t->s && conv_uuid(t->s, u) == 0)
		return json_string(u);
	return jtstr(t);
}

static json_t *
headers_json(const struct thrift_payload *tp)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < tp->n_headers; i++)
		json_array_append_new(a, jsonw_string_new(tp->headers[i].s, tp->headers[i].len));
	return a;
}

static json_t *
collector_payload_json(struct enrich *e)
{
	const struct thrift_payload *tp = &e->tp;
	json_t *o = json_object(), *qs = json_array(), *h = json_array();
	char ts[TIMEFMT_BUFSZ];
	size_t i;

	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name, *v = e->qs.p[i].value;
		json_array_append_new(qs, json_pack("{s:o,s:o}", "name", jstrmax(n, strlen(n), 512),
		    "value", v ? jstrmax(v, strlen(v), 512) : json_null()));
	}
	for (i = 0; i < tp->n_headers; i++)
		json_array_append_new(h, jtmax(&tp->headers[i], 8192));
	timefmt_joda(tp->timestamp, ts);
	json_object_set_new(o, "vendor", e->vendor ? jstrmax(e->vendor, strlen(e->vendor), 64) :
	    json_null());
	json_object_set_new(o, "version", e->version ? jstrmax(e->version, strlen(e->version), 16) :
	    json_null());
	json_object_set_new(o, "querystring", qs);
	json_object_set_new(o, "contentType", jtmax(&tp->content_type, 256));
	json_object_set_new(o, "body", jtstr(&tp->body));
	json_object_set_new(o, "collector", jtmax(&tp->collector, 32));
	json_object_set_new(o, "encoding", jtstr(&tp->encoding));
	json_object_set_new(o, "hostname", jtstr(&tp->hostname));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "ipAddress", e->ip_len ? jstrmax(e->ip, e->ip_len, 128) :
	    json_null());
	json_object_set_new(o, "useragent", jtmax(&tp->user_agent, 4096));
	json_object_set_new(o, "refererUri", jtstr(&tp->referer_uri));
	json_object_set_new(o, "headers", h);
	json_object_set_new(o, "networkUserId", jnuid(&tp->network_user_id));
	return o;
}

static json_t *
raw_event_json(struct enrich *e, const struct plist *params)
{
	const struct thrift_payload *tp = &e->tp;
	json_t *o = json_object(), *ps = json_array();
	char ts[TIMEFMT_BUFSZ];
	size_t i;

	for (i = 0; i < params->n; i++)
		json_array_append_new(ps, json_pack("{s:o,s:o}", "name", jstr(params->p[i].name),
		    "value", jstr(params->p[i].value)));
	timefmt_joda(tp->timestamp, ts);
	json_object_set_new(o, "vendor", jstr(e->vendor));
	json_object_set_new(o, "version", jstr(e->version));
	json_object_set_new(o, "parameters", ps);
	json_object_set_new(o, "contentType", jtstr(&tp->content_type));
	json_object_set_new(o, "loaderName", jtstr(&tp->collector));
	json_object_set_new(o, "encoding", jtstr(&tp->encoding));
	json_object_set_new(o, "hostname", jtstr(&tp->hostname));
	json_object_set_new(o, "timestamp", json_string(ts));
	json_object_set_new(o, "ipAddress", e->ip_len ? jstrn(e->ip, e->ip_len) : json_null());
	json_object_set_new(o, "useragent", jtstr(&tp->user_agent));
	json_object_set_new(o, "refererUri", jtstr(&tp->referer_uri));
	json_object_set_new(o, "headers", headers_json(tp));
	json_object_set_new(o, "userId", jnuid(&tp->network_user_id));
	return o;
}

static json_t *
partial_event_json(const struct enrich_event *ev)
{
	json_t *o = json_object();
	int i;

	for (i = 0; i < EVENT_NCOLS; i++) {
		const char *v = ev->col[i];
		json_t *jv;
		if (v == NULL) {
			jv = i == COL_USERAGENT && ev->useragent_empty ? json_string("") : json_null();
		} else if (event_cols[i].type == EVT_INT || event_cols[i].type == EVT_BOOL) {
			jv = json_integer(strtoll(v, NULL, 10));   /* txn_id included: an Int */
		} else if (event_cols[i].type == EVT_FLOAT) {
			jv = json_real(strtod(v, NULL));
		} else {
			jv = jstr(v);
		}
		json_object_set_new(o, event_cols[i].name, jv);
	}
	return o;
}

/* ---- bad rows ---- */

/* The failure timestamp (Instant form), made only when a bad row needs it. */
static const char *
fail_ts(struct enrich *e)
{
	if (e->fail_ts[0] == '\0')
		timefmt_instant(e->etl_ms, e->fail_ts);
	return e->fail_ts;
}

static int
emit_row(struct enrich *e, json_t *row, struct buf *bad)
{
	int rc;

	if (row == NULL)
		return -1;
	rc = badrow_write(row, bad);
	json_decref(row);
	if (rc == 0)
		e->counts.bad++;
	return rc;
}

static int
emit_cpfv(struct enrich *e, json_t *message, const uint8_t *raw, size_t rawlen, struct buf *bad)
{
	char *b64 = malloc(base64_encoded_len(rawlen) + 1);
	json_t *failure, *payload;

	if (b64 == NULL) {
		json_decref(message);
		return -1;
	}
	base64_encode(raw, rawlen, b64);
	payload = json_string(b64);
	free(b64);
	failure = json_pack("{s:s,s:s,s:o}", "timestamp", fail_ts(e), "loader", "thrift",
	    "message", message);
	return emit_row(e, badrow_new(BADROW_CPFV, ENRICH_ARTIFACT, failure, payload), bad);
}

static json_t *
msg_fallback(const char *text)
{
	return json_pack("{s:o}", "error", jstr(text));
}

static json_t *
msg_cp_input(const char *field, json_t *value, const char *expectation)
{
	return json_pack("{s:o,s:o,s:o}", "payloadField", jstrmax(field, strlen(field), 64),
	    "value", value ? value : json_null(),
	    "expectation", jstrmax(expectation, strlen(expectation), 256));
}

static json_t *
msg_input(const char *field, json_t *value, const char *expectation)
{
	return json_pack("{s:o,s:o,s:o}", "field", jstrmax(field, strlen(field), 64),
	    "value", value ? value : json_null(),
	    "expectation", jstrmax(expectation, strlen(expectation), 256));
}

/* adapter_failures / tracker_protocol_violations: one row per payload. */
static int
emit_payload_failure(struct enrich *e, const char *schema, json_t *messages, struct buf *bad)
{
	json_t *failure = json_pack("{s:s,s:o,s:o,s:o}", "timestamp", fail_ts(e),
	    "vendor", jstr(e->vendor), "version", jstr(e->version), "messages", messages);

	return emit_row(e, badrow_new(schema, ENRICH_ARTIFACT, failure, collector_payload_json(e)),
	    bad);
}

/* ---- query strings ---- */

struct qs_ctx {
	struct enrich *e;
	int err;
};

static void
qs_pair_cb(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct qs_ctx *c = arg;
	struct enrich *e = c->e;
	char *name, *value = NULL;

	buf_reset(&e->tmp);
	if (pct_decode(&e->tmp, n, nlen, PCT_PLUS | PCT_UTF8) == -1) {
		c->err = 1;
		return;
	}
	if (e->tmp.len == 0)
		return;                      /* empty names are dropped */
	name = arena_strndup(&e->arena, e->tmp.data, e->tmp.len);
	if (v) {
		buf_reset(&e->tmp);
		if (pct_decode(&e->tmp, v, vlen, PCT_PLUS | PCT_UTF8) == -1) {
			c->err = 1;
			return;
		}
		value = arena_strndup(&e->arena, e->tmp.data ? e->tmp.data : "", e->tmp.len);
	}
	if (name == NULL || (v && value == NULL) || plist_put(&e->qs, name, value, 1) == -1)
		c->err = 1;
}

/* ---- the per-event work ---- */

struct evctx {
	struct enrich *e;
	struct enrich_event ev;
	const char *val[PK_N];
	json_t *atomic;        /* data reports of atomic parse errors */
	json_t *phase1;        /* schema_violations messages */
	json_t *failures;      /* enrichment_failures messages */
	json_t *phase3;
	json_t *ctx_json, *ue_json;
	int64_t dtm, stm, ttm;
	int has_dtm, has_stm, has_ttm;
};

static void
atomic_error(struct evctx *c, const char *param, const char *message)
{
	if (c->atomic == NULL)
		c->atomic = json_array();
	json_array_append_new(c->atomic, json_pack("{s:o,s:s,s:s,s:[]}", "message", jstr(message),
	    "path", param, "keyword", "atomic_field_parse_error", "targets"));
}

static void
enrich_failure(struct evctx *c, json_t *message)
{
	json_array_append_new(c->failures, json_pack("{s:n,s:o}", "enrichment", "message", message));
}

/* Set a column from tracker text with the full TSV cleaning; empty -> NULL. */
static int
set_clean(struct evctx *c, int col, const char *s, size_t len)
{
	struct buf *t = &c->e->col;
	size_t i;

	/* common case: printable ASCII needs neither repair nor cleaning */
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			break;
	if (i == len)
		return enrich_event_set(&c->ev, col, s, len);
	buf_reset(t);
	if (utf8_valid_prefix(s, len) != len) {
		struct buf *r = &c->e->tmp2;
		buf_reset(r);
		if (utf8_repair(s, len, r) == -1)
			return -1;
		s = r->data;
		len = r->len;
	}
	if (conv_tsv_safe(s, len, t) == -1)
		return -1;
	return enrich_event_set(&c->ev, col, t->data, t->len);
}

static void
set_int(struct evctx *c, int col, int64_t v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	enrich_event_set(&c->ev, col, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void
convert_param(struct evctx *c, int k)
{
	const struct pmap *m = &PMAP[k];
	const char *v = c->val[k];
	char tmp[64];
	int32_t i32, h32;
	int64_t ms;
	int rc;

	switch (m->kind) {
	case CV_S:
		set_clean(c, m->col, v, strlen(v));
		return;
	case CV_I:
		rc = conv_int32(v, &i32);
		if (rc == 1)
			set_int(c, m->col, i32);
		else if (rc == -1)
			atomic_error(c, m->name, "Cannot be converted to java.lang.Integer");
		return;
	case CV_D:
		buf_reset(&c->e->col);
		rc = conv_decimal(v, &c->e->col);
		if (rc == 1)
			enrich_event_set(&c->ev, m->col, c->e->col.data, c->e->col.len);
		else if (rc == -1)
			atomic_error(c, m->name, "Cannot be converted to Double-like");
		return;
	case CV_B:
		rc = conv_bool(v);
		if (rc >= 0)
			enrich_event_set_str(&c->ev, m->col, rc ? "1" : "0");
		else
			atomic_error(c, m->name, "Cannot be converted to Boolean-like java.lang.Byte");
		return;
	case CV_TS:
		rc = conv_ts(v, &ms, tmp);
		if (rc == 0) {
			enrich_event_set_str(&c->ev, m->col, tmp);
			if (k == PK_DTM) {
				c->dtm = ms;
				c->has_dtm = 1;
			} else if (k == PK_STM) {
				c->stm = ms;
				c->has_stm = 1;
			} else {
				c->ttm = ms;
				c->has_ttm = 1;
			}
		} else if (rc == -1) {
			atomic_error(c, m->name, "Not in the expected format: ms since epoch");
		} else {
			char msg[128];   /* EventEnrichments.extractTimestamp */
			snprintf(msg, sizeof(msg), "Formatting as %s is not Redshift-compatible", tmp);
			atomic_error(c, m->name, msg);
		}
		return;
	case CV_UUID:
		if (conv_uuid(v, tmp) == 0)
			enrich_event_set_str(&c->ev, m->col, tmp);
		else
			atomic_error(c, m->name, "Not a valid UUID");
		return;
	case CV_SPECIAL:
		break;
	}
	switch (k) {
	case PK_E: {
		static const char *const codes[][2] = { { "pv", "page_view" }, { "pp", "page_ping" },
		    { "se", "struct" }, { "ev", "struct" }, { "ue", "unstruct" },
		    { "tr", "transaction" }, { "ti", "transaction_item" }, { "ad", "ad_impression" } };
		size_t j;
		for (j = 0; j < sizeof(codes) / sizeof(codes[0]); j++)
			if (strcmp(v, codes[j][0]) == 0) {
				enrich_event_set_str(&c->ev, COL_EVENT, codes[j][1]);
				return;
			}
		atomic_error(c, "e", "Not a valid event type");
		return;
	}
	case PK_P:
		if (conv_platform_ok(v))
			enrich_event_set_str(&c->ev, COL_PLATFORM, v);
		else
			atomic_error(c, "p", "Not a valid platform");
		return;
	case PK_IP:
		set_clean(c, COL_USER_IPADDRESS, v, conv_ip_token(v, strlen(v)));
		return;
	case PK_RES:
	case PK_VP:
	case PK_DS:
		rc = conv_wxh(v, &i32, &h32);
		if (rc == 0) {
			set_int(c, m->col, i32);
			set_int(c, m->col + 1, h32);
		} else if (rc == -2) {   /* sic: ClientEnrichments.extractViewDimensions */
			atomic_error(c, m->name, "Could not be converted to java.lang.Integer s");
		} else {
			atomic_error(c, m->name, "Does not conform to regex (\\d+)x(\\d+)");
		}
		return;
	default:
		return;          /* co/cx/ue_* are handled with Iglu (phase 1b) */
	}
}

/* ---- contexts and unstruct (enriched-event.md §8, §14.3 phase 1b) ---- */

struct entity_ctx {
	struct buf *out;
	int first;
	json_t *ents;          /* the parsed entities (array), or one entity */
	size_t index;
};

/* Write one entity from the tracker's text (so that numbers keep their form), with the schema
 * URI from the parsed entity (superseding may have rewritten it). */
static int
entity_out_cb(const char *s, size_t len, void *arg)
{
	struct entity_ctx *x = arg;
	json_t *ent = json_is_array(x->ents) ? json_array_get(x->ents, x->index) : x->ents;
	const char *uri = json_string_value(json_object_get(ent, "schema")), *dv;
	size_t dl;

	x->index++;
	if (uri == NULL || conv_json_get(s, len, "data", &dv, &dl) == -1)
		return -1;
	if (!x->first)
		buf_append_byte(x->out, ',');
	x->first = 0;
	buf_append_str(x->out, "{\"schema\":");
	jsonw_string(x->out, uri, strlen(uri));
	buf_append_str(x->out, ",\"data\":");
	conv_json_compact(dv, dl, x->out);
	return buf_append_byte(x->out, '}');
}

static void
phase1_msg(struct evctx *c, json_t *m)
{
	json_array_append_new(c->phase1, m);
}

static int
check_entity(struct evctx *c, json_t *ent)
{
	struct iglu_key key;
	const char *code = NULL, *uri;
	json_t *schema = json_object_get(ent, "schema"), *data = json_object_get(ent, "data");
	json_t *ce = NULL;
	struct iglu_key used;

	if (!json_is_object(ent) || !json_is_string(schema) || data == NULL) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", ent, "error", "INVALID_DATA_PAYLOAD"));
		return -1;
	}
	uri = json_string_value(schema);
	if (iglu_key_parsen(uri, json_string_length(schema), &key, &code) == -1) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", ent, "error", code ? code : "INVALID_IGLUURI"));
		return -1;
	}
	if (c->e->resolver == NULL)
		return 0;
	if (iglu_validate_superseding(c->e->resolver, &key, data, &ce, &used) == -1) {
		phase1_msg(c, json_pack("{s:s,s:o}", "schemaKey", uri, "error", ce ? ce : json_null()));
		return -1;
	}
	if (used.revision != key.revision || used.addition != key.addition) {
		/* §15.6: the entity now names the superseding version; say so in derived_contexts */
		char newuri[IGLU_URI_MAX], ver[40];
		snprintf(ver, sizeof(ver), "%d-%d-%d", used.model, used.revision, used.addition);
		enrich_event_add_derived(&c->ev, json_pack("{s:s,s:{s:s,s:s}}", "schema",
		    VALIDATION_INFO, "data", "originalSchema", uri, "validatedWith", ver));
		iglu_key_format(&used, newuri, sizeof(newuri));
		json_object_set_new(ent, "schema", json_string(newuri));
	}
	return 0;
}

/* Parse, check and validate co/cx (is_ctx) or ue_pr/ue_px; on success set the column. */
static void
extract_sdj(struct evctx *c, int is_ctx, const char *text, size_t len)
{
	struct enrich *e = c->e;
	const char *field = is_ctx ? "contexts" : "unstruct";
	int ci = is_ctx ? CRIT_I_CONTEXTS : CRIT_I_UNSTRUCT;
	struct iglu_key key;
	json_error_t jerr;
	json_t *j, *schema, *data, *ce = NULL;
	const char *code = NULL, *uri, *dv;
	char msg[300];
	size_t dl, i;
	int bad = 0;

	if (conv_json_depth(text, len, ENRICH_MAX_DEPTH) > ENRICH_MAX_DEPTH) {
		phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value", jstrn(text, len),
		    "error", "invalid json: maximum allowed JSON depth exceeded"));
		return;
	}
	j = jsonschema_json_loadb(text, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "invalid json: %s", jerr.text);
		phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value", jstrn(text, len),
		    "error", msg));
		return;
	}
	schema = json_object_get(j, "schema");
	data = json_object_get(j, "data");
	if (!json_is_object(j) || !json_is_string(schema) || data == NULL) {
		phase1_msg(c, json_pack("{s:o,s:s}", "json", j, "error", "INVALID_DATA_PAYLOAD"));
		return;
	}
	uri = json_string_value(schema);
	if (iglu_key_parsen(uri, json_string_length(schema), &key, &code) == -1) {
		phase1_msg(c, json_pack("{s:O,s:s}", "json", j, "error", code ? code : "INVALID_IGLUURI"));
		json_decref(j);
		return;
	}
	if (!iglu_criterion_matches(&crit[ci], &key)) {
		phase1_msg(c, json_pack("{s:s,s:s}", "schemaKey", uri, "schemaCriterion",
		    crit_text[ci]));
		json_decref(j);
		return;
	}
	if (e->resolver && iglu_validate(e->resolver, &key, data, &ce) == -1) {
		phase1_msg(c, json_pack("{s:s,s:o}", "schemaKey", uri, "error", ce ? ce : json_null()));
		json_decref(j);
		return;
	}
	if (is_ctx) {
		if (!json_is_array(data)) {
			phase1_msg(c, json_pack("{s:s,s:o,s:s}", "field", field, "value",
			    jstrn(text, len), "error", "contexts data is not an array"));
			json_decref(j);
			return;
		}
		for (i = 0; i < json_array_size(data); i++)
			if (check_entity(c, json_array_get(data, i)) == -1)
				bad = 1;
	} else {
		bad = check_entity(c, data) == -1;
	}
	if (bad) {
		json_decref(j);
		return;
	}
	/* the column, from the tracker's text so that numbers keep their form */
	if (conv_json_get(text, len, "data", &dv, &dl) == -1) {
		json_decref(j);
		return;
	}
	buf_reset(&e->col);
	if (is_ctx) {
		struct entity_ctx x = { &e->col, 1, data, 0 };
		if (json_array_size(data) > 0) {
			buf_append_str(&e->col, "{\"schema\":\"" CONTEXTS_OUT "\",\"data\":[");
			conv_json_array_each(dv, dl, entity_out_cb, &x);
			buf_append_str(&e->col, "]}");
			enrich_event_set(&c->ev, COL_CONTEXTS, e->col.data, e->col.len);
		}
		c->ev.contexts = json_incref(data);
	} else {
		struct entity_ctx x = { &e->col, 1, data, 0 };
		buf_append_str(&e->col, "{\"schema\":\"" UNSTRUCT_OUT "\",\"data\":");
		entity_out_cb(dv, dl, &x);
		buf_append_byte(&e->col, '}');
		enrich_event_set(&c->ev, COL_UNSTRUCT_EVENT, e->col.data, e->col.len);
		c->ev.unstruct = json_incref(data);
	}
	json_decref(j);
}

static void
extract_json_param(struct evctx *c, int plain, int b64)
{
	struct enrich *e = c->e;
	const char *v;
	size_t n;

	if (c->val[plain]) {
		v = c->val[plain];
		extract_sdj(c, plain == PK_CO, v, strlen(v));
		return;
	}
	if (c->val[b64] == NULL)
		return;
	v = c->val[b64];
	n = strlen(v);
	buf_reset(&e->tmp);
	if (buf_reserve(&e->tmp, base64_decoded_max(n) + 1) == -1)
		return;
	e->tmp.len = base64_decode_lenient(v, n, (uint8_t *)e->tmp.data);
	e->tmp.data[e->tmp.len] = '\0';
	if (utf8_valid_prefix(e->tmp.data, e->tmp.len) != e->tmp.len) {
		buf_reset(&e->tmp2);
		if (utf8_repair(e->tmp.data, e->tmp.len, &e->tmp2) == -1)
			return;
		buf_reset(&e->tmp);
		buf_append(&e->tmp, e->tmp2.data, e->tmp2.len);
	}
	/* copy: extract_sdj uses tmp/col as scratch */
	{
		char *t = arena_strndup(&e->arena, e->tmp.data ? e->tmp.data : "", e->tmp.len);
		if (t)
			extract_sdj(c, plain == PK_CO, t, e->tmp.len);
	}
}

/* ---- URLs (enriched-event.md §6) ---- */

static void
set_span(struct evctx *c, int col, const char *base, long off, long len)
{
	if (len > 0)
		set_clean(c, col, base + off, (size_t)len);
}

static int
split_url(struct evctx *c, const char *url, int col_url, int col_scheme, const char *field)
{
	struct enrich *e = c->e;
	struct conv_uri u;
	char err[4096];
	const char *n;

	if (conv_uri_parse(url, strlen(url), &e->norm, &u, err, sizeof(err)) == -1) {
		enrich_failure(c, msg_input(field, jstr(url), err));
		return -1;
	}
	n = e->norm.data ? e->norm.data : "";
	if (col_url >= 0)
		set_clean(c, col_url, n, e->norm.len);
	set_span(c, col_scheme, n, u.scheme_off, u.scheme_len);
	set_span(c, col_scheme + 1, n, u.host_off, u.host_len);
	if (u.port >= 0)
		set_int(c, col_scheme + 2, u.port);
	else
		set_int(c, col_scheme + 2,
		    (u.scheme_len == 5 && memcmp(n + u.scheme_off, "https", 5) == 0) ? 443 : 80);
	set_span(c, col_scheme + 3, n, u.path_off, u.path_len);
	set_span(c, col_scheme + 4, n, u.query_off, u.query_len);
	set_span(c, col_scheme + 5, n, u.frag_off, u.frag_len);
	return 0;
}

/* _sp from the page URL's query (enriched-event.md §6.3). */
struct sp_ctx {
	struct enrich *e;
	const char *val;
	size_t len;
};

static void
sp_cb(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct sp_ctx *x = arg;

	if (v && nlen == 3 && memcmp(n, "_sp", 3) == 0) {
		x->val = v;
		x->len = vlen;
	}
}

static void
cross_domain(struct evctx *c)
{
	struct enrich *e = c->e;
	const char *q, *qe, *dot;
	struct sp_ctx x = { e, NULL, 0 };
	const char *url = c->ev.col[COL_PAGE_URL];
	char *sp, tsbuf[TIMEFMT_BUFSZ], *f2;
	int64_t ms;

	if (url == NULL || (q = strchr(url, '?')) == NULL)
		return;
	q++;
	qe = strchr(q, '#');
	conv_qs_split(q, qe ? (size_t)(qe - q) : strlen(q), sp_cb, &x);
	if (x.val == NULL)
		return;
	buf_reset(&e->tmp);
	if (pct_decode(&e->tmp, x.val, x.len, PCT_PLUS | PCT_UTF8) == -1)
		return;
	sp = arena_strndup(&e->arena, e->tmp.data ? e->tmp.data : "", e->tmp.len);
	if (sp == NULL)
		return;
	dot = strchr(sp, '.');
	set_clean(c, COL_REFR_DOMAIN_USERID, sp, dot ? (size_t)(dot - sp) : strlen(sp));
	if (dot == NULL)
		return;
	f2 = (char *)dot + 1;
	dot = strchr(f2, '.');
	if (dot)
		*(char *)dot = '\0';
	if (*f2 == '\0')
		return;
	if (conv_ts(f2, &ms, tsbuf) == 0)
		enrich_event_set_str(&c->ev, COL_REFR_DVCE_TSTAMP, tsbuf);
	else
		enrich_failure(c, msg_input("sp_dtm", jstr(f2),
		    "Not in the expected format: ms since epoch"));
}

/* event_vendor … event_version (enriched-event.md §9). */
static void
event_schema(struct evctx *c)
{
	const char *ev = c->ev.col[COL_EVENT];
	const char *vendor = NULL, *name = NULL;
	char msg[256];

	if (ev && strcmp(ev, "unstruct") == 0) {
		json_t *s = c->ev.unstruct ? json_object_get(c->ev.unstruct, "schema") : NULL;
		struct iglu_key k;
		const char *code;
		char ver[48];
		if (json_is_string(s) &&
		    iglu_key_parsen(json_string_value(s), json_string_length(s), &k, &code) == 0) {
			enrich_event_set_str(&c->ev, COL_EVENT_VENDOR, k.vendor);
			enrich_event_set_str(&c->ev, COL_EVENT_NAME, k.name);
			enrich_event_set_str(&c->ev, COL_EVENT_FORMAT, k.format);
			snprintf(ver, sizeof(ver), "%d-%d-%d", k.model, k.revision, k.addition);
			enrich_event_set_str(&c->ev, COL_EVENT_VERSION, ver);
		}
		return;
	}
	if (ev == NULL)
		;
	else if (strcmp(ev, "page_view") == 0 || strcmp(ev, "page_ping") == 0 ||
	    strcmp(ev, "transaction") == 0 || strcmp(ev, "transaction_item") == 0)
		vendor = SNOWPLOW_VENDOR, name = ev;
	else if (strcmp(ev, "struct") == 0)
		vendor = "com.google.analytics", name = "event";
	if (vendor == NULL) {
		snprintf(msg, sizeof(msg), "Trying to extract the schema of the enriched event but event "
		    "type [%s] doesn't match any of page_view, page_ping, transaction, "
		    "transaction_item, struct, unstruct", ev ? ev : "null");
		enrich_failure(c, json_pack("{s:s}", "error", msg));
		return;
	}
	enrich_event_set_str(&c->ev, COL_EVENT_VENDOR, vendor);
	enrich_event_set_str(&c->ev, COL_EVENT_NAME, name);
	enrich_event_set_str(&c->ev, COL_EVENT_FORMAT, "jsonschema");
	enrich_event_set_str(&c->ev, COL_EVENT_VERSION, "1-0-0");
}

static void
derived_tstamp(struct evctx *c)
{
	char ts[TIMEFMT_BUFSZ];
	int64_t ms;

	if (c->has_ttm) {
		enrich_event_set_str(&c->ev, COL_DERIVED_TSTAMP, c->ev.col[COL_TRUE_TSTAMP]);
		return;
	}
	ms = c->ev.collector_tstamp_ms;
	if (c->has_dtm && c->has_stm && c->dtm < c->stm)
		ms = ms - (c->stm - c->dtm);
	/* getDerivedTimestamp formats whatever it gets: no range check (Joda's rendering) */
	timefmt_tsv(ms, ts);
	enrich_event_set_str(&c->ev, COL_DERIVED_TSTAMP, ts);
}

/* Phase 3: derived contexts and field lengths. */
static void
phase3(struct evctx *c)
{
	struct enrich *e = c->e;
	json_t *reports = NULL;
	char msg[96];
	size_t i;
	int col;

	if (c->ev.derived && json_array_size(c->ev.derived) > 0) {
		buf_reset(&e->col);
		buf_append_str(&e->col, "{\"schema\":\"" CONTEXTS_OUT "\",\"data\":[");
		for (i = 0; i < json_array_size(c->ev.derived); i++) {
			json_t *ent = json_array_get(c->ev.derived, i), *ce = NULL;
			json_t *s = json_object_get(ent, "schema");
			struct dcache_slot *slot = &e->dcache[((uintptr_t)ent >> 4) % DCACHE_SLOTS];
			struct iglu_key k;
			const char *code = NULL;
			size_t start;
			int ok = 1;
			if (i)
				buf_append_byte(&e->col, ',');
			if (ent != NULL && slot->ent == ent) {
				buf_append(&e->col, slot->text, slot->len);
				continue;
			}
			start = e->col.len;
			jsonw_value(&e->col, ent);
			if (json_is_string(s) && strcmp(json_string_value(s), VALIDATION_INFO) == 0)
				continue;        /* written by enrich itself (§15.6) */
			if (!json_is_string(s) ||
			    iglu_key_parsen(json_string_value(s), json_string_length(s), &k, &code) == -1) {
				json_array_append_new(c->phase3, json_pack("{s:O,s:s}", "json", ent, "error",
				    code ? code : "INVALID_DATA_PAYLOAD"));
				continue;
			}
			if (e->resolver && iglu_validate(e->resolver, &k,
			    json_object_get(ent, "data"), &ce) == -1) {
				json_array_append_new(c->phase3, json_pack("{s:s,s:o}", "schemaKey",
				    json_string_value(s), "error", ce ? ce : json_null()));
				ok = 0;
			}
			if (ok && e->col.len - start <= DCACHE_MAXTEXT) {
				char *t = malloc(e->col.len - start + 1);
				if (t != NULL) {
					memcpy(t, e->col.data + start, e->col.len - start);
					t[e->col.len - start] = '\0';
					json_decref(slot->ent);
					free(slot->text);
					slot->ent = json_incref(ent);
					slot->text = t;
					slot->len = e->col.len - start;
				}
			}
		}
		buf_append_str(&e->col, "]}");
		enrich_event_set(&c->ev, COL_DERIVED_CONTEXTS, e->col.data, e->col.len);
	}
	for (col = 0; col < EVENT_NCOLS; col++) {
		const char *v = c->ev.col[col];
		size_t n;
		if (v == NULL || event_cols[col].max == 0)
			continue;
		n = strlen(v);
		if (n <= (size_t)event_cols[col].max ||
		    conv_utf16_len(v, n) <= (size_t)event_cols[col].max)
			continue;
		if (reports == NULL)
			reports = json_array();
		snprintf(msg, sizeof(msg), "Field is longer than maximum allowed size %d",
		    event_cols[col].max);
		json_array_append_new(reports, json_pack("{s:s,s:s,s:s,s:[]}", "message", msg, "path",
		    event_cols[col].name, "keyword", "atomic_field_length_exceeded", "targets"));
	}
	if (reports)
		json_array_append_new(c->phase3, json_pack("{s:s,s:{s:s,s:o}}", "schemaKey",
		    ATOMIC_SCHEMA, "error", "error", "ValidationError", "dataReports", reports));
}

static int
write_tsv(struct enrich_event *ev, struct buf *good)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++) {
		if (ev->col[i] && buf_append_str(good, ev->col[i]) == -1)
			return -1;
		if (buf_append_byte(good, i == EVENT_NCOLS - 1 ? '\n' : '\t') == -1)
			return -1;
	}
	return 0;
}

static int
emit_event_failure(struct evctx *c, const char *schema, json_t *messages, struct buf *bad)
{
	struct enrich *e = c->e;
	json_t *failure = json_pack("{s:s,s:O}", "timestamp", fail_ts(e), "messages", messages);
	json_t *payload = json_pack("{s:o,s:o}", "enriched", partial_event_json(&c->ev), "raw",
	    raw_event_json(e, &e->evp));

	return emit_row(e, badrow_new(schema, ENRICH_ARTIFACT, failure, payload), bad);
}

static void
evctx_free(struct evctx *c)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++)
		free(c->ev.col[i]);
	json_decref(c->ev.contexts);
	json_decref(c->ev.unstruct);
	json_decref(c->ev.derived);
	json_decref(c->atomic);
	json_decref(c->phase1);
	json_decref(c->failures);
	json_decref(c->phase3);
}

/* One event from e->evp. */
static int
enrich_event_run(struct enrich *e, struct buf *good, struct buf *bad)
{
	struct evctx c;
	const struct thrift_payload *tp = &e->tp;
	char ts[TIMEFMT_BUFSZ], uuid[UUID_STR_LEN + 1];
	size_t i;
	int k, rc;

	memset(&c, 0, sizeof(c));
	c.e = e;
	c.ev.payload = tp;
	c.ev.params = e->evp.p;
	c.ev.n_params = e->evp.n;
	c.ev.collector_tstamp_ms = tp->timestamp;
	c.phase1 = json_array();
	c.failures = json_array();
	c.phase3 = json_array();

	/* fields set from the payload before the parameters (EnrichmentManager.setupEnrichedEvent) */
	enrich_event_set_str(&c.ev, COL_ETL_TSTAMP, e->etl_ts);
	if (timefmt_tsv(tp->timestamp, ts) == 0) {
		enrich_event_set_str(&c.ev, COL_COLLECTOR_TSTAMP, ts);
	} else {   /* EventEnrichments.formatCollectorTstamp: an atomic error, before the others */
		char msg[128];
		snprintf(msg, sizeof(msg), "Formatted as %s is not Redshift-compatible", ts);
		atomic_error(&c, "collector_tstamp", msg);
	}
	enrich_event_set_str(&c.ev, COL_V_ETL, V_ETL);
	if (tp->collector.s)
		set_clean(&c, COL_V_COLLECTOR, tp->collector.s, tp->collector.len);
	if (e->ip_len)
		set_clean(&c, COL_USER_IPADDRESS, e->ip, conv_ip_token(e->ip, e->ip_len));
	if (tp->network_user_id.s) {
		/* a java.util.UUID upstream: printed in lower case */
		char nuid[UUID_STR_LEN + 1];
		if (conv_uuid(tp->network_user_id.s, nuid) == 0)
			enrich_event_set_str(&c.ev, COL_NETWORK_USERID, nuid);
	}
	if (tp->user_agent.s) {
		const char *s = tp->user_agent.s;
		size_t n = tp->user_agent.len;
		if (utf8_valid_prefix(s, n) != n) {
			buf_reset(&e->tmp2);
			utf8_repair(s, n, &e->tmp2);
			s = e->tmp2.data;
			n = e->tmp2.len;
		}
		buf_reset(&e->col);
		conv_ua_light(s, n, &e->col);
		enrich_event_set(&c.ev, COL_USERAGENT, e->col.data, e->col.len);
		/* EnrichmentManager.setUseragent keeps "" (not null): ua_parser then parses it */
		c.ev.useragent_empty = e->col.len == 0;
	}

	/* the parameter map: collect (last wins), then convert in map order */
	for (i = 0; i < e->evp.n; i++) {
		if (e->evp.p[i].value == NULL)
			continue;
		k = pmap_find(e->evp.p[i].name);
		if (k >= 0)
			c.val[k] = e->evp.p[i].value;
	}
	for (k = 0; k < PK_N; k++) {
		if (c.val[k] == NULL || (PMAP[k].pref >= 0 && c.val[PMAP[k].pref] != NULL))
			continue;
		if (k == PK_TNUID)
			continue;
		convert_param(&c, k);
	}
	if (c.val[PK_TNUID])
		convert_param(&c, PK_TNUID);
	if (c.ev.col[COL_EVENT_ID] == NULL && c.val[PK_EID] == NULL && uuid_v4(uuid) == 0)
		enrich_event_set_str(&c.ev, COL_EVENT_ID, uuid);

	/* phase 1 */
	if (c.atomic)
		phase1_msg(&c, json_pack("{s:s,s:{s:s,s:O}}", "schemaKey", ATOMIC_SCHEMA, "error",
		    "error", "ValidationError", "dataReports", c.atomic));
	extract_json_param(&c, PK_CO, PK_CX);
	extract_json_param(&c, PK_UE_PR, PK_UE_PX);
	if (json_array_size(c.phase1) > 0) {
		rc = emit_event_failure(&c, BADROW_SCHEMA_VIOL, c.phase1, bad);
		evctx_free(&c);
		return rc;
	}

	/* phase 2 (EnrichmentManager order) */
	if (c.ev.col[COL_V_COLLECTOR] == NULL)
		enrich_failure(&c, msg_input("v_collector", NULL, "should be set"));
	{
		const char *url = c.ev.col[COL_PAGE_URL];
		char *copy = NULL;
		if (url == NULL && tp->referer_uri.s) {
			set_clean(&c, COL_PAGE_URL, tp->referer_uri.s, tp->referer_uri.len);
			url = c.ev.col[COL_PAGE_URL];
		}
		if (url) {
			copy = arena_strndup(&e->arena, url, strlen(url));
			if (copy && split_url(&c, copy, COL_PAGE_URL, COL_PAGE_URLSCHEME, "page_url") == -1)
				enrich_event_set(&c.ev, COL_PAGE_URL, NULL, 0);
		}
	}
	derived_tstamp(&c);
	if (c.ev.col[COL_PAGE_REFERRER]) {
		char *copy = arena_strndup(&e->arena, c.ev.col[COL_PAGE_REFERRER],
		    strlen(c.ev.col[COL_PAGE_REFERRER]));
		if (copy)
			split_url(&c, copy, -1, COL_REFR_URLSCHEME, "page_referrer");
	}
	cross_domain(&c);
	if (e->enrichments)
		enrichments_apply(e->enrichments, ENRICH_STAGE_EARLY, &c.ev, c.failures);
	event_schema(&c);
	if (e->enrichments)
		enrichments_apply(e->enrichments, ENRICH_STAGE_LATE, &c.ev, c.failures);
	if (json_array_size(c.failures) > 0) {
		rc = emit_event_failure(&c, BADROW_ENRICH_FAIL, c.failures, bad);
		evctx_free(&c);
		return rc;
	}

	/* phase 3 */
	phase3(&c);
	if (json_array_size(c.phase3) > 0) {
		rc = emit_event_failure(&c, BADROW_SCHEMA_VIOL, c.phase3, bad);
		evctx_free(&c);
		return rc;
	}
	rc = write_tsv(&c.ev, good);
	if (rc == 0)
		e->counts.good++;
	evctx_free(&c);
	return rc;
}

/* ---- adapters (tracker-protocol.md §1, §6, §7) ---- */

static int
evp_from_qs(struct enrich *e)
{
	size_t i;

	plist_reset(&e->evp);
	for (i = 0; i < e->qs.n; i++)
		if (e->qs.p[i].value && plist_put(&e->evp, e->qs.p[i].name, e->qs.p[i].value, 0) == -1)
			return -1;
	return 0;
}

static size_t
qs_values(const struct enrich *e)
{
	size_t i, n = 0;

	for (i = 0; i < e->qs.n; i++)
		n += e->qs.p[i].value != NULL;
	return n;
}

static int
adapter_tp1(struct enrich *e, struct buf *good, struct buf *bad)
{
	if (qs_values(e) == 0)
		return emit_payload_failure(e, BADROW_ADAPTER, json_pack("[o]", msg_input("querystring",
		    NULL, "empty querystring: not a valid URI redirect")), bad);
	if (evp_from_qs(e) == -1)
		return -1;
	return enrich_event_run(e, good, bad);
}

static int
content_type_ok(const struct tstr *ct)
{
	return strcmp(ct->s, "application/json") == 0 ||
	    strcmp(ct->s, "application/json; charset=utf-8") == 0 ||
	    strcmp(ct->s, "application/json; charset=UTF-8") == 0;
}

#define CT_EXPECT "expected one of application/json, application/json; charset=utf-8, " \
	"application/json; charset=UTF-8"

static int
adapter_tp2(struct enrich *e, struct buf *good, struct buf *bad)
{
	const struct thrift_payload *tp = &e->tp;
	int has_body = tp->body.s != NULL && tp->body.len > 0;
	json_t *msgs, *j, *schema, *data, *ce = NULL;
	json_error_t jerr;
	struct iglu_key key;
	const char *code = NULL, *body;
	size_t blen, i;
	char msg[300];
	int rc = 0;

	if (!has_body) {
		if (tp->content_type.s)
			return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
			    msg_input("body", NULL, "empty body: not a valid track protocol event")), bad);
		if (qs_values(e) == 0)
			return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o,o]",
			    msg_input("body", NULL, "empty body: not a valid tracker protocol event"),
			    msg_input("querystring", NULL,
			    "empty querystring: not a valid tracker protocol event")), bad);
		if (evp_from_qs(e) == -1)
			return -1;
		return enrich_event_run(e, good, bad);
	}
	if (tp->content_type.s == NULL || !content_type_ok(&tp->content_type))
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("contentType", jtstr(&tp->content_type), CT_EXPECT)), bad);
	body = tp->body.s;
	blen = tp->body.len;
	if (utf8_valid_prefix(body, blen) != blen) {
		buf_reset(&e->tmp);
		if (utf8_repair(body, blen, &e->tmp) == -1)
			return -1;
		body = arena_strndup(&e->arena, e->tmp.data, e->tmp.len);
		blen = e->tmp.len;
		if (body == NULL)
			return -1;
	}
	if (conv_json_depth(body, blen, ENRICH_MAX_DEPTH) > ENRICH_MAX_DEPTH)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:s,s:o,s:s}]",
		    "field", "body", "value", jstrn(body, blen),
		    "error", "invalid json: maximum allowed JSON depth exceeded"), bad);
	j = jsonschema_json_loadb(body, blen, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0, &jerr);
	if (j == NULL) {
		snprintf(msg, sizeof(msg), "invalid json: %s", jerr.text);
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:s,s:o,s:s}]",
		    "field", "body", "value", jstrn(body, blen), "error", msg), bad);
	}
	schema = json_object_get(j, "schema");
	data = json_object_get(j, "data");
	if (!json_is_object(j) || !json_is_string(schema) || data == NULL)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[{s:o,s:s}]",
		    "json", j, "error", "INVALID_DATA_PAYLOAD"), bad);
	if (iglu_key_parsen(json_string_value(schema), json_string_length(schema), &key,
	    &code) == -1) {
		msgs = json_pack("[{s:O,s:s}]", "json", j, "error", code ? code : "INVALID_IGLUURI");
		goto fail;
	}
	if (!iglu_criterion_matches(&crit[CRIT_I_PAYLOAD_DATA], &key)) {
		msgs = json_pack("[{s:s,s:s}]", "schemaKey", json_string_value(schema),
		    "schemaCriterion", CRIT_PAYLOAD_DATA);
		goto fail;
	}
	if (e->resolver && iglu_validate(e->resolver, &key, data, &ce) == -1) {
		msgs = json_pack("[{s:s,s:o}]", "schemaKey", json_string_value(schema), "error",
		    ce ? ce : json_null());
		goto fail;
	}
	if (!json_is_array(data)) {
		msgs = json_pack("[o]", msg_input("data", NULL, "json is not an array"));
		goto fail;
	}
	if (json_array_size(data) == 0) {
		msgs = json_pack("[o]", msg_input("data", NULL, "empty list of events"));
		goto fail;
	}
	/* every event's values must be strings before any is enriched */
	msgs = json_array();
	for (i = 0; i < json_array_size(data); i++) {
		json_t *ev = json_array_get(data, i), *v;
		const char *k;
		if (!json_is_object(ev)) {
			json_array_append_new(msgs, msg_input("data", NULL, "event is not an object"));
			continue;
		}
		json_object_foreach(ev, k, v) {
			if (json_is_null(v))
				json_array_append_new(msgs, msg_input(k, NULL, "value cannot be null"));
			else if (!json_is_string(v))
				json_array_append_new(msgs, msg_input(k, json_incref(v),
				    "value is not a string"));
		}
	}
	if (json_array_size(msgs) > 0)
		goto fail;
	json_decref(msgs);
	for (i = 0; i < json_array_size(data) && rc == 0; i++) {
		json_t *ev = json_array_get(data, i), *v;
		const char *k;
		size_t q;
		plist_reset(&e->evp);
		json_object_foreach(ev, k, v) {
			if (plist_put(&e->evp, (char *)k, (char *)json_string_value(v), 0) == -1) {
				rc = -1;
				break;
			}
		}
		for (q = 0; q < e->qs.n && rc == 0; q++)
			if (e->qs.p[q].value &&
			    plist_put(&e->evp, e->qs.p[q].name, e->qs.p[q].value, 1) == -1)
				rc = -1;
		if (rc == 0)
			rc = enrich_event_run(e, good, bad);
	}
	json_decref(j);
	return rc;
fail:
	json_decref(j);
	return emit_payload_failure(e, BADROW_TRACKER_PROTO, msgs, bad);
}

/* Redirect adapter (tracker-protocol.md §7). */
static int
adapter_redirect(struct enrich *e, struct buf *good, struct buf *bad)
{
	const char *u = NULL, *co = NULL, *cx = NULL;
	int has_e = 0, has_p = 0;
	struct buf j;
	size_t i;
	int rc;

	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name, *v = e->qs.p[i].value;
		if (v == NULL)
			continue;
		if (strcmp(n, "u") == 0)
			u = v;
		else if (strcmp(n, "e") == 0)
			has_e = 1;
		else if (strcmp(n, "p") == 0)
			has_p = 1;
		else if (strcmp(n, "co") == 0)
			co = v;
		else if (strcmp(n, "cx") == 0)
			cx = v;
	}
	if (qs_values(e) == 0)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("querystring", NULL, "empty querystring: not a valid URI redirect")), bad);
	if (u == NULL)
		return emit_payload_failure(e, BADROW_TRACKER_PROTO, json_pack("[o]",
		    msg_input("querystring", NULL, "missing `u` parameter: not a valid URI redirect")),
		    bad);
	buf_init(&j, 0);
	buf_append_str(&j, "{\"schema\":\"" URI_REDIRECT "\",\"data\":{\"uri\":");
	jsonw_string(&j, u, strlen(u));
	buf_append_str(&j, "}}");
	plist_reset(&e->evp);
	for (i = 0; i < e->qs.n; i++) {
		const char *n = e->qs.p[i].name;
		if (e->qs.p[i].value == NULL || strcmp(n, "u") == 0 || strcmp(n, "tv") == 0)
			continue;
		if (has_e && (strcmp(n, "co") == 0 || strcmp(n, "cx") == 0))
			continue;
		plist_put(&e->evp, e->qs.p[i].name, e->qs.p[i].value, 0);
	}
	plist_put(&e->evp, "tv", "r-tp2", 0);
	if (!has_p)
		plist_put(&e->evp, "p", "web", 0);
	if (!has_e) {
		struct buf w;
		buf_init(&w, 0);
		buf_append_str(&w, "{\"schema\":\"" UNSTRUCT_OUT "\",\"data\":");
		buf_append(&w, j.data, j.len);
		buf_append_byte(&w, '}');
		plist_put(&e->evp, "e", "ue", 0);
		plist_put(&e->evp, "ue_pr", arena_strndup(&e->arena, w.data, w.len), 0);
		buf_free(&w);
	} else {
		/* prepend the uri_redirect entity to the contexts */
		struct buf w, dec;
		json_t *chk;
		const char *text = co, *dv;
		size_t tl = co ? strlen(co) : 0, dl;
		buf_init(&w, 0);
		buf_init(&dec, 0);
		if (!co && cx) {
			buf_reserve(&dec, base64_decoded_max(strlen(cx)) + 1);
			dec.len = base64_decode_lenient(cx, strlen(cx), (uint8_t *)dec.data);
			dec.data[dec.len] = '\0';
			text = dec.data;
			tl = dec.len;
		}
		chk = text ? jsonschema_json_loadb(text, tl, 0, 0, NULL) : NULL;
		if (chk && conv_json_get(text, tl, "data", &dv, &dl) == 0 && dl >= 2 &&
		    dv[0] == '[') {
			const char *sv = NULL;
			size_t sl = 0, k = 1;
			conv_json_get(text, tl, "schema", &sv, &sl);
			buf_append_str(&w, "{\"schema\":");
			buf_append(&w, sv, sl);
			buf_append_str(&w, ",\"data\":[");
			buf_append(&w, j.data, j.len);
			/* the existing entities after ours */
			while (k < dl && (dv[k] == ' ' || dv[k] == '\n' || dv[k] == '\t' || dv[k] == '\r'))
				k++;
			if (k < dl && dv[k] != ']')
				buf_append_byte(&w, ',');
			buf_append(&w, dv + 1, dl - 1);
			buf_append_byte(&w, '}');
		} else if (text) {
			buf_append(&w, text, tl);   /* invalid: let phase 1 report it */
		} else {
			buf_append_str(&w, "{\"schema\":\"" CONTEXTS_100 "\",\"data\":[");
			buf_append(&w, j.data, j.len);
			buf_append_str(&w, "]}");
		}
		if (co || !cx) {
			plist_put(&e->evp, "co", arena_strndup(&e->arena, w.data, w.len), 0);
		} else {
			char *enc = malloc(base64_encoded_len(w.len) + 1);
			if (enc) {
				base64url_encode((const uint8_t *)w.data, w.len, enc);
				plist_put(&e->evp, "cx", arena_strndup(&e->arena, enc, strlen(enc)), 0);
				free(enc);
			}
		}
		json_decref(chk);
		buf_free(&w);
		buf_free(&dec);
	}
	buf_free(&j);
	rc = enrich_event_run(e, good, bad);
	return rc;
}

/* ---- the line ---- */

/* CollectorPayload.parseApi */
static int
parse_api(struct enrich *e, const char *path)
{
	const char *p = path, *s1, *end;
	size_t n = strlen(path);

	if (*p == '/')
		p++;
	end = path + n;
	if (end > p && end[-1] == '/')
		end--;
	s1 = memchr(p, '/', (size_t)(end - p));
	if (s1 && s1 > p && s1 + 1 < end && memchr(s1 + 1, '/', (size_t)(end - s1 - 1)) == NULL) {
		e->vendor = arena_strndup(&e->arena, p, (size_t)(s1 - p));
		e->version = arena_strndup(&e->arena, s1 + 1, (size_t)(end - s1 - 1));
		return 0;
	}
	if (strncmp(path, "/ice.png", 8) == 0 || strcmp(path, "/i") == 0 ||
	    strncmp(path, "/i?", 3) == 0) {
		e->vendor = SNOWPLOW_VENDOR;
		e->version = "tp1";
		return 0;
	}
	return -1;
}

int
enrich_line_too_long(struct enrich *e, const char *prefix, size_t prefix_len,
    size_t actual_bytes, size_t max_bytes, struct buf *bad)
{
	char exp[160];

	e->counts.lines++;
	if (prefix_len > max_bytes / 10)
		prefix_len = max_bytes / 10;
	snprintf(exp, sizeof(exp), "raw record exceeds the maximum allowed size of %zu bytes",
	    max_bytes);
	return emit_row(e, badrow_size_violation(ENRICH_ARTIFACT, (long long)max_bytes,
	    (long long)actual_bytes, exp, prefix, prefix_len), bad);
}

/* One raw record's bytes (a Thrift CollectorPayload), counted in lines already. */
static int
enrich_raw(struct enrich *e, const uint8_t *raw, size_t rawlen, struct buf *good,
    struct buf *bad)
{
	struct thrift_payload *tp = &e->tp;
	char err[256];
	json_t *msgs[8];
	int nmsg = 0, i, rc = 0;

	arena_reset(&e->arena);
	plist_reset(&e->qs);
	plist_reset(&e->evp);
	e->vendor = e->version = NULL;
	e->ip_len = 0;
	e->etl_ms = e->fixed_ms ? e->fixed_ms : timefmt_now_ms();
	timefmt_tsv(e->etl_ms, e->etl_ts);
	e->fail_ts[0] = '\0';

	if (thrift_payload_decode(raw, rawlen, tp, err, sizeof(err)) == -1) {
		char m[320];
		snprintf(m, sizeof(m), "error deserializing raw event: %s", err);
		return emit_cpfv(e, msg_fallback(m), raw, rawlen, bad);
	}

	/* payload checks (ThriftLoader): query string, path, network user id, schema */
	/* upstream's Charset.forName(null) throws before any other check */
	if (tp->encoding.s == NULL)
		return emit_cpfv(e, msg_fallback("error deserializing raw event: Null charset name"),
		    raw, rawlen, bad);
	if (tp->querystring.s && tp->querystring.len > 0) {
		size_t qlen;
		const char *what;
		long bad_at = conv_qs_check(tp->querystring.s, tp->querystring.len, &qlen, &what);
		if (bad_at >= 0) {
			char *m = malloc(tp->querystring.len + 256);
			if (m) {
				snprintf(m, tp->querystring.len + 256, "could not extract name-value pairs "
				    "from querystring with encoding UTF-8: %s at index %ld: "
				    "http://localhost/?%s", what, bad_at + 18, tp->querystring.s);
				msgs[nmsg++] = msg_cp_input("querystring", jtstr(&tp->querystring), m);
				free(m);
			}
		} else {
			struct qs_ctx qc = { e, 0 };
			conv_qs_split(tp->querystring.s, qlen, qs_pair_cb, &qc);
			if (qc.err)
				return -1;
		}
	}
	if (tp->path.s == NULL)
		msgs[nmsg++] = msg_cp_input("path", NULL, "request does not contain a path");
	else if (parse_api(e, tp->path.s) == -1)
		msgs[nmsg++] = msg_fallback("path does not match (/)vendor/version(/) nor is a legacy "
		    "/i(ce.png) request");
	if (tp->network_user_id.s && !uuid_is_valid(tp->network_user_id.s, tp->network_user_id.len))
		msgs[nmsg++] = msg_cp_input("networkUserId", jtstr(&tp->network_user_id),
		    "not valid UUID");
	{
		struct iglu_key k;
		const char *code;
		if (tp->schema.s == NULL ||
		    iglu_key_parsen(tp->schema.s, tp->schema.len, &k, &code) == -1 ||
		    !iglu_criterion_matches(&crit[CRIT_I_THRIFT], &k)) {
			char m[512];
			snprintf(m, sizeof(m), "verifying record as %s failed: found %.300s", CRIT_THRIFT,
			    tp->schema.s ? tp->schema.s : "null");
			msgs[nmsg++] = msg_fallback(m);
		}
	}
	if (nmsg > 0) {
		for (i = 0; i < nmsg; i++)
			if (emit_cpfv(e, msgs[i], raw, rawlen, bad) == -1)
				rc = -1;
		return rc;
	}

	/* the client IP: Thrift ipAddress, overridden by the headers (enriched-event.md §5) */
	{
		const char *hp[64];
		size_t hl[64], nh = tp->n_headers < 64 ? tp->n_headers : 64, h;
		for (h = 0; h < nh; h++) {
			hp[h] = tp->headers[h].s;
			hl[h] = tp->headers[h].len;
		}
		e->ip_len = conv_header_ip(hp, hl, nh, e->ip, sizeof(e->ip));
		if (e->ip_len == 0 && tp->ip_address.s) {
			e->ip_len = tp->ip_address.len < sizeof(e->ip) - 1 ? tp->ip_address.len :
			    sizeof(e->ip) - 1;
			memcpy(e->ip, tp->ip_address.s, e->ip_len);
			e->ip[e->ip_len] = '\0';
		}
	}

	if (strcmp(e->vendor, SNOWPLOW_VENDOR) == 0 && strcmp(e->version, "tp1") == 0)
		return adapter_tp1(e, good, bad);
	if (strcmp(e->vendor, SNOWPLOW_VENDOR) == 0 && strcmp(e->version, "tp2") == 0)
		return adapter_tp2(e, good, bad);
	if (strcmp(e->vendor, "r") == 0 && strcmp(e->version, "tp2") == 0)
		return adapter_redirect(e, good, bad);
	snprintf(err, sizeof(err), "%.100s/%.100s", e->vendor, e->version);
	return emit_payload_failure(e, BADROW_ADAPTER, json_pack("[o]",
	    msg_input("vendor/version", jstr(err), "vendor/version combination is not supported")),
	    bad);
}

int
enrich_line(struct enrich *e, const char *line, size_t len, struct buf *good, struct buf *bad)
{
	size_t rawlen;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0) {
		e->counts.empty++;
		return 0;
	}
	e->counts.lines++;
	buf_reset(&e->raw);
	if (buf_reserve(&e->raw, base64_decoded_max(len) + 1) == -1)
		return -1;
	rawlen = base64_decode_lenient(line, len, (uint8_t *)e->raw.data);
	e->raw.len = rawlen;
	return enrich_raw(e, (const uint8_t *)e->raw.data, rawlen, good, bad);
}

int
enrich_payload(struct enrich *e, const uint8_t *raw, size_t len, struct buf *good,
    struct buf *bad)
{
	if (len == 0) {
		e->counts.empty++;
		return 0;
	}
	e->counts.lines++;
	return enrich_raw(e, raw, len, good, bad);
}

/* A Java String's length (UTF-16 units) of UTF-8 text: what Snowplow's actualSizeBytes counts. */
static size_t
utf16_units(const char *s, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xc0) != 0x80)
			n += c >= 0xf0 ? 2 : 1;
	}
	return n;
}

/* Take the lines of out[from..) longer than max out, and write size_violation rows for them to
 * viol. */
static int
fit_lines(struct enrich *e, struct buf *out, size_t from, size_t max, const char *what,
    int count_good, struct buf *viol)
{
	size_t r = from, w = from;
	char exp[200];

	while (r < out->len) {
		char *nl = memchr(out->data + r, '\n', out->len - r);
		size_t len = nl ? (size_t)(nl - (out->data + r)) : out->len - r;
		size_t whole = len + (nl ? 1 : 0);

		if (len > max) {
			json_t *row;
			size_t keep = utf8_cut(out->data + r, len, max / 10);
			int rc;

			snprintf(exp, sizeof(exp), "%s exceeds the maximum allowed size of %zu bytes",
			    what, max);
			row = badrow_size_violation(ENRICH_ARTIFACT, (long long)max,
			    (long long)utf16_units(out->data + r, len), exp, out->data + r, keep);
			if (row == NULL)
				return -1;
			rc = badrow_write(row, viol);
			json_decref(row);
			if (rc == -1)
				return -1;
			e->counts.bad++;
			if (count_good)
				e->counts.good--;
			else
				e->counts.bad--;
		} else {
			if (w != r)
				memmove(out->data + w, out->data + r, whole);
			w += whole;
		}
		r += whole;
	}
	out->len = w;
	if (out->data)
		out->data[w] = '\0';
	return 0;
}

int
enrich_fit(struct enrich *e, struct buf *good, size_t good_from, size_t good_max,
    struct buf *bad, size_t bad_from, size_t bad_max)
{
	struct buf viol;
	int rc = 0;

	/* Snowplow enrich, Processing.serializeBad and serializeEnriched */
	buf_init(&viol, 0);
	if ((bad_max && fit_lines(e, bad, bad_from, bad_max, "Event failed enrichment and "
	    "resulting bad row", 0, &viol) == -1) ||
	    (good_max && fit_lines(e, good, good_from, good_max, "Enriched event", 1, &viol) == -1) ||
	    (viol.len && buf_append(bad, viol.data, viol.len) == -1))
		rc = -1;
	buf_free(&viol);
	return rc;
}
