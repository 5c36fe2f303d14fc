/*
 * ins_badrow: what inspect makes of a bad row (enriched-event.md §14).
 *
 * At ingest, ins_badrow_ingest reads the row once with jansson and builds a "pseudo" enriched
 * line: the 131 columns of the failed event as far as the row tells them (the partially
 * enriched event of schema_violations and enrichment_failures, else the tracker parameters of
 * the raw event or the collector payload), with the columns the Analytics SDK requires always
 * filled (event_id, collector_tstamp, v_collector, v_etl) and every column the SDK would refuse
 * left empty. That line is what filters, sorting and /micro/events see.
 *
 * At query time, ins_badrow_summaries turns each failure message into one readable line
 * ("iglu:com.acme/checkout/jsonschema/1-0-0: $.total: string found, integer expected") instead
 * of the escaped JSON strings Micro returns in errors[] (snowplow-micro #74), and
 * ins_badrow_micro writes Micro's collectorPayload / rawEvent objects from the row's payload.
 */
#ifndef INS_BADROW_H
#define INS_BADROW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum ins_badtype {
	INS_BT_OTHER = 0,
	INS_BT_SIZE_VIOLATION,
	INS_BT_CPFV,                /* collector_payload_format_violation */
	INS_BT_ADAPTER,             /* adapter_failures */
	INS_BT_TPV,                 /* tracker_protocol_violations */
	INS_BT_SCHEMA,              /* schema_violations */
	INS_BT_ENRICHMENT,          /* enrichment_failures */
	INS_BT_GENERIC,             /* generic_error */
	INS_BT_LOADER_PARSING,      /* loader_parsing_error */
	INS_BT_COUNT
};

#define INS_BADROW_VENDOR_MAX  64     /* badrows schema limits (enriched-event.md §14.5) */
#define INS_BADROW_VERSION_MAX 16
#define INS_SUMMARY_MAX        512    /* characters of one summary line */
#define INS_SUMMARIES_MAX      50     /* summary lines of one bad row */

struct ins_badrow_meta {
	enum ins_badtype type;
	int64_t          tstamp_ms;
	char             vendor[INS_BADROW_VENDOR_MAX + 1];   /* "" when none */
	char             version[INS_BADROW_VERSION_MAX + 1];
};

/* The type's name as in the schema URI ("schema_violations"), "bad_row" for INS_BT_OTHER. */
const char *ins_badtype_name(enum ins_badtype t);

/*
 * Parse one bad row line. On success fills meta, appends the pseudo enriched line (131 columns,
 * no '\n') to pseudo and returns 0. Returns -1 with a reason in err when the line is not a JSON
 * object. now_ms (ms since the epoch) stands in for a row without any timestamp.
 */
int ins_badrow_ingest(const char *line, size_t len, int64_t now_ms, struct buf *pseudo,
    struct ins_badrow_meta *meta, char *err, size_t errlen);

/* Append a JSON array of readable one-line summaries, one per failure message. Returns 0 or
 * -1 (out of memory). */
int ins_badrow_summaries(const json_t *row, struct buf *out);
/* The one-line summaries themselves, for the failure context of /micro/events: calls fn for
 * each. */
void ins_badrow_each_summary(const json_t *row, void (*fn)(const char *line, void *arg),
    void *arg);

/* Micro's BadEvent fields from the row: appends "collectorPayload":…,"rawEvent":…,"errors":[…]
 * (without braces). Returns 0 or -1. */
int ins_badrow_micro(const json_t *row, const char *line, size_t len, struct buf *out);

#endif
