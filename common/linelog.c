/*
 * linelog: appends under a lock, committed offsets per group, reclaiming read space
 * (see linelog.h).
 */
#include "linelog.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define LINELOG_SCAN_CHUNK   65536
#define LINELOG_PUNCH_BLOCK  65536
#define LINELOG_OFFSET_WIDTH 21        /* 20 digits and '\n' */

int
linelog_writer_open(struct linelog_writer *w, const char *path)
{
	struct stat st;

	memset(w, 0, sizeof(*w));
	w->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (w->fd == -1)
		return -1;
	if (fstat(w->fd, &st) == -1 || !S_ISREG(st.st_mode) || (w->path = strdup(path)) == NULL) {
		int e = S_ISREG(st.st_mode) ? errno : EINVAL;
		close(w->fd);
		w->fd = -1;
		errno = e;
		return -1;
	}
	w->expect = UINT64_MAX;         /* check the tail on the first append */
	return 0;
}

int
linelog_writer_close(struct linelog_writer *w)
{
	int rc = 0;

	if (w->fd >= 0)
		rc = close(w->fd);
	w->fd = -1;
	free(w->path);
	w->path = NULL;
	return rc;
}

static int
flock_retry(int fd, int op)
{
	while (flock(fd, op) == -1) {
		if (errno != EINTR)
			return -1;
	}
	return 0;
}

/* The offset just after the last '\n' at or before size (0 if there is none). */
static int
last_line_end(int fd, uint64_t size, uint64_t *end)
{
	char chunk[LINELOG_SCAN_CHUNK];
	uint64_t pos = size;

	while (pos > 0) {
		size_t n = pos < sizeof(chunk) ? (size_t)pos : sizeof(chunk);
		ssize_t got;
		char *nl;

		pos -= n;
		do
			got = pread(fd, chunk, n, (off_t)pos);
		while (got == -1 && errno == EINTR);
		if (got != (ssize_t)n) {
			if (got >= 0)
				errno = EIO;
			return -1;
		}
		if ((nl = memrchr(chunk, '\n', n)) != NULL) {
			*end = pos + (uint64_t)(nl - chunk) + 1;
			return 0;
		}
	}
	*end = 0;
	return 0;
}

/* Under the lock: cut off a fragment a killed writer left. */
static int
repair_tail(struct linelog_writer *w, uint64_t size, uint64_t *fixed)
{
	char last;
	ssize_t got;

	*fixed = size;
	if (size == 0)
		return 0;
	do
		got = pread(w->fd, &last, 1, (off_t)(size - 1));
	while (got == -1 && errno == EINTR);
	if (got != 1)
		return -1;
	if (last == '\n')
		return 0;
	if (last_line_end(w->fd, size, fixed) == -1)
		return -1;
	return ftruncate(w->fd, (off_t)*fixed);
}

int
linelog_append(struct linelog_writer *w, const char *data, size_t len)
{
	uint64_t size;
	off_t end;
	size_t off = 0;
	int e;

	if (len == 0)
		return 0;
	if (flock_retry(w->fd, LOCK_EX) == -1)
		return -1;
	/* the size, the cheap way (fstat costs several times more on some file systems, and this
	 * runs once per collector request) */
	if ((end = lseek(w->fd, 0, SEEK_END)) == -1)
		goto fail;
	size = (uint64_t)end;
	if (size != w->expect && repair_tail(w, size, &size) == -1)
		goto fail;
	while (off < len) {
		ssize_t n = write(w->fd, data + off, len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto cut;
		}
		if (n == 0) {
			errno = ENOSPC;
			goto cut;
		}
		off += (size_t)n;
	}
	w->expect = size + len;
	flock_retry(w->fd, LOCK_UN);
	return 0;
cut:
	/* never leave part of a line behind: readers wait for whole lines, and the next writer's
	 * lines would be glued to it */
	e = errno;
	if (off > 0 && ftruncate(w->fd, (off_t)size) == -1)
		w->expect = UINT64_MAX;
	errno = e;
fail:
	e = errno;
	if (e != ENOSPC)
		w->expect = UINT64_MAX;
	flock_retry(w->fd, LOCK_UN);
	errno = e;
	return -1;
}

