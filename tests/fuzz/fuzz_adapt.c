/*
 * libFuzzer target for the webhook adapters (enrich/adapt*.c) and their JSON tree. Input
 * layout: byte 0 picks the adapter, byte 1 the content type (none, JSON, form, other; 0x80 set
 * = no body, a GET), then the query string, a NUL, and the body (no NUL: all body). Every
 * request must give events or adapter failures, never both, never neither, never an error;
 * every event's ue_pr must be JSON; the failures must be an array of objects. The body is also
 * parsed as JSON on its own: printing a parsed tree and parsing it again must give the same
 * text.
 */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/adapt.h"
#include "jsonschema.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const paths[][2] = {
	{ "com.snowplowanalytics.iglu", "v1" }, { "com.callrail", "v1" },
	{ "com.amazon.aws.cloudfront", "wd_access_log" }, { "com.mailchimp", "v1" },
	{ "com.mailgun", "v1" }, { "com.google.analytics", "v1" },
	{ "com.mandrill", "v1" }, { "com.olark", "v1" }, { "com.pagerduty", "v1" },
	{ "com.pingdom", "v1" }, { "com.sendgrid", "v3" }, { "com.statusgator", "v1" },
	{ "com.unbounce", "v1" }, { "com.urbanairship.connect", "v1" }, { "com.marketo", "v1" },
	{ "com.getvero", "v1" }, { "com.hubspot", "v1" },
};
static const char *const cts[] = { NULL, "application/json",
	"application/x-www-form-urlencoded", "text/plain" };

static void
round_trip(const char *s, size_t n)
{
	char err[256];
	struct ajson *a = ajson_parse(s, n, 40, err, sizeof(err)), *b;
	struct buf p1, p2;

	if (a == NULL)
		return;
	buf_init(&p1, 0);
	buf_init(&p2, 0);
	if (ajson_print(a, &p1) == -1)
		abort();
	if ((b = ajson_parse(p1.data, p1.len, 40, err, sizeof(err))) == NULL)
		abort();
	if (ajson_print(b, &p2) == -1 || p1.len != p2.len || memcmp(p1.data, p2.data, p1.len) != 0)
		abort();
	ajson_free(a);
	ajson_free(b);
	buf_free(&p1);
	buf_free(&p2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct adapt_def *def;
	struct adapt_req req;
	struct adapt_out out;
	struct smap qs;
	struct buf body;
	const char *rest, *nul;
	char err[512];
	size_t n, i;

	if (size < 2)
		return 0;
	def = adapt_find(paths[data[0] % (sizeof(paths) / sizeof(paths[0]))][0],
	    paths[data[0] % (sizeof(paths) / sizeof(paths[0]))][1]);
	if (def == NULL)
		abort();
	rest = (const char *)data + 2;
	n = size - 2;
	/* the collector hands enrich valid UTF-8 (enrich repairs anything else first) */
	buf_init(&body, 0);
	utf8_repair(rest, n, &body);
	rest = body.data ? body.data : "";
	n = body.len;
	nul = memchr(rest, '\0', n);
	smap_init(&qs);
	if (nul && nul > rest && adapt_form_parse(rest, (size_t)(nul - rest), &qs, err,
	    sizeof(err)) < 0)
		smap_free(&qs);                 /* enrich refuses such a query string earlier */
	memset(&req, 0, sizeof(req));
	req.vendor = "fuzz";
	req.version = "v";
	req.qs = &qs;
	req.content_type = cts[data[1] % 4];
	req.max_depth = 40;
	if (!(data[1] & 0x80)) {
		req.body = nul ? nul + 1 : rest;
		req.body_len = nul ? n - (size_t)(nul + 1 - rest) : n;
	}
	adapt_out_init(&out);
	if (def->run(&req, &out) != 0)
		abort();
	if ((out.fail != NULL) == (out.n > 0))
		abort();
	if (out.fail) {
		if (!json_is_array(out.fail) || json_array_size(out.fail) == 0)
			abort();
		for (i = 0; i < json_array_size(out.fail); i++)
			if (!json_is_object(json_array_get(out.fail, i)))
				abort();
	}
	for (i = 0; i < out.n; i++) {
		struct smap_ent *ue = smap_get(&out.ev[i].params, "ue_pr");
		json_error_t jerr;
		json_t *j;
		if (ue == NULL || ue->v == NULL)
			abort();
		j = jsonschema_json_loadb(ue->v, strlen(ue->v), JSON_ALLOW_NUL, 0, &jerr);
		/* A field name may hold U+0000 (a form's %00): that is JSON, and circe keeps it, but
		 * jansson holds no NUL in a key, so enrich's core makes such an event a
		 * schema_violations row ("NUL byte in object key not supported"). Any other refusal
		 * is the adapter's fault. */
		if (j == NULL && strstr(jerr.text, "NUL byte in object key") == NULL)
			abort();
		if (j == NULL) {
			struct ajson *a = ajson_parse(ue->v, strlen(ue->v), 1000, err, sizeof(err));
			if (a == NULL)
				abort();
			ajson_free(a);
		}
		json_decref(j);
	}
	adapt_out_free(&out);
	smap_free(&qs);
	if (req.body)
		round_trip(req.body, req.body_len);
	buf_free(&body);
	return 0;
}
