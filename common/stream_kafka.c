/*
 * stream_kafka: kafka:TOPIC sources and sinks through librdkafka (see stream.h).
 *
 * Records are Snowplow's own messages, so that furrow and Snowplow's Kafka components can share
 * topics: a message is one record without a newline (raw: the binary Thrift CollectorPayload;
 * enriched: one TSV line; bad: one bad-row JSON). Keys are as Snowplow chooses them
 * (stream-collector's KafkaSink: the request's partition key, a random UUID or the client IP;
 * common-streams' KafkaSink used by enrich: the configured field's value or a random UUID,
 * with the configured fields as message headers), partitioned with murmur2 like the Java
 * producer, so that one key lands on the same partition whoever produced it.
 *
 * Sinks: every sink of a process shares one producer (acks=all, no delivery timeout: a record is
 * retried until the broker takes it or the stage gives up on it at a stop). Not idempotent: an
 * idempotent librdkafka producer turns a broker that lost unflushed records in a crash into a
 * fatal "out of order sequence number" error, which would stop the stage; at least once only
 * needs retries, and a retried record at worst comes twice (es-sink dedupes by _id).
 * Each produced record gets a sequence number; delivery reports mark it, and a sink's low
 * watermark is the first record not yet acknowledged, so a ticket (stream_sink_mark) is
 * acknowledged once the watermark passes it. Delivery reports are served on the stage's thread
 * (rd_kafka_poll) and wake stream_sink_fd, a pipe librdkafka writes to when its queue goes from
 * empty to not empty.
 *
 * Sources: a consumer in the group --group (auto-commit off, offsets stored by us). A source's
 * positions are byte counts of its records' line forms, so that stream_source_read's block
 * positions and stream_source_next's record positions mean the same; each record read is
 * remembered (position, partition, offset) until a commit covers it, and a commit stores the
 * next offset of every partition it covers. Commits go to the broker asynchronously, at most
 * every KAFKA_COMMIT_MS while records flow and at once when the source runs dry. On a
 * rebalance, the revoked partitions' acknowledged offsets are committed (after waiting briefly
 * for the linked sinks' acknowledgements) and their remembered records are forgotten, so the new
 * owner reads again exactly what was not committed. Without a group (inspect), every partition
 * is assigned from its beginning, its end, or some records before the end, and nothing is
 * committed.
 */
#include "stream_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "props.h"
#include "uuid.h"

#define KAFKA_PREFIX         "kafka:"
#define KAFKA_META_MS        10000    /* how long open waits for the topic's metadata */
#define KAFKA_COMMIT_MS      500      /* commits while records flow, at most this often */
#define KAFKA_REVOKE_WAIT_MS 2000     /* a revoke waits this long for acknowledgements */
#define KAFKA_CLOSE_MS       10000    /* the last sink's close waits this long for deliveries */
#define KAFKA_PURGE_MS       5000     /* a purge waits this long for its delivery reports */
#define KAFKA_RETRY_MS       50       /* a full producer queue: try again after this long */
#define KAFKA_RING_MIN       1024u
#define KAFKA_RING_MAX       (1u << 22)
#define KAFKA_RECORD_SLACK   1024     /* message.max.bytes minus this: the longest record */
#define KAFKA_FAILED_MAX     ((size_t)256 << 20)
#define KAFKA_TOPIC_MAX      249      /* Kafka's own limit on a topic name */

/* ---- process-wide settings ---- */

struct kafka_prop {
	char     *name, *value;
	unsigned  line;
};

static struct {
	int                configured;
	char              *brokers;
	char              *client_id;
	char               linger_ms[24];
	char              *props_path;
	struct kafka_prop *props;
	size_t             nprops;
	void             (*notify)(int level, const char *msg);
} kcfg;

