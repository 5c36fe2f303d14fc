/*
 * enr_javascript: javascript_script_config (iglu:com.snowplowanalytics.snowplow/
 * javascript_script_config/jsonschema/1-0-*), upstream's JavascriptScriptEnrichment.
 *
 * The script (base64 in parameters.script) is compiled once per enrich process in its own
 * Duktape heap and must define process(event, params, headers):
 *  - event has upstream's bean getters and setters for every atomic column
 *    (event.getApp_id(), event.setMkt_source("x"), also as properties: event.app_id), and
 *    getContexts/setContexts, getUnstruct_event/setUnstruct_event (JSON text, as upstream),
 *    getDerived_contexts (the derived contexts so far), getPii/setPii, drop() and
 *    eraseDerived_contexts();
 *  - params is parameters.config (1-0-1) or {}; headers the collector's headers as strings;
 *  - the return value (null or undefined: none) goes through JSON.stringify and must be an
 *    array of self-describing JSONs, which become derived contexts (replacing the earlier
 *    ones after eraseDerived_contexts()).
 * Failures are upstream's messages ("Error during execution of JavaScript function: [...]",
 * "... could be parsed as JSON but is not read as an array", "Resulting contexts are not
 * self-desribing ..."), identifier "Javascript enrichment". A script that does not compile,
 * throws at its top level or defines no process function is refused at startup (upstream's
 * exitOnCompileError). drop() discards the event (no output, no bad row).
 *
 * Budgets: each call of process may run JS_TIME_BUDGET_MS and the heap may hold
 * JS_MEMORY_BUDGET bytes; past either the call fails (a bad row) and the next event runs as
 * usual. The time check is Duktape's DUK_USE_EXEC_TIMEOUT_CHECK hook, which the Makefile
 * builds into its copy of Debian's Duktape source: enr_js_timeout_check below.
 *
 * The engine is Duktape 2.7: ECMAScript 5.1 plus some later additions (const, typed arrays,
 * String.prototype.startsWith ...). Upstream runs Nashorn in ES6 mode: scripts using let,
 * for ... of, arrow functions, template literals, Set or Map must be written in ES5. Java
 * classes (Java.type, java.*) do not exist here.
 */
#include <duktape.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "conv.h"
#include "enr.h"
#include "enr_js_fast.h"
#include "enrich.h"
#include "fnv.h"
#include "iglu.h"
#include "jnum.h"
#include "jsonw.h"
#include "timefmt.h"
#include "utf8.h"
#include "pct.h"

#define JS_TIME_BUDGET_MS   1000                  /* per call of process (and at startup) */
#define JS_MEMORY_BUDGET    ((size_t)64 << 20)    /* bytes the script's heap may hold */
#define JS_SCRIPT_MAX       ((size_t)1 << 20)     /* decoded script size */
#define JS_RESULT_MAX       ((size_t)4 << 20)     /* JSON text process may return */
#define JS_FILENAME         "<eval>"
#define JS_IDENTIFIER       "Javascript enrichment"
#define JS_IDX_STASH        0     /* the heap's value stack between calls: the global stash */
#define JS_IDX_EVENT        1     /* the event object */
#define JS_IDX_PARAMS       2     /* params */

/* Columns that are not plain bean properties: upstream keeps them as parsed JSON. */
#define JS_SPECIAL_COL(c) ((c) == COL_CONTEXTS || (c) == COL_UNSTRUCT_EVENT || \
	(c) == COL_DERIVED_CONTEXTS)

/* ---- allocator and budgets ---- */

/*
 * Duktape allocates and frees a few dozen small blocks for every call of process (strings,
 * objects, their property tables), which cost glibc's malloc and free more than the script's
 * own work on them. Blocks up to JS_POOL_MAX bytes come from free lists, one per 16-byte size
 * class, which keep at most JS_POOL_KEEP bytes between events; larger ones are malloc's. Each
 * block has a header with its size, so that the memory budget counts what the heap holds (a
 * pooled block at its class's size). Under AddressSanitizer every block is malloc's, so that
 * the sanitizer sees Duktape's use of its memory.
 */
#define JS_HDR        16                    /* size header, keeps malloc's alignment */
#define JS_POOL_MAX   512
#define JS_POOL_KEEP  ((size_t)4 << 20)
#define JS_NCLASS     (JS_POOL_MAX / 16)

#if defined(__SANITIZE_ADDRESS__)
#define JS_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define JS_POOL 0
#endif
#endif
#ifndef JS_POOL
#define JS_POOL 1
#endif

struct js_pool {
	void   *free[JS_NCLASS];   /* per class: blocks (their headers) linked through the body */
	size_t  kept;              /* bytes on the lists */
};

/*
 * Results by their JSON.stringify text. Scripts return the same contexts for many events (a
 * category, a flag, a campaign), and reading the text into jansson and checking it costs more
 * than the script's own work on them. The same text gives the same contexts, so a text seen
 * before gets the same entities again: shared and never modified (enrich_impl.h's phase-3
 * cache relies on that too, and skips validating and writing an entity it has seen), which
 * also spares enrich validating them again. Direct-mapped by the text's hash; only texts that
 * were read without error and are at most JS_RCACHE_MAXTEXT bytes.
 */
#define JS_RCACHE_SLOTS   256
#define JS_RCACHE_MAXTEXT 2048

struct js_rcache_slot {
	char   *text;
	size_t  len;
	json_t *list;      /* the contexts (normalized), an array */
};

struct js {
	duk_context         *ctx;
	char                *schema_uri;
	size_t               mem_used;
	int                  mem_exceeded;
	int64_t              deadline_ms;   /* 0: no call running */
	int                  timed_out;
	struct enrich_event *ev;            /* the event process is looking at */
	int                  erase;         /* eraseDerived_contexts() */
	int                  stringifying;  /* process returned, JSON.stringify runs */
	struct js_pool       pool;
	struct js_rcache_slot rcache[JS_RCACHE_SLOTS];
};

