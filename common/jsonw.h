/*
 * jsonw: write a jansson value as JSON text the way Snowplow's Scala services print it (circe):
 * keys in their order, strings escaped as sdkjson does, reals in their shortest round-trip form
 * ("0.1", not jansson's "0.10000000000000001"). Compact, or indented by two spaces for files
 * people read and keep in git. (enrich has its own compact writer for its hot path.)
 */
#ifndef FURROW_JSONW_H
#define FURROW_JSONW_H

#include <jansson.h>

#include "buf.h"

/* Append j to out; indent 0 is compact, else that many spaces per level and ": " after keys.
 * Returns 0, or -1 when out's cap is reached. */
int jsonw_write(struct buf *out, const json_t *j, int indent);

#endif
