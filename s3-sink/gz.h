/*
 * gz: the gzip framing of s3-sink's objects (sinks.md §3.4) written straight into a spool file.
 *
 * One gzip member per object, zlib's deflate, every record followed by '\n'. The writer can be
 * "synced" (Z_SYNC_FLUSH) after each block of input, which puts everything given so far into the
 * file on a byte boundary: if the process is killed, the file is a truncated gzip member whose
 * whole content up to the last sync can still be inflated. s3gz_salvage turns such a file back
 * into a complete member holding only whole lines, which is how the spool recovers open files.
 */
#ifndef S3_GZ_H
#define S3_GZ_H

#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define S3GZ_OUTBUF  (64 * 1024)

struct s3gz {
	z_stream       zs;
	int            fd;
	int            active;        /* deflateInit2 done, not yet ended */
	unsigned char *out;           /* S3GZ_OUTBUF bytes */
	uint64_t       bytes_in;      /* uncompressed bytes given */
	uint64_t       bytes_out;     /* compressed bytes written to fd */
};

/* Start a gzip member written to fd at the given zlib level (0-9, -1 = default). 0 or -1. */
int  s3gz_begin(struct s3gz *g, int fd, int level, char *err, size_t errlen);
/* Compress n bytes. Output reaches fd when the internal buffer fills. 0 or -1 (err set). */
int  s3gz_write(struct s3gz *g, const void *p, size_t n, char *err, size_t errlen);
/* Push everything given so far into fd (Z_SYNC_FLUSH). 0 or -1. */
int  s3gz_sync(struct s3gz *g, char *err, size_t errlen);
/* Finish the member (trailer written) and release zlib. 0 or -1. fd is left open. */
int  s3gz_finish(struct s3gz *g, char *err, size_t errlen);
/* Release zlib without finishing (error paths). */
void s3gz_abandon(struct s3gz *g);

/* Inflate the gzip data in in_fd as far as it goes (a truncated or damaged tail is dropped) and
 * write its whole lines as a new, complete member to out_fd. *records gets the number of lines
 * kept, *tail_bytes the bytes of an unfinished last line that were dropped. Returns 0, or -1 on
 * an I/O or memory error (err set). A file with nothing recoverable gives 0 records. */
int  s3gz_salvage(int in_fd, int out_fd, int level, uint64_t *records, uint64_t *tail_bytes,
    char *err, size_t errlen);

/* write(2) all of p, retrying on EINTR and short writes. 0 or -1 (errno set). */
int  s3gz_write_all(int fd, const void *p, size_t n);

#endif
