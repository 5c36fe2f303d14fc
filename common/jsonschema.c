/*
 * jsonschema: a JSON Schema draft-04 validator on jansson (enriched-event.md §15.4).
 *
 * A schema document is compiled once into a graph of nodes, one per schema object: keyword
 * values are decoded, patterns compiled with PCRE2 (UTF, ECMA-style \u escapes, `$` only at
 * the end, a match limit against catastrophic backtracking) and `$ref`s bound to their target
 * node, so that cycles ("#" inside "properties") are just edges. Validation walks instance and
 * graph together. It allocates nothing while the instance is valid: the JSONPath of a node is a
 * chain of stack frames, and reports are built only when a keyword fails. Inside anyOf, oneOf
 * and not the branches are first tried in a fast mode that stops at the first failure; their
 * reports are gathered again only when the whole keyword fails.
 *
 * Upstream (networknt 1.0.x) evaluates the keywords next to a `$ref` too; so does furrow.
 * Numbers: jansson holds integers as int64 and the rest as double. An integral double beyond
 * the int64 range counts as an "integer" (that is how jsonschema_json_loadb hands over integers
 * with more than 64 bits); 1.0 stays a "number", as in networknt. multipleOf is exact for
 * decimals: both operands are turned back into their shortest decimal form and compared as
 * scaled 128-bit integers.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "buf.h"
#include "jsonschema.h"
#include "fnv.h"
#include "jnum.h"
#include "jsonschema_format.h"
#include "jsonschema_meta.h"
#include "pct.h"
#include "utf8.h"

#define JS_MAX_COMPILE_DEPTH 200
#define JS_MAX_VALIDATE_DEPTH 400
#define JS_MATCH_LIMIT 200000
#define JS_DEPTH_LIMIT 5000
/* Reports kept per validation: a hostile multi-megabyte array of wrong items must not turn
 * into a gigabyte of report objects. Validation still visits everything; only the list stops. */
#define JS_MAX_REPORTS 1000

enum {
	T_NULL = 1, T_BOOL = 2, T_INT = 4, T_NUM = 8, T_STR = 16, T_ARR = 32, T_OBJ = 64,
};

static const struct {
	const char *name;
	unsigned bit;
} TYPE_NAMES[] = {
	{ "null", T_NULL }, { "boolean", T_BOOL }, { "integer", T_INT }, { "number", T_NUM },
	{ "string", T_STR }, { "array", T_ARR }, { "object", T_OBJ },
};

struct jnode;

struct jpat {
	pcre2_code       *re;
	pcre2_match_data *md;
	const char       *src;
	struct jnode     *schema;
};

struct jprop {
	const char   *name;
	struct jnode *schema;
};

struct jdep {
	const char   *name;
	struct jnode *schema;   /* schema dependency, or NULL */
	const json_t *names;    /* property dependency: array of strings, or NULL */
};

struct jnode {
	struct jsonschema *owner;
	const json_t *src;
	struct jnode *next;       /* owner's list of nodes, for freeing */

	unsigned      types;      /* 0: any */
	const json_t *enumv;

	const json_t *minimum, *maximum, *multiple_of;
	int           excl_min, excl_max;

	long          min_len, max_len;          /* -1: absent */
	struct jpat   pattern;                   /* re NULL: absent */
	enum jsonschema_format format;

	struct jnode  *items;                    /* single-schema form */
	struct jnode **items_list;               /* tuple form */
	size_t         n_items_list;
	int            items_is_list;
	int            addl_items;               /* -1 anything, 0 false, 1 schema */
	struct jnode  *addl_items_schema;
	long           min_items, max_items;
	int            unique;

	struct jprop  *props;                    /* sorted by name */
	size_t         n_props;
	struct jpat   *pprops;
	size_t         n_pprops;
	int            addl_props;               /* -1 anything, 0 false, 1 schema */
	struct jnode  *addl_props_schema;
	const char   **required;
	size_t         n_required;
	struct jdep   *deps;
	size_t         n_deps;
	long           min_props, max_props;

	struct jnode **all_of, **any_of, **one_of;
	size_t         n_all_of, n_any_of, n_one_of;
	struct jnode  *not_schema;

	int            has_ref;
	const char    *ref_uri;                  /* as written */
	struct jnode  *ref;                      /* bound target, or NULL */
	char          *ref_iglu;                 /* resolved through the callback first */
};

struct jsonschema {
	json_t            *doc;
	struct jnode      *root;
	struct jnode      *nodes;
	jsonschema_ref_fn  ref_fn;
	void              *ref_arg;
	/* json_t* -> node, kept after compiling so that other schemas may point into this one */
	const json_t     **map_keys;
	struct jnode     **map_vals;
	size_t             map_cap, map_n;
};

static pcre2_match_context *match_ctx;
static struct jsonschema *meta_draft04, *meta_selfdesc;

/* ---------- pointer map ---------- */

static size_t
ptr_hash(const void *p, size_t cap)
{
	uintptr_t x = (uintptr_t)p;

	x ^= x >> 17;
	x *= (uintptr_t)0x9E3779B97F4A7C15ULL;
	x ^= x >> 29;
	return (size_t)x & (cap - 1);
}

static struct jnode *
map_get(const struct jsonschema *s, const json_t *k)
{
	size_t i;

	if (s->map_cap == 0)
		return NULL;
	for (i = ptr_hash(k, s->map_cap); s->map_keys[i] != NULL; i = (i + 1) & (s->map_cap - 1))
		if (s->map_keys[i] == k)
			return s->map_vals[i];
	return NULL;
}

static int
map_put(struct jsonschema *s, const json_t *k, struct jnode *v)
{
	size_t i;

	if ((s->map_n + 1) * 2 > s->map_cap) {
		size_t ncap = s->map_cap ? s->map_cap * 2 : 32, j;
		const json_t **nk = calloc(ncap, sizeof(*nk));
		struct jnode **nv = calloc(ncap, sizeof(*nv));

		if (nk == NULL || nv == NULL) {
			free(nk);
			free(nv);
			return -1;
		}
		for (j = 0; j < s->map_cap; j++) {
			if (s->map_keys[j] == NULL)
				continue;
			for (i = ptr_hash(s->map_keys[j], ncap); nk[i] != NULL; i = (i + 1) & (ncap - 1))
				;
			nk[i] = s->map_keys[j];
			nv[i] = s->map_vals[j];
		}
		free(s->map_keys);
		free(s->map_vals);
		s->map_keys = nk;
		s->map_vals = nv;
		s->map_cap = ncap;
	}
	for (i = ptr_hash(k, s->map_cap); s->map_keys[i] != NULL; i = (i + 1) & (s->map_cap - 1))
		;
	s->map_keys[i] = k;
	s->map_vals[i] = v;
	s->map_n++;
	return 0;
}

