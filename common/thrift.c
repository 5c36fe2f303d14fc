/*
 * thrift: CollectorPayload 1-0-0 encoder and bounds-checked decoder (see thrift.h).
 */
#include "thrift.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define THRIFT_MAX_DEPTH 64

void
thrift_payload_init(struct thrift_payload *p)
{
	memset(p, 0, sizeof(*p));
}

static void
tstr_clear(struct tstr *t)
{
	free(t->s);
	t->s = NULL;
	t->len = 0;
}

void
thrift_payload_free(struct thrift_payload *p)
{
	size_t i;

	tstr_clear(&p->schema);
	tstr_clear(&p->ip_address);
	tstr_clear(&p->encoding);
	tstr_clear(&p->collector);
	tstr_clear(&p->user_agent);
	tstr_clear(&p->referer_uri);
	tstr_clear(&p->path);
	tstr_clear(&p->querystring);
	tstr_clear(&p->body);
	for (i = 0; i < p->n_headers; i++)
		tstr_clear(&p->headers[i]);
	free(p->headers);
	tstr_clear(&p->content_type);
	tstr_clear(&p->hostname);
	tstr_clear(&p->network_user_id);
	thrift_payload_init(p);
}

int
thrift_tstr_set(struct tstr *t, const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL)
		return -1;
	if (len)
		memcpy(c, s, len);
	c[len] = '\0';
	free(t->s);
	t->s = c;
	t->len = len;
	return 0;
}

int
thrift_payload_add_header(struct thrift_payload *p, const char *s, size_t len)
{
	struct tstr *h;

	h = realloc(p->headers, (p->n_headers + 1) * sizeof(*h));
	if (h == NULL)
		return -1;
	p->headers = h;
	h[p->n_headers].s = NULL;
	h[p->n_headers].len = 0;
	if (thrift_tstr_set(&h[p->n_headers], s, len) == -1)
		return -1;
	p->n_headers++;
	p->has_headers = 1;
	return 0;
}

/* ---- encoding ---- */

static int
put_u8(struct buf *b, uint8_t v)
{
	return buf_append_byte(b, v);
}

