/*
 * conv: the pure conversions enrich applies to tracker values (tracker-protocol.md §3-§5,
 * enriched-event.md §4-§6): TSV-safe cleaning, Java-compatible integer, BigDecimal, boolean,
 * WxH, timestamp and UUID parsing, query-string validation and decoding, URI splitting, the
 * header IP rules, and a compact JSON printer that keeps numbers as the tracker wrote them.
 * Nothing here allocates except into the caller's buf; nothing prints.
 */
#ifndef FURROW_ENRICH_CONV_H
#define FURROW_ENRICH_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* TSV-safe cleaning (§4): TAB -> 4 spaces, delete U+0000-U+001F and U+007F. Appends to out and
 * returns the number of bytes appended, or -1 when out's cap is reached. */
long conv_tsv_safe(const char *s, size_t len, struct buf *out);
/* The light cleaning for the HTTP User-Agent: TAB -> 4 spaces, CR and LF deleted. */
long conv_ua_light(const char *s, size_t len, struct buf *out);

/* ConversionUtils.stringToJInteger: Integer.parseInt (optional sign, any number of leading
 * zeros): 1 ok (*v set), 0 for the literal "null" (any case: NULL), -1 error. */
int conv_int32(const char *s, int32_t *v);
/* Java Long.parseLong: 0 ok, -1 error. */
int conv_int64(const char *s, int64_t *v);
/* BigDecimal(s).toString() after rescaling a negative scale to 0 (tracker-protocol.md §3.4).
 * Appends to out. Returns 1 ok, 0 for "null", -1 error. */
int conv_decimal(const char *s, struct buf *out);
/* "1" or "0": 1 / 0; anything else -1. */
int conv_bool(const char *s);
/* ClientEnrichments.extractViewDimensions: 0 ok; -1 not a full match of (\d+)x(\d+); -2 a
 * match whose parts are not both 32-bit ints. */
int conv_wxh(const char *s, int32_t *w, int32_t *h);
/* ms since the epoch as a TSV timestamp (yyyy-MM-dd HH:mm:ss.SSS, timefmt_tsv). 0 ok; -1 not a
 * long ("Not in the expected format: ms since epoch"); -2 year out of 0..9999, out then holds
 * Joda's rendering for the error message. */
int conv_ts(const char *s, int64_t *ms, char out[40]);
/* Canonical UUID, lower-cased into out: 0 ok, -1 error. */
int conv_uuid(const char *s, char out[37]);
/* One of web mob pc srv app tv cnsl iot headset. */
int conv_platform_ok(const char *s);

/* Query strings (tracker-protocol.md §5). */
/* Validity as a java.net.URI query. Returns -1 when valid, else the byte index of the first
 * problem, with *what set to "Illegal character in query" or "Malformed escape pair".
 * *qlen is set to the length before a raw '#'. */
long conv_qs_check(const char *qs, size_t len, size_t *qlen, const char **what);
/* Split a query on '&' and ';'; calls cb(name, nlen, value or NULL, vlen, arg) with the raw
 * (still encoded) pieces. Empty pieces are skipped. */
void conv_qs_split(const char *qs, size_t len,
    void (*cb)(const char *, size_t, const char *, size_t, void *), void *arg);

/* URIs (enriched-event.md §6). Offsets into the normalised text; len -1 = absent. */
struct conv_uri {
	long scheme_off, scheme_len;
	long host_off, host_len;
	long port;                 /* -1 when absent */
	long path_off, path_len;
	long query_off, query_len;
	long frag_off, frag_len;
};
/* Parse s as java.net.URI after turning spaces into %20; if that fails, percent-encode what the
 * strict parser rejects and try again. The normalised text (what page_url shows) is written to
 * norm (reset first). Returns 0, or -1 with a reason in err. */
int conv_uri_parse(const char *s, size_t len, struct buf *norm, struct conv_uri *u,
    char *err, size_t errlen);

/* The IP to use from the collector's headers (enriched-event.md §5), written to out; returns
 * its length, or 0 when the headers give none. */
size_t conv_header_ip(const char *const *hdr, const size_t *hlen, size_t n, char *out,
    size_t outlen);
/* Length of the first token of an IP candidate: cut at ',', '|' or ' '. */
size_t conv_ip_token(const char *s, size_t len);

/* JSON texts. */
/* Nesting depth of a JSON text (brackets outside strings); stops counting past limit. */
int conv_json_depth(const char *s, size_t len, int limit);
/* Append the compact form of the (valid) JSON value at s[0..len) to out: no whitespace,
 * strings re-escaped as circe prints them, numbers copied as written. Returns 0 or -1. */
int conv_json_compact(const char *s, size_t len, struct buf *out);
/* Within a valid JSON value at s[0..len), find the value of key in an object (the last
 * occurrence). Returns 0 with *vs and *vlen set, or -1. */
int conv_json_get(const char *s, size_t len, const char *key, const char **vs, size_t *vlen);
/* conv_json_get that also counts the object's members as written (*nkeys): when that is the
 * parsed object's size, no other member (a duplicate, or the key written with escapes) can have
 * given the parsed value of key, so the span found is exactly the text it was parsed from. */
int conv_json_get_counted(const char *s, size_t len, const char *key, const char **vs,
    size_t *vlen, size_t *nkeys);
/* Elements of a valid JSON array: call cb for each element's span; returns the count or -1. */
long conv_json_array_each(const char *s, size_t len,
    int (*cb)(const char *, size_t, void *), void *arg);

/* UTF-16 code units of valid UTF-8 s. */
size_t conv_utf16_len(const char *s, size_t len);

#endif
