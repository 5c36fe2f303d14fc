/*
 * badrewrite: rename(k) moves a string member to k_str and an array member to k_list;
 * stringify(k) replaces a non-string member by its compact JSON text. The twelve steps of
 * sinks.md §2.2 are applied to `data` in order; a step whose path does not lead to an object (or
 * an array of objects) does nothing.
 */
#include "badrewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iglu.h"
#include "jsonw.h"
#include "sdkjson.h"
#include "utf8.h"

static void
br_rename(json_t *o, const char *k)
{
	json_t *v;
	char nk[64];

	if (!json_is_object(o) || (v = json_object_get(o, k)) == NULL)
		return;
	if (json_is_string(v))
		snprintf(nk, sizeof(nk), "%s_str", k);
	else if (json_is_array(v))
		snprintf(nk, sizeof(nk), "%s_list", k);
	else
		return;
	json_object_set(o, nk, v);
	json_object_del(o, k);
}

static void
br_stringify(json_t *o, const char *k)
{
	json_t *v;
	struct buf b;

	if (!json_is_object(o) || (v = json_object_get(o, k)) == NULL || json_is_string(v))
		return;
	buf_init(&b, 0);
	if (jsonw_value(&b, v) == 0)
		json_object_set_new(o, k, json_stringn(b.data, b.len));
	buf_free(&b);
}

static json_t *
br_get(json_t *o, const char *k)
{
	return json_is_object(o) ? json_object_get(o, k) : NULL;
}

static void
br_rewrite_data(json_t *data)
{
	json_t *failure, *msgs, *list, *m;
	size_t i;

	br_rename(data, "failure");                                   /* 1 */
	br_rename(data, "payload");                                   /* 2 */
	br_stringify(br_get(br_get(data, "payload"), "raw"), "parameters");   /* 3 */
	failure = br_get(data, "failure");
	br_rename(failure, "error");                                  /* 4 */
	br_rename(failure, "errors");                                 /* 5 */
	br_rename(failure, "message");                                /* 6 */
	msgs = br_get(failure, "messages");
	if (json_is_array(msgs)) {
		json_array_foreach(msgs, i, m) {
			if (!json_is_object(m))
				continue;
			br_rename(m, "error");                        /* 7 */
			br_stringify(m, "expectedMapping");           /* 8 */
			br_stringify(m, "json");                      /* 9 */
		}
		json_array_foreach(msgs, i, m)
			br_rename(br_get(m, "message"), "error");     /* 10 */
	}
	list = br_get(data, "failure_list");
	if (json_is_array(list)) {
		json_array_foreach(list, i, m) {
			br_rename(m, "error");                        /* 11 */
			br_stringify(m, "value");                     /* 12 */
		}
	}
}

json_t *
badrewrite(json_t *row)
{
	struct iglu_key k;
	json_t *schema = br_get(row, "schema"), *data = br_get(row, "data"), *out;
	char uri[IGLU_URI_MAX];

	if (!json_is_string(schema) || data == NULL ||
	    iglu_key_parsen(json_string_value(schema), json_string_length(schema), &k, NULL) == -1 ||
	    strstr(k.vendor, "badrows") == NULL)
		return json_incref(row);
	iglu_key_format(&k, uri, sizeof(uri));
	data = json_deep_copy(data);
	if (data == NULL)
		return NULL;
	br_rewrite_data(data);
	out = json_object();
	if (out == NULL) {
		json_decref(data);
		return NULL;
	}
	json_object_set_new(out, "schema", json_string(uri));
	json_object_set_new(out, "data", data);
	return out;
}

static int
br_dump_cb(const char *p, size_t n, void *arg)
{
	return buf_append(arg, p, n);
}

int
badrewrite_line(const char *line, size_t len, struct buf *out, char *err, size_t errlen)
{
	struct buf fixed;
	json_error_t jerr;
	json_t *row, *doc;
	size_t start = out->len;
	int rc = -1;

	buf_init(&fixed, 0);
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (utf8_valid_prefix(line, len) != len) {
		if (utf8_repair(line, len, &fixed) == -1) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		line = fixed.data;
		len = fixed.len;
	}
	row = json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
	if (row == NULL) {
		snprintf(err, errlen, "cannot parse line as JSON: %s at position %d", jerr.text,
		    jerr.position);
		buf_free(&fixed);
		return -1;
	}
	doc = badrewrite(row);
	if (doc && json_dump_callback(doc, br_dump_cb, out,
	    JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) == 0)
		rc = 0;
	else {
		snprintf(err, errlen, "cannot serialise the rewritten bad row");
		out->len = start;
	}
	json_decref(doc);
	json_decref(row);
	buf_free(&fixed);
	return rc;
}
