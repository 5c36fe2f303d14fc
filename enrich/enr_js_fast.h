/*
 * enr_js_fast: faster paths for two Duktape builtins the enrichment's scripts lean on, with
 * Duktape's results: RegExp.prototype.test for the regular expressions that are literal
 * strings (alternatives of plain characters, each optionally anchored with ^ and $:
 * /Mobile|Android|iPhone/, /^bot$/i), String.prototype.split with a string separator,
 * decodeURIComponent of a string without escapes. See
 * enr_js_fast.c.
 */
#ifndef ENR_JS_FAST_H
#define ENR_JS_FAST_H

#include <stddef.h>

#include <duktape.h>

#define JS_RE_MAXALT  16      /* alternatives */
#define JS_RE_MAXSRC  256     /* bytes of the pattern's source */

/* Duktape's regexp flags, the first byte of a compiled regexp's bytecode */
#define JS_RE_FLAG_GLOBAL     0x01
#define JS_RE_FLAG_ICASE      0x02
#define JS_RE_FLAG_MULTILINE  0x04

struct js_re_alt {
	const char *s;        /* into js_re_lit.buf; lower case under JS_RE_FLAG_ICASE */
	size_t      len;
	int         at_start; /* ^ */
	int         at_end;   /* $ */
};

struct js_re_lit {
	int              icase;
	int              nalt;
	struct js_re_alt alt[JS_RE_MAXALT];
	char             buf[JS_RE_MAXSRC];
};

/* The regexp with this source text (as RegExp's source property shows it) and flags as
 * literal alternatives: 0, or -1 when it is anything else (then Duktape's matcher decides). */
int js_re_lit_compile(struct js_re_lit *re, const char *src, size_t len, unsigned flags);

/* 1 when the regexp matches somewhere in s (len bytes of valid UTF-8), else 0. */
int js_re_lit_test(const struct js_re_lit *re, const char *s, size_t len);

/* Replace RegExp.prototype.test, String.prototype.split and decodeURIComponent in ctx's heap by functions that
 * take the faster path where they can and call Duktape's own otherwise. Call it in a
 * protected call (it allocates), before any script runs. */
void js_fast_install(duk_context *ctx);

/* How many calls of test, split and decodeURIComponent the faster paths answered (for the
 * tests). */
void js_fast_counts(unsigned long *test, unsigned long *split, unsigned long *decode);

#endif
