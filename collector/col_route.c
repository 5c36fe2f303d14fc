/*
 * col_route: request handling for the collector (see col_route.h). One call per complete HTTP
 * request: pick the route, build the CollectorPayload from views into the request, queue the
 * record(s) or refuse with 503, and fill the response.
 */
#include "col_route.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <event2/event.h>

#include "badrow.h"
#include "base64.h"
#include "col_cookie.h"
#include "col_mime.h"
#include "col_query.h"
#include "col_queue.h"
#include "col_split.h"
#include "metricsd.h"
#include "pct.h"
#include "utf8.h"
#include "uuid.h"

#define COL_ARTIFACT "furrow-collector"

/* collector.md §3: GIF89a 1x1 transparent, the SSC 3.x bytes. */
const unsigned char col_route_pixel[43] = {
	0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0xf0, 0x00, 0x00, 0xff, 0xff,
	0xff, 0x00, 0x00, 0x00, 0x21, 0xf9, 0x04, 0x05, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
};

/* collector.md §2: three groups, no final LF. */
static const char ROBOTS[] =
    "User-agent: *\nDisallow: /\n\nUser-agent: Googlebot\nDisallow: /\n\n"
    "User-agent: AdsBot-Google\nDisallow: /";

static const char NUID_ANONYMOUS[] = "00000000-0000-0000-0000-000000000000";

enum kind { K_PIXEL, K_POST, K_REDIRECT };

static const char *const route_names[ROUTE_N] = {
	"pixel", "post", "redirect", "options", "health", "sink_health", "robots", "crossdomain",
	"root", "metrics", "other",
};


const char *
col_route_name(int route)
{
	return route >= 0 && route < ROUTE_N ? route_names[route] : "?";
}

static void group_cb(evutil_socket_t fd, short what, void *arg);

int
col_ctx_init(struct col_ctx *ctx, const struct col_config *cfg, struct event_base *base,
    struct col_queue *good, struct col_queue *bad)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->cfg = cfg;
	ctx->base = base;
	ctx->good = good;
	ctx->bad = bad;
	buf_init(&ctx->enc, 0);
	buf_init(&ctx->scratch, 0);
	buf_init(&ctx->tmp, 0);
	buf_init(&ctx->alt, 0);
	ctx->start_time = metrics_wall_now();
	ctx->ev_group = event_new(base, -1, 0, group_cb, ctx);
	return ctx->ev_group ? 0 : -1;
}

void
col_ctx_free(struct col_ctx *ctx)
{
	if (ctx->ev_group)
		event_free(ctx->ev_group);
	free(ctx->held);
	buf_free(&ctx->enc);
	buf_free(&ctx->scratch);
	buf_free(&ctx->tmp);
	buf_free(&ctx->alt);
}

static int
ieq(const char *a, size_t alen, const char *b)
{
	size_t n = strlen(b);

	return alen == n && strncasecmp(a, b, n) == 0;
}

static int
meq(const struct httpd_request *req, const char *m)
{
	size_t n = strlen(m);

	return req->method_len == n && memcmp(req->method, m, n) == 0;
}

/* Set a fixed text answer. */
static void
answer_text(struct httpd_response *resp, int status, const char *ctype, const char *body,
    size_t len)
{
	resp->status = status;
	if (ctype) {
		buf_append_str(resp->headers, "Content-Type: ");
		buf_append_str(resp->headers, ctype);
		buf_append_str(resp->headers, "\r\n");
	}
	resp->body = body;
	resp->body_len = len;
}

/* §4.1 Access-Control-Allow-Origin: the first usable Origin, or "*". */
static void
add_cors(struct httpd_response *resp, const struct httpd_header *origin)
{
	struct col_origin o;
	size_t pos = 0;

	buf_append_str(resp->headers, "Access-Control-Allow-Origin: ");
	if (origin && col_cookie_origin_next(origin->value, origin->value_len, &pos, &o)) {
		buf_append(resp->headers, o.scheme, o.scheme_len);
		buf_append_str(resp->headers, "://");
		buf_append(resp->headers, o.host, o.host_len);
		if (o.port) {
			buf_append_byte(resp->headers, ':');
			buf_append(resp->headers, o.port, o.port_len);
		}
	} else {
		buf_append_byte(resp->headers, '*');
	}
	buf_append_str(resp->headers, "\r\nAccess-Control-Allow-Credentials: true\r\n");
}

/* Split the request-target into path and query; find the hostname of an absolute form.
 * Returns 0 or -1 for a target the collector cannot route (400). */
struct target {
	const char *path;
	size_t path_len;
	const char *query;          /* NULL when there is no '?' */
	size_t query_len;
	const char *uri_host;       /* absolute-form authority host, else NULL */
	size_t uri_host_len;
};

