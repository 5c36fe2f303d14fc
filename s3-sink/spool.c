/*
 * spool: naming, listing, locking and recovery of spool files (see spool.h).
 */
#include "spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gz.h"

int
s3spool_open(struct s3spool *sp, const char *dir, char *err, size_t errlen)
{
	memset(sp, 0, sizeof(*sp));
	sp->dirfd = sp->lockfd = -1;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "spool %s: mkdir: %s", dir, strerror(errno));
		return -1;
	}
	sp->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sp->dirfd == -1) {
		snprintf(err, errlen, "spool %s: %s", dir, strerror(errno));
		return -1;
	}
	sp->lockfd = openat(sp->dirfd, ".lock", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (sp->lockfd == -1) {
		snprintf(err, errlen, "spool %s: .lock: %s", dir, strerror(errno));
		s3spool_close(sp);
		return -1;
	}
	if (flock(sp->lockfd, LOCK_EX | LOCK_NB) == -1) {
		snprintf(err, errlen, "spool %s: in use by another s3-sink (%s)", dir,
		    strerror(errno));
		s3spool_close(sp);
		return -1;
	}
	sp->dir = strdup(dir);
	if (sp->dir == NULL) {
		snprintf(err, errlen, "out of memory");
		s3spool_close(sp);
		return -1;
	}
	return 0;
}

void
s3spool_close(struct s3spool *sp)
{
	if (sp->lockfd != -1)
		close(sp->lockfd);
	if (sp->dirfd != -1)
		close(sp->dirfd);
	free(sp->dir);
	sp->dir = NULL;
	sp->lockfd = sp->dirfd = -1;
}

int
s3spool_create(struct s3spool *sp, const char *name, char *err, size_t errlen)
{
	int fd = openat(sp->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd == -1)
		snprintf(err, errlen, "spool %s/%s: %s", sp->dir, name, strerror(errno));
	return fd;
}

int
s3spool_open_read(struct s3spool *sp, const char *name, char *err, size_t errlen)
{
	int fd = openat(sp->dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		snprintf(err, errlen, "spool %s/%s: %s", sp->dir, name, strerror(errno));
	return fd;
}

int
s3spool_sync_dir(struct s3spool *sp)
{
	return fsync(sp->dirfd);
}

int
s3spool_rename(struct s3spool *sp, const char *from, const char *to, char *err, size_t errlen)
{
	if (renameat(sp->dirfd, from, sp->dirfd, to) == -1) {
		snprintf(err, errlen, "spool %s: rename %s: %s", sp->dir, from, strerror(errno));
		return -1;
	}
	if (fsync(sp->dirfd) == -1) {
		snprintf(err, errlen, "spool %s: fsync: %s", sp->dir, strerror(errno));
		return -1;
	}
	return 0;
}

int
s3spool_unlink(struct s3spool *sp, const char *name, char *err, size_t errlen)
{
	if (unlinkat(sp->dirfd, name, 0) == -1 && errno != ENOENT) {
		snprintf(err, errlen, "spool %s: unlink %s: %s", sp->dir, name, strerror(errno));
		return -1;
	}
	return 0;
}

static int
s3spool_ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

enum s3spool_kind
s3spool_classify(const char *name)
{
	/* Keys may start with '.' (a "..a" folder), so only the lock file is special. */
	if (strcmp(name, ".lock") == 0)
		return S3SPOOL_OTHER;
	if (s3spool_ends_with(name, ".part"))
		return S3SPOOL_PART;
	if (s3spool_ends_with(name, ".tmp"))
		return S3SPOOL_TMP;
	if (s3spool_ends_with(name, ".gz") && strchr(name, '~') == NULL)
		return S3SPOOL_CLOSED;
	return S3SPOOL_OTHER;
}

int
s3spool_part_name(const char *uuid, const struct s3key_schema *schema, char *out, size_t outlen)
{
	int n;

	if (schema == NULL)
		n = snprintf(out, outlen, "%s.part", uuid);
	else
		n = snprintf(out, outlen, "%s~%s~%s~%s~%s.part", uuid, schema->vendor, schema->name,
		    schema->format, schema->version);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

int
s3spool_part_parse(const char *name, char uuid[UUID_STR_LEN + 1], struct s3key_schema *s,
    int *has_schema)
{
	char uri[4 * S3KEY_FIELD_MAX + 16];
	const char *p, *end, *code;
	size_t len = strlen(name), i;
	int o, k;

	*has_schema = 0;
	if (len < UUID_STR_LEN + 5 || !s3spool_ends_with(name, ".part") ||
	    !uuid_is_valid(name, UUID_STR_LEN))
		return -1;
	memcpy(uuid, name, UUID_STR_LEN);
	uuid[UUID_STR_LEN] = '\0';
	end = name + len - 5;
	p = name + UUID_STR_LEN;
	if (p == end)
		return 0;
	if (*p != '~')
		return -1;
	/* Rebuild iglu:vendor/name/format/version and let the URI parser check it. */
	o = snprintf(uri, sizeof(uri), "iglu:");
	for (k = 0, p++; p < end; p++) {
		if ((size_t)o + 1 >= sizeof(uri))
			return -1;
		if (*p == '~') {
			if (++k > 3)
				return -1;
			uri[o++] = '/';
		} else {
			uri[o++] = *p;
		}
	}
	uri[o] = '\0';
	if (k != 3)
		return -1;
	for (i = 0; uri[i]; i++)
		if (uri[i] == '!')
			return -1;
	if (s3key_schema_parse(uri, (size_t)o, s, &code) == -1)
		return -1;
	*has_schema = 1;
	return 0;
}

int
s3spool_closed_has_uuid(const struct s3spool_entry *ents, size_t n, const char *uuid)
{
	char tail[UUID_STR_LEN + 8];
	size_t i;

	snprintf(tail, sizeof(tail), "-%s.gz", uuid);
	for (i = 0; i < n; i++)
		if (ents[i].kind == S3SPOOL_CLOSED && s3spool_ends_with(ents[i].name, tail))
			return 1;
	return 0;
}

static int
s3spool_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct s3spool_entry *)a)->name, ((const struct s3spool_entry *)b)->name);
}

