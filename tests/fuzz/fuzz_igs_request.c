/* libFuzzer target: what iglu-server parses from a request. The request-target parser
 * (igs_path: every view inside its buffer, no segment with "/" or a NUL reaching a key),
 * key building from segments (never ".", "..", "/"), the apikey UUID parser, and the schema
 * linter on the same bytes read as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../iglu-server/igs_auth.h"
#include "../../iglu-server/igs_lint.h"
#include "../../iglu-server/igs_path.h"
#include "../../iglu-server/igs_store.h"
#include "jsonschema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
inside(const struct igs_target *t, const char *p)
{
	if (p < t->store || p >= t->store + sizeof(t->store))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct igs_target t;
	static struct igs_lint *lint;
	const char *b = (const char *)data;
	char uuid[IGS_UUID_LEN + 1];
	struct iglu_key k;
	const char *code;
	json_error_t je;
	json_t *j;
	size_t i;

	if (lint == NULL && (lint = igs_lint_new(uuid, sizeof(uuid))) == NULL)
		abort();
	if (igs_target_parse(b, size, &t) == IGS_PATH_OK) {
		for (i = 0; i < t.n_seg; i++) {
			inside(&t, t.seg[i]);
			if (t.seg[i][t.seg_len[i]] != '\0')
				abort();
			if (strlen(t.seg[i]) != t.seg_len[i])
				continue;   /* holds a NUL: the routes never use it */
			if (igs_store_key(t.seg[i], "n", "f", "1-0-0", &k, &code) == 0 &&
			    (strchr(k.vendor, '/') || strcmp(k.vendor, ".") == 0 ||
			    strcmp(k.vendor, "..") == 0))
				abort();
			if (igs_store_key("v", t.seg[i], "f", "1-0-0", &k, &code) == 0 &&
			    (strchr(k.name, '/') || strchr(k.name, '.')))
				abort();
			if (igs_store_key("v", "n", "f", t.seg[i], &k, &code) == 0 && k.model < 1)
				abort();
		}
		for (i = 0; i < t.n_param; i++) {
			inside(&t, t.pname[i]);
			inside(&t, t.pvalue[i]);
		}
	}
	if (igs_uuid_parse(b, size, uuid) == 0 &&
	    (strlen(uuid) != IGS_UUID_LEN || uuid[8] != '-' || uuid[13] != '-'))
		abort();
	j = jsonschema_json_loadb(b, size, JSON_DECODE_ANY, 40, &je);
	if (j != NULL) {
		size_t errors;
		int sd;
		json_t *r = igs_lint_schema(lint, j, &errors, &k, &sd);

		if (!json_is_array(r))
			abort();
		json_decref(r);
		json_decref(j);
	}
	return 0;
}
