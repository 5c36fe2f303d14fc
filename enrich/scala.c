/*
 * scala: Scala 2.12 collection orders (see scala.h). Sources: scala/scala 2.12.x
 * src/library/scala/collection/immutable/{HashMap,Map}.scala (improve, HashTrieMap, Map1..Map4),
 * util/hashing/MurmurHash3.scala (productHash, seed 0xcafebabe).
 */
#include "scala.h"

#include <stdlib.h>
#include <string.h>

int32_t
scala_string_hash(const char *s, size_t len)
{
	uint32_t h = 0;
	size_t i = 0;

	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp;
		size_t l;
		if (c < 0x80) {
			cp = c;
			l = 1;
		} else if (c >= 0xf0 && i + 3 < len) {
			cp = (uint32_t)(c & 7) << 18 | (uint32_t)(s[i + 1] & 0x3f) << 12 |
			    (uint32_t)(s[i + 2] & 0x3f) << 6 | (uint32_t)(s[i + 3] & 0x3f);
			l = 4;
		} else if (c >= 0xe0 && i + 2 < len) {
			cp = (uint32_t)(c & 0xf) << 12 | (uint32_t)(s[i + 1] & 0x3f) << 6 |
			    (uint32_t)(s[i + 2] & 0x3f);
			l = 3;
		} else if (c >= 0xc0 && i + 1 < len) {
			cp = (uint32_t)(c & 0x1f) << 6 | (uint32_t)(s[i + 1] & 0x3f);
			l = 2;
		} else {
			cp = 0xfffd;
			l = 1;
		}
		if (cp >= 0x10000) {        /* a surrogate pair in UTF-16 */
			cp -= 0x10000;
			h = 31 * h + (0xd800 + (cp >> 10));
			h = 31 * h + (0xdc00 + (cp & 0x3ff));
		} else {
			h = 31 * h + cp;
		}
		i += l;
	}
	return (int32_t)h;
}

uint32_t
scala_improve(int32_t hcode)
{
	uint32_t h = (uint32_t)hcode;

	h = h + ~(h << 9);
	h = h ^ (h >> 14);
	h = h + (h << 4);
	return h ^ (h >> 10);
}

int
scala_trie_cmp(uint32_t a, uint32_t b)
{
	int sh;

	/* a HashTrieMap indexes level L by bits 5L..5L+4: the lowest group decides first */
	for (sh = 0; sh < 32; sh += 5) {
		uint32_t x = (a >> sh) & 31, y = (b >> sh) & 31;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

static uint32_t
rotl(uint32_t x, int r)
{
	return x << r | x >> (32 - r);
}

static uint32_t
mm_mix_last(uint32_t h, uint32_t k)
{
	k *= 0xcc9e2d51u;
	k = rotl(k, 15);
	k *= 0x1b873593u;
	return h ^ k;
}

static uint32_t
mm_mix(uint32_t h, uint32_t k)
{
	h = mm_mix_last(h, k);
	h = rotl(h, 13);
	return h * 5 + 0xe6546b64u;
}

static uint32_t
mm_final(uint32_t h, uint32_t len)
{
	h ^= len;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

int32_t
scala_schemakey_hash(const char *vendor, const char *name, const char *format,
    int model, int revision, int addition)
{
	uint32_t ver = 0xcafebabeu, h = 0xcafebabeu;

	ver = mm_mix(ver, (uint32_t)model);
	ver = mm_mix(ver, (uint32_t)revision);
	ver = mm_mix(ver, (uint32_t)addition);
	ver = mm_final(ver, 3);
	h = mm_mix(h, (uint32_t)scala_string_hash(vendor, strlen(vendor)));
	h = mm_mix(h, (uint32_t)scala_string_hash(name, strlen(name)));
	h = mm_mix(h, (uint32_t)scala_string_hash(format, strlen(format)));
	h = mm_mix(h, ver);
	return (int32_t)mm_final(h, 4);
}

int32_t
scala_some_hash(int32_t h)
{
	/* a case class of arity 1: productHash(Some(x)) = finalize(mix(seed, x.##), 1) */
	return (int32_t)mm_final(mm_mix(0xcafebabeu, (uint32_t)h), 1);
}

int32_t
scala_none_hash(void)
{
	return scala_string_hash("None", 4);       /* a case object: its name's hashCode */
}

static const int32_t *sort_hcode;

static int
hash_cmp(const void *pa, const void *pb)
{
	size_t a = *(const size_t *)pa, b = *(const size_t *)pb;
	int c = scala_trie_cmp(scala_improve(sort_hcode[a]), scala_improve(sort_hcode[b]));

	if (c == 0)
		c = a < b ? -1 : a > b;
	return c;
}

void
scala_hash_sort(size_t *idx, size_t n, const int32_t *hcode)
{
	sort_hcode = hcode;
	qsort(idx, n, sizeof(*idx), hash_cmp);
}
