/*
 * enr_ua_parser: the uap-core parser behind the ua_parser enrichment, exposed for the tests
 * (which run uap-core's own test suites through it) and the fuzz targets.
 */
#ifndef FURROW_ENR_UA_PARSER_H
#define FURROW_ENR_UA_PARSER_H

#include <jansson.h>
#include <stddef.h>

struct enr_ua_parser;

struct enr_ua_parser *enr_ua_parser_load(const char *path, char *err, size_t errlen);
/* The same from memory; how: 0 as enr_ua_parser_load (the scan of enr_ua_rules, libyaml for a
 * file outside its subset), 1 libyaml only, 2 the scan only (NULL when it does not apply). */
struct enr_ua_parser *enr_ua_parser_load_buf(const char *buf, size_t len, int how, char *err,
    size_t errlen);
void enr_ua_parser_free(struct enr_ua_parser *u);
/* Regexes are compiled when first needed; this compiles all of them now: 0, or -1 with the
 * first error (as a load would report it). */
int enr_ua_parser_compile_all(struct enr_ua_parser *u, char *err, size_t errlen);
/* The rules as text, one line per regex with its flags, replacements and prefilter strings
 * (malloc'ed), to compare two loads. */
char *enr_ua_parser_dump(const struct enr_ua_parser *u);
/* For tests: with on 0, every regex runs (the prefilter's results must not differ). */
void enr_ua_parser_set_prefilter(struct enr_ua_parser *u, int on);
/* which: 0 user agent (family, major, minor, patch), 1 OS (family, major, minor, patch,
 * patch_minor), 2 device (family, brand, model). out[] gets malloc'ed strings or NULL;
 * returns 0 with out[0] never NULL ("Other" without a match), or -1 (out all NULL) when a
 * regex the user agent reaches does not compile, or out of memory. */
int enr_ua_parser_parse_one(struct enr_ua_parser *u, int which, const char *ua, size_t len,
    char *out[5]);
/* The ua_parser_context entity {schema,data} for ua (new reference), or NULL. */
json_t *enr_ua_parser_context(struct enr_ua_parser *u, const char *ua);

#endif
