/*
 * pg_copy: COPY text fields and the date-time conversion (see pg_copy.h).
 */
#include "pg_copy.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "timefmt.h"

/* Bytes the text format escapes (PostgreSQL docs, COPY "Text Format"): the delimiter (TAB),
 * the backslash and the two line ends. */
const unsigned char pgcopy_escape[256] = {
	['\t'] = 't', ['\n'] = 'n', ['\r'] = 'r', ['\\'] = '\\',
};

int
pgcopy_field(struct buf *out, const char *s, size_t n)
{
	size_t i = 0, run;

	while (i < n) {
		for (run = i; run < n && !pgcopy_escape[(unsigned char)s[run]]; run++)
			;
		if (run > i && buf_append(out, s + i, run - i) == -1)
			return -1;
		if (run == n)
			break;
		if (buf_append_byte(out, '\\') == -1 ||
		    buf_append_byte(out, pgcopy_escape[(unsigned char)s[run]]) == -1)
			return -1;
		i = run + 1;
	}
	return 0;
}

static int
pgcopy_digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
pgcopy_days(int y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The inverse (civil_from_days). */
static void
pgcopy_civil(int64_t z, int *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

int
pgcopy_date_valid(const char *s, size_t n)
{
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-' || pgcopy_digits(s, 4, &y) ||
	    pgcopy_digits(s + 5, 2, &m) || pgcopy_digits(s + 8, 2, &d))
		return 0;
	return y >= 1 && timefmt_date_valid(y, m, d);
}

int
pgcopy_timestamp(const char *s, size_t n, char out[PGCOPY_TS_BUFSZ])
{
	int h, mi, se, oh = 0, om = 0, y, mo, d;
	size_t i, fd = 0;
	int64_t ns = 0, us;

	if (n < 20 || !pgcopy_date_valid(s, 10) || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':' || pgcopy_digits(s + 11, 2, &h) ||
	    pgcopy_digits(s + 14, 2, &mi) || pgcopy_digits(s + 17, 2, &se) || h > 23 || mi > 59 ||
	    se > 60)
		return -1;
	i = 19;
	if (s[i] == '.') {
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++, fd++)
			if (fd < 9)
				ns = ns * 10 + (s[i] - '0');
		if (fd == 0)
			return -1;
		for (; fd < 9; fd++)
			ns *= 10;
	}
	if (i == n - 1 && (s[i] == 'Z' || s[i] == 'z')) {
		/* UTC */
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':' &&
	    pgcopy_digits(s + i + 1, 2, &oh) == 0 && pgcopy_digits(s + i + 4, 2, &om) == 0 &&
	    oh <= 23 && om <= 59) {
		if (s[i] == '-') {
			oh = -oh;
			om = -om;
		}
	} else {
		return -1;
	}
	pgcopy_digits(s, 4, &y);
	pgcopy_digits(s + 5, 2, &mo);
	pgcopy_digits(s + 8, 2, &d);
	/* microseconds since the epoch, rounded to PostgreSQL's precision, offset removed */
	us = ((pgcopy_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + se) -
	    ((int64_t)oh * 3600 + (int64_t)om * 60)) * 1000000 + (ns + 500) / 1000;
	{
		int64_t secs = us >= 0 ? us / 1000000 : -((-us + 999999) / 1000000);
		int64_t frac = us - secs * 1000000, days = secs >= 0 ? secs / 86400 :
		    -((-secs + 86399) / 86400);
		int64_t sod = secs - days * 86400;
		char f[8] = "";

		pgcopy_civil(days, &y, &mo, &d);
		if (y < 1 || y > 9999)
			return -1;
		if (frac) {
			int k;
			snprintf(f, sizeof(f), ".%06d", (int)frac);
			for (k = 6; f[k] == '0'; k--)
				f[k] = '\0';
		}
		snprintf(out, PGCOPY_TS_BUFSZ, "%04d-%02d-%02d %02d:%02d:%02d%s", y, mo, d,
		    (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), f);
	}
	return 0;
}
