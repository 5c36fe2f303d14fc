/*
 * sdkjson: enriched TSV → Analytics SDK 2.1.0 JSON (sinks.md §1). Each column is decoded by its
 * SDK class (§1.2), taken from common/event.h's type table with two exceptions the SDK makes:
 * only event_id is a UUID (domain_sessionid is a plain string), and the four required columns
 * (§1.2) refuse empty values. Column errors are collected in column order into one
 * RowDecodingError, exactly as the SDK's Parser does.
 */
#include "sdkjson.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "iglu.h"
#include "jnum.h"
#include "jsonw.h"
#include "timefmt.h"
#include "utf8.h"

/* SDK column classes (sinks.md §1.2). */
enum tf_class { TF_STR, TF_INT, TF_DOUBLE, TF_BOOL, TF_TS, TF_UUID, TF_CTX, TF_UNSTRUCT };

static enum tf_class
tf_class_of(int col)
{
	switch (event_cols[col].type) {
	case EVT_INT:   return TF_INT;
	case EVT_DEC:
	case EVT_FLOAT: return TF_DOUBLE;
	case EVT_BOOL:  return TF_BOOL;
	case EVT_TS:    return TF_TS;
	case EVT_UUID:  return col == COL_EVENT_ID ? TF_UUID : TF_STR;
	case EVT_JSON:  return col == COL_UNSTRUCT_EVENT ? TF_UNSTRUCT : TF_CTX;
	default:        return TF_STR;
	}
}

static int
tf_required(int col)
{
	return col == COL_COLLECTOR_TSTAMP || col == COL_EVENT_ID || col == COL_V_COLLECTOR ||
	    col == COL_V_ETL;
}

/* ---- scalar decoders (sinks.md §1.3) ---- */

static int
tf_digits(const char *s, size_t n, int *v)
{
	size_t i;

	*v = 0;
	if (n == 0)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return 0;
}

int
sdkjson_timestamp(const char *s, size_t n, char *iso, struct tm *tm)
{
	char t[64];
	size_t i, flen = 0;
	int y, mo, d, h, mi, se;
	const char *frac = NULL;

	/* replace every space with 'T', append 'Z' */
	if (n + 1 >= sizeof(t))
		return -1;
	for (i = 0; i < n; i++)
		t[i] = s[i] == ' ' ? 'T' : s[i];
	t[n] = 'Z';
	n++;
	if (n < 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':')
		return -1;
	if (tf_digits(t, 4, &y) || tf_digits(t + 5, 2, &mo) || tf_digits(t + 8, 2, &d) ||
	    tf_digits(t + 11, 2, &h) || tf_digits(t + 14, 2, &mi) || tf_digits(t + 17, 2, &se))
		return -1;
	if (t[19] == '.') {
		frac = t + 20;
		while (20 + flen < n && t[20 + flen] >= '0' && t[20 + flen] <= '9')
			flen++;
		if (flen < 1 || flen > 9 || 20 + flen != n - 1)
			return -1;
	} else if (n != 20) {
		return -1;
	}
	if (t[n - 1] != 'Z')
		return -1;
	if (!timefmt_date_valid(y, mo, d) || h > 23 || mi > 59 || se > 59)
		return -1;
	if (tm) {
		memset(tm, 0, sizeof(*tm));
		tm->tm_year = y - 1900;
		tm->tm_mon = mo - 1;
		tm->tm_mday = d;
		tm->tm_hour = h;
		tm->tm_min = mi;
		tm->tm_sec = se;
	}
	if (iso) {
		char digits[10] = "000000000";
		size_t keep;

		if (frac)
			memcpy(digits, frac, flen);
		/* Instant.toString: no fraction when zero, else 3, 6 or 9 digits */
		if (strcmp(digits, "000000000") == 0)
			keep = 0;
		else if (memcmp(digits + 3, "000000", 6) == 0)
			keep = 3;
		else if (memcmp(digits + 6, "000", 3) == 0)
			keep = 6;
		else
			keep = 9;
		/* t[0..19) is already "YYYY-MM-DDTHH:MM:SS": every field was checked to be digits
		 * of its width, so this is what %04d-%02d-... would print */
		memcpy(iso, t, 19);
		if (keep) {
			iso[19] = '.';
			memcpy(iso + 20, digits, keep);
		}
		iso[19 + (keep ? keep + 1 : 0)] = 'Z';
		iso[20 + (keep ? keep + 1 : 0)] = '\0';
	}
	return 0;
}

static int
tf_int(const char *s, size_t n, long *out)
{
	size_t i = 0;
	long v = 0;
	int neg = 0;

	if (n > 0 && (s[0] == '+' || s[0] == '-')) {
		neg = s[0] == '-';
		i = 1;
	}
	if (i == n || n - i > 20)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
		if (v > 2147483648L)
			return -1;
	}
	if (neg)
		v = -v;
	if (v > 2147483647L)
		return -1;
	*out = v;
	return 0;
}

