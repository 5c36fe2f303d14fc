/*
 * pg_schema: JSON Schema -> table columns, entity -> COPY cells (see pg_schema.h).
 *
 * The flattening is schema-ddl 0.14.1's FlatSchema.build, written over jansson: every
 * sub-schema is visited with its schema pointer (properties, items, additionalItems,
 * additionalProperties, patternProperties, oneOf: Schema.traverse) and saved as a leaf or a
 * parent (FlatSchema.save). A pointer is kept as a string of segments: "/P<keyword>" for a
 * schema keyword, "/F<name>" for a property name ('~' and '/' escaped as in JSON Pointer),
 * "/I<n>" for an index, so that "is a parent of" is a prefix test.
 */
#include "pg_schema.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jnum.h"
#include "jsonw.h"
#include "pg_copy.h"

/* JSON Schema types as bits (CommonProperties.Type); a "Union" is more than one bit. */
#define T_NULL    0x01u
#define T_BOOLEAN 0x02u
#define T_STRING  0x04u
#define T_INTEGER 0x08u
#define T_NUMBER  0x10u
#define T_ARRAY   0x20u
#define T_OBJECT  0x40u

#define PGSCHEMA_DEFAULT_VARCHAR 4096          /* Type.DefaultVarcharSize */
#define PGSCHEMA_VARCHAR_LIMIT   10485760L     /* PostgreSQL's largest VARCHAR(n) / CHAR(n) */
#define PGSCHEMA_MAX_NODES       (8 * PGSCHEMA_MAX_COLS)

struct sub {
	char         *ptr;
	const json_t *schema;
	unsigned      type;        /* after FlatSchema.withLeaf */
	int           has_type;
	int           under_nullable;  /* an enclosing object may be null (pg-sink's rule) */
	size_t        order;       /* visiting order: ties sort stably */
	char         *name;        /* filled by pgschema_columns */
};

struct flat {
	struct sub *leaf;
	size_t      nleaf, leafcap;
	char      **req;           /* FlatSchema.required */
	size_t      nreq, reqcap;
	char      **npar;          /* parents that may be null */
	size_t      nnpar, nparcap;
	size_t      nodes;
	int         failed;        /* out of memory or too large */
};

void
pgcols_init(struct pgcols *c)
{
	memset(c, 0, sizeof(*c));
}

static void
pgcol_free(struct pgcol *col)
{
	size_t i;

	free(col->name);
	for (i = 0; i < col->npath; i++)
		free(col->path[i]);
	free(col->path);
}

void
pgcols_free(struct pgcols *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		pgcol_free(&c->v[i]);
	free(c->v);
	memset(c, 0, sizeof(*c));
}

