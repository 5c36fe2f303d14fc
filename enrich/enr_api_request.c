/*
 * enr_api_request: api_request_enrichment_config (iglu:com.snowplowanalytics.snowplow.
 * enrichments/api_request_enrichment_config/jsonschema/1-0-*), upstream's ApiRequestEnrichment.
 *
 * Per event:
 *  1. inputs: each key's value from an atomic column ("pojo", its text) or, by JSONPath, from
 *     the first entity matching schemaCriterion in contexts, unstruct_event or the derived
 *     contexts so far ("json"; no matching entity: the key is missing; nothing selected: "";
 *     strings as they are, other scalars as JSON, arrays joined with ',', objects as JSON). A
 *     missing key means no lookup and no error.
 *  2. the URI template's {{key}} placeholders are replaced with the URL-encoded values
 *     (Java's URLEncoder); a placeholder left over means no lookup;
 *  3. GET, or POST/PUT with the inputs as a JSON object, through libcurl with the config's
 *     timeout (the whole request), HTTP basic authentication, content-type application/json;
 *  4. the JSON answer (cached per URI and body: enr_cache, the config's size and ttl) goes
 *     through each output's JSONPath (several matches: an array; none: an error) and becomes
 *     a context {"schema": output schema, "data": the value};
 *  5. any failure (status other than 2xx, timeout, a body that is not JSON, a path with no
 *     value) fails the event as enrichment_failures, identifier "api-request", unless
 *     ignoreOnError, which drops the contexts instead.
 * Differences from upstream: a pojo field that is not a column, and a JSONPath that does not
 * compile, are refused at startup (upstream fails every event); failed requests are not
 * retried (upstream's HTTP client retries idempotent ones twice, with back-off); lookups are
 * made one event at a time.
 */
#include <ctype.h>
#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "enr.h"
#include "iglu.h"
#include "jsonpath.h"
#include "jsonw.h"

#define API_IDENTIFIER    "api-request"
#define API_RESPONSE_MAX  ((size_t)8 << 20)    /* bytes of one answer */
#define API_URL_MAX       ((size_t)64 << 10)

enum api_source { SRC_POJO, SRC_CONTEXTS, SRC_DERIVED, SRC_UNSTRUCT };

struct api_input {
	char                 *key;
	enum api_source       src;
	int                   col;
	struct iglu_criterion crit;
	struct jsonpath      *path;
};

/*
 * Contexts already extracted from an answer, by the answer's pointer. A cached answer is one
 * json_t, shared and never modified, and the memo holds a reference to it, so the same pointer
 * is the same content: the same context comes out, and handing out the same entity lets
 * enrich's phase 3 skip validating and writing it again (enrich_impl.h's dcache).
 */
#define API_MEMO_SLOTS 64

struct api_memo {
	json_t *answer;
	json_t *ctx;
};

struct api_output {
	char            *schema;
	struct jsonpath *path;
	struct api_memo  memo[API_MEMO_SLOTS];
};

struct api {
	char              *schema_uri;
	struct api_input  *in;
	size_t             n_in;
	struct api_output *out;
	size_t             n_out;
	char              *method, *uri, *user, *pass;
	long               timeout_ms;
	int                ignore_on_error;
	struct enr_cache  *cache;
	CURL              *curl;
	struct curl_slist *headers;
	struct buf         resp;
	/* api_apply's working buffers, made at the first event and kept (no allocation a lookup) */
	struct buf        *vals;
	int               *have;
	struct buf         url, body, key;
	json_t            *made;
};

