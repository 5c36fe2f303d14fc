/*
 * pg_load: batches, transactions, retries, bad rows and commits (see pg_load.h).
 */
#include "pg_load.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "fnv.h"
#include "iglu.h"
#include "jsonschema.h"
#include "log.h"
#include "metricsd.h"
#include "pg_atomic.h"
#include "pg_badrows.h"
#include "pg_copy.h"
#include "pg_schema.h"
#include "pg_tables.h"
#include "sig.h"
#include "sinkout.h"
#include "stream.h"
#include "utf8.h"

#define SEND_CHUNK        (256 * 1024)   /* COPY data handed to libpq at a time */
#define MAX_ENTITIES      1000           /* entities of one event */
/* Refused rows a batch takes out by the line PostgreSQL names, each costing one more COPY of
 * the batch; past that, halving (a table that refuses every row costs n log n, not n^2). */
#define CAREFUL_HINTS     16

/* ---- the batch ---- */

struct rec {                      /* one input line that became rows */
	size_t line_off, line_len;    /* the line, in batch.lines */
	size_t row_off, row_len;      /* its row of the key table (with '\n'), in batch.rows */
	size_t key_off;               /* its unique key, NUL-terminated, in batch.keys */
	size_t msg_off;               /* refused: why, in batch.msgs */
	int    bad;
};

struct erow {                     /* one entity row */
	size_t   rec;
	size_t   off, len;            /* in tabrows.text, with '\n' */
	size_t   ncols;               /* data columns it was formatted with */
};

struct tabrows {                  /* the rows of one entity table */
	size_t       table;
	struct erow *v;
	size_t       n, cap;
	struct buf   text;
};

struct batch {
	struct rec     *recs;
	size_t          n, cap;
	struct buf      lines, rows, keys, msgs;
	struct tabrows *tabs;
	size_t          ntabs, tabcap;
	size_t         *hash;         /* rec index + 1 by key hash; 0: empty */
	size_t          hcap;
	size_t          bytes;        /* COPY data in hand */
	int64_t         first_ms;
	uint64_t        end_pos;
	int             has_pos;
	int             abandoned;
	int             staging;      /* a replay was seen: load through staging tables */
};

struct tally {                    /* what one transaction did, counted once it commits */
	uint64_t loaded, entities, dups;
};

struct stats {
	uint64_t in, loaded, entities, dups, retried, batches, attempts;
	uint64_t staged_batches, lat_sum_ms, lat_max_ms;
	uint64_t bytes_in, failures;
	uint64_t failures_by[PGE_ABORTED + 1];   /* the same by enum pgerr_class */
	struct metrics_hist batch_seconds;   /* per batch loaded, retries included */
};

/* furrow_pg_sink_batch_duration_seconds */
static const double batch_bounds[] = { 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30 };

/* An entity row of the event being transformed, before it joins the batch. */
struct pend {
	size_t table, off, len, ncols;
};

struct pgloader {
	const struct pg_opts *o;
	struct pgconn        *c;
	struct pgtables      *t;
	struct sinkout       *io;            /* the input, --bad, --spool, --dump */
	struct stream_source *in;            /* io->in */
	struct stats          st;
	struct batch          b;
	struct buf            fixed, err, send, sql, ptext;
	struct pend          *pend;
	size_t                npend, pendcap;
	size_t               *copy_map;      /* rec of each line of the COPY in flight */
	size_t                copy_n, copy_cap;
	char                  qschema[300];  /* "atomic", quoted */
	char                  keytable[600]; /* "atomic"."events" */
	int64_t               term_deadline;
	int                   undelivered, no_commit, eof, status;
	uint64_t              rnd;
	struct metricsd      *md;
	long                  health_threshold_s;
};

static struct pgloader *abort_target;

static void deliver(struct pgloader *s);

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
fail(struct pgloader *s, int status)
{
	if (s->status == 0)
		s->status = status;
}

