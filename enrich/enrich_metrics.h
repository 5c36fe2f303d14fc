/*
 * enrich_metrics: what enrich shows on /metrics and /health (--metrics-listen; metricsd.h).
 * The series are documented in enrich(1), METRICS. Snowplow enrich's own counters (its statsd
 * names raw, good, bad under the prefix snowplow.enrich, Metrics.scala) keep their names with
 * Prometheus's _total; the rest are furrow_enrich_ and furrow_iglu_ series.
 *
 * Health: unhealthy while an output has been unable to take more (a full disk under --output
 * or --bad) for threshold_s seconds or longer.
 */
#ifndef ENRICH_METRICS_H
#define ENRICH_METRICS_H

#include "buf.h"

struct enrich_loop;
struct enrichments;
struct iglu_resolver;

struct enrich_metrics {
	const struct enrich_loop   *l;
	const struct iglu_resolver *resolver;
	const struct enrichments   *enrichments;     /* NULL: none loaded */
	long                        threshold_s;
};

/* metricsd callbacks; arg is a struct enrich_metrics. */
void enrich_metrics_render(struct buf *out, void *arg);
int  enrich_metrics_health(struct buf *why, void *arg);

#endif
