/*
 * enr_ua_parser: the uap-core parser behind the ua_parser enrichment, exposed for the tests
 * (which run uap-core's own test suites through it).
 */
#ifndef FURROW_ENR_UA_PARSER_H
#define FURROW_ENR_UA_PARSER_H

#include <jansson.h>
#include <stddef.h>

struct enr_ua_parser;

struct enr_ua_parser *enr_ua_parser_load(const char *path, char *err, size_t errlen);
void enr_ua_parser_free(struct enr_ua_parser *u);
/* which: 0 user agent (family, major, minor, patch), 1 OS (family, major, minor, patch,
 * patch_minor), 2 device (family, brand, model). out[] gets malloc'ed strings or NULL;
 * out[0] is never NULL ("Other" without a match). */
int enr_ua_parser_parse_one(struct enr_ua_parser *u, int which, const char *ua, size_t len,
    char *out[5]);
/* The ua_parser_context entity {schema,data} for ua (new reference), or NULL. */
json_t *enr_ua_parser_context(struct enr_ua_parser *u, const char *ua);

#endif