/* ---------- compiling ---------- */

struct cctx {
	struct jsonschema *s;
	char  *err;
	size_t errlen;
	int    depth;
};

static int cerr(struct cctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
cerr(struct cctx *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err != NULL && c->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(c->err, c->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static struct jnode *compile_node(struct cctx *c, json_t *js);
static struct jsonschema *builtin_meta(int which);

static int
pat_compile(struct cctx *c, struct jpat *p, const char *src, size_t len)
{
	int errcode;
	PCRE2_SIZE off;
	PCRE2_UCHAR msg[120];

	p->src = src;
	p->re = pcre2_compile((PCRE2_SPTR)src, len, PCRE2_UTF | PCRE2_ALT_BSUX |
	    PCRE2_DOLLAR_ENDONLY, &errcode, &off, NULL);
	if (p->re == NULL) {
		pcre2_get_error_message(errcode, msg, sizeof(msg));
		return cerr(c, "invalid pattern \"%s\" at offset %zu: %s", src, (size_t)off,
		    (char *)msg);
	}
	(void)pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE);
	p->md = pcre2_match_data_create_from_pattern(p->re, NULL);
	if (p->md == NULL)
		return cerr(c, "out of memory");
	return 0;
}

static int
get_count(struct cctx *c, json_t *js, const char *kw, long *out)
{
	json_t *v = json_object_get(js, kw);

	*out = -1;
	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= 0) {
		*out = json_integer_value(v) > (json_int_t)0x7fffffff ? 0x7fffffff :
		    (long)json_integer_value(v);
		return 0;
	}
	return cerr(c, "\"%s\" must be a non-negative integer", kw);
}

static int
get_bool(struct cctx *c, json_t *js, const char *kw, int *out)
{
	json_t *v = json_object_get(js, kw);

	*out = 0;
	if (v == NULL)
		return 0;
	if (!json_is_boolean(v))
		return cerr(c, "\"%s\" must be a boolean", kw);
	*out = json_is_true(v);
	return 0;
}

static int
schema_array(struct cctx *c, json_t *v, const char *kw, struct jnode ***out, size_t *n)
{
	size_t i;

	if (!json_is_array(v) || json_array_size(v) == 0)
		return cerr(c, "\"%s\" must be a non-empty array of schemas", kw);
	*n = json_array_size(v);
	*out = calloc(*n, sizeof(**out));
	if (*out == NULL)
		return cerr(c, "out of memory");
	for (i = 0; i < *n; i++)
		if (((*out)[i] = compile_node(c, json_array_get(v, i))) == NULL)
			return -1;
	return 0;
}

static int
prop_cmp(const void *a, const void *b)
{
	return strcmp(((const struct jprop *)a)->name, ((const struct jprop *)b)->name);
}

/* Decode one JSON pointer token (~0, ~1 and %XX) into out. */
static int
ptr_token(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n;) {
		char ch;

		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			ch = s[i + 1] == '0' ? '~' : '/';
			i += 2;
		} else {
			ch = (char)pct_next(s, n, &i, 0);   /* RFC 6901 §6: a URI fragment */
		}
		if (o + 1 >= outlen)
			return -1;
		out[o++] = ch;
	}
	out[o] = 0;
	return 0;
}

/* The value a fragment ("" or "/a/b") designates in doc, or NULL. */
static json_t *
json_pointer(json_t *doc, const char *frag)
{
	char tok[256];
	json_t *cur = doc;

	if (*frag == 0)
		return doc;
	if (*frag != '/')
		return NULL;
	while (*frag == '/' && cur != NULL) {
		const char *end = strchr(frag + 1, '/');
		size_t n = end ? (size_t)(end - frag - 1) : strlen(frag + 1);

		if (ptr_token(frag + 1, n, tok, sizeof(tok)) < 0)
			return NULL;
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *e;
			unsigned long idx;

			errno = 0;
			idx = strtoul(tok, &e, 10);
			if (*tok == 0 || *e != 0 || errno != 0)
				return NULL;
			cur = json_array_get(cur, idx);
		} else {
			return NULL;
		}
		frag += n + 1;
	}
	return cur;
}

/*
 * The subschema a location-independent "$ref": "#foo" names: the first object, in document
 * order and depth first from the root, whose "id" is the string "#foo" (draft 4 §7.2; networknt
 * JsonMetaSchema.getNodeByFragmentRef, which Snowplow's validator uses, compares the whole
 * reference with "id" exactly that way).
 */
static json_t *
find_by_id(json_t *node, const char *ref, int depth)
{
	json_t *v, *hit;
	const char *k;
	size_t i;

	if (depth > 256)
		return NULL;
	if (json_is_object(node)) {
		v = json_object_get(node, "id");
		if (json_is_string(v) && strcmp(json_string_value(v), ref) == 0)
			return node;
		json_object_foreach(node, k, v)
			if ((hit = find_by_id(v, ref, depth + 1)) != NULL)
				return hit;
	} else if (json_is_array(node)) {
		json_array_foreach(node, i, v)
			if ((hit = find_by_id(v, ref, depth + 1)) != NULL)
				return hit;
	}
	return NULL;
}

static int
bind_ref(struct cctx *c, struct jnode *n, const char *uri)
{
	const char *hash = strchr(uri, '#');
	const char *frag = hash ? hash + 1 : "";
	size_t base = hash ? (size_t)(hash - uri) : strlen(uri);
	json_t *target;

	n->has_ref = 1;
	n->ref_uri = uri;
	if (base == 0) {
		target = *frag == 0 || *frag == '/' ? json_pointer(c->s->doc, frag) :
		    find_by_id(c->s->doc, uri, 0);
		if (target == NULL || !json_is_object(target))
			return cerr(c, "cannot resolve $ref \"%s\"", uri);
		n->ref = compile_node(c, target);
		return n->ref == NULL ? -1 : 0;
	}
	if (strncmp(uri, "iglu:", 5) == 0) {
		n->ref_iglu = strdup(uri);
		return n->ref_iglu == NULL ? cerr(c, "out of memory") : 0;
	}
	if (base == strlen(JSONSCHEMA_DRAFT04_URI) && strncmp(uri, JSONSCHEMA_DRAFT04_URI, base) == 0) {
		struct jsonschema *m = builtin_meta(0);

		if (m == NULL)
			return cerr(c, "cannot compile the draft-04 meta-schema");
		target = json_pointer(m->doc, frag);
		n->ref = target ? map_get(m, target) : NULL;
		return 0;   /* a pointer into a non-schema part validates as {} */
	}
	if (base == strlen(JSONSCHEMA_SELFDESC_URI) && strncmp(uri, JSONSCHEMA_SELFDESC_URI, base) == 0 &&
	    *frag == 0) {
		struct jsonschema *m = builtin_meta(1);

		if (m == NULL)
			return cerr(c, "cannot compile the self-describing meta-schema");
		n->ref = m->root;
		n->ref_iglu = strdup(JSONSCHEMA_SELFDESC_IGLU);
		return n->ref_iglu == NULL ? cerr(c, "out of memory") : 0;
	}
	/* Remote references are not fetched (§15.4): they validate as {}. */
	return 0;
}

