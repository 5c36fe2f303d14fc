/*
 * send: batches, _bulk requests, retries, bad rows and commits (see send.h).
 */
#include "send.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "badrewrite.h"
#include "buf.h"
#include "bulk.h"
#include "log.h"
#include "metricsd.h"
#include "sdkjson.h"
#include "sig.h"
#include "sinkout.h"
#include "stream.h"
#include "timefmt.h"
#include "utf8.h"

#define DUMP_SETTLE_BYTES ((size_t)4 << 20) /* --dump: written out this often */

/* Why a bulk request failed (furrow_es_sink_bulk_failures_total{cause}). */
enum es_fail {
	ES_FAIL_CONNECTION, ES_FAIL_HTTP_429, ES_FAIL_HTTP_4XX, ES_FAIL_HTTP_5XX,
	ES_FAIL_BAD_RESPONSE, ES_FAIL_ITEMS, ES_FAIL_N
};
static const char *const fail_names[ES_FAIL_N] = {
	"connection", "http_429", "http_4xx", "http_5xx", "bad_response", "items",
};
/* furrow_es_sink_bulk_duration_seconds */
static const double bulk_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

struct doc {
	size_t line_off, line_len;    /* the input line, in batch.lines */
	size_t body_off, body_len;    /* action line + document + '\n', in batch.body */
	int    done;
};

struct batch {
	struct doc *docs;
	size_t      n, cap;
	struct buf  lines, body;
	int64_t     first_ms;
	uint64_t    end_pos;          /* the input position after its last line */
	int         has_pos;
	int         abandoned;        /* stopping with documents unsettled: not committed */
};

struct stats {
	uint64_t in, indexed, conflicts, retried, requests, failed_requests;
	uint64_t lat_sum_ms, lat_max_ms;
	/* for /metrics */
	uint64_t bytes_in, bytes_sent;
	uint64_t failures[ES_FAIL_N];      /* failed bulk requests, by cause */
	struct metrics_hist bulk_seconds;
	int64_t  peer_failing_since;       /* monotonic ms of the first failure in a row; 0: ok */
	char     last_error[256];
};

struct sender {
	const struct es_opts *o;
	struct esclient      *es;
	struct sinkout       *io;             /* the input, --bad, --spool, --dump */
	struct stream_source *in;             /* io->in */
	struct stats          st;
	struct batch          cur;            /* the batch being filled */
	struct batch          fly;            /* the batch whose first request is in flight */
	int                   flying;
	int64_t               fly_t0;
	struct bulk_item     *items;          /* per sent document, items_cap of them */
	size_t               *sent_idx;
	size_t                items_cap;
	struct buf            scratch, errbuf, reqbody, resp;
	char                  bulk_path[128];
	int64_t               term_deadline;  /* monotonic ms; 0 until SIGTERM/SIGINT */
	int                   undelivered;    /* documents diverted at a deadline */
	int                   no_commit;      /* a batch was left unsettled: nothing after it
	                                       * may be committed */
	int                   eof;
	int                   status;         /* the exit status once something failed */
	uint64_t              rnd;
	struct metricsd      *md;             /* NULL without --metrics-listen */
	long                  health_threshold_s;
};

static struct sender *abort_target;   /* for sender_abort_cb: one sender per process */

static void
fail(struct sender *s, int status)
{
	if (s->status == 0)
		s->status = status;
}

static size_t
batch_pending(const struct sender *s)
{
	return s->cur.n + (s->flying ? s->fly.n : 0);
}

void
sender_log_stats(const struct sender *s, const char *when)
{
	static const struct stats none;
	static const struct sinkout none_io;
	const struct stats *st = s ? &s->st : &none;
	const struct sinkout *io = s ? s->io : &none_io;

	log_info("%s: in=%" PRIu64 " indexed=%" PRIu64 " bad=%" PRIu64 " spooled=%" PRIu64
	    " pending=%zu retried=%" PRIu64 " conflicts=%" PRIu64 " requests=%" PRIu64
	    " failed_requests=%" PRIu64 " bulk_ms_avg=%.1f bulk_ms_max=%" PRIu64, when, st->in,
	    st->indexed, io->bad_rows, io->spooled, s ? batch_pending(s) : 0, st->retried,
	    st->conflicts,
	    st->requests, st->failed_requests,
	    st->requests ? (double)st->lat_sum_ms / (double)st->requests : 0.0, st->lat_max_ms);
}

