/*
 * stream_file: the stream backend for standard input/output, files, FIFOs and line logs
 * (log:PATH, linelog.h). Positions are byte offsets in the input; a log's commit is its group's
 * offset file. A sink's flush writes, so what it returns has been handed on: there is nothing
 * to acknowledge later.
 */
#include "stream_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "linelog.h"
#include "linereader.h"

#define FILE_LOG_PREFIX      "log:"
#define FILE_RETRY_MS        1000    /* a full disk: try again after this long */
#define FILE_RECLAIM_BYTES   (4u << 20)
#define FILE_TOOLONG_KEEP    65536

/* ---- sources ---- */

struct file_source {
	int                 fd;          /* what is read */
	int                 own_fd;
	int                 is_log;
	int                 wake_fd;     /* inotify on the log, or fd */
	int                 offset_fd;   /* the group's offset file, or -1 */
	char               *log_path;
	uint64_t            boundary;    /* input offset after the last record returned */
	uint64_t            committed;
	uint64_t            reclaimed;
	int                 reclaim;
	struct linereader   lr;
	size_t              keep;        /* bytes of an over-long record returned */
};

static int
is_log_spec(const char *spec)
{
	return strncmp(spec, FILE_LOG_PREFIX, strlen(FILE_LOG_PREFIX)) == 0;
}

static void
file_source_close(struct stream_source *ss)
{
	struct file_source *s = ss->impl;

	if (s == NULL)
		return;
	if (s->own_fd && s->fd >= 0)
		close(s->fd);
	if (s->wake_fd >= 0 && s->wake_fd != s->fd)
		close(s->wake_fd);
	if (s->offset_fd >= 0)
		close(s->offset_fd);
	linereader_free(&s->lr);
	free(s->log_path);
	free(s);
	ss->impl = NULL;
}