static void
notify(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
notify(int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (kcfg.notify == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	kcfg.notify(level, msg);
}

void
stream_kafka_conf_env(struct stream_kafka_conf *conf)
{
	if (conf->brokers == NULL)
		conf->brokers = getenv("FURROW_KAFKA_BROKERS");
	if (conf->properties == NULL)
		conf->properties = getenv("FURROW_KAFKA_PROPERTIES");
}

/* librdkafka's complaint about a value, with the value itself left out (it may be a secret). */
static void
redact_value(const char *errstr, const char *value, char *out, size_t outlen)
{
	size_t vl = strlen(value), o = 0;
	const char *p = errstr;

	while (*p && o + 4 < outlen) {
		if (vl > 0 && strncmp(p, value, vl) == 0) {
			memcpy(out + o, "***", 3);
			o += 3;
			p += vl;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}

/* librdkafka's complaint when it builds a client, with every value of the properties file left
 * out (a mechanism or a path it rejects may be next to a secret, or be one). */
static void
redact_props(const char *errstr, char *out, size_t outlen)
{
	char a[512], b[512];
	size_t i;

	snprintf(a, sizeof(a), "%s", errstr);
	for (i = 0; i < kcfg.nprops; i++) {
		if (strlen(kcfg.props[i].value) < 3)
			continue;
		redact_value(a, kcfg.props[i].value, b, sizeof(b));
		snprintf(a, sizeof(a), "%s", b);
	}
	snprintf(out, outlen, "%s", a);
}

/* Properties the file may not change: at least once depends on them. */
static int
kafka_prop_reserved(const char *name)
{
	static const char *const reserved[] = {
		"enable.auto.commit", "enable.auto.offset.store", "group.id", "dr_msg_cb",
		"dr_cb", "rebalance_cb", "offset_commit_cb", "log.queue", "opaque",
	};
	size_t i;

	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return 1;
	return 0;
}

struct props_ctx {
	rd_kafka_conf_t *check;
	char            *err;
	size_t           errlen;
};

static int
props_keep_cb(void *arg, unsigned line, const char *name, const char *value)
{
	struct props_ctx *c = arg;
	struct kafka_prop *p;
	char errstr[512], clean[512];

	if (kafka_prop_reserved(name)) {
		snprintf(c->err, c->errlen, "%s: line %u: %s is set by furrow (at least once depends "
		    "on it)", kcfg.props_path, line, name);
		return 1;
	}
	/* librdkafka checks the name and the value now, so that a mistake fails at startup */
	if (rd_kafka_conf_set(c->check, name, value, errstr, sizeof(errstr)) != RD_KAFKA_CONF_OK) {
		redact_value(errstr, value, clean, sizeof(clean));
		snprintf(c->err, c->errlen, "%s: line %u: %s", kcfg.props_path, line, clean);
		return 1;
	}
	p = realloc(kcfg.props, (kcfg.nprops + 1) * sizeof(*p));
	if (p == NULL) {
		snprintf(c->err, c->errlen, "out of memory");
		return 1;
	}
	kcfg.props = p;
	p = &kcfg.props[kcfg.nprops];
	if ((p->name = strdup(name)) == NULL || (p->value = strdup(value)) == NULL) {
		free(p->name);
		snprintf(c->err, c->errlen, "out of memory");
		return 1;
	}
	p->line = line;
	kcfg.nprops++;
	return 0;
}

static void
kcfg_clear(void)
{
	size_t i;

	for (i = 0; i < kcfg.nprops; i++) {
		explicit_bzero(kcfg.props[i].value, strlen(kcfg.props[i].value));
		free(kcfg.props[i].value);
		free(kcfg.props[i].name);
	}
	free(kcfg.props);
	free(kcfg.brokers);
	free(kcfg.client_id);
	free(kcfg.props_path);
	memset(&kcfg, 0, sizeof(kcfg));
}

static int
kafka_have_brokers(void)
{
	size_t i;

	if (kcfg.brokers)
		return 1;
	for (i = 0; i < kcfg.nprops; i++)
		if (strcmp(kcfg.props[i].name, "bootstrap.servers") == 0 ||
		    strcmp(kcfg.props[i].name, "metadata.broker.list") == 0)
			return 1;
	return 0;
}

int
stream_kafka_setup(const struct stream_kafka_conf *conf, char *err, size_t errlen)
{
	struct props_ctx c;
	int rc = 0;

	kcfg_clear();
	kcfg.notify = conf->notify;
	snprintf(kcfg.linger_ms, sizeof(kcfg.linger_ms), "%ld",
	    conf->linger_ms > 0 ? conf->linger_ms : (long)STREAM_KAFKA_LINGER_MS);
	if ((conf->brokers && (kcfg.brokers = strdup(conf->brokers)) == NULL) ||
	    (kcfg.client_id = strdup(conf->client_id ? conf->client_id : "furrow")) == NULL ||
	    (conf->properties && (kcfg.props_path = strdup(conf->properties)) == NULL)) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	if (conf->properties) {
		c.check = rd_kafka_conf_new();
		c.err = err;
		c.errlen = errlen;
		rc = props_load(conf->properties, props_keep_cb, &c, err, errlen);
		rd_kafka_conf_destroy(c.check);
		if (rc != 0)
			return -1;
	}
	if (!kafka_have_brokers()) {
		stream_set_err(err, errlen, "kafka: no brokers (--kafka-brokers, FURROW_KAFKA_BROKERS "
		    "or bootstrap.servers in --kafka-properties)");
		return -1;
	}
	kcfg.configured = 1;
	return 0;
}

int
stream_kafka_prepare(const char *const *specs, size_t n, struct stream_kafka_conf *conf,
    char *err, size_t errlen)
{
	if (!stream_specs_any(specs, n, stream_spec_is_kafka))
		return 0;
	stream_kafka_conf_env(conf);
	return stream_kafka_setup(conf, err, errlen);
}

static int
conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *err, size_t errlen)
{
	char errstr[512], clean[512];

	if (rd_kafka_conf_set(conf, name, value, errstr, sizeof(errstr)) == RD_KAFKA_CONF_OK)
		return 0;
	redact_value(errstr, value, clean, sizeof(clean));
	stream_set_err(err, errlen, "kafka: %s", clean);
	return -1;
}

/* librdkafka's log and errors, through the stage's notice callback (on the stage's thread:
 * log.queue is on). */
static void
kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
	(void)rk;
	/* syslog levels: 0-3 errors, 4 warnings, 5-6 notices and information, 7 debug */
	notify(level <= 3 ? 0 : level == 4 ? 1 : level <= 6 ? 2 : 3, "kafka: %s: %s", fac, buf);
}

static void
kafka_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
	(void)rk;
	(void)opaque;
	/* every broker down is the interesting one; single transport errors are in the log */
	notify(err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__FATAL ?
	    0 : 1, "kafka: %s", reason);
}

/*
 * librdkafka's network threads allocate a buffer for every fetch response and every produce
 * request (up to megabytes) and free it soon after. With glibc's defaults such a buffer is
 * mmap'ed and unmapped, or the heap top trimmed, each time, so the thread page-faults its way
 * through every response: measured, a fifth of enrich's Kafka overhead (bench/kafka.sh part 1:
 * the network thread's CPU -25 %). Keep buffers up to 32 MB on the heap and up to 64 MB of freed
 * memory before giving it back: a bounded cost in resident memory for a process that is
 * streaming anyway. Process-wide, so done once, when the first Kafka client is configured.
 */
static void
keep_network_buffers(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	static int done;

	if (done)
		return;
	done = 1;
	mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
}

/*
 * A configuration: furrow's defaults, then the properties file, then the flags, then what at
 * least once needs (which the file cannot change).
 */
static rd_kafka_conf_t *
kafka_conf_new(int consumer, const char *group, char *err, size_t errlen)
{
	const char *const producer_defaults[][2] = {
		{ "acks", "all" },
		{ "enable.idempotence", "false" },    /* see the top of this file */
		{ "message.timeout.ms", "0" },          /* never give up on an accepted record */
		{ "partitioner", "murmur2_random" },    /* the Java producer's partitioning */
		{ "queue.buffering.max.kbytes", "65536" },
		{ "linger.ms", kcfg.linger_ms },       /* the stage's (stream_kafka_conf) */
	};
	static const char *const consumer_defaults[][2] = {
		{ "auto.offset.reset", "earliest" },
		{ "partition.assignment.strategy", "cooperative-sticky" },
		{ "allow.auto.create.topics", "false" },
		{ "queued.max.messages.kbytes", "16384" },
	};
	rd_kafka_conf_t *conf;
	size_t i;

	keep_network_buffers();
	conf = rd_kafka_conf_new();

	if (!kcfg.configured || !kafka_have_brokers()) {
		stream_set_err(err, errlen, "kafka: no brokers (--kafka-brokers, "
		    "FURROW_KAFKA_BROKERS or bootstrap.servers in --kafka-properties)");
		errno = EINVAL;
		goto fail;
	}
	if (consumer) {
		for (i = 0; i < sizeof(consumer_defaults) / sizeof(consumer_defaults[0]); i++)
			if (conf_set(conf, consumer_defaults[i][0], consumer_defaults[i][1], err,
			    errlen) == -1)
				goto fail;
	} else {
		for (i = 0; i < sizeof(producer_defaults) / sizeof(producer_defaults[0]); i++)
			if (conf_set(conf, producer_defaults[i][0], producer_defaults[i][1], err,
			    errlen) == -1)
				goto fail;
	}
	if (conf_set(conf, "client.id", kcfg.client_id, err, errlen) == -1)
		goto fail;
	for (i = 0; i < kcfg.nprops; i++)
		if (conf_set(conf, kcfg.props[i].name, kcfg.props[i].value, err, errlen) == -1)
			goto fail;
	if (kcfg.brokers && conf_set(conf, "bootstrap.servers", kcfg.brokers, err, errlen) == -1)
		goto fail;
	if (consumer && (conf_set(conf, "group.id", group, err, errlen) == -1 ||
	    conf_set(conf, "enable.auto.commit", "false", err, errlen) == -1 ||
	    conf_set(conf, "enable.auto.offset.store", "false", err, errlen) == -1))
		goto fail;
	if (conf_set(conf, "log.queue", "true", err, errlen) == -1)
		goto fail;
	rd_kafka_conf_set_log_cb(conf, kafka_log_cb);
	rd_kafka_conf_set_error_cb(conf, kafka_error_cb);
	return conf;
fail:
	rd_kafka_conf_destroy(conf);
	errno = EINVAL;
	return NULL;
}

static int
wake_pipe(int fds[2])
{
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) == -1)
		return -1;
	return 0;
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

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The topic's partitions, waiting up to KAFKA_META_MS. Returns the count, or -1 (err). */
static int
kafka_topic_partitions(rd_kafka_t *rk, const char *topic, int32_t **ids, char *err,
    size_t errlen)
{
	const struct rd_kafka_metadata *md = NULL;
	rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
	rd_kafka_resp_err_t e;
	int n = -1, i;

	if (rkt == NULL) {
		stream_set_err(err, errlen, "kafka:%s: %s", topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	e = rd_kafka_metadata(rk, 0, rkt, &md, KAFKA_META_MS);
	rd_kafka_topic_destroy(rkt);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		stream_set_err(err, errlen, "kafka:%s: no broker answered within %d s (%s)", topic,
		    KAFKA_META_MS / 1000, rd_kafka_err2str(e));
		errno = EHOSTUNREACH;
		return -1;
	}
	if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
		e = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
		stream_set_err(err, errlen, "kafka:%s: %s", topic,
		    e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? "no such topic (create it first)" :
		    rd_kafka_err2str(e));
		errno = e == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ? ENOENT : EIO;
		goto out;
	}
	n = md->topics[0].partition_cnt;
	if (ids) {
		if ((*ids = calloc((size_t)n + 1, sizeof(**ids))) == NULL) {
			stream_set_err(err, errlen, "out of memory");
			n = -1;
			goto out;
		}
		for (i = 0; i < n; i++)
			(*ids)[i] = md->topics[0].partitions[i].id;
	}
out:
	rd_kafka_metadata_destroy(md);
	return n;
}

