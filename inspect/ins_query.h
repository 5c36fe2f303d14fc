/*
 * ins_query: a request to one of the query endpoints, parsed from its query string and JSON
 * body, and the filters that decide which stored records it is about.
 *
 * The request shapes are Snowplow Micro 4.5.2's (model.scala: FiltersGood, FiltersBad,
 * EventsRequest; Routing.scala for which endpoint takes which), with furrow's additions:
 *  - every endpoint takes the wait parameters min (or min_good / min_bad on /micro/all),
 *    wait_ms and settle_ms, in the query string or the body (ins_wait.h holds the request);
 *  - GET /micro/good and /micro/bad take Micro's POST filters in the query string as well,
 *    and both take "event_id" (the UI's side panel fetches one event with it);
 *  - /micro/events takes "search" (a case-insensitive substring of the whole record), the
 *    pseudo-column "schema" (iglu:vendor/name/format/version) in its filters, and both the
 *    4.4+ "values" list and the older single "value" in a filter; page and pageSize default
 *    to 1 and 100 instead of being required;
 *  - /micro/stats (furrow) takes "since", a generation number to wait past.
 *
 * Matching follows Micro's InMemoryStorage: event_type and schema are exact; every listed
 * context must be present; a bad row without a collector payload passes the vendor and version
 * filters; /micro/events filters compare the value as the Analytics SDK prints it, ignoring
 * ASCII case, and any of a filter's values may match (null prints "null").
 */
#ifndef INS_QUERY_H
#define INS_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ins_store.h"

enum ins_endpoint { INS_EP_ALL, INS_EP_GOOD, INS_EP_BAD, INS_EP_EVENTS, INS_EP_STATS };

#define INS_COL_NONE            (-1)                /* a column no event has: matches nothing */

#define INS_QUERY_MAX_FILTERS   32
#define INS_QUERY_MAX_VALUES    64
#define INS_QUERY_MAX_CONTEXTS  32
#define INS_QUERY_MAX_STRING    4096
#define INS_PAGE_SIZE_MAX       10000
#define INS_PAGE_SIZE_DEFAULT   100
#define INS_COLVAL_TMP          2400                /* ins_colval's scratch */

struct ins_colfilter {
	int     col;          /* 0..EVENT_NCOLS-1, INS_COL_GEO_LOCATION, INS_COL_SCHEMA, INS_COL_NONE */
	int     idx;          /* its place in the index, or -1 */
	size_t  nvalues;      /* the non-empty values; none: the filter keeps everything (Micro) */
	char  **values;
	uint64_t *hashes;     /* ins_hash_ci of each value */
};

struct ins_query {
	enum ins_endpoint ep;
	/* /micro/good */
	char   *event_type, *schema;
	char  **contexts;
	size_t  ncontexts;
	/* /micro/bad */
	char   *vendor, *version;
	char   *event_id;             /* good and bad (furrow) */
	long    limit;                /* -1: none (a negative limit given keeps nothing, as Micro) */
	/* /micro/events */
	struct ins_colfilter *filters;
	size_t  nfilters;
	int     valid;                /* -1: all, 1: valid only, 0: failed only */
	int     has_start, has_end;
	int64_t start_ms, end_ms;     /* collector_tstamp in [start, end) */
	int     sort_col;             /* -1: arrival order, newest first */
	int     sort_desc;
	long    page, page_size;
	char   *search;
	/* hashes for the index, set by ins_query_parse */
	uint64_t h_event_type, h_schema, h_event_id;
	/* the wait primitive */
	int     waits;                /* a wait parameter was given */
	long    min, min_good, min_bad;   /* -1: not given */
	long    wait_ms, settle_ms;       /* -1: not given */
	uint64_t since;               /* /micro/stats */
};

/* Why a request was refused: 400 for bad syntax, 422 for a well-formed body of the wrong shape
 * (as http4s answers a circe decoding failure). */
struct ins_query_error {
	int  status;
	char text[256];
};

/*
 * Parse a request. query (the part after '?', may be NULL) is read first, then a JSON body
 * (may be NULL or empty), whose fields win. Returns 0, or -1 with e filled. q must be freed
 * with ins_query_free either way.
 */
int ins_query_parse(struct ins_query *q, enum ins_endpoint ep, const char *query,
    const char *body, size_t body_len, struct ins_query_error *e);
void ins_query_free(struct ins_query *q);

/* Column by the name Micro uses (a column of the SDK document), or INS_COL_NONE. */
int ins_query_column(const char *name);
/* Is name a column Micro cannot filter or sort (contexts_*, unstruct_event*)? */
int ins_query_complex_column(const char *name);

/* 1 when r is one of the records q is about (its kind and filters; not its paging). */
int ins_query_match(const struct ins_query *q, const struct ins_rec *r);
/* The same from a slot of the index: the index answers what it can without the record. */
int ins_query_match_slot(const struct ins_query *q, const struct ins_slot *sl);

/*
 * The value of column col of r as Micro compares it: the SDK document's string, or the compact
 * JSON of a number or boolean ("443", "true", "null"). Writes into tmp (INS_COLVAL_TMP) when it
 * has to convert. Returns 1 and sets *s, *n when the document has the key; 0 when it does not
 * (geo_location without coordinates, the JSON columns).
 */
int ins_colval(const struct ins_rec *r, int col, char *tmp, const char **s, size_t *n);

/* 1 when the record's contexts column names schema uri among its entities. */
int ins_has_context(const struct ins_rec *r, const char *uri);
/* Call fn with each entity schema URI of a contexts column (data[i].schema), in order. Stops
 * when fn returns non-zero. Returns -1 when the text is not the contexts JSON shape. */
int ins_contexts_each(const char *json, size_t len,
    int (*fn)(const char *uri, size_t n, void *arg), void *arg);

/* A text key of what q selects (not how much, nor the wait): equal keys, equal filters. */
int ins_query_key(const struct ins_query *q, struct buf *out);

#endif
