/*
 * inspect: see, query and wait for the pipeline's events. Reads the enriched stream (--source,
 * standard input by default) and the bad stream (--bad-source) into a bounded store and serves
 * Snowplow Micro's REST API, the wait primitive and a small web UI over HTTP (port 9090 on
 * 127.0.0.1 by default). Writes nothing to standard output.
 *
 * main() is a checklist: flags, the Iglu resolver, the UI directory, the store, the sources
 * (their tails loaded), the HTTP server, the held-request registry, signal events, the loop,
 * shutdown in order (held requests answered, then connections closed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "iglu.h"
#include "ins_api.h"
#include "ins_feed.h"
#include "ins_http.h"
#include "ins_metrics.h"
#include "ins_store.h"
#include "ins_wait.h"
#include "flagval.h"
#include "log.h"
#include "metricsd.h"
#include "metricsd_ev.h"
#include "schemadir.h"
#include "sig.h"
#include "stream.h"
#include "version.h"

#define PROG "inspect"
#define TOKEN_ENV "FURROW_INSPECT_TOKEN"
#define TOKEN_MAX 512

struct opts {
	const char *source, *bad_source, *bind, *ui, *resolver, *schemas, *collector_url;
	const char *token_file;
	const char *metrics_listen;
	const char *kafka_brokers, *kafka_properties;
	int port;
	size_t max_events, max_bytes, max_line, max_held, max_header_bytes, max_body_bytes;
	uint64_t tail_bytes;
	int tail_set;
	long default_wait_ms, max_wait_ms, registry_timeout_ms;
	unsigned max_connections, request_timeout, idle_timeout, cors_max_age;
	unsigned stats_interval;
	int exit_on_eof, no_ui;
};

struct app {
	struct opts o;
	struct event_base *base;
	struct iglu_resolver *resolver;
	struct ins_store *store;
	struct ins_feed *feed;
	struct ins_api *api;
	struct ins_http *http;
	struct ins_wait *wait;
	struct event *ev_term, *ev_int, *ev_hup, *ev_stats;
	struct ins_metrics metrics;
	struct metricsd *md;            /* NULL without --metrics-listen */
	struct metricsd_ev *md_ev;
	char token[TOKEN_MAX + 1];
	char ui_dir[PATH_MAX];
};

