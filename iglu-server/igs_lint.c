/*
 * igs_lint: Iglu Server's schema linting (see igs_lint.h). Rules follow schema-ddl's
 * jsonschema/Linter.scala and SelfSyntaxChecker.scala; messages are upstream's, word for word.
 */
#include "igs_lint.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "igs_store.h"
#include "jsonschema.h"
#include "jsonschema_meta.h"
#include "sdkjson.h"

/* SelfSyntaxChecker.SelfSchemaText: Iglu's rules for "$schema", "$supersedes", "self". */
static const char IGS_SELF_SYNTAX[] =
"{\"type\":\"object\",\"properties\":{"
  "\"$schema\":{\"type\":\"string\",\"enum\":[\"" IGS_SELFDESC_URI "\"]},"
  "\"$supersededBy\":{\"type\":\"string\",\"pattern\":\"^[1-9][0-9]*(-(0|[1-9][0-9]*)){2}$\"},"
  "\"$supersedes\":{\"type\":\"array\",\"items\":{\"type\":\"string\","
    "\"pattern\":\"^[1-9][0-9]*(-(0|[1-9][0-9]*)){2}$\"}},"
  "\"self\":{\"required\":[\"vendor\",\"name\",\"format\",\"version\"],\"properties\":{"
    "\"vendor\":{\"type\":\"string\",\"pattern\":\"^[a-zA-Z0-9-_\\\\.]+$\"},"
    "\"name\":{\"type\":\"string\",\"pattern\":\"^[a-zA-Z0-9-_]+$\"},"
    "\"format\":{\"type\":\"string\",\"pattern\":\"^[a-zA-Z0-9-_]+$\"},"
    "\"version\":{\"type\":\"string\",\"pattern\":\"^[1-9][0-9]*(-(0|[1-9][0-9]*)){2}$\"}}}"
"},\"additionalProperties\":true}";

/* Keywords of SelfSyntaxChecker's strict meta-schema: anything else is a warning. */
static const char *const IGS_KNOWN[] = {
	"self", "id", "$schema", "$supersededBy", "$supersedes", "title", "description", "default",
	"multipleOf", "maximum", "minimum", "maxLength", "minLength", "pattern", "additionalItems",
	"items", "maxItems", "minItems", "uniqueItems", "maxProperties", "minProperties", "required",
	"additionalProperties", "definitions", "properties", "patternProperties", "enum", "type",
	"format", "allOf", "anyOf", "oneOf", "not", NULL,
};

struct igs_lint {
	struct jsonschema *draft04, *self_syntax;
	json_t *draft04_doc, *self_doc;
};

