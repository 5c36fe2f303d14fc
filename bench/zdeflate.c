/*
 * zdeflate: the compression bound for bench/s3-sink.sh. Reads stdin in 64 KiB blocks and writes
 * one gzip member to stdout with plain zlib, set up as s3-sink sets it up (deflateInit2, windowBits
 * 15 + 16, memLevel 8, default strategy, 64 KiB output buffer), at the level given (default 6).
 * Nothing else: no hashing, no spool, no upload.
 *
 *   cc -O2 -o zdeflate bench/zdeflate.c -lz;  zdeflate [LEVEL] <in >out.gz
 */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#define BLOCK (64 * 1024)

static int
put(const unsigned char *p, size_t n)
{
	return fwrite(p, 1, n, stdout) == n ? 0 : -1;
}

int
main(int argc, char **argv)
{
	static unsigned char in[BLOCK], out[BLOCK];
	int level = argc > 1 ? atoi(argv[1]) : 6, flush, rc;
	ssize_t n;
	z_stream zs = { 0 };

	if (level < 1 || level > 9 || deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8,
	    Z_DEFAULT_STRATEGY) != Z_OK) {
		fprintf(stderr, "zdeflate: deflateInit2 failed: level %d\n", level);
		return 70;
	}
	do {
		n = read(0, in, sizeof(in));
		if (n < 0) {
			perror("zdeflate: read");
			return 74;
		}
		flush = n == 0 ? Z_FINISH : Z_NO_FLUSH;
		zs.next_in = in;
		zs.avail_in = (uInt)n;
		do {
			zs.next_out = out;
			zs.avail_out = sizeof(out);
			rc = deflate(&zs, flush);
			if (rc == Z_STREAM_ERROR || put(out, sizeof(out) - zs.avail_out) == -1) {
				fprintf(stderr, "zdeflate: deflate or write failed\n");
				return 74;
			}
		} while (zs.avail_out == 0);
	} while (flush != Z_FINISH);
	deflateEnd(&zs);
	return fflush(stdout) == 0 ? 0 : 74;
}
