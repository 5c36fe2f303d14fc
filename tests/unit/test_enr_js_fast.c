/* Unit tests for enrich/enr_js_fast.c: which regexp sources the literal path of
 * RegExp.prototype.test takes, and differential tests of test, String.prototype.split and
 * decodeURIComponent against Duktape's own (kept from before the replacement) on fixed and
 * generated patterns, separators, subjects and flags, and on the class check, coercion
 * order, lastIndex and attribute details. */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "../../enrich/enr_js_fast.h"

static int
compiles(const char *src, unsigned flags)
{
	struct js_re_lit re;

	return js_re_lit_compile(&re, src, strlen(src), flags) == 0;
}

static int
lit_test(const char *src, unsigned flags, const char *s)
{
	struct js_re_lit re;

	ck_assert_int_eq(js_re_lit_compile(&re, src, strlen(src), flags), 0);
	return js_re_lit_test(&re, s, strlen(s));
}

START_TEST(literal_subset)
{
	ck_assert(compiles("Mobile|Android|iPhone", 0));
	ck_assert(compiles("bot|crawl|spider", JS_RE_FLAG_ICASE));
	ck_assert(compiles("^https:", 0));
	ck_assert(compiles("\\.example\\.com$", 0));
	ck_assert(compiles("a\\/b", 0));
	ck_assert(compiles("a||b", 0));
	ck_assert(compiles("utm_source=", JS_RE_FLAG_MULTILINE));
	ck_assert(!compiles("^a", JS_RE_FLAG_MULTILINE));     /* ^ after line terminators too */
	ck_assert(!compiles("a", JS_RE_FLAG_GLOBAL));          /* lastIndex is read and written */
	ck_assert(!compiles("(?:)", 0));
	ck_assert(!compiles("a.b", 0));
	ck_assert(!compiles("a*", 0));
	ck_assert(!compiles("a{2}", 0));
	ck_assert(!compiles("[ab]", 0));
	ck_assert(!compiles("\\d", 0));
	ck_assert(!compiles("\\bword", 0));
	ck_assert(!compiles("a^b", 0));
	ck_assert(!compiles("a$b", 0));
	ck_assert(!compiles("caf\xc3\xa9", 0));               /* ASCII only */
	ck_assert(!compiles("a\\", 0));
	ck_assert(!compiles("a|b|c|d|e|f|g|h|i|j|k|l|m|n|o|p|q", 0));

	ck_assert(lit_test("Mobile|Android|iPhone", 0, "Mozilla/5.0 (iPhone; CPU"));
	ck_assert(!lit_test("Mobile|Android|iPhone", 0, "Mozilla/5.0 (X11; Linux x86_64)"));
	ck_assert(!lit_test("mobile", 0, "Mobile"));
	ck_assert(lit_test("mobile", JS_RE_FLAG_ICASE, "xMOBILEx"));
	ck_assert(lit_test("^ab$", 0, "ab"));
	ck_assert(!lit_test("^ab$", 0, "abc"));
	ck_assert(lit_test("c$", 0, "abc"));
	ck_assert(!lit_test("^b", 0, "abc"));
	ck_assert(lit_test("x|", 0, "abc"));                   /* the empty alternative */
	ck_assert(lit_test("^$", 0, ""));
	ck_assert(!lit_test("k", JS_RE_FLAG_ICASE, "\xe2\x84\xaa"));   /* KELVIN SIGN */
}
END_TEST

/* Runs before the replacement: Duktape's test and its property's attributes. */
static const char JS_BEFORE[] =
    "var nativeTest = RegExp.prototype.test;\n"
    "var nativeDesc = JSON.stringify(Object.getOwnPropertyDescriptor(RegExp.prototype, 'test'));\n"
    "var nativeMeta = [nativeTest.length, nativeTest.name, JSON.stringify("
    "Object.getOwnPropertyDescriptor(nativeTest, 'name'))].join();\n"
    "var nativeSplit = String.prototype.split;\n"
    "var splitDesc = JSON.stringify(Object.getOwnPropertyDescriptor(String.prototype, 'split'));\n"
    "var splitMeta = [nativeSplit.length, nativeSplit.name, JSON.stringify("
    "Object.getOwnPropertyDescriptor(nativeSplit, 'name'))].join();\n"
    "var nativeDecode = decodeURIComponent;\n"
    "var decodeDesc = JSON.stringify(Object.getOwnPropertyDescriptor(this, 'decodeURIComponent'));\n"
    "var decodeMeta = [nativeDecode.length, nativeDecode.name, JSON.stringify("
    "Object.getOwnPropertyDescriptor(nativeDecode, 'name'))].join();\n";

