/*
 * adapt_cloudfront: /com.amazon.aws.cloudfront/wd_access_log, one CloudFront web-distribution
 * access-log line (TSV) in the body (snowplow/enrich 6.10.0 adapters/registry/
 * CloudfrontAccessLogAdapter.scala). The number of fields picks the wd_access_log schema
 * version; the log's own date and time become the collector timestamp, and its client IP and
 * user agent replace the collector's (upstream builds a new context with no referer, no
 * headers and no network user id). csReferer becomes the event's url.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "jnum.h"
#include "pct.h"
#include "utf8.h"

#define CF_TV "com.amazon.aws.cloudfront/wd_access_log"
#define CF_MAX_FIELDS 27          /* one more than the longest format, to report the count */

static const char *const cf_names[] = {
	"dateTime", "xEdgeLocation", "scBytes", "cIp", "csMethod", "csHost", "csUriStem",
	"scStatus", "csReferer", "csUserAgent", "csUriQuery", "csCookie", "xEdgeResultType",
	"xEdgeRequestId", "xHostHeader", "csProtocol", "csBytes", "timeTaken", "xForwardedFor",
	"sslProtocol", "sslCipher", "xEdgeResponseResultType", "csProtocolVersion", "fleStatus",
	"fleEncryptedFields",
};

