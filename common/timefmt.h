/*
 * timefmt: the timestamp renderings furrow writes.
 *   TSV "ts" columns      2013-11-26 00:02:05.123     (enriched-event.md §4)
 *   bad-row failure time  2024-01-02T03:04:05.678Z    (Java Instant.toString, §14.1)
 *   payload timestamps    2024-01-02T03:04:05.000Z    (Joda DateTime.toString, always ms)
 *   cookies / HTTP        Thu, 14 Nov 2024 22:13:20 GMT (IMF-fixdate)
 * and the calendar check every date parser shares.
 */
#ifndef FURROW_TIMEFMT_H
#define FURROW_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TIMEFMT_TSV_LEN 23     /* yyyy-MM-dd HH:mm:ss.SSS */
#define TIMEFMT_BUFSZ   40

/* The wall clock (ms since the epoch), and CLOCK_MONOTONIC in ms for deadlines and durations. */
int64_t timefmt_now_ms(void);
int64_t timefmt_mono_ms(void);
/* Returns 0, or -1 when the year is outside 0..9999; out always holds Joda's rendering of the
 * pattern (a year of at least four digits, "-0030" before year 0, "10000" after 9999), which
 * enrich quotes in its "not Redshift-compatible" errors. */
int timefmt_tsv(int64_t ms, char out[TIMEFMT_BUFSZ]);
/* Instant.toString at millisecond precision: the fraction is left out when it is zero. */
int timefmt_instant(int64_t ms, char out[TIMEFMT_BUFSZ]);
/* Joda DateTime.toString in UTC: always three fraction digits. */
int timefmt_joda(int64_t ms, char out[TIMEFMT_BUFSZ]);
/* IMF-fixdate for HTTP headers (seconds precision). */
int timefmt_http(time_t t, char out[TIMEFMT_BUFSZ]);
/* 1 when year-month-day is a day of the proleptic Gregorian calendar (the one date rule of
 * the SDK timestamps and the JSON Schema "date"/"date-time" formats), else 0. */
int timefmt_date_valid(int year, int month, int day);

#endif
