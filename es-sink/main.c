/*
 * es-sink: load the enriched stream (or the bad stream, or any JSON lines) into Elasticsearch or
 * OpenSearch through _bulk, at least once (sinks.md §1-2, cli.md).
 *
 * One thread, one loop: read stdin (non-blocking) into a batch until it is full (documents or
 * bytes) or its flush delay has passed, then send it and do not read again until every document
 * of the batch is accepted, rejected into a bad row, or (at a deadline) diverted. While a batch is
 * retried nothing is read, so the pipe fills and back-pressure reaches the collector.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "badrewrite.h"
#include "badrow.h"
#include "buf.h"
#include "bulk.h"
#include "esclient.h"
#include "event.h"
#include "linereader.h"
#include "log.h"
#include "mapping.h"
#include "sig.h"
#include "sdkjson.h"
#include "utf8.h"
#include "version.h"

#define PROG "es-sink"
#define ARTIFACT "furrow-es-sink"
#define PAYLOAD_CUT_CHARS 20000          /* sinks.md §2.7, as ESL2 */

enum input_mode { IN_ENRICHED, IN_BAD, IN_JSON };

struct opts {
	struct esclient_opts es;
	enum input_mode input;
	const char *index;
	int         setup, setup_only, dump;
	size_t      batch_docs, batch_bytes, max_line;
	long        flush_ms;
	long        retry_base_ms, retry_max_ms;
	long        retry_deadline_s, term_timeout_s;
	const char *bad_path, *spool_path;
	long        stats_interval;
	const char *shard_format;
	int         shard_col;
	const char *refresh;
};

struct doc {
	size_t line_off, line_len;    /* the input line, in batch.lines */
	size_t body_off, body_len;    /* action line + document + '\n', in batch.body */
	int    done;
};

struct batch {
	struct doc *docs;
	size_t      n, cap;
	struct buf  lines, body;
	int64_t     first_ms;
};

struct stats {
	uint64_t in, indexed, conflicts, bad, spooled, retried, requests, failed_requests;
	uint64_t lat_sum_ms, lat_max_ms;
};

static struct opts opt;
static struct stats st;
static struct batch batch;
static struct esclient *es;
static FILE *bad_fp, *spool_fp;
static int64_t term_deadline;         /* monotonic ms; 0 until SIGTERM/SIGINT */
static int undelivered;               /* documents diverted at a deadline */
static int exit_code;
static struct buf scratch, errbuf, reqbody, resp;
static struct bulk_item *items;     /* per sent document, sized items_cap */
static size_t *sent_idx;
static size_t items_cap;
static struct batch inflight_b;      /* the batch whose first request is in flight */
static int inflight;
static int64_t inflight_t0;
static char bulk_path[128];

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
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
	    "Reads enriched TSV (or bad rows, or JSON objects) on stdin and indexes them with _bulk.\n"
	    "Credentials: ES_USER/ES_PASSWORD, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/\n"
	    "AWS_SESSION_TOKEN with --aws-sigv4. See es-sink(1).\n");
}

static long
num_arg(const char *name, const char *s, long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, PROG ": %s: invalid value '%s' (%ld..%ld)\n", name, s, min, max);
		exit(EX_USAGE);
	}
	return v;
}

