/*
 * enrich: raw collector records on stdin -> enriched TSV on stdout, bad rows to --bad.
 *
 * main() is a checklist: flags, Iglu resolver, enrichments, outputs, signals, the loop, the
 * final flush. The per-line work is enrich_line() in lib enrich (enrich.c).
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
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "enrich.h"
#include "enrichments.h"
#include "flagval.h"
#include "iglu.h"
#include "linereader.h"
#include "log.h"
#include "sig.h"
#include "version.h"

#define DEFAULT_MAX_LINE   (10u * 1024 * 1024)
#define OUT_FLUSH_BYTES    (256u * 1024)

struct opts {
	const char *resolver, *schemas, *enrichments, *bad;
	long stats_interval;
	long registry_timeout_ms;
	size_t max_line;
};

struct out {
	int fd;
	const char *path;   /* NULL: stdout/stderr, not reopened */
	struct buf b;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: enrich [--resolver FILE] [--schemas DIR] [--enrichments DIR] [--bad PATH]\n"
	    "              [--stats-interval SECONDS] [--max-line-bytes N] [--registry-timeout MS]\n"
	    "              [-q] [-v] [-h] [-V]\n"
	    "Reads raw collector records (base64 Thrift, one per line) on stdin, writes enriched\n"
	    "events (131-column TSV) on stdout and bad rows (JSON lines) to --bad (default stderr).\n");
}

/* A number flag within [min, max], or exit 64. */
static long
parse_num(const char *s, const char *flag, long min, long max)
{
	char err[256];
	long long v;

	if (flagval_num(flag, s, min, max, &v, err, sizeof(err)) == -1) {
		fprintf(stderr, "enrich: %s\n", err);
		exit(EX_USAGE);
	}
	return (long)v;
}

/* A path flag: not empty, bounded, no control characters, or exit 64. */
static const char *
parse_path(const char *s, const char *flag)
{
	char err[256];

	if (flagval_str(flag, s, 1, 4096, NULL, err, sizeof(err)) == -1) {
		fprintf(stderr, "enrich: %s\n", err);
		exit(EX_USAGE);
	}
	return s;
}

static void
parse_flags(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "schemas", required_argument, NULL, 's' },
		{ "enrichments", required_argument, NULL, 'e' },
		{ "bad", required_argument, NULL, 'b' },
		{ "stats-interval", required_argument, NULL, 'i' },
		{ "max-line-bytes", required_argument, NULL, 'm' },
		{ "registry-timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->stats_interval = 60;
	o->max_line = DEFAULT_MAX_LINE;
	while ((c = getopt_long(argc, argv, "qvhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': o->resolver = parse_path(optarg, "--resolver"); break;
		case 's': o->schemas = parse_path(optarg, "--schemas"); break;
		case 'e': o->enrichments = parse_path(optarg, "--enrichments"); break;
		case 'b': o->bad = parse_path(optarg, "--bad"); break;
		case 'i': o->stats_interval = parse_num(optarg, "--stats-interval", 0, 31536000); break;
		case 'm':
			o->max_line = (size_t)parse_num(optarg, "--max-line-bytes", 16, 1L << 30);
			break;
		case 't':
			o->registry_timeout_ms = parse_num(optarg, "--registry-timeout", 1, 3600000);
			break;
		case 'q': log_adjust(-1); break;
		case 'v': log_adjust(1); break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("enrich %s\n", FURROW_VERSION); exit(0);
		default: usage(stderr); exit(EX_USAGE);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "enrich: unexpected argument: %s\n", argv[optind]);
		usage(stderr);
		exit(EX_USAGE);
	}
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* --schemas default: next to the executable (installed or source tree), then the usual
 * installation prefixes. */
static const char *
default_schemas(char *out, size_t outlen)
{
	static const char *const rel[] = { "/../share/furrow/schemas", "/../schemas", "/../../schemas" };
	static const char *const abs[] = { "/usr/local/share/furrow/schemas", "/usr/share/furrow/schemas" };
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	size_t i;

	if (n > 0) {
		char *slash;
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
			snprintf(out, outlen, "%s%s", exe, rel[i]);
			if (is_dir(out))
				return out;
		}
	}
	for (i = 0; i < sizeof(abs) / sizeof(abs[0]); i++)
		if (is_dir(abs[i]))
			return abs[i];
	return NULL;
}

static int
open_bad(struct out *o)
{
	int fd;

	if (o->path == NULL)
		return 0;
	fd = open(o->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1)
		return -1;
	if (o->fd > 2)
		close(o->fd);
	o->fd = fd;
	return 0;
}

/* Write everything buffered; a failing output is fatal (exit 74). */
static void
out_flush(struct out *o, const char *what)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->b.len) {
		n = write(o->fd, o->b.data + off, o->b.len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_error("writing %s: %s", what, strerror(errno));
			exit(EX_IOERR);
		}
		off += (size_t)n;
	}
	buf_reset(&o->b);
}

static void
log_counts(const struct enrich *e)
{
	const struct enrich_counts *c = enrich_counts(e);

	log_info("lines %llu, empty %llu, good %llu, bad %llu", c->lines, c->empty, c->good, c->bad);
}

