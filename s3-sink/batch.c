/*
 * batch: open spool files and their rotation into closed, named files (see batch.h).
 */
#include "batch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>


void
s3batch_init(struct s3batch *b, struct s3spool *sp, int level)
{
	memset(b, 0, sizeof(*b));
	b->spool = sp;
	b->level = level;
}

struct s3part *
s3batch_part(struct s3batch *b, const struct s3key_schema *schema, char *err, size_t errlen)
{
	struct s3part *p;
	size_t i;

	for (i = 0; i < b->nparts; i++) {
		p = b->parts[i];
		if (schema == NULL ? !p->has_schema : (p->has_schema && s3key_schema_eq(&p->schema, schema)))
			return p;
	}
	if (b->nparts == S3BATCH_MAX_PARTS) {
		snprintf(err, errlen, "too many open files in the batch");
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	p->fd = -1;
	if (uuid_v4(p->uuid) == -1) {
		snprintf(err, errlen, "uuid: %s", strerror(errno));
		goto fail;
	}
	if (schema != NULL) {
		p->schema = *schema;
		p->has_schema = 1;
	}
	if (s3spool_part_name(p->uuid, schema, p->name, sizeof(p->name)) == -1) {
		snprintf(err, errlen, "spool file name too long");
		goto fail;
	}
	p->fd = s3spool_create(b->spool, p->name, err, errlen);
	if (p->fd == -1)
		goto fail;
	if (s3gz_begin(&p->gz, p->fd, b->level, err, errlen) == -1) {
		close(p->fd);
		s3spool_unlink(b->spool, p->name, err, errlen);
		goto fail;
	}
	b->parts[b->nparts++] = p;
	return p;
fail:
	free(p);
	return NULL;
}

int
s3batch_write(struct s3part *p, const void *data, size_t n, char *err, size_t errlen)
{
	p->dirty = 1;
	return s3gz_write(&p->gz, data, n, err, errlen);
}

int
s3batch_sync(struct s3batch *b, uint64_t *grown, char *err, size_t errlen)
{
	struct s3part *p;
	size_t i;

	*grown = 0;
	for (i = 0; i < b->nparts; i++) {
		p = b->parts[i];
		if (p->dirty) {
			if (s3gz_sync(&p->gz, err, errlen) == -1)
				return -1;
			p->dirty = 0;
		}
		*grown += p->gz.bytes_out - p->accounted;
		p->accounted = p->gz.bytes_out;
	}
	return 0;
}

uint64_t
s3batch_bytes(const struct s3batch *b)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < b->nparts; i++)
		n += b->parts[i]->gz.bytes_out;
	return n;
}

static int
s3batch_close_part(struct s3batch *b, struct s3part *p, const char *tmpl, const char *prefix,
    const struct tm *tm, s3batch_closed_cb cb, void *arg, char *err, size_t errlen)
{
	char partition[S3KEY_MAX + 1], key[S3KEY_MAX + 1], closed[S3SPOOL_NAME_MAX];
	uint64_t size;

	if (p->records == 0) {
		s3gz_abandon(&p->gz);
		close(p->fd);
		p->fd = -1;
		return s3spool_unlink(b->spool, p->name, err, errlen);
	}
	if (s3gz_finish(&p->gz, err, errlen) == -1)
		return -1;
	size = p->gz.bytes_out;
	if (fsync(p->fd) == -1) {
		snprintf(err, errlen, "spool %s/%s: fsync: %s", b->spool->dir, p->name, strerror(errno));
		return -1;
	}
	close(p->fd);
	p->fd = -1;
	if (s3key_expand(tmpl, p->has_schema ? &p->schema : NULL, tm, partition,
	    sizeof(partition)) == -1 ||
	    s3key_build(partition, prefix, tm, p->uuid, key, sizeof(key)) == -1 ||
	    s3key_to_spool_name(key, closed, sizeof(closed)) == -1) {
		snprintf(err, errlen, "cannot make an object key for %s", p->name);
		return -1;
	}
	if (s3spool_rename(b->spool, p->name, closed, err, errlen) == -1)
		return -1;
	return cb(arg, closed, size);
}

int
s3batch_close(struct s3batch *b, const char *tmpl, const char *prefix, s3batch_closed_cb cb,
    void *arg, uint64_t *released, char *err, size_t errlen)
{
	struct s3part *p;
	struct tm tm;
	time_t now = time(NULL);
	size_t i;
	int rc = 0;

	*released = 0;
	gmtime_r(&now, &tm);
	for (i = 0; i < b->nparts; i++) {
		p = b->parts[i];
		*released += p->accounted;
		if (rc == 0 && s3batch_close_part(b, p, tmpl, prefix, &tm, cb, arg, err,
		    errlen) == -1)
			rc = -1;
		if (p->fd != -1) {
			/* Failed: leave the .part for the next start to salvage. */
			s3gz_abandon(&p->gz);
			close(p->fd);
		}
		free(p);
		b->parts[i] = NULL;
	}
	b->nparts = 0;
	b->records = 0;
	b->first_ms = 0;
	return rc;
}
