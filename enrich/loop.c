/*
 * loop: read, enrich, hand on, commit (see loop.h).
 */
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>

#include "base64.h"
#include "buf.h"
#include "enrich.h"
#include "log.h"
#include "metricsd.h"
#include "sig.h"
#include "stream.h"
#include "timefmt.h"

#define LOOP_FLUSH_BYTES  (256u * 1024)
#define LOOP_WAIT_LOG_S   30             /* repeat "waiting for room" this often */
#define LOOP_SYNC_MS      30000          /* at the end, wait this long for acknowledgements */
#define LOOP_SERVE_EVERY  256            /* records between two looks at the metrics socket */

struct loop_state {
	struct enrich_loop *l;
	sigset_t            waitmask;        /* the mask while waiting: signals let through */
	sigset_t            blocked;         /* the signals held while a record is processed */
	time_t              next_stats;
	uint64_t            pos;             /* input position after the last record processed */
	int                 have_pos;
	time_t              blocked_since;   /* a sink could not take its output */
	time_t              blocked_logged;
	int                 failed;          /* an output failed for good */
	int                 tail_done;       /* stopping: the record half read was let end */
};

static void
log_counts(const struct enrich *e)
{
	const struct enrich_counts *c = enrich_counts(e);

	log_info("lines %llu, empty %llu, good %llu, bad %llu, dropped %llu, pii %llu", c->lines,
	    c->empty, c->good, c->bad, c->dropped, c->pii);
}

static int
stats_due(struct loop_state *st)
{
	time_t now;

	if (st->l->stats_interval <= 0)
		return 0;
	now = time(NULL);
	if (now < st->next_stats)
		return 0;
	st->next_stats = now + st->l->stats_interval;
	return 1;
}

/* Wait up to ms (-1: no limit) for fd (-1: none), with signals let through. */
static void
wait_for(struct loop_state *st, int fd, int ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	struct timespec ts, *tsp = NULL;

	if (st->l->stats_interval > 0) {
		time_t left = st->next_stats - time(NULL);
		long stats_ms = left > 0 ? (long)left * 1000 : 0;
		if (ms < 0 || stats_ms < ms)
			ms = (int)stats_ms;
	}
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000L;
		tsp = &ts;
	}
	metricsd_ppoll(st->l->md, &p, fd >= 0 ? 1 : 0, tsp, &st->waitmask);
	/* ppoll that returns with input ready leaves a signal that came at the same moment
	 * pending: take it now, so a SIGHUP is acted on before the input that followed it */
	sigprocmask(SIG_SETMASK, &st->waitmask, NULL);
	sigprocmask(SIG_BLOCK, &st->blocked, NULL);
}

/*
 * Hand on both outputs, then commit the input up to the last record processed. Returns 0 when
 * done, 1 when a sink is blocked (full disk: the caller waits and calls again; nothing more is
 * read meanwhile), -1 when a sink or the commit failed for good.
 */
