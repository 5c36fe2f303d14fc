/*
 * col_mime: Content-Type normalisation for the payload (collector.md §8). Upstream stores
 * http4s's re-rendering of the parsed header, lower-cased: "type/subtype", then each parameter
 * as "; name=value", with the charset parameter last (http4s keeps it apart from the other
 * parameters). A value that does not parse is stored trimmed and lower-cased.
 */
#ifndef COL_MIME_H
#define COL_MIME_H

#include <stddef.h>

#include "buf.h"

/* Append the normalised form of v to out. Returns 0, or -1 when out is full. */
int col_mime_normalise(const char *v, size_t len, struct buf *out);

#endif
