/*
 * metricsd_ev: a metricsd server on a libevent loop (see metricsd_ev.h).
 */
#include "metricsd_ev.h"

#include <stdlib.h>

struct metricsd_ev {
	struct event_base *base;
	struct metricsd   *m;
	struct event      *ev[METRICSD_NFDS];
	struct event      *timer;         /* the nearest connection deadline, so that a late
	                                   * connection is dropped though its peer stays silent */
	size_t             n;
};

static void mdev_cb(evutil_socket_t fd, short what, void *arg);

/* One event per descriptor metricsd wants watched now. */
static void
mdev_arm(struct metricsd_ev *e)
{
	struct pollfd p[METRICSD_NFDS];
	size_t i, n = metricsd_pollfds(e->m, p, METRICSD_NFDS);
	int ms = metricsd_timeout_ms(e->m);

	for (i = 0; i < n; i++) {
		short what = (p[i].events & POLLOUT) ? EV_WRITE : EV_READ;

		event_del(e->ev[i]);
		event_assign(e->ev[i], e->base, p[i].fd, what, mdev_cb, e);
		event_add(e->ev[i], NULL);
	}
	for (; i < e->n; i++)
		event_del(e->ev[i]);
	e->n = n;
	event_del(e->timer);
	if (ms >= 0) {
		struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };
		event_add(e->timer, &tv);
	}
}

static void
mdev_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metricsd_ev *e = arg;
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < e->n; i++)
		event_del(e->ev[i]);
	event_del(e->timer);
	/* a poll that does not wait: accepts, reads, writes what is ready; drops the late */
	metricsd_poll(e->m, NULL, 0, 0);
	mdev_arm(e);
}

struct metricsd_ev *
metricsd_ev_new(struct event_base *base, struct metricsd *m)
{
	struct metricsd_ev *e = calloc(1, sizeof(*e));
	size_t i;

	if (e == NULL)
		return NULL;
	e->base = base;
	e->m = m;
	for (i = 0; i < METRICSD_NFDS; i++) {
		/* placeholders, assigned by mdev_arm */
		if ((e->ev[i] = event_new(base, -1, 0, mdev_cb, e)) == NULL) {
			metricsd_ev_free(e);
			return NULL;
		}
	}
	if ((e->timer = evtimer_new(base, mdev_cb, e)) == NULL) {
		metricsd_ev_free(e);
		return NULL;
	}
	mdev_arm(e);
	return e;
}

void
metricsd_ev_free(struct metricsd_ev *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < METRICSD_NFDS; i++)
		if (e->ev[i])
			event_free(e->ev[i]);
	if (e->timer)
		event_free(e->timer);
	free(e);
}
