/*
 * libFuzzer target for inspect's filters and the code that reads stored records
 * (inspect/ins_query.c, ins_store.c, ins_badrow.c, ins_render.c, ins_columns.c). The input is
 * split at its first NUL: the first part is stored both as an enriched line (padded to 131
 * columns when the first byte is 'T', so the column code sees fuzzed values) and as a bad row;
 * the second part is a JSON body for /micro/good, /micro/bad and /micro/events. Every query
 * is matched against every record, every record is rendered for every view, column lists and
 * statistics are computed: all must return, and what is rendered must be JSON.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "../../inspect/ins_columns.h"
#include "../../inspect/ins_query.h"
#include "../../inspect/ins_render.h"
#include "../../inspect/ins_store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
must_be_json(const struct buf *b)
{
	json_t *j = json_loadb(b->data, b->len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);

	if (j == NULL)
		abort();
	json_decref(j);
}

static int
count_cb(const char *uri, size_t n, void *arg)
{
	(void)uri;
	(void)n;
	(*(int *)arg)++;
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ins_endpoint eps[] = { INS_EP_GOOD, INS_EP_BAD, INS_EP_EVENTS };
	struct ins_store_limits lim = { 16, 1 << 22 };
	struct ins_store *st = ins_store_new(&lim);
	struct ins_columns *cols = ins_columns_new();
	struct ins_render rd;
	const uint8_t *nul = memchr(data, 0, size);
	size_t llen = nul ? (size_t)(nul - data) : size, i, k;
	const char *body = nul ? (const char *)nul + 1 : "";
	size_t blen = nul ? size - llen - 1 : 0;
	struct buf line, out;
	char err[256];
	int n = 0;

	if (st == NULL || cols == NULL)
		abort();
	ins_render_init(&rd);
	buf_init(&line, 0);
	buf_init(&out, 0);
	buf_append(&line, data, llen);
	if (llen && data[0] == 'T') {
		size_t tabs = 0;
		for (i = 0; i < llen; i++)
			tabs += data[i] == '\t';
		for (; tabs < EVENT_NCOLS - 1; tabs++)
			buf_append_byte(&line, '\t');
	}
	ins_store_add_good(st, line.data, line.len, 1, err, sizeof(err));
	ins_store_add_bad(st, (const char *)data, llen, 2, 1700000000000LL, err, sizeof(err));
	ins_contexts_each((const char *)data, llen, count_cb, &n);

	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct ins_query q;
		struct ins_query_error e;
		if (ins_query_parse(&q, eps[i], NULL, body, blen, &e) == 0)
			for (k = 0; k < ins_store_count(st); k++)
				ins_query_match(&q, ins_store_at(st, k));
		ins_query_free(&q);
	}
	for (k = 0; k < ins_store_count(st); k++) {
		const struct ins_rec *r = ins_store_at(st, k);
		char tmp[INS_COLVAL_TMP];
		const char *v;
		size_t vn;
		int c;
		for (c = -1; c <= INS_COL_SCHEMA; c++)
			ins_colval(r, c, tmp, &v, &vn);
		buf_reset(&out);
		if (r->kind == INS_GOOD ? ins_render_good(&rd, r, &out) == 0 : ins_render_bad(&rd, r, &out) == 0)
			must_be_json(&out);
		buf_reset(&out);
		if (ins_render_event(&rd, r, &out) == 0)
			must_be_json(&out);
	}
	if (ins_columns_update(cols, st) == 0) {
		buf_reset(&out);
		if (ins_columns_write(cols, &out) == 0)
			must_be_json(&out);
	}
	buf_reset(&out);
	if (ins_columnstats(st, body, blen, &out, err, sizeof(err)) == 0)
		must_be_json(&out);
	buf_reset(&out);
	if (ins_timeline(st, body, blen, &out, err, sizeof(err)) == 0)
		must_be_json(&out);

	buf_free(&line);
	buf_free(&out);
	ins_render_free(&rd);
	ins_columns_free(cols);
	ins_store_free(st);
	return 0;
}
