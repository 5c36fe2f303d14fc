/*
 * adapt: the webhook adapters, enrich's path -> events step for every /{vendor}/{version} that
 * is not the Snowplow tracker protocol (tp1, tp2 and the redirect adapter live in
 * enrich_adapt.c).
 * Upstream: snowplow/enrich 6.10.0 modules/common/.../adapters/AdapterRegistry.scala and
 * adapters/registry/<Vendor>Adapter.scala; the schemas are enrich's reference.conf
 * `adaptersSchemas`.
 *
 * CONTRACT between enrich_adapt.c and the adapters:
 *  - enrich_adapt.c finds an adapter with adapt_find(vendor, version), fills a struct adapt_req
 *    from the collector payload (the query string as upstream's toMap(querystring) sees it, the
 *    body as valid UTF-8, the content type) and calls its run function.
 *  - An adapter either fills out->fail with adapter_failures messages (enriched-event.md §14.3:
 *    {field,value,expectation}, {field,value,error}, {json,error},
 *    {actual,expectedMapping,expectation}) and produces no event, or produces one or more raw
 *    events: parameters in upstream's order (an smap) and, for the Cloudfront access log and
 *    Urban Airship, a replacement for part of the payload's context (timestamp, IP, user
 *    agent). Upstream's rawEventsListProcessor rule holds: one failing event fails the payload.
 *  - run returns 0, or -1 when memory ran out (enrich then gives up on the line).
 * Adapters never print, never exit, and treat every byte of the request as hostile.
 */
#ifndef FURROW_ENRICH_ADAPT_H
#define FURROW_ENRICH_ADAPT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ajson.h"
#include "scala.h"
#include "smap.h"

/* Tracker-protocol keys a webhook's query string may set on its events (Adapter.scala
 * AcceptedQueryParameters). */
#define ADAPT_ACCEPTED_QS "nuid aid cv eid ttm url"

struct adapt_req {
	const char *vendor, *version;
	const struct smap *qs;        /* toMap(querystring): decoded, last value wins, None kept */
	const char *body;             /* NULL = no body; else valid UTF-8 */
	size_t body_len;
	const char *content_type;     /* NULL = none (the collector lower-cases it) */
	int max_depth;                /* maxJsonDepth, 40 */
};

/* CollectorPayload.Context fields an adapter replaces. */
struct adapt_ctx {
	int has_ts;                   /* collector_tstamp */
	int64_t ts_ms;
	int replace;                  /* Cloudfront: a new context: ip, ua; no referer, headers,
	                               * network user id */
	char *ip, *ua;                /* NULL = None (when replace is set) */
};

struct adapt_event {
	struct smap params;
	struct adapt_ctx ctx;
};

struct adapt_out {
	struct adapt_event *ev;
	size_t n, cap;
	json_t *fail;                 /* NULL, or an array of adapter failure messages */
};

typedef int (*adapt_fn)(const struct adapt_req *req, struct adapt_out *out);

struct adapt_def {
	const char *vendor, *version;
	adapt_fn run;
};

const struct adapt_def *adapt_find(const char *vendor, const char *version);

void adapt_out_init(struct adapt_out *out);
void adapt_out_free(struct adapt_out *out);
/* A new empty event at the end of out, or NULL. */
struct adapt_event *adapt_event_new(struct adapt_out *out);
/* Drop every event (a later one failed). */
void adapt_events_clear(struct adapt_out *out);

/* ---- failures (FailureDetails.AdapterFailure) ---- */

/* InputData(field, value, expectation); value NULL = None. -1 on allocation failure. */
int adapt_fail_input(struct adapt_out *out, const char *field, const char *value,
    const char *expectation);
int adapt_fail_input_n(struct adapt_out *out, const char *field, size_t flen,
    const char *value, size_t vlen, const char *expectation);
/* NotJson(field, value, error). */
int adapt_fail_notjson(struct adapt_out *out, const char *field, const char *value,
    size_t vlen, const char *error);
/* NotIglu(json, error code). json is stolen. */
int adapt_fail_notiglu(struct adapt_out *out, json_t *json, const char *code);

/* An event type -> schema table (an adapter's EventSchemaMap, in source order). */
struct adapt_type {
	const char *type;
	const char *schema;           /* "iglu:…" */
};

/* Adapter.lookupSchema: the schema for type (NULL = not provided), or NULL after adding a
 * SchemaMapping failure. index >= 0 gives the "at index N" wording of multi-event payloads. */
const char *adapt_lookup_schema(struct adapt_out *out, const char *type,
    const struct adapt_type *map, size_t n, long index);

/* The body and content-type checks most adapters start with, in upstream's order: no body;
 * (ADAPT_NONEMPTY) an empty body; no content type ("no content type: expected CT"); another
 * content type ("expected CT"; ADAPT_CT_CONTAINS: one that does not contain CT; ADAPT_CT_NOVALUE:
 * reported without the value, as Olark does). body_msg is the "empty body: …" text. Returns 1
 * when a failure was added, 0 to go on, -1 when memory ran out. ct NULL skips the type checks. */
