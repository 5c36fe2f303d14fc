/*
 * igs_api: Iglu Server's routes (see igs_api.h). Each handler fills a status and a JSON body;
 * messages are upstream's (model/IgluResponse.scala and the services), quoted in the tests.
 */
#include "igs_api.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "igs_auth.h"
#include "igs_lint.h"
#include "igs_path.h"
#include "igs_store.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "log.h"
#include "timefmt.h"

#define MSG_NOT_FOUND_SCHEMA  "The schema is not found"
#define MSG_NOT_AUTHORIZED    "Authentication error: not authorized"
#define MSG_MISMATCH          "Mismatch: the schema metadata does not match the payload and URI"
#define MSG_DECODE_ERROR      "Cannot decode JSON schema"
#define MSG_SCHEMA_INVALID    "The schema does not conform to a JSON Schema v4 specification"
#define MSG_DATA_INVALID      "The data for a field instance is invalid against its schema"
#define MSG_NO_ENDPOINT       "The endpoint does not exist"
#define MSG_TOO_LARGE         "The payload is too large"
#define MSG_MALFORMED         "The request body was malformed."
#define MSG_INVALID_BODY      "The request body was invalid."
#define MSG_BAD_UUID          "Invalid UUID for ApiKey"
#define MSG_NO_SCHEMAS        "No schemas available"
#define MSG_MEDIA_TYPE        "Media type supplied in Content-Type header is not supported"

enum repr { REPR_CANONICAL, REPR_URI, REPR_META };

/* furrow_iglu_server_request_duration_seconds: a schema read from memory takes microseconds, a
 * write (fsync) or a listing of many schemas milliseconds */
static const double request_bounds[] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1,
};

struct igs_api {
	struct igs_store *store;
	struct igs_keys *keys;
	struct igs_lint *lint;
	struct igs_api_config cfg;
	struct igs_api_stats stats;
	struct buf out;              /* response body, reused */
	struct igs_target target;
};

/* One request in progress. */
struct call {
	struct igs_api *a;
	const struct httpd_request *req;
	struct httpd_response *resp;
	struct igs_perm perm;
	int head;
};

/* ---------- responses ---------- */

static void
reply_raw(struct call *c, int status, const char *ctype, const char *body, size_t len)
{
	c->resp->status = status;
	buf_printf(c->resp->headers, "Content-Type: %s\r\n", ctype);
	c->resp->body = body;
	c->resp->body_len = len;
}

/* Send j (consumed) as the JSON body. */
static void
reply_json(struct call *c, int status, json_t *j)
{
	buf_reset(&c->a->out);
	if (j == NULL || jsonw_value(&c->a->out, j) < 0) {
		json_decref(j);
		c->a->stats.errors++;
		reply_raw(c, 500, "application/json", "{\"message\":\"out of memory\"}", 27);
		return;
	}
	json_decref(j);
	if (status >= 500)
		c->a->stats.errors++;
	reply_raw(c, status, "application/json", c->a->out.data, c->a->out.len);
}

static void
reply_msg(struct call *c, int status, const char *msg)
{
	reply_json(c, status, json_pack("{s:s}", "message", msg));
}

