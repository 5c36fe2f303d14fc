/*
 * libFuzzer target: the ua_parser's literal prefilter (enrich/enr_ua_literal.c) must be sound.
 * Input: a flags byte (bit 0: case-blind), a PCRE2 pattern up to the first newline, then a
 * subject. Whenever PCRE2 matches the subject, one of the strings the scan requires for the
 * pattern must occur in it (case-blind: in its ASCII lower case, checked for ASCII subjects as
 * the parser does), or the prefilter would change uap-core's results.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/enr_ua_literal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ua_literal_set req;
	const uint8_t *nl;
	char *pat, *scratch, *subj, *lower;
	size_t plen, slen, i;
	int caseless, ec, rc, ascii = 1, found = 0;
	PCRE2_SIZE off;
	pcre2_code *re;
	pcre2_match_data *md;
	pcre2_match_context *mc;

	if (size < 2)
		return 0;
	caseless = data[0] & 1;
	data++;
	size--;
	nl = memchr(data, '\n', size);
	plen = nl ? (size_t)(nl - data) : size;
	pat = malloc(plen + 1);
	scratch = malloc(plen + 1);
	memcpy(pat, data, plen);
	pat[plen] = '\0';   /* a NUL inside ends the pattern for both */
	slen = nl ? size - plen - 1 : 0;
	subj = malloc(slen + 1);
	lower = malloc(slen + 1);
	memcpy(subj, nl ? nl + 1 : data, slen);
	for (i = 0; i < slen; i++) {
		unsigned char c = (unsigned char)subj[i];
		ascii &= c < 0x80;
		lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
	}
	re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
	    PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (caseless ? PCRE2_CASELESS : 0), &ec, &off, NULL);
	if (ua_literal_required(pat, caseless, scratch, &req) == 0 && re != NULL && req.n > 0 &&
	    (ascii || !caseless)) {
		md = pcre2_match_data_create_from_pattern(re, NULL);
		mc = pcre2_match_context_create(NULL);
		pcre2_set_match_limit(mc, 100000);
		pcre2_set_depth_limit(mc, 1000);
		rc = pcre2_match(re, (PCRE2_SPTR)subj, slen, 0, 0, md, mc);
		if (rc >= 0) {
			for (i = 0; i < (size_t)req.n && !found; i++)
				found = memmem(caseless ? lower : subj, slen, req.s[i], req.len[i]) != NULL;
			if (!found) {
				fprintf(stderr, "pattern %s matches a subject without its strings\n", pat);
				abort();
			}
		}
		pcre2_match_context_free(mc);
		pcre2_match_data_free(md);
	}
	pcre2_code_free(re);
	free(pat);
	free(scratch);
	free(subj);
	free(lower);
	return 0;
}
