/*
 * jsonpath: compile a JSONPath once, run it over jansson documents (see jsonpath.h for the
 * grammar). A compiled path is a list of steps; a query keeps the current node set and maps
 * it through each step. Filters are small expression trees whose operands are compiled paths.
 */
#include "jsonpath.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JP_MAX_STEPS      64    /* steps in one path (filters' paths included) */
#define JP_MAX_ITEMS      64    /* names or indices in one union */
#define JP_MAX_NEST       16    /* filters inside filters, parentheses inside expressions */

enum step_kind { STEP_NAMES, STEP_INDICES, STEP_SLICE, STEP_ALL, STEP_FILTER };

struct fexpr;

struct step {
	enum step_kind kind;
	int            deep;        /* reached through '..' */
	char         **names;
	size_t         n_names;
	long          *idx;
	size_t         n_idx;
	long           start, end, stride;
	int            has_start, has_end;
	struct fexpr  *filter;
};

struct jsonpath {
	char        *text;
	struct step *steps;
	size_t       n;
	int          absolute;      /* inside a filter: '$' rather than '@' */
};

enum op { OP_NONE, OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE };
enum fx_kind { FX_OR, FX_AND, FX_NOT, FX_TEST };

struct operand {
	struct jsonpath *path;      /* NULL: a literal */
	json_t          *lit;
};

struct fexpr {
	enum fx_kind    kind;
	struct fexpr   *a, *b;
	enum op         op;         /* FX_TEST: OP_NONE tests that l exists */
	struct operand  l, r;
};

struct parser {
	const char *s;
	size_t      pos;
	int         nest;
	char       *err;
	size_t      errlen;
};

static void path_free(struct jsonpath *p);
static struct jsonpath *parse_path(struct parser *ps, int in_filter);
static struct fexpr *parse_or(struct parser *ps);

static int
perr(struct parser *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "JSONPath %s at position %zu", msg, ps->pos);
	return -1;
}

static void
skip_ws(struct parser *ps)
{
	while (ps->s[ps->pos] == ' ' || ps->s[ps->pos] == '\t')
		ps->pos++;
}

static int
name_char(char c)
{
	return c != '\0' && strchr(".[]()=!<>&|,'\" \t\r\n", c) == NULL;
}

static void
fexpr_free(struct fexpr *f)
{
	if (f == NULL)
		return;
	fexpr_free(f->a);
	fexpr_free(f->b);
	path_free(f->l.path);
	path_free(f->r.path);
	json_decref(f->l.lit);
	json_decref(f->r.lit);
	free(f);
}

static void
step_clear(struct step *st)
{
	size_t i;

	for (i = 0; i < st->n_names; i++)
		free(st->names[i]);
	free(st->names);
	free(st->idx);
	fexpr_free(st->filter);
}

static void
path_free(struct jsonpath *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		step_clear(&p->steps[i]);
	free(p->steps);
	free(p->text);
	free(p);
}

/* A quoted string starting at ps->pos ('...' or "..."), with \ escaping the next character. */
static char *
parse_quoted(struct parser *ps)
{
	char q = ps->s[ps->pos++], *out;
	size_t cap = strlen(ps->s + ps->pos) + 1, n = 0;

	if ((out = malloc(cap)) == NULL) {
		perr(ps, "out of memory");
		return NULL;
	}
	for (;;) {
		char c = ps->s[ps->pos];
		if (c == '\0') {
			free(out);
			perr(ps, "unterminated string");
			return NULL;
		}
		ps->pos++;
		if (c == q)
			break;
		if (c == '\\' && ps->s[ps->pos] != '\0')
			c = ps->s[ps->pos++];
		out[n++] = c;
	}
	out[n] = '\0';
	return out;
}

/* An integer (optional '-'), within long. */
static int
parse_int(struct parser *ps, long *v)
{
	const char *p = ps->s + ps->pos;
	char *end;
	long x;

	if (!(isdigit((unsigned char)p[0]) || (p[0] == '-' && isdigit((unsigned char)p[1]))))
		return perr(ps, "expected an integer");
	errno = 0;
	x = strtol(p, &end, 10);
	if (errno == ERANGE)
		return perr(ps, "integer out of range");
	ps->pos += (size_t)(end - p);
	*v = x;
	return 0;
}

