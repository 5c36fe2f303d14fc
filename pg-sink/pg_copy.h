/*
 * pg_copy: the text format of PostgreSQL's COPY (one row per line, columns separated by TAB,
 * \N for NULL, backslash escapes; PostgreSQL docs "COPY", section "Text Format"), and the two
 * value conversions pg-sink makes before PostgreSQL sees a value: a JSON Schema "date-time"
 * (RFC 3339, any offset) becomes a UTC TIMESTAMP, and a "date" is checked as a calendar day.
 *
 * Everything else (integers, booleans 1/0, UUIDs, the enriched TSV's timestamps) is left to
 * PostgreSQL's own input functions, which are stricter than anything pg-sink could write; a
 * value they refuse fails its row, and that row becomes a bad row (pg_load.c).
 */
#ifndef PG_COPY_H
#define PG_COPY_H

#include <stddef.h>

#include "buf.h"

#define PGCOPY_NULL     "\\N"
#define PGCOPY_TS_BUFSZ 40

/* The letter after the backslash for each byte the text format escapes ('\t' -> 't', '\n',
 * '\r', '\\'), 0 for the others: for writers that copy fields byte by byte. */
extern const unsigned char pgcopy_escape[256];

/* Append s[0..n) as one COPY text field: '\\', TAB, LF and CR escaped, nothing else changed.
 * Returns 0, or -1 when out's cap is reached. */
int pgcopy_field(struct buf *out, const char *s, size_t n);

/*
 * An RFC 3339 date-time (JSON Schema "date-time": YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|
 * -HH:MM), 'T' and 'Z' in either case) into UTC "YYYY-MM-DD HH:MM:SS[.ffffff]" (the fraction
 * cut to microseconds, PostgreSQL's precision, trailing zeros dropped). A TIMESTAMP column
 * would silently drop an offset, so the conversion happens here. Returns 0, or -1 when s is
 * not such a date-time (out is then unspecified).
 */
int pgcopy_timestamp(const char *s, size_t n, char out[PGCOPY_TS_BUFSZ]);

/* 1 when s[0..n) is a JSON Schema "date" (full-date of RFC 3339: YYYY-MM-DD, a real day). */
int pgcopy_date_valid(const char *s, size_t n);

#endif
