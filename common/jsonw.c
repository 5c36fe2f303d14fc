/*
 * jsonw: circe-style JSON text from jansson values (see jsonw.h).
 */
#include "jsonw.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sdkjson.h"

static int
jsonw_newline(struct buf *out, int indent, int depth)
{
	int i;

	if (indent == 0)
		return 0;
	if (buf_append_byte(out, '\n') == -1)
		return -1;
	for (i = 0; i < indent * depth; i++)
		if (buf_append_byte(out, ' ') == -1)
			return -1;
	return 0;
}

static int
jsonw_value(struct buf *out, const json_t *j, int indent, int depth)
{
	const char *k;
	json_t *v;
	size_t i, n;
	char tmp[40];

	switch (json_typeof(j)) {
	case JSON_OBJECT:
		if (buf_append_byte(out, '{') == -1)
			return -1;
		i = 0;
		json_object_foreach((json_t *)j, k, v) {
			if ((i++ > 0 && buf_append_byte(out, ',') == -1) ||
			    jsonw_newline(out, indent, depth + 1) == -1 ||
			    sdkjson_json_string(out, k, strlen(k)) == -1 ||
			    buf_append_str(out, indent ? ": " : ":") == -1 ||
			    jsonw_value(out, v, indent, depth + 1) == -1)
				return -1;
		}
		if (i > 0 && jsonw_newline(out, indent, depth) == -1)
			return -1;
		return buf_append_byte(out, '}');
	case JSON_ARRAY:
		if (buf_append_byte(out, '[') == -1)
			return -1;
		n = json_array_size(j);
		for (i = 0; i < n; i++)
			if ((i > 0 && buf_append_byte(out, ',') == -1) ||
			    jsonw_newline(out, indent, depth + 1) == -1 ||
			    jsonw_value(out, json_array_get(j, i), indent, depth + 1) == -1)
				return -1;
		if (n > 0 && jsonw_newline(out, indent, depth) == -1)
			return -1;
		return buf_append_byte(out, ']');
	case JSON_STRING:
		return sdkjson_json_string(out, json_string_value(j), json_string_length(j));
	case JSON_INTEGER:
		snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, json_integer_value(j));
		return buf_append_str(out, tmp);
	case JSON_REAL:
		if (!isfinite(json_real_value(j)))
			return buf_append_str(out, "null");
		sdkjson_double(json_real_value(j), tmp);
		return buf_append_str(out, tmp);
	case JSON_TRUE:
		return buf_append_str(out, "true");
	case JSON_FALSE:
		return buf_append_str(out, "false");
	default:
		return buf_append_str(out, "null");
	}
}

int
jsonw_write(struct buf *out, const json_t *j, int indent)
{
	return jsonw_value(out, j, indent, 0);
}