static int
split_target(const char *t, size_t len, struct target *out)
{
	const char *q, *hash;

	memset(out, 0, sizeof(*out));
	if (len >= 7 && (strncasecmp(t, "http://", 7) == 0 ||
	    (len >= 8 && strncasecmp(t, "https://", 8) == 0))) {
		const char *a = t + (t[4] == ':' ? 7 : 8), *end = t + len, *ae = a, *h;

		while (ae < end && *ae != '/' && *ae != '?' && *ae != '#')
			ae++;
		h = a;
		for (const char *k = a; k < ae; k++)
			if (*k == '@')
				h = k + 1;
		out->uri_host = h;
		if (h < ae && *h == '[') {
			const char *rb = memchr(h, ']', (size_t)(ae - h));
			out->uri_host_len = rb ? (size_t)(rb + 1 - h) : (size_t)(ae - h);
		} else {
			const char *c = memchr(h, ':', (size_t)(ae - h));
			out->uri_host_len = c ? (size_t)(c - h) : (size_t)(ae - h);
		}
		len -= (size_t)(ae - t);
		t = ae;
		if (len == 0 || *t != '/') {
			/* "http://host" or "http://host?q": the path is "/" */
			out->path = "/";
			out->path_len = 1;
			if (len > 0 && *t == '?') {
				out->query = t + 1;
				out->query_len = len - 1;
			}
			return 0;
		}
	} else if (len == 1 && t[0] == '*') {
		out->path = t;
		out->path_len = 1;
		return 0;
	} else if (len == 0 || t[0] != '/') {
		return -1;
	}
	hash = memchr(t, '#', len);
	if (hash)
		len = (size_t)(hash - t);
	q = memchr(t, '?', len);
	out->path = t;
	out->path_len = q ? (size_t)(q - t) : len;
	if (q) {
		out->query = q + 1;
		out->query_len = len - (size_t)(q + 1 - t);
	}
	return 0;
}

/* Find the value of a cookie in any Cookie header. */
static int
find_cookie(const struct httpd_request *req, const char *name, const char **v, size_t *vl)
{
	size_t i;

	for (i = 0; i < req->n_headers; i++) {
		const struct httpd_header *h = &req->headers[i];

		if (ieq(h->name, h->name_len, "cookie") && col_cookie_find(h->value, h->value_len,
		    name, v, vl))
			return 1;
	}
	return 0;
}

/* §7: first X-Forwarded-For entry if it is an IP literal, else "unknown"; else the peer. */
static void
client_ip(const struct httpd_request *req, struct col_str *ip, char *tmp, size_t tmplen)
{
	const struct httpd_header *xff = httpd_header_get(req, "x-forwarded-for");

	ip->s = "unknown";
	ip->len = 7;
	if (xff) {
		const char *v = xff->value, *e = memchr(v, ',', xff->value_len);
		size_t n = e ? (size_t)(e - v) : xff->value_len;
		unsigned char addr[sizeof(struct in6_addr)];

		while (n && (*v == ' ' || *v == '\t')) {
			v++;
			n--;
		}
		while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
			n--;
		if (n == 0 || n >= tmplen)
			return;
		memcpy(tmp, v, n);
		tmp[n] = '\0';
		if (inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1) {
			ip->s = v;
			ip->len = n;
		}
		return;
	}
	if (req->peer && req->peer[0]) {
		ip->s = req->peer;
		ip->len = strlen(req->peer);
	}
}

/* Append a Set-Cookie (and the client cookie) for value; expires is absolute. */
static void
add_set_cookie(struct col_ctx *ctx, struct httpd_response *resp,
    const struct httpd_header *origin, const char *value, size_t vlen, time_t expires)
{
	const struct col_config *cfg = ctx->cfg;
	struct col_cookie_attrs a;

	a.expires = expires;
	a.domain = col_cookie_domain(cfg->cookie_domains, cfg->n_cookie_domains,
	    origin ? origin->value : NULL, origin ? origin->value_len : 0,
	    cfg->cookie_fallback_domain);
	a.same_site = cfg->cookie_same_site;
	a.secure = cfg->cookie_secure;
	a.http_only = cfg->cookie_http_only;
	col_cookie_set_header(resp->headers, cfg->cookie_name, value, vlen, &a);
	if (cfg->client_cookie_name) {
		a.http_only = 0;
		col_cookie_set_header(resp->headers, cfg->client_cookie_name, value, vlen, &a);
	}
}

static int
dnt_matches(const struct col_ctx *ctx, const struct httpd_request *req, struct buf *tmp)
{
	const char *v;
	size_t vl;
	regmatch_t m;

	if (!ctx->cfg->dnt_enabled || !find_cookie(req, ctx->cfg->dnt_name, &v, &vl))
		return 0;
	buf_reset(tmp);
	if (buf_append(tmp, v, vl) == -1)
		return 0;
	if (regexec(&ctx->cfg->dnt_re, tmp->data, 1, &m, 0) != 0)
		return 0;
	return m.rm_so == 0 && (size_t)m.rm_eo == vl;
}

/* A size_violation row for the queue (collector.md §10.3). */
static int
make_violation(struct buf *out, long long max, long long actual, const char *msg,
    const char *payload, size_t plen)
{
	char exp[400];
	json_t *row;
	int rc;

	snprintf(exp, sizeof(exp), "oversized collector payload: %s", msg);
	row = badrow_size_violation(COL_ARTIFACT, max, actual, exp, payload, plen);
	if (row == NULL)
		return -1;
	rc = badrow_write(row, out);
	json_decref(row);
	return rc;
}

/*
 * Turn the encoded payload into queued lines, per §10.2. Everything is prepared first and only
 * queued when all of it fits, so a 503 stores nothing. Returns 0, 1 for "queue full", -1 on
 * allocation failure. *logs: the outputs that are logs and got lines (COL_HELD_*), which the
 * answer must wait for (group_cb appends them).
 */
/* An output that is not a log (a topic: its producer; a file or FIFO: nothing to do) takes the
 * request's lines now: a topic's refusal is this request's 503. A log's wait for group_cb. */
static int
commit_now(struct col_queue *q)
{
	return col_queue_durable(q) ? 0 : col_queue_commit(q);
}

