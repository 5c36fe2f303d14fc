/*
 * col_query: the little URL decoding the collector needs. The query string is stored raw
 * (collector.md §8); only nuid, u and the bounce parameter are looked up, with form decoding
 * (common/pct: %XX and '+' as space; a malformed escape is kept literally, never an error).
 * Path segments are decoded strictly (PCT_STRICT): a malformed escape makes the request a 400.
 */
#ifndef COL_QUERY_H
#define COL_QUERY_H

#include <stddef.h>

#include "buf.h"

/* Look up the first parameter named name in the raw query q[0..len). Returns 1 and appends the
 * decoded value to out (empty for "name" without '='), 0 when absent, -1 when out is full. */
int col_query_get(const char *q, size_t len, const char *name, struct buf *out);

/* 1 if u parses as a URI reference (RFC 3986 characters, valid escapes). When it has an
 * authority, *host and *host_len receive the host (brackets of an IPv6 literal removed), else
 * *host is NULL. */
int col_query_uri_parse(const char *u, size_t len, const char **host, size_t *host_len);

#endif