#define ADAPT_NONEMPTY    1u
#define ADAPT_CT_CONTAINS 2u
#define ADAPT_CT_NOVALUE  4u
int adapt_check_body(const struct adapt_req *req, struct adapt_out *out, const char *ct,
    unsigned flags, const char *body_msg);

/* circe's hcursor.get[String](key): the string member, or NULL with msg holding the
 * DecodingFailure text ("DecodingFailure at .key: Missing required field" / "…: Got value
 * '1' with wrong type, expecting string"). msg may be NULL. */
const struct ajson *adapt_get_string(const struct ajson *obj, const char *key, char *msg,
    size_t msglen);
/* circe's as[Long] on a value (a number, or a string holding one). 0 ok, -1 not. */
int adapt_json_long(const struct ajson *j, int64_t *v);
/* The end of rawEventsListProcessor: any failure drops every event; no event and no failure is
 * InputData("", None, "empty list of events"). 0 or -1. */
int adapt_finish_list(struct adapt_out *out);
/* JsonUtils.stripInstanceEtc on an error text (tabs to four spaces, controls dropped, trimmed),
 * into out. */
void adapt_strip_message(const char *m, char *out, size_t outlen);

/* ---- events ---- */

/* toUnstructEventParams(tracker, qs, schema, data, platform): an event whose parameters are
 * Map("tv" -> tracker, "e" -> "ue", "p" -> qs p or platform, "ue_pr" -> the unstruct_event
 * wrapping schema + data) ++ qs's accepted keys. data is borrowed. NULL on failure. */
struct adapt_event *adapt_unstruct(struct adapt_out *out, const char *tracker,
    const struct smap *qs, const char *schema, const struct ajson *data, const char *platform);

/* ---- conversions shared by the adapters ---- */

/* Adapter.buildFormatter: a JSON object from string parameters, in the smap's order, with the
 * keys in bools ("true"/"false" -> booleans), ints (integer text -> numbers) and datetimes
 * (Joda "yyyy-MM-dd HH:mm:ss" in UTC -> ISO) converted; "" and None become null. Each list
 * is space-separated names, or NULL. */
struct ajson *adapt_format(const struct smap *params, const char *bools, const char *ints,
    const char *datetimes);

/* ConversionUtils.parseUrlEncodedForm / URLEncodedUtils.parse(URI.create("http://localhost/?"
 * + body)): 0 with the pairs in m (last value wins, name without '=' = None), or -1 with err
 * holding java.net.URI's message ("Illegal character in query at index N: http://…"), or -2
 * when memory ran out. */
int adapt_form_parse(const char *body, size_t len, struct smap *m, char *err, size_t errlen);

/* JsonUtils.toJsonSchemaDateTime with pattern "yyyy-MM-dd HH:mm:ss" (UTC): 0 with the ISO
 * text in out (the input as it was when it does not parse as Joda would). */
void adapt_joda_datetime(const char *s, size_t len, struct buf *out);
/* Joda's DateTime.parse / new DateTime(String) for the calendar forms of ISO 8601:
 * yyyy[-MM[-dd]] then optionally 'T' HH[:mm[:ss[.fraction]]] and an offset Z or ±HH[[:]mm]
 * (no offset: UTC, the zone of Snowplow's images). 0 with ms since the epoch, or -1 with
 * Joda's message ("Invalid format: \"aTb+00:00\"", "Cannot parse …: Value 13 for monthOfYear
 * must be in the range [1,12]"). */
int adapt_iso_parse(const char *s, size_t len, int64_t *ms, char *err, size_t errlen);
/* Joda's "yyyy-MM-dd'T'HH:mm:ss.SSS'Z'" printing of ms since the epoch in UTC. */
void adapt_iso_ms(int64_t ms, char out[48]);
/* circe's JsonNumber.toLong: the literal as an exact long. 0 ok, -1 not a whole long. */
int adapt_num_long(const char *lit, size_t len, int64_t *v);
/* circe's Decoder[Int] on a value (a number, or a string holding one). 0 ok, -1 not. */
int adapt_json_int(const struct ajson *j, int32_t *v);

/* Adapter.cleanupJsonEventValues: timestamp fields (seconds) to ISO text, the event-type key
 * removed, every object re-keyed as Scala's obj.toMap orders it. Rewrites j in place. */
int adapt_cleanup(struct ajson *j, const char *type_key, const char *type_value,
    const char *const *ts_keys);
/* Adapter.camelize: every key to camelCase ("x-mailgun-sid" -> "xMailgunSid"). */
int adapt_camelize(struct ajson *j);
/* Reorder an object's members as Scala's `obj.toMap` iterates them (no-op for 4 or fewer). */
void adapt_scala_order(struct ajson *obj);

/* The adapters (adapt_iglu.c, adapt_vendors.c, adapt_cloudfront.c, adapt_ga.c). */
int adapt_iglu_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_callrail_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_cloudfront_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_mailchimp_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_mailgun_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_ga_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_mandrill_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_olark_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_pagerduty_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_pingdom_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_sendgrid_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_statusgator_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_unbounce_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_urbanairship_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_marketo_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_vero_run(const struct adapt_req *req, struct adapt_out *out);
int adapt_hubspot_run(const struct adapt_req *req, struct adapt_out *out);

#endif