static int
open_log_source(struct file_source *s, const char *path, const struct stream_source_opts *o,
    char *err, size_t errlen)
{
	struct stat st;
	uint64_t start = 0;

	s->is_log = 1;
	s->reclaim = o->reclaim;
	if ((s->log_path = strdup(path)) == NULL) {
		stream_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	/* created if it is not there yet, so that the writer appends to the file we follow */
	s->fd = open(path, (o->reclaim ? O_RDWR : O_RDONLY) | O_CREAT | O_CLOEXEC, 0644);
	if (s->fd == -1) {
		stream_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	s->own_fd = 1;
	if (fstat(s->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		stream_set_err(err, errlen, "%s: not a regular file (a log is one)", path);
		errno = EINVAL;
		return -1;
	}
	if (o->group) {
		s->offset_fd = linelog_offset_open(path, s->fd, o->group, o->from_end, &start);
		if (s->offset_fd == -1) {
			stream_set_err(err, errlen, "%s: offsets of group %s: %s", path, o->group,
			    errno == EINVAL ? "invalid group name or offset file" : strerror(errno));
			return -1;
		}
		if (start > (uint64_t)st.st_size)
			start = 0;     /* the log was made anew under the group: read it all */
		s->committed = start;
	} else if (o->from_end) {
		start = linelog_tail_offset(s->fd, 0);
	} else if (o->tail_bytes) {
		start = linelog_tail_offset(s->fd, o->tail_bytes);
	}
	if (lseek(s->fd, (off_t)start, SEEK_SET) == -1) {
		stream_set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	s->boundary = start;
	if ((s->wake_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(s->wake_fd, path, IN_MODIFY) == -1) {
		stream_set_err(err, errlen, "%s: inotify: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int
file_source_open(struct stream_source *ss, const char *spec, const struct stream_source_opts *o,
    char *err, size_t errlen)
{
	struct file_source *s = calloc(1, sizeof(*s));
	size_t max_line = o->max_line ? o->max_line : 10u << 20;

	if (s == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	ss->impl = s;
	s->fd = s->wake_fd = s->offset_fd = -1;
	s->keep = o->toolong_keep ? o->toolong_keep : FILE_TOOLONG_KEEP;
	if (s->keep > max_line)
		s->keep = max_line;
	if (linereader_init(&s->lr, -1, max_line) == -1) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	if (strcmp(spec, "-") == 0) {
		s->fd = 0;
	} else if (is_log_spec(spec)) {
		if (open_log_source(s, spec + strlen(FILE_LOG_PREFIX), o, err, errlen) == -1)
			return -1;
	} else {
		if (o->group) {
			stream_set_err(err, errlen, "%s: a consumer group needs a log (log:%s)", spec,
			    spec);
			errno = EINVAL;
			return -1;
		}
		if ((s->fd = open(spec, O_RDONLY | O_CLOEXEC)) == -1) {
			stream_set_err(err, errlen, "%s: %s", spec, strerror(errno));
			return -1;
		}
		s->own_fd = 1;
	}
	if (s->wake_fd == -1)
		s->wake_fd = s->fd;
	s->lr.fd = s->fd;
	s->lr.follow = s->is_log;
	s->lr.one_read = !s->is_log;     /* a pipe: poll, then one read, never block in read */
	linereader_restart(&s->lr, s->boundary);
	return 0;
}

static int
file_source_fd(const struct stream_source *ss)
{
	return ((const struct file_source *)ss->impl)->wake_fd;
}

static int
file_source_follows(const struct stream_source *ss)
{
	return ((const struct file_source *)ss->impl)->is_log;
}

/* Nothing more to read in the log now: empty the inotify queue, then look once more, so a write
 * between our last read and the next poll still wakes the poll. A shrunken file means a writer
 * cut off a fragment a killed writer had left: go back to the last whole line. */
static int
log_settle(struct file_source *s)
{
	char events[4096];
	struct stat st;
	uint64_t readpos;

	while (read(s->wake_fd, events, sizeof(events)) > 0)
		;
	if (fstat(s->fd, &st) == -1)
		return -1;
	readpos = s->lr.read_total;
	if ((uint64_t)st.st_size < readpos) {
		if (lseek(s->fd, (off_t)s->boundary, SEEK_SET) == -1)
			return -1;
		linereader_restart(&s->lr, s->boundary);
		return 1;
	}
	return (uint64_t)st.st_size > readpos;
}

static enum stream_status
file_source_next(struct stream_source *ss, struct stream_rec *rec)
{
	struct file_source *s = ss->impl;
	enum lr_status st;
	const char *line;
	size_t len;

	rec->bytes = 0;
	for (;;) {
		if (!s->is_log && !linereader_has_line(&s->lr) && !s->lr.eof) {
			/* do not let read(2) block on a pipe or a terminal (and with one_read, one read
			 * per poll: never wait in read for the rest of a line) */
			struct pollfd p = { s->fd, POLLIN, 0 };
			if (poll(&p, 1, 0) == 0)
				return STREAM_AGAIN;
		}
		st = linereader_next(&s->lr, &line, &len);
		if (st == LR_AGAIN && s->is_log) {
			int more = log_settle(s);
			if (more == -1) {
				snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name,
				    strerror(errno));
				return STREAM_ERROR;
			}
			if (more)
				continue;
		}
		switch (st) {
		case LR_LINE:
		case LR_TOOLONG:
			rec->data = line;
			rec->len = st == LR_TOOLONG && len > s->keep ? s->keep : len;
			rec->full_len = st == LR_TOOLONG ? s->lr.discarded : len;
			rec->pos = s->boundary = linereader_offset(&s->lr);
			return st == LR_LINE ? STREAM_OK : STREAM_TOOLONG;
		case LR_AGAIN:
			return STREAM_AGAIN;
		case LR_EOF:
			return STREAM_EOF;
		case LR_ERROR:
		default:
			snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name, strerror(errno));
			return STREAM_ERROR;
		}
	}
}

static ssize_t
file_source_read(struct stream_source *ss, char *buf, size_t cap, uint64_t *pos)
{
	struct file_source *s = ss->impl;
	ssize_t n;
	char *nl;

	for (;;) {
		if (!s->is_log) {
			struct pollfd p = { s->fd, POLLIN, 0 };
			if (poll(&p, 1, 0) == 0) {
				errno = EAGAIN;
				return -1;
			}
		}
		n = read(s->fd, buf, cap);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name,
				    strerror(errno));
			return -1;
		}
		if (!s->is_log) {
			s->boundary += (uint64_t)n;
			*pos = s->boundary;
			return n;
		}
		/* a log: whole lines only; the unfinished end of the file waits for its writer */
		nl = n > 0 ? memrchr(buf, '\n', (size_t)n) : NULL;
		if (nl == NULL && (size_t)n == cap) {
			s->boundary += (uint64_t)n;    /* one line longer than cap: take it in parts */
			*pos = s->boundary;
			return n;
		}
		if (nl != NULL) {
			size_t take = (size_t)(nl - buf) + 1;
			if (take < (size_t)n && lseek(s->fd, (off_t)(s->boundary + take), SEEK_SET) == -1)
				return -1;
			s->boundary += take;
			*pos = s->boundary;
			return (ssize_t)take;
		}
		if (n > 0 && lseek(s->fd, (off_t)s->boundary, SEEK_SET) == -1)
			return -1;
		/* nothing whole to read: empty inotify's queue, then look once more */
		{
			char events[4096];
			struct stat st;
			while (read(s->wake_fd, events, sizeof(events)) > 0)
				;
			if (fstat(s->fd, &st) == -1)
				return -1;
			if ((uint64_t)st.st_size > s->boundary + (uint64_t)n)
				continue;
		}
		errno = EAGAIN;
		return -1;
	}
}

static enum stream_status
file_source_next_buffered(struct stream_source *ss, struct stream_rec *rec)
{
	struct file_source *s = ss->impl;
	enum lr_status st;
	const char *line;
	size_t len;

	if (s->is_log)
		return STREAM_EOF;
	st = linereader_next_buffered(&s->lr, &line, &len);
	if (st != LR_LINE && st != LR_TOOLONG && st != LR_PARTIAL)
		return STREAM_EOF;
	rec->data = line;
	rec->bytes = 0;
	rec->len = st == LR_TOOLONG && len > s->keep ? s->keep : len;
	rec->full_len = st == LR_LINE ? len : s->lr.discarded;
	rec->pos = s->boundary = linereader_offset(&s->lr);
	return st == LR_LINE ? STREAM_OK : st == LR_TOOLONG ? STREAM_TOOLONG : STREAM_PARTIAL;
}

static void
file_source_finish_record(struct stream_source *ss)
{
	struct file_source *s = ss->impl;

	if (!s->is_log)
		(void)linereader_finish_line(&s->lr, LINEREADER_TAIL_WAIT_MS);
}

static int
file_source_commit(struct stream_source *ss, uint64_t pos, char *err, size_t errlen)
{
	struct file_source *s = ss->impl;

	if (s->offset_fd == -1 || pos <= s->committed)
		return 0;
	if (linelog_offset_commit(s->offset_fd, pos) == -1) {
		stream_set_err(err, errlen, "%s: committing offset %llu: %s", ss->name,
		    (unsigned long long)pos, strerror(errno));
		return -1;
	}
	s->committed = pos;
	if (s->reclaim && pos - s->reclaimed >= FILE_RECLAIM_BYTES &&
	    linelog_reclaim(s->log_path, s->fd, &s->reclaimed) == -1) {
		if (errno == EOPNOTSUPP) {
			s->reclaim = 0;      /* this file system keeps the space; nothing is lost */
			return 0;
		}
		stream_set_err(err, errlen, "%s: reclaiming read space: %s", ss->name,
		    strerror(errno));
		return -1;
	}
	return 0;
}

const struct stream_source_ops stream_file_source_ops = {
	.prefix = NULL,
	.open = file_source_open,
	.close = file_source_close,
	.next = file_source_next,
	.next_buffered = file_source_next_buffered,
	.finish_record = file_source_finish_record,
	.read = file_source_read,
	.commit = file_source_commit,
	.fd = file_source_fd,
	.follows = file_source_follows,
};

/* ---- sinks ---- */

struct file_sink {
	char                 *path;      /* NULL: the standard descriptor */
	int                   fd;
	int                   is_file;   /* a regular file: appended under the log's lock */
	struct linelog_writer log;
};

/* Open (or, for SIGHUP, reopen) the sink's path. Returns 0, -1 when it cannot be opened (the
 * old descriptor stays), or -2 when the new one is open but closing the old one failed. */
static int
sink_open_path(struct file_sink *s)
{
	struct linelog_writer w;
	struct stat st;
	int fd, rc = 0, e = 0;

	fd = open(s->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		close(fd);
		if (linelog_writer_open(&w, s->path) == -1)
			return -1;
		fd = -1;
	}
	if (s->is_file) {
		if (linelog_writer_close(&s->log) == -1)
			rc = -2, e = errno;
	} else if (s->fd > 2 && s->path && s->fd != fd) {
		if (close(s->fd) == -1)
			rc = -2, e = errno;
	}
	if (fd == -1) {
		s->log = w;
		s->is_file = 1;
		s->fd = s->log.fd;
	} else {
		s->is_file = 0;
		s->fd = fd;
	}
	errno = e;
	return rc;
}

static int
file_sink_close(struct stream_sink *ss)
{
	struct file_sink *s = ss->impl;
	int rc = 0;

	if (s == NULL)
		return 0;
	if (s->is_file)
		rc = linelog_writer_close(&s->log);
	else if (s->path && s->fd > 2)
		rc = close(s->fd);
	free(s->path);
	free(s);
	ss->impl = NULL;
	return rc;
}

static int
file_sink_open(struct stream_sink *ss, const char *spec, int std_fd, char *err, size_t errlen)
{
	struct file_sink *s = calloc(1, sizeof(*s));
	const char *path = spec;

	if (s == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	ss->impl = s;
	s->fd = -1;
	s->log.fd = -1;
	if (strcmp(spec, "-") == 0) {
		s->fd = std_fd;
		return 0;
	}
	if (is_log_spec(spec))
		path = spec + strlen(FILE_LOG_PREFIX);
	if ((s->path = strdup(path)) == NULL || sink_open_path(s) != 0) {
		stream_set_err(err, errlen, "%s: %s", path, s->path ? strerror(errno) :
		    "out of memory");
		return -1;
	}
	return 0;
}

static enum stream_status
file_sink_flush(struct stream_sink *ss)
{
	struct file_sink *s = ss->impl;
	struct buf *q = &ss->q;
	size_t off = 0;

	if (s->is_file) {
		if (linelog_append(&s->log, q->data, q->len) == 0) {
			buf_reset(q);
			return STREAM_OK;
		}
		snprintf(ss->error, sizeof(ss->error), "writing %s: %s", s->path, strerror(errno));
		if (errno == ENOSPC || errno == EDQUOT || errno == EFBIG || errno == EAGAIN)
			return STREAM_BLOCKED;
		return STREAM_ERROR;
	}
	/* a pipe, a FIFO, a terminal: block (that is the back-pressure), but never give up on
	 * EINTR; a line longer than the pipe's buffer is still written whole, in order */
	while (off < q->len) {
		ssize_t n = write(s->fd, q->data + off, q->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd p = { s->fd, POLLOUT, 0 };
				poll(&p, 1, -1);
				continue;
			}
			buf_consume(q, off);
			snprintf(ss->error, sizeof(ss->error), "writing %s: %s",
			    s->path ? s->path : "standard output", strerror(errno));
			return STREAM_ERROR;
		}
		off += (size_t)n;
	}
	buf_reset(q);
	return STREAM_OK;
}

static int
file_sink_retry_ms(const struct stream_sink *ss)
{
	(void)ss;
	return FILE_RETRY_MS;
}

static int
file_sink_reopen(struct stream_sink *ss)
{
	struct file_sink *s = ss->impl;

	if (s->path == NULL)
		return 0;
	switch (sink_open_path(s)) {
	case 0:
		return 0;
	case -1:
		snprintf(ss->error, sizeof(ss->error), "reopening %s: %s (still writing to the old "
		    "file)", s->path, strerror(errno));
		return -1;
	default:
		snprintf(ss->error, sizeof(ss->error), "closing the old %s: %s (what was written to "
		    "it may be lost)", s->path, strerror(errno));
		return -2;
	}
}

const struct stream_sink_ops stream_file_sink_ops = {
	.prefix = NULL,
	.open = file_sink_open,
	.close = file_sink_close,
	.flush = file_sink_flush,
	.retry_ms = file_sink_retry_ms,
	.reopen = file_sink_reopen,
};
