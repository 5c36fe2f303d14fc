/*
 * keys: S3 object keys for s3-sink (sinks.md §3.2, §3.3).
 *
 * A key is [<partition>/]<prefix><yyyy-MM-dd-HHmmss>-<uuid>.gz. The partition is a template whose
 * placeholders are the UTC date parts of the close time and, for the bad stream, the parts of the
 * bad row's Iglu schema URI. Everything here is pure string work so that it can be unit tested and
 * fuzzed: templates are checked once at start-up (a bad one is a configuration error), expanded
 * per file, and the resulting key is normalised the way upstream's Paths.normalize does.
 *
 * Keys only ever contain A-Z a-z 0-9 . _ - = / (template text and prefixes are restricted to those,
 * and Iglu vendors, names and formats cannot hold anything else), so the spool can store a key in
 * a file name by swapping '/' for '!'.
 */
#ifndef S3_KEYS_H
#define S3_KEYS_H

#include <stddef.h>
#include <time.h>

#include "iglu.h"

#define S3KEY_MAX        1024   /* S3's limit on a key, in bytes */
#define S3KEY_FIELD_MAX  (IGLU_PART_MAX + 1)   /* vendor, name, format, version of a URI */

/* What a template may use (sinks.md §3.1: date/time everywhere, schema parts only for bad). */
#define S3KEY_ALLOW_SCHEMA 1

/* The parts of iglu:<vendor>/<name>/<format>/<M-R-A>. */
struct s3key_schema {
	char vendor[S3KEY_FIELD_MAX];
	char name[S3KEY_FIELD_MAX];
	char format[S3KEY_FIELD_MAX];
	char version[S3KEY_FIELD_MAX];   /* full SchemaVer, e.g. 2-0-1 */
	char model[S3KEY_FIELD_MAX];     /* its first number, e.g. 2 */
};

/* Results of s3key_badrow_schema. */
enum s3key_row {
	S3KEY_ROW_OK = 0,
	S3KEY_ROW_NOT_JSON,      /* err: the JSON parser's message */
	S3KEY_ROW_NO_SCHEMA,     /* err: an Iglu ParseError code (enriched-event.md §14.1) */
};

/* 0 if tmpl is a valid partition template for the flags, else -1 with a message in err. */
int s3key_template_check(const char *tmpl, int flags, char *err, size_t errlen);
/* 0 if prefix only holds key characters and no ".." segment, else -1 with a message. */
int s3key_prefix_check(const char *prefix, char *err, size_t errlen);
/* Expand a checked template. schema may be NULL when the template has no schema placeholder.
 * Returns the length written (NUL-terminated), or -1 if out is too small or a placeholder has
 * no value. */
int s3key_expand(const char *tmpl, const struct s3key_schema *schema, const struct tm *utc,
    char *out, size_t outlen);
/* Join partition, prefix, time and uuid into a normalised key: repeated '/' collapsed, leading
 * '/' and "." segments dropped. Returns the length, or -1 for a ".." segment or a key longer
 * than S3KEY_MAX. */
int s3key_build(const char *partition, const char *prefix, const struct tm *utc, const char *uuid,
    char *out, size_t outlen);
/* Parse an Iglu URI with iglu_key_parsen into its key parts; a vendor made only of dots is
 * refused too. Returns 0, or -1 with *code set to INVALID_IGLUURI or INVALID_SCHEMAVER. */
int s3key_schema_parse(const char *uri, size_t len, struct s3key_schema *s, const char **code);
/* Find the schema of a bad row (a self-describing JSON line). */
enum s3key_row s3key_badrow_schema(const char *line, size_t len, struct s3key_schema *s,
    char *err, size_t errlen);
/* 1 if a and b name the same full schema key. */
int s3key_schema_eq(const struct s3key_schema *a, const struct s3key_schema *b);
/* Percent-encode a key for the request path: every byte outside A-Z a-z 0-9 - _ . ~ except '/'.
 * Returns the length, or -1 if out is too small. */
int s3key_url_path(const char *key, char *out, size_t outlen);
/* A key as a spool file name ('/' <-> '!') and back. Return the length, or -1 if too long or,
 * for s3key_from_spool_name, if name is not a key's spool name. */
int s3key_to_spool_name(const char *key, char *out, size_t outlen);
int s3key_from_spool_name(const char *name, char *out, size_t outlen);

#endif
