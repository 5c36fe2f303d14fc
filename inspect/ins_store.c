/*
 * ins_store: bounded, arrival-ordered store of good events and bad rows (see ins_store.h).
 */
#include "ins_store.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "fnv.h"
#include "ins_badrow.h"

#define INS_MALLOC_OVERHEAD 16      /* glibc's chunk header, what a record really costs */
#define INS_RING_MIN        1024

/* The indexed columns, in slot order (ins_index_of). */
static const int index_cols[INS_NIDX] = {
	COL_APP_ID, COL_PLATFORM, COL_EVENT, COL_EVENT_ID, COL_NAME_TRACKER, COL_V_TRACKER,
	COL_USER_ID, COL_DOMAIN_USERID, COL_EVENT_NAME, INS_COL_SCHEMA,
};

struct ins_store {
	struct ins_store_limits lim;
	struct ins_slot *ring;
	size_t cap, head, count;
	size_t count_kind[2];
	size_t bytes;
	uint64_t first_seq, next_seq;
	uint64_t generation;
	struct ins_store_counts c;
	struct buf pseudo;            /* scratch for the pseudo line of a bad row */
};

static void
set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

struct ins_store *
ins_store_new(const struct ins_store_limits *lim)
{
	struct ins_store *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->lim = *lim;
	if (s->lim.max_events == 0)
		s->lim.max_events = 1;
	s->first_seq = s->next_seq = 1;
	buf_init(&s->pseudo, 0);
	return s;
}

static void
drop_all(struct ins_store *s)
{
	size_t i;

	for (i = 0; i < s->count; i++)
		free(s->ring[(s->head + i) % s->cap].r);
	s->head = s->count = 0;
	s->count_kind[0] = s->count_kind[1] = 0;
	s->bytes = 0;
	s->first_seq = s->next_seq;
}

void
ins_store_free(struct ins_store *s)
{
	if (s == NULL)
		return;
	drop_all(s);
	free(s->ring);
	buf_free(&s->pseudo);
	free(s);
}

void
ins_store_reset(struct ins_store *s)
{
	s->c.reset_good += s->count_kind[INS_GOOD];
	s->c.reset_bad += s->count_kind[INS_BAD];
	s->c.resets++;
	drop_all(s);
	s->generation++;
}

void
ins_store_reject(struct ins_store *s, enum ins_kind k)
{
	if (k == INS_GOOD)
		s->c.rejected_good++;
	else
		s->c.rejected_bad++;
}

static void
evict_oldest(struct ins_store *s)
{
	struct ins_rec *r = s->ring[s->head].r;

	if (r->kind == INS_GOOD)
		s->c.evicted_good++;
	else
		s->c.evicted_bad++;
	s->count_kind[r->kind]--;
	s->bytes -= r->size;
	free(r);
	s->ring[s->head].r = NULL;
	s->head = (s->head + 1) % s->cap;
	s->count--;
	s->first_seq++;
}

/* Room for one more slot in the ring (it grows by doubling up to max_events). */
static int
ring_reserve(struct ins_store *s)
{
	struct ins_slot *n;
	size_t ncap, i;

	if (s->count < s->cap)
		return 0;
	ncap = s->cap ? s->cap * 2 : INS_RING_MIN;
	if (ncap > s->lim.max_events)
		ncap = s->lim.max_events;
	if (ncap <= s->cap)
		return -1;
	if ((n = malloc(ncap * sizeof(*n))) == NULL)
		return -1;
	for (i = 0; i < s->count; i++)
		n[i] = s->ring[(s->head + i) % s->cap];
	free(s->ring);
	s->ring = n;
	s->cap = ncap;
	s->head = 0;
	return 0;
}

static size_t
charged(size_t alloc)
{
	return ((alloc + 15) & ~(size_t)15) + INS_MALLOC_OVERHEAD + sizeof(struct ins_slot);
}

uint64_t
ins_hash_ci(const char *s, size_t n)
{
	return fnv_bytes_lower(FNV_OFFSET, s, n);
}

int
ins_index_of(int col)
{
	int i;

	for (i = 0; i < INS_NIDX; i++)
		if (index_cols[i] == col)
			return i;
	return -1;
}