unsigned long
pgload_backoff_ms(unsigned attempt, unsigned long base_ms, unsigned long cap_ms,
    unsigned long long rnd)
{
	unsigned long ceiling = base_ms;
	unsigned i;

	if (attempt == 0)
		return 0;
	for (i = 1; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	return (unsigned long)(rnd % ((unsigned long long)ceiling + 1));
}

static uint64_t
rnd64(uint64_t *state)
{
	if (*state == 0)
		*state = (uint64_t)now_ms() * 6364136223846793005ULL ^ (uint64_t)getpid() ^
		    0x9e3779b97f4a7c15ULL;
	*state ^= *state << 13;
	*state ^= *state >> 7;
	*state ^= *state << 17;
	return *state;
}

static void
log_stats(const struct pgloader *s, const char *when)
{
	const struct stats *st = &s->st;
	const struct pgtables_stats *ts = s->t ? pgtables_stats(s->t) : NULL;

	log_info("%s: in=%" PRIu64 " loaded=%" PRIu64 " entities=%" PRIu64 " duplicates=%" PRIu64
	    " bad=%" PRIu64 " spooled=%" PRIu64 " pending=%zu retried=%" PRIu64 " batches=%" PRIu64
	    " staged_batches=%" PRIu64 " tables=%zu created=%lu altered=%lu batch_ms_avg=%.1f "
	    "batch_ms_max=%" PRIu64, when, st->in, st->loaded, st->entities, st->dups,
	    s->io->bad_rows, s->io->spooled, s->b.n, st->retried, st->batches, st->staged_batches,
	    s->t ? pgtables_count(s->t) : 0, ts ? ts->created : 0, ts ? ts->altered : 0,
	    st->batches ? (double)st->lat_sum_ms / (double)st->batches : 0.0, st->lat_max_ms);
}

/* ---- shutdown ---- */

static int
term_now(struct pgloader *s)
{
	if (sig_terminate && s->term_deadline == 0)
		s->term_deadline = now_ms() + s->o->term_timeout_s * 1000;
	return s->term_deadline != 0 && now_ms() >= s->term_deadline;
}

int
pgloader_abort_cb(void *arg)
{
	(void)arg;
	return abort_target ? term_now(abort_target) : 0;
}

static int
backoff_sleep(struct pgloader *s, uint64_t ms)
{
	int64_t until = now_ms() + (int64_t)ms;

	for (;;) {
		int64_t left = until - now_ms();
		if (term_now(s))
			return -1;
		if (left <= 0)
			return 0;
		metricsd_poll(s->md, NULL, 0, left > 100 ? 100 : (int)left);
	}
}

/* ---- batch bookkeeping ---- */

static void
batch_init(struct batch *b)
{
	memset(b, 0, sizeof(*b));
	buf_init(&b->lines, 0);
	buf_init(&b->rows, 0);
	buf_init(&b->keys, 0);
	buf_init(&b->msgs, 0);
}

static void
batch_reset(struct batch *b)
{
	size_t i;

	b->n = 0;
	buf_reset(&b->lines);
	buf_reset(&b->rows);
	buf_reset(&b->keys);
	buf_reset(&b->msgs);
	for (i = 0; i < b->ntabs; i++) {
		b->tabs[i].n = 0;
		buf_reset(&b->tabs[i].text);
	}
	if (b->hash)
		memset(b->hash, 0, b->hcap * sizeof(*b->hash));
	b->bytes = 0;
	b->first_ms = 0;
	b->has_pos = 0;
	b->abandoned = 0;
	b->staging = 0;
}

static void
batch_free(struct batch *b)
{
	size_t i;

	buf_free(&b->lines);
	buf_free(&b->rows);
	buf_free(&b->keys);
	buf_free(&b->msgs);
	for (i = 0; i < b->tabcap; i++) {
		free(b->tabs[i].v);
		buf_free(&b->tabs[i].text);
	}
	free(b->tabs);
	free(b->recs);
	free(b->hash);
}

static size_t
batch_live(const struct batch *b, size_t lo, size_t hi)
{
	size_t i, n = 0;

	for (i = lo; i < hi; i++)
		n += !b->recs[i].bad;
	return n;
}

static void
mark_bad(struct pgloader *s, size_t i, const char *why)
{
	struct rec *r = &s->b.recs[i];

	if (r->bad)
		return;
	r->bad = 1;
	r->msg_off = s->b.msgs.len;
	if (buf_append_str(&s->b.msgs, why) == -1 || buf_append_byte(&s->b.msgs, '\0') == -1) {
		s->b.msgs.len = r->msg_off;         /* never half a message */
		r->msg_off = (size_t)-1;
	}
}

/* The index of key among the batch's records, or -1 (and its slot in *slot). */
static long
dedupe_find(struct batch *b, const char *key, size_t *slot)
{
	size_t mask = b->hcap - 1, i;

	if (b->hcap == 0)
		return -1;
	i = (size_t)fnv_str(key) & mask;
	while (b->hash[i] != 0) {
		size_t r = b->hash[i] - 1;
		if (strcmp(b->keys.data + b->recs[r].key_off, key) == 0)
			return (long)r;
		i = (i + 1) & mask;
	}
	*slot = i;
	return -1;
}

static struct tabrows *
tabrows_for(struct batch *b, size_t table)
{
	size_t i;

	for (i = 0; i < b->ntabs; i++)
		if (b->tabs[i].table == table)
			return &b->tabs[i];
	if (b->ntabs == b->tabcap) {
		size_t nc = b->tabcap ? b->tabcap * 2 : 8;
		struct tabrows *nt = realloc(b->tabs, nc * sizeof(*nt));
		if (nt == NULL)
			return NULL;
		memset(nt + b->tabcap, 0, (nc - b->tabcap) * sizeof(*nt));
		for (i = b->tabcap; i < nc; i++)
			buf_init(&nt[i].text, 0);
		b->tabs = nt;
		b->tabcap = nc;
	}
	b->tabs[b->ntabs].table = table;
	b->tabs[b->ntabs].n = 0;
	buf_reset(&b->tabs[b->ntabs].text);
	return &b->tabs[b->ntabs++];
}

/* ---- transforming a line ---- */

static int
pend_add(struct pgloader *s, size_t table, size_t off, size_t len, size_t ncols)
{
	if (s->npend == s->pendcap) {
		size_t nc = s->pendcap ? s->pendcap * 2 : 16;
		struct pend *np = realloc(s->pend, nc * sizeof(*np));
		if (np == NULL)
			return -1;
		s->pend = np;
		s->pendcap = nc;
	}
	s->pend[s->npend].table = table;
	s->pend[s->npend].off = off;
	s->pend[s->npend].len = len;
	s->pend[s->npend].ncols = ncols;
	s->npend++;
	return 0;
}

/* A self-describing object: its key and data, or NULL with why filled. */
static const json_t *
self_describing(const json_t *j, struct iglu_key *k, char *why, size_t whylen)
{
	const json_t *schema = json_object_get(j, "schema"), *data = json_object_get(j, "data");

	if (!json_is_object(j) || !json_is_string(schema) || data == NULL) {
		snprintf(why, whylen, "not a self-describing JSON (an object with schema and data)");
		return NULL;
	}
	if (iglu_key_parsen(json_string_value(schema), json_string_length(schema), k, NULL) == -1) {
		snprintf(why, whylen, "invalid Iglu schema URI: %.300s", json_string_value(schema));
		return NULL;
	}
	return data;
}

/* One entity into s->ptext / s->pend. 0; -1 permanent (why); -2 retry later (why). */
static int
shred_entity(struct pgloader *s, const struct pgatomic_event *ev, const struct iglu_key *k,
    const json_t *data, char *why, size_t whylen)
{
	long ti = pgtables_for(s->t, k, why, whylen);
	const struct pgtable *tb;
	size_t start = s->ptext.len, i;
	char cerr[512], uri[IGLU_URI_MAX];
	int w = 0;

	if (ti < 0)
		return (int)ti;
	if (s->npend >= MAX_ENTITIES) {
		snprintf(why, whylen, "more than %d entities in one event", MAX_ENTITIES);
		return -1;
	}
	tb = pgtables_get(s->t, (size_t)ti);
	/* schema_vendor, schema_name, schema_format, schema_version, root_id, root_tstamp */
	w |= pgcopy_field(&s->ptext, k->vendor, strlen(k->vendor));
	w |= buf_append_byte(&s->ptext, '\t');
	w |= pgcopy_field(&s->ptext, k->name, strlen(k->name));
	w |= buf_append_byte(&s->ptext, '\t');
	w |= pgcopy_field(&s->ptext, k->format, strlen(k->format));
	w |= buf_printf(&s->ptext, "\t%d-%d-%d\t", k->model, k->revision, k->addition);
	w |= pgcopy_field(&s->ptext, ev->event_id, ev->event_id_len);
	w |= buf_append_byte(&s->ptext, '\t');
	w |= pgcopy_field(&s->ptext, ev->tstamp, ev->tstamp_len);
	for (i = 0; i < tb->cols.n && !w; i++) {
		int r;
		w |= buf_append_byte(&s->ptext, '\t');
		r = pgschema_cell(&tb->cols.v[i], data, &s->ptext, cerr, sizeof(cerr));
		if (r == -1) {
			snprintf(why, whylen, "entity %s, table %s: %s", iglu_key_format(k, uri,
			    sizeof(uri)), tb->name, cerr);
			return -1;
		}
		w |= r == -2;
	}
	w |= buf_append_byte(&s->ptext, '\n');
	if (w || pend_add(s, (size_t)ti, start, s->ptext.len - start, tb->cols.n) == -1) {
		snprintf(why, whylen, "out of memory");
		return -2;
	}
	return 0;
}

/* The entities of one JSON column. 0, -1 (why), -2 (why). */
static int
shred_column(struct pgloader *s, const struct pgatomic_event *ev, int which, char *why,
    size_t whylen)
{
	static const char *const colname[3] = { "contexts", "derived_contexts", "unstruct_event" };
	int unstruct = which == PGATOMIC_UNSTRUCT;
	json_error_t jerr;
	json_t *root;
	const json_t *data;
	struct iglu_key k;
	char w[600];
	int rc = -1;
	size_t i;

	root = jsonschema_json_loadb(ev->json[which], ev->json_len[which], JSON_ALLOW_NUL, 0, &jerr);
	if (root == NULL) {
		snprintf(why, whylen, "%s: invalid JSON: %s", colname[which], jerr.text);
		return -1;
	}
	if ((data = self_describing(root, &k, w, sizeof(w))) == NULL) {
		snprintf(why, whylen, "%s: %s", colname[which], w);
		goto out;
	}
	/* the wrappers (sinks.md §1.4): contexts or unstruct_event 1-0-* */
	if (strcmp(k.vendor, "com.snowplowanalytics.snowplow") != 0 ||
	    strcmp(k.name, unstruct ? "unstruct_event" : "contexts") != 0 ||
	    strcmp(k.format, "jsonschema") != 0 || k.model != 1 || k.revision != 0) {
		snprintf(why, whylen, "%s: Unknown payload: %.300s", colname[which],
		    json_string_value(json_object_get(root, "schema")));
		goto out;
	}
	if (unstruct) {
		const json_t *inner = self_describing(data, &k, w, sizeof(w));
		if (inner == NULL) {
			snprintf(why, whylen, "%s: %s", colname[which], w);
			goto out;
		}
		rc = shred_entity(s, ev, &k, inner, why, whylen);
		goto out;
	}
	if (!json_is_array(data)) {
		snprintf(why, whylen, "%s: \"data\" must be an array", colname[which]);
		goto out;
	}
	for (i = 0; i < json_array_size(data); i++) {
		const json_t *ent = self_describing(json_array_get(data, i), &k, w, sizeof(w));
		if (ent == NULL) {
			snprintf(why, whylen, "%s[%zu]: %s", colname[which], i, w);
			goto out;
		}
		if ((rc = shred_entity(s, ev, &k, ent, why, whylen)) != 0)
			goto out;
	}
	rc = 0;
out:
	json_decref(root);
	return rc;
}

static int
batch_room(struct pgloader *s)
{
	struct batch *b = &s->b;

	if (b->n == b->cap) {
		size_t nc = b->cap ? b->cap * 2 : 256;
		struct rec *nr = realloc(b->recs, nc * sizeof(*nr));
		if (nr == NULL)
			return -1;
		b->recs = nr;
		b->cap = nc;
	}
	if (2 * (b->n + 1) > b->hcap) {
		size_t nc = b->hcap ? b->hcap * 2 : 1024, i;
		size_t *nh = calloc(nc, sizeof(*nh));
		if (nh == NULL)
			return -1;
		free(b->hash);
		b->hash = nh;
		b->hcap = nc;
		for (i = 0; i < b->n; i++) {      /* rehash */
			size_t slot;
			if (dedupe_find(b, b->keys.data + b->recs[i].key_off, &slot) < 0)
				b->hash[slot] = i + 1;
		}
	}
	return 0;
}

/* Add the line whose key-table row is already at the end of b->rows (from row_off). */
static int
batch_add(struct pgloader *s, const char *line, size_t len, size_t row_off, const char *key)
{
	struct batch *b = &s->b;
	struct rec *r;
	size_t slot, i;

	if (batch_room(s) == -1 || dedupe_find(b, key, &slot) >= 0)
		return -1;
	r = &b->recs[b->n];
	memset(r, 0, sizeof(*r));
	r->line_off = b->lines.len;
	r->line_len = len;
	r->row_off = row_off;
	r->row_len = b->rows.len - row_off;
	r->key_off = b->keys.len;
	if (buf_append(&b->lines, line, len) == -1 || buf_append_str(&b->keys, key) == -1 ||
	    buf_append_byte(&b->keys, '\0') == -1)
		return -1;
	for (i = 0; i < s->npend; i++) {
		struct tabrows *tr = tabrows_for(b, s->pend[i].table);
		struct erow *e;

		if (tr == NULL)
			return -1;
		if (tr->n == tr->cap) {
			size_t nc = tr->cap ? tr->cap * 2 : 64;
			struct erow *nv = realloc(tr->v, nc * sizeof(*nv));
			if (nv == NULL)
				return -1;
			tr->v = nv;
			tr->cap = nc;
		}
		e = &tr->v[tr->n++];
		e->rec = b->n;
		e->off = tr->text.len;
		e->len = s->pend[i].len;
		e->ncols = s->pend[i].ncols;
		if (buf_append(&tr->text, s->ptext.data + s->pend[i].off, s->pend[i].len) == -1)
			return -1;
		b->bytes += s->pend[i].len;
	}
	b->hash[slot] = b->n + 1;
	b->bytes += r->row_len;
	if (b->n == 0)
		b->first_ms = now_ms();
	b->n++;
	return 0;
}

static void
dump_line(struct pgloader *s, const char *table, const char *row, size_t len)
{
	struct buf *q = stream_sink_queue(s->io->dump);

	if (buf_append_str(q, table) == -1 || buf_append_byte(q, '\t') == -1 ||
	    buf_append(q, row, len) == -1) {
		log_error("standard output: out of memory");
		fail(s, EX_SOFTWARE);
	}
}

/*
 * Transform one line and add it to the batch. Returns 0 (added, or a bad row written, or a
 * duplicate of a line in the batch), -2 when an Iglu registry failed (try again later).
 */
static int
transform(struct pgloader *s, const char *line, size_t len)
{
	struct batch *b = &s->b;
	struct pgatomic_event ev;
	size_t row_off = b->rows.len, slot;
	char why[1600], key[PGATOMIC_KEY_MAX];
	int i, r;

	buf_reset(&s->err);
	s->npend = 0;
	buf_reset(&s->ptext);
	if (s->o->input == PG_IN_BAD) {
		char err[600];
		r = pgbad_row(line, len, &b->rows, key, err, sizeof(err));
		if (r == -1) {
			sinkout_bad(s->io, line, len, 0, err, &s->status);
			return 0;
		}
	} else {
		r = pgatomic_row(line, len, &b->rows, &ev, &s->err);
		if (r == -1) {
			sinkout_bad(s->io, line, len, 0,
			    s->err.data ? s->err.data : "not an enriched event", &s->status);
			return 0;
		}
		if (r == 0)
			memcpy(key, ev.key, sizeof(key));
	}
	if (r == -2)
		goto oom;
	if (dedupe_find(b, key, &slot) >= 0) {
		s->st.dups++;                 /* the same event twice in one batch */
		goto drop;
	}
	if (s->o->input == PG_IN_ENRICHED) {
		for (i = 0; i < 3; i++) {
			if (ev.json_len[i] == 0)
				continue;
			r = shred_column(s, &ev, i, why, sizeof(why));
			if (r == -1) {
				sinkout_bad(s->io, line, len, 0, why, &s->status);
				goto drop;
			}
			if (r == -2) {
				b->rows.len = row_off;
				log_warn("%s", why);
				return -2;
			}
		}
	}
	if (s->io->dump) {
		size_t k;
		dump_line(s, s->o->input == PG_IN_BAD ? PGBAD_TABLE : "events", b->rows.data + row_off,
		    b->rows.len - row_off);
		for (k = 0; k < s->npend; k++)
			dump_line(s, pgtables_get(s->t, s->pend[k].table)->name,
			    s->ptext.data + s->pend[k].off, s->pend[k].len);
		s->st.loaded++;
		s->st.entities += s->npend;
		goto drop;
	}
	if (batch_add(s, line, len, row_off, key) == -1)
		goto oom;
	return 0;
oom:
	log_error("out of memory");
	fail(s, EX_SOFTWARE);
drop:
	b->rows.len = row_off;
	if (b->rows.data)
		b->rows.data[row_off] = '\0';
	return 0;
}

/*
 * One line. Returns 1 when it is dealt with; 0 when it could not be (a registry failing at
 * shutdown, from a log): it is read again at the next start.
 */
static int
handle_line(struct pgloader *s, const char *line, size_t len)
{
	unsigned attempt = 0;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (utf8_valid_prefix(line, len) != len) {
		buf_reset(&s->fixed);
		if (utf8_repair(line, len, &s->fixed) == -1) {
			sinkout_bad(s->io, line, len, 1, "line too long to repair its UTF-8",
			    &s->status);
			return 1;
		}
		line = s->fixed.data;
		len = s->fixed.len;
	}
	while (transform(s, line, len) == -2) {
		if (s->b.n > 0)
			deliver(s);      /* what was read before waits for nothing */
		attempt++;
		if (term_now(s) || backoff_sleep(s, pgload_backoff_ms(attempt,
		    (unsigned long)s->o->retry_base_ms, (unsigned long)s->o->retry_max_ms,
		    rnd64(&s->rnd))) == -1) {
			if (stream_source_follows(s->in))
				return 0;
			if (s->io->spool)
				sinkout_spool(s->io, line, len, &s->status);
			else
				sinkout_bad(s->io, line, len, 1,
				    "an Iglu registry failed until shutdown", &s->status);
			s->undelivered = 1;
			return 1;
		}
	}
	return 1;
}

/* ---- loading ---- */

static int
exec_sql(struct pgloader *s, const char *sql, long *rows, struct pgerr *e)
{
	return pgconn_exec(s->c, sql, 0, NULL, rows, NULL, e);
}

static int
map_push(struct pgloader *s, size_t rec)
{
	if (s->copy_n == s->copy_cap) {
		size_t nc = s->copy_cap ? s->copy_cap * 2 : 1024;
		size_t *nm = realloc(s->copy_map, nc * sizeof(*nm));
		if (nm == NULL)
			return -1;
		s->copy_map = nm;
		s->copy_cap = nc;
	}
	s->copy_map[s->copy_n++] = rec;
	return 0;
}

static int
oom_err(struct pgerr *e)
{
	memset(e, 0, sizeof(*e));
	e->cls = PGE_TRANSIENT;
	snprintf(e->msg, sizeof(e->msg), "out of memory");
	return -1;
}

/* Send s->send when it is big (or when force), as COPY data. */
static int
send_flush(struct pgloader *s, int force, struct pgerr *e)
{
	if (s->send.len == 0 || (!force && s->send.len < SEND_CHUNK))
		return 0;
	if (pgconn_copy_put(s->c, s->send.data, s->send.len, e) == -1)
		return -1;
	buf_reset(&s->send);
	return 0;
}

/* COPY the key-table rows of the live records of [lo, hi) into target. */
static int
copy_keyrows(struct pgloader *s, const char *target, size_t lo, size_t hi, long *rows,
    struct pgerr *e)
{
	struct batch *b = &s->b;
	size_t i;
	int failed = 0;

	buf_reset(&s->sql);
	if (buf_printf(&s->sql, "COPY %s (", target) == -1 ||
	    (s->o->input == PG_IN_BAD ? buf_append_str(&s->sql, PGBAD_COLUMNS) :
	    pgatomic_column_list(&s->sql, "")) == -1 || buf_append_str(&s->sql, ") FROM STDIN") == -1)
		return oom_err(e);
	if (pgconn_copy_begin(s->c, s->sql.data, e) == -1)
		return -1;
	s->copy_n = 0;
	buf_reset(&s->send);
	if (batch_live(b, lo, hi) == hi - lo) {
		/* every record: the rows are one run of the buffer */
		for (i = lo; i < hi; i++)
			if (map_push(s, i) == -1)
				failed = 1;
		if (!failed && pgconn_copy_put(s->c, b->rows.data + b->recs[lo].row_off,
		    b->recs[hi - 1].row_off + b->recs[hi - 1].row_len - b->recs[lo].row_off, e) == -1)
			failed = 2;
	} else {
		for (i = lo; i < hi && !failed; i++) {
			if (b->recs[i].bad)
				continue;
			if (map_push(s, i) == -1 || buf_append(&s->send, b->rows.data + b->recs[i].row_off,
			    b->recs[i].row_len) == -1)
				failed = 1;
			else if (send_flush(s, 0, e) == -1)
				failed = 2;
		}
		if (!failed && send_flush(s, 1, e) == -1)
			failed = 2;
	}
	if (failed == 2 && !pgconn_connected(s->c))
		return -1;
	if (pgconn_copy_end(s->c, rows, e) == -1)
		return -1;
	return failed ? oom_err(e) : 0;
}

/* COPY the rows of entity table tr whose records are live and in [lo, hi) into target;
 * *any is 0 when there were none (nothing is sent). */
static int
copy_entities(struct pgloader *s, const struct tabrows *tr, const char *target, size_t lo,
    size_t hi, int *any, long *rows, struct pgerr *e)
{
	const struct pgtable *tb = pgtables_get(s->t, tr->table);
	struct batch *b = &s->b;
	size_t i, k;
	int failed = 0;

	*any = 0;
	for (i = 0; i < tr->n && !*any; i++)
		*any = tr->v[i].rec >= lo && tr->v[i].rec < hi && !b->recs[tr->v[i].rec].bad;
	if (!*any)
		return 0;
	buf_reset(&s->sql);
	if (buf_printf(&s->sql, "COPY %s (", target) == -1 ||
	    pgtables_column_list(tb, "", &s->sql) == -1 || buf_append_str(&s->sql, ") FROM STDIN"))
		return oom_err(e);
	if (pgconn_copy_begin(s->c, s->sql.data, e) == -1)
		return -1;
	s->copy_n = 0;
	buf_reset(&s->send);
	for (i = 0; i < tr->n && !failed; i++) {
		const struct erow *r = &tr->v[i];

		if (r->rec < lo || r->rec >= hi || b->recs[r->rec].bad)
			continue;
		if (map_push(s, r->rec) == -1) {
			failed = 1;
			break;
		}
		/* a row formatted before the layout grew gets NULLs for the new columns */
		if (r->ncols == tb->cols.n) {
			if (buf_append(&s->send, tr->text.data + r->off, r->len) == -1)
				failed = 1;
		} else if (buf_append(&s->send, tr->text.data + r->off, r->len - 1) == -1) {
			failed = 1;
		} else {
			for (k = r->ncols; k < tb->cols.n && !failed; k++)
				if (buf_append(&s->send, "\t" PGCOPY_NULL, 3) == -1)
					failed = 1;
			if (!failed && buf_append_byte(&s->send, '\n') == -1)
				failed = 1;
		}
		if (!failed && send_flush(s, 0, e) == -1)
			failed = 2;
	}
	if (!failed && send_flush(s, 1, e) == -1)
		failed = 2;
	if (failed == 2 && !pgconn_connected(s->c))
		return -1;
	if (pgconn_copy_end(s->c, rows, e) == -1)
		return -1;
	return failed ? oom_err(e) : 0;
}

/* Create (or empty) the temporary staging table name, shaped like table. */
static int
stage_table(struct pgloader *s, const char *name, const char *table, struct pgerr *e)
{
	buf_reset(&s->sql);
	if (buf_printf(&s->sql, "CREATE TEMP TABLE IF NOT EXISTS %s (LIKE %s INCLUDING DEFAULTS) "
	    "ON COMMIT DROP; "
	    "TRUNCATE %s", name, table, name) == -1)
		return oom_err(e);
	return exec_sql(s, s->sql.data, NULL, e);
}

/*
 * Load the live records of [lo, hi) inside the open transaction. Returns 0 with t added to,
 * or -1 with e set (e->copy_line names the line of the COPY that failed, s->copy_map its rec).
 */
static int
load_range(struct pgloader *s, size_t lo, size_t hi, struct tally *t, struct pgerr *e)
{
	struct batch *b = &s->b;
	struct buf tq, cols;
	long rows = 0, fresh = 0;
	size_t i;
	int rc = -1;

	buf_init(&tq, 0);
	buf_init(&cols, 0);
	if (!b->staging) {
		if (copy_keyrows(s, s->keytable, lo, hi, &rows, e) == -1)
			goto out;
		fresh = rows;
	} else {
		if (stage_table(s, "furrow_stage", s->keytable, e) == -1 ||
		    copy_keyrows(s, "furrow_stage", lo, hi, &rows, e) == -1)
			goto out;
		if (s->o->input == PG_IN_BAD) {
			buf_reset(&s->sql);
			if (buf_printf(&s->sql, "INSERT INTO %s (" PGBAD_COLUMNS ") SELECT "
			    PGBAD_COLUMNS " FROM furrow_stage ON CONFLICT (row_id) DO NOTHING",
			    s->keytable) == -1)
				goto oom;
			if (exec_sql(s, s->sql.data, &fresh, e) == -1)
				goto out;
		} else {
			if (pgatomic_column_list(&cols, "") == -1)
				goto oom;
			buf_reset(&s->sql);
			if (buf_printf(&s->sql, "CREATE TEMP TABLE IF NOT EXISTS furrow_fresh (root_id "
			    "UUID, root_tstamp TIMESTAMP) ON COMMIT DROP; TRUNCATE furrow_fresh; "
			    "WITH ins AS (INSERT INTO %s (%s) SELECT %s FROM furrow_stage ON CONFLICT "
			    "(event_id, collector_tstamp) DO NOTHING RETURNING event_id, collector_tstamp) "
			    "INSERT INTO furrow_fresh SELECT * FROM ins", s->keytable, cols.data,
			    cols.data) == -1)
				goto oom;
			if (exec_sql(s, s->sql.data, &fresh, e) == -1)
				goto out;
		}
	}
	t->loaded += (uint64_t)fresh;
	t->dups += (uint64_t)(rows - fresh);
	for (i = 0; i < b->ntabs && s->o->input == PG_IN_ENRICHED; i++) {
		const struct tabrows *tr = &b->tabs[i];
		const struct pgtable *tb = pgtables_get(s->t, tr->table);
		int any;

		if (tr->n == 0 || tb->broken != NULL)
			continue;
		buf_reset(&tq);
		if (pgtables_qualified(s->t, tb->name, &tq) == -1)
			goto oom;
		if (!b->staging) {
			if (copy_entities(s, tr, tq.data, lo, hi, &any, &rows, e) == -1)
				goto out;
		} else {
			char stage[64];

			snprintf(stage, sizeof(stage), "furrow_stage_%zu", tr->table);
			if (stage_table(s, stage, tq.data, e) == -1 ||
			    copy_entities(s, tr, stage, lo, hi, &any, &rows, e) == -1)
				goto out;
			if (!any)
				continue;
			buf_reset(&cols);
			buf_reset(&s->sql);
			if (pgtables_column_list(tb, "", &cols) == -1 ||
			    buf_printf(&s->sql, "INSERT INTO %s (%s) SELECT ", tq.data, cols.data) == -1)
				goto oom;
			buf_reset(&cols);
			if (pgtables_column_list(tb, "s.", &cols) == -1 ||
			    buf_printf(&s->sql, "%s FROM %s s JOIN furrow_fresh f ON s.root_id = "
			    "f.root_id AND s.root_tstamp = f.root_tstamp", cols.data, stage) == -1)
				goto oom;
			if (exec_sql(s, s->sql.data, &rows, e) == -1)
				goto out;
		}
		if (any)
			t->entities += (uint64_t)rows;
	}
	rc = 0;
	goto out;
oom:
	oom_err(e);
out:
	buf_free(&tq);
	buf_free(&cols);
	return rc;
}

static void
rollback(struct pgloader *s, const char *to)
{
	struct pgerr ignored;
	char sql[128];

	if (!pgconn_connected(s->c))
		return;
	if (to != NULL)
		snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT %s; RELEASE SAVEPOINT %s", to, to);
	else
		snprintf(sql, sizeof(sql), "ROLLBACK");
	exec_sql(s, sql, NULL, &ignored);
}

/* The record a COPY error names, or -1. */
static long
hinted_rec(const struct pgloader *s, const struct pgerr *e, size_t lo, size_t hi)
{
	size_t r;

	if (e->copy_line < 1 || (size_t)e->copy_line > s->copy_n)
		return -1;
	r = s->copy_map[e->copy_line - 1];
	return r >= lo && r < hi && !s->b.recs[r].bad ? (long)r : -1;
}

static void
refuse(struct pgloader *s, size_t rec, const struct pgerr *e)
{
	char msg[1200];

	snprintf(msg, sizeof(msg), "PostgreSQL refused the row: %s", e->msg);
	mark_bad(s, rec, msg);
}

/*
 * Load a batch PostgreSQL refused part of: one transaction, one savepoint per attempt; a
 * refused record is taken out (named by the COPY error, or found by halving). 0 committed, -1
 * with e set (retry the batch).
 */
static int
load_careful(struct pgloader *s, struct tally *t, struct pgerr *e)
{
	struct batch *b = &s->b;
	size_t *stack, top = 0;
	int rc = -1, hints = CAREFUL_HINTS;

	memset(t, 0, sizeof(*t));
	/* at most one pending range per halving level, plus the one being split */
	if ((stack = malloc(2 * 2 * 64 * sizeof(*stack))) == NULL)
		return oom_err(e);
	if (exec_sql(s, "BEGIN", NULL, e) == -1)
		goto out;
	stack[top++] = 0;
	stack[top++] = b->n;
	while (top > 0) {
		size_t hi = stack[--top], lo = stack[--top], live, i, mid, half, seen = 0;
		struct tally sub;
		long k;

		if ((live = batch_live(b, lo, hi)) == 0)
			continue;
		memset(&sub, 0, sizeof(sub));
		if (exec_sql(s, "SAVEPOINT furrow_sp", NULL, e) == -1)
			goto abort;
		if (load_range(s, lo, hi, &sub, e) == 0) {
			if (exec_sql(s, "RELEASE SAVEPOINT furrow_sp", NULL, e) == -1)
				goto abort;
			t->loaded += sub.loaded;
			t->entities += sub.entities;
			t->dups += sub.dups;
			continue;
		}
		if (e->cls != PGE_DATA && e->cls != PGE_KEY)
			goto abort;
		rollback(s, "furrow_sp");
		if (!pgconn_connected(s->c))
			goto abort;
		if (e->cls == PGE_KEY && !b->staging) {
			b->staging = 1;                   /* a replayed event: de-duplicate */
			s->st.staged_batches++;
			stack[top++] = lo;
			stack[top++] = hi;
			continue;
		}
		if (hints > 0 && (k = hinted_rec(s, e, lo, hi)) >= 0) {
			hints--;
			refuse(s, (size_t)k, e);
			stack[top++] = lo;
			stack[top++] = hi;
			continue;
		}
		if (live == 1) {
			for (i = lo; i < hi; i++)
				if (!b->recs[i].bad)
					refuse(s, i, e);
			continue;
		}
		/* halve by live records; the first half is loaded first */
		half = live / 2;
		for (mid = lo; mid < hi && seen < half; mid++)
			seen += !b->recs[mid].bad;
		if (top + 4 > 2 * 2 * 64) {
			refuse(s, lo, e);                 /* cannot happen with 2^64 records */
			continue;
		}
		stack[top++] = mid;
		stack[top++] = hi;
		stack[top++] = lo;
		stack[top++] = mid;
	}
	if (exec_sql(s, "COMMIT", NULL, e) == -1)
		goto out;
	rc = 0;
	goto out;
abort:
	rollback(s, NULL);
out:
	free(stack);
	return rc;
}

/* One transaction for the whole batch; on a refusal, load_careful. 0 or -1 (e set). */
static int
load_batch(struct pgloader *s, struct tally *t, struct pgerr *e)
{
	struct batch *b = &s->b;

	for (;;) {
		memset(t, 0, sizeof(*t));
		if (exec_sql(s, "BEGIN", NULL, e) == -1)
			return -1;
		if (load_range(s, 0, b->n, t, e) == 0)
			return exec_sql(s, "COMMIT", NULL, e);
		rollback(s, NULL);
		if (!pgconn_connected(s->c))
			return -1;
		if (e->cls == PGE_KEY && !b->staging) {
			b->staging = 1;                   /* a replayed event: de-duplicate */
			s->st.staged_batches++;
			log_info("events of this batch are already loaded (a replay): skipping them");
			continue;
		}
		if (e->cls == PGE_DATA || e->cls == PGE_KEY) {
			if (!b->staging)
				log_debug("a row was refused: %s", e->msg);
			return load_careful(s, t, e);
		}
		return -1;
	}
}

/* One attempt at the batch: connect, tables, load. 0 or -1 (e set). */
static int
attempt_batch(struct pgloader *s, struct pgerr *e)
{
	struct batch *b = &s->b;
	struct tally t;
	size_t i, j;

	if (!pgconn_connected(s->c)) {
		if (pgconn_connect(s->c, e) == -1)
			return -1;
		log_info("connected to %s", pgconn_target(s->c));
	}
	for (i = 0; i < b->ntabs && s->o->input == PG_IN_ENRICHED; i++) {
		const struct pgtable *tb;

		if (b->tabs[i].n == 0)
			continue;
		if (pgtables_sync(s->t, b->tabs[i].table, s->c, e) == -1)
			return -1;
		tb = pgtables_get(s->t, b->tabs[i].table);
		if (tb->broken != NULL)
			for (j = 0; j < b->tabs[i].n; j++)
				mark_bad(s, b->tabs[i].v[j].rec, tb->broken);
	}
	if (batch_live(b, 0, b->n) == 0)
		return 0;
	if (load_batch(s, &t, e) == -1) {
		if (e->cls == PGE_SCHEMA) {
			pgtables_forget_db(s->t);   /* look at the catalog again */
			log_warn("PostgreSQL: %s (was a table or column dropped?)", e->msg);
		}
		return -1;
	}
	s->st.loaded += t.loaded;
	s->st.entities += t.entities;
	s->st.dups += t.dups;
	return 0;
}

/*
 * The records of b not loaded cannot be delivered. At shutdown, from a log, the batch is left
 * uncommitted and read again at the next start; otherwise they are diverted (to the spool at
 * shutdown when there is one, else to --bad).
 */
static void
give_up(struct pgloader *s, struct batch *b, int at_shutdown, unsigned attempts,
    const char *last_err)
{
	char msg[1400];
	size_t i, left = batch_live(b, 0, b->n);

	if (at_shutdown && stream_source_follows(s->in)) {
		b->abandoned = 1;
		s->no_commit = 1;
		log_warn("stopping with %zu events not yet loaded (%s): they are loaded from %s at the "
		    "next start", left, last_err, stream_source_name(s->in));
		return;
	}
	snprintf(msg, sizeof(msg), "PostgreSQL did not accept the event %safter %u attempts: %s",
	    at_shutdown ? "before shutdown " : "", attempts, last_err);
	for (i = 0; i < b->n; i++) {
		struct rec *r = &b->recs[i];
		if (r->bad)
			continue;
		if (at_shutdown && s->io->spool)
			sinkout_spool(s->io, b->lines.data + r->line_off, r->line_len, &s->status);
		else
			sinkout_bad(s->io, b->lines.data + r->line_off, r->line_len, 1, msg,
			    &s->status);
		r->bad = 1;
		r->msg_off = (size_t)-2;       /* diverted: no bad row at settle */
		s->undelivered = 1;
	}
	log_error("%s (events diverted to %s)", msg, at_shutdown && s->io->spool ? "the spool" :
	    "--bad");
}

/* The batch is settled: bad rows written, then its input position committed. */
static void
settle(struct pgloader *s, struct batch *b)
{
	char err[512];
	size_t i;

	if (!b->abandoned)
		for (i = 0; i < b->n; i++) {
			const struct rec *r = &b->recs[i];
			if (!r->bad || r->msg_off == (size_t)-2)
				continue;
			sinkout_bad(s->io, b->lines.data + r->line_off, r->line_len, 1,
			    r->msg_off == (size_t)-1 ? "PostgreSQL refused the row" :
			    b->msgs.data + r->msg_off, &s->status);
		}
	if (sinkout_flush(s->io, &s->status) == 0 && b->has_pos && !b->abandoned && !s->no_commit &&
	    stream_source_commit(s->in, b->end_pos, err, sizeof(err)) == -1) {
		log_error("%s", err);
		fail(s, EX_IOERR);
	}
	batch_reset(b);
}

static void
deliver(struct pgloader *s)
{
	struct batch *b = &s->b;
	const struct pg_opts *o = s->o;
	struct pgerr e;
	unsigned attempt = 0;
	int64_t first_fail = 0, t0 = now_ms();

	while (b->n > 0) {
		if (attempt_batch(s, &e) == 0) {
			uint64_t ms = (uint64_t)(now_ms() - t0);
			pgconn_note(s->c, 1, NULL);
			metrics_hist_observe(&s->st.batch_seconds, (double)ms / 1000.0);
			s->st.batches++;
			s->st.lat_sum_ms += ms;
			if (ms > s->st.lat_max_ms)
				s->st.lat_max_ms = ms;
			if (attempt > 0)
				log_info("batch of %zu events loaded after %u failed attempts", b->n, attempt);
			break;
		}
		attempt++;
		s->st.retried++;
		s->st.failures++;
		s->st.failures_by[e.cls <= PGE_ABORTED ? e.cls : PGE_TRANSIENT]++;
		if (e.cls != PGE_ABORTED)
			pgconn_note(s->c, 0, e.msg);
		if (first_fail == 0)
			first_fail = now_ms();
		if (e.cls == PGE_ABORTED || term_now(s)) {
			give_up(s, b, 1, attempt, e.msg);
			break;
		}
		if (o->retry_deadline_s > 0 && now_ms() - first_fail >= o->retry_deadline_s * 1000) {
			give_up(s, b, 0, attempt, e.msg);
			fail(s, EX_UNAVAILABLE);
			break;
		}
		if (attempt == 1 || attempt % 10 == 0)
			log_warn("retrying a batch of %zu events (attempt %u): %s", b->n, attempt, e.msg);
		if (backoff_sleep(s, pgload_backoff_ms(attempt, (unsigned long)o->retry_base_ms,
		    (unsigned long)o->retry_max_ms, rnd64(&s->rnd))) == -1) {
			give_up(s, b, 1, attempt, e.msg);
			break;
		}
	}
	settle(s, b);
}

/* ---- reading ---- */

static int
batch_full(const struct pgloader *s)
{
	return s->b.n >= s->o->batch_rows || s->b.bytes >= s->o->batch_bytes;
}

static void
handle_toolong(struct pgloader *s, const char *line, size_t len, uint64_t full_len)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "line of %llu bytes, longer than the limit of %zu bytes "
	    "(--max-line)", (unsigned long long)full_len, s->o->io.max_line);
	sinkout_bad(s->io, line, len, 1, msg, &s->status);
}

