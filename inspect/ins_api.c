/*
 * ins_api: routing, Micro's endpoints, streaming, the UI's files (see ins_api.h).
 */
#include "ins_api.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "buf.h"
#include "iglu.h"
#include "ins_columns.h"
#include "ins_http.h"
#include "ins_query.h"
#include "ins_render.h"
#include "ins_store.h"
#include "ins_wait.h"
#include "jsonw.h"
#include "sdkjson.h"
#include "timefmt.h"
#include "version.h"

#define CHUNK_BYTES     65536
#define UI_FILE_MAX     (4u << 20)
#define UI_NAME_MAX     64

/* furrow_inspect_request_duration_seconds: answers from the store take microseconds to a few
 * milliseconds; a full store streamed, longer */
static const double request_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};

static const char ENDPOINTS[] = "Supported endpoints: /micro/all, /micro/good, /micro/bad, "
    "/micro/events, /micro/reset, /micro/columns, /micro/columnStats, /micro/timeline, "
    "/micro/iglu, /micro/ui, /micro/stats, /micro/config";

struct stream;

struct ins_api {
	struct event_base *base;
	struct ins_store *st;
	struct iglu_resolver *resolver;
	struct ins_wait *wait;
	struct ins_http *http;
	struct ins_columns *cols;
	struct ins_render rd;
	struct ins_api_opts o;
	struct ins_api_stats stats;
	struct stream *streams;
	int64_t started_ms;
	double t_in;               /* metrics_now() when the request being handled came in; 0: none */
};

struct stream {
	struct ins_api *a;
	struct evhttp_request *req;
	struct ins_query q;
	uint64_t cursor;           /* good / bad: the next sequence number to look at, downwards */
	long left;                 /* items still allowed by limit; -1: no limit */
	uint64_t *list;            /* events: the page, in order */
	size_t nlist, pos, items;
	struct buf chunk, suffix;
	int chunked;
	struct stream *prev, *next;
};

struct ins_api *
ins_api_new(struct event_base *base, struct ins_store *st, struct iglu_resolver *resolver,
    const struct ins_api_opts *o)
{
	struct ins_api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	if ((a->cols = ins_columns_new()) == NULL) {
		free(a);
		return NULL;
	}
	a->base = base;
	a->st = st;
	a->resolver = resolver;
	a->o = *o;
	a->started_ms = timefmt_mono_ms();
	metrics_hist_init(&a->stats.seconds, request_bounds,
	    sizeof(request_bounds) / sizeof(request_bounds[0]));
	ins_render_init(&a->rd);
	return a;
}

void
ins_api_attach(struct ins_api *a, struct ins_http *http, struct ins_wait *w)
{
	a->http = http;
	a->wait = w;
}

static void stream_free(struct stream *s);

void
ins_api_free(struct ins_api *a)
{
	if (a == NULL)
		return;
	while (a->streams)
		stream_free(a->streams);
	ins_columns_free(a->cols);
	ins_render_free(&a->rd);
	free(a);
}

const struct ins_api_stats *
ins_api_stats(const struct ins_api *a)
{
	return &a->stats;
}

/* ---- replies ---- */

static const char *
reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 302: return "Found";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 404: return "Not Found";
	case 422: return "Unprocessable Entity";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "";
	}
}

/* Access-Control-Allow-Origin as the collector writes it (collector.md §4.1): the first
 * non-null entry of Origin as scheme://host[:port], else "*". */