long
pgcols_find(const struct pgcols *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* ---- names (StringUtils) ---- */

static int
is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

static int
is_lower(char c)
{
	return c >= 'a' && c <= 'z';
}

static char
ascii_lower(char c)
{
	return is_upper(c) ? (char)(c + 32) : c;
}

int
pgschema_snake(const char *s, size_t n, struct buf *out)
{
	struct buf a;
	size_t i = 0, j;
	int rc = -1;

	/* pass 1: ([A-Z]+)([A-Z][a-z]) -> $1_$2, left to right without overlaps */
	buf_init(&a, 0);
	while (i < n) {
		if (!is_upper(s[i])) {
			if (buf_append_byte(&a, (uint8_t)s[i++]) == -1)
				goto out;
			continue;
		}
		for (j = i; j < n && is_upper(s[j]); j++)
			;
		if (j - i >= 2 && j < n && is_lower(s[j])) {
			if (buf_append(&a, s + i, j - 1 - i) == -1 || buf_append_byte(&a, '_') == -1 ||
			    buf_append(&a, s + j - 1, 2) == -1)
				goto out;
			i = j + 1;
		} else {
			if (buf_append(&a, s + i, j - i) == -1)
				goto out;
			i = j;
		}
	}
	/* pass 2: ([a-z\d])([A-Z]) -> $1_$2; then '-' -> '_' and lower case */
	for (i = 0; i < a.len; i++) {
		char c = a.data[i];
		if (i + 1 < a.len && (is_lower(c) || (c >= '0' && c <= '9')) &&
		    is_upper(a.data[i + 1])) {
			if (buf_append_byte(out, (uint8_t)c) == -1 || buf_append_byte(out, '_') == -1 ||
			    buf_append_byte(out, (uint8_t)ascii_lower(a.data[i + 1])) == -1)
				goto out;
			i++;
			continue;
		}
		if (buf_append_byte(out, (uint8_t)(c == '-' ? '_' : ascii_lower(c))) == -1)
			goto out;
	}
	rc = 0;
out:
	buf_free(&a);
	return rc;
}

/* Cut a name to PostgreSQL's identifier length without splitting a UTF-8 sequence. */
static void
ident_cut(char *s)
{
	size_t n = strlen(s);

	if (n <= PGSCHEMA_IDENT_MAX)
		return;
	n = PGSCHEMA_IDENT_MAX;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	s[n] = '\0';
}

int
pgschema_table_name(const struct iglu_key *k, char *out, size_t outlen)
{
	struct buf b;
	size_t i;
	int rc = -1;

	buf_init(&b, 0);
	for (i = 0; k->vendor[i]; i++) {
		char c = k->vendor[i] == '.' || k->vendor[i] == '-' ? '_' : ascii_lower(k->vendor[i]);
		if (buf_append_byte(&b, (uint8_t)c) == -1)
			goto out;
	}
	if (buf_append_byte(&b, '_') == -1 || pgschema_snake(k->name, strlen(k->name), &b) == -1 ||
	    buf_printf(&b, "_%d", k->model) == -1)
		goto out;
	ident_cut(b.data);
	if (strlen(b.data) + 1 > outlen)
		goto out;
	memcpy(out, b.data, strlen(b.data) + 1);
	rc = 0;
out:
	buf_free(&b);
	return rc;
}

int
pgschema_ident(struct buf *out, const char *name)
{
	const char *p;

	if (buf_append_byte(out, '"') == -1)
		return -1;
	for (p = name; *p; p++)
		if ((*p == '"' && buf_append_byte(out, '"') == -1) ||
		    buf_append_byte(out, (uint8_t)*p) == -1)
			return -1;
	return buf_append_byte(out, '"');
}

const char *
pgschema_type_sql(const struct pgcol *c, char *buf, size_t len)
{
	switch (c->type) {
	case PGT_VARCHAR:
		if (c->size > 0)
			snprintf(buf, len, "VARCHAR(%ld)", c->size);
		else
			snprintf(buf, len, "VARCHAR");
		return buf;
	case PGT_CHAR:      snprintf(buf, len, "CHAR(%ld)", c->size); return buf;
	case PGT_UUID:      return "UUID";
	case PGT_TIMESTAMP: return "TIMESTAMP";
	case PGT_DATE:      return "DATE";
	case PGT_INTEGER:   return "INTEGER";
	case PGT_BIGINT:    return "BIGINT";
	case PGT_DOUBLE:    return "DOUBLE PRECISION";
	case PGT_BOOLEAN:   return "BOOLEAN";
	case PGT_JSONB:     break;
	}
	return "JSONB";
}

/* ---- schema pointers ---- */

static char *
ptr_down(const char *ptr, char kind, const char *seg)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	if (buf_append_str(&b, ptr) == -1 || buf_append_byte(&b, '/') == -1 ||
	    buf_append_byte(&b, (uint8_t)kind) == -1)
		goto oom;
	for (p = seg; *p; p++) {
		int r = *p == '~' ? buf_append_str(&b, "~0") : *p == '/' ? buf_append_str(&b, "~1") :
		    buf_append_byte(&b, (uint8_t)*p);
		if (r == -1)
			goto oom;
	}
	return b.data;
oom:
	buf_free(&b);
	return NULL;
}

static int
ptr_is_parent(const char *parent, const char *child)
{
	size_t n = strlen(parent);

	return strncmp(parent, child, n) == 0 && (child[n] == '/' || child[n] == '\0');
}

/* FlatSchema.shouldBeIgnored, first half: inside items, patternProperties or oneOf. */
static int
ptr_in_ignored(const char *ptr)
{
	static const char *const kw[] = { "/Pitems", "/PpatternProperties", "/PoneOf" };
	size_t i;

	for (i = 0; i < 3; i++) {
		const char *p = ptr;
		size_t n = strlen(kw[i]);
		while ((p = strstr(p, kw[i])) != NULL) {
			if (p[n] == '/' || p[n] == '\0')
				return 1;
			p += n;
		}
	}
	return 0;
}

/* The pointer without its last two segments (Pointer.parent.flatMap(_.parent)): writes its
 * length, or returns 0 when there are fewer than two segments. */
static int
ptr_grandparent(const char *ptr, size_t *len)
{
	const char *a = strrchr(ptr, '/');
	size_t n;

	if (a == NULL)
		return 0;
	n = (size_t)(a - ptr);
	while (n > 0 && ptr[n - 1] != '/')
		n--;
	if (n == 0)
		return 0;
	*len = n - 1;
	return 1;
}

