/*
 * esclient: libcurl easy handle, round-robin URLs, auth, TLS and SigV4 (see esclient.h).
 *
 * A URL whose request failed at the transport level is "dead" for ESCLIENT_DEAD_MS; requests go
 * round robin over the live ones, and when all are dead to the one that died first. SigV4: curl
 * signs with CURLOPT_AWS_SIGV4 = "aws:amz:<region>:<service>" and the key pair as user:password;
 * we add x-amz-content-sha256 ourselves (OpenSearch Serverless requires it, and curl adds it
 * only for s3) and x-amz-security-token for temporary credentials.
 */
#include "esclient.h"

#include <poll.h>

#include "metricsd.h"
#include "redact.h"
#include "timefmt.h"

#include <curl/curl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ESCLIENT_DEAD_MS 2000
#define ESCLIENT_RESP_MAX ((size_t)256 << 20)

struct esclient {
	struct esclient_opts o;
	CURL     *curl;
	CURLM    *multi;
	struct curl_slist *hdrs;    /* of the request in flight */
	int       busy;
	size_t    cur;              /* URL index of the request in flight */
	char      url[2048];
	char      ebuf[CURL_ERROR_SIZE];
	const char *method;
	size_t    next;
	int64_t   dead_until[ESCLIENT_MAX_URLS];
	int     (*abort_fn)(void *);
	void     *abort_arg;
	char      sigv4[256];
	char      userpwd[512];
	struct metricsd *md;
};

/* ---- SHA-256 (FIPS 180-4), only for the SigV4 payload hash ---- */

static const uint32_t ec_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
	0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
	0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
	0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
	0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
	0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
	0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
	0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
	0xc67178f2,
};

