/*
 * stream_kinesis: kinesis:STREAM sources and sinks over Kinesis's HTTP JSON API (see stream.h),
 * with libcurl and SigV4 (aws.h); shard leases and checkpoints in a DynamoDB table, the way the
 * Kinesis Client Library keeps them.
 *
 * Records are Snowplow's own, so that furrow and Snowplow's Kinesis components can share streams:
 * one record per Kinesis record (raw: the binary Thrift CollectorPayload; enriched: one TSV line;
 * bad: one bad-row JSON). Partition keys as Snowplow chooses them: stream-collector's KinesisSink
 * puts each request's records under the key the collector gives it (the client IP with
 * useIpAddressAsPartitionKey, else a random UUID; collector/col_queue.c sets it), and
 * common-streams' KinesisSink (enrich-kinesis) uses the configured partition key field's value or
 * a random UUID (Sinkable.partitionKey.getOrElse(UUID.randomUUID)).
 *
 * Every AWS call runs on a worker thread per stream, so that a stage's thread never waits for
 * the network: the stage and its worker share a queue under a mutex, and the worker writes to a
 * pipe (the stream's descriptor) when there is news.
 *
 * Sinks: records queue in order, each with a sequence number; the worker sends them with
 * PutRecords in batches of at most 500 records and 5 MiB (data and partition keys, as
 * common-streams counts them), and sends again, after a back-off, the records a batch answered
 * with an error (ProvisionedThroughputExceeded and internal failures alike) until every record
 * of the batch is in; only then is the batch acknowledged. A record is never given up on: a
 * stopping collector purges what is left (stream_sink_purge) into its spill.
 *
 * Sources: see the second half of this file.
 */
#include "stream_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aws.h"
#include "base64.h"
#include "jsonw.h"
#include "uuid.h"

#define KIN_PREFIX          "kinesis:"
#define KIN_BATCH_RECORDS   500                   /* PutRecords: records per request */
#define KIN_BATCH_BYTES     ((size_t)5 << 20)     /* PutRecords: data and keys per request */
#define KIN_RECORD_MAX      ((size_t)1 << 20)     /* one record: data and key */
#define KIN_KEY_MAX         256                   /* a partition key's longest (Kinesis's) */
#define KIN_UNACKED_MAX     ((size_t)64 << 20)    /* bytes queued and not yet acknowledged */
#define KIN_BACKOFF_MIN_MS  100       /* common-streams' throttledBackoffPolicy defaults */
#define KIN_BACKOFF_MAX_MS  1000
#define KIN_CLOSE_MS        10000     /* a closing sink waits this long for its last records */
#define KIN_RETRY_MS        50
#define KIN_FAILED_MAX      ((size_t)256 << 20)
#define KIN_STREAM_MAX      128       /* Kinesis's own limit on a stream name */
#define KIN_MSGS            32        /* notices from workers not yet handed to the stage */

/* ---- process-wide settings ---- */

static struct {
	int               configured;
	char              region[64];
	char             *endpoint;
	char             *ddb_endpoint;
	struct aws_creds  creds;
	long              failover_ms;
	char              worker_id[160];
	void            (*notify)(int level, const char *msg);
	pthread_mutex_t   msg_mu;
	char              msgs[KIN_MSGS][300];
	int               msg_level[KIN_MSGS];
	unsigned          nmsgs, msgs_dropped;
} kin = { .msg_mu = PTHREAD_MUTEX_INITIALIZER };

/* A notice from any thread; the stage's thread hands them on (kin_msgs_flush). */
static void kin_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
kin_msg(int level, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&kin.msg_mu);
	if (kin.nmsgs < KIN_MSGS) {
		va_start(ap, fmt);
		vsnprintf(kin.msgs[kin.nmsgs], sizeof(kin.msgs[0]), fmt, ap);
		va_end(ap);
		kin.msg_level[kin.nmsgs++] = level;
	} else {
		kin.msgs_dropped++;
	}
	pthread_mutex_unlock(&kin.msg_mu);
}

static void
kin_msgs_flush(void)
{
	char msgs[KIN_MSGS][300];
	int levels[KIN_MSGS];
	unsigned n, i, dropped;

	pthread_mutex_lock(&kin.msg_mu);
	n = kin.nmsgs;
	memcpy(msgs, kin.msgs, n * sizeof(msgs[0]));
	memcpy(levels, kin.msg_level, n * sizeof(levels[0]));
	dropped = kin.msgs_dropped;
	kin.nmsgs = 0;
	kin.msgs_dropped = 0;
	pthread_mutex_unlock(&kin.msg_mu);
	if (kin.notify == NULL)
		return;
	for (i = 0; i < n; i++)
		kin.notify(levels[i], msgs[i]);
	if (dropped) {
		char m[80];
		snprintf(m, sizeof(m), "kinesis: %u more notices left out", dropped);
		kin.notify(1, m);
	}
}

void
stream_kinesis_conf_env(struct stream_kinesis_conf *conf)
{
	if (conf->endpoint == NULL)
		conf->endpoint = getenv("FURROW_KINESIS_ENDPOINT");
	if (conf->dynamodb_endpoint == NULL)
		conf->dynamodb_endpoint = getenv("FURROW_DYNAMODB_ENDPOINT");
	if (conf->failover_ms == 0) {
		const char *v = getenv("FURROW_KINESIS_FAILOVER_MS");
		conf->failover_ms = v ? strtol(v, NULL, 10) : 0;
	}
	if (conf->worker_id == NULL)
		conf->worker_id = getenv("FURROW_KINESIS_WORKER_ID");
}

int
stream_kinesis_setup(const struct stream_kinesis_conf *conf, char *err, size_t errlen)
{
	char host[64] = "localhost", u[UUID_STR_LEN + 1];

	free(kin.endpoint);
	free(kin.ddb_endpoint);
	kin.endpoint = kin.ddb_endpoint = NULL;
	aws_creds_clear(&kin.creds);
	kin.notify = conf->notify;
	snprintf(kin.region, sizeof(kin.region), "%s", aws_region(conf->region));
	if ((conf->endpoint && *conf->endpoint && (kin.endpoint = strdup(conf->endpoint)) == NULL) ||
	    (conf->dynamodb_endpoint && *conf->dynamodb_endpoint &&
	    (kin.ddb_endpoint = strdup(conf->dynamodb_endpoint)) == NULL)) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	kin.failover_ms = conf->failover_ms > 0 ? conf->failover_ms : 10000;
	if (kin.failover_ms < 300 || kin.failover_ms > 3600000) {
		stream_set_err(err, errlen, "kinesis: the lease failover time is 300 to 3600000 ms, "
		    "not %ld", kin.failover_ms);
		return -1;
	}
	if (conf->worker_id && *conf->worker_id) {
		snprintf(kin.worker_id, sizeof(kin.worker_id), "%s", conf->worker_id);
	} else {
		/* the KCL's default worker identifier is a host name and a UUID */
		gethostname(host, sizeof(host) - 1);
		if (uuid_v4(u) == -1)
			snprintf(u, sizeof(u), "%ld", (long)getpid());
		snprintf(kin.worker_id, sizeof(kin.worker_id), "%s:%s", host, u);
	}
	if (aws_creds_load(&kin.creds, err, errlen) == -1)
		return -1;
	if (kin.creds.role[0])
		kin_msg(2, "kinesis: credentials of role %s from the instance metadata service, "
		    "renewed before they expire", kin.creds.role);
	kin.configured = 1;
	return 0;
}

int
stream_kinesis_prepare(const char *const *specs, size_t n, struct stream_kinesis_conf *conf,
    char *err, size_t errlen)
{
	if (!stream_specs_any(specs, n, stream_spec_is_kinesis))
		return 0;
	stream_kinesis_conf_env(conf);
	return stream_kinesis_setup(conf, err, errlen);
}