/* The bytes a block of size bytes takes from the budget: its class's size when pooled. */
static size_t
js_block_size(size_t size)
{
	return JS_POOL && size <= JS_POOL_MAX ? (size + 15) & ~(size_t)15 : size;
}

static void *
js_alloc(void *udata, duk_size_t size)
{
	struct js *js = udata;
	size_t bs = js_block_size(size);
	char *p;

	if (bs > JS_MEMORY_BUDGET - js->mem_used) {
		js->mem_exceeded = 1;
		return NULL;
	}
	if (JS_POOL && size <= JS_POOL_MAX && size > 0 && js->pool.free[bs / 16 - 1] != NULL) {
		p = js->pool.free[bs / 16 - 1];
		memcpy(&js->pool.free[bs / 16 - 1], p + JS_HDR, sizeof(void *));
		js->pool.kept -= bs;
	} else if ((p = malloc((bs ? bs : 1) + JS_HDR)) == NULL) {
		return NULL;
	}
	memcpy(p, &size, sizeof(size));
	js->mem_used += bs;
	return p + JS_HDR;
}

static void
js_free(void *udata, void *ptr)
{
	struct js *js = udata;
	duk_size_t size;
	size_t bs;
	char *p;

	if (ptr == NULL)
		return;
	p = (char *)ptr - JS_HDR;
	memcpy(&size, p, sizeof(size));
	bs = js_block_size(size);
	js->mem_used -= bs;
	if (JS_POOL && size <= JS_POOL_MAX && size > 0 && js->pool.kept + bs <= JS_POOL_KEEP) {
		memcpy(p + JS_HDR, &js->pool.free[bs / 16 - 1], sizeof(void *));
		js->pool.free[bs / 16 - 1] = p;
		js->pool.kept += bs;
		return;
	}
	free(p);
}

static void *
js_realloc(void *udata, void *ptr, duk_size_t size)
{
	struct js *js = udata;
	duk_size_t old;
	size_t obs, nbs;
	char *p, *n;

	if (ptr == NULL)
		return size ? js_alloc(udata, size) : NULL;
	if (size == 0) {
		js_free(udata, ptr);
		return NULL;
	}
	p = (char *)ptr - JS_HDR;
	memcpy(&old, p, sizeof(old));
	obs = js_block_size(old);
	nbs = js_block_size(size);
	if (nbs > obs && nbs - obs > JS_MEMORY_BUDGET - js->mem_used) {
		js->mem_exceeded = 1;
		return NULL;
	}
	if (JS_POOL && (old <= JS_POOL_MAX || size <= JS_POOL_MAX)) {
		if (nbs == obs) {                       /* the same class: the same block */
			memcpy(p, &size, sizeof(size));
			return ptr;
		}
		if ((n = js_alloc(udata, size)) == NULL)
			return NULL;
		memcpy(n, ptr, old < size ? old : size);
		js_free(udata, ptr);
		return n;
	}
	if ((p = realloc(p, size + JS_HDR)) == NULL)
		return NULL;
	memcpy(p, &size, sizeof(size));
	js->mem_used = js->mem_used - obs + nbs;
	return p + JS_HDR;
}

/* The pool's blocks back to malloc (the heap is gone). */
static void
js_pool_drain(struct js *js)
{
	size_t i;
	char *p;

	for (i = 0; i < JS_NCLASS; i++)
		while ((p = js->pool.free[i]) != NULL) {
			memcpy(&js->pool.free[i], p + JS_HDR, sizeof(void *));
			free(p);
		}
	js->pool.kept = 0;
}

static void
js_fatal(void *udata, const char *msg)
{
	/* an error outside any protected call: every call here is protected, so this is a bug */
	(void)udata;
	(void)msg;
	abort();
}

/* Duktape's execution-timeout hook (duk_config.h, see the Makefile): called every few hundred
 * thousand bytecode instructions with the heap's udata; non-zero makes Duktape throw a
 * RangeError, again and again until the call has unwound, so a script's catch cannot hold it. */
int enr_js_timeout_check(void *udata);

int
enr_js_timeout_check(void *udata)
{
	struct js *js = udata;

	if (js == NULL || js->deadline_ms == 0)
		return 0;
	if (js->timed_out || timefmt_mono_ms() >= js->deadline_ms)
		return js->timed_out = 1;
	return 0;
}

static void
js_arm(struct js *js)
{
	js->deadline_ms = timefmt_mono_ms() + JS_TIME_BUDGET_MS;
	js->timed_out = 0;
	js->mem_exceeded = 0;
}

static struct js *
js_of(duk_context *ctx)
{
	duk_memory_functions mf;

	duk_get_memory_functions(ctx, &mf);
	return mf.udata;
}

/* The message of the error at idx, as upstream shows Nashorn's: "<name>: <message> in <eval>
 * at line number N" for errors the script raised, the value itself for other thrown values. */
static void
js_error_text(struct js *js, duk_idx_t idx, char *out, size_t outlen)
{
	const char *s, *file;
	long line = 0;

	if (js->timed_out) {
		snprintf(out, outlen, "RangeError: the script ran longer than %d ms (furrow's limit)",
		    JS_TIME_BUDGET_MS);
		return;
	}
	if (js->mem_exceeded) {
		snprintf(out, outlen, "RangeError: the script needed more than %zu MiB (furrow's "
		    "limit)", JS_MEMORY_BUDGET >> 20);
		return;
	}
	idx = duk_normalize_index(js->ctx, idx);
	if (duk_is_error(js->ctx, idx)) {
		duk_get_prop_string(js->ctx, idx, "fileName");
		file = duk_get_string(js->ctx, -1);
		duk_get_prop_string(js->ctx, idx, "lineNumber");
		line = (long)duk_get_int(js->ctx, -1);
		if (file == NULL || strcmp(file, JS_FILENAME) != 0)
			line = 0;
		duk_pop_2(js->ctx);
	}
	duk_dup(js->ctx, idx);            /* duk_safe_to_string replaces what it converts */
	s = duk_safe_to_string(js->ctx, -1);
	if (line > 0)
		snprintf(out, outlen, "%s in %s at line number %ld", s, JS_FILENAME, line);
	else
		snprintf(out, outlen, "%s", s ? s : "?");
	duk_pop(js->ctx);
}