static int
add_name(struct step *st, char *name)
{
	char **nv;

	if (st->n_names == JP_MAX_ITEMS) {
		free(name);
		return -1;
	}
	if ((nv = realloc(st->names, (st->n_names + 1) * sizeof(*nv))) == NULL) {
		free(name);
		return -1;
	}
	st->names = nv;
	st->names[st->n_names++] = name;
	return 0;
}

static int
add_index(struct step *st, long i)
{
	long *nv;

	if (st->n_idx == JP_MAX_ITEMS || (nv = realloc(st->idx, (st->n_idx + 1) * sizeof(*nv))) == NULL)
		return -1;
	st->idx = nv;
	st->idx[st->n_idx++] = i;
	return 0;
}

/* The inside of [...]: ps->pos is just past '['. */
static int
parse_bracket(struct parser *ps, struct step *st)
{
	skip_ws(ps);
	if (ps->s[ps->pos] == '*') {
		ps->pos++;
		st->kind = STEP_ALL;
	} else if (ps->s[ps->pos] == '?') {
		ps->pos++;
		skip_ws(ps);
		if (ps->s[ps->pos] != '(')
			return perr(ps, "expected '(' after '?'");
		ps->pos++;
		if (++ps->nest > JP_MAX_NEST)
			return perr(ps, "filters nested too deep");
		st->kind = STEP_FILTER;
		if ((st->filter = parse_or(ps)) == NULL)
			return -1;
		ps->nest--;
		skip_ws(ps);
		if (ps->s[ps->pos] != ')')
			return perr(ps, "expected ')' to close the filter");
		ps->pos++;
	} else if (ps->s[ps->pos] == '\'' || ps->s[ps->pos] == '"') {
		st->kind = STEP_NAMES;
		for (;;) {
			char *name;
			skip_ws(ps);
			if (ps->s[ps->pos] != '\'' && ps->s[ps->pos] != '"')
				return perr(ps, "expected a quoted name");
			if ((name = parse_quoted(ps)) == NULL)
				return -1;
			if (add_name(st, name) < 0)
				return perr(ps, "too many names");
			skip_ws(ps);
			if (ps->s[ps->pos] != ',')
				break;
			ps->pos++;
		}
	} else {
		long v;
		int have_first = 0;
		if (ps->s[ps->pos] != ':') {
			if (parse_int(ps, &v) < 0)
				return -1;
			have_first = 1;
			skip_ws(ps);
		}
		if (ps->s[ps->pos] == ':') {
			st->kind = STEP_SLICE;
			st->has_start = have_first;
			st->start = have_first ? v : 0;
			st->stride = 1;
			ps->pos++;
			skip_ws(ps);
			if (ps->s[ps->pos] != ':' && ps->s[ps->pos] != ']') {
				if (parse_int(ps, &st->end) < 0)
					return -1;
				st->has_end = 1;
				skip_ws(ps);
			}
			if (ps->s[ps->pos] == ':') {
				ps->pos++;
				skip_ws(ps);
				if (ps->s[ps->pos] != ']') {
					if (parse_int(ps, &st->stride) < 0)
						return -1;
					if (st->stride == 0)
						return perr(ps, "slice step 0");
					skip_ws(ps);
				}
			}
		} else {
			st->kind = STEP_INDICES;
			if (add_index(st, v) < 0)
				return perr(ps, "out of memory");
			while (ps->s[ps->pos] == ',') {
				ps->pos++;
				skip_ws(ps);
				if (parse_int(ps, &v) < 0)
					return -1;
				if (add_index(st, v) < 0)
					return perr(ps, "too many indices");
				skip_ws(ps);
			}
		}
	}
	skip_ws(ps);
	if (ps->s[ps->pos] != ']')
		return perr(ps, "expected ']'");
	ps->pos++;
	return 0;
}

