/*
 * atomicfile: replace a file so that a crash at any moment leaves either the old content or the
 * new one, never a mix: write a temporary file in the same folder, fsync it, rename(2) it over
 * the target, fsync the folder. Readers that open the path see one version or the other, because
 * rename is atomic within a file system. Used where a stage keeps state others read while it
 * runs (iglu-server's schemas and API keys).
 */
#ifndef FURROW_ATOMICFILE_H
#define FURROW_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/* Prefix of the temporary files' names (".<name>.tmp-<pid>-<n>" in the target's folder). */
#define ATOMICFILE_TMP_MARK ".tmp-"

/* Write data to path as above, with the given mode. Returns 0, or -1 with err filled ("what:
 * why"); on failure the target is untouched and the temporary removed. */
int atomicfile_write(const char *path, const void *data, size_t len, mode_t mode, char *err,
    size_t errlen);

/* Create dir and its missing parents with mode, fsyncing each parent that gained an entry.
 * Returns 0 or -1 with err filled. */
int atomicfile_mkdirs(const char *dir, mode_t mode, char *err, size_t errlen);

/* 1 when a folder entry name is one of this module's temporaries (left by a crash). */
int atomicfile_is_temp(const char *name);

/* fsync the folder that holds path (after a rename or unlink in it). Returns 0 or -1. */
int atomicfile_sync_parent(const char *path);

#endif
