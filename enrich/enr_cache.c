/*
 * enr_cache: the lookup cache of the API request and SQL query enrichments, upstream's
 * CachingEvaluator: an LRU map of at most `size` keys (0: nothing is kept), each holding the
 * outcome of one lookup and the second it was stored. A success is fresh for ttl seconds, an
 * error for ttl / 10; an entry is stale once more than that has passed. When a fresh lookup
 * fails, the last success stored under the key (if any) is the answer instead of the error, and
 * stays the answer until a lookup succeeds again.
 */
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "fnv.h"
#include "timefmt.h"

struct cache_ent {
	char   *key;
	json_t *value;          /* the last success, or NULL */
	char   *error;          /* the last outcome was this error (value: the one before), or NULL */
	int64_t stored_s;
	struct cache_ent *prev, *next;   /* LRU list, most recent first */
	struct cache_ent *chain;         /* hash bucket */
};

struct enr_cache {
	size_t            size;
	long              ttl_s;
	size_t            n, nbucket;
	struct cache_ent **bucket;
	struct cache_ent *head, *tail;
	char             *last_error;    /* what enr_cache_put answered when nothing is kept */
};

struct enr_cache *
enr_cache_new(long size, long ttl_s)
{
	struct enr_cache *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->size = size > 0 ? (size_t)size : 0;
	c->ttl_s = ttl_s > 0 ? ttl_s : 0;
	c->nbucket = 64;
	while (c->nbucket < c->size && c->nbucket < ((size_t)1 << 24))
		c->nbucket *= 2;
	if ((c->bucket = calloc(c->nbucket, sizeof(*c->bucket))) == NULL) {
		free(c);
		return NULL;
	}
	return c;
}

static void
ent_free(struct cache_ent *e)
{
	free(e->key);
	json_decref(e->value);
	free(e->error);
	free(e);
}

void
enr_cache_free(struct enr_cache *c)
{
	struct cache_ent *e, *next;

	if (c == NULL)
		return;
	for (e = c->head; e; e = next) {
		next = e->next;
		ent_free(e);
	}
	free(c->bucket);
	free(c->last_error);
	free(c);
}

static struct cache_ent **
slot(struct enr_cache *c, const char *key)
{
	struct cache_ent **p = &c->bucket[fnv_str(key) & (c->nbucket - 1)];

	while (*p && strcmp((*p)->key, key) != 0)
		p = &(*p)->chain;
	return p;
}

static void
unlink_lru(struct enr_cache *c, struct cache_ent *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		c->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		c->tail = e->prev;
	e->prev = e->next = NULL;
}

static void
push_front(struct enr_cache *c, struct cache_ent *e)
{
	e->next = c->head;
	e->prev = NULL;
	if (c->head)
		c->head->prev = e;
	c->head = e;
	if (c->tail == NULL)
		c->tail = e;
}

int
enr_cache_get(struct enr_cache *c, const char *key, int64_t now_s, json_t **value,
    const char **error)
{
	struct cache_ent *e = *slot(c, key);
	long ttl;

	*value = NULL;
	*error = NULL;
	if (e == NULL)
		return 0;
	unlink_lru(c, e);
	push_front(c, e);
	ttl = e->error ? c->ttl_s / 10 : c->ttl_s;
	if (now_s - e->stored_s > ttl)
		return 0;
	if (e->value)
		*value = json_incref(e->value);   /* a success, or the last one before an error */
	else
		*error = e->error;
	return 1;
}

json_t *
enr_cache_put(struct enr_cache *c, const char *key, int64_t now_s, json_t *value,
    const char *error, const char **out_error)
{
	struct cache_ent **p, *e;

	*out_error = NULL;
	if (c->size == 0) {           /* nothing is kept: the outcome is the caller's */
		if (value != NULL)
			return value;
		free(c->last_error);
		c->last_error = strdup(error ? error : "error");
		*out_error = c->last_error ? c->last_error : "out of memory";
		return NULL;
	}
	p = slot(c, key);
	if ((e = *p) == NULL) {
		if (c->n == c->size) {            /* evict the least recently used */
			struct cache_ent *old = c->tail, **q = slot(c, old->key);
			*q = old->chain;
			unlink_lru(c, old);
			ent_free(old);
			c->n--;
			p = slot(c, key);
		}
		if ((e = calloc(1, sizeof(*e))) == NULL || (e->key = strdup(key)) == NULL) {
			free(e);
			json_decref(value);
			*out_error = "out of memory";
			return NULL;
		}
		*p = e;
		c->n++;
	} else {
		unlink_lru(c, e);
	}
	push_front(c, e);
	e->stored_s = now_s;
	free(e->error);
	e->error = NULL;
	if (value != NULL) {
		json_decref(e->value);
		e->value = value;
		return json_incref(value);
	}
	e->error = strdup(error ? error : "error");
	if (e->value)
		return json_incref(e->value);
	*out_error = e->error ? e->error : "out of memory";
	return NULL;
}

int64_t
enr_cache_now_s(void)
{
	return timefmt_mono_ms() / 1000;
}
