/*
 * col_payload: direct CollectorPayload encoding and toString rendering (see col_payload.h).
 * Field ids, types and order follow enriched-event.md §12.1-§12.3; the same table is in
 * common/thrift.h, whose decoder the tests use to check this encoder.
 */
#include "col_payload.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "thrift.h"

static const char COLLECTOR_NAME[] = COL_PAYLOAD_COLLECTOR;

static void
put_be(char *p, uint64_t v, int bytes)
{
	int i;

	for (i = 0; i < bytes; i++)
		p[i] = (char)(uint8_t)(v >> (8 * (bytes - 1 - i)));
}

/* field header + i32 length + bytes */
static int
put_string(struct buf *b, int16_t id, const char *s, size_t len)
{
	char *p;

	if (len > INT32_MAX || buf_reserve(b, 7 + len) == -1)
		return -1;
	p = b->data + b->len;
	p[0] = TTYPE_STRING;
	put_be(p + 1, (uint16_t)id, 2);
	put_be(p + 3, (uint32_t)len, 4);
	if (len)
		memcpy(p + 7, s, len);
	b->len += 7 + len;
	b->data[b->len] = '\0';
	return 0;
}

static int
put_opt(struct buf *b, int16_t id, const struct col_str *s)
{
	if (s->s == NULL)
		return 0;
	return put_string(b, id, s->s, s->len);
}

int
col_payload_encode(const struct col_payload *p, struct buf *out)
{
	const char *ip = p->ip_address.s ? p->ip_address.s : "unknown";
	size_t iplen = p->ip_address.s ? p->ip_address.len : 7;
	size_t i;
	char *w;

	if (put_string(out, TP_FIELD_IP_ADDRESS, ip, iplen) == -1 ||
	    buf_reserve(out, 11) == -1)
		return -1;
	w = out->data + out->len;
	w[0] = TTYPE_I64;
	put_be(w + 1, TP_FIELD_TIMESTAMP, 2);
	put_be(w + 3, (uint64_t)p->timestamp, 8);
	out->len += 11;
	if (put_string(out, TP_FIELD_ENCODING, "UTF-8", 5) == -1 ||
	    put_string(out, TP_FIELD_COLLECTOR, COLLECTOR_NAME, sizeof(COLLECTOR_NAME) - 1) == -1 ||
	    put_opt(out, TP_FIELD_USER_AGENT, &p->user_agent) == -1 ||
	    put_opt(out, TP_FIELD_REFERER_URI, &p->referer_uri) == -1 ||
	    put_opt(out, TP_FIELD_PATH, &p->path) == -1 ||
	    put_opt(out, TP_FIELD_QUERYSTRING, &p->querystring) == -1 ||
	    put_opt(out, TP_FIELD_BODY, &p->body) == -1)
		return -1;
	if (buf_reserve(out, 8) == -1)
		return -1;
	w = out->data + out->len;
	w[0] = TTYPE_LIST;
	put_be(w + 1, TP_FIELD_HEADERS, 2);
	w[3] = TTYPE_STRING;
	put_be(w + 4, (uint32_t)p->n_headers, 4);
	out->len += 8;
	for (i = 0; i < p->n_headers; i++) {
		const struct col_payload_header *h = &p->headers[i];
		size_t len = h->name.s ? h->name.len + 2 + h->value.len : h->value.len;

		if (len > INT32_MAX || buf_reserve(out, 4 + len) == -1)
			return -1;
		w = out->data + out->len;
		put_be(w, (uint32_t)len, 4);
		w += 4;
		if (h->name.s) {
			memcpy(w, h->name.s, h->name.len);
			w += h->name.len;
			*w++ = ':';
			*w++ = ' ';
		}
		if (h->value.len)
			memcpy(w, h->value.s, h->value.len);
		out->len += 4 + len;
	}
	if (put_opt(out, TP_FIELD_CONTENT_TYPE, &p->content_type) == -1 ||
	    put_opt(out, TP_FIELD_HOSTNAME, &p->hostname) == -1 ||
	    put_opt(out, TP_FIELD_NETWORK_USER_ID, &p->network_user_id) == -1 ||
	    put_string(out, TP_FIELD_SCHEMA, THRIFT_PAYLOAD_SCHEMA,
	        sizeof(THRIFT_PAYLOAD_SCHEMA) - 1) == -1 ||
	    buf_append_byte(out, TTYPE_STOP) == -1)
		return -1;
	return 0;
}

