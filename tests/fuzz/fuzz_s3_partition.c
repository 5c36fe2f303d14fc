/*
 * Fuzz target for s3-sink's key making: bad-row schema extraction (the JSON parse and the Iglu
 * URI), partition template checking and expansion, key building and normalisation, and the
 * spool-name encodings (sinks.md §3.2, §3.3, §3.8).
 *
 * Input: "<template>\n<bad row line>". Properties checked on every key that is built: at most
 * S3KEY_MAX bytes, only key characters, no empty, "." or ".." segment, no leading '/', and the
 * spool name round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../s3-sink/keys.h"
#include "../../s3-sink/spool.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_key(const char *key)
{
	char name[S3SPOOL_NAME_MAX], back[S3KEY_MAX + 1], url[3 * S3KEY_MAX + 1];
	const char *p, *seg = key;
	size_t n = strlen(key);

	if (n == 0 || n > S3KEY_MAX || key[0] == '/')
		abort();
	for (p = key; ; p++) {
		if (*p == '/' || *p == '\0') {
			size_t len = (size_t)(p - seg);

			if (len == 0 || (len == 1 && seg[0] == '.') ||
			    (len == 2 && seg[0] == '.' && seg[1] == '.'))
				abort();
			if (*p == '\0')
				break;
			seg = p + 1;
			continue;
		}
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || strchr("._-=", *p)))
			abort();
	}
	if (s3key_to_spool_name(key, name, sizeof(name)) == -1 ||
	    s3key_from_spool_name(name, back, sizeof(back)) == -1 || strcmp(back, key) != 0)
		abort();
	if (s3spool_classify(name) != S3SPOOL_CLOSED)
		abort();
	if (s3key_url_path(key, url, sizeof(url)) == -1)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *uuid = "0b8d3a4e-1f2a-4c3b-9d4e-5f6a7b8c9d0e";
	char tmpl[512], err[256], part[S3KEY_MAX + 1], key[S3KEY_MAX + 1];
	char pname[S3SPOOL_NAME_MAX], puuid[UUID_STR_LEN + 1];
	struct s3key_schema s, s2;
	const uint8_t *nl = memchr(data, '\n', size);
	size_t tlen = nl ? (size_t)(nl - data) : size;
	const char *line = nl ? (const char *)nl + 1 : "";
	size_t llen = nl ? size - tlen - 1 : 0;
	struct tm tm;
	time_t t = (time_t)(size * 7919u) % 4102444800;
	const char *code;
	int has;

	if (tlen >= sizeof(tmpl))
		return 0;
	memcpy(tmpl, data, tlen);
	tmpl[tlen] = '\0';
	if (strlen(tmpl) != tlen)
		return 0;          /* a NUL in the template: not a C string the CLI could pass */
	gmtime_r(&t, &tm);

	/* The URI parser on raw bytes, too. */
	if (s3key_schema_parse((const char *)data, size, &s, &code) == 0 &&
	    (strlen(s.vendor) == 0 || strlen(s.model) == 0))
		abort();

	if (s3key_badrow_schema(line, llen, &s, err, sizeof(err)) != S3KEY_ROW_OK)
		return 0;
	/* The open-file name carries the schema and parses back to it. */
	if (s3spool_part_name(uuid, &s, pname, sizeof(pname)) > 0) {
		if (s3spool_part_parse(pname, puuid, &s2, &has) != 0 || !has ||
		    !s3key_schema_eq(&s, &s2) || strcmp(puuid, uuid) != 0)
			abort();
	}
	if (s3key_template_check(tmpl, S3KEY_ALLOW_SCHEMA, err, sizeof(err)) != 0)
		return 0;
	if (s3key_prefix_check(tmpl, err, sizeof(err)) == 0 && strchr(tmpl, '{') == NULL) {
		if (s3key_build("", tmpl, &tm, uuid, key, sizeof(key)) > 0)
			check_key(key);
	}
	if (s3key_expand(tmpl, &s, &tm, part, sizeof(part)) < 0)
		return 0;
	if (s3key_build(part, "", &tm, uuid, key, sizeof(key)) > 0)
		check_key(key);
	return 0;
}