/* The hashes of a record's indexed columns (see ins_store.h). */
static void
slot_fill(struct ins_slot *sl, struct ins_rec *r)
{
	uint64_t null = ins_hash_ci("null", 4);
	int i;

	sl->r = r;
	sl->tstamp_ms = r->tstamp_ms;
	sl->kind = r->kind;
	for (i = 0; i < INS_NIDX - 1; i++) {
		size_t n;
		const char *v = ins_rec_col(r, index_cols[i], &n);
		sl->h[i] = n ? ins_hash_ci(v, n) : null;
	}
	{
		static const int parts[4] = { COL_EVENT_VENDOR, COL_EVENT_NAME, COL_EVENT_FORMAT,
		    COL_EVENT_VERSION };
		uint64_t h = ins_hash_ci("iglu:", 5);
		for (i = 0; i < 4; i++) {
			size_t n;
			const char *v = ins_rec_col(r, parts[i], &n);
			if (n == 0)
				break;
			h = fnv_bytes_lower(h, v, n);
			if (i < 3)
				h = fnv_bytes_lower(h, "/", 1);
		}
		sl->h[INS_NIDX - 1] = i == 4 ? h : null;
	}
}

/* Make room for a record of size bytes and insert it. */
static int
insert(struct ins_store *s, struct ins_rec *r, int64_t now_ms)
{
	while (s->count > 0 && (s->count >= s->lim.max_events || s->bytes + r->size > s->lim.max_bytes))
		evict_oldest(s);
	if (ring_reserve(s) == -1) {
		free(r);
		errno = ENOMEM;
		return -1;
	}
	r->seq = s->next_seq++;
	r->arrived_ms = now_ms;
	slot_fill(&s->ring[(s->head + s->count) % s->cap], r);
	s->count++;
	s->count_kind[r->kind]++;
	s->bytes += r->size;
	s->generation++;
	if (r->kind == INS_GOOD)
		s->c.in_good++;
	else
		s->c.in_bad++;
	return 0;
}

/*
 * Allocate a record for columns text cols[0..cols_len) (131 tab-separated columns, already
 * checked) and the extra text after them. Fills the offsets.
 */
static struct ins_rec *
rec_new(const char *line, size_t line_len, const char *pseudo, size_t pseudo_len,
    const char *vendor, const char *version)
{
	const char *cols = pseudo ? pseudo : line;
	size_t cols_len = pseudo ? pseudo_len : line_len;
	size_t vlen = vendor ? strlen(vendor) : 0, verlen = version ? strlen(version) : 0;
	size_t text = line_len + 1 + (pseudo ? pseudo_len + 1 + vlen + verlen : 0);
	int wide = cols_len + 1 > UINT16_MAX;
	size_t offsz = ((size_t)EVENT_NCOLS + 1) * (wide ? sizeof(uint32_t) : sizeof(uint16_t));
	size_t alloc = sizeof(struct ins_rec) + offsz + text;
	struct ins_rec *r;
	char *t;
	size_t i, col = 0;

	if (text > UINT32_MAX || (r = malloc(alloc)) == NULL)
		return NULL;
	memset(r, 0, sizeof(*r));
	r->wide = (uint8_t)wide;
	r->size = (uint32_t)charged(alloc);
	r->line_len = (uint32_t)line_len;
	r->tsv_off = pseudo ? (uint32_t)line_len + 1 : 0;
	r->tsv_len = (uint32_t)cols_len;
	t = (char *)r->var + offsz;
	memcpy(t, line, line_len);
	t[line_len] = '\0';
	if (pseudo) {
		char *p = t + line_len + 1;
		memcpy(p, pseudo, pseudo_len);
		p[pseudo_len] = '\0';
		memcpy(p + pseudo_len + 1, vendor, vlen);
		memcpy(p + pseudo_len + 1 + vlen, version, verlen);
		r->vendor_len = (uint16_t)vlen;
		r->version_len = (uint16_t)verlen;
	}
	/* column starts: 0, then one past each tab; the last entry is one past the end */
	if (wide)
		((uint32_t *)(void *)r->var)[0] = 0;
	else
		((uint16_t *)(void *)r->var)[0] = 0;
	for (i = 0; i < cols_len && col < EVENT_NCOLS - 1; i++) {
		if (cols[i] != '\t')
			continue;
		col++;
		if (wide)
			((uint32_t *)(void *)r->var)[col] = (uint32_t)(i + 1);
		else
			((uint16_t *)(void *)r->var)[col] = (uint16_t)(i + 1);
	}
	if (wide)
		((uint32_t *)(void *)r->var)[EVENT_NCOLS] = (uint32_t)cols_len + 1;
	else
		((uint16_t *)(void *)r->var)[EVENT_NCOLS] = (uint16_t)(cols_len + 1);
	return r;
}

