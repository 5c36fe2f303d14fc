/*
 * sink: s3-sink's loop: spooling, rotation, back-pressure, bad rows and the drain (see sink.h).
 */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <jansson.h>

#include "badrow.h"
#include "gz.h"
#include "keys.h"
#include "linereader.h"
#include "log.h"
#include "metricsd.h"
#include "sig.h"
#include "stream.h"
#include "timefmt.h"

#define ARTIFACT        "furrow-s3-sink"
#define SEGMENT         (64 * 1024)     /* input compressed between two rotation checks */
#define BAD_PAYLOAD_CUT (64 * 1024)     /* payload kept in the bad row of an over-long line */

int
s3sink_open_spool(struct s3sink *s, char *err, size_t errlen)
{
	if (s3spool_open(&s->spool, s->o.spool, err, errlen) == -1)
		return -1;
	s->work.spool = &s->spool;
	s3batch_init(&s->batch, &s->spool, s->o.level);
	buf_init(&s->line, s->o.max_line + BAD_PAYLOAD_CUT);
	return 0;
}

int
s3sink_open_bad(struct s3sink *s)
{
	int fd;

	if (s->bad_owned)
		close(s->bad_fd);
	s->bad_owned = 0;
	if (s->o.bad_path == NULL) {
		s->bad_fd = STDERR_FILENO;
		return 0;
	}
	if (strcmp(s->o.bad_path, "-") == 0) {
		if (s->o.print_keys) {
			log_error("--bad - and --print-keys would both write to stdout");
			return -1;
		}
		s->bad_fd = STDOUT_FILENO;
		return 0;
	}
	fd = open(s->o.bad_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd == -1) {
		log_error("--bad %s: %s", s->o.bad_path, strerror(errno));
		return -1;
	}
	s->bad_fd = fd;
	s->bad_owned = 1;
	return 0;
}

/* Write a generic_error bad row for line (sinks.md §3.8). 0, or -1 when --bad fails (fatal). */
static int
bad_row(struct s3sink *s, const char *line, size_t len, const char *error)
{
	struct buf out;
	json_t *row;
	int rc = -1;

	row = badrow_generic_error(ARTIFACT, line, len, error);
	buf_init(&out, 0);
	if (row != NULL && badrow_write(row, &out) == 0) {
		if (s3gz_write_all(s->bad_fd, out.data, out.len) == 0)
			rc = 0;
		else
			log_error("writing bad row to %s: %s", s->o.bad_path ? s->o.bad_path : "stderr",
			    strerror(errno));
	} else {
		log_error("building a bad row failed");
	}
	json_decref(row);
	buf_free(&out);
	if (rc == 0)
		s->c.bad++;
	return rc;
}

static int
closed_cb(void *arg, const char *name, uint64_t size)
{
	struct s3sink *s = arg;

	log_debug("closed %s (%" PRIu64 " bytes)", name, size);
	return s3work_push(&s->work, name, size);
}

/* Stream mode, and the last bytes written end in the middle of a line. */
static int
stream_in_line(const struct s3sink *s)
{
	return s->o.input != IN_BAD && s->batch.nparts == 1 && s->batch.parts[0]->in_line;
}

/* Close the open batch into the upload queue. A line is never split between two files: in the
 * middle of one, the rotation waits for its end. 0, or -1 (exit 74). */
