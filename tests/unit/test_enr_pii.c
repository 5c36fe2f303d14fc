/* Unit tests for pii_enrichment_config: atomic ("pojo") fields, JSON paths in contexts,
 * unstruct_event and derived_contexts selected by schema criterion, arrays of strings,
 * recursive descent, every hash function (digests computed independently: hex of
 * hash(value + salt)), anonymousOnly, the contexts/unstruct columns rewritten, and
 * configuration errors. */
#include "enr_test.h"

#define HEAD \
	"{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-1\"," \
	"\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\",\"name\":\"pii_enrichment_config\"," \
	"\"emitEvent\":false,\"enabled\":true,"

static char *
conf(const char *extra, const char *pii, const char *fn)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), HEAD "%s\"parameters\":{\"pii\":[%s],"
	    "\"strategy\":{\"pseudonymize\":{\"hashFunction\":\"%s\",\"salt\":\"pepper123\"}}}}}",
	    extra, pii, fn);
	return buf;
}

static struct enrichments *
load(char **dir, const char *text)
{
	char err[512];
	struct enrichments *e;

	*dir = tdir_new();
	e = tload_one(*dir, "pii.json", text, err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	return e;
}

#define SHA256_JOHN "7d8a4beae5bc9d314600667d2f410918f9af265017a6ade99f60a9c8f3aac6e9"
#define SHA256_IP   "dd9720903c89ae891ed5c74bb7a9f2f90f6487927ac99afe73b096ad0287f3f5"
#define SHA256_ABC  "d04fab91ac5baa71fe136695b57da48f1430e7eb318d827356d75680c6866de0"
#define SHA256_ABC_LABEL "3d0fc400cefb608f690b6bbd8fcda9047e39c6a20ab1fc195f8c7bad75924bb6"   /* sha256("abc" + salt) */
#define SHA256_XYZ  "d246ab96118ce8e8dbc4f669ed5549f61900acf5cd6d92149b9798d2cfca34c6"

START_TEST(pojo_fields_every_hash)
{
	static const char *const want[][2] = {
		{ "MD5", "2a032585325ba692de23c304b96f41b6" },
		{ "SHA-1", "ec8d6b75ca61a64226adf1e7e3c9d9af31e0d594" },
		{ "SHA-256", SHA256_JOHN },
		{ "SHA-384", "3553513bb805ce232aad657791f2dd597db9e1a559a501de7d8056a1b19ca177c55d2ca2d18989576d0e28dd69b32c9f" },
		{ "SHA-512", "c1c732a878271190ed07dbe7eef553954cdb2607b708cc79638593495c33dd28263ef3dc67a922b8d9f40d49bb3a9b05e137b405a077bccee00cbb57537e13df" },
	};
	size_t i;

	for (i = 0; i < 5; i++) {
		char *dir;
		struct enrichments *e = load(&dir, conf("", "{\"pojo\":{\"field\":\"user_id\"}},"
		    "{\"pojo\":{\"field\":\"user_ipaddress\"}},{\"pojo\":{\"field\":\"se_label\"}}", want[i][0]));
		struct enrich_event *ev = tev_new();

		tev_set(ev, COL_USER_ID, "john@acme.com");
		tev_set(ev, COL_USER_IPADDRESS, "70.46.123.145");
		tev_set(ev, COL_SE_ACTION, "untouched");
		enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
		ck_assert_str_eq(tev_col(ev, COL_USER_ID), "john@acme.com");   /* PII runs late */
		enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
		ck_assert_str_eq(tev_col(ev, COL_USER_ID), want[i][1]);
		if (i == 2)
			ck_assert_str_eq(tev_col(ev, COL_USER_IPADDRESS), SHA256_IP);
		ck_assert_ptr_null(ev->col[COL_SE_LABEL]);
		ck_assert_str_eq(tev_col(ev, COL_SE_ACTION), "untouched");
		tev_free(ev);
		enrichments_free(e);
		tdir_rm(dir);
	}
}
END_TEST

START_TEST(json_paths)
{
	char *dir, *s;
	struct enrichments *e = load(&dir, conf("",
	    "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/email_sent/jsonschema/1-*-*\",\"jsonPath\":\"$.emailAddress\"}},"
	    "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/email_sent/jsonschema/1-*-*\",\"jsonPath\":\"$.data['cc'][*]\"}},"
	    "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/list/jsonschema/1-0-0\",\"jsonPath\":\"$.emails\"}},"
	    "{\"json\":{\"field\":\"unstruct_event\",\"schemaCriterion\":\"iglu:com.acme/signup/jsonschema/*-*-*\",\"jsonPath\":\"$..email\"}},"
	    "{\"json\":{\"field\":\"derived_contexts\",\"schemaCriterion\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\",\"jsonPath\":\"$.useragentFamily\"}}",
	    "SHA-256"));
	struct enrich_event *ev = tev_new();
	json_error_t je;

	ev->contexts = json_loads("["
	    "{\"schema\":\"iglu:com.acme/email_sent/jsonschema/1-0-0\",\"data\":{\"emailAddress\":\"john@acme.com\",\"n\":3,\"data\":{\"cc\":[\"a@b.c\",7]}}},"
	    "{\"schema\":\"iglu:com.acme/email_sent/jsonschema/2-0-0\",\"data\":{\"emailAddress\":\"kept@acme.com\"}},"
	    "{\"schema\":\"iglu:com.acme/list/jsonschema/1-0-0\",\"data\":{\"emails\":[\"x@y.z\",null,{\"k\":\"v\"}]}},"
	    "{\"schema\":\"iglu:com.acme/list/jsonschema/1-0-0\",\"data\":{\"other\":\"z\"}}]", 0, &je);
	ck_assert_ptr_nonnull(ev->contexts);
	ev->unstruct = json_loads("{\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-2\","
	    "\"data\":{\"email\":\"john@acme.com\",\"friends\":[{\"email\":\"a@b.c\"}],\"age\":30}}", 0, &je);
	ev->derived = json_loads("[{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0\","
	    "\"data\":{\"useragentFamily\":\"Chrome\"}}]", 0, &je);
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);

	s = json_dumps(ev->contexts, JSON_COMPACT);
	ck_assert_str_eq(s, "["
	    "{\"schema\":\"iglu:com.acme/email_sent/jsonschema/1-0-0\",\"data\":{\"emailAddress\":\"" SHA256_JOHN "\",\"n\":3,\"data\":{\"cc\":[\"" SHA256_ABC "\",7]}}},"
	    "{\"schema\":\"iglu:com.acme/email_sent/jsonschema/2-0-0\",\"data\":{\"emailAddress\":\"kept@acme.com\"}},"
	    "{\"schema\":\"iglu:com.acme/list/jsonschema/1-0-0\",\"data\":{\"emails\":[\"" SHA256_XYZ "\",null,{\"k\":\"v\"}]}},"
	    "{\"schema\":\"iglu:com.acme/list/jsonschema/1-0-0\",\"data\":{\"other\":\"z\"}}]");
	free(s);
	/* the column follows */
	ck_assert_ptr_nonnull(strstr(tev_col(ev, COL_CONTEXTS),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1\",\"data\":[{\"schema\":\"iglu:com.acme/email_sent/jsonschema/1-0-0\",\"data\":{\"emailAddress\":\"" SHA256_JOHN "\""));
	s = json_dumps(ev->unstruct, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-2\","
	    "\"data\":{\"email\":\"" SHA256_JOHN "\",\"friends\":[{\"email\":\"" SHA256_ABC "\"}],\"age\":30}}");
	free(s);
	ck_assert_str_eq(tev_col(ev, COL_UNSTRUCT_EVENT),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0\",\"data\":"
	    "{\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-2\",\"data\":{\"email\":\"" SHA256_JOHN "\","
	    "\"friends\":[{\"email\":\"" SHA256_ABC "\"}],\"age\":30}}}");
	s = json_dumps(ev->derived, JSON_COMPACT);
	ck_assert_ptr_nonnull(strstr(s, "\"useragentFamily\":\"238cc8bfcf38c53f529e2c0d80a18deb70ef711ba4ae2011b2c64a65534e9b95\""));
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

/* The ua_parser cache shares its entities: PII must change a copy, so the second event with
 * the same user agent is hashed once, not twice. */
START_TEST(cached_derived_entities_are_not_hashed_twice)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e;
	int i;

	tfile_write(dir, "ua.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\",\"enabled\":true,\"parameters\":{}}}");
	e = tload_one(dir, "pii.json", conf("",
	    "{\"json\":{\"field\":\"derived_contexts\",\"schemaCriterion\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-*-*\",\"jsonPath\":\"$.useragentFamily\"}}",
	    "SHA-256"), err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	for (i = 0; i < 3; i++) {
		struct enrich_event *ev = tev_new();
		tev_set(ev, COL_USERAGENT, "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36");
		enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
		enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
		ck_assert_str_eq(json_string_value(json_object_get(json_object_get(json_array_get(ev->derived, 0), "data"),
		    "useragentFamily")), "238cc8bfcf38c53f529e2c0d80a18deb70ef711ba4ae2011b2c64a65534e9b95");
		tev_free(ev);
	}
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(unchanged_columns_are_left_alone)
{
	char *dir;
	struct enrichments *e = load(&dir, conf("",
	    "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/x/jsonschema/1-*-*\",\"jsonPath\":\"$.missing\"}}",
	    "SHA-256"));
	struct enrich_event *ev = tev_new();

	ev->contexts = json_loads("[{\"schema\":\"iglu:com.acme/x/jsonschema/1-0-0\",\"data\":{\"a\":1.50}}]", 0, NULL);
	tev_set(ev, COL_CONTEXTS, "tracker text, kept as it is");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_CONTEXTS), "tracker text, kept as it is");
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(anonymous_only)
{
	char *dir;
	struct enrichments *e = load(&dir, conf("\"anonymousOnly\":true,", "{\"pojo\":{\"field\":\"user_id\"}}", "SHA-256"));
	struct enrich_event *ev = tev_new();

	tev_set(ev, COL_USER_ID, "john@acme.com");
	tev_header(ev, "Host: collector");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_USER_ID), "john@acme.com");
	tev_header(ev, "SP-Anonymous: *");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_str_eq(tev_col(ev, COL_USER_ID), SHA256_JOHN);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

