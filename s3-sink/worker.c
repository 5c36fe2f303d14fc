/*
 * worker: upload thread, retry loop and queue (see worker.h).
 */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "gz.h"
#include "log.h"
#include "timefmt.h"

int
s3work_init(struct s3work *w)
{
	pthread_condattr_t ca;

	static const double upload_bounds[] = { 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 };

	memset(w, 0, sizeof(*w));
	metrics_hist_init(&w->c.upload_seconds, upload_bounds,
	    sizeof(upload_bounds) / sizeof(upload_bounds[0]));
	atomic_init(&w->abort_now, 0);
	if (pthread_mutex_init(&w->mu, NULL) != 0)
		return -1;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	if (pthread_cond_init(&w->cv, &ca) != 0) {
		pthread_condattr_destroy(&ca);
		pthread_mutex_destroy(&w->mu);
		return -1;
	}
	pthread_condattr_destroy(&ca);
	return 0;
}

void
s3work_destroy(struct s3work *w)
{
	struct s3work_item *it, *next;

	for (it = w->head; it; it = next) {
		next = it->next;
		free(it->name);
		free(it);
	}
	w->head = w->tail = NULL;
	pthread_cond_destroy(&w->cv);
	pthread_mutex_destroy(&w->mu);
}

int
s3work_push(struct s3work *w, const char *name, uint64_t size)
{
	struct s3work_item *it = calloc(1, sizeof(*it));

	if (it == NULL || (it->name = strdup(name)) == NULL) {
		free(it);
		return -1;
	}
	it->size = size;
	pthread_mutex_lock(&w->mu);
	if (w->tail)
		w->tail->next = it;
	else
		w->head = it;
	w->tail = it;
	w->c.spool_bytes += size;
	w->c.spool_files++;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	return 0;
}

void
s3work_spool_add(struct s3work *w, int64_t delta)
{
	pthread_mutex_lock(&w->mu);
	if (delta < 0 && (uint64_t)-delta > w->c.spool_bytes)
		w->c.spool_bytes = 0;
	else
		w->c.spool_bytes += (uint64_t)delta;
	pthread_mutex_unlock(&w->mu);
}

void
s3work_counters(struct s3work *w, struct s3work_counters *out)
{
	pthread_mutex_lock(&w->mu);
	*out = w->c;
	pthread_mutex_unlock(&w->mu);
}

static void
s3work_deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

uint64_t
s3work_wait(struct s3work *w, int ms)
{
	struct timespec ts;
	uint64_t n;

	s3work_deadline(&ts, ms);
	pthread_mutex_lock(&w->mu);
	pthread_cond_timedwait(&w->cv, &w->mu, &ts);
	n = w->c.spool_files;
	pthread_mutex_unlock(&w->mu);
	return n;
}

int
s3work_fatal(struct s3work *w)
{
	int f;

	pthread_mutex_lock(&w->mu);
	f = w->fatal;
	pthread_mutex_unlock(&w->mu);
	return f;
}

/* Sleep up to ms unless aborted. Returns 1 if aborted. */
static int
s3work_sleep(struct s3work *w, uint64_t ms)
{
	struct timespec ts;
	int aborted;

	s3work_deadline(&ts, (int)ms);
	pthread_mutex_lock(&w->mu);
	while (!(aborted = atomic_load(&w->abort_now)) &&
	    pthread_cond_timedwait(&w->cv, &w->mu, &ts) != ETIMEDOUT)
		;
	pthread_mutex_unlock(&w->mu);
	return aborted;
}

/* Upload one closed file until it is confirmed or the outcome is final. Returns 0 when
 * uploaded, 1 when aborted, or an exit status. */
