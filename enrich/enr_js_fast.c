/*
 * enr_js_fast: faster paths for RegExp.prototype.test, String.prototype.split and
 * decodeURIComponent in the JavaScript enrichment's heaps, giving what Duktape's own give.
 *
 * test. Duktape matches a regular expression with a backtracking bytecode interpreter that
 * decodes the subject one code point at a time, at every start position, for every
 * alternative: on the benchmark's /Mobile|Android|iPhone/.test(useragent) that was a fifth of
 * the enrichment's cost. The regexps scripts test user agents and URLs with are mostly literal
 * strings, so test() looks at the compiled regexp's source text and flags: when the source is
 * alternatives of plain printable ASCII characters (or \ before one of ^$\.*+?()[]{}|/),
 * each optionally anchored with a leading ^ and a trailing $, the flags are at most i and m
 * (and m only without anchors), and the subject is valid UTF-8, the answer is whether one of
 * the literals occurs in the subject (at its start or end when anchored), which is what
 * ECMAScript's semantics give for such a pattern: a match exists when an alternative matches
 * at some position. Under i, ES5's Canonicalize maps no non-ASCII character to an ASCII one,
 * so comparing ASCII letters without case and everything else byte for byte is exact.
 * Everything else (global regexps, classes, quantifiers, groups, escapes like \d, subjects that
 * are not valid UTF-8, a this that is not a RegExp) goes to Duktape's own test, which this
 * keeps in the heap stash. The observable steps are the native ones in the native order: the
 * class check, ToString of the argument, ToInteger of lastIndex, lastIndex set to 0 when
 * nothing matches (ES5 15.10.6.2 step 9.a, which Duktape applies to non-global regexps too).
 *
 * split. With a string separator Duktape calls memcmp at every byte of the subject; here a
 * string this, a non-empty string separator and no limit take memmem, which finds the same
 * leftmost non-overlapping byte matches (Duktape's own search is bytewise too), and the
 * pieces go into the array as Duktape puts them. Anything else is Duktape's own split.
 *
 * decodeURIComponent. A string without % (most query values) decodes to itself; Duktape's
 * own decodes it a code point at a time. Anything else is Duktape's own.
 *
 * test_enr_js_fast compares each with Duktape's own on many inputs; fuzz_js_fast does so on
 * arbitrary ones.
 */
#include <string.h>

#include "enr_js_fast.h"
#include "utf8.h"

#define JS_RE_STASH_KEY  "\xff" "furrowRegExpTest"
#define JS_SPLIT_STASH_KEY "\xff" "furrowStringSplit"
#define JS_DECODE_STASH_KEY "\xff" "furrowDecodeURIComponent"
#define JS_RE_PROTO_KEY  "\xff" "furrowRegExpProto"
#define JS_RE_BYTECODE   "\x82" "Bytecode"          /* Duktape's internal properties */
#define JS_RE_SOURCE     "\x82" "Source"

static unsigned long js_re_literal_calls;    /* for the tests: how often the faster paths */
static unsigned long js_split_fast_calls;    /* answered */
static unsigned long js_decode_fast_calls;

void
js_fast_counts(unsigned long *test, unsigned long *split, unsigned long *decode)
{
	*test = js_re_literal_calls;
	*split = js_split_fast_calls;
	*decode = js_decode_fast_calls;
}

static int
js_re_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* 1 when c is a pattern's special character. */
static int
js_re_special(int c)
{
	switch (c) {
	case '^': case '$': case '\\': case '.': case '*': case '+': case '?': case '(': case ')':
	case '[': case ']': case '{': case '}': case '|': case '/':
		return 1;
	default:
		return 0;
	}
}

