/* Unit tests for ua_parser_config: upstream UaParserEnrichmentSpec's contexts (Mobile Safari,
 * Safari, custom rules file, missing rules file), and uap-core's own test suites
 * (tests/test_ua.yaml, test_os.yaml, test_device.yaml from the Debian package) run through
 * the parser; the pass rates are printed and must stay at or above UAP_MIN_PASS_PERCENT. */
#include <yaml.h>

#include "enr_test.h"
#include "../../enrich/enr_ua_parser.h"

#define UAP_DIR "/usr/share/uap-core"
#define UAP_MIN_PASS_PERCENT 99.0

static const char *
regexes_path(void)
{
	const char *e = getenv("FURROW_UAP_REGEXES");

	return e && *e ? e : UAP_DIR "/regexes.yaml";
}

static const char CONF_DEFAULT[] =
    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-0\","
    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
    "\"enabled\":true,\"parameters\":{}}}";

static char *
context_of(struct enrichments *e, const char *ua)
{
	struct enrich_event *ev = tev_new();
	json_t *failures = json_array();
	char *s;

	tev_set(ev, COL_USERAGENT, ua);
	ck_assert_int_eq(enrichments_apply(e, ENRICH_STAGE_EARLY, ev, failures), 0);
	ck_assert_uint_eq(json_array_size(failures), 0);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = json_dumps(json_object_get(json_array_get(ev->derived, 0), "data"), JSON_COMPACT);
	ck_assert_str_eq(json_string_value(json_object_get(json_array_get(ev->derived, 0), "schema")),
	    "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0");
	json_decref(failures);
	tev_free(ev);
	return s;
}

START_TEST(upstream_contexts)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e = tload_one(dir, "ua_parser_config.json", CONF_DEFAULT, err, sizeof(err));
	struct enrich_event *ev;
	int i;

	ck_assert_msg(e != NULL, "%s", err);
	for (i = 0; i < 2; i++) {   /* the second round is served by the cache */
		s = context_of(e, "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X) AppleWebKit/534.46 "
		    "(KHTML, like Gecko) Version/5.1 Mobile/9B206 Safari/7534.48.3");
		ck_assert_str_eq(s, "{\"useragentFamily\":\"Mobile Safari\",\"useragentMajor\":\"5\","
		    "\"useragentMinor\":\"1\",\"useragentPatch\":null,\"useragentVersion\":\"Mobile Safari 5.1\","
		    "\"osFamily\":\"iOS\",\"osMajor\":\"5\",\"osMinor\":\"1\",\"osPatch\":\"1\",\"osPatchMinor\":null,"
		    "\"osVersion\":\"iOS 5.1.1\",\"deviceFamily\":\"iPhone\"}");
		free(s);
		s = context_of(e, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_10) AppleWebKit/600.1.25 "
		    "(KHTML, like Gecko) Version/8.0 Safari/600.1.25");
		ck_assert_str_eq(s, "{\"useragentFamily\":\"Safari\",\"useragentMajor\":\"8\",\"useragentMinor\":\"0\","
		    "\"useragentPatch\":null,\"useragentVersion\":\"Safari 8.0\",\"osFamily\":\"Mac OS X\","
		    "\"osMajor\":\"10\",\"osMinor\":\"10\",\"osPatch\":null,\"osPatchMinor\":null,"
		    "\"osVersion\":\"Mac OS X 10.10\",\"deviceFamily\":\"Mac\"}");
		free(s);
	}
	/* no user agent: no context */
	ev = tev_new();
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_ptr_null(ev->derived);
	tev_free(ev);
	/* an empty one (the header was sent, empty): EnrichmentManager.getUaParser runs on
	 * Option("") and uap-java's Parser.parse("") gives "Other" everywhere (enrich 6.10) */
	ev = tev_new();
	ev->useragent_empty = 1;
	enrichments_apply(e, ENRICH_STAGE_EARLY, ev, NULL);
	ck_assert_uint_eq(json_array_size(ev->derived), 1);
	s = json_dumps(json_object_get(json_array_get(ev->derived, 0), "data"), JSON_COMPACT);
	ck_assert_str_eq(s, "{\"useragentFamily\":\"Other\",\"useragentMajor\":null,"
	    "\"useragentMinor\":null,\"useragentPatch\":null,\"useragentVersion\":\"Other\","
	    "\"osFamily\":\"Other\",\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,"
	    "\"osPatchMinor\":null,\"osVersion\":\"Other\",\"deviceFamily\":\"Other\"}");
	free(s);
	tev_free(ev);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(custom_rules_file)
{
	char *dir = tdir_new(), err[512], *s;
	struct enrichments *e;

	tfile_write(dir, "uap-rules.yml",
	    "user_agent_parsers:\n  - regex: '.*'\n    family_replacement: 'UAP Test Family'\n"
	    "os_parsers:\n  - regex: '.*'\n    os_replacement: 'UAP Test OS'\n"
	    "device_parsers:\n  - regex: '.*'\n    device_replacement: 'UAP Test Device'\n");
	e = tload_one(dir, "ua.json",
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
	    "\"enabled\":true,\"parameters\":{\"uri\":\"file:.\",\"database\":\"uap-rules.yml\"}}}",
	    err, sizeof(err));
	ck_assert_msg(e != NULL, "%s", err);
	s = context_of(e, "Mozilla/5.0 (iPhone; CPU iPhone OS 5_1_1 like Mac OS X)");
	ck_assert_str_eq(s, "{\"useragentFamily\":\"UAP Test Family\",\"useragentMajor\":null,"
	    "\"useragentMinor\":null,\"useragentPatch\":null,\"useragentVersion\":\"UAP Test Family\","
	    "\"osFamily\":\"UAP Test OS\",\"osMajor\":null,\"osMinor\":null,\"osPatch\":null,"
	    "\"osPatchMinor\":null,\"osVersion\":\"UAP Test OS\",\"deviceFamily\":\"UAP Test Device\"}");
	free(s);
	enrichments_free(e);
	tdir_rm(dir);
}
END_TEST

