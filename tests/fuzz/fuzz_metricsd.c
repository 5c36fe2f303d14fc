/*
 * libFuzzer target for metricsd's request handling (common/metricsd.c), every stage's /metrics
 * and /health server. Two layers on each input:
 *  - metricsd_parse on the bytes as a request head: it must return one of its routes, the same
 *    on a second call, and route to /metrics or /health only for a first line that really is
 *    "GET|HEAD /metrics|/health[?...] ...";
 *  - the bytes sent over a real loopback connection to a real server (metricsd_open on port 0,
 *    served by metricsd_poll as a stage does), the client half-closing after them: the exchange
 *    must end (answers then close, or a close) within a bounded number of loop turns, and the
 *    answers (several when the bytes hold several requests: keep-alive, pipelining) must each
 *    be a whole HTTP/1.1 response with a known status and a Content-Length that matches its
 *    body (none for HEAD), none after one that says "Connection: close".
 */
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "metricsd.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
render(struct buf *out, void *arg)
{
	(void)arg;
	metrics_counter(out, "fuzz_scrapes_total", "Scrapes", 1);
}

static int
health(struct buf *why, void *arg)
{
	int *flip = arg;

	*flip ^= 1;
	if (*flip)
		return 1;
	buf_append_str(why, "fuzzing");
	return 0;
}

/* The route the first line names, by a plain reading of it. */
static int
expected_route(const char *h, size_t len)
{
	size_t ll = 0, ml, pl;
	const char *path;

	while (ll < len && h[ll] != '\r' && h[ll] != '\n')
		ll++;
	if (ll >= 4 && memcmp(h, "GET ", 4) == 0)
		ml = 3;
	else if (ll >= 5 && memcmp(h, "HEAD ", 5) == 0)
		ml = 4;
	else
		return -1;
	path = h + ml + 1;
	for (pl = 0; ml + 1 + pl < ll && path[pl] != ' ' && path[pl] != '?'; pl++)
		;
	if (memchr(path, ' ', ll - ml - 1) == NULL)
		return -1;                        /* no second space: 400 */
	if (pl == 8 && memcmp(path, "/metrics", 8) == 0)
		return METRICSD_METRICS;
	if (pl == 7 && memcmp(path, "/health", 7) == 0)
		return METRICSD_HEALTH;
	return METRICSD_NOT_FOUND;
}

static void
check_parse(const uint8_t *data, size_t size)
{
	int ho = -1, ho2 = -1;
	int r = metricsd_parse((const char *)data, size, &ho);
	int r2 = metricsd_parse((const char *)data, size, &ho2);
	int want = expected_route((const char *)data, size);

	if (r != r2 || ho != ho2 || (ho != 0 && ho != 1))
		__builtin_trap();
	if (r < METRICSD_METRICS || r > METRICSD_BAD_REQUEST)
		__builtin_trap();
	if ((r == METRICSD_METRICS || r == METRICSD_HEALTH || r == METRICSD_NOT_FOUND) && r != want)
		__builtin_trap();
	if ((want == METRICSD_METRICS || want == METRICSD_HEALTH) && r != want)
		__builtin_trap();
}

/* The answers in r[0..n), one after the other (keep-alive, pipelining): each a status line,
 * headers, and a body of Content-Length bytes (none for HEAD: the next answer or the end
 * follows the head); only the last may say "Connection: close". */
static void
check_response(const char *r, size_t n)
{
	while (n > 0) {
		const char *end, *cl, *conn;
		unsigned long len;
		size_t hl;
		int status;

		if (n < 12 || memcmp(r, "HTTP/1.1 ", 9) != 0)
			__builtin_trap();
		status = atoi(r + 9);
		if (status != 200 && status != 400 && status != 404 && status != 405 &&
		    status != 503)
			__builtin_trap();
		end = memmem(r, n, "\r\n\r\n", 4);
		cl = memmem(r, n, "Content-Length: ", 16);
		conn = memmem(r, n, "Connection: ", 12);
		if (end == NULL || cl == NULL || cl > end || conn == NULL || conn > end)
			__builtin_trap();
		len = strtoul(cl + 16, NULL, 10);
		hl = (size_t)(end + 4 - r);
		if (hl == n || (n - hl >= 9 && memcmp(end + 4, "HTTP/1.1 ", 9) == 0))
			len = 0;                          /* HEAD */
		else if (hl + len > n)
			__builtin_trap();                 /* a body cut short */
		if (memcmp(conn + 12, "close", 5) == 0 && hl + len != n)
			__builtin_trap();                 /* an answer after "close" */
		if ((status == 400 || status == 405) && memcmp(conn + 12, "close", 5) != 0)
			__builtin_trap();                 /* an error answer ends the connection */
		r += hl + len;
		n -= hl + len;
	}
}

static void
check_server(const uint8_t *data, size_t size)
{
	static struct metricsd *m;
	static int flip;
	struct sockaddr_in sa;
	static char resp[1 << 20];
	char err[256];
	size_t got = 0, sent = 0;
	int fd, turns;

	if (m == NULL && (m = metricsd_open("127.0.0.1:0", "fuzz", render, health, &flip, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_metricsd: %s\n", err);
		abort();
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)metricsd_port(m));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		abort();
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 && errno != EINPROGRESS)
		abort();
	for (turns = 0; turns < 2000; turns++) {
		ssize_t k;

		metricsd_poll(m, NULL, 0, 5);
		if (sent < size) {
			k = send(fd, data + sent, size - sent, MSG_NOSIGNAL);
			if (k > 0)
				sent += (size_t)k;
			else if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN)
				sent = size;              /* the server closed first: fine */
			if (sent == size)
				shutdown(fd, SHUT_WR);
		}
		k = recv(fd, resp + got, sizeof(resp) - got, 0);
		if (k > 0) {
			got += (size_t)k;
			if (got == sizeof(resp))
				__builtin_trap();         /* a page bigger than any answer here */
			continue;
		}
		if (k == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOTCONN))
			break;                            /* closed (or reset) */
	}
	close(fd);
	if (turns == 2000)
		__builtin_trap();                         /* the exchange never ended */
	check_response(resp, got);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check_parse(data, size);
	check_server(data, size);
	return 0;
}
