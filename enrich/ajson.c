/*
 * ajson: a JSON tree that keeps number literals and member order (see ajson.h).
 *
 * The parser follows jawn (circe's parser): RFC 8259 values, whitespace = space, tab, CR, LF;
 * raw control characters inside strings are errors; any value may be the root; trailing text
 * other than whitespace is an error. Error texts copy jawn's: "<what> got '<next 6 chars>...'
 * (line L, column C)", with "exhausted input" when the text ends inside a value.
 */
#include "ajson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "utf8.h"

#define AJ_SMALL_OBJ 16    /* objects up to this size are deduplicated by a linear scan */

struct ajson *
ajson_new(enum ajson_type type)
{
	struct ajson *j = calloc(1, sizeof(*j));

	if (j)
		j->type = type;
	return j;
}

static char *
dupn(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (p) {
		if (n)
			memcpy(p, s, n);
		p[n] = '\0';
	}
	return p;
}

struct ajson *
ajson_str(const char *s, size_t len)
{
	struct ajson *j = ajson_new(AJ_STR);

	if (j && (j->s = dupn(s, len)) == NULL) {
		free(j);
		return NULL;
	}
	if (j)
		j->len = len;
	return j;
}

struct ajson *
ajson_num(const char *literal, size_t len)
{
	struct ajson *j = ajson_str(literal, len);

	if (j)
		j->type = AJ_NUM;
	return j;
}

struct ajson *
ajson_int(long long v)
{
	char t[32];
	int n = snprintf(t, sizeof(t), "%lld", v);

	return ajson_num(t, (size_t)n);
}

void
ajson_free(struct ajson *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++) {
		free(j->m[i].key);
		ajson_free(j->m[i].val);
	}
	free(j->m);
	free(j->s);
	free(j);
}

static int
grow(struct ajson *j)
{
	if (j->n == j->cap) {
		size_t nc = j->cap ? j->cap * 2 : 8;
		struct ajson_mem *m = realloc(j->m, nc * sizeof(*m));
		if (m == NULL)
			return -1;
		j->m = m;
		j->cap = nc;
	}
	return 0;
}

int
ajson_push(struct ajson *arr, struct ajson *val)
{
	if (val == NULL || grow(arr) == -1) {
		ajson_free(val);
		return -1;
	}
	arr->m[arr->n].key = NULL;
	arr->m[arr->n].klen = 0;
	arr->m[arr->n++].val = val;
	return 0;
}

static long
find(const struct ajson *obj, const char *key, size_t klen)
{
	size_t i;

	if (obj == NULL || obj->type != AJ_OBJ)
		return -1;
	for (i = 0; i < obj->n; i++)
		if (obj->m[i].klen == klen && memcmp(obj->m[i].key, key, klen) == 0)
			return (long)i;
	return -1;
}

struct ajson *
ajson_get(const struct ajson *obj, const char *key)
{
	long i = find(obj, key, strlen(key));

	return i < 0 ? NULL : obj->m[i].val;
}

int
ajson_set(struct ajson *obj, const char *key, size_t klen, struct ajson *val)
{
	long i;
	char *k;

	if (val == NULL)
		return -1;
	if ((i = find(obj, key, klen)) >= 0) {
		ajson_free(obj->m[i].val);
		obj->m[i].val = val;
		return 0;
	}
	if ((k = dupn(key, klen)) == NULL || grow(obj) == -1) {
		free(k);
		ajson_free(val);
		return -1;
	}
	obj->m[obj->n].key = k;
	obj->m[obj->n].klen = klen;
	obj->m[obj->n++].val = val;
	return 0;
}

int
ajson_append(struct ajson *obj, const char *key, size_t klen, struct ajson *val)
{
	char *k;

	if (val == NULL)
		return -1;
	if ((k = dupn(key, klen)) == NULL || grow(obj) == -1) {
		free(k);
		ajson_free(val);
		return -1;
	}
	obj->m[obj->n].key = k;
	obj->m[obj->n].klen = klen;
	obj->m[obj->n++].val = val;
	return 0;
}

void
ajson_del(struct ajson *obj, const char *key)
{
	long i = find(obj, key, strlen(key));

	if (i < 0)
		return;
	free(obj->m[i].key);
	ajson_free(obj->m[i].val);
	memmove(obj->m + i, obj->m + i + 1, (obj->n - (size_t)i - 1) * sizeof(*obj->m));
	obj->n--;
}

struct ajson *
ajson_take(struct ajson *obj, size_t i)
{
	struct ajson *v = obj->m[i].val;

	obj->m[i].val = NULL;
	return v;
}