/* The property names of a pointer (Pointer.forData.path), unescaped. */
static int
ptr_fields(const char *ptr, char ***out, size_t *nout)
{
	const char *p = ptr;
	char **v = NULL;
	size_t n = 0;

	while ((p = strchr(p, '/')) != NULL) {
		const char *end;
		struct buf b;
		char **nv;

		p++;
		end = strchr(p, '/');
		if (end == NULL)
			end = p + strlen(p);
		if (*p != 'F') {
			p = end;
			continue;
		}
		buf_init(&b, 0);
		for (p++; p < end; p++) {
			char c = *p;
			if (c == '~' && p + 1 < end) {
				c = p[1] == '1' ? '/' : '~';
				p++;
			}
			if (buf_append_byte(&b, (uint8_t)c) == -1)
				goto oom_b;
		}
		if (b.data == NULL && buf_append_str(&b, "") == -1)
			goto oom_b;
		if ((nv = realloc(v, (n + 1) * sizeof(*v))) == NULL)
			goto oom_b;
		v = nv;
		v[n++] = b.data;
		continue;
oom_b:
		buf_free(&b);
		goto oom;
	}
	*out = v;
	*nout = n;
	return 0;
oom:
	while (n > 0)
		free(v[--n]);
	free(v);
	return -1;
}

/* ---- schema keywords ---- */

static unsigned
type_bit(const char *s)
{
	static const struct { const char *n; unsigned b; } t[] = {
		{ "null", T_NULL }, { "boolean", T_BOOLEAN }, { "string", T_STRING },
		{ "integer", T_INTEGER }, { "number", T_NUMBER }, { "array", T_ARRAY },
		{ "object", T_OBJECT },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		if (strcmp(s, t[i].n) == 0)
			return t[i].b;
	return 0;
}

/* "type": a string or an array of strings; *has is 0 when absent or not understood. */
static unsigned
schema_type(const json_t *s, int *has)
{
	const json_t *t = json_object_get(s, "type");
	unsigned bits = 0, b;
	size_t i;

	*has = 0;
	if (json_is_string(t)) {
		bits = type_bit(json_string_value(t));
	} else if (json_is_array(t) && json_array_size(t) > 0) {
		for (i = 0; i < json_array_size(t); i++) {
			const json_t *e = json_array_get(t, i);
			if (!json_is_string(e) || (b = type_bit(json_string_value(e))) == 0)
				return 0;
			bits |= b;
		}
	}
	*has = bits != 0;
	return bits;
}

static unsigned
popcount(unsigned v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

/* TypeMatcher.isUnion: two or more non-null types, except exactly integer and number. */
static int
type_is_union(unsigned t)
{
	unsigned nn = t & ~T_NULL;

	return nn != (T_INTEGER | T_NUMBER) && popcount(nn) > 1;
}

/* TypeMatcher.possiblyWithNull: exactly x, or exactly [x, null]. */
static int
type_pwn(int has, unsigned t, unsigned x)
{
	return has && (t == x || t == (x | T_NULL));
}

static int
enum_has_null(const json_t *s)
{
	const json_t *e = json_object_get(s, "enum");
	size_t i;

	if (!json_is_array(e))
		return 0;
	for (i = 0; i < json_array_size(e); i++)
		if (json_is_null(json_array_get(e, i)))
			return 1;
	return 0;
}

/* FlatSchema.isHeterogeneousUnion: a oneOf of several types, or no type, or a union type. */
static int
is_heterogeneous(const json_t *s)
{
	const json_t *one = json_object_get(s, "oneOf");
	unsigned t, all = 0;
	int has;
	size_t i;

	if (json_is_array(one)) {
		for (i = 0; i < json_array_size(one); i++) {
			unsigned b = schema_type(json_array_get(one, i), &has);
			all |= has ? b : 0;
		}
		if (popcount(all & ~T_NULL) > 1)
			return 1;
	}
	t = schema_type(s, &has);
	return !has || type_is_union(t);
}

/* FlatSchema.isLeaf */
static int
is_leaf(const json_t *s)
{
	int has;
	unsigned t = schema_type(s, &has);

	return is_heterogeneous(s) || !(has && (t & T_OBJECT) && json_object_get(s, "properties"));
}

/* ---- FlatSchema.build ---- */

static int
strv_push(char ***v, size_t *n, size_t *cap, char *s)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, nc * sizeof(**v));
		if (nv == NULL)
			return -1;
		*v = nv;
		*cap = nc;
	}
	(*v)[(*n)++] = s;
	return 0;
}

static int
strv_has(char *const *v, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(v[i]) == len && strncmp(v[i], s, len) == 0)
			return 1;
	return 0;
}