struct igs_lint *
igs_lint_new(char *err, size_t errlen)
{
	struct igs_lint *l = calloc(1, sizeof(*l));
	json_error_t je;

	if (l == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->draft04_doc = json_loads(JSONSCHEMA_META_DRAFT04, 0, &je);
	l->self_doc = json_loads(IGS_SELF_SYNTAX, 0, &je);
	if (l->draft04_doc == NULL || l->self_doc == NULL) {
		snprintf(err, errlen, "meta-schema: %s", je.text);
		igs_lint_free(l);
		return NULL;
	}
	l->draft04 = jsonschema_compile(l->draft04_doc, NULL, NULL, err, errlen);
	l->self_syntax = l->draft04 ? jsonschema_compile(l->self_doc, NULL, NULL, err, errlen) : NULL;
	if (l->self_syntax == NULL) {
		igs_lint_free(l);
		return NULL;
	}
	return l;
}

void
igs_lint_free(struct igs_lint *l)
{
	if (l == NULL)
		return;
	jsonschema_free(l->draft04);
	jsonschema_free(l->self_syntax);
	json_decref(l->draft04_doc);
	json_decref(l->self_doc);
	free(l);
}

/* ---------- reports ---------- */

struct report {
	json_t *out;
	size_t errors;
};

static void
add(struct report *r, const char *level, const char *pointer, const char *msg)
{
	size_t i;
	json_t *m;

	/* identical messages: an ERROR wins over a WARNING (SelfSyntaxChecker's map) */
	json_array_foreach(r->out, i, m)
		if (strcmp(json_string_value(json_object_get(m, "message")), msg) == 0 &&
		    strcmp(json_string_value(json_object_get(m, "pointer")), pointer) == 0) {
			if (strcmp(level, "ERROR") == 0 &&
			    strcmp(json_string_value(json_object_get(m, "level")), "ERROR") != 0) {
				json_object_set_new(m, "level", json_string(level));
				r->errors++;
			}
			return;
		}
	json_array_append_new(r->out, json_pack("{s:s, s:s, s:s}", "message", msg, "level", level,
	    "pointer", pointer));
	if (strcmp(level, "ERROR") == 0)
		r->errors++;
}

/* networknt's "$.properties.a[0]" as a schema pointer "/properties/a/0" */
static void
path_to_pointer(const char *path, char *out, size_t outlen)
{
	size_t o = 0;

	if (path[0] == '$')
		path++;
	for (; *path && o + 2 < outlen; path++) {
		if (*path == '.' || *path == '[')
			out[o++] = '/';
		else if (*path != ']' && *path != '\'')
			out[o++] = *path;
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
}

static void
meta_reports(struct report *r, const struct jsonschema *meta, const json_t *schema)
{
	json_t *reports = NULL, *m;
	size_t i;
	char ptr[1024];

	if (jsonschema_validate(meta, schema, &reports) != 0) {
		json_decref(reports);
		return;
	}
	json_array_foreach(reports, i, m) {
		path_to_pointer(json_string_value(json_object_get(m, "path")), ptr, sizeof(ptr));
		add(r, "ERROR", ptr, json_string_value(json_object_get(m, "message")));
	}
	json_decref(reports);
}

/* The strict meta-schema's only extra rule: unknown keywords, in every subschema. */
static void
strict_walk(struct report *r, const json_t *s, struct buf *path, struct buf *ptr)
{
	const char *k;
	json_t *v;
	size_t plen = path->len, qlen = ptr->len, i;

	if (!json_is_object(s))
		return;
	json_object_foreach((json_t *)s, k, v) {
		const char *const *kn;
		int known = 0;

		for (kn = IGS_KNOWN; *kn; kn++)
			known |= strcmp(*kn, k) == 0;
		if (!known) {
			struct buf msg;

			buf_init(&msg, 0);
			buf_printf(&msg, "%s.%s: is not defined in the schema and the schema does not allow "
			    "additional properties", path->data, k);
			add(r, "WARNING", ptr->len ? ptr->data : "/", msg.data);
			buf_free(&msg);
			continue;
		}
#define DOWN(name, child) do { \
		buf_printf(path, ".%s", name); buf_printf(ptr, "/%s", name); \
		strict_walk(r, child, path, ptr); \
		path->len = plen; path->data[plen] = 0; ptr->len = qlen; if (ptr->data) ptr->data[qlen] = 0; \
	} while (0)
		if (strcmp(k, "properties") == 0 || strcmp(k, "patternProperties") == 0 ||
		    strcmp(k, "definitions") == 0) {
			const char *k2;
			json_t *v2;

			if (!json_is_object(v))
				continue;
			json_object_foreach(v, k2, v2) {
				buf_printf(path, ".%s.%s", k, k2);
				buf_printf(ptr, "/%s/%s", k, k2);
				strict_walk(r, v2, path, ptr);
				path->len = plen; path->data[plen] = 0;
				ptr->len = qlen; if (ptr->data) ptr->data[qlen] = 0;
			}
		} else if (strcmp(k, "items") == 0 || strcmp(k, "allOf") == 0 ||
		    strcmp(k, "anyOf") == 0 || strcmp(k, "oneOf") == 0) {
			if (json_is_object(v)) {
				DOWN(k, v);
			} else if (json_is_array(v)) {
				json_t *x;

				json_array_foreach(v, i, x) {
					buf_printf(path, ".%s[%zu]", k, i);
					buf_printf(ptr, "/%s/%zu", k, i);
					strict_walk(r, x, path, ptr);
					path->len = plen; path->data[plen] = 0;
					ptr->len = qlen; if (ptr->data) ptr->data[qlen] = 0;
				}
			}
		} else if (strcmp(k, "additionalItems") == 0 || strcmp(k, "additionalProperties") == 0 ||
		    strcmp(k, "not") == 0) {
			DOWN(k, v);
		}
#undef DOWN
	}
}

/* ---------- SanityLinter ---------- */

static int
has_type(const json_t *s, const char *t)
{
	json_t *ty = json_object_get(s, "type"), *v;
	size_t i;

	if (json_is_string(ty))
		return strcmp(json_string_value(ty), t) == 0;
	json_array_foreach(ty, i, v)
		if (json_is_string(v) && strcmp(json_string_value(v), t) == 0)
			return 1;
	return 0;
}

/* schema-ddl's withoutType: a type is given and t is not in it */
static int
without_type(const json_t *s, const char *t)
{
	return json_object_get(s, "type") != NULL && !has_type(s, t);
}

static void
num_text(const json_t *v, char *out)
{
	if (json_is_integer(v))
		snprintf(out, 32, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else {
		sdkjson_double(json_number_value(v), out);
		if (strstr(out, ".0") != NULL && strlen(strstr(out, ".0")) == 2)
			*strstr(out, ".0") = '\0';    /* BigDecimal prints 5.0 read as 5 as "5" */
	}
}

/* "[a,b]" of the keywords of s among names[], into msg */
static int
present(const json_t *s, const char *const *names, struct buf *list)
{
	int n = 0;

	for (; *names; names++)
		if (json_object_get(s, *names) != NULL) {
			if (n++)
				buf_append_byte(list, ',');
			buf_append_str(list, *names);
		}
	return n;
}

static int
key_cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
lint_node(struct report *r, const json_t *s, const char *ptr, int root)
{
	static const char *const numeric[] = { "multipleOf", "minimum", "maximum", NULL };
	static const char *const strings[] = { "maxLength", "minLength", "pattern", "format", NULL };
	static const char *const arrays[] = { "items", "additionalItems", "minItems", "maxItems", NULL };
	static const char *const objects[] = { "properties", "additionalProperties", "required",
	    "patternProperties", NULL };
	static const char *const formats[] = { "uri", "ipv4", "ivp6", "email", "date-time", "date",
	    "hostname", "uuid", NULL };   /* "ivp6": schema-ddl's spelling, so "ipv6" is unknown */
	json_t *props = json_object_get(s, "properties"), *req = json_object_get(s, "required");
	json_t *min = json_object_get(s, "minimum"), *max = json_object_get(s, "maximum");
	json_t *minl = json_object_get(s, "minLength"), *maxl = json_object_get(s, "maxLength");
	json_t *mini = json_object_get(s, "minItems"), *maxi = json_object_get(s, "maxItems");
	const char *fmt = json_string_value(json_object_get(s, "format"));
	struct buf m, list;
	char a[32], b[32];
	int custom = 0;

	buf_init(&m, 0);
	buf_init(&list, 0);
	if (!json_is_string(json_object_get(s, "description")))
		add(r, "INFO", ptr, "The schema is missing the \"description\" property");
	if (root && (props == NULL ||
	    !json_is_string(json_object_get(s, "type")) || !has_type(s, "object")))
		add(r, "WARNING", ptr, "At the root level, the schema should have a \"type\" property set "
		    "to \"object\" and have a \"properties\" property");
	if (json_is_number(min) && json_is_number(max) && json_number_value(max) < json_number_value(min)) {
		num_text(min, a);
		num_text(max, b);
		buf_reset(&m);
		buf_printf(&m, "A field with numeric type has a minimum value [%s] greater than the "
		    "maximum value [%s]", a, b);
		add(r, "ERROR", ptr, m.data);
	}
	if (json_is_integer(minl) && json_is_integer(maxl) &&
	    json_integer_value(maxl) < json_integer_value(minl)) {
		buf_reset(&m);
		buf_printf(&m, "A string type with \"minLength\" and \"maxLength\" property values has a "
		    "minimum value [%" JSON_INTEGER_FORMAT "] higher than the maximum [%" JSON_INTEGER_FORMAT
		    "]", json_integer_value(minl), json_integer_value(maxl));
		add(r, "ERROR", ptr, m.data);
	}
	if (has_type(s, "string") && json_is_integer(maxl) && json_integer_value(maxl) > 65535) {
		buf_reset(&m);
		buf_printf(&m, "A string property has a \"maxLength\" [%" JSON_INTEGER_FORMAT "] greater "
		    "than the Redshift VARCHAR maximum of 65535", json_integer_value(maxl));
		add(r, "WARNING", ptr, m.data);
	}
	if (json_is_integer(mini) && json_is_integer(maxi) &&
	    json_integer_value(maxi) < json_integer_value(mini)) {
		buf_reset(&m);
		buf_printf(&m, "A field of array type has a \"minItems\" value [%" JSON_INTEGER_FORMAT
		    "] with a greater value than the \"maxItems\" [%" JSON_INTEGER_FORMAT "]",
		    json_integer_value(mini), json_integer_value(maxi));
		add(r, "ERROR", ptr, m.data);
	}
#define KIND_RULE(names, cond, fmtstr) do { \
		buf_reset(&list); \
		if (present(s, names, &list) && (cond)) { \
			buf_reset(&m); \
			buf_printf(&m, fmtstr, list.data); \
			add(r, "ERROR", ptr, m.data); \
		} \
	} while (0)
	KIND_RULE(numeric, without_type(s, "number") && without_type(s, "integer"),
	    "Numeric properties [%s] require either a number, integer or absent values");
	KIND_RULE(strings, without_type(s, "string"),
	    "String properties [%s] require either string or absent values");
	KIND_RULE(arrays, without_type(s, "array"),
	    "Array properties [%s] require either array or absent values");
	KIND_RULE(objects, without_type(s, "object"),
	    "Object properties [%s] require either object or absent values");
#undef KIND_RULE
	if (json_is_false(json_object_get(s, "additionalProperties")) && json_is_array(req) &&
	    json_is_object(props) && json_object_get(s, "patternProperties") == NULL) {
		size_t i, n = 0;
		json_t *v;

		buf_reset(&list);
		json_array_foreach(req, i, v)
			if (json_is_string(v) && json_object_get(props, json_string_value(v)) == NULL) {
				if (n++)
					buf_append_byte(&list, ',');
				buf_append_str(&list, json_string_value(v));
			}
		if (n > 0) {
			buf_reset(&m);
			buf_printf(&m, "Elements specified as required [%s] don't exist in schema "
			    "properties", list.data);
			add(r, "ERROR", ptr, m.data);
		}
	}
	if (fmt != NULL) {
		const char *const *f;

		custom = 1;
		for (f = formats; *f; f++)
			custom &= strcmp(*f, fmt) != 0;
		if (custom) {
			buf_reset(&m);
			buf_printf(&m, "Unknown format [%s] detected. Known formats are: date-time, date, "
			    "email, hostname, ipv4, ipv6 or uri", fmt);
			add(r, "WARNING", ptr, m.data);
		}
	}
	if ((has_type(s, "number") || has_type(s, "integer")) && !(min != NULL && max != NULL))
		add(r, "WARNING", ptr, "A numeric property should have \"minimum\" and \"maximum\" "
		    "properties");
	if (has_type(s, "string") && json_object_get(s, "enum") == NULL && maxl == NULL &&
	    (fmt == NULL || custom))
		add(r, "WARNING", ptr, "A string type in the schema doesn't contain \"maxLength\" or "
		    "format which is required");
	if (json_is_array(req) && json_is_object(props)) {
		const char *k, *opt[256];
		json_t *v, *x;
		size_t i, n = 0;

		json_object_foreach(props, k, v) {
			int required = 0;

			json_array_foreach(req, i, x)
				required |= json_is_string(x) && strcmp(json_string_value(x), k) == 0;
			if (!required && !has_type(v, "null") && n < 256)
				opt[n++] = k;
		}
		if (n > 0) {
			qsort(opt, n, sizeof(*opt), key_cmp_str);
			buf_reset(&m);
			buf_append_str(&m, "Use \"type: null\" to indicate a field as optional for properties ");
			for (i = 0; i < n; i++)
				buf_printf(&m, "%s%s", i ? "," : "", opt[i]);
			add(r, "INFO", ptr, m.data);
		}
	}
	if (root) {
		json_t *sch = json_object_get(s, "$schema");

		if (sch == NULL)
			add(r, "ERROR", ptr, "No $schema field in top-level of schema");
		else if (!json_is_string(sch) || strcmp(json_string_value(sch), IGS_SELFDESC_URI) != 0)
			add(r, "ERROR", ptr, "Given $schema is not " IGS_SELFDESC_URI);
	}
	if (json_is_object(props)) {
		const char *k;
		json_t *v;
		struct buf bad, start;

		buf_init(&bad, 0);
		buf_init(&start, 0);
		json_object_foreach(props, k, v) {
			const char *c;
			int dis = 0;

			for (c = k; *c; c++)
				dis |= !((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
				    (*c >= '0' && *c <= '9') || *c == '_');
			if (dis)
				buf_printf(&bad, "%s%s", bad.len ? ", " : "", k);
			if (!((k[0] >= 'a' && k[0] <= 'z') || (k[0] >= 'A' && k[0] <= 'Z') || k[0] == '_'))
				buf_printf(&start, "%s%s", start.len ? ", " : "", k);
		}
		if (bad.len) {
			buf_reset(&m);
			buf_printf(&m, "Following properties contain disallowed characters for BigQuery "
			    "column name: [%s]", bad.data);
			add(r, "WARNING", ptr, m.data);
		}
		if (start.len) {
			buf_reset(&m);
			buf_printf(&m, "Following properties start with illegal character for BigQuery "
			    "column name: [%s]", start.data);
			add(r, "WARNING", ptr, m.data);
		}
		buf_free(&bad);
		buf_free(&start);
	}
	buf_free(&m);
	buf_free(&list);
}

/* Schema.traverse: items, additionalItems, properties, additionalProperties,
 * patternProperties, oneOf (in that order, depth first). */
static void
lint_walk(struct report *r, const json_t *s, const char *ptr, int depth)
{
	char child[2048];
	const char *k;
	json_t *v;
	size_t i;
	const char *sep = strcmp(ptr, "/") == 0 ? "" : ptr;

	if (!json_is_object(s) || depth > 100)
		return;
	lint_node(r, s, ptr, depth == 0);
	v = json_object_get(s, "items");
	if (json_is_object(v)) {
		snprintf(child, sizeof(child), "%s/items", sep);
		lint_walk(r, v, child, depth + 1);
	} else if (json_is_array(v)) {
		json_t *x;

		json_array_foreach(v, i, x) {
			snprintf(child, sizeof(child), "%s/items/%zu", sep, i);
			lint_walk(r, x, child, depth + 1);
		}
	}
	if (json_is_object(v = json_object_get(s, "additionalItems"))) {
		snprintf(child, sizeof(child), "%s/additionalItems", sep);
		lint_walk(r, v, child, depth + 1);
	}
	json_object_foreach(json_object_get(s, "properties"), k, v) {
		snprintf(child, sizeof(child), "%s/properties/%s", sep, k);
		lint_walk(r, v, child, depth + 1);
	}
	if (json_is_object(v = json_object_get(s, "additionalProperties"))) {
		snprintf(child, sizeof(child), "%s/additionalProperties", sep);
		lint_walk(r, v, child, depth + 1);
	}
	json_object_foreach(json_object_get(s, "patternProperties"), k, v) {
		snprintf(child, sizeof(child), "%s/patternProperties/%s", sep, k);
		lint_walk(r, v, child, depth + 1);
	}
	if (json_is_array(v = json_object_get(s, "oneOf"))) {
		json_t *x;

		json_array_foreach(v, i, x) {
			snprintf(child, sizeof(child), "%s/oneOf/%zu", sep, i);
			lint_walk(r, x, child, depth + 1);
		}
	}
}

/* ---------- the whole check ---------- */

int
igs_lint_self(const json_t *schema, struct iglu_key *key)
{
	json_t *self = json_object_get(schema, "self");
	const char *code;

	if (!json_is_object(schema) || !json_is_object(self))
		return 0;
	/* iglu-core's checkSchemaUri: it names the self-describing meta-schema */
	if (!json_is_string(json_object_get(schema, "$schema")) ||
	    strcmp(json_string_value(json_object_get(schema, "$schema")), IGS_SELFDESC_URI) != 0)
		return 0;
	if (!json_is_string(json_object_get(self, "vendor")) ||
	    !json_is_string(json_object_get(self, "name")) ||
	    !json_is_string(json_object_get(self, "format")) ||
	    !json_is_string(json_object_get(self, "version")))
		return 0;
	return igs_store_key(json_string_value(json_object_get(self, "vendor")),
	    json_string_value(json_object_get(self, "name")),
	    json_string_value(json_object_get(self, "format")),
	    json_string_value(json_object_get(self, "version")), key, &code) == 0;
}

json_t *
igs_lint_schema(struct igs_lint *l, const json_t *schema, size_t *errors, struct iglu_key *key,
    int *self_describing)
{
	struct report r = { json_array(), 0 };
	struct buf path, ptr;
	size_t before;

	*self_describing = 0;
	if (!json_is_object(schema)) {
		add(&r, "ERROR", "/", "Cannot extract JSON Schema");
		add(&r, "ERROR", "/", "JSON Schema is not self-describing");
		*errors = r.errors;
		return r.out;
	}
	/* general: the lax draft-04 and self syntax (errors), the strict one (warnings) */
	meta_reports(&r, l->draft04, schema);
	before = r.errors;
	meta_reports(&r, l->self_syntax, schema);
	buf_init(&path, 0);
	buf_init(&ptr, 0);
	buf_append_str(&path, "$");
	strict_walk(&r, schema, &path, &ptr);
	buf_free(&path);
	buf_free(&ptr);
	/* the linters run on what schema-ddl can read as a Schema: not when draft-04 failed */
	if (before > 0)
		add(&r, "ERROR", "/", "Cannot extract JSON Schema");
	else
		lint_walk(&r, schema, "/", 0);
	if (igs_lint_self(schema, key))
		*self_describing = 1;
	else
		add(&r, "ERROR", "/", "JSON Schema is not self-describing");
	*errors = r.errors;
	return r.out;
}