int
ajson_is_str(const struct ajson *j, const char *s)
{
	size_t n = strlen(s);

	return j && j->type == AJ_STR && j->len == n && memcmp(j->s, s, n) == 0;
}

struct ajson *
ajson_copy(const struct ajson *j)
{
	struct ajson *c;
	size_t i;

	if (j == NULL)
		return NULL;
	if ((c = ajson_new(j->type)) == NULL)
		return NULL;
	if (j->s && (c->s = dupn(j->s, j->len)) == NULL)
		goto fail;
	c->len = j->len;
	for (i = 0; i < j->n; i++) {
		struct ajson *v = ajson_copy(j->m[i].val);
		if (j->type == AJ_OBJ ? ajson_set(c, j->m[i].key, j->m[i].klen, v) :
		    ajson_push(c, v))
			goto fail;
	}
	return c;
fail:
	ajson_free(c);
	return NULL;
}

/* ---- printing ---- */

int
ajson_print(const struct ajson *j, struct buf *out)
{
	size_t i;
	int rc = 0;

	switch (j->type) {
	case AJ_NULL:
		return buf_append_str(out, "null");
	case AJ_FALSE:
		return buf_append_str(out, "false");
	case AJ_TRUE:
		return buf_append_str(out, "true");
	case AJ_NUM:
		return buf_append(out, j->s, j->len);
	case AJ_STR:
		return jsonw_string(out, j->s, j->len);
	case AJ_ARR:
	case AJ_OBJ:
		rc |= buf_append_byte(out, j->type == AJ_ARR ? '[' : '{');
		for (i = 0; i < j->n && rc == 0; i++) {
			if (i)
				rc |= buf_append_byte(out, ',');
			if (j->type == AJ_OBJ) {
				rc |= jsonw_string(out, j->m[i].key, j->m[i].klen);
				rc |= buf_append_byte(out, ':');
			}
			rc |= ajson_print(j->m[i].val, out);
		}
		rc |= buf_append_byte(out, j->type == AJ_ARR ? ']' : '}');
		return rc ? -1 : 0;
	}
	return -1;
}

