/*
 * col_queue: bounded, non-blocking line output with FIFO reconnection (see col_queue.h).
 */
#include "col_queue.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>

#include "base64.h"
#include "buf.h"
#include "linelog.h"
#include "stream.h"
#include "uuid.h"

#define QBLOCK_SIZE   (64 * 1024)
#define QBLOCK_CACHE  8
#define QWRITE_IOV    16
#define QRETRY_MS     200
#define QBACKLOG_MS   100      /* how often a log output's backlog is measured */
#define QSPACE_MIN    65536    /* free bytes that make a full disk "writable again" */
/* A log output keeps this much of its file system free for the stages after the collector:
 * filling the disk to the last byte would leave enrich no room to write what it read, and
 * without writing it cannot commit and give the read space back (the pipeline would be stuck
 * until someone frees space). 2% of the file system, at least 1 MiB, at most 64 MiB, and never
 * more than a tenth of it. */
#define QRESERVE_MIN  ((uint64_t)1 << 20)
#define QRESERVE_MAX  ((uint64_t)64 << 20)
#define QRESERVE_PCT  2

struct qblock {
	struct qblock *next;
	size_t off;                /* first unwritten byte */
	size_t len;                /* bytes filled */
	char data[QBLOCK_SIZE - 3 * sizeof(size_t)];
};

/* Blocks are mapped, not malloc'd, so that a backlog's memory goes back to the system when it
 * drains (the heap would keep it and the resident size would stay at the peak). */
#define QBLOCK_DATA (sizeof(((struct qblock *)0)->data))

