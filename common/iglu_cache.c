/*
 * iglu_cache: the resolver's cache of lookups (see iglu_impl.h): a hash table of entries keyed by
 * "vendor/name/format/M-R-A" with an LRU list that evicts beyond cacheSize, and the retired list
 * of compiled schemas.
 *
 * Lifetime of compiled schemas: a pointer returned by iglu_resolver_lookup stays valid while its
 * entry is cached; an evicted or replaced schema is kept on a retired list that is only freed
 * at a later top-level call, once it holds more than IGLU_RETIRED_MAX entries, so a caller may
 * safely hold a few pointers across lookups, and `$ref`s resolved during a validation never
 * dangle.
 */
#include "iglu_impl.h"

#include <stdlib.h>
#include <string.h>

#include "fnv.h"

void
iglu_cache_retire(struct iglu_resolver *r, struct jsonschema *s)
{
	struct iglu_retired *t;

	if (s == NULL)
		return;
	r->schema_gen++;   /* remembered validations against s are void (iglu_vcache.c) */
	t = malloc(sizeof(*t));
	if (t == NULL)
		return;   /* leak rather than free something a caller may still hold */
	t->compiled = s;
	t->next = r->retired;
	r->retired = t;
	r->n_retired++;
}

void
iglu_cache_collect(struct iglu_resolver *r, int all)
{
	struct iglu_retired *t, *next;

	if (!all && (r->depth > 0 || r->n_retired <= IGLU_RETIRED_MAX))
		return;
	for (t = r->retired; t != NULL; t = next) {
		next = t->next;
		jsonschema_free(t->compiled);
		free(t);
	}
	r->retired = NULL;
	r->n_retired = 0;
}

void
iglu_cache_states_free(struct iglu_resolver *r, struct iglu_repo_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < r->n_repos; i++)
		json_decref(st[i].errors);
	free(st);
}

static void
lru_unlink(struct iglu_resolver *r, struct iglu_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		r->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		r->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct iglu_resolver *r, struct iglu_entry *e)
{
	e->prev = NULL;
	e->next = r->lru_head;
	if (r->lru_head)
		r->lru_head->prev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

void
iglu_cache_touch(struct iglu_resolver *r, struct iglu_entry *e)
{
	lru_unlink(r, e);
	lru_push(r, e);
}

struct iglu_entry *
iglu_cache_find(struct iglu_resolver *r, const char *key)
{
	struct iglu_entry *e;

	for (e = r->buckets[(size_t)fnv_str(key) % r->n_buckets]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Drop the entry's content (schema, failure history), keeping key and links. */
void
iglu_cache_entry_clear(struct iglu_resolver *r, struct iglu_entry *e)
{
	iglu_cache_retire(r, e->compiled);
	e->compiled = NULL;
	json_decref(e->schema);
	e->schema = NULL;
	json_decref(e->issues);
	e->issues = NULL;
	iglu_cache_states_free(r, e->states);
	e->states = NULL;
	e->found = 0;
}

void
iglu_cache_remove(struct iglu_resolver *r, struct iglu_entry *e)
{
	struct iglu_entry **pp = &r->buckets[(size_t)fnv_str(e->key) % r->n_buckets];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(r, e);
	iglu_cache_entry_clear(r, e);
	free(e->key);
	free(e);
	r->n_entries--;
}

struct iglu_entry *
iglu_cache_add(struct iglu_resolver *r, const char *key)
{
	struct iglu_entry *e = calloc(1, sizeof(*e));
	size_t b;

	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	while (r->n_entries >= r->cache_size && r->lru_tail != NULL)
		iglu_cache_remove(r, r->lru_tail);
	b = (size_t)fnv_str(key) % r->n_buckets;
	e->hnext = r->buckets[b];
	r->buckets[b] = e;
	lru_push(r, e);
	r->n_entries++;
	return e;
}

void
iglu_cache_clear(struct iglu_resolver *r)
{
	while (r->lru_head != NULL)
		iglu_cache_remove(r, r->lru_head);
}

static char *
put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

static char *
put_int(char *o, int v)
{
	char tmp[12];
	int n = 0;

	if (v < 0)
		v = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

/* The cache key "vendor/name/format/M-R-A" (no snprintf: this runs for every entity). */
void
iglu_cache_key(const struct iglu_key *k, char *out)
{
	char *o = out;

	o = put_str(o, k->vendor);
	*o++ = '/';
	o = put_str(o, k->name);
	*o++ = '/';
	o = put_str(o, k->format);
	*o++ = '/';
	o = put_int(o, k->model);
	*o++ = '-';
	o = put_int(o, k->revision);
	*o++ = '-';
	o = put_int(o, k->addition);
	*o = 0;
}