/* Java Double.parseDouble's decimal grammar plus NaN/Infinity. *isnull for NaN, ±Infinity. */
static int
tf_double(const char *s, size_t n, double *out, int *isnull)
{
	char tmp[128];
	size_t i = 0, digits = 0;
	char *end;

	*isnull = 0;
	if (n == 0 || n >= sizeof(tmp))
		return -1;
	if (s[0] == '+' || s[0] == '-')
		i = 1;
	if ((n - i == 3 && memcmp(s + i, "NaN", 3) == 0) ||
	    (n - i == 8 && memcmp(s + i, "Infinity", 8) == 0)) {
		*isnull = 1;
		return 0;
	}
	while (i < n && s[i] >= '0' && s[i] <= '9') {
		i++;
		digits++;
	}
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			digits++;
		}
	}
	if (digits == 0)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t ed = 0;

		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			i++;
			ed++;
		}
		if (ed == 0)
			return -1;
	}
	if (i != n)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = 0;
	errno = 0;
	*out = strtod(tmp, &end);
	if (isinf(*out) || isnan(*out))
		*isnull = 1;
	return 0;
}

void
sdkjson_double(double v, char *out)
{
	jnum_java_double(v, out);   /* circe prints a JsonDouble with Double.toString */
}

static int
tf_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static int
tf_uuid(const char *s, size_t n, char *out)
{
	size_t i;

	if (n != 36)
		return -1;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return -1;
		} else if (!tf_hex(s[i])) {
			return -1;
		}
		out[i] = (s[i] >= 'A' && s[i] <= 'F') ? (char)(s[i] + 32) : s[i];
	}
	out[36] = 0;
	return 0;
}

/* ---- Iglu keys and self-describing JSON (sinks.md §1.4) ---- */

/* "<prefix><vendor'>_<name'>_<model>" (sinks.md §1.4 naming rules). */
void
sdkjson_field_name(const char *prefix, const struct iglu_key *k, char *out, size_t outlen)
{
	char tmp[1100];
	size_t n = 0, i;

	n = (size_t)snprintf(tmp, sizeof(tmp), "%s", prefix);
	for (i = 0; k->vendor[i] && n < sizeof(tmp) - 1; i++) {
		char c = k->vendor[i];
		if (c == '.' || c == '-')
			c = '_';
		else if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		tmp[n++] = c;
	}
	if (n < sizeof(tmp) - 1)
		tmp[n++] = '_';
	for (i = 0; k->name[i] && n < sizeof(tmp) - 2; i++) {
		char c = k->name[i] == '.' || k->name[i] == '-' ? '_' : k->name[i];
		if (c >= 'A' && c <= 'Z') {
			if (i > 0) {
				char prev = k->name[i - 1] == '.' || k->name[i - 1] == '-' ? '_' :
				    k->name[i - 1];
				if (!(prev >= 'A' && prev <= 'Z') && prev != '_')
					tmp[n++] = '_';
			}
			c = (char)(c + 32);
		}
		tmp[n++] = c;
	}
	tmp[n] = 0;
	snprintf(out, outlen, "%s_%d", tmp, k->model);
}

/* Check a self-describing object: schema a valid Iglu URI, data present. */
static json_t *
tf_self_describing(json_t *j, struct iglu_key *k, char *msg, size_t msglen)
{
	json_t *schema, *data;

	if (!json_is_object(j)) {
		snprintf(msg, msglen, "self-describing JSON must be an object");
		return NULL;
	}
	schema = json_object_get(j, "schema");
	data = json_object_get(j, "data");
	if (!json_is_string(schema)) {
		snprintf(msg, msglen, "self-describing JSON has no string \"schema\"");
		return NULL;
	}
	if (iglu_key_parsen(json_string_value(schema), json_string_length(schema), k, NULL) == -1) {
		snprintf(msg, msglen, "invalid Iglu schema URI: %.300s", json_string_value(schema));
		return NULL;
	}
	if (data == NULL) {
		snprintf(msg, msglen, "self-describing JSON has no \"data\"");
		return NULL;
	}
	return data;
}

/*
 * Decode a contexts / derived_contexts column into acc (field name → array of data), or the
 * unstruct_event column into *ukey / *uval. Returns 0 or -1 with msg set.
 */
static int
tf_json_column(int col, const char *s, size_t n, json_t *acc, char *ukey, size_t ukeylen,
    json_t **uval, char *msg, size_t msglen)
{
	struct iglu_key k;
	json_error_t jerr;
	json_t *root, *data;
	int unstruct = col == COL_UNSTRUCT_EVENT;
	const char *want = unstruct ? "unstruct_event" : "contexts";
	size_t i;

	root = json_loadb(s, n, JSON_ALLOW_NUL, &jerr);
	if (root == NULL) {
		snprintf(msg, msglen, "invalid JSON: %s at position %d", jerr.text, jerr.position);
		return -1;
	}
	data = tf_self_describing(root, &k, msg, msglen);
	if (data == NULL)
		goto fail;
	if (strcmp(k.vendor, "com.snowplowanalytics.snowplow") != 0 || strcmp(k.name, want) != 0 ||
	    strcmp(k.format, "jsonschema") != 0 || k.model != 1 || k.revision != 0) {
		snprintf(msg, msglen, "Unknown payload: %.300s",
		    json_string_value(json_object_get(root, "schema")));
		goto fail;
	}
	if (unstruct) {
		json_t *inner = tf_self_describing(data, &k, msg, msglen);
		if (inner == NULL)
			goto fail;
		sdkjson_field_name("unstruct_event_", &k, ukey, ukeylen);
		*uval = json_incref(inner);
		json_decref(root);
		return 0;
	}
	if (!json_is_array(data)) {
		snprintf(msg, msglen, "contexts \"data\" must be an array");
		goto fail;
	}
	/* validate every entity first, so a failing column adds nothing */
	for (i = 0; i < json_array_size(data); i++)
		if (tf_self_describing(json_array_get(data, i), &k, msg, msglen) == NULL)
			goto fail;
	for (i = 0; i < json_array_size(data); i++) {
		json_t *ent = json_array_get(data, i), *arr;
		char key[1200];

		tf_self_describing(ent, &k, msg, msglen);
		sdkjson_field_name("contexts_", &k, key, sizeof(key));
		arr = json_object_get(acc, key);
		if (arr == NULL) {
			arr = json_array();
			json_object_set_new(acc, key, arr);
		}
		json_array_append(arr, json_object_get(ent, "data"));
	}
	json_decref(root);
	return 0;
fail:
	json_decref(root);
	return -1;
}