/* ---- sending a batch ---- */

static int
term_now(struct sender *s)
{
	if (sig_terminate && s->term_deadline == 0)
		s->term_deadline = timefmt_mono_ms() + s->o->term_timeout_s * 1000;
	return s->term_deadline != 0 && timefmt_mono_ms() >= s->term_deadline;
}

int
sender_abort_cb(void *arg)
{
	(void)arg;
	return abort_target ? term_now(abort_target) : 0;
}

static uint64_t
rnd64(struct sender *s)
{
	if (s->rnd == 0)
		s->rnd = (uint64_t)timefmt_mono_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() ^
		    0x9e3779b97f4a7c15ULL;
	s->rnd ^= s->rnd << 13;
	s->rnd ^= s->rnd >> 7;
	s->rnd ^= s->rnd << 17;
	return s->rnd;
}

/* Sleep ms, waking early at the shutdown deadline. Returns -1 when that deadline passed. */
static int
backoff_sleep(struct sender *s, uint64_t ms)
{
	int64_t until = timefmt_mono_ms() + (int64_t)ms;

	for (;;) {
		int64_t left = until - timefmt_mono_ms();
		if (term_now(s))
			return -1;
		if (left <= 0)
			return 0;
		metricsd_poll(s->md, NULL, 0, left > 100 ? 100 : (int)left);
	}
}

/*
 * The documents of batch b that are still unsettled cannot be delivered. At shutdown, from a
 * log, they are left unsettled and the batch uncommitted: the next start sends them again.
 * Otherwise they are diverted: to the spool at shutdown when there is one, else to --bad.
 */
static void
give_up(struct sender *s, struct batch *b, int at_shutdown, unsigned attempts,
    const char *last_err)
{
	char msg[1024];
	size_t i, left = 0;

	for (i = 0; i < b->n; i++)
		left += !b->docs[i].done;
	if (at_shutdown && stream_source_follows(s->in)) {
		b->abandoned = 1;
		s->no_commit = 1;
		log_warn("stopping with %zu documents not yet accepted (%s): they are sent again "
		    "from %s at the next start", left, last_err, stream_source_name(s->in));
		return;
	}
	if (at_shutdown)
		snprintf(msg, sizeof(msg), "Elasticsearch did not accept the document before "
		    "shutdown after %u attempts: %s", attempts, last_err);
	else
		snprintf(msg, sizeof(msg), "Elasticsearch did not accept the document after %u "
		    "attempts: %s", attempts, last_err);
	for (i = 0; i < b->n; i++) {
		struct doc *d = &b->docs[i];
		if (d->done)
			continue;
		if (at_shutdown && s->io->spool)
			sinkout_spool(s->io, b->lines.data + d->line_off, d->line_len, &s->status);
		else
			sinkout_bad(s->io, b->lines.data + d->line_off, d->line_len, 1, msg,
			    &s->status);
		d->done = 1;
		s->undelivered = 1;
	}
	log_error("%s (documents diverted to %s)", msg, at_shutdown && s->io->spool ? "the spool" :
	    "--bad");
}

static void
batch_reset(struct batch *b)
{
	b->n = 0;
	buf_reset(&b->lines);
	buf_reset(&b->body);
	b->first_ms = 0;
	b->has_pos = 0;
	b->abandoned = 0;
}

/* A batch is settled: its bad rows are handed on, then its input position is committed. */
static void
settle(struct sender *s, struct batch *b)
{
	char err[512];

	if (sinkout_flush(s->io, &s->status) == 0 && b->has_pos && !b->abandoned && !s->no_commit &&
	    stream_source_commit(s->in, b->end_pos, err, sizeof(err)) == -1) {
		log_error("%s", err);
		fail(s, EX_IOERR);
	}
	batch_reset(b);
}