static int
compile_types(struct cctx *c, struct jnode *n, json_t *v)
{
	size_t i, j, cnt = json_is_array(v) ? json_array_size(v) : 1;

	if (!json_is_string(v) && !(json_is_array(v) && cnt > 0))
		return cerr(c, "\"type\" must be a string or a non-empty array of strings");
	for (i = 0; i < cnt; i++) {
		json_t *t = json_is_array(v) ? json_array_get(v, i) : v;
		const char *name = json_string_value(t);

		if (name == NULL)
			return cerr(c, "\"type\" must be a string or a non-empty array of strings");
		for (j = 0; j < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]); j++)
			if (strcmp(name, TYPE_NAMES[j].name) == 0)
				break;
		if (j == sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]))
			return cerr(c, "unknown type \"%s\"", name);
		n->types |= TYPE_NAMES[j].bit;
	}
	return 0;
}

static int
compile_object_kw(struct cctx *c, struct jnode *n, json_t *js)
{
	json_t *v, *sub;
	const char *key;
	size_t i;

	if ((v = json_object_get(js, "properties")) != NULL) {
		if (!json_is_object(v))
			return cerr(c, "\"properties\" must be an object");
		n->props = calloc(json_object_size(v) + 1, sizeof(*n->props));
		if (n->props == NULL)
			return cerr(c, "out of memory");
		json_object_foreach(v, key, sub) {
			n->props[n->n_props].name = key;
			if ((n->props[n->n_props].schema = compile_node(c, sub)) == NULL)
				return -1;
			n->n_props++;
		}
		qsort(n->props, n->n_props, sizeof(*n->props), prop_cmp);
	}
	if ((v = json_object_get(js, "patternProperties")) != NULL) {
		if (!json_is_object(v))
			return cerr(c, "\"patternProperties\" must be an object");
		n->pprops = calloc(json_object_size(v) + 1, sizeof(*n->pprops));
		if (n->pprops == NULL)
			return cerr(c, "out of memory");
		json_object_foreach(v, key, sub) {
			struct jpat *p = &n->pprops[n->n_pprops++];

			if (pat_compile(c, p, key, strlen(key)) < 0)
				return -1;
			if ((p->schema = compile_node(c, sub)) == NULL)
				return -1;
		}
	}
	n->addl_props = -1;
	if ((v = json_object_get(js, "additionalProperties")) != NULL) {
		if (json_is_boolean(v)) {
			n->addl_props = json_is_true(v) ? -1 : 0;
		} else {
			n->addl_props = 1;
			if ((n->addl_props_schema = compile_node(c, v)) == NULL)
				return -1;
		}
	}
	if ((v = json_object_get(js, "required")) != NULL) {
		if (!json_is_array(v))
			return cerr(c, "\"required\" must be an array of strings");
		n->required = calloc(json_array_size(v) + 1, sizeof(*n->required));
		if (n->required == NULL)
			return cerr(c, "out of memory");
		for (i = 0; i < json_array_size(v); i++) {
			if (!json_is_string(json_array_get(v, i)))
				return cerr(c, "\"required\" must be an array of strings");
			n->required[n->n_required++] = json_string_value(json_array_get(v, i));
		}
	}
	if ((v = json_object_get(js, "dependencies")) != NULL) {
		if (!json_is_object(v))
			return cerr(c, "\"dependencies\" must be an object");
		n->deps = calloc(json_object_size(v) + 1, sizeof(*n->deps));
		if (n->deps == NULL)
			return cerr(c, "out of memory");
		json_object_foreach(v, key, sub) {
			struct jdep *d = &n->deps[n->n_deps++];

			d->name = key;
			if (json_is_array(sub)) {
				for (i = 0; i < json_array_size(sub); i++)
					if (!json_is_string(json_array_get(sub, i)))
						return cerr(c, "dependency \"%s\" must list strings", key);
				d->names = sub;
			} else if ((d->schema = compile_node(c, sub)) == NULL) {
				return -1;
			}
		}
	}
	if (get_count(c, js, "minProperties", &n->min_props) < 0 ||
	    get_count(c, js, "maxProperties", &n->max_props) < 0)
		return -1;
	return 0;
}

static int
compile_array_kw(struct cctx *c, struct jnode *n, json_t *js)
{
	json_t *v;

	if ((v = json_object_get(js, "items")) != NULL) {
		if (json_is_array(v)) {
			n->items_is_list = 1;
			n->n_items_list = json_array_size(v);
			if (n->n_items_list > 0 &&
			    schema_array(c, v, "items", &n->items_list, &n->n_items_list) < 0)
				return -1;
		} else if ((n->items = compile_node(c, v)) == NULL) {
			return -1;
		}
	}
	n->addl_items = -1;
	if ((v = json_object_get(js, "additionalItems")) != NULL) {
		if (json_is_boolean(v)) {
			n->addl_items = json_is_true(v) ? -1 : 0;
		} else {
			n->addl_items = 1;
			if ((n->addl_items_schema = compile_node(c, v)) == NULL)
				return -1;
		}
	}
	if (get_count(c, js, "minItems", &n->min_items) < 0 ||
	    get_count(c, js, "maxItems", &n->max_items) < 0 ||
	    get_bool(c, js, "uniqueItems", &n->unique) < 0)
		return -1;
	return 0;
}