static void
reply_msgf(struct call *c, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static void
reply_msgf(struct call *c, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	reply_msg(c, status, msg);
}

/* ---------- request helpers ---------- */

static int
method_is(const struct httpd_request *r, const char *m)
{
	size_t n = strlen(m);

	return r->method_len == n && memcmp(r->method, m, n) == 0;
}

/* PermissionMiddleware: no apikey is anonymous, a UUID nobody issued too, anything else 400. */
static int
authenticate(struct call *c)
{
	const struct httpd_header *h = httpd_header_get(c->req, "apikey");
	char uuid[IGS_UUID_LEN + 1];

	igs_perm_noop(&c->perm);
	if (h == NULL)
		return 0;
	if (igs_uuid_parse(h->value, h->value_len, uuid) < 0) {
		reply_msg(c, 400, MSG_BAD_UUID);
		return -1;
	}
	igs_keys_lookup(c->a->keys, uuid, &c->perm);
	return 0;
}

/* The request body as JSON (circe's decoder with upstream's depth check). NULL after replying
 * 413, 415, 400 (not JSON) or 422 (too deep). */
static json_t *
body_json(struct call *c)
{
	const struct httpd_header *ct = httpd_header_get(c->req, "content-type");
	json_error_t je;
	json_t *j;

	if (c->req->body_len > c->a->cfg.max_payload) {
		reply_msg(c, 413, MSG_TOO_LARGE);
		return NULL;
	}
	if (ct != NULL) {
		size_t n = 0;

		while (n < ct->value_len && ct->value[n] != ';' && ct->value[n] != ' ')
			n++;
		if (!(n == 16 && strncasecmp(ct->value, "application/json", 16) == 0)) {
			reply_msg(c, 415, MSG_MEDIA_TYPE);
			return NULL;
		}
	}
	j = jsonschema_json_loadb(c->req->body ? c->req->body : "", c->req->body_len,
	    JSON_DECODE_ANY, c->a->cfg.max_json_depth, &je);
	if (j == NULL) {
		reply_msg(c, strstr(je.text, "depth") != NULL ? 422 : 400,
		    strstr(je.text, "depth") != NULL ? MSG_INVALID_BODY : MSG_MALFORMED);
		return NULL;
	}
	return j;
}

static int
parse_repr(struct call *c, enum repr def, enum repr *out)
{
	const char *v = igs_target_param(&c->a->target, "repr");
	char low[16];
	size_t i;

	*out = def;
	if (v == NULL)
		return 0;
	for (i = 0; v[i] && i + 1 < sizeof(low); i++)
		low[i] = (char)tolower((unsigned char)v[i]);
	low[i] = '\0';
	if (strlen(v) < sizeof(low) && strcmp(low, "uri") == 0)
		*out = REPR_URI;
	else if (strlen(v) < sizeof(low) && strcmp(low, "meta") == 0)
		*out = REPR_META;
	else if (strlen(v) < sizeof(low) && strcmp(low, "canonical") == 0)
		*out = REPR_CANONICAL;
	else {
		reply_msgf(c, 400, "Unknown schema representation format: '%s'", v);
		return -1;
	}
	return 0;
}

/* isPublic: a Boolean query parameter, false when absent. */
static int
parse_public(struct call *c, int *out)
{
	const char *v = igs_target_param(&c->a->target, "isPublic");

	*out = 0;
	if (v == NULL)
		return 0;
	if (strcasecmp(v, "true") == 0)
		*out = 1;
	else if (strcasecmp(v, "false") != 0) {
		reply_msgf(c, 400, "Invalid query parameter: 'isPublic' = '%s'", v);
		return -1;
	}
	return 0;
}

/* UriParsers.schemaVerParser: only the version decides this route's 400. */
static int
parse_version(struct call *c, const char *v, struct iglu_key *k)
{
	const char *code;

	if (igs_store_key("x", "x", "x", v, k, &code) < 0) {
		reply_msgf(c, 400, "Cannot parse version part '%s' as SchemaVer, INVALID_SCHEMAVER", v);
		return -1;
	}
	return 0;
}

static int
parse_version_quiet(const char *v, struct iglu_key *k)
{
	const char *code;

	return igs_store_key("x", "x", "x", v, k, &code);
}

static char *
uri_of(const struct iglu_key *k, char *out, size_t outlen)
{
	return iglu_key_format(k, out, outlen);
}

/* ---------- representations ---------- */

static json_t *
repr_json(const struct igs_schema *s, enum repr r)
{
	char uri[600], c[TIMEFMT_BUFSZ], u[TIMEFMT_BUFSZ];
	const char *k;
	json_t *v, *o;

	if (r == REPR_URI)
		return json_string(uri_of(&s->key, uri, sizeof(uri)));
	if (r == REPR_CANONICAL)
		return json_incref(s->doc);
	/* Schema.Repr.Full: superseding info, self, metadata, then the body; no "$schema" */
	o = json_object();
	timefmt_instant(s->meta.created_ms, c);
	timefmt_instant(s->meta.updated_ms, u);
	json_object_foreach(s->doc, k, v) {
		if (strcmp(k, "$schema") == 0)
			continue;
		json_object_set(o, k, v);
		if (strcmp(k, "self") == 0)
			json_object_set_new(o, "metadata", json_pack("{s:s, s:s, s:b}", "createdAt", c,
			    "updatedAt", u, "isPublic", s->meta.is_public));
	}
	return o;
}

static int
readable(const struct call *c, const struct igs_schema *s)
{
	return s->meta.is_public || igs_perm_can_read(&c->perm, s->key.vendor);
}

/* ---------- schema service ---------- */

static void
get_schema(struct call *c, const char *vendor, const char *name, const char *format,
    const char *version)
{
	struct iglu_key k, vk;
	const struct igs_schema *s;
	const char *code;
	enum repr r;
	char err[512], uri[600];
	int got;

	if (parse_version(c, version, &vk) < 0 || parse_repr(c, REPR_CANONICAL, &r) < 0)
		return;
	c->a->stats.reads++;
	if (igs_store_key(vendor, name, format, version, &k, &code) < 0) {
		c->a->stats.not_found++;
		reply_msg(c, 404, MSG_NOT_FOUND_SCHEMA);
		return;
	}
	got = igs_store_get(c->a->store, &k, &s, err, sizeof(err));
	if (got < 0) {
		log_warn("%s: %s", uri_of(&k, uri, sizeof(uri)), err);
		reply_msgf(c, 500, "Schema %s cannot be read from the store", uri);
		return;
	}
	if (got == 0 || !readable(c, s)) {
		c->a->stats.not_found++;
		reply_msg(c, 404, MSG_NOT_FOUND_SCHEMA);
		return;
	}
	if (r == REPR_CANONICAL) {
		/* the hot path: the cached text, no JSON work */
		reply_raw(c, 200, "application/json", s->text, s->text_len);
		return;
	}
	reply_json(c, 200, repr_json(s, r));
}

static void
list_schemas(struct call *c, const char *vendor, const char *name, int model, int all)
{
	struct iglu_key *keys = NULL;
	const struct igs_schema *s;
	json_t *arr;
	enum repr r;
	long n, i;
	char err[512];

	if (parse_repr(c, REPR_URI, &r) < 0)
		return;
	n = igs_store_list(c->a->store, vendor, name, model > 0 ? "jsonschema" : NULL, model, &keys);
	if (n < 0) {
		reply_msg(c, 500, "out of memory");
		return;
	}
	arr = json_array();
	for (i = 0; i < n; i++)
		if (igs_store_get(c->a->store, &keys[i], &s, err, sizeof(err)) == 1 && readable(c, s))
			json_array_append_new(arr, repr_json(s, r));
	free(keys);
	if (!all && json_array_size(arr) == 0) {
		json_decref(arr);
		reply_msg(c, 404, MSG_NO_SCHEMAS);
		return;
	}
	reply_json(c, 200, arr);
}

/* The normalized self-describing schema (SelfDescribingSchema.normalize) of a body. */
static json_t *
normalized(const char *vendor, const char *name, const char *format, const char *version,
    const json_t *body)
{
	json_t *doc = json_object(), *v;
	const char *k;

	json_object_set_new(doc, "$schema", json_string(IGS_SELFDESC_URI));
	json_object_set_new(doc, "self", json_pack("{s:s, s:s, s:s, s:s}", "vendor", vendor,
	    "name", name, "format", format, "version", version));
	json_object_foreach((json_t *)body, k, v)
		if (strcmp(k, "$schema") != 0 && strcmp(k, "self") != 0)
			json_object_set(doc, k, v);
	return doc;
}

/* SchemaService.publishSchema for a body that is now known to be for (vendor, …, version). */
static void
publish(struct call *c, const char *vendor, const char *name, const char *format,
    const char *version, json_t *body, json_t *supersedes, int is_public)
{
	struct igs_publish p;
	struct iglu_key k, lk;
	json_t *doc, *report;
	size_t errors;
	int sd, status;
	char msg[1024], uri[600];
	const char *code;

	if (!igs_perm_can_create_schema(&c->perm, vendor)) {
		c->a->stats.refused++;
		reply_msg(c, 403, MSG_NOT_AUTHORIZED);
		return;
	}
	doc = normalized(vendor, name, format, version, body);
	report = igs_lint_schema(c->a->lint, doc, &errors, &lk, &sd);
	json_decref(doc);
	if (errors > 0) {
		c->a->stats.refused++;
		reply_json(c, 400, json_pack("{s:s, s:o}", "message", MSG_SCHEMA_INVALID, "report",
		    report));
		return;
	}
	json_decref(report);
	if (igs_store_key(vendor, name, format, version, &k, &code) < 0) {
		/* Iglu's patterns allow a vendor of "." or "..": never a folder name here */
		c->a->stats.refused++;
		reply_msgf(c, 400, "%s/%s/%s/%s cannot be stored: \".\" and \"..\" are not vendors",
		    vendor, name, format, version);
		return;
	}
	memset(&p, 0, sizeof(p));
	p.key = &k;
	p.body = body;
	p.supersedes = supersedes;
	p.is_public = is_public;
	p.allow_patches = c->a->cfg.allow_patches;
	p.now_ms = timefmt_now_ms();
	status = igs_store_publish(c->a->store, &p, msg, sizeof(msg));
	uri_of(&k, uri, sizeof(uri));
	if (status == 200 || status == 201) {
		c->a->stats.published++;
		log_info("%s %s (%s)", status == 201 ? "published" : "updated", uri,
		    is_public ? "public" : "private");
		reply_json(c, status, json_pack("{s:s, s:b, s:s, s:i}", "message",
		    status == 201 ? "Schema created" : "Schema updated", "updated", status == 200,
		    "location", uri, "status", status));
		return;
	}
	if (status == 409) {
		c->a->stats.refused++;
		reply_msg(c, 409, msg);
		return;
	}
	log_error("publishing %s: %s", uri, msg);
	reply_msgf(c, 500, "Schema %s could not be stored", uri);
}

/* Schema.SchemaBody: take "$supersedes"/"$supersededBy" out of the body. -1 after a reply. */
static int
split_superseding(struct call *c, json_t *body, json_t **supersedes)
{
	json_t *by = json_object_get(body, "$supersededBy"), *sup = json_object_get(body, "$supersedes");
	struct iglu_key k;
	json_t *v;
	size_t i;

	*supersedes = NULL;
	if (by != NULL && !json_is_null(by) &&
	    (!json_is_string(by) || parse_version_quiet(json_string_value(by), &k) < 0))
		goto invalid;
	if (sup != NULL && !json_is_null(sup)) {
		if (!json_is_array(sup))
			goto invalid;
		json_array_foreach(sup, i, v)
			if (!json_is_string(v) || parse_version_quiet(json_string_value(v), &k) < 0)
				goto invalid;
		*supersedes = json_incref(sup);
	}
	json_object_del(body, "$supersededBy");
	json_object_del(body, "$supersedes");
	return 0;
invalid:
	reply_msg(c, 422, MSG_INVALID_BODY);
	return -1;
}

static void
post_schema(struct call *c)
{
	json_t *body, *sup = NULL;
	struct iglu_key k;
	int pub;
	char ver[40];

	if (parse_public(c, &pub) < 0 || (body = body_json(c)) == NULL)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		reply_msg(c, 422, MSG_INVALID_BODY);
		return;
	}
	if (split_superseding(c, body, &sup) == 0) {
		if (!igs_lint_self(body, &k)) {
			reply_msg(c, 400, MSG_DECODE_ERROR);
		} else {
			snprintf(ver, sizeof(ver), "%d-%d-%d", k.model, k.revision, k.addition);
			publish(c, k.vendor, k.name, k.format, ver, body, sup, pub);
		}
	}
	json_decref(sup);
	json_decref(body);
}