json_t *
ajson_to_jansson(const struct ajson *j)
{
	struct buf b;
	json_t *r = NULL;

	buf_init(&b, 0);
	if (ajson_print(j, &b) == 0)
		r = json_loadb(b.data, b.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (r == NULL && j->type == AJ_NUM)   /* beyond jansson's integers: keep the text */
		r = json_real(strtod(j->s, NULL));
	buf_free(&b);
	return r;
}

/* ---- parsing ---- */

struct parser {
	const char *s;
	size_t len, i;
	size_t line, line_start;       /* jawn counts lines and columns in whitespace */
	char *err;
	size_t errlen;
	int failed;
};

/* Column of byte offset i in UTF-16 units since the line start, as jawn counts chars. */
static size_t
column(const struct parser *p, size_t i)
{
	size_t k, n = 0;

	for (k = p->line_start; k < i && k < p->len; k++) {
		unsigned char c = (unsigned char)p->s[k];
		if ((c & 0xc0) != 0x80)
			n += c >= 0xf0 ? 2 : 1;
	}
	return n;
}

static void
die(struct parser *p, size_t i, const char *what)
{
	size_t end = i, n = 0;

	if (p->failed)
		return;
	p->failed = 1;
	if (i >= p->len) {
		snprintf(p->err, p->errlen, "invalid json: exhausted input");
		return;
	}
	while (end < p->len && n < 6) {             /* six characters of context */
		unsigned char c = (unsigned char)p->s[end];
		size_t l = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		end = end + l > p->len ? p->len : end + l;
		n += l == 4 ? 2 : 1;
	}
	snprintf(p->err, p->errlen, "invalid json: %s got '%.*s%s' (line %zu, column %zu)", what,
	    (int)(end - i), p->s + i, end < p->len ? "..." : "", p->line + 1, column(p, i) + 1);
}

static void
oom(struct parser *p)
{
	if (!p->failed)
		snprintf(p->err, p->errlen, "out of memory");
	p->failed = 1;
}

static void
skip_ws(struct parser *p)
{
	while (p->i < p->len) {
		char c = p->s[p->i];
		if (c == '\n') {
			p->line++;
			p->line_start = p->i + 1;
		} else if (c != ' ' && c != '\t' && c != '\r') {
			break;
		}
		p->i++;
	}
}

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static struct ajson *
parse_number(struct parser *p)
{
	size_t st = p->i, i = p->i;

	if (i < p->len && p->s[i] == '-')
		i++;
	if (i >= p->len) {
		die(p, i, "expected digit");
		return NULL;
	}
	if (p->s[i] == '0') {
		i++;
	} else if (is_digit(p->s[i])) {
		while (i < p->len && is_digit(p->s[i]))
			i++;
	} else {
		die(p, i, "expected digit");
		return NULL;
	}
	if (i < p->len && p->s[i] == '.') {
		i++;
		if (i >= p->len || !is_digit(p->s[i])) {
			die(p, i, "expected digit");
			return NULL;
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->s[i])) {
			die(p, i, "expected digit");
			return NULL;
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	p->i = i;
	return ajson_num(p->s + st, i - st);
}

static int
hex4(const char *s, unsigned *v)
{
	int k, d;

	*v = 0;
	for (k = 0; k < 4; k++) {
		char c = s[k];
		d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
		    c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
		if (d < 0)
			return -1;
		*v = *v << 4 | (unsigned)d;
	}
	return 0;
}

/* A string literal at p->i (which is '"') into out (reset first). */
static int
parse_string(struct parser *p, struct buf *out)
{
	size_t i = p->i + 1, run;

	buf_reset(out);
	for (;;) {
		run = i;
		while (i < p->len && p->s[i] != '"' && p->s[i] != '\\' &&
		    (unsigned char)p->s[i] >= 0x20)
			i++;
		if (i > run && buf_append(out, p->s + run, i - run) == -1) {
			oom(p);
			return -1;
		}
		if (i >= p->len) {
			die(p, i, "");
			return -1;
		}
		if (p->s[i] == '"')
			break;
		if ((unsigned char)p->s[i] < 0x20) {
			char m[40];
			snprintf(m, sizeof(m), "control char (%d) in string", p->s[i]);
			die(p, i, m);
			return -1;
		}
		/* an escape */
		if (i + 1 >= p->len) {
			die(p, p->len, "");
			return -1;
		}
		{
			char c = p->s[i + 1], lit;
			unsigned u, lo;
			switch (c) {
			case '"': lit = '"'; break;
			case '\\': lit = '\\'; break;
			case '/': lit = '/'; break;
			case 'b': lit = '\b'; break;
			case 'f': lit = '\f'; break;
			case 'n': lit = '\n'; break;
			case 'r': lit = '\r'; break;
			case 't': lit = '\t'; break;
			case 'u':
				if (i + 6 > p->len) {
					die(p, p->len, "");
					return -1;
				}
				if (hex4(p->s + i + 2, &u) == -1) {
					die(p, i + 2, "expected valid unicode escape");
					return -1;
				}
				i += 6;
				if (u >= 0xd800 && u <= 0xdbff && i + 6 <= p->len && p->s[i] == '\\' &&
				    p->s[i + 1] == 'u' && hex4(p->s + i + 2, &lo) == 0 && lo >= 0xdc00 &&
				    lo <= 0xdfff) {
					u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
					i += 6;
				} else if (u >= 0xd800 && u <= 0xdfff) {
					u = 0xfffd;     /* a lone surrogate: Java prints it as '?' bytes */
				}
				if (utf8_append(out, u) == -1) {
					oom(p);
					return -1;
				}
				continue;
			default:
				die(p, i + 1, "invalid escape sequence");
				return -1;
			}
			if (buf_append_byte(out, (uint8_t)lit) == -1) {
				oom(p);
				return -1;
			}
			i += 2;
		}
	}
	p->i = i + 1;
	return 0;
}

static struct ajson *
parse_word(struct parser *p, const char *word, enum ajson_type t)
{
	size_t n = strlen(word);

	if (p->len - p->i < n) {
		if (memcmp(p->s + p->i, word, p->len - p->i) == 0) {
			die(p, p->len, "");
			return NULL;
		}
	} else if (memcmp(p->s + p->i, word, n) == 0) {
		p->i += n;
		return ajson_new(t);
	}
	{
		char m[32];
		snprintf(m, sizeof(m), "expected %s", word);
		die(p, p->i, m);
	}
	return NULL;
}

/* Sort helper for deduplicating a large object: member indices by key, then position. */
static const struct ajson *sort_obj;

static int
dedup_cmp(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	const struct ajson_mem *mx = &sort_obj->m[x], *my = &sort_obj->m[y];
	size_t n = mx->klen < my->klen ? mx->klen : my->klen;
	int c = memcmp(mx->key, my->key, n);

	if (c == 0 && mx->klen != my->klen)
		c = mx->klen < my->klen ? -1 : 1;
	if (c == 0)
		c = x < y ? -1 : x > y;
	return c;
}

/* A duplicate key keeps its first position and takes the last value (circe-jawn puts members
 * into a java.util.LinkedHashMap). Large objects are sorted once instead of scanned per key. */
int
ajson_dedup(struct ajson *o)
{
	size_t *ix, i, w, run;

	if (o->n <= AJ_SMALL_OBJ) {
		for (i = 1; i < o->n; i++) {
			size_t k;
			for (k = 0; k < i; k++)
				if (o->m[k].klen == o->m[i].klen &&
				    memcmp(o->m[k].key, o->m[i].key, o->m[i].klen) == 0)
					break;
			if (k < i) {
				ajson_free(o->m[k].val);
				o->m[k].val = o->m[i].val;
				free(o->m[i].key);
				memmove(o->m + i, o->m + i + 1, (o->n - i - 1) * sizeof(*o->m));
				o->n--;
				i--;
			}
		}
		return 0;
	}
	if ((ix = malloc(o->n * sizeof(*ix))) == NULL)
		return -1;
	for (i = 0; i < o->n; i++)
		ix[i] = i;
	sort_obj = o;
	qsort(ix, o->n, sizeof(*ix), dedup_cmp);
	for (i = 0; i < o->n; i = run) {
		for (run = i + 1; run < o->n && o->m[ix[run]].klen == o->m[ix[i]].klen &&
		    memcmp(o->m[ix[run]].key, o->m[ix[i]].key, o->m[ix[i]].klen) == 0; run++) {
			/* the later value replaces the first; the later member goes */
			ajson_free(o->m[ix[i]].val);
			o->m[ix[i]].val = o->m[ix[run]].val;
			o->m[ix[run]].val = NULL;
			free(o->m[ix[run]].key);
			o->m[ix[run]].key = NULL;
		}
	}
	free(ix);
	for (i = w = 0; i < o->n; i++)
		if (o->m[i].key != NULL)
			o->m[w++] = o->m[i];
	o->n = w;
	return 0;
}

struct frame {
	struct ajson *node;
	char *key;             /* objects: the key waiting for its value */
	size_t klen;
};

/*
 * The parser keeps a tree only as deep as the depth rule allows: below max_depth levels the
 * document is already rejected, so deeper containers are only syntax-checked, with one byte
 * per level ('{' or '[') instead of a node, and a megabyte of "[[[[…" costs a megabyte.
 */
struct ajson *
ajson_parse(const char *text, size_t len, int max_depth, char *err, size_t errlen)
{
	struct parser p = { text, len, 0, 0, 0, err, errlen, 0 };
	struct frame *st = NULL;
	size_t nst = 0, cap = 0, limit = max_depth > 0 ? (size_t)max_depth : 0;
	int too_deep = max_depth <= 0;
	struct ajson *root = NULL, *v;
	struct buf sb, skip;
	char kind, close;

	buf_init(&sb, 0);
	buf_init(&skip, 0);
	for (;;) {
		/* a value is expected at p.i */
		skip_ws(&p);
		if (p.i >= p.len) {
			die(&p, p.i, "");
			goto fail;
		}
		v = NULL;
		kind = p.s[p.i];
		if (kind == '{' || kind == '[') {
			p.i++;
			if (nst + skip.len >= limit) {
				/* past the rule: remember the kind only */
				too_deep = 1;
				if (nst + skip.len > 0 && skip.len == 0 && st[nst - 1].node->type == AJ_OBJ) {
					free(st[nst - 1].key);
					st[nst - 1].key = NULL;
				}
				if (buf_append_byte(&skip, (uint8_t)kind) == -1) {
					oom(&p);
					goto fail;
				}
				goto opened;
			}
			v = ajson_new(kind == '{' ? AJ_OBJ : AJ_ARR);
		} else if (kind == '"') {
			if (parse_string(&p, &sb) == -1)
				goto fail;
			v = ajson_str(sb.data ? sb.data : "", sb.len);
		} else if (kind == 't') {
			v = parse_word(&p, "true", AJ_TRUE);
		} else if (kind == 'f') {
			v = parse_word(&p, "false", AJ_FALSE);
		} else if (kind == 'n') {
			v = parse_word(&p, "null", AJ_NULL);
		} else if (kind == '-' || is_digit(kind)) {
			v = parse_number(&p);
		} else {
			die(&p, p.i, "expected json value");
			goto fail;
		}
		if (v == NULL) {
			if (!p.failed)
				oom(&p);
			goto fail;
		}
		if (nst + skip.len >= limit && nst + skip.len > 0)
			too_deep = 1;
		/* attach to the container on top, or make it the root */
		if (skip.len > 0) {
			ajson_free(v);                          /* below the rule: not kept */
			v = NULL;
		} else if (nst == 0) {
			root = v;
		} else {
			struct frame *f = &st[nst - 1];
			int rc;
			if (f->node->type == AJ_ARR) {
				rc = ajson_push(f->node, v);
			} else {
				/* a plain append; duplicates are folded when the object closes */
				rc = grow(f->node);
				if (rc == 0) {
					f->node->m[f->node->n].key = f->key;
					f->node->m[f->node->n].klen = f->klen;
					f->node->m[f->node->n++].val = v;
					f->key = NULL;
				} else {
					ajson_free(v);
				}
			}
			if (rc == -1) {
				oom(&p);
				goto fail;
			}
		}
		if (v && (v->type == AJ_OBJ || v->type == AJ_ARR)) {
			if (nst == cap) {
				size_t nc = cap ? cap * 2 : 16;
				struct frame *ns = realloc(st, nc * sizeof(*ns));
				if (ns == NULL) {
					oom(&p);
					goto fail;
				}
				st = ns;
				cap = nc;
			}
			st[nst].node = v;
			st[nst].key = NULL;
			nst++;
			goto opened;
		}
		goto after_value;
opened:
		/* just inside a container: an immediate close, a key, or a value */
		kind = skip.len ? skip.data[skip.len - 1] : (st[nst - 1].node->type == AJ_OBJ ? '{' : '[');
		skip_ws(&p);
		if (p.i >= p.len) {
			die(&p, p.i, "");
			goto fail;
		}
		if (p.s[p.i] == (kind == '{' ? '}' : ']')) {
			p.i++;
			if (skip.len)
				skip.len--;
			else
				nst--;
			goto after_value;
		}
		if (kind == '{')
			goto want_key;
		continue;
after_value:
		/* after a value: close containers, or a separator */
		for (;;) {
			if (nst + skip.len == 0)
				goto done;
			kind = skip.len ? skip.data[skip.len - 1] :
			    (st[nst - 1].node->type == AJ_OBJ ? '{' : '[');
			close = kind == '{' ? '}' : ']';
			skip_ws(&p);
			if (p.i >= p.len) {
				die(&p, p.i, "");
				goto fail;
			}
			if (p.s[p.i] == ',') {
				p.i++;
				if (kind == '{')
					goto want_key;
				break;                        /* the next array element */
			}
			if (p.s[p.i] == close) {
				p.i++;
				if (skip.len) {
					skip.len--;
				} else {
					if (kind == '{' && ajson_dedup(st[nst - 1].node) == -1) {
						oom(&p);
						goto fail;
					}
					nst--;
				}
				continue;
			}
			die(&p, p.i, kind == '{' ? "expected } or ," : "expected ] or ,");
			goto fail;
		}
		continue;
want_key:
		skip_ws(&p);
		if (p.i >= p.len) {
			die(&p, p.i, "");
			goto fail;
		}
		if (p.s[p.i] != '"') {
			die(&p, p.i, "expected \"");
			goto fail;
		}
		if (parse_string(&p, &sb) == -1)
			goto fail;
		if (skip.len == 0) {
			struct frame *f = &st[nst - 1];
			free(f->key);
			if ((f->key = dupn(sb.data ? sb.data : "", sb.len)) == NULL) {
				oom(&p);
				goto fail;
			}
			f->klen = sb.len;
		}
		skip_ws(&p);
		if (p.i >= p.len) {
			die(&p, p.i, "");
			goto fail;
		}
		if (p.s[p.i] != ':') {
			die(&p, p.i, "expected :");
			goto fail;
		}
		p.i++;
	}
done:
	skip_ws(&p);
	if (p.i < p.len) {
		die(&p, p.i, "expected whitespace or eof");
		goto fail;
	}
	free(st);
	buf_free(&sb);
	buf_free(&skip);
	if (too_deep) {
		if (err)
			snprintf(err, errlen, "invalid json: maximum allowed JSON depth exceeded");
		ajson_free(root);
		return NULL;
	}
	return root;
fail:
	while (nst > 0)
		free(st[--nst].key);
	free(st);
	buf_free(&sb);
	buf_free(&skip);
	ajson_free(root);
	return NULL;
}
