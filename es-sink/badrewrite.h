/*
 * badrewrite: the bad-row rewrite of sinks.md §2.2 (Snowplow's ESL BadEventTransformer), which
 * renames or stringifies the members whose JSON type varies between bad-row types so that every
 * field keeps one type across documents and Snowplow Mini's `bad` mapping fits.
 */
#ifndef ES_BADREWRITE_H
#define ES_BADREWRITE_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

/*
 * Rewrite a parsed bad row. Returns a new reference to the document to index: the rewritten
 * {"schema","data"} object for a bad row (a `schema` Iglu URI whose vendor contains "badrows",
 * and a `data` member), or row itself (incref'd) for any other JSON. NULL on allocation failure.
 */
json_t *badrewrite(json_t *row);

/*
 * Parse one line (no '\n'; a trailing '\r' is stripped) and append the compact rewritten
 * document to out. Returns 0, or -1 with a reason in err when the line is not JSON.
 */
int badrewrite_line(const char *line, size_t len, struct buf *out, char *err, size_t errlen);

#endif
