/* Unit tests for common/httpd's held answers (httpd_release): a real server on a loopback port
 * driven by its event loop, and plain client sockets. A held answer is not sent before the
 * release, a release may replace it, a request pipelined behind a held one waits for it, and a
 * client that goes away meanwhile is reported (gone) without the handle going stale. */
#include <check.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "buf.h"
#include "httpd.h"

struct fixture {
	struct event_base *base;
	struct httpd_server *srv;
	struct httpd_conn *held[8];
	int n_held;
	int n_handled;
	int n_gone;
	int stage;          /* hold with a staged 200 (1) or with nothing (0) */
	int hold;           /* hold (1) or answer at once (0) */
};

static void
handler(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct fixture *f = arg;

	(void)req;
	f->n_handled++;
	if (f->hold) {
		resp->hold = 1;
		f->held[f->n_held++] = req->conn;
		if (!f->stage)
			return;
	}
	resp->status = 200;
	resp->body = "ok";
	resp->body_len = 2;
}

static void
gone(struct httpd_conn *c, void *arg)
{
	struct fixture *f = arg;

	(void)c;
	f->n_gone++;
}

static void
setup(struct fixture *f, int hold, int stage)
{
	struct httpd_config cfg;
	char err[128];

	memset(f, 0, sizeof(*f));
	memset(&cfg, 0, sizeof(cfg));
	cfg.limits.max_request_line = 1000;
	cfg.limits.max_headers = 4000;
	cfg.limits.max_body = 10000;
	cfg.max_connections = 16;
	cfg.request_timeout_s = 30;
	cfg.idle_timeout_s = 30;
	cfg.handler = handler;
	cfg.handler_arg = f;
	cfg.gone = gone;
	f->hold = hold;
	f->stage = stage;
	f->base = event_base_new();
	ck_assert_ptr_nonnull(f->base);
	f->srv = httpd_server_new(f->base, "127.0.0.1", 0, &cfg, err, sizeof(err));
	ck_assert_msg(f->srv != NULL, "%s", err);
}

static void
teardown(struct fixture *f)
{
	httpd_server_free(f->srv);
	event_base_free(f->base);
}

static int
client(struct fixture *f)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_ge(fd, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)httpd_server_port(f->srv));
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Turn the server's loop until cond holds, for at most ~2 s. */
#define SPIN_UNTIL(f, cond) do {                                                  \
		int spin_;                                                         \
		for (spin_ = 0; spin_ < 2000 && !(cond); spin_++) {                \
			struct timeval tv_ = { 0, 1000 };                          \
			event_base_loopexit((f)->base, &tv_);                      \
			event_base_dispatch((f)->base);                            \
		}                                                                  \
		ck_assert_msg((cond), "timed out waiting for " #cond);             \
	} while (0)

/* Bytes the client has received so far (the server's loop turns meanwhile), NUL-terminated. */
static size_t
recv_some(struct fixture *f, int fd, char *out, size_t cap, const char *until, int rounds)
{
	size_t len = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < rounds; i++) {
		struct pollfd p = { fd, POLLIN, 0 };
		struct timeval tv = { 0, 1000 };
		ssize_t n;

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
		if (poll(&p, 1, 0) == 1) {
			n = recv(fd, out + len, cap - 1 - len, MSG_DONTWAIT);
			if (n > 0) {
				len += (size_t)n;
				out[len] = '\0';
			}
			if (n == 0)
				break;
		}
		if (until && strstr(out, until))
			break;
	}
	return len;
}

static size_t
count(const char *s, const char *needle)
{
	size_t n = 0;

	while ((s = strstr(s, needle)) != NULL) {
		n++;
		s++;
	}
	return n;
}

static const char REQ[] = "GET /i HTTP/1.1\r\nHost: x\r\n\r\n";

