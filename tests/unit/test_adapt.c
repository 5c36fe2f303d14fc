/* Unit tests for the webhook adapters (enrich/adapt*.c): upstream's adapter specs as vectors
 * (tests/golden/webhooks/vectors.jsonl: request -> the raw events' parameters, or the
 * adapter_failures messages), the Scala map orders they depend on, the JSON tree with jawn's
 * error texts and the depth rule, and the conversions (dates, numbers, camelCase, forms).
 * Sources: snowplow/enrich 6.10.0 modules/common/src/test/.../adapters/registry/<Vendor>AdapterSpec.scala. */
#include <check.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/adapt.h"

#define VECTORS "tests/golden/webhooks/vectors.jsonl"

/* Run one request through the adapter its path names. */
static int
run_request(const char *path, const char *qs, const char *ct, const char *body,
    struct adapt_out *out)
{
	char vendor[256], version[64], err[512];
	const struct adapt_def *def;
	struct adapt_req req;
	struct smap q;
	int rc;

	if (sscanf(path, "/%255[^/]/%63s", vendor, version) != 2)
		return -2;
	if ((def = adapt_find(vendor, version)) == NULL)
		return -3;
	smap_init(&q);
	if (qs && *qs)
		ck_assert_int_eq(adapt_form_parse(qs, strlen(qs), &q, err, sizeof(err)), 0);
	memset(&req, 0, sizeof(req));
	req.vendor = vendor;
	req.version = version;
	req.qs = &q;
	req.content_type = ct;
	req.body = body;
	req.body_len = body ? strlen(body) : 0;
	req.max_depth = 40;
	adapt_out_init(out);
	rc = def->run(&req, out);
	smap_free(&q);
	return rc;
}

/* "ctx": the context an adapter replaces (collector timestamp, IP, user agent). */
static int
check_context(json_t *v, const struct adapt_out *out, const char *id, char *why, size_t whylen)
{
	json_t *ctx = json_object_get(v, "ctx"), *ip, *ua;

	if (ctx == NULL || out->n == 0)
		return 1;
	ip = json_object_get(ctx, "ip");
	ua = json_object_get(ctx, "ua");
	if (!out->ev[0].ctx.has_ts ||
	    out->ev[0].ctx.ts_ms != json_integer_value(json_object_get(ctx, "ts")) ||
	    (ip && (out->ev[0].ctx.ip == NULL || strcmp(out->ev[0].ctx.ip, json_string_value(ip)))) ||
	    (ua && (out->ev[0].ctx.ua == NULL || strcmp(out->ev[0].ctx.ua, json_string_value(ua))))) {
		snprintf(why, whylen, "%s: context ts %lld ip %s ua %s", id,
		    (long long)out->ev[0].ctx.ts_ms, out->ev[0].ctx.ip ? out->ev[0].ctx.ip : "-",
		    out->ev[0].ctx.ua ? out->ev[0].ctx.ua : "-");
		return 0;
	}
	return 1;
}