static int
stream_name_ok(const char *t, char *err, size_t errlen)
{
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == '_' || t[i] == '-'))
			break;
	if (n == 0 || n > KIN_STREAM_MAX || i < n) {
		stream_set_err(err, errlen, "kinesis:%s: a stream name is 1 to %d of [A-Za-z0-9._-]",
		    t, KIN_STREAM_MAX);
		errno = EINVAL;
		return -1;
	}
	if (!kin.configured) {
		stream_set_err(err, errlen, "kinesis:%s: Kinesis is not set up (no credentials?)", t);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int
wake_pipe(int fds[2])
{
	return pipe2(fds, O_NONBLOCK | O_CLOEXEC);
}

static void
wake_kick(int fd)
{
	(void)!write(fd, "k", 1);
}

static void
wake_drain(int fd)
{
	char b[256];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

/* Wait on cv for up to ms, or until *flag. The mutex is held. */
static void
cond_wait_ms(pthread_cond_t *cv, pthread_mutex_t *mu, long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

static struct aws_call *
kinesis_client(void)
{
	return aws_call_new("kinesis", kin.region, kin.endpoint, "Kinesis_20131202", "1.1",
	    &kin.creds);
}

/* A JSON string into b. */
static int
json_str(struct buf *b, const char *s, size_t n)
{
	return jsonw_string(b, s, n);
}

/* ---- sinks ---- */

struct kin_rec {
	struct kin_rec *next;
	uint64_t        seq;
	size_t          len;
	uint8_t         binary;
	uint8_t         done;         /* the worker's: in, within a batch being retried */
	uint16_t        keylen;
	char            key[KIN_KEY_MAX];
	unsigned char   data[];
};

struct kin_sink {
	struct stream_sink *ss;
	char               *stream;
	struct aws_call    *call;
	pthread_t           th;
	int                 th_started;
	pthread_mutex_t     mu;
	pthread_cond_t      cv;
	/* under mu: */
	struct kin_rec     *head, *tail;  /* not yet acknowledged, in order */
	uint64_t            produced;     /* the next sequence number */
	uint64_t            low;          /* the first not yet acknowledged */
	size_t              unacked;
	int                 stop;
	volatile int        abort_flag;
	uint64_t            batches, retries, throttled;
	/* the stage's thread only: */
	int                 wake[2];
	struct buf          failed;
	size_t              nfailed;
	struct stream_key   key;
};

#define KINS(s) ((struct kin_sink *)(s)->impl)

/* One PutRecords request of the batch's records not yet in. */
static int
put_body(const struct kin_sink *k, struct kin_rec **batch, size_t n, struct buf *b)
{
	size_t i;
	int first = 1;

	buf_reset(b);
	if (buf_append_str(b, "{\"StreamName\":") == -1 ||
	    json_str(b, k->stream, strlen(k->stream)) == -1 || buf_append_str(b, ",\"Records\":[") == -1)
		return -1;
	for (i = 0; i < n; i++) {
		const struct kin_rec *r = batch[i];
		if (r->done)
			continue;
		if (buf_append_str(b, first ? "{\"Data\":\"" : ",{\"Data\":\"") == -1 ||
		    buf_reserve(b, base64_encoded_len(r->len) + 1) == -1)
			return -1;
		b->len += base64_encode(r->data, r->len, b->data + b->len);
		if (buf_append_str(b, "\",\"PartitionKey\":") == -1 ||
		    json_str(b, r->key, r->keylen) == -1 || buf_append_str(b, "}") == -1)
			return -1;
		first = 0;
	}
	return buf_append_str(b, "]}");
}

/* Mark the records the answer says are in. Returns how many are still out, or -1 when the answer
 * does not say (all of them are sent again). */
static long
put_result(struct kin_rec **batch, size_t n, const struct buf *resp, char *why, size_t whylen)
{
	json_t *j = json_loadb(resp->data, resp->len, 0, NULL), *recs;
	size_t i, ri = 0;
	long left = 0;

	if (j == NULL || !json_is_array(recs = json_object_get(j, "Records"))) {
		json_decref(j);
		snprintf(why, whylen, "PutRecords answered without Records");
		return -1;
	}
	for (i = 0; i < n; i++) {
		json_t *r, *code;
		if (batch[i]->done)
			continue;
		r = json_array_get(recs, ri++);
		code = r ? json_object_get(r, "ErrorCode") : NULL;
		if (r != NULL && (code == NULL || json_is_null(code))) {
			batch[i]->done = 1;
			continue;
		}
		if (left == 0)
			snprintf(why, whylen, "%s: %s", json_string_value(code) ?
			    json_string_value(code) : "no answer",
			    json_string_value(json_object_get(r, "ErrorMessage")) ?
			    json_string_value(json_object_get(r, "ErrorMessage")) : "");
		left++;
	}
	json_decref(j);
	return left;
}

static void *
sink_worker(void *arg)
{
	struct kin_sink *k = arg;
	struct kin_rec *batch[KIN_BATCH_RECORDS], *r;
	struct buf body, resp;
	char type[AWS_TYPE_MAX], why[256];

	buf_init(&body, KIN_BATCH_BYTES * 2);
	buf_init(&resp, (size_t)16 << 20);
	for (;;) {
		size_t n = 0, bytes = 0, i;
		long backoff = 0, last_left = -1;
		int in = 0;

		pthread_mutex_lock(&k->mu);
		while (!k->stop && k->head == NULL)
			pthread_cond_wait(&k->cv, &k->mu);
		if (k->head == NULL || k->abort_flag) {
			pthread_mutex_unlock(&k->mu);
			break;
		}
		for (r = k->head; r && n < KIN_BATCH_RECORDS &&
		    (n == 0 || bytes + r->len + r->keylen <= KIN_BATCH_BYTES); r = r->next) {
			batch[n++] = r;
			bytes += r->len + r->keylen;
		}
		pthread_mutex_unlock(&k->mu);
		/* the batch's records stay in the list, unchanged, until we remove them */
		while (!in && !k->abort_flag) {
			enum aws_status st;
			long left;
			int throttle = 0;

			if (put_body(k, batch, n, &body) == -1) {
				snprintf(why, sizeof(why), "out of memory");
				left = -1;
			} else {
				st = aws_call_json(k->call, "PutRecords", body.data, body.len, &resp, type,
				    why, sizeof(why));
				if (st == AWS_OK) {
					left = put_result(batch, n, &resp, why, sizeof(why));
					throttle = left > 0 && strstr(why, "ProvisionedThroughput") != NULL;
				} else {
					left = -1;
					throttle = aws_error_is_throttle(type);
				}
			}
			if (left == 0) {
				in = 1;
				break;
			}
			pthread_mutex_lock(&k->mu);
			k->retries++;
			k->throttled += (uint64_t)throttle;
			/* some records went in: the next try starts from the shortest back-off again */
			if (left > 0 && (last_left < 0 || left < last_left))
				backoff = 0;
			last_left = left;
			backoff = aws_next_backoff(backoff, KIN_BACKOFF_MIN_MS, KIN_BACKOFF_MAX_MS);
			if (!k->abort_flag)
				cond_wait_ms(&k->cv, &k->mu, backoff);
			pthread_mutex_unlock(&k->mu);
			if (left > 0)
				kin_msg(throttle ? 2 : 1, "kinesis:%s: %ld of %zu records not taken (%s); "
				    "sending them again in %ld ms", k->stream, left, n, why, backoff);
			else
				kin_msg(1, "kinesis:%s: PutRecords failed (%s); sending %zu records again "
				    "in %ld ms", k->stream, why, n, backoff);
			wake_kick(k->wake[1]);
		}
		if (!in)
			break;
		pthread_mutex_lock(&k->mu);
		for (i = 0; i < n; i++) {
			r = k->head;
			k->head = r->next;
			if (k->head == NULL)
				k->tail = NULL;
			k->low = r->seq + 1;
			k->unacked -= r->len < k->unacked ? r->len : k->unacked;
			free(r);
		}
		k->batches++;
		pthread_mutex_unlock(&k->mu);
		wake_kick(k->wake[1]);
	}
	buf_free(&body);
	buf_free(&resp);
	return NULL;
}

static void
sink_stop_worker(struct kin_sink *k, int wait_ms)
{
	int64_t deadline = mono_ms() + wait_ms;

	if (!k->th_started)
		return;
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	pthread_cond_broadcast(&k->cv);
	while (k->head != NULL && mono_ms() < deadline)
		cond_wait_ms(&k->cv, &k->mu, 50);
	k->abort_flag = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	pthread_join(k->th, NULL);
	k->th_started = 0;
}

static void
sink_free(struct kin_sink *k)
{
	struct kin_rec *r;

	while ((r = k->head) != NULL) {
		k->head = r->next;
		free(r);
	}
	aws_call_free(k->call);
	if (k->wake[0] >= 0)
		close(k->wake[0]);
	if (k->wake[1] >= 0)
		close(k->wake[1]);
	buf_free(&k->failed);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k->stream);
	free(k);
}

static int
kin_sink_open(struct stream_sink *ss, const char *stream, int std_fd, char *err, size_t errlen)
{
	struct kin_sink *k;

	(void)std_fd;
	if (stream_name_ok(stream, err, errlen) == -1)
		return -1;
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->stream = strdup(stream)) == NULL) {
		free(k);
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	k->ss = ss;
	k->wake[0] = k->wake[1] = -1;
	stream_key_init(&k->key);
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	buf_init(&k->failed, KIN_FAILED_MAX + 1);
	ss->impl = k;
	if ((k->call = kinesis_client()) == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	aws_call_set_abort(k->call, &k->abort_flag);
	if (wake_pipe(k->wake) == -1) {
		stream_set_err(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	if ((errno = pthread_create(&k->th, NULL, sink_worker, k)) != 0) {
		stream_set_err(err, errlen, "kinesis:%s: a thread: %s", stream, strerror(errno));
		return -1;
	}
	k->th_started = 1;
	return 0;
}

static int
kin_sink_close(struct stream_sink *ss)
{
	struct kin_sink *k = ss->impl;

	if (k == NULL)
		return 0;
	sink_stop_worker(k, KIN_CLOSE_MS);
	kin_msgs_flush();
	sink_free(k);
	ss->impl = NULL;
	return 0;
}

/* Queue one record for the worker. Returns 0, or -1 with errno EAGAIN (too much is not yet
 * acknowledged: flush later) or ENOMEM. */
static int
sink_produce(struct stream_sink *ss, const char *data, size_t len, int binary)
{
	struct kin_sink *k = ss->impl;
	char uuid[UUID_STR_LEN + 1];
	const char *key;
	size_t keylen;
	struct kin_rec *r;

	pthread_mutex_lock(&k->mu);
	if (k->unacked + len > KIN_UNACKED_MAX && k->unacked > 0) {
		pthread_mutex_unlock(&k->mu);
		snprintf(ss->error, sizeof(ss->error), "%s: %zu bytes not yet acknowledged", ss->name,
		    KIN_UNACKED_MAX);
		errno = EAGAIN;
		return -1;
	}
	pthread_mutex_unlock(&k->mu);
	if (stream_key_of(&k->key, data, len, binary, uuid, &key, &keylen) == -1) {
		snprintf(ss->error, sizeof(ss->error), "%s: getrandom: %s", ss->name,
		    strerror(errno));
		errno = EIO;
		return -1;
	}
	if (keylen > KIN_KEY_MAX)
		keylen = KIN_KEY_MAX;
	if ((r = malloc(sizeof(*r) + len)) == NULL) {
		snprintf(ss->error, sizeof(ss->error), "%s: out of memory", ss->name);
		errno = ENOMEM;
		return -1;
	}
	r->next = NULL;
	r->len = len;
	r->binary = (uint8_t)binary;
	r->done = 0;
	r->keylen = (uint16_t)keylen;
	memcpy(r->key, key, keylen);
	memcpy(r->data, data, len);
	pthread_mutex_lock(&k->mu);
	r->seq = k->produced++;
	if (k->tail)
		k->tail->next = r;
	else
		k->head = r;
	k->tail = r;
	k->unacked += len;
	pthread_cond_signal(&k->cv);
	pthread_mutex_unlock(&k->mu);
	return 0;
}

static enum stream_status
kin_sink_flush(struct stream_sink *ss)
{
	struct buf *q = &ss->q;
	size_t off = 0;

	kin_msgs_flush();
	while (off < q->len) {
		const char *line = q->data + off;
		const char *nl = memchr(line, '\n', q->len - off);
		size_t len = nl ? (size_t)(nl - line) : q->len - off;

		if (sink_produce(ss, line, len, 0) == -1) {
			buf_consume(q, off);
			return errno == EAGAIN ? STREAM_BLOCKED : STREAM_ERROR;
		}
		off += len + (nl ? 1 : 0);
	}
	buf_reset(q);
	return STREAM_OK;
}

static int
kin_sink_put_binary(struct stream_sink *ss, const void *data, size_t len)
{
	/* records queued as lines go first, so that the order is kept */
	if (ss->q.len > 0 && kin_sink_flush(ss) != STREAM_OK) {
		errno = EAGAIN;
		return -1;
	}
	return sink_produce(ss, data, len, 1);
}

static uint64_t
kin_sink_mark(struct stream_sink *ss)
{
	struct kin_sink *k = ss->impl;
	uint64_t t;

	pthread_mutex_lock(&k->mu);
	t = k->produced;
	pthread_mutex_unlock(&k->mu);
	return t;
}

static int
kin_sink_acked(struct stream_sink *ss, uint64_t ticket)
{
	struct kin_sink *k = ss->impl;
	int a;

	pthread_mutex_lock(&k->mu);
	a = k->low >= ticket;
	pthread_mutex_unlock(&k->mu);
	return a;
}

static void
kin_sink_serve(struct stream_sink *ss)
{
	wake_drain(KINS(ss)->wake[0]);
	kin_msgs_flush();
}

static size_t
kin_sink_unacked(const struct stream_sink *ss)
{
	struct kin_sink *k = ss->impl;
	size_t n;

	pthread_mutex_lock(&k->mu);
	n = k->unacked;
	pthread_mutex_unlock(&k->mu);
	return n;
}

static int
kin_sink_fd(const struct stream_sink *ss)
{
	return KINS(ss)->wake[0];
}

static int
kin_sink_retry_ms(const struct stream_sink *ss)
{
	(void)ss;
	return KIN_RETRY_MS;
}

static size_t
kin_sink_max_record(const struct stream_sink *ss)
{
	(void)ss;
	/* the data and the partition key of one record are at most 1 MiB */
	return KIN_RECORD_MAX - KIN_KEY_MAX;
}

static int
kin_sink_set_key(struct stream_sink *ss, const char *key, size_t len)
{
	stream_key_set(&KINS(ss)->key, key, len);
	return 0;
}

static int
kin_sink_set_fields(struct stream_sink *ss, const struct stream_sink_fields *f, char *err,
    size_t errlen)
{
	(void)err;
	(void)errlen;
	/* Kinesis records have no headers: the attributes have no place to go */
	KINS(ss)->key.column = f->key_column;
	return 0;
}

static size_t
kin_sink_take_failed(struct stream_sink *ss, struct buf *lines)
{
	struct kin_sink *k = ss->impl;
	size_t n = k->nfailed;

	if (n == 0 || buf_append(lines, k->failed.data, k->failed.len) == -1)
		return 0;
	buf_reset(&k->failed);
	k->nfailed = 0;
	return n;
}

static void
kin_sink_purge(struct stream_sink *ss)
{
	struct kin_sink *k = ss->impl;
	struct kin_rec *r;

	/* a batch in flight may still have reached the stream: a duplicate at worst, never a loss */
	pthread_mutex_lock(&k->mu);
	k->stop = 1;
	k->abort_flag = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	if (k->th_started) {
		pthread_join(k->th, NULL);
		k->th_started = 0;
	}
	while ((r = k->head) != NULL) {
		k->head = r->next;
		if (!r->done && stream_line_form(&k->failed, r->data, r->len, r->binary) != -1)
			k->nfailed++;
		k->low = r->seq + 1;
		free(r);
	}
	k->tail = NULL;
	k->unacked = 0;
	kin_msgs_flush();
}

const struct stream_sink_ops stream_kinesis_sink_ops = {
	.prefix = KIN_PREFIX,
	.open = kin_sink_open,
	.close = kin_sink_close,
	.flush = kin_sink_flush,
	.put_binary = kin_sink_put_binary,
	.mark = kin_sink_mark,
	.acked = kin_sink_acked,
	.serve = kin_sink_serve,
	.unacked = kin_sink_unacked,
	.fd = kin_sink_fd,
	.retry_ms = kin_sink_retry_ms,
	.max_record = kin_sink_max_record,
	.set_key = kin_sink_set_key,
	.set_fields = kin_sink_set_fields,
	.take_failed = kin_sink_take_failed,
	.purge = kin_sink_purge,
};

/*
 * ---- sources ----
 *
 * A source reads the stream's shards with GetShardIterator and GetRecords, a shard's parents
 * (ParentShardId, AdjacentParentShardId: a split's or a merge's) to their end before the shard
 * itself, so that records of one partition key come in order across a resharding.
 *
 * Without a group (inspect), the source reads every shard from its beginning (or its end) and
 * keeps no checkpoints. With a group, the source is one worker of that group: the group's shard
 * leases and checkpoints live in the DynamoDB table named after the group, one item per shard, as
 * the Kinesis Client Library (1.x) lays them out: leaseKey (the shard id), leaseOwner (a worker
 * id), leaseCounter (bumped by every renewal), checkpoint (TRIM_HORIZON, LATEST, SHARD_END or a
 * sequence number), checkpointSubSequenceNumber (0: furrow's records are not aggregated),
 * ownerSwitchesSinceCheckpoint and parentShardId. Every failover/3 ms a worker renews its
 * leases (a conditional update of leaseCounter: an owner that lost a lease learns it there),
 * takes leases that have no owner or whose counter has not moved for the failover time, and,
 * while it holds fewer than its share (the leases divided by the live workers), steals one from
 * the worker holding the most. A shard is leased only once its parents are checkpointed at
 * SHARD_END. A checkpoint is written only for records the stage committed, that is once its
 * linked sinks acknowledged everything derived from them (stream.h), and only while the lease
 * is ours (a condition on leaseOwner); a shard read to its end is checkpointed SHARD_END once all
 * its records are committed. A lease lost or given up forgets its records not yet committed:
 * their new owner reads them again from the checkpoint (at least once).
 */

#define KIN_SRC_QUEUE_MAX   ((size_t)16 << 20)  /* bytes read and not yet taken by the stage */
#define KIN_GET_LIMIT       1000                /* GetRecords: records per call */
#define KIN_IDLE_MS         200                 /* a shard with nothing new: read again after */
#define KIN_SHARDS_MS       5000                /* the shard list: refreshed at least this often */
#define KIN_CKPT_MS         1000                /* checkpoints: written at most this often */
#define KIN_SHARDS_MAX      4096
#define KIN_SEQ_MAX         130
#define KIN_ID_MAX          130
#define KIN_STOP_MS         10000               /* a closing source's last checkpoints */

enum kin_shard_state {
	KSH_WAIT = 0,      /* not ours, or its parents are not done */
	KSH_READ,          /* ours: being read */
	KSH_ENDED,         /* read to its end: SHARD_END once its records are committed */
	KSH_DONE,          /* checkpointed SHARD_END (or, without a group, read to its end) */
};

struct kin_shard {
	char     id[KIN_ID_MAX];
	char     parent[KIN_ID_MAX], adj_parent[KIN_ID_MAX];
	int      closed;                     /* has an EndingSequenceNumber */
	int      listed;                     /* in the last ListShards answer */
	enum kin_shard_state state;
	int      owned;
	uint32_t epoch;                      /* bumped when the lease is lost or given up */
	char    *iter;
	char     last_read[KIN_SEQ_MAX];     /* the newest record handed to the stage */
	char     ckpt[KIN_SEQ_MAX];          /* the checkpoint in the table */
	char     commit_seq[KIN_SEQ_MAX];    /* committed by the stage, not yet written */
	int      dirty;
	uint64_t inflight;                   /* read and not yet committed */
	int64_t  next_poll_ms;
	/* the lease, as last seen in the table */
	int      in_table;
	char     owner[160];
	long long counter;
	int64_t  counter_seen_ms;            /* when the counter last moved */
};

struct kin_in {
	struct kin_in *next;
	int            shard;
	uint32_t       epoch;
	char           seq[KIN_SEQ_MAX];
	size_t         len;
	unsigned char  data[];
};

struct kin_mark {
	uint64_t end;
	int      shard;
	uint32_t epoch;
	char     seq[KIN_SEQ_MAX];
};

struct kin_source {
	struct stream_source *ss;
	char                 *stream;
	char                 *table;        /* the group's lease table; NULL: no group */
	int                   from_end;
	struct aws_call      *kc, *dc;
	pthread_t             th;
	int                   th_started;
	pthread_mutex_t       mu;
	pthread_cond_t        cv;
	/* under mu: */
	struct kin_shard     *shards;
	size_t                nshards;
	struct kin_in        *qhead, *qtail;
	size_t                qbytes;
	int                   stop;
	volatile int          abort_flag;
	int                   worker_done;
	char                  fatal[STREAM_ERROR_MAX];
	/* the stage's thread only: */
	int                   wake[2];
	struct kin_in        *held;
	struct stream_recs    recs;         /* the records' line forms and the position */
	struct kin_mark      *marks;        /* a ring */
	size_t                mcap, mhead, mcount;
	/* the worker only: */
	int64_t               shards_ms, lease_ms, ckpt_ms;
	struct buf            body, resp;
};

#define KSRC(s) ((struct kin_source *)(s)->impl)

static struct aws_call *
dynamodb_client(void)
{
	return aws_call_new("dynamodb", kin.region, kin.ddb_endpoint, "DynamoDB_20120810", "1.0",
	    &kin.creds);
}

/* A request built with jansson, called; the answer parsed into *out (NULL on failure). */
static enum aws_status
src_call(struct kin_source *k, struct aws_call *a, const char *op, json_t *req, json_t **out,
    char type[AWS_TYPE_MAX], char *msg, size_t msglen)
{
	char *body = json_dumps(req, JSON_COMPACT);
	enum aws_status st;

	json_decref(req);
	*out = NULL;
	if (body == NULL) {
		type[0] = '\0';
		snprintf(msg, msglen, "out of memory");
		return AWS_RETRY;
	}
	st = aws_call_json(a, op, body, strlen(body), &k->resp, type, msg, msglen);
	free(body);
	if (st == AWS_OK && (*out = json_loadb(k->resp.data, k->resp.len, 0, NULL)) == NULL) {
		snprintf(msg, msglen, "%s: an answer that is not JSON", op);
		return AWS_RETRY;
	}
	return st;
}

static int
shard_find(const struct kin_source *k, const char *id)
{
	size_t i;

	if (id == NULL || *id == '\0')
		return -1;
	for (i = 0; i < k->nshards; i++)
		if (strcmp(k->shards[i].id, id) == 0)
			return (int)i;
	return -1;
}

/* The shard list (ListShards, every page). Returns 0 or -1 (msg). Takes mu itself. */
static int
src_list_shards(struct kin_source *k, char *msg, size_t msglen)
{
	char token[1024] = "", type[AWS_TYPE_MAX];
	size_t i;

	pthread_mutex_lock(&k->mu);
	for (i = 0; i < k->nshards; i++)
		k->shards[i].listed = 0;
	pthread_mutex_unlock(&k->mu);
	do {
		json_t *req = json_object(), *ans, *arr, *s;
		size_t j;

		if (token[0])
			json_object_set_new(req, "NextToken", json_string(token));
		else
			json_object_set_new(req, "StreamName", json_string(k->stream));
		if (src_call(k, k->kc, "ListShards", req, &ans, type, msg, msglen) != AWS_OK)
			return -1;
		arr = json_object_get(ans, "Shards");
		pthread_mutex_lock(&k->mu);
		json_array_foreach(arr, j, s) {
			const char *id = json_string_value(json_object_get(s, "ShardId"));
			const char *p = json_string_value(json_object_get(s, "ParentShardId"));
			const char *ap = json_string_value(json_object_get(s, "AdjacentParentShardId"));
			json_t *range = json_object_get(s, "SequenceNumberRange");
			int at;
			if (id == NULL || strlen(id) >= KIN_ID_MAX)
				continue;
			if ((at = shard_find(k, id)) < 0) {
				struct kin_shard *ns;
				if (k->nshards == KIN_SHARDS_MAX)
					continue;
				ns = realloc(k->shards, (k->nshards + 1) * sizeof(*ns));
				if (ns == NULL)
					continue;
				k->shards = ns;
				at = (int)k->nshards++;
				memset(&k->shards[at], 0, sizeof(k->shards[at]));
				snprintf(k->shards[at].id, KIN_ID_MAX, "%s", id);
				snprintf(k->shards[at].parent, KIN_ID_MAX, "%s", p ? p : "");
				snprintf(k->shards[at].adj_parent, KIN_ID_MAX, "%s", ap ? ap : "");
			}
			k->shards[at].listed = 1;
			k->shards[at].closed = json_object_get(range, "EndingSequenceNumber") != NULL;
		}
		pthread_mutex_unlock(&k->mu);
		snprintf(token, sizeof(token), "%s",
		    json_string_value(json_object_get(ans, "NextToken")) ?
		    json_string_value(json_object_get(ans, "NextToken")) : "");
		json_decref(ans);
	} while (token[0]);
	return 0;
}

/* 1 when a parent is done: read to its end here, checkpointed SHARD_END in the table, or gone
 * from the stream (past the retention period). mu held. */
static int
parent_done(const struct kin_source *k, const char *id)
{
	int p = shard_find(k, id);

	if (id[0] == '\0' || p < 0)
		return 1;
	if (k->shards[p].state == KSH_DONE)
		return 1;
	return k->table && k->shards[p].in_table && strcmp(k->shards[p].ckpt, "SHARD_END") == 0;
}

static int
parents_done(const struct kin_source *k, const struct kin_shard *s)
{
	return parent_done(k, s->parent) && parent_done(k, s->adj_parent);
}

/* Forget what was read from a shard and not committed (the lease is lost or given up). mu held. */
static void
shard_release(struct kin_source *k, int i)
{
	struct kin_shard *s = &k->shards[i];
	struct kin_in **pp = &k->qhead, *r;

	s->owned = 0;
	s->epoch++;
	s->state = s->state == KSH_DONE ? KSH_DONE : KSH_WAIT;
	s->dirty = 0;
	s->inflight = 0;
	s->last_read[0] = '\0';
	free(s->iter);
	s->iter = NULL;
	k->qtail = NULL;
	while ((r = *pp) != NULL) {
		if (r->shard == i) {
			*pp = r->next;
			k->qbytes -= r->len;
			free(r);
			continue;
		}
		k->qtail = r;
		pp = &r->next;
	}
}

static json_t *
ddb_s(const char *v)
{
	return json_pack("{s:s}", "S", v);
}

static json_t *
ddb_n(long long v)
{
	char n[32];

	snprintf(n, sizeof(n), "%lld", v);
	return json_pack("{s:s}", "N", n);
}

static json_t *
ddb_key(const char *shard)
{
	return json_pack("{s:o}", "leaseKey", ddb_s(shard));
}

/* The lease table: created when it is missing (the KCL's key schema), waited for until ACTIVE. */
static int
src_table_ready(struct kin_source *k, char *msg, size_t msglen)
{
	char type[AWS_TYPE_MAX];
	int64_t deadline = mono_ms() + 60000;
	json_t *ans;

	for (;;) {
		enum aws_status st = src_call(k, k->dc, "DescribeTable",
		    json_pack("{s:s}", "TableName", k->table), &ans, type, msg, msglen);
		if (st == AWS_OK) {
			const char *status = json_string_value(json_object_get(json_object_get(ans,
			    "Table"), "TableStatus"));
			int active = status && strcmp(status, "ACTIVE") == 0;
			json_decref(ans);
			if (active)
				return 0;
		} else if (strcmp(type, "ResourceNotFoundException") == 0) {
			st = src_call(k, k->dc, "CreateTable", json_pack(
			    "{s:s, s:[{s:s, s:s}], s:[{s:s, s:s}], s:{s:i, s:i}}",
			    "TableName", k->table,
			    "AttributeDefinitions", "AttributeName", "leaseKey", "AttributeType", "S",
			    "KeySchema", "AttributeName", "leaseKey", "KeyType", "HASH",
			    "ProvisionedThroughput", "ReadCapacityUnits", 10, "WriteCapacityUnits", 10),
			    &ans, type, msg, msglen);
			json_decref(ans);
			if (st != AWS_OK && strcmp(type, "ResourceInUseException") != 0)
				kin_msg(1, "kinesis:%s: creating the lease table %s: %s", k->stream,
				    k->table, msg);
			else
				kin_msg(2, "kinesis:%s: created the lease table %s", k->stream, k->table);
		} else if (st == AWS_FAILED) {
			return -1;
		}
		if (k->abort_flag || mono_ms() > deadline) {
			if (!msg[0])
				snprintf(msg, msglen, "the lease table %s is not ACTIVE", k->table);
			return -1;
		}
		pthread_mutex_lock(&k->mu);
		cond_wait_ms(&k->cv, &k->mu, 250);
		pthread_mutex_unlock(&k->mu);
	}
}

/* Put a lease for each listed shard the table does not have. */
static void
src_leases_create(struct kin_source *k)
{
	char type[AWS_TYPE_MAX], msg[256];
	size_t i;

	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		json_t *item, *ans, *parents;
		const char *start;

		if (!s->listed || s->in_table)
			continue;
		/* children of a resharding start at their beginning; the rest where asked */
		start = s->parent[0] || !k->from_end ? "TRIM_HORIZON" : "LATEST";
		item = json_pack("{s:o, s:o, s:o, s:o, s:o}", "leaseKey", ddb_s(s->id),
		    "leaseCounter", ddb_n(0), "checkpoint", ddb_s(start),
		    "checkpointSubSequenceNumber", ddb_n(0), "ownerSwitchesSinceCheckpoint", ddb_n(0));
		if (s->parent[0]) {
			parents = json_array();
			json_array_append_new(parents, json_string(s->parent));
			if (s->adj_parent[0])
				json_array_append_new(parents, json_string(s->adj_parent));
			json_object_set_new(item, "parentShardId", json_pack("{s:o}", "SS", parents));
		}
		if (src_call(k, k->dc, "PutItem", json_pack("{s:s, s:o, s:s}", "TableName", k->table,
		    "Item", item, "ConditionExpression", "attribute_not_exists(leaseKey)"), &ans,
		    type, msg, sizeof(msg)) != AWS_OK &&
		    strcmp(type, "ConditionalCheckFailedException") != 0)
			kin_msg(1, "kinesis:%s: creating the lease of %s: %s", k->stream, s->id, msg);
		json_decref(ans);
	}
}

/* Read the whole table into the shards' lease fields. Returns 0 or -1. */
static int
src_leases_scan(struct kin_source *k, char *msg, size_t msglen)
{
	char type[AWS_TYPE_MAX];
	json_t *start = NULL;
	int64_t now = mono_ms();

	do {
		json_t *req = json_pack("{s:s, s:b}", "TableName", k->table, "ConsistentRead", 1);
		json_t *ans, *items, *it;
		size_t j;

		if (start)
			json_object_set_new(req, "ExclusiveStartKey", start);
		start = NULL;
		if (src_call(k, k->dc, "Scan", req, &ans, type, msg, msglen) != AWS_OK)
			return -1;
		items = json_object_get(ans, "Items");
		pthread_mutex_lock(&k->mu);
		json_array_foreach(items, j, it) {
			const char *id = json_string_value(json_object_get(json_object_get(it,
			    "leaseKey"), "S"));
			const char *owner = json_string_value(json_object_get(json_object_get(it,
			    "leaseOwner"), "S"));
			const char *ck = json_string_value(json_object_get(json_object_get(it,
			    "checkpoint"), "S"));
			const char *cn = json_string_value(json_object_get(json_object_get(it,
			    "leaseCounter"), "N"));
			long long counter = cn ? strtoll(cn, NULL, 10) : 0;
			int at = shard_find(k, id);
			struct kin_shard *s;
			if (at < 0)
				continue;       /* a shard past the retention period */
			s = &k->shards[at];
			if (!s->in_table || counter != s->counter || strcmp(s->owner, owner ? owner :
			    "") != 0)
				s->counter_seen_ms = now;
			s->in_table = 1;
			s->counter = counter;
			snprintf(s->owner, sizeof(s->owner), "%s", owner ? owner : "");
			snprintf(s->ckpt, sizeof(s->ckpt), "%s", ck ? ck : "TRIM_HORIZON");
			if (s->owned && strcmp(s->owner, kin.worker_id) != 0) {
				kin_msg(2, "kinesis:%s: shard %s: the lease went to %s (%llu records read "
				    "and not committed are read again by it)", k->stream, s->id,
				    s->owner[0] ? s->owner : "nobody", (unsigned long long)s->inflight);
				shard_release(k, at);
			}
			if (strcmp(s->ckpt, "SHARD_END") == 0 && !s->owned)
				s->state = KSH_DONE;
		}
		pthread_mutex_unlock(&k->mu);
		start = json_incref(json_object_get(ans, "LastEvaluatedKey"));
		json_decref(ans);
	} while (start);
	return 0;
}

/* A conditional UpdateItem on a lease. Returns 1 done, 0 the condition failed, -1 other. */
static int
lease_update(struct kin_source *k, const char *shard, const char *update, const char *cond,
    json_t *values)
{
	char type[AWS_TYPE_MAX], msg[256];
	json_t *req = json_pack("{s:s, s:o, s:s, s:s, s:o}", "TableName", k->table,
	    "Key", ddb_key(shard), "UpdateExpression", update, "ConditionExpression", cond,
	    "ExpressionAttributeValues", values), *ans;
	enum aws_status st = src_call(k, k->dc, "UpdateItem", req, &ans, type, msg, sizeof(msg));

	json_decref(ans);
	if (st == AWS_OK)
		return 1;
	if (strcmp(type, "ConditionalCheckFailedException") == 0)
		return 0;
	kin_msg(1, "kinesis:%s: the lease of %s: %s", k->stream, shard, msg);
	return -1;
}

/* Renew our leases, take what is free or expired, steal toward our share. */
static void
src_leases_balance(struct kin_source *k)
{
	const char *me = kin.worker_id;
	int64_t now = mono_ms();
	size_t i, j, navail = 0, nmine = 0, nworkers = 1, target;
	char owners[64][160];
	size_t counts[64], nowners = 0;

	/* renew */
	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		int r;
		if (!s->owned)
			continue;
		r = lease_update(k, s->id, "SET leaseCounter = leaseCounter + :one",
		    "leaseOwner = :me AND leaseCounter = :c", json_pack("{s:o, s:o, s:o}",
		    ":one", ddb_n(1), ":me", ddb_s(me), ":c", ddb_n(s->counter)));
		pthread_mutex_lock(&k->mu);
		if (r == 1) {
			s->counter++;
			s->counter_seen_ms = now;
		} else if (r == 0) {
			kin_msg(2, "kinesis:%s: shard %s: lease lost (%llu records read and not "
			    "committed are read again by its new owner)", k->stream, s->id,
			    (unsigned long long)s->inflight);
			shard_release(k, (int)i);
		}
		pthread_mutex_unlock(&k->mu);
	}
	/* the live workers and what each holds */
	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		int live;
		if (!s->in_table || strcmp(s->ckpt, "SHARD_END") == 0 || s->state == KSH_DONE ||
		    !parents_done(k, s))
			continue;
		navail++;
		live = s->owner[0] && now - s->counter_seen_ms < kin.failover_ms;
		if (s->owned) {
			nmine++;
			continue;
		}
		if (!live || strcmp(s->owner, me) == 0)
			continue;
		for (j = 0; j < nowners && strcmp(owners[j], s->owner) != 0; j++)
			;
		if (j == nowners && nowners < 64) {
			snprintf(owners[nowners], sizeof(owners[0]), "%s", s->owner);
			counts[nowners++] = 0;
		}
		if (j < 64)
			counts[j]++;
	}
	nworkers += nowners;
	target = (navail + nworkers - 1) / nworkers;
	/* take free and expired leases, then steal one from the busiest worker */
	for (i = 0; i < k->nshards && nmine < target; i++) {
		struct kin_shard *s = &k->shards[i];
		int expired = !s->owner[0] || strcmp(s->owner, me) == 0 ||
		    now - s->counter_seen_ms >= kin.failover_ms;
		if (s->owned || !s->in_table || !expired || strcmp(s->ckpt, "SHARD_END") == 0 ||
		    s->state == KSH_DONE || !parents_done(k, s))
			continue;
		if (lease_update(k, s->id, "SET leaseOwner = :me, leaseCounter = leaseCounter + :one, "
		    "ownerSwitchesSinceCheckpoint = ownerSwitchesSinceCheckpoint + :one",
		    "leaseCounter = :c", json_pack("{s:o, s:o, s:o}", ":one", ddb_n(1), ":me",
		    ddb_s(me), ":c", ddb_n(s->counter))) == 1) {
			pthread_mutex_lock(&k->mu);
			s->owned = 1;
			s->counter++;
			s->counter_seen_ms = now;
			snprintf(s->owner, sizeof(s->owner), "%s", me);
			s->state = KSH_READ;
			s->next_poll_ms = 0;
			pthread_mutex_unlock(&k->mu);
			nmine++;
			kin_msg(2, "kinesis:%s: shard %s: lease taken (checkpoint %s)", k->stream, s->id,
			    s->ckpt);
		}
	}
	if (nmine < target && nowners > 0) {
		size_t busiest = 0;
		for (j = 1; j < nowners; j++)
			if (counts[j] > counts[busiest])
				busiest = j;
		if (counts[busiest] > target) {
			for (i = 0; i < k->nshards; i++) {
				struct kin_shard *s = &k->shards[i];
				if (s->owned || strcmp(s->owner, owners[busiest]) != 0 ||
				    strcmp(s->ckpt, "SHARD_END") == 0 || !parents_done(k, s))
					continue;
				if (lease_update(k, s->id, "SET leaseOwner = :me, leaseCounter = "
				    "leaseCounter + :one, ownerSwitchesSinceCheckpoint = "
				    "ownerSwitchesSinceCheckpoint + :one", "leaseCounter = :c",
				    json_pack("{s:o, s:o, s:o}", ":one", ddb_n(1), ":me", ddb_s(me), ":c",
				    ddb_n(s->counter))) == 1) {
					pthread_mutex_lock(&k->mu);
					s->owned = 1;
					s->counter++;
					s->counter_seen_ms = now;
					snprintf(s->owner, sizeof(s->owner), "%s", me);
					s->state = KSH_READ;
					s->next_poll_ms = 0;
					pthread_mutex_unlock(&k->mu);
					kin_msg(2, "kinesis:%s: shard %s: lease taken from %s (checkpoint "
					    "%s)", k->stream, s->id, owners[busiest], s->ckpt);
				}
				break;
			}
		}
	}
}

/* Write the committed checkpoints; SHARD_END for shards read to their end and all committed. */
static void
src_checkpoint(struct kin_source *k)
{
	size_t i;

	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		char seq[KIN_SEQ_MAX];
		uint32_t epoch;
		int r, end = 0;

		pthread_mutex_lock(&k->mu);
		if (!s->owned || (!s->dirty && !(s->state == KSH_ENDED && s->inflight == 0))) {
			pthread_mutex_unlock(&k->mu);
			continue;
		}
		if (s->state == KSH_ENDED && s->inflight == 0) {
			snprintf(seq, sizeof(seq), "SHARD_END");
			end = 1;
		} else {
			snprintf(seq, sizeof(seq), "%s", s->commit_seq);
		}
		s->dirty = 0;
		epoch = s->epoch;
		pthread_mutex_unlock(&k->mu);
		if (k->table == NULL) {
			r = 1;
		} else {
			r = lease_update(k, s->id, "SET checkpoint = :ck, "
			    "checkpointSubSequenceNumber = :zero, ownerSwitchesSinceCheckpoint = :zero",
			    "leaseOwner = :me", json_pack("{s:o, s:o, s:o}", ":ck", ddb_s(seq),
			    ":zero", ddb_n(0), ":me", ddb_s(kin.worker_id)));
		}
		pthread_mutex_lock(&k->mu);
		if (r == 1 && s->epoch == epoch) {
			snprintf(s->ckpt, sizeof(s->ckpt), "%s", seq);
			if (end) {
				s->state = KSH_DONE;
				s->owned = k->table == NULL;
				kin_msg(2, "kinesis:%s: shard %s: read to its end and checkpointed",
				    k->stream, s->id);
			}
		} else if (r == 0 && s->epoch == epoch) {
			kin_msg(2, "kinesis:%s: shard %s: lease lost before a checkpoint", k->stream,
			    s->id);
			shard_release(k, (int)i);
		} else if (r == -1 && s->epoch == epoch && !end) {
			s->dirty = 1;          /* tried again at the next round */
		}
		pthread_mutex_unlock(&k->mu);
	}
}