/* One response to a request for the k documents in sent_idx. Returns the number settled. */
static size_t
read_items(struct sender *s, struct batch *b, size_t k, int *need_backoff, char *last_err,
    size_t last_errlen)
{
	size_t i, settled = 0;

	for (i = 0; i < k; i++) {
		struct doc *d = &b->docs[s->sent_idx[i]];
		char msg[BULK_REASON_MAX + 64];

		switch (s->items[i].verdict) {
		case BULK_ACCEPTED:
			s->st.indexed++;
			s->st.conflicts += (uint64_t)s->items[i].conflict;
			d->done = 1;
			settled++;
			break;
		case BULK_REJECTED:
			snprintf(msg, sizeof(msg), "Elasticsearch rejected record with message %s",
			    s->items[i].reason);
			sinkout_bad(s->io, b->lines.data + d->line_off, d->line_len, 1, msg,
			    &s->status);
			d->done = 1;
			settled++;
			break;
		case BULK_RETRY:
			s->st.retried++;
			*need_backoff = 1;
			snprintf(last_err, last_errlen, "item status %d: %s", s->items[i].status,
			    s->items[i].reason);
			break;
		}
	}
	return settled;
}

/*
 * Deliver batch b: every document ends accepted, rejected into a bad row, or (at a deadline)
 * diverted or left for the next start. When have_first is set, the first request was already
 * made (asynchronously, for all documents) and rc0/status0/err0/t0 are its outcome, with the
 * response in s->resp.
 */
static void
send_batch(struct sender *s, struct batch *b, int have_first, int rc0, long status0,
    const char *err0, int64_t t0_first)
{
	const struct es_opts *o = s->o;
	char err[1024], last_err[1024] = "none";
	size_t pending = b->n, chunk = b->n, i;
	unsigned attempt = 0;
	int64_t first_fail = 0;

	while (pending > 0 && b->n > 0) {
		const char *body;
		size_t blen, k = 0;
		long status = 0;
		int need_backoff = 0, rc;
		int64_t t0;

		/* the next chunk of pending documents */
		for (i = 0; i < b->n && k < chunk; i++)
			if (!b->docs[i].done)
				s->sent_idx[k++] = i;
		if (have_first) {
			body = NULL;
			blen = 0;
		} else if (k == b->n) {
			body = b->body.data;
			blen = b->body.len;
		} else {
			buf_reset(&s->reqbody);
			for (i = 0; i < k; i++) {
				struct doc *d = &b->docs[s->sent_idx[i]];
				if (buf_append(&s->reqbody, b->body.data + d->body_off, d->body_len) == -1) {
					log_error("out of memory building a bulk request");
					fail(s, EX_SOFTWARE);
					give_up(s, b, 1, attempt, "out of memory");
					break;
				}
			}
			body = s->reqbody.data;
			blen = s->reqbody.len;
		}
		if (have_first) {
			have_first = 0;
			t0 = t0_first;
			rc = rc0;
			status = status0;
			snprintf(err, sizeof(err), "%s", err0 ? err0 : "");
		} else {
			buf_reset(&s->resp);
			t0 = timefmt_mono_ms();
			rc = esclient_request(s->es, "POST", s->bulk_path, "application/x-ndjson", body,
			    blen, &status, &s->resp, err, sizeof(err));
		}
		s->st.requests++;
		s->st.bytes_sent += blen;
		metrics_hist_observe(&s->st.bulk_seconds, (double)(timefmt_mono_ms() - t0) / 1000.0);
		s->st.lat_sum_ms += (uint64_t)(timefmt_mono_ms() - t0);
		if ((uint64_t)(timefmt_mono_ms() - t0) > s->st.lat_max_ms)
			s->st.lat_max_ms = (uint64_t)(timefmt_mono_ms() - t0);
		if (rc == -1) {
			need_backoff = 1;
			snprintf(last_err, sizeof(last_err), "%.1000s", err);
		} else {
			switch (bulk_request_outcome(status)) {
			case BULK_REQ_ITEMS:
				if (bulk_parse_response(s->resp.data ? s->resp.data : "", s->resp.len, k,
				    s->items, err, sizeof(err)) == -1) {
					need_backoff = 1;
					snprintf(last_err, sizeof(last_err), "HTTP %ld: %.900s", status, err);
					break;
				}
				pending -= read_items(s, b, k, &need_backoff, last_err, sizeof(last_err));
				break;
			case BULK_REQ_SPLIT:
				if (k == 1) {
					struct doc *d = &b->docs[s->sent_idx[0]];
					sinkout_bad(s->io, b->lines.data + d->line_off, d->line_len, 1,
					    "Elasticsearch rejected record: request too large (HTTP 413)",
					    &s->status);
					d->done = 1;
					pending--;
				} else {
					chunk = k / 2;
					log_warn("HTTP 413 for %zu documents: splitting", k);
				}
				break;
			case BULK_REQ_RETRY:
				need_backoff = 1;
				snprintf(last_err, sizeof(last_err), "HTTP %ld: %.300s", status,
				    s->resp.data ? s->resp.data : "");
				if (status >= 400 && status < 500 && status != 429 && status != 408)
					log_warn("bulk request refused (configuration or compatibility "
					    "error?): %s", last_err);
				break;
			}
		}
		if (!need_backoff) {
			s->st.peer_failing_since = 0;
		} else {
			enum es_fail cause = rc == -1 ? ES_FAIL_CONNECTION :
			    bulk_request_outcome(status) == BULK_REQ_ITEMS ?
			    (strncmp(last_err, "HTTP ", 5) == 0 ? ES_FAIL_BAD_RESPONSE : ES_FAIL_ITEMS) :
			    status == 429 ? ES_FAIL_HTTP_429 : status >= 500 ? ES_FAIL_HTTP_5XX :
			    ES_FAIL_HTTP_4XX;
			s->st.failures[cause]++;
			if (s->st.peer_failing_since == 0)
				s->st.peer_failing_since = timefmt_mono_ms();
			snprintf(s->st.last_error, sizeof(s->st.last_error), "%.250s", last_err);
		}
		if (!need_backoff || pending == 0)
			continue;
		s->st.failed_requests++;
		if (rc == -1 || bulk_request_outcome(status) != BULK_REQ_ITEMS)
			s->st.retried += k;
		attempt++;
		if (first_fail == 0)
			first_fail = timefmt_mono_ms();
		if (term_now(s)) {
			give_up(s, b, 1, attempt, last_err);
			break;
		}
		if (o->retry_deadline_s > 0 && timefmt_mono_ms() - first_fail >= o->retry_deadline_s * 1000) {
			give_up(s, b, 0, attempt, last_err);
			fail(s, EX_UNAVAILABLE);
			break;
		}
		if (attempt == 1 || attempt % 10 == 0)
			log_warn("retrying %zu documents (attempt %u): %s", pending, attempt, last_err);
		if (backoff_sleep(s, bulk_backoff_ms(attempt, (uint64_t)o->retry_base_ms,
		    (uint64_t)o->retry_max_ms, rnd64(s))) == -1) {
			give_up(s, b, 1, attempt, last_err);
			break;
		}
	}
	settle(s, b);
}

