/*
 * iglu-server: an Iglu Server-compatible schema registry over a folder of plain files, so that
 * a user can push a schema to a running pipeline and any Iglu resolver (furrow's enrich,
 * Snowplow's enrich, Micro) can fetch it. The folder has the layout of an Iglu static registry
 * (DIR/schemas/vendor/name/format/version), which enrich can also read directly as an embedded
 * registry; a schema pushed here is then used by a running enrich within a second (see
 * iglu-server(1), "USED AT ONCE").
 *
 * main() is a checklist: parse flags, load keys (environment or files, never argv), open the
 * store, listen, install signal events, run the loop, stop. The routes are igs_api, the files
 * igs_store, the keys igs_auth, schema checks igs_lint; HTTP is common/httpd.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <event2/event.h>

#include "httpd.h"
#include "igs_api.h"
#include "igs_auth.h"
#include "igs_lint.h"
#include "igs_metrics.h"
#include "igs_store.h"
#include "flagval.h"
#include "log.h"
#include "metricsd.h"
#include "metricsd_ev.h"
#include "sig.h"
#include "version.h"

#define PROG "iglu-server"
#define IGS_ENV_SUPER_KEY "IGLU_SUPER_API_KEY"   /* upstream's variable for superApiKey */

struct opts {
	const char *bind;
	int port;
	const char *dir;
	const char *keys_file;
	const char *super_key_file;
	int create_super_key;
	int allow_patches;
	int check_only;
	size_t max_payload;
	size_t max_json_depth;
	size_t max_headers;
	unsigned stats_interval;
	unsigned request_timeout;
	unsigned idle_timeout;
	unsigned max_connections;
	const char *metrics_listen;
};

struct app {
	struct opts o;
	struct event_base *base;
	struct httpd_server *srv;
	struct igs_store *store;
	struct igs_keys *keys;
	struct igs_lint *lint;
	struct igs_api *api;
	struct event *ev_term, *ev_int, *ev_hup, *ev_stats, *ev_tick;
	struct igs_metrics metrics;
	struct metricsd *md;            /* NULL without --metrics-listen */
	struct metricsd_ev *md_ev;
	int stopping;
	char keys_path[PATH_MAX];
};

enum {
	OPT_BIND = 256, OPT_KEYS, OPT_SUPER_FILE, OPT_CREATE_SUPER, OPT_PATCHES, OPT_MAX_PAYLOAD,
	OPT_MAX_DEPTH, OPT_MAX_HEADERS, OPT_STATS, OPT_REQ_TIMEOUT, OPT_IDLE_TIMEOUT, OPT_MAX_CONNS,
	OPT_METRICS_LISTEN,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "check", no_argument, NULL, 'n' },
	{ "port", required_argument, NULL, 'p' },
	{ "bind", required_argument, NULL, OPT_BIND },
	{ "dir", required_argument, NULL, 'd' },
	{ "keys", required_argument, NULL, OPT_KEYS },
	{ "super-key-file", required_argument, NULL, OPT_SUPER_FILE },
	{ "create-super-key", no_argument, NULL, OPT_CREATE_SUPER },
	{ "allow-patches", no_argument, NULL, OPT_PATCHES },
	{ "max-payload-bytes", required_argument, NULL, OPT_MAX_PAYLOAD },
	{ "max-json-depth", required_argument, NULL, OPT_MAX_DEPTH },
	{ "max-header-bytes", required_argument, NULL, OPT_MAX_HEADERS },
	{ "stats-interval", required_argument, NULL, OPT_STATS },
	{ "metrics-listen", required_argument, NULL, OPT_METRICS_LISTEN },
	{ "request-timeout", required_argument, NULL, OPT_REQ_TIMEOUT },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "max-connections", required_argument, NULL, OPT_MAX_CONNS },
	{ NULL, 0, NULL, 0 },
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: " PROG " [-hnqvV] -d DIR [-p PORT] [--bind ADDR] [options]\n"
	    "\n"
	    "Serve the schemas in DIR/schemas over Iglu Server's HTTP API; publish into it.\n"
	    "The super API key comes from $" IGS_ENV_SUPER_KEY " or --super-key-file, never argv.\n"
	    "\n"
	    "  -d, --dir DIR                the registry folder (schemas in DIR/schemas)\n"
	    "  -p, --port PORT              TCP port (8081)\n"
	    "      --bind ADDR              listen address (0.0.0.0)\n"
	    "      --keys FILE              issued API keys (DIR/apikeys)\n"
	    "      --super-key-file FILE    the super key: the first line of FILE\n"
	    "      --create-super-key       with --super-key-file: write a new key there if missing\n"
	    "      --allow-patches          overwrite existing versions, allow DELETE (off)\n"
	    "      --max-payload-bytes N    largest request body (100000)\n"
	    "      --max-json-depth N       deepest request JSON (40)\n"
	    "      --max-header-bytes N     larger request heads get 431 (16384)\n"
	    "      --stats-interval SECONDS counters on stderr every N seconds, 0: at exit (60)\n"
	    "      --metrics-listen ADDR:PORT  /metrics and /health on their own port (off)\n"
	    "      --request-timeout SECONDS  (30)   --idle-timeout SECONDS (60)\n"
	    "      --max-connections N      (1024)\n"
	    "  -n, --check                  load the keys and the folder, then exit\n"
	    "  -q, -v                       less / more logging\n"
	    "  -h, --help, -V, --version\n");
}

