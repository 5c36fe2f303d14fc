/*
 * aws: what furrow's AWS JSON-protocol clients (Kinesis, DynamoDB) share: credentials from the
 * environment or a profile file (never argv), the region, and one signed POST of a JSON request
 * (libcurl signs it: CURLOPT_AWS_SIGV4, as s3-sink does).
 *
 * Credentials, in the order of the AWS SDKs' default chain: AWS_ACCESS_KEY_ID and
 * AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when set; else the profile AWS_PROFILE (default
 * "default") of AWS_SHARED_CREDENTIALS_FILE (default ~/.aws/credentials): aws_access_key_id,
 * aws_secret_access_key, aws_session_token; else the EC2 instance metadata service's role
 * credentials (IMDSv2: a session token from PUT /latest/api/token, then GET
 * /latest/meta-data/iam/security-credentials/ROLE with it), at AWS_EC2_METADATA_SERVICE_ENDPOINT
 * (default http://169.254.169.254, or http://[fd00:ec2::254] with
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6) unless AWS_EC2_METADATA_DISABLED is "true".
 * Role credentials expire: a client asks the service again when fewer than AWS_CREDS_REFRESH_S
 * seconds are left (the service has the next ones at least five minutes before the expiry).
 */
#ifndef FURROW_AWS_H
#define FURROW_AWS_H

#include <stddef.h>
#include <time.h>

#include "buf.h"

#define AWS_KEY_MAX    256
#define AWS_TOKEN_MAX  4096
#define AWS_TYPE_MAX   128
#define AWS_ROLE_MAX   128
#define AWS_CREDS_REFRESH_S  300   /* ask the metadata service again this long before expiry */
#define AWS_CREDS_RETRY_S    30    /* and no more often than this while the old ones hold */

struct aws_creds {
	char     akid[AWS_KEY_MAX];
	char     secret[AWS_KEY_MAX];
	char     token[AWS_TOKEN_MAX];   /* "" without a session token */
	time_t   expires;                /* 0: they do not expire (environment, profile) */
	time_t   next_try;               /* the earliest time to ask the metadata service again */
	char     role[AWS_ROLE_MAX];     /* the instance profile's role ("" unless from IMDS) */
	unsigned gen;                    /* bumped by every refresh */
};

/* Fill c from the environment, the profile file or the instance metadata service. Returns 0, or
 * -1 with err filled (the file and the line, the service's answer's status, never a value). */
int aws_creds_load(struct aws_creds *c, char *err, size_t errlen);
/* Credentials from the instance metadata service only (aws_creds_load's last resort). */
int aws_creds_imds(struct aws_creds *c, char *err, size_t errlen);
/* The metadata service's answer for a role, {"Code": "Success", "AccessKeyId",
 * "SecretAccessKey", "Token", "Expiration": "2026-12-03T21:00:00Z"}, into c's keys and expires.
 * data is wiped. Returns 0, or -1 with msg filled (never a value). */
int aws_creds_from_imds_json(struct aws_creds *c, char *data, size_t len, char *msg,
    size_t msglen);
/* Forget the secrets (explicit_bzero). */
void aws_creds_clear(struct aws_creds *c);

/* The region: flag, else FURROW_KINESIS_REGION, AWS_REGION, AWS_DEFAULT_REGION, "us-east-1". */
const char *aws_region(const char *flag);

struct aws_call;

/* A client for one service ("kinesis", "dynamodb"): the endpoint URL (NULL:
 * https://SERVICE.REGION.amazonaws.com), the JSON protocol's target prefix ("Kinesis_20131202",
 * "DynamoDB_20120810") and content type version ("1.1", "1.0"). NULL when out of memory.
 * creds must outlive the client; clients on several threads may share them: a call refreshes
 * expiring instance-metadata credentials under a lock of this module. */
struct aws_call *aws_call_new(const char *service, const char *region, const char *endpoint,
    const char *target_prefix, const char *json_version, struct aws_creds *creds);
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