static void
api_free(void *state)
{
	struct api *a = state;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < a->n_in; i++) {
		free(a->in[i].key);
		jsonpath_free(a->in[i].path);
	}
	for (i = 0; i < a->n_out; i++) {
		size_t m;
		free(a->out[i].schema);
		jsonpath_free(a->out[i].path);
		for (m = 0; m < API_MEMO_SLOTS; m++) {
			json_decref(a->out[i].memo[m].answer);
			json_decref(a->out[i].memo[m].ctx);
		}
	}
	for (i = 0; a->vals && i < a->n_in; i++)
		buf_free(&a->vals[i]);
	free(a->vals);
	free(a->have);
	buf_free(&a->url);
	buf_free(&a->body);
	buf_free(&a->key);
	json_decref(a->made);
	free(a->in);
	free(a->out);
	free(a->schema_uri);
	free(a->method);
	free(a->uri);
	free(a->user);
	if (a->pass) {
		memset(a->pass, 0, strlen(a->pass));
		free(a->pass);
	}
	enr_cache_free(a->cache);
	if (a->curl)
		curl_easy_cleanup(a->curl);
	curl_slist_free_all(a->headers);
	buf_free(&a->resp);
	free(a);
}

/* The column named by a pojo field, or -1. */
static int
column_named(const char *name)
{
	int i;

	for (i = 0; i < EVENT_NCOLS; i++)
		if (!strcmp(event_cols[i].name, name) && event_cols[i].type != EVT_JSON)
			return i;
	return -1;
}

/* A "json" input or output source: field, schemaCriterion, jsonPath. */
static int
load_json_source(const json_t *js, enum api_source *src, struct iglu_criterion *crit,
    struct jsonpath **path, char *err, size_t errlen)
{
	const char *f = enr_json_str(js, "field"), *c = enr_json_str(js, "schemaCriterion");
	const char *p = enr_json_str(js, "jsonPath");
	char why[256];

