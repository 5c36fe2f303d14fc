/*
 * libFuzzer target for inspect's request parser (inspect/ins_query.c): the input is split at
 * its first NUL into a query string and a JSON body, parsed for every endpoint. Parsing must
 * return cleanly for any bytes; an accepted request must keep its bounds (page size, filter
 * and value counts) and give a grouping key; a refused one must carry a 4xx status.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "../../inspect/ins_query.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum ins_endpoint eps[] = { INS_EP_ALL, INS_EP_GOOD, INS_EP_BAD,
	    INS_EP_EVENTS, INS_EP_STATS };
	const uint8_t *nul = memchr(data, 0, size);
	size_t qlen = nul ? (size_t)(nul - data) : size;
	char *qs = malloc(qlen + 1);
	const char *body = nul ? (const char *)nul + 1 : NULL;
	size_t blen = nul ? size - qlen - 1 : 0;
	size_t i, j;

	if (qs == NULL)
		return 0;
	memcpy(qs, data, qlen);
	qs[qlen] = '\0';
	for (i = 0; i < sizeof(eps) / sizeof(eps[0]); i++) {
		struct ins_query q;
		struct ins_query_error e;
		struct buf key;

		if (ins_query_parse(&q, eps[i], qs, body, blen, &e) == 0) {
			if (q.page_size > INS_PAGE_SIZE_MAX || q.nfilters > INS_QUERY_MAX_FILTERS ||
			    q.ncontexts > INS_QUERY_MAX_CONTEXTS)
				abort();
			for (j = 0; j < q.nfilters; j++)
				if (q.filters[j].nvalues > INS_QUERY_MAX_VALUES)
					abort();
			buf_init(&key, 0);
			if (ins_query_key(&q, &key) != 0)
				abort();
			buf_free(&key);
		} else if (e.status < 400 || e.status > 500) {
			abort();
		}
		ins_query_free(&q);
	}
	free(qs);
	return 0;
}