/* ---- the event object ---- */

static duk_ret_t
js_throw(duk_context *ctx, const char *msg)
{
	duk_push_error_object(ctx, DUK_ERR_ERROR, "%s", msg);
	return duk_throw(ctx);
}

static duk_ret_t
get_col_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	int col = duk_get_current_magic(ctx);
	const char *v = js->ev->col[col];

	if (v == NULL) {
		if (col == COL_USERAGENT && js->ev->useragent_empty)
			duk_push_string(ctx, "");
		else
			duk_push_null(ctx);
		return 1;
	}
	switch (event_cols[col].type) {
	case EVT_INT:
	case EVT_BOOL:
	case EVT_FLOAT:
	case EVT_DEC:
		duk_push_number(ctx, strtod(v, NULL));
		break;
	default:
		duk_push_string(ctx, v);
	}
	return 1;
}

static duk_ret_t
set_col_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	int col = duk_get_current_magic(ctx);
	char tmp[JNUM_BUFSZ + 8];
	double d;
	struct buf b;
	const char *s;
	duk_size_t len;
	int rc;

	if (duk_is_null_or_undefined(ctx, 0)) {
		enrich_event_set(js->ev, col, NULL, 0);
		return 0;
	}
	switch (event_cols[col].type) {
	case EVT_INT:
		snprintf(tmp, sizeof(tmp), "%ld", (long)duk_to_int32(ctx, 0));
		enrich_event_set_str(js->ev, col, tmp);
		return 0;
	case EVT_BOOL:   /* a java.lang.Byte upstream */
		snprintf(tmp, sizeof(tmp), "%d", (int)(signed char)duk_to_int32(ctx, 0));
		enrich_event_set_str(js->ev, col, tmp);
		return 0;
	case EVT_FLOAT:
		jnum_java_float((float)duk_to_number(ctx, 0), tmp);
		enrich_event_set_str(js->ev, col, tmp);
		return 0;
	case EVT_DEC:    /* a java.math.BigDecimal upstream */
		d = duk_to_number(ctx, 0);
		if (!isfinite(d))
			return js_throw(ctx, "java.lang.NumberFormatException: Infinite or NaN");
		jnum_java_double(d, tmp);
		buf_init(&b, 0);
		rc = conv_decimal(tmp, &b);
		enrich_event_set(js->ev, col, rc == 1 ? b.data : NULL, rc == 1 ? b.len : 0);
		buf_free(&b);
		return 0;
	default:
		s = duk_to_lstring(ctx, 0, &len);
		if (utf8_valid_prefix(s, len) != len) {
			buf_init(&b, 0);
			utf8_repair(s, len, &b);
			enr_set_tsv_safe(js->ev, col, b.data, b.len);
			buf_free(&b);
		} else {
			enr_set_tsv_safe(js->ev, col, s, len);
		}
		return 0;
	}
}

/* {"schema":wrapper,"data":data} as compact JSON into b. */
static int
wrap_json(struct buf *b, const char *wrapper, const json_t *data)
{
	buf_reset(b);
	buf_append_str(b, "{\"schema\":\"");
	buf_append_str(b, wrapper);
	buf_append_str(b, "\",\"data\":");
	if (jsonw_value(b, data) < 0)
		return -1;
	return buf_append_byte(b, '}');
}

/* Push the column-style JSON text of data (NULL or an empty array: null). */
static void
push_wrapped(duk_context *ctx, const char *wrapper, const json_t *data)
{
	struct buf b;

	if (data == NULL || (json_is_array(data) && json_array_size(data) == 0)) {
		duk_push_null(ctx);
		return;
	}
	buf_init(&b, 0);
	if (wrap_json(&b, wrapper, data) == 0)
		duk_push_lstring(ctx, b.data, b.len);
	else
		duk_push_null(ctx);
	buf_free(&b);
}

static duk_ret_t
get_contexts_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	const char *v = js->ev->col[COL_CONTEXTS];

	if (v)
		duk_push_string(ctx, v);
	else
		duk_push_null(ctx);
	return 1;
}

static duk_ret_t
get_unstruct_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	const char *v = js->ev->col[COL_UNSTRUCT_EVENT];

	if (v)
		duk_push_string(ctx, v);
	else
		duk_push_null(ctx);
	return 1;
}

static duk_ret_t
get_derived_cb(duk_context *ctx)
{
	push_wrapped(ctx, ENRICH_CONTEXTS_SCHEMA, js_of(ctx)->ev->derived);
	return 1;
}

static duk_ret_t
get_pii_cb(duk_context *ctx)
{
	push_wrapped(ctx, ENRICH_UNSTRUCT_SCHEMA, js_of(ctx)->ev->pii);
	return 1;
}

/* 1 when j is a self-describing JSON: {schema: a valid Iglu URI, data: anything}. */
static int
sdj_valid(const json_t *j)
{
	const char *s = json_string_value(json_object_get(j, "schema"));
	struct iglu_key k;

	return json_is_object(j) && s != NULL && json_object_get(j, "data") != NULL &&
	    iglu_key_parse(s, &k, NULL) >= 0;
}

/* A self-describing JSON as a new {schema, data} object (other members dropped, as upstream's
 * SelfDescribingData), or NULL. */
static json_t *
sdj_normalize(const json_t *j)
{
	if (!sdj_valid(j))
		return NULL;
	return json_pack("{s:O,s:O}", "schema", json_object_get(j, "schema"), "data",
	    json_object_get(j, "data"));
}

/* The argument as JSON text parsed, or NULL. */
static json_t *
arg_json(duk_context *ctx)
{
	duk_size_t len;
	const char *s = duk_to_lstring(ctx, 0, &len);

	return json_loadb(s, len, JSON_DECODE_ANY, NULL);
}

