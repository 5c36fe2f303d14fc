/*
 * upload: signed PUTs and multipart uploads to S3 over libcurl (see upload.h).
 */
#include "upload.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "base64.h"
#include "keys.h"
#include "pct.h"

#define S3UPLOAD_BODY_MAX   (64 * 1024)     /* response bytes kept for error messages and XML */
#define S3UPLOAD_HASH_CHUNK (256 * 1024)
#define S3UPLOAD_URL_MAX    (4 * S3KEY_MAX + 1024)

/* Where a request body comes from: a range of a spool file, or memory. */
struct s3upload_body {
	int          fd;
	uint64_t     off, len, pos;
	const char  *mem;
};

struct s3upload_resp {
	long   status;
	char   body[S3UPLOAD_BODY_MAX + 1];
	size_t body_len;
	char   etag[128];
};

uint64_t
s3upload_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd)
{
	uint64_t ceiling = base_ms, floor;

	while (attempt-- > 0 && ceiling < cap_ms)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	/* Full jitter (uniform in [0, ceiling]) with a small floor, so a retry never spins. */
	floor = base_ms / 10 < ceiling ? base_ms / 10 : ceiling;
	return floor + rnd % (ceiling - floor + 1);
}

enum s3upload_status
s3upload_classify(long http_status, const char *code)
{
	static const char *const transient[] = {
		"SlowDown", "InternalError", "RequestTimeout", "ServiceUnavailable", NULL,
	};
	static const char *const auth[] = {
		"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied", "ExpiredToken",
		"InvalidToken", "TokenRefreshRequired", "AuthorizationHeaderMalformed",
		"InvalidClientTokenId", "RequestTimeTooSkewed", NULL,
	};
	size_t i;

	if (http_status >= 200 && http_status < 300)
		return S3UPLOAD_OK;
	if (code != NULL && *code) {
		for (i = 0; transient[i]; i++)
			if (strcmp(code, transient[i]) == 0)
				return S3UPLOAD_TRANSIENT;
		for (i = 0; auth[i]; i++)
			if (strcmp(code, auth[i]) == 0)
				return S3UPLOAD_AUTH;
	}
	if (http_status == 408 || http_status == 429 || http_status >= 500)
		return S3UPLOAD_TRANSIENT;
	if (http_status == 401 || http_status == 403)
		return S3UPLOAD_AUTH;
	if (http_status >= 300 && http_status < 500)
		return S3UPLOAD_PERMANENT;
	return S3UPLOAD_TRANSIENT;
}

/* Copy the text between <tag> and </tag> in body into out. 0 if found. */
static int
s3upload_xml_field(const char *body, const char *tag, char *out, size_t outlen)
{
	char open[64], close[64];
	const char *a, *b;
	size_t n;

	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	a = strstr(body, open);
	if (a == NULL || outlen == 0)
		return -1;
	a += strlen(open);
	b = strstr(a, close);
	if (b == NULL)
		return -1;
	n = (size_t)(b - a);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, a, n);
	out[n] = '\0';
	return 0;
}

int
s3upload_error_parse(const char *body, size_t len, char *code, size_t codelen, char *message,
    size_t messagelen)
{
	char *copy = malloc(len + 1);
	int rc;

	if (codelen)
		code[0] = '\0';
	if (messagelen)
		message[0] = '\0';
	if (copy == NULL)
		return -1;
	memcpy(copy, body, len);
	copy[len] = '\0';
	/* An embedded NUL ends the search early; that is fine for an error body. */
	rc = strstr(copy, "<Error>") ? s3upload_xml_field(copy, "Code", code, codelen) : -1;
	if (rc == 0)
		s3upload_xml_field(copy, "Message", message, messagelen);
	free(copy);
	return rc;
}

int
s3upload_default_endpoint(const char *region, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "https://s3.%s.amazonaws.com", region);

	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
