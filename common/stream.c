/*
 * stream: what every backend shares (see stream.h and stream_impl.h): the choice of backend by
 * the spec's prefix, the sink's line queue, the line form of a binary record, and commits that
 * wait for the linked sinks' acknowledgements.
 */
#include "stream_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "base64.h"
#include "redact.h"

#define STREAM_SINK_MAX   ((size_t)256 << 20)
#define STREAM_SYNC_POLL_MS 100

/* Backends by prefix; a spec without one of these prefixes is the file backend's. */
static const struct stream_source_ops *const source_backends[] = {
	&stream_kafka_source_ops,
	&stream_kinesis_source_ops,
	NULL,
};
static const struct stream_sink_ops *const sink_backends[] = {
	&stream_kafka_sink_ops,
	&stream_kinesis_sink_ops,
	NULL,
};

/* An error for the caller's buffer; a spec in it keeps no URL credentials. */
void
stream_set_err(char *err, size_t errlen, const char *fmt, ...)
{
	char raw[1024];
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	redact_urls(raw, err, errlen);
}

/* A stream's name for logs and errors: its spec with any URL credentials masked. */
static char *
stream_name(const char *spec)
{
	size_t n = strlen(spec) + 8;
	char *name = malloc(n);

	return name ? redact_urls(spec, name, n) : NULL;
}

int
stream_spec_has_groups(const char *spec)
{
	size_t i;

	if (strncmp(spec, "log:", 4) == 0)
		return 1;
	for (i = 0; source_backends[i]; i++)
		if (strncmp(spec, source_backends[i]->prefix,
		    strlen(source_backends[i]->prefix)) == 0)
			return 1;
	return 0;
}

int
stream_spec_is_kafka(const char *spec)
{
	return spec != NULL && strncmp(spec, stream_kafka_source_ops.prefix,
	    strlen(stream_kafka_source_ops.prefix)) == 0;
}

int
stream_spec_is_kinesis(const char *spec)
{
	return spec != NULL && strncmp(spec, stream_kinesis_source_ops.prefix,
	    strlen(stream_kinesis_source_ops.prefix)) == 0;
}