static struct qblock *
qblock_alloc(void)
{
	void *p = mmap(NULL, sizeof(struct qblock), PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void
qblock_free(struct qblock *b)
{
	munmap(b, sizeof(*b));
}

struct col_queue {
	struct event_base *base;
	char *path;                /* NULL: std_fd */
	int std_fd;
	int fd;                    /* -1 while not open */
	int nonblocking_ok;        /* fd supports EV_WRITE (pipe, FIFO, socket) */
	int is_fifo;               /* path is a FIFO */
	int failing;
	int broken;
	int waiting_writable;
	int flush_scheduled;
	size_t max;
	size_t pending;
	size_t refused;            /* size of the last record refused for want of room; 0: none */
	struct qblock *head, *tail;
	struct qblock *spare;
	unsigned n_spare;
	struct event *ev_write, *ev_retry, *ev_flush;
	char *scratch;             /* base64 of a record that does not fit in the tail block */
	size_t scratch_cap;
	char error[160];
	struct col_queue_stats stats;
	/* A regular file or log: every request's lines are appended before it is answered
	 * (col_queue_commit), so nothing acknowledged lives only in our memory. */
	int durable;
	struct linelog_writer log;
	struct buf batch;          /* lines to append: one loop turn's requests' (group commit) */
	size_t batch_lines;
	size_t backlog;            /* bytes appended that the slowest reader group has not read */
	size_t failed_need;        /* the size of the last append that failed */
	int low_space;             /* the file system is down to its reserve: refuse (503) */
	struct event *ev_backlog;
	/* A Kafka topic: records go to the producer's queue before the answer; its delivery
	 * reports (the sink's descriptor) settle them. */
	struct stream_sink *ks;
	struct event *ev_kafka;
	int key_by_ip;
	int binary;                /* the records are raw Thrift (the good queue) */
	int push_failed;           /* this request's records did not all reach the producer */
	struct buf lost;           /* line forms of records the broker refused for good */
	size_t nlost;
};

static void queue_schedule_retry(struct col_queue *q);

static void
queue_set_error(struct col_queue *q, const char *what, int e)
{
	snprintf(q->error, sizeof(q->error), "%s%s%s: %s", q->path ? q->path : "standard output",
	    what[0] ? " " : "", what, strerror(e));
}

static int
queue_is_pollable(int fd)
{
	struct stat st;

	if (fstat(fd, &st) == -1)
		return 0;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || S_ISCHR(st.st_mode);
}

/* Open the path. Returns 0, 1 for "FIFO without a reader yet" or -1 with errno set. */
static int
queue_open_path(struct col_queue *q)
{
	struct stat st;
	int fd;

	if (q->durable || stat(q->path, &st) == -1 || S_ISREG(st.st_mode)) {
		if (q->durable)
			linelog_writer_close(&q->log);
		if (linelog_writer_open(&q->log, q->path) == -1)
			return -1;
		q->durable = 1;
		q->fd = q->log.fd;
		q->nonblocking_ok = 0;
		q->is_fifo = 0;
		return 0;
	}
	if (S_ISFIFO(st.st_mode)) {
		fd = open(q->path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (fd == -1)
			return errno == ENXIO ? 1 : -1;
		q->fd = fd;
		q->nonblocking_ok = 1;
		q->is_fifo = 1;
		return 0;
	}
	fd = open(q->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	q->fd = fd;
	q->is_fifo = 0;
	q->nonblocking_ok = queue_is_pollable(fd);
	if (q->nonblocking_ok)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

static void
queue_close_fd(struct col_queue *q)
{
	if (q->ev_write)
		event_del(q->ev_write);
	q->waiting_writable = 0;
	if (q->durable)
		linelog_writer_close(&q->log);
	else if (q->fd >= 0 && q->path)
		close(q->fd);
	q->fd = -1;
}

static void
queue_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_queue *q = arg;

	(void)fd;
	(void)what;
	q->waiting_writable = 0;
	col_queue_flush(q);
}

static void
queue_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_queue *q = arg;

	(void)fd;
	(void)what;
	q->flush_scheduled = 0;
	col_queue_flush(q);
}

static void
queue_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_queue *q = arg;
	int rc;

	(void)fd;
	(void)what;
	if (q->fd < 0 && q->path) {
		rc = queue_open_path(q);
		if (rc != 0) {
			if (rc == -1)
				queue_set_error(q, "open", errno);
			queue_schedule_retry(q);
			return;
		}
		q->stats.reopens++;
		event_assign(q->ev_write, q->base, q->fd, EV_WRITE, queue_write_cb, q);
	}
	q->failing = 0;
	col_queue_flush(q);
}

static void
queue_schedule_retry(struct col_queue *q)
{
	struct timeval tv = { 0, QRETRY_MS * 1000 };

	q->failing = 1;
	if (!evtimer_pending(q->ev_retry, NULL))
		evtimer_add(q->ev_retry, &tv);
}

/* A log output: how far behind its slowest reader group is, and whether a full disk has room
 * again. */
static void
queue_backlog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_queue *q = arg;
	struct stat st;
	uint64_t min = 0;
	unsigned groups = 0;

	(void)fd;
	(void)what;
	if (q->fd >= 0 && fstat(q->fd, &st) == 0 &&
	    linelog_committed_min(q->path, &min, &groups) == 0)
		q->backlog = groups && (uint64_t)st.st_size > min ? (size_t)((uint64_t)st.st_size - min) : 0;
	if (q->refused && q->backlog + q->refused <= q->max)
		q->refused = 0;
	if (q->fd >= 0) {
		struct statvfs vfs;
		if (fstatvfs(q->fd, &vfs) == 0) {
			uint64_t avail = (uint64_t)vfs.f_bavail * vfs.f_bsize;
			uint64_t total = (uint64_t)vfs.f_blocks * vfs.f_frsize;
			uint64_t reserve = total / 100 * QRESERVE_PCT;
			if (reserve < QRESERVE_MIN)
				reserve = QRESERVE_MIN;
			if (reserve > QRESERVE_MAX)
				reserve = QRESERVE_MAX;
			if (reserve > total / 10)
				reserve = total / 10;     /* a small file system (a test's tmpfs) */
			q->low_space = avail < reserve;
			if (q->failing && avail >= QSPACE_MIN + q->failed_need)
				q->failing = 0;
		}
	}
}

/* Records that failed for good (a permanent broker error) are kept in memory until the drain's
 * spill; this logs them as they come. */
static void
queue_kafka_cb(evutil_socket_t fd, short what, void *arg)
{
	struct col_queue *q = arg;

	(void)fd;
	(void)what;
	size_t n;

	stream_sink_serve(q->ks);
	if ((n = stream_sink_take_failed(q->ks, &q->lost)) > 0) {
		/* answered 200 already: kept for the spill, and no more requests are taken */
		q->nlost += n;
		snprintf(q->error, sizeof(q->error), "%s (%zu records kept for the spill)",
		    stream_sink_error(q->ks), q->nlost);
		q->stats.write_errors += n;
		q->failing = 1;
	}
}

static int
queue_open_kafka(struct col_queue *q, const char *spec, char *err, size_t errlen)
{
	if ((q->ks = stream_sink_open(spec, -1, err, errlen)) == NULL)
		return -1;
	q->ev_kafka = event_new(q->base, stream_sink_fd(q->ks), EV_READ | EV_PERSIST,
	    queue_kafka_cb, q);
	if (q->ev_kafka == NULL || event_add(q->ev_kafka, NULL) == -1) {
		snprintf(err, errlen, "cannot create events");
		return -1;
	}
	q->fd = stream_sink_fd(q->ks);
	return 0;
}

struct col_queue *
col_queue_new(struct event_base *base, const char *path, int std_fd, size_t max, char *err,
    size_t errlen)
{
	struct col_queue *q = calloc(1, sizeof(*q));
	int rc;

	if (q == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	q->base = base;
	q->max = max;
	q->fd = -1;
	q->std_fd = std_fd;
	buf_init(&q->batch, 0);
	buf_init(&q->lost, 0);
	q->log.fd = -1;
	if (path && (stream_spec_is_kafka(path) || stream_spec_is_kinesis(path))) {
		if (queue_open_kafka(q, path, err, errlen) == -1) {
			int e = errno;
			col_queue_free(q);
			errno = e;
			return NULL;
		}
		return q;
	}
	if (path && strncmp(path, "log:", 4) == 0) {
		path += 4;
		q->durable = 1;
	}
	if (path && strcmp(path, "-") != 0) {
		q->path = strdup(path);
		if (q->path == NULL) {
			free(q);
			snprintf(err, errlen, "out of memory");
			return NULL;
		}
		rc = queue_open_path(q);
		if (rc == -1) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			free(q->path);
			free(q);
			return NULL;
		}
		if (rc == 1)
			snprintf(q->error, sizeof(q->error), "%s: no reader yet", path);
	} else {
		q->fd = std_fd;
		/* standard error is shared with the log: it stays blocking */
		q->nonblocking_ok = std_fd != 2 && queue_is_pollable(std_fd);
		if (q->nonblocking_ok && !isatty(std_fd))
			fcntl(std_fd, F_SETFL, fcntl(std_fd, F_GETFL) | O_NONBLOCK);
		else
			q->nonblocking_ok = 0;
	}
	q->ev_write = event_new(base, q->fd, EV_WRITE, queue_write_cb, q);
	q->ev_retry = evtimer_new(base, queue_retry_cb, q);
	q->ev_flush = event_new(base, -1, 0, queue_flush_cb, q);
	if (!q->ev_write || !q->ev_retry || !q->ev_flush) {
		snprintf(err, errlen, "cannot create events");
		col_queue_free(q);
		return NULL;
	}
	if (q->durable) {
		struct timeval tv = { 0, QBACKLOG_MS * 1000 };
		q->ev_backlog = event_new(base, -1, EV_PERSIST, queue_backlog_cb, q);
		if (q->ev_backlog == NULL || event_add(q->ev_backlog, &tv) == -1) {
			snprintf(err, errlen, "cannot create events");
			col_queue_free(q);
			return NULL;
		}
		queue_backlog_cb(-1, 0, q);
	}
	if (q->fd < 0)
		queue_schedule_retry(q);
	return q;
}

void
col_queue_free(struct col_queue *q)
{
	struct qblock *b;

	if (q == NULL)
		return;
	if (q->ev_kafka)
		event_free(q->ev_kafka);
	if (q->ks) {
		stream_sink_close(q->ks);
		q->fd = -1;
	}
	queue_close_fd(q);
	if (q->ev_write) event_free(q->ev_write);
	if (q->ev_retry) event_free(q->ev_retry);
	if (q->ev_flush) event_free(q->ev_flush);
	if (q->ev_backlog) event_free(q->ev_backlog);
	buf_free(&q->batch);
	buf_free(&q->lost);
	while ((b = q->head) != NULL) {
		q->head = b->next;
		qblock_free(b);
	}
	while ((b = q->spare) != NULL) {
		q->spare = b->next;
		qblock_free(b);
	}
	free(q->scratch);
	free(q->path);
	free(q);
}

void
col_queue_set_kafka(struct col_queue *q, int binary, int key_by_ip)
{
	q->binary = binary;
	q->key_by_ip = key_by_ip;
}

size_t
col_queue_max_record(const struct col_queue *q)
{
	return q->ks ? stream_sink_max_record(q->ks) : 0;
}

int
col_queue_key(struct col_queue *q, const char *ip, size_t iplen)
{
	char u[UUID_STR_LEN + 1];

	if (q->ks == NULL)
		return 0;
	/* stream-collector's partition key: the client IP with useIpAddressAsPartitionKey, else
	 * a random UUID per request (Service.ipAndPartitionKey) */
	if (q->key_by_ip && ip && iplen)
		return stream_sink_set_key(q->ks, ip, iplen);
	if (uuid_v4(u) == -1)
		return -1;
	return stream_sink_set_key(q->ks, u, UUID_STR_LEN);
}

/* What a Kafka output holds: produced and not yet acknowledged, and lines not yet produced. */
static size_t
kafka_pending(const struct col_queue *q)
{
	return stream_sink_unacked(q->ks) + stream_sink_pending(q->ks);
}

int
col_queue_room(struct col_queue *q, size_t n)
{
	if (q->ks) {
		q->refused = kafka_pending(q) + n > q->max ? n : 0;
		return q->refused == 0;
	}
	if (q->durable) {
		/* remembered, so that /sink-health says 503 as long as requests would get it */
		q->refused = q->backlog + q->batch.len + n > q->max ? n : 0;
		return q->refused == 0 && !q->low_space;
	}
	if (q->pending + n <= q->max)
		return 1;
	q->refused = n;
	return 0;
}

/* A record was refused and would still not fit: requests like it get 503. */
static int
queue_refusing(const struct col_queue *q)
{
	return q->refused > 0 && q->pending > 0 && q->pending + q->refused > q->max;
}

int
col_queue_commit(struct col_queue *q)
{
	size_t lines;

	if (q->ks) {
		enum stream_status st = STREAM_OK;
		size_t before = stream_sink_pending(q->ks);

		if (before)
			st = stream_sink_flush(q->ks);
		if (q->push_failed || st != STREAM_OK) {
			/* answered 503: the tracker sends the request again (what already reached
			 * the producer may then be there twice, never lost) */
			snprintf(q->error, sizeof(q->error), "%s", stream_sink_error(q->ks));
			q->stats.write_errors++;
			q->push_failed = 0;
			if (st == STREAM_ERROR)
				q->failing = 1;
			return -1;
		}
		q->stats.bytes_written += before;
		q->failing = 0;
		return 0;
	}
	if (!q->durable || q->batch.len == 0)
		return 0;
	if (q->fd < 0 || linelog_append(&q->log, q->batch.data, q->batch.len) == -1) {
		/* nothing of this request stays queued: it is answered 503 and retried by the
		 * tracker */
		q->stats.write_errors++;
		queue_set_error(q, "append", q->fd < 0 ? EBADF : errno);
		q->failing = 1;
		q->failed_need = q->batch.len;
		buf_reset(&q->batch);
		q->batch_lines = 0;
		return -1;
	}
	lines = q->batch_lines;
	q->batch_lines = 0;
	q->stats.lines += lines;
	q->stats.bytes_written += q->batch.len;
	q->backlog += q->batch.len;
	q->failing = 0;
	buf_reset(&q->batch);
	return 0;
}

static struct qblock *
queue_block_new(struct col_queue *q)
{
	struct qblock *b = q->spare;

	if (b) {
		q->spare = b->next;
		q->n_spare--;
	} else {
		b = qblock_alloc();
		if (b == NULL)
			return NULL;
	}
	b->next = NULL;
	b->off = b->len = 0;
	if (q->tail)
		q->tail->next = b;
	else
		q->head = b;
	q->tail = b;
	return b;
}

static void
queue_schedule_flush(struct col_queue *q)
{
	if (!q->flush_scheduled && !q->waiting_writable && q->fd >= 0) {
		q->flush_scheduled = 1;
		event_active(q->ev_flush, EV_WRITE, 0);
	}
}

int
col_queue_push(struct col_queue *q, const char *data, size_t len)
{
	struct qblock *b;
	size_t n;

	if (q->durable) {
		const char *p = data, *e = data + len;

		if (buf_append(&q->batch, data, len) == -1)
			return -1;
		while ((p = memchr(p, '\n', (size_t)(e - p))) != NULL) {
			q->batch_lines++;
			p++;
		}
		return 0;
	}
	if (q->ks) {
		if (stream_sink_put_lines(q->ks, data, len) == -1)
			return -1;
		for (n = 0; n < len; n++)
			q->stats.lines += data[n] == '\n';
		return 0;
	}
	while (len > 0) {
		b = q->tail;
		if (b == NULL || b->len == QBLOCK_DATA) {
			b = queue_block_new(q);
			if (b == NULL)
				return -1;
		}
		n = QBLOCK_DATA - b->len;
		if (n > len)
			n = len;
		memcpy(b->data + b->len, data, n);
		b->len += n;
		q->pending += n;
		data += n;
		len -= n;
	}
	q->stats.lines++;
	queue_schedule_flush(q);
	return 0;
}

int
col_queue_push_base64(struct col_queue *q, const uint8_t *rec, size_t len)
{
	size_t need = base64_encoded_len(len) + 1;   /* the line and its '\n' */
	struct qblock *b = q->tail;
	size_t n;

	if (q->ks) {
		if (stream_sink_put_binary(q->ks, rec, len) == -1) {
			if (errno != EAGAIN)
				return -1;
			q->push_failed = 1;     /* the commit answers 503 */
			return 0;
		}
		q->stats.lines++;
		q->stats.bytes_written += len;
		return 0;
	}
	if (q->durable) {
		if (buf_reserve(&q->batch, need + 1) == -1)
			return -1;
		n = base64_encode(rec, len, q->batch.data + q->batch.len);
		q->batch.len += n;
		q->batch.data[q->batch.len++] = '\n';
		q->batch.data[q->batch.len] = '\0';
		q->batch_lines++;
		return 0;
	}
	if (b && QBLOCK_DATA - b->len >= need + 1) {
		/* encode straight into the tail block (base64_encode writes a NUL: room for it) */
		n = base64_encode(rec, len, b->data + b->len);
		b->data[b->len + n] = '\n';
		b->len += n + 1;
		q->pending += n + 1;
		q->stats.lines++;
		queue_schedule_flush(q);
		return 0;
	}
	if (b == NULL || QBLOCK_DATA - b->len < 64) {
		if (need + 1 <= QBLOCK_DATA) {
			b = queue_block_new(q);
			if (b == NULL)
				return -1;
			return col_queue_push_base64(q, rec, len);
		}
	}
	if (q->scratch_cap < need + 1) {
		char *p = realloc(q->scratch, need + 1);

		if (p == NULL)
			return -1;
		q->scratch = p;
		q->scratch_cap = need + 1;
	}
	n = base64_encode(rec, len, q->scratch);
	q->scratch[n] = '\n';
	if (col_queue_push(q, q->scratch, n + 1) == -1)
		return -1;
	if (q->scratch_cap > 4 * QBLOCK_DATA) {
		free(q->scratch);
		q->scratch = NULL;
		q->scratch_cap = 0;
	}
	return 0;
}

int
col_queue_durable(const struct col_queue *q)
{
	return q->durable;
}

size_t
col_queue_pending(const struct col_queue *q)
{
	if (q->ks)
		return kafka_pending(q) + q->lost.len;
	return q->durable ? q->batch.len : q->pending;
}

size_t
col_queue_backlog(const struct col_queue *q)
{
	if (q->ks)
		return kafka_pending(q);
	return q->durable ? q->backlog : q->pending;
}

int
col_queue_healthy(const struct col_queue *q)
{
	if (q->ks)
		return !q->failing && kafka_pending(q) < q->max &&
		    !(q->refused && kafka_pending(q) + q->refused > q->max);
	if (q->durable)
		return !q->failing && !q->low_space && q->fd >= 0 && q->refused == 0 &&
		    q->backlog < q->max;
	return !q->failing && !q->broken && q->fd >= 0 && q->pending < q->max &&
	    !queue_refusing(q);
}

int
col_queue_broken(const struct col_queue *q)
{
	return q->broken;
}

const struct col_queue_stats *
col_queue_stats(const struct col_queue *q)
{
	return &q->stats;
}

const char *
col_queue_error(const struct col_queue *q)
{
	return q->error;
}

static void
queue_consume(struct col_queue *q, size_t n)
{
	struct qblock *b;

	q->pending -= n;
	q->stats.bytes_written += n;
	while (n > 0 && (b = q->head) != NULL) {
		size_t avail = b->len - b->off;
		size_t take = n < avail ? n : avail;

		b->off += take;
		n -= take;
		if (b->off == b->len && (b->len == QBLOCK_DATA || b != q->tail)) {
			q->head = b->next;
			if (q->head == NULL)
				q->tail = NULL;
			if (q->n_spare < QBLOCK_CACHE) {
				b->next = q->spare;
				q->spare = b;
				q->n_spare++;
			} else {
				qblock_free(b);
			}
		}
	}
	/* an emptied tail block that is not full is reused from its start */
	if (q->head && q->head == q->tail && q->head->off == q->head->len)
		q->head->off = q->head->len = 0;
}

void
col_queue_flush(struct col_queue *q)
{
	struct iovec iov[QWRITE_IOV];
	struct qblock *b;
	ssize_t n;
	int cnt;

	if (q->ks) {
		stream_sink_serve(q->ks);
		return;
	}
	while (q->pending > 0 && q->fd >= 0 && !q->waiting_writable) {
		cnt = 0;
		for (b = q->head; b && cnt < QWRITE_IOV; b = b->next) {
			if (b->len == b->off)
				continue;
			iov[cnt].iov_base = b->data + b->off;
			iov[cnt].iov_len = b->len - b->off;
			cnt++;
		}
		n = writev(q->fd, iov, cnt);
		if (n > 0) {
			queue_consume(q, (size_t)n);
			q->failing = 0;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (q->nonblocking_ok) {
				q->waiting_writable = 1;
				event_add(q->ev_write, NULL);
			} else {
				queue_schedule_retry(q);
			}
			return;
		}
		q->stats.write_errors++;
		queue_set_error(q, "write", n < 0 ? errno : EIO);
		if (n < 0 && errno == EPIPE) {
			if (q->path) {
				/* The FIFO's reader went away. Keep our end open: while a writer holds the
				 * pipe, the kernel keeps what the old reader left unread and hands it to
				 * the next reader, so nothing already written is lost. Writes are retried
				 * until a reader is back. */
				queue_schedule_retry(q);
				return;
			} else {
				q->broken = 1;
				q->failing = 1;
				return;
			}
		}
		queue_schedule_retry(q);
		return;
	}
}

void
col_queue_reopen(struct col_queue *q)
{
	int rc;

	if (q->path == NULL || q->ks)
		return;
	/* reopening a FIFO buys nothing and, without a reader, would drop what the pipe holds */
	if (q->fd >= 0 && q->is_fifo)
		return;
	if (q->durable) {
		/* a log: the same lock and tail checks on the file now at the path */
		if (queue_open_path(q) == -1) {
			queue_set_error(q, "reopen", errno);
			q->failing = 1;
		} else {
			q->stats.reopens++;
		}
		return;
	}
	queue_close_fd(q);
	rc = queue_open_path(q);
	if (rc != 0) {
		if (rc == -1)
			queue_set_error(q, "reopen", errno);
		queue_schedule_retry(q);
		return;
	}
	q->stats.reopens++;
	event_assign(q->ev_write, q->base, q->fd, EV_WRITE, queue_write_cb, q);
	q->failing = 0;
	col_queue_flush(q);
}

int
col_queue_spill(struct col_queue *q, const char *path, size_t *bytes)
{
	struct linelog_writer w;
	struct qblock *b;
	struct buf all;
	int rc = 0;

	*bytes = 0;
	buf_init(&all, 0);
	if (q->ks) {
		/* what the broker has not acknowledged comes back from the producer, in its line
		 * form (raw records as base64) */
		stream_sink_purge(q->ks);
		if (buf_append(&all, q->lost.data, q->lost.len) == -1) {
			buf_free(&all);
			errno = ENOMEM;
			return -1;
		}
		stream_sink_take_failed(q->ks, &all);
		if (all.len == 0) {
			buf_free(&all);
			return 0;
		}
		goto write;
	}
	if (q->durable || q->pending == 0) {
		buf_free(&all);
		return 0;
	}
	for (b = q->head; b; b = b->next)
		if (buf_append(&all, b->data + b->off, b->len - b->off) == -1) {
			buf_free(&all);
			errno = ENOMEM;
			return -1;
		}
write:
	if (linelog_writer_open(&w, path) == -1) {
		buf_free(&all);
		return -1;
	}
	if (linelog_append(&w, all.data, all.len) == -1)
		rc = -1;
	else if (fsync(w.fd) == -1)
		rc = -1;
	if (rc == 0) {
		*bytes = all.len;
		if (q->ks == NULL)
			queue_consume(q, all.len);
		buf_reset(&q->lost);
		q->nlost = 0;
	}
	linelog_writer_close(&w);
	buf_free(&all);
	return rc;
}

/* A spill of raw records into a Kafka output: each base64 line is a binary record again. Lines
 * may straddle reads: the unfinished end waits in q->batch. */
static int
replay_binary(struct col_queue *q, const char *data, size_t len)
{
	size_t off = 0;

	if (buf_append(&q->batch, data, len) == -1)
		return -1;
	for (;;) {
		char *nl = memchr(q->batch.data + off, '\n', q->batch.len - off);
		size_t l;
		struct buf raw;

		if (nl == NULL)
			break;
		l = (size_t)(nl - (q->batch.data + off));
		buf_init(&raw, 0);
		if (l > 0) {
			if (buf_reserve(&raw, base64_decoded_max(l) + 1) == -1) {
				buf_free(&raw);
				return -1;
			}
			raw.len = base64_decode_lenient(q->batch.data + off, l, (uint8_t *)raw.data);
			if (col_queue_key(q, NULL, 0) == -1 ||
			    col_queue_push_base64(q, (const uint8_t *)raw.data, raw.len) == -1) {
				buf_free(&raw);
				return -1;
			}
		}
		buf_free(&raw);
		off += l + 1;
	}
	buf_consume(&q->batch, off);
	return 0;
}

int
col_queue_replay(struct col_queue *q, const char *path, size_t *bytes)
{
	char chunk[65536];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint64_t lines = q->stats.lines;     /* replayed lines are not new ones */
	ssize_t n;

	*bytes = 0;
	if (fd == -1)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if ((q->ks && q->binary ? replay_binary(q, chunk, (size_t)n) :
		    col_queue_push(q, chunk, (size_t)n)) == -1) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		*bytes += (size_t)n;
	}
	close(fd);
	if (q->ks) {
		q->stats.lines = lines;
		if (q->binary && q->batch.len > 0) {
			/* a damaged spill's unfinished last line is a record too */
			if (replay_binary(q, "\n", 1) == -1)
				return -1;
		}
		if (q->push_failed) {
			q->push_failed = 0;
			errno = EAGAIN;
			return -1;
		}
		return stream_sink_flush(q->ks) == STREAM_ERROR ? -1 : 0;
	}
	if (*bytes && !q->durable && q->tail && q->tail->len &&
	    q->tail->data[q->tail->len - 1] != '\n' && col_queue_push(q, "\n", 1) == -1)
		return -1;     /* a damaged spill ends cleanly so that no record is glued on */
	q->stats.lines = lines;
	if (q->durable)
		return col_queue_commit(q);
	return 0;
}
