/*
 * spool: the directory where s3-sink stages its files (sinks.md §3.6).
 *
 * File names carry all the state, so a restart needs nothing else:
 *   <uuid>.part                                 an open file (enriched/raw stream)
 *   <uuid>~<vendor>~<name>~<format>~<M-R-A>.part an open file of the bad stream, for that schema
 *   <key with '/' written as '!'>               a closed gzip member waiting for upload; its name
 *                                               is its object key and ends in -<uuid>.gz
 *   <uuid>.tmp                                  a salvage in progress (removed at start)
 *   .lock                                       flock(2)ed by the running sink
 * An open file keeps its uuid when it is closed, so a leftover .part whose uuid already appears
 * in a closed name was salvaged before a crash and only needs deleting.
 */
#ifndef S3_SPOOL_H
#define S3_SPOOL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "keys.h"
#include "uuid.h"

#define S3SPOOL_NAME_MAX 1280

struct s3spool {
	char *dir;
	int   dirfd;
	int   lockfd;
};

enum s3spool_kind { S3SPOOL_OTHER = 0, S3SPOOL_CLOSED, S3SPOOL_PART, S3SPOOL_TMP };

struct s3spool_entry {
	char              *name;
	enum s3spool_kind  kind;
	uint64_t           size;
	time_t             mtime;
};

/* Open (creating it if missing) and lock the spool. A second sink on the same spool fails. */
int  s3spool_open(struct s3spool *sp, const char *dir, char *err, size_t errlen);
void s3spool_close(struct s3spool *sp);
/* Create a new file for writing (O_EXCL); returns its fd or -1. */
int  s3spool_create(struct s3spool *sp, const char *name, char *err, size_t errlen);
int  s3spool_open_read(struct s3spool *sp, const char *name, char *err, size_t errlen);
/* rename(2) inside the spool, then fsync the directory so the new name survives a crash. */
int  s3spool_rename(struct s3spool *sp, const char *from, const char *to, char *err, size_t errlen);
int  s3spool_unlink(struct s3spool *sp, const char *name, char *err, size_t errlen);
int  s3spool_sync_dir(struct s3spool *sp);

enum s3spool_kind s3spool_classify(const char *name);
/* Name of an open file. schema may be NULL. Returns the length or -1. */
int  s3spool_part_name(const char *uuid, const struct s3key_schema *schema, char *out,
    size_t outlen);
/* Parse an open file's name. *has_schema tells whether s was filled. 0 or -1. */
int  s3spool_part_parse(const char *name, char uuid[UUID_STR_LEN + 1], struct s3key_schema *s,
    int *has_schema);
/* 1 if a closed file (kind S3SPOOL_CLOSED) in ents ends in -<uuid>.gz. */
int  s3spool_closed_has_uuid(const struct s3spool_entry *ents, size_t n, const char *uuid);

/* Every spool file but .lock, sorted by name. */
int  s3spool_list(struct s3spool *sp, struct s3spool_entry **ents, size_t *n, char *err,
    size_t errlen);
void s3spool_list_free(struct s3spool_entry *ents, size_t n);

/* Turn a leftover open file into a closed one: salvage its whole lines into a new member named
 * by its key (partition template and prefix as configured now, time = the file's mtime, uuid =
 * the part's), then remove the part. *closed gets the closed name ("" when the part held no whole
 * line and was just removed); *records the lines kept. 0 or -1 (part kept). */
int  s3spool_recover_part(struct s3spool *sp, const struct s3spool_entry *part,
    const char *partition_tmpl, const char *prefix, int level, char *closed, size_t closedlen,
    uint64_t *records, char *err, size_t errlen);

#endif
