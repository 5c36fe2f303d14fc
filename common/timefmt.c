/*
 * timefmt: UTC timestamp renderings (see timefmt.h).
 */
#include "timefmt.h"

#include <stdio.h>

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Split ms into a broken-down UTC time and a millisecond part, flooring for negative values. */
static int
split_ms(int64_t ms, struct tm *tm, int *milli)
{
	int64_t sec = ms / 1000;
	int64_t rem = ms % 1000;
	time_t t;

	if (rem < 0) {
		rem += 1000;
		sec -= 1;
	}
	t = (time_t)sec;
	if (gmtime_r(&t, tm) == NULL)
		return -1;
	if (tm->tm_year + 1900 < 0 || tm->tm_year + 1900 > 9999)
		return -1;
	*milli = (int)rem;
	return 0;
}

int
timefmt_tsv(int64_t ms, char out[TIMEFMT_BUFSZ])
{
	struct tm tm;
	int milli;

	out[0] = '\0';
	if (split_ms(ms, &tm, &milli) == -1)
		return -1;
	snprintf(out, TIMEFMT_BUFSZ, "%04d-%02d-%02d %02d:%02d:%02d.%03d", tm.tm_year + 1900,
	    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
	return 0;
}

static int
iso(int64_t ms, int always_fraction, char out[TIMEFMT_BUFSZ])
{
	struct tm tm;
	int milli;

	out[0] = '\0';
	if (split_ms(ms, &tm, &milli) == -1)
		return -1;
	if (milli == 0 && !always_fraction)
		snprintf(out, TIMEFMT_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
	else
		snprintf(out, TIMEFMT_BUFSZ, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		    tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, milli);
	return 0;
}

int
timefmt_instant(int64_t ms, char out[TIMEFMT_BUFSZ])
{
	return iso(ms, 0, out);
}

int
timefmt_joda(int64_t ms, char out[TIMEFMT_BUFSZ])
{
	return iso(ms, 1, out);
}

int
timefmt_http(time_t t, char out[TIMEFMT_BUFSZ])
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	static const char *const mons[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
	    "Aug", "Sep", "Oct", "Nov", "Dec" };
	struct tm tm;

	out[0] = '\0';
	if (gmtime_r(&t, &tm) == NULL || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0)
		return -1;
	snprintf(out, TIMEFMT_BUFSZ, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
	    tm.tm_mday, mons[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
	return 0;
}