static int
tf_dump_cb(const char *p, size_t n, void *arg)
{
	return buf_append(arg, p, n);
}

static int
tf_append_json(struct buf *out, const json_t *v)
{
	return json_dump_callback(v, tf_dump_cb, out, JSON_COMPACT | JSON_ENCODE_ANY);
}

static void
tf_error(json_t *errors, int col, const char *v, size_t n, const char *msg)
{
	json_t *e = json_object();

	json_object_set_new(e, "type", json_string("InvalidValue"));
	json_object_set_new(e, "key", json_string(event_cols[col].name));
	json_object_set_new(e, "value", json_stringn(v, n));
	json_object_set_new(e, "message", json_string(msg));
	json_array_append_new(errors, e);
}

static int
tf_write_fields(struct buf *doc, json_t *obj)
{
	const char *key;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (buf_append_byte(doc, ',') || jsonw_string(doc, key, strlen(key)) ||
		    buf_append_byte(doc, ':') || tf_append_json(doc, v))
			return -1;
	}
	return 0;
}

static int sdkjson_fast(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res);

/* The general transform: jansson trees for the JSON columns, every error reported. */
int
sdkjson_enriched_reference(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res, struct buf *err)
{
	const char *field[EVENT_NCOLS];
	size_t flen[EVENT_NCOLS];
	struct buf fixed;
	const char *p, *end;
	size_t nf = 0, doc_start = doc->len;
	json_t *errors = NULL, *ctx = NULL, *dctx = NULL, *uval = NULL;
	char ukey[1200] = "";
	double lat = 0, lon = 0;
	int has_lat = 0, has_lon = 0, col, rc = -1;

	buf_init(&fixed, 0);
	memset(res, 0, sizeof(*res));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (utf8_valid_prefix(line, len) != len) {
		if (utf8_repair(line, len, &fixed) == -1)
			goto oom;
		line = fixed.data;
		len = fixed.len;
	}
	/* split on TAB, keeping empty trailing fields */
	p = line;
	end = line + len;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *fe = tab ? tab : end;
		if (nf < EVENT_NCOLS) {
			field[nf] = p;
			flen[nf] = (size_t)(fe - p);
		}
		nf++;
		if (!tab)
			break;
		p = tab + 1;
	}
	if (nf == 1) {
		buf_append_str(err, "{\"type\":\"NotTSV\"}");
		goto out;
	}
	if (nf != EVENT_NCOLS) {
		buf_printf(err, "{\"type\":\"FieldNumberMismatch\",\"fieldCount\":%zu}", nf);
		goto out;
	}

	errors = json_array();
	ctx = json_object();
	dctx = json_object();
	if (!errors || !ctx || !dctx)
		goto oom;
	if (buf_append_byte(doc, '{') == -1)
		goto oom;
	for (col = 0; col < EVENT_NCOLS; col++) {
		const char *v = field[col];
		size_t n = flen[col];
		enum tf_class cls = tf_class_of(col);
		const char *name = event_cols[col].name;
		char num[64], msg[512];
		int w = 0;

		if (n == 0 && tf_required(col)) {
			snprintf(msg, sizeof(msg), "Field '%s cannot be empty", name);
			tf_error(errors, col, v, n, msg);
			continue;
		}
		if (cls == TF_CTX || cls == TF_UNSTRUCT) {
			if (n == 0)
				continue;
			if (tf_json_column(col, v, n, col == COL_DERIVED_CONTEXTS ? dctx : ctx, ukey,
			    sizeof(ukey), &uval, msg, sizeof(msg)) == -1)
				tf_error(errors, col, v, n, msg);
			continue;
		}
		if (doc->len > doc_start + 1)
			w |= buf_append_byte(doc, ',');
		w |= buf_append_byte(doc, '"');
		w |= buf_append_str(doc, name);
		w |= buf_append_str(doc, "\":");
		if (n == 0) {
			w |= buf_append_str(doc, "null");
			if (w)
				goto oom;
			continue;
		}
		switch (cls) {
		case TF_STR:
			w |= jsonw_string(doc, v, n);
			break;
		case TF_INT: {
			long iv;
			if (tf_int(v, n, &iv) == -1) {
				snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into integer",
				    name, (int)(n > 200 ? 200 : n), v);
				tf_error(errors, col, v, n, msg);
				break;
			}
			w |= buf_printf(doc, "%ld", iv);
			break;
		}
		case TF_DOUBLE: {
			double dv;
			int isnull;
			if (tf_double(v, n, &dv, &isnull) == -1) {
				snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into double",
				    name, (int)(n > 200 ? 200 : n), v);
				tf_error(errors, col, v, n, msg);
				break;
			}
			if (isnull) {
				w |= buf_append_str(doc, "null");
				break;
			}
			sdkjson_double(dv, num);
			w |= buf_append_str(doc, num);
			if (col == COL_GEO_LATITUDE) {
				lat = dv;
				has_lat = 1;
			} else if (col == COL_GEO_LONGITUDE) {
				lon = dv;
				has_lon = 1;
			}
			break;
		}
		case TF_BOOL:
			if (n == 1 && (v[0] == '0' || v[0] == '1')) {
				w |= buf_append_str(doc, v[0] == '1' ? "true" : "false");
			} else {
				snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into boolean",
				    name, (int)(n > 200 ? 200 : n), v);
				tf_error(errors, col, v, n, msg);
			}
			break;
		case TF_TS: {
			char iso[40];
			struct tm tm;
			if (sdkjson_timestamp(v, n, iso, &tm) == -1) {
				snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into datetime",
				    name, (int)(n > 200 ? 200 : n), v);
				tf_error(errors, col, v, n, msg);
				break;
			}
			w |= buf_printf(doc, "\"%s\"", iso);
			if (col == shard_col) {
				res->has_shard = 1;
				res->shard_tm = tm;
			}
			break;
		}
		case TF_UUID:
			if (tf_uuid(v, n, res->event_id) == -1) {
				snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into UUID",
				    name, (int)(n > 200 ? 200 : n), v);
				tf_error(errors, col, v, n, msg);
				break;
			}
			w |= buf_printf(doc, "\"%s\"", res->event_id);
			break;
		default:
			break;
		}
		if (w)
			goto oom;
	}
	if (json_array_size(errors) > 0) {
		json_t *e = json_pack("{s:s, s:O}", "type", "RowDecodingError", "errors", errors);
		if (e == NULL || tf_append_json(err, e) == -1) {
			json_decref(e);
			goto oom;
		}
		json_decref(e);
		goto out;
	}
	/* derived_contexts replaces a custom context of the same key (§1.4) */
	{
		const char *key;
		json_t *v;
		json_object_foreach(dctx, key, v)
			json_object_del(ctx, key);
	}
	if (tf_write_fields(doc, ctx) == -1 || tf_write_fields(doc, dctx) == -1)
		goto oom;
	if (uval) {
		if (buf_append_byte(doc, ',') || jsonw_string(doc, ukey, strlen(ukey)) ||
		    buf_append_byte(doc, ':') || tf_append_json(doc, uval))
			goto oom;
	}
	if (has_lat && has_lon) {
		char a[32], b[32];
		sdkjson_double(lat, a);
		sdkjson_double(lon, b);
		if (buf_printf(doc, ",\"geo_location\":\"%s,%s\"", a, b) == -1)
			goto oom;
	}
	if (buf_append_byte(doc, '}') == -1)
		goto oom;
	rc = 0;
	goto out;
