/*
 * igs_api: Iglu Server's HTTP API over igs_store, igs_auth and igs_lint, one call per request
 * (an httpd handler). Routes, statuses and JSON bodies follow snowplow/iglu-server 0.14
 * (service/SchemaService, ValidationService, AuthService, MetaService; model/IgluResponse):
 *
 *   GET    /api/meta/health, /api/meta/health/db, /api/meta/server
 *   GET    /api/schemas[/{vendor}[/{name}[/jsonschema/{model}]]]   ?repr=uri|canonical|meta
 *   GET    /api/schemas/{vendor}/{name}/{format}/{version}         ?repr=canonical|uri|meta
 *   POST   /api/schemas ?isPublic=   PUT /api/schemas/{v}/{n}/{f}/{version} ?isPublic=
 *   DELETE /api/schemas/{v}/{n}/{f}/{version}                      (super key, patches allowed)
 *   POST   /api/schemas/validate/{v}/{n}/jsonschema/{version}      (deprecated linting route)
 *   POST   /api/auth/keygen {"vendorPrefix":…}   DELETE /api/auth/keygen?key=
 *   POST   /api/validation/validate/schema/jsonschema, /api/validation/validate/instance
 *
 * plus CORS as upstream configures http4s (any origin, GET/POST/PUT/OPTIONS/DELETE, headers
 * content-type and apikey, max-age one day) and a trailing slash ignored.
 */
#ifndef IGS_API_H
#define IGS_API_H

#include <stddef.h>
#include <stdint.h>

#include "httpd.h"
#include "metricsd.h"

struct igs_store;
struct igs_keys;
struct igs_lint;

struct igs_api_config {
	int    allow_patches;      /* patchesAllowed: overwrite versions, DELETE */
	size_t max_payload;        /* maxPayloadSize: request bodies, bytes (upstream 100000) */
	size_t max_json_depth;     /* maxJsonDepth (upstream 40) */
};

struct igs_api_stats {
	uint64_t requests, reads, not_found, published, refused, deleted, keys, errors;
	struct metrics_hist seconds;   /* time in igs_api_handle_cb, per request */
};

struct igs_api;

struct igs_api *igs_api_new(struct igs_store *store, struct igs_keys *keys, struct igs_lint *lint,
    const struct igs_api_config *cfg);
void igs_api_free(struct igs_api *a);
void igs_api_handle_cb(const struct httpd_request *req, struct httpd_response *resp, void *arg);
const struct igs_api_stats *igs_api_stats(const struct igs_api *a);

#endif
