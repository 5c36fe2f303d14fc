/*
 * enrichments: Snowplow's configurable enrichments, loaded from the user's own enrichment
 * configuration files (`--enrichments DIR`, one self-describing JSON per file).
 *
 * CONTRACT between enrich's core and the enrichments:
 *  - enrichments_load reads every *.json in dir, validates each against its schema through the
 *    resolver, skips disabled ones, and fails with "<file>: <reason>" for an invalid one.
 *  - The core calls enrichments_apply twice per event, as upstream's EnrichmentManager orders
 *    them (enriched-event.md §10):
 *      ENRICH_STAGE_EARLY  after page/referrer URL parsing and derived_tstamp, before
 *                          event_vendor/name/format/version: IAB, ua_parser,
 *                          currency_conversion, referer_parser, campaign_attribution,
 *                          event_fingerprint, cookie_extractor, http_header_extractor;
 *      ENRICH_STAGE_LATE   after event_vendor/…: ip_lookups, javascript_script (each
 *                          configured script, in file-name order), sql_query, api_request,
 *                          anon_ip, pii.
 *  - A failing enrichment appends enrichment_failures messages ({"enrichment":{schemaKey,
 *    identifier} or null, "message":{...}}) to failures and returns -1; the core then writes
 *    an enrichment_failures bad row instead of the event.
 *  - An enrichment may discard the event (upstream's Dropped: the JavaScript enrichment's
 *    event.drop()): enrichments_apply stops and returns ENRICHMENTS_DROPPED, and the core
 *    writes neither the event nor a bad row, whatever failed before.
 *  - Enrichments that replace the event's contexts or unstruct_event set the event's
 *    contexts_updated / unstruct_updated, and the core validates them again (phase 3).
 */
#ifndef FURROW_ENRICHMENTS_H
#define FURROW_ENRICHMENTS_H

#include <jansson.h>
#include <stddef.h>

#include "enrich_event.h"
#include "iglu.h"

enum enrich_stage { ENRICH_STAGE_EARLY, ENRICH_STAGE_LATE };

struct enrichments;

struct enrichments *enrichments_load(const char *dir, struct iglu_resolver *resolver,
    char *err, size_t errlen);
void enrichments_free(struct enrichments *e);
/* The i-th enrichment loaded (i < n): its Iglu name and how many events it failed on.
 * Returns 0, or -1 past the last. */
int  enrichments_failures(const struct enrichments *e, size_t i, const char **name,
    unsigned long long *failures);

/* 1 when a loaded PII enrichment has emitEvent on (pii_transformation events are made for
 * --pii), else 0 (also for NULL). */
int  enrichments_emit_pii(const struct enrichments *e);

#define ENRICHMENTS_DROPPED 1

/* 0, -1 when some enrichment failed, or ENRICHMENTS_DROPPED. */
int  enrichments_apply(struct enrichments *e, enum enrich_stage stage, struct enrich_event *ev,
    json_t *failures);

#endif