static void
put_schema(struct call *c, const char *vendor, const char *name, const char *format,
    const char *version)
{
	json_t *body, *sup = NULL;
	struct iglu_key k, vk;
	int pub;

	if (parse_version(c, version, &vk) < 0 || parse_public(c, &pub) < 0 ||
	    (body = body_json(c)) == NULL)
		return;
	if (!json_is_object(body)) {
		json_decref(body);
		reply_msg(c, 422, MSG_INVALID_BODY);
		return;
	}
	if (split_superseding(c, body, &sup) == 0) {
		if (igs_lint_self(body, &k)) {
			char uri[600], path_uri[600];

			snprintf(path_uri, sizeof(path_uri), "iglu:%s/%s/%s/%d-%d-%d", vendor, name, format,
			    vk.model, vk.revision, vk.addition);
			uri_of(&k, uri, sizeof(uri));
			if (strcmp(uri, path_uri) != 0)
				reply_json(c, 400, json_pack("{s:s, s:s, s:s}", "uriSchemaKey", path_uri,
				    "payloadSchemaKey", uri, "message", MSG_MISMATCH));
			else
				publish(c, vendor, name, format, version, body, sup, pub);
		} else {
			publish(c, vendor, name, format, version, body, sup, pub);
		}
	}
	json_decref(sup);
	json_decref(body);
}

