/*
 * Fuzz target for the one Iglu grammar in common/iglu.c: iglu_key_parsen, iglu_criterion_parse
 * and iglu_schemaver_parse on arbitrary bytes.
 *
 * Properties: a parsed key is valid (iglu_key_valid), formats back to exactly the input (the
 * grammar has one spelling per key), parses again to the same key, and matches the criterion
 * made of itself and the all-wildcard one; a parsed criterion matches the key made of its
 * fixed parts when it has no wildcard; an error always names INVALID_IGLUURI or
 * INVALID_SCHEMAVER.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "iglu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *code = NULL;
	struct iglu_key k, k2;
	struct iglu_criterion c;
	char out[IGLU_URI_MAX], *z;
	int m, r, a;

	if (iglu_key_parsen(s, size, &k, &code) == 0) {
		if (code != NULL || !iglu_key_valid(&k))
			abort();
		iglu_key_format(&k, out, sizeof(out));
		if (strlen(out) != size || memcmp(out, s, size) != 0)
			abort();
		if (iglu_key_parse(out, &k2, NULL) != 0 || strcmp(k.vendor, k2.vendor) != 0 ||
		    strcmp(k.name, k2.name) != 0 || strcmp(k.format, k2.format) != 0 ||
		    k.model != k2.model || k.revision != k2.revision || k.addition != k2.addition)
			abort();
		if (iglu_criterion_parse(out, &c) != 0 || !iglu_criterion_matches(&c, &k))
			abort();
		snprintf(out, sizeof(out), "iglu:%s/%s/%s/*-*-*", k.vendor, k.name, k.format);
		if (!iglu_key_matches(&k, out))
			abort();
	} else if (code == NULL || (strcmp(code, "INVALID_IGLUURI") != 0 &&
	    strcmp(code, "INVALID_SCHEMAVER") != 0)) {
		abort();
	}

	/* criteria and bare versions want a C string */
	z = malloc(size + 1);
	if (z == NULL)
		return 0;
	memcpy(z, data, size);
	z[size] = '\0';
	if (iglu_criterion_parse(z, &c) == 0 && c.model > 0 && c.revision >= 0 && c.addition >= 0) {
		memcpy(k.vendor, c.vendor, sizeof(k.vendor));
		memcpy(k.name, c.name, sizeof(k.name));
		memcpy(k.format, c.format, sizeof(k.format));
		k.model = c.model;
		k.revision = c.revision;
		k.addition = c.addition;
		if (!iglu_key_valid(&k) || !iglu_criterion_matches(&c, &k))
			abort();
	}
	if (iglu_schemaver_parse(s, size, &m, &r, &a) == 0 && (m < 1 || r < 0 || a < 0))
		abort();
	free(z);
	return 0;
}
