/*
 * enrich: raw line -> collector payload -> adapter -> events -> TSV or bad rows (see enrich.h).
 *
 * The stages of one line follow upstream enrich (enriched-event.md §12.4, tracker-protocol.md
 * §1, §3, §6, §7; enriched-event.md §5-§9, §11, §14):
 *   1. base64 (lenient) and Thrift decoding, payload checks -> collector_payload_format_violation
 *   2. path -> adapter (enrich_adapt.c; webhooks adapt*.c) -> adapter_failures /
 *                                                      tracker_protocol_violations
 *   3. per event: parameter map, contexts and unstruct validation  -> schema_violations (phase 1)
 *   4. derived columns and enrichments                              -> enrichment_failures (2)
 *   5. derived contexts and field lengths                           -> schema_violations (3)
 * Each failed event becomes exactly one bad row (§14.4).
 *
 * Here: the line and the per-event work. The adapters are enrich_adapt.c, the parameter table
 * pmap.c, bad rows and the JSON they carry enrich_bad.c, contexts and unstruct_event (phase 1b)
 * enrich_sdj.c; what they share is enrich_impl.h.
 */
#include "enrich_impl.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "badrow.h"
#include "base64.h"
#include "conv.h"
#include "enrich_event.h"
#include "enrichments.h"
#include "event.h"
#include "iglu.h"
#include "jsonw.h"
#include "pct.h"
#include "swar.h"
#include "thrift.h"
#include "timefmt.h"
#include "utf8.h"
#include "uuid.h"
#include "version.h"

struct enrich *
enrich_new(struct iglu_resolver *resolver, struct enrichments *enrichments)
{
	struct enrich *e = calloc(1, sizeof(*e));

	if (e == NULL)
		return NULL;
	pmap_init();
	if (enrich_crit_init() < 0) {
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
	for (i = 0; i < DCACHE_SETS * DCACHE_WAYS; i++) {
		json_decref(e->dcache[i / DCACHE_WAYS].ent[i % DCACHE_WAYS]);
		free(e->dcache[i / DCACHE_WAYS].text[i % DCACHE_WAYS]);
	}
	thrift_payload_free(&e->tp);
	arena_free(&e->arena);
	arena_free(&e->evmem);
	plist_free(&e->qs);
	plist_free(&e->evp);
	free(e);
}

void
enrich_set_clock(struct enrich *e, int64_t fixed_ms)
{
	e->fixed_ms = fixed_ms;
}

void
enrich_set_pii_output(struct enrich *e, struct buf *pii)
{
	e->pii_out = pii;
}

const struct enrich_counts *
enrich_counts(const struct enrich *e)
{
	return &e->counts;
}

/* ---- query strings ---- */

struct qs_ctx {
	struct enrich *e;
	int err;
};

/* s[0..n) form-decoded (PCT_PLUS | PCT_UTF8) into the arena, its length in *len; NULL when
 * out of memory. ASCII without '%' or '+' (most names and values, base64 payloads too) decodes
 * to itself and is copied 8 bytes a step; anything else goes through pct_decode. */
static char *
qs_decode(struct enrich *e, const char *s, size_t n, size_t *len)
{
	char *p = arena_alloc(&e->arena, n + 1);
	size_t i = 0;

	if (p == NULL)
		return NULL;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (swar_has_byte(w, '%') | swar_has_byte(w, '+') | (w & 0x8080808080808080ULL))
			break;
		memcpy(p + i, &w, 8);
	}
	for (; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' || c == '+' || c >= 0x80)
			break;
		p[i] = (char)c;
	}
	if (i == n) {
		p[n] = '\0';
		*len = n;
		return p;
	}
	buf_reset(&e->tmp);
	if (pct_decode(&e->tmp, s, n, PCT_PLUS | PCT_UTF8) == -1)
		return NULL;
	if (e->tmp.len > n && (p = arena_alloc(&e->arena, e->tmp.len + 1)) == NULL)
		return NULL;        /* UTF-8 repair made it longer */
	if (e->tmp.len)
		memcpy(p, e->tmp.data, e->tmp.len);
	p[e->tmp.len] = '\0';
	*len = e->tmp.len;
	return p;
}

