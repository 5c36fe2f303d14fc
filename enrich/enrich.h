/*
 * enrich: the per-line core of the enrich stage as a library call, so that main.c, the unit
 * and golden tests and the fuzzer all run exactly the same code: one raw line (base64 Thrift
 * CollectorPayload, enriched-event.md §1) in, zero or more 131-column TSV lines and bad rows
 * out (enriched-event.md §2, §14).
 */
#ifndef FURROW_ENRICH_H
#define FURROW_ENRICH_H

#include <stddef.h>
#include <stdint.h>

#include "badrow.h"
#include "buf.h"

struct iglu_resolver;
struct enrichments;

#define ENRICH_ARTIFACT   "furrow-enrich"
#define ENRICH_MAX_DEPTH  40

struct enrich_counts {
	unsigned long long lines;       /* non-empty raw lines processed */
	unsigned long long empty;       /* empty lines, ignored */
	unsigned long long good;        /* TSV lines written */
	unsigned long long bad;         /* bad rows written */
	unsigned long long dropped;     /* events an enrichment discarded (JavaScript drop()) */
	unsigned long long pii;         /* pii_transformation events written (PII emitEvent) */
	unsigned long long bad_by_type[BADROW_T_N];   /* bad rows by bad-row type */
};

struct enrich;

/* resolver may be NULL (no Iglu validation: every schema passes; tests only). enrichments may
 * be NULL. Neither is owned. */
struct enrich *enrich_new(struct iglu_resolver *resolver, struct enrichments *enrichments);
void enrich_free(struct enrich *e);

/* Fix the processing time (ms since the epoch) for reproducible output; 0 = the clock. */
void enrich_set_clock(struct enrich *e, int64_t fixed_ms);

/* Where the PII enrichment's pii_transformation events go (emitEvent); NULL (the default):
 * they are not produced, as upstream without a "pii" output. Not owned. */
void enrich_set_pii_output(struct enrich *e, struct buf *pii);

/* Process one raw line (without '\n'; a trailing '\r' is stripped). TSV lines are appended to
 * good, bad rows to bad. Returns 0, or -1 when an output buffer could not grow. */
int enrich_line(struct enrich *e, const char *line, size_t len, struct buf *good, struct buf *bad);

/* One raw record as a message carries it: the Thrift bytes themselves (a Kafka topic), where
 * enrich_line takes their base64. An empty one is counted as an empty line. */
int enrich_payload(struct enrich *e, const uint8_t *raw, size_t len, struct buf *good,
    struct buf *bad);

/*
 * An output that takes records of at most good_max / bad_max bytes (0: no limit; a Kafka
 * topic's message.max.bytes): the lines appended since good_from / bad_from that are longer
 * become size_violation bad rows holding their first tenth, as Snowplow enrich makes them
 * ("Enriched event exceeds ...", "Event failed enrichment and resulting bad row exceeds ...").
 * Returns 0, or -1 when an output buffer could not grow.
 */
int enrich_fit(struct enrich *e, struct buf *good, size_t good_from, size_t good_max,
    struct buf *bad, size_t bad_from, size_t bad_max);

/* A raw line longer than max_bytes: a size_violation bad row holding its first max_bytes / 10
 * bytes. */
int enrich_line_too_long(struct enrich *e, const char *prefix, size_t prefix_len,
    size_t actual_bytes, size_t max_bytes, struct buf *bad);

const struct enrich_counts *enrich_counts(const struct enrich *e);

#endif
