/*
 * enrich: raw collector records (stdin, or --source) -> enriched TSV (stdout, or --output), bad
 * rows to --bad.
 *
 * main() is a checklist: flags, Iglu resolver, enrichments, the streams, the loop (loop.c),
 * shutdown. The per-line work is enrich_line() in lib enrich (enrich.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "enrich.h"
#include "enrichments.h"
#include "event.h"
#include "flagval.h"
#include "iglu.h"
#include "linelog.h"
#include "log.h"
#include "loop.h"
#include "metricsd.h"
#include "enrich_metrics.h"
#include "schemadir.h"
#include "stream.h"
#include "version.h"

#define DEFAULT_MAX_LINE   (10u * 1024 * 1024)

#define MAX_ATTRIBUTES     16

/* furrow_enrich_processing_seconds: 10 µs to 1 s */
static const double latency_bounds[] = {
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.1, 1,
};

struct opts {
	const char *resolver, *schemas, *enrichments, *bad, *pii;
	const char *source, *output, *group;
	const char *kafka_brokers, *kafka_properties;
	const char *partition_key;                  /* an enriched event field, or NULL */
	const char *attr_names[MAX_ATTRIBUTES];
	int attr_cols[MAX_ATTRIBUTES];
	size_t n_attrs;
	int reclaim;
	long stats_interval;
	long registry_timeout_ms;
	size_t max_line;
	const char *metrics_listen;
	long health_threshold_s;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: enrich [--resolver FILE] [--schemas DIR] [--enrichments DIR] [--bad STREAM]\n"
	    "              [--pii STREAM] [--source STREAM] [--output STREAM] [--group NAME]\n"
	    "              [--reclaim]\n"
	    "              [--stats-interval SECONDS] [--max-line-bytes N] [--registry-timeout MS]\n"
	    "              [--kafka-brokers LIST] [--kafka-properties FILE]\n"
	    "              [--partition-key FIELD] [--attributes FIELD[,FIELD...]]\n"
	    "              [--metrics-listen ADDR:PORT] [--health-threshold SECONDS]\n"
	    "              [-q] [-v] [-h] [-V]\n"
	    "Reads raw collector records (base64 Thrift, one per line) on stdin, writes enriched\n"
	    "events (131-column TSV) on stdout and bad rows (JSON lines) to --bad (default stderr).\n"
	    "A STREAM is - (stdin/stdout), a file or FIFO path, log:PATH (a durable line log:\n"
	    "read from the offset group --group (default enrich) committed), or kafka:TOPIC\n"
	    "(Snowplow's messages: raw Thrift, TSV, bad-row JSON; consumer group --group).\n");
}

/* An enriched event field by its TSV column name (Snowplow's partitionKey and attributes name
 * EnrichedEvent's fields, which are these), or exit 64. */
static const char *
parse_field(const char *s, const char *flag, int *col)
{
	int c = event_col_by_name(s);

	if (c < 0)
		flagval_xusage("%s: %s is not an enriched event field (app_id, user_id, event_id, "
		    "domain_userid, ...)", flag, s);
	if (col)
		*col = c;
	return s;
}

static void
parse_attributes(char *list, struct opts *o)
{
	char *save = NULL, *f;

	for (f = strtok_r(list, ",", &save); f; f = strtok_r(NULL, ",", &save)) {
		if (o->n_attrs == MAX_ATTRIBUTES)
			flagval_xusage("--attributes: at most %d fields", MAX_ATTRIBUTES);
		o->attr_names[o->n_attrs] = parse_field(f, "--attributes", &o->attr_cols[o->n_attrs]);
		o->n_attrs++;
	}
}

