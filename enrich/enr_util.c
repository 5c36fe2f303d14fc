/*
 * enr_util: helpers shared by the enrichment modules (see enr.h): TSV-safe values, query
 * strings, URL decoding, digests through OpenSSL's libcrypto, and the asset files the
 * enrichments read (referer database, uap-core regexes, MaxMind and IAB files).
 */
/* MD5's own functions, deprecated in OpenSSL 3 in favour of EVP, whose per-message set-up
 * (init, final, cleanse through the provider) costs as much as hashing a 600-byte
 * fingerprint text; the event fingerprint hashes one per event. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <openssl/evp.h>
#include <openssl/md5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "enr.h"
#include "jsonw.h"
#include "pct.h"
#include "redact.h"
#include "utf8.h"

/* Assets larger than this are refused (the full referer database is ~300 KB, regexes.yaml
 * ~250 KB, a city .mmdb is read by libmaxminddb itself and never through here). */
#define ENR_DOWNLOAD_MAX ((size_t)256 << 20)
#define ENR_DOWNLOAD_TIMEOUT_S 60L

int
enr_set_tsv_safe(struct enrich_event *ev, int col, const char *s, size_t len)
{
	struct buf b;
	size_t i;
	int rc;

	if (s == NULL || len == 0)
		return enrich_event_set(ev, col, NULL, 0);
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			break;
	if (i == len)                  /* the usual case: nothing to clean */
		return enrich_event_set(ev, col, s, len);
	buf_init(&b, 0);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t')
			rc = buf_append(&b, "    ", 4);
		else if (c < 0x20 || c == 0x7f)
			rc = 0;
		else
			rc = buf_append_byte(&b, c);
		if (rc < 0) {
			buf_free(&b);
			return -1;
		}
	}
	rc = enrich_event_set(ev, col, b.len ? b.data : NULL, b.len);
	buf_free(&b);
	return rc;
}

char *
enr_url_decode(const char *s, size_t len, int plus_space)
{
	struct buf out;

	/* nothing to decode: a plain copy (the columns handed to enrichments are valid UTF-8) */
	if (memchr(s, '%', len) == NULL && (!plus_space || memchr(s, '+', len) == NULL) &&
	    utf8_valid_prefix(s, len) == len)
		return strndup(s, len);
	buf_init(&out, 0);
	if (pct_decode(&out, s, len, PCT_UTF8 | (plus_space ? PCT_PLUS : 0)) < 0 ||
	    buf_reserve(&out, 1) < 0) {
		buf_free(&out);
		return NULL;
	}
	out.data[out.len] = '\0';   /* buf_reserve alone does not terminate an empty buffer */
	return out.data;             /* hand the storage over */
}

void
enr_query_free(struct enr_qparam *p, long n)
{
	long i;

	for (i = 0; i < n; i++) {
		free(p[i].name);
		free(p[i].value);
	}
	free(p);
}

long
enr_query_parse(const char *query, const char *seps, int trim, struct enr_qparam **out)
{
	struct enr_qparam *v = NULL;
	long n = 0, cap = 0;
	const char *p = query;

	*out = NULL;
	if (query == NULL)
		return 0;
	while (*p) {
		size_t tl = strcspn(p, seps);
		const char *t = p, *eq;
		size_t nl, vl;

		p += tl;
		if (*p)
			p++;
		if (trim) {
			while (tl && isspace((unsigned char)*t)) {
				t++;
				tl--;
			}
			while (tl && isspace((unsigned char)t[tl - 1]))
				tl--;
		}
		if (tl == 0)
			continue;
		eq = memchr(t, '=', tl);
		nl = eq ? (size_t)(eq - t) : tl;
		vl = eq ? tl - nl - 1 : 0;
		if (n == cap) {
			long nc = cap ? cap * 2 : 8;
			struct enr_qparam *nv = realloc(v, (size_t)nc * sizeof(*nv));
			if (nv == NULL)
				goto fail;
			v = nv;
			cap = nc;
		}
		v[n].name = enr_url_decode(t, nl, 1);
		v[n].value = enr_url_decode(eq ? eq + 1 : "", vl, 1);
		n++;
		if (v[n - 1].name == NULL || v[n - 1].value == NULL)
			goto fail;
	}
	*out = v;
	return n;
fail:
	enr_query_free(v, n);
	return -1;
}

/* Fetched once: with OpenSSL 3, EVP_md5() and friends make every EVP_Digest call fetch the
 * implementation again, which costs more than hashing a short string. */