static int
store(struct col_ctx *ctx, struct col_payload *p, int *logs)
{
	const struct col_config *cfg = ctx->cfg;
	size_t w = ctx->enc.len, i, good_bytes = 0;
	struct buf bad, *recs = NULL;
	size_t n_recs = 0;
	struct col_split sp;
	int rc = -1;

	/* the partition key of this request's records (a Kafka output) */
	if (col_queue_key(ctx->good, p->ip_address.s, p->ip_address.len) == -1 ||
	    col_queue_key(ctx->bad, p->ip_address.s, p->ip_address.len) == -1)
		return -1;
	if (w < cfg->max_record) {
		if (!col_queue_room(ctx->good, base64_encoded_len(w) + 1))
			return 1;
		if (col_queue_push_base64(ctx->good, (const uint8_t *)ctx->enc.data, w) == -1)
			return -1;
		if (commit_now(ctx->good) == -1)
			return 1;
		ctx->st.records++;
		*logs = col_queue_durable(ctx->good) ? COL_HELD_GOOD : 0;
		return 0;
	}
	buf_init(&bad, 0);
	memset(&sp, 0, sizeof(sp));
	if (w > cfg->max_payload) {
		char msg[128];

		snprintf(msg, sizeof(msg), "Payload exceeds max size of %zu. Actual length: %zu",
		    cfg->max_payload, w);
		buf_reset(&ctx->tmp);
		if (col_payload_render(p, cfg->max_payload / 10, &ctx->tmp) == -1 ||
		    make_violation(&bad, (long long)cfg->max_payload, (long long)w, msg,
		    ctx->tmp.data, ctx->tmp.len) == -1)
			goto done;
	} else {
		if (col_split_body(p->body.s, p->body.len, w, cfg->max_record, &sp) == -1)
			goto done;
		if (sp.error) {
			buf_reset(&ctx->tmp);
			if (col_payload_render(p, cfg->max_record / 10, &ctx->tmp) == -1 ||
			    make_violation(&bad, (long long)cfg->max_record, (long long)w, sp.error,
			    ctx->tmp.data, ctx->tmp.len) == -1)
				goto done;
		} else {
			struct col_str orig = p->body;

			recs = calloc(sp.n_batches ? sp.n_batches : 1, sizeof(*recs));
			if (recs == NULL)
				goto done;
			for (i = 0; i < sp.n_batches; i++) {
				buf_init(&recs[i], 0);
				n_recs++;
				p->body.s = sp.batches[i].json;
				p->body.len = sp.batches[i].len;
				if (col_payload_encode(p, &recs[i]) == -1) {
					p->body = orig;
					goto done;
				}
				good_bytes += base64_encoded_len(recs[i].len) + 1;
			}
			p->body = orig;
			for (i = 0; i < sp.n_too_big; i++) {
				size_t keep = col_utf8_prefix_chars(sp.too_big[i].json, sp.too_big[i].len,
				    cfg->max_record / 10);

				if (make_violation(&bad, (long long)cfg->max_record,
				    (long long)sp.too_big[i].len,
				    "this POST request split is still too large",
				    sp.too_big[i].json, keep) == -1)
					goto done;
			}
			ctx->st.split_payloads++;
		}
	}
	if (!col_queue_room(ctx->good, good_bytes) || !col_queue_room(ctx->bad, bad.len)) {
		rc = 1;
		goto done;
	}
	for (i = 0; i < n_recs; i++) {
		if (col_queue_push_base64(ctx->good, (const uint8_t *)recs[i].data, recs[i].len) == -1)
			goto done;
		ctx->st.records++;
	}
	if (bad.len) {
		/* one line per row: count them */
		for (i = 0; i < bad.len; i++)
			if (bad.data[i] == '\n')
				ctx->st.bad_rows++;
		if (col_queue_push(ctx->bad, bad.data, bad.len) == -1)
			goto done;
	}
	if (commit_now(ctx->good) == -1 || commit_now(ctx->bad) == -1) {
		rc = 1;
		goto done;
	}
	*logs = (n_recs && col_queue_durable(ctx->good) ? COL_HELD_GOOD : 0) |
	    (bad.len && col_queue_durable(ctx->bad) ? COL_HELD_BAD : 0);
	rc = 0;
done:
	for (i = 0; i < n_recs; i++)
		buf_free(&recs[i]);
	free(recs);
	col_split_free(&sp);
	buf_free(&bad);
	return rc;
}

/*
 * Hold a tracking request's answer (already in resp) until group_cb has appended its group's
 * lines to the logs. Its 503, should the append fail, has the same CORS headers: they are kept
 * in ctx->alt. Returns 0, or -1 when out of memory.
 */
static int
hold_answer(struct col_ctx *ctx, const struct httpd_request *req, struct httpd_response *resp,
    const struct httpd_header *origin, int logs, uint64_t records, uint64_t bad_rows)
{
	struct col_held *h;
	struct httpd_response alt;

	if (ctx->n_held == ctx->cap_held) {
		size_t ncap = ctx->cap_held ? ctx->cap_held * 2 : 64;
		struct col_held *p = realloc(ctx->held, ncap * sizeof(*p));

		if (p == NULL)
			return -1;
		ctx->held = p;
		ctx->cap_held = ncap;
	}
	h = &ctx->held[ctx->n_held];
	memset(h, 0, sizeof(*h));
	h->conn = req->conn;
	h->alt_off = ctx->alt.len;
	memset(&alt, 0, sizeof(alt));
	alt.headers = &ctx->alt;
	add_cors(&alt, origin);
	buf_append_str(&ctx->alt, "Content-Type: text/plain\r\n");
	h->alt_len = ctx->alt.len - h->alt_off;
	h->logs = (uint8_t)logs;
	h->records = (uint32_t)records;
	h->bad_rows = (uint32_t)bad_rows;
	h->status = (uint16_t)resp->status;
	ctx->n_held++;
	resp->hold = 1;
	if (ctx->n_held == 1)
		event_active(ctx->ev_group, EV_TIMEOUT, 0);
	return 0;
}

