/*
 * metricsd_ev: a metricsd server (metricsd.h) driven by a libevent loop, for a stage whose
 * loop is libevent's rather than poll(2) (the collector). The server's descriptors get one-shot
 * events, re-armed after each turn from metricsd_pollfds, so the request handling, limits and
 * answers are metricsd's own, exactly as on the poll-loop stages.
 */
#ifndef FURROW_METRICSD_EV_H
#define FURROW_METRICSD_EV_H

#include <event2/event.h>

#include "metricsd.h"

struct metricsd_ev;

/* Serve m from base until metricsd_ev_free. NULL when out of memory. m stays the caller's. */
struct metricsd_ev *metricsd_ev_new(struct event_base *base, struct metricsd *m);
void metricsd_ev_free(struct metricsd_ev *e);

#endif