static const EVP_MD *
digest_fetch(const char *name, int slot)
{
	static EVP_MD *cache[6];
	static int tried[6];

	if (!tried[slot]) {
		tried[slot] = 1;
		cache[slot] = EVP_MD_fetch(NULL, name, NULL);
	}
	return cache[slot];
}

static const EVP_MD *
digest_by_name(const char *algo)
{
	if (!strcmp(algo, "MD5"))
		return digest_fetch("MD5", 0);
	if (!strcmp(algo, "SHA1") || !strcmp(algo, "SHA-1"))
		return digest_fetch("SHA1", 1);
	if (!strcmp(algo, "SHA256") || !strcmp(algo, "SHA-256"))
		return digest_fetch("SHA256", 2);
	if (!strcmp(algo, "SHA384") || !strcmp(algo, "SHA-384"))
		return digest_fetch("SHA384", 3);
	if (!strcmp(algo, "SHA512") || !strcmp(algo, "SHA-512"))
		return digest_fetch("SHA512", 4);
	if (!strcmp(algo, "MD2"))
		return digest_fetch("MD2", 5);   /* only with OpenSSL's legacy provider */
	return NULL;
}

int
enr_digest_supported(const char *algo)
{
	const EVP_MD *md = digest_by_name(algo);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl;

	/* MD2 may be known by name yet refused at use (OpenSSL 3 without the legacy provider). */
	return md != NULL && EVP_Digest("", 0, d, &dl, md, NULL) == 1;
}

int
enr_hex_digest(const char *algo, const void *data, size_t len, char out[129])
{
	static const char hex[] = "0123456789abcdef";
	const EVP_MD *md = digest_by_name(algo);
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0, i;

	static EVP_MD_CTX *ctx;     /* one context, reused: enrich is single-threaded */

	if (md == NULL)
		return -1;
#ifndef OPENSSL_NO_DEPRECATED_3_0
	if (algo[0] == 'M' && !strcmp(algo, "MD5")) {   /* available: EVP has it (not FIPS) */
		MD5_CTX m;
		if (MD5_Init(&m) != 1 || MD5_Update(&m, data, len) != 1 || MD5_Final(d, &m) != 1)
			return -1;
		dl = MD5_DIGEST_LENGTH;
	} else
#endif
	if ((ctx == NULL && (ctx = EVP_MD_CTX_new()) == NULL) ||
	    EVP_DigestInit_ex2(ctx, md, NULL) != 1 || EVP_DigestUpdate(ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(ctx, d, &dl) != 1 || dl > 64)
		return -1;
	for (i = 0; i < dl; i++) {
		out[2 * i] = hex[d[i] >> 4];
		out[2 * i + 1] = hex[d[i] & 15];
	}
	out[2 * dl] = '\0';
	return (int)(2 * dl);
}

char *
enr_read_file(const char *path, size_t max, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[65536];
	size_t n;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_init(&b, max);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			snprintf(err, errlen, "%s: larger than %zu bytes", path, max);
			goto fail;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto fail;
	}
	fclose(f);
	if (buf_reserve(&b, 1) < 0) {
		snprintf(err, errlen, "%s: out of memory", path);
		buf_free(&b);
		return NULL;
	}
	b.data[b.len] = '\0';
	if (len)
		*len = b.len;
	return b.data;
fail:
	fclose(f);
	buf_free(&b);
	return NULL;
}

static void
cache_dir(char *out, size_t outlen)
{
	const char *d = getenv("FURROW_CACHE_DIR");
	const char *x = getenv("XDG_CACHE_HOME");
	const char *h = getenv("HOME");

	if (d && *d)
		snprintf(out, outlen, "%s", d);
	else if (x && *x)
		snprintf(out, outlen, "%s/furrow", x);
	else if (h && *h)
		snprintf(out, outlen, "%s/.cache/furrow", h);
	else
		snprintf(out, outlen, "/tmp/furrow-cache");
}

static int
mkdir_p(const char *path)
{
	char tmp[4096];
	char *p;

	if (snprintf(tmp, sizeof(tmp), "%s", path) >= (int)sizeof(tmp))
		return -1;
	for (p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	return (mkdir(tmp, 0755) < 0 && errno != EEXIST) ? -1 : 0;
}

struct dl_sink {
	FILE   *f;
	size_t  n;
};

static size_t
dl_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct dl_sink *s = arg;
	size_t n = size * nmemb;

	if (s->n + n > ENR_DOWNLOAD_MAX)
		return 0;
	s->n += n;
	return fwrite(p, 1, n, s->f);
}

