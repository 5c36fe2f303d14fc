/*
 * log: stderr logging with program name, time and level (see log.h).
 */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *log_progname = "furrow";
static int log_threshold = LOG_LVL_INFO;

static const char *const log_names[] = { "error", "warn", "info", "debug" };

void
log_init(const char *prog)
{
	const char *slash;

	if (prog == NULL)
		return;
	slash = strrchr(prog, '/');
	log_progname = slash ? slash + 1 : prog;
}

const char *
log_prog(void)
{
	return log_progname;
}

void
log_set_level(int level)
{
	if (level < LOG_LVL_ERROR)
		level = LOG_LVL_ERROR;
	if (level > LOG_LVL_DEBUG)
		level = LOG_LVL_DEBUG;
	log_threshold = level;
}

void
log_adjust(int delta)
{
	log_set_level(log_threshold + delta);
}

int
log_enabled(int level)
{
	return level <= log_threshold;
}

/* One write(2) per line keeps lines whole when several processes share stderr; a signal that
 * interrupts it (a stage may install its handlers without SA_RESTART) must not lose the line. */
static void
log_write_line(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDERR_FILENO, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return;          /* nowhere left to report it */
		p += w;
		n -= (size_t)w;
	}
}

void
log_msg(int level, const char *fmt, ...)
{
	char line[4096], ts[32];
	struct timespec now;
	struct tm tm;
	va_list ap;
	int n, saved_errno = errno;

	if (!log_enabled(level))
		return;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s: %s.%03ldZ %s: ", log_progname, ts,
	    now.tv_nsec / 1000000, log_names[level]);
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	log_write_line(line, strlen(line));
	errno = saved_errno;      /* callers may still look at it */
}

void
log_line(int level, const char *msg)
{
	log_msg(level, "%s", msg);
}