enum {
	O_SOURCE = 256, O_BAD_SOURCE, O_BIND, O_UI, O_NO_UI, O_RESOLVER, O_SCHEMAS, O_COLLECTOR,
	O_TOKEN_FILE, O_MAX_EVENTS, O_MAX_BYTES, O_MAX_LINE, O_TAIL, O_MAX_HELD, O_DEFAULT_WAIT,
	O_MAX_WAIT, O_MAX_CONNS, O_REQ_TIMEOUT, O_IDLE_TIMEOUT, O_MAX_HEADER, O_MAX_BODY,
	O_CORS_MAX_AGE, O_STATS, O_EXIT_EOF, O_REGISTRY_TIMEOUT, O_KBROKERS, O_KPROPS,
	O_METRICS_LISTEN,
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-hqvV] [--source STREAM] [--bad-source STREAM] [-p PORT] [--bind ADDR]\n"
	    "               [--max-events N] [--max-bytes N] [--tail-bytes N] [options]\n"
	    "\n"
	    "Keep the most recent enriched events and bad rows in memory and serve Snowplow Micro's\n"
	    "REST API (/micro/...), the wait primitive and a web UI (/micro/ui). STREAM is - (standard\n"
	    "input), a file or FIFO, log:PATH (a line log, followed as it grows), or kafka:TOPIC\n"
	    "(read without a consumer group, from the last --max-events records of each partition).\n"
	    "\n"
	    "      --source STREAM          enriched TSV (-)\n"
	    "      --bad-source STREAM      bad rows, one JSON object per line (none)\n"
	    "  -p, --port PORT              TCP port (9090)\n"
	    "      --bind ADDR              listen address (127.0.0.1)\n"
	    "      --max-events N           records kept, oldest evicted first (100000)\n"
	    "      --max-bytes N            memory for records, K/M/G suffixes (128M)\n"
	    "      --tail-bytes N           log sources: load this much of their end at start\n"
	    "                               (the --max-bytes value)\n"
	    "      --max-line-bytes N       longer lines are counted and skipped (1M)\n"
	    "      --ui DIR                 the UI's files (the installed share/furrow/ui)\n"
	    "      --no-ui                  serve no UI\n"
	    "      --collector-url URL      where the UI sends example events (its host, port 8080)\n"
	    "      --resolver FILE          Iglu resolver configuration for /micro/iglu\n"
	    "      --schemas DIR            embedded registry root (the installed one)\n"
	    "      --registry-timeout MS    HTTP registry timeout for /micro/iglu (2000)\n"
	    "      --token-file FILE        access token for the API (else $" TOKEN_ENV ")\n"
	    "      --max-held N             requests held by the wait primitive at once (4096)\n"
	    "      --default-wait-ms MS     wait of a request with min but no wait_ms (10000)\n"
	    "      --max-wait-ms MS         longest wait_ms honoured (300000)\n"
	    "      --max-connections N      (8192)\n"
	    "      --request-timeout SECONDS  first byte to the end of a request (30)\n"
	    "      --idle-timeout SECONDS   keep-alive connection with nothing to do (60)\n"
	    "      --max-header-bytes N     request line and headers (40960)\n"
	    "      --max-body-bytes N       request body (1048576)\n"
	    "      --cors-max-age SECONDS   (3600)\n"
	    "      --exit-on-eof            exit when every source has ended (default: keep serving)\n"
	    "      --kafka-brokers LIST     Kafka bootstrap brokers ($FURROW_KAFKA_BROKERS)\n"
	    "      --kafka-properties FILE  librdkafka properties for TLS/SASL\n"
	    "                               ($FURROW_KAFKA_PROPERTIES)\n"
	    "      --stats-interval SECONDS counters on stderr every N seconds, 0: at exit (60)\n"
	    "      --metrics-listen ADDR:PORT  /metrics and /health on their own port (off)\n"
	    "  -q, -v                       less / more logging\n"
	    "  -h, --help, -V, --version\n");
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "port", required_argument, NULL, 'p' },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "bad-source", required_argument, NULL, O_BAD_SOURCE },
		{ "bind", required_argument, NULL, O_BIND },
		{ "ui", required_argument, NULL, O_UI },
		{ "no-ui", no_argument, NULL, O_NO_UI },
		{ "resolver", required_argument, NULL, O_RESOLVER },
		{ "schemas", required_argument, NULL, O_SCHEMAS },
		{ "registry-timeout", required_argument, NULL, O_REGISTRY_TIMEOUT },
		{ "collector-url", required_argument, NULL, O_COLLECTOR },
		{ "token-file", required_argument, NULL, O_TOKEN_FILE },
		{ "max-events", required_argument, NULL, O_MAX_EVENTS },
		{ "max-bytes", required_argument, NULL, O_MAX_BYTES },
		{ "max-line-bytes", required_argument, NULL, O_MAX_LINE },
		{ "tail-bytes", required_argument, NULL, O_TAIL },
		{ "max-held", required_argument, NULL, O_MAX_HELD },
		{ "default-wait-ms", required_argument, NULL, O_DEFAULT_WAIT },
		{ "max-wait-ms", required_argument, NULL, O_MAX_WAIT },
		{ "max-connections", required_argument, NULL, O_MAX_CONNS },
		{ "request-timeout", required_argument, NULL, O_REQ_TIMEOUT },
		{ "idle-timeout", required_argument, NULL, O_IDLE_TIMEOUT },
		{ "max-header-bytes", required_argument, NULL, O_MAX_HEADER },
		{ "max-body-bytes", required_argument, NULL, O_MAX_BODY },
		{ "cors-max-age", required_argument, NULL, O_CORS_MAX_AGE },
		{ "stats-interval", required_argument, NULL, O_STATS },
		{ "exit-on-eof", no_argument, NULL, O_EXIT_EOF },
		{ "metrics-listen", required_argument, NULL, O_METRICS_LISTEN },
		{ "kafka-brokers", required_argument, NULL, O_KBROKERS },
		{ "kafka-properties", required_argument, NULL, O_KPROPS },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->source = "-";
	o->bind = "127.0.0.1";
	o->port = 9090;
	o->max_events = 100000;
	o->max_bytes = 128u << 20;
	o->max_line = 1u << 20;
	o->max_held = 4096;
	o->default_wait_ms = 10000;
	o->max_wait_ms = 300000;
	o->registry_timeout_ms = 2000;
	o->max_connections = 8192;
	o->request_timeout = 30;
	o->idle_timeout = 60;
	o->max_header_bytes = 40960;
	o->max_body_bytes = 1u << 20;
	o->cors_max_age = 3600;
	o->stats_interval = 60;
	while ((c = getopt_long(argc, argv, "hVqvp:", lo, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " %s\n", FURROW_VERSION); exit(0);
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'p': o->port = (int)flagval_xnum("--port", optarg, 0, 65535); break;
		case O_SOURCE: o->source = optarg; break;
		case O_KBROKERS: o->kafka_brokers = optarg; break;
		case O_KPROPS: o->kafka_properties = optarg; break;
		case O_BAD_SOURCE: o->bad_source = optarg; break;
		case O_BIND: o->bind = optarg; break;
		case O_UI: o->ui = optarg; break;
		case O_NO_UI: o->no_ui = 1; break;
		case O_RESOLVER: o->resolver = optarg; break;
		case O_SCHEMAS: o->schemas = optarg; break;
		case O_REGISTRY_TIMEOUT:
			o->registry_timeout_ms = (long)flagval_xnum("--registry-timeout", optarg, 10, 600000);
			break;
		case O_COLLECTOR: o->collector_url = optarg; break;
		case O_METRICS_LISTEN: {
			char err[300];

			if (metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err)) == -1)
				flagval_xusage("%s", err);
			o->metrics_listen = optarg;
			break;
		}
		case O_TOKEN_FILE: o->token_file = optarg; break;
		case O_MAX_EVENTS:
			o->max_events = flagval_xnum("--max-events", optarg, 1, 100000000);
			break;
		case O_MAX_BYTES:
			o->max_bytes = flagval_xsize("--max-bytes", optarg, 1u << 16, 1ULL << 40);
			break;
		case O_MAX_LINE:
			o->max_line = flagval_xsize("--max-line-bytes", optarg, 1024, 1u << 30);
			break;
		case O_TAIL:
			o->tail_bytes = flagval_xsize("--tail-bytes", optarg, 0, 1ULL << 40);
			o->tail_set = 1;
			break;
		case O_MAX_HELD: o->max_held = flagval_xnum("--max-held", optarg, 0, 1000000); break;
		case O_DEFAULT_WAIT:
			o->default_wait_ms = (long)flagval_xnum("--default-wait-ms", optarg, 0, 86400000);
			break;
		case O_MAX_WAIT:
			o->max_wait_ms = (long)flagval_xnum("--max-wait-ms", optarg, 0, 86400000);
			break;
		case O_MAX_CONNS:
			o->max_connections = (unsigned)flagval_xnum("--max-connections", optarg, 1, 1000000);
			break;
		case O_REQ_TIMEOUT:
			o->request_timeout = (unsigned)flagval_xnum("--request-timeout", optarg, 1, 86400);
			break;
		case O_IDLE_TIMEOUT:
			o->idle_timeout = (unsigned)flagval_xnum("--idle-timeout", optarg, 1, 86400);
			break;
		case O_MAX_HEADER:
			o->max_header_bytes = flagval_xsize("--max-header-bytes", optarg, 1024, 1u << 24);
			break;
		case O_MAX_BODY:
			o->max_body_bytes = flagval_xsize("--max-body-bytes", optarg, 1024, 1u << 30);
			break;
		case O_CORS_MAX_AGE:
			o->cors_max_age = (unsigned)flagval_xnum("--cors-max-age", optarg, 0, 86400 * 365);
			break;
		case O_STATS:
			o->stats_interval = (unsigned)flagval_xnum("--stats-interval", optarg, 0, 86400 * 365);
			break;
		case O_EXIT_EOF: o->exit_on_eof = 1; break;
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc)
		flagval_xusage("unexpected argument '%s'", argv[optind]);
	if (!o->tail_set)
		o->tail_bytes = o->max_bytes;
	if (o->default_wait_ms > o->max_wait_ms)
		o->default_wait_ms = o->max_wait_ms;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is p a directory (holding the file want, when want is not NULL)? */