#define EC_ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void
ec_sha256_block(uint32_t h[8], const uint8_t *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh, t1, t2;
	int i;

	for (i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		    (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (i = 16; i < 64; i++) {
		uint32_t s0 = EC_ROR(w[i - 15], 7) ^ EC_ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = EC_ROR(w[i - 2], 17) ^ EC_ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (i = 0; i < 64; i++) {
		t1 = hh + (EC_ROR(e, 6) ^ EC_ROR(e, 11) ^ EC_ROR(e, 25)) + ((e & f) ^ (~e & g)) +
		    ec_k[i] + w[i];
		t2 = (EC_ROR(a, 2) ^ EC_ROR(a, 13) ^ EC_ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

void
esclient_sha256_hex(const void *data, size_t len, char out[65])
{
	uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c,
	    0x1f83d9ab, 0x5be0cd19 };
	const uint8_t *p = data;
	uint8_t tail[128];
	size_t full = len / 64 * 64, rest = len - full, tl, i;
	uint64_t bits = (uint64_t)len * 8;

	for (i = 0; i < full; i += 64)
		ec_sha256_block(h, p + i);
	memset(tail, 0, sizeof(tail));
	if (rest)
		memcpy(tail, p + full, rest);
	tail[rest] = 0x80;
	tl = rest + 1 + 8 <= 64 ? 64 : 128;
	for (i = 0; i < 8; i++)
		tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
	ec_sha256_block(h, tail);
	if (tl == 128)
		ec_sha256_block(h, tail + 64);
	for (i = 0; i < 8; i++)
		snprintf(out + 8 * i, 9, "%08x", h[i]);
}

/* ---- client ---- */

static size_t
ec_write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + sz * n > ESCLIENT_RESP_MAX || buf_append(b, p, sz * n) == -1)
		return 0;
	return sz * n;
}

static int
ec_xfer_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	struct esclient *c = arg;

	(void)dt; (void)dn; (void)ut; (void)un;
	return c->abort_fn && c->abort_fn(c->abort_arg) ? 1 : 0;
}

struct esclient *
esclient_new(const struct esclient_opts *o, char *err, size_t errlen)
{
	struct esclient *c;

	if (o->nurls == 0 || o->nurls > ESCLIENT_MAX_URLS) {
		snprintf(err, errlen, "between 1 and %d URLs are needed", ESCLIENT_MAX_URLS);
		return NULL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		snprintf(err, errlen, "curl_global_init failed");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL || (c->curl = curl_easy_init()) == NULL ||
	    (c->multi = curl_multi_init()) == NULL) {
		if (c && c->curl)
			curl_easy_cleanup(c->curl);
		free(c);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->o = *o;
	if (o->sigv4_service) {
		if (!o->aws_key_id || !o->aws_secret) {
			snprintf(err, errlen, "SigV4 needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
			esclient_free(c);
			return NULL;
		}
		snprintf(c->sigv4, sizeof(c->sigv4), "aws:amz:%s:%s",
		    o->region ? o->region : "us-east-1", o->sigv4_service);
		snprintf(c->userpwd, sizeof(c->userpwd), "%s:%s", o->aws_key_id, o->aws_secret);
	}
	return c;
}

void
esclient_free(struct esclient *c)
{
	if (c == NULL)
		return;
	if (c->busy)
		curl_multi_remove_handle(c->multi, c->curl);
	curl_slist_free_all(c->hdrs);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->multi)
		curl_multi_cleanup(c->multi);
	free(c);
	curl_global_cleanup();
}

void
esclient_set_abort(struct esclient *c, int (*fn)(void *), void *arg)
{
	c->abort_fn = fn;
	c->abort_arg = arg;
}

static size_t
ec_pick(struct esclient *c)
{
	int64_t now = timefmt_mono_ms(), best_t = INT64_MAX;
	size_t i, best = 0;

	for (i = 0; i < c->o.nurls; i++) {
		size_t u = (c->next + i) % c->o.nurls;
		if (c->dead_until[u] <= now) {
			c->next = u + 1;
			return u;
		}
		if (c->dead_until[u] < best_t) {
			best_t = c->dead_until[u];
			best = u;
		}
	}
	c->next = best + 1;
	return best;
}

int
esclient_start(struct esclient *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, struct buf *resp, char *err,
    size_t errlen)
{
	char hdr[300];
	struct curl_slist *h = NULL;
	size_t u = ec_pick(c);
	const char *base = c->o.urls[u];
	size_t blen = strlen(base);
	CURL *e = c->curl;

	if (c->busy) {
		snprintf(err, errlen, "a request is already in flight");
		return -1;
	}
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	snprintf(c->url, sizeof(c->url), "%.*s%s", (int)blen, base, path);
	c->cur = u;
	c->method = method;
	c->ebuf[0] = 0;
	curl_easy_reset(e);
	curl_easy_setopt(e, CURLOPT_URL, c->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, c->ebuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, c->o.timeout_ms);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, ec_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, ec_xfer_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, c);
	if (strcmp(method, "HEAD") == 0) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else if (strcmp(method, "GET") != 0) {
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, body ? body : "");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? len : 0));
	}
	if (content_type) {
		snprintf(hdr, sizeof(hdr), "Content-Type: %s", content_type);
		h = curl_slist_append(h, hdr);
	}
	h = curl_slist_append(h, "Expect:");
	if (c->o.sigv4_service) {
		char hex[65];
		esclient_sha256_hex(body ? body : "", body ? len : 0, hex);
		snprintf(hdr, sizeof(hdr), "x-amz-content-sha256: %s", hex);
		h = curl_slist_append(h, hdr);
		if (c->o.aws_token) {
			char *th = malloc(strlen(c->o.aws_token) + 32);
			if (th) {
				sprintf(th, "x-amz-security-token: %s", c->o.aws_token);
				h = curl_slist_append(h, th);
				free(th);
			}
		}
		curl_easy_setopt(e, CURLOPT_AWS_SIGV4, c->sigv4);
		curl_easy_setopt(e, CURLOPT_USERPWD, c->userpwd);
	} else if (c->o.user) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, c->o.user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, c->o.password ? c->o.password : "");
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, h);
	if (c->o.cacert)
		curl_easy_setopt(e, CURLOPT_CAINFO, c->o.cacert);
	if (c->o.cert)
		curl_easy_setopt(e, CURLOPT_SSLCERT, c->o.cert);
	if (c->o.key)
		curl_easy_setopt(e, CURLOPT_SSLKEY, c->o.key);
	if (c->o.insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_multi_add_handle(c->multi, e) != CURLM_OK) {
		curl_slist_free_all(h);
		snprintf(err, errlen, "curl_multi_add_handle failed");
		return -1;
	}
	c->hdrs = h;
	c->busy = 1;
	return 0;
}

