/*
 * metricsd: a stage's /metrics (Prometheus text exposition format 0.0.4) and /health, served on
 * --metrics-listen ADDR:PORT from the stage's own poll loop (no thread, no lock: the counters
 * are read where they are written). A stage without the flag never calls metricsd_open and
 * opens no socket; every call here takes a NULL server and then does what plain poll(2) would.
 *
 * The server is deliberately tiny: GET or HEAD of /metrics or /health over HTTP/1.1 with
 * keep-alive (Prometheus keeps its scrape connections open: a new TCP connection per scrape
 * would cost a stage more than rendering the page). A connection carries requests one after
 * the other, pipelined ones answered in order, until the client closes it, asks
 * "Connection: close", speaks HTTP/1.0, sends a request with a body or a malformed one (400,
 * 405), has made METRICSD_MAX_REQUESTS requests, or stays idle METRICSD_IDLE_MS between
 * requests. Each request has METRICSD_TIMEOUT_MS from its first byte until its answer is
 * written, a head of at most METRICSD_HEAD_MAX bytes. At most METRICSD_MAX_CONN connections:
 * a new one displaces the one least recently active (a silent client before a live
 * scraper's kept connection). Sockets are non-blocking: a slow or silent scraper never holds
 * the stage up.
 *
 * The stage renders its own series with the metrics_ helpers (one family: metrics_head, then
 * metrics_u64/metrics_f64 samples; histograms: metrics_hist). metricsd adds the series every
 * stage has: furrow_build_info, furrow_healthy, process_start_time_seconds and
 * process_cpu_seconds_total.
 *
 * /health answers 200 "OK" when the stage's health callback says healthy, else 503 with its
 * reason, one line of text.
 */
#ifndef FURROW_METRICSD_H
#define FURROW_METRICSD_H

#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "buf.h"

#define METRICSD_MAX_CONN    8
#define METRICSD_NFDS        (METRICSD_MAX_CONN + 1)
#define METRICSD_TIMEOUT_MS  5000       /* a request: first byte to answer written */
#define METRICSD_IDLE_MS     120000     /* between requests (over Prometheus's default 1m) */
#define METRICSD_MAX_REQUESTS 1000      /* per connection, then Connection: close */
#define METRICSD_HEAD_MAX    4096
#define METRICS_HIST_MAX     16          /* finite buckets of a histogram */

/* Append the stage's series to out. */
typedef void (*metricsd_render_cb)(struct buf *out, void *arg);
/* 1 when healthy; 0 when not, with one line saying why appended to why. */
typedef int (*metricsd_health_cb)(struct buf *why, void *arg);

struct metricsd;

/* Listen on spec ("ADDR:PORT", "[V6ADDR]:PORT"; port 0 picks one). prog names the stage in
 * furrow_build_info. Returns NULL with a reason in err. */
struct metricsd *metricsd_open(const char *spec, const char *prog, metricsd_render_cb render,
    metricsd_health_cb health, void *arg, char *err, size_t errlen);
void metricsd_close(struct metricsd *m);
/* The port bound. */
int metricsd_port(const struct metricsd *m);
/* Change the request and idle timeouts (milliseconds, > 0; for tests). */
void metricsd_set_timeouts(struct metricsd *m, int request_ms, int idle_ms);
/* Milliseconds until the nearest connection deadline (0 when one is past), -1 when none:
 * the longest a loop may sleep before metricsd_serve must drop a late connection. */
int metricsd_timeout_ms(const struct metricsd *m);
/* Check a --metrics-listen value (usage errors: err filled). 0 or -1. */
int metricsd_check_spec(const char *flag, const char *spec, char *err, size_t errlen);

/* The descriptors to poll for the server (at most METRICSD_NFDS): fills p, returns the count
 * (0 for NULL). */
