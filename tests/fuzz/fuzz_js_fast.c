/*
 * libFuzzer target: the faster paths of RegExp.prototype.test, String.prototype.split and
 * decodeURIComponent (enrich/enr_js_fast.c) against Duktape's own, in one heap where both
 * exist. The input is split on the first two '\n': a pattern (new RegExp's source, and split's
 * separator), the flags (any of g, i, m; others make RegExp throw, which skips test), the
 * subject (any bytes: what is not valid UTF-8 goes to Duktape's own test). test is called on
 * fresh regexps with the same lastIndex; their results, thrown errors and lastIndex afterwards
 * must be the same, and so must split's pieces and decodeURIComponent's result for the subject.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/enr_js_fast.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static duk_context *fz_ctx;

static const char FZ_COMPARE[] =
    "(function (src, flags, s) {\n"
    "  function run(f) {\n"
    "    try { return 'ok:' + f(); } catch (e) { return 'throw:' + e.name + ':' + e.message; }\n"
    "  }\n"
    "  var a, b, p = run(function () { return nativeSplit.call(s, src).join('\\u0001'); }),\n"
    "      q = run(function () { return String.prototype.split.call(s, src).join('\\u0001'); });\n"
    "  if (p !== q) return 'split: native ' + p + ', replaced ' + q;\n"
    "  p = run(function () { return nativeDecode(s); }); q = run(function () { return decodeURIComponent(s); });\n"
    "  if (p !== q) return 'decodeURIComponent: native ' + p + ', replaced ' + q;\n"
    "  try { a = new RegExp(src, flags); b = new RegExp(src, flags); } catch (e) { return ''; }\n"
    "  a.lastIndex = b.lastIndex = s.length % 3;\n"
    "  var x = run(function () { return nativeTest.call(a, s); }) + ' lastIndex=' + a.lastIndex;\n"
    "  var y = run(function () { return b.test(s); }) + ' lastIndex=' + b.lastIndex;\n"
    "  return x === y ? '' : 'native ' + x + ', replaced ' + y;\n"
    "})";

static duk_ret_t
fz_install_cb(duk_context *ctx, void *udata)
{
	(void)udata;
	js_fast_install(ctx);
	return 0;
}

static void
fz_init(void)
{
	if ((fz_ctx = duk_create_heap_default()) == NULL ||
	    duk_peval_string(fz_ctx, "var nativeTest = RegExp.prototype.test, nativeSplit = String.prototype.split, "
	    "nativeDecode = decodeURIComponent;") != 0)
		abort();
	duk_pop(fz_ctx);
	if (duk_safe_call(fz_ctx, fz_install_cb, NULL, 0, 1) != 0)
		abort();
	duk_pop(fz_ctx);
	if (duk_peval_string(fz_ctx, FZ_COMPARE) != 0)     /* the function stays at index 0 */
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *nl1, *nl2, *out;

	if (fz_ctx == NULL)
		fz_init();
	if ((nl1 = memchr(p, '\n', size)) == NULL ||
	    (nl2 = memchr(nl1 + 1, '\n', size - (size_t)(nl1 + 1 - p))) == NULL)
		return 0;
	duk_dup(fz_ctx, 0);
	duk_push_lstring(fz_ctx, p, (size_t)(nl1 - p));
	duk_push_lstring(fz_ctx, nl1 + 1, (size_t)(nl2 - nl1 - 1));
	duk_push_lstring(fz_ctx, nl2 + 1, size - (size_t)(nl2 + 1 - p));
	if (duk_pcall(fz_ctx, 3) != 0)
		abort();             /* the comparison catches everything it calls */
	out = duk_get_string(fz_ctx, -1);
	if (out == NULL || *out != '\0') {
		fprintf(stderr, "fuzz_js_fast: %s\n", out ? out : "?");
		abort();
	}
	duk_pop(fz_ctx);
	return 0;
}
