/*
 * ins_feed: stream sources into the store, in the event loop (see ins_feed.h).
 */
#include "ins_feed.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "ins_store.h"
#include "log.h"
#include "stream.h"
#include "timefmt.h"

#define FEED_BUDGET_RECORDS  4096
#define FEED_BUDGET_MS       8
#define FEED_LOG_PER_SECOND  5
#define FEED_TOOLONG_KEEP    128
#define FEED_RETRY_US        100000

struct source {
	struct ins_feed *f;
	struct stream_source *src;
	enum ins_kind kind;
	struct event *ev, *more;
	int ended;
	struct ins_feed_stats st;
};

struct ins_feed {
	struct event_base *base;
	struct ins_store *store;
	struct ins_feed_opts o;
	struct source good, bad;
	time_t log_second;
	unsigned log_count;
	unsigned long long log_suppressed;
};

/* Log a skipped line, at most FEED_LOG_PER_SECOND a second. */
static void
complain(struct ins_feed *f, struct source *s, const char *why)
{
	time_t now = time(NULL);

	if (now != f->log_second) {
		if (f->log_suppressed)
			log_warn("%llu more lines skipped", f->log_suppressed);
		f->log_second = now;
		f->log_count = 0;
		f->log_suppressed = 0;
	}
	if (f->log_count++ >= FEED_LOG_PER_SECOND) {
		f->log_suppressed++;
		return;
	}
	log_warn("%s: line %llu skipped: %s", stream_source_name(s->src), s->st.lines, why);
}

static void
check_all_ended(struct ins_feed *f)
{
	if (!f->o.exit_on_eof)
		return;
	if ((f->good.src == NULL || f->good.ended) && (f->bad.src == NULL || f->bad.ended))
		event_base_loopexit(f->base, NULL);
}

/* Read up to the budget. Returns 1 when the budget ran out (more may be there). */
static int
read_batch(struct source *s, int unlimited)
{
	struct ins_feed *f = s->f;
	int64_t mono = timefmt_mono_ms(), wall = timefmt_now_ms(), start = mono;
	struct stream_rec rec;
	char err[256];
	int n;

	for (n = 0; unlimited || n < FEED_BUDGET_RECORDS; n++) {
		enum stream_status st = stream_source_next(s->src, &rec);
		int rc;

		if (st == STREAM_AGAIN)
			return 0;
		if (st == STREAM_EOF) {
			log_info(f->o.exit_on_eof ? "%s: end of input (%llu lines)" : "%s: end of input (%llu lines); still serving",
			    stream_source_name(s->src), s->st.lines);
			s->ended = 1;
			if (s->ev)
				event_del(s->ev);
			check_all_ended(f);
			return 0;
		}
		if (st == STREAM_ERROR) {
			log_error("%s; not reading it any more", stream_source_error(s->src));
			s->ended = 1;
			if (s->ev)
				event_del(s->ev);
			check_all_ended(f);
			return 0;
		}
		s->st.lines++;
		if (st == STREAM_TOOLONG) {
			s->st.toolong++;
			ins_store_reject(f->store, s->kind);
			snprintf(err, sizeof(err), "%llu bytes is longer than --max-line-bytes (%zu)",
			    (unsigned long long)rec.full_len, f->o.max_line);
			complain(f, s, err);
			continue;
		}
		if (s->kind == INS_GOOD)
			rc = ins_store_add_good(f->store, rec.data, rec.len, mono, err, sizeof(err));
		else
			rc = ins_store_add_bad(f->store, rec.data, rec.len, mono, wall, err, sizeof(err));
		if (rc == -1) {
			if (errno == ENOMEM) {
				log_error("out of memory storing a record; it is skipped");
			} else {
				s->st.rejected++;
				complain(f, s, err);
			}
		}
		if (!unlimited && (n & 255) == 255) {
			mono = timefmt_mono_ms();
			if (mono - start >= FEED_BUDGET_MS)
				return 1;
		}
	}
	return 1;
}

