/*
 * atomicfile: temp file + fsync + rename + fsync of the folder (see atomicfile.h).
 */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long atomicfile_counter;

int
atomicfile_sync_parent(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd, rc;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) >= sizeof(dir))
		return -1;
	else
		snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = fsync(fd);
	close(fd);
	return rc;
}

int
atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX];
	const char *slash = strrchr(path, '/'), *name = slash ? slash + 1 : path;
	const char *p = data;
	size_t off = 0;
	int fd, n;

	n = snprintf(tmp, sizeof(tmp), "%.*s.%s%s%ld-%lu", (int)(name - path), path, name,
	    ATOMICFILE_TMP_MARK, (long)getpid(), ++atomicfile_counter);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: path too long", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			snprintf(err, errlen, "%s: %s", tmp, w < 0 ? strerror(errno) : "short write");
			goto fail;
		}
		off += (size_t)w;
	}
	if (fchmod(fd, mode) < 0 || fsync(fd) < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	if (close(fd) < 0) {
		fd = -1;
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (atomicfile_sync_parent(path) < 0) {
		/* the new content is in place; only its durability across a power loss is unsure */
		snprintf(err, errlen, "%s: fsync of the folder: %s", path, strerror(errno));
		return -1;
	}
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	return -1;
}

int
atomicfile_mkdirs(const char *dir, mode_t mode, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	size_t i, n = strlen(dir);
	struct stat st;

	if (n == 0 || n >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: bad folder name", dir);
		return -1;
	}
	memcpy(tmp, dir, n + 1);
	for (i = 1; i <= n; i++) {
		if (tmp[i] != '/' && tmp[i] != '\0')
			continue;
		tmp[i] = '\0';
		if (stat(tmp, &st) < 0) {
			if (errno != ENOENT || (mkdir(tmp, mode) < 0 && errno != EEXIST)) {
				snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
				return -1;
			}
			atomicfile_sync_parent(tmp);
		} else if (!S_ISDIR(st.st_mode)) {
			snprintf(err, errlen, "%s: not a folder", tmp);
			return -1;
		}
		if (i < n)
			tmp[i] = '/';
	}
	return 0;
}

int
atomicfile_is_temp(const char *name)
{
	return name[0] == '.' && strstr(name, ATOMICFILE_TMP_MARK) != NULL;
}
