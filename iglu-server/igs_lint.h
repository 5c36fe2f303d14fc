/*
 * igs_lint: the schema checks Iglu Server runs before it publishes a schema and on
 * /api/validation/validate/schema/jsonschema (ValidationService.validateJsonSchema): the
 * draft-04 meta-schema and Iglu's `$schema`/`self` syntax (schema-ddl's SelfSyntaxChecker,
 * errors), unknown keywords (the strict meta-schema, warnings), schema-ddl's SanityLinter rules
 * with their levels and messages, and the self-describing shape. A report is a JSON array of
 * {"message","level":"INFO"|"WARNING"|"ERROR","pointer":"/properties/a"}; only ERRORs stop a
 * publication.
 */
#ifndef IGS_LINT_H
#define IGS_LINT_H

#include <jansson.h>
#include <stddef.h>

#include "iglu.h"

struct igs_lint;

struct igs_lint *igs_lint_new(char *err, size_t errlen);
void igs_lint_free(struct igs_lint *l);

/* Lint schema. Returns a new array (empty when nothing was found); *errors counts the ERRORs.
 * When schema is self-describing, *key receives its self and *self_describing is 1. */
json_t *igs_lint_schema(struct igs_lint *l, const json_t *schema, size_t *errors,
    struct iglu_key *key, int *self_describing);

/* The self-describing check alone (SelfDescribingSchema.parse: a `self` with a valid key and
 * the self-describing `$schema`): 1 with *key filled, else 0. */
int igs_lint_self(const json_t *schema, struct iglu_key *key);

#endif
