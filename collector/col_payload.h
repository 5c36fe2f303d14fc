/*
 * col_payload: the CollectorPayload the collector writes, encoded straight from views into the
 * request (enriched-event.md §12.3) without copying fields into a struct first, and its Java
 * toString rendering used as a size_violation payload (collector.md §10.3).
 */
#ifndef COL_PAYLOAD_H
#define COL_PAYLOAD_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* A byte view; s == NULL means unset. */
struct col_str {
	const char *s;
	size_t      len;
};

/* One element of the headers list: "name: value", or the bare value when name.s is NULL. */
struct col_payload_header {
	struct col_str name;
	struct col_str value;
};

#define COL_PAYLOAD_MAX_HEADERS 130

struct col_payload {
	struct col_str ip_address;     /* 100 */
	int64_t        timestamp;      /* 200 */
	struct col_str user_agent;     /* 300 */
	struct col_str referer_uri;    /* 310 */
	struct col_str path;           /* 320 */
	struct col_str querystring;    /* 330 */
	struct col_str body;           /* 340 */
	const struct col_payload_header *headers;   /* 350 (always written) */
	size_t         n_headers;
	struct col_str content_type;   /* 360 */
	struct col_str hostname;       /* 400 */
	struct col_str network_user_id;/* 410 */
};

#define COL_PAYLOAD_COLLECTOR "furrow-collector-" FURROW_VERSION "-stdout"

/* Append the Thrift binary encoding (fields 100..410, then 31337 and STOP). Returns 0 or -1. */
int col_payload_encode(const struct col_payload *p, struct buf *out);

/* Append Java's CollectorPayload.toString() rendering, cut to max_chars code points.
 * Returns 0 or -1. */
int col_payload_render(const struct col_payload *p, size_t max_chars, struct buf *out);

/* Cut s[0..len) to at most max_chars UTF-8 code points; returns the byte length kept. */
size_t col_utf8_prefix_chars(const char *s, size_t len, size_t max_chars);

#endif