static void
handle_partial(struct pgloader *s, const char *line, size_t len, uint64_t total)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "unterminated line at shutdown: %llu bytes without a newline, "
	    "not loaded", (unsigned long long)total);
	log_warn("%s", msg);
	sinkout_bad(s->io, line, len, 1, msg, &s->status);
}

/* 1: go on reading; 0: nothing more now; -1: the end of the input (or stop). */
static int
read_one(struct pgloader *s)
{
	struct stream_rec rec;
	enum stream_status r;

	r = sig_terminate ? stream_source_next_buffered(s->in, &rec) :
	    stream_source_next(s->in, &rec);
	switch (r) {
	case STREAM_OK:
		s->st.in++;
		s->st.bytes_in += rec.len + 1;
		if (handle_line(s, rec.data, rec.len) == 0)
			return -1;       /* not dealt with: read again at the next start */
		break;
	case STREAM_TOOLONG:
		s->st.in++;
		handle_toolong(s, rec.data, rec.len, rec.full_len);
		break;
	case STREAM_PARTIAL:
		s->st.in++;
		handle_partial(s, rec.data, rec.len, rec.full_len);
		return -1;
	case STREAM_AGAIN:
		return 0;
	case STREAM_EOF:
		return -1;
	default:
		log_error("reading %s", stream_source_error(s->in));
		fail(s, EX_IOERR);
		return -1;
	}
	s->b.end_pos = rec.pos;
	s->b.has_pos = 1;
	return 1;
}