static void
delete_schema(struct call *c, const char *vendor, const char *name, const char *format,
    const char *version)
{
	struct iglu_key k, vk;
	const char *code;
	char err[512], uri[600];

	if (parse_version(c, version, &vk) < 0)
		return;
	if (!(c->perm.key_create && c->perm.key_delete && c->perm.wildcard && !c->perm.vendor[0])) {
		reply_msg(c, 401, "Not enough permissions");
		return;
	}
	if (!c->a->cfg.allow_patches) {
		reply_msg(c, 405, "DELETE is forbidden on production registry");
		return;
	}
	if (igs_store_key(vendor, name, format, version, &k, &code) == 0) {
		if (igs_store_delete(c->a->store, &k, err, sizeof(err)) < 0) {
			log_error("deleting %s: %s", uri_of(&k, uri, sizeof(uri)), err);
			reply_msgf(c, 500, "Schema %s could not be deleted", uri);
			return;
		}
		c->a->stats.deleted++;
		log_info("deleted %s", uri_of(&k, uri, sizeof(uri)));
	}
	reply_msg(c, 200, "Schema deleted");
}

/* ---------- validation service ---------- */

static void
validate_schema(struct call *c, const char *format)
{
	json_t *body, *report;
	struct iglu_key k;
	size_t errors;
	int sd;
	char uri[600];

	if (strcmp(format, "jsonschema") != 0) {
		reply_msgf(c, 400, "Unknown schema format: '%s'", format);
		return;
	}
	if ((body = body_json(c)) == NULL)
		return;
	if (!igs_perm_can_validate(&c->perm)) {
		json_decref(body);
		reply_msg(c, 403, "");
		return;
	}
	report = igs_lint_schema(c->a->lint, body, &errors, &k, &sd);
	json_decref(body);
	if (json_array_size(report) == 0) {
		json_decref(report);
		reply_msgf(c, 200, "The schema provided is a valid self-describing %s schema",
		    uri_of(&k, uri, sizeof(uri)));
		return;
	}
	reply_json(c, 200, json_pack("{s:s, s:o}", "message", MSG_SCHEMA_INVALID, "report", report));
}