static void
rewrite_col(struct enrich_event *ev, int col, const char *wrapper, const json_t *data)
{
	struct buf b;

	if (data == NULL || (json_is_array(data) && json_array_size(data) == 0)) {
		enrich_event_set(ev, col, NULL, 0);
		return;
	}
	buf_init(&b, 0);
	if (wrap_json(&b, wrapper, data) == 0)
		enrich_event_set(ev, col, b.data, b.len);
	buf_free(&b);
}

static duk_ret_t
set_contexts_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	struct enrich_event *ev = js->ev;
	json_t *j, *list, *it;
	size_t i;

	if (duk_is_null_or_undefined(ctx, 0)) {
		list = json_array();
	} else {
		j = arg_json(ctx);
		it = json_object_get(j, "data");
		list = json_array();
		if (!sdj_valid(j) || !json_is_array(it)) {
			json_decref(j);
			json_decref(list);
			return js_throw(ctx, "java.lang.IllegalArgumentException: invalid contexts json");
		}
		for (i = 0; i < json_array_size(it); i++) {
			json_t *n = sdj_normalize(json_array_get(it, i));
			if (n == NULL) {
				json_decref(j);
				json_decref(list);
				return js_throw(ctx, "java.lang.IllegalArgumentException: invalid contexts "
				    "json");
			}
			json_array_append_new(list, n);
		}
		json_decref(j);
	}
	if (!(ev->contexts == NULL ? json_array_size(list) == 0 : json_equal(ev->contexts, list)))
		ev->contexts_updated = 1;
	json_decref(ev->contexts);
	ev->contexts = list;
	rewrite_col(ev, COL_CONTEXTS, ENRICH_CONTEXTS_SCHEMA, list);
	return 0;
}

/* setUnstruct_event / setPii: {schema, data: {schema, data}}; returns the inner entity (new),
 * or throws. */
static json_t *
inner_sdj(duk_context *ctx, const char *what)
{
	json_t *j = arg_json(ctx), *inner = NULL;
	char msg[96];

	if (sdj_valid(j))               /* the wrapper is checked only as a self-describing JSON */
		inner = sdj_normalize(json_object_get(j, "data"));
	json_decref(j);
	if (inner == NULL) {
		snprintf(msg, sizeof(msg), "java.lang.IllegalArgumentException: invalid %s json", what);
		js_throw(ctx, msg);
	}
	return inner;
}

static duk_ret_t
set_unstruct_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	struct enrich_event *ev = js->ev;
	json_t *inner = NULL;

	if (!duk_is_null_or_undefined(ctx, 0)) {
		inner = inner_sdj(ctx, "unstruct_event");
		if (ev->unstruct == NULL || !json_equal(ev->unstruct, inner))
			ev->unstruct_updated = 1;
	}
	json_decref(ev->unstruct);
	ev->unstruct = inner;
	rewrite_col(ev, COL_UNSTRUCT_EVENT, ENRICH_UNSTRUCT_SCHEMA, inner);
	return 0;
}

static duk_ret_t
set_pii_cb(duk_context *ctx)
{
	struct js *js = js_of(ctx);
	json_t *inner = duk_is_null_or_undefined(ctx, 0) ? NULL : inner_sdj(ctx, "pii");

	json_decref(js->ev->pii);
	js->ev->pii = inner;
	return 0;
}

static duk_ret_t
set_derived_cb(duk_context *ctx)
{
	(void)ctx;          /* upstream: "Not supported in JS enrichment" */
	return 0;
}

static duk_ret_t
drop_cb(duk_context *ctx)
{
	/* upstream throws a JavascriptRejectionException: the same marker object every time, so
	 * that a script that catches it and goes on is not dropped */
	duk_push_global_stash(ctx);
	duk_get_prop_string(ctx, -1, "drop");
	return duk_throw(ctx);
}

static duk_ret_t
erase_cb(duk_context *ctx)
{
	js_of(ctx)->erase = 1;
	return 0;
}

/* event.<name> as getter and setter properties, and event.get<Name> / event.set<Name>. */
static void
def_field(duk_context *ctx, const char *name, duk_c_function get, duk_c_function set, int magic)
{
	char method[80];

	snprintf(method, sizeof(method), "get%c%s", name[0] - 32, name + 1);
	duk_push_c_function(ctx, get, 0);
	duk_set_magic(ctx, -1, magic);
	duk_put_prop_string(ctx, -2, method);
	method[0] = 's';
	duk_push_c_function(ctx, set, 1);
	duk_set_magic(ctx, -1, magic);
	duk_put_prop_string(ctx, -2, method);
	duk_push_string(ctx, name);
	duk_push_c_function(ctx, get, 0);
	duk_set_magic(ctx, -1, magic);
	duk_push_c_function(ctx, set, 1);
	duk_set_magic(ctx, -1, magic);
	duk_def_prop(ctx, -4, DUK_DEFPROP_HAVE_GETTER | DUK_DEFPROP_HAVE_SETTER |
	    DUK_DEFPROP_SET_ENUMERABLE);
}

/* Duktape's builtins as furrow runs them, before the script can see them: RegExp's test
 * with a literal path (enr_js_fast.c). A safe call. */
static duk_ret_t
builtins_cb(duk_context *ctx, void *udata)
{
	(void)udata;
	js_fast_install(ctx);
	return 0;
}

/* Set up the heap's stash: the event object, params, the wrapper, the drop marker. Runs as a
 * safe call (an out-of-memory error is an error, not a fatal one). Input: the params JSON text
 * at index 0. */
