/*
 * ins_metrics: inspect's /metrics series (--metrics-listen, common/metricsd), from the counters
 * its store, API, wait registry and server keep anyway: events in, stored, evicted and rejected
 * by kind, store bytes, requests by status class and their duration, held requests by outcome,
 * connections, and the Iglu resolver's lookups (/micro/iglu).
 */
#ifndef INS_METRICS_H
#define INS_METRICS_H

#include "buf.h"

struct ins_store;
struct ins_api;
struct ins_wait;
struct ins_http;
struct iglu_resolver;

struct ins_metrics {
	struct ins_store *store;
	struct ins_api   *api;
	struct ins_wait  *wait;
	struct ins_http  *http;
	const struct iglu_resolver *resolver;   /* NULL: no registry, no furrow_iglu_ series */
};

/* metricsd_render_cb; arg: struct ins_metrics. */
void ins_metrics_render(struct buf *out, void *arg);

#endif
