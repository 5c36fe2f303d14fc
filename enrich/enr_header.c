/*
 * enr_header: http_header_extractor_config (iglu:com.snowplowanalytics.snowplow.enrichments/
 * http_header_extractor_config/1-0-*). Each collector header line "Name: value" whose Name
 * (as written, untrimmed) matches headersPattern in full (a Java regex; PCRE2 here) becomes a
 * derived context iglu:org.ietf/http_header/jsonschema/1-0-0 {"name","value"}, both trimmed.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "jsonw.h"

#define HEADER_SCHEMA "iglu:org.ietf/http_header/jsonschema/1-0-0"

struct header {
	pcre2_code       *re;
	pcre2_match_data *md;
};

static void
header_free(void *state)
{
	struct header *h = state;

	if (h == NULL)
		return;
	pcre2_match_data_free(h->md);
	pcre2_code_free(h->re);
	free(h);
}

static void *
header_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const char *pat = enr_json_str(json_object_get(ctx->data, "parameters"), "headersPattern");
	struct header *h;
	PCRE2_SIZE off;
	int ec;

	if (pat == NULL) {
		snprintf(err, errlen, "parameters.headersPattern: a string is required");
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	h->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &ec, &off, NULL);
	if (h->re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "parameters.headersPattern: %s at offset %zu", (char *)msg,
		    (size_t)off);
		free(h);
		return NULL;
	}
	pcre2_jit_compile(h->re, PCRE2_JIT_COMPLETE);
	h->md = pcre2_match_data_create_from_pattern(h->re, NULL);
	return h;
}

static int
java_trim(const char **s, size_t *len)
{
	while (*len && (unsigned char)**s <= 0x20) {
		(*s)++;
		(*len)--;
	}
	while (*len && (unsigned char)(*s)[*len - 1] <= 0x20)
		(*len)--;
	return 0;
}

static int
header_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct header *h = state;
	size_t i, n = enr_n_headers(ev);

	(void)failures;
	for (i = 0; i < n; i++) {
		size_t len, nl, vl;
		const char *line = enr_header_at(ev, i, &len), *colon, *name, *val;

		if ((colon = memchr(line, ':', len)) == NULL)
			continue;
		nl = (size_t)(colon - line);
		if (pcre2_match(h->re, (PCRE2_SPTR)line, nl, 0, 0, h->md, NULL) < 0)
			continue;
		name = line;
		val = colon + 1;
		vl = len - nl - 1;
		java_trim(&name, &nl);
		java_trim(&val, &vl);
		enrich_event_add_derived(ev, json_pack("{s:s,s:{s:o,s:o}}", "schema", HEADER_SCHEMA,
		    "data", "name", jsonw_string_new(name, nl), "value", jsonw_string_new(val, vl)));
	}
	return 0;
}

const struct enr_module enr_header = {
	"com.snowplowanalytics.snowplow.enrichments", "http_header_extractor_config", 1,
	ENRICH_STAGE_EARLY, 70, "http-header-extractor", header_load, header_apply, header_free,
};