s3upload_url(const struct s3upload_config *cfg, const char *key, const char *query, char *out,
    size_t outlen)
{
	char path[3 * S3KEY_MAX + 1];
	const char *ep = cfg->endpoint, *host;
	size_t eplen = strlen(ep);
	int n;

	while (eplen > 0 && ep[eplen - 1] == '/')
		eplen--;
	if (s3key_url_path(key, path, sizeof(path)) == -1)
		return -1;
	if (cfg->path_style) {
		n = snprintf(out, outlen, "%.*s/%s/%s%s%s", (int)eplen, ep, cfg->bucket, path,
		    query ? "?" : "", query ? query : "");
	} else {
		host = strstr(ep, "://");
		if (host == NULL || (size_t)(host - ep) + 3 > eplen)
			return -1;
		host += 3;
		n = snprintf(out, outlen, "%.*s%s.%.*s/%s%s%s", (int)(host - ep), ep, cfg->bucket,
		    (int)(eplen - (size_t)(host - ep)), host, path, query ? "?" : "",
		    query ? query : "");
	}
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

int
s3upload_init(struct s3upload *u, const struct s3upload_config *cfg, atomic_int *abort_flag,
    char *err, size_t errlen)
{
	int n;

	memset(u, 0, sizeof(*u));
	u->cfg = cfg;
	u->abort_flag = abort_flag;
	n = snprintf(u->userpwd, sizeof(u->userpwd), "%s:%s", cfg->access_key, cfg->secret_key);
	if (n < 0 || (size_t)n >= sizeof(u->userpwd)) {
		snprintf(err, errlen, "credentials too long");
		return -1;
	}
	u->curl = curl_easy_init();
	if (u->curl == NULL) {
		snprintf(err, errlen, "curl_easy_init failed");
		return -1;
	}
	return 0;
}

static void
s3upload_mp_clear(struct s3upload *u)
{
	unsigned i;

	for (i = 0; i < u->mp_nparts; i++)
		free(u->mp_etags[i]);
	free(u->mp_etags);
	u->mp_etags = NULL;
	u->mp_nparts = 0;
	u->mp_done = 0;
	u->mp_key[0] = '\0';
	u->mp_upload_id[0] = '\0';
}

void
s3upload_free(struct s3upload *u)
{
	s3upload_mp_clear(u);
	if (u->curl)
		curl_easy_cleanup(u->curl);
	u->curl = NULL;
	explicit_bzero(u->userpwd, sizeof(u->userpwd));
}

/* Hex SHA-256 and base64 MD5 of the body. 0 or -1 (read error, errno set). */
static int
s3upload_hash(const struct s3upload_body *b, char sha_hex[65], char md5_b64[32])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], md5[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, md5len = 0, i;
	EVP_MD_CTX *sha = EVP_MD_CTX_new(), *m5 = EVP_MD_CTX_new();
	unsigned char *chunk = NULL;
	uint64_t done = 0;
	ssize_t got;
	size_t want;
	int rc = -1;

	if (sha == NULL || m5 == NULL || EVP_DigestInit_ex(sha, EVP_sha256(), NULL) != 1 ||
	    EVP_DigestInit_ex(m5, EVP_md5(), NULL) != 1) {
		errno = ENOMEM;
		goto out;
	}
	if (b->mem != NULL) {
		EVP_DigestUpdate(sha, b->mem, b->len);
		EVP_DigestUpdate(m5, b->mem, b->len);
	} else {
		chunk = malloc(S3UPLOAD_HASH_CHUNK);
		if (chunk == NULL) {
			errno = ENOMEM;
			goto out;
		}
		while (done < b->len) {
			want = b->len - done > S3UPLOAD_HASH_CHUNK ? S3UPLOAD_HASH_CHUNK : (size_t)(b->len - done);
			got = pread(b->fd, chunk, want, (off_t)(b->off + done));
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				if (got == 0)
					errno = EIO;     /* the file is shorter than it was */
				goto out;
			}
			EVP_DigestUpdate(sha, chunk, (size_t)got);
			EVP_DigestUpdate(m5, chunk, (size_t)got);
			done += (uint64_t)got;
		}
	}
	EVP_DigestFinal_ex(sha, md, &mdlen);
	EVP_DigestFinal_ex(m5, md5, &md5len);
	for (i = 0; i < mdlen && i < 32; i++) {
		sha_hex[2 * i] = hex[md[i] >> 4];
		sha_hex[2 * i + 1] = hex[md[i] & 15];
	}
	sha_hex[64] = '\0';
	base64_encode(md5, md5len, md5_b64);
	md5_b64[base64_encoded_len(md5len)] = '\0';
	rc = 0;
out:
	free(chunk);
	EVP_MD_CTX_free(sha);
	EVP_MD_CTX_free(m5);
	return rc;
}