/* Hand the filled batch over to the in-flight slot and start its first request. */
static void
start_async(struct sender *s)
{
	struct batch tmp = s->fly;
	char err[1024];

	s->fly = s->cur;
	s->cur = tmp;
	batch_reset(&s->cur);
	buf_reset(&s->resp);
	s->fly_t0 = timefmt_mono_ms();
	s->st.bytes_sent += s->fly.body.len;
	if (esclient_start(s->es, "POST", s->bulk_path, "application/x-ndjson", s->fly.body.data,
	    s->fly.body.len, &s->resp, err, sizeof(err)) == -1) {
		send_batch(s, &s->fly, 1, -1, 0, err, s->fly_t0);
		return;
	}
	s->flying = 1;
}

static void
finish_inflight(struct sender *s, int r, long status, const char *err)
{
	s->flying = 0;
	send_batch(s, &s->fly, 1, r == 1 ? 0 : -1, status, err, s->fly_t0);
}

/* Wait up to timeout_ms for the request in flight (and for input on fd, if >= 0). */
static void
poll_inflight(struct sender *s, int fd, int timeout_ms)
{
	char err[1024] = "";
	long status = 0;
	int r = esclient_poll(s->es, fd, timeout_ms, NULL, &status, err, sizeof(err));

	if (r != 0)
		finish_inflight(s, r, status, err);
}

static void
wait_inflight(struct sender *s)
{
	while (s->flying)
		poll_inflight(s, -1, 1000);
}

/* Send the current batch: after the one in flight, if any. */
static void
flush_current(struct sender *s)
{
	wait_inflight(s);
	if (s->cur.n > 0 && s->status == 0)
		start_async(s);
}

/* ---- reading ---- */

static int
batch_full(const struct sender *s)
{
	return s->cur.n >= s->o->batch_docs || s->cur.body.len >= s->o->batch_bytes;
}

