/* Unit tests for iglu-server's modules: the request-target parser (igs_path), apikey UUIDs and
 * permissions (igs_auth, iglu-server's model/Permission.scala and PermissionSpec), the version
 * rules of publishing (igs_store, model/VersionCursor.scala and VersionCursorSpec), the schema
 * linter's messages (igs_lint, schema-ddl's Linter.scala), and common/atomicfile. */
#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../iglu-server/igs_auth.h"
#include "../../iglu-server/igs_lint.h"
#include "../../iglu-server/igs_path.h"
#include "../../iglu-server/igs_store.h"
#include "atomicfile.h"
#include "iglu.h"

#define SD "\"$schema\":\"" IGS_SELFDESC_URI "\""

/* ---------- igs_path ---------- */

START_TEST(target_parsing)
{
	static const char Q[] = "/api/schemas/com.acme/e/jsonschema/1-0-0?repr=uri&x";
	static struct igs_target t;

	ck_assert_int_eq(igs_target_parse(Q, strlen(Q), &t), IGS_PATH_OK);
	ck_assert_uint_eq(t.n_seg, 6);
	ck_assert_str_eq(t.seg[2], "com.acme");
	ck_assert_str_eq(igs_target_param(&t, "repr"), "uri");
	ck_assert_str_eq(igs_target_param(&t, "x"), "");
	ck_assert_ptr_null(igs_target_param(&t, "y"));
	/* AutoSlash, escapes, "+" in the query only */
	ck_assert_int_eq(igs_target_parse("/api/schemas/", 13, &t), IGS_PATH_OK);
	ck_assert_uint_eq(t.n_seg, 2);
	ck_assert_int_eq(igs_target_parse("/a%2Fb+c?k=a+b%21", 17, &t), IGS_PATH_OK);
	ck_assert_uint_eq(t.n_seg, 1);
	ck_assert_str_eq(t.seg[0], "a/b+c");
	ck_assert_str_eq(igs_target_param(&t, "k"), "a b!");
	ck_assert_int_eq(igs_target_parse("/a%00b", 6, &t), IGS_PATH_OK);
	ck_assert_uint_eq(t.seg_len[0], 3);
	ck_assert_int_eq(igs_target_seg_is(&t, 0, "a"), 0);
	/* refused */
	ck_assert_int_eq(igs_target_parse("api", 3, &t), IGS_PATH_BAD);
	ck_assert_int_eq(igs_target_parse("/a%2", 4, &t), IGS_PATH_BAD);
	ck_assert_int_eq(igs_target_parse("/a%zz", 5, &t), IGS_PATH_BAD);
	ck_assert_int_eq(igs_target_parse("/a b", 4, &t), IGS_PATH_BAD);
	ck_assert_int_eq(igs_target_parse("/a//b", 5, &t), IGS_PATH_TOO_MANY);
	ck_assert_int_eq(igs_target_parse("/1/2/3/4/5/6/7/8/9", 18, &t), IGS_PATH_TOO_MANY);
}
END_TEST

/* ---------- igs_auth ---------- */

START_TEST(uuid_parsing)
{
	char u[IGS_UUID_LEN + 1];

	ck_assert_int_eq(igs_uuid_parse("4ED2D87A-6da5-48e8-a23b-36a26e61f974", 36, u), 0);
	ck_assert_str_eq(u, "4ed2d87a-6da5-48e8-a23b-36a26e61f974");
	/* Java's UUID.fromString takes short groups */
	ck_assert_int_eq(igs_uuid_parse("1-2-3-4-5", 9, u), 0);
	ck_assert_str_eq(u, "00000001-0002-0003-0004-000000000005");
	ck_assert_int_eq(igs_uuid_parse("not-a-uuid", 10, u), -1);
	ck_assert_int_eq(igs_uuid_parse("1-2-3-4", 7, u), -1);
	ck_assert_int_eq(igs_uuid_parse("1-2-3-4-5-6", 11, u), -1);
	ck_assert_int_eq(igs_uuid_parse("123456789-2-3-4-5", 17, u), -1);
	ck_assert_int_eq(igs_uuid_parse("1--3-4-5", 8, u), -1);
	ck_assert_int_eq(igs_uuid_parse("", 0, u), -1);
}
END_TEST