/* FlatSchema.nestedRequired: every enclosing property is in `required`. */
static int
nested_required(const struct flat *f, const char *ptr)
{
	size_t len;
	char *gp;
	int r;

	if (!ptr_grandparent(ptr, &len) || len == 0)
		return 1;
	if (!strv_has(f->req, f->nreq, ptr, len))
		return 0;
	if ((gp = strndup(ptr, len)) == NULL)
		return 0;
	r = nested_required(f, gp);
	free(gp);
	return r;
}

/* FlatSchema.withRequired */
static void
with_required(struct flat *f, const char *ptr, const json_t *s)
{
	const json_t *req = json_object_get(s, "required");
	size_t i;

	if (!json_is_array(req))
		return;
	for (i = 0; i < json_array_size(req) && !f->failed; i++) {
		const json_t *r = json_array_get(req, i);
		char *pp, *p;

		if (!json_is_string(r))
			continue;
		if ((pp = ptr_down(ptr, 'P', "properties")) == NULL ||
		    (p = ptr_down(pp, 'F', json_string_value(r))) == NULL) {
			free(pp);
			f->failed = 1;
			return;
		}
		free(pp);
		if (nested_required(f, p) && !strv_has(f->req, f->nreq, p, strlen(p))) {
			if (strv_push(&f->req, &f->nreq, &f->reqcap, p) == -1) {
				free(p);
				f->failed = 1;
			}
		} else {
			free(p);
		}
	}
}

/* FlatSchema.checkUnionSubSchema: some saved leaf above ptr has a union type. */
static int
under_union_leaf(const struct flat *f, const char *ptr)
{
	size_t i;

	for (i = 0; i < f->nleaf; i++)
		if (ptr_is_parent(f->leaf[i].ptr, ptr) && type_is_union(f->leaf[i].type))
			return 1;
	return 0;
}

static int
under_nullable_parent(const struct flat *f, const char *ptr)
{
	size_t i;

	for (i = 0; i < f->nnpar; i++)
		if (ptr_is_parent(f->npar[i], ptr))
			return 1;
	return 0;
}

/* FlatSchema.save; returns 1 when the node is ignored (nothing below it is saved either). */
static int
save(struct flat *f, const char *ptr, const json_t *s)
{
	int has;
	unsigned t;

	if (ptr_in_ignored(ptr) || under_union_leaf(f, ptr))
		return 1;
	with_required(f, ptr, s);
	t = schema_type(s, &has);
	if (is_leaf(s)) {
		struct sub *l;

		if (f->nleaf == f->leafcap) {
			size_t nc = f->leafcap ? f->leafcap * 2 : 32;
			struct sub *nl = realloc(f->leaf, nc * sizeof(*nl));
			if (nl == NULL) {
				f->failed = 1;
				return 1;
			}
			f->leaf = nl;
			f->leafcap = nc;
		}
		l = &f->leaf[f->nleaf];
		memset(l, 0, sizeof(*l));
		if ((l->ptr = strdup(ptr)) == NULL) {
			f->failed = 1;
			return 1;
		}
		l->schema = s;
		/* withLeaf: an optional property (or one that may be null) gets null in its type */
		if ((ptr[0] != '\0' && !strv_has(f->req, f->nreq, ptr, strlen(ptr))) ||
		    enum_has_null(s) || (has && (t & T_NULL))) {
			t |= T_NULL;
			has = 1;
		}
		l->type = t;
		l->has_type = has;
		l->under_nullable = under_nullable_parent(f, ptr);
		l->order = f->nleaf;
		f->nleaf++;
	} else if (enum_has_null(s) || (has && (t & T_NULL))) {
		char *p = strdup(ptr);
		if (p == NULL || strv_push(&f->npar, &f->nnpar, &f->nparcap, p) == -1) {
			free(p);
			f->failed = 1;
		}
	}
	return 0;
}

