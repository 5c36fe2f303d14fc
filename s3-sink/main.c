/*
 * s3-sink: archive a line stream (enriched TSV, raw records or bad rows) to S3 or an
 * S3-compatible store as gzip objects (sinks.md §3, cli.md "s3-sink").
 *
 * stdin -> open gzip files in the spool (synced after every block read) -> closed, fsynced files
 * named by their object key -> upload thread -> deleted once the store confirmed the PUT.
 * Nothing goes to stdout unless --print-keys asks for one line per uploaded object; lines of the
 * bad stream that cannot be placed become generic_error bad rows on --bad (§3.8).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "badrow.h"
#include "batch.h"
#include "buf.h"
#include "flagval.h"
#include "linelog.h"
#include "gz.h"
#include "redact.h"
#include "keys.h"
#include "linereader.h"
#include "log.h"
#include "sig.h"
#include "spool.h"
#include "stream.h"
#include "upload.h"
#include "version.h"
#include "worker.h"

#define PROG     "s3-sink"
#define ARTIFACT "furrow-s3-sink"


#define READ_CHUNK     (256 * 1024)
#define SEGMENT        (64 * 1024)       /* input compressed between two rotation checks */
#define BAD_PAYLOAD_CUT (64 * 1024)     /* payload kept in the bad row of an over-long line */

enum input_kind { IN_ENRICHED, IN_RAW, IN_BAD };

struct opts {
	const char *bucket, *prefix, *endpoint, *region, *spool, *partition, *bad_path;
	const char *source, *group;
	const char *kafka_brokers, *kafka_properties;
	int reclaim;
	enum input_kind input;
	int path_style, print_keys, level;
	uint64_t rotate_bytes, rotate_records, rotate_seconds;
	uint64_t spool_max, max_line, multipart_threshold, part_size;
	uint64_t retry_base_ms, retry_max_ms, retry_deadline, drain_seconds, connect_timeout;
	uint64_t stats_interval;
};

struct counters {
	uint64_t lines_in, bytes_in, lines_out, bad;
};

struct sink {
	struct opts      o;
	struct s3spool   spool;
	struct s3work    work;
	struct s3batch   batch;
	struct counters  c;
	int              bad_fd;
	int              bad_owned;
	struct buf       line;        /* bad mode: the line being assembled */
	int              discarding;  /* bad mode: inside an over-long line */
	uint64_t         discarded;
	char             endpoint_buf[512];
	int              rotate_pending;  /* stream mode: rotate once the current line ends */
	struct stream_source *in;     /* --source: standard input, a file, a log */
	char            *chunk;       /* the last block read ... */
	size_t           chunk_off;   /* ... how far it has been spooled ... */
	size_t           chunk_len;   /* ... and its length */
	uint64_t         chunk_end;   /* the input position after the block */
	int              no_limit;    /* shutting down: spool the rest whatever the spool size */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " --bucket NAME --spool DIR [options] < lines\n"
	    "  --bucket NAME            destination bucket (required)\n"
	    "  --prefix PREFIX          object name prefix, may contain '/' (default: empty)\n"
	    "  --partition TEMPLATE     key folder: {yyyy} {MM} {dd} {HH}, and for --input bad\n"
	    "                           {vendor} {schema} {format} {model} (bad: {vendor}.{schema})\n"
	    "  --input enriched|bad|raw what stdin carries (default: enriched)\n"
	    "  --spool DIR              staging directory (required)\n"
	    "  --spool-max-bytes N      stop reading stdin while the spool holds N bytes (1073741824)\n"
	    "  --rotate-bytes N         close a file at N compressed bytes (67108864)\n"
	    "  --rotate-records N       close a file at N records (0: no limit)\n"
	    "  --rotate-seconds N       close a file N s after its first record (120)\n"
	    "  --compression-level N    zlib level 1-9 (6)\n"
	    "  --endpoint URL           S3 endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, AWS)\n"
	    "  --region REGION          signing region (AWS_REGION, AWS_DEFAULT_REGION, us-east-1)\n"
	    "  --path-style             <endpoint>/<bucket>/<key> instead of virtual hosts\n"
	    "  --multipart-threshold N  multipart upload above N bytes (104857600; 0: never)\n"
	    "  --part-size N            multipart part size (16777216, at least 5242880)\n"
	    "  --retry-base-ms N        first back-off ceiling (1000)\n"
	    "  --retry-max-ms N         back-off cap (60000)\n"
	    "  --retry-deadline S       give up (exit 69) after S s of failures (0: never)\n"
	    "  --drain-seconds S        at the end, time allowed to upload what is left (30)\n"
	    "  --connect-timeout S      TCP/TLS connect timeout (10)\n"
	    "  --max-line-bytes N       bad mode: longest line (16777216)\n"
	    "  --print-keys             print each uploaded key on stdout\n"
	    "  --bad PATH               bad rows (file, FIFO or - for stdout; default stderr)\n"
	    "  --stats-interval S       log counters every S s (60; 0: only at exit)\n"
	    "  --source STREAM          read from STREAM instead of stdin: a file, a FIFO,\n"
	    "                           log:PATH (a durable log, from --group's committed offset)\n"
	    "                           or kafka:TOPIC (in consumer group --group)\n"
	    "  --group NAME             consumer group of a log or topic (s3-sink-<input>)\n"
	    "  --kafka-brokers LIST     Kafka bootstrap brokers (FURROW_KAFKA_BROKERS)\n"
	    "  --kafka-properties FILE  librdkafka properties, TLS/SASL (FURROW_KAFKA_PROPERTIES)\n"
	    "  --reclaim                give back the space of what every group has read\n"
	    "  -q, -v                   less / more logging\n"
	    "  -h, --help, -V, --version\n"
	    "credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN\n");
}

