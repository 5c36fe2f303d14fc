/*
 * ins_wait: held requests, grouped by filter, woken by ingest (see ins_wait.h).
 */
#include "ins_wait.h"

#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <event2/http.h>

#include "buf.h"
#include "ins_http.h"
#include "timefmt.h"

struct group;

struct waiter {
	struct ins_wait *w;
	struct group *g;
	struct waiter *prev, *next;      /* within the group */
	struct evhttp_request *req;
	struct ins_query q;
	struct event *deadline, *settle, *watch;
};

#define DISPATCH_BUCKETS 1024       /* chains of keyed groups, by their key's hash */

struct group {
	struct group *prev, *next;
	struct group *dprev, *dnext;     /* its dispatch chain: a bucket, or the unkeyed list */
	int key_idx;                     /* index position of its key, -1: none (see group_key) */
	uint64_t key_hash;
	int changed;                     /* its count moved in this notify */
	char *key;
	const struct ins_query *filter;  /* a member's query: they all select the same */
	int per_record;                  /* counts records (good, bad, events) */
	uint64_t count;                  /* matching records in the store */
	int64_t last_ms;                 /* arrival of the newest of them */
	struct waiter *members;
	size_t n;
};

struct ins_wait {
	struct event_base *base;
	struct ins_store *st;
	struct ins_http *http;
	struct ins_wait_opts o;
	ins_wait_answer_cb answer;
	void *arg;
	struct group *groups;
	struct group *unkeyed;           /* per-record groups tested against every new record */
	struct group *bucket[DISPATCH_BUCKETS];
	unsigned key_uses[INS_NIDX];     /* keyed groups per index position */
	uint64_t seen;                   /* records before this sequence number are counted */
	struct ins_wait_stats stats;
};

struct ins_wait *
ins_wait_new(struct event_base *base, struct ins_store *st, struct ins_http *http,
    const struct ins_wait_opts *o, ins_wait_answer_cb answer, void *arg)
{
	struct ins_wait *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->base = base;
	w->st = st;
	w->http = http;
	w->o = *o;
	w->answer = answer;
	w->arg = arg;
	w->seen = ins_store_next_seq(st);
	return w;
}

long
ins_wait_effective_ms(const struct ins_wait *w, const struct ins_query *q)
{
	long ms = q->wait_ms >= 0 ? q->wait_ms : w->o.default_wait_ms;

	/* settle_ms alone still needs time to settle in */
	if (q->wait_ms < 0 && q->settle_ms > ms)
		ms = q->settle_ms;
	return ms > w->o.max_wait_ms ? w->o.max_wait_ms : ms;
}

static void group_unlink(struct ins_wait *w, struct group *g);

/*
 * A group's key: one indexed column whose hash every matching record must have, so that a new
 * record is tested only against the groups filed under its own hashes (and the few without a
 * key), not against every held filter. Exact filters (event_type, schema, event_id) have equal
 * case-blind hashes whenever they match, so their hash is a sound key too.
 */
static void
group_key(const struct ins_query *q, int *idx, uint64_t *hash)
{
	size_t i;

	*idx = -1;
	if (q->ep == INS_EP_GOOD && q->schema) {
		*idx = ins_index_of(INS_COL_SCHEMA);
		*hash = q->h_schema;
	} else if (q->ep == INS_EP_GOOD && q->event_type) {
		*idx = ins_index_of(COL_EVENT);
		*hash = q->h_event_type;
	} else if ((q->ep == INS_EP_GOOD || q->ep == INS_EP_BAD) && q->event_id) {
		*idx = ins_index_of(COL_EVENT_ID);
		*hash = q->h_event_id;
	} else if (q->ep == INS_EP_EVENTS) {
		for (i = 0; i < q->nfilters; i++)
			if (q->filters[i].idx >= 0 && q->filters[i].nvalues == 1) {
				*idx = q->filters[i].idx;
				*hash = q->filters[i].hashes[0];
				return;
			}
	}
}

static struct group **
bucket_of(struct ins_wait *w, int idx, uint64_t hash)
{
	uint64_t h = hash ^ ((uint64_t)(idx + 1) * 0x9e3779b97f4a7c15ULL);

	return &w->bucket[(h ^ (h >> 29)) & (DISPATCH_BUCKETS - 1)];
}

static void
dispatch_add(struct ins_wait *w, struct group *g)
{
	struct group **head;

	if (!g->per_record)
		return;
	head = g->key_idx >= 0 ? bucket_of(w, g->key_idx, g->key_hash) : &w->unkeyed;
	g->dprev = NULL;
	g->dnext = *head;
	if (*head)
		(*head)->dprev = g;
	*head = g;
	if (g->key_idx >= 0)
		w->key_uses[g->key_idx]++;
}

