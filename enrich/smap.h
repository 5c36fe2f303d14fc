/*
 * smap: one Scala 2.12 immutable Map of strings (scala.h): entries in insertion order (an update
 * keeps the position), plus whether it has ever held five entries (a HashMap stays a HashMap
 * when entries are removed), so that iterating it gives the order upstream's adapters print.
 */
#ifndef FURROW_ENRICH_SMAP_H
#define FURROW_ENRICH_SMAP_H

#include <stddef.h>

struct smap_ent {
	char *k, *v;           /* owned; v NULL = None */
	size_t klen;
};

struct smap {
	struct smap_ent *e;
	size_t n, cap;
	int hashed;            /* reached five entries: iterate in hash order */
	size_t *slot;          /* past SMAP_INDEX_MIN entries: an index (entry + 1, 0 = empty) */
	size_t nslot;          /* a power of two, or 0 when the index must be rebuilt */
};

#define SMAP_INDEX_MIN 16

void smap_init(struct smap *m);
void smap_free(struct smap *m);
/* Insert or update (an update keeps the position), copying k and v. 0 or -1. */
int smap_put(struct smap *m, const char *k, const char *v);
int smap_putn(struct smap *m, const char *k, size_t klen, const char *v, size_t vlen);
/* The entry for k, or NULL. */
struct smap_ent *smap_get(const struct smap *m, const char *k);
void smap_del(struct smap *m, const char *k);
/* The iteration order: a new array of n indices into m->e (free it), NULL on failure. For an
 * empty map a non-NULL pointer may still be returned. */
size_t *smap_order(const struct smap *m);
/* A copy built the way Scala's `map ++ other` and `collect` build one: entries of src inserted
 * in src's iteration order into dst. keep (may be NULL) filters entries. 0 or -1. */
int smap_add_all(struct smap *dst, const struct smap *src,
    int (*keep)(const struct smap_ent *, void *), void *arg);

#endif