static const struct jsonschema *
store_ref_cb(const char *uri, void *arg)
{
	(void)uri;
	(void)arg;
	return NULL;   /* iglu: references validate as {} here, as in upstream's CirceValidator */
}

static void
validate_instance(struct call *c)
{
	json_t *body, *schema_body = NULL, *reports = NULL;
	const json_t *uri_j, *data;
	const struct igs_schema *s;
	struct iglu_key k;
	struct jsonschema *compiled;
	const char *code, *kk;
	json_t *v;
	char err[512], uri[600];
	int got, rc;

	if ((body = body_json(c)) == NULL)
		return;
	if (!igs_perm_can_validate(&c->perm)) {
		json_decref(body);
		reply_msg(c, 404, MSG_NOT_FOUND_SCHEMA);
		return;
	}
	uri_j = json_object_get(body, "schema");
	data = json_object_get(body, "data");
	if (!json_is_object(body) || !json_is_string(uri_j) || data == NULL) {
		reply_msg(c, 400, "JSON payload is not self-describing, INVALID_DATA_PAYLOAD");
		goto out;
	}
	if (iglu_key_parse(json_string_value(uri_j), &k, &code) < 0) {
		reply_msgf(c, 400, "JSON payload is not self-describing, %s", code);
		goto out;
	}
	got = igs_store_key(k.vendor, k.name, k.format, "1-0-0", &(struct iglu_key){ 0 }, &code) == 0 ?
	    igs_store_get(c->a->store, &k, &s, err, sizeof(err)) : 0;
	if (got <= 0 || !readable(c, s)) {
		reply_msg(c, 404, MSG_NOT_FOUND_SCHEMA);
		goto out;
	}
	schema_body = json_object();
	json_object_foreach(s->doc, kk, v)
		if (strcmp(kk, "$schema") != 0 && strcmp(kk, "self") != 0 &&
		    strcmp(kk, "$supersedes") != 0 && strcmp(kk, "$supersededBy") != 0)
			json_object_set(schema_body, kk, v);
	compiled = jsonschema_compile(schema_body, store_ref_cb, NULL, err, sizeof(err));
	uri_of(&k, uri, sizeof(uri));
	if (compiled == NULL) {
		reply_msgf(c, 500, "Schema %s fetched from DB is invalid", uri);
		goto out;
	}
	rc = jsonschema_validate(compiled, data, &reports);
	jsonschema_free(compiled);
	if (rc == 1)
		reply_msgf(c, 200, "Instance is valid %s", uri);
	else if (rc == 0)
		reply_json(c, 200, json_pack("{s:s, s:O}", "message", MSG_DATA_INVALID, "report",
		    reports));
	else
		reply_msgf(c, 500, "Schema %s fetched from DB is invalid", uri);
out:
	json_decref(reports);
	json_decref(schema_body);
	json_decref(body);
}