static int
put_be(struct buf *b, uint64_t v, int bytes)
{
	uint8_t tmp[8];
	int i;

	for (i = 0; i < bytes; i++)
		tmp[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
	return buf_append(b, tmp, (size_t)bytes);
}

static int
put_field_header(struct buf *b, uint8_t type, int16_t id)
{
	if (put_u8(b, type) == -1)
		return -1;
	return put_be(b, (uint16_t)id, 2);
}

static int
put_string_body(struct buf *b, const struct tstr *t)
{
	size_t len = t->s ? t->len : 0;

	if (len > INT32_MAX)
		return -1;
	if (put_be(b, (uint32_t)len, 4) == -1)
		return -1;
	return buf_append(b, t->s ? t->s : "", len);
}

/* Write a string field; `always` writes an unset field as "" (default requiredness). */
static int
put_string_field(struct buf *b, int16_t id, const struct tstr *t, int always)
{
	if (t->s == NULL && !always)
		return 0;
	if (put_field_header(b, TTYPE_STRING, id) == -1)
		return -1;
	return put_string_body(b, t);
}

int
thrift_payload_encode(const struct thrift_payload *p, struct buf *out)
{
	size_t i;

	if (put_string_field(out, TP_FIELD_IP_ADDRESS, &p->ip_address, 1) == -1 ||
	    put_field_header(out, TTYPE_I64, TP_FIELD_TIMESTAMP) == -1 ||
	    put_be(out, (uint64_t)p->timestamp, 8) == -1 ||
	    put_string_field(out, TP_FIELD_ENCODING, &p->encoding, 1) == -1 ||
	    put_string_field(out, TP_FIELD_COLLECTOR, &p->collector, 1) == -1 ||
	    put_string_field(out, TP_FIELD_USER_AGENT, &p->user_agent, 0) == -1 ||
	    put_string_field(out, TP_FIELD_REFERER_URI, &p->referer_uri, 0) == -1 ||
	    put_string_field(out, TP_FIELD_PATH, &p->path, 0) == -1 ||
	    put_string_field(out, TP_FIELD_QUERYSTRING, &p->querystring, 0) == -1 ||
	    put_string_field(out, TP_FIELD_BODY, &p->body, 0) == -1)
		return -1;
	if (p->has_headers) {
		if (put_field_header(out, TTYPE_LIST, TP_FIELD_HEADERS) == -1 ||
		    put_u8(out, TTYPE_STRING) == -1 ||
		    put_be(out, (uint32_t)p->n_headers, 4) == -1)
			return -1;
		for (i = 0; i < p->n_headers; i++)
			if (put_string_body(out, &p->headers[i]) == -1)
				return -1;
	}
	if (put_string_field(out, TP_FIELD_CONTENT_TYPE, &p->content_type, 0) == -1 ||
	    put_string_field(out, TP_FIELD_HOSTNAME, &p->hostname, 0) == -1 ||
	    put_string_field(out, TP_FIELD_NETWORK_USER_ID, &p->network_user_id, 0) == -1)
		return -1;
	if (p->schema.s == NULL) {
		struct tstr def = { (char *)THRIFT_PAYLOAD_SCHEMA, sizeof(THRIFT_PAYLOAD_SCHEMA) - 1 };
		if (put_string_field(out, TP_FIELD_SCHEMA, &def, 1) == -1)
			return -1;
	} else if (put_string_field(out, TP_FIELD_SCHEMA, &p->schema, 1) == -1) {
		return -1;
	}
	return put_u8(out, TTYPE_STOP);
}

/* ---- decoding ---- */

struct reader {
	const uint8_t *p;
	size_t         left;
	char          *err;
	size_t         errlen;
};

static int
rd_fail(struct reader *r, const char *fmt, ...)
{
	va_list ap;

	if (r->err && r->errlen) {
		va_start(ap, fmt);
		vsnprintf(r->err, r->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
rd_bytes(struct reader *r, size_t n, const uint8_t **out)
{
	if (n > r->left)
		return rd_fail(r, "Reached end of bytes when parsing as thrift format");
	*out = r->p;
	r->p += n;
	r->left -= n;
	return 0;
}

static int
rd_u8(struct reader *r, uint8_t *v)
{
	const uint8_t *b = NULL;

	if (rd_bytes(r, 1, &b) == -1)
		return -1;
	*v = b[0];
	return 0;
}

static int
rd_be(struct reader *r, int bytes, uint64_t *v)
{
	const uint8_t *b = NULL;
	int i;

	if (rd_bytes(r, (size_t)bytes, &b) == -1)
		return -1;
	*v = 0;
	for (i = 0; i < bytes; i++)
		*v = (*v << 8) | b[i];
	return 0;
}

static int
rd_i32(struct reader *r, int32_t *v)
{
	uint64_t u;

	if (rd_be(r, 4, &u) == -1)
		return -1;
	*v = (int32_t)(uint32_t)u;
	return 0;
}

/* A string's length is checked against the remaining bytes before anything is copied. */
static int
rd_string(struct reader *r, const uint8_t **s, size_t *len)
{
	int32_t n;

	if (rd_i32(r, &n) == -1)
		return -1;
	if (n < 0)
		return rd_fail(r, "Negative length: %d", (int)n);
	*len = (size_t)n;
	return rd_bytes(r, (size_t)n, s);
}

static size_t
min_size(uint8_t type)
{
	switch (type) {
	case TTYPE_BOOL: case TTYPE_BYTE: return 1;
	case TTYPE_I16: return 2;
	case TTYPE_I32: return 4;
	case TTYPE_DOUBLE: case TTYPE_I64: return 8;
	case TTYPE_STRING: return 4;
	case TTYPE_STRUCT: return 1;
	case TTYPE_MAP: return 6;
	case TTYPE_SET: case TTYPE_LIST: return 5;
	default: return 0;
	}
}

/* Check a container count against the bytes left, so no huge loop or allocation happens. */
static int
rd_count(struct reader *r, size_t elem_min, int32_t *count)
{
	if (rd_i32(r, count) == -1)
		return -1;
	if (*count < 0)
		return rd_fail(r, "Negative length: %d", (int)*count);
	if (elem_min && (size_t)*count > r->left / elem_min)
		return rd_fail(r, "Reached end of bytes when parsing as thrift format");
	return 0;
}

static int rd_skip(struct reader *r, uint8_t type, int depth);

static int
rd_skip_struct(struct reader *r, int depth)
{
	uint8_t type;
	uint64_t id;

	for (;;) {
		if (rd_u8(r, &type) == -1)
			return -1;
		if (type == TTYPE_STOP)
			return 0;
		if (rd_be(r, 2, &id) == -1 || rd_skip(r, type, depth + 1) == -1)
			return -1;
	}
}

static int
rd_skip(struct reader *r, uint8_t type, int depth)
{
	const uint8_t *dummy = NULL;
	uint8_t kt, vt;
	int32_t n, i;
	size_t len;

	if (depth > THRIFT_MAX_DEPTH)
		return rd_fail(r, "Maximum skip depth exceeded");
	switch (type) {
	case TTYPE_BOOL: case TTYPE_BYTE: case TTYPE_I16: case TTYPE_I32:
	case TTYPE_DOUBLE: case TTYPE_I64:
		return rd_bytes(r, min_size(type), &dummy);
	case TTYPE_STRING:
		return rd_string(r, &dummy, &len);
	case TTYPE_STRUCT:
		return rd_skip_struct(r, depth);
	case TTYPE_MAP:
		if (rd_u8(r, &kt) == -1 || rd_u8(r, &vt) == -1)
			return -1;
		if (min_size(kt) == 0 || min_size(vt) == 0)
			return rd_fail(r, "Unrecognized type %d", min_size(kt) ? vt : kt);
		if (rd_count(r, min_size(kt) + min_size(vt), &n) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (rd_skip(r, kt, depth + 1) == -1 || rd_skip(r, vt, depth + 1) == -1)
				return -1;
		return 0;
	case TTYPE_SET: case TTYPE_LIST:
		if (rd_u8(r, &kt) == -1)
			return -1;
		if (min_size(kt) == 0)
			return rd_fail(r, "Unrecognized type %d", kt);
		if (rd_count(r, min_size(kt), &n) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (rd_skip(r, kt, depth + 1) == -1)
				return -1;
		return 0;
	default:
		return rd_fail(r, "Unrecognized type %d", type);
	}
}

static struct tstr *
string_field(struct thrift_payload *p, int id)
{
	switch (id) {
	case TP_FIELD_SCHEMA: return &p->schema;
	case TP_FIELD_IP_ADDRESS: return &p->ip_address;
	case TP_FIELD_ENCODING: return &p->encoding;
	case TP_FIELD_COLLECTOR: return &p->collector;
	case TP_FIELD_USER_AGENT: return &p->user_agent;
	case TP_FIELD_REFERER_URI: return &p->referer_uri;
	case TP_FIELD_PATH: return &p->path;
	case TP_FIELD_QUERYSTRING: return &p->querystring;
	case TP_FIELD_BODY: return &p->body;
	case TP_FIELD_CONTENT_TYPE: return &p->content_type;
	case TP_FIELD_HOSTNAME: return &p->hostname;
	case TP_FIELD_NETWORK_USER_ID: return &p->network_user_id;
	default: return NULL;
	}
}

static int
rd_headers(struct reader *r, struct thrift_payload *p)
{
	const uint8_t *s = NULL;
	uint8_t et;
	int32_t n, i;
	size_t len, k;

	if (rd_u8(r, &et) == -1)
		return -1;
	if (et != TTYPE_STRING) {
		/* wrong element type: skip the list, leave the field unset */
		if (min_size(et) == 0)
			return rd_fail(r, "Unrecognized type %d", et);
		if (rd_count(r, min_size(et), &n) == -1)
			return -1;
		for (i = 0; i < n; i++)
			if (rd_skip(r, et, 1) == -1)
				return -1;
		return 0;
	}
	if (rd_count(r, 4, &n) == -1)
		return -1;
	for (k = 0; k < p->n_headers; k++)
		free(p->headers[k].s);
	free(p->headers);
	p->headers = NULL;
	p->n_headers = 0;
	if (n > 0) {
		p->headers = calloc((size_t)n, sizeof(*p->headers));
		if (p->headers == NULL)
			return rd_fail(r, "out of memory");
	}
	for (i = 0; i < n; i++) {
		if (rd_string(r, &s, &len) == -1)
			return -1;
		if (thrift_tstr_set(&p->headers[i], (const char *)s, len) == -1)
			return rd_fail(r, "out of memory");
		p->n_headers++;
	}
	p->has_headers = 1;
	return 0;
}

int
thrift_payload_decode(const uint8_t *data, size_t len, struct thrift_payload *p,
    char *err, size_t errlen)
{
	struct reader r = { data, len, err, errlen };
	const uint8_t *s = NULL;
	struct tstr *t;
	uint64_t id64, v;
	uint8_t type;
	size_t slen;
	int id;

	thrift_payload_free(p);
	for (;;) {
		if (rd_u8(&r, &type) == -1)
			goto fail;
		if (type == TTYPE_STOP)
			break;
		if (rd_be(&r, 2, &id64) == -1)
			goto fail;
		id = (int16_t)(uint16_t)id64;
		t = string_field(p, id);
		if (t && type == TTYPE_STRING) {
			if (rd_string(&r, &s, &slen) == -1)
				goto fail;
			if (thrift_tstr_set(t, (const char *)s, slen) == -1) {
				rd_fail(&r, "out of memory");
				goto fail;
			}
		} else if (id == TP_FIELD_TIMESTAMP && type == TTYPE_I64) {
			if (rd_be(&r, 8, &v) == -1)
				goto fail;
			p->timestamp = (int64_t)v;
			p->has_timestamp = 1;
		} else if (id == TP_FIELD_HEADERS && type == TTYPE_LIST) {
			if (rd_headers(&r, p) == -1)
				goto fail;
		} else if (rd_skip(&r, type, 1) == -1) {
			goto fail;
		}
	}
	return 0;
fail:
	thrift_payload_free(p);
	return -1;
}
