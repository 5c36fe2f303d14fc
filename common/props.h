/*
 * props: a file of client properties, one "name=value" per line, as kcat -F and Kafka's own
 * tools read them: the librdkafka settings for TLS and SASL (stream_kafka.c), kept in a file so
 * that secrets are never in argv.
 *
 * Lines are split at the first '='; blanks around the name and before the value, and a
 * trailing "\r", are left out; the value keeps everything else (a password may end in a blank).
 * Blank lines and lines starting with '#' or '!' are comments. No escapes, no continuation
 * lines: a value is one line. A line without '=', an empty name, a name longer than
 * PROPS_NAME_MAX or outside [A-Za-z0-9._-], or a line longer than PROPS_LINE_MAX is an error
 * that names the line, never its value.
 */
#ifndef FURROW_PROPS_H
#define FURROW_PROPS_H

#include <stddef.h>

#define PROPS_NAME_MAX   128
#define PROPS_LINE_MAX   65536
#define PROPS_FILE_MAX   (1u << 20)

/* Called once per property, in file order; a positive return stops the parse with it (the
 * callback reports its own error). The strings are NUL-terminated and valid during the call
 * only. */
typedef int (*props_cb)(void *arg, unsigned line, const char *name, const char *value);

/* Parse text[0..len). Returns 0, the callback's positive result, or -1 with err filled
 * ("line N: why"). */
int props_parse(const char *text, size_t len, props_cb cb, void *arg, char *err, size_t errlen);

/* Read a whole file (at most PROPS_FILE_MAX bytes) and parse it. Returns as props_parse; -1
 * with err naming the file when it cannot be read. */
int props_load(const char *path, props_cb cb, void *arg, char *err, size_t errlen);

#endif