/* ---------- auth service ---------- */

static void
show_vendor(const char *prefix, char *out, size_t outlen)
{
	const char *b = prefix, *e = prefix + strlen(prefix);

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	if (e == b || (e - b == 1 && *b == '*'))
		snprintf(out, outlen, "'wildcard vendor'");
	else
		snprintf(out, outlen, "%s", prefix);
}

static void
keygen(struct call *c)
{
	json_t *body;
	const char *prefix;
	char rk[IGS_UUID_LEN + 1], wk[IGS_UUID_LEN + 1], err[512], shown[IGS_VENDOR_MAX + 32];
	const char *check;

	if ((body = body_json(c)) == NULL)
		return;
	prefix = json_string_value(json_object_get(body, "vendorPrefix"));
	if (prefix == NULL) {
		json_decref(body);
		reply_msg(c, 422, MSG_INVALID_BODY);
		return;
	}
	show_vendor(prefix, shown, sizeof(shown));
	check = strcmp(shown, "'wildcard vendor'") == 0 ? "" : prefix;
	if (!c->perm.key_create)
		reply_msg(c, 403, "Not sufficient privileges to create keys");
	else if (!igs_perm_can_create_key(&c->perm, check))
		reply_msgf(c, 403, "Cannot create %s using your permissions", shown);
	else if (igs_keys_generate(c->a->keys, prefix, rk, wk, err, sizeof(err)) < 0) {
		log_error("keygen: %s", err);
		reply_msg(c, 500, "Keys could not be stored");
	} else {
		c->a->stats.keys++;
		log_info("issued a read and a write key for vendor prefix %s", shown);
		reply_json(c, 200, json_pack("{s:s, s:s}", "read", rk, "write", wk));
	}
	json_decref(body);
}

