/*
 * adapt_scala: Scala 2.12 collection orders (see adapt_scala.h). Sources: scala/scala 2.12.x
 * src/library/scala/collection/immutable/{HashMap,Map}.scala (improve, HashTrieMap, Map1..Map4),
 * util/hashing/MurmurHash3.scala (productHash, seed 0xcafebabe).
 */
#include "adapt_scala.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"

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

/* ---- smap ---- */

void
smap_init(struct smap *m)
{
	memset(m, 0, sizeof(*m));
}

void
smap_free(struct smap *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->e[i].k);
		free(m->e[i].v);
	}
	free(m->e);
	free(m->slot);
	smap_init(m);
}

static char *
dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

/* A form with 100,000 fields must stay linear: past SMAP_INDEX_MIN entries names are found
 * through an open-addressing index (rebuilt after a delete or when it fills up). */
static int
smap_index(struct smap *m)
{
	size_t i, k, ns = 64;

	while (ns < 4 * m->n)
		ns *= 2;
	free(m->slot);
	m->nslot = 0;
	if ((m->slot = calloc(ns, sizeof(*m->slot))) == NULL)
		return -1;
	m->nslot = ns;
	for (i = 0; i < m->n; i++) {
		for (k = (size_t)fnv_bytes(FNV_OFFSET, m->e[i].k, m->e[i].klen) & (ns - 1);
		    m->slot[k]; k = (k + 1) & (ns - 1))
			;
		m->slot[k] = i + 1;
	}
	return 0;
}

static long
smap_find(const struct smap *cm, const char *k, size_t klen)
{
	struct smap *m = (struct smap *)cm;       /* the index is a cache */
	size_t i;

	if (m->n >= SMAP_INDEX_MIN && (m->nslot >= 2 * m->n || smap_index(m) == 0)) {
		for (i = (size_t)fnv_bytes(FNV_OFFSET, k, klen) & (m->nslot - 1); m->slot[i];
		    i = (i + 1) & (m->nslot - 1)) {
			const struct smap_ent *en = &m->e[m->slot[i] - 1];
			if (en->klen == klen && memcmp(en->k, k, klen) == 0)
				return (long)(m->slot[i] - 1);
		}
		return -1;
	}
	for (i = 0; i < m->n; i++)
		if (m->e[i].klen == klen && memcmp(m->e[i].k, k, klen) == 0)
			return (long)i;
	return -1;
}

int
smap_putn(struct smap *m, const char *k, size_t klen, const char *v, size_t vlen)
{
	long at = smap_find(m, k, klen);
	char *nv = NULL;

	if (v && (nv = dupn(v, vlen)) == NULL)
		return -1;
	if (at >= 0) {
		free(m->e[at].v);
		m->e[at].v = nv;
		return 0;
	}
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 8;
		struct smap_ent *ne = realloc(m->e, nc * sizeof(*ne));
		if (ne == NULL) {
			free(nv);
			return -1;
		}
		m->e = ne;
		m->cap = nc;
	}
	if ((m->e[m->n].k = dupn(k, klen)) == NULL) {
		free(nv);
		return -1;
	}
	m->e[m->n].klen = klen;
	m->e[m->n].v = nv;
	m->n++;
	if (m->nslot >= 2 * m->n) {               /* keep the index current */
		size_t i;
		for (i = (size_t)fnv_bytes(FNV_OFFSET, k, klen) & (m->nslot - 1); m->slot[i];
		    i = (i + 1) & (m->nslot - 1))
			;
		m->slot[i] = m->n;
	} else {
		m->nslot = 0;
	}
	if (m->n >= 5)
		m->hashed = 1;
	return 0;
}

int
smap_put(struct smap *m, const char *k, const char *v)
{
	return smap_putn(m, k, strlen(k), v, v ? strlen(v) : 0);
}

struct smap_ent *
smap_get(const struct smap *m, const char *k)
{
	long at = smap_find(m, k, strlen(k));

	return at < 0 ? NULL : &m->e[at];
}

void
smap_del(struct smap *m, const char *k)
{
	long at = smap_find(m, k, strlen(k));

	if (at < 0)
		return;
	free(m->e[at].k);
	free(m->e[at].v);
	memmove(m->e + at, m->e + at + 1, (m->n - (size_t)at - 1) * sizeof(*m->e));
	m->n--;
	m->nslot = 0;
}

size_t *
smap_order(const struct smap *m)
{
	size_t *ix = malloc((m->n ? m->n : 1) * sizeof(*ix)), i;
	int32_t *hc;

	if (ix == NULL)
		return NULL;
	for (i = 0; i < m->n; i++)
		ix[i] = i;
	if (!m->hashed || m->n < 2)
		return ix;
	if ((hc = malloc(m->n * sizeof(*hc))) == NULL) {
		free(ix);
		return NULL;
	}
	for (i = 0; i < m->n; i++)
		hc[i] = scala_string_hash(m->e[i].k, m->e[i].klen);
	scala_hash_sort(ix, m->n, hc);
	free(hc);
	return ix;
}

int
smap_add_all(struct smap *dst, const struct smap *src,
    int (*keep)(const struct smap_ent *, void *), void *arg)
{
	size_t *ix = smap_order(src), i;
	int rc = 0;

	if (ix == NULL)
		return -1;
	for (i = 0; i < src->n && rc == 0; i++) {
		const struct smap_ent *en = &src->e[ix[i]];
		if (keep && !keep(en, arg))
			continue;
		rc = smap_putn(dst, en->k, en->klen, en->v, en->v ? strlen(en->v) : 0);
	}
	free(ix);
	return rc;
}