static int
dir_with(const char *p, const char *want)
{
	char f[PATH_MAX];
	struct stat st;

	if (!is_dir(p))
		return 0;
	if (want == NULL)
		return 1;
	snprintf(f, sizeof(f), "%s/%s", p, want);
	return stat(f, &st) == 0 && S_ISREG(st.st_mode);
}

/* A data directory next to the executable (installed, or bin/ of the source tree), then the
 * usual prefixes. rel are tried after the executable's directory, abs as they are. */
static const char *
find_dir(char *out, size_t outlen, const char *const *rel, size_t nrel, const char *const *abs,
    size_t nabs, const char *want)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < nrel; i++) {
			snprintf(out, outlen, "%s%s", exe, rel[i]);
			if (dir_with(out, want))
				return out;
		}
	}
	for (i = 0; i < nabs; i++)
		if (dir_with(abs[i], want))
			return abs[i];
	return NULL;
}

static int
setup_resolver(struct app *a)
{
	char buf[PATH_MAX], err[1024];
	const char *schemas = a->o.schemas ? a->o.schemas : schemadir_default(buf, sizeof(buf));

	if (schemas == NULL && a->o.resolver == NULL) {
		log_warn("no embedded schema registry found (--schemas): /micro/iglu will find nothing");
		return 0;
	}
	a->resolver = iglu_resolver_new(a->o.resolver, schemas ? schemas : "/nonexistent", err,
	    sizeof(err));
	if (a->resolver == NULL) {
		log_error("%s: %s", a->o.resolver ? a->o.resolver : schemas, err);
		return EX_CONFIG;
	}
	iglu_resolver_set_timeouts(a->resolver, a->o.registry_timeout_ms < 1000 ?
	    a->o.registry_timeout_ms : 1000, a->o.registry_timeout_ms);
	return 0;
}

