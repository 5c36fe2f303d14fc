/*
 * enr_ua_literal: required strings of a PCRE2 pattern, by a recursive scan of its syntax.
 *
 * A sequence of atoms yields runs of consecutive literal characters, each of which every match
 * contains; a group yields what its alternatives yield (one string from each: their union is
 * the requirement), unless a quantifier lets it occur zero times. Of all that a sequence
 * yields, the requirement whose shortest string is longest is kept. Anything the scan does not
 * understand ends a run (a class, \d, a non-ASCII character) or gives up on the whole pattern
 * (inline options, \Q, back references, \x escapes, verbs): the regex then simply always runs.
 * Soundness is all that matters here: a requirement that a match could lack would change
 * uap-core's first-match results.
 */
#include <string.h>

#include "enr_ua_literal.h"

#define LX_DEPTH_MAX 64

struct lx {
	const char *p, *end;
	char       *arena;    /* the caller's scratch: runs are copied here */
	size_t      used;
	int         caseless;
	int         giveup;   /* a construct the scan does not know: no requirement */
	int         bad;      /* malformed, as far as the scan can tell */
	int         depth;
};

static int
lx_is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static int
lx_is_alnum(int c)
{
	return lx_is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static size_t
lx_minlen(const struct ua_literal_set *r)
{
	size_t m = (size_t)-1;
	int i;

	for (i = 0; i < r->n; i++)
		if (r->len[i] < m)
			m = r->len[i];
	return r->n ? m : 0;
}

/* Keep the better of *best and r: the longer shortest string, then fewer alternatives. */
static void
lx_consider(struct ua_literal_set *best, const struct ua_literal_set *r)
{
	size_t a = lx_minlen(best), b = lx_minlen(r);

	if (r->n == 0)
		return;
	if (best->n == 0 || b > a || (b == a && r->n < best->n))
		*best = *r;
}

/*
 * A quantifier at the scan position: 0 none, 1 one (its minimum in *min), 2 something that
 * may be a quantifier with a minimum of zero ("{,3}" is one in PCRE2 10.43, a literal before):
 * the item before it is then treated as optional and the '{' is left for the caller.
 */
static int
lx_quant(struct lx *x, long *min)
{
	const char *p = x->p;

	if (p >= x->end)
		return 0;
	if (*p == '*' || *p == '?') {
		*min = 0;
		p++;
	} else if (*p == '+') {
		*min = 1;
		p++;
	} else if (*p == '{') {
		long n = 0;
		const char *q = p + 1;
		if (q >= x->end || !lx_is_digit(*q))
			return 2;
		while (q < x->end && lx_is_digit(*q)) {
			if (n < 100000)
				n = n * 10 + (*q - '0');
			q++;
		}
		if (q < x->end && *q == ',') {
			q++;
			while (q < x->end && lx_is_digit(*q))
				q++;
		}
		if (q >= x->end || *q != '}')
			return 2;
		*min = n;
		p = q + 1;
	} else {
		return 0;
	}
	if (p < x->end && (*p == '+' || *p == '?'))   /* possessive, lazy */
		p++;
	x->p = p;
	return 1;
}

/* Skip a UTF-8 character's continuation bytes. */
static void
lx_skip_cont(struct lx *x)
{
	while (x->p < x->end && ((unsigned char)*x->p & 0xC0) == 0x80)
		x->p++;
}

/* Skip a character class; x->p is at '['. */
static void
lx_skip_class(struct lx *x)
{
	x->p++;
	if (x->p < x->end && *x->p == '^')
		x->p++;
	if (x->p < x->end && *x->p == ']')
		x->p++;
	while (x->p < x->end && *x->p != ']') {
		if (*x->p == '\\') {
			x->p++;
			if (x->p >= x->end)
				break;
			if (*x->p == 'Q' || *x->p == 'E') {   /* \Q..\E may hold a ']' */
				x->giveup = 1;
				return;
			}
			x->p++;
			lx_skip_cont(x);
			continue;
		}
		if (*x->p == '[' && x->p + 1 < x->end &&
		    (x->p[1] == ':' || x->p[1] == '.' || x->p[1] == '=')) {
			x->giveup = 1;   /* POSIX class: its ']' is not the end */
			return;
		}
		x->p++;
	}
	if (x->p >= x->end) {
		x->bad = 1;
		return;
	}
	x->p++;
}

static void lx_alt(struct lx *x, struct ua_literal_set *out, int top);

/* The current run of literal characters ends: it is a candidate. */
static void
lx_flush(struct lx *x, size_t *run0, struct ua_literal_set *best)
{
	struct ua_literal_set r;

	if (x->used > *run0) {
		r.n = 1;
		r.s[0] = x->arena + *run0;
		r.len[0] = x->used - *run0;
		lx_consider(best, &r);
	}
	*run0 = x->used;
}

/* A sequence of atoms, up to '|', ')' or the end. */
static void
lx_seq(struct lx *x, struct ua_literal_set *best)
{
	size_t run0 = x->used;
	long min;
	int q;

	best->n = 0;
	while (x->p < x->end && *x->p != '|' && *x->p != ')' && !x->giveup && !x->bad) {
		unsigned char c = (unsigned char)*x->p;
		int lit = -1;   /* a literal character, or -1 */

		switch (c) {
		case '(': {
			struct ua_literal_set g;
			int look = 0;

			lx_flush(x, &run0, best);
			x->p++;
			if (x->p < x->end && *x->p == '?') {
				const char *p = x->p + 1;
				if (p < x->end && *p == ':') {
					p++;
				} else if (p < x->end && (*p == '=' || *p == '!')) {
					p++;
					look = 1;
				} else if (p + 1 < x->end && *p == '<' && (p[1] == '=' || p[1] == '!')) {
					p += 2;
					look = 1;
				} else if (p + 1 < x->end && (*p == '<' || (*p == 'P' && p[1] == '<'))) {
					const char *gt = memchr(p, '>', (size_t)(x->end - p));
					if (gt == NULL) {
						x->giveup = 1;
						return;
					}
					p = gt + 1;
				} else {
					x->giveup = 1;   /* options, comments, atomic groups, recursion... */
					return;
				}
				x->p = p;
			} else if (x->p < x->end && *x->p == '*') {
				x->giveup = 1;   /* (*VERB) */
				return;
			}
			if (++x->depth > LX_DEPTH_MAX) {
				x->giveup = 1;
				return;
			}
			lx_alt(x, &g, 0);
			x->depth--;
			if (x->giveup || x->bad)
				return;
			x->p++;   /* ')' */
			q = lx_quant(x, &min);
			if (!look && (q == 0 || (q == 1 && min > 0)))
				lx_consider(best, &g);
			run0 = x->used;
			continue;
		}
		case '[':
			lx_flush(x, &run0, best);
			lx_skip_class(x);
			lx_quant(x, &min);
			continue;
		case '.':
			lx_flush(x, &run0, best);
			x->p++;
			lx_quant(x, &min);
			continue;
		case '^':
		case '$':
			lx_flush(x, &run0, best);
			x->p++;
			if (lx_quant(x, &min))
				x->giveup = 1;
			continue;
		case '*':
		case '+':
		case '?':
			x->bad = 1;   /* nothing to repeat */
			return;
		case '{':
			if (lx_quant(x, &min) == 1) {
				x->bad = 1;
				return;
			}
			/*
			 * A literal '{' in PCRE2 10.42; "{,3}" and "{ 2 }" are quantifiers from 10.43
			 * on: what looks like one is skipped whole and used for nothing.
			 */
			lx_flush(x, &run0, best);
			{
				const char *b = x->p + 1;
				while (b < x->end && (lx_is_digit(*b) || *b == ',' || *b == ' '))
					b++;
				x->p = b < x->end && *b == '}' ? b + 1 : x->p + 1;
			}
			lx_quant(x, &min);
			continue;
		case '\\':
			x->p++;
			if (x->p >= x->end) {
				x->bad = 1;
				return;
			}
			c = (unsigned char)*x->p;
			if (lx_is_alnum(c)) {
				lx_flush(x, &run0, best);
				x->p++;
				if (strchr("dDwWsShHvVNRX", c)) {
					lx_quant(x, &min);
				} else if (strchr("bBAzZG", c)) {
					if (lx_quant(x, &min))
						x->giveup = 1;
				} else {
					x->giveup = 1;   /* \x, \p, \Q, \1, \k, \K... */
					return;
				}
				continue;
			}
			if (c >= 0x80) {
				lx_flush(x, &run0, best);
				x->p++;
				lx_skip_cont(x);
				lx_quant(x, &min);
				continue;
			}
			lit = c;   /* an escaped ASCII punctuation character stands for itself */
			break;
		default:
			if (c >= 0x80) {
				lx_flush(x, &run0, best);
				x->p++;
				lx_skip_cont(x);
				lx_quant(x, &min);
				continue;
			}
			lit = c;
			break;
		}
		x->p++;
		q = lx_quant(x, &min);
		if (q == 0 || (q == 1 && min > 0)) {
			if (x->caseless && lit >= 'A' && lit <= 'Z')
				lit += 'a' - 'A';
			x->arena[x->used++] = (char)lit;
		}
		if (q != 0)
			lx_flush(x, &run0, best);
	}
	lx_flush(x, &run0, best);
}

/* Alternatives up to the ')' that closes the group (or the end of the pattern at top). */
static void
lx_alt(struct lx *x, struct ua_literal_set *out, int top)
{
	int none = 0, i, j;

	out->n = 0;
	for (;;) {
		struct ua_literal_set r;

		lx_seq(x, &r);
		if (x->giveup || x->bad)
			return;
		if (r.n == 0 || lx_minlen(&r) < UA_LITERAL_MIN_LEN)
			none = 1;
		for (i = 0; !none && i < r.n; i++) {
			for (j = 0; j < out->n; j++)
				if (out->len[j] == r.len[i] && !memcmp(out->s[j], r.s[i], r.len[i]))
					break;
			if (j < out->n)
				continue;
			if (out->n == UA_LITERAL_MAX)
				none = 1;
			else {
				out->s[out->n] = r.s[i];
				out->len[out->n++] = r.len[i];
			}
		}
		if (x->p < x->end && *x->p == '|') {
			x->p++;
			continue;
		}
		break;
	}
	if (top ? x->p < x->end : x->p >= x->end) {
		x->bad = 1;   /* an unmatched ')', or a missing one */
		return;
	}
	if (none)
		out->n = 0;
}

int
ua_literal_required(const char *re, int caseless, char *scratch, struct ua_literal_set *out)
{
	struct lx x;

	memset(&x, 0, sizeof(x));
	x.p = re;
	x.end = re + strlen(re);
	x.arena = scratch;
	x.caseless = caseless;
	lx_alt(&x, out, 1);
	if (x.bad) {
		out->n = 0;
		return -1;
	}
	if (x.giveup || lx_minlen(out) < UA_LITERAL_MIN_LEN)
		out->n = 0;
	return 0;
}