/* Steps after '$' or '@', up to the end of the text (or, in a filter, the first character
 * that cannot continue a path). */
static struct jsonpath *
parse_path(struct parser *ps, int in_filter)
{
	struct jsonpath *p = calloc(1, sizeof(*p));

	if (p == NULL) {
		perr(ps, "out of memory");
		return NULL;
	}
	for (;;) {
		const char *c = ps->s + ps->pos;
		struct step st, *nv;
		size_t l;

		if (in_filter ? (c[0] != '.' && c[0] != '[') : c[0] == '\0')
			break;
		memset(&st, 0, sizeof(st));
		if (p->n == JP_MAX_STEPS) {
			perr(ps, "too many steps");
			goto fail;
		}
		if (c[0] == '.' && c[1] == '.') {
			st.deep = 1;
			ps->pos += 2;
			c += 2;
			if (c[0] == '[') {
				ps->pos++;
				if (parse_bracket(ps, &st) < 0)
					goto fail_step;
				goto add;
			}
		} else if (c[0] == '.') {
			ps->pos++;
			c++;
		} else if (c[0] == '[') {
			ps->pos++;
			if (parse_bracket(ps, &st) < 0)
				goto fail_step;
			goto add;
		} else {
			perr(ps, "expected '.' or '['");
			goto fail;
		}
		if (c[0] == '*') {
			st.kind = STEP_ALL;
			ps->pos++;
			goto add;
		}
		for (l = 0; name_char(c[l]); l++)
			;
		if (l == 0) {
			perr(ps, "expected a name");
			goto fail;
		}
		st.kind = STEP_NAMES;
		{
			char *name = strndup(c, l);
			if (name == NULL || add_name(&st, name) < 0) {
				perr(ps, "out of memory");
				goto fail_step;
			}
		}
		ps->pos += l;
add:
		if ((nv = realloc(p->steps, (p->n + 1) * sizeof(*nv))) == NULL) {
			perr(ps, "out of memory");
			goto fail_step;
		}
		p->steps = nv;
		p->steps[p->n++] = st;
		continue;
fail_step:
		step_clear(&st);
		goto fail;
	}
	return p;
fail:
	path_free(p);
	return NULL;
}

/* An operand: @path, $path, or a literal. */
static int
parse_operand(struct parser *ps, struct operand *o)
{
	const char *c;

	skip_ws(ps);
	c = ps->s + ps->pos;
	if (c[0] == '@' || c[0] == '$') {
		ps->pos++;
		if (++ps->nest > JP_MAX_NEST)
			return perr(ps, "filters nested too deep");
		if ((o->path = parse_path(ps, 1)) == NULL)
			return -1;
		ps->nest--;
		o->path->absolute = c[0] == '$';
		return 0;
	}
	if (c[0] == '\'' || c[0] == '"') {
		char *s = parse_quoted(ps);
		if (s == NULL)
			return -1;
		o->lit = json_string(s);
		free(s);
		return o->lit ? 0 : perr(ps, "string is not valid UTF-8");
	}
	if (!strncmp(c, "true", 4) && !name_char(c[4])) {
		ps->pos += 4;
		o->lit = json_true();
		return 0;
	}
	if (!strncmp(c, "false", 5) && !name_char(c[5])) {
		ps->pos += 5;
		o->lit = json_false();
		return 0;
	}
	if (!strncmp(c, "null", 4) && !name_char(c[4])) {
		ps->pos += 4;
		o->lit = json_null();
		return 0;
	}
	if (c[0] == '-' || isdigit((unsigned char)c[0])) {
		char *end;
		double d;
		long long ll;
		errno = 0;
		ll = strtoll(c, &end, 10);
		if (errno == 0 && end != c && *end != '.' && *end != 'e' && *end != 'E') {
			ps->pos += (size_t)(end - c);
			o->lit = json_integer(ll);
			return 0;
		}
		d = strtod(c, &end);
		if (end == c || !isfinite(d))
			return perr(ps, "invalid number");
		ps->pos += (size_t)(end - c);
		o->lit = json_real(d);
		return 0;
	}
	return perr(ps, "expected @, $ or a literal");
}

