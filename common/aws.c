/*
 * aws: credentials, the region and signed JSON-protocol POSTs for Kinesis and DynamoDB (see
 * aws.h). libcurl does the SigV4 signature (CURLOPT_AWS_SIGV4 "aws:amz:REGION:SERVICE").
 *
 * Instance metadata (IMDSv2) as the AWS SDKs ask it: PUT /latest/api/token with
 * X-aws-ec2-metadata-token-ttl-seconds, then, with the token in X-aws-ec2-metadata-token, GET
 * /latest/meta-data/iam/security-credentials/ for the role's name and GET .../ROLE for a JSON
 * object {"Code": "Success", "AccessKeyId", "SecretAccessKey", "Token", "Expiration":
 * "2026-12-03T21:00:00Z"}. A one-second timeout, as the SDKs' default, so that a machine that is
 * not on EC2 learns it quickly. IMDSv1 (no token) is not used.
 */
#include "aws.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#define AWS_LINE_MAX      8192
#define AWS_CONNECT_S     5L
#define AWS_TIMEOUT_S     30L
#define AWS_RESP_MAX      ((size_t)64 << 20)
#define AWS_URL_MAX       1024
#define AWS_IMDS_ENDPOINT       "http://169.254.169.254"
#define AWS_IMDS_ENDPOINT_IPV6  "http://[fd00:ec2::254]"
#define AWS_IMDS_TIMEOUT_MS     1000L
#define AWS_IMDS_TOKEN_TTL_S    21600   /* the SDKs' session token lifetime */
#define AWS_IMDS_RESP_MAX       ((size_t)64 << 10)
#define AWS_IMDS_CREDS_PATH     "/latest/meta-data/iam/security-credentials/"

/* Held while credentials shared by several clients are refreshed or copied. */
static pthread_mutex_t aws_creds_mu = PTHREAD_MUTEX_INITIALIZER;

struct aws_call {
	CURL                   *curl;
	char                   *url;
	char                    sigv4[160];
	char                   *userpwd;
	char                    target[64];
	char                    ctype[64];
	char                   *token;
	struct aws_creds       *creds;
	unsigned                gen;      /* of the creds userpwd and token were made from */
	volatile int           *abort;
};

static size_t aws_write_cb(char *p, size_t size, size_t n, void *arg);

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

/* Perform the request set up on c and free its headers h: the HTTP status, or 0 with msg
 * filled when there was no answer. */
static long
aws_perform(CURL *c, struct curl_slist *h, char *msg, size_t msglen)
{
	char curlerr[CURL_ERROR_SIZE];
	long status = 0;
	CURLcode cc;

	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curlerr);
	curlerr[0] = '\0';
	cc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	curl_slist_free_all(h);
	if (cc != CURLE_OK) {
		snprintf(msg, msglen, "%s", curlerr[0] ? curlerr : curl_easy_strerror(cc));
		return 0;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	return status;
}

/* One request to the metadata service: PUT (the token) or GET with the token. Returns the HTTP
 * status (0: no answer, msg says why). */
static long
imds_request(CURL *c, const char *base, const char *path, const char *token, struct buf *resp,
    char *msg, size_t msglen)
{
	struct curl_slist *h = NULL;
	char url[AWS_URL_MAX], hdr[AWS_TOKEN_MAX + 64];
	long status = 0;
	size_t bl = strlen(base);

	while (bl > 0 && base[bl - 1] == '/')
		bl--;
	snprintf(url, sizeof(url), "%.*s%s", (int)bl, base, path);
	if (token)
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token: %s", token);
	else
		snprintf(hdr, sizeof(hdr), "X-aws-ec2-metadata-token-ttl-seconds: %d",
		    AWS_IMDS_TOKEN_TTL_S);
	if ((h = curl_slist_append(NULL, hdr)) == NULL) {
		explicit_bzero(hdr, sizeof(hdr));
		snprintf(msg, msglen, "out of memory");
		return 0;
	}
	explicit_bzero(hdr, sizeof(hdr));
	buf_reset(resp);
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (token == NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PUT");
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, AWS_IMDS_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, AWS_IMDS_TIMEOUT_MS);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, aws_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
	if ((status = aws_perform(c, h, msg, msglen)) == 0)
		return 0;
	if (status != 200)
		snprintf(msg, msglen, "HTTP %ld", status);
	return status;
}

/* "2026-12-03T21:00:00Z" (the metadata service's Expiration) as a time_t, or -1. */
static time_t
imds_expiration(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return -1;
	if (s[n] == '.')       /* a fraction of a second, ignored */
		for (n++; s[n] >= '0' && s[n] <= '9'; n++)
			;
	if (strcmp(s + n, "Z") != 0 && strcmp(s + n, "+00:00") != 0)
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return timegm(&tm);
}

