/*
 * ins_store: the events inspect keeps, in arrival order, in bounded memory.
 *
 * Every record is one allocation: a small header, the offsets of the 131 enriched columns, and
 * the text. A good event keeps its enriched TSV line as it came; its columns are that line. A
 * bad row keeps its JSON line and, after it, a "pseudo" enriched line built from what the bad
 * row carries (its partially enriched event, or its raw tracker parameters), so that filters,
 * sorting, column statistics and the /micro/events view treat good and failed events the same
 * way (Micro 4.x shows failed events as incomplete events in one table).
 *
 * Records are numbered by a sequence that never goes back (reset and eviction do not reuse
 * numbers), so "everything newer than N" is a cheap question for held requests. The store
 * never holds more than max_events records or max_bytes bytes (header, offsets, text and the
 * ring slot, rounded as malloc rounds them): adding past either cap evicts the oldest records
 * first, and the eviction counters say how many went. The index (struct ins_slot) is charged too.
 *
 * Ingest does no JSON work for a good event: it finds the 130 tabs, checks the column count
 * and parses collector_tstamp. That is what keeps ingest far above 100k events per CPU-second;
 * the Analytics-SDK JSON is made only when a query asks for an event.
 */
#ifndef INS_STORE_H
#define INS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "event.h"

enum ins_kind { INS_GOOD = 0, INS_BAD = 1 };

/* Pseudo-columns of a record beyond the 131 enriched ones. */
#define INS_COL_GEO_LOCATION  EVENT_NCOLS        /* the SDK's derived "lat,lon" key */
#define INS_COL_SCHEMA        (EVENT_NCOLS + 1)  /* furrow: iglu:vendor/name/format/version */

/*
 * The index: beside each record's pointer, in one contiguous array, its kind, its time and a
 * 64-bit hash of the lower-cased value of the columns people filter on (the ones Micro's
 * persistent storage can filter, plus event and the schema; an empty value hashes as "null",
 * which is how the SDK document prints it). A filter on these columns scans 100k records in a
 * couple of milliseconds without touching the records themselves.
 */
#define INS_NIDX 10

struct ins_rec;

struct ins_slot {
	struct ins_rec *r;
	int64_t         tstamp_ms;
	uint64_t        h[INS_NIDX];
	uint8_t         kind;
};

/* The slot position of column col's hash, or -1 when it is not indexed. */
int ins_index_of(int col);
/* FNV-1a 64 of s[0..n) with ASCII letters lower-cased. */
uint64_t ins_hash_ci(const char *s, size_t n);

struct ins_rec {
	uint64_t seq;
	int64_t  arrived_ms;    /* monotonic clock, ms: what "settled" is measured against */
	int64_t  tstamp_ms;     /* collector_tstamp, ms since the epoch (bad: see ins_badrow.h) */
	uint32_t size;          /* bytes charged to the cap */
	uint32_t line_len;      /* the input line (TSV or JSON), at text */
	uint32_t tsv_off;       /* the columns' text: text + tsv_off (good: 0) */
	uint32_t tsv_len;
	uint16_t vendor_len;    /* bad: the collector payload's vendor and version, after the */
	uint16_t version_len;   /*      pseudo line; 0 when the bad row has none */
	uint8_t  kind;          /* enum ins_kind */
	uint8_t  wide;          /* offsets are uint32_t (a line of 64 KiB or more) */
	uint8_t  badtype;       /* bad: enum ins_badtype (ins_badrow.h) */
	uint8_t  pad;
	/* then EVENT_NCOLS + 1 column start offsets (uint16_t or uint32_t; the last one is
	 * tsv_len + 1), then the line, a NUL, [the pseudo line, a NUL, vendor, version] */
	unsigned char var[];
};

struct ins_store_limits {
	size_t max_events;
	size_t max_bytes;
};

struct ins_store_counts {
	uint64_t in_good, in_bad;           /* stored since start */
	uint64_t evicted_good, evicted_bad; /* pushed out by the caps */
	uint64_t reset_good, reset_bad;     /* dropped by /micro/reset */
	uint64_t rejected_good;             /* lines that were not enriched events (or too long) */
	uint64_t rejected_bad;              /* lines that were not bad rows (JSON objects) */
	uint64_t resets;
};

struct ins_store;