static void
add_cors(struct ins_api *a, struct evhttp_request *req, int preflight)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *origin = evhttp_find_header(in, "Origin"), *p;
	char allow[512] = "*", num[32];

	for (p = origin; p && *p;) {
		size_t n;
		while (*p == ' ')
			p++;
		n = strcspn(p, " ");
		if (n && !(n == 4 && strncmp(p, "null", 4) == 0) && n < sizeof(allow)) {
			const char *sep = memmem(p, n, "://", 3);
			if (sep) {
				const char *host_end = memchr(sep + 3, '/', n - (size_t)(sep + 3 - p));
				size_t keep = host_end ? (size_t)(host_end - p) : n;
				memcpy(allow, p, keep);
				allow[keep] = '\0';
				break;
			}
		}
		p += n;
	}
	evhttp_add_header(out, "Access-Control-Allow-Origin", allow);
	evhttp_add_header(out, "Access-Control-Allow-Credentials", "true");
	evhttp_add_header(out, "Access-Control-Expose-Headers", "Furrow-Timed-Out");
	if (preflight) {
		evhttp_add_header(out, "Access-Control-Allow-Headers",
		    "Content-Type, SP-Anonymous, Authorization");
		evhttp_add_header(out, "Access-Control-Allow-Methods", "GET, POST, OPTIONS");
		snprintf(num, sizeof(num), "%u", a->o.cors_max_age);
		evhttp_add_header(out, "Access-Control-Max-Age", num);
	}
	if (strcmp(allow, "*") != 0)
		evhttp_add_header(out, "Vary", "Origin");
}

static void
count_status(struct ins_api *a, int status)
{
	int c = status / 100;

	a->stats.by_class[c >= 0 && c < 6 ? c : 0]++;
	if (a->t_in > 0)
		metrics_hist_observe(&a->stats.seconds, metrics_now() - a->t_in);
}

static void
send_body(struct ins_api *a, struct evhttp_request *req, int status, const char *ctype,
    const char *body, size_t len)
{
	struct evbuffer *b = evhttp_request_get_output_buffer(req);

	if (ctype)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", ctype);
	if (len)
		evbuffer_add(b, body, len);
	count_status(a, status);
	evhttp_send_reply(req, status, reason(status), NULL);
}

static void
send_json(struct ins_api *a, struct evhttp_request *req, int status, const struct buf *b)
{
	send_body(a, req, status, "application/json", b->data, b->len);
}

/* A JSON string as the whole body: what Micro answers for messages (circe encodes a String). */
static void
send_json_message(struct ins_api *a, struct evhttp_request *req, int status, const char *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (ins_json_str(&b, msg, strlen(msg)) == 0)
		send_json(a, req, status, &b);
	else
		send_body(a, req, 500, NULL, NULL, 0);
	buf_free(&b);
}

static void
send_error(struct ins_api *a, struct evhttp_request *req, int status, const char *msg)
{
	struct buf b;

	buf_init(&b, 0);
	if (buf_append_str(&b, "{\"error\":") == 0 && ins_json_str(&b, msg, strlen(msg)) == 0 &&
	    buf_append_byte(&b, '}') == 0)
		send_json(a, req, status, &b);
	else
		send_body(a, req, 500, NULL, NULL, 0);
	buf_free(&b);
}

static void
set_timed_out(struct evhttp_request *req, const struct ins_query *q, int timed_out)
{
	if (q->waits)
		evhttp_add_header(evhttp_request_get_output_headers(req), "Furrow-Timed-Out",
		    timed_out ? "1" : "0");
}

/* ---- streaming arrays ---- */

static void
stream_free(struct stream *s)
{
	if (s->req && s->a->http)
		ins_http_on_close(s->a->http, s->req, NULL, NULL);
	if (s->prev)
		s->prev->next = s->next;
	else
		s->a->streams = s->next;
	if (s->next)
		s->next->prev = s->prev;
	ins_query_free(&s->q);
	free(s->list);
	buf_free(&s->chunk);
	buf_free(&s->suffix);
	free(s);
}

/* Render items into s->chunk until it holds CHUNK_BYTES or there are no more. Returns 1 when
 * done, 0 when more follow, -1 when rendering failed. */