static int
topic_name_ok(const char *t, char *err, size_t errlen)
{
	size_t i, n = strlen(t);

	for (i = 0; i < n; i++)
		if (!((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') ||
		    (t[i] >= '0' && t[i] <= '9') || t[i] == '.' || t[i] == '_' || t[i] == '-'))
			break;
	if (n == 0 || n > KAFKA_TOPIC_MAX || i < n) {
		stream_set_err(err, errlen, "kafka:%s: a topic name is 1 to %d of [A-Za-z0-9._-]",
		    t, KAFKA_TOPIC_MAX);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* ---- sinks ---- */

struct kafka_sink;

#define KAFKA_SINKS_MAX 16            /* sinks of one process (a message names its own) */

/* The producer every sink of the process shares. */
static struct {
	rd_kafka_t        *rk;
	rd_kafka_queue_t  *mainq;
	int                wake[2];
	unsigned           refs;
	size_t             ring;          /* per-sink in-flight bound (a power of two) */
	size_t             max_record;
	struct kafka_sink *sinks[KAFKA_SINKS_MAX];   /* by index; closed ones stay until the
	                                             * producer goes (late reports find them) */
} kprod = { NULL, NULL, { -1, -1 }, 0, 0, 0, { NULL } };

struct kafka_sink {
	struct stream_sink *ss;
	rd_kafka_topic_t   *rkt;
	uint8_t            *acked;        /* delivery flags by sequence number, a ring */
	uint64_t            produced;     /* the next sequence number */
	uint64_t            low;          /* the first not yet acknowledged */
	uint64_t            fail_seq;     /* the first that failed for good; UINT64_MAX: none */
	size_t              unacked;      /* bytes produced and not yet reported */
	struct buf          failed;       /* line forms of records that failed for good */
	size_t              nfailed, failed_dropped;
	struct stream_key   key;
	struct stream_sink_fields fields;
	int                *attr_cols;
	char              **attr_names;
	unsigned            idx;          /* in kprod.sinks */
};

#define KS(s) ((struct kafka_sink *)(s)->impl)

/* The sequence number, the sink and "binary" ride in the message's opaque. */
#define SEQ_OPAQUE(k, seq, bin) \
	((void *)(uintptr_t)(((uint64_t)(seq) << 5) | ((uint64_t)(k)->idx << 1) | ((bin) ? 1u : 0u)))

static void
sink_keep_failed(struct kafka_sink *k, const rd_kafka_message_t *m, int binary)
{
	if (k->failed.len + stream_line_form_len(m->len, binary) > KAFKA_FAILED_MAX ||
	    stream_line_form(&k->failed, m->payload, m->len, binary) == -1) {
		k->failed_dropped++;
		return;
	}
	k->nfailed++;
}

static void
kafka_dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
	uint64_t v = (uint64_t)(uintptr_t)m->_private, seq = v >> 5;
	struct kafka_sink *k = kprod.sinks[(v >> 1) & (KAFKA_SINKS_MAX - 1)];
	size_t mask;

	(void)rk;
	(void)opaque;
	if (k == NULL || k->acked == NULL)
		return;
	mask = kprod.ring - 1;
	k->unacked -= m->len < k->unacked ? m->len : k->unacked;
	if (m->err) {
		sink_keep_failed(k, m, (int)(v & 1));
		if (seq < k->fail_seq) {
			k->fail_seq = seq;
			if (k->ss)
				snprintf(k->ss->error, sizeof(k->ss->error), "%s: delivery failed: %s",
				    k->ss->name, rd_kafka_err2str(m->err));
		}
	}
	k->acked[seq & mask] = 1;
	while (k->low < k->produced && k->acked[k->low & mask]) {
		k->acked[k->low & mask] = 0;
		k->low++;
	}
}

static size_t
next_pow2(size_t n)
{
	size_t p = KAFKA_RING_MIN;

	while (p < n && p < KAFKA_RING_MAX)
		p <<= 1;
	return p;
}

static int
producer_get(char *err, size_t errlen)
{
	rd_kafka_conf_t *conf;
	char errstr[512], v[64];
	size_t vlen;

	if (kprod.rk) {
		kprod.refs++;
		return 0;
	}
	if ((conf = kafka_conf_new(0, NULL, err, errlen)) == NULL)
		return -1;
	vlen = sizeof(v);
	kprod.ring = next_pow2(rd_kafka_conf_get(conf, "queue.buffering.max.messages", v, &vlen) ==
	    RD_KAFKA_CONF_OK ? (size_t)strtoull(v, NULL, 10) : 100000);
	vlen = sizeof(v);
	kprod.max_record = rd_kafka_conf_get(conf, "message.max.bytes", v, &vlen) ==
	    RD_KAFKA_CONF_OK ? (size_t)strtoull(v, NULL, 10) : 1000000;
	kprod.max_record = kprod.max_record > 2 * KAFKA_RECORD_SLACK ?
	    kprod.max_record - KAFKA_RECORD_SLACK : KAFKA_RECORD_SLACK;
	rd_kafka_conf_set_dr_msg_cb(conf, kafka_dr_cb);
	if ((kprod.rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr))) == NULL) {
		char clean[512];
		rd_kafka_conf_destroy(conf);
		redact_props(errstr, clean, sizeof(clean));
		stream_set_err(err, errlen, "kafka: %s", clean);
		errno = EINVAL;
		return -1;
	}
	rd_kafka_set_log_queue(kprod.rk, NULL);
	if (wake_pipe(kprod.wake) == -1) {
		stream_set_err(err, errlen, "pipe: %s", strerror(errno));
		rd_kafka_destroy(kprod.rk);
		kprod.rk = NULL;
		return -1;
	}
	kprod.mainq = rd_kafka_queue_get_main(kprod.rk);
	rd_kafka_queue_io_event_enable(kprod.mainq, kprod.wake[1], "p", 1);
	/* librdkafka writes only when its queue goes from empty to not empty, and it is not empty
	 * now (the log of its start): the first poll is ours to ask for */
	wake_kick(kprod.wake[1]);
	kprod.refs = 1;
	return 0;
}

