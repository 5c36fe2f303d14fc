/*
 * iglu_metrics: the Iglu resolver's series (furrow_iglu_*) for the /metrics page of every stage
 * that resolves schemas (enrich, pg-sink, inspect), written in one place so that the names
 * and help texts are the same everywhere. The counts are iglu.h's struct iglu_stats; Snowplow's
 * components have no such metrics, so the names follow Prometheus's conventions.
 */
#ifndef FURROW_IGLU_METRICS_H
#define FURROW_IGLU_METRICS_H

#include "buf.h"

struct iglu_resolver;

/* furrow_iglu_cache_hits_total, furrow_iglu_cache_misses_total,
 * furrow_iglu_schema_not_found_total and furrow_iglu_registry_errors_total of r. */
void iglu_metrics_render(struct buf *b, const struct iglu_resolver *r);

#endif
