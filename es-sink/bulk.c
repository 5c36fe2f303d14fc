/*
 * bulk: action lines, response classification and back-off (see bulk.h). The response parser
 * takes a fast path for the common all-accepted answer: Elasticsearch and OpenSearch put
 * "errors" among the first members ({"took":N,"errors":false,... or {"errors":false,"took":...),
 * so the items array of 500 documents need not be parsed when nothing failed.
 */
#include "bulk.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "jsonw.h"

int
bulk_action(struct buf *out, const char *index, const char *id)
{
	if (buf_append_str(out, "{\"index\":{\"_index\":") == -1 ||
	    jsonw_string(out, index, strlen(index)) == -1)
		return -1;
	if (id) {
		if (buf_append_str(out, ",\"_id\":") == -1 ||
		    jsonw_string(out, id, strlen(id)) == -1)
			return -1;
	}
	return buf_append_str(out, "}}\n");
}

enum bulk_verdict
bulk_item_verdict(int status)
{
	if (status == 200 || status == 201 || status == 409)
		return BULK_ACCEPTED;
	if (status == 400)
		return BULK_REJECTED;
	return BULK_RETRY;
}

enum bulk_request
bulk_request_outcome(long http_status)
{
	if (http_status >= 200 && http_status < 300)
		return BULK_REQ_ITEMS;
	if (http_status == 413)
		return BULK_REQ_SPLIT;
	return BULK_REQ_RETRY;
}

static void
bulk_accept_all(size_t nitems, struct bulk_item *items)
{
	size_t i;

	for (i = 0; i < nitems; i++) {
		items[i].status = 201;
		items[i].verdict = BULK_ACCEPTED;
		items[i].conflict = 0;
		items[i].reason[0] = 0;
	}
}

int
bulk_parse_response(const char *body, size_t len, size_t nitems, struct bulk_item *items,
    char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root, *arr, *it;
	size_t head = len < 64 ? len : 64, i;
	const char *p;

	p = memmem(body, head, "\"errors\":false", 14);
	if (p && len > 0 && body[len - 1] == '}' && body[0] == '{') {
		bulk_accept_all(nitems, items);
		return 0;
	}
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL) {
		snprintf(err, errlen, "unparsable bulk response: %s", jerr.text);
		return -1;
	}
	arr = json_object_get(root, "items");
	if (!json_is_array(arr) || json_array_size(arr) != nitems) {
		snprintf(err, errlen, "bulk response has %zu items for %zu actions",
		    json_is_array(arr) ? json_array_size(arr) : 0, nitems);
		json_decref(root);
		return -1;
	}
	json_array_foreach(arr, i, it) {
		json_t *op = json_object_get(it, "index"), *e;
		struct bulk_item *bi = &items[i];

		if (op == NULL)
			op = json_object_get(it, "create");
		bi->status = (int)json_integer_value(json_object_get(op, "status"));
		bi->verdict = bulk_item_verdict(bi->status);
		bi->conflict = bi->status == 409;
		bi->reason[0] = 0;
		e = json_object_get(op, "error");
		if (bi->verdict != BULK_ACCEPTED) {
			const char *type = json_string_value(json_object_get(e, "type"));
			const char *reason = json_string_value(json_object_get(e, "reason"));
			json_t *cause = json_object_get(e, "caused_by");
			const char *creason = json_string_value(json_object_get(cause, "reason"));

			if (json_is_string(e))
				reason = json_string_value(e);
			snprintf(bi->reason, sizeof(bi->reason), "%s: %s%s%s", type ? type : "error",
			    reason ? reason : "(no reason)", creason ? "; caused by: " : "",
			    creason ? creason : "");
		}
	}
	json_decref(root);
	return 0;
}

uint64_t
bulk_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd)
{
	uint64_t ceiling = base_ms;
	unsigned i;

	if (attempt == 0)
		return 0;
	for (i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	return rnd % (ceiling + 1);
}