static void
sink_free(struct kafka_sink *k)
{
	size_t i;

	for (i = 0; i < k->fields.n_attrs; i++)
		free(k->attr_names[i]);
	free(k->attr_names);
	free(k->attr_cols);
	free(k->acked);
	buf_free(&k->failed);
	free(k);
}

static void
producer_put(void)
{
	unsigned i;

	if (kprod.rk == NULL || --kprod.refs > 0)
		return;
	rd_kafka_flush(kprod.rk, KAFKA_CLOSE_MS);
	rd_kafka_queue_io_event_enable(kprod.mainq, -1, NULL, 0);
	rd_kafka_queue_destroy(kprod.mainq);
	rd_kafka_destroy(kprod.rk);
	kprod.rk = NULL;
	close(kprod.wake[0]);
	close(kprod.wake[1]);
	kprod.wake[0] = kprod.wake[1] = -1;
	for (i = 0; i < KAFKA_SINKS_MAX; i++) {
		if (kprod.sinks[i])
			sink_free(kprod.sinks[i]);
		kprod.sinks[i] = NULL;
	}
}

static int
kafka_sink_open(struct stream_sink *ss, const char *topic, int std_fd, char *err, size_t errlen)
{
	struct kafka_sink *k;
	unsigned i;

	(void)std_fd;
	if (topic_name_ok(topic, err, errlen) == -1)
		return -1;
	if ((k = calloc(1, sizeof(*k))) == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	k->ss = ss;
	k->fail_seq = UINT64_MAX;
	stream_key_init(&k->key);
	buf_init(&k->failed, KAFKA_FAILED_MAX + 1);
	if (producer_get(err, errlen) == -1) {
		sink_free(k);
		return -1;
	}
	for (i = 0; i < KAFKA_SINKS_MAX && kprod.sinks[i]; i++)
		;
	if (i == KAFKA_SINKS_MAX) {
		stream_set_err(err, errlen, "kafka:%s: more than %d Kafka outputs", topic,
		    KAFKA_SINKS_MAX);
		sink_free(k);
		producer_put();
		errno = EMFILE;
		return -1;
	}
	k->idx = i;
	kprod.sinks[i] = k;
	ss->impl = k;
	if ((k->acked = calloc(kprod.ring, 1)) == NULL) {
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	if ((k->rkt = rd_kafka_topic_new(kprod.rk, topic, NULL)) == NULL) {
		stream_set_err(err, errlen, "kafka:%s: %s", topic,
		    rd_kafka_err2str(rd_kafka_last_error()));
		return -1;
	}
	if (kafka_topic_partitions(kprod.rk, topic, NULL, err, errlen) < 0)
		return -1;
	return 0;
}

static int
kafka_sink_close(struct stream_sink *ss)
{
	struct kafka_sink *k = ss->impl;

	if (k == NULL)
		return 0;
	ss->impl = NULL;
	if (kprod.rk == NULL) {
		sink_free(k);
		return 0;
	}
	/* deliveries still reported after this point find no stream (k->ss NULL); the sink itself
	 * stays in kprod.sinks until the producer goes */
	k->ss = NULL;
	if (k->rkt)
		rd_kafka_topic_destroy(k->rkt);
	k->rkt = NULL;
	producer_put();
	return 0;
}

/*
 * Produce one record. Returns 0, or -1 with errno EAGAIN (the producer's queue or our ring is
 * full: flush later) or EIO (s->error says why).
 */
static int
sink_produce(struct stream_sink *ss, const char *data, size_t len, int binary)
{
	struct kafka_sink *k = ss->impl;
	char uuid[UUID_STR_LEN + 1];
	const char *key;
	size_t keylen, i;
	rd_kafka_headers_t *hdrs = NULL;
	rd_kafka_resp_err_t e;

	if (k->fail_seq != UINT64_MAX) {
		errno = EIO;
		return -1;
	}
	if (k->produced - k->low >= kprod.ring) {
		snprintf(ss->error, sizeof(ss->error), "%s: %zu records not yet acknowledged",
		    ss->name, kprod.ring);
		errno = EAGAIN;
		return -1;
	}
	if (stream_key_of(&k->key, data, len, binary, uuid, &key, &keylen) == -1) {
		snprintf(ss->error, sizeof(ss->error), "%s: getrandom: %s", ss->name,
		    strerror(errno));
		errno = EIO;
		return -1;
	}
	if (k->fields.n_attrs > 0 && !binary) {
		hdrs = rd_kafka_headers_new(k->fields.n_attrs);
		for (i = 0; i < k->fields.n_attrs; i++) {
			size_t vl;
			const char *v = stream_tsv_field(data, len, k->attr_cols[i], &vl);
			if (v)
				rd_kafka_header_add(hdrs, k->attr_names[i], -1, v, (ssize_t)vl);
		}
	}
	if (hdrs)
		e = rd_kafka_producev(kprod.rk, RD_KAFKA_V_RKT(k->rkt),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)data, len),
		    RD_KAFKA_V_KEY(key, keylen), RD_KAFKA_V_HEADERS(hdrs),
		    RD_KAFKA_V_OPAQUE(SEQ_OPAQUE(k, k->produced, binary)), RD_KAFKA_V_END);
	else
		e = rd_kafka_producev(kprod.rk, RD_KAFKA_V_RKT(k->rkt),
		    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_VALUE((void *)data, len),
		    RD_KAFKA_V_KEY(key, keylen),
		    RD_KAFKA_V_OPAQUE(SEQ_OPAQUE(k, k->produced, binary)), RD_KAFKA_V_END);
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
		if (hdrs)
			rd_kafka_headers_destroy(hdrs);
		snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name,
		    e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? "the producer's queue is full (is the broker "
		    "reachable?)" : rd_kafka_err2str(e));
		errno = e == RD_KAFKA_RESP_ERR__QUEUE_FULL ? EAGAIN : EIO;
		return -1;
	}
	k->produced++;
	k->unacked += len;
	return 0;
}