int
esclient_busy(const struct esclient *c)
{
	return c->busy;
}

/* The request in flight finished? 1 done, -1 failed, 0 not yet. */
static int
ec_done(struct esclient *c, long *status, char *err, size_t errlen)
{
	CURLMsg *m;
	int left;
	CURLcode rc;

	while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
		if (m->msg != CURLMSG_DONE || m->easy_handle != c->curl)
			continue;
		rc = m->data.result;
		curl_multi_remove_handle(c->multi, c->curl);
		curl_slist_free_all(c->hdrs);
		c->hdrs = NULL;
		c->busy = 0;
		if (rc != CURLE_OK) {
			char shown[sizeof(c->url)];

			/* the message reaches logs and bad rows: no credentials from the URL */
			snprintf(err, errlen, "%s %s: %s", c->method,
			    redact_urls(c->url, shown, sizeof(shown)),
			    c->ebuf[0] ? c->ebuf : curl_easy_strerror(rc));
			c->dead_until[c->cur] = timefmt_mono_ms() + ESCLIENT_DEAD_MS;
			return -1;
		}
		curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
		c->dead_until[c->cur] = 0;
		return 1;
	}
	return 0;
}

void
esclient_set_metricsd(struct esclient *c, struct metricsd *md)
{
	c->md = md;
}

int
esclient_poll(struct esclient *c, int fd, int timeout_ms, int *fd_ready, long *status,
    char *err, size_t errlen)
{
	int running, r;

	if (fd_ready)
		*fd_ready = 0;
	if (!c->busy) {
		snprintf(err, errlen, "no request in flight");
		return -1;
	}
	curl_multi_perform(c->multi, &running);
	if ((r = ec_done(c, status, err, errlen)) != 0)
		return r;
	{
		struct curl_waitfd w[1 + METRICSD_NFDS];
		struct pollfd mp[METRICSD_NFDS];
		size_t nw = 0, mn = metricsd_pollfds(c->md, mp, METRICSD_NFDS), i;

		memset(w, 0, sizeof(w));
		if (fd >= 0) {
			w[0].fd = fd;
			w[0].events = CURL_WAIT_POLLIN;
			nw = 1;
		}
		for (i = 0; i < mn; i++) {
			w[nw + i].fd = mp[i].fd;
			w[nw + i].events = (mp[i].events & POLLOUT) ? CURL_WAIT_POLLOUT : CURL_WAIT_POLLIN;
		}
		curl_multi_poll(c->multi, nw + mn ? w : NULL, (unsigned)(nw + mn), timeout_ms, NULL);
		if (fd_ready && fd >= 0 && (w[0].revents & CURL_WAIT_POLLIN))
			*fd_ready = 1;
		for (i = 0; i < mn; i++)
			mp[i].revents = (short)(((w[nw + i].revents & CURL_WAIT_POLLIN) ? POLLIN : 0) |
			    ((w[nw + i].revents & CURL_WAIT_POLLOUT) ? POLLOUT : 0));
		metricsd_serve(c->md, mp, mn);
	}
	curl_multi_perform(c->multi, &running);
	return ec_done(c, status, err, errlen);
}

int
esclient_request(struct esclient *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, long *status, struct buf *resp,
    char *err, size_t errlen)
{
	int r;

	if (esclient_start(c, method, path, content_type, body, len, resp, err, errlen) == -1)
		return -1;
	while ((r = esclient_poll(c, -1, 1000, NULL, status, err, errlen)) == 0)
		;
	return r == 1 ? 0 : -1;
}