/* Without a group every listed shard is ours, once its parents are read. mu held. */
static void
src_own_all(struct kin_source *k)
{
	size_t i;

	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		if (s->owned || s->state != KSH_WAIT || !parents_done(k, s))
			continue;
		if (k->from_end && s->closed && !s->parent[0]) {
			s->state = KSH_DONE;
			continue;
		}
		s->owned = 1;
		s->state = KSH_READ;
		snprintf(s->ckpt, sizeof(s->ckpt), "%s", k->from_end && !s->parent[0] ? "LATEST" :
		    "TRIM_HORIZON");
	}
}

/* One GetRecords for shard i. Returns 1 when records came, 0 none, -1 failed. */
static int
src_read_shard(struct kin_source *k, int i)
{
	struct kin_shard *s = &k->shards[i];
	char type[AWS_TYPE_MAX], msg[256], id[KIN_ID_MAX], from[KIN_SEQ_MAX];
	json_t *ans, *recs, *r;
	struct kin_in *head = NULL, *tail = NULL, *in;
	const char *next;
	size_t j, bytes = 0, n = 0;
	uint32_t epoch;
	char *iter;

	pthread_mutex_lock(&k->mu);
	snprintf(id, sizeof(id), "%s", s->id);
	snprintf(from, sizeof(from), "%s", s->last_read[0] ? s->last_read : s->ckpt);
	epoch = s->epoch;
	iter = s->iter ? strdup(s->iter) : NULL;
	pthread_mutex_unlock(&k->mu);
	if (iter == NULL) {
		json_t *req = json_pack("{s:s, s:s}", "StreamName", k->stream, "ShardId", id);
		if (strcmp(from, "TRIM_HORIZON") == 0 || strcmp(from, "LATEST") == 0 || !from[0]) {
			json_object_set_new(req, "ShardIteratorType", json_string(from[0] ? from :
			    "TRIM_HORIZON"));
		} else {
			json_object_set_new(req, "ShardIteratorType",
			    json_string("AFTER_SEQUENCE_NUMBER"));
			json_object_set_new(req, "StartingSequenceNumber", json_string(from));
		}
		if (src_call(k, k->kc, "GetShardIterator", req, &ans, type, msg, sizeof(msg)) !=
		    AWS_OK) {
			kin_msg(1, "kinesis:%s: shard %s: GetShardIterator: %s", k->stream, id, msg);
			return -1;
		}
		iter = json_string_value(json_object_get(ans, "ShardIterator")) ?
		    strdup(json_string_value(json_object_get(ans, "ShardIterator"))) : NULL;
		json_decref(ans);
		if (iter == NULL)
			return -1;
	}
	if (src_call(k, k->kc, "GetRecords", json_pack("{s:s, s:i}", "ShardIterator", iter,
	    "Limit", KIN_GET_LIMIT), &ans, type, msg, sizeof(msg)) != AWS_OK) {
		free(iter);
		pthread_mutex_lock(&k->mu);
		if (s->epoch == epoch) {
			free(s->iter);
			s->iter = NULL;   /* expired or not: ask for a new one */
		}
		pthread_mutex_unlock(&k->mu);
		if (!aws_error_is_throttle(type) && strcmp(type, "ExpiredIteratorException") != 0)
			kin_msg(1, "kinesis:%s: shard %s: GetRecords: %s", k->stream, id, msg);
		return -1;
	}
	free(iter);
	recs = json_object_get(ans, "Records");
	json_array_foreach(recs, j, r) {
		const char *data = json_string_value(json_object_get(r, "Data"));
		const char *seq = json_string_value(json_object_get(r, "SequenceNumber"));
		size_t dl = data ? strlen(data) : 0;
		if (seq == NULL || strlen(seq) >= KIN_SEQ_MAX)
			continue;
		if ((in = malloc(sizeof(*in) + base64_decoded_max(dl) + 1)) == NULL)
			break;
		in->next = NULL;
		in->shard = i;
		in->epoch = epoch;
		snprintf(in->seq, sizeof(in->seq), "%s", seq);
		in->len = data ? base64_decode_lenient(data, dl, in->data) : 0;
		if (tail)
			tail->next = in;
		else
			head = in;
		tail = in;
		bytes += in->len;
		n++;
	}
	next = json_string_value(json_object_get(ans, "NextShardIterator"));
	pthread_mutex_lock(&k->mu);
	if (s->epoch != epoch || !s->owned) {
		pthread_mutex_unlock(&k->mu);
		while ((in = head) != NULL) {
			head = in->next;
			free(in);
		}
		json_decref(ans);
		return 0;
	}
	if (head) {
		if (k->qtail)
			k->qtail->next = head;
		else
			k->qhead = head;
		k->qtail = tail;
		k->qbytes += bytes;
		s->inflight += n;
		snprintf(s->last_read, sizeof(s->last_read), "%s", tail->seq);
	}
	free(s->iter);
	s->iter = next ? strdup(next) : NULL;
	if (next == NULL) {
		/* without a group the children may follow at once: the parent's records are queued
		 * before theirs */
		s->state = k->table == NULL ? KSH_DONE : KSH_ENDED;
	}
	s->next_poll_ms = mono_ms() + (n == 0 ? KIN_IDLE_MS : 0);
	pthread_mutex_unlock(&k->mu);
	json_decref(ans);
	return n > 0;
}