/* emitEvent: the pii_transformation entity upstream's serializers make (each list newest
 * first, "pojo" first), none when nothing changed, and none without emitEvent. */
START_TEST(emit_event)
{
	char *dir, *s, text[8192];
	struct enrichments *e;
	struct enrich_event *ev = tev_new();
	char *p;

	snprintf(text, sizeof(text), "%s", conf("", "{\"pojo\":{\"field\":\"user_id\"}},{\"pojo\":{\"field\":\"se_label\"}},"
	    "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:com.acme/user/jsonschema/1-*-*\",\"jsonPath\":\"$.emails\"}},"
	    "{\"json\":{\"field\":\"unstruct_event\",\"schemaCriterion\":\"iglu:com.acme/signup/jsonschema/1-*-*\",\"jsonPath\":\"$.email\"}}",
	    "SHA-256"));
	p = strstr(text, "\"emitEvent\":false");
	ck_assert_ptr_nonnull(p);
	memcpy(p, "\"emitEvent\":true,", 17);
	memmove(p + 17, p + 18, strlen(p + 18) + 1);
	e = load(&dir, text);
	tev_set(ev, COL_USER_ID, "john@acme.com");
	tev_set(ev, COL_SE_LABEL, "abc");
	ev->contexts = json_loads("[{\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\",\"data\":{\"emails\":[\"a@b.c\",\"x@y.z\"]}}]", 0, NULL);
	ev->unstruct = json_loads("{\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-0\",\"data\":{\"email\":\"john@acme.com\"}}", 0, NULL);
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_ptr_nonnull(ev->pii);
	s = json_dumps(ev->pii, JSON_COMPACT);
	ck_assert_str_eq(s, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/pii_transformation/jsonschema/1-0-0\","
	    "\"data\":{\"pii\":{\"pojo\":["
	    "{\"fieldName\":\"se_label\",\"originalValue\":\"abc\",\"modifiedValue\":\"" SHA256_ABC_LABEL "\"},"
	    "{\"fieldName\":\"user_id\",\"originalValue\":\"john@acme.com\",\"modifiedValue\":\"" SHA256_JOHN "\"}],"
	    "\"json\":["
	    "{\"fieldName\":\"contexts\",\"originalValue\":\"x@y.z\",\"modifiedValue\":\"" SHA256_XYZ "\",\"jsonPath\":\"$.emails\",\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\"},"
	    "{\"fieldName\":\"contexts\",\"originalValue\":\"a@b.c\",\"modifiedValue\":\"" SHA256_ABC "\",\"jsonPath\":\"$.emails\",\"schema\":\"iglu:com.acme/user/jsonschema/1-0-0\"},"
	    "{\"fieldName\":\"unstruct_event\",\"originalValue\":\"john@acme.com\",\"modifiedValue\":\"" SHA256_JOHN "\",\"jsonPath\":\"$.email\",\"schema\":\"iglu:com.acme/signup/jsonschema/1-0-0\"}]},"
	    "\"strategy\":{\"pseudonymize\":{\"hashFunction\":\"SHA-256\"}}}}");
	free(s);
	tev_free(ev);
	ev = tev_new();       /* nothing to change: no entity, and one set before is cleared */
	ev->pii = json_pack("{s:s,s:{}}", "schema", "iglu:com.acme/p/jsonschema/1-0-0", "data");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_ptr_null(ev->pii);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
	e = load(&dir, conf("", "{\"pojo\":{\"field\":\"user_id\"}}", "SHA-256"));   /* emitEvent false */
	ev = tev_new();
	tev_set(ev, COL_USER_ID, "john@acme.com");
	enrichments_apply(e, ENRICH_STAGE_LATE, ev, NULL);
	ck_assert_ptr_null(ev->pii);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

static void
load_fails(const char *text, const char *want)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e = tload_one(dir, "pii.json", text, err, sizeof(err));

	ck_assert_ptr_null(e);
	ck_assert_msg(strstr(err, want) != NULL, "error \"%s\" lacks \"%s\"", err, want);
	ck_assert_ptr_nonnull(strstr(err, "pii.json: "));
	tdir_rm(dir);
}

