/*
 * mapping: furrow's index settings and mappings (sinks.md §2.9, from Snowplow Mini's
 * good-mapping.json and bad-mapping.json) and the --setup procedure that creates an index with
 * them when it is missing.
 */
#ifndef ES_MAPPING_H
#define ES_MAPPING_H

#include <jansson.h>

#include "esclient.h"

enum mapping_kind { MAPPING_GOOD, MAPPING_BAD, MAPPING_NONE };

/* The PUT /<index> body: settings (with the analysis block when with_analysis) and mappings.
 * MAPPING_NONE gives settings only. New reference. */
json_t *mapping_body(enum mapping_kind kind, int with_analysis);

/*
 * HEAD /<index>; when 404, PUT it with mapping_body(kind, 1), and once more without the analysis
 * block if the engine does not know the analysis components. An index created meanwhile by
 * someone else (resource_already_exists_exception) is fine. Returns 1 created, 0 already there,
 * -1 with a reason in err.
 */
int mapping_setup(struct esclient *c, const char *index, enum mapping_kind kind, char *err,
    size_t errlen);

#endif