static void
kafka_sink_serve(struct stream_sink *ss)
{
	(void)ss;
	if (kprod.rk == NULL)
		return;
	wake_drain(kprod.wake[0]);
	rd_kafka_poll(kprod.rk, 0);
}

static enum stream_status
kafka_sink_flush(struct stream_sink *ss)
{
	struct kafka_sink *k = ss->impl;
	struct buf *q = &ss->q;
	size_t off = 0;

	rd_kafka_poll(kprod.rk, 0);
	while (off < q->len) {
		const char *line = q->data + off;
		const char *nl = memchr(line, '\n', q->len - off);
		size_t len = nl ? (size_t)(nl - line) : q->len - off;

		if (sink_produce(ss, line, len, 0) == -1) {
			buf_consume(q, off);
			if (errno == EAGAIN) {
				rd_kafka_poll(kprod.rk, 0);
				return STREAM_BLOCKED;
			}
			return STREAM_ERROR;
		}
		off += len + (nl ? 1 : 0);
	}
	buf_reset(q);
	if (k->fail_seq != UINT64_MAX)
		return STREAM_ERROR;
	return STREAM_OK;
}

static int
kafka_sink_put_binary(struct stream_sink *ss, const void *data, size_t len)
{
	/* records queued as lines go first, so that the order is kept */
	if (ss->q.len > 0 && kafka_sink_flush(ss) != STREAM_OK) {
		errno = EAGAIN;
		return -1;
	}
	return sink_produce(ss, data, len, 1);
}

static uint64_t
kafka_sink_mark(struct stream_sink *ss)
{
	return KS(ss)->produced;
}

static int
kafka_sink_acked(struct stream_sink *ss, uint64_t ticket)
{
	struct kafka_sink *k = ss->impl;

	if (k->fail_seq < ticket)
		return -1;
	return k->low >= ticket;
}

static size_t
kafka_sink_unacked(const struct stream_sink *ss)
{
	return KS(ss)->unacked;
}

static int
kafka_sink_fd(const struct stream_sink *ss)
{
	(void)ss;
	return kprod.wake[0];
}

static int
kafka_sink_retry_ms(const struct stream_sink *ss)
{
	(void)ss;
	return KAFKA_RETRY_MS;
}

static size_t
kafka_sink_max_record(const struct stream_sink *ss)
{
	(void)ss;
	return kprod.max_record;
}

static int
kafka_sink_set_key(struct stream_sink *ss, const char *key, size_t len)
{
	stream_key_set(&KS(ss)->key, key, len);
	return 0;
}

static int
kafka_sink_set_fields(struct stream_sink *ss, const struct stream_sink_fields *f, char *err,
    size_t errlen)
{
	struct kafka_sink *k = ss->impl;
	size_t i;

	k->key.column = f->key_column;
	if (f->n_attrs == 0)
		return 0;
	k->attr_cols = calloc(f->n_attrs, sizeof(*k->attr_cols));
	k->attr_names = calloc(f->n_attrs, sizeof(*k->attr_names));
	if (k->attr_cols == NULL || k->attr_names == NULL)
		goto oom;
	for (i = 0; i < f->n_attrs; i++) {
		k->attr_cols[i] = f->attr_columns[i];
		if ((k->attr_names[i] = strdup(f->attr_names[i])) == NULL)
			goto oom;
		k->fields.n_attrs = i + 1;
	}
	return 0;
oom:
	stream_set_err(err, errlen, "out of memory");
	return -1;
}