/* Give up our leases at a clean stop, so that the others need not wait for the failover time. */
static void
src_leases_release(struct kin_source *k)
{
	size_t i;

	for (i = 0; i < k->nshards; i++) {
		struct kin_shard *s = &k->shards[i];
		if (!s->owned || s->state == KSH_DONE)
			continue;
		(void)lease_update(k, s->id, "REMOVE leaseOwner SET leaseCounter = leaseCounter + :one",
		    "leaseOwner = :me", json_pack("{s:o, s:o}", ":one", ddb_n(1), ":me",
		    ddb_s(kin.worker_id)));
	}
}

static void *
src_worker(void *arg)
{
	struct kin_source *k = arg;
	char msg[256];
	long period = kin.failover_ms / 3;

	if (k->table && src_table_ready(k, msg, sizeof(msg)) == -1) {
		pthread_mutex_lock(&k->mu);
		snprintf(k->fatal, sizeof(k->fatal), "the lease table %.60s: %.170s", k->table, msg);
		k->worker_done = 1;
		pthread_mutex_unlock(&k->mu);
		wake_kick(k->wake[1]);
		return NULL;
	}
	for (;;) {
		int64_t now = mono_ms(), wait = period, stopping;
		size_t i;
		int got = 0;

		pthread_mutex_lock(&k->mu);
		stopping = k->stop;
		pthread_mutex_unlock(&k->mu);
		if (stopping || k->abort_flag)
			break;
		if (now - k->shards_ms >= KIN_SHARDS_MS || k->shards_ms == 0) {
			if (src_list_shards(k, msg, sizeof(msg)) == -1)
				kin_msg(1, "kinesis:%s: ListShards: %s", k->stream, msg);
			else
				k->shards_ms = now;
			if (k->table)
				src_leases_create(k);
		}
		if (k->table && now - k->lease_ms >= period) {
			if (src_leases_scan(k, msg, sizeof(msg)) == -1)
				kin_msg(1, "kinesis:%s: reading the lease table %s: %s", k->stream,
				    k->table, msg);
			else
				src_leases_balance(k);
			k->lease_ms = now;
		} else if (k->table == NULL) {
			pthread_mutex_lock(&k->mu);
			src_own_all(k);
			pthread_mutex_unlock(&k->mu);
		}
		if (now - k->ckpt_ms >= KIN_CKPT_MS) {
			src_checkpoint(k);
			k->ckpt_ms = now;
		}
		for (i = 0; i < k->nshards && !k->abort_flag; i++) {
			int ready;
			pthread_mutex_lock(&k->mu);
			ready = k->shards[i].owned && k->shards[i].state == KSH_READ &&
			    k->shards[i].next_poll_ms <= mono_ms() && k->qbytes < KIN_SRC_QUEUE_MAX;
			pthread_mutex_unlock(&k->mu);
			if (ready && src_read_shard(k, (int)i) == 1)
				got = 1;
			if (ready && k->shards[i].state == KSH_ENDED)
				k->shards_ms = 0;     /* its children: look for them now */
		}
		if (got)
			wake_kick(k->wake[1]);
		/* sleep until a shard is due, the next lease round, or news */
		pthread_mutex_lock(&k->mu);
		now = mono_ms();
		for (i = 0; i < k->nshards; i++)
			if (k->shards[i].owned && k->shards[i].state == KSH_READ &&
			    k->qbytes < KIN_SRC_QUEUE_MAX && k->shards[i].next_poll_ms - now < wait)
				wait = k->shards[i].next_poll_ms - now;
		if (k->table == NULL && k->shards_ms == 0)
			wait = 0;
		if (wait > 0 && !k->stop)
			cond_wait_ms(&k->cv, &k->mu, wait < KIN_CKPT_MS ? wait : KIN_CKPT_MS);
		pthread_mutex_unlock(&k->mu);
	}
	/* a clean stop: the last checkpoints, then the leases go back */
	if (!k->abort_flag) {
		src_checkpoint(k);
		if (k->table)
			src_leases_release(k);
	}
	pthread_mutex_lock(&k->mu);
	k->worker_done = 1;
	pthread_cond_broadcast(&k->cv);
	pthread_mutex_unlock(&k->mu);
	return NULL;
}