oom:
	buf_append_str(err, "{\"type\":\"RowDecodingError\",\"errors\":[{\"type\":"
	    "\"UnhandledRowDecodingError\",\"message\":\"out of memory or document too large\"}]}");
out:
	if (rc == -1) {
		doc->len = doc_start;
		if (doc->data)
			doc->data[doc->len] = 0;
	}
	json_decref(errors);
	json_decref(ctx);
	json_decref(dctx);
	json_decref(uval);
	buf_free(&fixed);
	return rc;
}

int
sdkjson_enriched(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res, struct buf *err)
{
	size_t doc_start = doc->len;

	if (sdkjson_fast(line, len, shard_col, doc, res) == 0)
		return 0;
	doc->len = doc_start;
	if (doc->data)
		doc->data[doc->len] = 0;
	return sdkjson_enriched_reference(line, len, shard_col, doc, res, err);
}

/*
 * ---- The fast path ----
 *
 * Most lines are valid, and their JSON columns are compact JSON that jansson would print back
 * unchanged. sdkjson_fast writes such a line's document in one pass, without building trees:
 * the context data are copied token by token in the form jansson's compact dump gives them.
 * Whatever it is not sure to write exactly as sdkjson_enriched_reference would (any column
 * error, invalid UTF-8, a string escape other than \" and \\ and the short ones, a number that
 * is not a plain integer of up to 18 digits, a duplicate key, deep nesting, an unusual root)
 * makes it give up, and the line goes through sdkjson_enriched_reference, which writes the
 * same bytes or the error.
 */

#define FJ_BAIL      (-2)
#define FJ_MAX_DEPTH 64
#define FJ_MAX_KEYS  64          /* keys of one object checked for duplicates */
#define FJ_MAX_ENTS  256         /* entities of one line */
#define FJ_CACHE     256         /* Iglu URIs remembered, a power of two */
#define FJ_URI_MAX   240