static size_t
kafka_sink_take_failed(struct stream_sink *ss, struct buf *lines)
{
	struct kafka_sink *k = ss->impl;
	size_t n = k->nfailed;

	rd_kafka_poll(kprod.rk, 0);
	n = k->nfailed;
	if (n == 0)
		return 0;
	if (buf_append(lines, k->failed.data, k->failed.len) == -1)
		return 0;
	buf_reset(&k->failed);
	k->nfailed = 0;
	return n;
}

static void
kafka_sink_purge(struct stream_sink *ss)
{
	(void)ss;
	/* queued and in-flight records come back as failed delivery reports; an in-flight one may
	 * still have reached the broker: a duplicate at worst, never a loss */
	int64_t deadline = mono_ms() + KAFKA_PURGE_MS;
	unsigned i;

	rd_kafka_purge(kprod.rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
	/* their delivery reports come at the next polls */
	for (;;) {
		rd_kafka_poll(kprod.rk, 10);
		for (i = 0; i < KAFKA_SINKS_MAX; i++)
			if (kprod.sinks[i] && kprod.sinks[i]->low < kprod.sinks[i]->produced)
				break;
		if (i == KAFKA_SINKS_MAX || mono_ms() >= deadline)
			break;
	}
}

const struct stream_sink_ops stream_kafka_sink_ops = {
	.prefix = KAFKA_PREFIX,
	.open = kafka_sink_open,
	.close = kafka_sink_close,
	.flush = kafka_sink_flush,
	.put_binary = kafka_sink_put_binary,
	.mark = kafka_sink_mark,
	.acked = kafka_sink_acked,
	.serve = kafka_sink_serve,
	.unacked = kafka_sink_unacked,
	.fd = kafka_sink_fd,
	.retry_ms = kafka_sink_retry_ms,
	.max_record = kafka_sink_max_record,
	.set_key = kafka_sink_set_key,
	.set_fields = kafka_sink_set_fields,
	.take_failed = kafka_sink_take_failed,
	.purge = kafka_sink_purge,
};

/* ---- sources ---- */

/* A record read and not yet covered by a commit. */
struct kafka_mark {
	uint64_t end;          /* the position after it */
	int64_t  offset;
	int32_t  partition;    /* -1: its partition was revoked */
};

struct kafka_source {
	struct stream_source *ss;
	rd_kafka_t           *rk;
	rd_kafka_queue_t     *cq;
	int                   wake[2];
	char                 *topic;
	int                   grouped;
	rd_kafka_message_t   *held;       /* the record returned last */
	struct stream_recs    recs;       /* the records' line forms and the position */
	struct kafka_mark    *marks;      /* a ring */
	size_t                mcap, mhead, mcount;
	int64_t              *next_off;   /* by partition: the offset to commit */
	uint8_t              *dirty;
	int32_t               nparts;     /* size of next_off and dirty */
	int                   ndirty;
	int                   idle;       /* the last next() found nothing */
	int64_t               last_commit_ms;
	char                  fatal[200];
};

#define KSRC(s) ((struct kafka_source *)(s)->impl)

static int
ensure_partition(struct kafka_source *k, int32_t p)
{
	int32_t n;
	int64_t *no;
	uint8_t *d;

	if (p < k->nparts)
		return 0;
	n = p + 16;
	if ((no = realloc(k->next_off, (size_t)n * sizeof(*no))) == NULL)
		return -1;
	k->next_off = no;
	if ((d = realloc(k->dirty, (size_t)n)) == NULL)
		return -1;
	k->dirty = d;
	memset(k->next_off + k->nparts, 0, (size_t)(n - k->nparts) * sizeof(*no));
	memset(k->dirty + k->nparts, 0, (size_t)(n - k->nparts));
	k->nparts = n;
	return 0;
}

static int
mark_push(struct kafka_source *k, uint64_t end, int64_t offset, int32_t partition)
{
	struct kafka_mark *m;

	if (k->mcount == k->mcap) {
		size_t ncap = k->mcap ? k->mcap * 2 : 4096, i;
		struct kafka_mark *nm = malloc(ncap * sizeof(*nm));
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
	m->offset = offset;
	m->partition = partition;
	k->mcount++;
	return 0;
}

/* Send the acknowledged offsets. sync: wait for the answer (a revoke, the close). */
static int
commit_dirty(struct kafka_source *k, int sync, const rd_kafka_topic_partition_list_t *only)
{
	rd_kafka_topic_partition_list_t *l;
	rd_kafka_resp_err_t e;
	int32_t p;

	if (!k->grouped || k->ndirty == 0)
		return 0;
	l = rd_kafka_topic_partition_list_new(k->ndirty);
	for (p = 0; p < k->nparts; p++) {
		if (!k->dirty[p])
			continue;
		if (only && rd_kafka_topic_partition_list_find(only, k->topic, p) == NULL)
			continue;
		rd_kafka_topic_partition_list_add(l, k->topic, p)->offset = k->next_off[p];
		k->dirty[p] = 0;
		k->ndirty--;
	}
	e = l->cnt ? rd_kafka_commit(k->rk, l, sync ? 0 : 1) : RD_KAFKA_RESP_ERR_NO_ERROR;
	rd_kafka_topic_partition_list_destroy(l);
	k->last_commit_ms = mono_ms();
	if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR__NO_OFFSET) {
		/* not fatal: what was not committed is read again (at least once) */
		notify(1, "kafka:%s: committing offsets: %s", k->topic, rd_kafka_err2str(e));
	}
	return 0;
}

static void
kafka_commit_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
	(void)rk;
	(void)offsets;
	(void)opaque;
	if (err != RD_KAFKA_RESP_ERR_NO_ERROR && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
		notify(1, "kafka: an offset commit failed (%s): those records are read again after "
		    "the next rebalance", rd_kafka_err2str(err));
}

static void
parts_text(const rd_kafka_topic_partition_list_t *l, char *out, size_t outlen)
{
	size_t o = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < l->cnt && o + 16 < outlen; i++)
		o += (size_t)snprintf(out + o, outlen - o, "%s%d", i ? "," : "",
		    (int)l->elems[i].partition);
	if (i < l->cnt)
		snprintf(out + o, outlen - o, ",...");
}