START_TEST(configuration_errors)
{
	load_fails(conf("", "{\"pojo\":{\"field\":\"page_url\"}}", "SHA-256"),
	    "The specified pojo field page_url is not supported");
	load_fails(conf("", "{\"json\":{\"field\":\"atomic\",\"schemaCriterion\":\"iglu:a/b/jsonschema/1-*-*\",\"jsonPath\":\"$.a\"}}", "SHA-256"),
	    "The specified json field atomic is not supported");
	load_fails(conf("", "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:a/b/1-*-*\",\"jsonPath\":\"$.a\"}}", "SHA-256"),
	    "Could not parse schema criterion iglu:a/b/1-*-*");
	load_fails(conf("", "{\"json\":{\"field\":\"contexts\",\"schemaCriterion\":\"iglu:a/b/jsonschema/1-*-*\",\"jsonPath\":\"$.a[?(@.b)]\"}}", "SHA-256"),
	    "jsonPath $.a[?(@.b)]: unsupported");
	load_fails(conf("", "{\"neither\":{}}", "SHA-256"), "does not include 'pojo' nor 'json'");
	load_fails(conf("", "", "ROT13"), "Unknown function ROT13");
	if (!enr_digest_supported("MD2"))
		load_fails(conf("", "", "MD2"), "hash function MD2 is not available");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_pii");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, pojo_fields_every_hash);
	tcase_add_test(tc, json_paths);
	tcase_add_test(tc, cached_derived_entities_are_not_hashed_twice);
	tcase_add_test(tc, unchanged_columns_are_left_alone);
	tcase_add_test(tc, anonymous_only);
	tcase_add_test(tc, configuration_errors);
	tcase_add_test(tc, emit_event);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