int
aws_creds_from_imds_json(struct aws_creds *c, char *data, size_t len, char *msg, size_t msglen)
{
	json_t *j = json_loadb(data, len, 0, NULL);
	const char *code, *akid, *secret, *token;
	time_t exp;
	int rc = -1;

	if (j == NULL || !json_is_object(j)) {
		snprintf(msg, msglen, "the role's credentials are not a JSON object");
		goto out;
	}
	code = json_string_value(json_object_get(j, "Code"));
	akid = json_string_value(json_object_get(j, "AccessKeyId"));
	secret = json_string_value(json_object_get(j, "SecretAccessKey"));
	token = json_string_value(json_object_get(j, "Token"));
	exp = imds_expiration(json_string_value(json_object_get(j, "Expiration")));
	if (code && strcmp(code, "Success") != 0) {
		snprintf(msg, msglen, "the role's credentials have Code %.40s", code);
		goto out;
	}
	if (akid == NULL || secret == NULL || *akid == '\0' || *secret == '\0' ||
	    strlen(akid) >= AWS_KEY_MAX || strlen(secret) >= AWS_KEY_MAX ||
	    (token && strlen(token) >= AWS_TOKEN_MAX) || exp == -1) {
		snprintf(msg, msglen, "the role's credentials lack AccessKeyId, SecretAccessKey "
		    "or Expiration, or one is too long");
		goto out;
	}
	copy_value(c->akid, sizeof(c->akid), akid);
	copy_value(c->secret, sizeof(c->secret), secret);
	copy_value(c->token, sizeof(c->token), token ? token : "");
	c->expires = exp;
	rc = 0;
out:
	if (j) {
		/* jansson keeps the strings: wipe them before they go back to the allocator */
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v)
			if (json_is_string(v))
				explicit_bzero((char *)json_string_value(v), json_string_length(v));
		json_decref(j);
	}
	explicit_bzero(data, len);
	return rc;
}

int
aws_creds_imds(struct aws_creds *c, char *err, size_t errlen)
{
	const char *base = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	struct buf resp;
	char token[AWS_TOKEN_MAX], path[sizeof(AWS_IMDS_CREDS_PATH) + AWS_ROLE_MAX];
	char role[AWS_ROLE_MAX], msg[CURL_ERROR_SIZE + 64];
	CURL *curl;
	size_t n;
	int rc = -1;

	if (base == NULL || *base == '\0')
		base = mode && strcasecmp(mode, "IPv6") == 0 ? AWS_IMDS_ENDPOINT_IPV6 :
		    AWS_IMDS_ENDPOINT;
	/* room for every answer up front: a secret is never left behind by a realloc */
	buf_init(&resp, AWS_IMDS_RESP_MAX);
	if (buf_reserve(&resp, AWS_IMDS_RESP_MAX) == -1 || (curl = curl_easy_init()) == NULL) {
		buf_free(&resp);
		snprintf(err, errlen, "instance metadata: out of memory");
		return -1;
	}
	msg[0] = '\0';
	if (imds_request(curl, base, "/latest/api/token", NULL, &resp, msg, sizeof(msg)) != 200) {
		snprintf(err, errlen, "instance metadata at %s: no session token: %s", base, msg);
		goto out;
	}
	if (resp.len == 0 || resp.len >= sizeof(token)) {
		snprintf(err, errlen, "instance metadata at %s: a session token of %zu bytes", base,
		    resp.len);
		goto out;
	}
	memcpy(token, resp.data, resp.len);
	token[resp.len] = '\0';
	explicit_bzero(resp.data, resp.len);
	if (imds_request(curl, base, AWS_IMDS_CREDS_PATH, token, &resp, msg, sizeof(msg)) != 200) {
		snprintf(err, errlen, "instance metadata at %s: no instance profile role: %s", base,
		    msg);
		goto out;
	}
	/* the roles, one a line: an instance profile has one */
	for (n = 0; n < resp.len && resp.data[n] != '\n' && resp.data[n] != '\r'; n++)
		;
	if (n == 0 || n >= sizeof(role) || memchr(resp.data, '/', n) != NULL) {
		snprintf(err, errlen, "instance metadata at %s: no instance profile role", base);
		goto out;
	}
	memcpy(role, resp.data, n);
	role[n] = '\0';
	snprintf(path, sizeof(path), "%s%s", AWS_IMDS_CREDS_PATH, role);
	if (imds_request(curl, base, path, token, &resp, msg, sizeof(msg)) != 200) {
		snprintf(err, errlen, "instance metadata at %s: role %s: no credentials: %s", base,
		    role, msg);
		goto out;
	}
	if (aws_creds_from_imds_json(c, resp.data, resp.len, msg, sizeof(msg)) == -1) {
		snprintf(err, errlen, "instance metadata at %s: role %s: %s", base, role, msg);
		goto out;
	}
	copy_value(c->role, sizeof(c->role), role);
	c->gen++;
	rc = 0;
out:
	explicit_bzero(token, sizeof(token));
	if (resp.data)
		explicit_bzero(resp.data, resp.cap);
	buf_free(&resp);
	curl_easy_cleanup(curl);
	if (rc == -1)
		errno = EIO;
	return rc;
}

static int
imds_disabled(void)
{
	const char *v = getenv("AWS_EC2_METADATA_DISABLED");

	return v && strcasecmp(v, "true") == 0;
}