START_TEST(held_answer_waits_for_release)
{
	struct fixture f;
	char out[4096];
	int fd;

	setup(&f, 1, 1);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 1);
	ck_assert_uint_eq(httpd_server_held(f.srv), 1);
	/* not sent while held */
	ck_assert_uint_eq(recv_some(&f, fd, out, sizeof(out), NULL, 20), 0);
	ck_assert_int_eq(httpd_release(f.held[0], NULL), 0);
	ck_assert_uint_eq(httpd_server_held(f.srv), 0);
	recv_some(&f, fd, out, sizeof(out), "ok", 500);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\r\n\r\nok"));
	/* the connection stays open for the next request */
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 2);
	ck_assert_int_eq(httpd_release(f.held[1], NULL), 0);
	recv_some(&f, fd, out, sizeof(out), "ok", 500);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(release_replaces_the_staged_answer)
{
	struct fixture f;
	struct httpd_response r;
	struct buf h;
	char out[4096];
	int fd;

	setup(&f, 1, 1);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 1);
	buf_init(&h, 0);
	buf_append_str(&h, "X-Why: append failed\r\n");
	memset(&r, 0, sizeof(r));
	r.status = 503;
	r.headers = &h;
	r.body = "Service Unavailable";
	r.body_len = 19;
	ck_assert_int_eq(httpd_release(f.held[0], &r), 0);
	buf_free(&h);
	recv_some(&f, fd, out, sizeof(out), "Unavailable", 500);
	ck_assert_msg(strncmp(out, "HTTP/1.1 503 ", 13) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "X-Why: append failed\r\n"));
	ck_assert_ptr_null(strstr(out, "200"));
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(hold_without_an_answer)
{
	struct fixture f;
	struct httpd_response r;
	char out[4096];
	int fd;

	setup(&f, 1, 0);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 1);
	memset(&r, 0, sizeof(r));
	r.status = 204;
	ck_assert_int_eq(httpd_release(f.held[0], &r), 0);
	recv_some(&f, fd, out, sizeof(out), "\r\n\r\n", 500);
	ck_assert_msg(strncmp(out, "HTTP/1.1 204 ", 13) == 0, "%s", out);
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(pipelined_request_waits_behind_the_held_one)
{
	struct fixture f;
	char out[8192], two[256];
	int fd;

	setup(&f, 1, 1);
	fd = client(&f);
	snprintf(two, sizeof(two), "%s%s", REQ, REQ);
	ck_assert_int_eq((int)send(fd, two, strlen(two), 0), (int)strlen(two));
	SPIN_UNTIL(&f, f.n_held == 1);
	recv_some(&f, fd, out, sizeof(out), NULL, 20);
	ck_assert_int_eq(f.n_handled, 1);       /* the second waits */
	ck_assert_int_eq(httpd_release(f.held[0], NULL), 0);
	ck_assert_int_eq(f.n_handled, 2);       /* handled at the release */
	ck_assert_int_eq(f.n_held, 2);
	ck_assert_int_eq(httpd_release(f.held[1], NULL), 0);
	recv_some(&f, fd, out, sizeof(out), NULL, 300);
	ck_assert_uint_eq(count(out, "HTTP/1.1 200 OK"), 2);
	close(fd);
	teardown(&f);
}
END_TEST

START_TEST(client_closes_while_held)
{
	struct fixture f;
	int fd;

	setup(&f, 1, 1);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 1);
	close(fd);
	SPIN_UNTIL(&f, f.n_gone == 1);
	ck_assert_uint_eq(httpd_server_open(f.srv), 1);   /* the handle stays valid */
	ck_assert_int_ne(httpd_release(f.held[0], NULL), -1);
	SPIN_UNTIL(&f, httpd_server_open(f.srv) == 0);
	ck_assert_uint_eq(httpd_server_held(f.srv), 0);
	teardown(&f);
}
END_TEST

START_TEST(connection_reset_while_held)
{
	struct fixture f;
	struct linger lg = { 1, 0 };
	int fd;

	setup(&f, 1, 1);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	SPIN_UNTIL(&f, f.n_held == 1);
	/* an abortive close: the server's recv fails with ECONNRESET */
	ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(fd);
	SPIN_UNTIL(&f, f.n_gone == 1);
	ck_assert_int_eq(httpd_release(f.held[0], NULL), HTTPD_GONE);
	ck_assert_uint_eq(httpd_server_open(f.srv), 0);
	teardown(&f);
}
END_TEST

START_TEST(answer_at_once_is_unchanged)
{
	struct fixture f;
	char out[4096];
	int fd;

	setup(&f, 0, 1);
	fd = client(&f);
	ck_assert_int_eq((int)send(fd, REQ, strlen(REQ), 0), (int)strlen(REQ));
	recv_some(&f, fd, out, sizeof(out), "ok", 500);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	ck_assert_uint_eq(httpd_server_held(f.srv), 0);
	close(fd);
	teardown(&f);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("httpd_hold");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, held_answer_waits_for_release);
	tcase_add_test(tc, release_replaces_the_staged_answer);
	tcase_add_test(tc, hold_without_an_answer);
	tcase_add_test(tc, pipelined_request_waits_behind_the_held_one);
	tcase_add_test(tc, client_closes_while_held);
	tcase_add_test(tc, connection_reset_while_held);
	tcase_add_test(tc, answer_at_once_is_unchanged);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
