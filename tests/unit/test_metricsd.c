/*
 * metricsd: the --metrics-listen address check, the exposition helpers (histogram buckets are
 * cumulative, label escaping) and the server itself over a real loopback socket, driven by
 * metricsd_poll as a stage's loop drives it: /metrics, /health 200 and 503, 404, 405, a client
 * that sends its request in pieces, and one that never sends anything (without holding the
 * others up); keep-alive: several requests on one connection, pipelined ones answered in order,
 * Connection: close / HTTP/1.0 / errors closing, the idle timeout, a slow client answered and a
 * stalled one dropped at the request timeout, the requests-per-connection limit.
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "badrow.h"
#include "metricsd.h"

START_TEST(spec_check)
{
	char err[256];

	ck_assert_int_eq(metricsd_check_spec("--m", "127.0.0.1:9100", err, sizeof(err)), 0);
	ck_assert_int_eq(metricsd_check_spec("--m", "[::1]:9100", err, sizeof(err)), 0);
	ck_assert_int_eq(metricsd_check_spec("--m", "localhost:0", err, sizeof(err)), 0);
	ck_assert_int_eq(metricsd_check_spec("--m", "9100", err, sizeof(err)), -1);
	ck_assert(strstr(err, "--m: expected ADDR:PORT") != NULL);
	ck_assert_int_eq(metricsd_check_spec("--m", ":9100", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "127.0.0.1:", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "127.0.0.1:65536", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "127.0.0.1:12a", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "::1:9100", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "[::1]9100", err, sizeof(err)), -1);
	ck_assert_int_eq(metricsd_check_spec("--m", "", err, sizeof(err)), -1);
}
END_TEST

START_TEST(histogram_cumulative)
{
	static const double bounds[] = { 0.1, 1, 10 };
	struct metrics_hist h;
	struct buf b;

	buf_init(&b, 0);
	metrics_hist_init(&h, bounds, 3);
	metrics_hist_observe(&h, 0.05);
	metrics_hist_observe(&h, 0.1);      /* le is inclusive */
	metrics_hist_observe(&h, 5);
	metrics_hist_observe(&h, 50);
	metrics_hist_render(&b, "x_seconds", "a=\"b\"", &h);
	ck_assert_str_eq(b.data,
	    "x_seconds_bucket{a=\"b\",le=\"0.1\"} 2\n"
	    "x_seconds_bucket{a=\"b\",le=\"1\"} 2\n"
	    "x_seconds_bucket{a=\"b\",le=\"10\"} 3\n"
	    "x_seconds_bucket{a=\"b\",le=\"+Inf\"} 4\n"
	    "x_seconds_sum{a=\"b\"} 55.149999999999999\n"
	    "x_seconds_count{a=\"b\"} 4\n");
	buf_reset(&b);
	metrics_hist_render(&b, "y", NULL, &h);
	ck_assert(strstr(b.data, "y_bucket{le=\"+Inf\"} 4\ny_sum 55.") != NULL);
	buf_free(&b);
}
END_TEST

/* metrics_f64 writes whole numbers without printf: the same text as %.17g */
START_TEST(f64_as_printf)
{
	static const double v[] = { 0, 1, -3, 30, 4096, 123456789012345.0, -987654321.0, 0.25,
	    1e20, 5e-7, 55.15, 1796311013.8155684 };
	struct buf b;
	char want[64];
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		buf_reset(&b);
		metrics_f64(&b, "v", NULL, v[i]);
		snprintf(want, sizeof(want), "v %.17g\n", v[i]);
		ck_assert_str_eq(b.data, want);
	}
	buf_free(&b);
}
END_TEST

START_TEST(samples_and_escaping)
{
	struct buf b;
	char esc[16];

	buf_init(&b, 0);
	metrics_counter(&b, "a_total", "Things", 7);
	metrics_gauge(&b, "g", "A gauge", 0.5);
	metrics_u64(&b, "l_total", "k=\"v\"", 18446744073709551615ULL);
	ck_assert_str_eq(b.data, "# HELP a_total Things\n# TYPE a_total counter\na_total 7\n"
	    "# HELP g A gauge\n# TYPE g gauge\ng 0.5\nl_total{k=\"v\"} 18446744073709551615\n");
	ck_assert_str_eq(metrics_label_escape("a\"b\\c\nd", esc, sizeof(esc)), "a\\\"b\\\\c\\nd");
	ck_assert_str_eq(metrics_label_escape("0123456789abcdefgh", esc, sizeof(esc)),
	    "0123456789abcd");
	buf_free(&b);
}
END_TEST