static int
wait_ms(const struct pgloader *s, int64_t next_stats)
{
	int timeout = -1;

	if (s->b.n > 0) {
		int64_t left = s->b.first_ms + s->o->flush_ms - now_ms();
		timeout = left < 0 ? 0 : (int)left;
	}
	if (next_stats != INT64_MAX) {
		int64_t left = next_stats - now_ms();
		if (left < 0)
			left = 0;
		if (timeout < 0 || left < timeout)
			timeout = (int)left;
	}
	return timeout;
}

struct pgloader *
pgloader_new(const struct pg_opts *o, struct pgconn *c, struct pgtables *t, struct sinkout *io)
{
	struct pgloader *s = calloc(1, sizeof(*s));
	struct buf q;

	if (s == NULL)
		return NULL;
	s->o = o;
	s->c = c;
	s->t = t;
	s->io = io;
	s->in = io->in;
	batch_init(&s->b);
	metrics_hist_init(&s->st.batch_seconds, batch_bounds,
	    sizeof(batch_bounds) / sizeof(batch_bounds[0]));
	buf_init(&s->fixed, 0);
	buf_init(&s->err, 0);
	buf_init(&s->send, 0);
	buf_init(&s->sql, 0);
	buf_init(&s->ptext, 0);
	buf_init(&q, 0);
	if (pgschema_ident(&q, o->schema) == -1 || q.len >= sizeof(s->qschema)) {
		buf_free(&q);
		pgloader_free(s);
		return NULL;
	}
	memcpy(s->qschema, q.data, q.len + 1);
	snprintf(s->keytable, sizeof(s->keytable), "%s.%s", s->qschema,
	    o->input == PG_IN_BAD ? PGBAD_TABLE : "events");
	buf_free(&q);
	abort_target = s;
	return s;
}