/* An Iglu URI seen before: what the transform needs to know about it. */
struct fj_uri {
	uint64_t hash;
	size_t   len;
	char     uri[FJ_URI_MAX];
	int      contexts_root;      /* com.snowplowanalytics.snowplow/contexts, jsonschema 1-0-* */
	int      unstruct_root;      /* the same for unstruct_event */
	char     ctx_key[300];       /* "\"contexts_<vendor>_<name>_<model>\"" as JSON text */
	size_t   ctx_key_len;
	char     ue_key[300];        /* the same with unstruct_event_ */
	size_t   ue_key_len;
};

static struct fj_uri *fj_cache;

static uint64_t
fj_hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

static int
fj_key_text(const char *prefix, const struct iglu_key *k, char *out, size_t cap, size_t *len)
{
	char name[1200];
	struct buf b;

	sdkjson_field_name(prefix, k, name, sizeof(name));
	buf_init(&b, 0);
	if (jsonw_string(&b, name, strlen(name)) == -1 || b.len >= cap) {
		buf_free(&b);
		return -1;
	}
	memcpy(out, b.data, b.len);
	*len = b.len;
	buf_free(&b);
	return 0;
}

/* The facts about an Iglu URI (s has no escapes), from the cache or worked out; NULL when it
 * is not a valid Iglu URI or too long to remember: the caller gives up. */
static const struct fj_uri *
fj_uri_get(const char *s, size_t n)
{
	uint64_t h = fj_hash(s, n);
	size_t i, slot;
	struct fj_uri *u;
	struct iglu_key k;

	if (n >= FJ_URI_MAX)
		return NULL;
	if (fj_cache == NULL && (fj_cache = calloc(FJ_CACHE, sizeof(*fj_cache))) == NULL)
		return NULL;
	for (i = 0; i < FJ_CACHE; i++) {
		slot = (size_t)(h + i) & (FJ_CACHE - 1);
		u = &fj_cache[slot];
		if (u->len == 0)
			break;
		if (u->hash == h && u->len == n && memcmp(u->uri, s, n) == 0)
			return u;
	}
	if (i == FJ_CACHE)
		return NULL;     /* full: no room to remember; the general path copes */
	if (iglu_key_parsen(s, n, &k, NULL) == -1)
		return NULL;
	memset(u, 0, sizeof(*u));
	if (fj_key_text("contexts_", &k, u->ctx_key, sizeof(u->ctx_key), &u->ctx_key_len) == -1 ||
	    fj_key_text("unstruct_event_", &k, u->ue_key, sizeof(u->ue_key), &u->ue_key_len) == -1)
		return NULL;
	if (strcmp(k.vendor, "com.snowplowanalytics.snowplow") == 0 &&
	    strcmp(k.format, "jsonschema") == 0 && k.model == 1 && k.revision == 0) {
		u->contexts_root = strcmp(k.name, "contexts") == 0;
		u->unstruct_root = strcmp(k.name, "unstruct_event") == 0;
	}
	memcpy(u->uri, s, n);
	u->hash = h;
	u->len = n;
	return u;
}

struct fj {
	const char *p, *end;
	struct buf *out;             /* NULL: check only */
	int depth;
};

static void
fj_ws(struct fj *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static int
fj_put(struct fj *j, const char *s, size_t n)
{
	return j->out ? buf_append(j->out, s, n) : 0;
}

/* A string at j->p (the opening quote): its body in [*s, *s + *n), copied quotes included.
 * Escapes jansson prints back the same (\" \\ \b \f \n \r \t) are kept; others give up. */
static int
fj_string(struct fj *j, const char **s, size_t *n)
{
	const char *q = j->p + 1;

	for (;;) {
		const char *stop = q;

		while (stop < j->end && *stop != '"' && *stop != '\\' && (unsigned char)*stop >= 0x20)
			stop++;
		if (stop >= j->end || (unsigned char)*stop < 0x20)
			return FJ_BAIL;
		if (*stop == '"') {
			q = stop;
			break;
		}
		if (stop + 1 >= j->end)
			return FJ_BAIL;
		switch (stop[1]) {
		case '"': case '\\': case 'b': case 'f': case 'n': case 'r': case 't':
			q = stop + 2;
			continue;
		default:
			return FJ_BAIL;
		}
	}
	*s = j->p + 1;
	*n = (size_t)(q - j->p - 1);
	if (fj_put(j, j->p, (size_t)(q + 1 - j->p)) == -1)
		return -1;
	j->p = q + 1;
	return 0;
}

static int fj_value(struct fj *j);

static int
fj_object(struct fj *j)
{
	const char *ks[FJ_MAX_KEYS];
	size_t kn[FJ_MAX_KEYS], nk = 0, i;
	int rc;

	j->p++;
	if (fj_put(j, "{", 1) == -1)
		return -1;
	fj_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return fj_put(j, "}", 1);
	}
	for (;;) {
		const char *k;
		size_t n;

		if (j->p >= j->end || *j->p != '"' || nk == FJ_MAX_KEYS)
			return FJ_BAIL;
		if ((rc = fj_string(j, &k, &n)) != 0)
			return rc;
		for (i = 0; i < nk; i++)
			if (kn[i] == n && memcmp(ks[i], k, n) == 0)
				return FJ_BAIL;      /* jansson keeps the last value at the first place */
		ks[nk] = k;
		kn[nk++] = n;
		fj_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return FJ_BAIL;
		j->p++;
		if (fj_put(j, ":", 1) == -1)
			return -1;
		fj_ws(j);
		if ((rc = fj_value(j)) != 0)
			return rc;
		fj_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			if (fj_put(j, ",", 1) == -1)
				return -1;
			fj_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			return fj_put(j, "}", 1);
		}
		return FJ_BAIL;
	}
}