int
linelog_group_valid(const char *group)
{
	size_t i, n = strlen(group);

	if (n == 0 || n > LINELOG_GROUP_MAX || group[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = group[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static int
offsets_dir(const char *path, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s", path, LINELOG_OFFSETS_SUFFIX);

	if (n < 0 || (size_t)n >= outlen) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

static int
read_offset(int fd, uint64_t *off)
{
	char text[LINELOG_OFFSET_WIDTH + 1], *end;
	ssize_t n;

	do
		n = pread(fd, text, sizeof(text) - 1, 0);
	while (n == -1 && errno == EINTR);
	if (n < 0)
		return -1;
	text[n] = '\0';
	errno = 0;
	*off = strtoull(text, &end, 10);
	if (n == 0 || errno || end == text || (*end != '\n' && *end != '\0')) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
linelog_offset_commit(int fd, uint64_t off)
{
	char text[LINELOG_OFFSET_WIDTH + 1];
	ssize_t n;

	snprintf(text, sizeof(text), "%020" PRIu64 "\n", off);
	do
		n = pwrite(fd, text, LINELOG_OFFSET_WIDTH, 0);
	while (n == -1 && errno == EINTR);
	if (n != LINELOG_OFFSET_WIDTH) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	return 0;
}

int
linelog_committed_min(const char *path, uint64_t *min, unsigned *groups)
{
	char dir[PATH_MAX];
	DIR *d;
	struct dirent *de;
	int dfd;

	*groups = 0;
	if (offsets_dir(path, dir, sizeof(dir)) == -1)
		return -1;
	if ((d = opendir(dir)) == NULL)
		return errno == ENOENT ? 0 : -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		uint64_t off;
		int fd;

		if (!linelog_group_valid(de->d_name))
			continue;
		if ((fd = openat(dfd, de->d_name, O_RDONLY | O_CLOEXEC)) == -1)
			continue;
		if (read_offset(fd, &off) == 0) {
			if (*groups == 0 || off < *min)
				*min = off;
			(*groups)++;
		}
		close(fd);
	}
	closedir(d);
	return 0;
}

int
linelog_offset_open(const char *path, int log_fd, const char *group, int at_end,
    uint64_t *committed)
{
	char dir[PATH_MAX], file[PATH_MAX + LINELOG_GROUP_MAX + 2];
	int fd, e;
	struct stat st;

	if (!linelog_group_valid(group)) {
		errno = EINVAL;
		return -1;
	}
	if (offsets_dir(path, dir, sizeof(dir)) == -1)
		return -1;
	if (mkdir(dir, 0755) == -1 && errno != EEXIST)
		return -1;
	snprintf(file, sizeof(file), "%s/%s", dir, group);
	fd = open(file, O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		if (read_offset(fd, committed) == 0)
			return fd;
		/* an empty or damaged file: a group that never committed; start it afresh */
	} else if (errno != ENOENT) {
		return -1;
	} else if ((fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		return -1;
	}
	if (fstat(log_fd, &st) == -1)
		goto fail;
	if (at_end) {
		uint64_t end;
		if (last_line_end(log_fd, (uint64_t)st.st_size, &end) == -1)
			goto fail;
		*committed = end;
	} else {
		off_t data = lseek(log_fd, 0, SEEK_DATA);
		unsigned groups;
		*committed = 0;
		/* holes at the start: space was reclaimed up to the other groups' offsets */
		if (data > 0 && linelog_committed_min(path, committed, &groups) == -1)
			goto fail;
	}
	if (linelog_offset_commit(fd, *committed) == -1)
		goto fail;
	return fd;
fail:
	e = errno;
	close(fd);
	errno = e;
	return -1;
}

int
linelog_reclaim(const char *path, int fd, uint64_t *done)
{
	uint64_t min, upto;
	unsigned groups;

	if (linelog_committed_min(path, &min, &groups) == -1)
		return -1;
	if (groups == 0)
		return 0;
	upto = min - min % LINELOG_PUNCH_BLOCK;
	if (upto <= *done)
		return 0;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)*done,
	    (off_t)(upto - *done)) == -1)
		return -1;
	*done = upto;
	return 0;
}

uint64_t
linelog_tail_offset(int fd, uint64_t bytes)
{
	char chunk[LINELOG_SCAN_CHUNK];
	struct stat st;
	uint64_t pos, size;
	off_t data;

	if (fstat(fd, &st) == -1)
		return 0;
	size = (uint64_t)st.st_size;
	pos = size > bytes ? size - bytes : 0;
	data = lseek(fd, (off_t)pos, SEEK_DATA);
	if (data > (off_t)pos)
		pos = (uint64_t)data;
	if (pos == 0)
		return 0;
	/* the line that starts after the first '\n' at or after pos - 1 */
	pos--;
	while (pos < size) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), (off_t)pos);
		char *nl;
		if (n <= 0)
			break;
		if ((nl = memchr(chunk, '\n', (size_t)n)) != NULL)
			return pos + (uint64_t)(nl - chunk) + 1;
		pos += (uint64_t)n;
	}
	return size;
}
