/*
 * schemadir: where the embedded Iglu registry is when --schemas is not given (cli.md: "the
 * installed one, or the source tree's when run from it"): next to the executable
 * (<bin>/../share/furrow/schemas, <bin>/../schemas, <bin>/../../schemas,
 * <bin>/../../../schemas for build/<variant>/bin), then /usr/local/share/furrow/schemas and
 * /usr/share/furrow/schemas.
 */
#ifndef FURROW_SCHEMADIR_H
#define FURROW_SCHEMADIR_H

#include <stddef.h>

/* The first of those folders that exists (in out, or a static string), or NULL. */
const char *schemadir_default(char *out, size_t outlen);

#endif
