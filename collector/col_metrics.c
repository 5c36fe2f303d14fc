/*
 * col_metrics: Prometheus counters and histograms of the collector's requests (see
 * col_metrics.h).
 */
#include "col_metrics.h"

#include <stdio.h>
#include <string.h>

#include "col_route.h"
#include "version.h"

static const char *const method_names[] = { "GET", "HEAD", "POST", "OPTIONS", "other" };
static const double metric_bounds[COL_METRIC_BUCKETS] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
};

/* The index of the method in method_names; "other" for any other. */
static int
method_index(const char *method, size_t len)
{
	int i;

	for (i = 0; i < 4; i++)
		if (strlen(method_names[i]) == len && memcmp(method_names[i], method, len) == 0)
			return i;
	return 4;
}

void
col_metrics_record(struct col_metrics *ms, int route, const char *method, size_t method_len,
    int code, double seconds)
{
	struct col_metric *m = NULL;
	size_t i;
	int mi = method_index(method, method_len);

	for (i = 0; i < ms->n; i++)
		if (ms->m[i].route == route && ms->m[i].method == mi && ms->m[i].code == code) {
			m = &ms->m[i];
			break;
		}
	if (m == NULL) {
		if (ms->n == COL_METRIC_MAX)
			return;
		m = &ms->m[ms->n++];
		memset(m, 0, sizeof(*m));
		m->route = (uint8_t)route;
		m->method = (uint8_t)mi;
		m->code = (uint16_t)code;
	}
	m->count++;
	m->seconds += seconds;
	for (i = 0; i < COL_METRIC_BUCKETS; i++)
		if (seconds <= metric_bounds[i]) {
			m->buckets[i]++;
			break;
		}
}

void
col_metrics_render(const struct col_metrics *ms, struct buf *b)
{
	size_t i, k;

	buf_append_str(b, "# HELP http_requests_total Total count of requests\n"
	    "# TYPE http_requests_total counter\n");
	for (i = 0; i < ms->n; i++) {
		const struct col_metric *m = &ms->m[i];

		buf_printf(b, "http_requests_total{endpoint=\"%s\",method=\"%s\",code=\"%u\"} %llu\n",
		    col_route_name(m->route), method_names[m->method], m->code,
		    (unsigned long long)m->count);
	}
	buf_append_str(b, "# HELP http_request_duration_seconds Latency of requests\n"
	    "# TYPE http_request_duration_seconds histogram\n");
	for (i = 0; i < ms->n; i++) {
		const struct col_metric *m = &ms->m[i];
		char lab[128];
		uint64_t cum = 0;

		snprintf(lab, sizeof(lab), "endpoint=\"%s\",method=\"%s\",code=\"%u\"",
		    col_route_name(m->route), method_names[m->method], m->code);
		for (k = 0; k < COL_METRIC_BUCKETS; k++) {
			cum += m->buckets[k];
			buf_printf(b, "http_request_duration_seconds_bucket{%s,le=\"%g\"} %llu\n", lab,
			    metric_bounds[k], (unsigned long long)cum);
		}
		buf_printf(b, "http_request_duration_seconds_bucket{%s,le=\"+Inf\"} %llu\n", lab,
		    (unsigned long long)m->count);
		buf_printf(b, "http_request_duration_seconds_sum{%s} %.9f\n", lab, m->seconds);
		buf_printf(b, "http_request_duration_seconds_count{%s} %llu\n", lab,
		    (unsigned long long)m->count);
	}
	buf_append_str(b, "# HELP service_version Version of this service\n"
	    "# TYPE service_version gauge\n"
	    "service_version{version=\"" FURROW_VERSION "\"} 1\n");
}