static duk_ret_t
setup_cb(duk_context *ctx, void *udata)
{
	int i;

	(void)udata;
	duk_push_global_stash(ctx);
	duk_dup(ctx, 0);
	duk_json_decode(ctx, -1);
	duk_put_prop_string(ctx, -2, "params");
	duk_push_object(ctx);
	for (i = 0; i < EVENT_NCOLS; i++)
		if (!JS_SPECIAL_COL(i))
			def_field(ctx, event_cols[i].name, get_col_cb, set_col_cb, i);
	def_field(ctx, "contexts", get_contexts_cb, set_contexts_cb, 0);
	def_field(ctx, "unstruct_event", get_unstruct_cb, set_unstruct_cb, 0);
	def_field(ctx, "derived_contexts", get_derived_cb, set_derived_cb, 0);
	def_field(ctx, "pii", get_pii_cb, set_pii_cb, 0);
	duk_push_c_function(ctx, drop_cb, 0);
	duk_put_prop_string(ctx, -2, "drop");
	duk_push_c_function(ctx, erase_cb, 0);
	duk_put_prop_string(ctx, -2, "eraseDerived_contexts");
	duk_put_prop_string(ctx, -2, "event");
	duk_push_error_object(ctx, DUK_ERR_ERROR, "JavascriptRejectionException: event dropped");
	duk_put_prop_string(ctx, -2, "drop");
	duk_pop(ctx);
	return 0;
}

static void
js_free_state(void *state)
{
	struct js *js = state;
	size_t i;

	if (js == NULL)
		return;
	if (js->ctx)
		duk_destroy_heap(js->ctx);
	js_pool_drain(js);
	for (i = 0; i < JS_RCACHE_SLOTS; i++) {
		free(js->rcache[i].text);
		json_decref(js->rcache[i].list);
	}
	free(js->schema_uri);
	free(js);
}