/* 1 when a complete line is already buffered. */
static int
line_buffered(const struct linereader *lr)
{
	return lr->end > lr->start && memchr(lr->buf + lr->start, '\n', lr->end - lr->start) != NULL;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct iglu_resolver *resolver;
	struct enrichments *enrichments = NULL;
	struct enrich *e;
	struct linereader lr;
	struct out good = { 1, NULL, { 0 } }, bad = { 2, NULL, { 0 } };
	char err[1024], schemas_buf[PATH_MAX];
	const char *schemas, *line;
	size_t len;
	time_t next_stats;
	enum lr_status st;
	sigset_t sigs, waitmask;
	int will_read;

	log_init("enrich");
	parse_flags(argc, argv, &o);

	schemas = o.schemas ? o.schemas : default_schemas(schemas_buf, sizeof(schemas_buf));
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
	if ((e = enrich_new(resolver, enrichments)) == NULL) {
		log_error("out of memory");
		enrichments_free(enrichments);
		iglu_resolver_free(resolver);
		return EX_SOFTWARE;
	}
	if (getenv("FURROW_ENRICH_NOW_MS"))     /* tests: a fixed processing time */
		enrich_set_clock(e, strtoll(getenv("FURROW_ENRICH_NOW_MS"), NULL, 10));

	buf_init(&good.b, 0);
	buf_init(&bad.b, 0);
	if (o.bad && strcmp(o.bad, "-") == 0) {
		bad.fd = 1;
	} else if (o.bad) {
		bad.path = o.bad;
		bad.fd = -1;
		if (open_bad(&bad) == -1) {
			log_error("%s: %s", o.bad, strerror(errno));
			return EX_CANTCREAT;
		}
	}
	if (linereader_init(&lr, 0, o.max_line) == -1) {
		log_error("out of memory");
		return EX_SOFTWARE;
	}
	sig_flags_install_eintr();
	/* Signals are held while a line is processed and delivered only while enrich waits for
	 * input (ppoll) or reads it, so a SIGHUP or SIGTERM is never left unseen by a blocked
	 * wait. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, &waitmask);

	next_stats = o.stats_interval ? time(NULL) + o.stats_interval : 0;
	for (;;) {
		if (sig_reopen) {
			sig_reopen = 0;
			out_flush(&bad, "bad rows");
			if (open_bad(&bad) == -1)
				log_error("reopening %s: %s", bad.path, strerror(errno));
		}
		if (sig_terminate && !line_buffered(&lr)) {
			/* the whole lines already read were in hand and are done; a fragment is not
			 * a record (its writer had not finished it) */
			if (linereader_next_buffered(&lr, &line, &len) == LR_PARTIAL)
				log_warn("unterminated line at shutdown: %zu bytes without a newline, "
				    "not enriched", lr.discarded);
			break;
		}
		will_read = !line_buffered(&lr) && !lr.eof;
		if (will_read) {
			/* about to block: let downstream see what we have */
			struct pollfd p = { 0, POLLIN, 0 };
			struct timespec ts = { 0, 0 };
			int timeout = -1;
			if (good.b.len || bad.b.len) {
				if (poll(&p, 1, 0) == 0) {
					out_flush(&good, "standard output");
					out_flush(&bad, "bad rows");
				}
			}
			if (next_stats) {
				time_t now = time(NULL);
				timeout = now >= next_stats ? 0 : (int)(next_stats - now);
			}
			int pr;
			ts.tv_sec = timeout;
			pr = ppoll(&p, 1, timeout < 0 ? NULL : &ts, &waitmask);
			if (pr == -1 && errno == EINTR)
				continue;           /* a signal: look at the flags first */
			if (pr == 0 || (next_stats && time(NULL) >= next_stats)) {
				if (next_stats && time(NULL) >= next_stats) {
					log_counts(e);
					next_stats = time(NULL) + o.stats_interval;
				}
				if (!(p.revents & (POLLIN | POLLHUP)))
					continue;
			}
		}
		if (will_read) {
			/* a signal that came with the data is delivered here: act on it first */
			sigprocmask(SIG_SETMASK, &waitmask, NULL);
			if (sig_reopen || sig_terminate) {
				sigprocmask(SIG_BLOCK, &sigs, NULL);
				continue;
			}
		}
		st = linereader_next(&lr, &line, &len);
		if (will_read)
			sigprocmask(SIG_BLOCK, &sigs, NULL);
		if (st == LR_AGAIN)
			continue;
		if (st == LR_EOF)
			break;
		if (st == LR_ERROR) {
			log_error("reading standard input: %s", strerror(errno));
			out_flush(&good, "standard output");
			out_flush(&bad, "bad rows");
			return EX_IOERR;
		}
		if (st == LR_TOOLONG) {
			/* reported once the line has ended: lr.discarded is its whole length */
			if (enrich_line_too_long(e, line, len, lr.discarded, o.max_line, &bad.b) == -1) {
				log_error("out of memory");
				return EX_SOFTWARE;
			}
		} else if (enrich_line(e, line, len, &good.b, &bad.b) == -1) {
			log_error("out of memory");
			return EX_SOFTWARE;
		}
		if (good.b.len >= OUT_FLUSH_BYTES)
			out_flush(&good, "standard output");
		if (bad.b.len >= OUT_FLUSH_BYTES)
			out_flush(&bad, "bad rows");
	}
	out_flush(&good, "standard output");
	out_flush(&bad, "bad rows");
	log_counts(e);

	linereader_free(&lr);
	enrich_free(e);
	if (enrichments)
		enrichments_free(enrichments);
	iglu_resolver_free(resolver);
	buf_free(&good.b);
	buf_free(&bad.b);
	if (bad.path && bad.fd > 2)
		close(bad.fd);
	return 0;
}
