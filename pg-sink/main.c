/*
 * pg-sink: load the enriched stream into PostgreSQL as Snowplow's Postgres Loader lays it out
 * (atomic.events, one table per self-describing schema), or the bad stream into a bad-rows
 * table, with COPY in batches, one transaction per batch, at least once and without duplicates
 * on replay (pg_load.h).
 *
 * main() is a checklist: flags, the Iglu resolver, the database (connect, set up or check),
 * the streams, the loop (pg_load.c), shutdown.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include "flagval.h"
#include "iglu.h"
#include "iglu_metrics.h"
#include "linelog.h"
#include "log.h"
#include "metricsd.h"
#include "pg_conn.h"
#include "pg_load.h"
#include "pg_tables.h"
#include "schemadir.h"
#include "sig.h"
#include "stream.h"

#define PROG          "pg-sink"
#define MAX_PATH_FLAG 4096

struct main_opts {
	struct pg_opts pg;
	const char    *resolver, *schemas;
};

static struct main_opts opt;
static const char *metrics_listen;
static long health_threshold_s = 30;

/* /metrics and /health: the loader's once it runs; before, the connection's (--setup). */
static struct {
	struct pgloader *loader;
	struct pgconn   *conn;
	struct iglu_resolver *resolver;   /* --input enriched: the furrow_iglu_ series */
} ms;

static void
metrics_render(struct buf *b, void *arg)
{
	(void)arg;
	if (ms.loader)
		pgloader_metrics_render(b, ms.loader);
	else
		pgloader_metrics_peer(b, ms.conn);
	if (ms.resolver)
		iglu_metrics_render(b, ms.resolver);
}

static int
metrics_health(struct buf *why, void *arg)
{
	(void)arg;
	return ms.loader ? pgloader_health(why, ms.loader) :
	    pgloader_health_peer(why, ms.conn, health_threshold_s);
}

static void
usage(FILE *fp)
{
	fprintf(fp,
	    "usage: " PROG " [--url URL] [--schema NAME] [--input enriched|bad]\n"
	    "       [--setup | --setup-only] [--resolver FILE] [--schemas DIR]\n"
	    "       [--batch-rows N] [--batch-bytes N] [--flush-ms N] [--max-tables N]\n"
	    "       [--retry-base-ms N] [--retry-max-ms N] [--retry-deadline SECONDS]\n"
	    "       [--term-timeout SECONDS] [--timeout-ms N] [--connect-timeout-ms N]\n"
	    "       [--spool PATH] [--bad PATH] [--stats-interval SECONDS] [--max-line BYTES]\n"
	    "       [--dump] [-q] [-v] [-h] [-V] [--source STREAM [--group NAME] [--reclaim]]\n"
	    "       [--metrics-listen ADDR:PORT] [--health-threshold SECONDS]\n"
	    "       [--kafka-brokers LIST] [--kafka-properties FILE]\n"
	    "Reads enriched TSV (or bad rows) on stdin (or --source: a file, a FIFO, log:PATH, a\n"
	    "durable log read from group NAME's committed offset, or kafka:TOPIC, read in consumer\n"
	    "group NAME) and loads it into PostgreSQL:\n"
	    "atomic.events and one table per self-describing schema (or atomic.bad_rows).\n"
	    "--url is a libpq URI or keyword string without a password: the password comes from\n"
	    "PGPASSWORD or a password file (~/.pgpass). See pg-sink(1).\n");
}

static void
usage_error(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	exit(EX_USAGE);
}

static long
num_arg(const char *name, const char *s, long min, long max)
{
	char err[256];
	long long v;

	if (flagval_num(name, s, min, max, &v, err, sizeof(err)) == -1)
		usage_error(err);
	return (long)v;
}

static const char *
str_arg(const char *name, const char *s, size_t minlen, size_t maxlen, const char *chars)
{
	char err[256];

	if (flagval_str(name, s, minlen, maxlen, chars, err, sizeof(err)) == -1)
		usage_error(err);
	return s;
}

