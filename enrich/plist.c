/*
 * plist: parameters in arrival order, found by name through a hash past PLIST_HASH_MIN entries
 * (see plist.h).
 */
#include "plist.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"

void
plist_reset(struct plist *l)
{
	l->n = 0;
	l->hashed = 0;
	if (++l->gen == 0) {       /* wrapped: old stamps could look current */
		if (l->slot)
			memset(l->slot, 0, l->nslot * sizeof(*l->slot));
		l->gen = 1;
	}
}

/* Bring the table up to date with entries [hashed, n); -1 when it cannot grow. */
static int
plist_index(struct plist *l)
{
	size_t i, k;

	if (l->slot == NULL || l->nslot < 2 * l->n) {
		size_t ns = l->nslot ? l->nslot : 64;
		struct plist_slot *t;

		while (ns < 4 * l->n)
			ns *= 2;
		if (l->n > UINT32_MAX || (t = calloc(ns, sizeof(*t))) == NULL)
			return -1;
		free(l->slot);
		l->slot = t;
		l->nslot = ns;
		l->gen = 1;
		l->hashed = 0;
	}
	for (i = l->hashed; i < l->n; i++) {
		for (k = (size_t)l->h[i] & (l->nslot - 1); l->slot[k].gen == l->gen;
		    k = (k + 1) & (l->nslot - 1))
			if (strcmp(l->p[l->slot[k].idx].name, l->p[i].name) == 0)
				break;             /* keep the first occurrence */
		if (l->slot[k].gen != l->gen) {
			l->slot[k].gen = l->gen;
			l->slot[k].idx = (uint32_t)i;
		}
	}
	l->hashed = l->n;
	return 0;
}

static long
find_hashed(struct plist *l, const char *name, uint32_t h)
{
	size_t i, k;

	if (l->n < PLIST_HASH_MIN || plist_index(l) == -1) {
		for (i = 0; i < l->n; i++)
			if (l->h[i] == h && strcmp(l->p[i].name, name) == 0)
				return (long)i;
		return -1;
	}
	for (k = (size_t)h & (l->nslot - 1); l->slot[k].gen == l->gen;
	    k = (k + 1) & (l->nslot - 1))
		if (l->h[l->slot[k].idx] == h && strcmp(l->p[l->slot[k].idx].name, name) == 0)
			return (long)l->slot[k].idx;
	return -1;
}

long
plist_find(struct plist *l, const char *name)
{
	return find_hashed(l, name, (uint32_t)fnv_str(name));
}

int
plist_put(struct plist *l, char *name, char *value, int dedup)
{
	uint32_t h = (uint32_t)fnv_str(name);
	long at;

	if (dedup && (at = find_hashed(l, name, h)) >= 0) {
		l->p[at].value = value;
		return 0;
	}
	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 64;
		struct raw_param *np = realloc(l->p, nc * sizeof(*np));
		uint32_t *nh;
		if (np == NULL)
			return -1;
		l->p = np;
		if ((nh = realloc(l->h, nc * sizeof(*nh))) == NULL)
			return -1;
		l->h = nh;
		l->cap = nc;
	}
	l->p[l->n].name = name;
	l->p[l->n].value = value;
	l->h[l->n] = h;
	l->n++;
	return 0;
}

void
plist_free(struct plist *l)
{
	free(l->p);
	free(l->h);
	free(l->slot);
}
