/*
 * arena: enrich's bump allocator for the strings decoded from one line (query-string names and
 * values, decoded parameters), freed all at once when the next line starts.
 */
#ifndef ENRICH_ARENA_H
#define ENRICH_ARENA_H

#include <stddef.h>

/* A bump allocator for decoded strings, reset per line. */
struct arena_block {
	struct arena_block *next;
	size_t used, size;
	char data[];
};

struct arena {
	struct arena_block *head;
};

void *arena_alloc_block(struct arena *a, size_t n);

/* n bytes (8-aligned), or NULL when out of memory. Inline: a few hundred calls per event. */
static inline void *
arena_alloc(struct arena *a, size_t n)
{
	struct arena_block *b = a->head;
	size_t need = (n + 7) & ~(size_t)7;

	if (b == NULL || b->size - b->used < need)
		return arena_alloc_block(a, n);
	b->used += need;
	return b->data + b->used - need;
}
/* A NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Forget everything allocated; keep one block for the next line. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
