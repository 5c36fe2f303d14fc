/* Unit tests for common/thrift: CollectorPayload 1-0-0 round trips, the spec's worked example
 * (enriched-event.md §12.5), a record laid out by hand, and hostile inputs. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "thrift.h"

/* enriched-event.md §12.5, the raw-stream line. */
static const char SPEC_LINE[] =
    "CwBkAAAACzIwMy4wLjExMy43CgDIAAABi8/laAALANIAAAAFVVRGLTgLANwAAAAdZnVycm93LWNvbGxlY3Rvci0wLjEu"
    "MC1zdGRvdXQLASwAAAAKY3VybC84LjUuMAsBQAAAAAIvaQsBSgAAABllPXB2JnA9d2ViJnR2PW5vLWpzLTAuMS4wDwFe"
    "CwAAAAIAAAAbSG9zdDogY29sbGVjdG9yLmV4YW1wbGUuY29tAAAAFlVzZXItQWdlbnQ6IGN1cmwvOC41LjALAZAAAAAV"
    "Y29sbGVjdG9yLmV4YW1wbGUuY29tCwGaAAAAJDlmMmI2YTNlLTFjNGQtNGU1Zi04YTdiLTBjMWQyZTNmNGE1Ygt6aQAA"
    "AEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA=";

static void
set(struct tstr *t, const char *s)
{
	ck_assert_int_eq(thrift_tstr_set(t, s, strlen(s)), 0);
}