static struct jnode *
compile_node(struct cctx *c, json_t *js)
{
	struct jnode *n;
	json_t *v;

	if (!json_is_object(js)) {
		cerr(c, "a schema must be a JSON object");
		return NULL;
	}
	if ((n = map_get(c->s, js)) != NULL)
		return n;
	if (c->depth >= JS_MAX_COMPILE_DEPTH) {
		cerr(c, "schema nested deeper than %d levels", JS_MAX_COMPILE_DEPTH);
		return NULL;
	}
	n = calloc(1, sizeof(*n));
	if (n == NULL || map_put(c->s, js, n) < 0) {
		free(n);
		cerr(c, "out of memory");
		return NULL;
	}
	n->owner = c->s;
	n->src = js;
	n->next = c->s->nodes;
	c->s->nodes = n;
	c->depth++;

	if ((v = json_object_get(js, "type")) != NULL && compile_types(c, n, v) < 0)
		goto fail;
	if ((v = json_object_get(js, "enum")) != NULL) {
		if (!json_is_array(v))
			goto bad_enum;
		n->enumv = v;
	}
	if ((v = json_object_get(js, "minimum")) != NULL) {
		if (!json_is_number(v))
			goto bad_num;
		n->minimum = v;
	}
	if ((v = json_object_get(js, "maximum")) != NULL) {
		if (!json_is_number(v))
			goto bad_num;
		n->maximum = v;
	}
	if ((v = json_object_get(js, "multipleOf")) != NULL) {
		if (!json_is_number(v) || json_number_value(v) <= 0)
			goto bad_num;
		n->multiple_of = v;
	}
	if (get_bool(c, js, "exclusiveMinimum", &n->excl_min) < 0 ||
	    get_bool(c, js, "exclusiveMaximum", &n->excl_max) < 0 ||
	    get_count(c, js, "minLength", &n->min_len) < 0 ||
	    get_count(c, js, "maxLength", &n->max_len) < 0)
		goto fail;
	if ((v = json_object_get(js, "pattern")) != NULL) {
		if (!json_is_string(v)) {
			cerr(c, "\"pattern\" must be a string");
			goto fail;
		}
		if (pat_compile(c, &n->pattern, json_string_value(v), json_string_length(v)) < 0)
			goto fail;
	}
	if ((v = json_object_get(js, "format")) != NULL && json_is_string(v))
		n->format = jsonschema_format_lookup(json_string_value(v));
	if (compile_array_kw(c, n, js) < 0 || compile_object_kw(c, n, js) < 0)
		goto fail;
	if ((v = json_object_get(js, "allOf")) != NULL &&
	    schema_array(c, v, "allOf", &n->all_of, &n->n_all_of) < 0)
		goto fail;
	if ((v = json_object_get(js, "anyOf")) != NULL &&
	    schema_array(c, v, "anyOf", &n->any_of, &n->n_any_of) < 0)
		goto fail;
	if ((v = json_object_get(js, "oneOf")) != NULL &&
	    schema_array(c, v, "oneOf", &n->one_of, &n->n_one_of) < 0)
		goto fail;
	if ((v = json_object_get(js, "not")) != NULL &&
	    (n->not_schema = compile_node(c, v)) == NULL)
		goto fail;
	if ((v = json_object_get(js, "$ref")) != NULL) {
		if (!json_is_string(v)) {
			cerr(c, "\"$ref\" must be a string");
			goto fail;
		}
		if (bind_ref(c, n, json_string_value(v)) < 0)
			goto fail;
	}
	c->depth--;
	return n;
bad_enum:
	cerr(c, "\"enum\" must be an array");
	goto fail;
bad_num:
	cerr(c, "a numeric keyword has a value that is not a valid number");
fail:
	c->depth--;
	return NULL;
}

static void
pat_free(struct jpat *p)
{
	pcre2_match_data_free(p->md);
	pcre2_code_free(p->re);
}

void
jsonschema_free(struct jsonschema *s)
{
	struct jnode *n, *next;
	size_t i;

	if (s == NULL)
		return;
	for (n = s->nodes; n != NULL; n = next) {
		next = n->next;
		pat_free(&n->pattern);
		for (i = 0; i < n->n_pprops; i++)
			pat_free(&n->pprops[i]);
		free(n->pprops);
		free(n->props);
		free(n->items_list);
		free(n->required);
		free(n->deps);
		free(n->all_of);
		free(n->any_of);
		free(n->one_of);
		free(n->ref_iglu);
		free(n);
	}
	free(s->map_keys);
	free(s->map_vals);
	json_decref(s->doc);
	free(s);
}

struct jsonschema *
jsonschema_compile(json_t *schema, jsonschema_ref_fn ref, void *ref_arg, char *err, size_t errlen)
{
	struct jsonschema *s;
	struct cctx c;

	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (match_ctx == NULL) {
		match_ctx = pcre2_match_context_create(NULL);
		if (match_ctx == NULL)
			return NULL;
		pcre2_set_match_limit(match_ctx, JS_MATCH_LIMIT);
		pcre2_set_depth_limit(match_ctx, JS_DEPTH_LIMIT);
	}
	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->doc = json_incref(schema);
	s->ref_fn = ref;
	s->ref_arg = ref_arg;
	c.s = s;
	c.err = err;
	c.errlen = errlen;
	c.depth = 0;
	s->root = compile_node(&c, schema);
	if (s->root == NULL) {
		jsonschema_free(s);
		return NULL;
	}
	return s;
}

/* The built-in meta-schemas, compiled on first use and kept for the life of the process. */
static struct jsonschema *
builtin_meta(int which)
{
	struct jsonschema **slot = which == 0 ? &meta_draft04 : &meta_selfdesc;
	const char *text = which == 0 ? JSONSCHEMA_META_DRAFT04 : JSONSCHEMA_META_SELFDESC;
	json_t *doc;
	char err[160];

	if (*slot != NULL)
		return *slot;
	doc = json_loads(text, 0, NULL);
	if (doc == NULL)
		return NULL;
	*slot = jsonschema_compile(doc, NULL, NULL, err, sizeof(err));
	json_decref(doc);
	return *slot;
}

/* ---------- validating ---------- */

struct vpath {
	const struct vpath *up;
	const char *key;     /* object member, or NULL for an array index */
	size_t idx;
};

struct vctx {
	json_t *reports;     /* NULL: fast mode, stop at the first failure */
	int depth;
	int internal_error;
};

static int vnode(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p);

static void
path_render(struct buf *b, const struct vpath *p)
{
	if (p == NULL) {
		buf_append_byte(b, '$');
		return;
	}
	path_render(b, p->up);
	if (p->key != NULL) {
		buf_append_byte(b, '.');
		buf_append_str(b, p->key);
	} else {
		buf_printf(b, "[%zu]", p->idx);
	}
}

/* Add a report. `child`, when set, names the member the message is about (required,
 * additionalProperties): the path stays the object's, the message names the member. */
