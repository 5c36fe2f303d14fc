/*
 * igs_path: iglu-server's request-target parser. Splits "/api/schemas/v/n/f/1-0-0?repr=uri"
 * into percent-decoded path segments and query parameters, the way http4s (upstream's server)
 * presents them to its routes: a trailing slash is ignored (AutoSlash), "%2F" inside a segment
 * stays inside it, "+" in the query is a space. Pure and bounded so that it can be fuzzed; what
 * a segment may contain is for the routes to decide (igs_store checks keys before touching the
 * file system).
 */
#ifndef IGS_PATH_H
#define IGS_PATH_H

#include <stddef.h>

#define IGS_PATH_MAX_SEGS   8       /* the longest route has 7 */
#define IGS_PATH_MAX_BYTES  4096    /* decoded path and query together */
#define IGS_PATH_MAX_PARAMS 16

struct igs_target {
	const char *seg[IGS_PATH_MAX_SEGS];     /* NUL-terminated, decoded */
	size_t      seg_len[IGS_PATH_MAX_SEGS]; /* a decoded segment may hold a NUL byte */
	size_t      n_seg;
	const char *pname[IGS_PATH_MAX_PARAMS];
	const char *pvalue[IGS_PATH_MAX_PARAMS];
	size_t      n_param;
	char        store[IGS_PATH_MAX_BYTES];
};

enum igs_path_result {
	IGS_PATH_OK = 0,
	IGS_PATH_BAD = -1,       /* not an origin-form target, bad escape: 400 */
	IGS_PATH_TOO_MANY = -2,  /* more segments than any route, an empty segment, too long: 404 */
};

enum igs_path_result igs_target_parse(const char *target, size_t len, struct igs_target *t);

/* 1 when segment i exists and equals s (and holds no NUL). */
int igs_target_seg_is(const struct igs_target *t, size_t i, const char *s);

/* The first value of query parameter name, or NULL. */
const char *igs_target_param(const struct igs_target *t, const char *name);

#endif