START_TEST(rules_file_errors)
{
	char *dir = tdir_new(), err[512];
	struct enrichments *e;
	static const char conf[] =
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/ua_parser_config/jsonschema/1-0-1\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"ua_parser_config\","
	    "\"enabled\":true,\"parameters\":{\"uri\":\"file:.\",\"database\":\"rules.yml\"}}}";

	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "ua.json: Failed to initialize ua parser: ["));
	tfile_write(dir, "rules.yml", "user_agent_parsers:\n  - regex: '(unclosed'\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "regex (unclosed"));
	tfile_write(dir, "rules.yml", "user_agent_parsers: [\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "invalid YAML"));
	tfile_write(dir, "rules.yml", "just: a mapping\n");
	e = tload_one(dir, "ua.json", conf, err, sizeof(err));
	ck_assert_ptr_null(e);
	ck_assert_ptr_nonnull(strstr(err, "not a uap-core regexes file"));
	tdir_rm(dir);
}
END_TEST

/* ---- uap-core's own suites ---- */

static const char *
node_str(yaml_document_t *d, yaml_node_t *m, const char *key, int *present)
{
	yaml_node_pair_t *p;

	*present = 0;
	for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(d, p->key), *v = yaml_document_get_node(d, p->value);
		if (k->type == YAML_SCALAR_NODE && !strcmp((char *)k->data.scalar.value, key)) {
			*present = 1;
			if (v->type != YAML_SCALAR_NODE)
				return NULL;
			/* an empty plain scalar is YAML's null */
			if (v->data.scalar.length == 0 && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
				return NULL;
			return (const char *)v->data.scalar.value;
		}
	}
	return NULL;
}

static int
same(const char *want, const char *got)
{
	if (want == NULL || got == NULL)
		return want == got;
	return !strcmp(want, got);
}

/* Run one suite; returns the pass percentage and prints the first few failures. */
static double
run_suite(struct enr_ua_parser *u, const char *file, int which, const char *const keys[5],
    int nkeys)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root, *cases = NULL;
	yaml_node_item_t *it;
	yaml_node_pair_t *p;
	long total = 0, ok = 0, shown = 0;
	FILE *f = fopen(file, "rb");

	ck_assert_msg(f != NULL, "cannot open %s", file);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	ck_assert_int_eq(yaml_parser_load(&parser, &doc), 1);
	root = yaml_document_get_root_node(&doc);
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++)
		if (!strcmp((char *)yaml_document_get_node(&doc, p->key)->data.scalar.value, "test_cases"))
			cases = yaml_document_get_node(&doc, p->value);
	ck_assert_ptr_nonnull(cases);
	for (it = cases->data.sequence.items.start; it < cases->data.sequence.items.top; it++) {
		yaml_node_t *c = yaml_document_get_node(&doc, *it);
		int present, k, good = 1;
		const char *ua = node_str(&doc, c, "user_agent_string", &present);
		char *out[5];

		if (ua == NULL)
			continue;
		total++;
		enr_ua_parser_parse_one(u, which, ua, strlen(ua), out);
		for (k = 0; k < nkeys; k++) {
			const char *want = node_str(&doc, c, keys[k], &present);
			if (present && !same(want, out[k]))
				good = 0;
		}
		if (good)
			ok++;
		else if (shown++ < 5)
			printf("uap-core %s mismatch: %s -> %s|%s|%s|%s|%s\n", file + strlen(UAP_DIR) + 7, ua,
			    out[0], out[1] ? out[1] : "null", out[2] ? out[2] : "null",
			    out[3] ? out[3] : "null", out[4] ? out[4] : "null");
		for (k = 0; k < 5; k++)
			free(out[k]);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	fclose(f);
	printf("uap-core %s: %ld/%ld passed (%.2f%%)\n", file + strlen(UAP_DIR) + 7, ok, total,
	    total ? 100.0 * (double)ok / (double)total : 0);
	return total ? 100.0 * (double)ok / (double)total : 0;
}

START_TEST(uap_core_suites)
{
	static const char *const ua_keys[5] = { "family", "major", "minor", "patch", NULL };
	static const char *const os_keys[5] = { "family", "major", "minor", "patch", "patch_minor" };
	static const char *const dev_keys[5] = { "family", "brand", "model", NULL, NULL };
	char err[512];
	struct enr_ua_parser *u;
	double a, b, c;

	if (access(UAP_DIR "/tests/test_ua.yaml", R_OK) != 0) {
		printf("uap-core test suites not installed (apt-get install uap-core): skipped\n");
		return;
	}
	u = enr_ua_parser_load(regexes_path(), err, sizeof(err));
	ck_assert_msg(u != NULL, "%s", err);
	a = run_suite(u, UAP_DIR "/tests/test_ua.yaml", 0, ua_keys, 4);
	b = run_suite(u, UAP_DIR "/tests/test_os.yaml", 1, os_keys, 5);
	c = run_suite(u, UAP_DIR "/tests/test_device.yaml", 2, dev_keys, 3);
	enr_ua_parser_free(u);
	ck_assert_msg(a >= UAP_MIN_PASS_PERCENT, "test_ua.yaml pass rate %.2f%%", a);
	ck_assert_msg(b >= UAP_MIN_PASS_PERCENT, "test_os.yaml pass rate %.2f%%", b);
	ck_assert_msg(c >= UAP_MIN_PASS_PERCENT, "test_device.yaml pass rate %.2f%%", c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("enr_ua_parser");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, upstream_contexts);
	tcase_add_test(tc, custom_rules_file);
	tcase_add_test(tc, rules_file_errors);
	tcase_add_test(tc, uap_core_suites);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf == 0 ? 0 : 1;
}
