/*
 * base64: padded standard encoding, unpadded URL-safe encoding, and the lenient
 * both-alphabet decoder that Snowplow's readers use (see base64.h).
 */
#include "base64.h"

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Decoding table: 1 + the 6-bit value (1..64) for a character of either alphabet ('+' and '-'
 * are 62, '/' and '_' are 63), 65 for '=', 0 for anything else. Written out in full rather than
 * with range initialisers so -Woverride-init has nothing to say.
 */
static const uint8_t b64_dec[256] = {
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0, 63,  0, 63,  0, 64,
	53, 54, 55, 56, 57, 58, 59, 60, 61, 62,  0,  0,  0, 65,  0,  0,
	 0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14, 15,
	16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,  0,  0,  0,  0, 64,
	 0, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41,
	42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
};

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
	const uint8_t *p = (const uint8_t *)in;
	uint32_t acc = 0;
	size_t i = 0, o = 0;
	int bits = 0;

	while (i < n) {
		uint8_t t;
		/*
		 * Fast path: at a byte boundary (no pending bits) with four alphabet characters
		 * ahead, decode them to three bytes at once. (uint8_t)(t - 1) maps 1..64 to the
		 * value 0..63 and both 0 (skipped) and 65 ('=') to 64 or more, so one OR tells
		 * whether all four are plain alphabet characters.
		 */
		if (bits == 0) {
			while (i + 4 <= n) {
				uint8_t a = (uint8_t)(b64_dec[p[i]] - 1), b = (uint8_t)(b64_dec[p[i + 1]] - 1);
				uint8_t c = (uint8_t)(b64_dec[p[i + 2]] - 1), d = (uint8_t)(b64_dec[p[i + 3]] - 1);
				uint32_t v;
				if ((a | b | c | d) >= 64)
					break;
				v = (uint32_t)a << 18 | (uint32_t)b << 12 | (uint32_t)c << 6 | d;
				out[o] = (uint8_t)(v >> 16);
				out[o + 1] = (uint8_t)(v >> 8);
				out[o + 2] = (uint8_t)v;
				o += 3;
				i += 4;
			}
			if (i >= n)
				break;
		}
		t = b64_dec[p[i++]];
		if (t == 65)
			break;          /* the first '=' ends decoding */
		if (t == 0)
			continue;       /* not in either alphabet: skipped */
		acc = (acc << 6) | (uint32_t)(t - 1);
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
