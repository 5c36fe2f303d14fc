/*
 * sinkout: a sink stage's input, bad rows, spool and --dump (see sinkout.h).
 */
#include "sinkout.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "badrow.h"
#include "buf.h"
#include "log.h"
#include "metricsd.h"
#include "sig.h"
#include "stream.h"
#include "timefmt.h"
#include "utf8.h"

static void say(const struct sinkout *o, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(const struct sinkout *o, int level, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (o->notify == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->notify(level, msg);
}

static void
fail(int *status, int code)
{
	if (*status == 0)
		*status = code;
}

/* The Kafka and Kinesis settings, when the source or --bad is a topic or a stream. */
static int
prepare_brokers(const struct sinkout_conf *c, char *err, size_t errlen)
{
	const char *specs[2] = { c->source, c->bad_path };
	struct stream_kafka_conf kc = { .brokers = c->kafka_brokers,
	    .properties = c->kafka_properties, .client_id = c->artifact, .notify = c->notify };

	return stream_prepare(specs, 2, &kc, err, errlen) == -1 ? EX_CONFIG : 0;
}

int
sinkout_open(struct sinkout *o, const struct sinkout_conf *c, char *err, size_t errlen)
{
	struct stream_source_opts so;
	char why[512];
	int rc;

	memset(o, 0, sizeof(*o));
	o->artifact = c->artifact;
	o->notify = c->notify;
	if ((rc = prepare_brokers(c, err, errlen)) != 0)
		return rc;
	memset(&so, 0, sizeof(so));
	so.max_line = c->max_line;
	so.toolong_keep = 65536;
	so.group = stream_spec_has_groups(c->source) ? c->group : NULL;
	so.reclaim = c->reclaim;
	if ((o->in = stream_source_open(c->source, &so, why, sizeof(why))) == NULL) {
		rc = errno == ENOENT ? EX_NOINPUT : errno == EINVAL ? EX_CONFIG : EX_IOERR;
		snprintf(err, errlen, "--source %s", why);
		return rc;
	}
	o->bad = stream_sink_open(c->bad_path ? c->bad_path : "-", c->bad_path ? STDOUT_FILENO :
	    STDERR_FILENO, why, sizeof(why));
	if (o->bad == NULL) {
		rc = errno == EINVAL ? EX_CONFIG : EX_IOERR;
		snprintf(err, errlen, "--bad %s", why);
		return rc;
	}
	if (c->spool_path && (o->spool = stream_sink_open(c->spool_path, -1, why,
	    sizeof(why))) == NULL) {
		snprintf(err, errlen, "--spool %s", why);
		return EX_IOERR;
	}
	if (c->dump && (o->dump = stream_sink_open("-", STDOUT_FILENO, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "standard output: %s", why);
		return EX_IOERR;
	}
	/* a batch's position is committed once its bad rows are acknowledged too (a Kafka --bad) */
	if (stream_source_link(o->in, o->bad, err, errlen) == -1)
		return EX_SOFTWARE;
	return 0;
}

/* Close an output; a failure reported at close is a lost write. */
static int
close_sink(struct sinkout *o, struct stream_sink *s)
{
	char name[512];

	if (s == NULL)
		return 0;
	snprintf(name, sizeof(name), "%s", stream_sink_name(s));
	if (stream_sink_close(s) == 0)
		return 0;
	say(o, LOG_LVL_ERROR, "%s: write failed: %s", name, strerror(errno));
	return -1;
}

int
sinkout_close(struct sinkout *o)
{
	int status = 0;

	stream_source_close(o->in);
	o->in = NULL;
	if (close_sink(o, o->bad) == -1)
		status = EX_IOERR;
	if (close_sink(o, o->spool) == -1)
		status = EX_IOERR;
	if (close_sink(o, o->dump) == -1)
		status = EX_IOERR;
	o->bad = o->spool = o->dump = NULL;
	return status;
}

int
sinkout_flush(struct sinkout *o, int *status)
{
	struct stream_sink *sinks[3] = { o->bad, o->spool, o->dump };
	time_t since = 0, logged = 0;
	int i;

	for (i = 0; i < 3; i++) {
		enum stream_status r;

		if (sinks[i] == NULL)
			continue;
		while ((r = stream_sink_flush(sinks[i])) == STREAM_BLOCKED) {
			time_t now = time(NULL);
			if (since == 0) {
				since = now;
				o->blocked_since = timefmt_mono_ms();
			}
			if (now - logged >= SINKOUT_WAIT_LOG_S) {
				say(o, LOG_LVL_WARN, "%s; not reading more input until it can be written "
				    "(waiting %lds)", stream_sink_error(sinks[i]), (long)(now - since));
				logged = now;
			}
			if (sig_terminate && stream_source_follows(o->in))
				return -1;       /* uncommitted: read again at the next start */
			metricsd_poll(o->md, NULL, 0, stream_sink_retry_ms(sinks[i]));
		}
		if (r == STREAM_ERROR) {
			say(o, LOG_LVL_ERROR, "%s", stream_sink_error(sinks[i]));
			fail(status, EX_IOERR);
			return -1;
		}
	}
	if (since)
		say(o, LOG_LVL_INFO, "output written again after %lds", (long)(time(NULL) - since));
	o->blocked_since = 0;
	return 0;
}

void
sinkout_reopen(struct sinkout *o, int *status)
{
	struct stream_sink *sinks[2] = { o->bad, o->spool };
	int i;

	if (sinkout_flush(o, status) == -1)
		return;
	for (i = 0; i < 2; i++) {
		int r = sinks[i] ? stream_sink_reopen(sinks[i]) : 0;
		if (r == 0)
			continue;
		say(o, LOG_LVL_ERROR, "%s", stream_sink_error(sinks[i]));
		if (r == -2)
			fail(status, EX_IOERR);
	}
}

int
sinkout_bad(struct sinkout *o, const char *line, size_t len, int cut, const char *error,
    int *status)
{
	json_t *row;
	int rc = 0;

	if (cut)
		len = utf8_cut(line, len, SINKOUT_PAYLOAD_CUT_CHARS);
	row = badrow_generic_error(o->artifact, line, len, error);
	if (row == NULL || badrow_write(row, stream_sink_queue(o->bad)) == -1) {
		say(o, LOG_LVL_ERROR, "cannot build a bad row (out of memory)");
		fail(status, EX_SOFTWARE);
		rc = -1;
	} else {
		o->bad_rows++;
	}
	json_decref(row);
	return rc;
}

int
sinkout_spool(struct sinkout *o, const char *line, size_t len, int *status)
{
	if (stream_sink_put(o->spool, line, len) == -1) {
		say(o, LOG_LVL_ERROR, "%s: out of memory", stream_sink_name(o->spool));
		fail(status, EX_SOFTWARE);
		return -1;
	}
	o->spooled++;
	return 0;
}

double
sinkout_blocked_seconds(const struct sinkout *o, int64_t now_ms)
{
	return o->blocked_since ? (double)(now_ms - o->blocked_since) / 1000.0 : 0.0;
}

int
sinkout_health(const struct sinkout *o, long threshold_s, int64_t now_ms, struct buf *why)
{
	if (o->blocked_since && now_ms - o->blocked_since >= (int64_t)threshold_s * 1000) {
		buf_printf(why, "--bad or --spool blocked (full disk) for %llds (threshold %lds)",
		    (long long)((now_ms - o->blocked_since) / 1000), threshold_s);
		return 0;
	}
	return 1;
}
