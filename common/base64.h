/*
 * base64: the encodings on furrow's wire (enriched-event.md §1, tracker-protocol.md §4).
 *
 * - Raw-stream lines are standard-alphabet base64 with padding (base64_encode).
 * - Readers are lenient, like Apache commons-codec which upstream enrich used: both alphabets
 *   ('+' or '-' = 62, '/' or '_' = 63), padding optional, the first '=' ends the data, any other
 *   character is skipped, and left-over bits at the end are dropped (base64_decode_lenient).
 * - base64url_encode writes the URL-safe alphabet without padding, as trackers and enrich do for
 *   cx / ue_px.
 */
#ifndef FURROW_BASE64_H
#define FURROW_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Bytes needed for the padded encoding of n bytes, not counting a NUL. */
size_t base64_encoded_len(size_t n);
/* Standard alphabet, padded. Writes base64_encoded_len(n) chars plus a NUL; returns the length. */
size_t base64_encode(const uint8_t *in, size_t n, char *out);
/* URL-safe alphabet, no padding. out needs base64_encoded_len(n) + 1 bytes. Returns the length. */
size_t base64url_encode(const uint8_t *in, size_t n, char *out);
/* Upper bound of decoded bytes for n input characters. */
size_t base64_decoded_max(size_t n);
/* Lenient decode as described above; never fails. out needs base64_decoded_max(n) bytes.
 * Returns the number of bytes written. */
size_t base64_decode_lenient(const char *in, size_t n, uint8_t *out);

#endif
