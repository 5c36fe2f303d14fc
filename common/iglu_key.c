/*
 * iglu_key: Iglu's schema key, SchemaVer and criterion grammar (see iglu_key.h).
 */
#include "iglu_key.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

/*
 * The one Iglu grammar (IGLU-CORE SchemaKey.schemaUriRigidRegex, SchemaVer.schemaVerFullRegex,
 * SchemaCriterion.criterionRegex):
 *   vendor  [a-zA-Z0-9-_.]+     name, format  [a-zA-Z0-9-_]+
 *   version M-R-A: M [1-9][0-9]*, R and A 0|[1-9][0-9]*, each a Java int (Integer.parseInt)
 * A URI whose version is [0-9]*-[0-9]*-[0-9]* but not a valid SchemaVer is INVALID_SCHEMAVER;
 * any other shape is INVALID_IGLUURI. furrow adds one bound IGLU-CORE does not have: a part
 * longer than IGLU_PART_MAX bytes is INVALID_IGLUURI.
 */

static const unsigned char iglu_part_chars[256] = {
	['-'] = 3, ['_'] = 3, ['.'] = 1,
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3, ['6'] = 3, ['7'] = 3,
	['8'] = 3, ['9'] = 3,
	['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3, ['G'] = 3, ['H'] = 3,
	['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3,
	['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3,
	['Y'] = 3, ['Z'] = 3,
	['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3, ['g'] = 3, ['h'] = 3,
	['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3, ['m'] = 3, ['n'] = 3, ['o'] = 3, ['p'] = 3,
	['q'] = 3, ['r'] = 3, ['s'] = 3, ['t'] = 3, ['u'] = 3, ['v'] = 3, ['w'] = 3, ['x'] = 3,
	['y'] = 3, ['z'] = 3,
};
#define IGLU_VENDOR_CHAR 1   /* bit 0: allowed in a vendor; bit 1: also in a name or format */
#define IGLU_NAME_CHAR   2

/* The length of the part at s[0..n) up to the next '/', or 0 when it is empty, too long or
 * holds a character outside its class. */
static size_t
part_len(const char *s, size_t n, unsigned char class)
{
	size_t i;

	for (i = 0; i < n && s[i] != '/'; i++)
		if ((iglu_part_chars[(unsigned char)s[i]] & class) == 0)
			return 0;
	return i <= IGLU_PART_MAX ? i : 0;
}

/* One version number: "0" or [1-9][0-9]* within a Java int; model must be > 0. '*' gives -1
 * when star is set (criteria). */
static int
ver_part(const char *s, size_t n, int *out, int positive, int star)
{
	size_t i;
	long v = 0;

	if (star && n == 1 && s[0] == '*') {
		*out = -1;
		return 0;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT_MAX || (positive && v == 0))
		return -1;
	*out = (int)v;
	return 0;
}

/* "M-R-A" at s[0..n); with star, each part may be '*'. */
static int
ver_parse(const char *s, size_t n, int v[3], int star)
{
	const char *end = s + n, *d1 = memchr(s, '-', n), *d2;

	if (d1 == NULL || (d2 = memchr(d1 + 1, '-', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '-', (size_t)(end - d2 - 1)) != NULL)
		return -1;
	return ver_part(s, (size_t)(d1 - s), &v[0], 1, star) == 0 &&
	    ver_part(d1 + 1, (size_t)(d2 - d1 - 1), &v[1], 0, star) == 0 &&
	    ver_part(d2 + 1, (size_t)(end - d2 - 1), &v[2], 0, star) == 0 ? 0 : -1;
}

int
iglu_schemaver_parse(const char *s, size_t n, int *model, int *revision, int *addition)
{
	int v[3];

	if (ver_parse(s, n, v, 0) < 0)
		return -1;
	*model = v[0];
	*revision = v[1];
	*addition = v[2];
	return 0;
}

/* Split "iglu:V/N/F/VER" into its three names (copied into out[3], IGLU_PART_MAX + 1 bytes
 * each) and the version text. Returns 0 or -1 (not that shape). */
static int
split_uri(const char *uri, size_t len, char *out[3], const char **ver, size_t *verlen)
{
	static const unsigned char class[3] = { IGLU_VENDOR_CHAR, IGLU_NAME_CHAR, IGLU_NAME_CHAR };
	size_t pos = 5, n, k;

	if (uri == NULL || len < 5 || memcmp(uri, "iglu:", 5) != 0)
		return -1;
	for (k = 0; k < 3; k++) {
		n = part_len(uri + pos, len - pos, class[k]);
		if (n == 0 || pos + n >= len || uri[pos + n] != '/')
			return -1;
		memcpy(out[k], uri + pos, n);
		out[k][n] = '\0';
		pos += n + 1;
	}
	*ver = uri + pos;
	*verlen = len - pos;
	return 0;
}

int
iglu_key_parsen(const char *uri, size_t len, struct iglu_key *key, const char **code)
{
	char *parts[3] = { key->vendor, key->name, key->format };
	const char *ver, *dummy;
	size_t verlen, i, dashes = 0;
	int v[3];

	if (code == NULL)
		code = &dummy;
	*code = "INVALID_IGLUURI";
	if (split_uri(uri, len, parts, &ver, &verlen) < 0)
		return -1;
	/* the rigid version shape [0-9]*-[0-9]*-[0-9]* */
	for (i = 0; i < verlen; i++)
		if (ver[i] == '-')
			dashes++;
		else if (ver[i] < '0' || ver[i] > '9')
			return -1;
	if (dashes != 2)
		return -1;
	*code = "INVALID_SCHEMAVER";
	if (ver_parse(ver, verlen, v, 0) < 0)
		return -1;
	key->model = v[0];
	key->revision = v[1];
	key->addition = v[2];
	*code = NULL;
	return 0;
}

int
iglu_key_parse(const char *uri, struct iglu_key *key, const char **code)
{
	return iglu_key_parsen(uri, uri ? strlen(uri) : 0, key, code);
}

/* 1 when s is a whole part of the given class. */
static int
part_ok(const char *s, unsigned char class)
{
	size_t n = strlen(s);

	return n > 0 && part_len(s, n, class) == n;
}

int
iglu_key_valid(const struct iglu_key *key)
{
	return part_ok(key->vendor, IGLU_VENDOR_CHAR) && part_ok(key->name, IGLU_NAME_CHAR) &&
	    part_ok(key->format, IGLU_NAME_CHAR) && key->model > 0 && key->revision >= 0 &&
	    key->addition >= 0;
}

int
iglu_key_path_safe(const struct iglu_key *key)
{
	const char *p = key->vendor;

	while (*p == '.')
		p++;
	return *p != '\0';
}

char *
iglu_key_format(const struct iglu_key *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "iglu:%s/%s/%s/%d-%d-%d", key->vendor, key->name, key->format,
	    key->model, key->revision, key->addition);
	return out;
}

int
iglu_criterion_parse(const char *s, struct iglu_criterion *c)
{
	char *parts[3] = { c->vendor, c->name, c->format };
	const char *ver;
	size_t verlen;
	int v[3];

	if (s == NULL || split_uri(s, strlen(s), parts, &ver, &verlen) < 0 ||
	    ver_parse(ver, verlen, v, 1) < 0)
		return -1;
	c->model = v[0];
	c->revision = v[1];
	c->addition = v[2];
	return 0;
}

int
iglu_criterion_matches(const struct iglu_criterion *c, const struct iglu_key *key)
{
	return (c->model < 0 || c->model == key->model) &&
	    (c->revision < 0 || c->revision == key->revision) &&
	    (c->addition < 0 || c->addition == key->addition) &&
	    strcmp(c->name, key->name) == 0 && strcmp(c->vendor, key->vendor) == 0 &&
	    strcmp(c->format, key->format) == 0;
}

int
iglu_key_matches(const struct iglu_key *key, const char *criterion)
{
	struct iglu_criterion c;

	return iglu_criterion_parse(criterion, &c) == 0 && iglu_criterion_matches(&c, key);
}