static void
delete_key(struct call *c)
{
	const char *key = igs_target_param(&c->a->target, "key");
	char uuid[IGS_UUID_LEN + 1], err[512];

	if (key == NULL) {
		reply_msg(c, 400, "Missing query param: key");
		return;
	}
	if (igs_uuid_parse(key, strlen(key), uuid) < 0) {
		reply_msgf(c, 400, "Invalid query parameter: 'key' = '%s'", key);
		return;
	}
	if (!c->perm.key_delete) {
		reply_msg(c, 403, "Not sufficient privileges to delete key");
		return;
	}
	if (igs_keys_delete(c->a->keys, uuid, err, sizeof(err)) < 0) {
		log_error("deleting a key: %s", err);
		reply_msg(c, 500, "Keys could not be stored");
		return;
	}
	log_info("deleted an API key");
	reply_msg(c, 200, "Keys have been deleted");
}

/* ---------- meta service ---------- */

static void
server_info(struct call *c)
{
	struct iglu_key *keys = NULL;
	long n, i, count = 0;

	n = igs_store_list(c->a->store, NULL, NULL, NULL, 0, &keys);
	for (i = 0; i < n; i++)
		count += igs_perm_can_read(&c->perm, keys[i].vendor);
	free(keys);
	reply_json(c, 200, json_pack("{s:s, s:o, s:s, s:i, s:b, s:b}", "version", FURROW_VERSION,
	    "authInfo", igs_perm_json(&c->perm), "database", "filesystem", "schemaCount", (int)count,
	    "debug", 0, "patchesAllowed", c->a->cfg.allow_patches));
}

/* ---------- routing ---------- */

static const char *
seg(const struct call *c, size_t i)
{
	return c->a->target.seg[i];
}

static int
seg_is(const struct call *c, size_t i, const char *s)
{
	return igs_target_seg_is(&c->a->target, i, s);
}

/* 1 when segment i holds no NUL (a "%00" in a path never names anything). */
static int
clean(const struct call *c, size_t i)
{
	return strlen(c->a->target.seg[i]) == c->a->target.seg_len[i];
}

static int
all_digits(const char *s)
{
	if (*s == '\0' || strlen(s) > 9)
		return 0;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return 0;
	return 1;
}

/* Route within /api/schemas; 0 when nothing matched. */
static int
route_schemas(struct call *c, int get, int post, int put, int del)
{
	size_t n = c->a->target.n_seg, i;

	for (i = 2; i < n; i++)
		if (!clean(c, i))
			return 0;
	if (n == 2 && get)
		list_schemas(c, NULL, NULL, 0, 1);
	else if (n == 2 && post)
		post_schema(c);
	else if (n == 3 && get)
		list_schemas(c, seg(c, 2), NULL, 0, 0);
	else if (n == 4 && get)
		list_schemas(c, seg(c, 2), seg(c, 3), 0, 0);
	else if (n == 6 && get && seg_is(c, 4, "jsonschema") && all_digits(seg(c, 5)))
		list_schemas(c, seg(c, 2), seg(c, 3), atoi(seg(c, 5)), 0);
	else if (n == 6 && get)
		get_schema(c, seg(c, 2), seg(c, 3), seg(c, 4), seg(c, 5));
	else if (n == 6 && put)
		put_schema(c, seg(c, 2), seg(c, 3), seg(c, 4), seg(c, 5));
	else if (n == 6 && del)
		delete_schema(c, seg(c, 2), seg(c, 3), seg(c, 4), seg(c, 5));
	else if (n == 7 && post && seg_is(c, 2, "validate") && seg_is(c, 5, "jsonschema"))
		validate_schema(c, "jsonschema");
	else
		return 0;
	return 1;
}