/* Bounds of the numeric flags: large enough for any real use, small enough that no product
 * (seconds * 1000, sizes added up) can overflow. */
#define MAX_SECONDS    31536000LL           /* a year */
#define MAX_BYTES      (1LL << 50)
#define MAX_OBJECT     (5LL << 40)          /* S3's largest object */
#define MAX_PART       (5LL << 30)          /* S3's largest part */
#define MAX_PATH_FLAG  4096

static int
usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	return EX_USAGE;
}

/* Region names: AWS's (us-east-1, cn-north-1, ...) and S3-compatible stores' own. */
static int
region_check(const char *what, const char *r, char *err, size_t errlen)
{
	return flagval_str(what, r, 1, 64, "-_", err, errlen);
}

enum {
	O_BUCKET = 256, O_PREFIX, O_ENDPOINT, O_REGION, O_PATH_STYLE, O_INPUT, O_SPOOL, O_ROT_BYTES,
	O_ROT_RECORDS, O_ROT_SECONDS, O_PARTITION, O_SPOOL_MAX, O_LEVEL, O_MP_THRESHOLD, O_PART_SIZE,
	O_RETRY_BASE, O_RETRY_MAX, O_RETRY_DEADLINE, O_DRAIN, O_CONNECT, O_MAX_LINE, O_PRINT_KEYS,
	O_BAD, O_STATS, O_SOURCE, O_GROUP, O_RECLAIM, O_KBROKERS, O_KPROPS,
};

