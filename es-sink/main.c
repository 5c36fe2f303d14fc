/*
 * es-sink: load the enriched stream (or the bad stream, or any JSON lines) into Elasticsearch or
 * OpenSearch through _bulk, at least once (sinks.md §1-2, cli.md).
 *
 * main() is a checklist: flags, the Elasticsearch client and index setup, the streams, the loop
 * (send.c), shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "esclient.h"
#include "event.h"
#include "flagval.h"
#include "linelog.h"
#include "log.h"
#include "metricsd.h"
#include "stream.h"
#include "bulk.h"
#include "mapping.h"
#include "send.h"
#include "sig.h"
#include "sinkout.h"
#include "timefmt.h"
#include "version.h"

#define PROG "es-sink"

static struct es_opts opt;
static const char *metrics_listen;
static long health_threshold_s = 30;

/* /metrics and /health: the sender's once it runs; before, the index setup's. */
static struct {
	struct sender *snd;
	int64_t        setup_failing_since;   /* monotonic ms; 0: not failing */
	char           setup_error[256];
} ms;

static void
metrics_render(struct buf *b, void *arg)
{
	(void)arg;
	if (ms.snd) {
		sender_metrics_render(b, ms.snd);
		return;
	}
	metrics_gauge(b, "furrow_es_sink_peer_failing_seconds",
	    "How long Elasticsearch has been failing now (0: the last request succeeded)",
	    ms.setup_failing_since ?
	    (double)(timefmt_mono_ms() - ms.setup_failing_since) / 1000.0 : 0.0);
}

static int
metrics_health(struct buf *why, void *arg)
{
	(void)arg;
	if (ms.snd)
		return sender_health(why, ms.snd);
	if (ms.setup_failing_since &&
	    timefmt_mono_ms() - ms.setup_failing_since >= health_threshold_s * 1000) {
		buf_printf(why, "index setup failing for %llds (threshold %lds): %s",
		    (long long)((timefmt_mono_ms() - ms.setup_failing_since) / 1000),
		    health_threshold_s, ms.setup_error);
		return 0;
	}
	return 1;
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [--url URL]... [--input enriched|bad|json] [--index NAME]\n"
	    "       [--setup | --setup-only] [--batch-docs N] [--batch-bytes N] [--flush-ms N]\n"
	    "       [--refresh false|true|wait_for] [--shard-date-format FMT] [--shard-date-field COL]\n"
	    "       [--retry-base-ms N] [--retry-max-ms N] [--retry-deadline SECONDS]\n"
	    "       [--term-timeout SECONDS] [--spool PATH] [--bad PATH] [--stats-interval SECONDS]\n"
	    "       [--cacert FILE] [--cert FILE] [--key FILE] [--insecure]\n"
	    "       [--aws-sigv4 es|aoss] [--aws-region REGION] [--timeout-ms N]\n"
	    "       [--connect-timeout-ms N] [--max-line BYTES] [--dump] [-q] [-v] [-h] [-V]\n"
	    "       [--source STREAM [--group NAME] [--reclaim]]\n"
	    "       [--metrics-listen ADDR:PORT] [--health-threshold SECONDS]\n"
	    "       [--kafka-brokers LIST] [--kafka-properties FILE]\n"
	    "Reads enriched TSV (or bad rows, or JSON objects) on stdin (or --source: a file, a FIFO,\n"
	    "log:PATH, a durable log read from group NAME's committed offset, or kafka:TOPIC, read\n"
	    "in consumer group NAME) and indexes them with _bulk.\n"
	    "Credentials: ES_USER/ES_PASSWORD, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/\n"
	    "AWS_SESSION_TOKEN with --aws-sigv4. See es-sink(1).\n");
}

/* Elasticsearch's index names: lower case, none of \\ / * ? " < > | space , # :, not starting
 * with - _ +, at most 255 bytes (and room for a date suffix). */
