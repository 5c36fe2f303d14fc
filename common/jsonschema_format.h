/*
 * jsonschema_format: the string formats the draft-04 validator asserts (enriched-event.md §15.4:
 * `format` is asserted, as networknt does). Kept apart from jsonschema.c because each format is
 * a small grammar of its own; unknown format names are accepted by every instance.
 */
#ifndef FURROW_JSONSCHEMA_FORMAT_H
#define FURROW_JSONSCHEMA_FORMAT_H

#include <stddef.h>

enum jsonschema_format {
	JSONSCHEMA_FMT_NONE = 0,   /* unknown or absent: no assertion */
	JSONSCHEMA_FMT_DATE_TIME,
	JSONSCHEMA_FMT_DATE,
	JSONSCHEMA_FMT_EMAIL,
	JSONSCHEMA_FMT_HOSTNAME,
	JSONSCHEMA_FMT_IPV4,
	JSONSCHEMA_FMT_IPV6,
	JSONSCHEMA_FMT_URI,
	JSONSCHEMA_FMT_UUID,
	JSONSCHEMA_FMT_REGEX,
};

/* The format for a draft-04 format name, JSONSCHEMA_FMT_NONE when furrow does not assert it. */
enum jsonschema_format jsonschema_format_lookup(const char *name);
/* The name used in messages ("ipv4", ...). */
const char *jsonschema_format_name(enum jsonschema_format f);
/* 1 when s (len bytes, valid UTF-8) is an instance of format f, else 0. */
int jsonschema_format_check(enum jsonschema_format f, const char *s, size_t len);

#endif
