/*
 * plist: enrich's list of raw parameters (name, value or NULL), in arrival order: the query
 * string of a payload, and the parameters of one event. Deduplicating puts replace the
 * value of the first entry with the same name. Past PLIST_HASH_MIN entries, names are found
 * through a hash of first occurrences (linear probing, slots stamped with a generation so that
 * a reset costs nothing), so a query string with 80,000 parameters is linear, not quadratic.
 */
#ifndef ENRICH_PLIST_H
#define ENRICH_PLIST_H

#include <stddef.h>
#include <stdint.h>

#include "enrich_event.h"

#define PLIST_HASH_MIN 16

struct plist_slot {
	uint32_t gen;
	uint32_t idx;
};

struct plist {
	struct raw_param *p;
	uint32_t *h;               /* the names' hashes (FNV-1a, low 32 bits), as p */
	size_t n, cap;
	struct plist_slot *slot;   /* nslot (a power of two) slots, or NULL */
	size_t nslot, hashed;      /* entries [0, hashed) are in the table */
	uint32_t gen;              /* a slot is in use when its gen equals this */
};

void plist_reset(struct plist *l);
/* The first entry named name, or -1. */
long plist_find(struct plist *l, const char *name);
/* Append name=value (value may be NULL); with dedup, replace the value of the first entry of
 * that name instead. 0, or -1 when out of memory. */
int plist_put(struct plist *l, char *name, char *value, int dedup);
void plist_free(struct plist *l);

#endif