/* Headers for the tracking answers, §4.1 */
static void
tracking_headers(struct httpd_response *resp, const struct httpd_request *req,
    const struct col_config *cfg, const struct httpd_header *origin)
{
	if (meq(req, "GET") || meq(req, "HEAD"))
		buf_append_str(resp->headers, "Cache-Control: no-cache, no-store, must-revalidate\r\n");
	add_cors(resp, origin);
	if (cfg->hsts_s > 0)
		buf_printf(resp->headers, "Strict-Transport-Security: max-age=%lld\r\n", cfg->hsts_s);
}

/* What track() works out about one tracking request before it builds the payload. The payload
 * holds views into the request, into ctx->scratch (reserved once, so that it never moves while
 * they are made) and into this. */
struct track_state {
	const struct httpd_header *origin;     /* for CORS */
	const struct httpd_header *ct;         /* POST: Content-Type */
	int    sp_anon, dnt, bounce, has_cookie, body_repaired;
	const char *cookie_val;
	size_t cookie_len;
	const char *nuid;
	size_t nuid_len;
	size_t path_off, body_off, ct_off, ct_len;   /* in ctx->scratch */
	size_t n_headers;                            /* in ctx->hdrs */
	char   uuid[UUID_STR_LEN + 1];
	char   ip[INET6_ADDRSTRLEN + 8];
};

/* Reserve ctx->scratch for every string this request may need, and copy the path into it. */
static int
reserve_scratch(struct col_ctx *ctx, const struct httpd_request *req, const struct target *t,
    const char *path, size_t path_len, struct track_state *st)
{
	struct buf *sc = &ctx->scratch;
	size_t bound, i;

	bound = path_len + 64 + UUID_STR_LEN + (t->query_len + 16);
	for (i = 0; i < req->n_headers; i++)
		bound += req->headers[i].value_len + 1;
	if (st->ct)
		bound += st->ct->value_len * 2 + 16;
	if (meq(req, "POST") && utf8_valid_prefix(req->body, req->body_len) != req->body_len) {
		st->body_repaired = 1;
		bound += req->body_len * 3;
	}
	buf_reset(sc);
	if (buf_reserve(sc, bound) == -1)
		return -1;
	st->path_off = sc->len;
	buf_append(sc, path, path_len);
	return 0;
}

/* §5.1 the network user id: SP-Anonymous, the nuid parameter, the cookie, the bounce fallback,
 * else a new UUID (st->bounce: none yet, bounce to test third-party cookies). */
static int
pick_nuid(struct col_ctx *ctx, const struct httpd_request *req, enum kind kind,
    const struct target *t, struct track_state *st)
{
	const struct col_config *cfg = ctx->cfg;
	struct buf *sc = &ctx->scratch;
	size_t nuid_off = 0;
	int nuid_in_scratch = 0, rc;

	/* with SP-Anonymous the cookie is only looked at to know whether to delete it */
	if (cfg->cookie_enabled)
		st->has_cookie = find_cookie(req, cfg->cookie_name, &st->cookie_val, &st->cookie_len);
	if (st->sp_anon) {
		st->nuid = NUID_ANONYMOUS;
		st->nuid_len = sizeof(NUID_ANONYMOUS) - 1;
	} else {
		size_t before = sc->len;

		rc = t->query ? col_query_get(t->query, t->query_len, "nuid", sc) : 0;
		if (rc == 1 && sc->len > before) {
			nuid_off = before;
			st->nuid_len = sc->len - before;
			nuid_in_scratch = 1;
		} else {
			sc->len = before;
			if (st->has_cookie && st->cookie_len > 0) {
				st->nuid = st->cookie_val;
				st->nuid_len = st->cookie_len;
			}
		}
	}
	if (st->nuid == NULL && !nuid_in_scratch) {
		if (cfg->bounce && kind == K_PIXEL) {
			size_t before = sc->len;

			if (t->query && col_query_get(t->query, t->query_len, cfg->bounce_name, sc) == 1) {
				sc->len = before;
				st->nuid = cfg->bounce_fallback;
				st->nuid_len = strlen(st->nuid);
			} else {
				sc->len = before;
				st->bounce = 1;
			}
		}
		if (st->nuid == NULL) {
			if (uuid_v4(st->uuid) == -1)
				return -1;
			st->nuid = st->uuid;
			st->nuid_len = UUID_STR_LEN;
		}
	}
	if (nuid_in_scratch)
		st->nuid = sc->data + nuid_off;
	return 0;
}

/* §8 the headers list into ctx->hdrs, §5.3 Cookie re-rendered, §6 what SP-Anonymous removes,
 * the normalised Content-Type; and a POST body that is not UTF-8 repaired into scratch. */