static void
parse_flags(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "schemas", required_argument, NULL, 's' },
		{ "enrichments", required_argument, NULL, 'e' },
		{ "bad", required_argument, NULL, 'b' },
		{ "pii", required_argument, NULL, 'p' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "max-line-bytes", required_argument, NULL, 'm' },
		{ "registry-timeout", required_argument, NULL, 't' },
		{ "source", required_argument, NULL, 'I' },
		{ "output", required_argument, NULL, 'o' },
		{ "group", required_argument, NULL, 'g' },
		{ "reclaim", no_argument, NULL, 'R' },
		{ "kafka-brokers", required_argument, NULL, 'K' },
		{ "kafka-properties", required_argument, NULL, 'P' },
		{ "partition-key", required_argument, NULL, 'k' },
		{ "attributes", required_argument, NULL, 'a' },
		{ "metrics-listen", required_argument, NULL, 'M' },
		{ "health-threshold", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->stats_interval = 60;
	o->max_line = DEFAULT_MAX_LINE;
	o->health_threshold_s = 30;
	o->source = "-";
	o->output = "-";
	o->group = NULL;
	while ((c = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->resolver = flagval_xstr("--resolver", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case 's':
			o->schemas = flagval_xstr("--schemas", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case 'e':
			o->enrichments = flagval_xstr("--enrichments", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case 'b': o->bad = flagval_xstr("--bad", optarg, 1, FLAGVAL_PATH_MAX, NULL); break;
		case 'p': o->pii = flagval_xstr("--pii", optarg, 1, FLAGVAL_PATH_MAX, NULL); break;
		case 'I':
			o->source = flagval_xstr("--source", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case 'o':
			o->output = flagval_xstr("--output", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case 'g':
			/* a consumer group names a file: linelog's rule, checked here as a usage error */
			if (!linelog_group_valid(optarg)) {
				fprintf(stderr, "enrich: --group: 1 to %d letters, digits, '.', '_' or '-', "
				    "not starting with '.', not '%s'\n", LINELOG_GROUP_MAX, optarg);
				exit(EX_USAGE);
			}
			o->group = optarg;
			break;
		case 'R': o->reclaim = 1; break;
		case 'K':
			o->kafka_brokers = flagval_xstr("--kafka-brokers", optarg, 1, FLAGVAL_PATH_MAX,
			    NULL);
			break;
		case 'P':
			o->kafka_properties = flagval_xstr("--kafka-properties", optarg, 1,
			    FLAGVAL_PATH_MAX, NULL);
			break;
		case 'k': o->partition_key = parse_field(optarg, "--partition-key", NULL); break;
		case 'a': parse_attributes(optarg, o); break;
		case 'M': {
			char err[320];
			if (metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err)) == -1)
				flagval_xusage("%s", err);
			o->metrics_listen = optarg;
			break;
		}
		case 'H':
			o->health_threshold_s = flagval_xnum("--health-threshold", optarg, 1, 86400);
			break;
		case 'i': o->stats_interval = flagval_xnum("--stats-interval", optarg, 0, 31536000); break;
		case 'm':
			o->max_line = (size_t)flagval_xnum("--max-line-bytes", optarg, 16, 1L << 30);
			break;
		case 't':
			o->registry_timeout_ms = flagval_xnum("--registry-timeout", optarg, 1, 3600000);
			break;
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("enrich %s\n", FURROW_VERSION); exit(0);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (o->group && !stream_spec_has_groups(o->source))
		flagval_xusage("--group: a consumer group needs a log or a topic (--source log:PATH "
		    "or kafka:TOPIC)");
	if (o->group == NULL)
		o->group = "enrich";
	if (optind < argc) {
		fprintf(stderr, "enrich: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
}

/* Open the input and both outputs named on the command line. Returns 0 or an exit status. */
static int
open_streams(const struct opts *o, struct enrich_loop *l)
{
	struct stream_source_opts so;
	struct stream_sink_fields f;
	char err[512];

	memset(&so, 0, sizeof(so));
	so.max_line = o->max_line;
	so.toolong_keep = o->max_line / 10;     /* what a size_violation bad row keeps */
	so.group = stream_spec_has_groups(o->source) ? o->group : NULL;
	so.reclaim = o->reclaim;
	if ((l->in = stream_source_open(o->source, &so, err, sizeof(err))) == NULL) {
		log_error("--source %s", err);
		return errno == ENOENT ? EX_NOINPUT : errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	if ((l->good = stream_sink_open(o->output, STDOUT_FILENO, err, sizeof(err))) == NULL) {
		log_error("--output %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	if ((l->bad = stream_sink_open(o->bad ? o->bad : "-", o->bad ? STDOUT_FILENO :
	    STDERR_FILENO, err, sizeof(err))) == NULL) {
		log_error("--bad %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	if (o->pii && (l->pii = stream_sink_open(o->pii, STDOUT_FILENO, err, sizeof(err))) == NULL) {
		log_error("--pii %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	memset(&f, 0, sizeof(f));
	f.key_column = -1;
	if (o->partition_key)
		f.key_column = event_col_by_name(o->partition_key);
	f.attr_columns = o->attr_cols;
	f.attr_names = o->attr_names;
	f.n_attrs = o->n_attrs;
	/* commits wait until every output has acknowledged what it was given */
	if (stream_sink_set_fields(l->good, &f, err, sizeof(err)) == -1 ||
	    stream_source_link(l->in, l->good, err, sizeof(err)) == -1 ||
	    stream_source_link(l->in, l->bad, err, sizeof(err)) == -1 ||
	    (l->pii && stream_source_link(l->in, l->pii, err, sizeof(err)) == -1)) {
		log_error("%s", err);
		return EX_SOFTWARE;
	}
	l->good_max = stream_sink_max_record(l->good);
	l->bad_max = stream_sink_max_record(l->bad);
	return 0;
}

/* Kafka settings, when a stream is a topic. Returns 0 or an exit status. */
static int
setup_kafka(const struct opts *o)
{
	const char *specs[4] = { o->source, o->output, o->bad, o->pii };
	struct stream_kafka_conf kc = { .brokers = o->kafka_brokers,
	    .properties = o->kafka_properties, .client_id = "furrow-enrich", .notify = log_line };
	char err[512];

	if (stream_prepare(specs, 4, &kc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct iglu_resolver *resolver;
	struct enrichments *enrichments = NULL;
	struct enrich_loop loop;
	struct enrich_metrics em;
	char err[1024], schemas_buf[PATH_MAX];
	const char *schemas;
	int status;

	log_init("enrich");
	parse_flags(argc, argv, &o);

	schemas = o.schemas ? o.schemas : schemadir_default(schemas_buf, sizeof(schemas_buf));
	if (schemas == NULL) {
		log_error("no embedded schema registry found: use --schemas DIR");
		return EX_CONFIG;
	}
	resolver = iglu_resolver_new(o.resolver, schemas, err, sizeof(err));
	if (resolver == NULL) {
		log_error("%s: %s", o.resolver ? o.resolver : schemas, err);
		return EX_CONFIG;
	}
	if (o.registry_timeout_ms)
		iglu_resolver_set_timeouts(resolver, o.registry_timeout_ms < 2000 ?
		    o.registry_timeout_ms : 2000, o.registry_timeout_ms);
	if (o.enrichments) {
		enrichments = enrichments_load(o.enrichments, resolver, err, sizeof(err));
		if (enrichments == NULL) {
			log_error("--enrichments: %s", err);
			iglu_resolver_free(resolver);
			return EX_CONFIG;
		}
	}
	memset(&loop, 0, sizeof(loop));
	loop.max_line = o.max_line;
	loop.stats_interval = o.stats_interval;
	if ((loop.e = enrich_new(resolver, enrichments)) == NULL) {
		log_error("out of memory");
		status = EX_SOFTWARE;
		goto out;
	}
	if (getenv("FURROW_ENRICH_NOW_MS"))     /* tests: a fixed processing time */
		enrich_set_clock(loop.e, strtoll(getenv("FURROW_ENRICH_NOW_MS"), NULL, 10));

	if (o.pii && !enrichments_emit_pii(enrichments)) {
		/* nothing would ever be written there: left closed, so that a unit or the launcher
		 * may name a topic or stream that is created only with emitEvent */
		log_info("--pii %s: no PII enrichment with emitEvent: not opened", o.pii);
		o.pii = NULL;
	}
	if ((status = setup_kafka(&o)) != 0 || (status = open_streams(&o, &loop)) != 0)
		goto out;
	metrics_hist_init(&loop.stats.latency, latency_bounds,
	    sizeof(latency_bounds) / sizeof(latency_bounds[0]));
	em.l = &loop;
	em.resolver = resolver;
	em.enrichments = enrichments;
	em.threshold_s = o.health_threshold_s;
	if (o.metrics_listen && (loop.md = metricsd_open(o.metrics_listen, "enrich",
	    enrich_metrics_render, enrich_metrics_health, &em, err, sizeof(err))) == NULL) {
		log_error("--metrics-listen %s", err);
		status = EX_UNAVAILABLE;
		goto out;
	}
	status = enrich_loop_run(&loop);
out:
	metricsd_close(loop.md);
	stream_source_close(loop.in);
	if (stream_sink_close(loop.good) == -1 || stream_sink_close(loop.bad) == -1 ||
	    stream_sink_close(loop.pii) == -1) {
		log_error("closing the outputs: %s", strerror(errno));
		status = status ? status : EX_IOERR;
	}
	enrich_free(loop.e);
	if (enrichments)
		enrichments_free(enrichments);
	iglu_resolver_free(resolver);
	return status;
}
