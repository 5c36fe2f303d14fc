/*
 * Fuzz target for common/jsonpath.c: the first line of the input is a JSONPath, the rest a JSON
 * document. The path is compiled; when it compiles it runs over the document (when that parses).
 *
 * Properties: a failed compile always says why ("JSONPath ..."); a compiled path keeps its text;
 * a query never fails on a small document, selects the same nodes when run twice, and every node
 * it selects is a value of the document (found again by walking it).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsonpath.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
contains(json_t *doc, json_t *n)
{
	const char *k;
	json_t *c;
	size_t i;

	if (doc == n)
		return 1;
	if (json_is_object(doc)) {
		json_object_foreach(doc, k, c)
			if (contains(c, n))
				return 1;
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, c)
			if (contains(c, n))
				return 1;
	}
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *nl = memchr(data, '\n', size);
	size_t plen = nl ? (size_t)(nl - (const char *)data) : size;
	char *path = malloc(plen + 1), err[256];
	struct jsonpath *p;
	struct jsonpath_matches m = { NULL, 0, 0 }, m2 = { NULL, 0, 0 };
	json_t *doc;
	size_t i;

	memcpy(path, data, plen);
	path[plen] = '\0';
	if (memchr(path, '\0', plen) != NULL) {
		free(path);
		return 0;
	}
	err[0] = '\0';
	p = jsonpath_compile(path, err, sizeof(err));
	if (p == NULL) {
		if (strstr(err, "JSONPath") == NULL)
			abort();
		free(path);
		return 0;
	}
	if (strcmp(jsonpath_text(p), path) != 0)
		abort();
	doc = nl ? json_loadb(nl + 1, size - plen - 1, JSON_DECODE_ANY, NULL) : NULL;
	if (doc != NULL) {
		long n = jsonpath_query(p, doc, &m), n2 = jsonpath_query(p, doc, &m2);
		if (n < 0 || n != n2 || m.n != (size_t)n)
			abort();
		for (i = 0; i < m.n; i++)
			if (m.v[i] != m2.v[i] || !contains(doc, m.v[i]))
				abort();
		json_decref(doc);
	}
	jsonpath_matches_free(&m);
	jsonpath_matches_free(&m2);
	jsonpath_free(p);
	free(path);
	return 0;
}
