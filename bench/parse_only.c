/*
 * parse_only: the lower bound for enrich's per-record work. For each raw line it does only what
 * any enrich must do: lenient base64 decoding, Thrift decoding, splitting the query string, and
 * parsing every JSON text (the POST body, and co/cx/ue_pr/ue_px after base64url decoding) with
 * jansson. No validation, no columns, no output. bench/enrich.sh compares enrich with it.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "buf.h"
#include "thrift.h"

static size_t parsed;

static void
parse_json(const char *s, size_t n)
{
	json_t *j = json_loadb(s, n, JSON_DECODE_ANY, NULL);

	if (j)
		parsed++;
	json_decref(j);
}

static void
param(const char *name, size_t nl, const char *v, size_t vl, struct buf *tmp)
{
	int b64 = (nl == 2 && (memcmp(name, "cx", 2) == 0)) ||
	    (nl == 5 && memcmp(name, "ue_px", 5) == 0);
	int plain = (nl == 2 && memcmp(name, "co", 2) == 0) ||
	    (nl == 5 && memcmp(name, "ue_pr", 5) == 0);

	if (!b64 && !plain)
		return;
	buf_reset(tmp);
	buf_reserve(tmp, base64_decoded_max(vl) + 1);
	if (b64) {
		tmp->len = base64_decode_lenient(v, vl, (uint8_t *)tmp->data);
		parse_json(tmp->data, tmp->len);
	} else {
		parse_json(v, vl);
	}
}

static void
split_qs(const char *q, size_t n, struct buf *tmp)
{
	size_t i = 0, j;

	while (i < n) {
		const char *eq;
		for (j = i; j < n && q[j] != '&'; j++)
			;
		eq = memchr(q + i, '=', j - i);
		if (eq)
			param(q + i, (size_t)(eq - q - i), eq + 1, (size_t)(q + j - eq - 1), tmp);
		i = j + 1;
	}
}

int
main(void)
{
	char *line = NULL, err[256];
	size_t cap = 0, lines = 0;
	ssize_t n;
	struct buf raw, tmp;
	struct thrift_payload p;

	buf_init(&raw, 0);
	buf_init(&tmp, 0);
	thrift_payload_init(&p);
	while ((n = getline(&line, &cap, stdin)) > 0) {
		if (line[n - 1] == '\n')
			n--;
		buf_reset(&raw);
		buf_reserve(&raw, base64_decoded_max((size_t)n));
		raw.len = base64_decode_lenient(line, (size_t)n, (uint8_t *)raw.data);
		if (thrift_payload_decode((uint8_t *)raw.data, raw.len, &p, err, sizeof(err)) == -1)
			continue;
		lines++;
		if (p.querystring.s)
			split_qs(p.querystring.s, p.querystring.len, &tmp);
		if (p.body.s && p.body.len) {
			json_t *j = json_loadb(p.body.s, p.body.len, 0, NULL), *ev, *v;
			size_t i;
			const char *k;
			if (j)
				parsed++;
			json_array_foreach(json_object_get(j, "data"), i, ev) {
				json_object_foreach(ev, k, v) {
					param(k, strlen(k), json_string_value(v), json_string_length(v), &tmp);
				}
			}
			json_decref(j);
		}
	}
	fprintf(stderr, "parse_only: %zu records, %zu JSON texts\n", lines, parsed);
	thrift_payload_free(&p);
	buf_free(&raw);
	buf_free(&tmp);
	free(line);
	return 0;
}
