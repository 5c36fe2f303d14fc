/*
 * jsonw: the one JSON writer. Every stage that prints JSON itself (enrich's contexts columns
 * and bad rows, the SDK documents of es-sink, bulk action lines) or turns untrusted bytes into
 * a jansson string (bad rows, derived contexts from headers) does it here, so that escaping and
 * UTF-8 repair are the same everywhere.
 *
 * Strings are escaped as circe's Printer.noSpaces escapes them (Snowplow prints every JSON it
 * emits with it): '"' and '\' escaped, \b \f \n \r \t by name, every other ISO control
 * character (U+0000-U+001F and U+007F-U+009F, Character.isISOControl) as \u00xx in lower-case
 * hex, everything else copied as it is. Objects keep their insertion order.
 */
#ifndef FURROW_JSONW_H
#define FURROW_JSONW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Append s[0..n) (valid UTF-8) as a JSON string literal, quotes included. Returns 0 or -1
 * when out's cap is reached. */
int jsonw_string(struct buf *out, const char *s, size_t n);
/* Append one code point as it stands inside a string literal (escaped when circe escapes it),
 * for writers that copy string contents piecewise. Returns 0 or -1. */
int jsonw_codepoint(struct buf *out, uint32_t cp);
/* 1 when byte c of UTF-8 text may start something jsonw_codepoint escapes (a control, '"',
 * '\', DEL, or 0xC2, the lead byte of U+0080-U+009F): writers copy runs of other bytes. */
extern const unsigned char jsonw_special_byte[256];
static inline int
jsonw_special(unsigned char c)
{
	return jsonw_special_byte[c];
}
/* Append a jansson value as compact JSON: strings as above, integers in decimal, reals as
 * Java's Double.toString (circe's JsonDouble: "100.0", "1.0E7"), objects in insertion order.
 * Returns 0 or -1. */
int jsonw_value(struct buf *out, const json_t *j);
/* A jansson string of arbitrary bytes, each invalid UTF-8 sequence replaced by U+FFFD as Java
 * decodes bytes (utf8_repair). NULL on allocation failure. */
json_t *jsonw_string_new(const char *s, size_t n);

#endif