static int
rotate(struct s3sink *s, const char *why)
{
	uint64_t released, grown;
	char err[512];
	int rc;

	if (stream_in_line(s)) {
		s->rotate_pending = 1;
		return 0;
	}
	s->rotate_pending = 0;
	if (s->batch.nparts == 0)
		return 0;
	log_debug("rotating the batch (%s): %" PRIu64 " records", why, s->batch.records);
	if (s3batch_sync(&s->batch, &grown, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	s3work_spool_add(&s->work, (int64_t)grown);
	rc = s3batch_close(&s->batch, s->o.partition, s->o.prefix, closed_cb, s, &released, err,
	    sizeof(err));
	/* The closed files were added to the queue with their final sizes. */
	s3work_spool_add(&s->work, -(int64_t)released);
	if (rc == -1)
		log_error("spool: %s", err);
	return rc;
}

static int
batch_full(struct s3sink *s)
{
	return (s->o.rotate_records > 0 && s->batch.records >= s->o.rotate_records) ||
	    (s->o.rotate_bytes > 0 && s3batch_bytes(&s->batch) >= s->o.rotate_bytes);
}

static void
batch_started(struct s3sink *s)
{
	if (s->batch.first_ms == 0)
		s->batch.first_ms = timefmt_mono_ms();
}

/* The spool (queued files plus what the open files have written) is at its limit. */
static int
spool_over(struct s3sink *s)
{
	struct s3work_counters w;
	uint64_t open_bytes = 0;
	size_t i;

	if (s->no_limit)
		return 0;
	s3work_counters(&s->work, &w);
	for (i = 0; i < s->batch.nparts; i++)
		open_bytes += s->batch.parts[i]->gz.bytes_out - s->batch.parts[i]->accounted;
	return w.spool_bytes + open_bytes >= s->o.spool_max;
}

/* enriched and raw: compress the block as it is, splitting only where a rotation falls. Stops
 * early, at the end of a line, when the spool is full; returns the bytes taken, or -1. */
static ssize_t
feed_stream(struct s3sink *s, const char *p, size_t n)
{
	const char *start = p;
	struct s3part *part;
	const char *q, *end = p + n, *nl;
	uint64_t lines, room;
	char err[512];
	/* Check the size often enough that a small --rotate-bytes is not overshot by much. */
	ptrdiff_t segment = s->o.rotate_bytes > 0 && s->o.rotate_bytes / 8 < SEGMENT ?
	    (ptrdiff_t)(s->o.rotate_bytes / 8) : SEGMENT;

	if (segment < 4096)
		segment = 4096;

	while (p < end) {
		part = s3batch_part(&s->batch, NULL, err, sizeof(err));
		if (part == NULL) {
			log_error("spool: %s", err);
			return -1;
		}
		batch_started(s);
		room = s->o.rotate_records > 0 ? s->o.rotate_records - s->batch.records : UINT64_MAX;
		lines = 0;
		q = p;
		while (q < end) {
			nl = memchr(q, '\n', (size_t)(end - q));
			if (nl == NULL) {
				q = end;
				break;
			}
			q = nl + 1;
			if (++lines == room || q - p >= segment)
				break;
		}
		if (s3batch_write(part, p, (size_t)(q - p), err, sizeof(err)) == -1) {
			log_error("spool: %s", err);
			return -1;
		}
		part->records += lines;
		s->batch.records += lines;
		s->c.lines_in += lines;
		s->c.lines_out += lines;
		part->in_line = q[-1] != '\n';
		p = q;
		if (!part->in_line && (s->rotate_pending || batch_full(s)) &&
		    rotate(s, "size") == -1)
			return -1;
		if (!part->in_line && p < end && spool_over(s))
			break;     /* back-pressure: the rest waits in s->chunk */
	}
	return p - start;
}

/* bad: one complete line. */
static int
bad_line(struct s3sink *s, const char *line, size_t len)
{
	struct s3key_schema schema;
	struct s3part *part;
	char err[512], msg[600];
	enum s3key_row r;

	s->c.lines_in++;
	r = s3key_badrow_schema(line, len, &schema, err, sizeof(err));
	if (r == S3KEY_ROW_NOT_JSON) {
		snprintf(msg, sizeof(msg), "Can't parse JSON holding self-describing event: %s", err);
		return bad_row(s, line, len, msg);
	}
	if (r == S3KEY_ROW_NO_SCHEMA) {
		snprintf(msg, sizeof(msg), "Can't extract schema from self-describing event: %s", err);
		return bad_row(s, line, len, msg);
	}
	part = s3batch_part(&s->batch, &schema, err, sizeof(err));
	if (part == NULL && s->batch.nparts == S3BATCH_MAX_PARTS) {
		if (rotate(s, "schemas") == -1)
			return -1;
		part = s3batch_part(&s->batch, &schema, err, sizeof(err));
	}
	if (part == NULL) {
		log_error("spool: %s", err);
		return -1;
	}
	batch_started(s);
	if (s3batch_write(part, line, len, err, sizeof(err)) == -1 ||
	    s3batch_write(part, "\n", 1, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	part->records++;
	s->batch.records++;
	s->c.lines_out++;
	if (batch_full(s) && rotate(s, "size") == -1)
		return -1;
	return 0;
}

static int
feed_bad(struct s3sink *s, const char *p, size_t n)
{
	const char *end = p + n, *nl;
	size_t take;
	char msg[200];

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		take = nl ? (size_t)(nl - p) : (size_t)(end - p);
		if (s->discarding) {
			s->discarded += take;
		} else if (s->line.len + take > s->o.max_line) {
			/* Over-long: keep the start for the bad row, drop the rest up to '\n'. */
			size_t keep = BAD_PAYLOAD_CUT > s->line.len ? BAD_PAYLOAD_CUT - s->line.len : 0;

			if (keep > take)
				keep = take;
			if (buf_append(&s->line, p, keep) == -1)
				return -1;
			s->discarding = 1;
			s->discarded = s->line.len - keep + take;
		} else if (nl != NULL && s->line.len == 0) {
			if (bad_line(s, p, take) == -1)
				return -1;
			p = nl + 1;
			continue;
		} else if (buf_append(&s->line, p, take) == -1) {
			log_error("out of memory");
			return -1;
		}
		if (nl == NULL)
			break;
		if (s->discarding) {
			s->c.lines_in++;
			snprintf(msg, sizeof(msg), "Can't parse JSON holding self-describing event: "
			    "line of %" PRIu64 " bytes exceeds --max-line-bytes %" PRIu64,
			    (uint64_t)s->discarded, s->o.max_line);
			if (bad_row(s, s->line.data, s->line.len > BAD_PAYLOAD_CUT ? BAD_PAYLOAD_CUT :
			    s->line.len, msg) == -1)
				return -1;
			s->discarding = 0;
			s->discarded = 0;
		} else if (bad_line(s, s->line.data ? s->line.data : "", s->line.len) == -1) {
			return -1;
		}
		buf_reset(&s->line);
		p = nl + 1;
	}
	return 0;
}

static int spool_block(struct s3sink *s);

/* The start of a line is spooled or buffered, its newline not read yet. */
static int
mid_line(const struct s3sink *s)
{
	return s->o.input == IN_BAD ? s->line.len > 0 || s->discarding : stream_in_line(s);
}

/*
 * Stopped by a signal in the middle of a line: read the rest of that line and not a byte more
 * (one byte per read, so what follows stays in the pipe for the next reader), for at most
 * LINEREADER_TAIL_WAIT_MS or until a second signal, so that the line is archived whole. A log
 * needs none of this: it hands over whole lines only. 0 (mid_line() tells whether the line was
 * completed), 1 at the end of the input, -1 on a read or spool error.
 */
static int
finish_line(struct s3sink *s)
{
	int64_t deadline = timefmt_mono_ms() + LINEREADER_TAIL_WAIT_MS, left;
	char tail[4096];
	struct pollfd pfd;
	size_t n;
	ssize_t got;

	if (stream_source_follows(s->in))
		return 0;
	while (mid_line(s) && !sig_terminate) {
		int eof = 0;

		n = 0;
		while (n < sizeof(tail) && (n == 0 || tail[n - 1] != '\n')) {
			left = deadline - timefmt_mono_ms();
			if (left <= 0 || sig_terminate)
				break;
			pfd.fd = stream_source_fd(s->in);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (poll(&pfd, 1, (int)left) <= 0)
				continue;
			got = stream_source_read(s->in, tail + n, 1, &s->chunk_end);
			if (got < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (got < 0) {
				log_error("reading %s", stream_source_error(s->in));
				return -1;
			}
			if (got == 0) {
				eof = 1;
				break;
			}
			n++;
		}
		s->c.bytes_in += n;
		if (n > 0 && (s->o.input == IN_BAD ? feed_bad(s, tail, n) :
		    (int)feed_stream(s, tail, n)) < 0)
			return -1;
		if (eof)
			return 1;
		if (n == 0 || (tail[n - 1] != '\n' && n < sizeof(tail)))
			break;       /* out of time */
	}
	return 0;
}

/* End of input, or a stop (stopped: on a signal). A last line without '\n' at the end of the
 * input is a record. At a stop, the line in hand is read to its end first (finish_line); one that
 * does not end in time was not finished by its writer: in bad mode it becomes a bad row instead of
 * being parsed; in a stream it is already compressed into the open file, so it is closed with a
 * '\n' and said so. */
static int
feed_end(struct s3sink *s, int stopped)
{
	struct s3part *part;
	char err[256], msg[160];
	int r;

	s->no_limit = 1;
	if (s->chunk != NULL && s->chunk_off < s->chunk_len && spool_block(s) == -1)
		return -1;
	if (stopped && mid_line(s)) {
		if ((r = finish_line(s)) == -1)
			return -1;
		if (r == 0 && mid_line(s)) {
			if (s->o.input == IN_BAD) {
				snprintf(msg, sizeof(msg), "unterminated line at shutdown: %zu bytes "
				    "without a newline", s->line.len + (size_t)s->discarded);
				log_warn("%s: written as a bad row", msg);
				s->c.lines_in++;
				if (bad_row(s, s->line.data, s->line.len > BAD_PAYLOAD_CUT ? BAD_PAYLOAD_CUT :
				    s->line.len, msg) == -1)
					return -1;
				buf_reset(&s->line);
				s->discarding = 0;
				s->discarded = 0;
				return 0;
			}
			log_warn("unterminated line at shutdown: its writer did not finish it within "
			    "%d ms; archived cut short", LINEREADER_TAIL_WAIT_MS);
		}
	}
	if (s->o.input == IN_BAD) {
		if (s->line.len > 0 || s->discarding)
			return feed_bad(s, "\n", 1);
		return 0;
	}
	if (s->batch.nparts == 1 && s->batch.parts[0]->in_line) {
		part = s->batch.parts[0];
		if (s3batch_write(part, "\n", 1, err, sizeof(err)) == -1) {
			log_error("spool: %s", err);
			return -1;
		}
		part->in_line = 0;
		part->records++;
		s->batch.records++;
		s->c.lines_in++;
		s->c.lines_out++;
	}
	return 0;
}

static void
log_stats(struct s3sink *s, const char *when)
{
	struct s3work_counters w;

	s3work_counters(&s->work, &w);
	log_info("%s: lines_in=%" PRIu64 " bytes_in=%" PRIu64 " lines_spooled=%" PRIu64
	    " bad=%" PRIu64 " objects_uploaded=%" PRIu64 " bytes_out=%" PRIu64 " retries=%" PRIu64
	    " spool_files=%" PRIu64 " spool_bytes=%" PRIu64, when, s->c.lines_in, s->c.bytes_in,
	    s->c.lines_out, s->c.bad, w.objects, w.bytes_out, w.retries, w.spool_files,
	    w.spool_bytes);
}

/* Salvage open files of a run that died, then queue every closed file. */
int
s3sink_recover(struct s3sink *s)
{
	struct s3spool_entry *ents;
	char err[512], closed[S3SPOOL_NAME_MAX], uuid[UUID_STR_LEN + 1];
	struct s3key_schema schema;
	uint64_t records, files = 0, bytes = 0;
	size_t n, i;
	int has_schema, again = 0;

	if (s3spool_list(&s->spool, &ents, &n, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (ents[i].kind == S3SPOOL_TMP) {
			s3spool_unlink(&s->spool, ents[i].name, err, sizeof(err));
		} else if (ents[i].kind == S3SPOOL_PART) {
			if (s3spool_part_parse(ents[i].name, uuid, &schema, &has_schema) == 0 &&
			    s3spool_closed_has_uuid(ents, n, uuid)) {
				log_info("spool: %s was already salvaged; removing it", ents[i].name);
				s3spool_unlink(&s->spool, ents[i].name, err, sizeof(err));
				continue;
			}
			if (s3spool_recover_part(&s->spool, &ents[i], s->o.partition, s->o.prefix,
			    s->o.level, closed, sizeof(closed), &records, err, sizeof(err)) == -1) {
				log_warn("spool: cannot salvage %s: %s; left in place", ents[i].name, err);
				continue;
			}
			log_info("spool: salvaged %" PRIu64 " lines of the unfinished file %s%s%s",
			    records, ents[i].name, closed[0] ? " into " : "", closed);
			again = 1;
		} else if (ents[i].kind == S3SPOOL_OTHER) {
			log_warn("spool: ignoring %s/%s (not a file s3-sink writes)", s->o.spool,
			    ents[i].name);
		}
	}
	if (again) {
		s3spool_list_free(ents, n);
		if (s3spool_list(&s->spool, &ents, &n, err, sizeof(err)) == -1) {
			log_error("%s", err);
			return -1;
		}
	}
	for (i = 0; i < n; i++) {
		if (ents[i].kind != S3SPOOL_CLOSED)
			continue;
		if (s3work_push(&s->work, ents[i].name, ents[i].size) == -1) {
			s3spool_list_free(ents, n);
			log_error("out of memory");
			return -1;
		}
		files++;
		bytes += ents[i].size;
	}
	s3spool_list_free(ents, n);
	if (files > 0)
		log_info("spool: %" PRIu64 " files (%" PRIu64 " bytes) left by an earlier run; "
		    "uploading them before reading stdin", files, bytes);
	return 0;
}

static int64_t
stats_due(struct s3sink *s, int64_t *next)
{
	int64_t now = timefmt_mono_ms();

	if (s->o.stats_interval > 0 && now >= *next) {
		log_stats(s, "counters");
		*next = now + (int64_t)s->o.stats_interval * 1000;
	}
	return now;
}

/* Wait for the leftovers of an earlier run to be uploaded (sinks.md §3.6 "start-up"). */
static void
wait_leftovers(struct s3sink *s, int64_t *next_stats)
{
	while (!sig_terminate && !s3work_fatal(&s->work)) {
		struct s3work_counters w;

		s3work_counters(&s->work, &w);
		if (w.spool_files == 0)
			break;
		s3work_wait(&s->work, 200);
		metricsd_poll(s->md, NULL, 0, 0);
		stats_due(s, next_stats);
	}
}

/* Back-pressure: while the spool is over its limit, close the batch and wait. Returns 1 to
 * stop (signal or worker failure), 0 to read on, -1 on a spool error. */
static int
wait_spool_room(struct s3sink *s, int64_t *next_stats)
{
	struct s3work_counters w;
	int logged = 0;

	for (;;) {
		s3work_counters(&s->work, &w);
		if (w.spool_bytes < s->o.spool_max)
			break;
		if (sig_terminate || s3work_fatal(&s->work))
			return 1;
		if (stream_in_line(s))
			return 0;     /* read on to the end of the line, then rotate */
		if (!logged) {
			log_warn("spool holds %" PRIu64 " bytes (--spool-max-bytes %" PRIu64 "): "
			    "not reading stdin until uploads make room", w.spool_bytes, s->o.spool_max);
			logged = 1;
		}
		if (s->batch.records > 0 && rotate(s, "spool full") == -1)
			return -1;
		if (s->spool_full_since == 0)
			s->spool_full_since = timefmt_mono_ms();
		s3work_wait(&s->work, 200);
		metricsd_poll(s->md, NULL, 0, 0);
		stats_due(s, next_stats);
	}
	s->spool_full_since = 0;
	if (logged)
		log_info("spool has room again: reading stdin");
	return 0;
}

/* Spool a block (or what is left of one) and sync it. 0 or -1. */
static int
spool_block(struct s3sink *s)
{
	uint64_t grown;
	char err[512];
	ssize_t took;

	if (s->o.input == IN_BAD) {
		if (feed_bad(s, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off) == -1)
			return -1;
		s->chunk_off = s->chunk_len;
	} else {
		took = feed_stream(s, s->chunk + s->chunk_off, s->chunk_len - s->chunk_off);
		if (took < 0)
			return -1;
		s->chunk_off += (size_t)took;
	}
	/* The durability point: what was taken is in the spool file before the next read. */
	if (s3batch_sync(&s->batch, &grown, err, sizeof(err)) == -1) {
		log_error("spool: %s", err);
		return -1;
	}
	s3work_spool_add(&s->work, (int64_t)grown);
	/* ... and a log is told so, up to the last whole line taken (feed_stream stops at a line
	 * end; a longer line in parts is committed when it ends) */
	if (s->chunk_off > 0 && s->chunk[s->chunk_off - 1] == '\n' &&
	    stream_source_commit(s->in, s->chunk_end - (s->chunk_len - s->chunk_off), err,
	    sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	return 0;
}

/* The read loop. Returns 0 at EOF or on a stop request, or an exit status. */
int
s3sink_run(struct s3sink *s)
{
	int64_t next_stats, now, timeout;
	struct pollfd pfd;
	ssize_t got;
	int rc = 0, w;

	s->chunk = malloc(S3SINK_READ_CHUNK);
	if (s->chunk == NULL)
		return EX_SOFTWARE;
	next_stats = timefmt_mono_ms() + (int64_t)s->o.stats_interval * 1000;
	wait_leftovers(s, &next_stats);
	for (;;) {
		if (sig_terminate || s3work_fatal(&s->work))
			break;
		if (s->md)
			metricsd_poll(s->md, NULL, 0, 0);   /* busy: a look now and then, no wait */
		if (sig_reopen) {
			sig_reopen = 0;
			if (s3sink_open_bad(s) == -1) {
				rc = EX_IOERR;
				break;
			}
		}
		w = wait_spool_room(s, &next_stats);
		if (w == -1) {
			rc = EX_IOERR;
			break;
		}
		if (w == 1)
			continue;
		if (s->chunk_off < s->chunk_len) {
			/* The rest of a block held back by a full spool. */
			if (spool_block(s) == -1) {
				rc = EX_IOERR;
				break;
			}
			continue;
		}
		now = stats_due(s, &next_stats);
		timeout = s->o.stats_interval > 0 ? next_stats - now : 1000;
		if (s->batch.first_ms > 0 && s->o.rotate_seconds > 0) {
			int64_t due = s->batch.first_ms + (int64_t)s->o.rotate_seconds * 1000 - now;

			if (due <= 0 && !stream_in_line(s)) {
				if (rotate(s, "time") == -1) {
					rc = EX_IOERR;
					break;
				}
				continue;
			}
			if (due <= 0)
				s->rotate_pending = 1;
			else if (due < timeout)
				timeout = due;
		}
		/* Wake up now and then to notice a failed worker. */
		if (timeout > 500 || timeout < 0)
			timeout = 500;
		got = stream_source_read(s->in, s->chunk, S3SINK_READ_CHUNK, &s->chunk_end);
		if (got < 0 && (errno == EINTR || errno == EAGAIN)) {
			/* nothing to read now: wait for input, a rotation time or a stats line */
			pfd.fd = stream_source_fd(s->in);
			pfd.events = POLLIN;
			pfd.revents = 0;
			if (metricsd_poll(s->md, &pfd, 1, (int)timeout) < 0 && errno != EINTR) {
				log_error("poll: %s", strerror(errno));
				rc = EX_IOERR;
				break;
			}
			continue;
		}
		if (got < 0) {
			log_error("reading %s", stream_source_error(s->in));
			rc = EX_IOERR;
			break;
		}
		if (got == 0) {
			log_debug("end of input");
			break;
		}
		s->c.bytes_in += (uint64_t)got;
		s->chunk_off = 0;
		s->chunk_len = (size_t)got;
		if (spool_block(s) == -1) {
			rc = EX_IOERR;
			break;
		}
	}
	return rc;
}

/* Close the batch, let the worker upload within --drain-seconds, report what is left. */
int
s3sink_shut_down(struct s3sink *s, int rc)
{
	struct s3work_counters w;
	int64_t deadline;
	int fatal, stopped;

	stopped = sig_terminate;
	if (stopped)
		log_info("stopping on signal: closing the open file and uploading what is spooled");
	/* From here a signal (a second one, when a signal stopped the loop) cuts the rest short:
	 * the line in hand (finish_line) and the drain. */
	sig_terminate = 0;
	if (rc != EX_IOERR && feed_end(s, stopped) == -1)
		rc = EX_IOERR;
	if (rotate(s, "end") == -1 && rc == 0)
		rc = EX_IOERR;
	deadline = timefmt_mono_ms() + (int64_t)s->o.drain_seconds * 1000;
	while (!sig_terminate) {
		s3work_counters(&s->work, &w);
		if (w.spool_files == 0 || s3work_fatal(&s->work) || timefmt_mono_ms() >= deadline)
			break;
		s3work_wait(&s->work, 200);
	}
	/* The drain is over: what is still in flight is abandoned (it stays in the spool). */
	s3work_finish(&s->work);
	fatal = s3work_fatal(&s->work);
	s3work_counters(&s->work, &w);
	if (w.spool_files > 0)
		log_warn("%" PRIu64 " files (%" PRIu64 " bytes) not uploaded stay in the spool %s; "
		    "they are uploaded at the next start", w.spool_files, w.spool_bytes, s->o.spool);
	log_stats(s, "exit");
	if (rc == 0 && fatal != 0)
		rc = fatal;
	return rc;
}

void
s3sink_free(struct s3sink *s)
{
	s3work_destroy(&s->work);
	buf_free(&s->line);
	free(s->chunk);
	stream_source_close(s->in);
	if (s->bad_owned)
		close(s->bad_fd);
	s3spool_close(&s->spool);
}

void
s3sink_metrics_render(struct buf *b, void *arg)
{
	struct s3sink *s = arg;
	struct s3work_counters w;
	char lab[48];
	size_t i;

	s3work_counters(&s->work, &w);
	metrics_counter(b, "furrow_s3_sink_records_in_total", "Input lines read", s->c.lines_in);
	metrics_counter(b, "furrow_s3_sink_input_bytes_total", "Input bytes read", s->c.bytes_in);
	metrics_counter(b, "furrow_s3_sink_records_spooled_total",
	    "Lines written to spool files (each is uploaded)", s->c.lines_out);
	metrics_counter(b, "furrow_s3_sink_bad_rows_total", "Bad rows written", s->c.bad);
	metrics_counter(b, "furrow_s3_sink_objects_uploaded_total",
	    "Objects the store confirmed", w.objects);
	metrics_counter(b, "furrow_s3_sink_upload_bytes_total",
	    "Object bytes sent, retries included", w.bytes_out);
	metrics_head(b, "furrow_s3_sink_upload_retries_total", "counter",
	    "Failed upload attempts that were retried, by cause");
	for (i = 0; i < S3CAUSE_N; i++) {
		snprintf(lab, sizeof(lab), "cause=\"%s\"", s3upload_cause_name((enum s3upload_cause)i));
		metrics_u64(b, "furrow_s3_sink_upload_retries_total", lab, w.retries_by[i]);
	}
	metrics_head(b, "furrow_s3_sink_upload_duration_seconds", "histogram",
	    "Time to upload one object, retries included");
	metrics_hist_render(b, "furrow_s3_sink_upload_duration_seconds", NULL, &w.upload_seconds);
	metrics_gauge(b, "furrow_s3_sink_spool_bytes",
	    "Bytes in the spool: closed files waiting and the open ones", (double)w.spool_bytes);
	metrics_gauge(b, "furrow_s3_sink_spool_files", "Closed spool files waiting for upload",
	    (double)w.spool_files);
	metrics_gauge(b, "furrow_s3_sink_spool_max_bytes", "--spool-max-bytes",
	    (double)s->o.spool_max);
	metrics_gauge(b, "furrow_s3_sink_peer_failing_seconds",
	    "How long uploads have been failing now (0: the last one succeeded)",
	    w.failing_since_ms ? (double)(timefmt_mono_ms() - w.failing_since_ms) / 1000.0 : 0.0);
}

int
s3sink_health(struct buf *why, void *arg)
{
	struct s3sink *s = arg;
	struct s3work_counters w;
	int64_t now = timefmt_mono_ms(), limit = (int64_t)s->o.health_threshold * 1000;

	s3work_counters(&s->work, &w);
	if (w.failing_since_ms && now - w.failing_since_ms >= limit) {
		buf_printf(why, "uploads failing for %llds (threshold %llus): %s",
		    (long long)((now - w.failing_since_ms) / 1000),
		    (unsigned long long)s->o.health_threshold, w.last_error);
		return 0;
	}
	if (s->spool_full_since && now - s->spool_full_since >= limit) {
		buf_printf(why, "spool full (--spool-max-bytes %llu) for %llds",
		    (unsigned long long)s->o.spool_max,
		    (long long)((now - s->spool_full_since) / 1000));
		return 0;
	}
	return 1;
}
