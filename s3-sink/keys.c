/*
 * keys: object keys, partition templates and Iglu URIs for s3-sink (see keys.h).
 */
#include "keys.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "pct.h"

/* Characters allowed in template text and prefixes (sinks.md §3.3 "characters"). */
static int
s3key_literal_ok(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	    c == '.' || c == '_' || c == '-' || c == '=' || c == '/';
}

enum s3key_ph { PH_NONE = -1, PH_VENDOR, PH_SCHEMA, PH_FORMAT, PH_MODEL, PH_YYYY, PH_MM, PH_DD, PH_HH };

static const char *const s3key_ph_names[] = {
	"vendor", "schema", "format", "model", "yyyy", "MM", "dd", "HH",
};

/* The placeholder named by s[0..len), or PH_NONE. */
static int
s3key_placeholder(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(s3key_ph_names) / sizeof(s3key_ph_names[0]); i++)
		if (strlen(s3key_ph_names[i]) == len && memcmp(s3key_ph_names[i], s, len) == 0)
			return (int)i;
	return PH_NONE;
}

/* 1 if a '/'-separated segment of s[0..len) is "..". */
static int
s3key_has_dotdot(const char *s, size_t len)
{
	size_t i = 0, start;

	while (i <= len) {
		start = i;
		while (i < len && s[i] != '/')
			i++;
		if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
			return 1;
		i++;
	}
	return 0;
}

int
s3key_template_check(const char *tmpl, int flags, char *err, size_t errlen)
{
	const char *p = tmpl, *close;
	int ph;

	while (*p) {
		if (*p == '{') {
			close = strchr(p + 1, '}');
			if (close == NULL) {
				snprintf(err, errlen, "unbalanced '{' in partition template");
				return -1;
			}
			ph = s3key_placeholder(p + 1, (size_t)(close - p - 1));
			if (ph == PH_NONE) {
				snprintf(err, errlen, "unknown placeholder {%.*s} in partition template",
				    (int)(close - p - 1), p + 1);
				return -1;
			}
			if (ph <= PH_MODEL && !(flags & S3KEY_ALLOW_SCHEMA)) {
				snprintf(err, errlen,
				    "Enriched events can only get partitioned by date and time");
				return -1;
			}
			p = close + 1;
			continue;
		}
		if (*p == '}') {
			snprintf(err, errlen, "unbalanced '}' in partition template");
			return -1;
		}
		if (!s3key_literal_ok((unsigned char)*p)) {
			snprintf(err, errlen, "character '%c' not allowed in partition template "
			    "(use A-Z a-z 0-9 . _ - = /)", *p);
			return -1;
		}
		p++;
	}
	if (s3key_has_dotdot(tmpl, strlen(tmpl))) {
		snprintf(err, errlen, "'..' segment in partition template");
		return -1;
	}
	return 0;
}

int
s3key_prefix_check(const char *prefix, char *err, size_t errlen)
{
	const char *p;

	for (p = prefix; *p; p++) {
		if (!s3key_literal_ok((unsigned char)*p)) {
			snprintf(err, errlen, "character '%c' not allowed in prefix "
			    "(use A-Z a-z 0-9 . _ - = /)", *p);
			return -1;
		}
	}
	if (s3key_has_dotdot(prefix, strlen(prefix))) {
		snprintf(err, errlen, "'..' segment in prefix");
		return -1;
	}
	return 0;
}

static int
s3key_put(char *out, size_t outlen, size_t *o, const char *s, size_t n)
{
	if (*o + n >= outlen)
		return -1;
	memcpy(out + *o, s, n);
	*o += n;
	return 0;
}

int
s3key_expand(const char *tmpl, const struct s3key_schema *schema, const struct tm *utc,
    char *out, size_t outlen)
{
	const char *p = tmpl, *close, *val;
	char num[16];
	size_t o = 0;
	int ph;

	if (outlen == 0)
		return -1;
	while (*p) {
		if (*p != '{') {
			if (s3key_put(out, outlen, &o, p, 1) == -1)
				return -1;
			p++;
			continue;
		}
		close = strchr(p + 1, '}');
		if (close == NULL)
			return -1;
		ph = s3key_placeholder(p + 1, (size_t)(close - p - 1));
		val = NULL;
		switch (ph) {
		case PH_VENDOR: val = schema ? schema->vendor : NULL; break;
		case PH_SCHEMA: val = schema ? schema->name : NULL; break;
		case PH_FORMAT: val = schema ? schema->format : NULL; break;
		case PH_MODEL:  val = schema ? schema->model : NULL; break;
		case PH_YYYY: snprintf(num, sizeof(num), "%04d", utc->tm_year + 1900); val = num; break;
		case PH_MM:   snprintf(num, sizeof(num), "%02d", utc->tm_mon + 1); val = num; break;
		case PH_DD:   snprintf(num, sizeof(num), "%02d", utc->tm_mday); val = num; break;
		case PH_HH:   snprintf(num, sizeof(num), "%02d", utc->tm_hour); val = num; break;
		default: return -1;
		}
		if (val == NULL || s3key_put(out, outlen, &o, val, strlen(val)) == -1)
			return -1;
		p = close + 1;
	}
	out[o] = '\0';
	return (int)o;
}