struct ins_store *ins_store_new(const struct ins_store_limits *lim);
void ins_store_free(struct ins_store *s);

/*
 * Add one enriched TSV line (without its '\n'; one trailing '\r' is ignored); now_ms is the
 * monotonic clock in ms (ins_rec.arrived_ms). Returns 0, or -1
 * when the line is not an enriched event (the reason in err; counted in rejected_good) or
 * memory ran out (errno ENOMEM).
 */
int ins_store_add_good(struct ins_store *s, const char *line, size_t len, int64_t now_ms,
    char *err, size_t errlen);
/* Add one bad row (a JSON object, one line). Returns 0 or -1 as above (rejected_bad). wall_ms
 * (ms since the epoch) is the time of a row that carries none. */
int ins_store_add_bad(struct ins_store *s, const char *line, size_t len, int64_t now_ms,
    int64_t wall_ms, char *err, size_t errlen);

/* Count a line of kind k that never reached the store (longer than the line limit). */
void ins_store_reject(struct ins_store *s, enum ins_kind k);

/* Drop every record (Micro's /micro/reset). */
void ins_store_reset(struct ins_store *s);
/* Order the records by tstamp_ms (stable) and number them again: after loading the tails of
 * the good and the bad logs one after the other, so "newest first" means what it says. */
void ins_store_sort_by_time(struct ins_store *s);

size_t ins_store_count(const struct ins_store *s);
size_t ins_store_count_kind(const struct ins_store *s, enum ins_kind k);
size_t ins_store_bytes(const struct ins_store *s);
const struct ins_store_counts *ins_store_counts(const struct ins_store *s);
/* Changes with every add, eviction and reset: what the UI's live view waits on. */
uint64_t ins_store_generation(const struct ins_store *s);
/* The sequence number the next record will get; records are [first_seq, next_seq). */
uint64_t ins_store_next_seq(const struct ins_store *s);
uint64_t ins_store_first_seq(const struct ins_store *s);
/* The record with this sequence number, or NULL (evicted, reset, not yet added). */
const struct ins_rec *ins_store_get(const struct ins_store *s, uint64_t seq);
/* The i-th oldest record, 0 <= i < ins_store_count. */
const struct ins_rec *ins_store_at(const struct ins_store *s, size_t i);
/* Its slot in the index; by sequence number (NULL as ins_store_get). */
const struct ins_slot *ins_store_slot(const struct ins_store *s, size_t i);
const struct ins_slot *ins_store_slot_seq(const struct ins_store *s, uint64_t seq);

/* ---- reading a record ---- */

static inline const char *
ins_rec_line(const struct ins_rec *r)
{
	size_t n = (size_t)EVENT_NCOLS + 1;

	return (const char *)r->var + n * (r->wide ? sizeof(uint32_t) : sizeof(uint16_t));
}

/* The enriched line (good) or the pseudo line (bad): 131 tab-separated columns. */
static inline const char *
ins_rec_tsv(const struct ins_rec *r)
{
	return ins_rec_line(r) + r->tsv_off;
}

static inline uint32_t
ins_rec_off(const struct ins_rec *r, int i)
{
	if (r->wide)
		return ((const uint32_t *)(const void *)r->var)[i];
	return ((const uint16_t *)(const void *)r->var)[i];
}

/* Column col (0..EVENT_NCOLS-1) of r, not NUL-terminated; *len 0 when empty. */
static inline const char *
ins_rec_col(const struct ins_rec *r, int col, size_t *len)
{
	uint32_t a = ins_rec_off(r, col), b = ins_rec_off(r, col + 1);

	*len = b - a - 1;
	return ins_rec_tsv(r) + a;
}

/* A bad row's collector-payload vendor / version ("" when it has none). */
const char *ins_rec_vendor(const struct ins_rec *r, size_t *len);
const char *ins_rec_version(const struct ins_rec *r, size_t *len);

/* Parse an enriched timestamp "YYYY-MM-DD HH:MM:SS[.f]" into ms since the epoch. Returns 0 or
 * -1. */
int ins_parse_tsv_time(const char *s, size_t n, int64_t *ms);
/* Parse an ISO-8601 instant ("YYYY-MM-DDTHH:MM:SS[.f](Z|±HH:MM)") into ms. Returns 0 or -1. */
int ins_parse_iso_time(const char *s, size_t n, int64_t *ms);

#endif
