/*
 * s3-sink: archive a line stream (enriched TSV, raw records or bad rows) to S3 or an
 * S3-compatible store as gzip objects (sinks.md §3, cli.md "s3-sink").
 *
 * standard input (or --source: a file, a FIFO, a durable log) -> open gzip files in the spool
 * (synced after every block read) -> closed, fsynced files named by their object key -> upload
 * thread -> deleted once the store confirmed the PUT. Nothing goes to stdout unless --print-keys
 * asks for one line per uploaded object; lines of the bad stream that cannot be placed become
 * generic_error bad rows on --bad (§3.8).
 *
 * main() is a checklist: flags, configuration from the environment, the spool, --bad, the source,
 * the leftovers of an earlier run, the upload thread, the loop (sink.c), shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include <curl/curl.h>

#include "flagval.h"
#include "linelog.h"
#include "gz.h"
#include "redact.h"
#include "keys.h"
#include "log.h"
#include "metricsd.h"
#include "sig.h"
#include "sink.h"
#include "stream.h"
#include "upload.h"
#include "version.h"
#include "worker.h"

#define PROG "s3-sink"
#define READ_CHUNK S3SINK_READ_CHUNK

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
	    "  --metrics-listen ADDR:PORT  serve /metrics and /health there (off)\n"
	    "  --health-threshold S     unhealthy after S s of failed uploads or a full spool (30)\n"
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
	O_BAD, O_STATS, O_SOURCE, O_GROUP, O_RECLAIM, O_KBROKERS, O_KPROPS, O_MLISTEN, O_HEALTH,
};

/* Returns -1 to exit 0 (help, version), 0 to go on, or an exit status. */
static int
parse_opts(int argc, char **argv, struct s3sink_opts *o)
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
		{ "metrics-listen", required_argument, NULL, O_MLISTEN },
		{ "health-threshold", required_argument, NULL, O_HEALTH },
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
	o->health_threshold = 30;
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
		case O_PART_SIZE: u = &o->part_size; min = (long long)S3UPLOAD_MIN_PART; max = MAX_PART; break;
		case O_RETRY_BASE: u = &o->retry_base_ms; min = 1; max = 3600000; break;
		case O_RETRY_MAX: u = &o->retry_max_ms; min = 1; max = 86400000; break;
		case O_RETRY_DEADLINE: u = &o->retry_deadline; max = MAX_SECONDS; break;
		case O_DRAIN: u = &o->drain_seconds; max = 86400; break;
		case O_CONNECT: u = &o->connect_timeout; min = 1; max = 3600; break;
		case O_MAX_LINE: u = &o->max_line; min = 1; max = 1LL << 30; break;
		case O_STATS: u = &o->stats_interval; max = MAX_SECONDS; break;
		case O_HEALTH: u = &o->health_threshold; min = 1; max = 86400; break;
		case O_MLISTEN:
			rc = metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err));
			o->metrics_listen = optarg;
			break;
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
configure(struct s3sink *s)
{
	struct s3sink_opts *o = &s->o;
	struct s3upload_config *u = &s->work.upcfg;
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
		else if (s3upload_default_endpoint(o->region, s->endpoint_buf, sizeof(s->endpoint_buf)) == 0)
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


/* --source: standard input unless told otherwise. Returns 0 or an exit status. */
static int
open_source(struct s3sink *s)
{
	const char *specs[1] = { s->o.source };
	struct stream_source_opts so;
	struct stream_kafka_conf kc;
	char err[512];

	memset(&kc, 0, sizeof(kc));
	kc.brokers = s->o.kafka_brokers;
	kc.properties = s->o.kafka_properties;
	kc.client_id = "furrow-" PROG;
	kc.notify = log_line;
	if (stream_prepare(specs, 1, &kc, err, sizeof(err)) == -1) {
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
	struct s3sink s;
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
	if (s3sink_open_spool(&s, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	if (s3sink_open_bad(&s) == -1)
		return EX_IOERR;
	if ((rc = open_source(&s)) != 0)
		return rc;
	if (s3sink_recover(&s) == -1)
		return EX_IOERR;
	if (s3work_start(&s.work, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_SOFTWARE;
	}
	log_info("archiving %s lines to s3://%s/%s%s (endpoint %s, region %s, spool %s)",
	    s.o.input == IN_BAD ? "bad-row" : s.o.input == IN_RAW ? "raw" : "enriched", s.o.bucket,
	    s.o.partition, *s.o.partition ? "/" : "",
	    redact_urls(s.o.endpoint, shown_endpoint, sizeof(shown_endpoint)), s.o.region, s.o.spool);
	if (s.o.metrics_listen && (s.md = metricsd_open(s.o.metrics_listen, PROG,
	    s3sink_metrics_render, s3sink_health, &s, err, sizeof(err))) == NULL) {
		log_error("--metrics-listen %s", err);
		s3work_finish(&s.work);
		return EX_UNAVAILABLE;
	}
	rc = s3sink_run(&s);
	rc = s3sink_shut_down(&s, rc);
	metricsd_close(s.md);
	s.md = NULL;
	s3sink_free(&s);
	curl_global_cleanup();
	return rc;
}