static int
batch_room(struct sender *s, size_t n)
{
	size_t ncap;
	struct doc *nd;

	if (s->cur.n + n <= s->cur.cap)
		return 0;
	ncap = s->cur.cap ? s->cur.cap * 2 : 64;
	if ((nd = realloc(s->cur.docs, ncap * sizeof(*nd))) == NULL)
		return -1;
	s->cur.docs = nd;
	s->cur.cap = ncap;
	if (ncap > s->items_cap) {
		struct bulk_item *ni = realloc(s->items, ncap * sizeof(*ni));
		size_t *ns;
		if (ni)
			s->items = ni;
		ns = realloc(s->sent_idx, ncap * sizeof(*ns));
		if (ns)
			s->sent_idx = ns;
		if (ni == NULL || ns == NULL)
			return -1;
		s->items_cap = ncap;
	}
	return 0;
}

static void
batch_add(struct sender *s, const char *line, size_t len, const char *docbody, size_t doclen)
{
	struct batch *b = &s->cur;
	struct doc *d;

	if (b->n > 0 && b->body.len + doclen > s->o->batch_bytes)
		flush_current(s);    /* a document above the limit is sent alone */
	if (batch_room(s, 1) == -1) {
		log_error("out of memory");
		fail(s, EX_SOFTWARE);
		return;
	}
	d = &b->docs[b->n];
	d->line_off = b->lines.len;
	d->line_len = len;
	d->body_off = b->body.len;
	d->body_len = doclen;
	d->done = 0;
	if (buf_append(&b->lines, line, len) == -1 || buf_append(&b->body, docbody, doclen) == -1) {
		log_error("out of memory");
		fail(s, EX_SOFTWARE);
		return;
	}
	if (b->n == 0)
		b->first_ms = timefmt_mono_ms();
	b->n++;
}

/* The document for one line, into s->scratch; index gets its target and id the document's
 * _id (empty for none). Returns 0, or -1 when the line became a bad row instead. */
static int
transform(struct sender *s, const char *line, size_t len, char *index, size_t indexlen,
    char id[SDKJSON_EVENT_ID_LEN + 1])
{
	struct sdkjson_result res;
	char err[512];

	snprintf(index, indexlen, "%s", s->o->index);
	id[0] = '\0';
	switch (s->o->input) {
	case ES_IN_ENRICHED:
		/* the document first (to learn event_id), then the action line in front */
		if (sdkjson_enriched(line, len, s->o->shard_col, &s->scratch, &res, &s->errbuf) == -1) {
			sinkout_bad(s->io, line, len, 0,
			    s->errbuf.data ? s->errbuf.data : "transform failed", &s->status);
			return -1;
		}
		memcpy(id, res.event_id, SDKJSON_EVENT_ID_LEN + 1);
		if (s->o->shard_format && res.has_shard) {
			char sfx[256];
			size_t n = strftime(sfx, sizeof(sfx), s->o->shard_format, &res.shard_tm);
			snprintf(index, indexlen, "%s%.*s", s->o->index, (int)n, sfx);
		}
		return 0;
	case ES_IN_BAD:
		if (badrewrite_line(line, len, &s->scratch, err, sizeof(err)) == -1) {
			sinkout_bad(s->io, line, len, 0, err, &s->status);
			return -1;
		}
		return 0;
	case ES_IN_JSON: {
		/* the object goes out as read (after UTF-8 repair): big numbers keep their text */
		json_error_t jerr;
		json_t *j;
		struct buf fixed;
		const char *text = line;
		size_t tlen = len;

		buf_init(&fixed, 0);
		if (utf8_valid_prefix(line, len) != len && utf8_repair(line, len, &fixed) == 0) {
			text = fixed.data;
			tlen = fixed.len;
		}
		j = json_loadb(text, tlen, JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(j)) {
			snprintf(err, sizeof(err), "cannot parse line as JSON: %s",
			    j ? "not an object" : jerr.text);
			sinkout_bad(s->io, line, len, 0, err, &s->status);
			json_decref(j);
			buf_free(&fixed);
			return -1;
		}
		json_decref(j);
		buf_append(&s->scratch, text, tlen);
		buf_free(&fixed);
		return 0;
	}
	}
	return -1;
}