static int
fj_array(struct fj *j)
{
	int rc;

	j->p++;
	if (fj_put(j, "[", 1) == -1)
		return -1;
	fj_ws(j);
	if (j->p < j->end && *j->p == ']') {
		j->p++;
		return fj_put(j, "]", 1);
	}
	for (;;) {
		if ((rc = fj_value(j)) != 0)
			return rc;
		fj_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			if (fj_put(j, ",", 1) == -1)
				return -1;
			fj_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return fj_put(j, "]", 1);
		}
		return FJ_BAIL;
	}
}

/* A number: only an integer jansson prints back the same (no "-0", no leading zero, at most
 * 18 digits so that it fits a json_int_t); anything else gives up. */
static int
fj_number(struct fj *j)
{
	const char *q = j->p, *d;

	if (q < j->end && *q == '-')
		q++;
	d = q;
	while (q < j->end && *q >= '0' && *q <= '9')
		q++;
	if (q == d || q - d > 18 || (*d == '0' && q - d > 1) ||
	    (q - d == 1 && *d == '0' && d != j->p))
		return FJ_BAIL;
	if (q < j->end && (*q == '.' || *q == 'e' || *q == 'E'))
		return FJ_BAIL;
	if (fj_put(j, j->p, (size_t)(q - j->p)) == -1)
		return -1;
	j->p = q;
	return 0;
}

static int
fj_literal(struct fj *j, const char *lit, size_t n)
{
	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return FJ_BAIL;
	if (fj_put(j, lit, n) == -1)
		return -1;
	j->p += n;
	return 0;
}

static int
fj_value(struct fj *j)
{
	const char *s;
	size_t n;
	int rc;

	if (j->p >= j->end)
		return FJ_BAIL;
	switch (*j->p) {
	case '{':
		if (++j->depth > FJ_MAX_DEPTH)
			return FJ_BAIL;
		rc = fj_object(j);
		j->depth--;
		return rc;
	case '[':
		if (++j->depth > FJ_MAX_DEPTH)
			return FJ_BAIL;
		rc = fj_array(j);
		j->depth--;
		return rc;
	case '"':
		return fj_string(j, &s, &n);
	case 't':
		return fj_literal(j, "true", 4);
	case 'f':
		return fj_literal(j, "false", 5);
	case 'n':
		return fj_literal(j, "null", 4);
	default:
		return fj_number(j);
	}
}

/* One entity of a line's document: its key, and its data's text in the line's scratch. */
struct fj_ent {
	const struct fj_uri *uri;
	int derived;                 /* from derived_contexts */
	size_t off, len;
};

struct fj_line {
	struct buf scratch;          /* the data texts */
	struct fj_ent ents[FJ_MAX_ENTS];
	size_t n;
	const struct fj_uri *ue_uri; /* unstruct_event's inner schema */
	size_t ue_off, ue_len;
};

static struct fj_line *fj_line;

/*
 * A self-describing object at j->p: checks it as tf_self_describing does, and copies its data
 * (when out_data) into the scratch as [*off, *off + *len). *uri: its schema's facts.
 * A root's data is not copied but located: *dp / *dend (when dp is given).
 */
static int
fj_self_describing(struct fj *j, struct buf *scratch, const struct fj_uri **uri, size_t *off,
    size_t *len, const char **dp, const char **dend)
{
	const char *ks[FJ_MAX_KEYS];
	size_t kn[FJ_MAX_KEYS], nk = 0, i;
	const char *schema = NULL, *data = NULL, *data_end = NULL;
	size_t schema_len = 0;
	struct fj sub;
	int rc;

	if (j->p >= j->end || *j->p != '{')
		return FJ_BAIL;
	j->p++;
	fj_ws(j);
	if (j->p < j->end && *j->p == '}')
		return FJ_BAIL;
	for (;;) {
		const char *k, *save;
		size_t n;
		struct fj probe;

		if (j->p >= j->end || *j->p != '"' || nk == FJ_MAX_KEYS)
			return FJ_BAIL;
		probe = *j;
		probe.out = NULL;
		if ((rc = fj_string(&probe, &k, &n)) != 0)
			return rc;
		j->p = probe.p;
		for (i = 0; i < nk; i++)
			if (kn[i] == n && memcmp(ks[i], k, n) == 0)
				return FJ_BAIL;
		ks[nk] = k;
		kn[nk++] = n;
		fj_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return FJ_BAIL;
		j->p++;
		fj_ws(j);
		save = j->p;
		probe = *j;
		probe.out = NULL;
		probe.depth = 1;
		if (n == 6 && memcmp(k, "schema", 6) == 0) {
			if (j->p >= j->end || *j->p != '"')
				return FJ_BAIL;
			if ((rc = fj_string(&probe, &schema, &schema_len)) != 0)
				return rc;
			if (memchr(schema, '\\', schema_len))
				return FJ_BAIL;
		} else {
			if ((rc = fj_value(&probe)) != 0)
				return rc;
			if (n == 4 && memcmp(k, "data", 4) == 0) {
				data = save;
				data_end = probe.p;
			}
		}
		j->p = probe.p;
		fj_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			fj_ws(j);
			continue;
		}
		if (j->p < j->end && *j->p == '}') {
			j->p++;
			break;
		}
		return FJ_BAIL;
	}
	if (schema == NULL || data == NULL)
		return FJ_BAIL;
	if ((*uri = fj_uri_get(schema, schema_len)) == NULL)
		return FJ_BAIL;
	if (dp) {
		*dp = data;
		*dend = data_end;
		return 0;
	}
	sub.p = data;
	sub.end = data_end;
	sub.out = scratch;
	sub.depth = 1;
	*off = scratch->len;
	if ((rc = fj_value(&sub)) != 0)
		return rc;
	*len = scratch->len - *off;
	return 0;
}