static void
cors(struct call *c, int preflight)
{
	const struct httpd_header *o = httpd_header_get(c->req, "origin");

	if (o == NULL)
		return;
	buf_append_str(c->resp->headers, "Access-Control-Allow-Origin: ");
	buf_append(c->resp->headers, o->value, o->value_len);
	buf_append_str(c->resp->headers, "\r\nVary: Origin\r\n");
	if (preflight)
		buf_append_str(c->resp->headers, "Access-Control-Allow-Methods: GET, POST, PUT, OPTIONS, "
		    "DELETE\r\nAccess-Control-Allow-Headers: content-type, apikey\r\n"
		    "Access-Control-Max-Age: 86400\r\n");
}

static void
route(struct igs_api *a, const struct httpd_request *req, struct httpd_response *resp)
{
	struct call call, *c = &call;
	enum igs_path_result pr;
	int get, post, put, del, done = 0;
	size_t n;

	memset(c, 0, sizeof(*c));
	c->a = a;
	c->req = req;
	c->resp = resp;
	a->stats.requests++;
	get = method_is(req, "GET") || method_is(req, "HEAD");
	post = method_is(req, "POST");
	put = method_is(req, "PUT");
	del = method_is(req, "DELETE");
	if (method_is(req, "OPTIONS")) {
		cors(c, 1);
		reply_raw(c, 200, "text/plain; charset=UTF-8", "", 0);
		return;
	}
	cors(c, 0);
	pr = igs_target_parse(req->target, req->target_len, &a->target);
	if (pr == IGS_PATH_BAD) {
		reply_msg(c, 400, "Bad request target");
		return;
	}
	n = a->target.n_seg;
	if (pr == IGS_PATH_OK && n >= 2 && seg_is(c, 0, "api")) {
		if (seg_is(c, 1, "meta")) {
			if (get && (n == 3 || n == 4) && seg_is(c, 2, "health") &&
			    (n == 3 || seg_is(c, 3, "db"))) {
				if (authenticate(c) == 0)
					reply_raw(c, 200, "text/plain; charset=UTF-8", "OK", 2);
				return;
			}
			if (get && n == 3 && seg_is(c, 2, "server")) {
				if (authenticate(c) == 0)
					server_info(c);
				return;
			}
		} else if (seg_is(c, 1, "schemas")) {
			/* the permission middleware wraps the whole service: a bad key is 400 here */
			if (authenticate(c) < 0)
				return;
			done = route_schemas(c, get, post, put, del);
		} else if (n == 3 && seg_is(c, 1, "auth") && seg_is(c, 2, "keygen") && (post || del)) {
			if (authenticate(c) == 0) {
				if (post)
					keygen(c);
				else
					delete_key(c);
			}
			return;
		} else if (seg_is(c, 1, "validation") && seg_is(c, 2, "validate") && post) {
			if (n == 5 && seg_is(c, 3, "schema") && clean(c, 4)) {
				if (authenticate(c) == 0)
					validate_schema(c, seg(c, 4));
				return;
			}
			if (n == 4 && seg_is(c, 3, "instance")) {
				if (authenticate(c) == 0)
					validate_instance(c);
				return;
			}
		}
	}
	if (!done)
		reply_msg(c, 404, MSG_NO_ENDPOINT);
}

void
igs_api_handle_cb(const struct httpd_request *req, struct httpd_response *resp, void *arg)
{
	struct igs_api *a = arg;
	double t0 = metrics_now();

	route(a, req, resp);
	metrics_hist_observe(&a->stats.seconds, metrics_now() - t0);
}

/* ---------- life cycle ---------- */

struct igs_api *
igs_api_new(struct igs_store *store, struct igs_keys *keys, struct igs_lint *lint,
    const struct igs_api_config *cfg)
{
	struct igs_api *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->store = store;
	a->keys = keys;
	a->lint = lint;
	a->cfg = *cfg;
	metrics_hist_init(&a->stats.seconds, request_bounds,
	    sizeof(request_bounds) / sizeof(request_bounds[0]));
	buf_init(&a->out, 0);
	return a;
}

void
igs_api_free(struct igs_api *a)
{
	if (a == NULL)
		return;
	buf_free(&a->out);
	free(a);
}

const struct igs_api_stats *
igs_api_stats(const struct igs_api *a)
{
	return &a->stats;
}