/* The comparison; its value is "<cases> cases" followed by the differences, one a line. */
static const char JS_COMPARE[] =
    "(function () {\n"
    "  var fails = [], n = 0, i, j, k, seed = 12345;\n"
    "  function show(v) { try { return JSON.stringify(v); } catch (e) { return String(v); } }\n"
    "  function run(f) {\n"
    "    try { return 'ok:' + show(f()); } catch (e) { return 'throw:' + e.name + ':' + e.message; }\n"
    "  }\n"
    "  function same(what, a, b) { n++; if (a !== b) fails.push(what + ': native ' + a + ', replaced ' + b); }\n"
    "  function cmp(src, flags, s, li) {\n"
    "    var a, b;\n"
    "    try { a = new RegExp(src, flags); b = new RegExp(src, flags); } catch (e) { return; }\n"
    "    a.lastIndex = b.lastIndex = li;\n"
    "    same(show(src) + '/' + flags + ' on ' + show(s),\n"
    "        run(function () { return nativeTest.call(a, s); }) + ' lastIndex=' + a.lastIndex,\n"
    "        run(function () { return b.test(s); }) + ' lastIndex=' + b.lastIndex);\n"
    "  }\n"
    "  function rnd(m) { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return (seed >> 8) % m; }\n"
    "  var pats = ['Mobile|Android|iPhone', 'mobile|android', 'bot|crawler|spider', '^https?:', '^https:',\n"
    "    '\\\\.example\\\\.com$', 'a\\\\/b', 'a||b', '', '^', '$', '^$', '|', 'x$|^y', 'iPhone', 'ab',\n"
    "    'a.b', '(?:)', 'K', 'k', 's', 'S', 'i', 'I', '\\\\$', '\\\\^', '\\\\|', '\\\\-', 'a-b', '[ab]',\n"
    "    'a]', 'a}', '\\\\d', 'caf\\u00e9', '\\u00e9', 'utm_source=', '=', ' ', '\\\\\\\\', 'a\\\\.b'];\n"
    "  var subjects = ['', 'a', 'A', 'ab', 'AB', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile',\n"
    "    'Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0', 'https://shop.example.com/p?utm_source=x',\n"
    "    'http://x', 'x\\ny', 'y\\nx', 'a/b', 'a.b', 'axb', '\\u212a', '\\u017f', '\\u0131', '\\u0130',\n"
    "    'caf\\u00e9', 'CAF\\u00c9', '\\ud83d\\ude00', '\\ud83d', 'a\\ud83d', '$', '^', '|', '\\\\', 'a-b',\n"
    "    'GOOGLEBOT', 'Crawler', 'A]', 'a}', '1', 'a\\u2028b', 'x$y'];\n"
    "  var flagsets = ['', 'i', 'm', 'g', 'im', 'gi', 'gm'];\n"
    "  for (i = 0; i < pats.length; i++)\n"
    "    for (j = 0; j < subjects.length; j++)\n"
    "      for (k = 0; k < flagsets.length; k++)\n"
    "        cmp(pats[i], flagsets[k], subjects[j], (i + j) % 3 * 2);\n"
    "  var pieces = ['a', 'b', 'A', 'B', 'ab', 'Ab', '|', '|', '^', '$', '.', '\\\\.', '\\\\/', '\\\\\\\\',\n"
    "    '-', ' ', 'x', '\\u00e9', '\\u00df', 'K', 'k', 's', '\\u017f', '\\\\d', '*', '+', '?', '(', ')',\n"
    "    '[a]', '\\\\$', '\\\\^', '\\\\|', '\\\\-', '\\\\b', '{', '}', ']', '\\\\u0041', '\\\\x41', '\\\\n'];\n"
    "  var chars = ['a', 'b', 'A', 'B', 'x', '.', '-', ' ', '\\u00e9', '\\u00c9', '\\u00df', 'K', 'k', 's',\n"
    "    'S', '\\u017f', '\\n', '\\r', '$', '^', '|', '/', '\\\\', '\\ud83d\\ude00', '\\ud83d', '\\ude00',\n"
    "    '\\u212a', '\\u0131', '\\u0130', '\\u2028', '\\u0000', '1'];\n"
    "  var literal = ['a', 'b', 'A', 'B', 'ab', 'Ab', '|', '^', '$', '\\\\.', '\\\\/', '-', ' ', 'x',\n"
    "    'K', 'k', 's', 'S', 'i', 'I', '\\\\$', '\\\\^', '\\\\|', '\\\\\\\\', '.'];\n"
    "  var fl = ['', 'i', 'm', 'g', 'im', 'gi'];\n"
    "  for (i = 0; i < 30000; i++) {\n"
    "    var p = '', s = '', np = rnd(6), ns = rnd(9), from = i % 2 ? pieces : literal;\n"
    "    for (j = 0; j < np; j++) p += from[rnd(from.length)];\n"
    "    for (j = 0; j < ns; j++) s += chars[rnd(chars.length)];\n"
    "    cmp(p, fl[rnd(fl.length)], s, rnd(4));\n"
    "  }\n"
    "  /* this, coercions, order, lastIndex, attributes */\n"
    "  var thises = [{}, Object.create(/a/), Object.create(RegExp.prototype), new Proxy(/a/, {}),\n"
    "    null, undefined, 'a', 1, [], function () {}];\n"
    "  for (i = 0; i < thises.length; i++)\n"
    "    same('this #' + i, run(function () { return nativeTest.call(thises[i], 'a'); }),\n"
    "        run(function () { return RegExp.prototype.test.call(thises[i], 'a'); }));\n"
    "  function order(t, src, arg) {\n"
    "    var log = [], re = new RegExp(src);\n"
    "    re.lastIndex = { valueOf: function () { log.push('valueOf'); return 0; } };\n"
    "    var r = run(function () {\n"
    "      return t.call(re, { toString: function () { log.push('toString'); return arg; } });\n"
    "    });\n"
    "    return r + ' ' + log.join() + ' lastIndex=' + show(re.lastIndex);\n"
    "  }\n"
    "  same('order, match', order(nativeTest, 'ab', 'xaby'), order(RegExp.prototype.test, 'ab', 'xaby'));\n"
    "  same('order, none', order(nativeTest, 'ab', 'xy'), order(RegExp.prototype.test, 'ab', 'xy'));\n"
    "  function frozen(t, arg) { var re = Object.freeze(/ab/); re = re; return run(function () { return t.call(re, arg); }); }\n"
    "  same('frozen, match', frozen(nativeTest, 'ab'), frozen(RegExp.prototype.test, 'ab'));\n"
    "  same('frozen, none', frozen(nativeTest, 'x'), frozen(RegExp.prototype.test, 'x'));\n"
    "  same('no argument', run(function () { return nativeTest.call(/undefined/); }),\n"
    "      run(function () { return /undefined/.test(); }));\n"
    "  same('throwing toString', run(function () { return nativeTest.call(/a/, { toString: function () { throw new Error('ts'); } }); }),\n"
    "      run(function () { return /a/.test({ toString: function () { throw new Error('ts'); } }); }));\n"
    "  same('symbol', run(function () { return nativeTest.call(/a/, Symbol('a')); }),\n"
    "      run(function () { return /a/.test(Symbol('a')); }));\n"
    "  same('descriptor', nativeDesc.replace(/\"value\":[^,]*,/, ''),\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(RegExp.prototype, 'test')).replace(/\"value\":[^,]*,/, ''));\n"
    "  same('length, name', nativeMeta, [RegExp.prototype.test.length, RegExp.prototype.test.name,\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(RegExp.prototype.test, 'name'))].join());\n"
    "  /* split */\n"
    "  function sp(t, s, a) { return run(function () { return t.apply(s, a); }); }\n"
    "  function scmp(s, a) { same('split ' + show(s) + ' ' + show(a), sp(nativeSplit, s, a), sp(String.prototype.split, s, a)); }\n"
    "  var seps = ['?', '&', '=', 'a', 'aa', 'ab', '', ' ', '\\u00e9', '\\ud83d', '\\ude00', '\\ud83d\\ude00', '//', 'x'];\n"
    "  var strs = ['', 'a', 'aa', 'aaa', 'aaaa', 'abab', 'https://a.example/p?utm_source=news&utm_campaign=spring',\n"
    "    'k=v', 'k=', '=v', '&&', '?', 'caf\\u00e9\\u00e9', '\\ud83d\\ude00x\\ud83d\\ude00', '\\ud83d', 'x\\ude00y', 'a b  c'];\n"
    "  for (i = 0; i < strs.length; i++)\n"
    "    for (j = 0; j < seps.length; j++) {\n"
    "      scmp(strs[i], [seps[j]]);\n"
    "      scmp(strs[i], [seps[j], 2]);\n"
    "      scmp(strs[i], [seps[j], undefined]);\n"
    "    }\n"
    "  for (i = 0; i < 20000; i++) {\n"
    "    var t = '', sep = '', nt = rnd(12), nsep = 1 + rnd(3);\n"
    "    for (j = 0; j < nt; j++) t += chars[rnd(chars.length)];\n"
    "    for (j = 0; j < nsep; j++) sep += chars[rnd(chars.length)];\n"
    "    scmp(t, [sep]);\n"
    "    scmp(t, [t.charAt(rnd(t.length + 1))]);\n"
    "  }\n"
    "  var sthis = [null, undefined, 1, new String('a,b'), Symbol('s'), {toString: function () { return 'a,b'; }}];\n"
    "  for (i = 0; i < sthis.length; i++) scmp(sthis[i], [',']);\n"
    "  scmp('a,b', [/,/]);\n"
    "  scmp('a,b', [{ toString: function () { return ','; } }]);\n"
    "  scmp('a,b', [',', { valueOf: function () { return 1; } }]);\n"
    "  scmp('a,b', [Symbol(',')]);\n"
    "  scmp('a,b', []);\n"
    "  scmp('a1b1c', [1]);\n"
    "  same('split descriptor', splitDesc.replace(/\"value\":[^,]*,/, ''),\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(String.prototype, 'split')).replace(/\"value\":[^,]*,/, ''));\n"
    "  same('split length, name', splitMeta, [String.prototype.split.length, String.prototype.split.name,\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(String.prototype.split, 'name'))].join());\n"
    "  var r = 'a,b'.split(','); r.push('c');\n"
    "  same('split result array', '[\"a\",\"b\",\"c\"] 3 true', JSON.stringify(r) + ' ' + r.length + ' ' + Array.isArray(r));\n"
    "  /* decodeURIComponent */\n"
    "  function dcmp(a) { same('decode ' + show(a), run(function () { return nativeDecode.apply(null, a); }),\n"
    "      run(function () { return decodeURIComponent.apply(null, a); })); }\n"
    "  var dargs = [[], [undefined], [null], [1.5], [true], ['spring'], [''], ['a%20b'], ['%'], ['%zz'], ['%C3%A9'],\n"
    "    ['%C3'], ['caf\\u00e9'], ['\\ud83d'], ['\\ud83d\\ude00'], ['a+b'], [{ toString: function () { return 'x%41'; } }],\n"
    "    [{ toString: function () { return 'plain'; } }], [Symbol('x')], [new String('s')]];\n"
    "  for (i = 0; i < dargs.length; i++) dcmp(dargs[i]);\n"
    "  for (i = 0; i < 5000; i++) {\n"
    "    var d = '', nd = rnd(8), dc = ['a', '%', '2', '0', 'C', '3', 'A', '9', '\\u00e9', '\\ud83d', '+', ' '];\n"
    "    for (j = 0; j < nd; j++) d += dc[rnd(dc.length)];\n"
    "    dcmp([d]);\n"
    "  }\n"
    "  same('decode descriptor', decodeDesc.replace(/\"value\":[^,]*,/, ''),\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(this, 'decodeURIComponent')).replace(/\"value\":[^,]*,/, ''));\n"
    "  same('decode length, name', decodeMeta, [decodeURIComponent.length, decodeURIComponent.name,\n"
    "      JSON.stringify(Object.getOwnPropertyDescriptor(decodeURIComponent, 'name'))].join());\n"
    "  return n + ' cases\\n' + fails.slice(0, 20).join('\\n');\n"
    "})()";