static int
payload_headers(struct col_ctx *ctx, const struct httpd_request *req, struct track_state *st)
{
	struct buf *sc = &ctx->scratch;
	const struct httpd_header *h;
	size_t cookie_off[COL_PAYLOAD_MAX_HEADERS];
	size_t i, nh = 0;

	for (i = 0; i < req->n_headers && nh < COL_PAYLOAD_MAX_HEADERS - 1; i++) {
		h = &req->headers[i];
		if (st->sp_anon && (ieq(h->name, h->name_len, "x-forwarded-for") ||
		    ieq(h->name, h->name_len, "x-real-ip") || ieq(h->name, h->name_len, "cookie")))
			continue;
		ctx->hdrs[nh].name.s = h->name;
		ctx->hdrs[nh].name.len = h->name_len;
		if (ieq(h->name, h->name_len, "cookie")) {
			size_t before = sc->len;
			long n = col_cookie_rerender(h->value, h->value_len, sc);

			if (n <= 0) {
				sc->len = before;
				continue;
			}
			cookie_off[nh] = before;
			ctx->hdrs[nh].value.s = NULL;          /* fixed below */
			ctx->hdrs[nh].value.len = (size_t)n;
		} else {
			ctx->hdrs[nh].value.s = h->value;
			ctx->hdrs[nh].value.len = h->value_len;
		}
		nh++;
	}
	if (st->ct) {
		st->ct_off = sc->len;
		if (col_mime_normalise(st->ct->value, st->ct->value_len, sc) == -1)
			return -1;
		st->ct_len = sc->len - st->ct_off;
		ctx->hdrs[nh].name.s = NULL;
		ctx->hdrs[nh].name.len = 0;
		ctx->hdrs[nh].value.s = NULL;
		ctx->hdrs[nh].value.len = st->ct_len;
		cookie_off[nh] = st->ct_off;
		nh++;
	}
	if (st->body_repaired) {
		st->body_off = sc->len;
		if (utf8_repair(req->body, req->body_len, sc) == -1)
			return -1;
	}
	/* the scratch buffer no longer moves: resolve the views */
	for (i = 0; i < nh; i++)
		if (ctx->hdrs[i].value.s == NULL)
			ctx->hdrs[i].value.s = sc->data + cookie_off[i];
	st->n_headers = nh;
	return 0;
}

/* The CollectorPayload fields (§8), as views. */
static void
fill_payload(struct col_ctx *ctx, const struct httpd_request *req, const struct target *t,
    size_t path_len, struct track_state *st, struct col_payload *p)
{
	const char *scd = ctx->scratch.data;
	const struct httpd_header *h;

	memset(p, 0, sizeof(*p));
	if (st->sp_anon) {
		p->ip_address.s = "unknown";
		p->ip_address.len = 7;
	} else {
		client_ip(req, &p->ip_address, st->ip, sizeof(st->ip));
	}
	p->timestamp = req->time_ms;
	if ((h = httpd_header_get(req, "user-agent")) != NULL) {
		p->user_agent.s = h->value;
		p->user_agent.len = h->value_len;
	}
	if ((h = httpd_header_get(req, "referer")) != NULL) {
		p->referer_uri.s = h->value;
		p->referer_uri.len = h->value_len;
	}
	p->path.s = scd + st->path_off;
	p->path.len = path_len;
	p->querystring.s = t->query ? t->query : "";
	p->querystring.len = t->query ? t->query_len : 0;
	if (meq(req, "POST")) {
		if (st->body_repaired) {
			p->body.s = scd + st->body_off;
			p->body.len = ctx->scratch.len - st->body_off;
		} else {
			p->body.s = req->body ? req->body : "";
			p->body.len = req->body_len;
		}
	}
	p->headers = ctx->hdrs;
	p->n_headers = st->n_headers;
	if (st->ct) {
		p->content_type.s = scd + st->ct_off;
		p->content_type.len = st->ct_len;
	}
	if (t->uri_host) {
		p->hostname.s = t->uri_host;
		p->hostname.len = t->uri_host_len;
	} else if ((h = httpd_header_get(req, "host")) != NULL) {
		const char *v = h->value;
		size_t n = h->value_len;

		if (n && v[0] == '[') {
			const char *rb = memchr(v, ']', n);
			if (rb)
				n = (size_t)(rb + 1 - v);
		} else {
			const char *c = memchr(v, ':', n);
			if (c)
				n = (size_t)(c - v);
		}
		p->hostname.s = v;
		p->hostname.len = n;
	}
	p->network_user_id.s = st->nuid;
	p->network_user_id.len = st->nuid_len;
}

/* §7 the redirect's target: Location and 302, or 400 when u is missing or not allowed. */
static int
redirect_location(struct col_ctx *ctx, const struct target *t, struct httpd_response *resp)
{
	const struct col_config *cfg = ctx->cfg;
	const char *host;
	size_t host_len, i;
	int ok = 0;

	/* the payload holds views into scratch, which must not move now: decode u into tmp */
	buf_reset(&ctx->tmp);
	if (t->query && col_query_get(t->query, t->query_len, "u", &ctx->tmp) == 1 &&
	    col_query_uri_parse(ctx->tmp.data, ctx->tmp.len, &host, &host_len)) {
		ok = cfg->n_redirect_domains == 0;
		for (i = 0; !ok && host && i < cfg->n_redirect_domains; i++)
			ok = strlen(cfg->redirect_domains[i]) == host_len &&
			    memcmp(cfg->redirect_domains[i], host, host_len) == 0;
	}
	if (!ok)
		return 400;
	buf_append_str(resp->headers, "Location: ");
	buf_append(resp->headers, ctx->tmp.data, ctx->tmp.len);
	buf_append_str(resp->headers, "\r\n");
	return 302;
}