static void
spec_example(struct thrift_payload *p)
{
	thrift_payload_init(p);
	set(&p->ip_address, "203.0.113.7");
	p->timestamp = 1700000000000LL;
	p->has_timestamp = 1;
	set(&p->encoding, "UTF-8");
	set(&p->collector, "furrow-collector-0.1.0-stdout");
	set(&p->user_agent, "curl/8.5.0");
	set(&p->path, "/i");
	set(&p->querystring, "e=pv&p=web&tv=no-js-0.1.0");
	thrift_payload_add_header(p, "Host: collector.example.com", 27);
	thrift_payload_add_header(p, "User-Agent: curl/8.5.0", 22);
	set(&p->hostname, "collector.example.com");
	set(&p->network_user_id, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b");
	set(&p->schema, THRIFT_PAYLOAD_SCHEMA);
}

START_TEST(encode_matches_spec_example)
{
	struct thrift_payload p;
	struct buf b;
	char *line;

	spec_example(&p);
	buf_init(&b, 0);
	ck_assert_int_eq(thrift_payload_encode(&p, &b), 0);
	ck_assert_uint_eq(b.len, 344);
	line = malloc(base64_encoded_len(b.len) + 1);
	base64_encode((uint8_t *)b.data, b.len, line);
	ck_assert_str_eq(line, SPEC_LINE);
	free(line);
	buf_free(&b);
	thrift_payload_free(&p);
}
END_TEST

START_TEST(decode_spec_example)
{
	uint8_t raw[400];
	struct thrift_payload p;
	char err[128];
	size_t n = base64_decode_lenient(SPEC_LINE, strlen(SPEC_LINE), raw);

	thrift_payload_init(&p);
	ck_assert_int_eq(thrift_payload_decode(raw, n, &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.ip_address.s, "203.0.113.7");
	ck_assert(p.has_timestamp);
	ck_assert_int_eq(p.timestamp, 1700000000000LL);
	ck_assert_str_eq(p.encoding.s, "UTF-8");
	ck_assert_str_eq(p.collector.s, "furrow-collector-0.1.0-stdout");
	ck_assert_str_eq(p.user_agent.s, "curl/8.5.0");
	ck_assert_ptr_null(p.referer_uri.s);
	ck_assert_str_eq(p.path.s, "/i");
	ck_assert_str_eq(p.querystring.s, "e=pv&p=web&tv=no-js-0.1.0");
	ck_assert_ptr_null(p.body.s);
	ck_assert_uint_eq(p.n_headers, 2);
	ck_assert_str_eq(p.headers[0].s, "Host: collector.example.com");
	ck_assert_str_eq(p.headers[1].s, "User-Agent: curl/8.5.0");
	ck_assert_ptr_null(p.content_type.s);
	ck_assert_str_eq(p.hostname.s, "collector.example.com");
	ck_assert_str_eq(p.network_user_id.s, "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b");
	ck_assert_str_eq(p.schema.s, THRIFT_PAYLOAD_SCHEMA);
	thrift_payload_free(&p);
}
END_TEST

START_TEST(roundtrip_every_field)
{
	struct thrift_payload p, q;
	struct buf b;
	char err[128];

	thrift_payload_init(&p);
	set(&p.ip_address, "2001:db8::1");
	p.timestamp = -5;
	p.has_timestamp = 1;
	set(&p.encoding, "UTF-8");
	set(&p.collector, "c");
	set(&p.user_agent, "ua\twith tab");
	set(&p.referer_uri, "http://r.example/");
	set(&p.path, "/com.snowplowanalytics.snowplow/tp2");
	set(&p.querystring, "");
	ck_assert_int_eq(thrift_tstr_set(&p.body, "{\"a\":\"\0b\"}", 10), 0);
	thrift_payload_add_header(&p, "X: 1", 4);
	thrift_payload_add_header(&p, "", 0);
	thrift_payload_add_header(&p, "application/json", 16);
	set(&p.content_type, "application/json");
	set(&p.hostname, "h");
	set(&p.network_user_id, "00000000-0000-0000-0000-000000000000");
	buf_init(&b, 0);
	ck_assert_int_eq(thrift_payload_encode(&p, &b), 0);
	thrift_payload_init(&q);
	ck_assert_int_eq(thrift_payload_decode((uint8_t *)b.data, b.len, &q, err, sizeof(err)), 0);
	ck_assert_str_eq(q.ip_address.s, "2001:db8::1");
	ck_assert_int_eq(q.timestamp, -5);
	ck_assert_str_eq(q.user_agent.s, "ua\twith tab");
	ck_assert_str_eq(q.referer_uri.s, "http://r.example/");
	ck_assert_str_eq(q.querystring.s, "");
	ck_assert_uint_eq(q.body.len, 10);
	ck_assert(memcmp(q.body.s, "{\"a\":\"\0b\"}", 10) == 0);
	ck_assert_uint_eq(q.n_headers, 3);
	ck_assert_str_eq(q.headers[1].s, "");
	ck_assert_str_eq(q.headers[2].s, "application/json");
	ck_assert_str_eq(q.content_type.s, "application/json");
	ck_assert_str_eq(q.hostname.s, "h");
	ck_assert_str_eq(q.network_user_id.s, "00000000-0000-0000-0000-000000000000");
	ck_assert_str_eq(q.schema.s, THRIFT_PAYLOAD_SCHEMA);     /* default written */
	thrift_payload_free(&p);
	thrift_payload_free(&q);
	buf_free(&b);
}
END_TEST

/* A record laid out by hand from the field table: fields in a scrambled order, an unknown
 * field of every type, a known id with the wrong type. */
START_TEST(decode_hand_laid_out)
{
	static const uint8_t rec[] = {
		0x0b, 0x01, 0x40, 0, 0, 0, 2, '/', 'i',                 /* 320 path */
		0x08, 0x00, 0x05, 1, 2, 3, 4,                           /* unknown i32 id 5 */
		0x0f, 0x00, 0x06, 0x08, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 2, /* unknown list<i32> */
		0x0d, 0x00, 0x07, 0x0b, 0x03, 0, 0, 0, 1, 0, 0, 0, 1, 'k', 9, /* unknown map<str,byte> */
		0x0c, 0x00, 0x08, 0x02, 0x00, 0x01, 1, 0x04, 0x00, 0x02, 1, 2, 3, 4, 5, 6, 7, 8, 0, /* struct */
		0x06, 0x00, 0x09, 0, 1,                                 /* unknown i16 */
		0x03, 0x00, 0x0a, 7,                                    /* unknown byte */
		0x08, 0x00, 0x64, 0, 0, 0, 1,                           /* 100 ipAddress as i32: skipped */
		0x0a, 0x00, 0xc8, 0, 0, 0, 0, 0, 0, 0x03, 0xe8,          /* 200 timestamp 1000 */
		0x0b, 0x00, 0xd2, 0, 0, 0, 5, 'U', 'T', 'F', '-', '8',  /* 210 encoding */
		0x00,
	};
	struct thrift_payload p;
	char err[128];

	thrift_payload_init(&p);
	ck_assert_int_eq(thrift_payload_decode(rec, sizeof(rec), &p, err, sizeof(err)), 0);
	ck_assert_str_eq(p.path.s, "/i");
	ck_assert_ptr_null(p.ip_address.s);
	ck_assert_int_eq(p.timestamp, 1000);
	ck_assert_str_eq(p.encoding.s, "UTF-8");
	ck_assert_ptr_null(p.schema.s);
	thrift_payload_free(&p);
}
END_TEST

START_TEST(decode_hostile)
{
	static const struct { const char *name; uint8_t b[24]; size_t n; } cases[] = {
		{ "empty", { 0 }, 0 },
		{ "no stop", { 0x0b, 0x01, 0x40, 0, 0, 0, 1, 'x' }, 8 },
		{ "truncated string", { 0x0b, 0x01, 0x40, 0, 0, 0, 9, 'x' }, 8 },
		{ "negative length", { 0x0b, 0x01, 0x40, 0xff, 0xff, 0xff, 0xff, 0 }, 8 },
		{ "huge list count", { 0x0f, 0x01, 0x5e, 0x0b, 0x7f, 0xff, 0xff, 0xff, 0 }, 9 },
		{ "huge map count", { 0x0d, 0x00, 0x07, 0x0b, 0x0b, 0x7f, 0xff, 0xff, 0xff, 0 }, 10 },
		{ "bad type", { 0x07, 0x00, 0x01, 0 }, 4 },
		{ "bad elem type", { 0x0f, 0x00, 0x01, 0x01, 0, 0, 0, 1, 0 }, 9 },
		{ "truncated i64", { 0x0a, 0x00, 0xc8, 0, 0 }, 5 },
		{ "truncated header", { 0x0b }, 1 },
	};
	struct thrift_payload p;
	char err[128];
	size_t i;

	thrift_payload_init(&p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err[0] = 0;
		ck_assert_msg(thrift_payload_decode(cases[i].b, cases[i].n, &p, err, sizeof(err)) == -1,
		    "%s decoded", cases[i].name);
		ck_assert_msg(err[0] != 0, "%s: no message", cases[i].name);
	}
}
END_TEST

START_TEST(decode_deep_nesting_bounded)
{
	uint8_t rec[3 * 200 + 210];
	struct thrift_payload p;
	char err[128];
	size_t n = 0, i;

	for (i = 0; i < 200; i++) {
		rec[n++] = 0x0c; rec[n++] = 0; rec[n++] = 1;
	}
	for (i = 0; i < 201; i++)
		rec[n++] = 0;
	thrift_payload_init(&p);
	ck_assert_int_eq(thrift_payload_decode(rec, n, &p, err, sizeof(err)), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("thrift");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, encode_matches_spec_example);
	tcase_add_test(tc, decode_spec_example);
	tcase_add_test(tc, roundtrip_every_field);
	tcase_add_test(tc, decode_hand_laid_out);
	tcase_add_test(tc, decode_hostile);
	tcase_add_test(tc, decode_deep_nesting_bounded);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
