/* Unit tests for common/base64: both encoders and the lenient decoder (tracker-protocol.md §4). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"

static char *
dec(const char *in, size_t *n)
{
	uint8_t *out = malloc(base64_decoded_max(strlen(in)) + 1);
	*n = base64_decode_lenient(in, strlen(in), out);
	out[*n] = 0;
	return (char *)out;
}

START_TEST(encode_rfc4648)
{
	static const char *const v[][2] = { { "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
	    { "foo", "Zm9v" }, { "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" },
	    { "foobar", "Zm9vYmFy" } };
	char out[32];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		size_t n = base64_encode((const uint8_t *)v[i][0], strlen(v[i][0]), out);
		ck_assert_str_eq(out, v[i][1]);
		ck_assert_uint_eq(n, base64_encoded_len(strlen(v[i][0])));
	}
}
END_TEST

START_TEST(encode_url_unpadded)
{
	const uint8_t in[] = { 0xfb, 0xff, 0xfe, 0x3e };
	char out[16];

	base64url_encode(in, 4, out);
	ck_assert_str_eq(out, "-__-Pg");
	base64_encode(in, 4, out);
	ck_assert_str_eq(out, "+//+Pg==");
}
END_TEST

START_TEST(decode_lenient_variants)
{
	size_t n;
	char *s;

	s = dec("Zm9vYmFy", &n); ck_assert_str_eq(s, "foobar"); free(s);
	s = dec("Zm9vYg==", &n); ck_assert_str_eq(s, "foob"); free(s);
	s = dec("Zm9vYg", &n); ck_assert_str_eq(s, "foob"); free(s);        /* unpadded */
	s = dec("Zm 9v\nYg", &n); ck_assert_str_eq(s, "foob"); free(s);     /* junk skipped */
	s = dec("Zm8=Zm8=", &n); ck_assert_str_eq(s, "fo"); free(s);        /* first '=' ends */
	s = dec("-__-Pg", &n); ck_assert_uint_eq(n, 4);
	ck_assert_int_eq((unsigned char)s[0], 0xfb); free(s);
	s = dec("+//+Pg==", &n); ck_assert_uint_eq(n, 4);
	ck_assert_int_eq((unsigned char)s[3], 0x3e); free(s);
	s = dec("Z", &n); ck_assert_uint_eq(n, 0); free(s);                 /* left-over bits */
	s = dec("!!!", &n); ck_assert_uint_eq(n, 0); free(s);
}
END_TEST

START_TEST(roundtrip_all_lengths)
{
	uint8_t in[300] = { 0 }, back[400];
	char enc[500];
	size_t len, n;

	for (len = 0; len < sizeof(in); len++) {
		for (n = 0; n < len; n++)
			in[n] = (uint8_t)(n * 37 + len);
		base64_encode(in, len, enc);
		n = base64_decode_lenient(enc, strlen(enc), back);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(in, back, len) == 0);
		/* one alphabet each (the decoder takes both): the 6-bytes-a-step encoder's pair
		 * tables must not mix them */
		ck_assert_uint_eq(strlen(enc), base64_encoded_len(len));
		ck_assert(strpbrk(enc, "-_") == NULL);
		base64url_encode(in, len, enc);
		ck_assert(strpbrk(enc, "+/=") == NULL);
		ck_assert_uint_eq(strlen(enc), (len * 4 + 2) / 3);
		n = base64_decode_lenient(enc, strlen(enc), back);
		ck_assert_uint_eq(n, len);
		ck_assert(memcmp(in, back, len) == 0);
	}
}
END_TEST

/* The per-character definition of the lenient decoder, to check the table-driven fast path. */
static size_t
ref_decode(const char *in, size_t n, uint8_t *out)
{
	static const char alpha[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	uint32_t acc = 0;
	size_t i, o = 0;
	int bits = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		const char *q;
		uint32_t v;
		if (c == '=')
			break;
		if (c == '+' || c == '-')
			v = 62;
		else if (c == '/' || c == '_')
			v = 63;
		else if (c != 0 && (q = strchr(alpha, c)) != NULL)
			v = (uint32_t)(q - alpha);
		else
			continue;
		acc = (acc << 6) | v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return o;
}

START_TEST(decode_matches_reference)
{
	/* mostly alphabet characters, some junk (whitespace, '%', high and NUL bytes), rare '=' */
	static const char pool[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 \n%\x80\xff";
	char in[64];
	uint8_t a[64], b[64];
	uint32_t seed = 12345;
	size_t len, i, na, nb;
	int round;

	for (round = 0; round < 200000; round++) {
		len = (size_t)round % 40;
		for (i = 0; i < len; i++) {
			seed = seed * 1103515245u + 12345u;
			in[i] = (seed >> 16) % 997 == 0 ? '=' : (seed >> 16) % 211 == 0 ? '\0' :
			    pool[(seed >> 16) % (sizeof(pool) - 1)];
		}
		na = base64_decode_lenient(in, len, a);
		nb = ref_decode(in, len, b);
		ck_assert_uint_eq(na, nb);
		ck_assert(memcmp(a, b, na) == 0);
	}
	/* junk at every offset of an otherwise aligned text */
	for (i = 0; i <= 12; i++) {
		char t[16] = "Zm9vYmFyYmF6";
		memmove(t + i + 1, t + i, 12 - i);
		t[i] = '.';
		na = base64_decode_lenient(t, 13, a);
		ck_assert_uint_eq(na, 9);
		ck_assert(memcmp(a, "foobarbaz", 9) == 0);
	}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, encode_rfc4648);
	tcase_add_test(tc, encode_url_unpadded);
	tcase_add_test(tc, decode_lenient_variants);
	tcase_add_test(tc, decode_matches_reference);
	tcase_add_test(tc, roundtrip_all_lengths);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
