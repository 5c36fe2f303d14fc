/*
 * esclient: HTTP requests to one Elasticsearch/OpenSearch cluster through libcurl: several base
 * URLs used round robin with dead ones skipped for a while (sinks.md §2.3 "several --url"),
 * basic auth, TLS options, AWS SigV4 signing (CURLOPT_AWS_SIGV4, service es or aoss), timeouts,
 * and an abort hook so a shutdown deadline can cut a transfer short. One easy handle is reused
 * so connections stay alive between bulk requests.
 */
#ifndef ES_ESCLIENT_H
#define ES_ESCLIENT_H

#include <stddef.h>

#include "buf.h"

#define ESCLIENT_MAX_URLS 16

struct esclient_opts {
	const char *urls[ESCLIENT_MAX_URLS];
	size_t      nurls;
	const char *user, *password;            /* basic auth; NULL for none */
	const char *cacert, *cert, *key;        /* TLS files; NULL for defaults */
	int         insecure;                   /* skip certificate and host checks */
	const char *sigv4_service;              /* "es" or "aoss"; NULL: no signing */
	const char *region;
	const char *aws_key_id, *aws_secret, *aws_token;
	long        connect_timeout_ms;
	long        timeout_ms;                 /* whole request */
};

struct esclient;

struct esclient *esclient_new(const struct esclient_opts *o, char *err, size_t errlen);
void esclient_free(struct esclient *c);

/* When fn returns non-zero during a transfer, the transfer is aborted. */
void esclient_set_abort(struct esclient *c, int (*fn)(void *), void *arg);
/* Serve /metrics and /health (metricsd.h) while esclient_poll waits; md may be NULL. */
struct metricsd;
void esclient_set_metricsd(struct esclient *c, struct metricsd *md);

/*
 * method "GET", "HEAD", "PUT" or "POST"; path starts with '/'. Returns 0 when a complete response
 * arrived (*status, body appended to resp), or -1 on a transport failure with the reason in err;
 * the URL used is then skipped for a while and the next request goes to the next one.
 */
int esclient_request(struct esclient *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, long *status, struct buf *resp,
    char *err, size_t errlen);

/*
 * The same request without waiting: starts it (body and resp must stay valid until it is
 * done) and returns 0, or -1 with a reason. esclient_poll then waits at most timeout_ms for
 * progress or for fd (if >= 0) to become readable (*fd_ready), and returns 1 when the response
 * is complete (*status set), -1 on a transport failure (err set, URL skipped for a while), 0
 * while the request is still in flight.
 */
int esclient_start(struct esclient *c, const char *method, const char *path,
    const char *content_type, const char *body, size_t len, struct buf *resp, char *err,
    size_t errlen);
int esclient_poll(struct esclient *c, int fd, int timeout_ms, int *fd_ready, long *status,
    char *err, size_t errlen);
int esclient_busy(const struct esclient *c);

/* Lower-case hex SHA-256 of data (65 bytes out), used for SigV4's x-amz-content-sha256. */
void esclient_sha256_hex(const void *data, size_t len, char out[65]);

#endif