/* fields -> schema (reference.conf cloudfrontAccessLog) */
static const struct {
	size_t fields;
	const char *schema;
} cf_versions[] = {
	{ 12, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-0" },
	{ 15, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-1" },
	{ 18, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-2" },
	{ 19, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-3" },
	{ 23, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-4" },
	{ 24, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-5" },
	{ 26, "iglu:com.amazon.aws.cloudfront/wd_access_log/jsonschema/1-0-6" },
};

/* ConversionUtils.singleEncodePcts: "%25XX" (XX two hex digits) -> "%XX". */
static void
single_encode_pcts(const char *s, size_t len, struct buf *out)
{
	size_t i = 0;

	while (i < len) {
		if (len - i >= 5 && s[i] == '%' && s[i + 1] == '2' &&
		    s[i + 2] == '5' && pct_hexval(s[i + 3]) >= 0 && pct_hexval(s[i + 4]) >= 0) {
			buf_append_byte(out, '%');
			buf_append(out, s + i + 3, 2);
			i += 5;
			continue;
		}
		buf_append_byte(out, (uint8_t)s[i++]);
	}
}

/* java.net.URLDecoder.decode(s, "UTF-8") (JDK 11+), then ConversionUtils.decodeString's
 * clean-up: CR and LF removed, TAB -> four spaces. 0, or -1 with err set to upstream's text. */
static int
url_decode(const char *s, size_t len, struct buf *out, char *err, size_t errlen)
{
	struct buf bytes, dec;
	size_t i = 0, k;
	int rc = 0;

	buf_init(&bytes, 0);
	buf_init(&dec, 0);
	while (i < len && rc == 0) {
		if (s[i] == '+') {
			buf_append_byte(&dec, ' ');
			i++;
		} else if (s[i] != '%') {
			buf_append_byte(&dec, (uint8_t)s[i++]);
		} else {
			buf_reset(&bytes);
			while (i + 2 < len && s[i] == '%') {
				/* Integer.parseInt(s, i + 1, i + 3, 16) */
				const char *h = s + i + 1;
				size_t at = 0;
				int neg = 0, v = 0, bad = -1;
				if (h[0] == '-' || h[0] == '+') {
					neg = h[0] == '-';
					at = 1;
				} else if ((unsigned char)h[0] < '0') {
					bad = 0;
				}
				for (; bad < 0 && at < 2; at++) {
					int d = pct_hexval(h[at]);
					if (d < 0)
						bad = (int)at;
					else
						v = v * 16 + d;
				}
				if (bad >= 0) {
					snprintf(err, errlen, "Exception URL-decoding (encoding UTF-8): URLDecoder: "
					    "Illegal hex characters in escape (%%) pattern - Error at index %d in: "
					    "\"%.2s\"", bad, h);
					rc = -1;
					break;
				}
				if (neg && v > 0) {
					snprintf(err, errlen, "Exception URL-decoding (encoding UTF-8): URLDecoder: "
					    "Illegal hex characters in escape (%%) pattern - negative value");
					rc = -1;
					break;
				}
				buf_append_byte(&bytes, (uint8_t)v);
				i += 3;
			}
			if (rc == 0 && i < len && s[i] == '%') {
				snprintf(err, errlen, "Exception URL-decoding (encoding UTF-8): URLDecoder: "
				    "Incomplete trailing escape (%%) pattern");
				rc = -1;
			}
			if (rc == 0)
				utf8_repair(bytes.data ? bytes.data : "", bytes.len, &dec);
		}
	}
	for (k = 0; rc == 0 && k < dec.len; k++) {
		if (dec.data[k] == '\r' || dec.data[k] == '\n')
			continue;
		if (dec.data[k] == '\t')
			buf_append_str(out, "    ");
		else
			buf_append_byte(out, (uint8_t)dec.data[k]);
	}
	buf_free(&bytes);
	buf_free(&dec);
	return rc;
}

/* Integer.parseInt: optional sign, decimal digits, 32-bit range. */
static int
java_int(const char *s, size_t len, long long *v)
{
	size_t i = 0;
	int neg = 0;

	*v = 0;
	if (len > 0 && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
		if (*v > 2147483648LL)
			return -1;
	}
	if (neg)
		*v = -*v;
	return *v > 2147483647LL ? -1 : 0;
}

/* Double.parseDouble then Json.fromDouble (NaN and infinities are refused): the value as
 * circe prints it (Double.toString). Hexadecimal literals are not read. */
static int
java_double(const char *s, size_t len, char out[JNUM_BUFSZ])
{
	char t[128];
	size_t a = 0, b = len, i, n;
	int digits = 0;
	double d;

	while (a < b && (unsigned char)s[a] <= ' ')
		a++;
	while (b > a && (unsigned char)s[b - 1] <= ' ')
		b--;
	if (b > a && strchr("fFdD", s[b - 1]))
		b--;
	n = b - a;
	if (n == 0 || n >= sizeof(t))
		return -1;
	for (i = a; i < b; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			digits = 1;
		else if (!(c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
			return -1;
	}
	if (!digits)
		return -1;
	memcpy(t, s + a, n);
	t[n] = '\0';
	{
		/* the grammar: [+-] (digits [. digits?] | . digits) ([eE] [+-] digits)? */
		size_t k = 0, m;
		if (t[k] == '+' || t[k] == '-')
			k++;
		m = k;
		while (t[k] >= '0' && t[k] <= '9')
			k++;
		if (t[k] == '.') {
			size_t f = ++k;
			while (t[k] >= '0' && t[k] <= '9')
				k++;
			if (k == f && f - 1 == m)
				return -1;
		} else if (k == m) {
			return -1;
		}
		if (t[k] == 'e' || t[k] == 'E') {
			size_t e;
			k++;
			if (t[k] == '+' || t[k] == '-')
				k++;
			e = k;
			while (t[k] >= '0' && t[k] <= '9')
				k++;
			if (k == e)
				return -1;
		}
		if (t[k] != '\0')
			return -1;
	}
	errno = 0;
	d = strtod(t, NULL);
	if (!isfinite(d))
		return -1;
	jnum_java_double(d, out);
	return 0;
}

/* buildJson: one field into the object, or a failure. 0, or -1 when memory ran out. */
static int
cf_field(struct adapt_out *out, struct ajson *o, const char *name, const char *v, size_t vl)
{
	struct ajson *val = NULL;
	struct buf b;
	char num[JNUM_BUFSZ], err[300];
	long long iv;
	int rc = 0;

	buf_init(&b, 0);
	if (vl == 0) {
		val = ajson_new(AJ_NULL);
	} else if (strcmp(name, "timeTaken") == 0) {
		if (java_double(v, vl, num) == 0)
			val = ajson_num(num, strlen(num));
		else
			rc = adapt_fail_input_n(out, name, strlen(name), v, vl,
			    "cannot be converted to Double") == -1 ? -1 : 1;
	} else if (strcmp(name, "csBytes") == 0 || strcmp(name, "scBytes") == 0) {
		if (java_int(v, vl, &iv) == 0)
			val = ajson_int(iv);
		else
			rc = adapt_fail_input_n(out, name, strlen(name), v, vl,
			    "cannot be converted to Int") == -1 ? -1 : 1;
	} else if (strcmp(name, "csReferer") == 0 || strcmp(name, "csUserAgent") == 0) {
		struct buf one;
		buf_init(&one, 0);
		single_encode_pcts(v, vl, &one);
		if (url_decode(one.data ? one.data : "", one.len, &b, err, sizeof(err)) == 0)
			val = ajson_str(b.data ? b.data : "", b.len);
		else
			rc = adapt_fail_input_n(out, name, strlen(name), v, vl, err) == -1 ? -1 : 1;
		buf_free(&one);
	} else if (strcmp(name, "csUriQuery") == 0) {
		single_encode_pcts(v, vl, &b);
		val = ajson_str(b.data ? b.data : "", b.len);
	} else {
		val = ajson_str(v, vl);
	}
	buf_free(&b);
	if (rc)
		return rc < 0 ? -1 : 0;
	return ajson_set(o, name, strlen(name), val);
}

int
adapt_cloudfront_run(const struct adapt_req *req, struct adapt_out *out)
{
	const char *f[CF_MAX_FIELDS + 1];
	size_t fl[CF_MAX_FIELDS + 1], nf = 0, i, st = 0, nv;
	const char *schema = NULL;
	struct ajson *o = NULL;
	struct adapt_out errs;
	struct smap qs;
	struct buf b;
	char msg[160], err[300];
	int64_t ts = 0;
	int rc = 0, ts_ok;

	if (req->body == NULL)
		return adapt_fail_input(out, "body", NULL, "empty body");
	/* split("\t", -1): every field, empty ones included */
	for (i = 0; i <= req->body_len; i++) {
		if (i < req->body_len && req->body[i] != '\t')
			continue;
		if (nf < CF_MAX_FIELDS) {
			f[nf] = req->body + st;
			fl[nf] = i - st;
		}
		nf++;
		st = i + 1;
	}
	for (i = 0; i < sizeof(cf_versions) / sizeof(cf_versions[0]); i++)
		if (cf_versions[i].fields == nf)
			schema = cf_versions[i].schema;
	if (schema == NULL) {
		snprintf(msg, sizeof(msg), "access log contained %zu fields, expected 12, 15, 18, 19, "
		    "23, 24 or 26", nf);
		return adapt_fail_input_n(out, "body", 4, req->body, req->body_len, msg);
	}
	buf_init(&b, 0);
	smap_init(&qs);
	adapt_out_init(&errs);
	/* toTimestamp: DateTime.parse("<date>T<time>+00:00") */
	buf_printf(&b, "%.*sT%.*s+00:00", (int)fl[0], f[0], (int)fl[1], f[1]);
	ts_ok = adapt_iso_parse(b.data, b.len, &ts, err, sizeof(err)) == 0;
	if (!ts_ok) {
		char m[400], v[300];
		snprintf(m, sizeof(m), "could not convert access log timestamp: %s", err);
		snprintf(v, sizeof(v), "%.*s %.*s", (int)fl[0], f[0], (int)fl[1], f[1]);
		if (adapt_fail_input(out, "dateTime", v, m) == -1)
			rc = -1;
	}
	/* buildJson: "dateTime" from the first two fields, then the rest by name (zip: as many as
	 * both lists have); failures are collected last-first, as upstream prepends them */
	if (rc == 0 && (o = ajson_new(AJ_OBJ)) == NULL)
		rc = -1;
	buf_reset(&b);
	buf_printf(&b, "%.*sT%.*sZ", (int)fl[0], f[0], (int)fl[1], f[1]);
	if (rc == 0)
		rc = cf_field(&errs, o, "dateTime", b.data, b.len);
	nv = nf - 1;
	if (nv > sizeof(cf_names) / sizeof(cf_names[0]))
		nv = sizeof(cf_names) / sizeof(cf_names[0]);
	for (i = 1; i < nv && rc == 0; i++)
		rc = cf_field(&errs, o, cf_names[i], f[i + 1], fl[i + 1]);
	if (rc == 0 && errs.fail) {
		size_t k = json_array_size(errs.fail);
		while (k-- > 0 && rc == 0) {
			json_t *m = json_incref(json_array_get(errs.fail, k));
			if (out->fail == NULL && (out->fail = json_array()) == NULL)
				rc = -1;
			else if (json_array_append_new(out->fail, m) == -1)
				rc = -1;
		}
	}
	if (rc == 0 && !out->fail) {
		struct adapt_event *ev;
		/* the url parameter: csReferer as logged; the context: the log's ip and agent */
		if (fl[9] > 0)
			rc = smap_putn(&qs, "url", 3, f[9], fl[9]);
		if (rc == 0 && (ev = adapt_unstruct(out, CF_TV, &qs, schema, o, "srv")) != NULL) {
			ev->ctx.has_ts = 1;
			ev->ctx.ts_ms = ts;
			ev->ctx.replace = 1;
			if (fl[4] > 0 && (ev->ctx.ip = strndup(f[4], fl[4])) == NULL)
				rc = -1;
			if (fl[10] > 0) {
				buf_reset(&b);
				single_encode_pcts(f[10], fl[10], &b);
				if ((ev->ctx.ua = strndup(b.data, b.len)) == NULL)
					rc = -1;
			}
		} else {
			rc = -1;
		}
	}
	adapt_out_free(&errs);
	ajson_free(o);
	smap_free(&qs);
	buf_free(&b);
	return rc;
}
