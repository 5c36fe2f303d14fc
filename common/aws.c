/*
 * aws: credentials, the region and signed JSON-protocol POSTs for Kinesis and DynamoDB (see
 * aws.h). libcurl does the SigV4 signature (CURLOPT_AWS_SIGV4 "aws:amz:REGION:SERVICE").
 */
#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <curl/curl.h>
#include <jansson.h>

#define AWS_LINE_MAX      8192
#define AWS_CONNECT_S     5L
#define AWS_TIMEOUT_S     30L
#define AWS_RESP_MAX      ((size_t)64 << 20)
#define AWS_URL_MAX       1024

struct aws_call {
	CURL                   *curl;
	char                   *url;
	char                    sigv4[160];
	char                   *userpwd;
	char                    target[64];
	char                    ctype[64];
	char                   *token;
	volatile int           *abort;
};

static void
copy_value(char *dst, size_t cap, const char *v)
{
	snprintf(dst, cap, "%s", v);
}

static char *
trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* The profile's keys from an INI credentials file. Returns 0, 1 (no file or no such profile) or
 * -1 (err filled). */
static int
creds_from_file(struct aws_creds *c, const char *path, const char *profile, char *err,
    size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[AWS_LINE_MAX];
	unsigned n = 0;
	int in = 0, found = 0;

	if (f == NULL)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		char *p = trim(line), *eq;
		n++;
		if (*p == '\0' || *p == '#' || *p == ';')
			continue;
		if (*p == '[') {
			char *end = strchr(p, ']');
			if (end == NULL) {
				snprintf(err, errlen, "%s: line %u: a section without ']'", path, n);
				fclose(f);
				return -1;
			}
			*end = '\0';
			p = trim(p + 1);
			if (strncmp(p, "profile ", 8) == 0)
				p = trim(p + 8);
			in = strcmp(p, profile) == 0;
			found |= in;
			continue;
		}
		if (!in)
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			snprintf(err, errlen, "%s: line %u: not key = value", path, n);
			fclose(f);
			explicit_bzero(line, sizeof(line));
			return -1;
		}
		*eq = '\0';
		if (strcmp(trim(p), "aws_access_key_id") == 0)
			copy_value(c->akid, sizeof(c->akid), trim(eq + 1));
		else if (strcmp(trim(p), "aws_secret_access_key") == 0)
			copy_value(c->secret, sizeof(c->secret), trim(eq + 1));
		else if (strcmp(trim(p), "aws_session_token") == 0)
			copy_value(c->token, sizeof(c->token), trim(eq + 1));
		explicit_bzero(line, sizeof(line));
	}
	fclose(f);
	return found ? 0 : 1;
}

int
aws_creds_load(struct aws_creds *c, char *err, size_t errlen)
{
	const char *akid = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN"), *profile = getenv("AWS_PROFILE");
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");
	char def[AWS_URL_MAX];
	int rc;

	memset(c, 0, sizeof(*c));
	if (akid && *akid && secret && *secret) {
		copy_value(c->akid, sizeof(c->akid), akid);
		copy_value(c->secret, sizeof(c->secret), secret);
		if (token)
			copy_value(c->token, sizeof(c->token), token);
		return 0;
	}
	if (profile == NULL || *profile == '\0')
		profile = "default";
	if (path == NULL || *path == '\0') {
		snprintf(def, sizeof(def), "%s/.aws/credentials", home ? home : "");
		path = def;
	}
	rc = creds_from_file(c, path, profile, err, errlen);
	if (rc == -1)
		return -1;
	if (rc == 1 || c->akid[0] == '\0' || c->secret[0] == '\0') {
		snprintf(err, errlen, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
		    "AWS_SECRET_ACCESS_KEY, or profile %s in %s", profile, path);
		aws_creds_clear(c);
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void
aws_creds_clear(struct aws_creds *c)
{
	explicit_bzero(c, sizeof(*c));
}

const char *
aws_region(const char *flag)
{
	static const char *const env[] = { "FURROW_KINESIS_REGION", "AWS_REGION",
	    "AWS_DEFAULT_REGION" };
	const char *v;
	size_t i;

	if (flag && *flag)
		return flag;
	for (i = 0; i < sizeof(env) / sizeof(env[0]); i++)
		if ((v = getenv(env[i])) != NULL && *v)
			return v;
	return "us-east-1";
}

struct aws_call *
aws_call_new(const char *service, const char *region, const char *endpoint,
    const char *target_prefix, const char *json_version, const struct aws_creds *creds)
{
	struct aws_call *a = calloc(1, sizeof(*a));
	char url[AWS_URL_MAX];
	size_t n;

	if (a == NULL)
		return NULL;
	if (endpoint && *endpoint)
		snprintf(url, sizeof(url), "%s", endpoint);
	else
		snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com/", service, region);
	n = strlen(creds->akid) + strlen(creds->secret) + 2;
	if ((a->curl = curl_easy_init()) == NULL || (a->url = strdup(url)) == NULL ||
	    (a->userpwd = malloc(n)) == NULL ||
	    (creds->token[0] && (a->token = malloc(strlen(creds->token) + 32)) == NULL)) {
		aws_call_free(a);
		return NULL;
	}
	snprintf(a->userpwd, n, "%s:%s", creds->akid, creds->secret);
	if (a->token)
		sprintf(a->token, "x-amz-security-token: %s", creds->token);
	snprintf(a->sigv4, sizeof(a->sigv4), "aws:amz:%s:%s", region, service);
	snprintf(a->target, sizeof(a->target), "%s", target_prefix);
	snprintf(a->ctype, sizeof(a->ctype), "Content-Type: application/x-amz-json-%s",
	    json_version);
	return a;
}

void
aws_call_free(struct aws_call *a)
{
	if (a == NULL)
		return;
	if (a->curl)
		curl_easy_cleanup(a->curl);
	if (a->userpwd) {
		explicit_bzero(a->userpwd, strlen(a->userpwd));
		free(a->userpwd);
	}
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	free(a->url);
	free(a);
}

void
aws_call_set_abort(struct aws_call *a, volatile int *flag)
{
	a->abort = flag;
}

static size_t
aws_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_append(b, p, size * n) == -1)
		return 0;
	return size * n;
}