/* Returns -1 to exit 0 (help, version), 0 to go on, or an exit status. */
static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "bucket", required_argument, NULL, O_BUCKET },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "endpoint", required_argument, NULL, O_ENDPOINT },
		{ "region", required_argument, NULL, O_REGION },
		{ "path-style", no_argument, NULL, O_PATH_STYLE },
		{ "input", required_argument, NULL, O_INPUT },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "rotate-bytes", required_argument, NULL, O_ROT_BYTES },
		{ "rotate-records", required_argument, NULL, O_ROT_RECORDS },
		{ "rotate-seconds", required_argument, NULL, O_ROT_SECONDS },
		{ "partition", required_argument, NULL, O_PARTITION },
		{ "spool-max-bytes", required_argument, NULL, O_SPOOL_MAX },
		{ "compression-level", required_argument, NULL, O_LEVEL },
		{ "multipart-threshold", required_argument, NULL, O_MP_THRESHOLD },
		{ "part-size", required_argument, NULL, O_PART_SIZE },
		{ "retry-base-ms", required_argument, NULL, O_RETRY_BASE },
		{ "retry-max-ms", required_argument, NULL, O_RETRY_MAX },
		{ "retry-deadline", required_argument, NULL, O_RETRY_DEADLINE },
		{ "drain-seconds", required_argument, NULL, O_DRAIN },
		{ "connect-timeout", required_argument, NULL, O_CONNECT },
		{ "max-line-bytes", required_argument, NULL, O_MAX_LINE },
		{ "print-keys", no_argument, NULL, O_PRINT_KEYS },
		{ "bad", required_argument, NULL, O_BAD },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "group", required_argument, NULL, O_GROUP },
		{ "reclaim", no_argument, NULL, O_RECLAIM },
		{ "kafka-brokers", required_argument, NULL, O_KBROKERS },
		{ "kafka-properties", required_argument, NULL, O_KPROPS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t level = 6;
	int ch, partition_set = 0, li = 0;
	char err[256];

	memset(o, 0, sizeof(*o));
	o->prefix = "";
	o->partition = "";
	o->input = IN_ENRICHED;
	o->rotate_bytes = 67108864;
	o->rotate_seconds = 120;
	o->spool_max = 1073741824;
	o->max_line = 16777216;
	o->multipart_threshold = 104857600;
	o->part_size = 16777216;
	o->retry_base_ms = 1000;
	o->retry_max_ms = 60000;
	o->drain_seconds = 30;
	o->connect_timeout = 10;
	o->stats_interval = 60;
	while ((ch = getopt_long(argc, argv, "qvhV", lo, &li)) != -1) {
		uint64_t *u = NULL;
		long long min = 0, max = 0, v;
		char flag[64];
		int rc = 0;

		if (ch < O_BUCKET)
			li = 0;
		snprintf(flag, sizeof(flag), "--%s", lo[li].name);

		switch (ch) {
		case O_BUCKET:
			/* S3 names are 3-63 of [a-z0-9.-]; compatible stores and legacy buckets allow
			 * more, up to 255 */
			rc = flagval_str(flag, optarg, 1, 255, "._-", err, sizeof(err));
			o->bucket = optarg;
			break;
		case O_PREFIX:
			rc = flagval_str(flag, optarg, 0, S3KEY_MAX / 2, NULL, err, sizeof(err));
			o->prefix = optarg;
			break;
		case O_ENDPOINT:
			rc = flagval_http_url(flag, optarg, 1024, err, sizeof(err));
			o->endpoint = optarg;
			break;
		case O_REGION:
			rc = region_check(flag, optarg, err, sizeof(err));
			o->region = optarg;
			break;
		case O_PATH_STYLE: o->path_style = 1; break;
		case O_SPOOL:
			rc = flagval_str(flag, optarg, 1, MAX_PATH_FLAG, NULL, err, sizeof(err));
			o->spool = optarg;
			break;
		case O_PARTITION:
			rc = flagval_str(flag, optarg, 0, S3KEY_MAX / 2, NULL, err, sizeof(err));
			o->partition = optarg;
			partition_set = 1;
			break;
		case O_PRINT_KEYS: o->print_keys = 1; break;
		case O_SOURCE:
			rc = flagval_str(flag, optarg, 1, MAX_PATH_FLAG, NULL, err, sizeof(err));
			o->source = optarg;
			break;
		case O_GROUP:
			rc = flagval_str(flag, optarg, 1, LINELOG_GROUP_MAX, "-_.", err, sizeof(err));
			if (rc == 0 && !linelog_group_valid(optarg)) {
				snprintf(err, sizeof(err), "--group: must not start with '.'");
				rc = -1;
			}
			o->group = optarg;
			break;
		case O_RECLAIM: o->reclaim = 1; break;
		case O_KBROKERS:
			rc = flagval_str(flag, optarg, 1, MAX_PATH_FLAG, NULL, err, sizeof(err));
			o->kafka_brokers = optarg;
			break;
		case O_KPROPS:
			rc = flagval_str(flag, optarg, 1, MAX_PATH_FLAG, NULL, err, sizeof(err));
			o->kafka_properties = optarg;
			break;
		case O_BAD:
			rc = flagval_str(flag, optarg, 1, MAX_PATH_FLAG, NULL, err, sizeof(err));
			o->bad_path = optarg;
			break;
		case O_INPUT:
			if (strcmp(optarg, "enriched") == 0)
				o->input = IN_ENRICHED;
			else if (strcmp(optarg, "raw") == 0)
				o->input = IN_RAW;
			else if (strcmp(optarg, "bad") == 0)
				o->input = IN_BAD;
			else {
				log_error("--input: expected enriched, bad or raw, not %s", optarg);
				return EX_USAGE;
			}
			break;
		case O_ROT_BYTES: u = &o->rotate_bytes; max = MAX_OBJECT; break;
		case O_ROT_RECORDS: u = &o->rotate_records; max = MAX_BYTES; break;
		case O_ROT_SECONDS: u = &o->rotate_seconds; max = MAX_SECONDS; break;
		case O_SPOOL_MAX: u = &o->spool_max; min = 1; max = MAX_BYTES; break;
		case O_LEVEL: u = &level; min = 1; max = 9; break;
		case O_MP_THRESHOLD: u = &o->multipart_threshold; max = MAX_OBJECT; break;
		case O_PART_SIZE: u = &o->part_size; min = (long long)S3UP_MIN_PART; max = MAX_PART; break;
		case O_RETRY_BASE: u = &o->retry_base_ms; min = 1; max = 3600000; break;
		case O_RETRY_MAX: u = &o->retry_max_ms; min = 1; max = 86400000; break;
		case O_RETRY_DEADLINE: u = &o->retry_deadline; max = MAX_SECONDS; break;
		case O_DRAIN: u = &o->drain_seconds; max = 86400; break;
		case O_CONNECT: u = &o->connect_timeout; min = 1; max = 3600; break;
		case O_MAX_LINE: u = &o->max_line; min = 1; max = 1LL << 30; break;
		case O_STATS: u = &o->stats_interval; max = MAX_SECONDS; break;
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(+1); break;
		case 'h': usage(stdout); return -1;
		case 'V': printf(PROG " %s\n", FURROW_VERSION); return -1;
		default: usage(stderr); return EX_USAGE;
		}
		if (u != NULL) {
			rc = flagval_num(flag, optarg, min, max, &v, err, sizeof(err));
			*u = (uint64_t)v;
		}
		if (rc == -1)
			return usage_error(err);
	}
	if (optind < argc) {
		log_error("unexpected argument: %s (the input is stdin or --source)", argv[optind]);
		return EX_USAGE;
	}
	if (o->source == NULL)
		o->source = "-";
	if (o->group && !stream_spec_has_groups(o->source))
		return usage_error("--group: a consumer group needs a log or a topic (--source "
		    "log:PATH or kafka:TOPIC)");
	if (o->group == NULL)
		o->group = o->input == IN_BAD ? "s3-sink-bad" : o->input == IN_RAW ? "s3-sink-raw" :
		    "s3-sink-good";
	if (o->input == IN_BAD && !partition_set)
		o->partition = "{vendor}.{schema}";
	o->level = (int)level;
	if (o->retry_max_ms < o->retry_base_ms)
		return usage_error("--retry-max-ms: at least --retry-base-ms");
	return 0;
}

