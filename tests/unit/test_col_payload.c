/* Unit tests for collector/col_payload: the direct encoder against the spec's worked example
 * (enriched-event.md §12.5) and common/thrift's decoder, and the toString rendering. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "../../collector/col_payload.h"
#include "base64.h"
#include "thrift.h"

#define S(x) { x, sizeof(x) - 1 }

static const char SPEC_LINE[] =
    "CwBkAAAACzIwMy4wLjExMy43CgDIAAABi8/laAALANIAAAAFVVRGLTgLANwAAAAdZnVycm93LWNvbGxlY3Rvci0wLjEu"
    "MC1zdGRvdXQLASwAAAAKY3VybC84LjUuMAsBQAAAAAIvaQsBSgAAABllPXB2JnA9d2ViJnR2PW5vLWpzLTAuMS4wDwFe"
    "CwAAAAIAAAAbSG9zdDogY29sbGVjdG9yLmV4YW1wbGUuY29tAAAAFlVzZXItQWdlbnQ6IGN1cmwvOC41LjALAZAAAAAV"
    "Y29sbGVjdG9yLmV4YW1wbGUuY29tCwGaAAAAJDlmMmI2YTNlLTFjNGQtNGU1Zi04YTdiLTBjMWQyZTNmNGE1Ygt6aQAA"
    "AEFpZ2x1OmNvbS5zbm93cGxvd2FuYWx5dGljcy5zbm93cGxvdy9Db2xsZWN0b3JQYXlsb2FkL3RocmlmdC8xLTAtMAA=";

static const struct col_payload_header SPEC_HEADERS[] = {
	{ S("Host"), S("collector.example.com") },
	{ S("User-Agent"), S("curl/8.5.0") },
};

static void
spec_payload(struct col_payload *p)
{
	memset(p, 0, sizeof(*p));
	p->ip_address = (struct col_str)S("203.0.113.7");
	p->timestamp = 1700000000000LL;
	p->user_agent = (struct col_str)S("curl/8.5.0");
	p->path = (struct col_str)S("/i");
	p->querystring = (struct col_str)S("e=pv&p=web&tv=no-js-0.1.0");
	p->headers = SPEC_HEADERS;
	p->n_headers = 2;
	p->hostname = (struct col_str)S("collector.example.com");
	p->network_user_id = (struct col_str)S("9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b");
}

START_TEST(encode_spec_example)
{
	struct col_payload p;
	struct buf b;
	char *line;

	spec_payload(&p);
	buf_init(&b, 0);
	ck_assert_int_eq(col_payload_encode(&p, &b), 0);
	ck_assert_int_eq((int)b.len, 344);
	line = malloc(base64_encoded_len(b.len) + 1);
	base64_encode((const uint8_t *)b.data, b.len, line);
	ck_assert_str_eq(line, SPEC_LINE);
	free(line);
	buf_free(&b);
}
END_TEST

START_TEST(encode_every_field_roundtrip)
{
	static const struct col_payload_header hs[] = {
		{ S("Content-Type"), S("application/json;charset=UTF-8") },
		{ S("Cookie"), S("a=b;sp=x") },
		{ { NULL, 0 }, S("application/json; charset=utf-8") },
	};
	struct col_payload p;
	struct thrift_payload t;
	struct buf b;
	char err[128];

	memset(&p, 0, sizeof(p));
	p.timestamp = -5;                         /* ip unset: written as "unknown" */
	p.user_agent = (struct col_str)S("UA");
	p.referer_uri = (struct col_str)S("https://r/");
	p.path = (struct col_str)S("/com.acme/tp2");
	p.querystring = (struct col_str)S("");
	p.body = (struct col_str)S("{\"a\":\"\xc3\xa9\"}");
	p.headers = hs;
	p.n_headers = 3;
	p.content_type = (struct col_str)S("application/json; charset=utf-8");
	p.hostname = (struct col_str)S("h");
	p.network_user_id = (struct col_str)S("00000000-0000-0000-0000-000000000000");
	buf_init(&b, 0);
	ck_assert_int_eq(col_payload_encode(&p, &b), 0);
	thrift_payload_init(&t);
	ck_assert_int_eq(thrift_payload_decode((const uint8_t *)b.data, b.len, &t, err, sizeof(err)), 0);
	ck_assert_str_eq(t.schema.s, THRIFT_PAYLOAD_SCHEMA);
	ck_assert_str_eq(t.ip_address.s, "unknown");
	ck_assert_int_eq(t.timestamp, -5);
	ck_assert_str_eq(t.encoding.s, "UTF-8");
	ck_assert_str_eq(t.collector.s, "furrow-collector-0.1.0-stdout");
	ck_assert_str_eq(t.user_agent.s, "UA");
	ck_assert_str_eq(t.referer_uri.s, "https://r/");
	ck_assert_str_eq(t.path.s, "/com.acme/tp2");
	ck_assert_str_eq(t.querystring.s, "");
	ck_assert_str_eq(t.body.s, "{\"a\":\"\xc3\xa9\"}");
	ck_assert_int_eq((int)t.n_headers, 3);
	ck_assert_str_eq(t.headers[0].s, "Content-Type: application/json;charset=UTF-8");
	ck_assert_str_eq(t.headers[1].s, "Cookie: a=b;sp=x");
	ck_assert_str_eq(t.headers[2].s, "application/json; charset=utf-8");
	ck_assert_str_eq(t.content_type.s, "application/json; charset=utf-8");
	ck_assert_str_eq(t.hostname.s, "h");
	ck_assert_str_eq(t.network_user_id.s, "00000000-0000-0000-0000-000000000000");
	thrift_payload_free(&t);
	buf_free(&b);
}
END_TEST

