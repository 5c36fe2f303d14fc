/*
 * utf8: validation and repair. Java decodes bytes into Strings by replacing each invalid
 * sequence with U+FFFD; furrow does the same wherever input bytes become text (a POST body,
 * a decoded base64 parameter, a line headed for JSON), so jansson only ever sees valid UTF-8.
 */
#ifndef FURROW_UTF8_H
#define FURROW_UTF8_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Length of the longest valid prefix; equals len when s is valid UTF-8. */
size_t utf8_valid_prefix(const char *s, size_t len);
/* Append s to out with every maximal invalid subpart replaced by U+FFFD (EF BF BD).
 * Returns 0 or -1 when out's cap is reached. */
int utf8_repair(const char *s, size_t len, struct buf *out);
/* Append code point cp (at most U+10FFFF, not a surrogate) as UTF-8. Returns 0 or -1. */
int utf8_append(struct buf *out, uint32_t cp);
/* Number of code points in valid UTF-8 s (bytes that are not continuation bytes). */
size_t utf8_codepoints(const char *s, size_t len);
/* The length of the longest prefix of s holding at most max code points (counted as
 * utf8_codepoints does, so a cut never splits a sequence). */
size_t utf8_cut(const char *s, size_t len, size_t max);

#endif
