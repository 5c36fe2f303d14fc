/*
 * ins_columns: what /micro/columns, /micro/columnStats and /micro/timeline compute over the
 * store (snowplow-micro 4.5.2 InMemoryStorage.getColumns, getColumnStats, getTimeline;
 * EventStorage.extractColumnsFromEvent).
 *
 * The column names are the keys of the SDK documents of the stored events, plus
 * "<contexts key>.<field>" for the fields of each context entity and "<unstruct key>.<field>"
 * for the fields of the self-describing event. Micro builds every document again on every
 * call; inspect keeps the set and reads only the records added since the last call, parsing
 * just their JSON columns (the 128 atomic keys are the same for every event). A column seen in
 * a record that was evicted since stays in the set until /micro/reset.
 */
#ifndef INS_COLUMNS_H
#define INS_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ins_store.h"

#define INS_COLUMNS_MAX        10000   /* distinct column names kept */
#define INS_COLSTATS_VALUES    20      /* distinct values per column, as Micro */
#define INS_TIMELINE_BUCKETS   2000

struct ins_columns;

struct ins_columns *ins_columns_new(void);
void ins_columns_free(struct ins_columns *c);
/* Forget everything (after /micro/reset). */
void ins_columns_reset(struct ins_columns *c);
/* Read the records added since the last call. Returns 0 or -1 (out of memory). */
int ins_columns_update(struct ins_columns *c, const struct ins_store *st);
/* The sorted JSON array of names. */
int ins_columns_write(const struct ins_columns *c, struct buf *out);

/* /micro/columnStats: body {"columns":[…]} → {"col":{"sortable","filterable","values"},…}.
 * Returns 0, or an HTTP status (400 not JSON, 422 wrong shape) with a reason in err. */
int ins_columnstats(const struct ins_store *st, const char *body, size_t len, struct buf *out,
    char *err, size_t errlen);

/* /micro/timeline: body {"buckets":[{"start","end"},…]} → {"points":[{"validEvents",
 * "failedEvents","bucket":{…}},…]}, counting collector_tstamp in [start, end). */
int ins_timeline(const struct ins_store *st, const char *body, size_t len, struct buf *out,
    char *err, size_t errlen);

#endif