static const char *
index_arg(char *s)
{
	const char *p;

	flagval_xstr("--index", s, 1, 200, "-_.+");
	for (p = s; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			flagval_xusage("--index: lower case only (an Elasticsearch index name)");
	if (strchr("-_+", s[0]) || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		flagval_xusage("--index: must not start with '-', '_' or '+', nor be '.' or '..'");
	return s;
}

static void
parse_args(int argc, char **argv)
{
	enum { O_URL = 256, O_INPUT, O_INDEX, O_SETUP, O_SETUP_ONLY, O_BDOCS, O_BBYTES, O_FLUSH,
	    O_RBASE, O_RMAX, O_RDEAD, O_TERM, O_SPOOL, O_BAD, O_STATS, O_CACERT, O_CERT, O_KEY,
	    O_INSECURE, O_SIGV4, O_REGION, O_TIMEOUT, O_CTIMEOUT, O_MAXLINE, O_DUMP, O_SHARDF,
	    O_SHARDC, O_REFRESH, O_SOURCE, O_GROUP, O_RECLAIM, O_KBROKERS, O_KPROPS, O_MLISTEN,
	    O_HEALTH };
	static const struct option lo[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "input", required_argument, NULL, O_INPUT },
		{ "index", required_argument, NULL, O_INDEX },
		{ "setup", no_argument, NULL, O_SETUP },
		{ "setup-only", no_argument, NULL, O_SETUP_ONLY },
		{ "batch-docs", required_argument, NULL, O_BDOCS },
		{ "batch-bytes", required_argument, NULL, O_BBYTES },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "retry-base-ms", required_argument, NULL, O_RBASE },
		{ "retry-max-ms", required_argument, NULL, O_RMAX },
		{ "retry-deadline", required_argument, NULL, O_RDEAD },
		{ "term-timeout", required_argument, NULL, O_TERM },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "bad", required_argument, NULL, O_BAD },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "cacert", required_argument, NULL, O_CACERT },
		{ "cert", required_argument, NULL, O_CERT },
		{ "key", required_argument, NULL, O_KEY },
		{ "insecure", no_argument, NULL, O_INSECURE },
		{ "aws-sigv4", required_argument, NULL, O_SIGV4 },
		{ "aws-region", required_argument, NULL, O_REGION },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "connect-timeout-ms", required_argument, NULL, O_CTIMEOUT },
		{ "max-line", required_argument, NULL, O_MAXLINE },
		{ "dump", no_argument, NULL, O_DUMP },
		{ "shard-date-format", required_argument, NULL, O_SHARDF },
		{ "shard-date-field", required_argument, NULL, O_SHARDC },
		{ "refresh", required_argument, NULL, O_REFRESH },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "group", required_argument, NULL, O_GROUP },
		{ "reclaim", no_argument, NULL, O_RECLAIM },
		{ "kafka-brokers", required_argument, NULL, O_KBROKERS },
		{ "kafka-properties", required_argument, NULL, O_KPROPS },
		{ "metrics-listen", required_argument, NULL, O_MLISTEN },
		{ "health-threshold", required_argument, NULL, O_HEALTH },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shard_field = "derived_tstamp";
	int c;

	opt.input = ES_IN_ENRICHED;
	opt.io.source = "-";
	opt.batch_docs = 500;
	opt.batch_bytes = 1000000;
	opt.flush_ms = 200;
	opt.retry_base_ms = 100;
	opt.retry_max_ms = 30000;
	opt.term_timeout_s = 10;
	opt.stats_interval = 60;
	opt.io.max_line = 1 << 20;
	opt.es.timeout_ms = 60000;
	opt.es.connect_timeout_ms = 5000;
	opt.io.artifact = "furrow-" PROG;
	opt.io.notify = log_line;
	while ((c = getopt_long(argc, argv, "hVqv", lo, NULL)) != -1) {
		switch (c) {
		case O_URL: {
			char err[256];

			if (opt.es.nurls == ESCLIENT_MAX_URLS)
				flagval_xusage("--url: at most %d", ESCLIENT_MAX_URLS);
			/* the request URL (base + path) must fit esclient's buffer */
			if (flagval_http_url("--url", optarg, 1800, err, sizeof(err)) == -1)
				flagval_xusage("%s", err);
			opt.es.urls[opt.es.nurls++] = optarg;
			break;
		}
		case O_INPUT:
			if (strcmp(optarg, "enriched") == 0)
				opt.input = ES_IN_ENRICHED;
			else if (strcmp(optarg, "bad") == 0)
				opt.input = ES_IN_BAD;
			else if (strcmp(optarg, "json") == 0)
				opt.input = ES_IN_JSON;
			else
				flagval_xusage("--input: expected enriched, bad or json");
			break;
		case O_INDEX: opt.index = index_arg(optarg); break;
		case O_SETUP: opt.setup = 1; break;
		case O_SETUP_ONLY: opt.setup = opt.setup_only = 1; break;
		case O_BDOCS:
			opt.batch_docs = (size_t)flagval_xnum("--batch-docs", optarg, 1, 100000);
			break;
		case O_BBYTES:
			opt.batch_bytes = (size_t)flagval_xnum("--batch-bytes", optarg, 1024, 1L << 30);
			break;
		case O_FLUSH: opt.flush_ms = flagval_xnum("--flush-ms", optarg, 0, 3600000); break;
		case O_RBASE:
			opt.retry_base_ms = flagval_xnum("--retry-base-ms", optarg, 1, 3600000);
			break;
		case O_RMAX:
			opt.retry_max_ms = flagval_xnum("--retry-max-ms", optarg, 1, 86400000);
			break;
		case O_RDEAD:
			opt.retry_deadline_s = flagval_xnum("--retry-deadline", optarg, 0, 1L << 30);
			break;
		case O_TERM:
			opt.term_timeout_s = flagval_xnum("--term-timeout", optarg, 0, 86400);
			break;
		case O_SPOOL:
			opt.io.spool_path = flagval_xstr("--spool", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_BAD:
			opt.io.bad_path = flagval_xstr("--bad", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_SOURCE:
			opt.io.source = flagval_xstr("--source", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_GROUP:
			opt.io.group = flagval_xstr("--group", optarg, 1, LINELOG_GROUP_MAX, "-_.");
			if (!linelog_group_valid(optarg))
				flagval_xusage("--group: must not start with '.'");
			break;
		case O_RECLAIM: opt.io.reclaim = 1; break;
		case O_KBROKERS:
			opt.io.kafka_brokers = flagval_xstr("--kafka-brokers", optarg, 1, FLAGVAL_PATH_MAX,
			    NULL);
			break;
		case O_KPROPS:
			opt.io.kafka_properties = flagval_xstr("--kafka-properties", optarg, 1,
			    FLAGVAL_PATH_MAX, NULL);
			break;
		case O_MLISTEN: {
			char err[320];
			if (metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err)) == -1)
				flagval_xusage("%s", err);
			metrics_listen = optarg;
			break;
		}
		case O_HEALTH:
			health_threshold_s = flagval_xnum("--health-threshold", optarg, 1, 86400);
			break;
		case O_STATS:
			opt.stats_interval = flagval_xnum("--stats-interval", optarg, 0, 86400);
			break;
		case O_CACERT:
			opt.es.cacert = flagval_xstr("--cacert", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_CERT:
			opt.es.cert = flagval_xstr("--cert", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_KEY:
			opt.es.key = flagval_xstr("--key", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case O_INSECURE: opt.es.insecure = 1; break;
		case O_SIGV4:
			if (strcmp(optarg, "es") != 0 && strcmp(optarg, "aoss") != 0)
				flagval_xusage("--aws-sigv4: expected es or aoss");
			opt.es.sigv4_service = optarg;
			break;
		case O_REGION:
			opt.es.region = flagval_xstr("--aws-region", optarg, 1, 64, "-_");
			break;
		case O_TIMEOUT:
			opt.es.timeout_ms = flagval_xnum("--timeout-ms", optarg, 100, 3600000);
			break;
		case O_CTIMEOUT:
			opt.es.connect_timeout_ms = flagval_xnum("--connect-timeout-ms", optarg, 10, 600000);
			break;
		case O_MAXLINE:
			opt.io.max_line = (size_t)flagval_xnum("--max-line", optarg, 1024, 1L << 30);
			break;
		case O_DUMP: opt.io.dump = 1; break;
		case O_SHARDF:
			opt.shard_format = flagval_xstr("--shard-date-format", optarg, 1, 64, NULL);
			break;
		case O_SHARDC:
			shard_field = flagval_xstr("--shard-date-field", optarg, 1, 64, "_");
			break;
		case O_REFRESH:
			if (strcmp(optarg, "false") && strcmp(optarg, "true") && strcmp(optarg, "wait_for"))
				flagval_xusage("--refresh: expected false, true or wait_for");
			opt.refresh = optarg;
			break;
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " %s\n", FURROW_VERSION); exit(0);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc)
		flagval_xusage("unexpected argument '%s'", argv[optind]);
	if (opt.es.nurls == 0)
		opt.es.urls[opt.es.nurls++] = "http://localhost:9200";
	if (opt.index == NULL) {
		if (opt.input == ES_IN_JSON)
			flagval_xusage("--input json needs --index");
		opt.index = opt.input == ES_IN_ENRICHED ? "good" : "bad";
	}
	opt.shard_col = -1;
	if (opt.shard_format) {
		if (opt.input != ES_IN_ENRICHED)
			flagval_xusage("--shard-date-format works with --input enriched only");
		opt.shard_col = event_col_by_name(shard_field);
		if (opt.shard_col < 0 || event_cols[opt.shard_col].type != EVT_TS)
			flagval_xusage("--shard-date-field: '%s' is not a timestamp column",
			    shard_field);
	}
	if (opt.io.group && !stream_spec_has_groups(opt.io.source))
		flagval_xusage("--group: a consumer group needs a log or a topic (--source log:PATH "
		    "or kafka:TOPIC)");
	if (opt.io.group == NULL)
		opt.io.group = opt.input == ES_IN_ENRICHED ? "es-sink-good" : opt.input == ES_IN_BAD ?
		    "es-sink-bad" : "es-sink";
	if (opt.retry_max_ms < opt.retry_base_ms)
		opt.retry_max_ms = opt.retry_base_ms;
	opt.es.user = getenv("ES_USER");
	opt.es.password = getenv("ES_PASSWORD");
	opt.es.aws_key_id = getenv("AWS_ACCESS_KEY_ID");
	opt.es.aws_secret = getenv("AWS_SECRET_ACCESS_KEY");
	opt.es.aws_token = getenv("AWS_SESSION_TOKEN");
	if (opt.es.region == NULL)
		opt.es.region = getenv("AWS_REGION");
	if (opt.es.region == NULL)
		opt.es.region = getenv("AWS_DEFAULT_REGION");
	if (opt.es.region != NULL) {
		char err[256];

		if (flagval_str("region (AWS_REGION, AWS_DEFAULT_REGION)", opt.es.region, 1, 64, "-_",
		    err, sizeof(err)) == -1) {
			fprintf(stderr, PROG ": %s\n", err);
			exit(EX_CONFIG);
		}
	}
}

static int
run_setup(struct esclient *es, struct metricsd *md)
{
	char err[1024];
	unsigned attempt = 0;
	int64_t start = timefmt_mono_ms(), until;
	enum mapping_kind kind = opt.input == ES_IN_ENRICHED ? MAPPING_GOOD :
	    opt.input == ES_IN_BAD ? MAPPING_BAD : MAPPING_NONE;

	if (opt.shard_format)
		log_warn("--setup creates '%s' only; date-suffixed indexes get the engine's "
		    "dynamic mapping unless an index template covers them", opt.index);
	for (;;) {
		int rc = mapping_setup(es, opt.index, kind, err, sizeof(err));
		if (rc >= 0) {
			ms.setup_failing_since = 0;
			log_info("index %s %s", opt.index, rc ? "created" : "already exists");
			return 0;
		}
		attempt++;
		if (ms.setup_failing_since == 0)
			ms.setup_failing_since = timefmt_mono_ms();
		snprintf(ms.setup_error, sizeof(ms.setup_error), "%.200s", err);
		log_warn("setup of index %s failed (attempt %u): %s", opt.index, attempt, err);
		if (sig_terminate || (opt.retry_deadline_s > 0 &&
		    timefmt_mono_ms() - start >= opt.retry_deadline_s * 1000))
			return -1;
		until = timefmt_mono_ms() + (int64_t)bulk_backoff_ms(attempt, (uint64_t)opt.retry_base_ms,
		    (uint64_t)opt.retry_max_ms, (uint64_t)timefmt_mono_ms() * 6364136223846793005ULL ^
		    (uint64_t)getpid());
		while (timefmt_mono_ms() < until && !sig_terminate)
			metricsd_poll(md, NULL, 0, 100);
	}
}

int
main(int argc, char **argv)
{
	struct esclient *es = NULL;
	struct sinkout io;
	struct sender *snd = NULL;
	struct metricsd *md = NULL;
	char err[1024];
	int status;

	memset(&io, 0, sizeof(io));
	log_init(PROG);
	parse_args(argc, argv);
	sig_flags_install();

	if (metrics_listen && !opt.setup_only && (md = metricsd_open(metrics_listen, PROG,
	    metrics_render, metrics_health, NULL, err, sizeof(err))) == NULL) {
		log_error("--metrics-listen %s", err);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (!opt.io.dump) {
		es = esclient_new(&opt.es, err, sizeof(err));
		if (es == NULL) {
			log_error("Elasticsearch client: %s", err);
			status = EX_CONFIG;
			goto out;
		}
		esclient_set_abort(es, sender_abort_cb, NULL);
		esclient_set_metricsd(es, md);
		if (opt.setup && run_setup(es, md) == -1) {
			log_error("setup of index %s failed", opt.index);
			status = EX_UNAVAILABLE;
			goto out;
		}
		if (opt.setup_only) {
			status = 0;
			goto out;
		}
	}
	if ((status = sinkout_open(&io, &opt.io, err, sizeof(err))) != 0) {
		log_error("%s", err);
		goto out;
	}
	if ((snd = sender_new(&opt, es, &io)) == NULL) {
		log_error("out of memory");
		status = EX_SOFTWARE;
		goto out;
	}
	sender_set_metrics(snd, md, health_threshold_s);
	ms.snd = snd;
	status = sender_run(snd);       /* ends with the exit line */
	/* the last commits wait for the bad rows' acknowledgements (a Kafka --bad) */
	if (stream_source_sync(io.in, (int)opt.term_timeout_s * 1000 + 1000, err, sizeof(err)) == -1) {
		log_error("%s", err);
		status = status ? status : EX_IOERR;
	}
out:
	ms.snd = NULL;
	if (snd == NULL)
		sender_log_stats(NULL, "exit");
	sender_free(snd);
	metricsd_close(md);
	if (sinkout_close(&io) != 0)
		status = status ? status : EX_IOERR;
	esclient_free(es);
	return status;
}
