/*
 * col_route: what the collector answers and stores for each request (collector.md §2-§10):
 * route matching, the pixel and fixed bodies, CORS and cache headers, the sp cookie,
 * SP-Anonymous, the client IP, the CollectorPayload fields, size limits with tp2 splitting and
 * size_violation bad rows, and the 503 answer when the output queue is full.
 *
 * Group commit: when an output is a log, a tracking request's lines are appended before it is
 * answered, but not one request at a time. The requests handled in one turn of the event loop
 * queue their lines and hold their answers (httpd_release); at the end of the turn one locked
 * write appends all of them, and then each is answered: 200 (or its redirect), or 503 when the
 * append failed. Its counters and metrics are taken at that answer.
 */
#ifndef COL_ROUTE_H
#define COL_ROUTE_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"
#include "httpd.h"
#include "col_metrics.h"
#include "col_payload.h"

struct col_queue;
struct event;
struct event_base;

struct col_config {
	/* §5 cookie */
	int          cookie_enabled;
	const char  *cookie_name;
	char       **cookie_domains;
	size_t       n_cookie_domains;
	const char  *cookie_fallback_domain;
	long long    cookie_expiry_s;
	int          cookie_secure;
	int          cookie_http_only;
	const char  *cookie_same_site;      /* NULL: attribute omitted */
	const char  *client_cookie_name;    /* NULL: no second cookie */
	/* §5.4 do-not-track cookie */
	int          dnt_enabled;
	const char  *dnt_name;
	regex_t      dnt_re;
	/* §5.4 cookie bounce */
	int          bounce;
	const char  *bounce_name;
	const char  *bounce_fallback;
	const char  *fwd_proto_header;
	/* §2 redirects */
	int          redirects;
	char       **redirect_domains;
	size_t       n_redirect_domains;
	/* §2 --path-map */
	char       **map_from;
	char       **map_to;
	size_t       n_maps;
	/* §10 sizes */
	size_t       max_payload;           /* P */
	size_t       max_record;            /* R */
	/* §4 and §2 extras */
	unsigned     cors_max_age;
	long long    hsts_s;                /* 0: off */
	char       **crossdomain;
	size_t       n_crossdomain;
	int          crossdomain_secure;
	int          root_status;           /* 0: GET / is a 404 */
	const char  *root_location;
	int          metrics;               /* serve GET /metrics (Prometheus text format) */
	int          count_metrics;         /* keep col_metrics: --metrics or --metrics-listen */
};

enum col_route_id {
	ROUTE_PIXEL, ROUTE_POST, ROUTE_REDIRECT, ROUTE_OPTIONS, ROUTE_HEALTH, ROUTE_SINK_HEALTH,
	ROUTE_ROBOTS, ROUTE_CROSSDOMAIN, ROUTE_ROOT, ROUTE_METRICS, ROUTE_OTHER, ROUTE_N
};

struct col_route_stats {
	uint64_t by_route[ROUTE_N][6];      /* [route][status / 100] */
	uint64_t stored_requests;           /* tracking requests whose records were queued */
	uint64_t records;                   /* good records queued */
	uint64_t bad_rows;                  /* size_violation rows queued */
	uint64_t split_payloads;            /* payloads that were split */
	uint64_t refused_503;               /* tracking requests refused: queue full */
	uint64_t not_stored;                /* do-not-track and bounce answers */
};

/* A tracking request waiting for its group's append. */
struct col_held {
	struct httpd_conn *conn;
	size_t   alt_off, alt_len;          /* the headers of its 503, in col_ctx.alt */
	uint32_t records, bad_rows;         /* what it queued */
	uint8_t  logs;                      /* COL_HELD_GOOD | COL_HELD_BAD: the logs it waits for */
	const char *method;                 /* static storage (col_metrics' names) */
	uint8_t  route;
	uint16_t status;                    /* of the answer held */
	struct timespec t0;                 /* for the latency metric */
};
#define COL_HELD_GOOD 1
#define COL_HELD_BAD  2

struct col_ctx {
	const struct col_config *cfg;
	struct event_base *base;
	struct col_queue *good;
	struct col_queue *bad;
	struct col_route_stats st;
	struct buf enc;                     /* Thrift bytes */
	struct buf scratch;                 /* decoded and re-rendered strings of one request */
	struct buf tmp;
	struct col_payload_header hdrs[COL_PAYLOAD_MAX_HEADERS];
	struct col_metrics metrics;         /* §12, with --metrics */
	/* group commit: at most one held request per connection */
	struct col_held *held;
	size_t n_held, cap_held;
	struct buf alt;
	struct event *ev_group;
	uint64_t groups;                    /* appends of a group */
	double start_time;                  /* process_start_time_seconds */
};

/* Returns 0, or -1 when the group-commit event cannot be made. */
int col_ctx_init(struct col_ctx *ctx, const struct col_config *cfg, struct event_base *base,
    struct col_queue *good, struct col_queue *bad);
void col_ctx_free(struct col_ctx *ctx);

/* The httpd handler. arg is a struct col_ctx. */
void col_route_handle(const struct httpd_request *req, struct httpd_response *resp,
    void *arg);

const char *col_route_name(int route);

/* The /metrics page's series (metricsd_render_cb; arg: struct col_ctx): the Snowplow-named
 * ones of col_metrics. */
void col_route_metrics(struct buf *out, void *arg);
/* Healthy while both logs accept appends, as /sink-health says (metricsd_health_cb). */
int col_route_health(struct buf *why, void *arg);

/* The 43-byte pixel of collector.md §3. */
extern const unsigned char col_route_pixel[43];

#endif
