/*
 * libFuzzer target for common/jsonschema. The first input byte picks a mode:
 *  even: the rest is an instance, validated (with and without reports) against fixed schemas
 *        that use every keyword, local and meta-schema $refs, patterns and formats;
 *  odd:  the rest is a schema: compiled, checked against the self-describing meta-schema, and
 *        used to validate a few fixed instances and itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonschema.h"

static const char *const SCHEMAS[] = {
	"{\"type\":\"array\",\"minItems\":1,\"items\":{\"type\":\"object\",\"properties\":{"
	"\"schema\":{\"type\":\"string\",\"pattern\":\"^iglu:[a-zA-Z0-9-_.]+/[a-zA-Z0-9-_]+/"
	"[a-zA-Z0-9-_]+/[0-9]+-[0-9]+-[0-9]+$\"},\"data\":{}},\"required\":[\"schema\",\"data\"],"
	"\"additionalProperties\":false}}",
	"{\"definitions\":{\"n\":{\"type\":[\"number\",\"null\"],\"minimum\":-5,\"maximum\":1e6,"
	"\"multipleOf\":0.01}},\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/definitions/n\"},"
	"\"s\":{\"type\":\"string\",\"minLength\":1,\"maxLength\":8,\"format\":\"date-time\"},"
	"\"e\":{\"enum\":[1,\"x\",null,[1,2],{\"k\":true}]},\"u\":{\"type\":\"array\",\"uniqueItems\":true,"
	"\"items\":[{\"type\":\"integer\"},{\"format\":\"ipv4\"}],\"additionalItems\":{\"format\":\"uri\"}},"
	"\"o\":{\"oneOf\":[{\"type\":\"string\",\"format\":\"email\"},{\"type\":\"string\",\"format\":\"uuid\"},"
	"{\"not\":{\"type\":\"string\"}}]},\"h\":{\"anyOf\":[{\"format\":\"hostname\"},{\"format\":\"ipv6\"}]},"
	"\"r\":{\"$ref\":\"#\"}},\"patternProperties\":{\"^x[0-9]+$\":{\"allOf\":[{\"type\":\"integer\"},"
	"{\"maximum\":10,\"exclusiveMaximum\":true}]}},\"additionalProperties\":{\"type\":\"string\","
	"\"pattern\":\"^(a|b)*c\"},\"dependencies\":{\"a\":[\"s\"],\"s\":{\"minProperties\":2,"
	"\"maxProperties\":20}},\"required\":[\"e\"]}",
	"{\"$ref\":\"http://json-schema.org/draft-04/schema#\"}",
	"{\"$ref\":\"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#\"}",
};

static const char *const INSTANCES[] = {
	"{}", "[]", "null", "1", "\"x\"", "[{\"schema\":\"iglu:a/b/c/1-0-0\",\"data\":{}}]",
	"{\"a\":1.5,\"e\":1,\"x1\":3,\"y\":\"abc\",\"r\":{\"e\":null}}",
};

static struct jsonschema *compiled[sizeof(SCHEMAS) / sizeof(SCHEMAS[0])];

static void
init(void)
{
	size_t i;

	for (i = 0; i < sizeof(SCHEMAS) / sizeof(SCHEMAS[0]); i++) {
		json_t *j = json_loads(SCHEMAS[i], 0, NULL);

		compiled[i] = jsonschema_compile(j, NULL, NULL, NULL, 0);
		if (compiled[i] == NULL)
			abort();
		json_decref(j);
	}
}

static void
check(const struct jsonschema *s, const json_t *inst)
{
	json_t *reports = NULL;
	int fast = jsonschema_validate(s, inst, NULL);
	int full = jsonschema_validate(s, inst, &reports);

	/* the fast path and the reporting path must agree */
	if (fast != full)
		abort();
	if (full == 0 && json_array_size(reports) == 0)
		abort();
	json_decref(reports);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_error_t je;
	json_t *j, *issues = NULL;
	size_t i;

	if (compiled[0] == NULL)
		init();
	if (size < 1)
		return 0;
	j = jsonschema_json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL,
	    40, &je);
	if (j == NULL)
		return 0;
	if ((data[0] & 1) == 0) {
		for (i = 0; i < sizeof(compiled) / sizeof(compiled[0]); i++)
			check(compiled[i], j);
	} else {
		char err[256];
		struct jsonschema *s = jsonschema_compile(j, NULL, NULL, err, sizeof(err));

		(void)jsonschema_check_self_describing(j, &issues);
		json_decref(issues);
		if (s != NULL) {
			for (i = 0; i < sizeof(INSTANCES) / sizeof(INSTANCES[0]); i++) {
				json_t *inst = json_loads(INSTANCES[i], JSON_DECODE_ANY, NULL);

				check(s, inst);
				json_decref(inst);
			}
			check(s, j);
			jsonschema_free(s);
		}
	}
	json_decref(j);
	return 0;
}
