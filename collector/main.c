/*
 * collector: furrow's HTTP front door. Answers Snowplow trackers exactly as Snowplow's Scala
 * Stream Collector 3.x does (shared/spec/collector.md) and writes one base64 Thrift
 * CollectorPayload per line to standard output or --output; size_violation bad rows go to --bad.
 *
 * main() is a checklist: parse flags, open outputs, install signal events, write out the last
 * run's spill, listen, run the loop, drain, report. The HTTP server is httpd, the request logic
 * col_route, the output queues col_queue.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sysexits.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>

#include "httpd.h"
#include "col_queue.h"
#include "col_route.h"
#include "flagval.h"
#include "log.h"
#include "metricsd.h"
#include "metricsd_ev.h"
#include "sig.h"
#include "stream.h"
#include "timefmt.h"
#include "tlsctx.h"
#include "version.h"

#define PROG "collector"
/*
 * The collector's Kafka producer waits up to this long to fill a batch (linger.ms). A request
 * is answered once its records are queued, so trackers never wait for it; what it buys is fewer
 * and larger produce requests and delivery reports: on bench/kafka.sh's part 3 the collector
 * took 0.4-0.6x the requests per CPU-second of the FIFO at 5-100 ms and 0.9-1.0x from 200 ms
 * on. Snowplow's Kafka collector lingers longer still (buffer.timeLimit, 5 s by default). The
 * properties file may set it.
 */
#define COLLECTOR_KAFKA_LINGER_MS  200

struct opts {
	const char *bind;
	int port;
	const char *output;
	const char *bad;
	unsigned stats_interval;
	size_t queue_bytes;
	size_t drop_payload;
	size_t max_request_line;
	size_t max_headers;
	unsigned request_timeout;
	unsigned idle_timeout;
	unsigned max_connections;
	unsigned drain_timeout;
	const char *spill;
	const char *kafka_brokers, *kafka_properties;
	int ip_partition_key;
	const char *tls_cert;       /* PEM chain; with tls_key: a TLS listener on tls_port */
	const char *tls_key;
	int tls_port;
	const char *metrics_listen; /* --metrics-listen: /metrics and /health on their own port */
};

struct app {
	struct event_base *base;
	struct httpd_server *srv;
	struct httpd_server *tls_srv;   /* NULL without --tls-cert */
	struct tlsctx *tls;
	struct col_queue *good, *bad;
	struct col_ctx ctx;
	struct metricsd *md;            /* NULL without --metrics-listen */
	struct metricsd_ev *md_ev;
	struct opts o;
	struct event *ev_term, *ev_int, *ev_hup, *ev_stats, *ev_tick;
	int stopping;
	int64_t drain_deadline_ms;
	int exit_code;
};