static void
source_cb(evutil_socket_t fd, short what, void *arg)
{
	struct source *s = arg;

	(void)fd;
	(void)what;
	if (read_batch(s, 0)) {
		event_active(s->more, EV_TIMEOUT, 0);
	} else if (s->ev == NULL && !s->ended) {
		/* an input epoll cannot watch and that has nothing now: look again shortly */
		struct timeval tv = { 0, FEED_RETRY_US };
		event_add(s->more, &tv);
	}
	if (s->f->o.on_added)
		s->f->o.on_added(s->f->o.arg);
}

static int
source_open(struct ins_feed *f, struct source *s, const char *spec, enum ins_kind kind,
    char *err, size_t errlen)
{
	struct stream_source_opts so;

	memset(&so, 0, sizeof(so));
	so.max_line = f->o.max_line;
	so.toolong_keep = FEED_TOOLONG_KEEP;
	so.tail_bytes = f->o.tail_bytes;
	so.tail_records = f->o.tail_records;
	s->f = f;
	s->kind = kind;
	if ((s->src = stream_source_open(spec, &so, err, errlen)) == NULL)
		return -1;
	return 0;
}

struct ins_feed *
ins_feed_new(struct event_base *base, struct ins_store *st, const struct ins_feed_opts *o,
    char *err, size_t errlen)
{
	struct ins_feed *f = calloc(1, sizeof(*f));

	if (f == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	f->base = base;
	f->store = st;
	f->o = *o;
	if ((o->good_spec && source_open(f, &f->good, o->good_spec, INS_GOOD, err, errlen) == -1) ||
	    (o->bad_spec && source_open(f, &f->bad, o->bad_spec, INS_BAD, err, errlen) == -1)) {
		int e = errno;
		ins_feed_free(f);
		errno = e;
		return NULL;
	}
	return f;
}

static void
source_close(struct source *s)
{
	if (s->ev)
		event_free(s->ev);
	if (s->more)
		event_free(s->more);
	stream_source_close(s->src);
}

void
ins_feed_free(struct ins_feed *f)
{
	if (f == NULL)
		return;
	source_close(&f->good);
	source_close(&f->bad);
	free(f);
}

void
ins_feed_load(struct ins_feed *f)
{
	struct source *s[2] = { &f->good, &f->bad };
	int i;

	for (i = 0; i < 2; i++)
		if (s[i]->src && stream_source_follows(s[i]->src))
			read_batch(s[i], 1);
	ins_store_sort_by_time(f->store);
}

static int
source_start(struct ins_feed *f, struct source *s)
{
	struct stat sb;

	if (s->src == NULL || s->ended)
		return 0;
	s->more = event_new(f->base, -1, 0, source_cb, s);
	if (s->more == NULL)
		return -1;
	/* a regular file (a plain PATH, or stdin redirected from one) is always readable and
	 * epoll refuses it: it is read to its end through the budgeted "more" event alone */
	if (fstat(stream_source_fd(s->src), &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    stream_source_follows(s->src)) {
		s->ev = event_new(f->base, stream_source_fd(s->src), EV_READ | EV_PERSIST, source_cb, s);
		if (s->ev == NULL)
			return -1;
		if (event_add(s->ev, NULL) == -1) {
			/* /dev/null and other devices epoll refuses: read them through "more" */
			event_free(s->ev);
			s->ev = NULL;
		}
	}
	/* whatever is already there (a pipe written before we started) is read at once */
	event_active(s->more, EV_TIMEOUT, 0);
	return 0;
}

int
ins_feed_start(struct ins_feed *f)
{
	return source_start(f, &f->good) == -1 || source_start(f, &f->bad) == -1 ? -1 : 0;
}

const struct ins_feed_stats *
ins_feed_stats(const struct ins_feed *f, int bad)
{
	return bad ? &f->bad.st : &f->good.st;
}
