/*
 * jsonschema: JSON Schema draft-04 validation on jansson (enriched-event.md §15.4), complete:
 * every draft-04 keyword, `format`, local and iglu: `$ref`, patterns with PCRE2, plus Iglu's
 * `self` keyword. A schema is compiled once (regexes compiled, $refs bound) and then validated
 * against many instances.
 *
 * Reports are jansson objects {"message","path","keyword","targets":[…]} in the order the
 * failures were found; path is a JSONPath like "$.a.b[0]" (networknt style, §14.6). `$ref` to
 * "iglu:…" URIs and to the self-describing meta-schema are resolved through the callback given
 * at compile time; http(s) references other than the meta-schemas validate as {} (§15.4).
 *
 * Details: at most 1000 reports are kept per validation; keywords next to a `$ref` are
 * evaluated too (as networknt's validator, which Snowplow uses, does); an integral real beyond the
 * int64 range is an "integer" (see jsonschema_json_loadb), 1.0 is not; multipleOf is exact for
 * decimals; patterns are PCRE2 in UTF mode with \uXXXX escapes, `$` only at the very end, and a
 * match limit (a pattern that hits it counts as not matching). A compiled schema is not
 * thread-safe (each pattern owns its match data).
 */
#ifndef FURROW_JSONSCHEMA_H
#define FURROW_JSONSCHEMA_H

#include <jansson.h>
#include <stddef.h>

struct jsonschema;

/* Resolve an "iglu:vendor/name/format/M-R-A" reference to a compiled schema, or NULL. */
typedef const struct jsonschema *(*jsonschema_ref_fn)(const char *iglu_uri, void *arg);

/* Compile a schema (borrowed; the compiled form keeps its own reference). NULL with a message
 * in err when the schema itself is invalid (bad regex, bad keyword value). */
struct jsonschema *jsonschema_compile(json_t *schema, jsonschema_ref_fn ref, void *ref_arg,
    char *err, size_t errlen);
void jsonschema_free(struct jsonschema *s);

/* Validate. Returns 1 when valid, 0 when invalid (then *reports, if reports is non-NULL, is a
 * new JSON array of report objects owned by the caller), -1 on internal failure. */
int jsonschema_validate(const struct jsonschema *s, const json_t *instance, json_t **reports);

/* Check a schema against the self-describing meta-schema (draft-04 + required `self`).
 * Returns 1 when it is a valid self-describing schema, else 0 with *issues set to a JSON array
 * of {"path","message"} (the schemaIssues of §14.6). */
int jsonschema_check_self_describing(const json_t *schema, json_t **issues);

/* Parse JSON text into an instance the validator handles fully (additive helper):
 *  - integer literals that do not fit in 64 bits (jansson refuses them) are read as reals, and
 *    the validator counts an integral real beyond the int64 range as an "integer"
 *    (§15.4: integers larger than 64 bits must still validate); smaller integers stay integers;
 *  - when max_depth > 0, a document nested deeper than max_depth arrays/objects is rejected with
 *    error->text "invalid json: maximum allowed JSON depth exceeded" (§15.4: 40 levels).
 * flags are jansson's decoding flags (e.g. JSON_DECODE_ANY). NULL with *error filled on failure. */
json_t *jsonschema_json_loadb(const char *text, size_t len, size_t flags, size_t max_depth,
    json_error_t *error);

#endif