static void
qs_pair_cb(const char *n, size_t nlen, const char *v, size_t vlen, void *arg)
{
	struct qs_ctx *c = arg;
	struct enrich *e = c->e;
	char *name, *value = NULL;
	size_t len;

	if ((name = qs_decode(e, n, nlen, &len)) == NULL) {
		c->err = 1;
		return;
	}
	if (len == 0)
		return;                      /* empty names are dropped */
	if (v && (value = qs_decode(e, v, vlen, &len)) == NULL) {
		c->err = 1;
		return;
	}
	if (plist_put(&e->qs, name, value, 1) == -1)
		c->err = 1;
}

/* ---- the per-event work ---- */

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

	/* common case: printable ASCII needs neither repair nor cleaning (8 bytes a step while
	 * none is below 0x20 or 0x7f and above) */
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if ((((w - SWAR_ONES * 0x20) & ~w) | ((w + SWAR_ONES) | w)) & (SWAR_ONES * 0x80))
			break;
	}
	for (; i < len; i++)
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

/* Add a phase-3 message (the array is made at the first: most events have none). */
static void
phase3_msg(struct evctx *c, json_t *m)
{
	if (c->phase3 == NULL)
		c->phase3 = json_array();
	json_array_append_new(c->phase3, m);
}

/* Phase 3 for contexts or unstruct_event that an enrichment replaced (the JavaScript
 * enrichment's setContexts / setUnstruct_event): validated again, as upstream's
 * validateEnriched does. */
static void
phase3_entity(struct evctx *c, json_t *ent)
{
	json_t *s = json_object_get(ent, "schema"), *ce = NULL;
	struct iglu_key k;
	const char *code = NULL;

	if (!json_is_string(s) ||
	    iglu_key_parsen(json_string_value(s), json_string_length(s), &k, &code) == -1) {
		phase3_msg(c, json_pack("{s:O,s:s}", "json", ent, "error",
		    code ? code : "INVALID_DATA_PAYLOAD"));
		return;
	}
	if (c->e->resolver && iglu_validate(c->e->resolver, &k, json_object_get(ent, "data"),
	    &ce) == -1)
		phase3_msg(c, json_pack("{s:s,s:o}", "schemaKey",
		    json_string_value(s), "error", ce ? ce : json_null()));
}

/* The phase-3 cache's set for entity pointer ent: the pointer's bits above malloc's 16-byte
 * alignment, folded so that entities 64 KB apart do not share a set. */
static struct dcache_set *
dcache_set_of(struct enrich *e, const json_t *ent)
{
	uintptr_t p = (uintptr_t)ent >> 4;

	return &e->dcache[(p ^ (p >> 12) ^ (p >> 24)) % DCACHE_SETS];
}