static int
stream_fill(struct stream *s)
{
	struct ins_api *a = s->a;

	while (s->chunk.len < CHUNK_BYTES) {
		const struct ins_rec *r = NULL;
		size_t mark = s->chunk.len;
		int rc;

		if (s->list) {
			if (s->pos >= s->nlist)
				return 1;
			if ((r = ins_store_get(a->st, s->list[s->pos++])) == NULL)
				continue;     /* evicted meanwhile */
		} else {
			const struct ins_slot *sl;
			if (s->left == 0 || s->cursor < ins_store_first_seq(a->st) || s->cursor == 0)
				return 1;
			sl = ins_store_slot_seq(a->st, s->cursor--);
			if (sl == NULL || !ins_query_match_slot(&s->q, sl))
				continue;
			r = sl->r;
			if (s->left > 0)
				s->left--;
		}
		if (s->items && buf_append_byte(&s->chunk, ','))
			return -1;
		if (s->q.ep == INS_EP_GOOD)
			rc = ins_render_good(&a->rd, r, &s->chunk);
		else if (s->q.ep == INS_EP_BAD)
			rc = ins_render_bad(&a->rd, r, &s->chunk);
		else
			rc = ins_render_event(&a->rd, r, &s->chunk);
		if (rc == -1) {
			s->chunk.len = mark;
			return -1;
		}
		s->items++;
	}
	return 0;
}

static void stream_pump(struct stream *s);

static void
chunk_sent_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	stream_pump(arg);
}

static void
stream_gone(void *arg)
{
	struct stream *s = arg;

	s->req = NULL;          /* evhttp is freeing it */
	stream_free(s);
}

static void
stream_pump(struct stream *s)
{
	struct evbuffer *eb;
	int done = stream_fill(s);

	if (done == -1 && !s->chunked) {
		send_error(s->a, s->req, 500, "out of memory");
		stream_free(s);
		return;
	}
	if (done != 0 && buf_append(&s->chunk, s->suffix.data, s->suffix.len) == -1)
		done = -1;
	if (!s->chunked) {
		if (done == 1) {
			send_body(s->a, s->req, 200, "application/json", s->chunk.data, s->chunk.len);
			stream_free(s);
			return;
		}
		s->chunked = 1;
		s->a->stats.streamed++;
		count_status(s->a, 200);
		evhttp_add_header(evhttp_request_get_output_headers(s->req), "Content-Type",
		    "application/json");
		if (s->a->http)
			ins_http_on_close(s->a->http, s->req, stream_gone, s);
		evhttp_send_reply_start(s->req, 200, "OK");
	}
	if ((eb = evbuffer_new()) == NULL || evbuffer_add(eb, s->chunk.data, s->chunk.len) == -1)
		done = -1;
	buf_reset(&s->chunk);
	if (done != 0) {
		/* done, or failed half-way: end the reply (a client sees truncated JSON) */
		if (eb)
			evhttp_send_reply_chunk(s->req, eb);
		if (s->a->http)
			ins_http_on_close(s->a->http, s->req, NULL, NULL);
		evhttp_send_reply_end(s->req);
		s->req = NULL;
		stream_free(s);
	} else {
		evhttp_send_reply_chunk_with_cb(s->req, eb, chunk_sent_cb, s);
	}
	if (eb)
		evbuffer_free(eb);
}

static struct stream *
stream_new(struct ins_api *a, struct evhttp_request *req, const struct ins_query *q)
{
	struct stream *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->a = a;
	s->req = req;
	s->q = *q;               /* taken over by the caller's memset */
	buf_init(&s->chunk, 0);
	buf_init(&s->suffix, 0);
	s->next = a->streams;
	if (a->streams)
		a->streams->prev = s;
	a->streams = s;
	return s;
}

/* /micro/good and /micro/bad: newest first, filtered, limited. */
static void
respond_array(struct ins_api *a, struct evhttp_request *req, struct ins_query *q)
{
	struct stream *s = stream_new(a, req, q);

	if (s == NULL) {
		send_error(a, req, 500, "out of memory");
		return;
	}
	memset(q, 0, sizeof(*q));
	s->cursor = ins_store_next_seq(a->st) - 1;
	s->left = s->q.limit;
	if (buf_append_byte(&s->chunk, '[') || buf_append_byte(&s->suffix, ']')) {
		send_error(a, req, 500, "out of memory");
		stream_free(s);
		return;
	}
	stream_pump(s);
}

/* ---- /micro/events ---- */

