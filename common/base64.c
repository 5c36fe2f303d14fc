/*
 * base64: padded standard encoding, unpadded URL-safe encoding, and the lenient
 * both-alphabet decoder that Snowplow's readers use (see base64.h).
 */
#include "base64.h"

#include <string.h>

static const char b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/*
 * Encoding tables of character pairs: entry v (0..4095, 12 bits of input) is the two characters
 * of v >> 6 and v & 63, so the encoder turns 6 input bytes into 8 characters with 4 lookups.
 * String literals of 8,192 characters, spelt out at compile time by the two macros below.
 */
#define B64_ROW(c, p, s) c "A" c "B" c "C" c "D" c "E" c "F" c "G" c "H" c "I" c "J" c "K" \
	c "L" c "M" c "N" c "O" c "P" c "Q" c "R" c "S" c "T" c "U" c "V" c "W" c "X" c "Y" c "Z" \
	c "a" c "b" c "c" c "d" c "e" c "f" c "g" c "h" c "i" c "j" c "k" c "l" c "m" c "n" c "o" \
	c "p" c "q" c "r" c "s" c "t" c "u" c "v" c "w" c "x" c "y" c "z" c "0" c "1" c "2" c "3" \
	c "4" c "5" c "6" c "7" c "8" c "9" c p c s
#define B64_PAIRS(p, s) B64_ROW("A", p, s) B64_ROW("B", p, s) B64_ROW("C", p, s) \
	B64_ROW("D", p, s) B64_ROW("E", p, s) B64_ROW("F", p, s) B64_ROW("G", p, s) \
	B64_ROW("H", p, s) B64_ROW("I", p, s) B64_ROW("J", p, s) B64_ROW("K", p, s) \
	B64_ROW("L", p, s) B64_ROW("M", p, s) B64_ROW("N", p, s) B64_ROW("O", p, s) \
	B64_ROW("P", p, s) B64_ROW("Q", p, s) B64_ROW("R", p, s) B64_ROW("S", p, s) \
	B64_ROW("T", p, s) B64_ROW("U", p, s) B64_ROW("V", p, s) B64_ROW("W", p, s) \
	B64_ROW("X", p, s) B64_ROW("Y", p, s) B64_ROW("Z", p, s) B64_ROW("a", p, s) \
	B64_ROW("b", p, s) B64_ROW("c", p, s) B64_ROW("d", p, s) B64_ROW("e", p, s) \
	B64_ROW("f", p, s) B64_ROW("g", p, s) B64_ROW("h", p, s) B64_ROW("i", p, s) \
	B64_ROW("j", p, s) B64_ROW("k", p, s) B64_ROW("l", p, s) B64_ROW("m", p, s) \
	B64_ROW("n", p, s) B64_ROW("o", p, s) B64_ROW("p", p, s) B64_ROW("q", p, s) \
	B64_ROW("r", p, s) B64_ROW("s", p, s) B64_ROW("t", p, s) B64_ROW("u", p, s) \
	B64_ROW("v", p, s) B64_ROW("w", p, s) B64_ROW("x", p, s) B64_ROW("y", p, s) \
	B64_ROW("z", p, s) B64_ROW("0", p, s) B64_ROW("1", p, s) B64_ROW("2", p, s) \
	B64_ROW("3", p, s) B64_ROW("4", p, s) B64_ROW("5", p, s) B64_ROW("6", p, s) \
	B64_ROW("7", p, s) B64_ROW("8", p, s) B64_ROW("9", p, s) B64_ROW(p, p, s) B64_ROW(s, p, s)
static const char b64_std_pairs[] = B64_PAIRS("+", "/");
static const char b64_url_pairs[] = B64_PAIRS("-", "_");

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