static int report(struct vctx *c, const struct vpath *p, const char *child, const char *kw,
    json_t *targets, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static int
report(struct vctx *c, const struct vpath *p, const char *child, const char *kw, json_t *targets,
    const char *fmt, ...)
{
	struct buf path, msg;
	json_t *r;
	va_list ap;

	if (c->reports == NULL || json_array_size(c->reports) >= JS_MAX_REPORTS) {
		json_decref(targets);
		return 0;
	}
	buf_init(&path, 1 << 20);
	buf_init(&msg, 1 << 20);
	path_render(&path, p);
	buf_append(&msg, path.data, path.len);
	if (child != NULL) {
		buf_append_byte(&msg, '.');
		buf_append_str(&msg, child);
	}
	buf_append_str(&msg, ": ");
	va_start(ap, fmt);
	{
		char tmp[512];

		vsnprintf(tmp, sizeof(tmp), fmt, ap);
		buf_append_str(&msg, tmp);
	}
	va_end(ap);
	r = json_pack("{s:s, s:s, s:s, s:o}", "message", msg.data ? msg.data : "",
	    "path", path.data ? path.data : "$", "keyword", kw,
	    "targets", targets ? targets : json_array());
	buf_free(&path);
	buf_free(&msg);
	if (r == NULL || json_array_append_new(c->reports, r) < 0)
		c->internal_error = 1;
	return 0;
}

/* A JSON value as compact text for a message, in tmp (truncated). */
static const char *
jtext(const json_t *v, char *tmp, size_t len)
{
	char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

	snprintf(tmp, len, "%s", s ? s : "?");
	free(s);
	return tmp;
}

static int
is_big_integral(double d)
{
	return isfinite(d) && d == floor(d) && fabs(d) >= 9223372036854775808.0;
}

static unsigned
type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:  return T_OBJ;
	case JSON_ARRAY:   return T_ARR;
	case JSON_STRING:  return T_STR;
	case JSON_INTEGER: return T_INT;
	case JSON_REAL:    return is_big_integral(json_real_value(v)) ? T_INT : T_NUM;
	case JSON_TRUE:
	case JSON_FALSE:   return T_BOOL;
	case JSON_NULL:    return T_NULL;
	}
	return 0;
}

static const char *
type_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]); i++)
		if (TYPE_NAMES[i].bit == bit)
			return TYPE_NAMES[i].name;
	return "unknown";
}

/* -1, 0, 1 as a < b, for two JSON numbers. */
static int
num_cmp(const json_t *a, const json_t *b)
{
	long double x, y;

	if (json_is_integer(a) && json_is_integer(b)) {
		json_int_t i = json_integer_value(a), j = json_integer_value(b);

		return i < j ? -1 : i > j;
	}
	x = json_is_integer(a) ? (long double)json_integer_value(a) : (long double)json_real_value(a);
	y = json_is_integer(b) ? (long double)json_integer_value(b) : (long double)json_real_value(b);
	return x < y ? -1 : x > y;
}

/* JSON equality as JSON Schema means it: numbers by value (1 == 1.0). */
static int
js_equal(const json_t *a, const json_t *b)
{
	if (json_is_number(a) && json_is_number(b))
		return num_cmp(a, b) == 0;
	if (json_typeof(a) != json_typeof(b))
		return 0;
	switch (json_typeof(a)) {
	case JSON_STRING:
		return json_string_length(a) == json_string_length(b) &&
		    memcmp(json_string_value(a), json_string_value(b), json_string_length(a)) == 0;
	case JSON_ARRAY: {
		size_t i, n = json_array_size(a);

		if (n != json_array_size(b))
			return 0;
		for (i = 0; i < n; i++)
			if (!js_equal(json_array_get(a, i), json_array_get(b, i)))
				return 0;
		return 1;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *va, *vb;

		if (json_object_size(a) != json_object_size(b))
			return 0;
		json_object_foreach((json_t *)a, k, va) {
			vb = json_object_get(b, k);
			if (vb == NULL || !js_equal(va, vb))
				return 0;
		}
		return 1;
	}
	default:
		return 1;
	}
}

/* A hash consistent with js_equal: equal values hash alike (numbers by their double value). */
static uint64_t
js_hash(const json_t *v)
{
	uint64_t h;

	switch (json_typeof(v)) {
	case JSON_INTEGER:
	case JSON_REAL: {
		double d = json_number_value(v);

		if (d == 0)
			d = 0;   /* -0.0 */
		memcpy(&h, &d, sizeof(h));
		return h * 0x9E3779B97F4A7C15ULL + 1;
	}
	case JSON_STRING: {
		return fnv_bytes(FNV_OFFSET, json_string_value(v), json_string_length(v)) + 2;
	}
	case JSON_ARRAY: {
		size_t i;

		h = 3;
		for (i = 0; i < json_array_size(v); i++)
			h = h * 31 + js_hash(json_array_get(v, i));
		return h;
	}
	case JSON_OBJECT: {
		const char *k;
		json_t *x;
		uint64_t sum = 4;

		json_object_foreach((json_t *)v, k, x) {
			uint64_t kh = fnv_str(k);

			sum += (kh ^ (js_hash(x) * 0x9E3779B97F4A7C15ULL)) * 0xff51afd7ed558ccdULL;
		}
		return sum;
	}
	case JSON_TRUE:  return 5;
	case JSON_FALSE: return 6;
	case JSON_NULL:  return 7;
	}
	return 0;
}

struct hashed {
	uint64_t h;
	const json_t *v;
};

static int
hashed_cmp(const void *a, const void *b)
{
	uint64_t x = ((const struct hashed *)a)->h, y = ((const struct hashed *)b)->h;

	return x < y ? -1 : x > y;
}

/* 1 when two items of arr are equal, 0 when all differ, -1 when out of memory. Small arrays
 * are compared pairwise; large ones are sorted by hash first so hostile input stays O(n log n). */
static int
has_duplicates(const json_t *arr)
{
	size_t i, j, n = json_array_size(arr);
	struct hashed *hv;
	int dup = 0;

	if (n <= 32) {
		for (i = 0; i < n; i++)
			for (j = i + 1; j < n; j++)
				if (js_equal(json_array_get(arr, i), json_array_get(arr, j)))
					return 1;
		return 0;
	}
	hv = malloc(n * sizeof(*hv));
	if (hv == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		hv[i].v = json_array_get(arr, i);
		hv[i].h = js_hash(hv[i].v);
	}
	qsort(hv, n, sizeof(*hv), hashed_cmp);
	for (i = 0; i < n && !dup; i = j) {
		for (j = i + 1; j < n && hv[j].h == hv[i].h; j++)
			;
		for (size_t a = i; a < j && !dup; a++)
			for (size_t b = a + 1; b < j && !dup; b++)
				dup = js_equal(hv[a].v, hv[b].v);
	}
	free(hv);
	return dup;
}

/* (a * b) mod m without overflow. */
static uint64_t
mulmod(uint64_t a, uint64_t b, uint64_t m)
{
	return (uint64_t)((unsigned __int128)a * b % m);
}

/* 10^k mod m. */
static uint64_t
pow10mod(int k, uint64_t m)
{
	uint64_t r = 1 % m, base = 10 % m;

	for (; k > 0; k >>= 1) {
		if (k & 1)
			r = mulmod(r, base, m);
		base = mulmod(base, base, m);
	}
	return r;
}

