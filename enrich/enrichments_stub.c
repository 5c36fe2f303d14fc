/*
 * enrichments_stub: stand-ins for the configurable enrichments (enrichments.h) until
 * enrich/enrichments.c exists. They are weak, so a real implementation wins at link time, and
 * the whole file compiles to nothing once enrich/enrichments.c is present. Delete this file
 * when the enrichments branch is merged.
 */
#include "enrichments.h"

#if !__has_include("enrichments.c")
#include <stdio.h>

struct enrichments {
	int unused;
};

__attribute__((weak)) struct enrichments *
enrichments_load(const char *dir, struct iglu_resolver *resolver, char *err, size_t errlen)
{
	(void)resolver;
	snprintf(err, errlen, "%s: enrichments are not available in this build", dir);
	return NULL;
}

__attribute__((weak)) void
enrichments_free(struct enrichments *e)
{
	(void)e;
}

__attribute__((weak)) int
enrichments_apply(struct enrichments *e, enum enrich_stage stage, struct enrich_event *ev,
    json_t *failures)
{
	(void)e;
	(void)stage;
	(void)ev;
	(void)failures;
	return 0;
}
#else
typedef int enrichments_stub_unused;
#endif