	if (f == NULL || c == NULL || p == NULL) {
		snprintf(err, errlen, "\"field\", \"schemaCriterion\" and \"jsonPath\" are required");
		return -1;
	}
	if (!strcmp(f, "contexts"))
		*src = SRC_CONTEXTS;
	else if (!strcmp(f, "derived_contexts"))
		*src = SRC_DERIVED;
	else if (!strcmp(f, "unstruct_event"))
		*src = SRC_UNSTRUCT;
	else {
		snprintf(err, errlen, "wrong field [%s]: should be one of derived_contexts, contexts, "
		    "unstruct_event", f);
		return -1;
	}
	if (iglu_criterion_parse(c, crit) < 0) {
		snprintf(err, errlen, "invalid schemaCriterion %s", c);
		return -1;
	}
	if ((*path = jsonpath_compile(p, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", p, why);
		return -1;
	}
	return 0;
}

static void *
api_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const json_t *inputs = json_object_get(p, "inputs"), *outputs = json_object_get(p, "outputs");
	const json_t *http = json_object_get(json_object_get(p, "api"), "http");
	const json_t *cache = json_object_get(p, "cache");
	const json_t *basic = json_object_get(json_object_get(http, "authentication"), "httpBasic");
	const json_t *it;
	struct api *a;
	char why[512];
	size_t i;

	if (!json_is_array(inputs) || !json_is_array(outputs) || json_array_size(outputs) == 0 ||
	    !json_is_object(http) || !json_is_object(cache)) {
		snprintf(err, errlen, "parameters: \"inputs\", \"api\".\"http\", \"outputs\" and \"cache\" "
		    "are required");
		return NULL;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->in = calloc(json_array_size(inputs) + 1, sizeof(*a->in))) == NULL ||
	    (a->out = calloc(json_array_size(outputs), sizeof(*a->out))) == NULL) {
		snprintf(err, errlen, "out of memory");
		api_free(a);
		return NULL;
	}
	buf_init(&a->resp, API_RESPONSE_MAX);
	buf_init(&a->url, 0);
	buf_init(&a->body, 0);
	buf_init(&a->key, 0);
	a->schema_uri = strdup(ctx->schema_uri);
	json_array_foreach(inputs, i, it) {
		struct api_input *in = &a->in[a->n_in];
		const char *key = enr_json_str(it, "key");
		const json_t *pojo = json_object_get(it, "pojo"), *js = json_object_get(it, "json");
		if (key == NULL || (pojo == NULL) == (js == NULL)) {
			snprintf(err, errlen, "parameters.inputs[%zu]: a \"key\" and either \"pojo\" or "
			    "\"json\" are required", i);
			goto fail;
		}
		in->key = strdup(key);
		a->n_in++;
		if (pojo) {
			const char *f = enr_json_str(pojo, "field");
			in->src = SRC_POJO;
			if (f == NULL || (in->col = column_named(f)) < 0) {
				snprintf(err, errlen, "parameters.inputs[%zu]: pojo field %s is not an atomic "
				    "field", i, f ? f : "(none)");
				goto fail;
			}
		} else if (load_json_source(js, &in->src, &in->crit, &in->path, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "parameters.inputs[%zu].json: %s", i, why);
			goto fail;
		}
	}
	json_array_foreach(outputs, i, it) {
		const char *schema = enr_json_str(it, "schema");
		const char *path = enr_json_str(json_object_get(it, "json"), "jsonPath");
		struct iglu_key k;
		if (schema == NULL || iglu_key_parse(schema, &k, NULL) < 0 || path == NULL) {
			snprintf(err, errlen, "parameters.outputs[%zu]: a valid \"schema\" and "
			    "\"json\".\"jsonPath\" are required", i);
			goto fail;
		}
		a->out[i].schema = strdup(schema);
		a->n_out++;
		if ((a->out[i].path = jsonpath_compile(path, why, sizeof(why))) == NULL) {
			snprintf(err, errlen, "parameters.outputs[%zu].json.jsonPath %s: %s", i, path, why);
			goto fail;
		}
	}
	a->method = strdup(enr_json_str(http, "method") ? enr_json_str(http, "method") : "GET");
	a->uri = strdup(enr_json_str(http, "uri") ? enr_json_str(http, "uri") : "");
	a->timeout_ms = (long)json_integer_value(json_object_get(http, "timeout"));
	if (strcmp(a->method, "GET") && strcmp(a->method, "POST") && strcmp(a->method, "PUT")) {
		snprintf(err, errlen, "parameters.api.http.method: GET, POST or PUT");
		goto fail;
	}
	if (strncmp(a->uri, "http://", 7) != 0 && strncmp(a->uri, "https://", 8) != 0) {
		snprintf(err, errlen, "parameters.api.http.uri: an http:// or https:// URI template "
		    "is required");
		goto fail;
	}
	if (a->timeout_ms <= 0)
		a->timeout_ms = 1000;
	if (basic) {
		a->user = strdup(enr_json_str(basic, "username") ? enr_json_str(basic, "username") : "");
		a->pass = strdup(enr_json_str(basic, "password") ? enr_json_str(basic, "password") : "");
	}
	a->ignore_on_error = json_is_true(json_object_get(p, "ignoreOnError"));
	a->cache = enr_cache_new((long)json_integer_value(json_object_get(cache, "size")),
	    (long)json_integer_value(json_object_get(cache, "ttl")));
	a->curl = curl_easy_init();
	a->headers = curl_slist_append(NULL, "Content-Type: application/json");
	a->headers = a->headers ? curl_slist_append(a->headers, "Accept: */*") : NULL;
	if (a->schema_uri == NULL || a->method == NULL || a->uri == NULL || a->cache == NULL ||
	    a->curl == NULL || a->headers == NULL || (basic && (a->user == NULL || a->pass == NULL))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	return a;
fail:
	api_free(a);
	return NULL;
}

/* ---- inputs ---- */

/* Input.stringifyJson: strings as they are, arrays joined with ',', the rest as JSON. */
static int
stringify(const json_t *j, struct buf *out)
{
	size_t i;

	if (json_is_string(j))
		return buf_append(out, json_string_value(j), json_string_length(j));
	if (json_is_array(j)) {
		for (i = 0; i < json_array_size(j); i++)
			if ((i && buf_append_byte(out, ',') < 0) || stringify(json_array_get(j, i), out) < 0)
				return -1;
		return 0;
	}
	return jsonw_value(out, j);
}

/* JsonPath.wrapArray: nothing -> [], one -> it, more -> an array of them (new reference). */
static json_t *
wrap_array(const struct jsonpath_matches *m)
{
	json_t *a;
	size_t i;

	if (m->n == 1)
		return json_incref(m->v[0]);
	a = json_array();
	for (i = 0; a && i < m->n; i++)
		json_array_append(a, m->v[i]);
	return a;
}

/* The first entity of list (an array of {schema,data}, or one entity) matching crit. */
static json_t *
first_match(json_t *list, const struct iglu_criterion *crit)
{
	size_t i, n = json_is_array(list) ? json_array_size(list) : (list ? 1 : 0);

	for (i = 0; i < n; i++) {
		json_t *e = json_is_array(list) ? json_array_get(list, i) : list;
		const char *s = json_string_value(json_object_get(e, "schema"));
		struct iglu_key k;
		if (s && iglu_key_parse(s, &k, NULL) == 0 && iglu_criterion_matches(crit, &k))
			return json_object_get(e, "data");
	}
	return NULL;
}

/* The value of one input into out; 0, 1 when it is missing (no lookup), -1 out of memory. */
static int
input_value(const struct api_input *in, const struct enrich_event *ev, struct buf *out)
{
	struct jsonpath_matches m = { NULL, 0, 0 };
	json_t *list, *data, *w;
	int rc;

	buf_reset(out);
	if (in->src == SRC_POJO) {
		const char *v = ev->col[in->col];
		if (v == NULL)
			return in->col == COL_USERAGENT && ev->useragent_empty ? 0 : 1;
		return buf_append_str(out, v);
	}
	list = in->src == SRC_CONTEXTS ? ev->contexts : in->src == SRC_DERIVED ? ev->derived :
	    ev->unstruct;
	if ((data = first_match(list, &in->crit)) == NULL)
		return 1;
	if (jsonpath_query(in->path, data, &m) < 0) {
		jsonpath_matches_free(&m);
		return -1;
	}
	w = wrap_array(&m);
	jsonpath_matches_free(&m);
	rc = w ? stringify(w, out) : -1;
	json_decref(w);
	return rc;
}

/* Java's URLEncoder.encode(s, "UTF-8"). */
static int
url_encode(const char *s, size_t n, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		int rc;
		if (isalnum(c) || c == '.' || c == '-' || c == '*' || c == '_')
			rc = buf_append_byte(out, c);
		else if (c == ' ')
			rc = buf_append_byte(out, '+');
		else {
			char e[3] = { '%', hex[c >> 4], hex[c & 15] };
			rc = buf_append(out, e, 3);
		}
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* HttpApi.buildUrl: {{ key }} (spaces allowed inside the braces) replaced by the key's encoded
 * value; 1 when a brace is left over (no lookup), 0 done, -1 out of memory. */
static int
build_url(const struct api *a, struct buf *vals, const int *have, struct buf *url)
{
	const char *p = a->uri;
	size_t i;

	buf_reset(url);
	while (*p) {
		const char *q = p, *k, *ke;
		size_t kl;
		if (p[0] != '{' || p[1] != '{') {     /* a run up to the next brace, as it is */
			const char *b = strchr(p + 1, '{');
			size_t run = b ? (size_t)(b - p) : strlen(p);
			if (buf_append(url, p, run) < 0)
				return -1;
			p += run;
			continue;
		}
		q += 2;
		while (*q == ' ')
			q++;
		k = q;
		while (isalnum((unsigned char)*q) || *q == '_' || *q == '-')
			q++;
		ke = q;
		while (*q == ' ')
			q++;
		kl = (size_t)(ke - k);
		if (kl == 0 || q[0] != '}' || q[1] != '}') {
			if (buf_append_byte(url, (unsigned char)*p++) < 0)
				return -1;
			continue;
		}
		/* the last input with this key wins, as upstream's toMap */
		for (i = a->n_in; i-- > 0;)
			if (have[i] && strlen(a->in[i].key) == kl && !memcmp(a->in[i].key, k, kl))
				break;
		if (i == (size_t)-1) {
			if (buf_append(url, p, (size_t)(q + 2 - p)) < 0)
				return -1;
		} else if (url_encode(vals[i].data ? vals[i].data : "", vals[i].len, url) < 0) {
			return -1;
		}
		p = q + 2;
	}
	if (url->len > API_URL_MAX)
		return 1;
	return (url->data && (strchr(url->data, '{') || strchr(url->data, '}'))) ? 1 : 0;
}

/* HttpApi.buildBody: the inputs as a JSON object (POST and PUT). */
static int
build_body(const struct api *a, struct buf *vals, const int *have, struct buf *body)
{
	json_t *o = json_object();
	size_t i;
	int rc;

	buf_reset(body);
	for (i = 0; o && i < a->n_in; i++)
		if (have[i])
			json_object_set_new(o, a->in[i].key,
			    jsonw_string_new(vals[i].data ? vals[i].data : "", vals[i].len));
	rc = o ? jsonw_value(body, o) : -1;
	json_decref(o);
	return rc;
}

/* ---- the request ---- */

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;

	return buf_append(b, p, size * nmemb) == 0 ? size * nmemb : 0;
}

/* Perform the request; the parsed JSON answer, or NULL with a message in err. */
static json_t *
call_api(struct api *a, const char *url, const struct buf *body, char *err, size_t errlen)
{
	CURL *c = a->curl;
	CURLcode rc;
	long status = 0;
	json_error_t jerr;
	json_t *j;

	buf_reset(&a->resp);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, a->headers);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a->resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, a->timeout_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, a->timeout_ms);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	if (a->user) {
		curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(c, CURLOPT_USERNAME, a->user);
		curl_easy_setopt(c, CURLOPT_PASSWORD, a->pass);
	}
	if (strcmp(a->method, "GET") != 0) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data ? body->data : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body->len);
		if (strcmp(a->method, "PUT") == 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	}
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (rc == CURLE_WRITE_ERROR && a->resp.len >= API_RESPONSE_MAX - CURL_MAX_WRITE_SIZE) {
		snprintf(err, errlen, "Response larger than %zu bytes", API_RESPONSE_MAX);
		return NULL;
	}
	if (rc == CURLE_OPERATION_TIMEDOUT) {
		snprintf(err, errlen, "Request timed out after %ld ms", a->timeout_ms);
		return NULL;
	}
	if (rc != CURLE_OK) {
		snprintf(err, errlen, "Request failed: %s", curl_easy_strerror(rc));
		return NULL;
	}
	if (status < 200 || status > 299) {
		snprintf(err, errlen, "Request failed with status %ld", status);
		return NULL;
	}
	j = json_loadb(a->resp.data ? a->resp.data : "", a->resp.len, JSON_DECODE_ANY, &jerr);
	if (j == NULL)
		snprintf(err, errlen, "Response is not JSON: %s (line %d, column %d)", jerr.text,
		    jerr.line, jerr.column);
	return j;
}