static int
hand_on(struct loop_state *st)
{
	struct enrich_loop *l = st->l;
	struct stream_sink *sinks[3] = { l->good, l->bad, l->pii };
	char err[512];
	int i;

	for (i = 0; i < 3 && sinks[i] != NULL; i++) {
		size_t pending = stream_sink_pending(sinks[i]);
		enum stream_status s = stream_sink_flush(sinks[i]);

		if (i < 2)	/* bytes out: the good and bad streams (pii events are counted apart) */
			*(i == 0 ? &l->stats.bytes_good : &l->stats.bytes_bad) +=
			    pending - stream_sink_pending(sinks[i]);
		if (s == STREAM_ERROR) {
			log_error("%s", stream_sink_error(sinks[i]));
			return -1;
		}
		if (s == STREAM_BLOCKED) {
			time_t now = time(NULL);
			if (st->blocked_since == 0) {
				st->blocked_since = now;
				l->stats.blocked_since_ms = timefmt_mono_ms();
				l->stats.blocked_total++;
			}
			if (now - st->blocked_logged >= LOOP_WAIT_LOG_S) {
				log_warn("%s; not reading more input until it can be written (waiting %lds)",
				    stream_sink_error(sinks[i]), (long)(now - st->blocked_since));
				st->blocked_logged = now;
			}
			return 1;
		}
	}
	if (st->blocked_since) {
		log_info("output written again after %lds", (long)(time(NULL) - st->blocked_since));
		st->blocked_since = st->blocked_logged = 0;
		l->stats.blocked_since_ms = 0;
	}
	if (st->have_pos && stream_source_commit(l->in, st->pos, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* Hand on, waiting out a blocked sink; a stop request ends the wait only when the input can
 * be read again from its committed position (a log), since nothing is lost then. */
static int
hand_on_wait(struct loop_state *st)
{
	for (;;) {
		int r = hand_on(st);
		if (r != 1)
			return r;
		if (sig_terminate && stream_source_follows(st->l->in)) {
			log_warn("stopping with output not written; the input is read again from its "
			    "last committed position at the next start");
			return 0;
		}
		if (stats_due(st))
			log_counts(st->l->e);
		wait_for(st, -1, stream_sink_retry_ms(st->l->good));
	}
}

/* One record into the outputs. Returns 0, or -1 when an output buffer could not grow. */
static int
process(struct loop_state *st, enum stream_status s, const struct stream_rec *rec)
{
	struct enrich_loop *l = st->l;
	struct buf *good = stream_sink_queue(l->good), *bad = stream_sink_queue(l->bad);
	size_t good_from = good->len, bad_from = bad->len;
	int r;

	if (rec->bytes && (s == STREAM_TOOLONG || base64_encoded_len(rec->full_len) > l->max_line)) {
		/* --max-line-bytes limits a raw record's line form, its base64, whatever carried
		 * it: the bad row is the one the same record as a line gets */
		struct buf b64;
		size_t keep = rec->len < l->max_line / 10 ? rec->len : l->max_line / 10;
		buf_init(&b64, 0);
		r = buf_reserve(&b64, base64_encoded_len(keep) + 1);
		if (r == 0) {
			b64.len = base64_encode((const uint8_t *)rec->data, keep, b64.data);
			r = enrich_line_too_long(l->e, b64.data, b64.len,
			    base64_encoded_len(rec->full_len), l->max_line, bad);
		}
		buf_free(&b64);
	} else if (s == STREAM_OK) {
		r = rec->bytes ? enrich_payload(l->e, (const uint8_t *)rec->data, rec->len, good, bad) :
		    enrich_line(l->e, rec->data, rec->len, good, bad);
	} else {
		r = enrich_line_too_long(l->e, rec->data, rec->len, rec->full_len, l->max_line, bad);
	}
	if (r == 0 && (l->good_max || l->bad_max))
		r = enrich_fit(l->e, good, good_from, l->good_max, bad, bad_from, l->bad_max);
	return r;
}

static void
reopen_outputs(struct loop_state *st)
{
	struct stream_sink *sinks[3] = { st->l->good, st->l->bad, st->l->pii };
	int i;

	if (hand_on_wait(st) == -1)
		return;
	for (i = 0; i < 3 && sinks[i] != NULL; i++) {
		int r = stream_sink_reopen(sinks[i]);
		if (r == 0)
			continue;
		log_error("%s", stream_sink_error(sinks[i]));
		if (r == -2)
			st->failed = 1;      /* a failed close is a lost write: stop (exit 74) */
	}
}

int
enrich_loop_run(struct enrich_loop *l)
{
	struct loop_state st;
	struct stream_rec rec;
	struct buf *good = stream_sink_queue(l->good), *bad = stream_sink_queue(l->bad);
	char err[512];
	struct buf *pii = l->pii ? stream_sink_queue(l->pii) : NULL;
	unsigned since_serve = 0;
	int status = 0;

	memset(&st, 0, sizeof(st));
	st.l = l;
	st.next_stats = l->stats_interval > 0 ? time(NULL) + l->stats_interval : 0;
	sig_flags_install();
	sigemptyset(&st.blocked);
	sigaddset(&st.blocked, SIGTERM);
	sigaddset(&st.blocked, SIGINT);
	sigaddset(&st.blocked, SIGHUP);
	sigprocmask(SIG_BLOCK, &st.blocked, &st.waitmask);
	enrich_set_pii_output(l->e, pii);

	for (;;) {
		enum stream_status s;
		int r = 0;

		if (sig_reopen) {
			sig_reopen = 0;
			reopen_outputs(&st);
			if (st.failed)
				goto out_error;
		}
		if (stats_due(&st))
			log_counts(l->e);
		/* stopping: the whole records already read are enriched, and the one half read if it
		 * ends in time; nothing more is read */
		if (sig_terminate && !st.tail_done) {
			stream_source_finish_record(l->in);
			st.tail_done = 1;
		}
		s = sig_terminate ? stream_source_next_buffered(l->in, &rec) :
		    stream_source_next(l->in, &rec);
		switch (s) {
		case STREAM_OK:
		case STREAM_TOOLONG:
			l->stats.bytes_in += (s == STREAM_OK ? rec.len : rec.full_len) + !rec.bytes;
			if (l->md) {
				double t0 = metrics_now();
				r = process(&st, s, &rec);
				metrics_hist_observe(&l->stats.latency, metrics_now() - t0);
				/* busy: a look at the metrics socket now and then, without waiting */
				if (++since_serve >= LOOP_SERVE_EVERY) {
					since_serve = 0;
					metricsd_poll(l->md, NULL, 0, 0);
				}
			} else {
				r = process(&st, s, &rec);
			}
			break;
		case STREAM_AGAIN:
			/* about to wait: let downstream see what we have */
			if ((r = hand_on_wait(&st)) == -1)
				goto out_error;
			wait_for(&st, stream_source_fd(l->in), -1);
			continue;
		case STREAM_PARTIAL:
			log_warn("unterminated line at shutdown: %llu bytes without a newline, not "
			    "enriched", (unsigned long long)rec.full_len);
			goto done;
		case STREAM_EOF:
			goto done;
		default:
			log_error("reading %s", stream_source_error(l->in));
			hand_on_wait(&st);
			status = EX_IOERR;
			goto out;
		}
		if (r == -1) {
			log_error("out of memory");
			status = EX_SOFTWARE;
			goto out;
		}
		st.pos = rec.pos;
		st.have_pos = 1;
		if ((good->len >= LOOP_FLUSH_BYTES || bad->len >= LOOP_FLUSH_BYTES ||
		    (pii && pii->len >= LOOP_FLUSH_BYTES)) &&
		    hand_on_wait(&st) == -1)
			goto out_error;
	}
done:
	if (hand_on_wait(&st) == -1)
		goto out_error;
	if (stream_source_sync(l->in, LOOP_SYNC_MS, err, sizeof(err)) == -1) {
		/* not lost: what was not committed is read again at the next start */
		log_error("%s", err);
		log_counts(l->e);
		goto out_error;
	}
	log_counts(l->e);
	goto out;
out_error:
	status = EX_IOERR;
out:
	sigprocmask(SIG_SETMASK, &st.waitmask, NULL);
	return status;
}