int
aws_creds_load(struct aws_creds *c, char *err, size_t errlen)
{
	const char *akid = getenv("AWS_ACCESS_KEY_ID"), *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN"), *profile = getenv("AWS_PROFILE");
	const char *path = getenv("AWS_SHARED_CREDENTIALS_FILE"), *home = getenv("HOME");
	char def[AWS_URL_MAX], imds_err[512];
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
	if (rc == 0 && c->akid[0] && c->secret[0])
		return 0;
	aws_creds_clear(c);
	if (!imds_disabled()) {
		if (aws_creds_imds(c, imds_err, sizeof(imds_err)) == 0)
			return 0;
	} else {
		snprintf(imds_err, sizeof(imds_err), "instance metadata off "
		    "(AWS_EC2_METADATA_DISABLED)");
	}
	snprintf(err, errlen, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
	    "AWS_SECRET_ACCESS_KEY, or profile %s in %s; %s", profile, path, imds_err);
	aws_creds_clear(c);
	errno = EINVAL;
	return -1;
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

/* Wipe and free a client's copy of the signing secrets. */
static void
call_forget_creds(struct aws_call *a)
{
	if (a->userpwd) {
		explicit_bzero(a->userpwd, strlen(a->userpwd));
		free(a->userpwd);
	}
	if (a->token) {
		explicit_bzero(a->token, strlen(a->token));
		free(a->token);
	}
	a->userpwd = a->token = NULL;
}

/* The signing secrets of a->creds into a->userpwd and a->token. aws_creds_mu is held. */
static int
call_take_creds(struct aws_call *a)
{
	const struct aws_creds *c = a->creds;
	size_t n = strlen(c->akid) + strlen(c->secret) + 2;

	call_forget_creds(a);
	if ((a->userpwd = malloc(n)) == NULL ||
	    (c->token[0] && (a->token = malloc(strlen(c->token) + 32)) == NULL))
		return -1;
	snprintf(a->userpwd, n, "%s:%s", c->akid, c->secret);
	if (a->token)
		sprintf(a->token, "x-amz-security-token: %s", c->token);
	a->gen = c->gen;
	return 0;
}

/*
 * Before a request: instance-metadata credentials that expire within AWS_CREDS_REFRESH_S are
 * asked for again (no more often than AWS_CREDS_RETRY_S while the old ones are still good, once
 * a second once they are not), and a client whose copy is older than the shared credentials
 * takes the new ones. Returns 0, or -1 (msg filled) when there are no credentials good to sign
 * with.
 */
static int
call_refresh_creds(struct aws_call *a, char *msg, size_t msglen)
{
	struct aws_creds *c = a->creds, fresh;
	time_t now = time(NULL);
	char err[512];
	int rc = 0;

	pthread_mutex_lock(&aws_creds_mu);
	if (c->expires && now >= c->expires - AWS_CREDS_REFRESH_S && now >= c->next_try) {
		memset(&fresh, 0, sizeof(fresh));
		fresh.gen = c->gen;
		if (aws_creds_imds(&fresh, err, sizeof(err)) == 0) {
			*c = fresh;
		} else if (now >= c->expires) {
			snprintf(msg, msglen, "credentials expired and not renewed: %s", err);
			rc = -1;
		}
		c->next_try = now + (now >= c->expires ? 1 : AWS_CREDS_RETRY_S);
		explicit_bzero(&fresh, sizeof(fresh));
	} else if (c->expires && now >= c->expires) {
		snprintf(msg, msglen, "credentials expired (role %s)", c->role);
		rc = -1;
	}
	if (rc == 0 && (a->userpwd == NULL || a->gen != c->gen) && call_take_creds(a) == -1) {
		snprintf(msg, msglen, "out of memory");
		rc = -1;
	}
	pthread_mutex_unlock(&aws_creds_mu);
	return rc;
}

struct aws_call *
aws_call_new(const char *service, const char *region, const char *endpoint,
    const char *target_prefix, const char *json_version, struct aws_creds *creds)
{
	struct aws_call *a = calloc(1, sizeof(*a));
	char url[AWS_URL_MAX];
	int rc;

	if (a == NULL)
		return NULL;
	if (endpoint && *endpoint)
		snprintf(url, sizeof(url), "%s", endpoint);
	else
		snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com/", service, region);
	a->creds = creds;
	pthread_mutex_lock(&aws_creds_mu);
	rc = call_take_creds(a);
	pthread_mutex_unlock(&aws_creds_mu);
	if (rc == -1 || (a->curl = curl_easy_init()) == NULL || (a->url = strdup(url)) == NULL) {
		aws_call_free(a);
		return NULL;
	}
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
	call_forget_creds(a);
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
	char target[160];
	long status = 0;
	CURL *c = a->curl;

	type[0] = '\0';
	msg[0] = '\0';
	buf_reset(resp);
	if (a->abort && *a->abort) {
		snprintf(msg, msglen, "stopping");
		return AWS_RETRY;
	}
	if (call_refresh_creds(a, msg, msglen) == -1)
		return AWS_RETRY;
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
	if ((status = aws_perform(c, h, msg, msglen)) == 0)
		return AWS_RETRY;
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