static void
traverse(struct flat *f, const json_t *s, const char *ptr, int depth)
{
	static const char *const single[] = { "additionalItems", "additionalProperties" };
	const json_t *v;
	size_t i;

	if (!json_is_object(s) || f->failed)
		return;
	if (++f->nodes > PGSCHEMA_MAX_NODES) {
		f->failed = 2;
		return;
	}
	if (save(f, ptr, s) || depth >= PGSCHEMA_MAX_DEPTH)
		return;
	/* Schema.traverse: items, additionalItems, properties, additionalProperties,
	 * patternProperties, oneOf. What lies in items, patternProperties and oneOf is ignored
	 * by save(), so it is not visited. */
	v = json_object_get(s, "properties");
	if (json_is_object(v)) {
		const char *k;
		const json_t *sub;
		char *pp = ptr_down(ptr, 'P', "properties");

		if (pp == NULL) {
			f->failed = 1;
			return;
		}
		json_object_foreach((json_t *)v, k, sub) {
			char *cp = ptr_down(pp, 'F', k);
			if (cp == NULL) {
				f->failed = 1;
				break;
			}
			traverse(f, sub, cp, depth + 1);
			free(cp);
		}
		free(pp);
	}
	for (i = 0; i < 2; i++) {
		v = json_object_get(s, single[i]);
		if (json_is_object(v)) {
			char *cp = ptr_down(ptr, 'P', single[i]);
			if (cp == NULL) {
				f->failed = 1;
				return;
			}
			traverse(f, v, cp, depth + 1);
			free(cp);
		}
	}
}

static void
flat_free(struct flat *f)
{
	size_t i;

	for (i = 0; i < f->nleaf; i++) {
		free(f->leaf[i].ptr);
		free(f->leaf[i].name);
	}
	for (i = 0; i < f->nreq; i++)
		free(f->req[i]);
	for (i = 0; i < f->nnpar; i++)
		free(f->npar[i]);
	free(f->leaf);
	free(f->req);
	free(f->npar);
	memset(f, 0, sizeof(*f));
}

/* ---- ordering and columns ---- */

static int
sub_nullable(const struct sub *l)
{
	return enum_has_null(l->schema) || (l->has_type && (l->type & T_NULL));
}

/* FlatSchema.getName: the property path in snake_case, joined with '.'. */
static char *
sub_name(const struct sub *l)
{
	char **fields;
	size_t n, i;
	struct buf b;
	int ok;

	if (ptr_fields(l->ptr, &fields, &n) == -1)
		return NULL;
	buf_init(&b, 0);
	ok = buf_append_str(&b, "") == 0;
	for (i = 0; ok && i < n; i++)
		if ((i > 0 && buf_append_byte(&b, '.') == -1) ||
		    pgschema_snake(fields[i], strlen(fields[i]), &b) == -1)
			ok = 0;
	for (i = 0; i < n; i++)
		free(fields[i]);
	free(fields);
	if (!ok) {
		buf_free(&b);
		return NULL;
	}
	ident_cut(b.data);
	return b.data;
}

static int
sub_cmp(const void *a, const void *b)
{
	const struct sub *x = *(const struct sub *const *)a, *y = *(const struct sub *const *)b;
	int nx = sub_nullable(x), ny = sub_nullable(y), c;

	if (nx != ny)
		return nx - ny;
	if ((c = strcmp(x->name, y->name)) != 0)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* FlatSchema.postProcess: required first, then by name. Appends to list. */
static int
post_process(struct sub **in, size_t n, struct sub ***list, size_t *nlist)
{
	struct sub **nl;
	size_t i;

	for (i = 0; i < n; i++)
		if (in[i]->name == NULL && (in[i]->name = sub_name(in[i])) == NULL)
			return -1;
	qsort(in, n, sizeof(*in), sub_cmp);
	if ((nl = realloc(*list, (*nlist + n + 1) * sizeof(**list))) == NULL)
		return -1;
	*list = nl;
	memcpy(nl + *nlist, in, n * sizeof(*in));
	*nlist += n;
	return 0;
}

/* ---- Type.dataTypeSuggestions ---- */

/* An integral JSON number within [lo, hi] (circe's toInt / toLong). */
static int
num_integral(const json_t *v, double lo, double hi, long long *out)
{
	double d;

	if (json_is_integer(v)) {
		long long i = json_integer_value(v);
		if ((double)i < lo || (double)i > hi)
			return 0;
		if (out)
			*out = i;
		return 1;
	}
	if (!json_is_real(v))
		return 0;
	d = json_real_value(v);
	if (d != floor(d) || d < lo || d > hi)
		return 0;
	if (out != NULL) {
		if (d >= 9223372036854775808.0 || d < -9223372036854775808.0)
			return 0;
		*out = (long long)d;
	}
	return 1;
}

enum enum_kind { EK_INT, EK_BIGINT, EK_BOOL, EK_STRING };

/* Type.isIntegerEnum / isBigIntEnum / isBooleanEnum / isStringEnum: every non-null member
 * qualifies, and there is one. */
static int
enum_all(const json_t *e, enum enum_kind k)
{
	size_t i, seen = 0;

	if (!json_is_array(e))
		return 0;
	for (i = 0; i < json_array_size(e); i++) {
		const json_t *v = json_array_get(e, i);
		int ok;

		if (json_is_null(v))
			continue;
		seen++;
		switch (k) {
		case EK_INT:    ok = num_integral(v, -2147483648.0, 2147483647.0, NULL); break;
		case EK_BIGINT: ok = num_integral(v, -9223372036854775808.0, 9223372036854775807.0,
		                    NULL); break;
		case EK_BOOL:   ok = json_is_boolean(v); break;
		default:        ok = json_is_string(v); break;
		}
		if (!ok)
			return 0;
	}
	return seen > 0;
}

/* Type.isComplexEnum: at least two of "some number", "some non-number", "some boolean". */
static int
enum_complex(const json_t *e)
{
	int num = 0, nonnum = 0, boo = 0;
	size_t i;

	if (!json_is_array(e))
		return 0;
	for (i = 0; i < json_array_size(e); i++) {
		const json_t *v = json_array_get(e, i);
		if (json_is_null(v))
			continue;
		if (json_is_number(v))
			num = 1;
		else
			nonnum = 1;
		if (json_is_boolean(v))
			boo = 1;
	}
	return num + nonnum + boo >= 2;
}

/* Length of a string in UTF-16 code units (Scala's String.length). */
static long
utf16_len(const char *s, size_t n)
{
	long len = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if ((c & 0xC0) != 0x80)
			len += c >= 0xF0 ? 2 : 1;
	}
	return len;
}