int
s3spool_list(struct s3spool *sp, struct s3spool_entry **ents, size_t *n, char *err, size_t errlen)
{
	struct s3spool_entry *v = NULL, *nv;
	struct dirent *de;
	struct stat st;
	size_t cnt = 0, cap = 0;
	DIR *d;
	int fd;

	*ents = NULL;
	*n = 0;
	fd = openat(sp->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 || (d = fdopendir(fd)) == NULL) {
		snprintf(err, errlen, "spool %s: %s", sp->dir, strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, ".lock") == 0)
			continue;
		if (fstatat(sp->dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    !S_ISREG(st.st_mode))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL)
				goto oom;
			v = nv;
		}
		v[cnt].name = strdup(de->d_name);
		if (v[cnt].name == NULL)
			goto oom;
		v[cnt].kind = s3spool_classify(de->d_name);
		v[cnt].size = (uint64_t)st.st_size;
		v[cnt].mtime = st.st_mtime;
		cnt++;
	}
	closedir(d);
	if (cnt > 1)
		qsort(v, cnt, sizeof(*v), s3spool_entry_cmp);
	*ents = v;
	*n = cnt;
	return 0;
oom:
	closedir(d);
	s3spool_list_free(v, cnt);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
s3spool_list_free(struct s3spool_entry *ents, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(ents[i].name);
	free(ents);
}

int
s3spool_recover_part(struct s3spool *sp, const struct s3spool_entry *part,
    const char *partition_tmpl, const char *prefix, int level, char *closed, size_t closedlen,
    uint64_t *records, char *err, size_t errlen)
{
	char uuid[UUID_STR_LEN + 1], partition[S3KEY_MAX + 1], key[S3KEY_MAX + 1];
	char tmp[UUID_STR_LEN + 8];
	struct s3key_schema schema;
	struct tm tm;
	uint64_t tail;
	int has_schema, in = -1, out = -1;

	closed[0] = '\0';
	*records = 0;
	if (s3spool_part_parse(part->name, uuid, &schema, &has_schema) == -1) {
		snprintf(err, errlen, "spool %s/%s: not a name s3-sink writes", sp->dir, part->name);
		return -1;
	}
	gmtime_r(&part->mtime, &tm);
	if (s3key_expand(partition_tmpl, has_schema ? &schema : NULL, &tm, partition,
	    sizeof(partition)) == -1) {
		snprintf(err, errlen, "spool %s/%s: partition template %s cannot be filled for it",
		    sp->dir, part->name, partition_tmpl);
		return -1;
	}
	if (s3key_build(partition, prefix, &tm, uuid, key, sizeof(key)) == -1 ||
	    s3key_to_spool_name(key, closed, closedlen) == -1) {
		snprintf(err, errlen, "spool %s/%s: object key too long", sp->dir, part->name);
		closed[0] = '\0';
		return -1;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", uuid);
	in = s3spool_open_read(sp, part->name, err, errlen);
	if (in == -1)
		goto fail;
	unlinkat(sp->dirfd, tmp, 0);
	out = s3spool_create(sp, tmp, err, errlen);
	if (out == -1)
		goto fail;
	if (s3gz_salvage(in, out, level, records, &tail, err, errlen) == -1)
		goto fail;
	if (fsync(out) == -1) {
		snprintf(err, errlen, "spool %s/%s: fsync: %s", sp->dir, tmp, strerror(errno));
		goto fail;
	}
	close(out);
	out = -1;
	close(in);
	in = -1;
	if (*records == 0) {
		closed[0] = '\0';
		if (s3spool_unlink(sp, tmp, err, errlen) == -1)
			return -1;
	} else if (s3spool_rename(sp, tmp, closed, err, errlen) == -1) {
		closed[0] = '\0';
		return -1;
	}
	if (s3spool_unlink(sp, part->name, err, errlen) == -1)
		return -1;
	s3spool_sync_dir(sp);
	return 0;
fail:
	if (in != -1)
		close(in);
	if (out != -1) {
		close(out);
		unlinkat(sp->dirfd, tmp, 0);
	}
	closed[0] = '\0';
	return -1;
}