int
js_re_lit_compile(struct js_re_lit *re, const char *src, size_t len, unsigned flags)
{
	size_t i = 0, n = 0;
	struct js_re_alt *a;

	if (len > JS_RE_MAXSRC || (flags & ~(unsigned)(JS_RE_FLAG_ICASE | JS_RE_FLAG_MULTILINE)))
		return -1;
	re->icase = (flags & JS_RE_FLAG_ICASE) != 0;
	re->nalt = 0;
	for (;;) {
		if (re->nalt == JS_RE_MAXALT)
			return -1;
		a = &re->alt[re->nalt++];
		a->s = re->buf + n;
		a->len = 0;
		a->at_start = a->at_end = 0;
		if (i < len && src[i] == '^') {
			a->at_start = 1;
			i++;
		}
		while (i < len && src[i] != '|') {
			int c = (unsigned char)src[i];
			if (c == '$' && (i + 1 == len || src[i + 1] == '|')) {
				a->at_end = 1;
				i++;
				break;
			}
			if (c == '\\') {
				if (i + 1 == len || !js_re_special((unsigned char)src[i + 1]))
					return -1;
				c = (unsigned char)src[++i];
			} else if (c < 0x20 || c > 0x7e || js_re_special(c)) {
				return -1;
			}
			re->buf[n++] = (char)(re->icase ? js_re_lower(c) : c);
			a->len++;
			i++;
		}
		if ((a->at_start || a->at_end) && (flags & JS_RE_FLAG_MULTILINE))
			return -1;
		if (i == len)
			return 0;
		i++;                            /* the | */
	}
}

/* 1 when s starts with the literal a (len bytes), without case under icase. */
static int
js_re_eq(const char *s, const char *a, size_t len, int icase)
{
	size_t i;

	if (!icase)
		return memcmp(s, a, len) == 0;
	for (i = 0; i < len; i++)
		if (js_re_lower((unsigned char)s[i]) != (unsigned char)a[i])
			return 0;
	return 1;
}

static int
js_re_find(const char *s, size_t len, const char *a, size_t alen, int icase)
{
	size_t i;
	int c0, u0;

	if (alen == 0)
		return 1;
	if (alen > len)
		return 0;
	if (!icase)
		return memmem(s, len, a, alen) != NULL;
	c0 = (unsigned char)a[0];
	u0 = c0 >= 'a' && c0 <= 'z' ? c0 - 32 : c0;
	for (i = 0; i + alen <= len; i++)
		if (((unsigned char)s[i] == c0 || (unsigned char)s[i] == u0) &&
		    js_re_eq(s + i + 1, a + 1, alen - 1, 1))
			return 1;
	return 0;
}

int
js_re_lit_test(const struct js_re_lit *re, const char *s, size_t len)
{
	int i;

	for (i = 0; i < re->nalt; i++) {
		const struct js_re_alt *a = &re->alt[i];
		if (a->at_start && a->at_end) {
			if (len == a->len && js_re_eq(s, a->s, len, re->icase))
				return 1;
		} else if (a->at_start) {
			if (len >= a->len && js_re_eq(s, a->s, a->len, re->icase))
				return 1;
		} else if (a->at_end) {
			if (len >= a->len && js_re_eq(s + len - a->len, a->s, a->len, re->icase))
				return 1;
		} else if (js_re_find(s, len, a->s, a->len, re->icase)) {
			return 1;
		}
	}
	return 0;
}

/* Duktape's own test, on this and the argument at index 0. */
static duk_ret_t
js_re_native(duk_context *ctx)
{
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JS_RE_STASH_KEY);
	duk_push_this(ctx);
	duk_dup(ctx, 0);
	duk_call_method(ctx, 1);
	return 1;
}

/*
 * The last few sources compiled, by their text and flags (compiling is a pure function of
 * them, so the cache serves every heap of the thread), including those outside the literal
 * subset.
 */
#define JS_RE_CACHE 8

struct js_re_cache_ent {
	int              used, ok;
	unsigned         flags;
	size_t           len;
	char             src[JS_RE_MAXSRC];
	struct js_re_lit re;
};

static _Thread_local struct js_re_cache_ent js_re_cache[JS_RE_CACHE];
static _Thread_local unsigned js_re_cache_next;