int
s3key_build(const char *partition, const char *prefix, const struct tm *utc, const char *uuid,
    char *out, size_t outlen)
{
	char raw[3 * S3KEY_MAX], ts[32];
	size_t i = 0, len, start, o = 0, seg;
	int n;

	if (outlen == 0)
		return -1;
	if (strftime(ts, sizeof(ts), "%Y-%m-%d-%H%M%S", utc) == 0)
		return -1;
	n = snprintf(raw, sizeof(raw), "%s/%s%s-%s.gz", partition, prefix, ts, uuid);
	if (n < 0 || (size_t)n >= sizeof(raw))
		return -1;
	len = (size_t)n;
	/* Paths.normalize: split on '/', drop empty and "." segments, refuse "..". */
	while (i < len) {
		start = i;
		while (i < len && raw[i] != '/')
			i++;
		seg = i - start;
		i++;
		if (seg == 0 || (seg == 1 && raw[start] == '.'))
			continue;
		if (seg == 2 && raw[start] == '.' && raw[start + 1] == '.')
			return -1;
		if (o > 0 && s3key_put(out, outlen, &o, "/", 1) == -1)
			return -1;
		if (s3key_put(out, outlen, &o, raw + start, seg) == -1)
			return -1;
	}
	if (o > S3KEY_MAX)
		return -1;
	out[o] = '\0';
	return (int)o;
}

int
s3key_schema_parse(const char *uri, size_t len, struct s3key_schema *s, const char **code)
{
	struct iglu_key k;

	if (iglu_key_parsen(uri, len, &k, code) == -1)
		return -1;
	if (!iglu_key_path_safe(&k)) {   /* a vendor of dots would be a "." or ".." segment */
		*code = "INVALID_IGLUURI";
		return -1;
	}
	memcpy(s->vendor, k.vendor, sizeof(s->vendor));
	memcpy(s->name, k.name, sizeof(s->name));
	memcpy(s->format, k.format, sizeof(s->format));
	snprintf(s->version, sizeof(s->version), "%d-%d-%d", k.model, k.revision, k.addition);
	snprintf(s->model, sizeof(s->model), "%d", k.model);
	return 0;
}

enum s3key_row
s3key_badrow_schema(const char *line, size_t len, struct s3key_schema *s, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *schema;
	const char *code;
	enum s3key_row rc = S3KEY_ROW_OK;

	root = json_loadb(line, len, JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "%s", jerr.text);
		return S3KEY_ROW_NOT_JSON;
	}
	schema = json_object_get(root, "schema");
	if (!json_is_object(root) || !json_is_string(schema) || json_object_get(root, "data") == NULL) {
		snprintf(err, errlen, "INVALID_DATA_PAYLOAD");
		rc = S3KEY_ROW_NO_SCHEMA;
	} else if (s3key_schema_parse(json_string_value(schema), json_string_length(schema), s,
	    &code) == -1) {
		snprintf(err, errlen, "%s", code);
		rc = S3KEY_ROW_NO_SCHEMA;
	}
	json_decref(root);
	return rc;
}

int
s3key_schema_eq(const struct s3key_schema *a, const struct s3key_schema *b)
{
	return strcmp(a->vendor, b->vendor) == 0 && strcmp(a->name, b->name) == 0 &&
	    strcmp(a->format, b->format) == 0 && strcmp(a->version, b->version) == 0;
}

int
s3key_url_path(const char *key, char *out, size_t outlen)
{
	return pct_encode(key, strlen(key), "/", out, outlen);
}

int
s3key_to_spool_name(const char *key, char *out, size_t outlen)
{
	size_t n = strlen(key), i;

	if (n + 1 > outlen || n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (key[i] == '!')
			return -1;
		out[i] = key[i] == '/' ? '!' : key[i];
	}
	out[n] = '\0';
	return (int)n;
}

int
s3key_from_spool_name(const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), i;

	if (n + 1 > outlen || n < 4 || strcmp(name + n - 3, ".gz") != 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (name[i] == '/')
			return -1;
		out[i] = name[i] == '!' ? '/' : name[i];
	}
	out[n] = '\0';
	return (int)n;
}