static void
parse_args(int argc, char **argv)
{
	enum { O_URL = 256, O_INPUT, O_INDEX, O_SETUP, O_SETUP_ONLY, O_BDOCS, O_BBYTES, O_FLUSH,
	    O_RBASE, O_RMAX, O_RDEAD, O_TERM, O_SPOOL, O_BAD, O_STATS, O_CACERT, O_CERT, O_KEY,
	    O_INSECURE, O_SIGV4, O_REGION, O_TIMEOUT, O_CTIMEOUT, O_MAXLINE, O_DUMP, O_SHARDF,
	    O_SHARDC, O_REFRESH };
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
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *shard_field = "derived_tstamp";
	int c;

	opt.input = IN_ENRICHED;
	opt.batch_docs = 500;
	opt.batch_bytes = 1000000;
	opt.flush_ms = 200;
	opt.retry_base_ms = 100;
	opt.retry_max_ms = 30000;
	opt.term_timeout_s = 10;
	opt.stats_interval = 60;
	opt.max_line = 1 << 20;
	opt.es.timeout_ms = 60000;
	opt.es.connect_timeout_ms = 5000;
	while ((c = getopt_long(argc, argv, "hVqv", lo, NULL)) != -1) {
		switch (c) {
		case O_URL:
			if (opt.es.nurls == ESCLIENT_MAX_URLS) {
				fprintf(stderr, PROG ": --url: at most %d\n", ESCLIENT_MAX_URLS);
				exit(EX_USAGE);
			}
			opt.es.urls[opt.es.nurls++] = optarg;
			break;
		case O_INPUT:
			if (strcmp(optarg, "enriched") == 0)
				opt.input = IN_ENRICHED;
			else if (strcmp(optarg, "bad") == 0)
				opt.input = IN_BAD;
			else if (strcmp(optarg, "json") == 0)
				opt.input = IN_JSON;
			else {
				fprintf(stderr, PROG ": --input: expected enriched, bad or json\n");
				exit(EX_USAGE);
			}
			break;
		case O_INDEX: opt.index = optarg; break;
		case O_SETUP: opt.setup = 1; break;
		case O_SETUP_ONLY: opt.setup = opt.setup_only = 1; break;
		case O_BDOCS: opt.batch_docs = (size_t)num_arg("--batch-docs", optarg, 1, 100000); break;
		case O_BBYTES:
			opt.batch_bytes = (size_t)num_arg("--batch-bytes", optarg, 1024, 1L << 30);
			break;
		case O_FLUSH: opt.flush_ms = num_arg("--flush-ms", optarg, 0, 3600000); break;
		case O_RBASE: opt.retry_base_ms = num_arg("--retry-base-ms", optarg, 1, 3600000); break;
		case O_RMAX: opt.retry_max_ms = num_arg("--retry-max-ms", optarg, 1, 86400000); break;
		case O_RDEAD: opt.retry_deadline_s = num_arg("--retry-deadline", optarg, 0, 1L << 30); break;
		case O_TERM: opt.term_timeout_s = num_arg("--term-timeout", optarg, 0, 86400); break;
		case O_SPOOL: opt.spool_path = optarg; break;
		case O_BAD: opt.bad_path = optarg; break;
		case O_STATS: opt.stats_interval = num_arg("--stats-interval", optarg, 0, 86400); break;
		case O_CACERT: opt.es.cacert = optarg; break;
		case O_CERT: opt.es.cert = optarg; break;
		case O_KEY: opt.es.key = optarg; break;
		case O_INSECURE: opt.es.insecure = 1; break;
		case O_SIGV4:
			if (strcmp(optarg, "es") != 0 && strcmp(optarg, "aoss") != 0) {
				fprintf(stderr, PROG ": --aws-sigv4: expected es or aoss\n");
				exit(EX_USAGE);
			}
			opt.es.sigv4_service = optarg;
			break;
		case O_REGION: opt.es.region = optarg; break;
		case O_TIMEOUT: opt.es.timeout_ms = num_arg("--timeout-ms", optarg, 100, 3600000); break;
		case O_CTIMEOUT:
			opt.es.connect_timeout_ms = num_arg("--connect-timeout-ms", optarg, 10, 600000);
			break;
		case O_MAXLINE: opt.max_line = (size_t)num_arg("--max-line", optarg, 1024, 1L << 30); break;
		case O_DUMP: opt.dump = 1; break;
		case O_SHARDF: opt.shard_format = optarg; break;
		case O_SHARDC: shard_field = optarg; break;
		case O_REFRESH:
			if (strcmp(optarg, "false") && strcmp(optarg, "true") && strcmp(optarg, "wait_for")) {
				fprintf(stderr, PROG ": --refresh: expected false, true or wait_for\n");
				exit(EX_USAGE);
			}
			opt.refresh = optarg;
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
	if (opt.es.nurls == 0)
		opt.es.urls[opt.es.nurls++] = "http://localhost:9200";
	if (opt.index == NULL) {
		if (opt.input == IN_JSON) {
			fprintf(stderr, PROG ": --input json needs --index\n");
			exit(EX_USAGE);
		}
		opt.index = opt.input == IN_ENRICHED ? "good" : "bad";
	}
	opt.shard_col = -1;
	if (opt.shard_format) {
		if (opt.input != IN_ENRICHED) {
			fprintf(stderr, PROG ": --shard-date-format works with --input enriched only\n");
			exit(EX_USAGE);
		}
		opt.shard_col = event_col_by_name(shard_field);
		if (opt.shard_col < 0 || event_cols[opt.shard_col].type != EVT_TS) {
			fprintf(stderr, PROG ": --shard-date-field: '%s' is not a timestamp column\n",
			    shard_field);
			exit(EX_USAGE);
		}
	}
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
}

/* ---- outputs: bad rows, spool ---- */

static FILE *
open_append(const char *path, FILE *dflt)
{
	if (path == NULL)
		return dflt;
	if (strcmp(path, "-") == 0)
		return stdout;
	return fopen(path, "a");
}

static void
reopen_outputs(void)
{
	if (opt.bad_path && strcmp(opt.bad_path, "-") != 0) {
		FILE *f = fopen(opt.bad_path, "a");
		if (f) {
			fclose(bad_fp);
			bad_fp = f;
		} else {
			log_error("--bad %s: reopen: %s", opt.bad_path, strerror(errno));
		}
	}
	if (spool_fp) {
		FILE *f = fopen(opt.spool_path, "a");
		if (f) {
			fclose(spool_fp);
			spool_fp = f;
		}
	}
}

static void
fatal_output(const char *what)
{
	log_error("%s: write failed: %s", what, strerror(errno));
	exit(EX_IOERR);
}

static void
flush_outputs(void)
{
	if (fflush(bad_fp) == EOF)
		fatal_output(opt.bad_path ? opt.bad_path : "bad output");
	if (spool_fp && fflush(spool_fp) == EOF)
		fatal_output(opt.spool_path);
	if (opt.dump && fflush(stdout) == EOF)
		fatal_output("stdout");
}

static void
write_bad(const char *line, size_t len, int cut, const char *error)
{
	json_t *row;

	if (cut)
		len = utf8_cut(line, len, PAYLOAD_CUT_CHARS);   /* item-level bad rows */
	row = badrow_generic_error(ARTIFACT, line, len, error);
	buf_reset(&scratch);
	if (row == NULL || badrow_write(row, &scratch) == -1) {
		log_error("cannot build a bad row (out of memory)");
		exit(EX_SOFTWARE);
	}
	json_decref(row);
	if (fwrite(scratch.data, 1, scratch.len, bad_fp) != scratch.len)
		fatal_output(opt.bad_path ? opt.bad_path : "bad output");
	st.bad++;
}

static void
write_spool(const char *line, size_t len)
{
	if (fwrite(line, 1, len, spool_fp) != len || fputc('\n', spool_fp) == EOF)
		fatal_output(opt.spool_path);
	st.spooled++;
}

static void
log_stats(const char *when)
{
	log_info("%s: in=%" PRIu64 " indexed=%" PRIu64 " bad=%" PRIu64 " spooled=%" PRIu64
	    " pending=%zu retried=%" PRIu64 " conflicts=%" PRIu64 " requests=%" PRIu64
	    " failed_requests=%" PRIu64 " bulk_ms_avg=%.1f bulk_ms_max=%" PRIu64, when, st.in,
	    st.indexed, st.bad, st.spooled, batch.n + (inflight ? inflight_b.n : 0), st.retried, st.conflicts, st.requests,
	    st.failed_requests, st.requests ? (double)st.lat_sum_ms / (double)st.requests : 0.0,
	    st.lat_max_ms);
}

/* ---- sending a batch ---- */

static int
term_now(void)
{
	if (sig_terminate && term_deadline == 0)
		term_deadline = now_ms() + opt.term_timeout_s * 1000;
	return term_deadline != 0 && now_ms() >= term_deadline;
}

static int
abort_cb(void *arg)
{
	(void)arg;
	return term_now();
}

static uint64_t
rnd64(void)
{
	static uint64_t x;

	if (x == 0)
		x = (uint64_t)now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() ^ 0x9e3779b97f4a7c15ULL;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return x;
}

/* Sleep ms, waking early at the shutdown deadline. Returns -1 when that deadline passed. */
static int
backoff_sleep(uint64_t ms)
{
	int64_t until = now_ms() + (int64_t)ms;

	for (;;) {
		int64_t left = until - now_ms();
		if (term_now())
			return -1;
		if (left <= 0)
			return 0;
		poll(NULL, 0, left > 100 ? 100 : (int)left);
	}
}

/* Divert every pending document of the batch: to the spool at shutdown when there is one,
 * else to --bad. */
static void
give_up(struct batch *b, int at_shutdown, unsigned attempts, const char *last_err)
{
	char msg[1024];
	size_t i;

	if (at_shutdown)
		snprintf(msg, sizeof(msg), "Elasticsearch did not accept the document before "
		    "shutdown after %u attempts: %s", attempts, last_err);
	else
		snprintf(msg, sizeof(msg), "Elasticsearch did not accept the document after %u "
		    "attempts: %s", attempts, last_err);
	for (i = 0; i < b->n; i++) {
		struct doc *d = &b->docs[i];
		if (d->done)
			continue;
		if (at_shutdown && spool_fp)
			write_spool(b->lines.data + d->line_off, d->line_len);
		else
			write_bad(b->lines.data + d->line_off, d->line_len, 1, msg);
		d->done = 1;
		undelivered = 1;
	}
	log_error("%s (documents diverted to %s)", msg, at_shutdown && spool_fp ? "the spool" :
	    "--bad");
}

static void
batch_reset(struct batch *b)
{
	b->n = 0;
	buf_reset(&b->lines);
	buf_reset(&b->body);
	b->first_ms = 0;
}

/*
 * Deliver batch b: every document ends accepted, rejected into a bad row, or (at a deadline)
 * diverted. When have_first is set, the first request was already made (asynchronously, for
 * all documents) and rc0/status0/err0/t0 are its outcome, with the response in resp.
 */
static void
send_batch(struct batch *b, int have_first, int rc0, long status0, const char *err0, int64_t t0_first)
{
	char err[1024], last_err[1024] = "none";
	size_t pending = b->n, chunk = b->n, i;
	unsigned attempt = 0;
	int64_t first_fail = 0;

	if (b->n == 0)
		return;
	while (pending > 0) {
		const char *body;
		size_t blen, k = 0;
		long status = 0;
		int need_backoff = 0, rc;
		int64_t t0;

		/* the next chunk of pending documents */
		for (i = 0; i < b->n && k < chunk; i++)
			if (!b->docs[i].done)
				sent_idx[k++] = i;
		if (have_first) {
			body = NULL;
			blen = 0;
		} else if (k == b->n) {
			body = b->body.data;
			blen = b->body.len;
		} else {
			buf_reset(&reqbody);
			for (i = 0; i < k; i++) {
				struct doc *d = &b->docs[sent_idx[i]];
				if (buf_append(&reqbody, b->body.data + d->body_off, d->body_len) == -1) {
					log_error("out of memory building a bulk request");
					exit(EX_SOFTWARE);
				}
			}
			body = reqbody.data;
			blen = reqbody.len;
		}
		if (have_first) {
			have_first = 0;
			t0 = t0_first;
			rc = rc0;
			status = status0;
			snprintf(err, sizeof(err), "%s", err0);
		} else {
			buf_reset(&resp);
			t0 = now_ms();
			rc = esclient_request(es, "POST", bulk_path, "application/x-ndjson", body, blen,
			    &status, &resp, err, sizeof(err));
		}
		st.requests++;
		st.lat_sum_ms += (uint64_t)(now_ms() - t0);
		if ((uint64_t)(now_ms() - t0) > st.lat_max_ms)
			st.lat_max_ms = (uint64_t)(now_ms() - t0);
		if (rc == -1) {
			need_backoff = 1;
			snprintf(last_err, sizeof(last_err), "%.1000s", err);
		} else {
			switch (bulk_request_outcome(status)) {
			case BULK_REQ_ITEMS:
				if (bulk_parse_response(resp.data ? resp.data : "", resp.len, k, items, err,
				    sizeof(err)) == -1) {
					need_backoff = 1;
					snprintf(last_err, sizeof(last_err), "HTTP %ld: %.900s", status, err);
					break;
				}
				for (i = 0; i < k; i++) {
					struct doc *d = &b->docs[sent_idx[i]];
					char msg[BULK_REASON_MAX + 64];
					switch (items[i].verdict) {
					case BULK_ACCEPTED:
						st.indexed++;
						st.conflicts += (uint64_t)items[i].conflict;
						d->done = 1;
						pending--;
						break;
					case BULK_REJECTED:
						snprintf(msg, sizeof(msg),
						    "Elasticsearch rejected record with message %s", items[i].reason);
						write_bad(b->lines.data + d->line_off, d->line_len, 1, msg);
						d->done = 1;
						pending--;
						break;
					case BULK_RETRY:
						st.retried++;
						need_backoff = 1;
						snprintf(last_err, sizeof(last_err), "item status %d: %s",
						    items[i].status, items[i].reason);
						break;
					}
				}
				break;
			case BULK_REQ_SPLIT:
				if (k == 1) {
					struct doc *d = &b->docs[sent_idx[0]];
					write_bad(b->lines.data + d->line_off, d->line_len, 1,
					    "Elasticsearch rejected record: request too large (HTTP 413)");
					d->done = 1;
					pending--;
				} else {
					chunk = k / 2;
					log_warn("HTTP 413 for %zu documents: splitting", k);
				}
				break;
			case BULK_REQ_RETRY:
				need_backoff = 1;
				snprintf(last_err, sizeof(last_err), "HTTP %ld: %.300s", status,
				    resp.data ? resp.data : "");
				if (status >= 400 && status < 500 && status != 429 && status != 408)
					log_warn("bulk request refused (configuration or compatibility "
					    "error?): %s", last_err);
				break;
			}
		}
		if (!need_backoff || pending == 0)
			continue;
		st.failed_requests++;
		if (rc == -1 || bulk_request_outcome(status) != BULK_REQ_ITEMS)
			st.retried += k;
		attempt++;
		if (first_fail == 0)
			first_fail = now_ms();
		if (term_now()) {
			give_up(b, 1, attempt, last_err);
			break;
		}
		if (opt.retry_deadline_s > 0 && now_ms() - first_fail >= opt.retry_deadline_s * 1000) {
			give_up(b, 0, attempt, last_err);
			exit_code = EX_UNAVAILABLE;
			break;
		}
		if (attempt == 1 || attempt % 10 == 0)
			log_warn("retrying %zu documents (attempt %u): %s", pending, attempt, last_err);
		if (backoff_sleep(bulk_backoff_ms(attempt, (uint64_t)opt.retry_base_ms,
		    (uint64_t)opt.retry_max_ms, rnd64())) == -1) {
			give_up(b, 1, attempt, last_err);
			break;
		}
	}
	flush_outputs();
	batch_reset(b);
}

/* Hand the filled batch over to the in-flight slot and start its first request. */
static void
start_async(void)
{
	struct batch tmp = inflight_b;
	char err[1024];

	inflight_b = batch;
	batch = tmp;
	batch_reset(&batch);
	buf_reset(&resp);
	inflight_t0 = now_ms();
	if (esclient_start(es, "POST", bulk_path, "application/x-ndjson", inflight_b.body.data,
	    inflight_b.body.len, &resp, err, sizeof(err)) == -1) {
		send_batch(&inflight_b, 1, -1, 0, err, inflight_t0);
		return;
	}
	inflight = 1;
}

static void
finish_inflight(int r, long status, const char *err)
{
	inflight = 0;
	send_batch(&inflight_b, 1, r == 1 ? 0 : -1, status, err, inflight_t0);
}

static void
wait_inflight(void)
{
	char err[1024] = "";
	long status = 0;
	int r;

	while (inflight) {
		r = esclient_poll(es, -1, 1000, NULL, &status, err, sizeof(err));
		if (r != 0)
			finish_inflight(r, status, err);
	}
}

/* Send the current batch: after the one in flight, if any. */
static void
flush_current(void)
{
	wait_inflight();
	if (batch.n > 0 && exit_code == 0)
		start_async();
}



/* ---- reading ---- */

static int
batch_full(void)
{
	return batch.n >= opt.batch_docs || batch.body.len >= opt.batch_bytes;
}

static void
batch_add(const char *line, size_t len, const char *docbody, size_t doclen)
{
	struct doc *d;

	if (batch.n > 0 && batch.body.len + doclen > opt.batch_bytes)
		flush_current();    /* a document above the limit is sent alone */
	if (batch.n == batch.cap) {
		size_t ncap = batch.cap ? batch.cap * 2 : 64;
		struct doc *nd = realloc(batch.docs, ncap * sizeof(*nd));
		if (nd == NULL) {
			log_error("out of memory");
			exit(EX_SOFTWARE);
		}
		batch.docs = nd;
		batch.cap = ncap;
		if (ncap > items_cap) {
			struct bulk_item *ni = realloc(items, ncap * sizeof(*ni));
			size_t *ns;
			if (ni)
				items = ni;
			ns = realloc(sent_idx, ncap * sizeof(*ns));
			if (ns)
				sent_idx = ns;
			if (ni == NULL || ns == NULL) {
				log_error("out of memory");
				exit(EX_SOFTWARE);
			}
			items_cap = ncap;
		}
	}
	d = &batch.docs[batch.n];
	d->line_off = batch.lines.len;
	d->line_len = len;
	d->body_off = batch.body.len;
	d->body_len = doclen;
	d->done = 0;
	if (buf_append(&batch.lines, line, len) == -1 ||
	    buf_append(&batch.body, docbody, doclen) == -1) {
		log_error("out of memory");
		exit(EX_SOFTWARE);
	}
	if (batch.n == 0)
		batch.first_ms = now_ms();
	batch.n++;
}

static void
handle_line(const char *line, size_t len)
{
	struct sdkjson_result res;
	char err[512], index[512];
	size_t doc_start;
	const char *id = NULL;

	st.in++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	buf_reset(&scratch);
	buf_reset(&errbuf);
	snprintf(index, sizeof(index), "%s", opt.index);
	switch (opt.input) {
	case IN_ENRICHED:
		/* the document first (to learn event_id), then the action line in front */
		if (sdkjson_enriched(line, len, opt.shard_col, &scratch, &res, &errbuf) == -1) {
			write_bad(line, len, 0, errbuf.data ? errbuf.data : "transform failed");
			return;
		}
		id = res.event_id;
		if (opt.shard_format && res.has_shard) {
			char sfx[256];
			size_t n = strftime(sfx, sizeof(sfx), opt.shard_format, &res.shard_tm);
			snprintf(index, sizeof(index), "%s%.*s", opt.index, (int)n, sfx);
		}
		break;
	case IN_BAD:
		if (badrewrite_line(line, len, &scratch, err, sizeof(err)) == -1) {
			write_bad(line, len, 0, err);
			return;
		}
		break;
	case IN_JSON: {
		/* the object goes out as read (after UTF-8 repair): big numbers keep their text */
		json_error_t jerr;
		json_t *j;
		struct buf fixed;
		const char *text = line;
		size_t tlen = len;

		buf_init(&fixed, 0);
		if (utf8_valid_prefix(line, len) != len && utf8_repair(line, len, &fixed) == 0) {
			text = fixed.data;
			tlen = fixed.len;
		}
		j = json_loadb(text, tlen, JSON_ALLOW_NUL, &jerr);
		if (!json_is_object(j)) {
			snprintf(err, sizeof(err), "cannot parse line as JSON: %s",
			    j ? "not an object" : jerr.text);
			write_bad(line, len, 0, err);
			json_decref(j);
			buf_free(&fixed);
			return;
		}
		json_decref(j);
		buf_append(&scratch, text, tlen);
		buf_free(&fixed);
		break;
	}
	}
	if (opt.dump) {
		if (fwrite(scratch.data, 1, scratch.len, stdout) != scratch.len ||
		    fputc('\n', stdout) == EOF)
			fatal_output("stdout");
		st.indexed++;
		return;
	}
	/* move the document behind its action line, in errbuf */
	doc_start = scratch.len;
	buf_reset(&errbuf);
	if (bulk_action(&errbuf, index, id) == -1 || buf_append(&errbuf, scratch.data, doc_start) ||
	    buf_append_byte(&errbuf, '\n')) {
		log_error("out of memory");
		exit(EX_SOFTWARE);
	}
	batch_add(line, len, errbuf.data, errbuf.len);
}

/* Without reading more: take every line already buffered, and a final unterminated piece. */
static int
take_buffered_line(struct linereader *lr, const char **line, size_t *len)
{
	enum lr_status s = linereader_next_buffered(lr, line, len);

	return s == LR_LINE || s == LR_PARTIAL;
}

static void
handle_toolong(const char *line, size_t len)
{
	char msg[128];

	st.in++;
	snprintf(msg, sizeof(msg), "line longer than the limit of %zu bytes (--max-line)",
	    opt.max_line);
	write_bad(line, len, 1, msg);
}

static int
run_setup(void)
{
	char err[1024];
	unsigned attempt = 0;
	int64_t start = now_ms();
	enum mapping_kind kind = opt.input == IN_ENRICHED ? MAPPING_GOOD :
	    opt.input == IN_BAD ? MAPPING_BAD : MAPPING_NONE;

	if (opt.shard_format)
		log_warn("--setup creates '%s' only; date-suffixed indexes get the engine's "
		    "dynamic mapping unless an index template covers them", opt.index);
	for (;;) {
		int rc = mapping_setup(es, opt.index, kind, err, sizeof(err));
		if (rc >= 0) {
			log_info("index %s %s", opt.index, rc ? "created" : "already exists");
			return 0;
		}
		attempt++;
		log_warn("setup of index %s failed (attempt %u): %s", opt.index, attempt, err);
		if (sig_terminate || (opt.retry_deadline_s > 0 &&
		    now_ms() - start >= opt.retry_deadline_s * 1000))
			return -1;
		if (backoff_sleep(bulk_backoff_ms(attempt, (uint64_t)opt.retry_base_ms,
		    (uint64_t)opt.retry_max_ms, rnd64())) == -1)
			return -1;
	}
}

int
main(int argc, char **argv)
{
	struct linereader lr;
	char err[512];
	int64_t next_stats;
	int eof = 0, fl;
	size_t logged_n = 0;

	log_init(PROG);
	parse_args(argc, argv);
	sig_flags_install();

	bad_fp = open_append(opt.bad_path, stderr);
	if (bad_fp == NULL) {
		log_error("--bad %s: %s", opt.bad_path, strerror(errno));
		return EX_IOERR;
	}
	if (opt.spool_path && (spool_fp = fopen(opt.spool_path, "a")) == NULL) {
		log_error("--spool %s: %s", opt.spool_path, strerror(errno));
		return EX_IOERR;
	}
	if (!opt.dump) {
		es = esclient_new(&opt.es, err, sizeof(err));
		if (es == NULL) {
			log_error("Elasticsearch client: %s", err);
			return EX_CONFIG;
		}
		esclient_set_abort(es, abort_cb, NULL);
		if (opt.setup && run_setup() == -1) {
			log_error("setup of index %s failed", opt.index);
			esclient_free(es);
			return EX_UNAVAILABLE;
		}
		if (opt.setup_only) {
			esclient_free(es);
			return 0;
		}
	}
	buf_init(&scratch, 0);
	buf_init(&errbuf, 0);
	buf_init(&reqbody, 0);
	buf_init(&resp, 0);
	buf_init(&batch.lines, 0);
	buf_init(&batch.body, 0);
	buf_init(&inflight_b.lines, 0);
	buf_init(&inflight_b.body, 0);
	/* filter_path: the engine sends back only what es-sink reads, not 500 item summaries */
	snprintf(bulk_path, sizeof(bulk_path),
	    "/_bulk?filter_path=errors,items.*.status,items.*.error%s%s",
	    opt.refresh ? "&refresh=" : "", opt.refresh ? opt.refresh : "");
	if (linereader_init(&lr, STDIN_FILENO, opt.max_line) == -1) {
		log_error("out of memory");
		return EX_SOFTWARE;
	}
	fl = fcntl(STDIN_FILENO, F_GETFL);
	if (fl != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	next_stats = opt.stats_interval ? now_ms() + opt.stats_interval * 1000 : INT64_MAX;

	while (exit_code == 0) {
		const char *line;
		size_t len;
		int timeout;

		if (sig_reopen) {
			sig_reopen = 0;
			reopen_outputs();
		}
		if (now_ms() >= next_stats) {
			log_stats("counters");
			next_stats = now_ms() + opt.stats_interval * 1000;
		}
		if (sig_terminate && term_deadline == 0) {
			term_now();
			log_info("SIGTERM/SIGINT: finishing the batch in hand (at most %lds)",
			    opt.term_timeout_s);
		}
		while (!eof && !batch_full() && exit_code == 0) {
			if (sig_terminate) {
				if (!take_buffered_line(&lr, &line, &len)) {
					eof = 1;
					break;
				}
				handle_line(line, len);
				continue;
			}
			enum lr_status s = linereader_next(&lr, &line, &len);
			if (s == LR_LINE) {
				handle_line(line, len);
			} else if (s == LR_TOOLONG) {
				handle_toolong(line, len);
			} else if (s == LR_AGAIN) {
				break;
			} else if (s == LR_EOF) {
				eof = 1;
			} else {
				log_error("stdin: read failed: %s", strerror(errno));
				eof = 1;
				exit_code = EX_IOERR;
			}
		}
		if (batch.n > 0 && (batch_full() || eof || sig_terminate ||
		    now_ms() - batch.first_ms >= opt.flush_ms)) {
			flush_current();
			continue;
		}
		if (eof && batch.n == 0) {
			wait_inflight();
			break;
		}
		if (batch_full() || sig_terminate) {
			if (inflight) {
				char perr[1024] = "";
				long pstatus = 0;
				int r = esclient_poll(es, -1, 1000, NULL, &pstatus, perr, sizeof(perr));
				if (r != 0)
					finish_inflight(r, pstatus, perr);
			}
			continue;
		}
		flush_outputs();
		if (batch.n != logged_n) {
			log_debug("%zu documents in the batch", batch.n);
			logged_n = batch.n;
		}
		timeout = -1;
		if (batch.n > 0) {
			int64_t left = batch.first_ms + opt.flush_ms - now_ms();
			timeout = left < 0 ? 0 : (int)left;
		}
		if (next_stats != INT64_MAX) {
			int64_t left = next_stats - now_ms();
			if (left < 0)
				left = 0;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		if (inflight) {
			/* wait for the response or for more input, whichever comes first */
			char perr[1024] = "";
			long pstatus = 0;
			int r = esclient_poll(es, STDIN_FILENO, timeout < 0 || timeout > 1000 ? 1000 :
			    timeout, NULL, &pstatus, perr, sizeof(perr));
			if (r != 0)
				finish_inflight(r, pstatus, perr);
		} else {
			struct pollfd pfd = { STDIN_FILENO, POLLIN, 0 };
			poll(&pfd, 1, timeout);
		}
	}
	wait_inflight();
	if (exit_code != 0 && batch.n > 0)
		give_up(&batch, 0, 0, "not sent: the retry deadline was reached for an earlier batch");
	flush_current();
	wait_inflight();
	flush_outputs();
	log_stats("exit");
	if (fl != -1)
		fcntl(STDIN_FILENO, F_SETFL, fl);
	if (undelivered && exit_code == 0)
		exit_code = EX_UNAVAILABLE;
	linereader_free(&lr);
	esclient_free(es);
	buf_free(&scratch);
	buf_free(&errbuf);
	buf_free(&reqbody);
	buf_free(&resp);
	buf_free(&batch.lines);
	buf_free(&batch.body);
	free(batch.docs);
	free(inflight_b.docs);
	buf_free(&inflight_b.lines);
	buf_free(&inflight_b.body);
	free(items);
	free(sent_idx);
	if (bad_fp && bad_fp != stderr && bad_fp != stdout)
		fclose(bad_fp);
	if (spool_fp)
		fclose(spool_fp);
	return exit_code;
}
