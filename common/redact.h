/*
 * redact: keep secrets out of logs and bad rows (GUIDE: "secrets never in argv, logs or bad
 * rows").
 *
 * A URL may carry credentials in its userinfo ("https://user:password@host/"): an
 * Elasticsearch --url, an S3 --endpoint, an Iglu registry URI, an enrichment's download URI.
 * Every message that shows such a URL goes through redact_urls first; the URL handed to libcurl
 * keeps them.
 */
#ifndef FURROW_REDACT_H
#define FURROW_REDACT_H

#include <stddef.h>

/*
 * Copy text into out (outlen bytes, always NUL-terminated when outlen > 0, truncated if need
 * be) with the userinfo of every "scheme://userinfo@host" in it replaced by "***": the
 * authority ends at the first '/', '?', '#', blank or quote, and its last '@' ends the userinfo.
 * Truncation never leaves part of a userinfo in out. Returns out.
 */
char *redact_urls(const char *text, char *out, size_t outlen);

#endif
