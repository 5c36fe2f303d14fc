/*
 * igs_metrics: iglu-server's /metrics series (--metrics-listen, common/metricsd), from the
 * counters its API and HTTP server keep anyway: requests and their duration, schema reads and
 * misses, writes (published, refused, deleted), keys issued, errors, connections.
 */
#ifndef IGS_METRICS_H
#define IGS_METRICS_H

#include "buf.h"

struct igs_api;
struct httpd_server;

struct igs_metrics {
	const struct igs_api      *api;
	const struct httpd_server *srv;
};

/* metricsd_render_cb; arg: struct igs_metrics. */
void igs_metrics_render(struct buf *out, void *arg);

#endif
