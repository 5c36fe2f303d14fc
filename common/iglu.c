/*
 * iglu: schema keys, criteria and the resolver (enriched-event.md §15).
 *
 * The resolver owns a list of repositories (the embedded --schemas directory first, then those
 * of Snowplow's resolver-config), an LRU cache of lookups keyed by "vendor/name/format/M-R-A",
 * and one reusable libcurl handle. A cache entry is either a found schema (its JSON, its
 * compiled form, or the schemaIssues that stop it from being used) or a failure (per-repository
 * errors, attempts and last attempt, the lookupHistory of §14.6). Entries expire after cacheTtl;
 * failures caused by a broken registry (RepoFailure) are retried earlier, after a back-off that
 * starts at 500 ms and doubles up to 60 s (§15.3). HTTP requests have short connect and total
 * timeouts so that a dead registry costs each lookup at most a few seconds, and the negative
 * cache makes it cost that only once per back-off period.
 *
 * Lifetime of compiled schemas: a pointer returned by iglu_resolver_lookup stays valid while its
 * entry is cached; an evicted or replaced schema is kept on a retired list that is only freed
 * at a later top-level call, once it holds more than IGLU_RETIRED_MAX entries, so a caller may
 * safely hold a few pointers across lookups, and `$ref`s resolved during a validation never
 * dangle.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>

#include "buf.h"
#include "iglu.h"
#include "fnv.h"
#include "jsonschema_meta.h"
#include "timefmt.h"

#define IGLU_DEFAULT_CACHE_SIZE   500
#define IGLU_MAX_SCHEMA_BYTES     (4u << 20)
#define IGLU_RETIRED_MAX          32
#define IGLU_BACKOFF_START_MS     500
#define IGLU_BACKOFF_MAX_MS       60000
#define IGLU_EMBEDDED_NAME        "Iglu Client Embedded"
#define IGLU_CONFIG_CRITERION     "iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-*"

/* ---------- keys ---------- */

/*
 * The one Iglu grammar (IGLU-CORE SchemaKey.schemaUriRigidRegex, SchemaVer.schemaVerFullRegex,
 * SchemaCriterion.criterionRegex):
 *   vendor  [a-zA-Z0-9-_.]+     name, format  [a-zA-Z0-9-_]+
 *   version M-R-A: M [1-9][0-9]*, R and A 0|[1-9][0-9]*, each a Java int (Integer.parseInt)
 * A URI whose version is [0-9]*-[0-9]*-[0-9]* but not a valid SchemaVer is INVALID_SCHEMAVER;
 * any other shape is INVALID_IGLUURI. furrow adds one bound IGLU-CORE does not have: a part
 * longer than IGLU_PART_MAX bytes is INVALID_IGLUURI.
 */

