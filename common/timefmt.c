/*
 * timefmt: UTC timestamp renderings and calendar checks (see timefmt.h). Dates come from days
 * since the epoch by H. Hinnant's civil_from_days, so that every int64 millisecond value has a
 * rendering (Joda prints years outside 0..9999 too, and enrich quotes them in its errors) and
 * the hot TSV path needs neither gmtime nor stdio.
 */
#include "timefmt.h"

#include <stdio.h>
#include <string.h>

int64_t
timefmt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
timefmt_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The proleptic Gregorian date of days since 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (int64_t)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*m <= 2);
}

struct civil {
	int64_t  year;
	unsigned mon, day, hour, min, sec, milli;
	int64_t  days;         /* since 1970-01-01 */
};

/* Split ms (floor division for times before the epoch) into its civil parts. */
static inline void
split_ms(int64_t ms, struct civil *c)
{
	int64_t secs = ms / 1000, milli = ms % 1000, days, sod;

	if (milli < 0) {
		milli += 1000;
		secs--;
	}
	days = secs / 86400;
	sod = secs % 86400;
	if (sod < 0) {
		sod += 86400;
		days--;
	}
	c->milli = (unsigned)milli;
	civil_from_days(days, &c->year, &c->mon, &c->day);
	c->hour = (unsigned)(sod / 3600);
	c->min = (unsigned)(sod / 60 % 60);
	c->sec = (unsigned)(sod % 60);
	c->days = days;
}

static char *
put2(char *p, unsigned v)
{
	p[0] = (char)('0' + v / 10);
	p[1] = (char)('0' + v % 10);
	return p + 2;
}

/* Joda's "yyyy": at least four digits, a '-' before a negative year. */
static char *
put_year(char *p, int64_t y)
{
	char tmp[24];
	uint64_t u;
	int n = 0;

	if (y >= 0 && y <= 9999) {
		p = put2(p, (unsigned)(y / 100));
		return put2(p, (unsigned)(y % 100));
	}
	if (y < 0)
		*p++ = '-';
	u = y < 0 ? 0 - (uint64_t)y : (uint64_t)y;
	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) > 0);
	while (n < 4)
		tmp[n++] = '0';
	while (n > 0)
		*p++ = tmp[--n];
	return p;
}

int
timefmt_tsv(int64_t ms, char out[TIMEFMT_BUFSZ])
{
	struct civil c;
	char *p = out;

	split_ms(ms, &c);
	p = put_year(p, c.year);
	*p++ = '-';
	p = put2(p, c.mon);
	*p++ = '-';
	p = put2(p, c.day);
	*p++ = ' ';
	p = put2(p, c.hour);
	*p++ = ':';
	p = put2(p, c.min);
	*p++ = ':';
	p = put2(p, c.sec);
	*p++ = '.';
	*p++ = (char)('0' + c.milli / 100);
	p = put2(p, c.milli % 100);
	*p = '\0';
	return c.year >= 0 && c.year <= 9999 ? 0 : -1;
}

static int
iso(int64_t ms, int always_fraction, char out[TIMEFMT_BUFSZ])
{
	struct civil c;

	out[0] = '\0';
	split_ms(ms, &c);
	if (c.year < 0 || c.year > 9999)
		return -1;
	if (c.milli == 0 && !always_fraction)
		snprintf(out, TIMEFMT_BUFSZ, "%04d-%02u-%02uT%02u:%02u:%02uZ", (int)c.year, c.mon,
		    c.day, c.hour, c.min, c.sec);
	else
		snprintf(out, TIMEFMT_BUFSZ, "%04d-%02u-%02uT%02u:%02u:%02u.%03uZ", (int)c.year,
		    c.mon, c.day, c.hour, c.min, c.sec, c.milli);
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
	struct civil c;

	out[0] = '\0';
	if (t < -62167219200LL || t > 253402300799LL)
		return -1;   /* years 0..9999 */
	split_ms((int64_t)t * 1000, &c);
	/* "Sun, 06 Nov 1994 08:49:37 GMT" digit by digit: the collector writes one per answer
	 * (the cookie's expiry), and snprintf cost more than the rest of the header */
	{
		const char *d = days[(c.days % 7 + 11) % 7];   /* 1970-01-01 was a Thursday (4) */
		const char *m = mons[c.mon - 1];
		unsigned y = (unsigned)c.year;
		char *o = out;

		memcpy(o, d, 3);
		o[3] = ',';
		o[4] = ' ';
		o[5] = (char)('0' + c.day / 10);
		o[6] = (char)('0' + c.day % 10);
		o[7] = ' ';
		memcpy(o + 8, m, 3);
		o[11] = ' ';
		o[12] = (char)('0' + y / 1000);
		o[13] = (char)('0' + y / 100 % 10);
		o[14] = (char)('0' + y / 10 % 10);
		o[15] = (char)('0' + y % 10);
		o[16] = ' ';
		o[17] = (char)('0' + c.hour / 10);
		o[18] = (char)('0' + c.hour % 10);
		o[19] = ':';
		o[20] = (char)('0' + c.min / 10);
		o[21] = (char)('0' + c.min % 10);
		o[22] = ':';
		o[23] = (char)('0' + c.sec / 10);
		o[24] = (char)('0' + c.sec % 10);
		memcpy(o + 25, " GMT", 5);
	}
	return 0;
}

int
timefmt_date_valid(int year, int month, int day)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;

	if (month < 1 || month > 12 || day < 1)
		return 0;
	return day <= mdays[month - 1] + (month == 2 && leap);
}