/* Download url into path (via a temporary file, renamed on success). */
static int
download(const char *url, const char *path, char *err, size_t errlen)
{
	char tmp[4200];
	struct dl_sink s = { NULL, 0 };
	CURL *c;
	CURLcode rc;
	long status = 0;

	snprintf(tmp, sizeof(tmp), "%s.%ld.part", path, (long)getpid());
	if ((s.f = fopen(tmp, "wb")) == NULL) {
		snprintf(err, errlen, "%.300s: %s", tmp, strerror(errno));
		return -1;
	}
	if ((c = curl_easy_init()) == NULL) {
		fclose(s.f);
		unlink(tmp);
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, dl_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &s);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, ENR_DOWNLOAD_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	rc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (fclose(s.f) != 0 && rc == CURLE_OK)
		rc = CURLE_WRITE_ERROR;
	if (rc != CURLE_OK || status < 200 || status > 299) {
		char shown[4096];

		unlink(tmp);
		redact_urls(url, shown, sizeof(shown));     /* no credentials in the message */
		if (rc != CURLE_OK)
			snprintf(err, errlen, "cannot download %.300s: %s", shown, curl_easy_strerror(rc));
		else
			snprintf(err, errlen, "cannot download %.300s: HTTP status %ld", shown, status);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int
enr_asset_path(const struct enr_ctx *ctx, const char *uri, const char *database,
    char *out, size_t outlen, char *err, size_t errlen)
{
	size_t ul = strlen(uri);
	int slash = ul > 0 && uri[ul - 1] == '/';
	struct stat st;

	if (strchr(database, '/') != NULL || !strcmp(database, "..") || !*database) {
		snprintf(err, errlen, "database \"%s\" must be a plain file name", database);
		return -1;
	}
	if (!strncmp(uri, "file:", 5)) {
		const char *p = uri + 5;
		if (!strncmp(p, "//", 2)) {
			p += 2;                    /* file://host/path: only an empty host */
			if (*p != '/') {
				snprintf(err, errlen, "uri %s: only file:///absolute/path or file:relative/path", uri);
				return -1;
			}
		}
		if (*p == '/')
			snprintf(out, outlen, "%s%s%s", p, slash ? "" : "/", database);
		else
			snprintf(out, outlen, "%s/%s%s%s", ctx->conf_dir, p, (slash || !*p) ? "" : "/",
			    database);
		if (stat(out, &st) < 0) {
			snprintf(err, errlen, "database %s: %s", out, strerror(errno));
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "database %s: not a regular file", out);
			return -1;
		}
		return 0;
	}
	if (!strncmp(uri, "http://", 7) || !strncmp(uri, "https://", 8)) {
		char dir[3800], url[4096], name[129], derr[512];
		int n = snprintf(url, sizeof(url), "%s%s%s", uri, slash ? "" : "/", database);

		if (n < 0 || (size_t)n >= sizeof(url)) {
			snprintf(err, errlen, "uri too long");
			return -1;
		}
		cache_dir(dir, sizeof(dir));
		if (mkdir_p(dir) < 0) {
			snprintf(err, errlen, "cache directory %s: %s", dir, strerror(errno));
			return -1;
		}
		/* one cache file per URL: its SHA-256 plus the database name */
		enr_hex_digest("SHA256", url, (size_t)n, name);
		name[16] = '\0';
		snprintf(out, outlen, "%s/%s-%s", dir, name, database);
		if (download(url, out, derr, sizeof(derr)) == 0)
			return 0;
		/* fetched once at startup; an earlier copy is better than none */
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
			return 0;
		snprintf(err, errlen, "%s", derr);
		return -1;
	}
	{
		char shown[1024];

		snprintf(err, errlen, "uri %s: scheme not supported (file:, http: or https:)",
		    redact_urls(uri, shown, sizeof(shown)));
	}
	return -1;
}

int
enr_add_failure(json_t *failures, const char *schema_uri, const char *identifier, json_t *m)
{
	json_t *f;

	if (failures == NULL) {
		json_decref(m);
		return 0;
	}
	f = json_pack("{s:{s:s,s:s},s:o}", "enrichment", "schemaKey", schema_uri,
	    "identifier", identifier, "message", m);
	if (f == NULL)
		return -1;
	return json_array_append_new(failures, f);
}

size_t
enr_n_headers(const struct enrich_event *ev)
{
	if (ev->payload == NULL || ev->payload->headers == NULL)
		return 0;
	return ev->payload->n_headers;
}

const char *
enr_header_at(const struct enrich_event *ev, size_t i, size_t *len)
{
	const struct tstr *t = &ev->payload->headers[i];

	*len = t->len;
	return t->s ? t->s : "";
}

const char *
enr_json_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

