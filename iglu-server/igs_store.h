/*
 * igs_store: iglu-server's schemas as plain files, the layout of an Iglu static registry and of
 * furrow's embedded registry, so that enrich (and git) can read the same folder:
 *
 *   DIR/schemas/<vendor>/<name>/<format>/<M-R-A>   the self-describing schema, indented JSON
 *   DIR/meta/<vendor>/<name>/<format>/<M-R-A>      {"isPublic":…,"createdAt":…,"updatedAt":…}
 *
 * A schema file without a metadata file (put there by hand or by git) is public, created and
 * updated at its modification time. Writes follow Iglu Server's publishing rules
 * (model/VersionCursor.scala, SchemaService.isSchemaAllowed): sequential versions, immutable
 * versions unless patches are allowed, one visibility per vendor/name, `$supersedes`. Every
 * write is atomic (common/atomicfile) and made under an flock(2) on DIR, so that pushes of one
 * key are serialized even between processes; a crash leaves the old version or the new one.
 *
 * Reads are served from a cache of the canonical form of each schema (the JSON Iglu Server
 * answers: "$schema", "$supersededBy", "$supersedes", "self", then the body), checked against
 * the files' identity (inode, size, mtime) on every read, so that a file changed behind the
 * server's back is seen at once.
 */
#ifndef IGS_STORE_H
#define IGS_STORE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "iglu.h"

#define IGS_STORE_MAX_SCHEMA_BYTES (4u << 20)   /* a schema file larger is not served */
#define IGS_STORE_CACHE_MAX_BYTES  (64u << 20)  /* cached canonical forms; then start again */
#define IGS_STORE_LIST_MAX         100000       /* schemas one listing walks at most */

#define IGS_SELFDESC_URI \
	"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#"

struct igs_meta {
	int     is_public;
	int64_t created_ms, updated_ms;
};

struct igs_schema {
	struct iglu_key key;
	json_t         *doc;        /* canonical document (owned by the store) */
	const char     *text;       /* its compact text */
	size_t          text_len;
	struct igs_meta meta;
};

struct igs_store;

/* Open (and create) DIR/schemas and DIR/meta; remove temporaries a crash left. */
struct igs_store *igs_store_open(const char *dir, char *err, size_t errlen);
void igs_store_free(struct igs_store *s);

/* Check path segments and build a key. Returns 0, or -1 with *code "INVALID_IGLUURI" (a segment
 * outside Iglu's characters, ".", "..", too long) or "INVALID_SCHEMAVER". */
int igs_store_key(const char *vendor, const char *name, const char *format, const char *version,
    struct iglu_key *key, const char **code);

/* The schema for key: 1 (*out valid until the next call into the store), 0 when there is none,
 * -1 when its file cannot be read or is not a JSON object (err says why). */
int igs_store_get(struct igs_store *s, const struct iglu_key *key, const struct igs_schema **out,
    char *err, size_t errlen);

/* Keys of the schemas present, sorted by vendor, name, format and version. vendor, name and
 * format narrow the walk when not NULL; model > 0 keeps one model. The caller frees *keys.
 * Returns the count, or -1 (out of memory). */
long igs_store_list(struct igs_store *s, const char *vendor, const char *name,
    const char *format, int model, struct iglu_key **keys);

struct igs_publish {
	const struct iglu_key *key;
	const json_t *body;         /* the schema without self, $schema, $supersedes, $supersededBy */
	const json_t *supersedes;   /* array of "M-R-A" strings, or NULL */
	int is_public;
	int allow_patches;
	int64_t now_ms;
};

/* Publish. Returns the HTTP status: 201 (created), 200 (updated), 409 (refused: msg is
 * upstream's message), 500 (I/O: msg says why, and the store is as it was). */
int igs_store_publish(struct igs_store *s, const struct igs_publish *p, char *msg, size_t msglen);

/* Remove a schema (and its metadata). 0, or -1 with err. A missing schema is not an error. */
int igs_store_delete(struct igs_store *s, const struct iglu_key *key, char *err, size_t errlen);

/* The folder that holds vendor folders (DIR/schemas). */
const char *igs_store_schemas_dir(const struct igs_store *s);

/* "vendor/name/format/M-R-A" of key into out (at least 512 bytes). */
void igs_store_path_of(const struct iglu_key *key, char *out, size_t outlen);

#endif