static long
varchar_size(long n)
{
	if (n < 1)
		return 1;           /* PostgreSQL refuses VARCHAR(0) */
	return n > PGSCHEMA_VARCHAR_LIMIT ? 0 : n;
}

static void
suggest_type(const struct sub *l, struct pgcol *c)
{
	const json_t *s = l->schema, *en = json_object_get(s, "enum");
	const json_t *fmt = json_object_get(s, "format"), *max = json_object_get(s, "maximum");
	const json_t *mul = json_object_get(s, "multipleOf");
	const json_t *minl = json_object_get(s, "minLength"), *maxl = json_object_get(s, "maxLength");
	const char *f = json_is_string(fmt) ? json_string_value(fmt) : "";
	unsigned t = l->type;
	int has = l->has_type;
	long long v1, v2;

	c->size = 0;
	/* complexEnumSuggestion, productSuggestion */
	if (enum_complex(en) || (has && (type_is_union(t) || (t & T_ARRAY)))) {
		c->type = PGT_JSONB;
		return;
	}
	/* timestampSuggestion, dateSuggestion */
	if (type_pwn(has, t, T_STRING) && strcmp(f, "date-time") == 0) {
		c->type = PGT_TIMESTAMP;
		return;
	}
	if (type_pwn(has, t, T_STRING) && strcmp(f, "date") == 0) {
		c->type = PGT_DATE;
		return;
	}
	/* integerSuggestion */
	if (type_pwn(has, t, T_INTEGER) && json_is_number(max)) {
		c->type = num_integral(max, -HUGE_VAL, HUGE_VAL, NULL) &&
		    json_number_value(max) > 2147483647.0 ? PGT_BIGINT : PGT_INTEGER;
		return;
	}
	if (type_pwn(has, t, T_INTEGER) && en == NULL) {
		c->type = PGT_BIGINT;
		return;
	}
	if (type_pwn(has, t, T_INTEGER)) {
		c->type = enum_all(en, EK_INT) ? PGT_INTEGER : PGT_BIGINT;
		return;
	}
	if (!has && enum_all(en, EK_INT)) {
		c->type = PGT_INTEGER;
		return;
	}
	if (!has && enum_all(en, EK_BIGINT)) {
		c->type = PGT_BIGINT;
		return;
	}
	if (json_is_number(mul) && num_integral(mul, -HUGE_VAL, HUGE_VAL, NULL)) {
		c->type = PGT_INTEGER;
		return;
	}
	/* numberSuggestion */
	if (type_pwn(has, t, T_NUMBER) || (has && (t & ~T_NULL) == (T_INTEGER | T_NUMBER))) {
		c->type = PGT_DOUBLE;
		return;
	}
	/* booleanSuggestion */
	if (type_pwn(has, t, T_BOOLEAN) || (!has && enum_all(en, EK_BOOL))) {
		c->type = PGT_BOOLEAN;
		return;
	}
	/* charSuggestion */
	if (type_pwn(has, t, T_STRING) && json_is_number(minl) && json_is_number(maxl) &&
	    num_integral(minl, 0, 1e18, &v1) && num_integral(maxl, 0, 1e18, &v2) && v1 == v2) {
		c->type = PGT_CHAR;
		c->size = varchar_size((long)(v1 > PGSCHEMA_VARCHAR_LIMIT ? PGSCHEMA_VARCHAR_LIMIT :
		    v1));
		if (c->size == 0)
			c->type = PGT_VARCHAR;
		return;
	}
	/* uuidSuggestion */
	if (type_pwn(has, t, T_STRING) && strcmp(f, "uuid") == 0) {
		c->type = PGT_UUID;
		return;
	}
	/* varcharSuggestion */
	if (type_pwn(has, t, T_STRING) && json_is_number(maxl) && num_integral(maxl, 0, 1e18, &v1)) {
		c->type = PGT_VARCHAR;
		c->size = varchar_size((long)(v1 > PGSCHEMA_VARCHAR_LIMIT + 1 ?
		    PGSCHEMA_VARCHAR_LIMIT + 1 : v1));
		return;
	}
	if (type_pwn(has, t, T_STRING) && en == NULL) {
		c->type = PGT_VARCHAR;
		c->size = PGSCHEMA_DEFAULT_VARCHAR;
		return;
	}
	if (enum_all(en, EK_STRING)) {
		long m = -1;
		size_t i;
		for (i = 0; i < json_array_size(en); i++) {
			const json_t *v = json_array_get(en, i);
			long len;
			if (!json_is_string(v))
				continue;
			len = utf16_len(json_string_value(v), json_string_length(v));
			if (len > m)
				m = len;
		}
		c->type = PGT_VARCHAR;
		c->size = m < 0 ? PGSCHEMA_DEFAULT_VARCHAR : varchar_size(m);
		return;
	}
	c->type = PGT_JSONB;
}

