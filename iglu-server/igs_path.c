/*
 * igs_path: request-target parsing for iglu-server (see igs_path.h).
 */
#include "igs_path.h"

#include <string.h>

#include "pct.h"

/* Decode src[0..n) into t->store at *pos, NUL-terminated. Returns the decoded length or -1 (bad
 * escape), -2 (no room). */
static long
decode(struct igs_target *t, size_t *pos, const char *src, size_t n, int plus_space)
{
	size_t i, start = *pos, o = *pos;

	for (i = 0; i < n; i++) {
		char c = src[i];

		if (o + 1 >= sizeof(t->store))
			return -2;
		if (c == '%') {
			int hi, lo;

			if (i + 2 >= n)
				return -1;
			hi = pct_hexval(src[i + 1]);
			lo = pct_hexval(src[i + 2]);
			if (hi < 0 || lo < 0)
				return -1;
			c = (char)(hi * 16 + lo);
			i += 2;
		} else if (c == '+' && plus_space) {
			c = ' ';
		}
		t->store[o++] = c;
	}
	t->store[o++] = '\0';
	*pos = o;
	return (long)(o - 1 - start);
}

enum igs_path_result
igs_target_parse(const char *target, size_t len, struct igs_target *t)
{
	const char *q, *end = target + len, *p, *s;
	size_t pos = 0, plen;
	long dn;

	t->n_seg = 0;
	t->n_param = 0;
	if (len == 0 || target[0] != '/')
		return IGS_PATH_BAD;
	for (p = target; p < end; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '#')
			return IGS_PATH_BAD;
	q = memchr(target, '?', len);
	plen = q ? (size_t)(q - target) : len;
	/* AutoSlash: "/api/schemas/" is "/api/schemas" */
	if (plen > 1 && target[plen - 1] == '/')
		plen--;
	p = target + 1;
	while (p < target + plen) {
		s = memchr(p, '/', (size_t)(target + plen - p));
		if (s == NULL)
			s = target + plen;
		if (s == p || t->n_seg == IGS_PATH_MAX_SEGS)
			return IGS_PATH_TOO_MANY;
		t->seg[t->n_seg] = t->store + pos;
		dn = decode(t, &pos, p, (size_t)(s - p), 0);
		if (dn == -1)
			return IGS_PATH_BAD;
		if (dn < 0)
			return IGS_PATH_TOO_MANY;
		t->seg_len[t->n_seg++] = (size_t)dn;
		p = s + 1;
	}
	if (q == NULL)
		return IGS_PATH_OK;
	p = q + 1;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p)), *eq;

		if (amp == NULL)
			amp = end;
		if (amp > p) {
			if (t->n_param == IGS_PATH_MAX_PARAMS)
				return IGS_PATH_TOO_MANY;
			eq = memchr(p, '=', (size_t)(amp - p));
			t->pname[t->n_param] = t->store + pos;
			dn = decode(t, &pos, p, (size_t)((eq ? eq : amp) - p), 1);
			if (dn == -1)
				return IGS_PATH_BAD;
			if (dn < 0)
				return IGS_PATH_TOO_MANY;
			t->pvalue[t->n_param] = t->store + pos;
			dn = eq ? decode(t, &pos, eq + 1, (size_t)(amp - eq - 1), 1) :
			    decode(t, &pos, "", 0, 1);
			if (dn == -1)
				return IGS_PATH_BAD;
			if (dn < 0)
				return IGS_PATH_TOO_MANY;
			t->n_param++;
		}
		p = amp + 1;
	}
	return IGS_PATH_OK;
}

int
igs_target_seg_is(const struct igs_target *t, size_t i, const char *s)
{
	return i < t->n_seg && strlen(s) == t->seg_len[i] && memcmp(t->seg[i], s, t->seg_len[i]) == 0;
}

const char *
igs_target_param(const struct igs_target *t, const char *name)
{
	size_t i;

	for (i = 0; i < t->n_param; i++)
		if (strcmp(t->pname[i], name) == 0)
			return t->pvalue[i];
	return NULL;
}