struct skey {
	uint64_t seq;
	size_t order;           /* position in the newest-first list: ties keep it */
	int null;
	int numeric;
	double num;
	const char *s;
	size_t n;
	char *owned;
};

static int sort_desc;

static int
cmp_skey(const void *pa, const void *pb)
{
	const struct skey *x = pa, *y = pb;
	int c = 0;

	if (x->null != y->null)
		c = x->null ? 1 : -1;             /* null sorts after everything ascending */
	else if (!x->null && x->numeric)
		c = x->num < y->num ? -1 : x->num > y->num;
	else if (!x->null) {
		size_t m = x->n < y->n ? x->n : y->n;
		c = memcmp(x->s, y->s, m);
		if (c == 0)
			c = x->n < y->n ? -1 : x->n > y->n;
	}
	if (sort_desc)
		c = -c;
	if (c == 0)
		c = x->order < y->order ? -1 : x->order > y->order;
	return c;
}

static int
sort_key(const struct ins_rec *r, int col, struct skey *k)
{
	char tmp[INS_COLVAL_TMP];
	const char *v;
	size_t n;
	int64_t ms;

	k->seq = r->seq;
	if (col >= 0 && col < EVENT_NCOLS) {
		v = ins_rec_col(r, col, &n);
		if (n == 0 || event_cols[col].type == EVT_JSON) {
			k->null = 1;
			return 0;
		}
		switch (event_cols[col].type) {
		case EVT_INT:
		case EVT_DEC:
		case EVT_FLOAT:
		case EVT_BOOL: {
			char num[64], *end;
			if (n < sizeof(num)) {
				memcpy(num, v, n);
				num[n] = '\0';
				k->num = strtod(num, &end);
				if (*end == '\0') {
					k->numeric = 1;
					return 0;
				}
			}
			break;
		}
		case EVT_TS:
			if (ins_parse_tsv_time(v, n, &ms) == 0) {
				k->numeric = 1;
				k->num = (double)ms;
				return 0;
			}
			break;
		default:
			break;
		}
		k->s = v;            /* the record outlives the sort: no copy */
		k->n = n;
		return 0;
	}
	if (!ins_colval(r, col, tmp, &v, &n) || (n == 4 && memcmp(v, "null", 4) == 0)) {
		k->null = 1;
		return 0;
	}
	if ((k->owned = malloc(n)) == NULL)
		return -1;
	memcpy(k->owned, v, n);
	k->s = k->owned;
	k->n = n;
	return 0;
}

static void
respond_events(struct ins_api *a, struct evhttp_request *req, struct ins_query *q,
    int timed_out)
{
	size_t total = ins_store_count(a->st), n = 0, i;
	struct skey *keys = NULL;
	uint64_t *seqs;
	struct stream *s;
	long ps = q->page_size, pages, start, end, lo;

	if ((seqs = malloc((total ? total : 1) * sizeof(*seqs))) == NULL) {
		send_error(a, req, 500, "out of memory");
		return;
	}
	for (i = total; i-- > 0;) {
		const struct ins_slot *sl = ins_store_slot(a->st, i);
		if (ins_query_match_slot(q, sl))
			seqs[n++] = sl->r->seq;
	}
	if (q->sort_col != -1 && n > 1) {
		if ((keys = calloc(n, sizeof(*keys))) == NULL)
			goto oom;
		for (i = 0; i < n; i++) {
			keys[i].order = i;
			if (sort_key(ins_store_get(a->st, seqs[i]), q->sort_col, &keys[i]) == -1)
				goto oom;
		}
		sort_desc = q->sort_desc;
		qsort(keys, n, sizeof(*keys), cmp_skey);
		for (i = 0; i < n; i++) {
			seqs[i] = keys[i].seq;
			free(keys[i].owned);
		}
		free(keys);
		keys = NULL;
	}
	/* paging exactly as InMemoryStorage.getFilteredEvents, Scala's slice included */
	pages = ((long)n + ps - 1) / (ps > 1 ? ps : 1);
	if (pages < 1)
		pages = 1;
	start = (q->page - 1) * ps;
	end = start + ps < (long)n ? start + ps : (long)n;
	lo = start > 0 ? start : 0;
	if (!(start < (long)n) || end <= lo)
		lo = end = 0;
	if ((s = stream_new(a, req, q)) == NULL)
		goto oom;
	memset(q, 0, sizeof(*q));
	memmove(seqs, seqs + lo, (size_t)(end - lo) * sizeof(*seqs));
	s->list = seqs;
	s->nlist = (size_t)(end - lo);
	if (buf_append_str(&s->chunk, "{\"events\":[") ||
	    buf_printf(&s->suffix, "],\"totalPages\":%ld,\"totalItems\":%zu", pages, n) ||
	    (s->q.waits && buf_printf(&s->suffix, ",\"timedOut\":%s", timed_out ? "true" : "false")) ||
	    buf_append_byte(&s->suffix, '}')) {
		send_error(a, req, 500, "out of memory");
		stream_free(s);
		return;
	}
	stream_pump(s);
	return;
oom:
	if (keys) {
		for (i = 0; i < n; i++)
			free(keys[i].owned);
		free(keys);
	}
	free(seqs);
	send_error(a, req, 500, "out of memory");
}

