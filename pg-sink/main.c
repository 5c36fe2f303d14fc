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
#include "sinkout.h"
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
	o->io.source = "-";
	o->batch_rows = 5000;
	o->batch_bytes = 16 << 20;
	o->flush_ms = 200;
	o->max_tables = 1000;
	o->retry_base_ms = 100;
	o->retry_max_ms = 30000;
	o->term_timeout_s = 10;
	o->stats_interval = 60;
	o->io.max_line = 1 << 20;
	o->conn.url = "";
	o->conn.timeout_ms = 300000;
	o->conn.connect_timeout_ms = 10000;
	o->io.artifact = "furrow-" PROG;
	o->io.notify = log_line;
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
		case O_SPOOL: o->io.spool_path = str_arg("--spool", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_BAD: o->io.bad_path = str_arg("--bad", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_STATS: o->stats_interval = num_arg("--stats-interval", optarg, 0, 86400); break;
		case O_MAXLINE: o->io.max_line = (size_t)num_arg("--max-line", optarg, 1024, 1L << 30); break;
		case O_DUMP: o->io.dump = 1; break;
		case O_SOURCE: o->io.source = str_arg("--source", optarg, 1, MAX_PATH_FLAG, NULL); break;
		case O_GROUP:
			o->io.group = str_arg("--group", optarg, 1, LINELOG_GROUP_MAX, "-_.");
			if (!linelog_group_valid(optarg))
				usage_error("--group: must not start with '.'");
			break;
		case O_RECLAIM: o->io.reclaim = 1; break;
		case O_KBROKERS:
			o->io.kafka_brokers = str_arg("--kafka-brokers", optarg, 1, MAX_PATH_FLAG, NULL);
			break;
		case O_KPROPS:
			o->io.kafka_properties = str_arg("--kafka-properties", optarg, 1, MAX_PATH_FLAG,
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
	if (o->io.dump && o->setup)
		usage_error("--dump writes rows to standard output and does not use the database: "
		    "no --setup with it");
	if (o->input == PG_IN_BAD && (opt.resolver || opt.schemas))
		usage_error("--resolver and --schemas are for --input enriched");
	if (o->io.group && !stream_spec_has_groups(o->io.source))
		usage_error("--group: a consumer group needs a log or a topic (--source log:PATH or "
		    "kafka:TOPIC)");
	if (o->io.group == NULL)
		o->io.group = o->input == PG_IN_ENRICHED ? "pg-sink-good" : "pg-sink-bad";
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

int
main(int argc, char **argv)
{
	struct iglu_resolver *resolver = NULL;
	struct pgconn *conn = NULL;
	struct pgtables *tables = NULL;
	struct sinkout io;
	struct pgloader *loader = NULL;
	struct metricsd *md = NULL;
	char err[1024];
	int status = 0, stopped = 0;

	memset(&io, 0, sizeof(io));
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
	if (!opt.pg.io.dump) {
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
	if ((status = sinkout_open(&io, &opt.pg.io, err, sizeof(err))) != 0) {
		log_error("%s", err);
		goto out;
	}
	if ((loader = pgloader_new(&opt.pg, conn, tables, &io)) == NULL) {
		log_error("out of memory");
		status = EX_SOFTWARE;
		goto out;
	}
	pgloader_set_metrics(loader, md, health_threshold_s);
	ms.loader = loader;
	status = pgloader_run(loader);
	/* the last commits wait for the bad rows' acknowledgements (a Kafka --bad) */
	if (io.in && stream_source_sync(io.in, (int)opt.pg.term_timeout_s * 1000 + 1000, err,
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
	if (sinkout_close(&io) != 0)
		status = status ? status : EX_IOERR;
	pgtables_free(tables);
	pgconn_free(conn);
	iglu_resolver_free(resolver);
	return status;
}