/* Configuration that depends on the environment and on checks: exit 78 on failure. */
static int
configure(struct sink *s)
{
	struct opts *o = &s->o;
	struct s3up_config *u = &s->work.upcfg;
	char err[256];
	const char *v;

	if (o->bucket == NULL || !*o->bucket) {
		log_error("--bucket is required");
		return EX_CONFIG;
	}
	if (o->spool == NULL || !*o->spool) {
		log_error("--spool is required");
		return EX_CONFIG;
	}
	if (s3key_template_check(o->partition, o->input == IN_BAD ? S3KEY_ALLOW_SCHEMA : 0, err,
	    sizeof(err)) == -1 || s3key_prefix_check(o->prefix, err, sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return EX_CONFIG;
	}
	if (o->region == NULL || !*o->region)
		o->region = (v = getenv("AWS_REGION")) && *v ? v :
		    (v = getenv("AWS_DEFAULT_REGION")) && *v ? v : "us-east-1";
	if (region_check("region (AWS_REGION, AWS_DEFAULT_REGION)", o->region, err,
	    sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return EX_CONFIG;
	}
	if (o->endpoint == NULL || !*o->endpoint) {
		if ((v = getenv("AWS_ENDPOINT_URL_S3")) && *v)
			o->endpoint = v;
		else if ((v = getenv("AWS_ENDPOINT_URL")) && *v)
			o->endpoint = v;
		else if (s3up_default_endpoint(o->region, s->endpoint_buf, sizeof(s->endpoint_buf)) == 0)
			o->endpoint = s->endpoint_buf;
		else
			o->endpoint = "";
	}
	if (flagval_http_url("endpoint (--endpoint, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)",
	    o->endpoint, 1024, err, sizeof(err)) == -1) {
		log_error("configuration: %s", err);
		return EX_CONFIG;
	}
	u->endpoint = o->endpoint;
	u->region = o->region;
	u->bucket = o->bucket;
	u->path_style = o->path_style;
	u->access_key = getenv("AWS_ACCESS_KEY_ID");
	u->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
	u->session_token = getenv("AWS_SESSION_TOKEN");
	if (u->access_key == NULL || !*u->access_key || u->secret_key == NULL || !*u->secret_key) {
		log_error("configuration: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set");
		return EX_CONFIG;
	}
	u->connect_timeout_s = (long)o->connect_timeout;
	u->stall_timeout_s = 60;
	u->multipart_threshold = o->multipart_threshold;
	u->part_size = o->part_size;
	s->work.retry_base_ms = o->retry_base_ms;
	s->work.retry_max_ms = o->retry_max_ms;
	s->work.retry_deadline_s = o->retry_deadline;
	s->work.print_keys = o->print_keys;
	return 0;
}

static int
bad_open(struct sink *s)
{
	int fd;

	if (s->bad_owned)
		close(s->bad_fd);
	s->bad_owned = 0;
	if (s->o.bad_path == NULL) {
		s->bad_fd = STDERR_FILENO;
		return 0;
	}
	if (strcmp(s->o.bad_path, "-") == 0) {
		if (s->o.print_keys) {
			log_error("--bad - and --print-keys would both write to stdout");
			return -1;
		}
		s->bad_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(s->o.bad_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("--bad %s: %s", s->o.bad_path, strerror(errno));
		return -1;
	}
	s->bad_fd = fd;
	s->bad_owned = 1;
	return 0;
}

/* Write a generic_error bad row for line (sinks.md §3.8). 0, or -1 when --bad fails (fatal). */
static int
bad_row(struct sink *s, const char *line, size_t len, const char *error)
{
	struct buf out;
	json_t *row;
	int rc = -1;

	row = badrow_generic_error(ARTIFACT, line, len, error);
	buf_init(&out, 0);
	if (row != NULL && badrow_write(row, &out) == 0) {
		if (s3gz_write_all(s->bad_fd, out.data, out.len) == 0)
			rc = 0;
		else
			log_error("writing bad row to %s: %s", s->o.bad_path ? s->o.bad_path : "stderr",
			    strerror(errno));
	} else {
		log_error("building a bad row failed");
	}
	json_decref(row);
	buf_free(&out);
	if (rc == 0)
		s->c.bad++;
	return rc;
}

static int
closed_cb(void *arg, const char *name, uint64_t size)
{
	struct sink *s = arg;

	log_debug("closed %s (%" PRIu64 " bytes)", name, size);
	return s3work_push(&s->work, name, size);
}

/* Stream mode, and the last bytes written end in the middle of a line. */
static int
stream_in_line(const struct sink *s)
{
	return s->o.input != IN_BAD && s->batch.nparts == 1 && s->batch.parts[0]->in_line;
}

/* Close the open batch into the upload queue. A line is never split between two files: in the
 * middle of one, the rotation waits for its end. 0, or -1 (exit 74). */
static int
rotate(struct sink *s, const char *why)
{
	uint64_t released, grown;
	char err[512];
	int rc;

	if (stream_in_line(s)) {
		s->rotate_pending = 1;
		return 0;
	}
	s->rotate_pending = 0;
	if (s->batch.nparts == 0)
		return 0;
	log_debug("rotating the batch (%s): %" PRIu64 " records", why, s->batch.records);
	if (s3batch_sync(&s->batch, &grown, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	s3work_spool_add(&s->work, (int64_t)grown);
	rc = s3batch_close(&s->batch, s->o.partition, s->o.prefix, closed_cb, s, &released, err,
	    sizeof(err));
	/* The closed files were added to the queue with their final sizes. */
	s3work_spool_add(&s->work, -(int64_t)released);
	if (rc == -1)
		log_error("spool: %s", err);
	return rc;
}

static int
batch_full(struct sink *s)
{
	return (s->o.rotate_records > 0 && s->batch.records >= s->o.rotate_records) ||
	    (s->o.rotate_bytes > 0 && s3batch_bytes(&s->batch) >= s->o.rotate_bytes);
}

static void
batch_started(struct sink *s)
{
	if (s->batch.first_ms == 0)
		s->batch.first_ms = s3work_now_ms();
}

/* The spool (queued files plus what the open files have written) is at its limit. */
static int
spool_over(struct sink *s)
{
	struct s3work_counters w;
	uint64_t open_bytes = 0;
	size_t i;

	if (s->no_limit)
		return 0;
	s3work_counters(&s->work, &w);
	for (i = 0; i < s->batch.nparts; i++)
		open_bytes += s->batch.parts[i]->gz.bytes_out - s->batch.parts[i]->accounted;
	return w.spool_bytes + open_bytes >= s->o.spool_max;
}

/* enriched and raw: compress the block as it is, splitting only where a rotation falls. Stops
 * early, at the end of a line, when the spool is full; returns the bytes taken, or -1. */
static ssize_t
feed_stream(struct sink *s, const char *p, size_t n)
{
	const char *start = p;
	struct s3part *part;
	const char *q, *end = p + n, *nl;
	uint64_t lines, room;
	char err[512];
	/* Check the size often enough that a small --rotate-bytes is not overshot by much. */
	ptrdiff_t segment = s->o.rotate_bytes > 0 && s->o.rotate_bytes / 8 < SEGMENT ?
	    (ptrdiff_t)(s->o.rotate_bytes / 8) : SEGMENT;

	if (segment < 4096)
		segment = 4096;

	while (p < end) {
		part = s3batch_part(&s->batch, NULL, err, sizeof(err));
		if (part == NULL) {
			log_error("spool: %s", err);
			return -1;
		}
		batch_started(s);
		room = s->o.rotate_records > 0 ? s->o.rotate_records - s->batch.records : UINT64_MAX;
		lines = 0;
		q = p;
		while (q < end) {
			nl = memchr(q, '\n', (size_t)(end - q));
			if (nl == NULL) {
				q = end;
				break;
			}
			q = nl + 1;
			if (++lines == room || q - p >= segment)
				break;
		}
		if (s3batch_write(part, p, (size_t)(q - p), err, sizeof(err)) == -1) {
			log_error("spool: %s", err);
			return -1;
		}
		part->records += lines;
		s->batch.records += lines;
		s->c.lines_in += lines;
		s->c.lines_out += lines;
		part->in_line = q[-1] != '\n';
		p = q;
		if (!part->in_line && (s->rotate_pending || batch_full(s)) &&
		    rotate(s, "size") == -1)
			return -1;
		if (!part->in_line && p < end && spool_over(s))
			break;     /* back-pressure: the rest waits in s->chunk */
	}
	return p - start;
}

/* bad: one complete line. */
static int
bad_line(struct sink *s, const char *line, size_t len)
{
	struct s3key_schema schema;
	struct s3part *part;
	char err[512], msg[600];
	enum s3key_row r;

	s->c.lines_in++;
	r = s3key_badrow_schema(line, len, &schema, err, sizeof(err));
	if (r == S3KEY_ROW_NOT_JSON) {
		snprintf(msg, sizeof(msg), "Can't parse JSON holding self-describing event: %s", err);
		return bad_row(s, line, len, msg);
	}
	if (r == S3KEY_ROW_NO_SCHEMA) {
		snprintf(msg, sizeof(msg), "Can't extract schema from self-describing event: %s", err);
		return bad_row(s, line, len, msg);
	}
	part = s3batch_part(&s->batch, &schema, err, sizeof(err));
	if (part == NULL && s->batch.nparts == S3BATCH_MAX_PARTS) {
		if (rotate(s, "schemas") == -1)
			return -1;
		part = s3batch_part(&s->batch, &schema, err, sizeof(err));
	}
	if (part == NULL) {
		log_error("spool: %s", err);
		return -1;
	}
	batch_started(s);
	if (s3batch_write(part, line, len, err, sizeof(err)) == -1 ||
	    s3batch_write(part, "\n", 1, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	part->records++;
	s->batch.records++;
	s->c.lines_out++;
	if (batch_full(s) && rotate(s, "size") == -1)
		return -1;
	return 0;
}

static int
feed_bad(struct sink *s, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t take;
	char msg[200];

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		take = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (s->discarding) {
			s->discarded += take;
		} else if (s->line.len + take > s->o.max_line) {
			/* Over-long: keep the start for the bad row, drop the rest up to '\n'. */
			size_t keep = BAD_PAYLOAD_CUT > s->line.len ? BAD_PAYLOAD_CUT - s->line.len : 0;

			if (keep > take)
				keep = take;
			if (buf_append(&s->line, p, keep) == -1)
				return -1;
			s->discarding = 1;
			s->discarded = s->line.len - keep + take;
		} else if (nl != NULL && s->line.len == 0) {
			if (bad_line(s, p, take) == -1)
				return -1;
			p = nl + 1;
			continue;
		} else if (buf_append(&s->line, p, take) == -1) {
			log_error("out of memory");
			return -1;
		}
		if (nl == NULL)
			break;
		if (s->discarding) {
			s->c.lines_in++;
			snprintf(msg, sizeof(msg), "Can't parse JSON holding self-describing event: "
			    "line of %" PRIu64 " bytes exceeds --max-line-bytes %" PRIu64,
			    (uint64_t)s->discarded, s->o.max_line);
			if (bad_row(s, s->line.data, s->line.len > BAD_PAYLOAD_CUT ? BAD_PAYLOAD_CUT :
			    s->line.len, msg) == -1)
				return -1;
			s->discarding = 0;
			s->discarded = 0;
		} else if (bad_line(s, s->line.data ? s->line.data : "", s->line.len) == -1) {
			return -1;
		}
		buf_reset(&s->line);
		p = nl + 1;
	}
	return 0;
}

static int spool_block(struct sink *s);

/* The start of a line is spooled or buffered, its newline not read yet. */
static int
mid_line(const struct sink *s)
{
	return s->o.input == IN_BAD ? s->line.len > 0 || s->discarding : stream_in_line(s);
}

/*
 * Stopped by a signal in the middle of a line: read the rest of that line and not a byte more
 * (one byte per read, so what follows stays in the pipe for the next reader), for at most
 * LINEREADER_TAIL_WAIT_MS or until a second signal, so that the line is archived whole. A log
 * needs none of this: it hands over whole lines only. 0 (mid_line() tells whether the line was
 * completed), 1 at the end of the input, -1 on a read or spool error.
 */
static int
finish_line(struct sink *s)
{
	int64_t deadline = s3work_now_ms() + LINEREADER_TAIL_WAIT_MS, left;
	char tail[4096];
	struct pollfd pfd;
	size_t n;
	ssize_t got;

	if (stream_source_follows(s->in))
		return 0;
	while (mid_line(s) && !sig_terminate) {
		int eof = 0;

		n = 0;
		while (n < sizeof(tail) && (n == 0 || tail[n - 1] != '\n')) {
			left = deadline - s3work_now_ms();
			if (left <= 0 || sig_terminate)
				break;
			pfd.fd = stream_source_fd(s->in);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, (int)left) <= 0)
				continue;
			got = stream_source_read(s->in, tail + n, 1, &s->chunk_end);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got < 0) {
				log_error("reading %s", stream_source_error(s->in));
				return -1;
			}
			if (got == 0) {
				eof = 1;
				break;
			}
			n++;
		}
		s->c.bytes_in += n;
		if (n > 0 && (s->o.input == IN_BAD ? feed_bad(s, tail, n) :
		    (int)feed_stream(s, tail, n)) < 0)
			return -1;
		if (eof)
			return 1;
		if (n == 0 || (tail[n - 1] != '\n' && n < sizeof(tail)))
			break;       /* out of time */
	}
	return 0;
}

/* End of input, or a stop (stopped: on a signal). A last line without '\n' at the end of the
 * input is a record. At a stop, the line in hand is read to its end first (finish_line); one that
 * does not end in time was not finished by its writer: in bad mode it becomes a bad row instead of
 * being parsed; in a stream it is already compressed into the open file, so it is closed with a
 * '\n' and said so. */
static int
feed_end(struct sink *s, int stopped)
{
	struct s3part *part;
	char err[256], msg[160];
	int r;

	s->no_limit = 1;
	if (s->chunk != NULL && s->chunk_off < s->chunk_len && spool_block(s) == -1)
		return -1;
	if (stopped && mid_line(s)) {
		if ((r = finish_line(s)) == -1)
			return -1;
		if (r == 0 && mid_line(s)) {
			if (s->o.input == IN_BAD) {
				snprintf(msg, sizeof(msg), "unterminated line at shutdown: %zu bytes "
				    "without a newline", s->line.len + (size_t)s->discarded);
				log_warn("%s: written as a bad row", msg);
				s->c.lines_in++;
				if (bad_row(s, s->line.data, s->line.len > BAD_PAYLOAD_CUT ? BAD_PAYLOAD_CUT :
				    s->line.len, msg) == -1)
					return -1;
				buf_reset(&s->line);
				s->discarding = 0;
				s->discarded = 0;
				return 0;
			}
			log_warn("unterminated line at shutdown: its writer did not finish it within "
			    "%d ms; archived cut short", LINEREADER_TAIL_WAIT_MS);
		}
	}
	if (s->o.input == IN_BAD) {
		if (s->line.len > 0 || s->discarding)
			return feed_bad(s, "\n", 1);
		return 0;
	}
	if (s->batch.nparts == 1 && s->batch.parts[0]->in_line) {
		part = s->batch.parts[0];
		if (s3batch_write(part, "\n", 1, err, sizeof(err)) == -1) {
			log_error("spool: %s", err);
			return -1;
		}
		part->in_line = 0;
		part->records++;
		s->batch.records++;
		s->c.lines_in++;
		s->c.lines_out++;
	}
	return 0;
}

static void
log_stats(struct sink *s, const char *when)
{
	struct s3work_counters w;

	s3work_counters(&s->work, &w);
	log_info("%s: lines_in=%" PRIu64 " bytes_in=%" PRIu64 " lines_spooled=%" PRIu64
	    " bad=%" PRIu64 " objects_uploaded=%" PRIu64 " bytes_out=%" PRIu64 " retries=%" PRIu64
	    " spool_files=%" PRIu64 " spool_bytes=%" PRIu64, when, s->c.lines_in, s->c.bytes_in,
	    s->c.lines_out, s->c.bad, w.objects, w.bytes_out, w.retries, w.spool_files,
	    w.spool_bytes);
}

/* Salvage open files of a run that died, then queue every closed file. */
static int
recover_spool(struct sink *s)
{
	struct s3spool_entry *ents;
	char err[512], closed[S3SPOOL_NAME_MAX], uuid[UUID_STR_LEN + 1];
	struct s3key_schema schema;
	uint64_t records, files = 0, bytes = 0;
	size_t n, i;
	int has_schema, again = 0;

	if (s3spool_list(&s->spool, &ents, &n, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i].kind == S3SPOOL_TMP) {
			s3spool_unlink(&s->spool, ents[i].name, err, sizeof(err));
		} else if (ents[i].kind == S3SPOOL_PART) {
			if (s3spool_part_parse(ents[i].name, uuid, &schema, &has_schema) == 0 &&
			    s3spool_closed_has_uuid(ents, n, uuid)) {
				log_info("spool: %s was already salvaged; removing it", ents[i].name);
				s3spool_unlink(&s->spool, ents[i].name, err, sizeof(err));
				continue;
			}
			if (s3spool_recover_part(&s->spool, &ents[i], s->o.partition, s->o.prefix,
			    s->o.level, closed, sizeof(closed), &records, err, sizeof(err)) == -1) {
				log_warn("spool: cannot salvage %s: %s; left in place", ents[i].name, err);
				continue;
			}
			log_info("spool: salvaged %" PRIu64 " lines of the unfinished file %s%s%s",
			    records, ents[i].name, closed[0] ? " into " : "", closed);
			again = 1;
		} else if (ents[i].kind == S3SPOOL_OTHER) {
			log_warn("spool: ignoring %s/%s (not a file s3-sink writes)", s->o.spool,
			    ents[i].name);
		}
	}
	if (again) {
		s3spool_list_free(ents, n);
		if (s3spool_list(&s->spool, &ents, &n, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (ents[i].kind != S3SPOOL_CLOSED)
			continue;
		if (s3work_push(&s->work, ents[i].name, ents[i].size) == -1) {
			s3spool_list_free(ents, n);
			log_error("out of memory");
			return -1;
		}
		files++;
		bytes += ents[i].size;
	}
	s3spool_list_free(ents, n);
	if (files > 0)
		log_info("spool: %" PRIu64 " files (%" PRIu64 " bytes) left by an earlier run; "
		    "uploading them before reading stdin", files, bytes);
	return 0;
}

static int64_t
stats_due(struct sink *s, int64_t *next)
{
	int64_t now = s3work_now_ms();

	if (s->o.stats_interval > 0 && now >= *next) {
		log_stats(s, "counters");
		*next = now + (int64_t)s->o.stats_interval * 1000;
	}
	return now;
}

/* Wait for the leftovers of an earlier run to be uploaded (sinks.md §3.6 "start-up"). */
static void
wait_leftovers(struct sink *s, int64_t *next_stats)
{
	while (!sig_terminate && !s3work_fatal(&s->work)) {
		struct s3work_counters w;

		s3work_counters(&s->work, &w);
		if (w.spool_files == 0)
			break;
		s3work_wait(&s->work, 200);
		stats_due(s, next_stats);
	}
}

/* Back-pressure: while the spool is over its limit, close the batch and wait. Returns 1 to
 * stop (signal or worker failure), 0 to read on, -1 on a spool error. */
static int
wait_spool_room(struct sink *s, int64_t *next_stats)
{
	struct s3work_counters w;
	int logged = 0;

	for (;;) {
		s3work_counters(&s->work, &w);
		if (w.spool_bytes < s->o.spool_max)
			break;
		if (sig_terminate || s3work_fatal(&s->work))
			return 1;
		if (stream_in_line(s))
			return 0;     /* read on to the end of the line, then rotate */
		if (!logged) {
			log_warn("spool holds %" PRIu64 " bytes (--spool-max-bytes %" PRIu64 "): "
			    "not reading stdin until uploads make room", w.spool_bytes, s->o.spool_max);
			logged = 1;
		}
		if (s->batch.records > 0 && rotate(s, "spool full") == -1)
			return -1;
		s3work_wait(&s->work, 200);
		stats_due(s, next_stats);
	}
	if (logged)
		log_info("spool has room again: reading stdin");
	return 0;
}

/* Spool a block (or what is left of one) and sync it. 0 or -1. */
static int
spool_block(struct sink *s)
{
	uint64_t grown;
	char err[512];
	ssize_t took;

	if (s->o.input == IN_BAD) {
		if (feed_bad(s, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off) == -1)
			return -1;
		s->chunk_off = s->chunk_len;
	} else {
		took = feed_stream(s, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
		if (took < 0)
			return -1;
		s->chunk_off += (size_t)took;
	}
	/* The durability point: what was taken is in the spool file before the next read. */
	if (s3batch_sync(&s->batch, &grown, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	s3work_spool_add(&s->work, (int64_t)grown);
	/* ... and a log is told so, up to the last whole line taken (feed_stream stops at a line
	 * end; a longer line in parts is committed when it ends) */
	if (s->chunk_off > 0 && s->chunk[s->chunk_off - 1] == '\n' &&
	    stream_source_commit(s->in, s->chunk_end - (s->chunk_len - s->chunk_off), err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* The read loop. Returns 0 at EOF or on a stop request, or an exit status. */
static int
run(struct sink *s)
{
	int64_t next_stats, now, timeout;
	struct pollfd pfd;
	ssize_t got;
	int rc = 0, w;

	s->chunk = malloc(READ_CHUNK);
	if (s->chunk == NULL)
		return EX_SOFTWARE;
	next_stats = s3work_now_ms() + (int64_t)s->o.stats_interval * 1000;
	wait_leftovers(s, &next_stats);
	for (;;) {
		if (sig_terminate || s3work_fatal(&s->work))
			break;
		if (sig_reopen) {
			sig_reopen = 0;
			if (bad_open(s) == -1) {
				rc = EX_IOERR;
				break;
			}
		}
		w = wait_spool_room(s, &next_stats);
		if (w == -1) {
			rc = EX_IOERR;
			break;
		}
		if (w == 1)
			continue;
		if (s->chunk_off < s->chunk_len) {
			/* The rest of a block held back by a full spool. */
			if (spool_block(s) == -1) {
				rc = EX_IOERR;
				break;
			}
			continue;
		}
		now = stats_due(s, &next_stats);
		timeout = s->o.stats_interval > 0 ? next_stats - now : 1000;
		if (s->batch.first_ms > 0 && s->o.rotate_seconds > 0) {
			int64_t due = s->batch.first_ms + (int64_t)s->o.rotate_seconds * 1000 - now;

			if (due <= 0 && !stream_in_line(s)) {
				if (rotate(s, "time") == -1) {
					rc = EX_IOERR;
					break;
				}
				continue;
			}
			if (due <= 0)
				s->rotate_pending = 1;
			else if (due < timeout)
				timeout = due;
		}
		/* Wake up now and then to notice a failed worker. */
		if (timeout > 500 || timeout < 0)
			timeout = 500;
		got = stream_source_read(s->in, s->chunk, READ_CHUNK, &s->chunk_end);
		if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
			/* nothing to read now: wait for input, a rotation time or a stats line */
			pfd.fd = stream_source_fd(s->in);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, (int)timeout) < 0 && errno != EINTR) {
				log_error("poll: %s", strerror(errno));
				rc = EX_IOERR;
				break;
			}
			continue;
		}
		if (got < 0) {
			log_error("reading %s", stream_source_error(s->in));
			rc = EX_IOERR;
			break;
		}
		if (got == 0) {
			log_debug("end of input");
			break;
		}
		s->c.bytes_in += (uint64_t)got;
		s->chunk_off = 0;
		s->chunk_len = (size_t)got;
		if (spool_block(s) == -1) {
			rc = EX_IOERR;
			break;
		}
	}
	return rc;
}

/* Close the batch, let the worker upload within --drain-seconds, report what is left. */
static int
shut_down(struct sink *s, int rc)
{
	struct s3work_counters w;
	static volatile int second_signal;
	int64_t deadline;
	int fatal, stopped;

	stopped = sig_terminate;
	if (stopped)
		log_info("stopping on signal: closing the open file and uploading what is spooled");
	sig_terminate = 0;       /* from here, a (second) signal cuts the rest short */
	if (rc != EX_IOERR && feed_end(s, stopped) == -1)
		rc = EX_IOERR;
	if (rotate(s, "end") == -1 && rc == 0)
		rc = EX_IOERR;
	deadline = s3work_now_ms() + (int64_t)s->o.drain_seconds * 1000;
	/* A signal during the drain (a second one if we stopped on a signal) cuts it short. */
	second_signal = 0;
	while (!sig_terminate) {
		s3work_counters(&s->work, &w);
		if (w.spool_files == 0 || s3work_fatal(&s->work) || s3work_now_ms() >= deadline)
			break;
		s3work_wait(&s->work, 200);
	}
	second_signal = sig_terminate;
	s3work_finish(&s->work, 1, &second_signal);
	fatal = s3work_fatal(&s->work);
	s3work_counters(&s->work, &w);
	if (w.spool_files > 0)
		log_warn("%" PRIu64 " files (%" PRIu64 " bytes) not uploaded stay in the spool %s; "
		    "they are uploaded at the next start", w.spool_files, w.spool_bytes, s->o.spool);
	log_stats(s, "exit");
	if (rc == 0 && fatal != 0)
		rc = fatal;
	return rc;
}

/* --source: standard input unless told otherwise. Returns 0 or an exit status. */
static int
open_source(struct sink *s)
{
	const char *specs[1] = { s->o.source };
	struct stream_source_opts so;
	struct stream_kafka_conf kc;
	struct stream_kinesis_conf kn;
	char err[512];

	memset(&kc, 0, sizeof(kc));
	kc.brokers = s->o.kafka_brokers;
	kc.properties = s->o.kafka_properties;
	kc.client_id = "furrow-" PROG;
	kc.notify = log_line;
	if (stream_kafka_prepare(specs, 1, &kc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	memset(&kn, 0, sizeof(kn));
	kn.notify = log_line;
	if (stream_kinesis_prepare(specs, 1, &kn, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	memset(&so, 0, sizeof(so));
	so.max_line = READ_CHUNK;
	so.group = stream_spec_has_groups(s->o.source) ? s->o.group : NULL;
	so.reclaim = s->o.reclaim;
	so.binary = s->o.input == IN_RAW;     /* a topic's raw records are binary Thrift */
	if ((s->in = stream_source_open(s->o.source, &so, err, sizeof(err))) == NULL) {
		log_error("--source %s", err);
		return errno == ENOENT ? EX_NOINPUT : errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct sink s;
	char err[512], shown_endpoint[1024];
	int rc;

	memset(&s, 0, sizeof(s));
	log_init(PROG);
	sig_flags_install();
	rc = parse_opts(argc, argv, &s.o);
	if (rc != 0)
		return rc == -1 ? EX_OK : rc;
	if (s3work_init(&s.work) == -1) {
		log_error("pthread init failed");
		return EX_SOFTWARE;
	}
	rc = configure(&s);
	if (rc != 0)
		return rc;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("curl_global_init failed");
		return EX_SOFTWARE;
	}
	if (s3spool_open(&s.spool, s.o.spool, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	s.work.spool = &s.spool;
	s3batch_init(&s.batch, &s.spool, s.o.level);
	buf_init(&s.line, s.o.max_line + BAD_PAYLOAD_CUT);
	if (bad_open(&s) == -1)
		return EX_IOERR;
	if ((rc = open_source(&s)) != 0)
		return rc;
	if (recover_spool(&s) == -1)
		return EX_IOERR;
	if (s3work_start(&s.work, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_SOFTWARE;
	}
	log_info("archiving %s lines to s3://%s/%s%s (endpoint %s, region %s, spool %s)",
	    s.o.input == IN_BAD ? "bad-row" : s.o.input == IN_RAW ? "raw" : "enriched", s.o.bucket,
	    s.o.partition, *s.o.partition ? "/" : "",
	    redact_urls(s.o.endpoint, shown_endpoint, sizeof(shown_endpoint)), s.o.region, s.o.spool);
	rc = run(&s);
	rc = shut_down(&s, rc);
	s3work_destroy(&s.work);
	buf_free(&s.line);
	free(s.chunk);
	stream_source_close(s.in);
	if (s.bad_owned)
		close(s.bad_fd);
	s3spool_close(&s.spool);
	curl_global_cleanup();
	return rc;
}
