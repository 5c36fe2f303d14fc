/*
 * iglu_fetch: one schema from one repository (see iglu_impl.h): a file of an embedded registry
 * (a local folder), or a GET of <uri>/schemas/<vendor>/<name>/<format>/<M-R-A> from an Iglu HTTP
 * registry through the resolver's libcurl handle, with its timeouts and apikey header. The
 * outcome is classified as Iglu's RegistryError kinds (NotFound, ClientFailure, RepoFailure)
 * that the lookupHistory of a ResolutionError reports (enriched-event.md §14.6, §15.3).
 */
#include "iglu_impl.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>

#include "jsonschema_meta.h"
#include "redact.h"

struct json_t *
iglu_fetch_error(enum iglu_fetch_result f, const char *msg)
{
	switch (f) {
	case IGLU_FETCH_NOT_FOUND:
		return json_pack("{s:s}", "error", "NotFound");
	case IGLU_FETCH_CLIENT_FAILURE:
		return json_pack("{s:s, s:s}", "error", "ClientFailure", "message", msg);
	default:
		return json_pack("{s:s, s:s}", "error", "RepoFailure", "message", msg);
	}
}

static int
read_file(const char *path, struct buf *b, size_t max, int *enoent)
{
	FILE *f = fopen(path, "rb");
	char tmp[8192];
	size_t n;

	*enoent = 0;
	buf_reset(b);
	if (f == NULL) {
		*enoent = errno == ENOENT || errno == ENOTDIR;
		return -1;
	}
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (b->len + n > max || buf_append(b, tmp, n) < 0) {
			fclose(f);
			errno = EFBIG;
			return -1;
		}
	if (ferror(f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/*
 * Only a key that follows Iglu's grammar (callers may build one field by field) and whose vendor
 * is not a dot segment becomes a path or URL: "iglu:../x/jsonschema/1-0-0" would otherwise read
 * <registry>/x/... (curl normalises "/schemas/../x") or a file outside the embedded folder. Such
 * a key is not found in any repository, as a registry that refuses the path would answer.
 */
static int
key_fetchable(const struct iglu_key *k)
{
	return iglu_key_valid(k) && iglu_key_path_safe(k);
}

enum iglu_fetch_result
iglu_fetch_embedded(struct iglu_resolver *r, const struct iglu_repo *p, const struct iglu_key *k,
    json_t **out, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	json_error_t je;
	int enoent, n;

	if (!key_fetchable(k))
		return IGLU_FETCH_NOT_FOUND;
	n = snprintf(path, sizeof(path), "%s/%s/%s/%s/%d-%d-%d", p->path, k->vendor, k->name,
	    k->format, k->model, k->revision, k->addition);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(msg, msglen, "path too long");
		return IGLU_FETCH_REPO_FAILURE;
	}
	if (read_file(path, &r->body, IGLU_MAX_SCHEMA_BYTES, &enoent) < 0) {
		if (enoent)
			return IGLU_FETCH_NOT_FOUND;
		snprintf(msg, msglen, "%.400s: %.200s", path, strerror(errno));
		return IGLU_FETCH_REPO_FAILURE;
	}
	*out = jsonschema_json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_ALLOW_NUL, 0,
	    &je);
	if (*out == NULL) {
		snprintf(msg, msglen, "%.400s is not valid JSON: %s", path, je.text);
		return IGLU_FETCH_REPO_FAILURE;
	}
	return IGLU_FETCH_FOUND;
}

static size_t
curl_write_cb(char *data, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	size_t n = size * nmemb;

	if (b->len + n > IGLU_MAX_SCHEMA_BYTES || buf_append(b, data, n) < 0)
		return 0;   /* aborts the transfer */
	return n;
}

enum iglu_fetch_result
iglu_fetch_http(struct iglu_resolver *r, const struct iglu_repo *p, const struct iglu_key *k,
    json_t **out, char *msg, size_t msglen)
{
	char url[2048 + IGLU_URI_MAX], shown[2048 + IGLU_URI_MAX], hdr[600], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	json_error_t je;
	CURLcode cc;
	long status = 0;
	int n;

	if (!key_fetchable(k))
		return IGLU_FETCH_NOT_FOUND;
	if (r->curl == NULL && (r->curl = curl_easy_init()) == NULL) {
		snprintf(msg, msglen, "cannot initialise libcurl");
		return IGLU_FETCH_REPO_FAILURE;
	}
	n = snprintf(url, sizeof(url), "%s/schemas/%s/%s/%s/%d-%d-%d", p->uri, k->vendor, k->name,
	    k->format, k->model, k->revision, k->addition);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		snprintf(msg, msglen, "URL too long");
		return IGLU_FETCH_CLIENT_FAILURE;
	}
	redact_urls(url, shown, sizeof(shown));     /* messages reach logs and bad rows */
	buf_reset(&r->body);
	errbuf[0] = 0;
	curl_easy_reset(r->curl);
	curl_easy_setopt(r->curl, CURLOPT_URL, url);
	curl_easy_setopt(r->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->curl, CURLOPT_CONNECTTIMEOUT_MS, r->connect_ms);
	curl_easy_setopt(r->curl, CURLOPT_TIMEOUT_MS, r->total_ms);
	curl_easy_setopt(r->curl, CURLOPT_WRITEFUNCTION, curl_write_cb);
	curl_easy_setopt(r->curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(r->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(r->curl, CURLOPT_USERAGENT, "furrow-iglu/" FURROW_VERSION);
	curl_easy_setopt(r->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->curl, CURLOPT_FOLLOWLOCATION, 1L);   /* e.g. http -> https */
	curl_easy_setopt(r->curl, CURLOPT_MAXREDIRS, 3L);
	if (p->apikey != NULL) {
		snprintf(hdr, sizeof(hdr), "apikey: %s", p->apikey);
		headers = curl_slist_append(headers, hdr);
		curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, headers);
	}
	cc = curl_easy_perform(r->curl);
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_setopt(r->curl, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(headers);
	if (cc != CURLE_OK) {
		snprintf(msg, msglen, "%.400s: %.300s", shown, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return IGLU_FETCH_REPO_FAILURE;
	}
	if (status == 404)
		return IGLU_FETCH_NOT_FOUND;
	if (status >= 400 && status < 500) {
		snprintf(msg, msglen, "%.400s: unexpected HTTP status %ld", shown, status);
		return IGLU_FETCH_CLIENT_FAILURE;
	}
	if (status < 200 || status >= 300) {
		snprintf(msg, msglen, "%.400s: unexpected HTTP status %ld", shown, status);
		return IGLU_FETCH_REPO_FAILURE;
	}
	/* big integer bounds (e.g. mobile_context's 9223372036854776000) must load too */
	*out = jsonschema_json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_ALLOW_NUL, 0,
	    &je);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(msg, msglen, "%.400s: the response is not a JSON schema: %s", shown,
		    je.text[0] ? je.text : "not an object");
		return IGLU_FETCH_REPO_FAILURE;
	}
	return IGLU_FETCH_FOUND;
}