static size_t
s3upload_read_cb(char *dst, size_t size, size_t nitems, void *arg)
{
	struct s3upload_body *b = arg;
	size_t want = size * nitems;
	ssize_t got;

	if (b->pos >= b->len)
		return 0;
	if (want > b->len - b->pos)
		want = (size_t)(b->len - b->pos);
	if (b->mem != NULL) {
		memcpy(dst, b->mem + b->pos, want);
		b->pos += want;
		return want;
	}
	do
		got = pread(b->fd, dst, want, (off_t)(b->off + b->pos));
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return CURL_READFUNC_ABORT;
	b->pos += (uint64_t)got;
	return (size_t)got;
}

static size_t
s3upload_write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	struct s3upload_resp *r = arg;
	size_t n = size * nmemb, room = S3UPLOAD_BODY_MAX - r->body_len;

	if (n < room)
		room = n;
	memcpy(r->body + r->body_len, p, room);
	r->body_len += room;
	r->body[r->body_len] = '\0';
	return n;
}

static size_t
s3upload_header_cb(char *p, size_t size, size_t nitems, void *arg)
{
	struct s3upload_resp *r = arg;
	size_t n = size * nitems, v, e;

	if (n > 5 && strncasecmp(p, "ETag:", 5) == 0) {
		for (v = 5; v < n && (p[v] == ' ' || p[v] == '\t'); v++)
			;
		for (e = n; e > v && (p[e - 1] == '\r' || p[e - 1] == '\n' || p[e - 1] == ' '); e--)
			;
		if (e - v < sizeof(r->etag)) {
			memcpy(r->etag, p + v, e - v);
			r->etag[e - v] = '\0';
		}
	}
	return n;
}

static int
s3upload_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	atomic_int *abort_flag = arg;

	(void)dltotal; (void)dlnow; (void)ultotal; (void)ulnow;
	return abort_flag != NULL && atomic_load(abort_flag) ? 1 : 0;
}

static int s3upload_addh(struct curl_slist **h, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int
s3upload_addh(struct curl_slist **h, const char *fmt, ...)
{
	char line[2048];
	struct curl_slist *nh;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(line) || (nh = curl_slist_append(*h, line)) == NULL)
		return -1;
	*h = nh;
	return 0;
}

/* One signed request. method: PUT, POST or DELETE; body may be NULL for no body. */
static enum s3upload_status
s3upload_request(struct s3upload *u, const char *method, const char *key, const char *query,
    struct s3upload_body *body, struct s3upload_resp *r, uint64_t *sent, char *msg, size_t msglen)
{
	const struct s3upload_config *cfg = u->cfg;
	char url[S3UPLOAD_URL_MAX], sigv4[128], sha[65], md5[32], code[128], text[512];
	char curlerr[CURL_ERROR_SIZE];
	struct s3upload_body empty = { -1, 0, 0, 0, "" };
	struct curl_slist *h = NULL;
	enum s3upload_status st;
	CURL *c = u->curl;
	CURLcode cc;