static void
parse_args(int argc, char **argv)
{
	enum { O_URL = 256, O_SCHEMA, O_INPUT, O_SETUP, O_SETUP_ONLY, O_RESOLVER, O_SCHEMAS,
	    O_BROWS, O_BBYTES, O_FLUSH, O_MAXTAB, O_RBASE, O_RMAX, O_RDEAD, O_TERM, O_TIMEOUT,
	    O_CTIMEOUT, O_SPOOL, O_BAD, O_STATS, O_MAXLINE, O_DUMP, O_SOURCE, O_GROUP, O_RECLAIM,
	    O_KBROKERS, O_KPROPS, O_MLISTEN, O_HEALTH };
	static const struct option lo[] = {
		{ "url", required_argument, NULL, O_URL },
		{ "schema", required_argument, NULL, O_SCHEMA },
		{ "input", required_argument, NULL, O_INPUT },
		{ "setup", no_argument, NULL, O_SETUP },
		{ "setup-only", no_argument, NULL, O_SETUP_ONLY },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "schemas", required_argument, NULL, O_SCHEMAS },
		{ "batch-rows", required_argument, NULL, O_BROWS },
		{ "batch-bytes", required_argument, NULL, O_BBYTES },
		{ "flush-ms", required_argument, NULL, O_FLUSH },
		{ "max-tables", required_argument, NULL, O_MAXTAB },
		{ "retry-base-ms", required_argument, NULL, O_RBASE },
		{ "retry-max-ms", required_argument, NULL, O_RMAX },
		{ "retry-deadline", required_argument, NULL, O_RDEAD },
		{ "term-timeout", required_argument, NULL, O_TERM },
		{ "timeout-ms", required_argument, NULL, O_TIMEOUT },
		{ "connect-timeout-ms", required_argument, NULL, O_CTIMEOUT },
		{ "spool", required_argument, NULL, O_SPOOL },
		{ "bad", required_argument, NULL, O_BAD },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "max-line", required_argument, NULL, O_MAXLINE },
		{ "dump", no_argument, NULL, O_DUMP },
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
	struct pg_opts *o = &opt.pg;
	int c;

	o->input = PG_IN_ENRICHED;
	o->schema = "atomic";
	o->source = "-";
	o->batch_rows = 5000;
	o->batch_bytes = 16 << 20;
	o->flush_ms = 200;
	o->max_tables = 1000;
	o->retry_base_ms = 100;
	o->retry_max_ms = 30000;
	o->term_timeout_s = 10;
	o->stats_interval = 60;
	o->max_line = 1 << 20;
	o->conn.url = "";
	o->conn.timeout_ms = 300000;
	o->conn.connect_timeout_ms = 10000;
	while ((c = getopt_long(argc, argv, "hVqv", lo, NULL)) != -1) {
		switch (c) {
		case O_URL: {
			char err[512];

			o->conn.url = str_arg("--url", optarg, 0, 2048, NULL);
			if (pgconn_check_url(optarg, err, sizeof(err)) == -1)
				usage_error(err);
			break;
		}
		case O_SCHEMA: o->schema = str_arg("--schema", optarg, 1, 63, "_"); break;
		case O_INPUT:
			if (strcmp(optarg, "enriched") == 0)
				o->input = PG_IN_ENRICHED;
			else if (strcmp(optarg, "bad") == 0)
				o->input = PG_IN_BAD;
			else
				usage_error("--input: expected enriched or bad");
			break;
		case O_SETUP: o->setup = 1; break;
		case O_SETUP_ONLY: o->setup = o->setup_only = 1; break;
		case O_RESOLVER: opt.resolver = str_arg("--resolver", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_SCHEMAS: opt.schemas = str_arg("--schemas", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_BROWS: o->batch_rows = (size_t)num_arg("--batch-rows", optarg, 1, 1000000); break;
		case O_BBYTES:
			o->batch_bytes = (size_t)num_arg("--batch-bytes", optarg, 1024, 1L << 30);
			break;
		case O_FLUSH: o->flush_ms = num_arg("--flush-ms", optarg, 0, 3600000); break;
		case O_MAXTAB: o->max_tables = (size_t)num_arg("--max-tables", optarg, 1, 100000); break;
		case O_RBASE: o->retry_base_ms = num_arg("--retry-base-ms", optarg, 1, 3600000); break;
		case O_RMAX: o->retry_max_ms = num_arg("--retry-max-ms", optarg, 1, 86400000); break;
		case O_RDEAD: o->retry_deadline_s = num_arg("--retry-deadline", optarg, 0, 1L << 30); break;
		case O_TERM: o->term_timeout_s = num_arg("--term-timeout", optarg, 0, 86400); break;
		case O_TIMEOUT: o->conn.timeout_ms = num_arg("--timeout-ms", optarg, 100, 86400000); break;
		case O_CTIMEOUT:
			o->conn.connect_timeout_ms = num_arg("--connect-timeout-ms", optarg, 10, 600000);
			break;
		case O_SPOOL: o->spool_path = str_arg("--spool", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_BAD: o->bad_path = str_arg("--bad", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_STATS: o->stats_interval = num_arg("--stats-interval", optarg, 0, 86400); break;
		case O_MAXLINE: o->max_line = (size_t)num_arg("--max-line", optarg, 1024, 1L << 30); break;
		case O_DUMP: o->dump = 1; break;
		case O_SOURCE: o->source = str_arg("--source", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_GROUP:
			o->group = str_arg("--group", optarg, 1, LINELOG_GROUP_MAX, "-_.");
			if (!linelog_group_valid(optarg))
				usage_error("--group: must not start with '.'");
			break;
		case O_RECLAIM: o->reclaim = 1; break;
		case O_KBROKERS:
			o->kafka_brokers = str_arg("--kafka-brokers", optarg, 1, MAX_PATH_FLAG, NULL);
			break;
		case O_KPROPS:
			o->kafka_properties = str_arg("--kafka-properties", optarg, 1, MAX_PATH_FLAG,
			    NULL);
			break;
		case O_MLISTEN: {
			char err[320];
			if (metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err)) == -1)
				usage_error(err);
			metrics_listen = optarg;
			break;
		}
		case O_HEALTH:
			health_threshold_s = num_arg("--health-threshold", optarg, 1, 86400);
			break;
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " %s\n", FURROW_VERSION); exit(0);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc) {
		fprintf(stderr, PROG ": unexpected argument '%s'\n", argv[optind]);
		exit(EX_USAGE);
	}
	if (o->dump && o->setup)
		usage_error("--dump writes rows to standard output and does not use the database: "
		    "no --setup with it");
	if (o->input == PG_IN_BAD && (opt.resolver || opt.schemas))
		usage_error("--resolver and --schemas are for --input enriched");
	if (o->group && !stream_spec_has_groups(o->source))
		usage_error("--group: a consumer group needs a log or a topic (--source log:PATH or "
		    "kafka:TOPIC)");
	if (o->group == NULL)
		o->group = o->input == PG_IN_ENRICHED ? "pg-sink-good" : "pg-sink-bad";
	if (o->retry_max_ms < o->retry_base_ms)
		o->retry_max_ms = o->retry_base_ms;
	o->conn.abort_cb = pgloader_abort_cb;
}

static struct iglu_resolver *
open_resolver(void)
{
	char err[1024], buf[PATH_MAX];
	const char *schemas = opt.schemas ? opt.schemas : schemadir_default(buf, sizeof(buf));
	struct iglu_resolver *r;

	if (schemas == NULL) {
		log_error("no embedded schema registry found: use --schemas DIR");
		return NULL;
	}
	if ((r = iglu_resolver_new(opt.resolver, schemas, err, sizeof(err))) == NULL)
		log_error("%s: %s", opt.resolver ? opt.resolver : schemas, err);
	return r;
}

/* Open the input and the outputs named on the command line. Returns 0 or an exit status. */
static int
open_streams(struct stream_source **in, struct stream_sink **bad, struct stream_sink **spool,
    struct stream_sink **dump)
{
	const struct pg_opts *o = &opt.pg;
	struct stream_source_opts so;
	char err[512];

	memset(&so, 0, sizeof(so));
	so.max_line = o->max_line;
	so.toolong_keep = 65536;
	so.group = stream_spec_has_groups(o->source) ? o->group : NULL;
	so.reclaim = o->reclaim;
	if ((*in = stream_source_open(o->source, &so, err, sizeof(err))) == NULL) {
		log_error("--source %s", err);
		return errno == ENOENT ? EX_NOINPUT : errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	*bad = stream_sink_open(o->bad_path ? o->bad_path : "-", o->bad_path ? STDOUT_FILENO :
	    STDERR_FILENO, err, sizeof(err));
	if (*bad == NULL) {
		log_error("--bad %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	if (o->spool_path && (*spool = stream_sink_open(o->spool_path, -1, err,
	    sizeof(err))) == NULL) {
		log_error("--spool %s", err);
		return EX_IOERR;
	}
	if (o->dump && (*dump = stream_sink_open("-", STDOUT_FILENO, err, sizeof(err))) == NULL) {
		log_error("standard output: %s", err);
		return EX_IOERR;
	}
	/* a batch's position is committed once its bad rows are acknowledged too (a Kafka --bad) */
	if (stream_source_link(*in, *bad, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_SOFTWARE;
	}
	return 0;
}

/* Kafka settings, when a stream is a topic. Returns 0 or an exit status. */
static int
setup_kafka(void)
{
	const char *specs[2] = { opt.pg.source, opt.pg.bad_path };
	struct stream_kafka_conf kc;
	struct stream_kinesis_conf kn;
	char err[512];

	memset(&kc, 0, sizeof(kc));
	kc.brokers = opt.pg.kafka_brokers;
	kc.properties = opt.pg.kafka_properties;
	kc.client_id = "furrow-" PROG;
	kc.notify = log_line;
	if (stream_kafka_prepare(specs, 2, &kc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	memset(&kn, 0, sizeof(kn));
	kn.notify = log_line;
	if (stream_kinesis_prepare(specs, 2, &kn, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	return 0;
}

static int
close_sink(struct stream_sink *s)
{
	char name[512];

	if (s == NULL)
		return 0;
	snprintf(name, sizeof(name), "%s", stream_sink_name(s));
	if (stream_sink_close(s) == 0)
		return 0;
	log_error("%s: write failed: %s", name, strerror(errno));
	return -1;
}

int
main(int argc, char **argv)
{
	struct iglu_resolver *resolver = NULL;
	struct pgconn *conn = NULL;
	struct pgtables *tables = NULL;
	struct stream_source *in = NULL;
	struct stream_sink *bad = NULL, *spool = NULL, *dump = NULL;
	struct pgloader *loader = NULL;
	struct metricsd *md = NULL;
	char err[512];
	int status = 0, stopped = 0;

	log_init(PROG);
	parse_args(argc, argv);
	sig_flags_install();

	if (opt.pg.input == PG_IN_ENRICHED && !opt.pg.setup_only) {
		if ((resolver = open_resolver()) == NULL)
			return EX_CONFIG;
		ms.resolver = resolver;
		if ((tables = pgtables_new(resolver, opt.pg.schema, opt.pg.max_tables)) == NULL) {
			status = EX_SOFTWARE;
			goto out;
		}
	}
	if (metrics_listen && !opt.pg.setup_only && (md = metricsd_open(metrics_listen, PROG,
	    metrics_render, metrics_health, NULL, err, sizeof(err))) == NULL) {
		log_error("--metrics-listen %s", err);
		status = EX_UNAVAILABLE;
		goto out;
	}
	if (!opt.pg.dump) {
		if ((conn = pgconn_new(&opt.pg.conn)) == NULL) {
			status = EX_SOFTWARE;
			goto out;
		}
		pgconn_set_metricsd(conn, md);
		ms.conn = conn;
		if ((status = pgload_prepare(&opt.pg, conn, &stopped)) != 0 || stopped ||
		    opt.pg.setup_only)
			goto out;
	}
	if ((status = setup_kafka()) != 0 || (status = open_streams(&in, &bad, &spool, &dump)) != 0)
		goto out;
	if ((loader = pgloader_new(&opt.pg, conn, tables, in, bad, spool, dump)) == NULL) {
		log_error("out of memory");
		status = EX_SOFTWARE;
		goto out;
	}
	pgloader_set_metrics(loader, md, health_threshold_s);
	ms.loader = loader;
	status = pgloader_run(loader);
	/* the last commits wait for the bad rows' acknowledgements (a Kafka --bad) */
	if (in && stream_source_sync(in, (int)opt.pg.term_timeout_s * 1000 + 1000, err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		status = status ? status : EX_IOERR;
	}
out:
	ms.loader = NULL;
	ms.conn = NULL;
	ms.resolver = NULL;
	metricsd_close(md);
	pgloader_free(loader);
	stream_source_close(in);
	if (close_sink(bad) == -1 || close_sink(spool) == -1 || close_sink(dump) == -1)
		status = status ? status : EX_IOERR;
	pgtables_free(tables);
	pgconn_free(conn);
	iglu_resolver_free(resolver);
	return status;
}