/* A contexts, derived_contexts or unstruct_event column into fl. */
static int
fj_column(struct fj_line *fl, int col, const char *v, size_t n)
{
	struct fj j = { v, v + n, NULL, 0 };
	const struct fj_uri *root;
	const char *d, *dend;
	int rc;

	fj_ws(&j);
	if ((rc = fj_self_describing(&j, &fl->scratch, &root, NULL, NULL, &d, &dend)) != 0)
		return rc;
	fj_ws(&j);
	if (j.p != j.end)
		return FJ_BAIL;
	j.p = d;
	j.end = dend;
	if (col == COL_UNSTRUCT_EVENT) {
		if (!root->unstruct_root)
			return FJ_BAIL;
		return fj_self_describing(&j, &fl->scratch, &fl->ue_uri, &fl->ue_off, &fl->ue_len,
		    NULL, NULL);
	}
	if (!root->contexts_root || j.p >= j.end || *j.p != '[')
		return FJ_BAIL;
	j.p++;
	fj_ws(&j);
	if (j.p < j.end && *j.p == ']')
		return 0;
	for (;;) {
		struct fj_ent *e;

		if (fl->n == FJ_MAX_ENTS)
			return FJ_BAIL;
		e = &fl->ents[fl->n];
		if ((rc = fj_self_describing(&j, &fl->scratch, &e->uri, &e->off, &e->len, NULL,
		    NULL)) != 0)
			return rc;
		e->derived = col == COL_DERIVED_CONTEXTS;
		fl->n++;
		fj_ws(&j);
		if (j.p < j.end && *j.p == ',') {
			j.p++;
			fj_ws(&j);
			continue;
		}
		if (j.p < j.end && *j.p == ']')
			return 0;
		return FJ_BAIL;
	}
}

/* The entities' fields: for each key in order of first appearance, its data in order;
 * contexts first, leaving out a key derived_contexts also has, then derived_contexts. */
static int
fj_write_entities(struct fj_line *fl, struct buf *doc)
{
	size_t i, k;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < fl->n; i++) {
			const struct fj_ent *e = &fl->ents[i];
			int first = 1, skip = 0;

			if (e->derived != pass)
				continue;
			for (k = 0; k < i && !skip; k++)
				skip = fl->ents[k].derived == pass && fl->ents[k].uri->ctx_key_len ==
				    e->uri->ctx_key_len && memcmp(fl->ents[k].uri->ctx_key,
				    e->uri->ctx_key, e->uri->ctx_key_len) == 0;
			if (skip)
				continue;       /* written with the first of its key */
			if (pass == 0)
				for (k = 0; k < fl->n && !skip; k++)
					skip = fl->ents[k].derived && fl->ents[k].uri->ctx_key_len ==
					    e->uri->ctx_key_len && memcmp(fl->ents[k].uri->ctx_key,
					    e->uri->ctx_key, e->uri->ctx_key_len) == 0;
			if (skip)
				continue;       /* replaced by derived_contexts */
			if (buf_append_byte(doc, ',') || buf_append(doc, e->uri->ctx_key,
			    e->uri->ctx_key_len) || buf_append(doc, ":[", 2))
				return -1;
			for (k = i; k < fl->n; k++) {
				const struct fj_ent *f = &fl->ents[k];

				if (f->derived != pass || f->uri->ctx_key_len != e->uri->ctx_key_len ||
				    memcmp(f->uri->ctx_key, e->uri->ctx_key, e->uri->ctx_key_len) != 0)
					continue;
				if ((!first && buf_append_byte(doc, ',')) ||
				    buf_append(doc, fl->scratch.data + f->off, f->len))
					return -1;
				first = 0;
			}
			if (buf_append_byte(doc, ']'))
				return -1;
		}
	}
	return 0;
}

/* "name": for each column, as JSON text, computed once. */
static char fj_colkey[EVENT_NCOLS][72];
static uint8_t fj_colkey_len[EVENT_NCOLS];

static int
fj_colkeys(void)
{
	struct buf b;
	int col;

	if (fj_colkey_len[0])
		return 0;
	buf_init(&b, 0);
	for (col = 0; col < EVENT_NCOLS; col++) {
		buf_reset(&b);
		if (jsonw_string(&b, event_cols[col].name, strlen(event_cols[col].name)) == -1 ||
		    buf_append_byte(&b, ':') == -1 || b.len >= sizeof(fj_colkey[0])) {
			buf_free(&b);
			return -1;
		}
		memcpy(fj_colkey[col], b.data, b.len);
		fj_colkey_len[col] = (uint8_t)b.len;
	}
	buf_free(&b);
	return 0;
}