START_TEST(unset_fields_left_out)
{
	struct col_payload p;
	struct thrift_payload t;
	struct buf b;
	char err[128];

	memset(&p, 0, sizeof(p));
	buf_init(&b, 0);
	ck_assert_int_eq(col_payload_encode(&p, &b), 0);
	thrift_payload_init(&t);
	ck_assert_int_eq(thrift_payload_decode((const uint8_t *)b.data, b.len, &t, err, sizeof(err)), 0);
	ck_assert_ptr_null(t.user_agent.s);
	ck_assert_ptr_null(t.body.s);
	ck_assert_ptr_null(t.content_type.s);
	ck_assert_ptr_null(t.network_user_id.s);
	ck_assert_int_eq(t.has_headers, 1);       /* the list is always written, maybe empty */
	ck_assert_int_eq((int)t.n_headers, 0);
	thrift_payload_free(&t);
	buf_free(&b);
}
END_TEST

START_TEST(render_to_string)
{
	struct col_payload p;
	struct buf b;

	spec_payload(&p);
	buf_init(&b, 0);
	ck_assert_int_eq(col_payload_render(&p, 100000, &b), 0);
	ck_assert_str_eq(b.data, "CollectorPayload(schema:iglu:com.snowplowanalytics.snowplow/"
	    "CollectorPayload/thrift/1-0-0, ipAddress:203.0.113.7, timestamp:1700000000000, "
	    "encoding:UTF-8, collector:furrow-collector-0.1.0-stdout, userAgent:curl/8.5.0, "
	    "path:/i, querystring:e=pv&p=web&tv=no-js-0.1.0, headers:[Host: collector.example.com, "
	    "User-Agent: curl/8.5.0], hostname:collector.example.com, "
	    "networkUserId:9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b)");
	buf_reset(&b);
	ck_assert_int_eq(col_payload_render(&p, 16, &b), 0);
	ck_assert_str_eq(b.data, "CollectorPayload");
	buf_free(&b);
	/* cuts count code points, not bytes */
	ck_assert_int_eq((int)col_utf8_prefix_chars("\xc3\xa9\xc3\xa9x", 5, 2), 4);
	ck_assert_int_eq((int)col_utf8_prefix_chars("\xc3", 1, 5), 1);
	ck_assert_int_eq((int)col_utf8_prefix_chars("abc", 3, 0), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("col_payload");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, encode_spec_example);
	tcase_add_test(tc, encode_every_field_roundtrip);
	tcase_add_test(tc, unset_fields_left_out);
	tcase_add_test(tc, render_to_string);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