	memset(r, 0, sizeof(*r));
	if (body == NULL)
		body = &empty;
	body->pos = 0;
	if (s3upload_url(cfg, key, query, url, sizeof(url)) == -1) {
		snprintf(msg, msglen, "object URL too long");
		return S3UPLOAD_PERMANENT;
	}
	if (s3upload_hash(body, sha, md5) == -1) {
		snprintf(msg, msglen, "reading the spool file: %s", strerror(errno));
		return S3UPLOAD_LOCAL;
	}
	snprintf(sigv4, sizeof(sigv4), "aws:amz:%s:s3", cfg->region);
	if (s3upload_addh(&h, "x-amz-content-sha256: %s", sha) == -1 ||
	    (body->len > 0 && s3upload_addh(&h, "Content-MD5: %s", md5) == -1) ||
	    (cfg->session_token != NULL && *cfg->session_token &&
	    s3upload_addh(&h, "x-amz-security-token: %s", cfg->session_token) == -1))
		goto oom;
	/* No "Expect:" or "Content-Type:" blanking here: libcurl 7.x would sign those headers with
	 * empty values while not sending them. libcurl adds neither Content-Type nor (below 1 MiB)
	 * Expect to an upload; above that, 100-continue is fine with S3. */
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, sigv4);
	curl_easy_setopt(c, CURLOPT_USERPWD, u->userpwd);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, cfg->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_EXPECT_100_TIMEOUT_MS, 300L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, cfg->stall_timeout_s);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3upload_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3upload_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, s3upload_progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, u->abort_flag);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
	curlerr[0] = '\0';
	if (strcmp(method, "DELETE") == 0) {
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "DELETE");
	} else {
		/* PUT semantics (Content-Length, read callback) for both PUT and POST. */
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body->len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, s3upload_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, body);
		if (strcmp(method, "PUT") != 0)
			curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	}
	cc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(h);
	if (sent != NULL)
		*sent += body->pos;
	if (cc == CURLE_ABORTED_BY_CALLBACK) {
		snprintf(msg, msglen, "aborted");
		return S3UPLOAD_ABORTED;
	}
	if (cc == CURLE_READ_ERROR) {
		snprintf(msg, msglen, "reading the spool file failed during the upload");
		return S3UPLOAD_LOCAL;
	}
	if (cc != CURLE_OK) {
		u->cause = cc == CURLE_OPERATION_TIMEDOUT ? S3CAUSE_TIMEOUT : S3CAUSE_CONNECTION;
		snprintf(msg, msglen, "%s", curlerr[0] ? curlerr : curl_easy_strerror(cc));
		return cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ?
		    S3UPLOAD_PERMANENT : S3UPLOAD_TRANSIENT;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	s3upload_error_parse(r->body, r->body_len, code, sizeof(code), text, sizeof(text));
	st = s3upload_classify(r->status, code);
	/* CompleteMultipartUpload can answer 200 with an <Error> body. */
	if (st == S3UPLOAD_OK && code[0]) {
		st = s3upload_classify(500, code) == S3UPLOAD_TRANSIENT ? S3UPLOAD_TRANSIENT :
		    S3UPLOAD_PERMANENT;
		u->cause = S3CAUSE_BAD_RESPONSE;
	} else if (st != S3UPLOAD_OK) {
		u->cause = r->status == 429 || r->status == 503 || strcmp(code, "SlowDown") == 0 ?
		    S3CAUSE_THROTTLED : r->status >= 500 ? S3CAUSE_HTTP_5XX : S3CAUSE_HTTP_4XX;
	}
	if (st != S3UPLOAD_OK)
		snprintf(msg, msglen, "HTTP %ld %s: %s", r->status, code[0] ? code : "(no code)",
		    text[0] ? text : "(no message)");
	else
		msg[0] = '\0';
	return st;
oom:
	curl_slist_free_all(h);
	snprintf(msg, msglen, "out of memory");
	return S3UPLOAD_TRANSIENT;
}

const char *
s3upload_cause_name(enum s3upload_cause c)
{
	static const char *const names[S3CAUSE_N] = {
		"connection", "timeout", "throttled", "http_5xx", "http_4xx", "bad_response", "other",
	};

	return c < S3CAUSE_N ? names[c] : "other";
}

void
s3upload_forget(struct s3upload *u)
{
	char q[1700], id[1600], msg[256];
	struct s3upload_resp *r;

	if (u->mp_upload_id[0] && pct_encode(u->mp_upload_id, strlen(u->mp_upload_id), NULL, id, sizeof(id)) >= 0 &&
	    (r = malloc(sizeof(*r))) != NULL) {
		snprintf(q, sizeof(q), "uploadId=%s", id);
		s3upload_request(u, "DELETE", u->mp_key, q, NULL, r, NULL, msg, sizeof(msg));
		free(r);
	}
	s3upload_mp_clear(u);
}