/* ---- answers ---- */

static void
respond_all(struct ins_api *a, struct evhttp_request *req, const struct ins_query *q,
    int timed_out)
{
	size_t good = ins_store_count_kind(a->st, INS_GOOD), bad = ins_store_count_kind(a->st, INS_BAD);
	struct buf b;

	/* exactly Micro's ValidationSummary unless the request waited */
	buf_init(&b, 0);
	buf_printf(&b, "{\"total\":%zu,\"good\":%zu,\"bad\":%zu", good + bad, good, bad);
	if (q->waits)
		buf_printf(&b, ",\"timedOut\":%s", timed_out ? "true" : "false");
	buf_append_byte(&b, '}');
	send_json(a, req, 200, &b);
	buf_free(&b);
}

static void
respond_stats(struct ins_api *a, struct evhttp_request *req, const struct ins_query *q,
    int timed_out)
{
	const struct ins_store_counts *c = ins_store_counts(a->st);
	const struct ins_wait_stats *ws = a->wait ? ins_wait_stats(a->wait) : NULL;
	size_t good = ins_store_count_kind(a->st, INS_GOOD), bad = ins_store_count_kind(a->st, INS_BAD);
	struct buf b;

	buf_init(&b, 0);
	buf_printf(&b, "{\"generation\":%llu,\"total\":%zu,\"good\":%zu,\"bad\":%zu,"
	    "\"bytes\":%zu,\"maxEvents\":%zu,\"maxBytes\":%zu,"
	    "\"received\":{\"good\":%llu,\"bad\":%llu},\"evicted\":{\"good\":%llu,\"bad\":%llu},"
	    "\"rejected\":{\"good\":%llu,\"bad\":%llu},\"reset\":{\"times\":%llu,\"good\":%llu,"
	    "\"bad\":%llu},\"held\":%zu,\"uptimeMs\":%lld",
	    (unsigned long long)ins_store_generation(a->st), good + bad, good, bad,
	    ins_store_bytes(a->st), a->o.max_events, a->o.max_bytes,
	    (unsigned long long)c->in_good, (unsigned long long)c->in_bad,
	    (unsigned long long)c->evicted_good, (unsigned long long)c->evicted_bad,
	    (unsigned long long)c->rejected_good, (unsigned long long)c->rejected_bad,
	    (unsigned long long)c->resets, (unsigned long long)c->reset_good,
	    (unsigned long long)c->reset_bad, ws ? ws->now_held : 0,
	    (long long)(timefmt_mono_ms() - a->started_ms));
	if (q->waits)
		buf_printf(&b, ",\"timedOut\":%s", timed_out ? "true" : "false");
	buf_append_byte(&b, '}');
	send_json(a, req, 200, &b);
	buf_free(&b);
}