/* ---- extractProperties ---- */

static int
build(const json_t *schema, struct flat *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof(*f));
	if (!json_is_object(schema)) {
		snprintf(err, errlen, "the schema is not a JSON object");
		return -1;
	}
	traverse(f, schema, "", 0);
	if (f->failed) {
		snprintf(err, errlen, f->failed == 2 ? "the schema has more than %d sub-schemas" :
		    "out of memory flattening the schema", PGSCHEMA_MAX_NODES);
		return -1;
	}
	return 0;
}

static int
flat_has_ptr(const struct flat *f, const char *ptr)
{
	size_t i;

	for (i = 0; i < f->nleaf; i++)
		if (strcmp(f->leaf[i].ptr, ptr) == 0)
			return 1;
	return 0;
}

static int
make_col(const struct sub *l, struct pgcol *c)
{
	memset(c, 0, sizeof(*c));
	if ((c->name = strdup(l->name)) == NULL || ptr_fields(l->ptr, &c->path, &c->npath) == -1) {
		free(c->name);
		c->name = NULL;
		return -1;
	}
	suggest_type(l, c);
	/* the loader: NOT NULL unless the leaf may be null (schema.canBeNull); pg-sink also
	 * when an enclosing object may be null, which would leave the leaf without a value */
	c->notnull = !sub_nullable(l) && !l->under_nullable;
	return 0;
}