START_TEST(badrow_types)
{
	ck_assert_int_eq(badrow_type_of(BADROW_SCHEMA_VIOL), BADROW_T_SCHEMA_VIOL);
	ck_assert_int_eq(badrow_type_of(BADROW_CPFV), BADROW_T_CPFV);
	ck_assert_int_eq(badrow_type_of(BADROW_SCHEMA_PREFIX "schema_violations_x/jsonschema/1-0-0"),
	    BADROW_T_OTHER);
	ck_assert_int_eq(badrow_type_of(NULL), BADROW_T_OTHER);
	ck_assert_str_eq(badrow_type_name(BADROW_T_ENRICH_FAIL), "enrichment_failures");
}
END_TEST

/* ---- the server over loopback ---- */

static int healthy = 1;

static void
render(struct buf *out, void *arg)
{
	(void)arg;
	metrics_counter(out, "t_things_total", "Things", 42);
}

static int
health(struct buf *why, void *arg)
{
	(void)arg;
	if (!healthy)
		buf_append_str(why, "peer failing for 31s");
	return healthy;
}

static int
connect_to(int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* The whole answers at the start of r[0..n): each a head with its Content-Length body (none
 * when another answer follows right after the head: HEAD). */
static int
answers_in(const char *r, size_t n)
{
	int k = 0;

	for (;;) {
		const char *end = memmem(r, n, "\r\n\r\n", 4), *cl;
		size_t hl, bl;

		if (end == NULL || (cl = memmem(r, (size_t)(end - r), "Content-Length: ", 16)) == NULL)
			return k;
		hl = (size_t)(end + 4 - r);
		bl = strtoul(cl + 16, NULL, 10);
		if (n - hl >= 9 && memcmp(end + 4, "HTTP/1.1 ", 9) == 0)
			bl = 0;
		if (n - hl < bl)
			return k;
		k++;
		r += hl + bl;
		n -= hl + bl;
	}
}

/* Serve m while reading from fd until want answers are in out (or the server closed, or 3 s
 * passed); *closed set when the server closed. Returns the bytes read. */
static size_t
pump(struct metricsd *m, int fd, char *out, size_t outlen, int want, int *closed)
{
	size_t got = 0;
	int i;

	*closed = 0;
	for (i = 0; i < 300 && answers_in(out, got) < want; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		ssize_t n;

		metricsd_poll(m, NULL, 0, 10);
		if (poll(&p, 1, 0) <= 0)
			continue;
		n = read(fd, out + got, outlen - 1 - got);
		if (n <= 0) {
			*closed = 1;
			break;
		}
		got += (size_t)n;
		out[got] = '\0';
	}
	out[got] = '\0';
	return got;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The server closes fd within ms of wall time (serving it meanwhile): 1, else 0. */
static int
closed_within(struct metricsd *m, int fd, int ms)
{
	int64_t end = now_ms() + ms;

	do {
		struct pollfd p = { fd, POLLIN, 0 };
		char c;

		metricsd_poll(m, NULL, 0, 10);
		if (poll(&p, 1, 0) > 0)
			return read(fd, &c, 1) == 0;
	} while (now_ms() < end);
	return 0;
}

/* Send req (in two pieces) on a new connection, read its answer, close. */
static void
exchange(struct metricsd *m, const char *req, char *out, size_t outlen)
{
	int fd = connect_to(metricsd_port(m)), closed;
	size_t half = strlen(req) / 2;

	ck_assert_int_eq(write(fd, req, half), (ssize_t)half);
	metricsd_poll(m, NULL, 0, 100);
	ck_assert_int_eq(write(fd, req + half, strlen(req) - half), (ssize_t)(strlen(req) - half));
	pump(m, fd, out, outlen, 1, &closed);
	close(fd);
}

START_TEST(parse_routes)
{
	static const struct { const char *head; int route, head_only; } cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", METRICSD_METRICS, 0 },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", METRICSD_METRICS, 1 },
		{ "GET /metrics?x=1 HTTP/1.0\n\n", METRICSD_METRICS, 0 },
		{ "GET /health HTTP/1.1\r\n\r\n", METRICSD_HEALTH, 0 },
		{ "GET /healthz HTTP/1.1\r\n\r\n", METRICSD_NOT_FOUND, 0 },
		{ "GET /metrics/ HTTP/1.1\r\n\r\n", METRICSD_NOT_FOUND, 0 },
		{ "POST /metrics HTTP/1.1\r\n\r\n", METRICSD_BAD_METHOD, 0 },
		{ "get /metrics HTTP/1.1\r\n\r\n", METRICSD_BAD_METHOD, 0 },
		{ "GET /metrics\r\nX: a b\r\n\r\n", METRICSD_BAD_REQUEST, 0 },
		{ "GET /metrics\nX: a b\n\n", METRICSD_BAD_REQUEST, 0 },
		{ "", METRICSD_BAD_REQUEST, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int ho = -1;

		ck_assert_int_eq(metricsd_parse(cases[i].head, strlen(cases[i].head), &ho),
		    cases[i].route);
		ck_assert_int_eq(ho, cases[i].head_only);
	}
}
END_TEST

START_TEST(common_series)
{
	struct buf b;

	buf_init(&b, 0);
	metrics_common(&b, "col\"lector", 1700000000.5, 0);
	buf_append_byte(&b, '\0');
	ck_assert_ptr_nonnull(strstr(b.data, "furrow_build_info{program=\"col\\\"lector\",version=\""));
	ck_assert_ptr_nonnull(strstr(b.data, "\nfurrow_healthy 0\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "\nprocess_start_time_seconds 1700000000.5\n"));
	ck_assert_ptr_nonnull(strstr(b.data, "# TYPE process_cpu_seconds_total counter\n"));
	buf_free(&b);
}
END_TEST

START_TEST(server_round_trips)
{
	char err[256], ans[8192];
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int silent;

	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_int_gt(metricsd_port(m), 0);
	silent = connect_to(metricsd_port(m));        /* never sends a byte */

	exchange(m, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	ck_assert(strstr(ans, "Content-Type: text/plain; version=0.0.4") != NULL);
	ck_assert(strstr(ans, "\r\n\r\n# HELP t_things_total Things\n") != NULL);
	ck_assert(strstr(ans, "\nt_things_total 42\n") != NULL);
	ck_assert(strstr(ans, "\nfurrow_build_info{program=\"test\",version=\"") != NULL);
	ck_assert(strstr(ans, "\nfurrow_healthy 1\n") != NULL);
	ck_assert(strstr(ans, "\nprocess_cpu_seconds_total ") != NULL);

	exchange(m, "GET /health HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	ck_assert(strstr(ans, "\r\n\r\nOK\n") != NULL);
	healthy = 0;
	exchange(m, "GET /health?x=1 HTTP/1.0\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 503 Service Unavailable\r\n", 34) == 0);
	ck_assert(strstr(ans, "\r\n\r\npeer failing for 31s\n") != NULL);
	exchange(m, "GET /metrics HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strstr(ans, "\nfurrow_healthy 0\n") != NULL);
	healthy = 1;
	exchange(m, "HEAD /metrics HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	ck_assert(strstr(ans, "t_things_total") == NULL);
	exchange(m, "GET /other HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 404 ", 13) == 0);
	exchange(m, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 405 ", 13) == 0);
	exchange(m, "garbage\r\n\r\n", ans, sizeof(ans));
	ck_assert(strncmp(ans, "HTTP/1.1 400 ", 13) == 0);

	/* the silent client is still connected (within its deadline) and held nobody up */
	{
		struct pollfd p = { silent, POLLIN, 0 };
		ck_assert_int_eq(poll(&p, 1, 0), 0);
	}
	close(silent);
	metricsd_close(m);
}
END_TEST

START_TEST(many_clients_displace_the_oldest)
{
	char err[256], ans[8192];
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int fds[METRICSD_MAX_CONN + 4], i;

	ck_assert(m != NULL);
	for (i = 0; i < METRICSD_MAX_CONN + 4; i++) {
		fds[i] = connect_to(metricsd_port(m));
		metricsd_poll(m, NULL, 0, 20);
	}
	/* a real scrape still gets through */
	exchange(m, "GET /metrics HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strstr(ans, "t_things_total 42") != NULL);
	/* the oldest silent ones were closed to make room */
	{
		char c;
		ck_assert_int_eq(read(fds[0], &c, 1), 0);
	}
	for (i = 0; i < METRICSD_MAX_CONN + 4; i++)
		close(fds[i]);
	metricsd_close(m);
}
END_TEST

START_TEST(keep_alive_rules)
{
	static const struct { const char *head; int keep; } cases[] = {
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 1 },
		{ "GET /metrics HTTP/1.1\n\n", 1 },
		{ "GET /metrics HTTP/1.1\r\nConnection: keep-alive\r\n\r\n", 1 },
		{ "GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 1 },
		{ "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nconnection:  Upgrade, CLOSE \r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nConnection: closed\r\n\r\n", 1 },
		{ "GET /metrics HTTP/1.0\r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", 0 },
		{ "GET /metrics HTTP/2\r\n\r\n", 0 },
		{ "GET /metrics\r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nno colon\r\n\r\n", 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		ck_assert_msg(metricsd_keep_alive(cases[i].head, strlen(cases[i].head)) ==
		    cases[i].keep, "%s", cases[i].head);
}
END_TEST

START_TEST(several_requests_on_one_connection)
{
	char err[256], ans[8192];
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int fd, closed, i;

	ck_assert(m != NULL);
	fd = connect_to(metricsd_port(m));
	for (i = 0; i < 5; i++) {
		const char *req = i % 2 ? "GET /health HTTP/1.1\r\n\r\n" :
		    "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
		ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
		pump(m, fd, ans, sizeof(ans), 1, &closed);
		ck_assert_int_eq(closed, 0);
		ck_assert_int_eq(answers_in(ans, strlen(ans)), 1);
		ck_assert(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
		ck_assert(strstr(ans, "\r\nConnection: keep-alive\r\n") != NULL);
		ck_assert(strstr(ans, i % 2 ? "\r\n\r\nOK\n" : "\nt_things_total 42\n") != NULL);
	}
	/* Connection: close ends it after the answer */
	ck_assert_int_eq(write(fd, "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n", 43), 43);
	pump(m, fd, ans, sizeof(ans), 2, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_int_eq(answers_in(ans, strlen(ans)), 1);
	ck_assert(strstr(ans, "\r\nConnection: close\r\n") != NULL);
	close(fd);

	/* HTTP/1.0 and error answers close too */
	fd = connect_to(metricsd_port(m));
	ck_assert_int_eq(write(fd, "GET /metrics HTTP/1.0\r\n\r\n", 25), 25);
	pump(m, fd, ans, sizeof(ans), 2, &closed);
	ck_assert(closed && answers_in(ans, strlen(ans)) == 1);
	close(fd);
	fd = connect_to(metricsd_port(m));
	ck_assert_int_eq(write(fd, "POST /metrics HTTP/1.1\r\n\r\n", 26), 26);
	pump(m, fd, ans, sizeof(ans), 2, &closed);
	ck_assert(closed && strncmp(ans, "HTTP/1.1 405 ", 13) == 0);
	close(fd);
	metricsd_close(m);
}
END_TEST

START_TEST(pipelined_requests_in_order)
{
	static const char reqs[] =
	    "GET /metrics HTTP/1.1\r\n\r\n"
	    "HEAD /metrics HTTP/1.1\r\n\r\n"
	    "\r\nGET /nope HTTP/1.1\r\n\r\n"           /* a stray empty line before it */
	    "GET /health HTTP/1.1\r\n\r\n"
	    "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n"
	    "GET /health HTTP/1.1\r\n\r\n";            /* after close: never answered */
	char err[256], ans[16384], *p;
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int fd, closed;

	ck_assert(m != NULL);
	fd = connect_to(metricsd_port(m));
	ck_assert_int_eq(write(fd, reqs, strlen(reqs)), (ssize_t)strlen(reqs));
	pump(m, fd, ans, sizeof(ans), 6, &closed);
	ck_assert_int_eq(closed, 1);
	ck_assert_int_eq(answers_in(ans, strlen(ans)), 5);
	ck_assert(strncmp(ans, "HTTP/1.1 200 OK\r\n", 17) == 0);
	ck_assert((p = strstr(ans, "\nt_things_total 42\n")) != NULL);
	ck_assert((p = strstr(p, "HTTP/1.1 200 OK\r\n")) != NULL);        /* HEAD: no body */
	ck_assert((p = strstr(p, "\r\n\r\nHTTP/1.1 404 ")) != NULL);
	ck_assert((p = strstr(p, "HTTP/1.1 200 OK\r\n")) != NULL);
	ck_assert((p = strstr(p, "\r\n\r\nOK\n")) != NULL);
	ck_assert((p = strstr(p, "Connection: close\r\n")) != NULL);
	ck_assert((p = strstr(p, "\nt_things_total 42\n")) != NULL);
	ck_assert(strstr(p, "HTTP/1.1") == NULL);
	close(fd);
	metricsd_close(m);
}
END_TEST

START_TEST(idle_and_slow_clients)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\n\r\n";
	char err[256], ans[8192];
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int fd, slow, stalled, closed;
	size_t i;

	ck_assert(m != NULL);
	metricsd_set_timeouts(m, 1500, 2000);
	ck_assert_int_eq(metricsd_timeout_ms(m), -1);

	/* kept open between requests, closed once idle longer than the idle timeout */
	fd = connect_to(metricsd_port(m));
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	pump(m, fd, ans, sizeof(ans), 1, &closed);
	ck_assert(!closed && answers_in(ans, strlen(ans)) == 1);
	ck_assert_int_le(metricsd_timeout_ms(m), 2000);
	ck_assert_int_gt(metricsd_timeout_ms(m), 1500);           /* the idle deadline */
	ck_assert_int_eq(closed_within(m, fd, 300), 0);          /* not yet */
	ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	pump(m, fd, ans, sizeof(ans), 1, &closed);                /* the idle clock restarts */
	ck_assert(!closed && answers_in(ans, strlen(ans)) == 1);
	ck_assert_int_eq(closed_within(m, fd, 4000), 1);
	close(fd);

	/* a slow client sending a byte at a time within the request timeout is answered, one
	 * that stalls mid-request is dropped at it, neither holding up a third */
	slow = connect_to(metricsd_port(m));
	stalled = connect_to(metricsd_port(m));
	ck_assert_int_eq(write(stalled, "GET /met", 8), 8);
	for (i = 0; i < strlen(req); i++) {
		ck_assert_int_eq(write(slow, req + i, 1), 1);
		metricsd_poll(m, NULL, 0, 5);
	}
	pump(m, slow, ans, sizeof(ans), 1, &closed);
	ck_assert(!closed && strstr(ans, "\nt_things_total 42\n") != NULL);
	exchange(m, "GET /health HTTP/1.1\r\n\r\n", ans, sizeof(ans));
	ck_assert(strstr(ans, "\r\n\r\nOK\n") != NULL);
	ck_assert_int_eq(closed_within(m, stalled, 4000), 1);
	close(stalled);
	close(slow);
	metricsd_close(m);
}
END_TEST

START_TEST(requests_per_connection_limited)
{
	static const char req[] = "GET /health HTTP/1.1\r\n\r\n";
	char err[256], ans[8192];
	struct metricsd *m = metricsd_open("127.0.0.1:0", "test", render, health, NULL, err,
	    sizeof(err));
	int fd, closed, i;

	ck_assert(m != NULL);
	fd = connect_to(metricsd_port(m));
	for (i = 1; i <= METRICSD_MAX_REQUESTS; i++) {
		ck_assert_int_eq(write(fd, req, strlen(req)), (ssize_t)strlen(req));
		pump(m, fd, ans, sizeof(ans), 1, &closed);
		ck_assert_int_eq(answers_in(ans, strlen(ans)), 1);
		if (i < METRICSD_MAX_REQUESTS)
			ck_assert(!closed && strstr(ans, "Connection: keep-alive") != NULL);
	}
	ck_assert(strstr(ans, "Connection: close") != NULL);
	ck_assert_int_eq(closed_within(m, fd, 1000), 1);
	close(fd);
	metricsd_close(m);
}
END_TEST

START_TEST(open_errors)
{
	char err[256];
	struct metricsd *a = metricsd_open("127.0.0.1:0", "t", render, health, NULL, err,
	    sizeof(err));
	char spec[64];
	struct metricsd *b;

	ck_assert(a != NULL);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", metricsd_port(a));
	b = metricsd_open(spec, "t", render, health, NULL, err, sizeof(err));
	ck_assert(b == NULL);
	ck_assert_msg(strstr(err, "in use") != NULL, "%s", err);
	ck_assert(metricsd_open("no-such-host.invalid:1", "t", render, health, NULL, err,
	    sizeof(err)) == NULL);
	metricsd_close(a);
	/* NULL server: plain poll */
	ck_assert_int_eq(metricsd_poll(NULL, NULL, 0, 0), 0);
	ck_assert_int_eq((int)metricsd_pollfds(NULL, NULL, 0), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metricsd");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, spec_check);
	tcase_add_test(tc, histogram_cumulative);
	tcase_add_test(tc, samples_and_escaping);
	tcase_add_test(tc, f64_as_printf);
	tcase_add_test(tc, badrow_types);
	tcase_add_test(tc, parse_routes);
	tcase_add_test(tc, common_series);
	tcase_add_test(tc, server_round_trips);
	tcase_add_test(tc, many_clients_displace_the_oldest);
	tcase_add_test(tc, keep_alive_rules);
	tcase_add_test(tc, several_requests_on_one_connection);
	tcase_add_test(tc, pipelined_requests_in_order);
	tcase_add_test(tc, idle_and_slow_clients);
	tcase_add_test(tc, requests_per_connection_limited);
	tcase_add_test(tc, open_errors);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