/* The way of set that holds ent, or -1. */
static int
dcache_way(const struct dcache_set *set, const json_t *ent)
{
	int w;

	if (ent == NULL)
		return -1;
	for (w = 0; w < DCACHE_WAYS; w++)
		if (set->ent[w] == ent)
			return w;
	return -1;
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
			json_t *ent = json_array_get(c->ev.derived, i), *ce = NULL, *s;
			struct dcache_set *set = dcache_set_of(e, ent);
			struct iglu_key k;
			const char *code = NULL;
			size_t start;
			int ok = 1, w;
			if (i)
				buf_append_byte(&e->col, ',');
			if ((w = dcache_way(set, ent)) >= 0) {
				buf_append(&e->col, set->text[w], set->len[w]);
				continue;
			}
			s = json_object_get(ent, "schema");
			start = e->col.len;
			jsonw_value(&e->col, ent);
			if (json_is_string(s) && strcmp(json_string_value(s), VALIDATION_INFO) == 0)
				continue;        /* written by enrich itself (§15.6) */
			if (!json_is_string(s) ||
			    iglu_key_parsen(json_string_value(s), json_string_length(s), &k, &code) == -1) {
				phase3_msg(c, json_pack("{s:O,s:s}", "json", ent, "error",
				    code ? code : "INVALID_DATA_PAYLOAD"));
				continue;
			}
			if (e->resolver && iglu_validate(e->resolver, &k,
			    json_object_get(ent, "data"), &ce) == -1) {
				phase3_msg(c, json_pack("{s:s,s:o}", "schemaKey",
				    json_string_value(s), "error", ce ? ce : json_null()));
				ok = 0;
			}
			if (ok && ent != NULL && e->col.len - start <= DCACHE_MAXTEXT) {
				char *t = malloc(e->col.len - start + 1);
				if (t != NULL) {
					memcpy(t, e->col.data + start, e->col.len - start);
					t[e->col.len - start] = '\0';
					w = (int)set->next;
					set->next = (set->next + 1) % DCACHE_WAYS;
					json_decref(set->ent[w]);
					free(set->text[w]);
					set->ent[w] = json_incref(ent);
					set->text[w] = t;
					set->len[w] = (uint32_t)(e->col.len - start);
				}
			}
		}
		buf_append_str(&e->col, "]}");
		enrich_event_set(&c->ev, COL_DERIVED_CONTEXTS, e->col.data, e->col.len);
	}
	if (c->ev.unstruct_updated && c->ev.unstruct != NULL)
		phase3_entity(c, c->ev.unstruct);
	if (c->ev.contexts_updated)
		for (i = 0; i < json_array_size(c->ev.contexts); i++)
			phase3_entity(c, json_array_get(c->ev.contexts, i));
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
		phase3_msg(c, json_pack("{s:s,s:{s:s,s:o}}", "schemaKey",
		    ATOMIC_SCHEMA, "error", "error", "ValidationError", "dataReports", reports));
}

static int
write_tsv(struct enrich_event *ev, struct buf *good)
{
	size_t len[EVENT_NCOLS], total = EVENT_NCOLS;
	char *o;
	int i;

	/* the line's length first, then one reservation and plain copies */
	for (i = 0; i < EVENT_NCOLS; i++) {
		len[i] = ev->col[i] ? strlen(ev->col[i]) : 0;
		total += len[i];
	}
	if (buf_reserve(good, total) == -1)
		return -1;
	o = good->data + good->len;
	for (i = 0; i < EVENT_NCOLS; i++) {
		if (len[i]) {
			memcpy(o, ev->col[i], len[i]);
			o += len[i];
		}
		*o++ = '\t';
	}
	o[-1] = '\n';
	*o = '\0';
	good->len += total;
	return 0;
}

/*
 * The second event of the PII enrichment's emitEvent (enrich 5.x ConversionUtils.getPiiEvent,
 * written to its "pii" output): a pii_transformation event that names its parent, with the
 * parent's app_id, etl and collector timestamps.
 */
