/*
 * ins_api: inspect's HTTP endpoints.
 *
 *   /micro/all, /micro/good, /micro/bad, /micro/reset, /micro/events, /micro/columns,
 *   /micro/columnStats, /micro/timeline, /micro/iglu/{vendor}/{name}/jsonschema/{version}:
 *       Snowplow Micro 4.5.2's REST API (Routing.scala), same methods, same shapes;
 *   /micro/stats (furrow): the store's counters, and a long poll on its generation;
 *   /micro/config (furrow): what the UI needs to know (the collector's URL, the version);
 *   /micro/ui[/FILE]: the web UI, static files from the --ui directory;
 *   /health: "OK"; /: a redirect to the UI; anything else: 404 with the list of endpoints.
 *
 * Every /micro/... answer carries CORS headers as the collector's (collector.md §4.1, §4.2), and
 * OPTIONS is answered as a preflight. With an access token configured, the API (not the UI's
 * static files, not /health) wants "Authorization: Bearer TOKEN".
 *
 * Arrays of events are written in 64 KiB chunks from a cursor over the store, a chunk at a
 * time as the client reads, so answering /micro/good for a full store neither holds a second
 * copy of it in memory nor stops ingest for long.
 */
#ifndef INS_API_H
#define INS_API_H

#include <stddef.h>

#include "metricsd.h"

struct event_base;
struct evhttp_request;
struct iglu_resolver;
struct ins_http;
struct ins_query;
struct ins_store;
struct ins_wait;

struct ins_api_opts {
	const char *ui_dir;          /* NULL: no UI (404) */
	const char *token;           /* NULL: no token asked */
	const char *collector_url;   /* what the UI sends example events to; NULL: it guesses */
	unsigned    cors_max_age;
	size_t      max_events, max_bytes;   /* for /micro/stats */
};

struct ins_api_stats {
	unsigned long long requests, by_class[6], unauthorized, streamed;
	/* from a request handed to the API (or its wait ending) to its answer started */
	struct metrics_hist seconds;
};

struct ins_api;

struct ins_api *ins_api_new(struct event_base *base, struct ins_store *st,
    struct iglu_resolver *resolver, const struct ins_api_opts *o);
/* The server and the wait registry, once they exist (they need the API first). */
void ins_api_attach(struct ins_api *a, struct ins_http *http, struct ins_wait *w);
void ins_api_free(struct ins_api *a);

/* The evhttp handler (ins_http_handler). */
void ins_api_handle(struct evhttp_request *req, void *arg);
/* The wait module's answer callback (ins_wait_answer_cb). */
void ins_api_answer(void *arg, struct evhttp_request *req, struct ins_query *q,
    int timed_out, int gone);

const struct ins_api_stats *ins_api_stats(const struct ins_api *a);

#endif
