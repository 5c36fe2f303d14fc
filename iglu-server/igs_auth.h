/*
 * igs_auth: Iglu Server's API keys and what each may do (iglu-server's model/Permission.scala and
 * middleware/PermissionMiddleware.scala, matched rule by rule).
 *
 * A request's `apikey` header is a UUID. No header, or a UUID nobody issued, is the anonymous
 * permission (reads public schemas only); a header that is not a UUID is refused with 400. The
 * super key (from the environment or a file, never argv) may do everything. POST
 * /api/auth/keygen issues a read key and a write key for a vendor prefix; they are kept in the
 * keys file, one per line "<uuid> read|write <vendor prefix or *>", replaced atomically on every
 * change, so that a restart keeps them and an operator can read or edit them.
 */
#ifndef IGS_AUTH_H
#define IGS_AUTH_H

#include <jansson.h>
#include <stddef.h>

#define IGS_UUID_LEN        36
#define IGS_VENDOR_MAX      128
#define IGS_KEYS_MAX        10000     /* keys kept; keygen beyond this is refused */

/* Permission.SchemaAction, in upstream's order */
enum igs_action { IGS_ACT_NONE, IGS_ACT_READ, IGS_ACT_BUMP, IGS_ACT_CREATE, IGS_ACT_CREATE_VENDOR };

struct igs_perm {
	char vendor[IGS_VENDOR_MAX];   /* dot-separated parts; "" is no parts */
	int  wildcard;                  /* also applies to vendors below (com.acme -> com.acme.x) */
	enum igs_action schema;
	int  key_create, key_delete;
};

/* The anonymous permission (Permission.Noop) and the super key's (Permission.Super). */
void igs_perm_noop(struct igs_perm *p);
void igs_perm_super(struct igs_perm *p);

int igs_perm_vendor_check(const struct igs_perm *p, const char *vendor);
int igs_perm_can_read(const struct igs_perm *p, const char *vendor);
int igs_perm_can_create_schema(const struct igs_perm *p, const char *vendor);
int igs_perm_can_create_key(const struct igs_perm *p, const char *vendor);
int igs_perm_can_validate(const struct igs_perm *p);
/* {"vendor":"com.acme","schema":"READ"|null,"key":["CREATE","DELETE"]}, as /api/meta/server. */
json_t *igs_perm_json(const struct igs_perm *p);

/* Java's UUID.fromString, which upstream uses: five '-'-separated hex groups of at most 8, 4, 4,
 * 4 and 12 digits, at most 36 characters. Writes the canonical lower-case form. 0 or -1. */
int igs_uuid_parse(const char *s, size_t len, char out[IGS_UUID_LEN + 1]);

struct igs_keys;

/* Load the keys file (path may be NULL: keys live in memory only; a missing file is empty).
 * NULL with err filled when the file cannot be read or a line is malformed. */
struct igs_keys *igs_keys_open(const char *path, char *err, size_t errlen);
void igs_keys_free(struct igs_keys *k);
/* Set the super key (a UUID in any form igs_uuid_parse takes). 0 or -1. */
int igs_keys_set_super(struct igs_keys *k, const char *uuid);
int igs_keys_have_super(const struct igs_keys *k);
size_t igs_keys_count(const struct igs_keys *k);

/* The permission of a canonical UUID: the super key's, an issued key's, or the anonymous one. */
void igs_keys_lookup(const struct igs_keys *k, const char *uuid, struct igs_perm *out);

/* Issue a read and a write key for vendor_prefix ("*" or "" for every vendor) and save the
 * file. 0, or -1 with err filled (then nothing changed). */
int igs_keys_generate(struct igs_keys *k, const char *vendor_prefix,
    char read[IGS_UUID_LEN + 1], char write[IGS_UUID_LEN + 1], char *err, size_t errlen);
/* Forget one key and save the file (no such key is not an error). 0 or -1 with err. */
int igs_keys_delete(struct igs_keys *k, const char *uuid, char *err, size_t errlen);

/* Read a super key file: the first line, a UUID. When create is set and the file does not
 * exist, a new random key is written there (mode 0600) and *created set. 0 or -1 with err. */
int igs_keys_read_super_file(const char *path, int create, char out[IGS_UUID_LEN + 1],
    int *created, char *err, size_t errlen);

#endif
