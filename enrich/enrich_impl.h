/*
 * enrich_impl: what the files of enrich's core share (enrich.c: the line and the per-event work;
 * enrich_adapt.c: the adapters; enrich_bad.c: bad rows and the JSON they carry; enrich_sdj.c:
 * contexts and unstruct_event; pmap.c, arena.c, plist.c). Nothing outside enrich's core
 * includes it.
 *
 * The helpers keep the short names they had as statics of enrich.c (jstr, msg_input, emit_row,
 * ...), so that work written against enrich.c before the split still fits.
 */
#ifndef ENRICH_IMPL_H
#define ENRICH_IMPL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "buf.h"
#include "enrich.h"
#include "enrich_event.h"
#include "iglu.h"
#include "plist.h"
#include "pmap.h"
#include "thrift.h"
#include "timefmt.h"
#include "version.h"

#define V_ETL "furrow-enrich-" FURROW_VERSION

#define SNOWPLOW_VENDOR   "com.snowplowanalytics.snowplow"
#define CRIT_PAYLOAD_DATA "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-*"
#define CRIT_CONTEXTS     "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-*"
#define CRIT_UNSTRUCT     "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-*"
#define CRIT_THRIFT       "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-*"
#define ATOMIC_SCHEMA     "iglu:com.snowplowanalytics.snowplow/atomic/jsonschema/1-0-0"
#define CONTEXTS_OUT      ENRICH_CONTEXTS_SCHEMA
#define UNSTRUCT_OUT      ENRICH_UNSTRUCT_SCHEMA
#define URI_REDIRECT      "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
#define CONTEXTS_100      "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0"
#define VALIDATION_INFO   "iglu:com.snowplowanalytics.iglu/validation_info/jsonschema/1-0-0"
#define PARENT_EVENT      "iglu:com.snowplowanalytics.snowplow/parent_event/jsonschema/1-0-0"

/* The criteria enrich itself checks, parsed once (enrich_new, enrich_crit_init). */
enum { CRIT_I_PAYLOAD_DATA, CRIT_I_CONTEXTS, CRIT_I_UNSTRUCT, CRIT_I_THRIFT, CRIT_I_N };
extern struct iglu_criterion enrich_crit[CRIT_I_N];
extern const char *const enrich_crit_text[CRIT_I_N];

/*
 * Phase-3 cache of derived-context entities that passed validation, with their JSON text.
 * Enrichments hand out shared, never-modified entities for repeated inputs (ua_parser's context
 * for the same user agent is the same json_t every time; PII copies an entity before changing
 * it), so an entity pointer seen again is the same content: validation is a pure function of
 * schema and instance, and the serialised text does not change. The cache holds a reference, so
 * a cached pointer cannot be freed and reused for another entity. Set-associative by pointer
 * (a set's tags in one cache line, replaced in turn): direct-mapped, ~1,400 shared contexts
 * collided often enough that one event in ten wrote and validated its UA context again.
 */
#define DCACHE_SETS    4096
#define DCACHE_WAYS    4
#define DCACHE_MAXTEXT 8192

struct dcache_set {
	json_t  *ent[DCACHE_WAYS];
	char    *text[DCACHE_WAYS];
	uint32_t len[DCACHE_WAYS];
	unsigned next;                  /* the way replaced next */
};

struct enrich {
	struct iglu_resolver *resolver;
	struct dcache_set dcache[DCACHE_SETS];
	struct enrichments *enrichments;
	struct buf *pii_out;            /* pii_transformation events, or NULL: not written */
	int64_t fixed_ms;
	struct enrich_counts counts;

	/* reused between lines */
	struct buf raw;                 /* decoded Thrift bytes */
	struct buf tmp, tmp2, norm;     /* scratch */
	struct buf col;                 /* column assembly */
	struct thrift_payload tp;
	struct arena arena;
	struct arena evmem;             /* one event's columns (enrich_event.colmem) */
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

/* One event's work (enrich_event_run). */
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

/* enrich_bad.c: JSON values (NULL is JSON null) and bad rows (enriched-event.md §14) */
json_t *jstr(const char *s);
json_t *jstrn(const char *s, size_t n);
json_t *jtstr(const struct tstr *t);
json_t *raw_event_json(struct enrich *e, const struct plist *params);
json_t *partial_event_json(const struct enrich_event *ev);
const char *fail_ts(struct enrich *e);
int emit_row(struct enrich *e, json_t *row, struct buf *bad);
int emit_cpfv(struct enrich *e, json_t *message, const uint8_t *raw, size_t rawlen,
    struct buf *bad);
json_t *msg_fallback(const char *text);
json_t *msg_cp_input(const char *field, json_t *value, const char *expectation);
json_t *msg_input(const char *field, json_t *value, const char *expectation);
int emit_payload_failure(struct enrich *e, const char *schema, json_t *messages, struct buf *bad);

/* enrich.c: one event from e->evp, through phases 1-3 to a TSV line or one bad row. */
int enrich_event_run(struct enrich *e, struct buf *good, struct buf *bad);

/* enrich_adapt.c: the adapter for e->vendor/e->version turns the payload into events (each
 * through enrich_event_run), or one adapter_failures / tracker_protocol_violations row. */
int enrich_adapt(struct enrich *e, struct buf *good, struct buf *bad);

/* enrich_sdj.c: co/cx and ue_pr/ue_px (enriched-event.md §8, §14.3 phase 1b) */
int enrich_crit_init(void);
void phase1_msg(struct evctx *c, json_t *m);
void extract_json_param(struct evctx *c, int plain, int b64);

#endif