static int
s3work_upload(struct s3work *w, struct s3upload *up, const struct s3work_item *it)
{
	char key[S3KEY_MAX + 1], msg[768], err[512];
	int64_t first_fail = 0;
	uint64_t sent, rnd, delay;
	unsigned attempt = 0;
	enum s3upload_status st;
	double t0;
	int fd;

	if (s3key_from_spool_name(it->name, key, sizeof(key)) == -1) {
		log_error("spool file %s/%s: not a key name; left in place", w->spool->dir, it->name);
		return EX_IOERR;
	}
	fd = s3spool_open_read(w->spool, it->name, err, sizeof(err));
	if (fd == -1) {
		log_error("%s", err);
		return EX_IOERR;
	}
	t0 = metrics_now();
	for (;;) {
		sent = 0;
		st = s3upload_put_file(up, key, fd, it->size, &sent, msg, sizeof(msg));
		pthread_mutex_lock(&w->mu);
		w->c.bytes_out += sent;
		if (st == S3UPLOAD_OK) {
			metrics_hist_observe(&w->c.upload_seconds, metrics_now() - t0);
			w->c.failing_since_ms = 0;
		} else if (st != S3UPLOAD_ABORTED) {
			if (w->c.failing_since_ms == 0)
				w->c.failing_since_ms = timefmt_mono_ms();
			snprintf(w->c.last_error, sizeof(w->c.last_error), "%.200s", msg);
		}
		pthread_mutex_unlock(&w->mu);
		if (st == S3UPLOAD_OK)
			break;
		if (st == S3UPLOAD_ABORTED || atomic_load(&w->abort_now)) {
			close(fd);
			return 1;
		}
		if (st == S3UPLOAD_AUTH) {
			log_error("upload of s3://%s/%s refused: %s; check AWS_ACCESS_KEY_ID, "
			    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN and the bucket policy; the file "
			    "stays in the spool", w->upcfg.bucket, key, msg);
			close(fd);
			return EX_CONFIG;
		}
		if (st == S3UPLOAD_PERMANENT) {
			log_error("upload of s3://%s/%s failed: %s; the file stays in the spool",
			    w->upcfg.bucket, key, msg);
			close(fd);
			return EX_UNAVAILABLE;
		}
		if (st == S3UPLOAD_LOCAL) {
			log_error("upload of s3://%s/%s: %s", w->upcfg.bucket, key, msg);
			close(fd);
			return EX_IOERR;
		}
		if (first_fail == 0)
			first_fail = timefmt_mono_ms();
		if (w->retry_deadline_s > 0 &&
		    timefmt_mono_ms() - first_fail >= (int64_t)w->retry_deadline_s * 1000) {
			log_error("upload of s3://%s/%s still failing after %llu s: %s; giving up, the "
			    "file stays in the spool", w->upcfg.bucket, key,
			    (unsigned long long)w->retry_deadline_s, msg);
			close(fd);
			return EX_UNAVAILABLE;
		}
		if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
			rnd = (uint64_t)timefmt_mono_ms() * 2654435761u;
		delay = s3upload_backoff_ms(attempt, w->retry_base_ms, w->retry_max_ms, rnd);
		attempt++;
		pthread_mutex_lock(&w->mu);
		w->c.retries++;
		w->c.retries_by[up->cause < S3CAUSE_N ? up->cause : S3CAUSE_OTHER]++;
		pthread_mutex_unlock(&w->mu);
		log_warn("upload of s3://%s/%s failed (attempt %u): %s; retrying in %llu ms",
		    w->upcfg.bucket, key, attempt, msg, (unsigned long long)delay);
		if (s3work_sleep(w, delay)) {
			close(fd);
			return 1;
		}
	}
	close(fd);
	if (s3spool_unlink(w->spool, it->name, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return EX_IOERR;
	}
	log_debug("uploaded s3://%s/%s (%llu bytes)", w->upcfg.bucket, key,
	    (unsigned long long)it->size);
	if (w->print_keys) {
		char line[S3KEY_MAX + 2];
		int n = snprintf(line, sizeof(line), "%s\n", key);

		if (s3gz_write_all(STDOUT_FILENO, line, (size_t)n) == -1) {
			log_error("writing to stdout: %s", strerror(errno));
			return EX_IOERR;
		}
	}
	return 0;
}

static void *
s3work_main(void *arg)
{
	struct s3work *w = arg;
	struct s3work_item *it;
	struct s3upload up;
	char err[256];
	int rc;

	if (s3upload_init(&up, &w->upcfg, &w->abort_now, err, sizeof(err)) == -1) {
		log_error("upload: %s", err);
		pthread_mutex_lock(&w->mu);
		w->fatal = EX_SOFTWARE;
		w->done = 1;
		pthread_cond_broadcast(&w->cv);
		pthread_mutex_unlock(&w->mu);
		return NULL;
	}
	pthread_mutex_lock(&w->mu);
	for (;;) {
		while (w->head == NULL && !w->stop && !atomic_load(&w->abort_now))
			pthread_cond_wait(&w->cv, &w->mu);
		if (w->head == NULL || atomic_load(&w->abort_now))
			break;
		it = w->head;
		w->busy = 1;
		pthread_mutex_unlock(&w->mu);
		rc = s3work_upload(w, &up, it);
		if (rc != 0)
			s3upload_forget(&up);
		pthread_mutex_lock(&w->mu);
		w->busy = 0;
		if (rc == 1)
			break;
		if (rc != 0) {
			w->fatal = rc;
			break;
		}
		w->head = it->next;
		if (w->head == NULL)
			w->tail = NULL;
		w->c.objects++;
		w->c.spool_files--;
		w->c.spool_bytes = w->c.spool_bytes > it->size ? w->c.spool_bytes - it->size : 0;
		free(it->name);
		free(it);
		pthread_cond_broadcast(&w->cv);
	}
	w->done = 1;
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	s3upload_free(&up);
	return NULL;
}

int
s3work_start(struct s3work *w, char *err, size_t errlen)
{
	sigset_t all, old;
	int rc;

	/* The thread must not take SIGTERM/SIGINT/SIGHUP: the main thread's poll(2) has to see them. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	rc = pthread_create(&w->thread, NULL, s3work_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

void
s3work_finish(struct s3work *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->mu);
	w->stop = 1;
	if (!w->done)
		atomic_store(&w->abort_now, 1);
	pthread_cond_broadcast(&w->cv);
	pthread_mutex_unlock(&w->mu);
	pthread_join(w->thread, NULL);
	w->started = 0;
}