/* Compare one vector; a description of the first difference goes to why. */
static int
check_vector(json_t *v, char *why, size_t whylen)
{
	const char *id = json_string_value(json_object_get(v, "id"));
	json_t *events = json_object_get(v, "events"), *fail = json_object_get(v, "fail");
	struct adapt_out out;
	size_t i;
	int ok = 1;

	if (run_request(json_string_value(json_object_get(v, "path")),
	    json_string_value(json_object_get(v, "qs")), json_string_value(json_object_get(v, "ct")),
	    json_string_value(json_object_get(v, "body")), &out) != 0) {
		snprintf(why, whylen, "%s: adapter returned an error", id);
		adapt_out_free(&out);
		return 0;
	}
	if (fail) {
		json_t *got = json_deep_copy(out.fail ? out.fail : json_array());
		for (i = 0; i < json_array_size(fail) && i < json_array_size(got); i++) {
			json_t *m = json_array_get(fail, i);
			if (json_is_string(json_object_get(m, "expectedMapping")))   /* "*": any */
				json_object_del(json_array_get(got, i), "expectedMapping");
		}
		{
			json_t *exp = json_deep_copy(fail);
			for (i = 0; i < json_array_size(exp); i++)
				if (json_is_string(json_object_get(json_array_get(exp, i), "expectedMapping")))
					json_object_del(json_array_get(exp, i), "expectedMapping");
			if (!json_equal(exp, got) || out.n != 0) {
				char *g = json_dumps(got, JSON_COMPACT), *e = json_dumps(exp, JSON_COMPACT);
				snprintf(why, whylen, "%s: failures\n  got  %s\n  want %s", id, g, e);
				free(g);
				free(e);
				ok = 0;
			}
			json_decref(exp);
		}
		json_decref(got);
	} else if (json_object_get(v, "count")) {
		/* only the number of events (the spec checks no more) */
		if (out.fail || out.n != (size_t)json_integer_value(json_object_get(v, "count"))) {
			snprintf(why, whylen, "%s: %zu events, %lld expected", id, out.n,
			    json_integer_value(json_object_get(v, "count")));
			ok = 0;
		}
	} else {
		if (out.fail || out.n != json_array_size(events)) {
			char *g = out.fail ? json_dumps(out.fail, JSON_COMPACT) : strdup("[]");
			snprintf(why, whylen, "%s: %zu events, %zu expected; failures %s", id, out.n,
			    json_array_size(events), g);
			free(g);
			ok = 0;
		}
		ok = ok && check_context(v, &out, id, why, whylen);
		for (i = 0; ok && i < out.n; i++) {
			json_t *want = json_array_get(events, i), *val;
			const char *k;
			if (out.ev[i].params.n != json_object_size(want)) {
				snprintf(why, whylen, "%s: event %zu has %zu parameters, %zu expected", id, i,
				    out.ev[i].params.n, json_object_size(want));
				ok = 0;
			}
			json_object_foreach(want, k, val) {
				struct smap_ent *en = smap_get(&out.ev[i].params, k);
				if (!ok)
					break;
				if (en == NULL || (json_is_null(val) ? en->v != NULL :
				    (en->v == NULL || strcmp(en->v, json_string_value(val)) != 0))) {
					snprintf(why, whylen, "%s: event %zu parameter %s\n  got  %s\n  want %s", id,
					    i, k, en ? (en->v ? en->v : "(None)") : "(missing)",
					    json_is_null(val) ? "(None)" : json_string_value(val));
					ok = 0;
				}
			}
		}
	}
	adapt_out_free(&out);
	return ok;
}

START_TEST(upstream_vectors)
{
	FILE *f = fopen(VECTORS, "r");
	char *line = NULL, why[8192];
	size_t cap = 0, n = 0, bad = 0;

	ck_assert_msg(f != NULL, "%s (run from the repository root)", VECTORS);
	while (getline(&line, &cap, f) > 0) {
		json_error_t e;
		json_t *v = json_loads(line, 0, &e);
		ck_assert_msg(v != NULL, "vector %zu: %s", n + 1, e.text);
		if (!check_vector(v, why, sizeof(why))) {
			fprintf(stderr, "MISMATCH %s\n", why);
			bad++;
		}
		json_decref(v);
		n++;
	}
	free(line);
	fclose(f);
	ck_assert_uint_gt(n, 150);
	ck_assert_msg(bad == 0, "%zu of %zu vectors differ (see above)", bad, n);
}
END_TEST

/* Scala 2.12's orders: String.hashCode, the HashMap trie order (the Callrail spec's key order
 * is the order of its 35 parameters here), and SchemaKey / Some hashes. */