/*
 * multipleOf as networknt 1.0.76 decides it (MultipleOfValidator): both numbers become
 * BigDecimals of Java's Double.toString of their double values, and the remainder of the
 * division must be zero. jnum_decimal gives those decimals as mant * 10^exp; the remainder is
 * then exact integer arithmetic for any exponents (1e308 against 0.5 included), with no
 * stdio in the usual cases. (networknt keeps a data literal with a '.' or an exponent as
 * written; jansson hands over its double, so literals of more than 17 significant digits are
 * taken at their double's value.)
 */
static int
multiple_ok(const json_t *x, const json_t *m)
{
	uint64_t ma, mb, div;
	int ea, eb, k;

	if (jnum_decimal(json_number_value(x), &ma, &ea) < 0 ||
	    jnum_decimal(json_number_value(m), &mb, &eb) < 0 || mb == 0)
		return 0;
	if (ma == 0)
		return 1;
	if (eb <= ea)   /* ma * 10^(ea-eb) divisible by mb */
		return mulmod(ma % mb, pow10mod(ea - eb, mb), mb) == 0;
	k = eb - ea;    /* ma divisible by mb * 10^k, which exceeds ma (< 10^17) once k > 17 */
	if (k > 17)
		return 0;
	for (div = mb; k > 0; k--) {
		if (div > ma / 10)
			return 0;
		div *= 10;
	}
	return ma % div == 0;
}