int
stream_specs_any(const char *const *specs, size_t n, int (*is)(const char *spec))
{
	size_t i;

	for (i = 0; i < n; i++)
		if (is(specs[i]))
			return 1;
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- sources ---- */

struct stream_source *
stream_source_open(const char *spec, const struct stream_source_opts *o, char *err, size_t errlen)
{
	struct stream_source *s = calloc(1, sizeof(*s));
	const char *target = spec;
	size_t i;

	if (s == NULL || (s->name = stream_name(spec)) == NULL) {
		free(s);
		stream_set_err(err, errlen, "out of memory");
		return NULL;
	}
	s->epfd = -1;
	s->ops = &stream_file_source_ops;
	for (i = 0; source_backends[i]; i++) {
		size_t n = strlen(source_backends[i]->prefix);
		if (strncmp(spec, source_backends[i]->prefix, n) == 0) {
			s->ops = source_backends[i];
			target = spec + n;
			break;
		}
	}
	if (s->ops->open(s, target, o, err, errlen) == -1) {
		int e = errno;
		stream_source_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

void
stream_source_close(struct stream_source *s)
{
	if (s == NULL)
		return;
	/* the sinks may be closed first: a backend leaving its group commits nothing more */
	s->nlinks = 0;
	s->npending = 0;
	s->ops->close(s);
	if (s->epfd >= 0)
		close(s->epfd);
	free(s->name);
	free(s);
}

/* Serve the linked sinks, then commit the newest pending position all of them acknowledged. */
static int
source_resolve(struct stream_source *s, char *err, size_t errlen)
{
	size_t done = 0, k;
	uint64_t pos = 0;

	for (k = 0; k < s->nlinks; k++)
		if (s->links[k]->ops->serve)
			s->links[k]->ops->serve(s->links[k]);
	while (done < s->npending) {
		const struct stream_pending *p = &s->pending[done];
		for (k = 0; k < s->nlinks; k++) {
			int a = s->links[k]->ops->acked(s->links[k], p->ticket[k]);
			if (a == -1) {
				stream_set_err(err, errlen, "%s", s->links[k]->error);
				return -1;
			}
			if (a == 0)
				break;
		}
		if (k < s->nlinks)
			break;
		pos = p->pos;
		done++;
	}
	if (done == 0)
		return 0;
	memmove(s->pending, s->pending + done, (s->npending - done) * sizeof(s->pending[0]));
	s->npending -= done;
	return s->ops->commit(s, pos, err, errlen);
}

enum stream_status
stream_source_next(struct stream_source *s, struct stream_rec *rec)
{
	enum stream_status st = s->ops->next(s, rec);

	if (st == STREAM_AGAIN && s->nlinks &&
	    source_resolve(s, s->error, sizeof(s->error)) == -1)
		return STREAM_ERROR;
	return st;
}

enum stream_status
stream_source_next_buffered(struct stream_source *s, struct stream_rec *rec)
{
	return s->ops->next_buffered(s, rec);
}

void
stream_source_finish_record(struct stream_source *s)
{
	if (s->ops->finish_record)
		s->ops->finish_record(s);
}

ssize_t
stream_source_read(struct stream_source *s, char *buf, size_t cap, uint64_t *pos)
{
	ssize_t n = s->ops->read(s, buf, cap, pos);

	if (n == -1 && errno == EAGAIN && s->nlinks &&
	    source_resolve(s, s->error, sizeof(s->error)) == -1) {
		errno = EIO;
		return -1;
	}
	return n;
}

int
stream_source_commit(struct stream_source *s, uint64_t pos, char *err, size_t errlen)
{
	struct stream_pending *p;
	size_t k;

	if (s->nlinks == 0)
		return s->ops->commit(s, pos, err, errlen);
	/* full: the newest entry takes the later position and tickets (coarser, never wrong) */
	p = s->npending < STREAM_PENDING_MAX ? &s->pending[s->npending++] :
	    &s->pending[STREAM_PENDING_MAX - 1];
	p->pos = pos;
	for (k = 0; k < s->nlinks; k++)
		p->ticket[k] = s->links[k]->ops->mark(s->links[k]);
	return source_resolve(s, err, errlen);
}

static int
epoll_add(int epfd, int fd)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.fd = fd;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
stream_source_link(struct stream_source *s, struct stream_sink *sink, char *err, size_t errlen)
{
	int sfd, kfd;

	if (sink == NULL || sink->ops->mark == NULL)
		return 0;           /* what it flushed is acknowledged: nothing to wait for */
	if (s->nlinks == STREAM_LINKS_MAX) {
		stream_set_err(err, errlen, "%s: more than %d linked sinks", s->name,
		    STREAM_LINKS_MAX);
		return -1;
	}
	s->links[s->nlinks++] = sink;
	/* one descriptor to poll for input and acknowledgements alike */
	sfd = s->ops->fd(s);
	kfd = sink->ops->fd ? sink->ops->fd(sink) : -1;
	if (kfd < 0 || kfd == sfd)
		return 0;
	if (s->epfd == -1) {
		if ((s->epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
			stream_set_err(err, errlen, "epoll: %s", strerror(errno));
			return -1;
		}
		if (epoll_add(s->epfd, sfd) == -1) {
			/* a regular file or /dev/null: always readable, never waited for; the
			 * acknowledgements are taken when the stage commits or syncs */
			close(s->epfd);
			s->epfd = -2;
		}
	}
	if (s->epfd >= 0 && epoll_add(s->epfd, kfd) == -1) {
		stream_set_err(err, errlen, "epoll: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int
stream_source_sync(struct stream_source *s, int timeout_ms, char *err, size_t errlen)
{
	int64_t deadline = mono_ms() + timeout_ms;

	for (;;) {
		struct pollfd p[STREAM_LINKS_MAX];
		size_t k, n = 0;
		int64_t left;

		if (source_resolve(s, err, errlen) == -1)
			return -1;
		if (s->npending == 0)
			return 0;
		left = deadline - mono_ms();
		if (left <= 0) {
			stream_set_err(err, errlen, "%s: %zu commits not made: the output was not "
			    "acknowledged within %d ms", s->name, s->npending, timeout_ms);
			return -1;
		}
		for (k = 0; k < s->nlinks; k++) {
			int fd = s->links[k]->ops->fd ? s->links[k]->ops->fd(s->links[k]) : -1;
			if (fd >= 0) {
				p[n].fd = fd;
				p[n].events = POLLIN;
				p[n].revents = 0;
				n++;
			}
		}
		poll(p, n, left < STREAM_SYNC_POLL_MS ? (int)left : STREAM_SYNC_POLL_MS);
	}
}

void
stream_source_settle(struct stream_source *s, int timeout_ms)
{
	char err[STREAM_ERROR_MAX];

	if (s->nlinks)
		(void)stream_source_sync(s, timeout_ms, err, sizeof(err));
}

int
stream_source_fd(const struct stream_source *s)
{
	return s->epfd >= 0 ? s->epfd : s->ops->fd(s);
}

int
stream_source_follows(const struct stream_source *s)
{
	return s->ops->follows(s);
}

const char *
stream_source_error(const struct stream_source *s)
{
	return s->error;
}

const char *
stream_source_name(const struct stream_source *s)
{
	return s->name;
}

/* ---- sinks ---- */

struct stream_sink *
stream_sink_open(const char *spec, int std_fd, char *err, size_t errlen)
{
	struct stream_sink *s = calloc(1, sizeof(*s));
	const char *target = spec;
	size_t i;

	if (s == NULL || (s->name = stream_name(spec)) == NULL) {
		free(s);
		stream_set_err(err, errlen, "out of memory");
		return NULL;
	}
	buf_init(&s->q, STREAM_SINK_MAX);
	s->ops = &stream_file_sink_ops;
	for (i = 0; sink_backends[i]; i++) {
		size_t n = strlen(sink_backends[i]->prefix);
		if (strncmp(spec, sink_backends[i]->prefix, n) == 0) {
			s->ops = sink_backends[i];
			target = spec + n;
			break;
		}
	}
	if (s->ops->open(s, target, std_fd, err, errlen) == -1) {
		int e = errno;
		stream_sink_close(s);
		errno = e;
		return NULL;
	}
	return s;
}

int
stream_sink_close(struct stream_sink *s)
{
	int rc, e;

	if (s == NULL)
		return 0;
	rc = s->ops->close(s);
	e = errno;
	buf_free(&s->q);
	free(s->name);
	free(s);
	errno = e;
	return rc;
}

int
stream_sink_put(struct stream_sink *s, const char *data, size_t len)
{
	if (buf_reserve(&s->q, len + 1) == -1)
		return -1;
	memcpy(s->q.data + s->q.len, data, len);
	s->q.len += len;
	s->q.data[s->q.len++] = '\n';
	s->q.data[s->q.len] = '\0';
	return 0;
}

int
stream_sink_put_lines(struct stream_sink *s, const char *data, size_t len)
{
	return buf_append(&s->q, data, len);
}

size_t
stream_line_form_len(size_t len, int binary)
{
	return (binary ? base64_encoded_len(len) : len) + 1;
}

long
stream_line_form(struct buf *b, const void *data, size_t len, int binary)
{
	size_t need = stream_line_form_len(len, binary), i;
	long blanks = 0;
	char *p;

	if (buf_reserve(b, need) == -1)
		return -1;
	p = b->data + b->len;
	if (binary) {
		base64_encode(data, len, p);
	} else {
		memcpy(p, data, len);
		for (i = 0; i < len; i++)
			if (p[i] == '\n') {
				p[i] = ' ';
				blanks++;
			}
	}
	p[need - 1] = '\n';
	b->len += need;
	b->data[b->len] = '\0';
	return blanks;
}

int
stream_sink_put_binary(struct stream_sink *s, const void *data, size_t len)
{
	if (s->ops->put_binary)
		return s->ops->put_binary(s, data, len);
	return stream_line_form(&s->q, data, len, 1) == -1 ? -1 : 0;
}

/* ---- what the record backends' sinks and sources share ---- */

void
stream_key_init(struct stream_key *k)
{
	memset(k, 0, sizeof(*k));
	k->column = -1;
}

void
stream_key_set(struct stream_key *k, const char *key, size_t len)
{
	if (key == NULL) {
		k->set = 0;
		return;
	}
	if (len > sizeof(k->key))
		len = sizeof(k->key);
	memcpy(k->key, key, len);
	k->len = len;
	k->set = 1;
}

const char *
stream_tsv_field(const char *rec, size_t len, int col, size_t *flen)
{
	const char *p = rec, *end = rec + len, *tab;
	int i;

	for (i = 0; i < col; i++) {
		if ((tab = memchr(p, '\t', (size_t)(end - p))) == NULL)
			return NULL;
		p = tab + 1;
	}
	tab = memchr(p, '\t', (size_t)(end - p));
	*flen = (size_t)((tab ? tab : end) - p);
	return *flen ? p : NULL;
}

int
stream_key_of(const struct stream_key *k, const char *data, size_t len, int binary,
    char uuid[UUID_STR_LEN + 1], const char **key, size_t *keylen)
{
	*key = NULL;
	*keylen = 0;
	if (k->set) {
		*key = k->key;
		*keylen = k->len;
	} else if (k->column >= 0 && !binary) {
		*key = stream_tsv_field(data, len, k->column, keylen);
	}
	if (*key == NULL) {
		if (uuid_v4(uuid) == -1)
			return -1;
		*key = uuid;
		*keylen = UUID_STR_LEN;
	}
	return 0;
}

#define STREAM_RECS_MAX_LINE  ((size_t)10 << 20)
#define STREAM_RECS_KEEP      65536

void
stream_recs_init(struct stream_recs *r, const struct stream_source_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->binary = o->binary;
	r->max_line = o->max_line ? o->max_line : STREAM_RECS_MAX_LINE;
	r->keep = o->toolong_keep ? o->toolong_keep : STREAM_RECS_KEEP;
	if (r->keep > r->max_line)
		r->keep = r->max_line;
	buf_init(&r->line, 0);
}

void
stream_recs_free(struct stream_recs *r)
{
	buf_free(&r->line);
}

enum stream_status
stream_recs_next(struct stream_recs *r, struct stream_rec *rec, const void *data, size_t len)
{
	r->pos += stream_line_form_len(len, r->binary);
	rec->data = data ? data : "";
	rec->len = len;
	rec->full_len = len;
	rec->pos = r->pos;
	rec->bytes = 1;
	if (len > r->max_line) {
		rec->len = r->keep;
		return STREAM_TOOLONG;
	}
	return STREAM_OK;
}

int
stream_recs_drain(struct stream_recs *r, char *buf, size_t cap, size_t *n)
{
	size_t left = r->line.len - r->line_off;

	if (left > 0) {
		if (left > cap - *n && *n > 0)
			return 0;
		if (left > cap - *n)
			left = cap - *n;
		memcpy(buf + *n, r->line.data + r->line_off, left);
		r->line_off += left;
		*n += left;
		r->pos += left;
	}
	return r->line_off == r->line.len && *n < cap;
}

long
stream_recs_form(struct stream_recs *r, const void *data, size_t len)
{
	long blanks;

	buf_reset(&r->line);
	r->line_off = 0;
	if ((blanks = stream_line_form(&r->line, data, len, r->binary)) > 0)
		r->newlines++;
	return blanks;
}

enum stream_status
stream_recs_next_buffered(struct stream_source *s, struct stream_rec *rec)
{
	(void)s;
	(void)rec;
	return STREAM_EOF;
}

int
stream_recs_follows(const struct stream_source *s)
{
	(void)s;
	return 1;
}

int
stream_sink_set_key(struct stream_sink *s, const char *key, size_t len)
{
	return s->ops->set_key ? s->ops->set_key(s, key, len) : 0;
}

int
stream_sink_set_fields(struct stream_sink *s, const struct stream_sink_fields *f, char *err,
    size_t errlen)
{
	return s->ops->set_fields ? s->ops->set_fields(s, f, err, errlen) : 0;
}

struct buf *
stream_sink_queue(struct stream_sink *s)
{
	return &s->q;
}

enum stream_status
stream_sink_flush(struct stream_sink *s)
{
	if (s->q.len == 0 && s->ops->serve == NULL)
		return STREAM_OK;
	return s->ops->flush(s);
}

size_t
stream_sink_pending(const struct stream_sink *s)
{
	return s->q.len;
}

size_t
stream_sink_unacked(const struct stream_sink *s)
{
	return s->ops->unacked ? s->ops->unacked(s) : 0;
}

void
stream_sink_serve(struct stream_sink *s)
{
	if (s->ops->serve)
		s->ops->serve(s);
}

size_t
stream_sink_max_record(const struct stream_sink *s)
{
	return s->ops->max_record ? s->ops->max_record(s) : 0;
}

int
stream_sink_fd(const struct stream_sink *s)
{
	return s->ops->fd ? s->ops->fd(s) : -1;
}

int
stream_sink_retry_ms(const struct stream_sink *s)
{
	return s->ops->retry_ms(s);
}

int
stream_sink_reopen(struct stream_sink *s)
{
	return s->ops->reopen ? s->ops->reopen(s) : 0;
}

size_t
stream_sink_take_failed(struct stream_sink *s, struct buf *lines)
{
	return s->ops->take_failed ? s->ops->take_failed(s, lines) : 0;
}

void
stream_sink_purge(struct stream_sink *s)
{
	if (s->ops->purge)
		s->ops->purge(s);
}

const char *
stream_sink_error(const struct stream_sink *s)
{
	return s->error;
}

const char *
stream_sink_name(const struct stream_sink *s)
{
	return s->name;
}

int
stream_prepare(const char *const *specs, size_t n, struct stream_kafka_conf *kc, char *err,
    size_t errlen)
{
	struct stream_kinesis_conf kn;

	if (stream_kafka_prepare(specs, n, kc, err, errlen) == -1)
		return -1;
	memset(&kn, 0, sizeof(kn));
	kn.notify = kc->notify;
	return stream_kinesis_prepare(specs, n, &kn, err, errlen);
}