/* Answer a parsed query (at once, or when its wait ends). Takes q over. */
static void
respond(struct ins_api *a, struct evhttp_request *req, struct ins_query *q, int timed_out)
{
	set_timed_out(req, q, timed_out);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		send_body(a, req, 200, "application/json", NULL, 0);
		ins_query_free(q);
		return;
	}
	switch (q->ep) {
	case INS_EP_ALL:
		respond_all(a, req, q, timed_out);
		break;
	case INS_EP_STATS:
		respond_stats(a, req, q, timed_out);
		break;
	case INS_EP_GOOD:
	case INS_EP_BAD:
		respond_array(a, req, q);
		break;
	case INS_EP_EVENTS:
		respond_events(a, req, q, timed_out);
		break;
	}
	ins_query_free(q);
}

void
ins_api_answer(void *arg, struct evhttp_request *req, struct ins_query *q, int timed_out,
    int gone)
{
	struct ins_api *a = arg;
	double outer = a->t_in;    /* set when answered from inside ins_api_handle */

	if (outer == 0)
		a->t_in = metrics_now();
	/* the CORS headers were added when the request came in */
	if (gone)
		send_body(a, req, 503, NULL, NULL, 0);
	else
		respond(a, req, q, timed_out);
	a->t_in = outer;
}

/* Count the records q matches now, and when the newest of them arrived. */
static void
count_matches(struct ins_api *a, const struct ins_query *q, uint64_t *count, int64_t *last)
{
	size_t i = ins_store_count(a->st);

	*count = 0;
	*last = 0;
	if (q->ep == INS_EP_ALL || q->ep == INS_EP_STATS)
		return;
	while (i-- > 0) {
		const struct ins_slot *sl = ins_store_slot(a->st, i);
		if (ins_query_match_slot(q, sl)) {
			if (*count == 0)
				*last = sl->r->arrived_ms;
			(*count)++;
		}
	}
}

static void
body_of(struct evhttp_request *req, const char **body, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(req);

	*len = evbuffer_get_length(in);
	*body = *len ? (const char *)evbuffer_pullup(in, -1) : NULL;
}

static void
handle_query(struct ins_api *a, struct evhttp_request *req, enum ins_endpoint ep)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	struct ins_query q;
	struct ins_query_error e;
	const char *body;
	size_t len;
	uint64_t count;
	int64_t last;

	body_of(req, &body, &len);
	if (evhttp_request_get_command(req) != EVHTTP_REQ_POST)
		len = 0;
	if (ins_query_parse(&q, ep, evhttp_uri_get_query(uri), body, len, &e) == -1) {
		ins_query_free(&q);
		send_error(a, req, e.status, e.text);
		return;
	}
	if (!q.waits || a->wait == NULL) {
		respond(a, req, &q, 0);
		return;
	}
	count_matches(a, &q, &count, &last);
	if (ins_wait_hold(a->wait, req, &q, count, last) == -1) {
		ins_query_free(&q);
		send_error(a, req, 503, "too many held requests (--max-held)");
	}
}

static void
handle_reset(struct ins_api *a, struct evhttp_request *req)
{
	ins_store_reset(a->st);
	ins_columns_reset(a->cols);
	if (a->wait)
		ins_wait_reset(a->wait);
	send_json_message(a, req, 200, "Reset completed");
}

static void
handle_columns(struct ins_api *a, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b, 0);
	if (ins_columns_update(a->cols, a->st) == -1 || ins_columns_write(a->cols, &b) == -1)
		send_error(a, req, 500, "out of memory");
	else
		send_json(a, req, 200, &b);
	buf_free(&b);
}

static void
handle_post_view(struct ins_api *a, struct evhttp_request *req,
    int (*fn)(const struct ins_store *, const char *, size_t, struct buf *, char *, size_t))
{
	const char *body;
	size_t len;
	char err[256];
	struct buf b;
	int status;

	body_of(req, &body, &len);
	buf_init(&b, 0);
	if ((status = fn(a->st, body, len, &b, err, sizeof(err))) != 0)
		send_error(a, req, status, err);
	else
		send_json(a, req, 200, &b);
	buf_free(&b);
}