void
pgloader_free(struct pgloader *s)
{
	if (s == NULL)
		return;
	if (abort_target == s)
		abort_target = NULL;
	batch_free(&s->b);
	buf_free(&s->fixed);
	buf_free(&s->err);
	buf_free(&s->send);
	buf_free(&s->sql);
	buf_free(&s->ptext);
	free(s->pend);
	free(s->copy_map);
	free(s);
}

int
pgloader_run(struct pgloader *s)
{
	const struct pg_opts *o = s->o;
	int64_t next_stats = o->stats_interval ? now_ms() + o->stats_interval * 1000 : INT64_MAX;

	while (s->status == 0) {
		int fd = stream_source_fd(s->in);
		struct pollfd p;

		if (sig_reopen) {
			sig_reopen = 0;
			sinkout_reopen(s->io, &s->status);
			if (s->status)
				break;
		}
		if (now_ms() >= next_stats) {
			log_stats(s, "counters");
			next_stats = now_ms() + o->stats_interval * 1000;
		}
		if (sig_terminate && s->term_deadline == 0) {
			term_now(s);
			log_info("SIGTERM/SIGINT: loading the batch in hand (at most %lds)",
			    o->term_timeout_s);
			/* a line half read is in hand too: let it end (reading nothing past it) */
			stream_source_finish_record(s->in);
		}
		while (!s->eof && !batch_full(s) && s->status == 0) {
			int r = read_one(s);
			if (r == 0)
				break;
			if (r == -1)
				s->eof = 1;
		}
		if (s->io->dump) {
			if (s->b.has_pos)
				settle(s, &s->b);
			if (s->eof)
				break;
		} else if (s->b.n > 0 && (batch_full(s) || s->eof || sig_terminate ||
		    now_ms() - s->b.first_ms >= o->flush_ms)) {
			deliver(s);
			continue;
		} else if (s->eof) {
			if (s->b.has_pos)
				settle(s, &s->b);     /* lines that all became bad rows */
			break;
		} else if (s->b.n == 0 && s->b.has_pos) {
			settle(s, &s->b);
		} else if (sinkout_flush(s->io, &s->status) == -1) {
			break;
		}
		p.fd = fd;
		p.events = POLLIN;
		p.revents = 0;
		metricsd_poll(s->md, &p, 1, wait_ms(s, next_stats));
	}
	if (s->status != 0 && s->b.n > 0)
		give_up(s, &s->b, 0, 0, "not loaded: an earlier failure stopped pg-sink");
	if (s->b.n > 0 || s->b.has_pos)
		settle(s, &s->b);
	sinkout_flush(s->io, &s->status);
	log_stats(s, "exit");
	if (s->undelivered && s->status == 0)
		s->status = EX_UNAVAILABLE;
	return s->status;
}