static const unsigned char iglu_part_chars[256] = {
	['-'] = 3, ['_'] = 3, ['.'] = 1,
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3, ['6'] = 3, ['7'] = 3,
	['8'] = 3, ['9'] = 3,
	['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3, ['G'] = 3, ['H'] = 3,
	['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3,
	['Q'] = 3, ['R'] = 3, ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3,
	['Y'] = 3, ['Z'] = 3,
	['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3, ['g'] = 3, ['h'] = 3,
	['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3, ['m'] = 3, ['n'] = 3, ['o'] = 3, ['p'] = 3,
	['q'] = 3, ['r'] = 3, ['s'] = 3, ['t'] = 3, ['u'] = 3, ['v'] = 3, ['w'] = 3, ['x'] = 3,
	['y'] = 3, ['z'] = 3,
};
#define IGLU_VENDOR_CHAR 1   /* bit 0: allowed in a vendor; bit 1: also in a name or format */
#define IGLU_NAME_CHAR   2

/* The length of the part at s[0..n) up to the next '/', or 0 when it is empty, too long or
 * holds a character outside its class. */
static size_t
part_len(const char *s, size_t n, unsigned char class)
{
	size_t i;

	for (i = 0; i < n && s[i] != '/'; i++)
		if ((iglu_part_chars[(unsigned char)s[i]] & class) == 0)
			return 0;
	return i <= IGLU_PART_MAX ? i : 0;
}

/* One version number: "0" or [1-9][0-9]* within a Java int; model must be > 0. '*' gives -1
 * when star is set (criteria). */
static int
ver_part(const char *s, size_t n, int *out, int positive, int star)
{
	size_t i;
	long v = 0;

	if (star && n == 1 && s[0] == '*') {
		*out = -1;
		return 0;
	}
	if (n == 0 || (n > 1 && s[0] == '0') || n > 10)
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if (v > INT_MAX || (positive && v == 0))
		return -1;
	*out = (int)v;
	return 0;
}

/* "M-R-A" at s[0..n); with star, each part may be '*'. */
static int
ver_parse(const char *s, size_t n, int v[3], int star)
{
	const char *end = s + n, *d1 = memchr(s, '-', n), *d2;

	if (d1 == NULL || (d2 = memchr(d1 + 1, '-', (size_t)(end - d1 - 1))) == NULL ||
	    memchr(d2 + 1, '-', (size_t)(end - d2 - 1)) != NULL)
		return -1;
	return ver_part(s, (size_t)(d1 - s), &v[0], 1, star) == 0 &&
	    ver_part(d1 + 1, (size_t)(d2 - d1 - 1), &v[1], 0, star) == 0 &&
	    ver_part(d2 + 1, (size_t)(end - d2 - 1), &v[2], 0, star) == 0 ? 0 : -1;
}

int
iglu_schemaver_parse(const char *s, size_t n, int *model, int *revision, int *addition)
{
	int v[3];

	if (ver_parse(s, n, v, 0) < 0)
		return -1;
	*model = v[0];
	*revision = v[1];
	*addition = v[2];
	return 0;
}

/* Split "iglu:V/N/F/VER" into its three names (copied into out[3], IGLU_PART_MAX + 1 bytes
 * each) and the version text. Returns 0 or -1 (not that shape). */
static int
split_uri(const char *uri, size_t len, char *out[3], const char **ver, size_t *verlen)
{
	static const unsigned char class[3] = { IGLU_VENDOR_CHAR, IGLU_NAME_CHAR, IGLU_NAME_CHAR };
	size_t pos = 5, n, k;

	if (uri == NULL || len < 5 || memcmp(uri, "iglu:", 5) != 0)
		return -1;
	for (k = 0; k < 3; k++) {
		n = part_len(uri + pos, len - pos, class[k]);
		if (n == 0 || pos + n >= len || uri[pos + n] != '/')
			return -1;
		memcpy(out[k], uri + pos, n);
		out[k][n] = '\0';
		pos += n + 1;
	}
	*ver = uri + pos;
	*verlen = len - pos;
	return 0;
}

int
iglu_key_parsen(const char *uri, size_t len, struct iglu_key *key, const char **code)
{
	char *parts[3] = { key->vendor, key->name, key->format };
	const char *ver, *dummy;
	size_t verlen, i, dashes = 0;
	int v[3];

	if (code == NULL)
		code = &dummy;
	*code = "INVALID_IGLUURI";
	if (split_uri(uri, len, parts, &ver, &verlen) < 0)
		return -1;
	/* the rigid version shape [0-9]*-[0-9]*-[0-9]* */
	for (i = 0; i < verlen; i++)
		if (ver[i] == '-')
			dashes++;
		else if (ver[i] < '0' || ver[i] > '9')
			return -1;
	if (dashes != 2)
		return -1;
	*code = "INVALID_SCHEMAVER";
	if (ver_parse(ver, verlen, v, 0) < 0)
		return -1;
	key->model = v[0];
	key->revision = v[1];
	key->addition = v[2];
	*code = NULL;
	return 0;
}

int
iglu_key_parse(const char *uri, struct iglu_key *key, const char **code)
{
	return iglu_key_parsen(uri, uri ? strlen(uri) : 0, key, code);
}

/* 1 when s is a whole part of the given class. */
static int
part_ok(const char *s, unsigned char class)
{
	size_t n = strlen(s);

	return n > 0 && part_len(s, n, class) == n;
}

int
iglu_key_valid(const struct iglu_key *key)
{
	return part_ok(key->vendor, IGLU_VENDOR_CHAR) && part_ok(key->name, IGLU_NAME_CHAR) &&
	    part_ok(key->format, IGLU_NAME_CHAR) && key->model > 0 && key->revision >= 0 &&
	    key->addition >= 0;
}

int
iglu_key_path_safe(const struct iglu_key *key)
{
	const char *p = key->vendor;

	while (*p == '.')
		p++;
	return *p != '\0';
}

char *
iglu_key_format(const struct iglu_key *key, char *out, size_t outlen)
{
	snprintf(out, outlen, "iglu:%s/%s/%s/%d-%d-%d", key->vendor, key->name, key->format,
	    key->model, key->revision, key->addition);
	return out;
}

int
iglu_criterion_parse(const char *s, struct iglu_criterion *c)
{
	char *parts[3] = { c->vendor, c->name, c->format };
	const char *ver;
	size_t verlen;
	int v[3];

	if (s == NULL || split_uri(s, strlen(s), parts, &ver, &verlen) < 0 ||
	    ver_parse(ver, verlen, v, 1) < 0)
		return -1;
	c->model = v[0];
	c->revision = v[1];
	c->addition = v[2];
	return 0;
}

int
iglu_criterion_matches(const struct iglu_criterion *c, const struct iglu_key *key)
{
	return (c->model < 0 || c->model == key->model) &&
	    (c->revision < 0 || c->revision == key->revision) &&
	    (c->addition < 0 || c->addition == key->addition) &&
	    strcmp(c->name, key->name) == 0 && strcmp(c->vendor, key->vendor) == 0 &&
	    strcmp(c->format, key->format) == 0;
}

int
iglu_key_matches(const struct iglu_key *key, const char *criterion)
{
	struct iglu_criterion c;

	return iglu_criterion_parse(criterion, &c) == 0 && iglu_criterion_matches(&c, key);
}

/* ---------- resolver state ---------- */

enum repo_kind { REPO_EMBEDDED, REPO_HTTP };
enum fetch_result { FETCH_FOUND, FETCH_NOT_FOUND, FETCH_CLIENT_FAILURE, FETCH_REPO_FAILURE };

struct iglu_repo {
	char          *name;
	double         priority;
	char         **prefixes;
	size_t         n_prefixes;
	enum repo_kind kind;
	int            class_priority;   /* §15.3: embedded 2, HTTP 100 */
	char          *path;             /* embedded: the directory that holds vendor folders */
	char          *uri;              /* HTTP: without trailing slash */
	char          *apikey;
};

/* What one repository said about one key. */
struct repo_state {
	json_t  *errors;        /* array of RegistryError objects, deduplicated */
	int      attempts;
	int64_t  last_ms;
	enum fetch_result last;
};

struct entry {
	char              *key;          /* "vendor/name/format/M-R-A" */
	int                found;
	json_t            *schema;
	struct jsonschema *compiled;
	json_t            *issues;       /* schemaIssues when the schema cannot be used */
	struct repo_state *states;       /* one per repository, failures only */
	int64_t            stored_ms;
	struct entry      *prev, *next;  /* LRU, most recent first */
	struct entry      *hnext;
};

struct retired {
	struct jsonschema *compiled;
	struct retired    *next;
};

struct iglu_resolver {
	struct iglu_repo *repos;
	size_t            n_repos;
	size_t            cache_size;
	int64_t           ttl_ms;        /* < 0: no expiry */
	struct entry    **buckets;
	size_t            n_buckets, n_entries;
	struct entry     *lru_head, *lru_tail;
	struct retired   *retired;
	size_t            n_retired;
	int               depth;         /* nested lookups ($ref during a validation) */
	CURL             *curl;
	long              connect_ms, total_ms;
	int64_t         (*now_fn)(void *);
	void             *now_arg;
	struct buf        body;
};

static int64_t
now_ms(struct iglu_resolver *r)
{
	return r->now_fn ? r->now_fn(r->now_arg) : timefmt_now_ms();
}

void
iglu_resolver_set_clock(struct iglu_resolver *r, int64_t (*fn)(void *), void *arg)
{
	r->now_fn = fn;
	r->now_arg = arg;
}

void
iglu_resolver_set_timeouts(struct iglu_resolver *r, long connect_ms, long total_ms)
{
	r->connect_ms = connect_ms;
	r->total_ms = total_ms;
}

static void
retire(struct iglu_resolver *r, struct jsonschema *s)
{
	struct retired *t;

	if (s == NULL)
		return;
	t = malloc(sizeof(*t));
	if (t == NULL)
		return;   /* leak rather than free something a caller may still hold */
	t->compiled = s;
	t->next = r->retired;
	r->retired = t;
	r->n_retired++;
}

static void
retired_collect(struct iglu_resolver *r, int all)
{
	struct retired *t, *next;

	if (!all && (r->depth > 0 || r->n_retired <= IGLU_RETIRED_MAX))
		return;
	for (t = r->retired; t != NULL; t = next) {
		next = t->next;
		jsonschema_free(t->compiled);
		free(t);
	}
	r->retired = NULL;
	r->n_retired = 0;
}

static void
states_free(struct iglu_resolver *r, struct repo_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < r->n_repos; i++)
		json_decref(st[i].errors);
	free(st);
}

static void
lru_unlink(struct iglu_resolver *r, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		r->lru_head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		r->lru_tail = e->prev;
	e->prev = e->next = NULL;
}

static void
lru_push(struct iglu_resolver *r, struct entry *e)
{
	e->prev = NULL;
	e->next = r->lru_head;
	if (r->lru_head)
		r->lru_head->prev = e;
	r->lru_head = e;
	if (r->lru_tail == NULL)
		r->lru_tail = e;
}

static struct entry *
cache_find(struct iglu_resolver *r, const char *key)
{
	struct entry *e;

	for (e = r->buckets[(size_t)fnv_str(key) % r->n_buckets]; e != NULL; e = e->hnext)
		if (strcmp(e->key, key) == 0)
			return e;
	return NULL;
}

/* Drop the entry's content (schema, failure history), keeping key and links. */
static void
entry_clear(struct iglu_resolver *r, struct entry *e)
{
	retire(r, e->compiled);
	e->compiled = NULL;
	json_decref(e->schema);
	e->schema = NULL;
	json_decref(e->issues);
	e->issues = NULL;
	states_free(r, e->states);
	e->states = NULL;
	e->found = 0;
}

static void
cache_remove(struct iglu_resolver *r, struct entry *e)
{
	struct entry **pp = &r->buckets[(size_t)fnv_str(e->key) % r->n_buckets];

	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	lru_unlink(r, e);
	entry_clear(r, e);
	free(e->key);
	free(e);
	r->n_entries--;
}

static struct entry *
cache_add(struct iglu_resolver *r, const char *key)
{
	struct entry *e = calloc(1, sizeof(*e));
	size_t b;

	if (e == NULL || (e->key = strdup(key)) == NULL) {
		free(e);
		return NULL;
	}
	while (r->n_entries >= r->cache_size && r->lru_tail != NULL)
		cache_remove(r, r->lru_tail);
	b = (size_t)fnv_str(key) % r->n_buckets;
	e->hnext = r->buckets[b];
	r->buckets[b] = e;
	lru_push(r, e);
	r->n_entries++;
	return e;
}

/* ---------- repositories ---------- */

static void
repo_free(struct iglu_repo *p)
{
	size_t i;

	free(p->name);
	for (i = 0; i < p->n_prefixes; i++)
		free(p->prefixes[i]);
	free(p->prefixes);
	free(p->path);
	free(p->uri);
	free(p->apikey);
}

static int
repo_add(struct iglu_resolver *r, struct iglu_repo *p)
{
	struct iglu_repo *n = realloc(r->repos, (r->n_repos + 1) * sizeof(*n));

	if (n == NULL)
		return -1;
	r->repos = n;
	r->repos[r->n_repos++] = *p;
	return 0;
}

static struct json_t *
registry_error(enum fetch_result f, const char *msg)
{
	switch (f) {
	case FETCH_NOT_FOUND:
		return json_pack("{s:s}", "error", "NotFound");
	case FETCH_CLIENT_FAILURE:
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

static enum fetch_result
fetch_embedded(struct iglu_resolver *r, const struct iglu_repo *p, const struct iglu_key *k,
    json_t **out, char *msg, size_t msglen)
{
	char path[PATH_MAX];
	json_error_t je;
	int enoent, n;

	if (!key_fetchable(k))
		return FETCH_NOT_FOUND;
	n = snprintf(path, sizeof(path), "%s/%s/%s/%s/%d-%d-%d", p->path, k->vendor, k->name,
	    k->format, k->model, k->revision, k->addition);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		snprintf(msg, msglen, "path too long");
		return FETCH_REPO_FAILURE;
	}
	if (read_file(path, &r->body, IGLU_MAX_SCHEMA_BYTES, &enoent) < 0) {
		if (enoent)
			return FETCH_NOT_FOUND;
		snprintf(msg, msglen, "%.400s: %.200s", path, strerror(errno));
		return FETCH_REPO_FAILURE;
	}
	*out = jsonschema_json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_ALLOW_NUL, 0,
	    &je);
	if (*out == NULL) {
		snprintf(msg, msglen, "%.400s is not valid JSON: %s", path, je.text);
		return FETCH_REPO_FAILURE;
	}
	return FETCH_FOUND;
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

static enum fetch_result
fetch_http(struct iglu_resolver *r, const struct iglu_repo *p, const struct iglu_key *k,
    json_t **out, char *msg, size_t msglen)
{
	char url[2048 + IGLU_URI_MAX], hdr[600], errbuf[CURL_ERROR_SIZE];
	struct curl_slist *headers = NULL;
	json_error_t je;
	CURLcode cc;
	long status = 0;
	int n;

	if (!key_fetchable(k))
		return FETCH_NOT_FOUND;
	if (r->curl == NULL && (r->curl = curl_easy_init()) == NULL) {
		snprintf(msg, msglen, "cannot initialise libcurl");
		return FETCH_REPO_FAILURE;
	}
	n = snprintf(url, sizeof(url), "%s/schemas/%s/%s/%s/%d-%d-%d", p->uri, k->vendor, k->name,
	    k->format, k->model, k->revision, k->addition);
	if (n < 0 || (size_t)n >= sizeof(url)) {
		snprintf(msg, msglen, "URL too long");
		return FETCH_CLIENT_FAILURE;
	}
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
		snprintf(msg, msglen, "%.400s: %.300s", url, errbuf[0] ? errbuf : curl_easy_strerror(cc));
		return FETCH_REPO_FAILURE;
	}
	if (status == 404)
		return FETCH_NOT_FOUND;
	if (status >= 400 && status < 500) {
		snprintf(msg, msglen, "%.400s: unexpected HTTP status %ld", url, status);
		return FETCH_CLIENT_FAILURE;
	}
	if (status < 200 || status >= 300) {
		snprintf(msg, msglen, "%.400s: unexpected HTTP status %ld", url, status);
		return FETCH_REPO_FAILURE;
	}
	/* big integer bounds (e.g. mobile_context's 9223372036854776000) must load too */
	*out = jsonschema_json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_ALLOW_NUL, 0,
	    &je);
	if (*out == NULL || !json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		snprintf(msg, msglen, "%.400s: the response is not a JSON schema: %s", url,
		    je.text[0] ? je.text : "not an object");
		return FETCH_REPO_FAILURE;
	}
	return FETCH_FOUND;
}

/* ---------- lookup ---------- */

static int
vendor_matches(const struct iglu_repo *p, const char *vendor)
{
	size_t i;

	for (i = 0; i < p->n_prefixes; i++)
		if (strncmp(vendor, p->prefixes[i], strlen(p->prefixes[i])) == 0)
			return 1;
	return 0;
}

/* §15.3 step 2: indices of the repositories in the order they are tried for vendor. */
static void
repo_order(const struct iglu_resolver *r, const char *vendor, size_t *idx)
{
	size_t i, j;

	for (i = 0; i < r->n_repos; i++)
		idx[i] = i;
	/* insertion sort: stable, and there are few repositories */
	for (i = 1; i < r->n_repos; i++) {
		size_t x = idx[i];
		const struct iglu_repo *a = &r->repos[x];

		for (j = i; j > 0; j--) {
			const struct iglu_repo *b = &r->repos[idx[j - 1]];
			int va = !vendor_matches(a, vendor), vb = !vendor_matches(b, vendor);

			if (vb < va || (vb == va && (b->class_priority < a->class_priority ||
			    (b->class_priority == a->class_priority && b->priority <= a->priority))))
				break;
			idx[j] = idx[j - 1];
		}
		idx[j] = x;
	}
}

size_t
iglu_resolver_order(const struct iglu_resolver *r, const char *vendor, const char **names,
    size_t max)
{
	size_t idx[64], i, n = r->n_repos < 64 ? r->n_repos : 64;

	repo_order(r, vendor, idx);
	for (i = 0; i < n && i < max; i++)
		names[i] = r->repos[idx[i]].name;
	return n;
}

static int64_t
backoff_ms(int attempts)
{
	int64_t d = IGLU_BACKOFF_START_MS;

	while (--attempts > 0 && d < IGLU_BACKOFF_MAX_MS)
		d *= 2;
	return d > IGLU_BACKOFF_MAX_MS ? IGLU_BACKOFF_MAX_MS : d;
}

/* 1 when a repository of a failed entry may be asked again now. */
static int
repo_due(const struct iglu_resolver *r, const struct entry *e, size_t i, int64_t now)
{
	const struct repo_state *st = &e->states[i];

	if (st->attempts == 0)
		return 1;
	if (r->repos[i].kind == REPO_EMBEDDED || st->last != FETCH_REPO_FAILURE)
		return 0;
	return now >= st->last_ms + backoff_ms(st->attempts);
}

static json_t *
resolution_error(const struct iglu_resolver *r, const struct entry *e)
{
	json_t *hist = json_array();
	size_t i;
	char ts[TIMEFMT_BUFSZ];

	for (i = 0; e->states != NULL && i < r->n_repos; i++) {
		const struct repo_state *st = &e->states[i];

		if (st->attempts == 0)
			continue;
		timefmt_instant(st->last_ms, ts);
		json_array_append_new(hist, json_pack("{s:s, s:O, s:i, s:s}", "repository",
		    r->repos[i].name, "errors", st->errors, "attempts", st->attempts,
		    "lastAttempt", ts));
	}
	return json_pack("{s:s, s:o}", "error", "ResolutionError", "lookupHistory", hist);
}

static const struct jsonschema *ref_cb(const char *uri, void *arg);

/* A schema was found: check it is a usable self-describing schema and compile it. */
static void
entry_found(struct iglu_resolver *r, struct entry *e, json_t *schema, struct jsonschema *old,
    json_t *old_schema)
{
	char err[300];

	e->found = 1;
	e->schema = schema;
	if (old != NULL && old_schema != NULL && json_equal(old_schema, schema)) {
		e->compiled = old;   /* refreshed after cacheTtl, unchanged: keep the compiled form */
		return;
	}
	retire(r, old);
	if (!jsonschema_check_self_describing(schema, &e->issues))
		return;
	e->compiled = jsonschema_compile(schema, ref_cb, r, err, sizeof(err));
	if (e->compiled == NULL)
		e->issues = json_pack("[{s:s, s:s}]", "path", "$", "message", err);
}

static char *
put_str(char *o, const char *s)
{
	size_t n = strlen(s);

	memcpy(o, s, n);
	return o + n;
}

static char *
put_int(char *o, int v)
{
	char tmp[12];
	int n = 0;

	if (v < 0)
		v = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

/* The cache key "vendor/name/format/M-R-A" (no snprintf: this runs for every entity). */
static void
cache_key(const struct iglu_key *k, char *out)
{
	char *o = out;

	o = put_str(o, k->vendor);
	*o++ = '/';
	o = put_str(o, k->name);
	*o++ = '/';
	o = put_str(o, k->format);
	*o++ = '/';
	o = put_int(o, k->model);
	*o++ = '-';
	o = put_int(o, k->revision);
	*o++ = '-';
	o = put_int(o, k->addition);
	*o = 0;
}

static struct entry *
resolve(struct iglu_resolver *r, const struct iglu_key *k)
{
	char key[IGLU_URI_MAX];
	struct entry *e;
	struct jsonschema *old_compiled = NULL;
	json_t *old_schema = NULL;
	size_t idx[64], i, n;
	int64_t now = now_ms(r);
	int fresh = 0;

	cache_key(k, key);
	e = cache_find(r, key);
	if (e != NULL) {
		int expired = r->ttl_ms >= 0 && now - e->stored_ms >= r->ttl_ms;

		lru_unlink(r, e);
		lru_push(r, e);
		if (!expired && e->found)
			return e;
		if (expired) {
			/* keep the compiled form in case the registry returns the same schema */
			old_compiled = e->compiled;
			old_schema = e->schema;
			e->compiled = NULL;
			e->schema = NULL;
			entry_clear(r, e);
			fresh = 1;
		} else {
			for (i = 0; i < r->n_repos; i++)
				if (repo_due(r, e, i, now))
					break;
			if (i == r->n_repos)
				return e;   /* cached failure, nothing to retry yet */
		}
	} else {
		if ((e = cache_add(r, key)) == NULL)
			return NULL;
		fresh = 1;
	}
	if (fresh) {
		e->stored_ms = now;
		e->states = calloc(r->n_repos ? r->n_repos : 1, sizeof(*e->states));
		if (e->states == NULL) {
			retire(r, old_compiled);
			json_decref(old_schema);
			cache_remove(r, e);
			return NULL;
		}
	}
	n = r->n_repos < 64 ? r->n_repos : 64;
	repo_order(r, k->vendor, idx);
	for (i = 0; i < n; i++) {
		struct iglu_repo *p = &r->repos[idx[i]];
		struct repo_state *st = &e->states[idx[i]];
		enum fetch_result f;
		json_t *schema = NULL, *err;
		char msg[1024];

		if (!repo_due(r, e, idx[i], now))
			continue;
		msg[0] = 0;
		f = p->kind == REPO_EMBEDDED ? fetch_embedded(r, p, k, &schema, msg, sizeof(msg)) :
		    fetch_http(r, p, k, &schema, msg, sizeof(msg));
		if (f == FETCH_FOUND) {
			states_free(r, e->states);
			e->states = NULL;
			e->stored_ms = now;
			entry_found(r, e, schema, old_compiled, old_schema);
			json_decref(old_schema);
			return e;
		}
		st->attempts++;
		st->last_ms = now_ms(r);
		st->last = f;
		if (st->errors == NULL)
			st->errors = json_array();
		err = registry_error(f, msg);
		{
			size_t j;

			for (j = 0; j < json_array_size(st->errors); j++)
				if (json_equal(json_array_get(st->errors, j), err))
					break;
			if (j == json_array_size(st->errors))
				json_array_append(st->errors, err);
		}
		json_decref(err);
	}
	retire(r, old_compiled);
	json_decref(old_schema);
	return e;
}

const struct jsonschema *
iglu_resolver_lookup(struct iglu_resolver *r, const struct iglu_key *key, json_t **client_error)
{
	struct entry *e;

	if (client_error != NULL)
		*client_error = NULL;
	retired_collect(r, 0);
	e = resolve(r, key);
	if (e == NULL) {
		if (client_error != NULL)
			*client_error = json_pack("{s:s, s:[]}", "error", "ResolutionError",
			    "lookupHistory");
		return NULL;
	}
	if (e->found && e->compiled != NULL)
		return e->compiled;
	if (client_error != NULL)
		*client_error = e->found ?
		    json_pack("{s:s, s:O}", "error", "ValidationError", "schemaIssues",
		    e->issues ? e->issues : json_array()) :
		    resolution_error(r, e);
	return NULL;
}

const json_t *
iglu_resolver_schema_json(struct iglu_resolver *r, const struct iglu_key *key)
{
	struct entry *e = resolve(r, key);

	return e != NULL && e->found ? e->schema : NULL;
}

static const struct jsonschema *
ref_cb(const char *uri, void *arg)
{
	struct iglu_resolver *r = arg;
	struct iglu_key k;
	const struct jsonschema *s;
	json_t *err = NULL;

	if (iglu_key_parse(uri, &k, NULL) < 0)
		return NULL;
	r->depth++;
	s = iglu_resolver_lookup(r, &k, &err);
	r->depth--;
	json_decref(err);
	return s;
}

int
iglu_validate(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error)
{
	const struct jsonschema *s;
	json_t *reports = NULL, *err = NULL;
	int rc;

	if (client_error != NULL)
		*client_error = NULL;
	s = iglu_resolver_lookup(r, key, &err);
	if (s == NULL) {
		if (client_error != NULL)
			*client_error = err;
		else
			json_decref(err);
		return -1;
	}
	r->depth++;
	rc = jsonschema_validate(s, data, client_error ? &reports : NULL);
	r->depth--;
	if (rc == 1)
		return 0;
	if (client_error != NULL) {
		if (rc < 0)
			reports = json_pack("[{s:s, s:s, s:s, s:[]}]", "message",
			    "$: the instance could not be validated (nested too deeply)", "path", "$",
			    "keyword", "$ref", "targets");
		*client_error = json_pack("{s:s, s:o}", "error", "ValidationError", "dataReports",
		    reports ? reports : json_array());
	}
	return -1;
}

/* §15.6: the version named by the schema's "$supersededBy", when it is greater than key's. */
static int
superseded_by(const json_t *schema, const struct iglu_key *key, struct iglu_key *out)
{
	const json_t *v = json_object_get(schema, "$supersededBy");

	if (!json_is_string(v))
		return 0;
	*out = *key;
	if (iglu_schemaver_parse(json_string_value(v), json_string_length(v), &out->model,
	    &out->revision, &out->addition) < 0)
		return 0;
	if (out->model != key->model)
		return 0;   /* superseding stays within one model */
	if (out->revision < key->revision ||
	    (out->revision == key->revision && out->addition <= key->addition))
		return 0;
	return 1;
}

int
iglu_validate_superseding(struct iglu_resolver *r, const struct iglu_key *key, const json_t *data,
    json_t **client_error, struct iglu_key *used)
{
	struct iglu_key cur = *key, next;
	const json_t *schema;
	int hops, rc;
	char ver[40];

	for (hops = 0; hops < 5; hops++) {
		schema = iglu_resolver_schema_json(r, &cur);
		if (schema == NULL || !superseded_by(schema, &cur, &next))
			break;
		if (iglu_resolver_schema_json(r, &next) == NULL)
			break;   /* the superseding version cannot be fetched: keep this one */
		cur = next;
	}
	if (used != NULL)
		*used = cur;
	rc = iglu_validate(r, &cur, data, client_error);
	if (rc < 0 && client_error != NULL && *client_error != NULL &&
	    (cur.revision != key->revision || cur.addition != key->addition) &&
	    json_object_get(*client_error, "dataReports") != NULL) {
		snprintf(ver, sizeof(ver), "%d-%d-%d", cur.model, cur.revision, cur.addition);
		json_object_set_new(*client_error, "supersededBy", json_string(ver));
	}
	return rc;
}

/* ---------- configuration ---------- */

static int
cfg_err(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int
cfg_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err != NULL && errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_dir(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The directory that holds vendor folders: dir/schemas when it exists, else dir. */
static char *
registry_root(const char *dir)
{
	struct buf tmp;
	size_t n = strlen(dir);
	char *out;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	buf_init(&tmp, PATH_MAX);
	if (buf_append(&tmp, dir, n) == 0 && buf_append_str(&tmp, "/schemas") == 0 &&
	    is_dir(tmp.data)) {
		out = tmp.data;   /* handed over */
		return out;
	}
	buf_free(&tmp);
	return strndup(dir, n);
}

static int
add_embedded(struct iglu_resolver *r, const char *name, double priority, const char *root)
{
	struct iglu_repo p;

	memset(&p, 0, sizeof(p));
	p.name = strdup(name);
	p.priority = priority;
	p.kind = REPO_EMBEDDED;
	p.class_priority = 2;
	p.path = registry_root(root);
	if (p.name == NULL || p.path == NULL || repo_add(r, &p) < 0) {
		repo_free(&p);
		return -1;
	}
	return 0;
}

static int
parse_repo(struct iglu_resolver *r, json_t *j, const char *cfgdir, char *err, size_t errlen)
{
	struct iglu_repo p;
	json_t *name = json_object_get(j, "name"), *prio = json_object_get(j, "priority");
	json_t *pre = json_object_get(j, "vendorPrefixes"), *conn = json_object_get(j, "connection");
	json_t *emb = json_object_get(conn, "embedded"), *http = json_object_get(conn, "http");
	size_t i;

	if (!json_is_string(name) || !json_is_number(prio) || !json_is_array(pre) ||
	    !json_is_object(conn) || (emb == NULL) == (http == NULL))
		return cfg_err(err, errlen, "repository %s is malformed",
		    json_is_string(name) ? json_string_value(name) : "(unnamed)");
	for (i = 0; i < r->n_repos; i++)
		if (strcmp(r->repos[i].name, json_string_value(name)) == 0)
			return cfg_err(err, errlen, "repository name \"%s\" is used twice",
			    json_string_value(name));
	memset(&p, 0, sizeof(p));
	p.name = strdup(json_string_value(name));
	p.priority = json_number_value(prio);
	p.prefixes = calloc(json_array_size(pre) + 1, sizeof(*p.prefixes));
	if (p.name == NULL || p.prefixes == NULL)
		goto oom;
	for (i = 0; i < json_array_size(pre); i++) {
		const char *s = json_string_value(json_array_get(pre, i));

		if (s == NULL) {
			repo_free(&p);
			return cfg_err(err, errlen, "vendorPrefixes must be strings");
		}
		if ((p.prefixes[p.n_prefixes++] = strdup(s)) == NULL)
			goto oom;
	}
	if (emb != NULL) {
		const char *path = json_string_value(json_object_get(emb, "path"));
		struct buf full;

		if (path == NULL) {
			repo_free(&p);
			return cfg_err(err, errlen, "embedded repository without a path");
		}
		buf_init(&full, PATH_MAX);
		if (path[0] != '/' && cfgdir != NULL)
			buf_printf(&full, "%s/", cfgdir);
		buf_append_str(&full, path);
		buf_append_str(&full, "/schemas");   /* upstream: <path>/schemas/<vendor>/… */
		p.kind = REPO_EMBEDDED;
		p.class_priority = 2;
		p.path = full.data;   /* handed over */
		if (p.path == NULL)
			goto oom;
	} else {
		const char *uri = json_string_value(json_object_get(http, "uri"));
		const char *key = json_string_value(json_object_get(http, "apikey"));
		size_t n;

		if (uri == NULL || (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)) {
			repo_free(&p);
			return cfg_err(err, errlen, "repository %s: uri must be http:// or https://",
			    json_string_value(name));
		}
		n = strlen(uri);
		while (n > 0 && uri[n - 1] == '/')
			n--;
		p.kind = REPO_HTTP;
		p.class_priority = 100;
		if ((p.uri = strndup(uri, n)) == NULL || (key != NULL && (p.apikey = strdup(key)) == NULL))
			goto oom;
		if (key != NULL && strpbrk(key, "\r\n") != NULL) {
			repo_free(&p);
			return cfg_err(err, errlen, "repository %s: apikey has a line break",
			    json_string_value(name));
		}
	}
	if (repo_add(r, &p) < 0)
		goto oom;
	return 0;
oom:
	repo_free(&p);
	return cfg_err(err, errlen, "out of memory");
}

static int
parse_config(struct iglu_resolver *r, const char *path, char *err, size_t errlen)
{
	json_t *doc, *data, *repos, *size, *ttl, *reports = NULL;
	json_error_t je;
	const char *uri;
	const struct jsonschema *schema;
	struct iglu_key key;
	char cfgdir[PATH_MAX], *slash;
	size_t i;
	int rc = -1;

	doc = json_load_file(path, 0, &je);
	if (doc == NULL)
		return cfg_err(err, errlen, "%s: line %d: %s", path, je.line, je.text);
	uri = json_string_value(json_object_get(doc, "schema"));
	data = json_object_get(doc, "data");
	if (uri == NULL || data == NULL) {
		cfg_err(err, errlen, "%s: not a self-describing JSON (schema and data)", path);
		goto out;
	}
	if (iglu_key_parse(uri, &key, NULL) < 0 || !iglu_key_matches(&key, IGLU_CONFIG_CRITERION)) {
		cfg_err(err, errlen, "%s: schema %s is not %s", path, uri, IGLU_CONFIG_CRITERION);
		goto out;
	}
	/* Validate against the resolver-config schema when the embedded registry holds it. */
	schema = r->n_repos > 0 ? iglu_resolver_lookup(r, &key, NULL) : NULL;
	if (schema != NULL && jsonschema_validate(schema, data, &reports) != 1) {
		json_t *first = json_array_get(reports, 0);

		cfg_err(err, errlen, "%s: invalid resolver configuration: %s", path,
		    first ? json_string_value(json_object_get(first, "message")) : "?");
		goto out;
	}
	size = json_object_get(data, "cacheSize");
	ttl = json_object_get(data, "cacheTtl");
	repos = json_object_get(data, "repositories");
	if (!json_is_number(size) || json_number_value(size) < 0 || !json_is_array(repos)) {
		cfg_err(err, errlen, "%s: cacheSize and repositories are required", path);
		goto out;
	}
	r->cache_size = json_number_value(size) < 1 ? 1 : (size_t)json_number_value(size);
	if (json_is_number(ttl)) {
		if (json_number_value(ttl) < 0) {
			cfg_err(err, errlen, "%s: cacheTtl must not be negative", path);
			goto out;
		}
		r->ttl_ms = (int64_t)(json_number_value(ttl) * 1000);
	} else if (ttl != NULL && !json_is_null(ttl)) {
		cfg_err(err, errlen, "%s: cacheTtl must be a number or null", path);
		goto out;
	}
	snprintf(cfgdir, sizeof(cfgdir), "%s", path);
	slash = strrchr(cfgdir, '/');
	if (slash != NULL)
		*slash = 0;
	else
		snprintf(cfgdir, sizeof(cfgdir), ".");
	for (i = 0; i < json_array_size(repos); i++) {
		char e2[300];

		if (parse_repo(r, json_array_get(repos, i), cfgdir, e2, sizeof(e2)) < 0) {
			cfg_err(err, errlen, "%s: %s", path, e2);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(reports);
	json_decref(doc);
	return rc;
}

static void
cache_clear(struct iglu_resolver *r)
{
	while (r->lru_head != NULL)
		cache_remove(r, r->lru_head);
}

struct iglu_resolver *
iglu_resolver_new(const char *config_path, const char *schemas_dir, char *err, size_t errlen)
{
	struct iglu_resolver *r = calloc(1, sizeof(*r));

	if (err != NULL && errlen > 0)
		err[0] = 0;
	if (r == NULL) {
		cfg_err(err, errlen, "out of memory");
		return NULL;
	}
	r->cache_size = IGLU_DEFAULT_CACHE_SIZE;
	r->ttl_ms = -1;
	r->connect_ms = 2000;
	r->total_ms = 5000;
	r->n_buckets = 1024;
	r->buckets = calloc(r->n_buckets, sizeof(*r->buckets));
	buf_init(&r->body, IGLU_MAX_SCHEMA_BYTES + 1);
	if (r->buckets == NULL) {
		cfg_err(err, errlen, "out of memory");
		goto fail;
	}
	if (schemas_dir != NULL) {
		if (!is_dir(schemas_dir)) {
			cfg_err(err, errlen, "%s: not a directory", schemas_dir);
			goto fail;
		}
		if (add_embedded(r, IGLU_EMBEDDED_NAME, 0, schemas_dir) < 0) {
			cfg_err(err, errlen, "out of memory");
			goto fail;
		}
	}
	if (config_path != NULL) {
		if (parse_config(r, config_path, err, errlen) < 0)
			goto fail;
		cache_clear(r);   /* the config lookup ran with the default cache settings */
	}
	return r;
fail:
	iglu_resolver_free(r);
	return NULL;
}

void
iglu_resolver_free(struct iglu_resolver *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->buckets != NULL)
		cache_clear(r);
	retired_collect(r, 1);
	for (i = 0; i < r->n_repos; i++)
		repo_free(&r->repos[i]);
	free(r->repos);
	free(r->buckets);
	if (r->curl != NULL)
		curl_easy_cleanup(r->curl);
	buf_free(&r->body);
	free(r);
}