/* §5.4 the cookie bounce: 302 to the same URL with <bounce name>=true added. */
static void
bounce_location(const struct col_config *cfg, const struct httpd_request *req,
    const struct target *t, struct httpd_response *resp)
{
	const struct httpd_header *host = httpd_header_get(req, "host");
	const char *scheme = "http";

	if (cfg->fwd_proto_header) {
		const struct httpd_header *fp = httpd_header_get(req, cfg->fwd_proto_header);

		if (fp && ieq(fp->value, fp->value_len, "https"))
			scheme = "https";
	}
	buf_append_str(resp->headers, "Location: ");
	buf_append_str(resp->headers, scheme);
	buf_append_str(resp->headers, "://");
	if (host)
		buf_append(resp->headers, host->value, host->value_len);
	buf_append(resp->headers, t->path, t->path_len);
	if (t->query) {
		buf_append_byte(resp->headers, '?');
		buf_append(resp->headers, t->query, t->query_len);
		buf_append_byte(resp->headers, '&');
	} else {
		buf_append_byte(resp->headers, '?');
	}
	buf_append_str(resp->headers, cfg->bounce_name);
	buf_append_str(resp->headers, "=true\r\n");
}

/* A tracking request (pixel, POST, redirect): the payload, the answer, the record(s) stored
 * unless do-not-track or bouncing, the cookie. */
static void
track(struct col_ctx *ctx, const struct httpd_request *req, struct httpd_response *resp,
    enum kind kind, const struct target *t, const char *path, size_t path_len)
{
	const struct col_config *cfg = ctx->cfg;
	struct track_state st;
	struct col_payload p;
	int status = 200, rc, logs = 0;
	uint64_t records0 = ctx->st.records, bad_rows0 = ctx->st.bad_rows;
	time_t now_s = (time_t)(req->time_ms / 1000);

	memset(&st, 0, sizeof(st));
	st.origin = httpd_header_get(req, "origin");
	st.sp_anon = httpd_header_get(req, "sp-anonymous") != NULL;
	st.dnt = dnt_matches(ctx, req, &ctx->tmp);
	if (meq(req, "POST"))
		st.ct = httpd_header_get(req, "content-type");
	if (reserve_scratch(ctx, req, t, path, path_len, &st) == -1 ||
	    pick_nuid(ctx, req, kind, t, &st) == -1 || payload_headers(ctx, req, &st) == -1)
		goto fail;
	fill_payload(ctx, req, t, path_len, &st, &p);

	/* the answer */
	if (kind == K_REDIRECT)
		status = redirect_location(ctx, t, resp);
	if (st.bounce) {
		status = 302;
		bounce_location(cfg, req, t, resp);
	}

	/* store, unless do-not-track or bouncing */
	if (!st.dnt && !st.bounce) {
		buf_reset(&ctx->enc);
		if (col_payload_encode(&p, &ctx->enc) == -1)
			goto fail;
		rc = store(ctx, &p, &logs);
		if (rc == -1)
			goto fail;
		if (rc == 1) {
			ctx->st.refused_503++;
			buf_reset(resp->headers);
			add_cors(resp, st.origin);
			answer_text(resp, 503, "text/plain", "Service Unavailable", 19);
			return;
		}
		ctx->st.stored_requests++;
	} else {
		ctx->st.not_stored++;
	}

	/* §5.2 Set-Cookie */
	if (cfg->cookie_enabled && !st.dnt) {
		if (st.sp_anon) {
			if (st.has_cookie)
				add_set_cookie(ctx, resp, st.origin, "", 0,
				    now_s - (time_t)cfg->cookie_expiry_s);
		} else {
			add_set_cookie(ctx, resp, st.origin, st.nuid, st.nuid_len,
			    now_s + (time_t)cfg->cookie_expiry_s);
		}
	}
	tracking_headers(resp, req, cfg, st.origin);
	if (status == 302 || status == 400) {
		resp->status = status;
		resp->body = "";
		resp->body_len = 0;
	} else if (kind == K_POST) {
		answer_text(resp, 200, "text/plain", "ok", 2);
	} else {
		answer_text(resp, 200, "image/gif", (const char *)col_route_pixel, sizeof(col_route_pixel));
	}
	/* lines for a log: answered once they are appended, at the end of this loop turn */
	if (logs && hold_answer(ctx, req, resp, st.origin, logs, ctx->st.records - records0,
	    ctx->st.bad_rows - bad_rows0) == -1)
		goto fail;
	return;
fail:
	buf_reset(resp->headers);
	answer_text(resp, 500, "text/plain", "Internal Server Error", 21);
}

static int
path_is(const struct target *t, const char *s)
{
	size_t n = strlen(s);

	return t->path_len == n && memcmp(t->path, s, n) == 0;
}

/* The request's method as one of the names col_metrics counts, in static storage: a held
 * answer is counted after its request is gone. */
static const char *
method_name(const struct httpd_request *req)
{
	return meq(req, "GET") ? "GET" : meq(req, "HEAD") ? "HEAD" : meq(req, "POST") ? "POST" :
	    meq(req, "OPTIONS") ? "OPTIONS" : "other";
}