enum {
	OPT_BIND = 256, OPT_BAD, OPT_STATS, OPT_COOKIE_NAME, OPT_COOKIE_DOMAIN, OPT_COOKIE_FALLBACK,
	OPT_COOKIE_EXPIRY, OPT_COOKIE_SECURE, OPT_NO_COOKIE_SECURE, OPT_COOKIE_HTTP_ONLY,
	OPT_NO_COOKIE_HTTP_ONLY, OPT_COOKIE_SAME_SITE, OPT_NO_COOKIE, OPT_CLIENT_COOKIE,
	OPT_DNT_COOKIE, OPT_BOUNCE, OPT_BOUNCE_NAME, OPT_BOUNCE_FALLBACK, OPT_FWD_PROTO,
	OPT_REDIRECTS, OPT_REDIRECT_DOMAIN, OPT_PATH_MAP, OPT_MAX_PAYLOAD, OPT_DROP_PAYLOAD,
	OPT_MAX_RECORD, OPT_QUEUE_BYTES, OPT_CORS_MAX_AGE, OPT_HSTS, OPT_CROSSDOMAIN,
	OPT_CROSSDOMAIN_INSECURE, OPT_ROOT_RESPONSE, OPT_MAX_LINE, OPT_MAX_HEADERS,
	OPT_REQ_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_MAX_CONNS, OPT_DRAIN_TIMEOUT, OPT_METRICS,
	OPT_METRICS_LISTEN,
	OPT_SPILL, OPT_KBROKERS, OPT_KPROPS, OPT_IP_KEY, OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_PORT,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "output", required_argument, NULL, 'o' },
	{ "bad", required_argument, NULL, OPT_BAD },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "cookie-name", required_argument, NULL, OPT_COOKIE_NAME },
	{ "cookie-domain", required_argument, NULL, OPT_COOKIE_DOMAIN },
	{ "cookie-fallback-domain", required_argument, NULL, OPT_COOKIE_FALLBACK },
	{ "cookie-expiry", required_argument, NULL, OPT_COOKIE_EXPIRY },
	{ "cookie-secure", no_argument, NULL, OPT_COOKIE_SECURE },
	{ "no-cookie-secure", no_argument, NULL, OPT_NO_COOKIE_SECURE },
	{ "cookie-http-only", no_argument, NULL, OPT_COOKIE_HTTP_ONLY },
	{ "no-cookie-http-only", no_argument, NULL, OPT_NO_COOKIE_HTTP_ONLY },
	{ "cookie-same-site", required_argument, NULL, OPT_COOKIE_SAME_SITE },
	{ "no-cookie", no_argument, NULL, OPT_NO_COOKIE },
	{ "client-cookie-name", required_argument, NULL, OPT_CLIENT_COOKIE },
	{ "dnt-cookie", required_argument, NULL, OPT_DNT_COOKIE },
	{ "cookie-bounce", no_argument, NULL, OPT_BOUNCE },
	{ "cookie-bounce-name", required_argument, NULL, OPT_BOUNCE_NAME },
	{ "cookie-bounce-fallback", required_argument, NULL, OPT_BOUNCE_FALLBACK },
	{ "forwarded-proto-header", required_argument, NULL, OPT_FWD_PROTO },
	{ "redirects", no_argument, NULL, OPT_REDIRECTS },
	{ "redirect-domain", required_argument, NULL, OPT_REDIRECT_DOMAIN },
	{ "path-map", required_argument, NULL, OPT_PATH_MAP },
	{ "max-payload-bytes", required_argument, NULL, OPT_MAX_PAYLOAD },
	{ "drop-payload-bytes", required_argument, NULL, OPT_DROP_PAYLOAD },
	{ "max-record-bytes", required_argument, NULL, OPT_MAX_RECORD },
	{ "queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES },
	{ "cors-max-age", required_argument, NULL, OPT_CORS_MAX_AGE },
	{ "hsts", required_argument, NULL, OPT_HSTS },
	{ "crossdomain", required_argument, NULL, OPT_CROSSDOMAIN },
	{ "crossdomain-insecure", no_argument, NULL, OPT_CROSSDOMAIN_INSECURE },
	{ "root-response", required_argument, NULL, OPT_ROOT_RESPONSE },
	{ "max-request-line", required_argument, NULL, OPT_MAX_LINE },
	{ "max-header-bytes", required_argument, NULL, OPT_MAX_HEADERS },
	{ "request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "spill", required_argument, NULL, OPT_SPILL },
	{ "kafka-brokers", required_argument, NULL, OPT_KBROKERS },
	{ "kafka-properties", required_argument, NULL, OPT_KPROPS },
	{ "ip-partition-key", no_argument, NULL, OPT_IP_KEY },
	{ "metrics", no_argument, NULL, OPT_METRICS },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "tls-cert", required_argument, NULL, OPT_TLS_CERT },
	{ "tls-key", required_argument, NULL, OPT_TLS_KEY },
	{ "tls-port", required_argument, NULL, OPT_TLS_PORT },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-hqvV] [-p PORT] [--bind ADDR] [-o PATH] [--bad PATH] [options]\n"
	    "\n"
	    "Answer Snowplow trackers over HTTP; write one base64 Thrift CollectorPayload per line\n"
	    "to standard output (or -o PATH, a file or FIFO) and size_violation bad rows to --bad.\n"
	    "-o and --bad also take log:PATH (a durable line log) or kafka:TOPIC (one binary\n"
	    "Thrift message per record, as Snowplow's collector writes them).\n"
	    "\n"
	    "  -p, --port PORT              TCP port (8080)\n"
	    "      --bind ADDR              listen address (0.0.0.0)\n"
	    "      --tls-cert PEM, --tls-key PEM  also serve HTTPS (OpenSSL; SIGHUP reloads them)\n"
	    "      --tls-port PORT          HTTPS port (8443)\n"
	    "  -o, --output PATH            raw records here instead of standard output\n"
	    "      --bad PATH               bad rows here (standard error); '-' is standard output\n"
	    "      --stats-interval SECONDS counters on stderr every N seconds, 0: at exit (60)\n"
	    "  -q, -v                       less / more logging\n"
	    "      --cookie-name NAME       network user id cookie (sp)\n"
	    "      --cookie-domain DOMAIN   cookie domain matched against Origin (repeatable)\n"
	    "      --cookie-fallback-domain DOMAIN\n"
	    "      --cookie-expiry DAYS     (365)\n"
	    "      --[no-]cookie-secure     (on)\n"
	    "      --[no-]cookie-http-only  (on)\n"
	    "      --cookie-same-site None|Strict|Lax|omit (None)\n"
	    "      --no-cookie              no Set-Cookie, cookie not read\n"
	    "      --client-cookie-name NAME  second cookie readable by scripts\n"
	    "      --dnt-cookie NAME=REGEX  do-not-track cookie: answer, store nothing\n"
	    "      --cookie-bounce          302 once to test third-party cookies (n3pc)\n"
	    "      --cookie-bounce-name NAME, --cookie-bounce-fallback UUID,\n"
	    "      --forwarded-proto-header NAME\n"
	    "      --redirects              enable /r/ redirects\n"
	    "      --redirect-domain DOMAIN allowed redirect host (repeatable; none: any)\n"
	    "      --path-map FROM=TO       path alias, e.g. /com.acme/t=/com.snowplowanalytics.snowplow/tp2\n"
	    "      --max-payload-bytes N    larger records become size_violation (1048576)\n"
	    "      --max-record-bytes N     records at or over this are split (1000000)\n"
	    "      --drop-payload-bytes N   larger bodies get 413 (2097152)\n"
	    "      --queue-bytes N          output queue before answering 503 (67108864)\n"
	    "      --cors-max-age SECONDS   (3600)\n"
	    "      --hsts SECONDS           send Strict-Transport-Security (off)\n"
	    "      --crossdomain DOMAIN     serve /crossdomain.xml (repeatable; off)\n"
	    "      --crossdomain-insecure   secure=\"false\" in it\n"
	    "      --root-response STATUS[:LOCATION]  answer GET / (off: 404)\n"
	    "      --max-request-line N     longer: 414 (20480)\n"
	    "      --max-header-bytes N     larger: 431 (40960)\n"
	    "      --request-timeout SECONDS  whole request deadline, then 408 (30)\n"
	    "      --idle-timeout SECONDS   keep-alive idle close (610)\n"
	    "      --max-connections N      (1024)\n"
	    "      --drain-timeout SECONDS  on SIGTERM, how long to drain the queue (30)\n"
	    "      --spill PATH             what a drain could not write goes here (and PATH.bad),\n"
	    "                               and is written out first at the next start\n"
	    "      --metrics                serve Prometheus counters on GET /metrics (off)\n"
	    "      --metrics-listen ADDR:PORT  /metrics and /health on their own port (off)\n"
	    "      --kafka-brokers LIST     Kafka bootstrap brokers ($FURROW_KAFKA_BROKERS)\n"
	    "      --kafka-properties FILE  librdkafka properties for TLS/SASL\n"
	    "                               ($FURROW_KAFKA_PROPERTIES)\n"
	    "      --ip-partition-key       key Kafka messages by client IP (random UUID)\n"
	    "  -h, --help, -V, --version\n");
}