static void
kin_source_close(struct stream_source *ss)
{
	struct kin_source *k = ss->impl;
	struct kin_in *r;
	size_t i;

	if (k == NULL)
		return;
	if (k->th_started) {
		int64_t deadline = mono_ms() + KIN_STOP_MS;
		pthread_mutex_lock(&k->mu);
		k->stop = 1;
		pthread_cond_broadcast(&k->cv);
		while (!k->worker_done && mono_ms() < deadline)
			cond_wait_ms(&k->cv, &k->mu, 50);
		k->abort_flag = 1;
		pthread_cond_broadcast(&k->cv);
		pthread_mutex_unlock(&k->mu);
		pthread_join(k->th, NULL);
	}
	kin_msgs_flush();
	free(k->held);
	while ((r = k->qhead) != NULL) {
		k->qhead = r->next;
		free(r);
	}
	for (i = 0; i < k->nshards; i++)
		free(k->shards[i].iter);
	free(k->shards);
	aws_call_free(k->kc);
	aws_call_free(k->dc);
	if (k->wake[0] >= 0)
		close(k->wake[0]);
	if (k->wake[1] >= 0)
		close(k->wake[1]);
	stream_recs_free(&k->recs);
	buf_free(&k->body);
	buf_free(&k->resp);
	free(k->marks);
	pthread_cond_destroy(&k->cv);
	pthread_mutex_destroy(&k->mu);
	free(k->stream);
	free(k->table);
	free(k);
	ss->impl = NULL;
}

