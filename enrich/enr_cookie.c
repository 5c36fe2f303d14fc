/*
 * enr_cookie: cookie_extractor_config (iglu:com.snowplowanalytics.snowplow/
 * cookie_extractor_config/1-0-*). Every `Cookie:` header of the collector payload is parsed
 * as Apache httpcore's BasicHeaderValueParser parses parameters (name=value pairs split on
 * ';', names and values trimmed, "quoted" values unquoted, parsing stops after a ','), and
 * each cookie whose name is configured becomes a derived context
 * iglu:org.ietf/http_cookie/jsonschema/1-0-0 {"name","value"} (value null without '=').
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "enr.h"
#include "jsonw.h"

#define COOKIE_SCHEMA "iglu:org.ietf/http_cookie/jsonschema/1-0-0"

struct cookie {
	char  **names;
	size_t  n;
};

static void
cookie_free(void *state)
{
	struct cookie *c = state;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++)
		free(c->names[i]);
	free(c->names);
	free(c);
}

static void *
cookie_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	json_t *a = json_object_get(json_object_get(ctx->data, "parameters"), "cookies"), *v;
	struct cookie *c;
	size_t i;

	if (!json_is_array(a)) {
		snprintf(err, errlen, "parameters.cookies: an array of cookie names is required");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->names = calloc(json_array_size(a) + 1, sizeof(char *))) == NULL) {
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "parameters.cookies[%zu]: a string is required", i);
			cookie_free(c);
			return NULL;
		}
		c->names[c->n++] = strdup(json_string_value(v));
	}
	return c;
}

static int
is_java_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Parse one header value; calls emit(name, value-or-NULL) per pair. */
static void
cookie_parse(const char *s, size_t len, struct cookie *c, struct enrich_event *ev)
{
	size_t i = 0;

	while (i < len) {
		size_t ns, ne;
		struct buf val;
		int has_val = 0;
		char end = 0;

		buf_init(&val, 0);
		while (i < len && is_java_ws((unsigned char)s[i]))
			i++;
		ns = i;
		while (i < len && s[i] != '=' && s[i] != ';' && s[i] != ',')
			i++;
		ne = i;
		while (ne > ns && is_java_ws((unsigned char)s[ne - 1]))
			ne--;
		if (i < len && s[i] == '=') {
			int quoted = 0, esc = 0;
			size_t vs, ve;

			has_val = 1;
			i++;
			vs = i;
			while (i < len) {
				char ch = s[i];
				if (!esc && !quoted && (ch == ';' || ch == ','))
					break;
				if (esc)
					esc = 0;
				else if (quoted && ch == '\\')
					esc = 1;
				else if (ch == '"')
					quoted = !quoted;
				i++;
			}
			ve = i;
			while (vs < ve && is_java_ws((unsigned char)s[vs]))
				vs++;
			while (ve > vs && is_java_ws((unsigned char)s[ve - 1]))
				ve--;
			if (ve - vs >= 2 && s[vs] == '"' && s[ve - 1] == '"') {
				size_t k;
				for (k = vs + 1; k < ve - 1; k++) {
					if (s[k] == '\\' && k + 1 < ve - 1)
						k++;
					buf_append_byte(&val, (uint8_t)s[k]);
				}
			} else {
				buf_append(&val, s + vs, ve - vs);
			}
		}
		if (i < len)
			end = s[i++];
		{
			size_t k;
			for (k = 0; k < c->n; k++)
				if (strlen(c->names[k]) == ne - ns && !memcmp(c->names[k], s + ns, ne - ns)) {
					json_t *d = json_pack("{s:o*,s:o*}", "name",
					    jsonw_string_new(s + ns, ne - ns), "value", has_val ?
					    jsonw_string_new(val.data ? val.data : "", val.len) : json_null());
					if (d != NULL)
						enrich_event_add_derived(ev, json_pack("{s:s,s:o}", "schema",
						    COOKIE_SCHEMA, "data", d));
					break;
				}
		}
		buf_free(&val);
		if (end == ',')
			break;
	}
}

static int
cookie_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct cookie *c = state;
	size_t i, n = enr_n_headers(ev);

	(void)failures;
	for (i = 0; i < n; i++) {
		size_t len;
		const char *h = enr_header_at(ev, i, &len);
		const char *colon = memchr(h, ':', len);
		if (colon == NULL || colon - h != 6 || strncasecmp(h, "cookie", 6) != 0)
			continue;
		cookie_parse(colon + 1, len - 7, c, ev);
	}
	return 0;
}

const struct enr_module enr_cookie = {
	"com.snowplowanalytics.snowplow", "cookie_extractor_config", 1, ENRICH_STAGE_EARLY, 60,
	"cookie-extractor", cookie_load, cookie_apply, cookie_free,
};
