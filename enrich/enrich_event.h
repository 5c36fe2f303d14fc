/*
 * enrich_event: one event as it moves through enrich. The core (the adapters, the parameter
 * map, the derived columns) fills it; the configurable enrichments (enrichments.h) read and
 * amend it; the TSV writer prints col[] in column order.
 *
 * This struct is the contract between enrich's core and its enrichments: add fields freely,
 * do not change the meaning of the ones here.
 */
#ifndef FURROW_ENRICH_EVENT_H
#define FURROW_ENRICH_EVENT_H

#include <jansson.h>
#include <stddef.h>

#include "event.h"
#include "thrift.h"

struct arena;

/* The wrappers of the contexts/derived_contexts and unstruct_event columns (enriched-event.md
 * §8): the core writes them, an enrichment that changes an entity writes its column again. */
#define ENRICH_CONTEXTS_SCHEMA "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
#define ENRICH_UNSTRUCT_SCHEMA "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"

/* One tracker parameter after query-string/body merging (tracker-protocol.md §3, §6). */
struct raw_param {
	char *name;
	char *value;
};

struct enrich_event {
	char *col[EVENT_NCOLS];               /* NUL-terminated; NULL = empty column; set them
	                                         through enrich_event_set */
	struct arena *colmem;                 /* where the columns live: enrich's per-event arena
	                                         (a column set again leaves the old text there
	                                         until the event ends), or NULL: each column is
	                                         malloc'd, owned by the event and freed by the
	                                         setter (an event built by hand, as in tests) */
	const struct thrift_payload *payload; /* the collector payload: headers, IP, UA, ... */
	struct raw_param *params;             /* the event's raw parameters, in arrival order */
	size_t n_params;
	json_t *contexts;                     /* validated entities from co/cx (array) or NULL */
	json_t *unstruct;                     /* validated {schema,data} from ue_pr/ue_px or NULL */
	json_t *derived;                      /* entities added by enrichments (array), or NULL */
	int64_t collector_tstamp_ms;
	int useragent_empty;                  /* col[COL_USERAGENT] is NULL but the payload's
	                                         User-Agent was there, empty: upstream's useragent
	                                         is "" rather than null (ua_parser parses it) */
	int contexts_updated;                 /* an enrichment replaced contexts / unstruct (and */
	int unstruct_updated;                 /* rewrote the column): validated again, phase 3 */
	json_t *pii;                          /* the pii_transformation entity {schema,data} for
	                                         the second event (PII's emitEvent), or NULL */
	int64_t etl_ms;                       /* the processing time (ms since the epoch) */
};

/* Set a column to a copy of s[0..len) (NULL or len 0 clears it). Returns 0 or -1. */
int enrich_event_set(struct enrich_event *ev, int col, const char *s, size_t len);
int enrich_event_set_str(struct enrich_event *ev, int col, const char *s);
/*
 * Append an entity ({schema,data}, stolen) to derived contexts. Returns 0 or -1. An entity may
 * be shared between events (an enrichment's cache), but must never be modified once added: the
 * core caches the validation result and JSON text of an entity by its pointer.
 */
int enrich_event_add_derived(struct enrich_event *ev, json_t *entity);

#endif
