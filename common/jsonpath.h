/*
 * jsonpath: the one JSONPath engine. Snowplow's API request and SQL query enrichments select
 * their inputs (and the API request enrichment its outputs) with JSONPath expressions (enrich
 * 6.x uses Gatling's JsonPath for them, Jayway's for PII); furrow compiles an expression once,
 * at startup, and runs it over jansson documents.
 *
 * Grammar (the subset both libraries agree on):
 *   $                      the root
 *   .name  ['name'] ["n"]  a member of an object (nothing on other values)
 *   ['a','b']              several members, in the order written
 *   [n]  [-n]  [i,j]       array elements, negative from the end
 *   [start:end:step]       a slice, Python rules (any part may be left out; step not 0)
 *   .*  [*]                every member or element, in document order
 *   ..name  ..*  ..[...]   recursive descent: the step applied to the node and every
 *                          descendant, depth first, parents before children
 *   [?(expr)]              filter: the elements of an array (or an object itself) for which
 *                          expr holds. expr: operands @.path, $.path or literals (numbers,
 *                          'strings', "strings", true, false, null) compared with == != < <=
 *                          > >=; a path alone tests existence; ! && || and parentheses.
 *                          A missing operand makes a comparison false.
 * Anything else is a compile error naming the position.
 */
#ifndef FURROW_JSONPATH_H
#define FURROW_JSONPATH_H

#include <jansson.h>
#include <stddef.h>

#define JSONPATH_MAX_LEN     4096        /* longest expression accepted */
#define JSONPATH_MAX_MATCHES (1u << 20)  /* most nodes one query may select */

struct jsonpath;

/* The nodes a query selected: borrowed references into the queried document, in order. */
struct jsonpath_matches {
	json_t **v;
	size_t   n, cap;
};

/* Compile expr. NULL with a message in err for a syntax error or past the limits. */
struct jsonpath *jsonpath_compile(const char *expr, char *err, size_t errlen);
void jsonpath_free(struct jsonpath *p);
/* The text the path was compiled from. */
const char *jsonpath_text(const struct jsonpath *p);

/* Run p over doc, appending the selected nodes to m (which the caller zeroes first and frees
 * with jsonpath_matches_free; it may be reused after resetting n). Returns the number of nodes
 * selected, or -1 when the match list could not grow (out of memory or past
 * JSONPATH_MAX_MATCHES). */
long jsonpath_query(const struct jsonpath *p, json_t *doc, struct jsonpath_matches *m);
void jsonpath_matches_free(struct jsonpath_matches *m);

#endif