int
pgschema_columns(const json_t *const *schemas, size_t n, struct pgcols *out, char *err,
    size_t errlen)
{
	struct flat *fl;
	struct sub **list = NULL, **tmp = NULL;
	size_t nlist = 0, i, j;
	int rc = -1;

	pgcols_init(out);
	if (n == 0) {
		snprintf(err, errlen, "no schema");
		return -1;
	}
	if ((fl = calloc(n, sizeof(*fl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		if (build(schemas[i], &fl[i], err, errlen) == -1)
			goto out;
	/* the first version, then what each later one adds (SchemaDiff.getAddedKeys) */
	for (i = 0; i < n; i++) {
		size_t k = 0;

		free(tmp);
		if ((tmp = calloc(fl[i].nleaf + 1, sizeof(*tmp))) == NULL)
			goto oom;
		for (j = 0; j < fl[i].nleaf; j++)
			if (i == 0 || !flat_has_ptr(&fl[i - 1], fl[i].leaf[j].ptr))
				tmp[k++] = &fl[i].leaf[j];
		/* postProcess: a lone root without properties is no column at all */
		if (i == 0 && k == 1 && tmp[0]->ptr[0] == '\0') {
			const json_t *p = json_object_get(tmp[0]->schema, "properties");
			if (p == NULL || (json_is_object(p) && json_object_size(p) == 0))
				k = 0;
		}
		if (post_process(tmp, k, &list, &nlist) == -1)
			goto oom;
	}
	/* removeRoots, then one column per remaining leaf (first of a name wins) */
	for (i = 0; i < nlist; i++) {
		const struct sub *l = list[i];
		struct pgcol c;
		int root = l->ptr[0] == '\0';

		for (j = 0; j < nlist && !root; j++)
			if (j != i && strcmp(list[j]->ptr, l->ptr) != 0 &&
			    ptr_is_parent(l->ptr, list[j]->ptr))
				root = 1;
		if (root || l->name[0] == '\0' || pgcols_find(out, l->name) >= 0)
			continue;
		if (out->n >= PGSCHEMA_MAX_COLS) {
			snprintf(err, errlen, "more than %d columns", PGSCHEMA_MAX_COLS);
			goto out;
		}
		if (out->n == out->cap) {
			size_t nc = out->cap ? out->cap * 2 : 16;
			struct pgcol *nv = realloc(out->v, nc * sizeof(*nv));
			if (nv == NULL)
				goto oom;
			out->v = nv;
			out->cap = nc;
		}
		if (make_col(l, &c) == -1)
			goto oom;
		out->v[out->n++] = c;
	}
	rc = 0;
	goto out;
oom:
	snprintf(err, errlen, "out of memory");
out:
	if (rc == -1)
		pgcols_free(out);
	for (i = 0; i < n; i++)
		flat_free(&fl[i]);
	free(fl);
	free(list);
	free(tmp);
	return rc;
}

/* ---- values (transform.cast) ---- */

static int
cast_error(const struct pgcol *c, const json_t *v, char *err, size_t errlen)
{
	struct buf b;
	char tb[32];

	buf_init(&b, 4096);
	jsonw_value(&b, v);
	snprintf(err, errlen, "Invalid type %s for value %.200s%s (column %s)",
	    pgschema_type_sql(c, tb, sizeof(tb)), b.data ? b.data : "?", b.len > 200 ? "..." : "",
	    c->name);
	buf_free(&b);
	return -1;
}

int
pgschema_cell(const struct pgcol *c, const json_t *data, struct buf *out, char *err,
    size_t errlen)
{
	const json_t *v = data;
	char num[64];
	long long iv;
	size_t i;
	int r = 0;

	for (i = 0; i < c->npath && v != NULL; i++)
		v = json_is_object(v) ? json_object_get(v, c->path[i]) : NULL;
	if (v == NULL || json_is_null(v))
		return buf_append_str(out, PGCOPY_NULL) == -1 ? -2 : 0;
	switch (c->type) {
	case PGT_VARCHAR:
	case PGT_CHAR:
		if (json_is_string(v)) {
			r = pgcopy_field(out, json_string_value(v), json_string_length(v));
		} else {
			struct buf b;
			buf_init(&b, 0);
			r = jsonw_value(&b, v) == -1 ? -1 : pgcopy_field(out, b.data, b.len);
			buf_free(&b);
		}
		break;
	case PGT_UUID:
		if (!json_is_string(v))
			return cast_error(c, v, err, errlen);
		r = pgcopy_field(out, json_string_value(v), json_string_length(v));
		break;
	case PGT_BOOLEAN:
		if (!json_is_boolean(v))
			return cast_error(c, v, err, errlen);
		r = buf_append_byte(out, json_is_true(v) ? 't' : 'f');
		break;
	case PGT_INTEGER:
	case PGT_BIGINT:
		if (!(c->type == PGT_INTEGER ? num_integral(v, -2147483648.0, 2147483647.0, &iv) :
		    num_integral(v, -9223372036854775808.0, 9223372036854775807.0, &iv)))
			return cast_error(c, v, err, errlen);
		r = buf_printf(out, "%lld", iv);
		break;
	case PGT_DOUBLE:
		if (json_is_integer(v)) {
			r = buf_printf(out, "%lld", (long long)json_integer_value(v));
		} else if (json_is_real(v)) {
			jnum_java_double(json_real_value(v), num);
			r = buf_append_str(out, num);
		} else {
			return cast_error(c, v, err, errlen);
		}
		break;
	case PGT_TIMESTAMP: {
		char ts[PGCOPY_TS_BUFSZ];
		if (!json_is_string(v) ||
		    pgcopy_timestamp(json_string_value(v), json_string_length(v), ts) == -1)
			return cast_error(c, v, err, errlen);
		r = buf_append_str(out, ts);
		break;
	}
	case PGT_DATE:
		if (!json_is_string(v) ||
		    !pgcopy_date_valid(json_string_value(v), json_string_length(v)))
			return cast_error(c, v, err, errlen);
		r = buf_append(out, json_string_value(v), 10);
		break;
	case PGT_JSONB: {
		struct buf b;
		buf_init(&b, 0);
		r = jsonw_value(&b, v) == -1 ? -1 : pgcopy_field(out, b.data, b.len);
		buf_free(&b);
		break;
	}
	}
	return r == -1 ? -2 : 0;
}
