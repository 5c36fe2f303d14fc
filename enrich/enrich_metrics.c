/*
 * enrich_metrics: enrich's series and health (see enrich_metrics.h).
 */
#include "enrich_metrics.h"

#include <stdio.h>

#include "badrow.h"
#include "enrich.h"
#include "enrichments.h"
#include "iglu_metrics.h"
#include "loop.h"
#include "metricsd.h"
#include "stream.h"
#include "timefmt.h"

void
enrich_metrics_render(struct buf *b, void *arg)
{
	const struct enrich_metrics *m = arg;
	const struct enrich_loop *l = m->l;
	const struct enrich_counts *c = enrich_counts(l->e);
	const char *name;
	unsigned long long n;
	char lab[192], esc[128];
	size_t i;

	metrics_counter(b, "snowplow_enrich_raw_total",
	    "Raw collector records read (Snowplow enrich's raw counter)", c->lines);
	metrics_counter(b, "snowplow_enrich_good_total",
	    "Enriched events written (Snowplow enrich's good counter)", c->good);
	metrics_counter(b, "snowplow_enrich_bad_total",
	    "Bad rows written (Snowplow enrich's bad counter)", c->bad);
	metrics_head(b, "furrow_enrich_bad_rows_total", "counter", "Bad rows written, by bad-row type");
	for (i = 0; i < BADROW_T_N; i++) {
		snprintf(lab, sizeof(lab), "type=\"%s\"", badrow_type_name((enum badrow_type)i));
		metrics_u64(b, "furrow_enrich_bad_rows_total", lab, c->bad_by_type[i]);
	}
	metrics_counter(b, "furrow_enrich_empty_lines_total", "Empty input lines, ignored",
	    c->empty);
	metrics_counter(b, "snowplow_enrich_dropped_total",
	    "Events a JavaScript enrichment discarded (Snowplow enrich's dropped counter)",
	    c->dropped);
	metrics_counter(b, "furrow_enrich_pii_events_total",
	    "pii_transformation events written (PII enrichment's emitEvent)", c->pii);
	metrics_counter(b, "furrow_enrich_input_bytes_total",
	    "Input bytes read, newlines included", l->stats.bytes_in);
	metrics_head(b, "furrow_enrich_output_bytes_total", "counter",
	    "Bytes handed on to an output");
	metrics_u64(b, "furrow_enrich_output_bytes_total", "output=\"good\"", l->stats.bytes_good);
	metrics_u64(b, "furrow_enrich_output_bytes_total", "output=\"bad\"", l->stats.bytes_bad);
	metrics_head(b, "furrow_enrich_queue_bytes", "gauge",
	    "Bytes enriched and not yet handed on to an output");
	metrics_u64(b, "furrow_enrich_queue_bytes", "output=\"good\"", stream_sink_pending(l->good));
	metrics_u64(b, "furrow_enrich_queue_bytes", "output=\"bad\"", stream_sink_pending(l->bad));
	metrics_counter(b, "furrow_enrich_output_blocked_total",
	    "Times an output could not take more (full disk); reading stops meanwhile",
	    l->stats.blocked_total);
	metrics_gauge(b, "furrow_enrich_output_blocked_seconds",
	    "How long the output has been blocked now (0: not blocked)",
	    l->stats.blocked_since_ms ?
	    (double)(timefmt_mono_ms() - l->stats.blocked_since_ms) / 1000.0 : 0.0);
	metrics_head(b, "furrow_enrich_processing_seconds", "histogram",
	    "Time to enrich one raw record (all the events in it)");
	metrics_hist_render(b, "furrow_enrich_processing_seconds", NULL, &l->stats.latency);
	metrics_head(b, "furrow_enrich_enrichment_failures_total", "counter",
	    "Events an enrichment failed on (each becomes an enrichment_failures bad row)");
	for (i = 0; enrichments_failures(m->enrichments, i, &name, &n) == 0; i++) {
		snprintf(lab, sizeof(lab), "enrichment=\"%s\"",
		    metrics_label_escape(name, esc, sizeof(esc)));
		metrics_u64(b, "furrow_enrich_enrichment_failures_total", lab, n);
	}
	iglu_metrics_render(b, m->resolver);
}

int
enrich_metrics_health(struct buf *why, void *arg)
{
	const struct enrich_metrics *m = arg;
	int64_t since = m->l->stats.blocked_since_ms;

	if (since && timefmt_mono_ms() - since >= (int64_t)m->threshold_s * 1000) {
		buf_printf(why, "output blocked for %llds (threshold %lds): %s",
		    (long long)((timefmt_mono_ms() - since) / 1000), m->threshold_s,
		    stream_sink_error(m->l->good)[0] ? stream_sink_error(m->l->good) :
		    stream_sink_error(m->l->bad));
		return 0;
	}
	return 1;
}
