/*
 * enr_ua_literal: the literal prefilter of the ua_parser enrichment. From a uap-core regex (a
 * PCRE2 pattern) it extracts strings of which at least one occurs in every subject the pattern
 * can match, so the parser skips a regex whose strings are all absent from a user agent without
 * running it: uap-core's first-match order is kept, only regexes that cannot match are skipped.
 */
#ifndef FURROW_ENR_UA_LITERAL_H
#define FURROW_ENR_UA_LITERAL_H

#include <stddef.h>

#define UA_LITERAL_MAX 16    /* alternatives in one requirement; more and none is kept */
#define UA_LITERAL_MIN_LEN 2 /* a requirement whose shortest string is shorter is not kept */

struct ua_literal_set {
	int         n;                      /* 0: no requirement known (the regex always runs) */
	const char *s[UA_LITERAL_MAX];      /* in the caller's scratch; lower case when caseless */
	size_t      len[UA_LITERAL_MAX];
};

/*
 * The required strings of pattern re (compiled with PCRE2_UTF, and PCRE2_CASELESS when
 * caseless: then the strings are ASCII lower case, to be found in an ASCII-lower-cased
 * subject). scratch needs strlen(re) + 1 bytes. Constructs the scan does not know (inline
 * options, \Q..\E, back references, POSIX classes...) give no requirement, never a wrong one.
 * Returns 0, or -1 when the pattern looks malformed (unbalanced parentheses, an unterminated
 * class, a trailing backslash, a quantifier with nothing before it): the caller compiles it
 * for PCRE2's own message.
 */
int ua_literal_required(const char *re, int caseless, char *scratch, struct ua_literal_set *out);

#endif