static void
dispatch_remove(struct ins_wait *w, struct group *g)
{
	struct group **head;

	if (!g->per_record)
		return;
	head = g->key_idx >= 0 ? bucket_of(w, g->key_idx, g->key_hash) : &w->unkeyed;
	if (g->dprev)
		g->dprev->dnext = g->dnext;
	else
		*head = g->dnext;
	if (g->dnext)
		g->dnext->dprev = g->dprev;
	if (g->key_idx >= 0)
		w->key_uses[g->key_idx]--;
}

/* Take the waiter out of everything, answer, free. */
static void
finish(struct waiter *x, int timed_out, int gone)
{
	struct ins_wait *w = x->w;
	struct group *g = x->g;

	if (x->prev)
		x->prev->next = x->next;
	else
		g->members = x->next;
	if (x->next)
		x->next->prev = x->prev;
	g->n--;
	if (g->n == 0)
		group_unlink(w, g);
	else if (g->filter == &x->q)
		g->filter = &g->members->q;
	event_free(x->deadline);
	event_free(x->settle);
	ins_http_unwatch(x->watch);
	ins_http_on_close(w->http, x->req, NULL, NULL);
	w->stats.now_held--;
	w->stats.answered++;
	if (timed_out)
		w->stats.timed_out++;
	if (gone)
		w->stats.gone++;
	w->answer(w->arg, x->req, &x->q, timed_out, gone);
	ins_query_free(&x->q);
	free(x);
}

static void
group_unlink(struct ins_wait *w, struct group *g)
{
	dispatch_remove(w, g);
	if (g->prev)
		g->prev->next = g->next;
	else
		w->groups = g->next;
	if (g->next)
		g->next->prev = g->prev;
	w->stats.groups--;
	free(g->key);
	free(g);
}

static int64_t
newest_arrival(const struct ins_store *st)
{
	size_t n = ins_store_count(st);

	return n ? ins_store_at(st, n - 1)->arrived_ms : 0;
}

/* Is the count condition met (settling aside)? */
static int
satisfied(const struct waiter *x)
{
	const struct ins_query *q = &x->q;
	const struct ins_store *st = x->w->st;
	uint64_t good, bad;

	switch (q->ep) {
	case INS_EP_ALL:
		good = ins_store_count_kind(st, INS_GOOD);
		bad = ins_store_count_kind(st, INS_BAD);
		return (q->min < 0 || good + bad >= (uint64_t)q->min) &&
		    (q->min_good < 0 || good >= (uint64_t)q->min_good) &&
		    (q->min_bad < 0 || bad >= (uint64_t)q->min_bad);
	case INS_EP_STATS:
		return ins_store_generation(st) > q->since;
	default:
		return x->g->count >= (uint64_t)(q->min < 0 ? 0 : q->min);
	}
}

/* Answer x if it is satisfied and settled; else arm its settle timer if it needs one. */
static void
check(struct waiter *x)
{
	int64_t last, now, left;

	if (!satisfied(x))
		return;
	if (x->q.settle_ms > 0 && x->q.ep != INS_EP_STATS) {
		last = x->g->per_record ? x->g->last_ms : newest_arrival(x->w->st);
		now = timefmt_mono_ms();
		left = last + x->q.settle_ms - now;
		if (last > 0 && left > 0) {
			struct timeval tv = { (time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000 };
			evtimer_add(x->settle, &tv);
			return;
		}
	}
	finish(x, 0, 0);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	finish(arg, 1, 0);
}

static void
settle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	check(arg);
}

static void
gone_cb(void *arg)
{
	finish(arg, 1, 1);
}

/* evhttp frees the connection under a held request (the server is going away): forget it
 * without answering, the request is already gone. */
static void
conn_gone(void *arg)
{
	struct waiter *x = arg;
	struct ins_wait *w = x->w;
	struct group *g = x->g;

	if (x->prev)
		x->prev->next = x->next;
	else
		g->members = x->next;
	if (x->next)
		x->next->prev = x->prev;
	if (--g->n == 0)
		group_unlink(w, g);
	else if (g->filter == &x->q)
		g->filter = &g->members->q;
	event_free(x->deadline);
	event_free(x->settle);
	ins_http_unwatch(x->watch);
	w->stats.now_held--;
	w->stats.gone++;
	ins_query_free(&x->q);
	free(x);
}

static struct group *
group_for(struct ins_wait *w, const struct ins_query *q)
{
	struct buf key;
	struct group *g;

	buf_init(&key, 0);
	if (ins_query_key(q, &key) == -1) {
		buf_free(&key);
		return NULL;
	}
	for (g = w->groups; g; g = g->next)
		if (strcmp(g->key, key.data) == 0) {
			buf_free(&key);
			return g;
		}
	if ((g = calloc(1, sizeof(*g))) == NULL) {
		buf_free(&key);
		return NULL;
	}
	g->key = key.data;         /* taken over */
	g->per_record = q->ep == INS_EP_GOOD || q->ep == INS_EP_BAD || q->ep == INS_EP_EVENTS;
	group_key(q, &g->key_idx, &g->key_hash);
	dispatch_add(w, g);
	g->next = w->groups;
	if (w->groups)
		w->groups->prev = g;
	w->groups = g;
	w->stats.groups++;
	return g;
}