/* Count the tabs of a line, stopping once past the limit. */
static size_t
count_tabs(const char *s, size_t n, size_t limit)
{
	const char *end = s + n, *p = s;
	size_t tabs = 0;

	while (p < end && (p = memchr(p, '\t', (size_t)(end - p))) != NULL) {
		if (++tabs > limit)
			break;
		p++;
	}
	return tabs;
}

int
ins_store_add_good(struct ins_store *s, const char *line, size_t len, int64_t now_ms,
    char *err, size_t errlen)
{
	struct ins_rec *r;
	size_t tabs, n;
	const char *ts;
	int64_t ms;

	if (len && line[len - 1] == '\r')
		len--;
	tabs = count_tabs(line, len, EVENT_NCOLS);
	if (tabs != EVENT_NCOLS - 1) {
		s->c.rejected_good++;
		if (tabs == 0)
			set_err(err, errlen, "not an enriched event (no tab in the line)");
		else
			set_err(err, errlen, "not an enriched event (%s%zu columns, not %d)",
			    tabs > EVENT_NCOLS - 1 ? "more than " : "", tabs + 1, EVENT_NCOLS);
		errno = EINVAL;
		return -1;
	}
	if ((r = rec_new(line, len, NULL, 0, NULL, NULL)) == NULL) {
		set_err(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	ts = ins_rec_col(r, COL_COLLECTOR_TSTAMP, &n);
	if (ins_parse_tsv_time(ts, n, &ms) == -1) {
		set_err(err, errlen, "not an enriched event (collector_tstamp '%.*s' is not a time)",
		    (int)(n > 40 ? 40 : n), ts);
		free(r);
		s->c.rejected_good++;
		errno = EINVAL;
		return -1;
	}
	if (r->size > s->lim.max_bytes) {
		set_err(err, errlen, "an event of %u bytes is larger than the whole store (--max-bytes)",
		    r->size);
		free(r);
		s->c.rejected_good++;
		errno = EFBIG;
		return -1;
	}
	r->kind = INS_GOOD;
	r->tstamp_ms = ms;
	if (insert(s, r, now_ms) == -1) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

int
ins_store_add_bad(struct ins_store *s, const char *line, size_t len, int64_t now_ms,
    int64_t wall_ms, char *err, size_t errlen)
{
	struct ins_badrow_meta meta;
	struct ins_rec *r;

	if (len && line[len - 1] == '\r')
		len--;
	buf_reset(&s->pseudo);
	if (ins_badrow_ingest(line, len, wall_ms, &s->pseudo, &meta, err, errlen) == -1) {
		s->c.rejected_bad++;
		errno = EINVAL;
		return -1;
	}
	r = rec_new(line, len, s->pseudo.data, s->pseudo.len, meta.vendor, meta.version);
	if (r == NULL) {
		set_err(err, errlen, "out of memory");
		errno = ENOMEM;
		return -1;
	}
	if (r->size > s->lim.max_bytes) {
		set_err(err, errlen, "a bad row of %u bytes is larger than the whole store (--max-bytes)",
		    r->size);
		free(r);
		s->c.rejected_bad++;
		errno = EFBIG;
		return -1;
	}
	r->kind = INS_BAD;
	r->badtype = (uint8_t)meta.type;
	r->tstamp_ms = meta.tstamp_ms;
	if (insert(s, r, now_ms) == -1) {
		set_err(err, errlen, "out of memory");
		return -1;
	}
	return 0;
}

static int
cmp_time(const void *a, const void *b)
{
	const struct ins_slot *x = a, *y = b;

	if (x->tstamp_ms != y->tstamp_ms)
		return x->tstamp_ms < y->tstamp_ms ? -1 : 1;
	return x->r->seq < y->r->seq ? -1 : x->r->seq > y->r->seq;     /* stable */
}

static void
reverse_slots(struct ins_slot *a, size_t n)
{
	size_t i;

	for (i = 0; i < n / 2; i++) {
		struct ins_slot t = a[i];
		a[i] = a[n - 1 - i];
		a[n - 1 - i] = t;
	}
}

/* In place: no second copy of the index at the moment the store is fullest. */
void
ins_store_sort_by_time(struct ins_store *s)
{
	size_t i;

	if (s->count < 2)
		return;
	if (s->head + s->count > s->cap) {
		/* the ring wraps: rotate it to start at 0 (three reversals) */
		reverse_slots(s->ring, s->head);
		reverse_slots(s->ring + s->head, s->cap - s->head);
		reverse_slots(s->ring, s->cap);
		s->head = 0;
	} else if (s->head) {
		memmove(s->ring, s->ring + s->head, s->count * sizeof(*s->ring));
		s->head = 0;
	}
	qsort(s->ring, s->count, sizeof(*s->ring), cmp_time);
	for (i = 0; i < s->count; i++)
		s->ring[i].r->seq = s->first_seq + i;
	s->generation++;
}

size_t
ins_store_count(const struct ins_store *s)
{
	return s->count;
}

size_t
ins_store_count_kind(const struct ins_store *s, enum ins_kind k)
{
	return s->count_kind[k];
}

size_t
ins_store_bytes(const struct ins_store *s)
{
	return s->bytes;
}

const struct ins_store_counts *
ins_store_counts(const struct ins_store *s)
{
	return &s->c;
}

uint64_t
ins_store_generation(const struct ins_store *s)
{
	return s->generation;
}

uint64_t
ins_store_next_seq(const struct ins_store *s)
{
	return s->next_seq;
}

uint64_t
ins_store_first_seq(const struct ins_store *s)
{
	return s->first_seq;
}

const struct ins_rec *
ins_store_get(const struct ins_store *s, uint64_t seq)
{
	if (seq < s->first_seq || seq >= s->next_seq)
		return NULL;
	return s->ring[(s->head + (size_t)(seq - s->first_seq)) % s->cap].r;
}

const struct ins_rec *
ins_store_at(const struct ins_store *s, size_t i)
{
	return s->ring[(s->head + i) % s->cap].r;
}

const struct ins_slot *
ins_store_slot(const struct ins_store *s, size_t i)
{
	return &s->ring[(s->head + i) % s->cap];
}

const struct ins_slot *
ins_store_slot_seq(const struct ins_store *s, uint64_t seq)
{
	if (seq < s->first_seq || seq >= s->next_seq)
		return NULL;
	return &s->ring[(s->head + (size_t)(seq - s->first_seq)) % s->cap];
}

const char *
ins_rec_vendor(const struct ins_rec *r, size_t *len)
{
	*len = r->vendor_len;
	if (r->kind != INS_BAD)
		return "";
	return ins_rec_tsv(r) + r->tsv_len + 1;
}

const char *
ins_rec_version(const struct ins_rec *r, size_t *len)
{
	*len = r->version_len;
	if (r->kind != INS_BAD)
		return "";
	return ins_rec_tsv(r) + r->tsv_len + 1 + r->vendor_len;
}

/* ---- time ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static int
days_in_month(int y, int m)
{
	static const int dm[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dm[m - 1];
}

/* "YYYY-MM-DD?HH:MM:SS[.f{1,9}]" with sep between date and time; *used: bytes read. */
static int
parse_datetime(const char *s, size_t n, char sep, int64_t *ms, size_t *used)
{
	int y, mo, d, h, mi, sec, frac = 0, fd = 0;
	size_t i = 19;

	if (n < 19 || s[4] != '-' || s[7] != '-' || s[10] != sep || s[13] != ':' || s[16] != ':')
		return -1;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &sec))
		return -1;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || sec > 59)
		return -1;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9' && fd < 9) {
			if (fd < 3)
				frac = frac * 10 + (s[i] - '0');
			fd++;
			i++;
		}
		if (fd == 0)
			return -1;
		while (fd < 3) {
			frac *= 10;
			fd++;
		}
	}
	*ms = ((days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400) + h * 3600 + mi * 60 + sec) *
	    1000 + frac;
	*used = i;
	return 0;
}

int
ins_parse_tsv_time(const char *s, size_t n, int64_t *ms)
{
	size_t used;

	if (parse_datetime(s, n, ' ', ms, &used) == -1 || used != n)
		return -1;
	return 0;
}

int
ins_parse_iso_time(const char *s, size_t n, int64_t *ms)
{
	size_t used;
	int oh, om;

	if (parse_datetime(s, n, 'T', ms, &used) == -1)
		return -1;
	if (used + 1 == n && (s[used] == 'Z' || s[used] == 'z'))
		return 0;
	if (used + 6 == n && (s[used] == '+' || s[used] == '-') && s[used + 3] == ':' &&
	    digits(s + used + 1, 2, &oh) == 0 && digits(s + used + 4, 2, &om) == 0 &&
	    oh < 24 && om < 60) {
		int64_t off = ((int64_t)oh * 60 + om) * 60000;
		*ms += s[used] == '+' ? -off : off;
		return 0;
	}
	return -1;
}
