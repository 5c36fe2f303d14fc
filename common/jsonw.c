/*
 * jsonw: compact JSON text in circe's form, and jansson strings from untrusted bytes (see
 * jsonw.h).
 */
#include "jsonw.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "jnum.h"
#include "utf8.h"

/* "\u00xx" for a control character (circe's writeEscapedChar). */
static int
put_u00(struct buf *out, unsigned c)
{
	static const char hex[] = "0123456789abcdef";
	char esc[6] = { '\\', 'u', '0', '0', hex[(c >> 4) & 15], hex[c & 15] };

	return buf_append(out, esc, 6);
}

int
jsonw_codepoint(struct buf *out, uint32_t cp)
{
	char esc[2] = { '\\', 0 };

	switch (cp) {
	case '"':  esc[1] = '"'; break;
	case '\\': esc[1] = '\\'; break;
	case '\b': esc[1] = 'b'; break;
	case '\f': esc[1] = 'f'; break;
	case '\n': esc[1] = 'n'; break;
	case '\r': esc[1] = 'r'; break;
	case '\t': esc[1] = 't'; break;
	default:
		if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f))
			return put_u00(out, cp);
		return utf8_append(out, cp);
	}
	return buf_append(out, esc, 2);
}

/* Bytes that may need an escape: the controls, '"', '\', DEL, and 0xC2 (which starts
 * U+0080-U+00BF, of which U+0080-U+009F are controls). */
const unsigned char jsonw_special_byte[256] = {
	[0x00] = 1, [0x01] = 1, [0x02] = 1, [0x03] = 1, [0x04] = 1, [0x05] = 1, [0x06] = 1,
	[0x07] = 1, [0x08] = 1, [0x09] = 1, [0x0a] = 1, [0x0b] = 1, [0x0c] = 1, [0x0d] = 1,
	[0x0e] = 1, [0x0f] = 1, [0x10] = 1, [0x11] = 1, [0x12] = 1, [0x13] = 1, [0x14] = 1,
	[0x15] = 1, [0x16] = 1, [0x17] = 1, [0x18] = 1, [0x19] = 1, [0x1a] = 1, [0x1b] = 1,
	[0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
	[0xc2] = 1,
};

int
jsonw_string(struct buf *out, const char *s, size_t n)
{
	size_t i, run = 0;

	if (buf_reserve(out, n + 2) == -1 || buf_append_byte(out, '"') == -1)
		return -1;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		uint32_t cp = c;

		if (!jsonw_special_byte[c])
			continue;
		if (c == 0xc2) {   /* U+0080-U+009F are C2 80-C2 9F */
			if (i + 1 >= n || (unsigned char)s[i + 1] > 0x9f)
				continue;
			cp = (unsigned char)s[i + 1];
		}
		if (i > run && buf_append(out, s + run, i - run) == -1)
			return -1;
		if (jsonw_codepoint(out, cp) == -1)
			return -1;
		if (c == 0xc2)
			i++;
		run = i + 1;
	}
	if (n > run && buf_append(out, s + run, n - run) == -1)
		return -1;
	return buf_append_byte(out, '"');
}

/* A real as circe prints a JsonDouble (Double.toString); NaN and infinities, which JSON cannot
 * hold, as null (circe's encoder). */
static int
put_real(struct buf *out, double d)
{
	char tmp[JNUM_BUFSZ];

	if (!isfinite(d))
		return buf_append_str(out, "null");
	jnum_java_double(d, tmp);
	return buf_append_str(out, tmp);
}

int
jsonw_value(struct buf *out, const json_t *j)
{
	const char *k;
	json_t *v;
	size_t i, n;
	int first = 1;
	char tmp[32];

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (buf_append_byte(out, '{') == -1)
			return -1;
		json_object_foreach((json_t *)j, k, v) {
			if (!first && buf_append_byte(out, ',') == -1)
				return -1;
			first = 0;
			if (jsonw_string(out, k, strlen(k)) == -1 || buf_append_byte(out, ':') == -1 ||
			    jsonw_value(out, v) == -1)
				return -1;
		}
		return buf_append_byte(out, '}');
	case JSON_ARRAY:
		if (buf_append_byte(out, '[') == -1)
			return -1;
		n = json_array_size(j);
		for (i = 0; i < n; i++) {
			if (i && buf_append_byte(out, ',') == -1)
				return -1;
			if (jsonw_value(out, json_array_get(j, i)) == -1)
				return -1;
		}
		return buf_append_byte(out, ']');
	case JSON_STRING:
		return jsonw_string(out, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return buf_append_str(out, tmp);
	case JSON_REAL:
		return put_real(out, json_real_value(j));
	case JSON_TRUE:
		return buf_append_str(out, "true");
	case JSON_FALSE:
		return buf_append_str(out, "false");
	default:
		return buf_append_str(out, "null");
	}
}

json_t *
jsonw_string_new(const char *s, size_t n)
{
	struct buf b;
	json_t *j;

	if (utf8_valid_prefix(s, n) == n)
		return json_stringn(s, n);
	buf_init(&b, 0);
	j = utf8_repair(s, n, &b) == 0 ? json_stringn(b.data ? b.data : "", b.len) : NULL;
	buf_free(&b);
	return j;
}