static char *
fj_itoa(long v, char *end)
{
	unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;

	do {
		*--end = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--end = '-';
	return end;
}

static int
sdkjson_fast(const char *line, size_t len, int shard_col, struct buf *doc,
    struct sdkjson_result *res)
{
	const char *field[EVENT_NCOLS];
	size_t flen[EVENT_NCOLS];
	const char *p, *end;
	size_t nf = 0;
	double lat = 0, lon = 0;
	int has_lat = 0, has_lon = 0, col;
	struct fj_line *fl;

	memset(res, 0, sizeof(*res));
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (utf8_valid_prefix(line, len) != len || fj_colkeys() == -1)
		return FJ_BAIL;
	if (fj_line == NULL) {
		if ((fj_line = calloc(1, sizeof(*fj_line))) == NULL)
			return -1;
		buf_init(&fj_line->scratch, 0);
	}
	fl = fj_line;
	buf_reset(&fl->scratch);
	fl->n = 0;
	fl->ue_uri = NULL;
	p = line;
	end = line + len;
	for (;;) {
		const char *tab = memchr(p, '\t', (size_t)(end - p));
		const char *fe = tab ? tab : end;

		if (nf == EVENT_NCOLS)
			return FJ_BAIL;
		field[nf] = p;
		flen[nf] = (size_t)(fe - p);
		nf++;
		if (!tab)
			break;
		p = tab + 1;
	}
	if (nf != EVENT_NCOLS)
		return FJ_BAIL;
	if (buf_reserve(doc, len + len / 2 + 4096) == -1 || buf_append_byte(doc, '{') == -1)
		return -1;
	for (col = 0; col < EVENT_NCOLS; col++) {
		const char *v = field[col];
		size_t n = flen[col];
		enum tf_class cls = tf_class_of(col);
		char num[64];
		int w = 0;

		if (n == 0 && tf_required(col))
			return FJ_BAIL;
		if (cls == TF_CTX || cls == TF_UNSTRUCT) {
			if (n == 0)
				continue;
			if (fj_column(fl, col, v, n) != 0)
				return FJ_BAIL;
			continue;
		}
		if (col > 0)
			w |= buf_append_byte(doc, ',');
		w |= buf_append(doc, fj_colkey[col], fj_colkey_len[col]);
		if (n == 0) {
			if (w || buf_append(doc, "null", 4))
				return -1;
			continue;
		}
		switch (cls) {
		case TF_STR:
			w |= jsonw_string(doc, v, n);
			break;
		case TF_INT: {
			long iv;
			char *s;

			if (tf_int(v, n, &iv) == -1)
				return FJ_BAIL;
			s = fj_itoa(iv, num + sizeof(num));
			w |= buf_append(doc, s, (size_t)(num + sizeof(num) - s));
			break;
		}
		case TF_DOUBLE: {
			double dv;
			int isnull;

			if (tf_double(v, n, &dv, &isnull) == -1)
				return FJ_BAIL;
			if (isnull) {
				w |= buf_append(doc, "null", 4);
				break;
			}
			sdkjson_double(dv, num);
			w |= buf_append_str(doc, num);
			if (col == COL_GEO_LATITUDE) {
				lat = dv;
				has_lat = 1;
			} else if (col == COL_GEO_LONGITUDE) {
				lon = dv;
				has_lon = 1;
			}
			break;
		}
		case TF_BOOL:
			if (n == 1 && (v[0] == '0' || v[0] == '1'))
				w |= v[0] == '1' ? buf_append(doc, "true", 4) : buf_append(doc, "false", 5);
			else
				return FJ_BAIL;
			break;
		case TF_TS: {
			char iso[42];
			struct tm tm;

			if (sdkjson_timestamp(v, n, iso + 1, &tm) == -1)
				return FJ_BAIL;
			iso[0] = '"';
			n = strlen(iso);
			iso[n] = '"';
			w |= buf_append(doc, iso, n + 1);
			if (col == shard_col) {
				res->has_shard = 1;
				res->shard_tm = tm;
			}
			break;
		}
		case TF_UUID:
			if (tf_uuid(v, n, res->event_id) == -1)
				return FJ_BAIL;
			w |= buf_append_byte(doc, '"');
			w |= buf_append(doc, res->event_id, SDKJSON_EVENT_ID_LEN);
			w |= buf_append_byte(doc, '"');
			break;
		default:
			break;
		}
		if (w)
			return -1;
	}
	if (fj_write_entities(fl, doc) == -1)
		return -1;
	if (fl->ue_uri && (buf_append_byte(doc, ',') || buf_append(doc, fl->ue_uri->ue_key,
	    fl->ue_uri->ue_key_len) || buf_append_byte(doc, ':') ||
	    buf_append(doc, fl->scratch.data + fl->ue_off, fl->ue_len)))
		return -1;
	if (has_lat && has_lon) {
		char a[32], b[32];

		sdkjson_double(lat, a);
		sdkjson_double(lon, b);
		if (buf_append(doc, ",\"geo_location\":\"", 17) || buf_append_str(doc, a) ||
		    buf_append_byte(doc, ',') || buf_append_str(doc, b) || buf_append_byte(doc, '"'))
			return -1;
	}
	if (buf_append_byte(doc, '}') == -1)
		return -1;
	return 0;
}