/* ---- before the loop ---- */

int
pgload_prepare(const struct pg_opts *o, struct pgconn *c, int *stopped)
{
	struct buf sql, q;
	struct pgerr e;
	unsigned attempt = 0;
	int64_t start = now_ms();
	uint64_t rnd = 0;
	int rc = EX_SOFTWARE;

	*stopped = 0;
	buf_init(&sql, 0);
	buf_init(&q, 0);
	if (pgschema_ident(&q, o->schema) == -1)
		goto out;
	if (o->setup) {
		/* one string, so one transaction: the lock serialises the setups of several pg-sinks
		 * on one database (two CREATE SCHEMA IF NOT EXISTS at once: one fails with a duplicate
		 * key in pg_namespace; seen with the launcher's good and bad pg-sinks) */
		if (buf_printf(&sql, "SELECT pg_advisory_xact_lock(hashtext('furrow pg-sink setup'));\n"
		    "CREATE SCHEMA IF NOT EXISTS %s;\n", q.data) == -1 ||
		    (o->input == PG_IN_BAD ? pgbad_create_sql(&sql, q.data) :
		    pgatomic_create_sql(&sql, q.data)) == -1)
			goto out;
	} else if (o->input == PG_IN_BAD) {
		/* the table and the key ON CONFLICT needs, without writing anything */
		if (buf_printf(&sql, "INSERT INTO %s.%s SELECT * FROM %s.%s WHERE false ON CONFLICT "
		    "(row_id) DO NOTHING", q.data, PGBAD_TABLE, q.data, PGBAD_TABLE) == -1)
			goto out;
	} else if (buf_printf(&sql, "INSERT INTO %s.events SELECT * FROM %s.events WHERE false "
	    "ON CONFLICT (event_id, collector_tstamp) DO NOTHING", q.data, q.data) == -1) {
		goto out;
	}
	for (;;) {
		if (pgconn_connect(c, &e) == 0) {
			log_info("connected to %s", pgconn_target(c));
			if (pgconn_exec(c, sql.data, 0, NULL, NULL, NULL, &e) == 0) {
				pgconn_note(c, 1, NULL);
				if (o->setup)
					log_info("schema %s and table %s ready", o->schema,
					    o->input == PG_IN_BAD ? PGBAD_TABLE : "events");
				rc = 0;
				break;
			}
			if (e.cls != PGE_CONN && e.cls != PGE_TRANSIENT) {
				if (o->setup)
					log_error("setup of %s.%s failed: %s", o->schema, o->input ==
					    PG_IN_BAD ? PGBAD_TABLE : "events", e.msg);
				else
					log_error("%s.%s is not ready for pg-sink: %s; create it with "
					    "pg-sink --setup", o->schema, o->input == PG_IN_BAD ? PGBAD_TABLE :
					    "events", e.msg);
				rc = EX_CONFIG;
				break;
			}
			if (strcmp(e.sqlstate, "42501") == 0) {
				log_error("%s", e.msg);
				rc = EX_CONFIG;
				break;
			}
		}
		attempt++;
		pgconn_note(c, 0, e.msg);
		if (attempt == 1 || attempt % 10 == 0)
			log_warn("PostgreSQL not ready (attempt %u): %s", attempt, e.msg);
		if (o->retry_deadline_s > 0 && now_ms() - start >= o->retry_deadline_s * 1000) {
			log_error("PostgreSQL unavailable for %lds (--retry-deadline)", o->retry_deadline_s);
			rc = EX_UNAVAILABLE;
			break;
		}
		{
			int64_t until = now_ms() + (int64_t)pgload_backoff_ms(attempt,
			    (unsigned long)o->retry_base_ms, (unsigned long)o->retry_max_ms, rnd64(&rnd));
			while (now_ms() < until && !sig_terminate)
				metricsd_poll(pgconn_metricsd(c), NULL, 0, 100);
		}
		if (sig_terminate) {
			*stopped = 1;
			rc = 0;
			break;
		}
	}
out:
	buf_free(&sql);
	buf_free(&q);
	return rc;
}