/* JsonOutput.extract + describeJson: the context for one output, or NULL with err. */
static json_t *
extract(const struct api_output *o, json_t *answer, char *err, size_t errlen)
{
	struct jsonpath_matches m = { NULL, 0, 0 };
	json_t *v, *ctx;
	struct buf b;

	if (jsonpath_query(o->path, answer, &m) < 0) {
		jsonpath_matches_free(&m);
		snprintf(err, errlen, "API Request enrichment:JSONPath error %s selects too many values",
		    jsonpath_text(o->path));
		return NULL;
	}
	v = wrap_array(&m);
	jsonpath_matches_free(&m);
	if (v == NULL || (json_is_array(v) && json_array_size(v) == 0)) {
		buf_init(&b, 0);
		jsonw_value(&b, answer);
		snprintf(err, errlen, "API Request enrichment:Value not found Error: no values were "
		    "found by JSON Path [%s] in [%.1000s]", jsonpath_text(o->path), b.data ? b.data : "");
		buf_free(&b);
		json_decref(v);
		return NULL;
	}
	ctx = json_pack("{s:s,s:o}", "schema", o->schema, "data", v);
	if (ctx == NULL)
		snprintf(err, errlen, "out of memory");
	return ctx;
}

/* extract, through the output's memo. A new reference, or NULL with err (not memoised). */
static json_t *
extract_memo(struct api_output *o, json_t *answer, char *err, size_t errlen)
{
	struct api_memo *m = &o->memo[((uintptr_t)answer >> 4) % API_MEMO_SLOTS];
	json_t *ctx;

	if (m->answer == answer && m->ctx != NULL)
		return json_incref(m->ctx);
	if ((ctx = extract(o, answer, err, errlen)) == NULL)
		return NULL;
	json_decref(m->answer);
	json_decref(m->ctx);
	m->answer = json_incref(answer);
	m->ctx = json_incref(ctx);
	return ctx;
}