#define MAX_SECONDS   31536000LL          /* a year */
#define TOKEN_CHARS   "!#$%&'*+-.^_`|~"   /* RFC 9110 tchar besides letters and digits */
#define HOST_CHARS    ".-"

/* The nuid used while bouncing goes into the payload as a network user id: a UUID. */
static char *
parse_uuid(char *s, const char *flag)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (i >= 36 || (dash ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i])))
			break;
	}
	if (i != 36 || s[i] != '\0')
		flagval_xusage("%s: expected a UUID such as 00000000-0000-4000-A000-000000000000", flag);
	return s;
}

/* Append s to a flag's list; at startup only (out of memory: exit 70, as its name says). */
static void
xpush(char ***v, size_t *n, char *s)
{
	char **p = realloc(*v, (*n + 1) * sizeof(**v));

	if (p == NULL) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(EX_SOFTWARE);
	}
	*v = p;
	p[(*n)++] = s;
}

static void
parse_args(int argc, char **argv, struct opts *o, struct col_config *cfg)
{
	int c;
	char *eq, *re;

	memset(o, 0, sizeof(*o));
	o->bind = "0.0.0.0";
	o->port = 8080;
	o->tls_port = -1;
	o->stats_interval = 60;
	o->queue_bytes = 67108864;
	o->drop_payload = 2097152;
	o->max_request_line = 20480;
	o->max_headers = 40960;
	o->request_timeout = 30;
	o->idle_timeout = 610;
	o->max_connections = 1024;
	o->drain_timeout = 30;
	memset(cfg, 0, sizeof(*cfg));
	cfg->cookie_enabled = 1;
	cfg->cookie_name = "sp";
	cfg->cookie_expiry_s = 365LL * 86400;
	cfg->cookie_secure = 1;
	cfg->cookie_http_only = 1;
	cfg->cookie_same_site = "None";
	cfg->bounce_name = "n3pc";
	cfg->bounce_fallback = "00000000-0000-4000-A000-000000000000";
	cfg->max_payload = 1048576;
	cfg->max_record = 1000000;
	cfg->cors_max_age = 3600;
	cfg->crossdomain_secure = 1;

	while ((c = getopt_long(argc, argv, "hVqvp:o:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " %s\n", FURROW_VERSION); exit(0);
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'p': o->port = (int)flagval_xnum("--port", optarg, 0, 65535); break;
		case OPT_BIND: {
			unsigned char a[16];

			if (inet_pton(AF_INET, optarg, a) != 1 && inet_pton(AF_INET6, optarg, a) != 1)
				flagval_xusage("--bind: not an IPv4 or IPv6 address: %s", optarg);
			o->bind = optarg;
			break;
		}
		case 'o': o->output = flagval_xstr("--output", optarg, 1, FLAGVAL_PATH_MAX, NULL); break;
		case OPT_BAD: o->bad = flagval_xstr("--bad", optarg, 1, FLAGVAL_PATH_MAX, NULL); break;
		case OPT_TLS_CERT:
			o->tls_cert = flagval_xstr("--tls-cert", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case OPT_TLS_KEY:
			o->tls_key = flagval_xstr("--tls-key", optarg, 1, FLAGVAL_PATH_MAX, NULL);
			break;
		case OPT_TLS_PORT: o->tls_port = (int)flagval_xnum("--tls-port", optarg, 0, 65535); break;
		case OPT_STATS: o->stats_interval = (unsigned)flagval_xnum("--stats-interval", optarg, 0, MAX_SECONDS); break;
		case OPT_COOKIE_NAME:
			/* a cookie-name is a token (RFC 6265 §4.1.1) */
			cfg->cookie_name = flagval_xstr("--cookie-name", optarg, 1, 256, TOKEN_CHARS);
			break;
		case OPT_COOKIE_DOMAIN:
			xpush(&cfg->cookie_domains, &cfg->n_cookie_domains,
			    flagval_xstr("--cookie-domain", optarg, 1, 253, HOST_CHARS));
			break;
		case OPT_COOKIE_FALLBACK:
			cfg->cookie_fallback_domain = flagval_xstr("--cookie-fallback-domain", optarg, 1, 253,
			    HOST_CHARS);
			break;
		case OPT_COOKIE_EXPIRY:
			cfg->cookie_expiry_s = flagval_xnum("--cookie-expiry", optarg, 0, 36500) * 86400;
			break;
		case OPT_COOKIE_SECURE: cfg->cookie_secure = 1; break;
		case OPT_NO_COOKIE_SECURE: cfg->cookie_secure = 0; break;
		case OPT_COOKIE_HTTP_ONLY: cfg->cookie_http_only = 1; break;
		case OPT_NO_COOKIE_HTTP_ONLY: cfg->cookie_http_only = 0; break;
		case OPT_COOKIE_SAME_SITE:
			if (strcasecmp(optarg, "none") == 0) cfg->cookie_same_site = "None";
			else if (strcasecmp(optarg, "strict") == 0) cfg->cookie_same_site = "Strict";
			else if (strcasecmp(optarg, "lax") == 0) cfg->cookie_same_site = "Lax";
			else if (strcasecmp(optarg, "omit") == 0 || !*optarg) cfg->cookie_same_site = NULL;
			else flagval_xusage("bad --cookie-same-site: %s", optarg);
			break;
		case OPT_NO_COOKIE: cfg->cookie_enabled = 0; break;
		case OPT_CLIENT_COOKIE:
			cfg->client_cookie_name = flagval_xstr("--client-cookie-name", optarg, 1, 256,
			    TOKEN_CHARS);
			break;
		case OPT_DNT_COOKIE:
			eq = strchr(optarg, '=');
			if (eq == NULL || eq == optarg)
				flagval_xusage("--dnt-cookie wants NAME=REGEX, not %s", optarg);
			*eq = '\0';
			cfg->dnt_name = flagval_xstr("--dnt-cookie", optarg, 1, 256, TOKEN_CHARS);
			flagval_xstr("--dnt-cookie", eq + 1, 0, 1024, NULL);
			re = malloc(strlen(eq + 1) + 8);
			if (re == NULL) {
				fprintf(stderr, PROG ": out of memory\n");
				exit(EX_SOFTWARE);
			}
			sprintf(re, "^(%s)$", eq + 1);
			if (regcomp(&cfg->dnt_re, re, REG_EXTENDED) != 0)
				flagval_xusage("--dnt-cookie: bad regular expression: %s", eq + 1);
			free(re);
			cfg->dnt_enabled = 1;
			break;
		case OPT_BOUNCE: cfg->bounce = 1; break;
		case OPT_BOUNCE_NAME:
			/* a query parameter name in the Location header */
			cfg->bounce_name = flagval_xstr("--cookie-bounce-name", optarg, 1, 64, "-_.");
			break;
		case OPT_BOUNCE_FALLBACK:
			cfg->bounce_fallback = parse_uuid(optarg, "--cookie-bounce-fallback");
			break;
		case OPT_FWD_PROTO:
			cfg->fwd_proto_header = flagval_xstr("--forwarded-proto-header", optarg, 1, 128,
			    TOKEN_CHARS);
			break;
		case OPT_REDIRECTS: cfg->redirects = 1; break;
		case OPT_REDIRECT_DOMAIN:
			xpush(&cfg->redirect_domains, &cfg->n_redirect_domains,
			    flagval_xstr("--redirect-domain", optarg, 1, 253, HOST_CHARS));
			break;
		case OPT_PATH_MAP:
			eq = strchr(optarg, '=');
			if (eq == NULL || optarg[0] != '/' || eq[1] != '/')
				flagval_xusage("--path-map wants /FROM=/TO, not %s", optarg);
			/* both are request paths, matched and stored: printable, no blanks, bounded */
			flagval_xstr("--path-map", optarg, 4, 1000, "/-._~%!$&'()*+,;=:@");
			*eq = '\0';
			xpush(&cfg->map_from, &cfg->n_maps, optarg);
			cfg->n_maps--;
			xpush(&cfg->map_to, &cfg->n_maps, eq + 1);
			break;
		case OPT_MAX_PAYLOAD: cfg->max_payload = (size_t)flagval_xnum("--max-payload-bytes", optarg, 1, 1LL << 31); break;
		case OPT_DROP_PAYLOAD: o->drop_payload = (size_t)flagval_xnum("--drop-payload-bytes", optarg, 1, 1LL << 31); break;
		case OPT_MAX_RECORD: cfg->max_record = (size_t)flagval_xnum("--max-record-bytes", optarg, 1, 1LL << 31); break;
		case OPT_QUEUE_BYTES: o->queue_bytes = (size_t)flagval_xnum("--queue-bytes", optarg, 1, 1LL << 40); break;
		case OPT_CORS_MAX_AGE: cfg->cors_max_age = (unsigned)flagval_xnum("--cors-max-age", optarg, 0, MAX_SECONDS); break;
		case OPT_HSTS: cfg->hsts_s = flagval_xnum("--hsts", optarg, 0, 10 * MAX_SECONDS); break;
		case OPT_CROSSDOMAIN:
			/* written into the XML policy as an attribute: a host, '*' wildcards allowed */
			xpush(&cfg->crossdomain, &cfg->n_crossdomain,
			    flagval_xstr("--crossdomain", optarg, 1, 253, ".-*:"));
			break;
		case OPT_CROSSDOMAIN_INSECURE: cfg->crossdomain_secure = 0; break;
		case OPT_ROOT_RESPONSE: {
			char *colon = strchr(optarg, ':');

			if (colon)
				*colon = '\0';
			cfg->root_status = (int)flagval_xnum("--root-response", optarg, 200, 599);
			if (colon)
				cfg->root_location = flagval_xstr("--root-response", colon + 1, 1, 2048, NULL);
			break;
		}
		case OPT_MAX_LINE: o->max_request_line = (size_t)flagval_xnum("--max-request-line", optarg, 64, 1 << 24); break;
		case OPT_MAX_HEADERS: o->max_headers = (size_t)flagval_xnum("--max-header-bytes", optarg, 64, 1 << 24); break;
		case OPT_REQ_TIMEOUT: o->request_timeout = (unsigned)flagval_xnum("--request-timeout", optarg, 1, 86400); break;
		case OPT_IDLE_TIMEOUT: o->idle_timeout = (unsigned)flagval_xnum("--idle-timeout", optarg, 1, 86400); break;
		case OPT_MAX_CONNS: o->max_connections = (unsigned)flagval_xnum("--max-connections", optarg, 1, 1 << 20); break;
		case OPT_DRAIN_TIMEOUT: o->drain_timeout = (unsigned)flagval_xnum("--drain-timeout", optarg, 0, 86400); break;
		case OPT_SPILL: o->spill = optarg; break;
		case OPT_KBROKERS:
			o->kafka_brokers = flagval_xstr("--kafka-brokers", optarg, 1, FLAGVAL_PATH_MAX,
			    NULL);
			break;
		case OPT_KPROPS:
			o->kafka_properties = flagval_xstr("--kafka-properties", optarg, 1, FLAGVAL_PATH_MAX,
			    NULL);
			break;
		case OPT_IP_KEY: o->ip_partition_key = 1; break;
		case OPT_METRICS: cfg->metrics = 1; break;
		case OPT_METRICS_LISTEN: {
			char err[300];

			if (metricsd_check_spec("--metrics-listen", optarg, err, sizeof(err)) == -1)
				flagval_xusage("%s", err);
			o->metrics_listen = optarg;
			break;
		}
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc)
		flagval_xusage("unexpected argument: %s", argv[optind]);
	cfg->count_metrics = cfg->metrics || o->metrics_listen != NULL;
	if (o->request_timeout == 0 || o->idle_timeout == 0 || o->max_connections == 0)
		flagval_xusage("timeouts and --max-connections must be positive");
	if (o->bad && strcmp(o->bad, "-") == 0 && (o->output == NULL || strcmp(o->output, "-") == 0))
		flagval_xusage("--bad - (standard output) needs -o PATH for the records");
	if (cfg->max_record == 0 || cfg->max_payload == 0)
		flagval_xusage("size limits must be positive");
	if ((o->tls_cert == NULL) != (o->tls_key == NULL))
		flagval_xusage("--tls-cert and --tls-key go together");
	if (o->tls_port >= 0 && o->tls_cert == NULL)
		flagval_xusage("--tls-port needs --tls-cert and --tls-key");
	if (o->tls_cert && o->tls_port < 0)
		o->tls_port = 8443;
}

static void
log_stats(struct app *a, const char *when)
{
	const struct col_route_stats *st = &a->ctx.st;
	const struct httpd_stats *hs = httpd_server_stats(a->srv);
	const struct col_queue_stats *gq = col_queue_stats(a->good), *bq = col_queue_stats(a->bad);
	char routes[1024], tls[256];
	size_t off = 0;
	int r, k;

	routes[0] = '\0';
	tls[0] = '\0';
	if (a->tls_srv) {
		const struct httpd_stats *ts = httpd_server_stats(a->tls_srv);

		/* on the same line: the launcher's status shows the last stats line */
		snprintf(tls, sizeof(tls), "; tls_connections=%" PRIu64 " tls_open=%u"
		    " tls_handshake_errors=%" PRIu64 " tls_timeouts=%" PRIu64 " tls_server_errors=%"
		    PRIu64 " tls_evicted=%" PRIu64, ts->connections, ts->open, ts->tls_handshake_errors,
		    ts->timeouts, ts->parse_errors, ts->evicted);
	}
	for (r = 0; r < ROUTE_N; r++)
		for (k = 1; k < 6; k++)
			if (st->by_route[r][k] && off < sizeof(routes) - 64)
				off += (size_t)snprintf(routes + off, sizeof(routes) - off, " %s_%dxx=%" PRIu64,
				    col_route_name(r), k, st->by_route[r][k]);
	for (k = 400; k < 600; k++)
		if (hs->by_status[k] && off < sizeof(routes) - 64)
			off += (size_t)snprintf(routes + off, sizeof(routes) - off, " server_%d=%" PRIu64, k,
			    hs->by_status[k]);
	log_info("stats%s: requests:%s server_errors=%" PRIu64 " timeouts=%" PRIu64
	    " connections=%" PRIu64 " open=%u evicted=%" PRIu64 "; stored_requests=%" PRIu64 " records=%" PRIu64
	    " bad_rows=%" PRIu64 " split_payloads=%" PRIu64 " refused_503=%" PRIu64
	    " not_stored=%" PRIu64 "; written_bytes=%" PRIu64 " bad_written_bytes=%" PRIu64
	    " queue_bytes=%zu bad_queue_bytes=%zu write_errors=%" PRIu64 " log_appends=%" PRIu64 "%s",
	    when, routes[0] ? routes : " none", hs->parse_errors, hs->timeouts, hs->connections,
	    hs->open, hs->evicted, st->stored_requests, st->records, st->bad_rows, st->split_payloads,
	    st->refused_503, st->not_stored, gq->bytes_written, bq->bytes_written,
	    col_queue_pending(a->good), col_queue_pending(a->bad),
	    gq->write_errors + bq->write_errors, a->ctx.groups, tls);
}

/* Descriptors kept for everything but client connections: listener, outputs, event loop, logs. */
#define FD_RESERVE 32

/* Each connection is a descriptor: raise the soft RLIMIT_NOFILE to the hard limit, and keep
 * --max-connections within what it allows (above it accept(2) would fail with EMFILE). */
static void
fit_fd_limit(struct opts *o)
{
	struct rlimit rl;
	/* each listener (plain, TLS) has its own cap */
	unsigned listeners = o->tls_cert ? 2 : 1;
	rlim_t want = (rlim_t)o->max_connections * listeners + FD_RESERVE;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > want ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < want) {
		unsigned fit = rl.rlim_cur > FD_RESERVE + listeners ?
		    (unsigned)((rl.rlim_cur - FD_RESERVE) / listeners) : 1;

		log_warn("--max-connections %u: the descriptor limit (RLIMIT_NOFILE %llu) allows %u",
		    o->max_connections, (unsigned long long)rl.rlim_cur, fit);
		o->max_connections = fit;
	}
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_stats(arg, "");
}

static void
begin_shutdown(struct app *a, const char *why)
{
	if (a->stopping)
		return;
	a->stopping = 1;
	log_info("%s: stop accepting, draining %zu queued bytes", why, col_queue_pending(a->good));
	if (a->srv)
		httpd_server_stop_accepting(a->srv);
	if (a->tls_srv)
		httpd_server_stop_accepting(a->tls_srv);
	a->drain_deadline_ms = timefmt_mono_ms() + (int64_t)a->o.drain_timeout * 1000;
}

/* The drain ran out of time: what could not be written goes to the spill file. */
static void
spill(struct app *a)
{
	char bad_path[PATH_MAX];
	size_t good = 0, bad = 0;

	snprintf(bad_path, sizeof(bad_path), "%s.bad", a->o.spill);
	if (col_queue_spill(a->good, a->o.spill, &good) == -1 ||
	    col_queue_spill(a->bad, bad_path, &bad) == -1) {
		log_error("--spill %s: %s", a->o.spill, strerror(errno));
		return;
	}
	if (good + bad)
		log_warn("drain: output not writable (%s): %zu bytes of records and %zu of bad rows "
		    "spilled to %s, written out at the next start", col_queue_error(a->good)[0] ?
		    col_queue_error(a->good) : "no reader", good, bad, a->o.spill);
}

/* Housekeeping every 20 ms: a broken standard output, and the end of a drain. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)fd;
	(void)what;
	if ((col_queue_broken(a->good) || col_queue_broken(a->bad)) && !a->stopping) {
		log_error("output: %s", col_queue_broken(a->good) ? col_queue_error(a->good) :
		    col_queue_error(a->bad));
		a->exit_code = EX_IOERR;
		begin_shutdown(a, "output closed");
		a->drain_deadline_ms = timefmt_mono_ms();
	}
	if (!a->stopping)
		return;
	if (httpd_server_open(a->srv) == 0 &&
	    (a->tls_srv == NULL || httpd_server_open(a->tls_srv) == 0) &&
	    col_queue_pending(a->good) == 0 &&
	    col_queue_pending(a->bad) == 0) {
		event_base_loopexit(a->base, NULL);
		return;
	}
	if (timefmt_mono_ms() >= a->drain_deadline_ms) {
		if (a->o.spill)
			spill(a);
		if (col_queue_pending(a->good) || col_queue_pending(a->bad)) {
			log_error("drain: %zu bytes of records and %zu of bad rows not written: %s",
			    col_queue_pending(a->good), col_queue_pending(a->bad),
			    col_queue_error(a->good)[0] ? col_queue_error(a->good) : "output not writable");
			a->exit_code = EX_IOERR;
		}
		event_base_loopexit(a->base, NULL);
	}
}

/* Replay: a previous run's spill is written out before any request is taken. Returns 0, -1 when
 * a signal stopped it (a clean stop: what was not written stays in the spill), or an exit
 * status. */
static int
replay_spill(struct app *a)
{
	char bad_path[PATH_MAX];
	struct timeval tv = { 0, 20000 };
	size_t good = 0, bad = 0;

	if (a->o.spill == NULL)
		return 0;
	snprintf(bad_path, sizeof(bad_path), "%s.bad", a->o.spill);
	if (col_queue_replay(a->good, a->o.spill, &good) == -1 ||
	    col_queue_replay(a->bad, bad_path, &bad) == -1) {
		log_error("--spill %s: %s", a->o.spill, strerror(errno));
		return EX_IOERR;
	}
	if (good + bad == 0)
		return 0;
	log_info("replaying %zu bytes of records and %zu of bad rows spilled by the last run",
	    good, bad);
	while (col_queue_pending(a->good) || col_queue_pending(a->bad)) {
		if (col_queue_broken(a->good) || col_queue_broken(a->bad)) {
			log_error("replaying the spill: %s", col_queue_error(a->good));
			return EX_IOERR;
		}
		event_base_loopexit(a->base, &tv);
		event_base_dispatch(a->base);
		if (a->stopping) {
			log_warn("stopped while replaying the spill; it is replayed again next time");
			return -1;
		}
	}
	if ((good && unlink(a->o.spill) == -1) || (bad && unlink(bad_path) == -1)) {
		log_error("removing the replayed spill %s: %s", a->o.spill, strerror(errno));
		return EX_IOERR;
	}
	log_info("spill replayed");
	return 0;
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	begin_shutdown(arg, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;

	(void)sig;
	(void)what;
	log_info("SIGHUP: reopening outputs");
	col_queue_reopen(a->good);
	col_queue_reopen(a->bad);
	if (a->tls) {
		char err[512], desc[512];

		/* renewed certificates: new handshakes get them, open connections go on as they are */
		if (tlsctx_reload(a->tls, err, sizeof(err)) == -1) {
			log_error("SIGHUP: TLS: %s (still serving the previous certificate)", err);
		} else {
			tlsctx_describe(a->tls, desc, sizeof(desc));
			log_info("SIGHUP: TLS certificate reloaded: %s", desc);
		}
	}
}

/* The HTTPS listener: same handler, limits and timeouts as the plain one. Exits 78 for a
 * certificate or key that cannot be used, 69 for a port that cannot be bound. */
static int
start_tls(struct app *a, const struct httpd_config *plain)
{
	struct httpd_config hc = *plain;
	char err[512], what[512];

	a->tls = tlsctx_new(a->o.tls_cert, a->o.tls_key, err, sizeof(err));
	if (a->tls == NULL) {
		log_error("TLS: %s", err);
		return EX_CONFIG;
	}
	hc.tls = a->tls;
	a->tls_srv = httpd_server_new(a->base, a->o.bind, a->o.tls_port, &hc, err, sizeof(err));
	if (a->tls_srv == NULL) {
		log_error("listen (TLS): %s", err);
		return EX_UNAVAILABLE;
	}
	tlsctx_describe(a->tls, what, sizeof(what));
	log_info("listening on %s port %d (TLS: %s)", a->o.bind, httpd_server_port(a->tls_srv),
	    what);
	return 0;
}

/* --metrics-listen: the same /metrics page as the main port's (--metrics), and /health from
 * both logs, served by metricsd as on every other stage. Exits 69 for a port that cannot be
 * bound. */
static int
start_metrics(struct app *a)
{
	char err[512];

	a->md = metricsd_open(a->o.metrics_listen, PROG, col_route_metrics, col_route_health,
	    &a->ctx, err, sizeof(err));
	if (a->md == NULL) {
		log_error("--metrics-listen %s", err);
		return EX_UNAVAILABLE;
	}
	if ((a->md_ev = metricsd_ev_new(a->base, a->md)) == NULL) {
		log_error("--metrics-listen: out of memory");
		return EX_SOFTWARE;
	}
	log_info("metrics on port %d", metricsd_port(a->md));
	return 0;
}

/* Kafka settings, when an output is a topic. Returns 0 or an exit status. */
static int
setup_kafka(const struct opts *o)
{
	const char *specs[2] = { o->output, o->bad };
	struct stream_kafka_conf kc = { .brokers = o->kafka_brokers,
	    .properties = o->kafka_properties, .client_id = "furrow-" PROG,
	    .linger_ms = COLLECTOR_KAFKA_LINGER_MS, .notify = log_line };
	char err[512];

	if (stream_prepare(specs, 2, &kc, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_CONFIG;
	}
	return 0;
}

/* A topic takes messages up to its producer's message size: a record that would not fit is
 * split or becomes a size_violation bad row before it is accepted, as stream-collector does
 * with its maxBytes. */
static void
fit_records(struct app *a, struct col_config *cfg)
{
	size_t max = col_queue_max_record(a->good);

	if (max && cfg->max_record > max) {
		log_info("records of %zu bytes and more are split (the topic's message size), not "
		    "%zu", max, cfg->max_record);
		cfg->max_record = max;
	}
}

int
main(int argc, char **argv)
{
	static struct app a;
	struct col_config cfg;
	struct httpd_config hc;
	char err[256];
	struct timeval tv;

	log_init(PROG);
	sig_ignore_pipe();
	parse_args(argc, argv, &a.o, &cfg);
	fit_fd_limit(&a.o);

	a.base = event_base_new();
	if (a.base == NULL) {
		log_error("cannot create the event loop");
		return EX_SOFTWARE;
	}
	if (setup_kafka(&a.o) != 0)
		return EX_CONFIG;
	a.good = col_queue_new(a.base, a.o.output, 1, a.o.queue_bytes, err, sizeof(err));
	if (a.good == NULL) {
		log_error("output: %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	/* "--bad -" is standard output, which only makes sense when records go elsewhere: two
	 * queues writing one pipe could interleave partial lines */
	a.bad = col_queue_new(a.base, a.o.bad, a.o.bad && strcmp(a.o.bad, "-") == 0 ? 1 : 2,
	    a.o.queue_bytes, err, sizeof(err));
	if (a.bad == NULL) {
		log_error("bad output: %s", err);
		return errno == EINVAL ? EX_CONFIG : EX_IOERR;
	}
	col_queue_set_kafka(a.good, 1, a.o.ip_partition_key);
	col_queue_set_kafka(a.bad, 0, a.o.ip_partition_key);
	fit_records(&a, &cfg);
	if (col_ctx_init(&a.ctx, &cfg, a.base, a.good, a.bad) == -1) {
		log_error("cannot create the group-commit event");
		return EX_SOFTWARE;
	}

	a.ev_term = sig_event_add(a.base, SIGTERM, term_cb, &a);
	a.ev_int = sig_event_add(a.base, SIGINT, term_cb, &a);
	a.ev_hup = sig_event_add(a.base, SIGHUP, hup_cb, &a);
	a.ev_tick = event_new(a.base, -1, EV_PERSIST, tick_cb, &a);
	if (!a.ev_term || !a.ev_int || !a.ev_hup || !a.ev_tick) {
		log_error("cannot install signal events");
		return EX_SOFTWARE;
	}
	if ((a.exit_code = replay_spill(&a)) != 0)
		return a.exit_code == -1 ? EX_OK : a.exit_code;
	memset(&hc, 0, sizeof(hc));
	hc.limits.max_request_line = a.o.max_request_line;
	hc.limits.max_headers = a.o.max_headers;
	hc.limits.max_body = a.o.drop_payload;
	hc.max_connections = a.o.max_connections;
	hc.request_timeout_s = a.o.request_timeout;
	hc.idle_timeout_s = a.o.idle_timeout;
	hc.handler = col_route_handle;
	hc.handler_arg = &a.ctx;
	a.srv = httpd_server_new(a.base, a.o.bind, a.o.port, &hc, err, sizeof(err));
	if (a.srv == NULL) {
		log_error("listen: %s", err);
		return EX_UNAVAILABLE;
	}
	if (a.o.tls_cert && (a.exit_code = start_tls(&a, &hc)) != 0)
		return a.exit_code;
	if (a.o.metrics_listen && (a.exit_code = start_metrics(&a)) != 0)
		return a.exit_code;

	tv.tv_sec = 0;
	tv.tv_usec = 20000;
	event_add(a.ev_tick, &tv);
	if (a.o.stats_interval > 0) {
		a.ev_stats = event_new(a.base, -1, EV_PERSIST, stats_cb, &a);
		tv.tv_sec = (time_t)a.o.stats_interval;
		tv.tv_usec = 0;
		if (a.ev_stats)
			event_add(a.ev_stats, &tv);
	}
	log_info("listening on %s port %d", a.o.bind, httpd_server_port(a.srv));

	event_base_dispatch(a.base);

	log_stats(&a, " at exit");
	httpd_server_free(a.srv);
	httpd_server_free(a.tls_srv);
	metricsd_ev_free(a.md_ev);
	metricsd_close(a.md);
	tlsctx_free(a.tls);
	col_ctx_free(&a.ctx);
	col_queue_free(a.good);
	col_queue_free(a.bad);
	event_free(a.ev_term);
	event_free(a.ev_int);
	event_free(a.ev_hup);
	event_free(a.ev_tick);
	if (a.ev_stats)
		event_free(a.ev_stats);
	event_base_free(a.base);
	if (cfg.dnt_enabled)
		regfree(&cfg.dnt_re);
	free(cfg.cookie_domains);
	free(cfg.redirect_domains);
	free(cfg.map_from);
	free(cfg.map_to);
	free(cfg.crossdomain);
	return a.exit_code;
}
