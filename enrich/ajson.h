/*
 * ajson: the JSON tree the webhook adapters rewrite. Upstream's adapters parse vendor
 * bodies with circe (jawn) and print them back into the event's ue_pr with circe's noSpaces, so
 * a number comes out exactly as the vendor wrote it ("1.50", "1e3", a 30-digit id) and a
 * duplicate key keeps its first position with its last value. jansson turns numbers into
 * doubles and int64s, so the adapters use this small tree instead: numbers keep their literal
 * text, objects keep their member order, and everything else is plain strings, arrays and
 * objects. Parsing is iterative (no recursion, any nesting a body can hold) and reports errors
 * in jawn's words ("expected : got 'some"}' (line 1, column 14)", "exhausted input"); the depth
 * rule is JsonUtils.extractJson's (maxJsonDepth, enriched-event.md §15.4).
 */
#ifndef FURROW_ENRICH_AJSON_H
#define FURROW_ENRICH_AJSON_H

#include <jansson.h>
#include <stddef.h>

#include "buf.h"

enum ajson_type { AJ_NULL, AJ_FALSE, AJ_TRUE, AJ_NUM, AJ_STR, AJ_ARR, AJ_OBJ };

struct ajson;

struct ajson_mem {
	char         *key;      /* object members only (UTF-8, may hold NUL) */
	size_t        klen;
	struct ajson *val;
};

struct ajson {
	enum ajson_type   type;
	char             *s;     /* AJ_NUM: the literal; AJ_STR: the decoded UTF-8 bytes */
	size_t            len;
	struct ajson_mem *m;     /* AJ_ARR / AJ_OBJ members, in order */
	size_t            n, cap;
};

/* Parse text[0..len) as one JSON value. NULL on failure, with err holding upstream's NotJson
 * text: "invalid json: <jawn message>" or "invalid json: maximum allowed JSON depth exceeded"
 * (a value nested max_depth levels below the root; max_depth <= 0 rejects everything, as
 * JsonUtils.checkIfExceedMaxDepth does). Also NULL with err "out of memory". */
struct ajson *ajson_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen);
void ajson_free(struct ajson *j);

/* Constructors; NULL on allocation failure. s is copied. */
struct ajson *ajson_new(enum ajson_type type);
struct ajson *ajson_str(const char *s, size_t len);
struct ajson *ajson_num(const char *literal, size_t len);
struct ajson *ajson_int(long long v);
/* A deep copy. */
struct ajson *ajson_copy(const struct ajson *j);

/* Members. Objects: get returns the value or NULL; set adds as circe's JsonObject.add does
 * (an existing key keeps its position and takes the new value, a new key goes last) and takes
 * val (freed on failure); del removes and frees. Arrays: push takes val. 0 or -1. */
struct ajson *ajson_get(const struct ajson *obj, const char *key);
int ajson_set(struct ajson *obj, const char *key, size_t klen, struct ajson *val);
void ajson_del(struct ajson *obj, const char *key);
/* Append a member whose key the caller knows is new (keys from a map: no scan, so building
 * an object of n members stays linear). Takes val. 0 or -1. */
int ajson_append(struct ajson *obj, const char *key, size_t klen, struct ajson *val);
int ajson_push(struct ajson *arr, struct ajson *val);
/* Take the value of member i out of obj (leaving NULL in its place). */
struct ajson *ajson_take(struct ajson *obj, size_t i);

/* Fold duplicate keys: the first position keeps the last value (java.util.LinkedHashMap.put,
 * which circe-jawn and JsonObject.fromIterable use). 0 or -1. */
int ajson_dedup(struct ajson *obj);

/* 1 when j is a string equal to the C string s. */
int ajson_is_str(const struct ajson *j, const char *s);

/* Compact JSON as circe's noSpaces prints it (jsonw escaping, numbers as written). 0 or -1. */
int ajson_print(const struct ajson *j, struct buf *out);
/* A jansson copy (for bad rows); numbers go through jansson's parser. NULL on failure. */
json_t *ajson_to_jansson(const struct ajson *j);

#endif