/* The source compiled, or NULL: not a literal pattern. */
static const struct js_re_lit *
js_re_cached(const char *src, size_t len, unsigned flags)
{
	struct js_re_cache_ent *c;
	unsigned i;

	if (len > JS_RE_MAXSRC)
		return NULL;
	for (i = 0; i < JS_RE_CACHE; i++) {
		c = &js_re_cache[i];
		if (c->used && c->len == len && c->flags == flags && memcmp(c->src, src, len) == 0)
			return c->ok ? &c->re : NULL;
	}
	c = &js_re_cache[js_re_cache_next++ % JS_RE_CACHE];
	c->used = 1;
	c->flags = flags;
	c->len = len;
	memcpy(c->src, src, len);
	c->ok = js_re_lit_compile(&c->re, src, len, flags) == 0;
	return c->ok ? &c->re : NULL;
}

static duk_ret_t
js_re_test_cb(duk_context *ctx)
{
	const struct js_re_lit *re;
	const char *bc, *src, *s;
	duk_size_t bclen, srclen, len;
	int hit;

	/* [ input ] the class check: this has its own bytecode property, which only a RegExp
	 * instance can have (scripts cannot name Duktape's internal properties), and the
	 * builtin RegExp.prototype as its prototype, which a Proxy (whose internal properties
	 * are its target's) does not have */
	duk_push_this(ctx);                                   /* [ input this ] */
	if (!duk_is_object(ctx, 1))
		return js_re_native(ctx);
	duk_get_prototype(ctx, 1);                            /* [ input this proto ] */
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JS_RE_PROTO_KEY);       /* [ input this proto stash P ] */
	if (duk_get_heapptr(ctx, 2) == NULL || duk_get_heapptr(ctx, 2) != duk_get_heapptr(ctx, 4) ||
	    duk_has_prop_literal(ctx, 2, JS_RE_BYTECODE))
		return js_re_native(ctx);                     /* would be inherited: no RegExp */
	duk_pop_3(ctx);
	duk_get_prop_literal(ctx, 1, JS_RE_BYTECODE);         /* [ input this bc ] */
	if (!duk_is_string(ctx, 2))
		return js_re_native(ctx);
	/* the bytecode and source properties are neither writable nor configurable: what
	 * ToString may run cannot change them */
	s = duk_to_lstring(ctx, 0, &len);                     /* ToString(input), in place */
	if (utf8_valid_prefix(s, len) != len)
		return js_re_native(ctx);
	duk_get_prop_literal(ctx, 1, JS_RE_SOURCE);           /* [ input this bc src ] */
	bc = duk_get_lstring(ctx, 2, &bclen);
	src = duk_get_lstring(ctx, 3, &srclen);
	if (bc == NULL || bclen == 0 || (unsigned char)bc[0] >= 0x80 || src == NULL ||
	    (re = js_re_cached(src, srclen, (unsigned char)bc[0])) == NULL)
		return js_re_native(ctx);
	duk_get_prop_literal(ctx, 1, "lastIndex");            /* read and coerced, unused */
	(void)duk_to_int(ctx, -1);
	duk_pop(ctx);
	hit = js_re_lit_test(re, s, len);
	js_re_literal_calls++;
	if (!hit) {
		duk_push_int(ctx, 0);
		duk_put_prop_literal(ctx, 1, "lastIndex");
	}
	duk_push_boolean(ctx, hit);
	return 1;
}

/* String.prototype.split: Duktape's own, on this and the arguments at 0 and 1. */
static duk_ret_t
js_split_native(duk_context *ctx)
{
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JS_SPLIT_STASH_KEY);
	duk_push_this(ctx);
	duk_dup(ctx, 0);
	duk_dup(ctx, 1);
	duk_call_method(ctx, 2);
	return 1;
}

