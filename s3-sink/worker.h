/*
 * worker: the upload thread of s3-sink and the queue of closed spool files it drains.
 *
 * The main thread reads its source and closes files into the spool; this thread uploads them in
 * order, retrying transient failures with jittered back-off, and deletes each file only after the
 * store confirmed it (sinks.md §3.6). The two meet in struct s3work under one mutex: the queue,
 * the spool size (which the main thread uses for back-pressure), the counters and a fatal status
 * that makes the main thread stop. Signals are left to the main thread.
 */
#ifndef S3_WORKER_H
#define S3_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "metricsd.h"
#include "spool.h"
#include "upload.h"

struct s3work_item {
	char               *name;    /* closed spool file name */
	uint64_t            size;
	struct s3work_item *next;
};

struct s3work_counters {
	uint64_t objects;            /* objects confirmed by the store */
	uint64_t bytes_out;          /* body bytes sent (retries included) */
	uint64_t retries;            /* failed attempts that were retried */
	uint64_t retries_by[S3CAUSE_N];   /* the same by cause */
	uint64_t spool_bytes;        /* closed files waiting + open files' bytes */
	uint64_t spool_files;        /* closed files waiting */
	/* for /metrics and /health */
	struct metrics_hist upload_seconds;   /* per object uploaded, retries included */
	int64_t  failing_since_ms;   /* monotonic ms of the first failed attempt in a row; 0: ok */
	char     last_error[256];
};

struct s3work {
	pthread_mutex_t         mu;
	pthread_cond_t          cv;          /* queue, spool size, fatal or stop changed */
	pthread_t               thread;
	int                     started;
	struct s3work_item     *head, *tail;
	struct s3work_counters  c;
	int                     stop;        /* finish the queue, then exit */
	atomic_int              abort_now;   /* drop everything in flight, exit */
	int                     fatal;       /* exit status asked for by the worker (0: none) */
	int                     busy;
	int                     done;        /* thread has exited */
	/* read-only after start */
	struct s3spool         *spool;
	struct s3upload_config      upcfg;
	uint64_t                retry_base_ms, retry_max_ms;
	uint64_t                retry_deadline_s;  /* 0: retry forever */
	int                     print_keys;
};

int  s3work_init(struct s3work *w);
void s3work_destroy(struct s3work *w);
int  s3work_start(struct s3work *w, char *err, size_t errlen);
/* Queue a closed spool file (takes a copy of name). 0 or -1. */
int  s3work_push(struct s3work *w, const char *name, uint64_t size);
/* Add (or, negative, remove) bytes of open files to the spool size. */
void s3work_spool_add(struct s3work *w, int64_t delta);
/* Snapshot of the counters. */
void s3work_counters(struct s3work *w, struct s3work_counters *out);
/* Wait up to ms for a change (upload finished, fatal...). Returns the queue length. */
uint64_t s3work_wait(struct s3work *w, int ms);
int  s3work_fatal(struct s3work *w);
/* Stop the thread: abort the upload in flight (its file stays in the spool) and join it. */
void s3work_finish(struct s3work *w);

#endif
