/*
 * linelog: a durable log of lines in one regular file, shared by writers and consumer groups.
 *
 * This is what makes "an event answered 200 is never lost" hold on one machine when any stage
 * dies: a stage appends its output to a file instead of a pipe, and the next stage reads that
 * file from an offset it commits only after what it derived from the lines is handed on. A
 * stage killed with SIGKILL loses nothing: its writes are in the page cache, and its reader
 * resumes from the last committed offset (at least once: the lines after that offset are read
 * again).
 *
 * Writers append whole lines with one write(2) on O_APPEND under an exclusive flock(2), so lines
 * of different writers never interleave, and a write that fails half-way (ENOSPC, EDQUOT, EFBIG)
 * is cut back to the last whole line before the lock is released: the file only ever grows by
 * whole lines. A writer that was killed in the middle of a write leaves an unterminated fragment;
 * the next writer to take the lock cuts it off (it was never acknowledged: write(2) had not
 * returned).
 *
 * Consumer groups keep their committed offsets in PATH.offsets/GROUP (one decimal number and a
 * newline, rewritten in place with one pwrite(2)). A group's file exists from the moment the group
 * opens the log, so the space its unread lines use is never reclaimed under it. Reclaiming is
 * opt-in: linelog_reclaim punches the holes (FALLOC_FL_PUNCH_HOLE) that every group has read
 * past, so a log whose lines are consumed takes no disk space while its offsets stay valid.
 */
#ifndef FURROW_LINELOG_H
#define FURROW_LINELOG_H

#include <stddef.h>
#include <stdint.h>

#define LINELOG_OFFSETS_SUFFIX ".offsets"
#define LINELOG_GROUP_MAX      64

struct linelog_writer {
	int      fd;
	char    *path;
	uint64_t expect;     /* the file's size after our last append: another size means another
	                      * writer (or a crash) appended since, so the tail is checked */
};

/* Open (creating it, mode 0644) PATH for appending. Returns 0, or -1 with errno set. */
int  linelog_writer_open(struct linelog_writer *w, const char *path);
/* Returns close(2)'s result: -1 with errno when the file system reports a failed write late
 * (NFS, quotas). */
int  linelog_writer_close(struct linelog_writer *w);
/* Append data[0..len), which must be whole '\n'-terminated lines. Returns 0 when all of it is
 * in the file, or -1 with errno set and the file as it was (ENOSPC: wait and call again). */
int  linelog_append(struct linelog_writer *w, const char *data, size_t len);

/* A group name is 1..LINELOG_GROUP_MAX of [A-Za-z0-9._-], not starting with '.'. */
int  linelog_group_valid(const char *group);

/*
 * Open the offset file of GROUP for the log at PATH, open as log_fd (creating PATH.offsets/ and
 * the file). A new group starts at the beginning of the log, or at its end with at_end: the
 * beginning is where the other groups' committed offsets show the lines are still there when
 * space was reclaimed. On success returns the file's descriptor and sets *committed to the
 * group's committed offset. Returns -1 with errno set on failure.
 */
int  linelog_offset_open(const char *path, int log_fd, const char *group, int at_end,
    uint64_t *committed);
/* Commit OFF to an offset file opened with linelog_offset_open. Returns 0 or -1 (errno). */
int  linelog_offset_commit(int fd, uint64_t off);

/* The smallest committed offset of every group of the log at PATH, in *min; *groups is the
 * number of groups (0: *min is left at 0). Returns 0, or -1 with errno set. */
int  linelog_committed_min(const char *path, uint64_t *min, unsigned *groups);

/*
 * Give back the disk blocks of the part of the log (open as fd) that every group has read:
 * punches [*done, min) rounded down to whole 64 KiB blocks and advances *done. Safe to call
 * from any reader at any time. Returns 0, or -1 with errno set (EOPNOTSUPP on a file system
 * without hole punching: the caller can stop trying).
 */
int  linelog_reclaim(const char *path, int fd, uint64_t *done);

/* The offset of the first whole line in the last BYTES of the log open as fd (a reader that
 * shows recent lines without a group). */
uint64_t linelog_tail_offset(int fd, uint64_t bytes);

#endif