static int
classify(struct col_ctx *ctx, const struct httpd_request *req, struct httpd_response *resp)
{
	const struct col_config *cfg = ctx->cfg;
	struct target t;
	int get = meq(req, "GET"), head = meq(req, "HEAD"), post = meq(req, "POST");

	if (split_target(req->target, req->target_len, &t) == -1) {
		answer_text(resp, 400, "text/plain", "Bad Request", 11);
		return ROUTE_OTHER;
	}
	/* §2: with redirects off, /r/... is refused for every method, OPTIONS included */
	if (!cfg->redirects && t.path_len >= 3 && memcmp(t.path, "/r/", 3) == 0) {
		answer_text(resp, 404, "text/plain", "redirects disabled", 18);
		return ROUTE_REDIRECT;
	}
	if (meq(req, "OPTIONS")) {
		const struct httpd_header *origin = httpd_header_get(req, "origin");

		add_cors(resp, origin);
		buf_printf(resp->headers, "Access-Control-Allow-Headers: Content-Type, SP-Anonymous\r\n"
		    "Access-Control-Max-Age: %u\r\n", cfg->cors_max_age);
		answer_text(resp, 200, NULL, "", 0);
		return ROUTE_OPTIONS;
	}
	if (get && path_is(&t, "/health")) {
		answer_text(resp, 200, "text/plain", "ok", 2);
		return ROUTE_HEALTH;
	}
	if (get && path_is(&t, "/sink-health")) {
		if (col_queue_healthy(ctx->good) && col_queue_healthy(ctx->bad))
			answer_text(resp, 200, "text/plain", "ok", 2);
		else
			answer_text(resp, 503, "text/plain", "Service Unavailable", 19);
		return ROUTE_SINK_HEALTH;
	}
	if (get && path_is(&t, "/robots.txt")) {
		answer_text(resp, 200, "text/plain", ROBOTS, sizeof(ROBOTS) - 1);
		return ROUTE_ROBOTS;
	}
	if (get && path_is(&t, "/crossdomain.xml")) {
		size_t i;

		if (cfg->n_crossdomain == 0) {
			answer_text(resp, 404, "text/plain", "Not found", 9);
			return ROUTE_CROSSDOMAIN;
		}
		buf_reset(&ctx->tmp);
		buf_append_str(&ctx->tmp, "<?xml version=\"1.0\"?>\n<cross-domain-policy>\n");
		for (i = 0; i < cfg->n_crossdomain; i++)
			buf_printf(&ctx->tmp, "%s<allow-access-from domain=\"%s\" secure=\"%s\" />",
			    i ? "\n" : "", cfg->crossdomain[i], cfg->crossdomain_secure ? "true" : "false");
		buf_append_str(&ctx->tmp, "\n</cross-domain-policy>");
		answer_text(resp, 200, "text/xml", ctx->tmp.data, ctx->tmp.len);
		return ROUTE_CROSSDOMAIN;
	}
	if (get && path_is(&t, "/metrics") && cfg->metrics) {
		buf_reset(&ctx->tmp);
		col_route_metrics(&ctx->tmp, ctx);
		buf_reset(&ctx->scratch);
		metrics_common(&ctx->tmp, "collector", ctx->start_time,
		    col_route_health(&ctx->scratch, ctx));
		answer_text(resp, 200, "text/plain; version=0.0.4", ctx->tmp.data, ctx->tmp.len);
		return ROUTE_METRICS;
	}
	if (get && path_is(&t, "/") && cfg->root_status) {
		if (cfg->root_location)
			buf_printf(resp->headers, "Location: %s\r\n", cfg->root_location);
		answer_text(resp, cfg->root_status, NULL, "", 0);
		return ROUTE_ROOT;
	}
	if ((get || head || post) && cfg->redirects && t.path_len >= 3 &&
	    memcmp(t.path, "/r/", 3) == 0) {
		buf_reset(&ctx->tmp);
		if (pct_decode(&ctx->tmp, t.path, t.path_len, PCT_STRICT) != 0) {
			answer_text(resp, 400, "text/plain", "Bad Request", 11);
			return ROUTE_REDIRECT;
		}
		/* the decoded path lives in tmp only until track() copies it into scratch */
		{
			char *copy = strndup(ctx->tmp.data, ctx->tmp.len);
			size_t n = ctx->tmp.len;

			if (copy == NULL) {
				answer_text(resp, 500, "text/plain", "Internal Server Error", 21);
				return ROUTE_REDIRECT;
			}
			track(ctx, req, resp, K_REDIRECT, &t, copy, n);
			free(copy);
		}
		return ROUTE_REDIRECT;
	}
	if ((get || head) && (path_is(&t, "/i") || path_is(&t, "/ice.png"))) {
		track(ctx, req, resp, K_PIXEL, &t, t.path, t.path_len);
		return ROUTE_PIXEL;
	}
	if (get || head || post) {
		/* "/{vendor}/{version}": exactly two non-empty segments */
		const char *p = t.path, *end = t.path + t.path_len, *slash;
		char pathbuf[1024];
		size_t n, i;
		struct buf *d = &ctx->tmp;

		if (t.path_len > 2 && p[0] == '/' && (slash = memchr(p + 1, '/', t.path_len - 1)) &&
		    slash > p + 1 && slash + 1 < end && memchr(slash + 1, '/', (size_t)(end - slash - 1))
		    == NULL) {
			buf_reset(d);
			if (buf_append_byte(d, '/') == -1 ||
			    pct_decode(d, p + 1, (size_t)(slash - p - 1), PCT_STRICT) != 0 ||
			    buf_append_byte(d, '/') == -1 ||
			    pct_decode(d, slash + 1, (size_t)(end - slash - 1), PCT_STRICT) != 0) {
				answer_text(resp, 400, "text/plain", "Bad Request", 11);
				return ROUTE_OTHER;
			}
			for (i = 0; i < cfg->n_maps; i++)
				if (strlen(cfg->map_from[i]) == d->len &&
				    memcmp(cfg->map_from[i], d->data, d->len) == 0) {
					buf_reset(d);
					buf_append_str(d, cfg->map_to[i]);
					break;
				}
			n = d->len;
			if (n >= sizeof(pathbuf)) {
				answer_text(resp, 414, "text/plain", "URI Too Long", 12);
				return ROUTE_OTHER;
			}
			memcpy(pathbuf, d->data, n);
			pathbuf[n] = '\0';
			if (n >= 3 && memcmp(pathbuf, "/r/", 3) == 0) {
				track(ctx, req, resp, K_REDIRECT, &t, pathbuf, n);
				return ROUTE_REDIRECT;
			}
			track(ctx, req, resp, post ? K_POST : K_PIXEL, &t, pathbuf, n);
			return post ? ROUTE_POST : ROUTE_PIXEL;
		}
	}
	answer_text(resp, 404, "text/plain", "Not found", 9);
	return ROUTE_OTHER;
}