static void
parse_args(int argc, char **argv, struct opts *o)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->bind = "0.0.0.0";
	o->port = 8081;
	o->max_payload = 100000;
	o->max_json_depth = 40;
	o->max_headers = 16384;
	o->stats_interval = 60;
	o->request_timeout = 30;
	o->idle_timeout = 60;
	o->max_connections = 1024;
	while ((c = getopt_long(argc, argv, "hVqvnp:d:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h': usage(stdout); exit(0);
		case 'V': printf(PROG " %s\n", FURROW_VERSION); exit(0);
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'n': o->check_only = 1; break;
		case 'p': o->port = (int)flagval_xnum("--port", optarg, 0, 65535); break;
		case 'd': o->dir = optarg; break;
		case OPT_BIND: o->bind = optarg; break;
		case OPT_KEYS: o->keys_file = optarg; break;
		case OPT_SUPER_FILE: o->super_key_file = optarg; break;
		case OPT_CREATE_SUPER: o->create_super_key = 1; break;
		case OPT_PATCHES: o->allow_patches = 1; break;
		case OPT_MAX_PAYLOAD:
			o->max_payload = (size_t)flagval_xnum("--max-payload-bytes", optarg, 1, 1 << 26);
			break;
		case OPT_MAX_DEPTH:
			o->max_json_depth = (size_t)flagval_xnum("--max-json-depth", optarg, 1, 1000);
			break;
		case OPT_MAX_HEADERS:
			o->max_headers = (size_t)flagval_xnum("--max-header-bytes", optarg, 256, 1 << 20);
			break;
		case OPT_STATS:
			o->stats_interval = (unsigned)flagval_xnum("--stats-interval", optarg, 0, 86400 * 365);
			break;
		case OPT_REQ_TIMEOUT:
			o->request_timeout = (unsigned)flagval_xnum("--request-timeout", optarg, 1, 86400);
			break;
		case OPT_IDLE_TIMEOUT:
			o->idle_timeout = (unsigned)flagval_xnum("--idle-timeout", optarg, 1, 86400);
			break;
		case OPT_MAX_CONNS:
			o->max_connections = (unsigned)flagval_xnum("--max-connections", optarg, 1, 1 << 20);
			break;
		case OPT_METRICS_LISTEN: {
			char merr[300];

			if (metricsd_check_spec("--metrics-listen", optarg, merr, sizeof(merr)) == -1)
				flagval_xusage("%s", merr);
			o->metrics_listen = optarg;
			break;
		}
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind != argc)
		flagval_xusage("unexpected argument: %s", argv[optind]);
	if (o->dir == NULL)
		flagval_xusage("-d DIR is required");
	if (o->create_super_key && o->super_key_file == NULL)
		flagval_xusage("--create-super-key needs --super-key-file");
}

/* The super key: the environment, else a file (so that a unit can offer both). */
static int
load_keys(struct app *a)
{
	const char *env = getenv(IGS_ENV_SUPER_KEY);
	char err[512], key[IGS_UUID_LEN + 1];
	int created;

	if (a->o.keys_file != NULL)
		snprintf(a->keys_path, sizeof(a->keys_path), "%s", a->o.keys_file);
	else
		snprintf(a->keys_path, sizeof(a->keys_path), "%s/apikeys", a->o.dir);
	a->keys = igs_keys_open(a->keys_path, err, sizeof(err));
	if (a->keys == NULL) {
		log_error("keys: %s", err);
		return EX_CONFIG;
	}
	if (env != NULL && *env != '\0') {
		if (igs_keys_set_super(a->keys, env) < 0) {
			log_error("super key: $%s is not a UUID", IGS_ENV_SUPER_KEY);
			return EX_CONFIG;
		}
		if (a->o.super_key_file != NULL)
			log_info("super key from $%s; %s is not read", IGS_ENV_SUPER_KEY,
			    a->o.super_key_file);
	} else if (a->o.super_key_file != NULL) {
		if (igs_keys_read_super_file(a->o.super_key_file, a->o.create_super_key, key, &created,
		    err, sizeof(err)) < 0) {
			log_error("super key: %s", err);
			return EX_CONFIG;
		}
		igs_keys_set_super(a->keys, key);
		if (created)
			log_info("created a new super key in %s", a->o.super_key_file);
	}
	if (!igs_keys_have_super(a->keys))
		log_warn("no super key: only issued keys (%zu in %s) can publish",
		    igs_keys_count(a->keys), a->keys_path);
	return 0;
}

static void
log_stats(struct app *a, const char *when)
{
	const struct igs_api_stats *st = igs_api_stats(a->api);
	const struct httpd_stats *hs = httpd_server_stats(a->srv);

	log_info("stats%s: requests=%" PRIu64 " schema_reads=%" PRIu64 " not_found=%" PRIu64
	    " published=%" PRIu64 " refused=%" PRIu64 " deleted=%" PRIu64 " keys_issued=%" PRIu64
	    " errors=%" PRIu64 " server_errors=%" PRIu64 " timeouts=%" PRIu64 " connections=%" PRIu64
	    " open=%u", when, st->requests, st->reads, st->not_found, st->published, st->refused,
	    st->deleted, st->keys, st->errors, hs->parse_errors, hs->timeouts, hs->connections,
	    hs->open);
}

static void
stats_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	log_stats(arg, "");
}