static void
handle_line(struct sender *s, const char *line, size_t len)
{
	char index[512], id[SDKJSON_EVENT_ID_LEN + 1];
	size_t doc_len;

	s->st.in++;
	s->st.bytes_in += len + 1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	buf_reset(&s->scratch);
	buf_reset(&s->errbuf);
	if (transform(s, line, len, index, sizeof(index), id) == -1)
		return;
	if (s->io->dump) {
		if (stream_sink_put(s->io->dump, s->scratch.data, s->scratch.len) == -1) {
			log_error("standard output: out of memory");
			fail(s, EX_SOFTWARE);
		}
		s->st.indexed++;
		return;
	}
	/* move the document behind its action line, in errbuf */
	doc_len = s->scratch.len;
	buf_reset(&s->errbuf);
	if (bulk_action(&s->errbuf, index, id[0] ? id : NULL) == -1 ||
	    buf_append(&s->errbuf, s->scratch.data, doc_len) || buf_append_byte(&s->errbuf, '\n')) {
		log_error("out of memory");
		fail(s, EX_SOFTWARE);
		return;
	}
	batch_add(s, line, len, s->errbuf.data, s->errbuf.len);
}

static void
handle_toolong(struct sender *s, const char *line, size_t len, uint64_t full_len)
{
	char msg[160];

	s->st.in++;
	snprintf(msg, sizeof(msg), "line of %llu bytes, longer than the limit of %zu bytes "
	    "(--max-line)", (unsigned long long)full_len, s->o->io.max_line);
	sinkout_bad(s->io, line, len, 1, msg, &s->status);
}

/* SIGTERM with part of a line in hand: its writer had not finished it, so it is not a record.
 * It goes to --bad (never indexed, never silently dropped). */
static void
handle_partial(struct sender *s, const char *line, size_t len, uint64_t total)
{
	char msg[160];

	s->st.in++;
	snprintf(msg, sizeof(msg), "unterminated line at shutdown: %llu bytes without a newline, "
	    "not indexed", (unsigned long long)total);
	log_warn("%s", msg);
	sinkout_bad(s->io, line, len, 1, msg, &s->status);
}

/* One record into the batch. Returns 1 to go on reading, 0 when nothing more can be read now
 * (STREAM_AGAIN), -1 at the end of the input. */
static int
read_one(struct sender *s)
{
	struct stream_rec rec;
	enum stream_status r;

	/* stopping: what was already read is taken, nothing more */
	r = sig_terminate ? stream_source_next_buffered(s->in, &rec) :
	    stream_source_next(s->in, &rec);
	switch (r) {
	case STREAM_OK:
		handle_line(s, rec.data, rec.len);
		break;
	case STREAM_TOOLONG:
		handle_toolong(s, rec.data, rec.len, rec.full_len);
		break;
	case STREAM_PARTIAL:
		handle_partial(s, rec.data, rec.len, rec.full_len);
		return -1;
	case STREAM_AGAIN:
		return 0;
	case STREAM_EOF:
		return -1;
	default:
		log_error("reading %s", stream_source_error(s->in));
		fail(s, EX_IOERR);
		return -1;
	}
	/* the batch being filled ends, for now, at this record: committed when it is settled (a
	 * record that became a bad row rides with the batch) */
	s->cur.end_pos = rec.pos;
	s->cur.has_pos = 1;
	return 1;
}

/* --dump: what was written is settled; commit it. */
static void
settle_dump(struct sender *s)
{
	if (s->cur.has_pos)
		settle(s, &s->cur);
}

struct sender *
sender_new(const struct es_opts *o, struct esclient *es, struct sinkout *io)
{
	struct sender *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->o = o;
	s->es = es;
	s->io = io;
	s->in = io->in;
	buf_init(&s->scratch, 0);
	buf_init(&s->errbuf, 0);
	buf_init(&s->reqbody, 0);
	buf_init(&s->resp, 0);
	buf_init(&s->cur.lines, 0);
	buf_init(&s->cur.body, 0);
	buf_init(&s->fly.lines, 0);
	buf_init(&s->fly.body, 0);
	/* filter_path: the engine sends back only what es-sink reads, not 500 item summaries */
	metrics_hist_init(&s->st.bulk_seconds, bulk_bounds, sizeof(bulk_bounds) / sizeof(bulk_bounds[0]));
	snprintf(s->bulk_path, sizeof(s->bulk_path),
	    "/_bulk?filter_path=errors,items.*.status,items.*.error%s%s",
	    o->refresh ? "&refresh=" : "", o->refresh ? o->refresh : "");
	abort_target = s;
	return s;
}