/* Count an answer by route and status class, and in the metrics. */
static void
account(struct col_ctx *ctx, int route, const char *method, int status,
    const struct timespec *t0)
{
	struct timespec t1;
	int cls = status / 100;

	if (cls < 0 || cls > 5)
		cls = 0;
	ctx->st.by_route[route][cls]++;
	if (ctx->cfg->count_metrics) {
		clock_gettime(CLOCK_MONOTONIC, &t1);
		col_metrics_record(&ctx->metrics, route, method, strlen(method), status,
		    (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9);
	}
}

/*
 * The end of a loop turn with held requests: one append per log for all their lines, then the
 * answers, 503 for those whose lines did not make it. A release may run the handler for a
 * request pipelined behind: it joins the next group (its lines came after this append).
 */
static void
group_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_ctx *ctx = arg;
	size_t i, n = ctx->n_held;
	int failed = 0;

	(void)fd;
	(void)what;
	if (col_queue_commit(ctx->good) == -1)
		failed |= COL_HELD_GOOD;
	if (col_queue_commit(ctx->bad) == -1)
		failed |= COL_HELD_BAD;
	ctx->groups++;
	for (i = 0; i < n; i++) {
		struct col_held h = ctx->held[i];     /* a release may grow the array */
		int status = h.status;

		if (h.logs & failed) {
			struct httpd_response r;

			memset(&r, 0, sizeof(r));
			buf_reset(&ctx->tmp);
			buf_append(&ctx->tmp, ctx->alt.data + h.alt_off, h.alt_len);
			r.headers = &ctx->tmp;
			r.status = status = 503;
			r.body = "Service Unavailable";
			r.body_len = 19;
			ctx->st.refused_503++;
			ctx->st.stored_requests--;
			ctx->st.records -= h.records;
			ctx->st.bad_rows -= h.bad_rows;
			httpd_release(h.conn, &r);
		} else {
			httpd_release(h.conn, NULL);
		}
		account(ctx, h.route, h.method, status, &h.t0);
	}
	memmove(ctx->held, ctx->held + n, (ctx->n_held - n) * sizeof(*ctx->held));
	ctx->n_held -= n;
	if (ctx->n_held)
		event_active(ctx->ev_group, EV_TIMEOUT, 0);
	else
		buf_reset(&ctx->alt);
}

void
col_route_handle(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct col_ctx *ctx = arg;
	struct timespec t0 = { 0, 0 };
	const char *method = method_name(req);
	int route;

	if (ctx->cfg->count_metrics)
		clock_gettime(CLOCK_MONOTONIC, &t0);
	route = classify(ctx, req, resp);
	if (resp->hold) {
		/* counted when answered (group_cb) */
		struct col_held *h = &ctx->held[ctx->n_held - 1];

		h->route = (uint8_t)route;
		h->method = method;
		h->t0 = t0;
		return;
	}
	account(ctx, route, method, resp->status, &t0);
}

/* A series of the good and the bad output, labelled output="good" and output="bad". */
static void
by_output(struct buf *b, const char *name, const char *type, const char *help, uint64_t good,
    uint64_t bad)
{
	metrics_head(b, name, type, help);
	metrics_u64(b, name, "output=\"good\"", good);
	metrics_u64(b, name, "output=\"bad\"", bad);
}

void
col_route_metrics(struct buf *out, void *arg)
{
	const struct col_ctx *ctx = arg;
	const struct col_route_stats *st = &ctx->st;
	const struct col_queue_stats *g = col_queue_stats(ctx->good);
	const struct col_queue_stats *bq = col_queue_stats(ctx->bad);

	col_metrics_render(&ctx->metrics, out);
	metrics_counter(out, "furrow_collector_records_total",
	    "Raw records (CollectorPayloads) accepted for the good output", st->records);
	metrics_head(out, "furrow_collector_bad_rows_total", "counter",
	    "Bad rows accepted for the bad output, by bad-row type");
	metrics_u64(out, "furrow_collector_bad_rows_total", "type=\"size_violation\"",
	    st->bad_rows);
	metrics_counter(out, "furrow_collector_split_payloads_total",
	    "POST payloads split into several records to fit the output", st->split_payloads);
	metrics_counter(out, "furrow_collector_refused_total",
	    "Tracking requests answered 503 because an output could not take them", st->refused_503);
	by_output(out, "furrow_collector_output_bytes_total", "counter",
	    "Bytes handed to an output", g->bytes_written, bq->bytes_written);
	by_output(out, "furrow_collector_queue_bytes", "gauge",
	    "Bytes accepted and not yet written (a log output: its unread backlog)",
	    col_queue_backlog(ctx->good), col_queue_backlog(ctx->bad));
	by_output(out, "furrow_collector_write_errors_total", "counter",
	    "Failed writes or opens of an output", g->write_errors, bq->write_errors);
}

int
col_route_health(struct buf *why, void *arg)
{
	const struct col_ctx *ctx = arg;

	if (!col_queue_healthy(ctx->good)) {
		buf_append_str(why, "the good log refuses appends (requests get 503)");
		return 0;
	}
	if (!col_queue_healthy(ctx->bad)) {
		buf_append_str(why, "the bad log refuses appends (requests get 503)");
		return 0;
	}
	return 1;
}
