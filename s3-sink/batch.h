/*
 * batch: the files s3-sink has open in the spool (sinks.md §3.5, §3.6).
 *
 * A batch is one open gzip file for the enriched and raw streams, or one per distinct full
 * schema key for the bad stream. Records go straight into those files; s3batch_sync pushes
 * everything given so far to the files (the durability point), and s3batch_close finishes each
 * member, fsyncs it and renames it to its object key, after which it belongs to the upload queue.
 */
#ifndef S3_BATCH_H
#define S3_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "gz.h"
#include "keys.h"
#include "spool.h"

#define S3BATCH_MAX_PARTS 256    /* distinct schemas in one batch before it is rotated */

struct s3part {
	char                 name[S3SPOOL_NAME_MAX];
	char                 uuid[UUID_STR_LEN + 1];
	int                  has_schema;
	struct s3key_schema  schema;
	int                  fd;
	struct s3gz          gz;
	uint64_t             records;
	uint64_t             accounted;    /* compressed bytes already reported to the spool size */
	int                  dirty;        /* written since the last sync */
	int                  in_line;      /* stream mode: the last bytes written end mid-line */
};

struct s3batch {
	struct s3spool  *spool;
	int              level;
	struct s3part   *parts[S3BATCH_MAX_PARTS];
	size_t           nparts;
	uint64_t         records;
	int64_t          first_ms;     /* monotonic time of the first record, 0 when empty */
};

/* Called for each file closed by s3batch_close: its closed name and size. 0 or -1. */
typedef int (*s3batch_closed_cb)(void *arg, const char *name, uint64_t size);

void s3batch_init(struct s3batch *b, struct s3spool *sp, int level);
/* The open file for schema (NULL: the single stream file), created when missing. */
struct s3part *s3batch_part(struct s3batch *b, const struct s3key_schema *schema, char *err,
    size_t errlen);
int  s3batch_write(struct s3part *p, const void *data, size_t n, char *err, size_t errlen);
/* Sync every dirty file. *grown gets the compressed bytes added to the spool since last call. */
int  s3batch_sync(struct s3batch *b, uint64_t *grown, char *err, size_t errlen);
/* Compressed bytes written so far, over every open file. */
uint64_t s3batch_bytes(const struct s3batch *b);
/* Close every file: finish, fsync, rename to its key (partition template and prefix, now as the
 * time). Files with no record are deleted. cb gets each closed file. The batch is empty after.
 * *released gets the bytes the open files had accounted (the caller moves them to the queue). */
int  s3batch_close(struct s3batch *b, const char *tmpl, const char *prefix,
    s3batch_closed_cb cb, void *arg, uint64_t *released, char *err, size_t errlen);

#endif