static int
table_name_ok(const char *t)
{
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == '_' || t[i] == '-'))
			return 0;
	return n >= 3 && n <= 255;
}

static int
kin_source_open(struct stream_source *ss, const char *stream,
    const struct stream_source_opts *o, char *err, size_t errlen)
{
	struct kin_source *k;

	if (stream_name_ok(stream, err, errlen) == -1)
		return -1;
	if (o->group && !table_name_ok(o->group)) {
		stream_set_err(err, errlen, "kinesis:%s: the group names the lease table: 3 to 255 of "
		    "[A-Za-z0-9._-], not %s", stream, o->group);
		errno = EINVAL;
		return -1;
	}
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->stream = strdup(stream)) == NULL ||
	    (o->group && (k->table = strdup(o->group)) == NULL)) {
		if (k)
			free(k->stream);
		free(k);
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	ss->impl = k;
	k->ss = ss;
	k->wake[0] = k->wake[1] = -1;
	k->from_end = o->from_end;
	stream_recs_init(&k->recs, o);
	buf_init(&k->body, 0);
	buf_init(&k->resp, (size_t)64 << 20);
	pthread_mutex_init(&k->mu, NULL);
	pthread_cond_init(&k->cv, NULL);
	if ((k->kc = kinesis_client()) == NULL || (k->dc = dynamodb_client()) == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	aws_call_set_abort(k->kc, &k->abort_flag);
	aws_call_set_abort(k->dc, &k->abort_flag);
	if (wake_pipe(k->wake) == -1) {
		stream_set_err(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	/* the stream must exist: a mistyped name fails at startup, not in the background */
	{
		char type[AWS_TYPE_MAX], msg[256];
		if (src_list_shards(k, msg, sizeof(msg)) == -1) {
			stream_set_err(err, errlen, "kinesis:%s: %s", stream,
			    strstr(msg, "ResourceNotFound") ? "no such stream (create it first)" : msg);
			errno = strstr(msg, "ResourceNotFound") ? ENOENT : EIO;
			(void)type;
			return -1;
		}
		k->shards_ms = mono_ms();
	}
	if ((errno = pthread_create(&k->th, NULL, src_worker, k)) != 0) {
		stream_set_err(err, errlen, "kinesis:%s: a thread: %s", stream, strerror(errno));
		return -1;
	}
	k->th_started = 1;
	return 0;
}

/* A commit mark: the record in ends at position end. */
static int
src_mark_push(struct kin_source *k, const struct kin_in *in, uint64_t end)
{
	struct kin_mark *m;

	if (k->mcount == k->mcap) {
		size_t ncap = k->mcap ? k->mcap * 2 : 1024, i;
		struct kin_mark *nm = malloc(ncap * sizeof(*nm));
		if (nm == NULL)
			return -1;
		for (i = 0; i < k->mcount; i++)
			nm[i] = k->marks[(k->mhead + i) % k->mcap];
		free(k->marks);
		k->marks = nm;
		k->mcap = ncap;
		k->mhead = 0;
	}
	m = &k->marks[(k->mhead + k->mcount) % k->mcap];
	m->end = end;
	m->shard = in->shard;
	m->epoch = in->epoch;
	memcpy(m->seq, in->seq, sizeof(m->seq));
	k->mcount++;
	return 0;
}

/* The next record from the worker's queue, or NULL (then: fatal, or nothing now). */
static struct kin_in *
src_pop(struct kin_source *k)
{
	struct kin_in *in;
	int was_full;

	wake_drain(k->wake[0]);
	pthread_mutex_lock(&k->mu);
	if ((in = k->qhead) != NULL) {
		was_full = k->qbytes >= KIN_SRC_QUEUE_MAX;
		k->qhead = in->next;
		if (k->qhead == NULL)
			k->qtail = NULL;
		k->qbytes -= in->len;
		if (was_full && k->qbytes < KIN_SRC_QUEUE_MAX)
			pthread_cond_broadcast(&k->cv);
	}
	pthread_mutex_unlock(&k->mu);
	return in;
}

static int
src_fatal(struct stream_source *ss)
{
	struct kin_source *k = ss->impl;
	int f;

	pthread_mutex_lock(&k->mu);
	f = k->fatal[0] != '\0';
	if (f)
		snprintf(ss->error, sizeof(ss->error), "%.80s: %.160s", ss->name, k->fatal);
	pthread_mutex_unlock(&k->mu);
	return f;
}

static enum stream_status
kin_source_next(struct stream_source *ss, struct stream_rec *rec)
{
	struct kin_source *k = ss->impl;
	struct kin_in *in;
	enum stream_status status;

	free(k->held);
	k->held = NULL;
	kin_msgs_flush();
	if ((in = src_pop(k)) == NULL)
		return src_fatal(ss) ? STREAM_ERROR : STREAM_AGAIN;
	k->held = in;
	status = stream_recs_next(&k->recs, rec, in->data, in->len);
	if (src_mark_push(k, in, k->recs.pos) == -1) {
		snprintf(ss->error, sizeof(ss->error), "%s: out of memory", ss->name);
		return STREAM_ERROR;
	}
	return status;
}

static ssize_t
kin_source_read(struct stream_source *ss, char *buf, size_t cap, uint64_t *pos)
{
	struct kin_source *k = ss->impl;
	size_t n = 0;
	struct kin_in *in;
	long blanks;

	kin_msgs_flush();
	while (stream_recs_drain(&k->recs, buf, cap, &n)) {
		if ((in = src_pop(k)) == NULL)
			break;
		if ((blanks = stream_recs_form(&k->recs, in->data, in->len)) == -1 ||
		    src_mark_push(k, in, k->recs.pos + k->recs.line.len) == -1) {
			free(in);
			snprintf(ss->error, sizeof(ss->error), "%s: out of memory", ss->name);
			errno = ENOMEM;
			return -1;
		}
		if (blanks > 0)
			kin_msg(1, "kinesis:%s: a record with a newline; the newline is written as a "
			    "blank", k->stream);
		free(in);
	}
	if (n == 0) {
		if (src_fatal(ss)) {
			errno = EIO;
			return -1;
		}
		errno = EAGAIN;
		return -1;
	}
	*pos = k->recs.pos;
	return (ssize_t)n;
}

static int
kin_source_commit(struct stream_source *ss, uint64_t pos, char *err, size_t errlen)
{
	struct kin_source *k = ss->impl;

	(void)err;
	(void)errlen;
	pthread_mutex_lock(&k->mu);
	while (k->mcount > 0) {
		struct kin_mark *m = &k->marks[k->mhead];
		struct kin_shard *s;
		if (m->end > pos)
			break;
		s = &k->shards[m->shard];
		if (s->epoch == m->epoch && s->owned) {
			memcpy(s->commit_seq, m->seq, sizeof(s->commit_seq));
			s->dirty = 1;
			if (s->inflight > 0)
				s->inflight--;
		}
		k->mhead = (k->mhead + 1) % k->mcap;
		k->mcount--;
	}
	pthread_mutex_unlock(&k->mu);
	return 0;
}

static int
kin_source_fd(const struct stream_source *ss)
{
	return KSRC(ss)->wake[0];
}

const struct stream_source_ops stream_kinesis_source_ops = {
	.prefix = KIN_PREFIX,
	.open = kin_source_open,
	.close = kin_source_close,
	.next = kin_source_next,
	.next_buffered = stream_recs_next_buffered,   /* a restart reads from the checkpoints */
	.read = kin_source_read,
	.commit = kin_source_commit,
	.fd = kin_source_fd,
	.follows = stream_recs_follows,
};
