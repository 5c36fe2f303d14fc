/*
 * smap: a Scala 2.12 immutable Map of strings as the webhook adapters build and iterate one (see
 * smap.h). Updates keep an entry's position; past SMAP_INDEX_MIN entries an FNV-1a index finds
 * names, so that a form of 100,000 fields stays linear.
 */
#include "smap.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"
#include "scala.h"

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