static void *
js_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *params = json_object_get(ctx->data, "parameters");
	const char *enc = enr_json_str(params, "script");
	const json_t *config = json_object_get(params, "config");
	struct js *js;
	char *src = NULL, *cfg = NULL, msg[1024];
	size_t n, len;
	struct buf fixed;

	if (enc == NULL) {
		snprintf(err, errlen, "parameters.script: a string is required");
		return NULL;
	}
	if (config != NULL && !json_is_object(config)) {
		snprintf(err, errlen, "parameters.config: an object is required");
		return NULL;
	}
	n = strlen(enc);
	if (base64_decoded_max(n) > JS_SCRIPT_MAX) {
		snprintf(err, errlen, "parameters.script: longer than %zu bytes", JS_SCRIPT_MAX);
		return NULL;
	}
	if ((js = calloc(1, sizeof(*js))) == NULL || (src = malloc(base64_decoded_max(n) + 1)) == NULL) {
		free(js);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	len = base64_decode_lenient(enc, n, (uint8_t *)src);
	src[len] = '\0';
	buf_init(&fixed, 0);
	if (utf8_valid_prefix(src, len) != len && utf8_repair(src, len, &fixed) == 0) {
		free(src);
		src = fixed.data;     /* hand the storage over */
		len = fixed.len;
	} else {
		buf_free(&fixed);
	}
	if (len == 0) {
		snprintf(err, errlen, "Provided script for JS enrichment is empty");
		goto fail;
	}
	js->schema_uri = strdup(ctx->schema_uri);
	js->ctx = duk_create_heap(js_alloc, js_realloc, js_free, js, js_fatal);
	if (js->schema_uri == NULL || js->ctx == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (duk_safe_call(js->ctx, builtins_cb, NULL, 0, 1) != DUK_EXEC_SUCCESS) {
		js_error_text(js, -1, msg, sizeof(msg));
		snprintf(err, errlen, "cannot set up the script's environment: %s", msg);
		goto fail;
	}
	duk_pop(js->ctx);
	/* compile and run the script's top level: an error is upstream's compile error */
	js_arm(js);
	duk_push_string(js->ctx, JS_FILENAME);
	if (duk_pcompile_lstring_filename(js->ctx, 0, src, len) != 0 ||
	    duk_pcall(js->ctx, 0) != DUK_EXEC_SUCCESS) {
		js_error_text(js, -1, msg, sizeof(msg));
		snprintf(err, errlen, "Error compiling JavaScript function: [%s]", msg);
		goto fail;
	}
	duk_pop(js->ctx);
	js->deadline_ms = 0;
	duk_get_global_string(js->ctx, "process");
	if (!duk_is_function(js->ctx, -1)) {
		snprintf(err, errlen, "Error compiling JavaScript function: [the script defines no "
		    "function process(event)]");
		goto fail;
	}
	duk_pop(js->ctx);
	cfg = config ? json_dumps(config, JSON_COMPACT) : strdup("{}");
	if (cfg == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	duk_push_string(js->ctx, cfg);
	if (duk_safe_call(js->ctx, setup_cb, NULL, 1, 1) != DUK_EXEC_SUCCESS) {
		js_error_text(js, -1, msg, sizeof(msg));
		snprintf(err, errlen, "cannot set up the script's environment: %s", msg);
		goto fail;
	}
	duk_pop(js->ctx);
	/* the stash, the event object and params stay at the bottom of the value stack, where
	 * each call finds them without a lookup */
	duk_push_global_stash(js->ctx);
	duk_get_prop_literal(js->ctx, JS_IDX_STASH, "event");
	duk_get_prop_literal(js->ctx, JS_IDX_STASH, "params");
	if (duk_get_top(js->ctx) != 3) {
		snprintf(err, errlen, "cannot set up the script's environment: value stack");
		goto fail;
	}
	free(cfg);
	free(src);
	return js;
fail:
	free(cfg);
	free(src);
	js_free_state(js);
	return NULL;
}

static int
js_failure(struct js *js, json_t *failures, const char *msg)
{
	enr_add_failure(failures, js->schema_uri, JS_IDENTIFIER, json_pack("{s:s}", "error", msg));
	return -1;
}

/* Upstream's parseContexts: an array of self-describing JSONs, appended (normalized) to out. */
static int
parse_contexts(json_t *arr, json_t *out, char *err, size_t errlen)
{
	struct buf why, b;
	size_t i;
	int bad = 0;

	if (!json_is_array(arr)) {
		buf_init(&b, 0);
		jsonw_value(&b, arr);
		snprintf(err, errlen, "Output of JavaScript function [%s] could be parsed as JSON but "
		    "is not read as an array", b.data ? b.data : "");
		buf_free(&b);
		return -1;
	}
	buf_init(&why, 0);
	buf_init(&b, 0);
	for (i = 0; i < json_array_size(arr); i++) {
		json_t *it = json_array_get(arr, i), *n = NULL;
		const char *s = json_string_value(json_object_get(it, "schema")), *code = NULL;
		struct iglu_key k;

		if (!json_is_object(it) || s == NULL || json_object_get(it, "data") == NULL)
			code = "INVALID_DATA_PAYLOAD";
		else if (iglu_key_parse(s, &k, &code) < 0)
			code = code ? code : "INVALID_IGLUURI";
		else if (json_object_size(it) == 2 &&
		    strcmp(json_object_iter_key(json_object_iter(it)), "schema") == 0)
			n = json_incref(it);      /* already {schema, data}, in that order */
		else
			n = json_pack("{s:s,s:O}", "schema", s, "data", json_object_get(it, "data"));
		if (n != NULL) {
			json_array_append_new(out, n);
			continue;
		}
		buf_reset(&b);
		jsonw_value(&b, it);
		buf_printf(&why, "%serror code:[%s],json:[%s]", bad++ ? ";" : "", code,
		    b.data ? b.data : "");
	}
	if (bad)
		snprintf(err, errlen, "Resulting contexts are not self-desribing. Error(s): [%s]",
		    why.data);
	buf_free(&why);
	buf_free(&b);
	return bad ? -1 : 0;
}

/*
 * The text JSON.stringify wrote, into jansson without jansson's parser (which costs more than
 * the script in the common case). Only the compact form Duktape's stringify writes is read
 * here: no whitespace, escapes \" \\ \/ \b \f \n \r \t and \u00XX, numbers as JSON writes
 * them. Anything else, and anything jansson would refuse or read otherwise (\u0000, other
 * \u escapes, an integer beyond int64, a real beyond double, nesting deeper than
 * ENRICH_MAX_DEPTH), stops the reader with NULL and the text goes to json_loadb, which decides
 * and words the error: whatever the reader returns is what json_loadb(text, JSON_DECODE_ANY)
 * returns (test_enr_javascript compares the two on the same results and texts), with two
 * exceptions, where
 * json_loadb would refuse the text and upstream's circe does not. An integer beyond int64
 * (JSON.stringify(1e20) is "100000000000000000000") becomes a real. Duktape keeps a string
 * written with surrogate escapes ('\ud83d\ude00') in CESU-8 and stringify copies those
 * bytes, which are not UTF-8: the reader writes a pair as its character (what upstream's
 * UTF-16 strings give) and any other invalid sequence as U+FFFD.
 */
struct js_reader {
	const char *p, *end;
	struct buf  tmp;        /* an unescaped string */
};

static json_t *js_read_value(struct js_reader *r, int depth);

/* 1 when s starts with a surrogate pair in CESU-8: ED A0-AF xx, ED B0-BF xx. */
static int
js_cesu_pair(const unsigned char *s, size_t left)
{
	return left >= 6 && s[0] == 0xed && (s[1] & 0xf0) == 0xa0 && (s[2] & 0xc0) == 0x80 &&
	    s[3] == 0xed && (s[4] & 0xf0) == 0xb0 && (s[5] & 0xc0) == 0x80;
}

/* s (not valid UTF-8) into out: CESU-8 surrogate pairs as their code point, the rest through
 * utf8_repair (U+FFFD for each invalid sequence). 0 or -1. */
static int
js_utf8_fix(const char *s, size_t len, struct buf *out)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, j;

	while (i < len) {
		for (j = i; j < len && !js_cesu_pair(u + j, len - j); j++)
			;
		if (utf8_repair(s + i, j - i, out) < 0)
			return -1;
		if (j == len)
			break;
		if (utf8_append(out, 0x10000 + ((((uint32_t)(u[j + 1] & 0x0f) << 6 |
		    (u[j + 2] & 0x3f)) << 10) | ((uint32_t)(u[j + 4] & 0x0f) << 6 | (u[j + 5] & 0x3f)))) < 0)
			return -1;
		i = j + 6;
	}
	return 0;
}

/* A string, r->p at its opening quote: its UTF-8 bytes in *s, *len (the text itself when it
 * has no escapes and is valid, else r->tmp). 0, or -1: not read here. */
static int
js_read_string(struct js_reader *r, const char **s, size_t *len)
{
	const char *q = ++r->p, *run;
	int high = 0;
	size_t n;

	while (q < r->end && *q != '"' && *q != '\\' && (unsigned char)*q >= 0x20)
		high |= (unsigned char)*q++ & 0x80;
	if (q < r->end && *q == '"') {             /* no escapes: the text itself */
		*s = r->p;
		*len = (size_t)(q - r->p);
		r->p = q + 1;
		if (!high || utf8_valid_prefix(*s, *len) == *len)
			return 0;
		buf_reset(&r->tmp);
		if (js_utf8_fix(*s, *len, &r->tmp) < 0)
			return -1;
		*s = r->tmp.data ? r->tmp.data : "";
		*len = r->tmp.len;
		return 0;
	}
	buf_reset(&r->tmp);
	run = r->p;
	for (;;) {
		if (q >= r->end || (unsigned char)*q < 0x20)
			return -1;
		if (*q == '"')
			break;
		if (*q != '\\') {
			high |= (unsigned char)*q++ & 0x80;
			continue;
		}
		if (buf_append(&r->tmp, run, (size_t)(q - run)) < 0 || ++q >= r->end)
			return -1;
		switch (*q) {
		case '"': case '\\': case '/':
			if (buf_append_byte(&r->tmp, *q) < 0)
				return -1;
			break;
		case 'b': if (buf_append_byte(&r->tmp, '\b') < 0) return -1; break;
		case 'f': if (buf_append_byte(&r->tmp, '\f') < 0) return -1; break;
		case 'n': if (buf_append_byte(&r->tmp, '\n') < 0) return -1; break;
		case 'r': if (buf_append_byte(&r->tmp, '\r') < 0) return -1; break;
		case 't': if (buf_append_byte(&r->tmp, '\t') < 0) return -1; break;
		case 'u': {
			int h, l;
			/* what stringify writes: control characters, \u0001 to \u001f */
			if (r->end - q < 5 || q[1] != '0' || q[2] != '0' || (h = pct_hexval(q[3])) < 0 ||
			    h > 1 || (l = pct_hexval(q[4])) < 0 || (h == 0 && l == 0))
				return -1;
			if (buf_append_byte(&r->tmp, (char)(h << 4 | l)) < 0)
				return -1;
			q += 4;
			break;
		}
		default:
			return -1;
		}
		run = ++q;
	}
	if (buf_append(&r->tmp, run, (size_t)(q - run)) < 0)
		return -1;
	r->p = q + 1;
	*s = r->tmp.data ? r->tmp.data : "";
	*len = r->tmp.len;
	if (!high || utf8_valid_prefix(*s, *len) == *len)
		return 0;
	/* escapes are ASCII: the invalid bytes are the text's own; fix a copy */
	{
		struct buf fixed;
		buf_init(&fixed, 0);
		if (js_utf8_fix(*s, *len, &fixed) < 0) {
			buf_free(&fixed);
			return -1;
		}
		buf_reset(&r->tmp);
		n = fixed.len;
		if (buf_append(&r->tmp, fixed.data ? fixed.data : "", n) < 0) {
			buf_free(&fixed);
			return -1;
		}
		buf_free(&fixed);
	}
	*s = r->tmp.data ? r->tmp.data : "";
	*len = r->tmp.len;
	return 0;
}

/* A number as JSON's grammar has it; an integer (no fraction, no exponent) as jansson reads
 * one, except that one beyond int64, which jansson refuses, becomes a real. */
static json_t *
js_read_number(struct js_reader *r)
{
	const char *q = r->p;
	char tmp[64], *e;
	int real = 0;
	size_t n;

	if (q < r->end && *q == '-')
		q++;
	if (q >= r->end || *q < '0' || *q > '9')
		return NULL;
	if (*q == '0')
		q++;
	else
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	if (q < r->end && *q == '.') {
		real = 1;
		if (++q >= r->end || *q < '0' || *q > '9')
			return NULL;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < r->end && (*q == 'e' || *q == 'E')) {
		real = 1;
		if (++q < r->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= r->end || *q < '0' || *q > '9')
			return NULL;
		while (q < r->end && *q >= '0' && *q <= '9')
			q++;
	}
	if ((n = (size_t)(q - r->p)) >= sizeof(tmp))
		return NULL;
	memcpy(tmp, r->p, n);
	tmp[n] = '\0';
	r->p = q;
	errno = 0;
	if (real) {
		double d = strtod(tmp, &e);
		if (e != tmp + n || !isfinite(d))
			return NULL;
		return json_real(d);
	} else {
		long long v = strtoll(tmp, &e, 10);
		if (e != tmp + n)
			return NULL;
		if (errno == ERANGE)       /* beyond jansson's integers: a real, not a failure */
			return json_real(strtod(tmp, NULL));
		return json_integer((json_int_t)v);
	}
}

static json_t *
js_read_value(struct js_reader *r, int depth)
{
	json_t *c, *v;
	const char *s;
	size_t len;

	if (r->p >= r->end)
		return NULL;
	switch (*r->p) {
	case '"':
		if (js_read_string(r, &s, &len) < 0)
			return NULL;
		return json_stringn_nocheck(s, len);
	case 't':
		if (r->end - r->p < 4 || memcmp(r->p, "true", 4) != 0)
			return NULL;
		r->p += 4;
		return json_true();
	case 'f':
		if (r->end - r->p < 5 || memcmp(r->p, "false", 5) != 0)
			return NULL;
		r->p += 5;
		return json_false();
	case 'n':
		if (r->end - r->p < 4 || memcmp(r->p, "null", 4) != 0)
			return NULL;
		r->p += 4;
		return json_null();
	case '[':
		if (depth >= ENRICH_MAX_DEPTH || (c = json_array()) == NULL)
			return NULL;
		if (++r->p < r->end && *r->p == ']') {
			r->p++;
			return c;
		}
		for (;;) {
			if ((v = js_read_value(r, depth + 1)) == NULL || json_array_append_new(c, v) < 0)
				break;
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == ']') {
				r->p++;
				return c;
			}
			break;
		}
		json_decref(c);
		return NULL;
	case '{':
		if (depth >= ENRICH_MAX_DEPTH || (c = json_object()) == NULL)
			return NULL;
		if (++r->p < r->end && *r->p == '}') {
			r->p++;
			return c;
		}
		for (;;) {
			char key[256];
			if (r->p >= r->end || *r->p != '"' || js_read_string(r, &s, &len) < 0 ||
			    len >= sizeof(key) || r->p >= r->end || *r->p++ != ':')
				break;
			memcpy(key, s, len);   /* the value's strings reuse r->tmp */
			if ((v = js_read_value(r, depth + 1)) == NULL ||
			    json_object_setn_new_nocheck(c, key, len, v) < 0)
				break;
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			if (r->p < r->end && *r->p == '}') {
				r->p++;
				return c;
			}
			break;
		}
		json_decref(c);
		return NULL;
	default:
		return js_read_number(r);
	}
}