/* /micro/iglu/{vendor}/{name}/jsonschema/{version} (Routing.scala lookupSchema) */
static void
handle_iglu(struct ins_api *a, struct evhttp_request *req, const char *rest)
{
	char vendor[128], name[128], format[64], version[32], uri[512], extra;
	struct iglu_key key;
	const char *code;
	json_t *client_error = NULL;
	const json_t *schema;
	struct buf b;

	if (sscanf(rest, "%127[^/]/%127[^/]/%63[^/]/%31[^/]%c", vendor, name, format, version,
	    &extra) != 4 || strcmp(format, "jsonschema") != 0) {
		send_json_message(a, req, 404, ENDPOINTS);
		return;
	}
	snprintf(uri, sizeof(uri), "iglu:%s/%s/%s/%s", vendor, name, format, version);
	if (iglu_key_parse(uri, &key, &code) == -1) {
		send_json_message(a, req, 404, "Schema lookup should be in format iglu/{vendor}/"
		    "{schemaName}/jsonschema/{model}-{revision}-{addition}");
		return;
	}
	buf_init(&b, 0);
	if (a->resolver && iglu_resolver_lookup(a->resolver, &key, &client_error) != NULL &&
	    (schema = iglu_resolver_schema_json(a->resolver, &key)) != NULL) {
		if (jsonw_value(&b, schema) == 0)
			send_json(a, req, 200, &b);
		else
			send_error(a, req, 500, "out of memory");
	} else if (client_error && jsonw_value(&b, client_error) == 0) {
		send_json(a, req, 404, &b);
	} else {
		send_json_message(a, req, 404, "schema not found");
	}
	json_decref(client_error);
	buf_free(&b);
}

static void
handle_config(struct ins_api *a, struct evhttp_request *req)
{
	struct buf b;

	buf_init(&b, 0);
	buf_append_str(&b, "{\"collector\":");
	if (a->o.collector_url)
		ins_json_str(&b, a->o.collector_url, strlen(a->o.collector_url));
	else
		buf_append_str(&b, "null");
	buf_printf(&b, ",\"version\":\"%s\",\"tokenRequired\":%s}", FURROW_VERSION,
	    a->o.token ? "true" : "false");
	send_json(a, req, 200, &b);
	buf_free(&b);
}

/* ---- the UI's files ---- */