START_TEST(permissions)
{
	struct igs_perm p;
	struct igs_keys *k;
	char err[256], r[IGS_UUID_LEN + 1], w[IGS_UUID_LEN + 1];

	igs_perm_noop(&p);
	ck_assert_int_eq(igs_perm_can_read(&p, "com.acme"), 0);
	ck_assert_int_eq(igs_perm_can_validate(&p), 0);
	igs_perm_super(&p);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "anything"), 1);
	ck_assert_int_eq(igs_perm_can_create_key(&p, ""), 1);
	k = igs_keys_open(NULL, err, sizeof(err));
	ck_assert_ptr_nonnull(k);
	ck_assert_int_eq(igs_keys_generate(k, "com.acme", r, w, err, sizeof(err)), 0);
	igs_keys_lookup(k, r, &p);
	/* PermissionSpec: a prefix covers sub-vendors by whole parts */
	ck_assert_int_eq(igs_perm_can_read(&p, "com.acme"), 1);
	ck_assert_int_eq(igs_perm_can_read(&p, "com.acme.sub"), 1);
	ck_assert_int_eq(igs_perm_can_read(&p, "com.acmex"), 0);
	ck_assert_int_eq(igs_perm_can_read(&p, "com"), 0);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "com.acme"), 0);
	ck_assert_int_eq(igs_perm_can_validate(&p), 1);
	igs_keys_lookup(k, w, &p);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "com.acme.sub"), 1);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "org.acme"), 0);
	ck_assert_int_eq(igs_perm_can_create_key(&p, "com.acme"), 0);
	ck_assert_int_eq(igs_keys_delete(k, w, err, sizeof(err)), 0);
	igs_keys_lookup(k, w, &p);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "com.acme"), 0);
	ck_assert_int_eq(igs_keys_generate(k, "*", r, w, err, sizeof(err)), 0);
	igs_keys_lookup(k, w, &p);
	ck_assert_int_eq(igs_perm_can_create_schema(&p, "org.anything"), 1);
	igs_keys_free(k);
}
END_TEST

/* ---------- igs_store: VersionCursor ---------- */

static char tmp[256];

static int
rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st; (void)type; (void)ftw;
	return remove(path);
}

static int
push(struct igs_store *s, const char *ver, int patches, const char *supersedes, char *msg)
{
	struct iglu_key k;
	const char *code;
	struct igs_publish p;
	json_t *body = json_pack("{s:s}", "type", "object"), *sup = NULL;
	int rc;

	ck_assert_int_eq(igs_store_key("com.acme", "e", "jsonschema", ver, &k, &code), 0);
	if (supersedes)
		sup = json_loads(supersedes, 0, NULL);
	memset(&p, 0, sizeof(p));
	p.key = &k;
	p.body = body;
	p.supersedes = sup;
	p.is_public = 1;
	p.allow_patches = patches;
	p.now_ms = 1700000000000LL;
	rc = igs_store_publish(s, &p, msg, 256);
	json_decref(body);
	json_decref(sup);
	return rc;
}