/* The whole text as one value, or NULL: let json_loadb decide. */
static json_t *
js_read_json(const char *s, size_t len)
{
	struct js_reader r;
	json_t *j;

	r.p = s;
	r.end = s + len;
	buf_init(&r.tmp, 0);
	j = js_read_value(&r, 0);

	buf_free(&r.tmp);
	if (j != NULL && r.p != r.end) {
		json_decref(j);
		j = NULL;
	}
	return j;
}

/* Safe call, with the event object and params as its arguments: process(event, params,
 * headers), then JSON.stringify of its result, called as upstream's does (the global JSON's
 * stringify, so a script that replaces it is honoured), unless the result is null or
 * undefined. Leaves the text, or that null or undefined, or the error. Duktape's stringify
 * fast path (DUK_USE_JSON_STRINGIFY_FASTPATH, see the Makefile) walks plain data without
 * calling back into JavaScript; toJSON, getters and the rest take the standard path. */
static duk_ret_t
call_cb(duk_context *ctx, void *udata)
{
	struct js *js = udata;
	struct enrich_event *ev = js->ev;
	size_t i;

	duk_get_global_literal(ctx, "process");   /* event params process */
	duk_insert(ctx, -3);                      /* process event params */
	duk_push_array(ctx);
	for (i = 0; i < enr_n_headers(ev); i++) {
		size_t hl;
		const char *h = enr_header_at(ev, i, &hl);
		if (utf8_valid_prefix(h, hl) == hl) {
			duk_push_lstring(ctx, h, hl);
		} else {
			struct buf b;
			buf_init(&b, 0);
			utf8_repair(h, hl, &b);
			duk_push_lstring(ctx, b.data ? b.data : "", b.len);
			buf_free(&b);
		}
		duk_put_prop_index(ctx, -2, (duk_uarridx_t)i);
	}
	duk_call(ctx, 3);                         /* result */
	if (duk_is_null_or_undefined(ctx, -1))
		return 1;
	js->stringifying = 1;
	duk_get_global_literal(ctx, "JSON");      /* result JSON */
	duk_get_prop_literal(ctx, -1, "stringify"); /* result JSON stringify */
	duk_swap_top(ctx, -2);                    /* result stringify JSON */
	duk_dup(ctx, -3);                         /* result stringify JSON result */
	duk_call_method(ctx, 1);                  /* result text */
	return 1;
}

