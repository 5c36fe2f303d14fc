/*
 * arena: a bump allocator reset per line (see arena.h).
 */
#include "arena.h"

#include <stdlib.h>
#include <string.h>

/* arena_alloc's slow path: a new block at the head. */
void *
arena_alloc_block(struct arena *a, size_t n)
{
	struct arena_block *b;
	size_t need = (n + 7) & ~(size_t)7, sz = need > 65536 ? need : 65536;

	b = malloc(sizeof(*b) + sz);
	if (b == NULL)
		return NULL;
	b->size = sz;
	b->used = need;
	b->next = a->head;
	a->head = b;
	return b->data;
}

char *
arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

void
arena_reset(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	if (b == NULL)
		return;
	for (next = b->next; next; next = b) {
		b = next->next;
		free(next);
		if (b == NULL)
			break;
	}
	a->head->next = NULL;
	a->head->used = 0;
}

void
arena_free(struct arena *a)
{
	struct arena_block *b = a->head, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	a->head = NULL;
}