size_t
col_utf8_prefix_chars(const char *s, size_t len, size_t max_chars)
{
	size_t i = 0, n = 0;

	while (i < len && n < max_chars) {
		unsigned char c = (unsigned char)s[i];
		size_t k = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;

		if (i + k > len)
			k = len - i;
		i += k;
		n++;
	}
	return i;
}

static int
render_field(struct buf *b, const char *name, const struct col_str *v, int *first)
{
	if (v->s == NULL)
		return 0;
	if (!*first && buf_append_str(b, ", ") == -1)
		return -1;
	*first = 0;
	if (buf_append_str(b, name) == -1 || buf_append_byte(b, ':') == -1)
		return -1;
	return buf_append(b, v->s, v->len);
}

int
col_payload_render(const struct col_payload *p, size_t max_chars, struct buf *out)
{
	struct buf b;
	struct col_str schema = { THRIFT_PAYLOAD_SCHEMA, sizeof(THRIFT_PAYLOAD_SCHEMA) - 1 };
	struct col_str ip = p->ip_address.s ? p->ip_address : (struct col_str){ "unknown", 7 };
	struct col_str enc = { "UTF-8", 5 };
	struct col_str coll = { COLLECTOR_NAME, sizeof(COLLECTOR_NAME) - 1 };
	char ts[32];
	struct col_str tss;
	int first = 1, rc = -1;
	size_t i, keep;

	/* Java's toString lists fields in IDL order: schema first, then the numbered fields. */
	buf_init(&b, out->max ? out->max : 0);
	snprintf(ts, sizeof(ts), "%" PRId64, p->timestamp);
	tss.s = ts;
	tss.len = strlen(ts);
	if (buf_append_str(&b, "CollectorPayload(") == -1 ||
	    render_field(&b, "schema", &schema, &first) == -1 ||
	    render_field(&b, "ipAddress", &ip, &first) == -1 ||
	    render_field(&b, "timestamp", &tss, &first) == -1 ||
	    render_field(&b, "encoding", &enc, &first) == -1 ||
	    render_field(&b, "collector", &coll, &first) == -1 ||
	    render_field(&b, "userAgent", &p->user_agent, &first) == -1 ||
	    render_field(&b, "refererUri", &p->referer_uri, &first) == -1 ||
	    render_field(&b, "path", &p->path, &first) == -1 ||
	    render_field(&b, "querystring", &p->querystring, &first) == -1 ||
	    render_field(&b, "body", &p->body, &first) == -1)
		goto out;
	if (buf_append_str(&b, ", headers:[") == -1)
		goto out;
	for (i = 0; i < p->n_headers; i++) {
		const struct col_payload_header *h = &p->headers[i];

		if (i && buf_append_str(&b, ", ") == -1)
			goto out;
		if (h->name.s && (buf_append(&b, h->name.s, h->name.len) == -1 ||
		    buf_append_str(&b, ": ") == -1))
			goto out;
		if (buf_append(&b, h->value.s ? h->value.s : "", h->value.len) == -1)
			goto out;
		if (b.len > max_chars * 4 + 64)
			break;       /* enough for the cut below */
	}
	if (buf_append_byte(&b, ']') == -1 ||
	    render_field(&b, "contentType", &p->content_type, &first) == -1 ||
	    render_field(&b, "hostname", &p->hostname, &first) == -1 ||
	    render_field(&b, "networkUserId", &p->network_user_id, &first) == -1 ||
	    buf_append_byte(&b, ')') == -1)
		goto out;
	keep = col_utf8_prefix_chars(b.data, b.len, max_chars);
	rc = buf_append(out, b.data, keep);
out:
	buf_free(&b);
	return rc;
}