/* 1 when the pattern matches somewhere in s, 0 when not, -1 when PCRE2 gave up. */
static int
pat_match(const struct jpat *p, const char *s, size_t len)
{
	int rc = pcre2_match(p->re, (PCRE2_SPTR)s, len, 0, 0, p->md, match_ctx);

	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

#define FAIL_FAST() do { if (c->reports == NULL) return 0; ok = 0; } while (0)

static int
v_number(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	char t[128];
	int ok = 1, r;

	if (n->minimum != NULL) {
		r = num_cmp(inst, n->minimum);
		if (r < 0 || (r == 0 && n->excl_min)) {
			report(c, p, NULL, "minimum", NULL, "must have %sminimum value of %s",
			    n->excl_min ? "an exclusive " : "a ", jtext(n->minimum, t, sizeof(t)));
			FAIL_FAST();
		}
	}
	if (n->maximum != NULL) {
		r = num_cmp(inst, n->maximum);
		if (r > 0 || (r == 0 && n->excl_max)) {
			report(c, p, NULL, "maximum", NULL, "must have %smaximum value of %s",
			    n->excl_max ? "an exclusive " : "a ", jtext(n->maximum, t, sizeof(t)));
			FAIL_FAST();
		}
	}
	if (n->multiple_of != NULL && !multiple_ok(inst, n->multiple_of)) {
		char d[JNUM_BUFSZ];   /* networknt prints the divisor as a Java double: "2.0" */

		jnum_java_double(json_number_value(n->multiple_of), d);
		report(c, p, NULL, "multipleOf", NULL, "must be multiple of %s", d);
		FAIL_FAST();
	}
	return ok;
}

static int
v_string(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	const char *s = json_string_value(inst);
	size_t len = json_string_length(inst), cps;
	int ok = 1, r;

	if (n->min_len >= 0 || n->max_len >= 0) {
		cps = utf8_codepoints(s, len);
		if (n->max_len >= 0 && cps > (size_t)n->max_len) {
			report(c, p, NULL, "maxLength", NULL, "may only be %ld characters long",
			    n->max_len);
			FAIL_FAST();
		}
		if (n->min_len >= 0 && cps < (size_t)n->min_len) {
			report(c, p, NULL, "minLength", NULL, "must be at least %ld characters long",
			    n->min_len);
			FAIL_FAST();
		}
	}
	if (n->pattern.re != NULL && (r = pat_match(&n->pattern, s, len)) != 1) {
		report(c, p, NULL, "pattern", NULL, r == 0 ?
		    "does not match the regex pattern %s" :
		    "could not be matched against the regex pattern %s (match limit)", n->pattern.src);
		FAIL_FAST();
	}
	if (n->format != JSONSCHEMA_FMT_NONE && !jsonschema_format_check(n->format, s, len)) {
		report(c, p, NULL, "format", NULL, "does not match the %s pattern",
		    jsonschema_format_name(n->format));
		FAIL_FAST();
	}
	return ok;
}

static int
v_array(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	size_t i, len = json_array_size(inst);
	int ok = 1, r;
	struct vpath sub;

	if (n->max_items >= 0 && len > (size_t)n->max_items) {
		report(c, p, NULL, "maxItems", NULL, "there must be a maximum of %ld items in the array",
		    n->max_items);
		FAIL_FAST();
	}
	if (n->min_items >= 0 && len < (size_t)n->min_items) {
		report(c, p, NULL, "minItems", NULL, "there must be a minimum of %ld items in the array",
		    n->min_items);
		FAIL_FAST();
	}
	if (n->unique && len > 1) {
		r = has_duplicates(inst);
		if (r < 0)
			return -1;
		if (r == 1) {
			report(c, p, NULL, "uniqueItems", NULL, "the items in the array must be unique");
			FAIL_FAST();
		}
	}
	sub.up = p;
	sub.key = NULL;
	for (i = 0; i < len; i++) {
		const struct jnode *s = NULL;

		sub.idx = i;
		if (!n->items_is_list) {
			s = n->items;
		} else if (i < n->n_items_list) {
			s = n->items_list[i];
		} else if (n->addl_items == 0) {
			report(c, p, NULL, "additionalItems", NULL, "index '%zu' is not defined in the "
			    "schema and the schema does not allow additional items", i);
			FAIL_FAST();
			break;
		} else if (n->addl_items == 1) {
			s = n->addl_items_schema;
		}
		if (s == NULL)
			continue;
		r = vnode(c, s, json_array_get(inst, i), &sub);
		if (r < 0)
			return -1;
		if (r == 0)
			FAIL_FAST();
	}
	return ok;
}

static const struct jprop *
prop_find(const struct jnode *n, const char *key)
{
	size_t lo = 0, hi = n->n_props;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(key, n->props[mid].name);

		if (cmp == 0)
			return &n->props[mid];
		if (cmp < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static int
v_object(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	size_t i, size = json_object_size(inst);
	const char *key;
	json_t *val;
	int ok = 1, r;
	struct vpath sub;

	if (n->max_props >= 0 && size > (size_t)n->max_props) {
		report(c, p, NULL, "maxProperties", NULL, "may only have a maximum of %ld properties",
		    n->max_props);
		FAIL_FAST();
	}
	if (n->min_props >= 0 && size < (size_t)n->min_props) {
		report(c, p, NULL, "minProperties", NULL, "should have a minimum of %ld properties",
		    n->min_props);
		FAIL_FAST();
	}
	for (i = 0; i < n->n_required; i++)
		if (json_object_get(inst, n->required[i]) == NULL) {
			report(c, p, n->required[i], "required", json_pack("[s]", n->required[i]),
			    "is missing but it is required");
			FAIL_FAST();
		}
	for (i = 0; i < n->n_deps; i++) {
		const struct jdep *d = &n->deps[i];
		size_t j;

		if (json_object_get(inst, d->name) == NULL)
			continue;
		if (d->names != NULL) {
			for (j = 0; j < json_array_size(d->names); j++) {
				const char *need = json_string_value(json_array_get(d->names, j));

				if (json_object_get(inst, need) == NULL) {
					report(c, p, NULL, "dependencies", json_pack("[s]", need),
					    "has an error with dependencies: %s requires %s", d->name, need);
					FAIL_FAST();
				}
			}
		} else {
			r = vnode(c, d->schema, inst, p);
			if (r < 0)
				return -1;
			if (r == 0)
				FAIL_FAST();
		}
	}
	sub.up = p;
	json_object_foreach((json_t *)inst, key, val) {
		const struct jprop *pr = n->n_props ? prop_find(n, key) : NULL;
		int matched = pr != NULL;

		sub.key = key;
		sub.idx = 0;
		if (pr != NULL) {
			r = vnode(c, pr->schema, val, &sub);
			if (r < 0)
				return -1;
			if (r == 0)
				FAIL_FAST();
		}
		for (i = 0; i < n->n_pprops; i++) {
			int m = pat_match(&n->pprops[i], key, strlen(key));

			if (m < 0)
				return -1;
			if (m == 0)
				continue;
			matched = 1;
			r = vnode(c, n->pprops[i].schema, val, &sub);
			if (r < 0)
				return -1;
			if (r == 0)
				FAIL_FAST();
		}
		if (matched || n->addl_props == -1)
			continue;
		if (n->addl_props == 0) {
			report(c, p, key, "additionalProperties", json_pack("[s]", key),
			    "is not defined in the schema and the schema does not allow additional "
			    "properties");
			FAIL_FAST();
			continue;
		}
		r = vnode(c, n->addl_props_schema, val, &sub);
		if (r < 0)
			return -1;
		if (r == 0)
			FAIL_FAST();
	}
	return ok;
}

/* Try n in fast mode: 1 valid, 0 invalid, -1 internal failure. */
static int
v_quiet(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	struct vctx q = { NULL, c->depth, 0 };
	int r = vnode(&q, n, inst, p);

	if (q.internal_error)
		c->internal_error = 1;
	return r;
}

static int
v_combinators(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	size_t i, valid;
	int ok = 1, r;

	for (i = 0; i < n->n_all_of; i++) {
		r = vnode(c, n->all_of[i], inst, p);
		if (r < 0)
			return -1;
		if (r == 0)
			FAIL_FAST();
	}
	if (n->n_any_of > 0) {
		for (i = 0, r = 0; i < n->n_any_of && r == 0; i++)
			if ((r = v_quiet(c, n->any_of[i], inst, p)) < 0)
				return -1;
		if (r == 0) {
			FAIL_FAST();
			for (i = 0; i < n->n_any_of; i++)
				if (vnode(c, n->any_of[i], inst, p) < 0)
					return -1;
		}
	}
	if (n->n_one_of > 0) {
		for (i = 0, valid = 0; i < n->n_one_of; i++) {
			if ((r = v_quiet(c, n->one_of[i], inst, p)) < 0)
				return -1;
			valid += (size_t)r;
		}
		if (valid != 1) {
			FAIL_FAST();
			if (valid > 1) {
				report(c, p, NULL, "oneOf", NULL, "should be valid to one and only one "
				    "of the schemas, but %zu are valid", valid);
			} else {
				for (i = 0; i < n->n_one_of; i++)
					if (vnode(c, n->one_of[i], inst, p) < 0)
						return -1;
			}
		}
	}
	if (n->not_schema != NULL) {
		if ((r = v_quiet(c, n->not_schema, inst, p)) < 0)
			return -1;
		if (r == 1) {
			char t[200];

			report(c, p, NULL, "not", NULL, "should not be valid to the schema %s",
			    jtext(n->not_schema->src, t, sizeof(t)));
			FAIL_FAST();
		}
	}
	return ok;
}

static int
v_ref(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	const struct jnode *target = n->ref;

	if (n->ref_iglu != NULL && n->owner->ref_fn != NULL) {
		const struct jsonschema *s = n->owner->ref_fn(n->ref_iglu, n->owner->ref_arg);

		if (s != NULL)
			target = s->root;
	}
	if (target != NULL)
		return vnode(c, target, inst, p);
	if (n->ref_iglu != NULL) {
		report(c, p, NULL, "$ref", json_pack("[s]", n->ref_iglu),
		    "cannot resolve the schema %s", n->ref_iglu);
		return 0;
	}
	return 1;   /* unfetched remote reference: {} */
}

static int
vnode(struct vctx *c, const struct jnode *n, const json_t *inst, const struct vpath *p)
{
	unsigned t = type_of(inst);
	int ok = 1, r, type_failed = 0;

	if (c->depth >= JS_MAX_VALIDATE_DEPTH) {
		c->internal_error = 1;
		return -1;
	}
	c->depth++;
	if (n->types != 0 && !(n->types & t) && !(t == T_INT && (n->types & T_NUM))) {
		json_t *targets = NULL;

		if (c->reports != NULL) {
			size_t i;
			struct buf exp;

			buf_init(&exp, 1024);
			targets = json_array();
			json_array_append_new(targets, json_string(type_name(t)));
			for (i = 0; i < sizeof(TYPE_NAMES) / sizeof(TYPE_NAMES[0]); i++)
				if (n->types & TYPE_NAMES[i].bit) {
					json_array_append_new(targets, json_string(TYPE_NAMES[i].name));
					buf_printf(&exp, "%s%s", exp.len ? ", " : "", TYPE_NAMES[i].name);
				}
			report(c, p, NULL, "type", targets, "%s found, %s expected", type_name(t),
			    exp.data ? exp.data : "");
			buf_free(&exp);
		}
		if (c->reports == NULL) {
			c->depth--;
			return 0;
		}
		ok = 0;   /* like networknt, go on: enum, combinators and $ref still report */
		type_failed = 1;
	}
	if (n->enumv != NULL) {
		size_t i;

		for (i = 0; i < json_array_size(n->enumv); i++)
			if (js_equal(inst, json_array_get(n->enumv, i)))
				break;
		if (i == json_array_size(n->enumv)) {
			char tx[300];

			report(c, p, NULL, "enum", NULL,
			    "does not have a value in the enumeration %s", jtext(n->enumv, tx, sizeof(tx)));
			if (c->reports == NULL) {
				c->depth--;
				return 0;
			}
			ok = 0;
		}
	}
	switch (type_failed ? 0 : t) {   /* after a type failure its keywords stay silent */
	case T_INT:
	case T_NUM: r = v_number(c, n, inst, p); break;
	case T_STR: r = v_string(c, n, inst, p); break;
	case T_ARR: r = v_array(c, n, inst, p); break;
	case T_OBJ: r = v_object(c, n, inst, p); break;
	default:    r = 1; break;
	}
	if (r <= 0) {
		if (r < 0 || c->reports == NULL) {
			c->depth--;
			return r;
		}
		ok = 0;
	}
	if (n->n_all_of || n->n_any_of || n->n_one_of || n->not_schema) {
		r = v_combinators(c, n, inst, p);
		if (r <= 0) {
			if (r < 0 || c->reports == NULL) {
				c->depth--;
				return r;
			}
			ok = 0;
		}
	}
	if (n->has_ref) {
		r = v_ref(c, n, inst, p);
		if (r <= 0) {
			if (r < 0 || c->reports == NULL) {
				c->depth--;
				return r;
			}
			ok = 0;
		}
	}
	c->depth--;
	return ok;
}

int
jsonschema_validate(const struct jsonschema *s, const json_t *instance, json_t **reports)
{
	struct vctx c = { NULL, 0, 0 };
	int r;

	if (reports != NULL)
		*reports = NULL;
	if (s == NULL || instance == NULL)
		return -1;
	r = vnode(&c, s->root, instance, NULL);
	if (r < 0 || c.internal_error)
		return -1;
	if (r == 1 || reports == NULL)
		return r;
	/* Invalid: run again collecting every report. */
	c.reports = json_array();
	c.depth = 0;
	if (c.reports == NULL)
		return -1;
	r = vnode(&c, s->root, instance, NULL);
	if (r < 0 || c.internal_error) {
		json_decref(c.reports);
		return -1;
	}
	*reports = c.reports;
	return 0;
}

int
jsonschema_check_self_describing(const json_t *schema, json_t **issues)
{
	struct jsonschema *meta = builtin_meta(1), *compiled;
	json_t *reports = NULL, *r;
	size_t i;
	int rc;
	char err[300];

	if (issues != NULL)
		*issues = NULL;
	if (meta == NULL)
		return 0;
	rc = jsonschema_validate(meta, schema, &reports);
	if (rc == 1) {
		/* Valid against the meta-schema; it must also compile (patterns, $refs). */
		compiled = jsonschema_compile((json_t *)schema, NULL, NULL, err, sizeof(err));
		if (compiled != NULL) {
			jsonschema_free(compiled);
			return 1;
		}
		if (issues != NULL)
			*issues = json_pack("[{s:s, s:s}]", "path", "$", "message", err);
		return 0;
	}
	if (issues != NULL) {
		*issues = json_array();
		if (rc < 0) {
			json_array_append_new(*issues, json_pack("{s:s, s:s}", "path", "$",
			    "message", "the schema could not be checked (nested too deeply?)"));
		}
		for (i = 0; reports != NULL && i < json_array_size(reports); i++) {
			r = json_array_get(reports, i);
			json_array_append_new(*issues, json_pack("{s:O, s:O}", "path",
			    json_object_get(r, "path"), "message", json_object_get(r, "message")));
		}
	}
	json_decref(reports);
	return 0;
}

/* ---------- loading instances ---------- */

static size_t
json_depth(const json_t *j, size_t limit)
{
	size_t d = 0, x;

	if (limit == 0)
		return 1;
	if (json_is_array(j)) {
		size_t i;

		for (i = 0; i < json_array_size(j); i++)
			if ((x = json_depth(json_array_get(j, i), limit - 1)) > d)
				d = x;
		return d + 1;
	}
	if (json_is_object(j)) {
		const char *k;
		json_t *v;

		json_object_foreach((json_t *)j, k, v)
			if ((x = json_depth(v, limit - 1)) > d)
				d = x;
		return d + 1;
	}
	return 0;
}

/* 1 when the integer literal digits[0..n) (no sign) does not fit in int64 with that sign. */
static int
int_overflows(const char *digits, size_t n, int neg)
{
	const char *lim = neg ? "9223372036854775808" : "9223372036854775807";

	while (n > 1 && *digits == '0') {
		digits++;
		n--;
	}
	if (n != 19)
		return n > 19;
	return memcmp(digits, lim, 19) > 0;
}

/* Copy text, turning integer literals that overflow int64 into reals ("…" -> "….0"). */
static char *
promote_big_ints(const char *s, size_t len, size_t *outlen)
{
	struct buf b;
	size_t i = 0;

	buf_init(&b, len * 2 + 16);
	while (i < len) {
		char ch = s[i];

		if (ch == '"') {
			size_t j = i + 1;

			while (j < len && s[j] != '"')
				j += s[j] == '\\' ? 2 : 1;
			j = j < len ? j + 1 : len;
			buf_append(&b, s + i, j - i);
			i = j;
		} else if (ch == '-' || (ch >= '0' && ch <= '9')) {
			size_t j = i + (ch == '-'), k;
			int isint;

			k = j;
			while (k < len && s[k] >= '0' && s[k] <= '9')
				k++;
			isint = !(k < len && (s[k] == '.' || s[k] == 'e' || s[k] == 'E'));
			buf_append(&b, s + i, k - i);
			if (isint && k > j && int_overflows(s + j, k - j, ch == '-'))
				buf_append_str(&b, ".0");
			i = k;
		} else {
			buf_append_byte(&b, (uint8_t)ch);
			i++;
		}
	}
	*outlen = b.len;
	return b.data;
}

json_t *
jsonschema_json_loadb(const char *text, size_t len, size_t flags, size_t max_depth,
    json_error_t *error)
{
	json_t *j;
	json_error_t e;

	j = json_loadb(text, len, flags, &e);
	if (j == NULL && json_error_code(&e) == json_error_numeric_overflow) {
		size_t n;
		char *copy = promote_big_ints(text, len, &n);

		if (copy != NULL) {
			j = json_loadb(copy, n, flags, &e);
			free(copy);
		}
	}
	if (j == NULL) {
		if (error != NULL)
			*error = e;
		return NULL;
	}
	if (max_depth > 0 && json_depth(j, max_depth + 1) > max_depth) {
		json_decref(j);
		if (error != NULL) {
			memset(error, 0, sizeof(*error));
			snprintf(error->text, sizeof(error->text),
			    "invalid json: maximum allowed JSON depth exceeded");
		}
		return NULL;
	}
	return j;
}
