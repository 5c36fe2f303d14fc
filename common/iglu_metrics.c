/*
 * iglu_metrics: the resolver's series (see iglu_metrics.h).
 */
#include "iglu_metrics.h"

#include "iglu.h"
#include "metricsd.h"

void
iglu_metrics_render(struct buf *b, const struct iglu_resolver *r)
{
	const struct iglu_stats *s = iglu_resolver_stats(r);

	metrics_counter(b, "furrow_iglu_cache_hits_total",
	    "Schema lookups answered from the resolver's cache", s->hits);
	metrics_counter(b, "furrow_iglu_cache_misses_total",
	    "Schema lookups that went to the registries", s->misses);
	metrics_counter(b, "furrow_iglu_schema_not_found_total",
	    "Registry answers that the schema is not there", s->not_found);
	metrics_counter(b, "furrow_iglu_registry_errors_total",
	    "Registry lookups that failed (unreachable, server error, unusable answer)",
	    s->registry_errors);
}
