/*
 * ins_metrics: inspect's Prometheus series (see ins_metrics.h).
 */
#include "ins_metrics.h"

#include <stdio.h>

#include "iglu_metrics.h"
#include "ins_api.h"
#include "ins_http.h"
#include "ins_store.h"
#include "ins_wait.h"
#include "metricsd.h"

static void
by_kind(struct buf *b, const char *name, const char *type, const char *help, uint64_t good,
    uint64_t bad)
{
	metrics_head(b, name, type, help);
	metrics_u64(b, name, "kind=\"good\"", good);
	metrics_u64(b, name, "kind=\"bad\"", bad);
}

void
ins_metrics_render(struct buf *b, void *arg)
{
	const struct ins_metrics *m = arg;
	const struct ins_store_counts *c = ins_store_counts(m->store);
	const struct ins_api_stats *s = ins_api_stats(m->api);
	const struct ins_wait_stats *w = ins_wait_stats(m->wait);
	const struct ins_http_stats *h = ins_http_stats(m->http);
	char lab[32];
	int k;

	by_kind(b, "furrow_inspect_events_in_total", "counter",
	    "Good events and bad rows stored since start", c->in_good, c->in_bad);
	by_kind(b, "furrow_inspect_events_stored", "gauge", "Good events and bad rows held now",
	    ins_store_count_kind(m->store, INS_GOOD), ins_store_count_kind(m->store, INS_BAD));
	by_kind(b, "furrow_inspect_events_evicted_total", "counter",
	    "Records pushed out by --max-events or --max-bytes", c->evicted_good, c->evicted_bad);
	by_kind(b, "furrow_inspect_lines_rejected_total", "counter",
	    "Input lines that were not enriched events or bad rows, or too long",
	    c->rejected_good, c->rejected_bad);
	metrics_gauge(b, "furrow_inspect_store_bytes", "Bytes the store is charged for now",
	    (double)ins_store_bytes(m->store));
	metrics_counter(b, "furrow_inspect_resets_total", "Resets by /micro/reset", c->resets);
	metrics_head(b, "furrow_inspect_requests_total", "counter",
	    "HTTP requests answered, by status class");
	for (k = 1; k <= 5; k++) {
		snprintf(lab, sizeof(lab), "code=\"%dxx\"", k);
		metrics_u64(b, "furrow_inspect_requests_total", lab, s->by_class[k]);
	}
	metrics_head(b, "furrow_inspect_request_duration_seconds", "histogram",
	    "Time from a request coming in (a held one: its wait ending) to its answer starting");
	metrics_hist_render(b, "furrow_inspect_request_duration_seconds", NULL, &s->seconds);
	metrics_counter(b, "furrow_inspect_requests_unauthorized_total",
	    "Requests refused for a missing or wrong token", s->unauthorized);
	metrics_gauge(b, "furrow_inspect_waits_held", "Requests held waiting for events now",
	    (double)w->now_held);
	metrics_head(b, "furrow_inspect_waits_total", "counter",
	    "Held requests (?wait=) by how they ended");
	metrics_u64(b, "furrow_inspect_waits_total", "outcome=\"answered\"", w->answered);
	metrics_u64(b, "furrow_inspect_waits_total", "outcome=\"timed_out\"", w->timed_out);
	metrics_u64(b, "furrow_inspect_waits_total", "outcome=\"gone\"", w->gone);
	metrics_u64(b, "furrow_inspect_waits_total", "outcome=\"refused\"", w->refused);
	metrics_gauge(b, "furrow_inspect_connections_open", "Open HTTP connections", h->open);
	metrics_counter(b, "furrow_inspect_connections_total", "HTTP connections accepted",
	    h->connections);
	if (m->resolver)
		iglu_metrics_render(b, m->resolver);
}
