/*
 * aws: what furrow's AWS JSON-protocol clients (Kinesis, DynamoDB) share: credentials from the
 * environment or a profile file (never argv), the region, and one signed POST of a JSON request
 * (libcurl signs it: CURLOPT_AWS_SIGV4, as s3-sink does).
 *
 * Credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when set; else
 * the profile AWS_PROFILE (default "default") of AWS_SHARED_CREDENTIALS_FILE (default
 * ~/.aws/credentials): aws_access_key_id, aws_secret_access_key, aws_session_token. The instance
 * metadata service is not asked (yet).
 */
#ifndef FURROW_AWS_H
#define FURROW_AWS_H

#include <stddef.h>

#include "buf.h"

#define AWS_KEY_MAX    256
#define AWS_TOKEN_MAX  4096
#define AWS_TYPE_MAX   128

struct aws_creds {
	char akid[AWS_KEY_MAX];
	char secret[AWS_KEY_MAX];
	char token[AWS_TOKEN_MAX];   /* "" without a session token */
};

/* Fill c from the environment or the profile file. Returns 0, or -1 with err filled (the file
 * and the line, never a value). */
int aws_creds_load(struct aws_creds *c, char *err, size_t errlen);
/* Forget the secrets (explicit_bzero). */
void aws_creds_clear(struct aws_creds *c);

/* The region: flag, else FURROW_KINESIS_REGION, AWS_REGION, AWS_DEFAULT_REGION, "us-east-1". */
const char *aws_region(const char *flag);

struct aws_call;

/* A client for one service ("kinesis", "dynamodb"): the endpoint URL (NULL:
 * https://SERVICE.REGION.amazonaws.com), the JSON protocol's target prefix ("Kinesis_20131202",
 * "DynamoDB_20120810") and content type version ("1.1", "1.0"). NULL when out of memory. */
struct aws_call *aws_call_new(const char *service, const char *region, const char *endpoint,
    const char *target_prefix, const char *json_version, const struct aws_creds *creds);
void aws_call_free(struct aws_call *a);
/* Give up on a request in progress and refuse new ones (any thread may set *flag). */
void aws_call_set_abort(struct aws_call *a, volatile int *flag);

enum aws_status {
	AWS_OK = 0,        /* 200: resp holds the answer */
	AWS_RETRY,         /* throttled, a 5xx, or no answer: try again after a back-off */
	AWS_FAILED,        /* the service refused the request: type and msg say why */
};

/*
 * POST body to the operation (e.g. "PutRecords"). resp gets the answer's body. On AWS_RETRY and
 * AWS_FAILED, type is the error's __type without its namespace (e.g.
 * "ProvisionedThroughputExceededException", "" when there is none) and msg a short reason.
 */
enum aws_status aws_call_json(struct aws_call *a, const char *op, const char *body, size_t len,
    struct buf *resp, char type[AWS_TYPE_MAX], char *msg, size_t msglen);
/* 1 when an error type means "slow down" (throttling, limits). */
int aws_error_is_throttle(const char *type);

/* Back-off as Snowplow's collector computes it (KinesisSink.getNextBackoff): a random time in
 * [min_ms, max_ms], and at least two thirds of the last one. */
long aws_next_backoff(long last_ms, long min_ms, long max_ms);

#endif
