/*
 * igs_metrics: iglu-server's Prometheus series (see igs_metrics.h).
 */
#include "igs_metrics.h"

#include "httpd.h"
#include "igs_api.h"
#include "metricsd.h"

void
igs_metrics_render(struct buf *b, void *arg)
{
	const struct igs_metrics *m = arg;
	const struct igs_api_stats *s = igs_api_stats(m->api);
	const struct httpd_stats *h = httpd_server_stats(m->srv);

	metrics_counter(b, "furrow_iglu_server_requests_total", "API requests handled",
	    s->requests);
	metrics_head(b, "furrow_iglu_server_request_duration_seconds", "histogram",
	    "Time to handle one API request, from its head and body read to its answer made");
	metrics_hist_render(b, "furrow_iglu_server_request_duration_seconds", NULL, &s->seconds);
	metrics_counter(b, "furrow_iglu_server_schema_reads_total",
	    "Reads of one schema, found or not (the misses: furrow_iglu_server_not_found_total)",
	    s->reads);
	metrics_counter(b, "furrow_iglu_server_not_found_total",
	    "Reads of a schema that does not exist (or is not readable with the key)", s->not_found);
	metrics_head(b, "furrow_iglu_server_schema_writes_total", "counter",
	    "Schema writes by outcome");
	metrics_u64(b, "furrow_iglu_server_schema_writes_total", "outcome=\"published\"",
	    s->published);
	metrics_u64(b, "furrow_iglu_server_schema_writes_total", "outcome=\"refused\"",
	    s->refused);
	metrics_u64(b, "furrow_iglu_server_schema_writes_total", "outcome=\"deleted\"",
	    s->deleted);
	metrics_counter(b, "furrow_iglu_server_keys_issued_total", "API keys issued", s->keys);
	metrics_counter(b, "furrow_iglu_server_errors_total",
	    "Requests that failed on the server's side (storage errors)", s->errors);
	metrics_counter(b, "furrow_iglu_server_http_errors_total",
	    "Requests the HTTP layer refused itself (malformed, too large)", h->parse_errors);
	metrics_counter(b, "furrow_iglu_server_timeouts_total",
	    "Connections closed for a request or idle timeout", h->timeouts);
	metrics_counter(b, "furrow_iglu_server_connections_total", "HTTP connections accepted",
	    h->connections);
	metrics_gauge(b, "furrow_iglu_server_connections_open", "Open HTTP connections", h->open);
}