static enum op
parse_op(struct parser *ps)
{
	const char *c;

	skip_ws(ps);
	c = ps->s + ps->pos;
	if (c[0] == '=' && c[1] == '=') {
		ps->pos += 2;
		return OP_EQ;
	}
	if (c[0] == '!' && c[1] == '=') {
		ps->pos += 2;
		return OP_NE;
	}
	if (c[0] == '<') {
		ps->pos += c[1] == '=' ? 2 : 1;
		return c[1] == '=' ? OP_LE : OP_LT;
	}
	if (c[0] == '>') {
		ps->pos += c[1] == '=' ? 2 : 1;
		return c[1] == '=' ? OP_GE : OP_GT;
	}
	return OP_NONE;
}

static struct fexpr *
fx_new(struct parser *ps, enum fx_kind kind)
{
	struct fexpr *f = calloc(1, sizeof(*f));

	if (f == NULL)
		perr(ps, "out of memory");
	else
		f->kind = kind;
	return f;
}

static struct fexpr *
parse_unary(struct parser *ps)
{
	struct fexpr *f;

	skip_ws(ps);
	if (ps->s[ps->pos] == '!' && ps->s[ps->pos + 1] != '=') {
		ps->pos++;
		if (++ps->nest > JP_MAX_NEST) {
			perr(ps, "expression nested too deep");
			return NULL;
		}
		if ((f = fx_new(ps, FX_NOT)) == NULL)
			return NULL;
		if ((f->a = parse_unary(ps)) == NULL) {
			fexpr_free(f);
			return NULL;
		}
		ps->nest--;
		return f;
	}
	if (ps->s[ps->pos] == '(') {
		ps->pos++;
		if (++ps->nest > JP_MAX_NEST) {
			perr(ps, "expression nested too deep");
			return NULL;
		}
		if ((f = parse_or(ps)) == NULL)
			return NULL;
		ps->nest--;
		skip_ws(ps);
		if (ps->s[ps->pos] != ')') {
			perr(ps, "expected ')'");
			fexpr_free(f);
			return NULL;
		}
		ps->pos++;
		return f;
	}
	if ((f = fx_new(ps, FX_TEST)) == NULL)
		return NULL;
	if (parse_operand(ps, &f->l) < 0) {
		fexpr_free(f);
		return NULL;
	}
	f->op = parse_op(ps);
	if (f->op == OP_NONE) {
		if (f->l.path == NULL) {
			perr(ps, "a literal alone is not a test");
			fexpr_free(f);
			return NULL;
		}
		return f;
	}
	if (parse_operand(ps, &f->r) < 0) {
		fexpr_free(f);
		return NULL;
	}
	return f;
}

static struct fexpr *
parse_and(struct parser *ps)
{
	struct fexpr *l = parse_unary(ps), *f;

	while (l != NULL) {
		skip_ws(ps);
		if (ps->s[ps->pos] != '&' || ps->s[ps->pos + 1] != '&')
			break;
		ps->pos += 2;
		if ((f = fx_new(ps, FX_AND)) == NULL) {
			fexpr_free(l);
			return NULL;
		}
		f->a = l;
		if ((f->b = parse_unary(ps)) == NULL) {
			fexpr_free(f);
			return NULL;
		}
		l = f;
	}
	return l;
}

static struct fexpr *
parse_or(struct parser *ps)
{
	struct fexpr *l = parse_and(ps), *f;

	while (l != NULL) {
		skip_ws(ps);
		if (ps->s[ps->pos] != '|' || ps->s[ps->pos + 1] != '|')
			break;
		ps->pos += 2;
		if ((f = fx_new(ps, FX_OR)) == NULL) {
			fexpr_free(l);
			return NULL;
		}
		f->a = l;
		if ((f->b = parse_and(ps)) == NULL) {
			fexpr_free(f);
			return NULL;
		}
		l = f;
	}
	return l;
}