/* While stopping: leave the loop once the last connection has finished its request. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct app *a = arg;

	(void)fd;
	(void)what;
	if (a->stopping && httpd_server_open(a->srv) == 0)
		event_base_loopexit(a->base, NULL);
}

static void
term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct app *a = arg;
	struct timeval tv = { 0, 20000 };

	(void)what;
	if (a->stopping)
		return;
	a->stopping = 1;
	log_info("%s: stop accepting, finishing %u open connections",
	    sig == SIGINT ? "SIGINT" : "SIGTERM", httpd_server_open(a->srv));
	httpd_server_stop_accepting(a->srv);
	event_add(a->ev_tick, &tv);
}

static void
hup_cb(evutil_socket_t sig, short what, void *arg)
{
	(void)sig;
	(void)what;
	(void)arg;
	log_info("SIGHUP: nothing to reopen (logs go to standard error)");
}

int
main(int argc, char **argv)
{
	static struct app a;
	struct igs_api_config ac;
	struct httpd_config hc;
	char err[512];
	struct timeval tv;
	int rc;

	log_init(PROG);
	sig_ignore_pipe();
	parse_args(argc, argv, &a.o);

	if ((rc = load_keys(&a)) != 0)
		return rc;
	a.store = igs_store_open(a.o.dir, err, sizeof(err));
	if (a.store == NULL) {
		log_error("registry folder: %s", err);
		return EX_IOERR;
	}
	a.lint = igs_lint_new(err, sizeof(err));
	if (a.lint == NULL) {
		log_error("schema checks: %s", err);
		return EX_SOFTWARE;
	}
	if (a.o.check_only) {
		igs_lint_free(a.lint);
		igs_store_free(a.store);
		igs_keys_free(a.keys);
		return 0;
	}
	memset(&ac, 0, sizeof(ac));
	ac.allow_patches = a.o.allow_patches;
	ac.max_payload = a.o.max_payload;
	ac.max_json_depth = a.o.max_json_depth;
	a.api = igs_api_new(a.store, a.keys, a.lint, &ac);
	a.base = event_base_new();
	if (a.api == NULL || a.base == NULL) {
		log_error("out of memory");
		return EX_SOFTWARE;
	}

	memset(&hc, 0, sizeof(hc));
	hc.limits.max_request_line = 8192;
	hc.limits.max_headers = a.o.max_headers;
	/* bodies up to twice the payload limit are read, so that the API answers its own JSON
	 * 413 rather than the server's plain one */
	hc.limits.max_body = a.o.max_payload * 2;
	hc.max_connections = a.o.max_connections;
	hc.request_timeout_s = a.o.request_timeout;
	hc.idle_timeout_s = a.o.idle_timeout;
	hc.handler = igs_api_handle_cb;
	hc.handler_arg = a.api;
	a.srv = httpd_server_new(a.base, a.o.bind, a.o.port, &hc, err, sizeof(err));
	if (a.srv == NULL) {
		log_error("listen: %s", err);
		return EX_UNAVAILABLE;
	}

	if (a.o.metrics_listen) {
		a.metrics.api = a.api;
		a.metrics.srv = a.srv;
		a.md = metricsd_open(a.o.metrics_listen, PROG, igs_metrics_render, NULL, &a.metrics,
		    err, sizeof(err));
		if (a.md == NULL) {
			log_error("--metrics-listen %s", err);
			return EX_UNAVAILABLE;
		}
		if ((a.md_ev = metricsd_ev_new(a.base, a.md)) == NULL) {
			log_error("out of memory");
			return EX_SOFTWARE;
		}
	}
	a.ev_term = sig_event_add(a.base, SIGTERM, term_cb, &a);
	a.ev_int = sig_event_add(a.base, SIGINT, term_cb, &a);
	a.ev_hup = sig_event_add(a.base, SIGHUP, hup_cb, &a);
	a.ev_tick = event_new(a.base, -1, EV_PERSIST, tick_cb, &a);
	if (!a.ev_term || !a.ev_int || !a.ev_hup || !a.ev_tick) {
		log_error("cannot install signal events");
		return EX_SOFTWARE;
	}
	if (a.o.stats_interval > 0) {
		a.ev_stats = event_new(a.base, -1, EV_PERSIST, stats_cb, &a);
		tv.tv_sec = (time_t)a.o.stats_interval;
		tv.tv_usec = 0;
		if (a.ev_stats)
			event_add(a.ev_stats, &tv);
	}
	log_info("serving %s on %s port %d (patches %s)", igs_store_schemas_dir(a.store), a.o.bind,
	    httpd_server_port(a.srv), a.o.allow_patches ? "allowed" : "refused");

	event_base_dispatch(a.base);

	log_stats(&a, " at exit");
	metricsd_ev_free(a.md_ev);
	metricsd_close(a.md);
	httpd_server_free(a.srv);
	event_free(a.ev_term);
	event_free(a.ev_int);
	event_free(a.ev_hup);
	event_free(a.ev_tick);
	if (a.ev_stats)
		event_free(a.ev_stats);
	event_base_free(a.base);
	igs_api_free(a.api);
	igs_lint_free(a.lint);
	igs_store_free(a.store);
	igs_keys_free(a.keys);
	return 0;
}