static enum s3upload_status
s3upload_multipart(struct s3upload *u, const char *key, int fd, uint64_t size, uint64_t *sent,
    char *msg, size_t msglen)
{
	const struct s3upload_config *cfg = u->cfg;
	uint64_t part = cfg->part_size < S3UPLOAD_MIN_PART ? S3UPLOAD_MIN_PART : cfg->part_size;
	char q[1800], id[1600];
	struct s3upload_resp *r;
	struct s3upload_body body;
	enum s3upload_status st = S3UPLOAD_OK;
	char *xml = NULL;
	size_t xlen = 0, xcap;
	unsigned i, nparts;

	while ((size + part - 1) / part > S3UPLOAD_MAX_PARTS)
		part *= 2;
	nparts = (unsigned)((size + part - 1) / part);
	r = malloc(sizeof(*r));
	if (r == NULL) {
		snprintf(msg, msglen, "out of memory");
		return S3UPLOAD_TRANSIENT;
	}
	if (strcmp(u->mp_key, key) != 0 || u->mp_upload_id[0] == '\0') {
		s3upload_mp_clear(u);
		st = s3upload_request(u, "POST", key, "uploads=", NULL, r, NULL, msg, msglen);
		if (st != S3UPLOAD_OK)
			goto out;
		if (s3upload_xml_field(r->body, "UploadId", u->mp_upload_id, sizeof(u->mp_upload_id)) == -1) {
			snprintf(msg, msglen, "CreateMultipartUpload: no UploadId in the answer");
			u->cause = S3CAUSE_BAD_RESPONSE;
			st = S3UPLOAD_TRANSIENT;
			goto out;
		}
		snprintf(u->mp_key, sizeof(u->mp_key), "%s", key);
		u->mp_etags = calloc(nparts, sizeof(char *));
		if (u->mp_etags == NULL) {
			s3upload_mp_clear(u);
			snprintf(msg, msglen, "out of memory");
			st = S3UPLOAD_TRANSIENT;
			goto out;
		}
		u->mp_nparts = nparts;
	}
	if (pct_encode(u->mp_upload_id, strlen(u->mp_upload_id), NULL, id, sizeof(id)) == -1) {
		snprintf(msg, msglen, "upload id too long");
		st = S3UPLOAD_PERMANENT;
		goto out;
	}
	for (i = u->mp_done; i < nparts; i++) {
		body.fd = fd;
		body.off = (uint64_t)i * part;
		body.len = size - body.off < part ? size - body.off : part;
		body.mem = NULL;
		snprintf(q, sizeof(q), "partNumber=%u&uploadId=%s", i + 1, id);
		st = s3upload_request(u, "PUT", key, q, &body, r, sent, msg, msglen);
		if (st != S3UPLOAD_OK)
			goto out;
		if (r->etag[0] == '\0') {
			snprintf(msg, msglen, "UploadPart %u: no ETag in the answer", i + 1);
			u->cause = S3CAUSE_BAD_RESPONSE;
			st = S3UPLOAD_TRANSIENT;
			goto out;
		}
		u->mp_etags[i] = strdup(r->etag);
		if (u->mp_etags[i] == NULL) {
			snprintf(msg, msglen, "out of memory");
			st = S3UPLOAD_TRANSIENT;
			goto out;
		}
		u->mp_done = i + 1;
	}
	xcap = 128 + (size_t)nparts * 200;
	xml = malloc(xcap);
	if (xml == NULL) {
		snprintf(msg, msglen, "out of memory");
		st = S3UPLOAD_TRANSIENT;
		goto out;
	}
	xlen = (size_t)snprintf(xml, xcap, "<CompleteMultipartUpload>");
	for (i = 0; i < nparts; i++)
		xlen += (size_t)snprintf(xml + xlen, xcap - xlen,
		    "<Part><PartNumber>%u</PartNumber><ETag>%s</ETag></Part>", i + 1, u->mp_etags[i]);
	xlen += (size_t)snprintf(xml + xlen, xcap - xlen, "</CompleteMultipartUpload>");
	body.fd = -1;
	body.off = 0;
	body.len = xlen;
	body.mem = xml;
	snprintf(q, sizeof(q), "uploadId=%s", id);
	st = s3upload_request(u, "POST", key, q, &body, r, NULL, msg, msglen);
	if (st == S3UPLOAD_OK)
		s3upload_mp_clear(u);
out:
	free(xml);
	free(r);
	return st;
}

enum s3upload_status
s3upload_put_file(struct s3upload *u, const char *key, int fd, uint64_t size, uint64_t *sent,
    char *msg, size_t msglen)
{
	struct s3upload_body body = { fd, 0, size, 0, NULL };
	struct s3upload_resp *r;
	enum s3upload_status st;

	u->cause = S3CAUSE_OTHER;      /* until a failure says more */
	if (u->cfg->multipart_threshold > 0 && size > u->cfg->multipart_threshold)
		return s3upload_multipart(u, key, fd, size, sent, msg, msglen);
	r = malloc(sizeof(*r));
	if (r == NULL) {
		snprintf(msg, msglen, "out of memory");
		return S3UPLOAD_TRANSIENT;
	}
	st = s3upload_request(u, "PUT", key, NULL, &body, r, sent, msg, msglen);
	free(r);
	return st;
}