static int
api_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct api *a = state;
	struct buf *vals, *url = &a->url, *body = &a->body, *key = &a->key;
	int *have, r;
	json_t *answer = NULL, *made;
	char err[2048];
	const char *cerr;
	size_t i;
	int nfail = 0, rc = 0;

	if (a->vals == NULL) {
		if ((a->vals = calloc(a->n_in + 1, sizeof(*a->vals))) == NULL)
			goto oom;
		for (i = 0; i < a->n_in; i++)
			buf_init(&a->vals[i], 0);
	}
	if (a->have == NULL && (a->have = calloc(a->n_in + 1, sizeof(*a->have))) == NULL)
		goto oom;
	if (a->made == NULL && (a->made = json_array()) == NULL)
		goto oom;
	vals = a->vals;
	have = a->have;
	made = a->made;
	memset(have, 0, (a->n_in + 1) * sizeof(*have));
	json_array_clear(made);
	buf_reset(url);
	buf_reset(body);
	buf_reset(key);
	for (i = 0; i < a->n_in; i++) {
		r = input_value(&a->in[i], ev, &vals[i]);
		if (r < 0)
			goto oom;
		if (r == 1)
			goto done;      /* a missing input: no lookup */
		have[i] = 1;
	}
	if ((r = build_url(a, vals, have, url)) < 0)
		goto oom;
	if (r == 1)
		goto done;
	if (strcmp(a->method, "GET") != 0 && build_body(a, vals, have, body) < 0)
		goto oom;
	/* the cache key: the URI and the body (upstream hashes the two into a UUID) */
	buf_append(key, url->data, url->len);
	buf_append_byte(key, '\n');
	if (body->len)
		buf_append(key, body->data, body->len);
	for (i = 0; i < a->n_out; i++) {
		json_t *ctx;
		if (answer == NULL) {
			const char *e = NULL;
			if (enr_cache_get(a->cache, key->data, enr_cache_now_s(), &answer, &e) == 0) {
				json_t *fresh = call_api(a, url->data, body, err, sizeof(err));
				answer = enr_cache_put(a->cache, key->data, enr_cache_now_s(), fresh, fresh ? NULL : err,
				    &cerr);
				e = answer ? NULL : cerr;
			}
			if (answer == NULL) {
				snprintf(err, sizeof(err), "%s", e ? e : "lookup failed");
				/* every output fails with the request's error, as upstream */
				for (; i < a->n_out; i++, nfail++)
					if (!a->ignore_on_error)
						enr_add_failure(failures, a->schema_uri, API_IDENTIFIER,
						    json_pack("{s:s}", "error", err));
				break;
			}
		}
		if ((ctx = extract_memo(&a->out[i], answer, err, sizeof(err))) == NULL) {
			nfail++;
			if (!a->ignore_on_error)
				enr_add_failure(failures, a->schema_uri, API_IDENTIFIER,
				    json_pack("{s:s}", "error", err));
			continue;
		}
		json_array_append_new(made, ctx);
	}
	if (nfail == 0)
		for (i = 0; i < json_array_size(made); i++)
			enrich_event_add_derived(ev, json_incref(json_array_get(made, i)));
	else if (!a->ignore_on_error)
		rc = -1;
	goto done;
oom:
	enr_add_failure(failures, a->schema_uri, API_IDENTIFIER, json_pack("{s:s}", "error",
	    "out of memory"));
	rc = -1;
done:
	if (a->made)
		json_array_clear(a->made);      /* the contexts' references go with the event */
	json_decref(answer);
	return rc;
}

const struct enr_module enr_api_request = {
	"com.snowplowanalytics.snowplow.enrichments", "api_request_enrichment_config", 1,
	ENRICH_STAGE_LATE, 16, API_IDENTIFIER, api_load, api_apply, api_free,
};