static int
aws_progress_cb(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	volatile int *abort_flag = arg;

	(void)dt;
	(void)dn;
	(void)ut;
	(void)un;
	return abort_flag && *abort_flag;
}

int
aws_error_is_throttle(const char *type)
{
	return strcmp(type, "ProvisionedThroughputExceededException") == 0 ||
	    strcmp(type, "LimitExceededException") == 0 ||
	    strcmp(type, "ThrottlingException") == 0 ||
	    strcmp(type, "KMSThrottlingException") == 0 ||
	    strcmp(type, "RequestLimitExceeded") == 0;
}

/* The error's type (after any '#') and message from an error answer. */
static void
error_of(const struct buf *resp, char type[AWS_TYPE_MAX], char *msg, size_t msglen)
{
	json_t *j = resp->len ? json_loadb(resp->data, resp->len, 0, NULL) : NULL;
	const char *t = NULL, *m = NULL, *h;

	if (j) {
		t = json_string_value(json_object_get(j, "__type"));
		m = json_string_value(json_object_get(j, "message"));
		if (m == NULL)
			m = json_string_value(json_object_get(j, "Message"));
	}
	if (t && (h = strrchr(t, '#')) != NULL)
		t = h + 1;
	snprintf(type, AWS_TYPE_MAX, "%s", t ? t : "");
	if (m)
		snprintf(msg, msglen, "%s%s%s", type, *type ? ": " : "", m);
	else
		snprintf(msg, msglen, "%s", *type ? type : "no error message");
	json_decref(j);
}

enum aws_status
aws_call_json(struct aws_call *a, const char *op, const char *body, size_t len,
    struct buf *resp, char type[AWS_TYPE_MAX], char *msg, size_t msglen)
{
	struct curl_slist *h = NULL, *t;
	char target[160], curlerr[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode cc;
	CURL *c = a->curl;

	type[0] = '\0';
	msg[0] = '\0';
	buf_reset(resp);
	if (a->abort && *a->abort) {
		snprintf(msg, msglen, "stopping");
		return AWS_RETRY;
	}
	snprintf(target, sizeof(target), "X-Amz-Target: %s.%s", a->target, op);
	if ((t = curl_slist_append(h, target)) == NULL)
		goto oom;
	h = t;
	if ((t = curl_slist_append(h, a->ctype)) == NULL)
		goto oom;
	h = t;
	if (a->token) {
		if ((t = curl_slist_append(h, a->token)) == NULL)
			goto oom;
		h = t;
	}
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, a->url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, a->sigv4);
	curl_easy_setopt(c, CURLOPT_USERPWD, a->userpwd);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POST, 1L);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, AWS_CONNECT_S);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, AWS_TIMEOUT_S);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, aws_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, aws_progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, (void *)a->abort);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
	curlerr[0] = '\0';
	cc = curl_easy_perform(c);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		snprintf(msg, msglen, "%s", curlerr[0] ? curlerr : curl_easy_strerror(cc));
		return AWS_RETRY;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	if (status == 200)
		return AWS_OK;
	error_of(resp, type, msg, msglen);
	if (status >= 500 || status == 429 || aws_error_is_throttle(type))
		return AWS_RETRY;
	return AWS_FAILED;
oom:
	curl_slist_free_all(h);
	snprintf(msg, msglen, "out of memory");
	return AWS_RETRY;
}

long
aws_next_backoff(long last_ms, long min_ms, long max_ms)
{
	unsigned int r = 0;
	long span = max_ms - min_ms + 1, b;

	if (getrandom(&r, sizeof(r), 0) != (ssize_t)sizeof(r))
		r = (unsigned int)rand();
	b = min_ms + (span > 0 ? (long)(r % (unsigned long)span) : 0);
	return b > last_ms / 3 * 2 ? b : last_ms / 3 * 2;
}