static int
setup_ui(struct app *a)
{
	/* installed; bin/ of the source tree; build/<variant>/bin (sanitizer, fuzz builds) */
	static const char *const rel[] = { "/../share/furrow/ui", "/../inspect/ui",
	    "/../../../inspect/ui" };
	static const char *const abs[] = { "/usr/local/share/furrow/ui", "/usr/share/furrow/ui" };
	const char *d;

	if (a->o.no_ui)
		return 0;
	if (a->o.ui) {
		if (!is_dir(a->o.ui)) {
			log_error("--ui %s: not a directory", a->o.ui);
			return EX_CONFIG;
		}
		snprintf(a->ui_dir, sizeof(a->ui_dir), "%s", a->o.ui);
		return 0;
	}
	if ((d = find_dir(a->ui_dir, sizeof(a->ui_dir), rel, 3, abs, 2, "index.html")) == NULL) {
		log_warn("the UI's files were not found (--ui DIR); serving the API only");
		a->ui_dir[0] = '\0';
		return 0;
	}
	if (d != a->ui_dir)
		snprintf(a->ui_dir, sizeof(a->ui_dir), "%s", d);
	return 0;
}

/* The access token: --token-file, else the environment. Never from argv (it would show in ps). */
static int
setup_token(struct app *a)
{
	const char *env = getenv(TOKEN_ENV);
	struct in6_addr a6;
	struct in_addr a4;
	int local;

	a->token[0] = '\0';
	if (a->o.token_file) {
		FILE *f = fopen(a->o.token_file, "r");
		size_t n;
		if (f == NULL) {
			log_error("--token-file %s: %s", a->o.token_file, strerror(errno));
			return EX_NOINPUT;
		}
		n = fread(a->token, 1, TOKEN_MAX, f);
		fclose(f);
		a->token[n] = '\0';
		a->token[strcspn(a->token, "\r\n")] = '\0';
	} else if (env) {
		snprintf(a->token, sizeof(a->token), "%s", env);
	}
	if (a->o.token_file && a->token[0] == '\0') {
		log_error("--token-file %s: empty", a->o.token_file);
		return EX_CONFIG;
	}
	local = (inet_pton(AF_INET, a->o.bind, &a4) == 1 && (ntohl(a4.s_addr) >> 24) == 127) ||
	    (inet_pton(AF_INET6, a->o.bind, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6)) ||
	    strcmp(a->o.bind, "localhost") == 0;
	if (!local && a->token[0] == '\0')
		log_warn("listening on %s without an access token: anyone who can reach the port "
		    "can read the events (set %s or --token-file)", a->o.bind, TOKEN_ENV);
	return 0;
}

/* Room for the connection cap (a thousand held requests are a thousand sockets). */
static void
raise_fd_limit(struct app *a)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)a->o.max_connections + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < want) {
		log_warn("only %llu file descriptors: --max-connections lowered to %llu",
		    (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_cur - 64);
		a->o.max_connections = rl.rlim_cur > 128 ? (unsigned)(rl.rlim_cur - 64) : 64;
	}
}