/* w, read from memory as it is, as the big-endian number its bytes spell */
static inline uint64_t
load_be64(uint64_t w)
{
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return __builtin_bswap64(w);
#elif defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	return w;
#else
	unsigned char b[8];
	uint64_t v = 0;
	int k;

	memcpy(b, &w, 8);
	for (k = 0; k < 8; k++)
		v = v << 8 | b[k];
	return v;
#endif
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define B64_SSSE3 1

/*
 * 12 bytes a step into 16 characters with SSSE3 (W. Mula and D. Lemire, "Faster Base64 Encoding
 * and Decoding Using AVX2 Instructions", 2018): a byte shuffle puts each 3-byte group into a
 * 32-bit lane, two multiplies move its four 6-bit fields into bytes, and a 16-entry shuffle
 * table adds the offset of each field's range of the alphabet ('A', 'a' - 26, '0' - 52, and the
 * two last characters). Reads 16 bytes per step; returns the bytes consumed (a multiple of 12).
 */
__attribute__((target("ssse3"))) static size_t
b64_encode_ssse3(int url, const uint8_t *in, size_t n, char *out)
{
	const __m128i shuf = _mm_set_epi8(10, 11, 9, 10, 7, 8, 6, 7, 4, 5, 3, 4, 1, 2, 0, 1);
	const __m128i lut = _mm_setr_epi8('a' - 26, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	    '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52, '0' - 52,
	    url ? '-' - 62 : '+' - 62, url ? '_' - 63 : '/' - 63, 'A', 0, 0);
	size_t i = 0, o = 0;

	for (; i + 16 <= n; i += 12, o += 16) {
		__m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(const void *)(in + i)),
		    shuf);
		__m128i hi = _mm_mulhi_epu16(_mm_and_si128(v, _mm_set1_epi32(0x0fc0fc00)),
		    _mm_set1_epi32(0x04000040));
		__m128i lo = _mm_mullo_epi16(_mm_and_si128(v, _mm_set1_epi32(0x003f03f0)),
		    _mm_set1_epi32(0x01000010));
		__m128i idx = _mm_or_si128(hi, lo);           /* 16 values 0..63 */
		/* which range: 51..63 -> 1..12 ('0'-'9', the two last), 26..51 -> 0, 0..25 -> 13 */
		__m128i r = _mm_subs_epu8(idx, _mm_set1_epi8(51));

		r = _mm_or_si128(r, _mm_and_si128(_mm_cmpgt_epi8(_mm_set1_epi8(26), idx),
		    _mm_set1_epi8(13)));
		r = _mm_add_epi8(_mm_shuffle_epi8(lut, r), idx);
		_mm_storeu_si128((__m128i *)(void *)(out + o), r);
	}
	return i;
}
#endif

static size_t
b64_encode_with(const char *alpha, const char *pairs, int pad, const uint8_t *in, size_t n,
    char *out)
{
	size_t i = 0, o = 0;

#ifdef B64_SSSE3
	if (n >= 16 && __builtin_cpu_supports("ssse3")) {
		i = b64_encode_ssse3(alpha == b64_url, in, n, out);
		o = i / 3 * 4;
	}
#endif

	/* 6 bytes a step: one 8-byte load (its last 2 bytes unused) as a big-endian word, and one
	 * 8-byte store (locals, so that writing out cannot alias the next reads) */
	for (; i + 8 <= n; i += 6, o += 8) {
		uint64_t v;
		char q[8];

		memcpy(&v, in + i, 8);
		v = load_be64(v);
		memcpy(q, pairs + 2 * (v >> 52), 2);
		memcpy(q + 2, pairs + 2 * ((v >> 40) & 0xfff), 2);
		memcpy(q + 4, pairs + 2 * ((v >> 28) & 0xfff), 2);
		memcpy(q + 6, pairs + 2 * ((v >> 16) & 0xfff), 2);
		memcpy(out + o, q, 8);
	}
	for (; i + 3 <= n; i += 3) {
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
	return b64_encode_with(b64_std, b64_std_pairs, 1, in, n, out);
}

size_t
base64url_encode(const uint8_t *in, size_t n, char *out)
{
	return b64_encode_with(b64_url, b64_url_pairs, 0, in, n, out);
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
