/*
 * col_split: splitting an oversized tp2 POST into several records (collector.md §10.2, SC3
 * SplitBatch.splitAndSerializePayload). The caller measures the whole serialized payload; this
 * module parses the body, walks the `data` array and groups the events so that each group's
 * record stays under the per-record target. Events keep their input order (a furrow choice;
 * upstream reverses them).
 */
#ifndef COL_SPLIT_H
#define COL_SPLIT_H

#include <stddef.h>

struct col_split_item {
	char   *json;     /* compact JSON: a batch body, or one oversized event */
	size_t  len;      /* bytes */
};

struct col_split {
	char *error;                      /* set: the whole payload is one size_violation */
	struct col_split_item *batches;   /* {"schema":<original>,"data":[...]} bodies */
	size_t n_batches;
	struct col_split_item *too_big;   /* events too large alone (actual = len) */
	size_t n_too_big;
};

/*
 * whole: W, the serialized size of the original payload; target: R. body may be NULL (a GET).
 * Returns 0 (see out->error for a payload that cannot be split) or -1 on allocation failure.
 */
int col_split_body(const char *body, size_t body_len, size_t whole, size_t target,
    struct col_split *out);
void col_split_free(struct col_split *s);

#endif
