/*
 * ins_wait: the wait primitive. A query that carries min / min_good / min_bad, wait_ms or
 * settle_ms is held until the store holds at least that many matching records and no new
 * matching record arrived for settle_ms, or until wait_ms passes; then it is answered with
 * what the store has (timed out or not). This is the read-after-write that Micro lacks: Micro
 * answers the tracker before the event is stored, so test suites poll with guessed budgets.
 *
 * A held request costs no CPU while nothing happens: it is a libevent timer (its deadline), at
 * most one more (its settle time) and an EV_CLOSED watch on its socket, no polling. Work is
 * done only when records arrive: after each ingest batch ins_wait_notify looks at the new
 * records once per *group* of held requests with equal filters (ins_query_key), so a thousand
 * CI jobs waiting for the same thing cost one filter test per new record, and a request
 * without filters (/micro/all, /micro/stats) costs nothing per record at all.
 *
 * Counting is "matching records in the store": the count taken when the request arrives plus
 * the matching records that arrived since. Records evicted by the cap while a request waits
 * are not subtracted (the store did hold that many); a reset starts every count again at 0.
 */
#ifndef INS_WAIT_H
#define INS_WAIT_H

#include <stddef.h>
#include <stdint.h>

#include "ins_query.h"
#include "ins_store.h"

struct event_base;
struct evhttp_request;
struct ins_http;

/* Answer req for q (the callback may take q over, leaving it zeroed). timed_out: the condition
 * was not met by wait_ms (or inspect is stopping); gone: the client already left (answer
 * cheaply, nothing will read it). */
typedef void (*ins_wait_answer_cb)(void *arg, struct evhttp_request *req, struct ins_query *q,
    int timed_out, int gone);

struct ins_wait_opts {
	size_t max_held;          /* more held requests than this: refused (ins_wait_hold -1) */
	long   default_wait_ms;   /* a request with min but no wait_ms waits this long */
	long   max_wait_ms;       /* wait_ms is capped here */
};

struct ins_wait_stats {
	unsigned long long held, answered, timed_out, gone, refused;
	size_t now_held, groups;
};

struct ins_wait;

struct ins_wait *ins_wait_new(struct event_base *base, struct ins_store *st,
    struct ins_http *http, const struct ins_wait_opts *o, ins_wait_answer_cb answer, void *arg);
/* Answers nothing: call ins_wait_answer_all first. */
void ins_wait_free(struct ins_wait *w);

/*
 * Hold req for q (taken over: the caller's q is zeroed). count is the number of matching
 * records in the store now and last_ms the monotonic arrival time of the newest of them (0:
 * none). The request may be answered before this returns, when it is already satisfied.
 * Returns 0, or -1 when too many requests are held (q is then left to the caller).
 */
int ins_wait_hold(struct ins_wait *w, struct evhttp_request *req, struct ins_query *q,
    uint64_t count, int64_t last_ms);

/* New records were added to the store: count them for every group, answer who is satisfied. */
void ins_wait_notify(struct ins_wait *w);
/* The store was reset: every count starts again at 0. */
void ins_wait_reset(struct ins_wait *w);
/* Answer every held request now, as timed out (shutdown). */
void ins_wait_answer_all(struct ins_wait *w);

const struct ins_wait_stats *ins_wait_stats(const struct ins_wait *w);

/* The wait the request asked for, after the defaults and the cap (ms). */
long ins_wait_effective_ms(const struct ins_wait *w, const struct ins_query *q);

#endif