static duk_ret_t
install_cb(duk_context *ctx, void *udata)
{
	(void)udata;
	js_fast_install(ctx);
	return 0;
}

START_TEST(same_as_duktape)
{
	duk_context *ctx = duk_create_heap_default();
	const char *out;
	long cases;
	unsigned long ntest, nsplit, ndecode;

	ck_assert_ptr_nonnull(ctx);
	ck_assert_int_eq(duk_peval_string(ctx, JS_BEFORE), 0);
	duk_pop(ctx);
	ck_assert_int_eq(duk_safe_call(ctx, install_cb, NULL, 0, 1), 0);
	duk_pop(ctx);
	if (duk_peval_string(ctx, JS_COMPARE) != 0)
		ck_abort_msg("the comparison threw: %s", duk_safe_to_string(ctx, -1));
	out = duk_get_string(ctx, -1);
	ck_assert_ptr_nonnull(out);
	cases = strtol(out, NULL, 10);
	ck_assert_msg(strchr(out, '\n')[1] == '\0', "differences:\n%s", out);
	ck_assert_msg(cases > 20000, "only %ld cases", cases);
	js_fast_counts(&ntest, &nsplit, &ndecode);
	ck_assert_msg(ntest > 5000, "the literal path of test answered %lu times", ntest);
	ck_assert_msg(nsplit > 20000, "the faster split answered %lu times", nsplit);
	ck_assert_msg(ndecode > 1000, "the faster decodeURIComponent answered %lu times", ndecode);
	duk_destroy_heap(ctx);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_js_fast");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, literal_subset);
	tcase_add_test(tc, same_as_duktape);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