void
pgloader_set_metrics(struct pgloader *s, struct metricsd *md, long health_threshold_s)
{
	s->md = md;
	s->io->md = md;          /* served while --bad or --spool is blocked */
	s->health_threshold_s = health_threshold_s;
}

void
pgloader_metrics_render(struct buf *b, void *arg)
{
	/* furrow_pg_sink_batch_failures_total{cause}, by enum pgerr_class */
	static const char *const failure_names[PGE_ABORTED + 1] = {
		[PGE_CONN] = "connection", [PGE_TRANSIENT] = "transient", [PGE_DATA] = "data",
		[PGE_KEY] = "duplicate_key", [PGE_SCHEMA] = "schema", [PGE_ABORTED] = "aborted",
	};
	const struct pgloader *s = arg;
	const struct stats *st = &s->st;
	char lab[48];
	int i;

	metrics_counter(b, "furrow_pg_sink_records_in_total", "Input lines read", st->in);
	metrics_counter(b, "furrow_pg_sink_input_bytes_total", "Input bytes read, newlines included",
	    st->bytes_in);
	metrics_counter(b, "furrow_pg_sink_events_loaded_total",
	    "Events (or bad rows) loaded into their table", st->loaded);
	metrics_counter(b, "furrow_pg_sink_entity_rows_total",
	    "Rows loaded into the tables of self-describing entities", st->entities);
	metrics_counter(b, "furrow_pg_sink_duplicates_total",
	    "Events already loaded (a replay after a restart), not loaded twice", st->dups);
	metrics_counter(b, "furrow_pg_sink_bad_rows_total", "Bad rows written", s->io->bad_rows);
	metrics_counter(b, "furrow_pg_sink_events_spooled_total",
	    "Events diverted to --spool at shutdown", s->io->spooled);
	metrics_counter(b, "furrow_pg_sink_batches_total", "Batches loaded (one transaction each)",
	    st->batches);
	metrics_head(b, "furrow_pg_sink_batch_failures_total", "counter",
	    "Batch attempts that failed and were retried, by cause");
	for (i = PGE_CONN; i <= PGE_ABORTED; i++) {
		snprintf(lab, sizeof(lab), "cause=\"%s\"", failure_names[i]);
		metrics_u64(b, "furrow_pg_sink_batch_failures_total", lab, st->failures_by[i]);
	}
	metrics_head(b, "furrow_pg_sink_batch_duration_seconds", "histogram",
	    "Time to load one batch, retries included");
	metrics_hist_render(b, "furrow_pg_sink_batch_duration_seconds", NULL, &st->batch_seconds);
	metrics_gauge(b, "furrow_pg_sink_pending_events", "Events read and not yet loaded",
	    (double)s->b.n);
	pgloader_metrics_peer(b, s->c);
	metrics_gauge(b, "furrow_pg_sink_output_blocked_seconds",
	    "How long --bad or --spool has been unable to take more now (full disk; 0: not)",
	    sinkout_blocked_seconds(s->io, now_ms()));
}

void
pgloader_metrics_peer(struct buf *b, const struct pgconn *c)
{
	int64_t since = pgconn_failing_since(c, NULL);

	metrics_gauge(b, "furrow_pg_sink_peer_failing_seconds",
	    "How long PostgreSQL has been failing now (0: the last attempt succeeded)",
	    since ? (double)(now_ms() - since) / 1000.0 : 0.0);
}

int
pgloader_health_peer(struct buf *why, const struct pgconn *c, long threshold_s)
{
	const char *err;
	int64_t since = pgconn_failing_since(c, &err);

	if (since && now_ms() - since >= (int64_t)threshold_s * 1000) {
		buf_printf(why, "PostgreSQL failing for %llds (threshold %lds): %s",
		    (long long)((now_ms() - since) / 1000), threshold_s, err);
		return 0;
	}
	return 1;
}

int
pgloader_health(struct buf *why, void *arg)
{
	const struct pgloader *s = arg;

	if (!pgloader_health_peer(why, s->c, s->health_threshold_s))
		return 0;
	return sinkout_health(s->io, s->health_threshold_s, now_ms(), why);
}