static void
kafka_rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
    rd_kafka_topic_partition_list_t *parts, void *opaque)
{
	struct stream_source *ss = opaque;
	struct kafka_source *k = ss->impl;
	int coop = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
	rd_kafka_error_t *e = NULL;
	rd_kafka_resp_err_t re = RD_KAFKA_RESP_ERR_NO_ERROR;
	char list[256];
	size_t i, forgotten = 0;

	parts_text(parts, list, sizeof(list));
	if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
		notify(2, "kafka:%s: assigned partitions %s", k->topic, list);
		if (coop)
			e = rd_kafka_incremental_assign(rk, parts);
		else
			re = rd_kafka_assign(rk, parts);
	} else {
		if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS && !rd_kafka_assignment_lost(rk)) {
			/* what the sinks acknowledge in a moment is committed before the partitions
			 * go to their new owner */
			stream_source_settle(ss, KAFKA_REVOKE_WAIT_MS);
			commit_dirty(k, 1, parts);
		}
		for (i = 0; i < k->mcount; i++) {
			struct kafka_mark *m = &k->marks[(k->mhead + i) % k->mcap];
			if (m->partition >= 0 &&
			    rd_kafka_topic_partition_list_find(parts, k->topic, m->partition)) {
				m->partition = -1;
				forgotten++;
			}
		}
		for (i = 0; i < (size_t)parts->cnt; i++) {
			int32_t p = parts->elems[i].partition;
			if (p >= 0 && p < k->nparts && k->dirty[p]) {
				k->dirty[p] = 0;
				k->ndirty--;
			}
		}
		notify(2, "kafka:%s: %s partitions %s (%zu records read from them and not committed "
		    "are read again by their next owner)", k->topic,
		    rd_kafka_assignment_lost(rk) ? "lost" : "revoked", list, forgotten);
		if (coop)
			e = rd_kafka_incremental_unassign(rk, parts);
		else
			re = rd_kafka_assign(rk, NULL);
	}
	if (e) {
		notify(0, "kafka:%s: (un)assigning partitions: %s", k->topic, rd_kafka_error_string(e));
		rd_kafka_error_destroy(e);
	} else if (re != RD_KAFKA_RESP_ERR_NO_ERROR) {
		notify(0, "kafka:%s: (un)assigning partitions: %s", k->topic, rd_kafka_err2str(re));
	}
}

static void
kafka_source_close(struct stream_source *ss)
{
	struct kafka_source *k = ss->impl;

	if (k == NULL)
		return;
	if (k->held)
		rd_kafka_message_destroy(k->held);
	if (k->rk) {
		commit_dirty(k, 1, NULL);
		if (k->cq) {
			rd_kafka_queue_io_event_enable(k->cq, -1, NULL, 0);
			rd_kafka_queue_destroy(k->cq);
		}
		/* leaves the group: the revoke runs here, while the source still exists */
		rd_kafka_consumer_close(k->rk);
		rd_kafka_destroy(k->rk);
	}
	if (k->wake[0] >= 0)
		close(k->wake[0]);
	if (k->wake[1] >= 0)
		close(k->wake[1]);
	stream_recs_free(&k->recs);
	free(k->marks);
	free(k->next_off);
	free(k->dirty);
	free(k->topic);
	free(k);
	ss->impl = NULL;
}

static int
kafka_source_open(struct stream_source *ss, const char *topic,
    const struct stream_source_opts *o, char *err, size_t errlen)
{
	struct kafka_source *k;
	rd_kafka_conf_t *conf;
	char errstr[512], group[128];
	int32_t *ids = NULL;
	int n, i;

	if (topic_name_ok(topic, err, errlen) == -1)
		return -1;
	if ((k = calloc(1, sizeof(*k))) == NULL || (k->topic = strdup(topic)) == NULL) {
		free(k);
		stream_set_err(err, errlen, "out of memory");
		return -1;
	}
	ss->impl = k;
	k->ss = ss;
	k->wake[0] = k->wake[1] = -1;
	k->grouped = o->group != NULL;
	stream_recs_init(&k->recs, o);
	if (o->group) {
		snprintf(group, sizeof(group), "%s", o->group);
	} else {
		/* a group of its own that never joins or commits: librdkafka wants one to assign */
		char u[UUID_STR_LEN + 1];
		if (uuid_v4(u) == -1)
			snprintf(u, sizeof(u), "%ld", (long)getpid());
		snprintf(group, sizeof(group), "furrow-nogroup-%s", u);
	}
	if ((conf = kafka_conf_new(1, group, err, errlen)) == NULL)
		return -1;
	rd_kafka_conf_set_opaque(conf, ss);
	if (k->grouped) {
		rd_kafka_conf_set_rebalance_cb(conf, kafka_rebalance_cb);
		rd_kafka_conf_set_offset_commit_cb(conf, kafka_commit_cb);
	}
	if ((k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr))) == NULL) {
		char clean[512];
		rd_kafka_conf_destroy(conf);
		redact_props(errstr, clean, sizeof(clean));
		stream_set_err(err, errlen, "kafka: %s", clean);
		errno = EINVAL;
		return -1;
	}
	rd_kafka_poll_set_consumer(k->rk);
	rd_kafka_set_log_queue(k->rk, NULL);
	if ((n = kafka_topic_partitions(k->rk, topic, &ids, err, errlen)) < 0)
		return -1;
	if (k->grouped) {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
		rd_kafka_resp_err_t e;
		rd_kafka_topic_partition_list_add(l, topic, RD_KAFKA_PARTITION_UA);
		e = rd_kafka_subscribe(k->rk, l);
		rd_kafka_topic_partition_list_destroy(l);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			stream_set_err(err, errlen, "kafka:%s: subscribing: %s", topic,
			    rd_kafka_err2str(e));
			free(ids);
			errno = EIO;
			return -1;
		}
	} else {
		rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(n);
		rd_kafka_resp_err_t e;
		for (i = 0; i < n; i++)
			rd_kafka_topic_partition_list_add(l, topic, ids[i])->offset =
			    o->tail_records ? RD_KAFKA_OFFSET_TAIL((int64_t)o->tail_records) :
			    o->from_end ? RD_KAFKA_OFFSET_END : RD_KAFKA_OFFSET_BEGINNING;
		e = rd_kafka_assign(k->rk, l);
		rd_kafka_topic_partition_list_destroy(l);
		if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
			stream_set_err(err, errlen, "kafka:%s: assigning: %s", topic,
			    rd_kafka_err2str(e));
			free(ids);
			errno = EIO;
			return -1;
		}
	}
	free(ids);
	if (wake_pipe(k->wake) == -1) {
		stream_set_err(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	k->cq = rd_kafka_queue_get_consumer(k->rk);
	rd_kafka_queue_io_event_enable(k->cq, k->wake[1], "c", 1);
	wake_kick(k->wake[1]);
	k->last_commit_ms = mono_ms();
	return 0;
}

/* The next message from the consumer, or NULL when there is none now (k->fatal set on a fatal
 * error). Events that are not records are handled here. */
static rd_kafka_message_t *
source_poll(struct kafka_source *k)
{
	rd_kafka_message_t *m;
	int drained = 0;

	for (;;) {
		m = rd_kafka_consumer_poll(k->rk, 0);
		if (m == NULL) {
			if (drained)
				return NULL;
			/* empty: take the wakeups, then look once more, so that a message queued
			 * in between is either seen now or wakes the next poll */
			wake_drain(k->wake[0]);
			drained = 1;
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR)
			return m;
		if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
			rd_kafka_message_destroy(m);
			continue;
		}
		if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
			char why[200];
			rd_kafka_fatal_error(k->rk, why, sizeof(why));
			snprintf(k->fatal, sizeof(k->fatal), "%s", why);
			rd_kafka_message_destroy(m);
			return NULL;
		}
		notify(1, "kafka:%s: %s", k->topic, rd_kafka_message_errstr(m));
		rd_kafka_message_destroy(m);
	}
}

