/*
 * libFuzzer target: the whole raw-line -> TSV / bad-row path of enrich (enrich_line), with the
 * embedded registry of the source tree (run from the repository root). The first input byte
 * picks the mode: even = the rest is Thrift bytes (base64-encoded here, as the collector does),
 * odd = the rest is the raw line itself. Every line must give good events or bad rows, and
 * every bad row must be one line of JSON.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/enrich.h"
#include "base64.h"
#include "buf.h"
#include "iglu.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct enrich *fz_enrich;
static struct iglu_resolver *fz_resolver;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf good, bad;
	char err[256], *line;
	size_t len;
	unsigned long long before;
	const char *p, *nl;

	if (fz_enrich == NULL) {
		fz_resolver = iglu_resolver_new(NULL, "schemas", err, sizeof(err));
		fz_enrich = enrich_new(fz_resolver, NULL);
		enrich_set_clock(fz_enrich, 1700000000000LL);
	}
	if (size == 0)
		return 0;
	if (data[0] % 2 == 0) {
		line = malloc(base64_encoded_len(size - 1) + 1);
		len = base64_encode(data + 1, size - 1, line);
	} else {
		line = malloc(size);
		memcpy(line, data + 1, size - 1);
		len = size - 1;
		/* one line: the caller strips the newline */
		for (size_t i = 0; i < len; i++)
			if (line[i] == '\n')
				line[i] = ' ';
	}
	buf_init(&good, 0);
	buf_init(&bad, 0);
	before = enrich_counts(fz_enrich)->good + enrich_counts(fz_enrich)->bad;
	if (enrich_line(fz_enrich, line, len, &good, &bad) == 0 && len > 0 &&
	    !(len == 1 && line[0] == '\r')) {
		if (enrich_counts(fz_enrich)->good + enrich_counts(fz_enrich)->bad == before)
			abort();                 /* a line vanished */
	}
	for (p = bad.data; p && *p; p = nl + 1) {
		json_t *j;
		nl = strchr(p, '\n');
		if (nl == NULL)
			abort();
		j = json_loadb(p, (size_t)(nl - p), JSON_ALLOW_NUL, NULL);
		if (j == NULL)
			abort();                 /* a bad row that is not JSON */
		json_decref(j);
	}
	buf_free(&good);
	buf_free(&bad);
	free(line);
	return 0;
}