static int
write_pii_event(struct enrich *e, const struct enrich_event *parent, struct buf *out)
{
	struct enrich_event pe;
	char uuid[UUID_STR_LEN + 1], ts[TIMEFMT_BUFSZ];
	struct buf b;
	int i, rc = -1;

	memset(&pe, 0, sizeof(pe));
	buf_init(&b, 0);
	if (uuid_v4(uuid) != 0)
		goto out;
	timefmt_tsv(e->etl_ms, ts);
	enrich_event_set_str(&pe, COL_APP_ID, parent->col[COL_APP_ID]);
	enrich_event_set_str(&pe, COL_PLATFORM, "srv");
	enrich_event_set_str(&pe, COL_ETL_TSTAMP, parent->col[COL_ETL_TSTAMP]);
	enrich_event_set_str(&pe, COL_COLLECTOR_TSTAMP, parent->col[COL_COLLECTOR_TSTAMP]);
	enrich_event_set_str(&pe, COL_EVENT, "pii_transformation");
	enrich_event_set_str(&pe, COL_EVENT_ID, uuid);
	enrich_event_set_str(&pe, COL_DERIVED_TSTAMP, ts);
	enrich_event_set_str(&pe, COL_TRUE_TSTAMP, ts);
	enrich_event_set_str(&pe, COL_EVENT_VENDOR, SNOWPLOW_VENDOR);
	enrich_event_set_str(&pe, COL_EVENT_FORMAT, "jsonschema");
	enrich_event_set_str(&pe, COL_EVENT_NAME, "pii_transformation");
	enrich_event_set_str(&pe, COL_EVENT_VERSION, "1-0-0");
	enrich_event_set_str(&pe, COL_V_ETL, V_ETL);
	buf_append_str(&b, "{\"schema\":\"" CONTEXTS_OUT "\",\"data\":[{\"schema\":\""
	    PARENT_EVENT "\",\"data\":{\"parentEventId\":");
	jsonw_string(&b, parent->col[COL_EVENT_ID], strlen(parent->col[COL_EVENT_ID]));
	buf_append_str(&b, "}}]}");
	enrich_event_set(&pe, COL_CONTEXTS, b.data, b.len);
	buf_reset(&b);
	buf_append_str(&b, "{\"schema\":\"" UNSTRUCT_OUT "\",\"data\":");
	if (jsonw_value(&b, parent->pii) == 0 && buf_append_byte(&b, '}') == 0 &&
	    enrich_event_set(&pe, COL_UNSTRUCT_EVENT, b.data, b.len) == 0)
		rc = write_tsv(&pe, out);
out:
	for (i = 0; i < EVENT_NCOLS; i++)
		free(pe.col[i]);
	buf_free(&b);
	return rc;
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

	if (c->ev.colmem == NULL)
		for (i = 0; i < EVENT_NCOLS; i++)
			free(c->ev.col[i]);
	json_decref(c->ev.contexts);
	json_decref(c->ev.unstruct);
	json_decref(c->ev.derived);
	json_decref(c->ev.pii);
	json_decref(c->atomic);
	json_decref(c->phase1);
	json_decref(c->failures);
	json_decref(c->phase3);
}

/* One event from e->evp (enrich_impl.h). */
int
enrich_event_run(struct enrich *e, struct buf *good, struct buf *bad)
{
	struct evctx c;
	const struct thrift_payload *tp = &e->tp;
	char ts[TIMEFMT_BUFSZ], uuid[UUID_STR_LEN + 1];
	size_t i;
	int k, rc;

	memset(&c, 0, sizeof(c));
	arena_reset(&e->evmem);
	c.e = e;
	c.ev.colmem = &e->evmem;
	c.ev.payload = tp;
	c.ev.params = e->evp.p;
	c.ev.n_params = e->evp.n;
	c.ev.collector_tstamp_ms = tp->timestamp;
	c.ev.etl_ms = e->etl_ms;
	c.failures = json_array();

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
	if (e->enrichments &&
	    enrichments_apply(e->enrichments, ENRICH_STAGE_EARLY, &c.ev, c.failures) ==
	    ENRICHMENTS_DROPPED)
		goto dropped;
	event_schema(&c);
	if (e->enrichments &&
	    enrichments_apply(e->enrichments, ENRICH_STAGE_LATE, &c.ev, c.failures) ==
	    ENRICHMENTS_DROPPED)
		goto dropped;
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
	if (rc == 0 && c.ev.pii != NULL && e->pii_out != NULL) {
		rc = write_pii_event(e, &c.ev, e->pii_out);
		if (rc == 0)
			e->counts.pii++;
	}
	evctx_free(&c);
	return rc;
dropped:   /* upstream's Dropped: neither the event nor a bad row */
	e->counts.dropped++;
	evctx_free(&c);
	return 0;
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
		    !iglu_criterion_matches(&enrich_crit[CRIT_I_THRIFT], &k)) {
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

	return enrich_adapt(e, good, bad);
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