size_t metricsd_pollfds(struct metricsd *m, struct pollfd *p, size_t cap);
/* Serve what the polled descriptors p[0..n) (from metricsd_pollfds, revents set) allow, and
 * drop connections past their deadline. */
void metricsd_serve(struct metricsd *m, const struct pollfd *p, size_t n);
/* poll(2) on the caller's fds[0..n) (fds may be NULL when n is 0) and the server's, serving
 * it; returns the number of the caller's fds with events (0 on timeout, -1 on error). The
 * wait is cut short when a scrape is served, so a caller that needs its full timeout loops. */
int metricsd_poll(struct metricsd *m, struct pollfd *fds, size_t n, int timeout_ms);
/* The same with ppoll(2) and a signal mask (ts NULL: no limit). */
int metricsd_ppoll(struct metricsd *m, struct pollfd *fds, size_t n, const struct timespec *ts,
    const sigset_t *mask);

/* ---- exposition ---- */

/* "# HELP name help" and "# TYPE name type". */
void metrics_head(struct buf *b, const char *name, const char *type, const char *help);
/* One sample: name{labels} value (labels without braces, NULL or "" for none). */
void metrics_u64(struct buf *b, const char *name, const char *labels, uint64_t v);
void metrics_f64(struct buf *b, const char *name, const char *labels, double v);
/* A whole counter or gauge family of one unlabelled sample. */
void metrics_counter(struct buf *b, const char *name, const char *help, uint64_t v);
void metrics_gauge(struct buf *b, const char *name, const char *help, double v);
/* Escape a label value into out (backslash, quote, newline), cut to fit; returns out. */
char *metrics_label_escape(const char *v, char *out, size_t outlen);

struct metrics_hist {
	const double *bounds;                    /* ascending upper bounds, not +Inf */
	size_t        nb;                        /* <= METRICS_HIST_MAX */
	char          le[METRICS_HIST_MAX][24];  /* the bounds as "%g", formatted once (a scrape
	                                          * would otherwise spend most of its time there) */
	uint64_t      counts[METRICS_HIST_MAX + 1]; /* per bucket, not cumulative; last: +Inf */
	uint64_t      n;
	double        sum;
};

void metrics_hist_init(struct metrics_hist *h, const double *bounds, size_t nb);
void metrics_hist_observe(struct metrics_hist *h, double v);
/* The _bucket, _sum and _count samples (after a metrics_head of type histogram). */
void metrics_hist_render(struct buf *b, const char *name, const char *labels,
    const struct metrics_hist *h);

/* Seconds on the monotonic clock, for latencies. */
double metrics_now(void);
/* Seconds since the epoch, for process_start_time_seconds. */
double metrics_wall_now(void);

/* The series every stage has (what metricsd appends to a stage's page): furrow_build_info
 * (program=prog), furrow_healthy, process_start_time_seconds (start_time, from
 * metrics_wall_now) and process_cpu_seconds_total. For a stage that serves /metrics itself too
 * (the collector on its main port). */
void metrics_common(struct buf *b, const char *prog, double start_time, int healthy);

/* ---- request handling ---- */

enum metricsd_route {
	METRICSD_METRICS,
	METRICSD_HEALTH,
	METRICSD_NOT_FOUND,           /* 404 */
	METRICSD_BAD_METHOD,          /* 405: neither GET nor HEAD */
	METRICSD_BAD_REQUEST          /* 400: no "METHOD SP TARGET SP" on the first line */
};

/* What the request head[0..len) (any bytes; the first line counts, up to CR or LF) asks for;
 * *head_only set for HEAD. The query string is ignored. */
int metricsd_parse(const char *head, size_t len, int *head_only);
/* 1 when the connection may carry another request after the one with head[0..len) (a whole
 * head, ending with its empty line): HTTP/1.1, no "close" token in Connection, no body
 * (no Transfer-Encoding, no Content-Length other than 0). 0 otherwise. */
int metricsd_keep_alive(const char *head, size_t len);

#endif
