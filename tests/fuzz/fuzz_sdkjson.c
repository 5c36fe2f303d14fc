/*
 * libFuzzer target for the enriched TSV -> Analytics SDK JSON transform (common/sdkjson): the input is taken as one enriched TSV line
 * (sinks.md §1) and as one bad-row line (§2.2). Both must return cleanly for any bytes: on
 * success the document must be valid JSON; on failure the TSV error must be valid JSON too;
 * and sdkjson_enriched (its streaming fast path) must write exactly what
 * sdkjson_enriched_reference writes.
 * A first byte of 'T' additionally forces a 131-column line by padding with TABs, so the column
 * decoders (not just the field count check) see fuzzed values.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "../../es-sink/badrewrite.h"
#include "sdkjson.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_json(const struct buf *b)
{
	json_t *j;

	if (b->len == 0)
		return;
	j = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (j == NULL)
		abort();
	json_decref(j);
}

/* The streaming fast path must write exactly what the reference transform writes. */
static int
same_buf(const struct buf *a, const struct buf *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static void
run_tsv(const char *s, size_t n)
{
	struct sdkjson_result res, ref_res;
	struct buf doc, err, ref_doc, ref_err;
	int rc, ref_rc;

	buf_init(&doc, 0);
	buf_init(&err, 0);
	buf_init(&ref_doc, 0);
	buf_init(&ref_err, 0);
	rc = sdkjson_enriched(s, n, COL_DERIVED_TSTAMP, &doc, &res, &err);
	if (rc == 0)
		check_json(&doc);
	else
		check_json(&err);
	ref_rc = sdkjson_enriched_reference(s, n, COL_DERIVED_TSTAMP, &ref_doc, &ref_res, &ref_err);
	if (rc != ref_rc || !same_buf(&doc, &ref_doc) || !same_buf(&err, &ref_err) ||
	    (rc == 0 && (strcmp(res.event_id, ref_res.event_id) != 0 ||
	    res.has_shard != ref_res.has_shard)))
		abort();
	buf_free(&doc);
	buf_free(&err);
	buf_free(&ref_doc);
	buf_free(&ref_err);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out, padded;
	char err[256];
	size_t tabs = 0, i;

	if (memchr(data, '\n', size))
		return 0;      /* one line: the reader never hands over a '\n' */
	run_tsv((const char *)data, size);

	buf_init(&out, 0);
	if (badrewrite_line((const char *)data, size, &out, err, sizeof(err)) == 0)
		check_json(&out);
	buf_free(&out);

	if (size > 0 && data[0] == 'T') {
		buf_init(&padded, 0);
		buf_append(&padded, data + 1, size - 1);
		for (i = 1; i < size; i++)
			tabs += data[i] == '\t';
		for (; tabs < EVENT_NCOLS - 1; tabs++)
			buf_append_byte(&padded, '\t');
		run_tsv(padded.data, padded.len);
		buf_free(&padded);
	}
	return 0;
}
