/*
 * upload: one object into S3 or an S3-compatible store over libcurl (sinks.md §3.6, §3.7).
 *
 * Requests are signed by libcurl (CURLOPT_AWS_SIGV4 "aws:amz:<region>:s3"); we add the headers
 * S3 wants and libcurl 7.x does not: x-amz-content-sha256 (hex SHA-256 of the body, computed here
 * with libcrypto), Content-MD5, and x-amz-security-token for temporary credentials. The body is
 * streamed from the spool file, so memory stays flat whatever the object size. Above a threshold
 * the object goes up as a multipart upload (parts PUT one by one, each retried on its own).
 *
 * This module makes one attempt per call and classifies the outcome; retrying, back-off and
 * giving up belong to the caller, which gets a pure back-off function from here.
 */
#ifndef S3_UPLOAD_H
#define S3_UPLOAD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#define S3UPLOAD_MIN_PART  ((uint64_t)5 << 20)      /* S3's minimum part size (not the last) */
#define S3UPLOAD_MAX_PARTS 10000

struct s3upload_config {
	const char *endpoint;          /* scheme://host[:port][/path], no trailing '/' */
	const char *region;
	const char *bucket;
	int         path_style;
	const char *access_key;
	const char *secret_key;
	const char *session_token;     /* may be NULL */
	long        connect_timeout_s;
	long        stall_timeout_s;   /* abort a transfer making no progress this long */
	uint64_t    multipart_threshold;   /* objects larger than this use multipart; 0: never */
	uint64_t    part_size;
};

enum s3upload_status {
	S3UPLOAD_OK = 0,
	S3UPLOAD_TRANSIENT,     /* connection error, timeout, 408, 429, 5xx, SlowDown...: retry */
	S3UPLOAD_AUTH,          /* credentials refused (403 and friends): stop, exit 77 */
	S3UPLOAD_PERMANENT,     /* any other 4xx: stop, exit 69 */
	S3UPLOAD_LOCAL,         /* the spool file could not be read */
	S3UPLOAD_ABORTED,       /* the abort flag was raised during the transfer */
};

/* Why an attempt failed, for furrow_s3_sink_upload_retries_total{cause}. */
enum s3upload_cause {
	S3CAUSE_CONNECTION,     /* no answer: connection refused or lost, DNS, TLS */
	S3CAUSE_TIMEOUT,        /* connect timeout or a stalled transfer */
	S3CAUSE_THROTTLED,      /* 429, 503, SlowDown */
	S3CAUSE_HTTP_5XX,       /* any other server error (InternalError...) */
	S3CAUSE_HTTP_4XX,       /* a retryable client status (408, RequestTimeout) */
	S3CAUSE_BAD_RESPONSE,   /* an answer without what it must carry (UploadId, ETag, an <Error>) */
	S3CAUSE_OTHER,          /* out of memory, ... */
	S3CAUSE_N
};
/* "connection", "timeout", "throttled", "http_5xx", "http_4xx", "bad_response", "other". */
const char *s3upload_cause_name(enum s3upload_cause c);

struct s3upload {
	const struct s3upload_config *cfg;
	enum s3upload_cause cause;     /* of the last failed attempt */
	CURL        *curl;
	atomic_int  *abort_flag;
	char         userpwd[512];
	/* multipart state across calls: resumes a multipart upload after a transient error */
	char         mp_key[1100];
	char         mp_upload_id[512];
	unsigned     mp_done;          /* parts already confirmed */
	char       **mp_etags;
	unsigned     mp_nparts;
	uint64_t     retries_parts;    /* part retries, for the counters */
};

int  s3upload_init(struct s3upload *u, const struct s3upload_config *cfg, atomic_int *abort_flag,
    char *err, size_t errlen);
void s3upload_free(struct s3upload *u);

/* Upload size bytes of fd as key. One attempt for a single PUT; for multipart, one attempt at
 * each remaining part (progress is kept in u, so the next call for the same key resumes).
 * msg gets "HTTP 403 SignatureDoesNotMatch: ..." or the curl error. *sent counts body bytes. */
enum s3upload_status s3upload_put_file(struct s3upload *u, const char *key, int fd, uint64_t size,
    uint64_t *sent, char *msg, size_t msglen);
/* Abandon a multipart upload in progress for key (best effort AbortMultipartUpload). */
void s3upload_forget(struct s3upload *u);

/* Pure helpers, unit-tested. */
enum s3upload_status s3upload_classify(long http_status, const char *code);
/* Extract <Code> and <Message> from an S3 XML error body. 0 if a code was found. */
int  s3upload_error_parse(const char *body, size_t len, char *code, size_t codelen, char *message,
    size_t messagelen);
/* Full-jitter exponential back-off (sinks.md §3.6): uniform in [base/10, min(cap, base*2^attempt)]
 * ms; rnd is any random 64-bit value. The small floor keeps retries from ever spinning. */
uint64_t s3upload_backoff_ms(unsigned attempt, uint64_t base_ms, uint64_t cap_ms, uint64_t rnd);
/* The request URL for key (percent-encoded) with an optional query ("uploads=", ...). */
int  s3upload_url(const struct s3upload_config *cfg, const char *key, const char *query, char *out,
    size_t outlen);
/* The default endpoint for a region. */
int  s3upload_default_endpoint(const char *region, char *out, size_t outlen);

#endif
