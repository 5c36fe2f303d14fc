/* libFuzzer target: common/thrift's CollectorPayload decoder on arbitrary bytes. It must never
 * read past the input or allocate an attacker-chosen size; a payload it accepts must encode
 * and decode again to the same fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "thrift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
same(const struct tstr *a, const struct tstr *b)
{
	if (a->s == NULL || b->s == NULL)
		return a->s == b->s || (a->s == NULL && b->len == 0) || (b->s == NULL && a->len == 0);
	return a->len == b->len && memcmp(a->s, b->s, a->len) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct thrift_payload p, q;
	struct buf b;
	char err[256];
	size_t i;

	thrift_payload_init(&p);
	if (thrift_payload_decode(data, size, &p, err, sizeof(err)) != 0)
		return 0;
	buf_init(&b, 0);
	if (thrift_payload_encode(&p, &b) == 0) {
		thrift_payload_init(&q);
		if (thrift_payload_decode((const uint8_t *)b.data, b.len, &q, err, sizeof(err)) != 0)
			abort();
		if (!same(&p.path, &q.path) || !same(&p.body, &q.body) ||
		    !same(&p.querystring, &q.querystring) || p.n_headers != q.n_headers)
			abort();
		for (i = 0; i < p.n_headers; i++)
			if (!same(&p.headers[i], &q.headers[i]))
				abort();
		thrift_payload_free(&q);
	}
	buf_free(&b);
	thrift_payload_free(&p);
	return 0;
}
