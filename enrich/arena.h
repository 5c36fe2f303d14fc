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

/* n bytes (8-aligned), or NULL when out of memory. */
void *arena_alloc(struct arena *a, size_t n);
/* A NUL-terminated copy of s[0..n), or NULL. */
char *arena_strndup(struct arena *a, const char *s, size_t n);
/* Forget everything allocated; keep one block for the next line. */
void arena_reset(struct arena *a);
void arena_free(struct arena *a);

#endif