static duk_ret_t
js_split_cb(duk_context *ctx)
{
	const char *s, *sep, *p, *m;
	duk_size_t len, seplen;
	duk_uarridx_t n = 0;

	duk_push_this(ctx);                                   /* [ sep limit this ] */
	if (!duk_is_string(ctx, 2) || duk_is_symbol(ctx, 2) || !duk_is_string(ctx, 0) ||
	    duk_is_symbol(ctx, 0) || !duk_is_undefined(ctx, 1))
		return js_split_native(ctx);
	s = duk_get_lstring(ctx, 2, &len);
	sep = duk_get_lstring(ctx, 0, &seplen);
	if (s == NULL || sep == NULL || seplen == 0)
		return js_split_native(ctx);
	duk_push_array(ctx);                                  /* [ sep limit this result ] */
	js_split_fast_calls++;
	p = s;
	while ((size_t)(s + len - p) >= seplen &&
	    (m = memmem(p, (size_t)(s + len - p), sep, seplen)) != NULL) {
		duk_push_lstring(ctx, p, (size_t)(m - p));
		duk_put_prop_index(ctx, 3, n++);
		p = m + seplen;
	}
	duk_push_lstring(ctx, p, (size_t)(s + len - p));      /* the rest, also of "" */
	duk_put_prop_index(ctx, 3, n);
	return 1;
}

/* decodeURIComponent: a string without % decodes to itself (ES5 15.1.3.2: only % starts an
 * escape); Duktape's own walks it a code point at a time. The rest goes to Duktape's. */
static duk_ret_t
js_decode_uric_cb(duk_context *ctx)
{
	const char *s;
	duk_size_t len;

	if (duk_is_string(ctx, 0) && !duk_is_symbol(ctx, 0) &&
	    (s = duk_get_lstring(ctx, 0, &len)) != NULL && memchr(s, '%', len) == NULL &&
	    utf8_valid_prefix(s, len) == len) {
		js_decode_fast_calls++;
		duk_dup(ctx, 0);
		return 1;
	}
	duk_push_heap_stash(ctx);
	duk_get_prop_literal(ctx, -1, JS_DECODE_STASH_KEY);
	duk_dup(ctx, 0);
	duk_call(ctx, 1);
	return 1;
}

/* Replace proto[name] by fn (nargs arguments), keeping the old one in the stash under key;
 * ctor NULL: the global object's property. */
static void
js_fast_replace(duk_context *ctx, const char *ctor, const char *name, duk_c_function fn,
    duk_idx_t nargs, const char *key)
{
	if (ctor != NULL) {
		duk_get_global_string(ctx, ctor);
		duk_get_prop_literal(ctx, -1, "prototype");   /* [ ctor proto ] */
	} else {
		duk_push_global_object(ctx);
		duk_dup_top(ctx);                             /* [ global global ] */
	}
	duk_push_heap_stash(ctx);
	duk_get_prop_string(ctx, -2, name);
	duk_put_prop_string(ctx, -2, key);
	duk_pop(ctx);
	duk_push_string(ctx, name);
	duk_push_c_function(ctx, fn, nargs);
	duk_push_literal(ctx, "name");
	duk_push_string(ctx, name);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_CLEAR_WRITABLE |
	    DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE | DUK_DEFPROP_FORCE);
	duk_def_prop(ctx, -3, DUK_DEFPROP_HAVE_VALUE | DUK_DEFPROP_SET_WRITABLE |
	    DUK_DEFPROP_CLEAR_ENUMERABLE | DUK_DEFPROP_SET_CONFIGURABLE);
	duk_pop_2(ctx);
}

void
js_fast_install(duk_context *ctx)
{
	duk_push_heap_stash(ctx);
	duk_get_global_literal(ctx, "RegExp");
	duk_get_prop_literal(ctx, -1, "prototype");
	duk_put_prop_literal(ctx, -3, JS_RE_PROTO_KEY);
	duk_pop_2(ctx);
	js_fast_replace(ctx, "RegExp", "test", js_re_test_cb, 1, JS_RE_STASH_KEY);
	js_fast_replace(ctx, "String", "split", js_split_cb, 2, JS_SPLIT_STASH_KEY);
	js_fast_replace(ctx, NULL, "decodeURIComponent", js_decode_uric_cb, 1, JS_DECODE_STASH_KEY);
}
