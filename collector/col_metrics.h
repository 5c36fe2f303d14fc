/*
 * col_metrics: the collector's Prometheus metrics (collector.md §12): one series per (route,
 * method, status) seen, with a request-duration histogram, rendered in the text format 0.0.4
 * with the names Snowplow's Scala Stream Collector 0.15-2.5 exposed. The endpoint label is the
 * route name, not the path, so that the number of series stays bounded (COL_METRIC_MAX).
 */
#ifndef COL_METRICS_H
#define COL_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define COL_METRIC_BUCKETS 11
#define COL_METRIC_MAX     256

struct col_metric {
	uint8_t  route;
	uint8_t  method;
	uint16_t code;
	uint64_t count;
	double   seconds;
	uint64_t buckets[COL_METRIC_BUCKETS];
};

struct col_metrics {
	struct col_metric m[COL_METRIC_MAX];
	size_t            n;
};

/* Count one request of route (enum col_route_id) with this method and status, taking seconds.
 * A series beyond COL_METRIC_MAX is not counted. */
void col_metrics_record(struct col_metrics *ms, int route, const char *method, size_t method_len,
    int code, double seconds);
/* The collector's own series, appended to out. */
void col_metrics_render(const struct col_metrics *ms, struct buf *out);

#endif