static void
log_stats(struct app *a, const char *when)
{
	const struct ins_store_counts *c = ins_store_counts(a->store);
	const struct ins_wait_stats *w = ins_wait_stats(a->wait);
	const struct ins_api_stats *s = ins_api_stats(a->api);
	const struct ins_http_stats *h = ins_http_stats(a->http);

	log_info("%sgood in=%" PRIu64 " stored=%zu evicted=%" PRIu64 " rejected=%" PRIu64
	    "; bad in=%" PRIu64 " stored=%zu evicted=%" PRIu64 " rejected=%" PRIu64
	    "; bytes=%zu; requests=%llu 4xx=%llu 5xx=%llu; held=%zu answered=%llu timed_out=%llu"
	    "; connections=%u", when, c->in_good, ins_store_count_kind(a->store, INS_GOOD),
	    c->evicted_good, c->rejected_good, c->in_bad, ins_store_count_kind(a->store, INS_BAD),
	    c->evicted_bad, c->rejected_bad, ins_store_bytes(a->store), s->requests, s->by_class[4],
	    s->by_class[5], w->now_held, w->answered, w->timed_out, h->open);
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_stats(arg, "");
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;

	(void)what;
	log_info("%s: stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
	ins_http_stop_accepting(a->http);
	event_base_loopexit(a->base, NULL);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("SIGHUP: inspect writes no files; nothing to reopen");
}

/* libevent's own warnings go through our log, with the program name and a level */
static void
libevent_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_error("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

static void
added_cb(void *arg)
{
	struct app *a = arg;

	if (a->wait)
		ins_wait_notify(a->wait);
}

static int
setup_loop(struct app *a)
{
	struct ins_api_opts ao;
	struct ins_http_opts ho;
	struct ins_wait_opts wo;
	char err[512];
	struct timeval tv;

	memset(&ao, 0, sizeof(ao));
	ao.ui_dir = a->ui_dir[0] ? a->ui_dir : NULL;
	ao.token = a->token[0] ? a->token : NULL;
	ao.collector_url = a->o.collector_url;
	ao.cors_max_age = a->o.cors_max_age;
	ao.max_events = a->o.max_events;
	ao.max_bytes = a->o.max_bytes;
	if ((a->api = ins_api_new(a->base, a->store, a->resolver, &ao)) == NULL) {
		log_error("out of memory");
		return EX_SOFTWARE;
	}
	memset(&ho, 0, sizeof(ho));
	ho.bind = a->o.bind;
	ho.port = a->o.port;
	ho.max_header_bytes = a->o.max_header_bytes;
	ho.max_body_bytes = a->o.max_body_bytes;
	ho.idle_timeout_s = a->o.idle_timeout;
	ho.request_timeout_s = a->o.request_timeout;
	ho.max_connections = a->o.max_connections;
	if ((a->http = ins_http_new(a->base, &ho, ins_api_handle, a->api, err, sizeof(err))) == NULL) {
		log_error("listen: %s", err);
		return EX_UNAVAILABLE;
	}
	wo.max_held = a->o.max_held;
	wo.default_wait_ms = a->o.default_wait_ms;
	wo.max_wait_ms = a->o.max_wait_ms;
	a->wait = ins_wait_new(a->base, a->store, a->http, &wo, ins_api_answer, a->api);
	if (a->wait == NULL) {
		log_error("out of memory");
		return EX_SOFTWARE;
	}
	ins_api_attach(a->api, a->http, a->wait);
	a->ev_term = sig_event_add(a->base, SIGTERM, term_cb, a);
	a->ev_int = sig_event_add(a->base, SIGINT, term_cb, a);
	a->ev_hup = sig_event_add(a->base, SIGHUP, hup_cb, a);
	if (!a->ev_term || !a->ev_int || !a->ev_hup) {
		log_error("cannot install signal events");
		return EX_SOFTWARE;
	}
	if (a->o.metrics_listen) {
		a->metrics.store = a->store;
		a->metrics.api = a->api;
		a->metrics.wait = a->wait;
		a->metrics.http = a->http;
		a->metrics.resolver = a->resolver;
		a->md = metricsd_open(a->o.metrics_listen, PROG, ins_metrics_render, NULL,
		    &a->metrics, err, sizeof(err));
		if (a->md == NULL) {
			log_error("--metrics-listen %s", err);
			return EX_UNAVAILABLE;
		}
		if ((a->md_ev = metricsd_ev_new(a->base, a->md)) == NULL) {
			log_error("out of memory");
			return EX_SOFTWARE;
		}
	}
	if (a->o.stats_interval) {
		tv.tv_sec = (time_t)a->o.stats_interval;
		tv.tv_usec = 0;
		if ((a->ev_stats = event_new(a->base, -1, EV_PERSIST, stats_cb, a)) != NULL)
			event_add(a->ev_stats, &tv);
	}
	return 0;
}

/* Kafka settings, when a source is a topic. Returns 0 or an exit status. */
static int
setup_kafka(const struct opts *o)
{
	const char *specs[2] = { o->source, o->bad_source };
	struct stream_kafka_conf kc = { .brokers = o->kafka_brokers,
	    .properties = o->kafka_properties, .client_id = "furrow-" PROG, .notify = log_line };
	char err[512];

	if (stream_prepare(specs, 2, &kc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct app a;
	struct ins_store_limits lim;
	struct ins_feed_opts fo;
	char err[512];
	int status;

	memset(&a, 0, sizeof(a));
	log_init(PROG);
	sig_ignore_pipe();
	event_set_log_callback(libevent_log_cb);
	parse_args(argc, argv, &a.o);

	if ((status = setup_resolver(&a)) != 0 || (status = setup_ui(&a)) != 0 ||
	    (status = setup_token(&a)) != 0)
		goto out;
	raise_fd_limit(&a);

	lim.max_events = a.o.max_events;
	lim.max_bytes = a.o.max_bytes;
	if ((a.base = event_base_new()) == NULL || (a.store = ins_store_new(&lim)) == NULL) {
		log_error("cannot set up the event loop and the store");
		status = EX_SOFTWARE;
		goto out;
	}
	if ((status = setup_kafka(&a.o)) != 0)
		goto out;
	memset(&fo, 0, sizeof(fo));
	fo.tail_records = a.o.max_events;
	fo.good_spec = a.o.source;
	fo.bad_spec = a.o.bad_source;
	fo.max_line = a.o.max_line;
	fo.tail_bytes = a.o.tail_bytes;
	fo.exit_on_eof = a.o.exit_on_eof;
	fo.on_added = added_cb;
	fo.arg = &a;
	if ((a.feed = ins_feed_new(a.base, a.store, &fo, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		status = errno == ENOENT ? EX_NOINPUT : errno == EINVAL ? EX_CONFIG : EX_IOERR;
		goto out;
	}
	ins_feed_load(a.feed);
	if (ins_store_count(a.store))
		log_info("loaded %zu good events and %zu bad rows from the logs' tails",
		    ins_store_count_kind(a.store, INS_GOOD), ins_store_count_kind(a.store, INS_BAD));

	if ((status = setup_loop(&a)) != 0)
		goto out;
	if (ins_feed_start(a.feed) == -1) {
		log_error("cannot watch the sources");
		status = EX_SOFTWARE;
		goto out;
	}
	log_info("listening on %s port %d%s%s", a.o.bind, ins_http_port(a.http),
	    a.ui_dir[0] ? "; UI at /micro/ui from " : "", a.ui_dir);

	event_base_dispatch(a.base);

	/* held requests get what there is, and a moment to be written, then connections close */
	if (ins_wait_stats(a.wait)->now_held) {
		struct timeval drain = { 0, 200000 };
		ins_wait_answer_all(a.wait);
		event_base_loopexit(a.base, &drain);
		event_base_dispatch(a.base);
	}
	log_stats(&a, "at exit: ");
	status = 0;
out:
	metricsd_ev_free(a.md_ev);
	metricsd_close(a.md);
	ins_wait_free(a.wait);
	ins_http_free(a.http);
	ins_api_free(a.api);
	ins_feed_free(a.feed);
	if (a.ev_term)
		event_free(a.ev_term);
	if (a.ev_int)
		event_free(a.ev_int);
	if (a.ev_hup)
		event_free(a.ev_hup);
	if (a.ev_stats)
		event_free(a.ev_stats);
	if (a.base)
		event_base_free(a.base);
	ins_store_free(a.store);
	iglu_resolver_free(a.resolver);
	return status;
}
