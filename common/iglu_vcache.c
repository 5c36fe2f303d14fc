/*
 * iglu_vcache: successful validations remembered by the exact JSON text of the instance (see
 * iglu_validate_text in iglu.h), so that the same entity sent again and again (the session, the
 * page, the same link click) is not walked through its schema every time.
 *
 * A direct-mapped table of IGLU_VC_SLOTS slots. A slot holds the compiled schema the instance
 * was valid against, a copy of the instance's bytes and their hash; a hit needs the same
 * compiled schema, the same hash and the same bytes (memcmp), so a hash collision can never let
 * an instance through that was not validated. Only successes are kept: a failure is validated
 * again, which also builds its report. Bounded: texts over IGLU_VC_MAX_TEXT bytes are not kept,
 * a slot's text is replaced by the next one hashed there, and the whole table is emptied when it
 * would hold more than IGLU_VC_MAX_BYTES. Whenever a compiled schema changes or leaves the
 * resolver's cache (r->schema_gen moves: refresh after cacheTtl, eviction), the table is emptied
 * first, so a pointer reused for another schema cannot match an old slot.
 */
#include "iglu_impl.h"

#include <stdlib.h>
#include <string.h>

#define IGLU_VC_SLOTS     4096
#define IGLU_VC_MAX_TEXT  8192
#define IGLU_VC_MAX_BYTES (8u << 20)

struct iglu_vc_slot {
	uint64_t                 hash;
	const struct jsonschema *schema;
	char                    *text;
	size_t                   len;
};

struct iglu_vcache {
	struct iglu_vc_slot slot[IGLU_VC_SLOTS];
	uint64_t            gen;
	size_t              bytes;
};

/* 8 bytes a step (the texts are a few hundred bytes; FNV's byte loop would cost as much as a
 * small validation). Not cryptographic: the bytes are compared on every hit. */
static uint64_t
vc_hash(const void *schema, const char *s, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ (uint64_t)(uintptr_t)schema ^ ((uint64_t)n << 32), w;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s + i, n - i);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h * 0xff51afd7ed558ccdULL ^ (h >> 32);
}

static void
vc_empty(struct iglu_vcache *vc)
{
	size_t i;

	for (i = 0; i < IGLU_VC_SLOTS; i++) {
		free(vc->slot[i].text);
		vc->slot[i].text = NULL;
		vc->slot[i].schema = NULL;
	}
	vc->bytes = 0;
}

/* The table, emptied if the resolver's schemas changed since; NULL when out of memory. */
static struct iglu_vcache *
vc_get(struct iglu_resolver *r)
{
	if (r->vcache == NULL) {
		r->vcache = calloc(1, sizeof(*r->vcache));
		if (r->vcache == NULL)
			return NULL;
		r->vcache->gen = r->schema_gen;
	}
	if (r->vcache->gen != r->schema_gen) {
		vc_empty(r->vcache);
		r->vcache->gen = r->schema_gen;
	}
	return r->vcache;
}

int
iglu_vcache_hit(struct iglu_resolver *r, const struct jsonschema *s, const char *text, size_t len)
{
	struct iglu_vcache *vc;
	struct iglu_vc_slot *sl;
	uint64_t h;

	if (text == NULL || len > IGLU_VC_MAX_TEXT || (vc = vc_get(r)) == NULL)
		return 0;
	h = vc_hash(s, text, len);
	sl = &vc->slot[h & (IGLU_VC_SLOTS - 1)];
	return sl->text != NULL && sl->hash == h && sl->schema == s && sl->len == len &&
	    memcmp(sl->text, text, len) == 0;
}

void
iglu_vcache_put(struct iglu_resolver *r, const struct jsonschema *s, const char *text, size_t len)
{
	struct iglu_vcache *vc;
	struct iglu_vc_slot *sl;
	uint64_t h;
	char *copy;

	if (text == NULL || len > IGLU_VC_MAX_TEXT || (vc = vc_get(r)) == NULL)
		return;
	h = vc_hash(s, text, len);
	sl = &vc->slot[h & (IGLU_VC_SLOTS - 1)];
	if (sl->text != NULL) {
		vc->bytes -= sl->len;
		free(sl->text);
		sl->text = NULL;
	}
	if (vc->bytes + len > IGLU_VC_MAX_BYTES)
		vc_empty(vc);
	copy = malloc(len ? len : 1);
	if (copy == NULL)
		return;
	memcpy(copy, text, len);
	sl->hash = h;
	sl->schema = s;
	sl->text = copy;
	sl->len = len;
	vc->bytes += len;
}

void
iglu_vcache_free(struct iglu_resolver *r)
{
	if (r->vcache == NULL)
		return;
	vc_empty(r->vcache);
	free(r->vcache);
	r->vcache = NULL;
}
