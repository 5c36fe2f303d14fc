/*
 * adapt_iglu: the Iglu webhook, /com.snowplowanalytics.iglu/v1, the generic way any system
 * sends a self-describing event (snowplow/enrich 6.10.0 adapters/registry/IgluAdapter.scala):
 *   GET  ?schema=iglu:…&k=v…             the other parameters are the event's string fields
 *   POST ?schema=iglu:…  JSON body        an object is one event, an array one per element
 *   POST ?schema=iglu:…  form body        the form fields (platform srv)
 *   POST (no schema)     self-describing JSON body: {"schema":…,"data":…}
 * The tracker version is "com.snowplowanalytics.iglu-v1"; platform "app" unless p is given.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "adapt.h"
#include "iglu_key.h"

#define IGLU_TV "com.snowplowanalytics.iglu-v1"
#define CT_JSON "application/json"
#define CT_JSON_UTF8 "application/json; charset=utf-8"
#define CT_FORM "application/x-www-form-urlencoded"

static int
is_json_ct(const char *ct)
{
	return strcmp(ct, CT_JSON) == 0 || strcmp(ct, CT_JSON_UTF8) == 0;
}

/* One event per element of a JSON array body, or one for a non-empty object
 * (jsonBodyToEvent). qs is the query string without "schema". */
static int
json_body(const struct adapt_req *req, struct adapt_out *out, const struct smap *qs,
    const char *schema)
{
	char err[512];
	struct ajson *j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err));
	size_t i;
	int rc = 0;

	if (j == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	if (j->type == AJ_ARR) {
		if (j->n == 0)
			rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
			    "empty array of events");
		for (i = 0; i < j->n && rc == 0; i++)
			if (adapt_unstruct(out, IGLU_TV, qs, schema, j->m[i].val, "app") == NULL)
				rc = -1;
	} else if (j->type != AJ_OBJ || j->n == 0) {
		rc = adapt_fail_input_n(out, "body", 4, req->body, req->body_len,
		    "has no key-value pairs");
	} else if (adapt_unstruct(out, IGLU_TV, qs, schema, j, "app") == NULL) {
		rc = -1;
	}
	ajson_free(j);
	return rc;
}

/* formBodyToEvent: the form's fields as strings (a field without '=' is null). */
static int
form_body(const struct adapt_req *req, struct adapt_out *out, const struct smap *qs,
    const char *schema)
{
	struct smap form;
	struct ajson *o;
	size_t *ix, i;
	char err[256];
	int rc;

	smap_init(&form);
	rc = adapt_form_parse(req->body, req->body_len, &form, err, sizeof(err));
	if (rc == -1) {
		smap_free(&form);
		return adapt_fail_input_n(out, "body", 4, req->body, req->body_len, err);
	}
	o = rc == 0 ? ajson_new(AJ_OBJ) : NULL;
	ix = o ? smap_order(&form) : NULL;
	rc = ix ? 0 : -1;
	for (i = 0; ix && i < form.n && rc == 0; i++) {       /* bodyMap.asJson */
		const struct smap_ent *en = &form.e[ix[i]];
		rc = ajson_append(o, en->k, en->klen, en->v ? ajson_str(en->v, strlen(en->v)) :
		    ajson_new(AJ_NULL));
	}
	if (rc == 0 && adapt_unstruct(out, IGLU_TV, qs, schema, o, "srv") == NULL)
		rc = -1;
	free(ix);
	ajson_free(o);
	smap_free(&form);
	return rc;
}

/* payloadToEventWithSchema: schema given on the query string. */
static int
with_schema(const struct adapt_req *req, struct adapt_out *out, const char *schema_uri)
{
	struct iglu_key key;
	const char *code = NULL;
	char uri[IGLU_URI_MAX];
	struct smap qs;
	int rc = 0;

	if (iglu_key_parse(schema_uri, &key, &code) == -1)
		return adapt_fail_input(out, "schema", schema_uri, code ? code : "INVALID_IGLUURI");
	iglu_key_format(&key, uri, sizeof(uri));
	smap_init(&qs);
	if (smap_add_all(&qs, req->qs, NULL, NULL) == -1) {
		smap_free(&qs);
		return -1;
	}
	qs.hashed = req->qs->hashed;                 /* params - "schema" keeps its kind */
	smap_del(&qs, "schema");
	if (req->body == NULL) {
		/* GET: the parameters are the event (the default formatter: strings, "" = null) */
		struct ajson *data = adapt_format(&qs, NULL, NULL, NULL);
		if (data == NULL || adapt_unstruct(out, IGLU_TV, &qs, uri, data, "app") == NULL)
			rc = -1;
		ajson_free(data);
	} else if (is_json_ct(req->content_type)) {
		rc = json_body(req, out, &qs, uri);
	} else if (strcmp(req->content_type, CT_FORM) == 0) {
		rc = form_body(req, out, &qs, uri);
	} else {
		rc = adapt_fail_input(out, "contentType", req->content_type,
		    "expected one of " CT_JSON ", " CT_JSON_UTF8 ", " CT_FORM);
	}
	smap_free(&qs);
	return rc;
}

/* sdJsonBodyToEvent: a self-describing JSON body and no schema parameter. */
static int
sd_body(const struct adapt_req *req, struct adapt_out *out)
{
	char err[512], uri[IGLU_URI_MAX];
	struct ajson *j, *schema, *data;
	struct iglu_key key;
	const char *code = NULL;
	int rc = 0;

	if (!is_json_ct(req->content_type))
		return adapt_fail_input(out, "contentType", req->content_type,
		    "expected one of " CT_JSON ", " CT_JSON_UTF8);
	if ((j = ajson_parse(req->body, req->body_len, req->max_depth, err, sizeof(err))) == NULL)
		return adapt_fail_notjson(out, "body", req->body, req->body_len, err);
	schema = ajson_get(j, "schema");
	data = ajson_get(j, "data");
	if (j->type != AJ_OBJ || schema == NULL || schema->type != AJ_STR)
		code = "INVALID_DATA_PAYLOAD";
	else if (strlen(schema->s) != schema->len || iglu_key_parse(schema->s, &key, &code) == -1)
		code = code ? code : "INVALID_IGLUURI";
	else if (data == NULL)
		code = "INVALID_DATA_PAYLOAD";
	if (code) {
		rc = adapt_fail_notiglu(out, ajson_to_jansson(j), code);
	} else {
		iglu_key_format(&key, uri, sizeof(uri));
		if (adapt_unstruct(out, IGLU_TV, req->qs, uri, data, "app") == NULL)
			rc = -1;
	}
	ajson_free(j);
	return rc;
}

int
adapt_iglu_run(const struct adapt_req *req, struct adapt_out *out)
{
	const struct smap_ent *s = smap_get(req->qs, "schema");
	const char *schema = s ? s->v : NULL;

	if (req->body && req->content_type == NULL)
		return adapt_fail_input(out, "contentType", NULL,
		    "expected one of " CT_JSON ", " CT_JSON_UTF8 ", " CT_FORM);
	if (schema)
		return with_schema(req, out, schema);
	if (req->body)
		return sd_body(req, out);
	if (adapt_fail_input(out, "schema", NULL, "empty `schema` field") == -1)
		return -1;
	return adapt_fail_input(out, "body", NULL, "empty body");
}
