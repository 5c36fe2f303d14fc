/*
 * ins_render: one stored record as the JSON Micro returns for it.
 *
 *  - /micro/good: Micro's GoodEvent (model.scala) {"rawEvent","eventType","schema","contexts",
 *    "event","incomplete"}. "event" is the Analytics-SDK document of common/sdkjson (the one
 *    es-sink indexes). "rawEvent" is derived from the enriched columns, because inspect never
 *    sees what the tracker sent: the parameters carry the enriched values (e.g. the URL after
 *    enrich normalised it), api is assumed tp2, contentType and refererUri are null and headers
 *    empty.
 *  - /micro/bad: Micro's BadEvent {"collectorPayload","rawEvent","errors"} (errors as Micro
 *    writes them, the bad row as an escaped string), plus furrow's readable fields: "type"
 *    (the bad-row type), "badRow" (the row itself, as JSON) and "summary" (one line per failure).
 *  - /micro/events: the SDK document; a failed event's is its pseudo event's with Micro 4.x's
 *    failure entity (iglu:com.snowplowanalytics.snowplow/failure/jsonschema/1-0-0) under
 *    contexts_com_snowplowanalytics_snowplow_failure_1, whose errors are the summaries and whose
 *    data is the bad row.
 */
#ifndef INS_RENDER_H
#define INS_RENDER_H

#include <stddef.h>

#include "buf.h"
#include "ins_store.h"

#define INS_FAILURE_KEY "contexts_com_snowplowanalytics_snowplow_failure_1"

struct ins_render {
	struct buf doc, err, tmp;
};

void ins_render_init(struct ins_render *rd);
void ins_render_free(struct ins_render *rd);

/* Append the JSON of r for each view. Return 0, or -1 when out of memory (or the output cap). */
int ins_render_good(struct ins_render *rd, const struct ins_rec *r, struct buf *out);
int ins_render_bad(struct ins_render *rd, const struct ins_rec *r, struct buf *out);
int ins_render_event(struct ins_render *rd, const struct ins_rec *r, struct buf *out);

/* A JSON string literal of s[0..n), invalid UTF-8 replaced by U+FFFD. */
int ins_json_str(struct buf *out, const char *s, size_t n);

#endif