struct jsonpath *
jsonpath_compile(const char *expr, char *err, size_t errlen)
{
	struct parser ps = { expr, 0, 0, err, errlen };
	struct jsonpath *p;

	if (strlen(expr) > JSONPATH_MAX_LEN) {
		snprintf(err, errlen, "JSONPath longer than %d characters", JSONPATH_MAX_LEN);
		return NULL;
	}
	if (expr[0] != '$') {
		snprintf(err, errlen, "JSONPath must start with $");
		return NULL;
	}
	ps.pos = 1;
	if ((p = parse_path(&ps, 0)) == NULL)
		return NULL;
	if ((p->text = strdup(expr)) == NULL) {
		path_free(p);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return p;
}

void
jsonpath_free(struct jsonpath *p)
{
	path_free(p);
}

const char *
jsonpath_text(const struct jsonpath *p)
{
	return p->text;
}

void
jsonpath_matches_free(struct jsonpath_matches *m)
{
	free(m->v);
	m->v = NULL;
	m->n = m->cap = 0;
}

/* ---- evaluation ---- */

static int
push(struct jsonpath_matches *m, json_t *j)
{
	if (m->n == m->cap) {
		size_t nc = m->cap ? m->cap * 2 : 16;
		json_t **nv;
		if (m->n >= JSONPATH_MAX_MATCHES)
			return -1;
		if (nc > JSONPATH_MAX_MATCHES)
			nc = JSONPATH_MAX_MATCHES;
		if ((nv = realloc(m->v, nc * sizeof(*nv))) == NULL)
			return -1;
		m->v = nv;
		m->cap = nc;
	}
	m->v[m->n++] = j;
	return 0;
}

static long run(const struct jsonpath *p, json_t *node, json_t *root, struct jsonpath_matches *m);

/* The first node an operand's path selects (NULL: none), or its literal. */
static json_t *
operand_value(const struct operand *o, json_t *node, json_t *root)
{
	struct jsonpath_matches m = { NULL, 0, 0 };
	json_t *v = NULL;

	if (o->path == NULL)
		return o->lit;
	if (run(o->path, o->path->absolute ? root : node, root, &m) > 0)
		v = m.v[0];
	jsonpath_matches_free(&m);
	return v;
}

static int
compare(enum op op, json_t *a, json_t *b)
{
	int c;

	if (a == NULL || b == NULL)
		return 0;
	if (json_is_number(a) && json_is_number(b)) {
		if (json_is_integer(a) && json_is_integer(b)) {
			json_int_t x = json_integer_value(a), y = json_integer_value(b);
			c = x < y ? -1 : x > y;
		} else {
			double x = json_number_value(a), y = json_number_value(b);
			c = x < y ? -1 : x > y;
		}
	} else if (json_is_string(a) && json_is_string(b)) {
		c = strcmp(json_string_value(a), json_string_value(b));
		c = c < 0 ? -1 : c > 0;
	} else {
		int eq = json_equal(a, b);
		if (op == OP_EQ)
			return eq;
		if (op == OP_NE)
			return !eq;
		return 0;
	}
	switch (op) {
	case OP_EQ: return c == 0;
	case OP_NE: return c != 0;
	case OP_LT: return c < 0;
	case OP_LE: return c <= 0;
	case OP_GT: return c > 0;
	case OP_GE: return c >= 0;
	default:    return 0;
	}
}

static int
eval(const struct fexpr *f, json_t *node, json_t *root)
{
	switch (f->kind) {
	case FX_OR:
		return eval(f->a, node, root) || eval(f->b, node, root);
	case FX_AND:
		return eval(f->a, node, root) && eval(f->b, node, root);
	case FX_NOT:
		return !eval(f->a, node, root);
	case FX_TEST:
		if (f->op == OP_NONE)
			return operand_value(&f->l, node, root) != NULL;
		return compare(f->op, operand_value(&f->l, node, root),
		    operand_value(&f->r, node, root));
	}
	return 0;
}

/* One step on one node (not descending). */
static int
apply(const struct step *st, json_t *n, json_t *root, struct jsonpath_matches *out)
{
	size_t i;
	json_t *c;
	const char *k;

	switch (st->kind) {
	case STEP_NAMES:
		if (!json_is_object(n))
			return 0;
		for (i = 0; i < st->n_names; i++)
			if ((c = json_object_get(n, st->names[i])) != NULL && push(out, c) < 0)
				return -1;
		return 0;
	case STEP_INDICES:
		if (!json_is_array(n))
			return 0;
		for (i = 0; i < st->n_idx; i++) {
			long ix = st->idx[i], len = (long)json_array_size(n);
			if (ix < 0)
				ix += len;
			if (ix >= 0 && ix < len && push(out, json_array_get(n, (size_t)ix)) < 0)
				return -1;
		}
		return 0;
	case STEP_SLICE: {
		long len, s, e, x;
		if (!json_is_array(n))
			return 0;
		len = (long)json_array_size(n);
		if (st->stride > 0) {
			s = st->has_start ? st->start : 0;
			e = st->has_end ? st->end : len;
			if (s < 0 && (s += len) < 0)
				s = 0;
			if (e < 0 && (e += len) < 0)
				e = 0;
			if (s > len)
				s = len;
			if (e > len)
				e = len;
			for (x = s; x < e; x += st->stride)
				if (push(out, json_array_get(n, (size_t)x)) < 0)
					return -1;
		} else {
			s = st->has_start ? st->start : len - 1;
			e = st->has_end ? st->end : -len - 1;
			if (s < 0)
				s += len;
			if (e < 0)
				e += len;
			if (s >= len)
				s = len - 1;
			for (x = s; x > e && x >= 0; x += st->stride)
				if (push(out, json_array_get(n, (size_t)x)) < 0)
					return -1;
		}
		return 0;
	}
	case STEP_ALL:
		if (json_is_object(n)) {
			json_object_foreach(n, k, c)
				if (push(out, c) < 0)
					return -1;
		} else if (json_is_array(n)) {
			json_array_foreach(n, i, c)
				if (push(out, c) < 0)
					return -1;
		}
		return 0;
	case STEP_FILTER:
		if (json_is_array(n)) {
			json_array_foreach(n, i, c)
				if (eval(st->filter, c, root) && push(out, c) < 0)
					return -1;
		} else if (json_is_object(n)) {
			if (eval(st->filter, n, root) && push(out, n) < 0)
				return -1;
		}
		return 0;
	}
	return 0;
}

/* '..': the step on n, then on every descendant, parents first. */
static int
apply_deep(const struct step *st, json_t *n, json_t *root, struct jsonpath_matches *out)
{
	const char *k;
	json_t *c;
	size_t i;

	if (apply(st, n, root, out) < 0)
		return -1;
	if (json_is_object(n)) {
		json_object_foreach(n, k, c)
			if (apply_deep(st, c, root, out) < 0)
				return -1;
	} else if (json_is_array(n)) {
		json_array_foreach(n, i, c)
			if (apply_deep(st, c, root, out) < 0)
				return -1;
	}
	return 0;
}

static long
run(const struct jsonpath *p, json_t *node, json_t *root, struct jsonpath_matches *m)
{
	struct jsonpath_matches a = { NULL, 0, 0 }, b = { NULL, 0, 0 }, t;
	size_t i, k;
	long rc = -1;

	if (node == NULL)
		return 0;
	if (push(&a, node) < 0)
		goto out;
	for (i = 0; i < p->n; i++) {
		b.n = 0;
		for (k = 0; k < a.n; k++)
			if ((p->steps[i].deep ? apply_deep(&p->steps[i], a.v[k], root, &b) :
			    apply(&p->steps[i], a.v[k], root, &b)) < 0)
				goto out;
		t = a;
		a = b;
		b = t;
		if (a.n == 0)
			break;
	}
	for (k = 0; k < a.n; k++)
		if (push(m, a.v[k]) < 0)
			goto out;
	rc = (long)a.n;
out:
	jsonpath_matches_free(&a);
	jsonpath_matches_free(&b);
	return rc;
}

long
jsonpath_query(const struct jsonpath *p, json_t *doc, struct jsonpath_matches *m)
{
	return run(p, doc, doc, m);
}