START_TEST(version_cursor)
{
	struct igs_store *s;
	char err[256], msg[256];
	struct iglu_key *keys, k;
	const struct igs_schema *sc;
	const char *code;

	snprintf(tmp, sizeof(tmp), "/tmp/test_igs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmp));
	s = igs_store_open(tmp, err, sizeof(err));
	ck_assert_msg(s != NULL, "%s", err);
	ck_assert_int_eq(push(s, "1-0-1", 0, NULL, msg), 409);      /* VersionCursorSpec */
	ck_assert_str_eq(msg, "Preceding SchemaVer in the group is missing, check that schemas "
	    "published in proper order");
	ck_assert_int_eq(push(s, "2-0-0", 0, NULL, msg), 409);
	ck_assert_int_eq(push(s, "1-0-0", 0, NULL, msg), 201);
	ck_assert_int_eq(push(s, "1-0-0", 0, NULL, msg), 409);
	ck_assert_str_eq(msg, "Schema already exists");
	ck_assert_int_eq(push(s, "1-0-0", 1, NULL, msg), 200);
	ck_assert_int_eq(push(s, "1-0-1", 0, NULL, msg), 201);
	ck_assert_int_eq(push(s, "1-1-0", 0, NULL, msg), 201);
	ck_assert_int_eq(push(s, "1-0-2", 0, NULL, msg), 409);
	ck_assert_str_eq(msg, "The schema version is not sequential");
	ck_assert_int_eq(push(s, "2-0-0", 0, NULL, msg), 201);
	ck_assert_int_eq(push(s, "3-1-0", 0, NULL, msg), 409);
	ck_assert_int_eq(push(s, "2-0-1", 0, "[\"2-0-0\",\"1-0-0\"]", msg), 201);
	ck_assert_int_eq(igs_store_key("com.acme", "e", "jsonschema", "1-0-0", &k, &code), 0);
	ck_assert_int_eq(igs_store_get(s, &k, &sc, err, sizeof(err)), 1);
	ck_assert_str_eq(json_string_value(json_object_get(sc->doc, "$supersededBy")), "2-0-1");
	ck_assert_int_eq(igs_store_list(s, NULL, NULL, NULL, 0, &keys), 5);
	ck_assert_int_eq(keys[4].model, 2);
	ck_assert_int_eq(keys[4].addition, 1);
	free(keys);
	ck_assert_int_eq(igs_store_list(s, "com.acme", "e", "jsonschema", 1, &keys), 3);
	free(keys);
	igs_store_free(s);
	nftw(tmp, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

START_TEST(keys_from_segments)
{
	struct iglu_key k;
	const char *code;

	ck_assert_int_eq(igs_store_key("..", "n", "f", "1-0-0", &k, &code), -1);
	ck_assert_int_eq(igs_store_key(".", "n", "f", "1-0-0", &k, &code), -1);
	ck_assert_int_eq(igs_store_key("a/b", "n", "f", "1-0-0", &k, &code), -1);
	ck_assert_int_eq(igs_store_key("v", "n.x", "f", "1-0-0", &k, &code), -1);
	ck_assert_int_eq(igs_store_key("v", "n", "f", "0-0-0", &k, &code), -1);
	ck_assert_str_eq(code, "INVALID_SCHEMAVER");
	ck_assert_int_eq(igs_store_key("v", "n", "f", "1-0", &k, &code), -1);
	ck_assert_int_eq(igs_store_key("com.a-b_c", "n_1", "f-2", "10-0-3", &k, &code), 0);
	ck_assert_int_eq(k.model, 10);
}
END_TEST

/* ---------- igs_lint: schema-ddl's messages ---------- */

static const struct {
	const char *schema;
	const char *expect;     /* "LEVEL pointer message" lines joined by "|", ERRORs only if E */
	int errors_only;
} LINTS[] = {
	{ "{" SD ",\"self\":{\"vendor\":\"a\",\"name\":\"b\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},"
	  "\"description\":\"d\",\"type\":\"object\",\"properties\":{}}", "", 0 },
	{ "{\"type\":\"object\",\"properties\":{},\"description\":\"d\"}",
	  "ERROR / No $schema field in top-level of schema|ERROR / JSON Schema is not self-describing", 0 },
	{ "{" SD ",\"type\":\"object\",\"properties\":{\"s\":{\"type\":\"string\",\"minLength\":5,\"maxLength\":2}}}",
	  "ERROR /properties/s A string type with \"minLength\" and \"maxLength\" property values has a minimum value [5] higher than the maximum [2]|"
	  "ERROR / JSON Schema is not self-describing", 1 },
	{ "{" SD ",\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"array\",\"minItems\":3,\"maxItems\":1}}}",
	  "ERROR /properties/a A field of array type has a \"minItems\" value [3] with a greater value than the \"maxItems\" [1]|"
	  "ERROR / JSON Schema is not self-describing", 1 },
	{ "{" SD ",\"type\":\"object\",\"properties\":{\"o\":{\"type\":\"string\",\"properties\":{},\"items\":{}}}}",
	  "ERROR /properties/o Array properties [items] require either array or absent values|"
	  "ERROR /properties/o Object properties [properties] require either object or absent values|"
	  "ERROR / JSON Schema is not self-describing", 1 },
	{ "{" SD ",\"self\":{\"vendor\":\"a\",\"name\":\"b\",\"format\":\"jsonschema\",\"version\":\"1-0-0\"},\"type\":\"object\",\"properties\":{\"f\":{\"type\":\"string\",\"format\":\"ipv6\",\"description\":\"x\"}},\"description\":\"d\"}",
	  "INFO / Use \"type: null\" to indicate a field as optional for properties f|", 0 },
};

START_TEST(lint_table)
{
	struct igs_lint *l;
	char err[256];
	json_t *j, *r, *m;
	size_t errors, i;
	struct iglu_key k;
	int sd;
	char got[4096];

	l = igs_lint_new(err, sizeof(err));
	ck_assert_msg(l != NULL, "%s", err);
	j = json_loads(LINTS[_i].schema, 0, NULL);
	ck_assert_ptr_nonnull(j);
	r = igs_lint_schema(l, j, &errors, &k, &sd);
	got[0] = '\0';
	json_array_foreach(r, i, m) {
		const char *lvl = json_string_value(json_object_get(m, "level"));

		if (LINTS[_i].errors_only && strcmp(lvl, "ERROR") != 0)
			continue;
		snprintf(got + strlen(got), sizeof(got) - strlen(got), "%s%s %s %s", got[0] ? "|" : "",
		    lvl, json_string_value(json_object_get(m, "pointer")),
		    json_string_value(json_object_get(m, "message")));
	}
	if (_i == 5) {
		/* schema-ddl spells the IPv6 format "ivp6": "ipv6" is unknown to it, a warning */
		ck_assert_ptr_nonnull(strstr(got, "Unknown format [ipv6] detected"));
		ck_assert_uint_eq(errors, 0);
	} else {
		ck_assert_str_eq(got, LINTS[_i].expect);
	}
	json_decref(r);
	json_decref(j);
	igs_lint_free(l);
}
END_TEST

/* ---------- the launcher's resolver wiring ---------- */

/* iglu-server's folder as an embedded repository with priority -1 is asked before the built-in
 * registry (priority 0) for every vendor (enriched-event.md §15.3 ordering). */
START_TEST(resolver_wiring)
{
	char dir[] = "/tmp/test_igs_res.XXXXXX", path[300], err[300];
	const char *names[4];
	struct iglu_resolver *r;
	FILE *f;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/resolver.json", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{\"schema\":\"iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3\","
	    "\"data\":{\"cacheSize\":500,\"cacheTtl\":1,\"repositories\":[{\"name\":\"iglu-server\","
	    "\"priority\":-1,\"vendorPrefixes\":[],\"connection\":{\"embedded\":{\"path\":\"%s\"}}}]}}",
	    dir);
	fclose(f);
	r = iglu_resolver_new(path, "schemas", err, sizeof(err));
	ck_assert_msg(r != NULL, "%s", err);
	ck_assert_uint_eq(iglu_resolver_order(r, "com.acme", names, 4), 2);
	ck_assert_str_eq(names[0], "iglu-server");
	ck_assert_str_eq(names[1], "Iglu Client Embedded");
	ck_assert_uint_eq(iglu_resolver_order(r, "com.snowplowanalytics.snowplow", names, 4), 2);
	ck_assert_str_eq(names[0], "iglu-server");
	iglu_resolver_free(r);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* ---------- atomicfile ---------- */

START_TEST(atomic_write)
{
	char dir[] = "/tmp/test_atomic.XXXXXX", path[300], err[256], buf[32];
	FILE *f;
	struct stat st;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/a/b/c", dir);
	ck_assert_int_eq(atomicfile_mkdirs(path, 0755, err, sizeof(err)), 0);
	snprintf(path, sizeof(path), "%s/a/b/c/file", dir);
	ck_assert_int_eq(atomicfile_write(path, "one", 3, 0600, err, sizeof(err)), 0);
	ck_assert_int_eq(atomicfile_write(path, "two!", 4, 0644, err, sizeof(err)), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fread(buf, 1, sizeof(buf), f), 4);
	fclose(f);
	ck_assert_int_eq(memcmp(buf, "two!", 4), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0644);
	ck_assert_int_eq(atomicfile_is_temp(".file.tmp-12-3"), 1);
	ck_assert_int_eq(atomicfile_is_temp("1-0-0"), 0);
	snprintf(path, sizeof(path), "%s/nope/file", dir);
	ck_assert_int_eq(atomicfile_write(path, "x", 1, 0600, err, sizeof(err)), -1);
	nftw(dir, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("igs");
	TCase *tc = tcase_create("core");
	SRunner *sr;
	int nf;

	tcase_add_test(tc, target_parsing);
	tcase_add_test(tc, uuid_parsing);
	tcase_add_test(tc, permissions);
	tcase_add_test(tc, version_cursor);
	tcase_add_test(tc, keys_from_segments);
	tcase_add_loop_test(tc, lint_table, 0, (int)(sizeof(LINTS) / sizeof(LINTS[0])));
	tcase_add_test(tc, atomic_write);
	tcase_add_test(tc, resolver_wiring);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? 1 : 0;
}
