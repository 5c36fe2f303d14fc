/*
 * gz: streaming gzip members into spool files, and salvaging cut-off ones (see gz.h).
 */
#include "gz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"

/* windowBits 15 + 16: zlib writes the gzip header and trailer itself (RFC 1952). */
#define S3GZ_WBITS (15 + 16)

int
s3gz_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;
	ssize_t w;

	while (n > 0) {
		w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

int
s3gz_begin(struct s3gz *g, int fd, int level, char *err, size_t errlen)
{
	memset(g, 0, sizeof(*g));
	g->fd = fd;
	g->out = malloc(S3GZ_OUTBUF);
	if (g->out == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (deflateInit2(&g->zs, level, Z_DEFLATED, S3GZ_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
		free(g->out);
		g->out = NULL;
		snprintf(err, errlen, "deflateInit2 failed");
		return -1;
	}
	g->active = 1;
	return 0;
}

/* Run deflate with flush until it has taken all input (and, for a flush, emptied itself). */
static int
s3gz_run(struct s3gz *g, int flush, char *err, size_t errlen)
{
	size_t have;
	int rc;

	do {
		g->zs.next_out = g->out;
		g->zs.avail_out = S3GZ_OUTBUF;
		rc = deflate(&g->zs, flush);
		if (rc == Z_STREAM_ERROR) {
			snprintf(err, errlen, "deflate failed");
			return -1;
		}
		have = S3GZ_OUTBUF - g->zs.avail_out;
		if (have > 0) {
			if (s3gz_write_all(g->fd, g->out, have) == -1) {
				snprintf(err, errlen, "write: %s", strerror(errno));
				return -1;
			}
			g->bytes_out += have;
		}
		if (flush == Z_FINISH && rc == Z_STREAM_END)
			break;
	} while (g->zs.avail_out == 0 || g->zs.avail_in > 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
	return 0;
}

int
s3gz_write(struct s3gz *g, const void *p, size_t n, char *err, size_t errlen)
{
	const unsigned char *c = p;
	uInt step;

	while (n > 0) {
		step = n > (1u << 30) ? (1u << 30) : (uInt)n;
		g->zs.next_in = (unsigned char *)(uintptr_t)c;
		g->zs.avail_in = step;
		/* Z_NO_FLUSH only writes when the output buffer fills. */
		do {
			g->zs.next_out = g->out;
			g->zs.avail_out = S3GZ_OUTBUF;
			if (deflate(&g->zs, Z_NO_FLUSH) == Z_STREAM_ERROR) {
				snprintf(err, errlen, "deflate failed");
				return -1;
			}
			if (g->zs.avail_out < S3GZ_OUTBUF) {
				size_t have = S3GZ_OUTBUF - g->zs.avail_out;

				if (s3gz_write_all(g->fd, g->out, have) == -1) {
					snprintf(err, errlen, "write: %s", strerror(errno));
					return -1;
				}
				g->bytes_out += have;
			}
		} while (g->zs.avail_in > 0 || g->zs.avail_out == 0);
		g->bytes_in += step;
		c += step;
		n -= step;
	}
	return 0;
}

int
s3gz_sync(struct s3gz *g, char *err, size_t errlen)
{
	g->zs.next_in = NULL;
	g->zs.avail_in = 0;
	return s3gz_run(g, Z_SYNC_FLUSH, err, errlen);
}

int
s3gz_finish(struct s3gz *g, char *err, size_t errlen)
{
	int rc;

	g->zs.next_in = NULL;
	g->zs.avail_in = 0;
	rc = s3gz_run(g, Z_FINISH, err, errlen);
	s3gz_abandon(g);
	return rc;
}

void
s3gz_abandon(struct s3gz *g)
{
	if (g->active)
		deflateEnd(&g->zs);
	g->active = 0;
	free(g->out);
	g->out = NULL;
}

/* The largest unfinished line salvage holds back before writing it out regardless. */
#define S3GZ_SALVAGE_TAIL_MAX ((size_t)64 << 20)

int
s3gz_salvage(int in_fd, int out_fd, int level, uint64_t *records, uint64_t *tail_bytes,
    char *err, size_t errlen)
{
	unsigned char *in = NULL, *out = NULL;
	struct s3gz g;
	struct buf tail;
	z_stream zs;
	ssize_t got;
	int rc = -1, zrc = Z_OK, eof = 0, zinit = 0, partial = 0;
	size_t have;
	const unsigned char *nl;

	*records = 0;
	*tail_bytes = 0;
	buf_init(&tail, 0);
	memset(&zs, 0, sizeof(zs));
	if (s3gz_begin(&g, out_fd, level, err, errlen) == -1)
		return -1;
	in = malloc(S3GZ_OUTBUF);
	out = malloc(S3GZ_OUTBUF);
	if (in == NULL || out == NULL) {
		snprintf(err, errlen, "out of memory");
		goto done;
	}
	if (inflateInit2(&zs, S3GZ_WBITS) != Z_OK) {
		snprintf(err, errlen, "inflateInit2 failed");
		goto done;
	}
	zinit = 1;
	while (zrc != Z_STREAM_END) {
		if (zs.avail_in == 0 && !eof) {
			got = read(in_fd, in, S3GZ_OUTBUF);
			if (got < 0) {
				if (errno == EINTR)
					continue;
				snprintf(err, errlen, "read: %s", strerror(errno));
				goto done;
			}
			if (got == 0)
				eof = 1;
			zs.next_in = in;
			zs.avail_in = (uInt)got;
		}
		zs.next_out = out;
		zs.avail_out = S3GZ_OUTBUF;
		zrc = inflate(&zs, Z_NO_FLUSH);
		have = S3GZ_OUTBUF - zs.avail_out;
		if (have > 0) {
			/* Write the held-back tail and this output up to its last newline. */
			nl = NULL;
			for (size_t i = have; i > 0; i--)
				if (out[i - 1] == '\n') {
					nl = out + i - 1;
					break;
				}
			if (nl != NULL) {
				size_t upto = (size_t)(nl - out) + 1;

				if (tail.len > 0 && s3gz_write(&g, tail.data, tail.len, err, errlen) == -1)
					goto done;
				buf_reset(&tail);
				partial = 0;
				if (s3gz_write(&g, out, upto, err, errlen) == -1)
					goto done;
				for (size_t i = 0; i < upto; i++)
					*records += out[i] == '\n';
				if (buf_append(&tail, out + upto, have - upto) == -1)
					goto oom;
			} else {
				if (tail.len + have > S3GZ_SALVAGE_TAIL_MAX) {
					if (s3gz_write(&g, tail.data, tail.len, err, errlen) == -1)
						goto done;
					buf_reset(&tail);
					partial = 1;
				}
				if (buf_append(&tail, out, have) == -1)
					goto oom;
			}
		}
		if (zrc == Z_STREAM_END)
			break;
		if (zrc == Z_DATA_ERROR || zrc == Z_NEED_DICT || zrc == Z_MEM_ERROR)
			break;     /* damaged: keep what inflated cleanly */
		if (zrc == Z_BUF_ERROR && eof && zs.avail_in == 0)
			break;     /* truncated: the normal case after kill -9 */
		if (eof && zs.avail_in == 0 && have == 0)
			break;
	}
	*tail_bytes = tail.len;
	if (partial) {
		/* Part of a huge line is already out: end it so the framing holds. */
		if (s3gz_write(&g, "\n", 1, err, errlen) == -1)
			goto done;
		(*records)++;
	}
	rc = s3gz_finish(&g, err, errlen);
	goto done;
oom:
	snprintf(err, errlen, "out of memory");
done:
	if (zinit)
		inflateEnd(&zs);
	s3gz_abandon(&g);
	buf_free(&tail);
	free(in);
	free(out);
	return rc;
}
