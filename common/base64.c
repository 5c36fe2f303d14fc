/*
 * base64: padded standard encoding, unpadded URL-safe encoding, and the lenient
 * both-alphabet decoder that Snowplow's readers use (see base64.h).
 */
#include "base64.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 0..63 for an alphabet character of either alphabet, 64 for '=', 255 for anything else. */
static inline uint8_t
b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return (uint8_t)(c - 'A');
	if (c >= 'a' && c <= 'z')
		return (uint8_t)(c - 'a' + 26);
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0' + 52);
	switch (c) {
	case '+': case '-': return 62;
	case '/': case '_': return 63;
	case '=': return 64;
	default: return 255;
	}
}

size_t
base64_encoded_len(size_t n)
{
	return (n + 2) / 3 * 4;
}

static size_t
b64_encode_with(const char *alpha, int pad, const uint8_t *in, size_t n, char *out)
{
	size_t i, o = 0;

	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		out[o++] = alpha[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		if (pad) {
			out[o++] = '=';
			out[o++] = '=';
		}
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
		out[o++] = alpha[v >> 18];
		out[o++] = alpha[(v >> 12) & 63];
		out[o++] = alpha[(v >> 6) & 63];
		if (pad)
			out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

size_t
base64_encode(const uint8_t *in, size_t n, char *out)
{
	return b64_encode_with(b64_std, 1, in, n, out);
}

size_t
base64url_encode(const uint8_t *in, size_t n, char *out)
{
	return b64_encode_with(b64_url, 0, in, n, out);
}

size_t
base64_decoded_max(size_t n)
{
	return n / 4 * 3 + 3;
}

size_t
base64_decode_lenient(const char *in, size_t n, uint8_t *out)
{
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		uint8_t v = b64_value((uint8_t)in[i]);
		if (v == 64)
			break;          /* the first '=' ends decoding */
		if (v == 255)
			continue;       /* not in either alphabet: skipped */
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* left-over bits (fewer than 8) are dropped */
	return o;
}