START_TEST(scala_orders)
{
	static const char *const in[] = { "answered", "callercity", "callercountry", "callername",
		"callernum", "callerstate", "callerzip", "callsource", "datetime", "destinationnum",
		"duration", "first_call", "ga", "gclid", "id", "ip", "keywords", "kissmetrics_id",
		"landingpage", "recording", "referrer", "referrermedium", "trackingnum",
		"transcription", "utm_campaign", "utm_content", "utm_medium", "utm_source", "utm_term",
		"utma", "utmb", "utmc", "utmv", "utmx", "utmz" };
	static const char *const want[] = { "duration", "utm_source", "utmv", "ip", "utmx", "ga",
		"destinationnum", "datetime", "kissmetrics_id", "landingpage", "callerzip", "gclid",
		"callername", "utmb", "id", "callernum", "utm_content", "trackingnum", "referrermedium",
		"utm_campaign", "keywords", "transcription", "utmz", "utma", "referrer", "callerstate",
		"recording", "first_call", "utmc", "callercountry", "utm_medium", "callercity",
		"utm_term", "answered", "callsource" };
	struct smap m;
	size_t *ix, i;

	ck_assert_int_eq(scala_string_hash("hello", 5), 99162322);
	ck_assert_int_eq(scala_string_hash("", 0), 0);
	ck_assert_int_eq(scala_string_hash("\xc3\xa9", 2), 233);             /* U+00E9 */
	ck_assert_int_eq(scala_string_hash("\xf0\x9f\x98\x80", 4), 1772899);  /* a surrogate pair */
	smap_init(&m);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(smap_put(&m, in[i], "x"), 0);
	ix = smap_order(&m);
	for (i = 0; i < 4; i++)                      /* Map1..Map4 keep insertion order */
		ck_assert_str_eq(m.e[ix[i]].k, in[i]);
	free(ix);
	for (i = 4; i < sizeof(in) / sizeof(in[0]); i++)
		ck_assert_int_eq(smap_put(&m, in[i], "x"), 0);
	ck_assert_int_eq(m.hashed, 1);
	ix = smap_order(&m);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(m.e[ix[i]].k, want[i]);
	free(ix);
	/* a HashMap stays one when it shrinks back */
	for (i = 5; i < sizeof(in) / sizeof(in[0]); i++)
		smap_del(&m, in[i]);
	ck_assert_uint_eq(m.n, 5);
	ck_assert_int_eq(m.hashed, 1);
	smap_free(&m);
	/* "None".hashCode; Some("x") is a case class of arity one */
	ck_assert_int_eq(scala_none_hash(), 2433880);
	ck_assert_int_ne(scala_some_hash(scala_string_hash("x", 1)), scala_string_hash("x", 1));
}
END_TEST

START_TEST(smap_many_fields)
{
	struct smap m;
	char k[32], v[32];
	int i;

	/* 100,000 distinct names, then updates: linear with the index */
	smap_init(&m);
	for (i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "f%d", i);
		ck_assert_int_eq(smap_put(&m, k, "a"), 0);
	}
	for (i = 0; i < 100000; i += 7) {
		snprintf(k, sizeof(k), "f%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		ck_assert_int_eq(smap_put(&m, k, v), 0);
	}
	ck_assert_uint_eq(m.n, 100000);
	ck_assert_str_eq(smap_get(&m, "f700")->v, "v700");
	ck_assert_str_eq(smap_get(&m, "f701")->v, "a");
	smap_del(&m, "f700");
	ck_assert_ptr_null(smap_get(&m, "f700"));
	ck_assert_str_eq(smap_get(&m, "f99999")->v, "a");
	smap_free(&m);
}
END_TEST

static void
parse_err(const char *text, const char *want)
{
	char err[512] = "";
	struct ajson *j = ajson_parse(text, strlen(text), 40, err, sizeof(err));

	ck_assert_msg(j == NULL, "%s parsed", text);
	ck_assert_str_eq(err, want);
}

static void
round_trip(const char *text, const char *want)
{
	char err[512];
	struct ajson *j = ajson_parse(text, strlen(text), 40, err, sizeof(err));
	struct buf b;

	ck_assert_msg(j != NULL, "%s: %s", text, err);
	buf_init(&b, 0);
	ck_assert_int_eq(ajson_print(j, &b), 0);
	ck_assert_str_eq(b.data, want);
	buf_free(&b);
	ajson_free(j);
}