static int
commit_due(struct kafka_source *k)
{
	return k->ndirty > 0 && (k->idle || mono_ms() - k->last_commit_ms >= KAFKA_COMMIT_MS);
}

static enum stream_status
kafka_source_next(struct stream_source *ss, struct stream_rec *rec)
{
	struct kafka_source *k = ss->impl;
	rd_kafka_message_t *m;
	enum stream_status status;

	if (k->held) {
		rd_kafka_message_destroy(k->held);
		k->held = NULL;
	}
	if ((m = source_poll(k)) == NULL) {
		if (k->fatal[0]) {
			snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name, k->fatal);
			return STREAM_ERROR;
		}
		k->idle = 1;
		if (commit_due(k))
			commit_dirty(k, 0, NULL);
		return STREAM_AGAIN;
	}
	k->idle = 0;
	k->held = m;
	status = stream_recs_next(&k->recs, rec, m->payload, m->len);
	if (k->grouped && (ensure_partition(k, m->partition) == -1 ||
	    mark_push(k, k->recs.pos, m->offset, m->partition) == -1)) {
		snprintf(ss->error, sizeof(ss->error), "%s: out of memory", ss->name);
		return STREAM_ERROR;
	}
	return status;
}

/* The line form of message m (stream_recs_form), and its commit mark when grouped. */
static int
line_form(struct kafka_source *k, const rd_kafka_message_t *m)
{
	long blanks = stream_recs_form(&k->recs, m->payload, m->len);

	if (blanks == -1)
		return -1;
	if (blanks > 0)
		notify(1, "kafka:%s: partition %d offset %lld: a record with a newline; the "
		    "newline is written as a blank", k->topic, (int)m->partition,
		    (long long)m->offset);
	if (k->grouped && (ensure_partition(k, m->partition) == -1 ||
	    mark_push(k, k->recs.pos + k->recs.line.len, m->offset, m->partition) == -1))
		return -1;
	return 0;
}

static ssize_t
kafka_source_read(struct stream_source *ss, char *buf, size_t cap, uint64_t *pos)
{
	struct kafka_source *k = ss->impl;
	size_t n = 0;
	rd_kafka_message_t *m;

	while (stream_recs_drain(&k->recs, buf, cap, &n)) {
		if ((m = source_poll(k)) == NULL)
			break;
		if (line_form(k, m) == -1) {
			rd_kafka_message_destroy(m);
			snprintf(ss->error, sizeof(ss->error), "%s: out of memory", ss->name);
			errno = ENOMEM;
			return -1;
		}
		rd_kafka_message_destroy(m);
	}
	if (n == 0) {
		if (k->fatal[0]) {
			snprintf(ss->error, sizeof(ss->error), "%s: %s", ss->name, k->fatal);
			errno = EIO;
			return -1;
		}
		k->idle = 1;
		if (commit_due(k))
			commit_dirty(k, 0, NULL);
		errno = EAGAIN;
		return -1;
	}
	k->idle = 0;
	*pos = k->recs.pos;
	return (ssize_t)n;
}

static int
kafka_source_commit(struct stream_source *ss, uint64_t pos, char *err, size_t errlen)
{
	struct kafka_source *k = ss->impl;

	(void)err;
	(void)errlen;
	while (k->mcount > 0) {
		struct kafka_mark *m = &k->marks[k->mhead];
		if (m->end > pos)
			break;
		if (m->partition >= 0) {
			if (!k->dirty[m->partition]) {
				k->dirty[m->partition] = 1;
				k->ndirty++;
			}
			k->next_off[m->partition] = m->offset + 1;
		}
		k->mhead = (k->mhead + 1) % k->mcap;
		k->mcount--;
	}
	if (commit_due(k))
		commit_dirty(k, 0, NULL);
	return 0;
}

static int
kafka_source_fd(const struct stream_source *ss)
{
	return KSRC(ss)->wake[0];
}

const struct stream_source_ops stream_kafka_source_ops = {
	.prefix = KAFKA_PREFIX,
	.open = kafka_source_open,
	.close = kafka_source_close,
	.next = kafka_source_next,
	.next_buffered = stream_recs_next_buffered,   /* a restart reads from the commits */
	.read = kafka_source_read,
	.commit = kafka_source_commit,
	.fd = kafka_source_fd,
	.follows = stream_recs_follows,
};