static int
js_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct js *js = state;
	duk_context *ctx = js->ctx;
	char msg[2048], perr[512];
	duk_size_t rlen = 0;
	const char *rs;
	json_t *res, *list;
	json_error_t jerr;
	struct js_rcache_slot *slot = NULL;
	char *text = NULL;
	size_t i;
	int rc;

	js->ev = ev;
	js->erase = 0;
	js->stringifying = 0;
	duk_dup(ctx, JS_IDX_STASH);
	duk_dup(ctx, JS_IDX_EVENT);
	duk_dup(ctx, JS_IDX_PARAMS);
	js_arm(js);
	rc = duk_safe_call(ctx, call_cb, js, 2, 1);    /* stash, text (or result, or error) */
	js->deadline_ms = 0;
	if (rc != DUK_EXEC_SUCCESS) {
		int dropped;
		duk_get_prop_literal(ctx, -2, "drop");
		/* drop() ends process; thrown from a toJSON while stringifying, it is an error */
		dropped = !js->timed_out && !js->stringifying && duk_strict_equals(ctx, -1, -2);
		duk_pop(ctx);
		if (dropped) {
			duk_pop_2(ctx);
			js->ev = NULL;
			return ENR_DROP;
		}
		js_error_text(js, -1, perr, sizeof(perr));
		duk_pop_2(ctx);
		js->ev = NULL;
		snprintf(msg, sizeof(msg), "Error during execution of JavaScript function: [%s]", perr);
		return js_failure(js, failures, msg);
	}
	/* the result: null or undefined is no context; anything else is JSON.stringify's text */
	if (!js->stringifying) {
		res = json_array();
	} else {
		/* JSON.stringify's text: a string, or undefined (a function, a symbol) */
		rs = duk_is_string(ctx, -1) ? duk_get_lstring(ctx, -1, &rlen) : "undefined";
		if (!duk_is_string(ctx, -1))
			rlen = strlen(rs);
		if (rlen > JS_RESULT_MAX) {
			duk_pop_2(ctx);
			js->ev = NULL;
			snprintf(msg, sizeof(msg), "Could not parse output JSON of Javascript "
			    "function. Error: [larger than %zu bytes]", JS_RESULT_MAX);
			return js_failure(js, failures, msg);
		}
		if (rlen <= JS_RCACHE_MAXTEXT) {
			slot = &js->rcache[fnv_bytes(FNV_OFFSET, rs, rlen) % JS_RCACHE_SLOTS];
			if (slot->list != NULL && slot->len == rlen && memcmp(slot->text, rs, rlen) == 0) {
				duk_pop_2(ctx);
				js->ev = NULL;
				list = json_incref(slot->list);
				goto add;
			}
			if ((text = malloc(rlen + 1)) != NULL) {
				memcpy(text, rs, rlen);
				text[rlen] = '\0';
			}
		}
		if (conv_json_depth(rs, rlen, ENRICH_MAX_DEPTH) > ENRICH_MAX_DEPTH) {
			duk_pop_2(ctx);
			js->ev = NULL;
			free(text);
			return js_failure(js, failures, "Could not parse output JSON of Javascript "
			    "function. Error: [invalid json: maximum allowed JSON depth exceeded]");
		}
		res = js_read_json(rs, rlen);
		if (res == NULL)
			res = json_loadb(rs, rlen, JSON_DECODE_ANY, &jerr);
		if (res == NULL) {
			duk_pop_2(ctx);
			js->ev = NULL;
			free(text);
			snprintf(msg, sizeof(msg), "Could not parse output JSON of Javascript "
			    "function. Error: [%s]", jerr.text);
			return js_failure(js, failures, msg);
		}
	}
	duk_pop_2(ctx);
	js->ev = NULL;
	list = json_array();
	if (parse_contexts(res, list, msg, sizeof(msg)) < 0) {
		json_decref(res);
		json_decref(list);
		free(text);
		return js_failure(js, failures, msg);
	}
	json_decref(res);
	if (text != NULL) {                       /* a text read without error: keep its contexts */
		free(slot->text);
		json_decref(slot->list);
		slot->text = text;
		slot->len = rlen;
		slot->list = json_incref(list);
	}
add:
	if (js->erase && ev->derived)
		json_array_clear(ev->derived);
	for (i = 0; i < json_array_size(list); i++)
		enrich_event_add_derived(ev, json_incref(json_array_get(list, i)));
	json_decref(list);
	return 0;
}

const struct enr_module enr_javascript = {
	"com.snowplowanalytics.snowplow", "javascript_script_config", 1, ENRICH_STAGE_LATE, 12,
	JS_IDENTIFIER, js_load, js_apply, js_free_state,
};
