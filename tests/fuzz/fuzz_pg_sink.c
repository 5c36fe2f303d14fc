/*
 * libFuzzer target for pg-sink's parsers and writers (pg-sink/pg_schema, pg_copy, pg_atomic,
 * pg_badrows, pg_conn). The first byte picks one:
 *   'S'  a JSON Schema, a NUL, an entity: the schema is flattened into columns (names at most
 *        63 bytes and unique) and the entity cast into cells, which must never hold a raw TAB or
 *        line end (a COPY row is one line);
 *   'T'  an RFC 3339 date-time: a converted one must read back as itself in UTC;
 *   'A'  an enriched line ('P' next: padded to 131 columns): a row has 128 fields and one '\n';
 *   'B'  a bad-row line: a row has 11 fields and one '\n';
 *   'C'  an error context and a --url (split at the first NUL): no crash.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "event.h"
#include "../../pg-sink/pg_atomic.h"
#include "../../pg-sink/pg_badrows.h"
#include "../../pg-sink/pg_conn.h"
#include "../../pg-sink/pg_copy.h"
#include "../../pg-sink/pg_schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t
count(const char *s, size_t n, char c)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++)
		k += s[i] == c;
	return k;
}

/* A COPY row: fields separated by TAB, one '\n' at the end, no CR. */
static void
check_row(const struct buf *b, size_t fields)
{
	if (b->len == 0 || b->data[b->len - 1] != '\n' || count(b->data, b->len, '\n') != 1 ||
	    count(b->data, b->len, '\r') != 0 || count(b->data, b->len, '\t') != fields - 1)
		abort();
}

static void
run_schema(const char *s, size_t n)
{
	const char *nul = memchr(s, '\0', n);
	json_t *schema, *ent;
	struct pgcols c;
	struct buf cell;
	char err[512];
	size_t i, j;

	if (nul == NULL)
		return;
	schema = json_loadb(s, (size_t)(nul - s), 0, NULL);
	ent = json_loadb(nul + 1, n - (size_t)(nul - s) - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (schema != NULL && pgschema_columns((const json_t *const *)&schema, 1, &c, err,
	    sizeof(err)) == 0) {
		buf_init(&cell, 0);
		for (i = 0; i < c.n; i++) {
			if (strlen(c.v[i].name) > PGSCHEMA_IDENT_MAX || pgcols_find(&c, c.v[i].name) != (long)i)
				abort();
			for (j = 0; j < 2; j++) {
				int r;
				buf_reset(&cell);
				r = pgschema_cell(&c.v[i], ent ? ent : schema, &cell, err, sizeof(err));
				if (r == 0 && (count(cell.data ? cell.data : "", cell.len, '\t') ||
				    count(cell.data ? cell.data : "", cell.len, '\n') ||
				    count(cell.data ? cell.data : "", cell.len, '\r')))
					abort();
			}
		}
		buf_free(&cell);
		pgcols_free(&c);
	}
	json_decref(schema);
	json_decref(ent);
}

static void
run_timestamp(const char *s, size_t n)
{
	char out[PGCOPY_TS_BUFSZ], iso[PGCOPY_TS_BUFSZ + 2], again[PGCOPY_TS_BUFSZ];
	size_t len;

	if (pgcopy_timestamp(s, n, out) != 0)
		return;
	len = strlen(out);
	if (len < 19 || len > 26)
		abort();
	memcpy(iso, out, len);
	iso[10] = 'T';
	iso[len] = 'Z';
	if (pgcopy_timestamp(iso, len + 1, again) != 0 || strcmp(out, again) != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data + 1;
	size_t n = size ? size - 1 : 0;
	struct buf row, err;

	if (size == 0)
		return 0;
	buf_init(&row, 0);
	buf_init(&err, 0);
	switch (data[0]) {
	case 'S':
		run_schema(s, n);
		break;
	case 'T':
		run_timestamp(s, n);
		break;
	case 'A': {
		struct pgatomic_event ev;
		struct buf line;
		size_t tabs;

		if (memchr(s, '\n', n))
			break;                 /* one line: the reader never hands over a '\n' */
		buf_init(&line, 0);
		buf_append(&line, n && s[0] == 'P' ? s + 1 : s, n && s[0] == 'P' ? n - 1 : n);
		for (tabs = count(line.data, line.len, '\t'); n && s[0] == 'P' &&
		    tabs < EVENT_NCOLS - 1; tabs++)
			buf_append_byte(&line, '\t');
		if (pgatomic_row(line.data, line.len, &row, &ev, &err) == 0)
			check_row(&row, PGATOMIC_NCOLS);
		buf_free(&line);
		break;
	}
	case 'B': {
		char key[PGBAD_KEY_LEN + 1], e[512];

		if (memchr(s, '\n', n))
			break;
		if (pgbad_row(s, n, &row, key, e, sizeof(e)) == 0)
			check_row(&row, 11);
		break;
	}
	case 'C': {
		char *copy = malloc(n + 1), e[512];
		const char *nul;

		if (copy == NULL)
			break;
		memcpy(copy, s, n);
		copy[n] = '\0';
		pgconn_copy_line(copy);
		nul = memchr(copy, '\0', n);      /* the URL: from there to the NUL at the end */
		if (nul != NULL)
			pgconn_check_url(nul + 1, e, sizeof(e));
		free(copy);
		break;
	}
	default:
		break;
	}
	buf_free(&row);
	buf_free(&err);
	return 0;
}