void
sender_free(struct sender *s)
{
	if (s == NULL)
		return;
	if (abort_target == s)
		abort_target = NULL;
	buf_free(&s->scratch);
	buf_free(&s->errbuf);
	buf_free(&s->reqbody);
	buf_free(&s->resp);
	buf_free(&s->cur.lines);
	buf_free(&s->cur.body);
	buf_free(&s->fly.lines);
	buf_free(&s->fly.body);
	free(s->cur.docs);
	free(s->fly.docs);
	free(s->items);
	free(s->sent_idx);
	free(s);
}

/* How long the loop may wait: until the batch's flush delay or the next stats line. */
static int
wait_ms(const struct sender *s, int64_t next_stats)
{
	int timeout = -1;

	if (s->cur.n > 0) {
		int64_t left = s->cur.first_ms + s->o->flush_ms - timefmt_mono_ms();
		timeout = left < 0 ? 0 : (int)left;
	}
	if (next_stats != INT64_MAX) {
		int64_t left = next_stats - timefmt_mono_ms();
		if (left < 0)
			left = 0;
		if (timeout < 0 || left < timeout)
			timeout = (int)left;
	}
	return timeout;
}

int
sender_run(struct sender *s)
{
	const struct es_opts *o = s->o;
	int64_t next_stats = o->stats_interval ? timefmt_mono_ms() + o->stats_interval * 1000 : INT64_MAX;
	size_t logged_n = 0;

	while (s->status == 0) {
		int fd = stream_source_fd(s->in), timeout;

		if (sig_reopen) {
			sig_reopen = 0;
			sinkout_reopen(s->io, &s->status);
			if (s->status)
				break;
		}
		if (timefmt_mono_ms() >= next_stats) {
			sender_log_stats(s, "counters");
			next_stats = timefmt_mono_ms() + o->stats_interval * 1000;
		}
		if (sig_terminate && s->term_deadline == 0) {
			term_now(s);
			log_info("SIGTERM/SIGINT: finishing the batch in hand (at most %lds)",
			    o->term_timeout_s);
			/* a line half read is in hand too: let it end (reading nothing past it) */
			stream_source_finish_record(s->in);
		}
		/* --dump fills no batch: it stops at DUMP_SETTLE_BYTES of documents instead, so that
		 * a file read in one go does not pile up in the queue past its cap */
		while (!s->eof && !batch_full(s) && s->status == 0 && !(s->io->dump &&
		    stream_sink_queue(s->io->dump)->len >= DUMP_SETTLE_BYTES)) {
			int r = read_one(s);
			if (r == 0)
				break;
			if (r == -1)
				s->eof = 1;
		}
		if (s->io->dump) {
			settle_dump(s);
			if (s->eof)
				break;
			{
				struct pollfd p = { fd, POLLIN, 0 };
				metricsd_poll(s->md, &p, 1, wait_ms(s, next_stats));
			}
			continue;
		}
		if (s->cur.n > 0 && (batch_full(s) || s->eof || sig_terminate ||
		    timefmt_mono_ms() - s->cur.first_ms >= o->flush_ms)) {
			flush_current(s);
			continue;
		}
		if (s->eof && s->cur.n == 0) {
			wait_inflight(s);
			/* records that all became bad rows commit with no batch to carry them */
			if (s->cur.has_pos)
				settle(s, &s->cur);
			break;
		}
		if (batch_full(s) || sig_terminate) {
			if (s->flying)
				poll_inflight(s, -1, 1000);
			continue;
		}
		if (s->cur.n == 0 && s->cur.has_pos && !s->flying)
			settle(s, &s->cur);    /* only bad rows since the last batch */
		else if (sinkout_flush(s->io, &s->status) == -1)
			break;
		if (s->cur.n != logged_n) {
			log_debug("%zu documents in the batch", s->cur.n);
			logged_n = s->cur.n;
		}
		timeout = wait_ms(s, next_stats);
		if (s->flying) {
			/* wait for the response or for more input, whichever comes first */
			poll_inflight(s, fd, timeout < 0 || timeout > 1000 ? 1000 : timeout);
		} else {
			struct pollfd p = { fd, POLLIN, 0 };
			metricsd_poll(s->md, &p, 1, timeout);
		}
	}
	wait_inflight(s);
	if (s->status != 0 && s->cur.n > 0)
		give_up(s, &s->cur, 0, 0, "not sent: an earlier batch failed for good");
	flush_current(s);
	wait_inflight(s);
	if (s->cur.has_pos)
		settle(s, &s->cur);
	sinkout_flush(s->io, &s->status);
	sender_log_stats(s, "exit");
	if (s->undelivered && s->status == 0)
		s->status = EX_UNAVAILABLE;
	return s->status;
}