/* The texts upstream's specs quote (HubSpotAdapterSpec, MandrillAdapterSpec,
 * OlarkAdapterSpec, UnbounceAdapterSpec, RemoteAdapterSpec) and circe's printing. */
START_TEST(json_tree)
{
	char deep[200];
	int i;

	parse_err("{\"something:\"some\"}", "invalid json: expected : got 'some\"}' (line 1, column 14)");
	parse_err("[{\"event\":\"click}]", "invalid json: exhausted input");
	parse_err("", "invalid json: exhausted input");
	parse_err("kind\":\"...", "invalid json: expected json value got 'kind\":...' (line 1, column 1)");
	parse_err("{invalid json", "invalid json: expected \" got 'invali...' (line 1, column 2)");
	parse_err("{\"a\":1} x", "invalid json: expected whitespace or eof got 'x' (line 1, column 9)");
	parse_err("[1,]", "invalid json: expected json value got ']' (line 1, column 4)");
	parse_err("[1\n2]", "invalid json: expected ] or , got '2]' (line 2, column 1)");
	parse_err("{\"a\":1 \"b\":2}", "invalid json: expected } or , got '\"b\":2}' (line 1, column 8)");
	parse_err("nul", "invalid json: exhausted input");
	parse_err("nope", "invalid json: expected null got 'nope' (line 1, column 1)");
	parse_err("-x", "invalid json: expected digit got 'x' (line 1, column 2)");
	parse_err("\"a\tb\"", "invalid json: control char (9) in string got '\tb\"' (line 1, column 3)");
	/* numbers as written, keys in order, a duplicate key: first place, last value */
	round_trip(" {\"b\":1.50,\"a\":[1e3,-0,12345678901234567890123],\"b\":true} ",
	    "{\"b\":true,\"a\":[1e3,-0,12345678901234567890123]}");
	round_trip("\"\\u00e9\\ud83d\\ude00\\u0000\\/\"", "\"\xc3\xa9\xf0\x9f\x98\x80\\u0000/\"");
	round_trip("\"\\ud800x\"", "\"\xef\xbf\xbdx\"");
	/* the depth rule: a value 40 containers deep is too deep; 39 is not */
	for (i = 0; i < 40; i++)
		deep[i] = '[';
	deep[40] = '1';
	for (i = 0; i < 40; i++)
		deep[41 + i] = ']';
	deep[81] = '\0';
	parse_err(deep, "invalid json: maximum allowed JSON depth exceeded");
	memmove(deep + 39, deep + 40, 42);             /* 39 levels */
	deep[79] = '\0';
	round_trip(deep, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	{
		/* nesting deeper than any stack: iterative */
		size_t n = 1000000, k;
		char *s = malloc(2 * n + 1), err[128];
		for (k = 0; k < n; k++) {
			s[k] = '[';
			s[n + k] = ']';
		}
		s[2 * n] = '\0';
		ck_assert_ptr_null(ajson_parse(s, 2 * n, 40, err, sizeof(err)));
		ck_assert_str_eq(err, "invalid json: maximum allowed JSON depth exceeded");
		s[n] = ',';
		ck_assert_ptr_null(ajson_parse(s, 2 * n, 40, err, sizeof(err)));
		ck_assert_str_eq(err, "invalid json: expected json value got ',]]]]]...' (line 1, "
		    "column 1000001)");
		free(s);
	}
}
END_TEST

START_TEST(conversions)
{
	struct buf b;
	char iso[48], err[256];
	int64_t l;
	int32_t n;
	struct ajson *j;

	/* JsonUtils.toJsonSchemaDateTime, pattern yyyy-MM-dd HH:mm:ss */
	buf_init(&b, 0);
	adapt_joda_datetime("2014-10-22 13:50:00", 19, &b);
	ck_assert_str_eq(b.data, "2014-10-22T13:50:00.000Z");
	buf_reset(&b);
	adapt_joda_datetime("2014-1-5 1:2:3", 14, &b);
	ck_assert_str_eq(b.data, "2014-01-05T01:02:03.000Z");
	buf_reset(&b);
	adapt_joda_datetime("2014-02-30 10:00:00", 19, &b);            /* not a day: unchanged */
	ck_assert_str_eq(b.data, "2014-02-30 10:00:00");
	buf_reset(&b);
	adapt_joda_datetime("2014-10-22T13:50:00", 19, &b);
	ck_assert_str_eq(b.data, "2014-10-22T13:50:00");
	buf_free(&b);
	adapt_iso_ms(1539145399845LL, iso);
	ck_assert_str_eq(iso, "2018-10-10T04:23:19.845Z");
	/* Joda ISO parsing and its messages */
	ck_assert_int_eq(adapt_iso_parse("2015-11-13T16:31:52.393Z", 24, &l, err, sizeof(err)), 0);
	ck_assert_int_eq(l, 1447432312393LL);
	ck_assert_int_eq(adapt_iso_parse("2013-10-07T23:35:30+00:00", 25, &l, err, sizeof(err)), 0);
	ck_assert_int_eq(l, 1381188930000LL);
	ck_assert_int_eq(adapt_iso_parse("2015-11-13T16:31:52+01:30", 25, &l, err, sizeof(err)), 0);
	ck_assert_int_eq(l, 1447426912000LL);
	ck_assert_int_eq(adapt_iso_parse("aTb+00:00", 9, &l, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid format: \"aTb+00:00\"");
	ck_assert_int_eq(adapt_iso_parse("2013-13-07T23:35:30+00:00", 25, &l, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Cannot parse \"2013-13-07T23:35:30+00:00\": Value 13 for monthOfYear "
	    "must be in the range [1,12]");
	ck_assert_int_eq(adapt_iso_parse("2013-10-07Tx", 12, &l, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Invalid format: \"2013-10-07Tx\" is malformed at \"x\"");
	/* circe's JsonNumber.toLong / Decoder[Int] */
	ck_assert_int_eq(adapt_num_long("1e3", 3, &l), 0);
	ck_assert_int_eq(l, 1000);
	ck_assert_int_eq(adapt_num_long("1.0", 3, &l), 0);
	ck_assert_int_eq(l, 1);
	ck_assert_int_eq(adapt_num_long("1.5", 3, &l), -1);
	ck_assert_int_eq(adapt_num_long("-9223372036854775808", 20, &l), 0);
	ck_assert_int_eq(adapt_num_long("9223372036854775808", 19, &l), -1);
	ck_assert_int_eq(adapt_num_long("0.000", 5, &l), 0);
	ck_assert_int_eq(l, 0);
	j = ajson_str("42", 2);
	ck_assert_int_eq(adapt_json_int(j, &n), 0);
	ck_assert_int_eq(n, 42);
	ajson_free(j);
	j = ajson_str(" 42", 3);
	ck_assert_int_eq(adapt_json_int(j, &n), -1);
	ajson_free(j);
	j = ajson_num("2147483648", 10);
	ck_assert_int_eq(adapt_json_int(j, &n), -1);
	ajson_free(j);
}
END_TEST

/* camelize as MailgunAdapterSpec expects it, plus the edges of the regex */
START_TEST(camel_case)
{
	char err[256];
	const char *in = "{\"X-Mailgun-Sid\":1,\"my_var_1\":{\"my-var-2\":2},\"a__b\":3,\"_x\":4,"
	    "\"\":5,\"a-1\":6,\"Tag\":[{\"is-routed\":7}]}";
	struct ajson *j = ajson_parse(in, strlen(in), 40, err, sizeof(err));
	struct buf b;

	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(adapt_camelize(j), 0);
	buf_init(&b, 0);
	ajson_print(j, &b);
	ck_assert_str_eq(b.data, "{\"xMailgunSid\":1,\"myVar1\":{\"myVar2\":2},\"a_b\":3,\"X\":4,"
	    "\"\":5,\"a1\":6,\"tag\":[{\"isRouted\":7}]}");
	buf_free(&b);
	ajson_free(j);
}
END_TEST

START_TEST(form_bodies)
{
	struct smap m;
	char err[256];

	smap_init(&m);
	ck_assert_int_eq(adapt_form_parse("a=1&b&=x&c=%25&d=+%41", 21, &m, err, sizeof(err)), 0);
	ck_assert_uint_eq(m.n, 4);
	ck_assert_str_eq(smap_get(&m, "a")->v, "1");
	ck_assert_ptr_null(smap_get(&m, "b")->v);                      /* no '=': None */
	ck_assert_str_eq(smap_get(&m, "c")->v, "%");
	ck_assert_str_eq(smap_get(&m, "d")->v, " A");
	smap_free(&m);
	/* StatusGatorAdapterSpec e6: java.net.URI's message for an illegal character */
	ck_assert_int_eq(adapt_form_parse("{a=b", 4, &m, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Illegal character in query at index 18: http://localhost/?{a=b");
	ck_assert_int_eq(adapt_form_parse("a=%4", 4, &m, err, sizeof(err)), -1);
	ck_assert_str_eq(err, "Malformed escape pair at index 20: http://localhost/?a=%4");
	smap_free(&m);
}
END_TEST

static char *
ue_data(const struct adapt_out *out)
{
	const char *ue = smap_get(&out->ev[0].params, "ue_pr")->v, *d = strstr(ue, "\"data\":{\"schema\"");

	d = strstr(d + 8, "\"data\":");
	return strndup(d + 7, strlen(d + 7) - 2);
}

/* MailchimpAdapter.mergeJsons (Json.deepMerge folds): the latest write of a key puts it first,
 * a later scalar replaces an object, a later object replaces a scalar. */
START_TEST(mailchimp_merge)
{
	static const char *const cases[][2] = {
		{ "type=subscribe&a%5Bb%5D=1&a=2", "{\"a\":\"2\",\"type\":\"subscribe\"}" },
		{ "type=subscribe&a=2&a%5Bb%5D=1", "{\"a\":{\"b\":\"1\"},\"type\":\"subscribe\"}" },
		{ "type=subscribe&x%5Bp%5D=1&y=2&x%5Bq%5D=3",
		  "{\"x\":{\"q\":\"3\",\"p\":\"1\"},\"y\":\"2\",\"type\":\"subscribe\"}" },
		{ "type=subscribe&%5Ba%5D=1", "{\"\":{\"a\":\"1\"},\"type\":\"subscribe\"}" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct adapt_out out;
		char *d;
		ck_assert_int_eq(run_request("/com.mailchimp/v1", "", "application/x-www-form-urlencoded",
		    cases[i][0], &out), 0);
		ck_assert_uint_eq(out.n, 1);
		d = ue_data(&out);
		ck_assert_str_eq(d, cases[i][1]);
		free(d);
		adapt_out_free(&out);
	}
}
END_TEST

/* Bodies with 100,000 fields must not take quadratic time (the test's timeout would fail it). */
START_TEST(wide_bodies)
{
	static const char *const paths[][2] = {
		{ "/com.mailchimp/v1", "application/x-www-form-urlencoded" },
		{ "/com.statusgator/v1", "application/x-www-form-urlencoded" },
		{ "/com.snowplowanalytics.iglu/v1", "application/x-www-form-urlencoded" },
		{ "/com.getvero/v1", "application/json" },
		{ "/com.olark/v1", "application/x-www-form-urlencoded" },
	};
	struct buf form, json, olark;
	size_t p;
	int i;

	buf_init(&form, 0);
	buf_init(&json, 0);
	buf_init(&olark, 0);
	buf_append_str(&form, "type=subscribe");
	buf_append_str(&json, "{\"type\":\"sent\"");
	buf_append_str(&olark, "data=%7B%22a%22%3A1");
	for (i = 0; i < 100000; i++) {
		buf_printf(&form, "&data%%5Bf%d%%5D%%5Bx%d%%5D=v&k-%d=w", i % 977, i, i);
		buf_printf(&json, ",\"k_%d\":{\"k_%d\":%d}", i, i, i);
		buf_printf(&olark, "%%2C%%22k-%d%%22%%3A1%%2C%%22k_%d%%22%%3A2", i, i);
	}
	buf_append_str(&json, "}");
	buf_append_str(&olark, "%7D");
	for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
		struct adapt_out out;
		const char *body = strstr(paths[p][0], "vero") ? json.data :
		    strstr(paths[p][0], "olark") ? olark.data : form.data;
		ck_assert_int_eq(run_request(paths[p][0],
		    strstr(paths[p][0], "iglu") ? "schema=iglu:com.acme/x/jsonschema/1-0-0" : "",
		    paths[p][1], body, &out), 0);
		ck_assert_msg(out.n == 1, "%s: %zu events", paths[p][0], out.n);
		adapt_out_free(&out);
	}
	buf_free(&form);
	buf_free(&json);
	buf_free(&olark);
}
END_TEST

/* Hostile and odd inputs: every adapter answers with events or failures, never an error. */
START_TEST(odd_inputs)
{
	static const char *const paths[] = { "/com.snowplowanalytics.iglu/v1", "/com.callrail/v1",
		"/com.amazon.aws.cloudfront/wd_access_log", "/com.mailchimp/v1", "/com.mailgun/v1",
		"/com.google.analytics/v1", "/com.mandrill/v1", "/com.olark/v1",
		"/com.pagerduty/v1", "/com.pingdom/v1", "/com.sendgrid/v3", "/com.statusgator/v1",
		"/com.unbounce/v1", "/com.urbanairship.connect/v1", "/com.marketo/v1", "/com.getvero/v1",
		"/com.hubspot/v1" };
	static const char *const bodies[] = { NULL, "", "x", "{}", "[]", "[1,2,3]", "null", "\"s\"",
		"{\"a\":", "a=b&c", "%", "\t\t\t", "data=%7B%7D", "mandrill_events=%5B1%5D",
		"t=event&ev=null&cd1=x&pr1id=a&pr=1&cu=EUR&il1pi1nm=z&prabc=1",
		"[{\"event\":\"open\",\"ts\":\"1e400\",\"sg_event_id\":null}]",
		"{\"signature\":{\"timestamp\":{},\"token\":1,\"signature\":[]},"
		"\"event-data\":{\"event\":\"opened\",\"timestamp\":null}}",
		"{\"type\":\"OPEN\",\"occurred\":\"x\",\"id\":\"y\",\"processed\":\"z\"}",
		"{\"type\":\"sent\",\"sent_at\":-9223372036854775808,\"_tags\":1,\"tags\":2}" };
	static const char *const cts[] = { NULL, "application/json",
		"application/x-www-form-urlencoded" };
	static const char *const qss[] = { "", "schema=iglu:a/b/jsonschema/1-0-0&p=x&message=%7B%7D",
		"message=(u'x',)" };
	size_t p, b, c, q;

	for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++)
		for (b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++)
			for (c = 0; c < 3; c++)
				for (q = 0; q < 3; q++) {
					struct adapt_out out;
					ck_assert_int_eq(run_request(paths[p], qss[q], cts[c], bodies[b], &out), 0);
					ck_assert_msg((out.fail != NULL) != (out.n > 0), "%s %s: %zu events, %s",
					    paths[p], bodies[b] ? bodies[b] : "(none)", out.n,
					    out.fail ? "failures" : "no failures");
					adapt_out_free(&out);
				}
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("adapt");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int failed;

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, upstream_vectors);
	tcase_add_test(tc, scala_orders);
	tcase_add_test(tc, smap_many_fields);
	tcase_add_test(tc, json_tree);
	tcase_add_test(tc, conversions);
	tcase_add_test(tc, camel_case);
	tcase_add_test(tc, form_bodies);
	tcase_add_test(tc, odd_inputs);
	tcase_add_test(tc, mailchimp_merge);
	tcase_add_test(tc, wide_bodies);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}