static const char *
content_type(const char *name)
{
	static const char *const types[][2] = {
		{ ".html", "text/html; charset=utf-8" }, { ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" }, { ".svg", "image/svg+xml" },
		{ ".png", "image/png" }, { ".ico", "image/x-icon" },
		{ ".json", "application/json" }, { ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	for (i = 0; dot && i < sizeof(types) / sizeof(types[0]); i++)
		if (strcmp(dot, types[i][0]) == 0)
			return types[i][1];
	return "application/octet-stream";
}

static int
ui_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > UI_NAME_MAX || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static void
handle_ui(struct ins_api *a, struct evhttp_request *req, const char *rest)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);
	const char *name = (*rest == '\0' || strcmp(rest, "/") == 0) ? "index.html" : rest + 1;
	char path[4096];
	struct stat sb;
	int fd;

	if (a->o.ui_dir == NULL || !ui_name_ok(name)) {
		send_json_message(a, req, 404, ENDPOINTS);
		return;
	}
	snprintf(path, sizeof(path), "%s/%s", a->o.ui_dir, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 || fstat(fd, &sb) == -1 ||
	    !S_ISREG(sb.st_mode) || sb.st_size > UI_FILE_MAX) {
		if (fd >= 0)
			close(fd);
		send_json_message(a, req, 404, ENDPOINTS);
		return;
	}
	evhttp_add_header(out, "Content-Type", content_type(name));
	evhttp_add_header(out, "Cache-Control", "no-cache");
	evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(out, "Referrer-Policy", "no-referrer");
	evhttp_add_header(out, "Content-Security-Policy", "default-src 'self'; img-src 'self' data:; "
	    "connect-src 'self' http: https:; frame-ancestors 'none'");
	if (sb.st_size == 0 || evbuffer_add_file(evhttp_request_get_output_buffer(req), fd, 0,
	    sb.st_size) == -1)
		close(fd);      /* evbuffer_add_file owns fd on success */
	count_status(a, 200);
	evhttp_send_reply(req, 200, "OK", NULL);
}

/* ---- routing ---- */

/* Constant-time comparison of the Authorization header with "Bearer TOKEN". */
static int
authorized(struct ins_api *a, struct evhttp_request *req)
{
	const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
	size_t n, i;
	unsigned char diff = 0;

	if (a->o.token == NULL)
		return 1;
	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return 0;
	h += 7;
	n = strlen(a->o.token);
	if (strlen(h) != n)
		return 0;
	for (i = 0; i < n; i++)
		diff |= (unsigned char)(h[i] ^ a->o.token[i]);
	return diff == 0;
}

static void
route(struct ins_api *a, struct evhttp_request *req)
{
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type m = evhttp_request_get_command(req);
	int get = m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD, post = m == EVHTTP_REQ_POST;
	int micro;

	a->stats.requests++;
	if (path == NULL || *path == '\0')
		path = "/";
	micro = strncmp(path, "/micro/", 7) == 0 || strcmp(path, "/micro") == 0;
	if (micro)
		add_cors(a, req, m == EVHTTP_REQ_OPTIONS);
	if (m == EVHTTP_REQ_OPTIONS) {
		if (!micro)
			add_cors(a, req, 1);
		send_body(a, req, 200, NULL, NULL, 0);
		return;
	}
	if (strcmp(path, "/") == 0 && get) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Location", "/micro/ui");
		send_body(a, req, 302, NULL, NULL, 0);
		return;
	}
	if (strcmp(path, "/health") == 0 && get) {
		send_body(a, req, 200, "text/plain; charset=utf-8", "OK", 2);
		return;
	}
	if ((strcmp(path, "/micro/ui") == 0 || strncmp(path, "/micro/ui/", 10) == 0) && get) {
		handle_ui(a, req, path + 9);
		return;
	}
	if (strcmp(path, "/micro/config") == 0 && get) {
		handle_config(a, req);
		return;
	}
	if (micro && !authorized(a, req)) {
		a->stats.unauthorized++;
		evhttp_add_header(evhttp_request_get_output_headers(req), "WWW-Authenticate",
		    "Bearer realm=\"inspect\"");
		send_error(a, req, 401, "an access token is required: Authorization: Bearer TOKEN");
		return;
	}
	if (strcmp(path, "/micro/all") == 0 && (get || post))
		handle_query(a, req, INS_EP_ALL);
	else if (strcmp(path, "/micro/good") == 0 && (get || post))
		handle_query(a, req, INS_EP_GOOD);
	else if (strcmp(path, "/micro/bad") == 0 && (get || post))
		handle_query(a, req, INS_EP_BAD);
	else if (strcmp(path, "/micro/events") == 0 && (get || post))
		handle_query(a, req, INS_EP_EVENTS);
	else if (strcmp(path, "/micro/stats") == 0 && get)
		handle_query(a, req, INS_EP_STATS);
	else if (strcmp(path, "/micro/reset") == 0 && (get || post))
		handle_reset(a, req);
	else if (strcmp(path, "/micro/columns") == 0 && get)
		handle_columns(a, req);
	else if (strcmp(path, "/micro/columnStats") == 0 && post)
		handle_post_view(a, req, ins_columnstats);
	else if (strcmp(path, "/micro/timeline") == 0 && post)
		handle_post_view(a, req, ins_timeline);
	else if (strncmp(path, "/micro/iglu/", 12) == 0 && get)
		handle_iglu(a, req, path + 12);
	else
		send_json_message(a, req, 404, ENDPOINTS);
}

void
ins_api_handle(struct evhttp_request *req, void *arg)
{
	struct ins_api *a = arg;

	a->t_in = metrics_now();
	route(a, req);
	a->t_in = 0;
}