void
sender_set_metrics(struct sender *s, struct metricsd *md, long health_threshold_s)
{
	s->md = md;
	s->io->md = md;          /* served while --bad or --spool is blocked */
	s->health_threshold_s = health_threshold_s;
	if (s->es)
		esclient_set_metricsd(s->es, md);
}

void
sender_metrics_render(struct buf *b, void *arg)
{
	const struct sender *s = arg;
	const struct stats *st = &s->st;
	char lab[64];
	size_t i;

	metrics_counter(b, "furrow_es_sink_records_in_total", "Input lines read", st->in);
	metrics_counter(b, "furrow_es_sink_input_bytes_total", "Input bytes read, newlines included",
	    st->bytes_in);
	metrics_counter(b, "furrow_es_sink_documents_indexed_total",
	    "Documents Elasticsearch accepted (with --dump: written)", st->indexed);
	metrics_counter(b, "furrow_es_sink_documents_conflicts_total",
	    "Documents already indexed under their _id (a re-send after a restart)", st->conflicts);
	metrics_counter(b, "furrow_es_sink_bad_rows_total",
	    "Bad rows written: lines that cannot be documents, documents rejected, given up",
	    s->io->bad_rows);
	metrics_counter(b, "furrow_es_sink_documents_spooled_total",
	    "Documents diverted to --spool at shutdown", s->io->spooled);
	metrics_counter(b, "furrow_es_sink_documents_retried_total",
	    "Documents sent again after a failed request or a retryable item status", st->retried);
	metrics_counter(b, "furrow_es_sink_bulk_requests_total", "_bulk requests made", st->requests);
	metrics_counter(b, "furrow_es_sink_bulk_request_bytes_total", "Bytes of _bulk request bodies",
	    st->bytes_sent);
	metrics_head(b, "furrow_es_sink_bulk_failures_total", "counter",
	    "_bulk requests that failed and are retried, by cause");
	for (i = 0; i < ES_FAIL_N; i++) {
		snprintf(lab, sizeof(lab), "cause=\"%s\"", fail_names[i]);
		metrics_u64(b, "furrow_es_sink_bulk_failures_total", lab, st->failures[i]);
	}
	metrics_head(b, "furrow_es_sink_bulk_duration_seconds", "histogram",
	    "Time from sending a _bulk request to its response");
	metrics_hist_render(b, "furrow_es_sink_bulk_duration_seconds", NULL, &st->bulk_seconds);
	metrics_gauge(b, "furrow_es_sink_pending_documents",
	    "Documents read and not yet settled (the batch being filled and the one in flight)",
	    (double)batch_pending(s));
	metrics_gauge(b, "furrow_es_sink_peer_failing_seconds",
	    "How long Elasticsearch has been failing now (0: the last request succeeded)",
	    st->peer_failing_since ? (double)(timefmt_mono_ms() - st->peer_failing_since) / 1000.0 :
	    0.0);
	metrics_gauge(b, "furrow_es_sink_output_blocked_seconds",
	    "How long --bad or --spool has been unable to take more now (full disk; 0: not)",
	    sinkout_blocked_seconds(s->io, timefmt_mono_ms()));
}

int
sender_health(struct buf *why, void *arg)
{
	const struct sender *s = arg;
	int64_t now = timefmt_mono_ms(), limit = (int64_t)s->health_threshold_s * 1000;

	if (s->st.peer_failing_since && now - s->st.peer_failing_since >= limit) {
		buf_printf(why, "Elasticsearch failing for %llds (threshold %lds): %s",
		    (long long)((now - s->st.peer_failing_since) / 1000), s->health_threshold_s,
		    s->st.last_error);
		return 0;
	}
	return sinkout_health(s->io, s->health_threshold_s, now, why);
}