int
ins_wait_hold(struct ins_wait *w, struct evhttp_request *req, struct ins_query *q,
    uint64_t count, int64_t last_ms)
{
	struct waiter *x;
	struct group *g;
	long ms;
	struct timeval tv;

	if (w->stats.now_held >= w->o.max_held || (x = calloc(1, sizeof(*x))) == NULL) {
		w->stats.refused++;
		return -1;
	}
	if ((g = group_for(w, q)) == NULL) {
		free(x);
		w->stats.refused++;
		return -1;
	}
	x->w = w;
	x->g = g;
	x->req = req;
	x->q = *q;                       /* taken over */
	memset(q, 0, sizeof(*q));
	x->deadline = evtimer_new(w->base, deadline_cb, x);
	x->settle = evtimer_new(w->base, settle_cb, x);
	if (x->deadline == NULL || x->settle == NULL) {
		/* out of memory: hand the query back and refuse */
		*q = x->q;
		if (x->deadline)
			event_free(x->deadline);
		if (x->settle)
			event_free(x->settle);
		if (g->n == 0)
			group_unlink(w, g);
		free(x);
		w->stats.refused++;
		return -1;
	}
	/* the fresh count of this request is the best count the group can have */
	g->count = count;
	g->last_ms = last_ms;
	g->filter = &x->q;
	x->next = g->members;
	if (g->members)
		g->members->prev = x;
	g->members = x;
	g->n++;
	w->stats.held++;
	w->stats.now_held++;
	if (w->seen < ins_store_next_seq(w->st))
		w->seen = ins_store_next_seq(w->st);
	ms = ins_wait_effective_ms(w, &x->q);
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(x->deadline, &tv);
	x->watch = ins_http_watch_close(w->http, req, gone_cb, x);
	ins_http_on_close(w->http, req, conn_gone, x);
	check(x);
	return 0;
}

/* A new record for group g: count it when it matches. */
static void
offer(struct group *g, const struct ins_slot *sl)
{
	if (ins_query_match_slot(g->filter, sl)) {
		g->count++;
		g->last_ms = sl->r->arrived_ms;
		g->changed = 1;
	}
}

void
ins_wait_notify(struct ins_wait *w)
{
	uint64_t next = ins_store_next_seq(w->st), first = ins_store_first_seq(w->st), seq;
	struct group *g, *gnext;
	int idx;

	if (w->seen < first)
		w->seen = first;        /* what was evicted before anyone looked is not counted */
	if (w->seen >= next)
		return;
	for (seq = w->seen; seq < next; seq++) {
		const struct ins_slot *sl = ins_store_slot_seq(w->st, seq);
		if (sl == NULL)
			continue;
		for (g = w->unkeyed; g; g = g->dnext)
			offer(g, sl);
		for (idx = 0; idx < INS_NIDX; idx++) {
			if (w->key_uses[idx] == 0)
				continue;
			for (g = *bucket_of(w, idx, sl->h[idx]); g; g = g->dnext)
				if (g->key_idx == idx && g->key_hash == sl->h[idx])
					offer(g, sl);
		}
	}
	w->seen = next;
	/* check the members of groups that moved, and of those that count the whole store;
	 * answering may free the member and its group */
	for (g = w->groups; g; g = gnext) {
		struct waiter *x = g->members, *xnext;
		gnext = g->next;
		if (g->per_record && !g->changed)
			continue;
		g->changed = 0;
		while (x) {
			xnext = x->next;
			check(x);
			x = xnext;
		}
	}
}

void
ins_wait_reset(struct ins_wait *w)
{
	struct group *g, *gnext;

	for (g = w->groups; g; g = g->next) {
		g->count = 0;
		g->last_ms = 0;
		g->changed = 0;
	}
	w->seen = ins_store_next_seq(w->st);
	for (g = w->groups; g; g = gnext) {
		struct waiter *x = g->members, *xnext;
		gnext = g->next;
		while (x) {
			xnext = x->next;
			check(x);
			x = xnext;
		}
	}
}

void
ins_wait_answer_all(struct ins_wait *w)
{
	while (w->groups)
		finish(w->groups->members, 1, 0);
}

void
ins_wait_free(struct ins_wait *w)
{
	if (w == NULL)
		return;
	while (w->groups) {
		struct waiter *x = w->groups->members;
		/* unreachable in practice: the caller answered everyone */
		ins_http_on_close(w->http, x->req, NULL, NULL);
		conn_gone(x);
	}
	free(w);
}

const struct ins_wait_stats *
ins_wait_stats(const struct ins_wait *w)
{
	return &w->stats;
}
