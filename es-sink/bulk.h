/*
 * bulk: the pure parts of Elasticsearch's _bulk protocol as es-sink uses it (sinks.md §2.3-2.6):
 * action lines, classifying a response (whole request and each item), and the full-jitter
 * exponential back-off. No I/O here, so all of it is unit-tested without a server.
 */
#ifndef ES_BULK_H
#define ES_BULK_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* What to do with one document after a response (§2.5 item level). */
enum bulk_verdict {
	BULK_ACCEPTED = 0,   /* 200, 201, or 409 (already there) */
	BULK_REJECTED,       /* 400: becomes a generic_error bad row */
	BULK_RETRY,          /* 429, 5xx, anything else: send again */
};

/* Request-level outcome (§2.5). */
enum bulk_request {
	BULK_REQ_ITEMS = 0,  /* 2xx with a parsable body: look at the items */
	BULK_REQ_RETRY,      /* connection error, 429, 5xx, other 4xx, unparsable 2xx */
	BULK_REQ_SPLIT,      /* 413: split the batch */
};

#define BULK_REASON_MAX 512

struct bulk_item {
	int               status;
	enum bulk_verdict verdict;
	int               conflict;                  /* 409 */
	char              reason[BULK_REASON_MAX];   /* "<type>: <reason>" when not accepted */
};

/* Append {"index":{"_index":"<index>"[,"_id":"<id>"]}}\n. id may be NULL. Returns 0 or -1. */
int bulk_action(struct buf *out, const char *index, const char *id);

/* Item verdict for an item status. */
enum bulk_verdict bulk_item_verdict(int status);

/* Request outcome for an HTTP status (0 = no response at all). */
enum bulk_request bulk_request_outcome(long http_status);

/*
 * Parse a 2xx _bulk response for nitems actions into items[0..nitems). Returns 0, or -1 with a
 * reason in err when the body is not a bulk response or the item count differs (the caller then
 * retries the whole request). A body starting with "errors":false fills every item as accepted
 * without a full parse.
 */
int bulk_parse_response(const char *body, size_t len, size_t nitems, struct bulk_item *items,
    char *err, size_t errlen);

/* Full-jitter back-off before retry `attempt` (>= 1): uniform in [0, min(cap, base*2^(n-1))]
 * milliseconds, using rnd as the random source. */
uint64_t bulk_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd);

#endif
