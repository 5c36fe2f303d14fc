/*
 * igs_store: schemas as files, with Iglu Server's publishing rules (see igs_store.h).
 */
#include "igs_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomicfile.h"
#include "buf.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "timefmt.h"

#define IGS_STORE_BUCKETS   4096
#define IGS_STORE_MAX_DEPTH 1000     /* JSON nesting read from a file */

struct igs_ident {
	int      present;
	dev_t    dev;
	ino_t    ino;
	off_t    size;
	int64_t  mtime_ns;
};

struct igs_entry {
	struct igs_schema s;
	char             *ckey;
	struct buf        text;
	struct igs_ident  file, meta;
	size_t            bytes;
	struct igs_entry *hnext;
};

struct igs_store {
	char             *dir, *schemas, *metas;
	int               lock_fd;
	int               schemas_fd, metas_fd;   /* reads walk paths relative to these */
	struct igs_entry *buckets[IGS_STORE_BUCKETS];
	size_t            cached_bytes;
	struct buf        io;
};

/* ---------- keys and paths ---------- */

static int
seg_chars_ok(const char *s, int dots, size_t max)
{
	size_t n = strlen(s), i;

	if (n == 0 || n >= max)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '-' || c == '_' || (dots && c == '.')))
			return 0;
	}
	/* the vendor grammar allows "." and "..": they would name a folder above the store */
	return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

int
igs_store_key(const char *vendor, const char *name, const char *format, const char *version,
    struct iglu_key *key, const char **code)
{
	char uri[600];

	*code = "INVALID_IGLUURI";
	if (!seg_chars_ok(vendor, 1, sizeof(key->vendor)) ||
	    !seg_chars_ok(name, 0, sizeof(key->name)) ||
	    !seg_chars_ok(format, 0, sizeof(key->format)) || strlen(version) > 40)
		return -1;
	snprintf(uri, sizeof(uri), "iglu:%s/%s/%s/%s", vendor, name, format, version);
	return iglu_key_parse(uri, key, code);
}

static char *
put_int(char *o, int v)
{
	char tmp[12];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) > 0);
	while (n > 0)
		*o++ = tmp[--n];
	return o;
}

/* No snprintf: this runs for every GET. The key's fields are bounded (struct iglu_key), and
 * 512 bytes hold the longest. */
void
igs_store_path_of(const struct iglu_key *k, char *out, size_t outlen)
{
	size_t lv = strlen(k->vendor), ln = strlen(k->name), lf = strlen(k->format);
	char *o = out;

	if (outlen < lv + ln + lf + 3 * 12 + 6) {
		out[0] = '\0';
		return;
	}
	memcpy(o, k->vendor, lv);
	o += lv;
	*o++ = '/';
	memcpy(o, k->name, ln);
	o += ln;
	*o++ = '/';
	memcpy(o, k->format, lf);
	o += lf;
	*o++ = '/';
	o = put_int(o, k->model);
	*o++ = '-';
	o = put_int(o, k->revision);
	*o++ = '-';
	o = put_int(o, k->addition);
	*o = '\0';
}

static int
full_path(const struct igs_store *s, int meta, const struct iglu_key *k, char *out, size_t outlen)
{
	char rel[512];
	int n;

	igs_store_path_of(k, rel, sizeof(rel));
	n = snprintf(out, outlen, "%s/%s", meta ? s->metas : s->schemas, rel);
	return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

const char *
igs_store_schemas_dir(const struct igs_store *s)
{
	return s->schemas;
}

/* ---------- the cache ---------- */

static size_t
hash_str(const char *p)
{
	size_t h = 1469598103934665603ULL;

	while (*p)
		h = (h ^ (unsigned char)*p++) * 1099511628211ULL;
	return h;
}

static void
entry_free(struct igs_entry *e)
{
	json_decref(e->s.doc);
	buf_free(&e->text);
	free(e->ckey);
	free(e);
}

static void
cache_clear(struct igs_store *s)
{
	size_t i;

	for (i = 0; i < IGS_STORE_BUCKETS; i++)
		while (s->buckets[i] != NULL) {
			struct igs_entry *e = s->buckets[i];

			s->buckets[i] = e->hnext;
			entry_free(e);
		}
	s->cached_bytes = 0;
}

static struct igs_entry **
cache_slot(struct igs_store *s, const char *ckey)
{
	struct igs_entry **pp = &s->buckets[hash_str(ckey) % IGS_STORE_BUCKETS];

	while (*pp != NULL && strcmp((*pp)->ckey, ckey) != 0)
		pp = &(*pp)->hnext;
	return pp;
}

static void
cache_drop(struct igs_store *s, const char *ckey)
{
	struct igs_entry **pp = cache_slot(s, ckey), *e = *pp;

	if (e == NULL)
		return;
	*pp = e->hnext;
	s->cached_bytes -= e->bytes;
	entry_free(e);
}

/* ---------- reading ---------- */

static int
ident_of(int dirfd, const char *path, struct igs_ident *id)
{
	struct stat st;

	memset(id, 0, sizeof(*id));
	if (fstatat(dirfd, path, &st, 0) < 0)
		return errno == ENOENT || errno == ENOTDIR ? 0 : -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	id->present = 1;
	id->dev = st.st_dev;
	id->ino = st.st_ino;
	id->size = st.st_size;
	id->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
	return 0;
}

static int
ident_eq(const struct igs_ident *a, const struct igs_ident *b)
{
	return a->present == b->present && a->dev == b->dev && a->ino == b->ino &&
	    a->size == b->size && a->mtime_ns == b->mtime_ns;
}

/* Read a JSON file (at most IGS_STORE_MAX_SCHEMA_BYTES). NULL with err. */
static json_t *
read_json(struct igs_store *s, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	char tmp[8192];
	size_t n;
	json_error_t je;
	json_t *j;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	buf_reset(&s->io);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		if (s->io.len + n > IGS_STORE_MAX_SCHEMA_BYTES || buf_append(&s->io, tmp, n) < 0) {
			fclose(f);
			snprintf(err, errlen, "%s: larger than %u bytes", path, IGS_STORE_MAX_SCHEMA_BYTES);
			return NULL;
		}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		fclose(f);
		return NULL;
	}
	fclose(f);
	j = jsonschema_json_loadb(s->io.data ? s->io.data : "", s->io.len, 0, IGS_STORE_MAX_DEPTH,
	    &je);
	if (j == NULL || !json_is_object(j)) {
		snprintf(err, errlen, "%s: not a JSON object%s%s", path, j ? "" : ": ", j ? "" : je.text);
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The canonical document Iglu Server answers for a schema (Schema.Repr.Canonical and
 * orderedSchema): "$schema", "$supersededBy", "$supersedes", "self", then the body's keys. */
static json_t *
canonical_doc(const struct iglu_key *k, const json_t *file)
{
	json_t *doc = json_object(), *v;
	const char *name;
	char ver[40];

	if (doc == NULL)
		return NULL;
	snprintf(ver, sizeof(ver), "%d-%d-%d", k->model, k->revision, k->addition);
	json_object_set_new(doc, "$schema", json_string(IGS_SELFDESC_URI));
	if (json_is_string(v = json_object_get(file, "$supersededBy")))
		json_object_set(doc, "$supersededBy", v);
	if (json_is_array(v = json_object_get(file, "$supersedes")) && json_array_size(v) > 0)
		json_object_set(doc, "$supersedes", v);
	json_object_set_new(doc, "self", json_pack("{s:s, s:s, s:s, s:s}", "vendor", k->vendor,
	    "name", k->name, "format", k->format, "version", ver));
	json_object_foreach((json_t *)file, name, v)
		if (strcmp(name, "$schema") != 0 && strcmp(name, "self") != 0 &&
		    strcmp(name, "$supersededBy") != 0 && strcmp(name, "$supersedes") != 0)
			json_object_set(doc, name, v);
	return doc;
}

/* "2024-05-01T10:00:00.123Z" (timefmt_instant's form) into ms; leaves *ms alone otherwise. */
static void
parse_instant(const char *t, int64_t *ms)
{
	struct tm tm;
	unsigned frac = 0;
	int n = 0;

	if (t == NULL)
		return;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	    &tm.tm_min, &tm.tm_sec, &n) != 6)
		return;
	if (t[n] == '.')
		sscanf(t + n + 1, "%3u", &frac);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
}

static void
meta_of(struct igs_store *s, const char *path, const struct igs_ident *file,
    const struct igs_ident *mid, struct igs_meta *m)
{
	json_t *j;
	char err[64];

	m->is_public = 1;
	m->created_ms = m->updated_ms = file->mtime_ns / 1000000;
	if (!mid->present || (j = read_json(s, path, err, sizeof(err))) == NULL)
		return;
	m->is_public = json_is_true(json_object_get(j, "isPublic"));
	parse_instant(json_string_value(json_object_get(j, "createdAt")), &m->created_ms);
	parse_instant(json_string_value(json_object_get(j, "updatedAt")), &m->updated_ms);
	json_decref(j);
}

int
igs_store_get(struct igs_store *s, const struct iglu_key *k, const struct igs_schema **out,
    char *err, size_t errlen)
{
	char ckey[512], path[PATH_MAX], mpath[PATH_MAX];
	struct igs_ident file, mid;
	struct igs_entry **pp, *e;
	json_t *raw;

	igs_store_path_of(k, ckey, sizeof(ckey));
	if (ckey[0] == '\0')
		return 0;
	if (ident_of(s->schemas_fd, ckey, &file) < 0) {
		snprintf(err, errlen, "%s/%s: %s", s->schemas, ckey, strerror(errno));
		return -1;
	}
	pp = cache_slot(s, ckey);
	if (!file.present) {
		if (*pp != NULL)
			cache_drop(s, ckey);
		return 0;
	}
	/* The metadata file is written before its schema file (igs_store_publish), so a schema
	 * file that did not change means metadata that did not either: one stat per read. */
	if ((e = *pp) != NULL && ident_eq(&e->file, &file)) {
		*out = &e->s;
		return 1;
	}
	if (e != NULL)
		cache_drop(s, ckey);
	if (full_path(s, 0, k, path, sizeof(path)) < 0 || full_path(s, 1, k, mpath, sizeof(mpath)) < 0)
		return 0;
	if (ident_of(s->metas_fd, ckey, &mid) < 0)
		mid.present = 0;
	raw = read_json(s, path, err, errlen);
	if (raw == NULL)
		return -1;
	if (s->cached_bytes > IGS_STORE_CACHE_MAX_BYTES)
		cache_clear(s);
	e = calloc(1, sizeof(*e));
	if (e == NULL || (e->ckey = strdup(ckey)) == NULL ||
	    (e->s.doc = canonical_doc(k, raw)) == NULL) {
		json_decref(raw);
		if (e != NULL)
			entry_free(e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_decref(raw);
	buf_init(&e->text, 0);
	if (jsonw_value(&e->text, e->s.doc) < 0) {
		entry_free(e);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	e->s.key = *k;
	e->s.text = e->text.data;
	e->s.text_len = e->text.len;
	e->file = file;
	e->meta = mid;
	meta_of(s, mpath, &file, &mid, &e->s.meta);
	e->bytes = e->text.len * 3 + sizeof(*e);   /* the text and, roughly, its jansson tree */
	pp = cache_slot(s, ckey);
	e->hnext = *pp;
	*pp = e;
	s->cached_bytes += e->bytes;
	*out = &e->s;
	return 1;
}

/* ---------- listing ---------- */

struct keyvec {
	struct iglu_key *v;
	size_t n, cap;
};

static int
keyvec_push(struct keyvec *kv, const struct iglu_key *k)
{
	if (kv->n == kv->cap) {
		size_t ncap = kv->cap ? kv->cap * 2 : 64;
		struct iglu_key *nv = realloc(kv->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		kv->v = nv;
		kv->cap = ncap;
	}
	kv->v[kv->n++] = *k;
	return 0;
}

static int
key_cmp(const void *a, const void *b)
{
	const struct iglu_key *x = a, *y = b;
	int c;

	if ((c = strcmp(x->vendor, y->vendor)) != 0 || (c = strcmp(x->name, y->name)) != 0 ||
	    (c = strcmp(x->format, y->format)) != 0)
		return c;
	if (x->model != y->model)
		return x->model < y->model ? -1 : 1;
	if (x->revision != y->revision)
		return x->revision < y->revision ? -1 : 1;
	return x->addition < y->addition ? -1 : x->addition > y->addition;
}

/* Names in dir (folders or files), or only want when given and present. */
static int
walk_level(const char *dir, const char *want, int (*cb)(const char *, void *), void *arg)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (want != NULL)
		return cb(want, arg);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (rc == 0 && (de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			rc = cb(de->d_name, arg);
	closedir(d);
	return rc;
}

struct walk {
	struct igs_store *s;
	const char *want[3];
	int model;
	char part[4][256];
	int level;
	struct keyvec kv;
};

static int
walk_cb(const char *name, void *arg)
{
	struct walk *w = arg;
	char dir[PATH_MAX];
	struct iglu_key k;
	const char *code;
	int rc;

	if (strlen(name) >= sizeof(w->part[0]))
		return 0;
	snprintf(w->part[w->level], sizeof(w->part[0]), "%s", name);
	if (w->level == 3) {
		if (igs_store_key(w->part[0], w->part[1], w->part[2], w->part[3], &k, &code) < 0 ||
		    (w->model > 0 && k.model != w->model))
			return 0;
		if (w->kv.n >= IGS_STORE_LIST_MAX)
			return 1;
		return keyvec_push(&w->kv, &k) < 0 ? -1 : 0;
	}
	if (!seg_chars_ok(name, w->level == 0, 128))
		return 0;
	switch (w->level) {
	case 0: snprintf(dir, sizeof(dir), "%s/%s", w->s->schemas, w->part[0]); break;
	case 1: snprintf(dir, sizeof(dir), "%s/%s/%s", w->s->schemas, w->part[0], w->part[1]); break;
	default: snprintf(dir, sizeof(dir), "%s/%s/%s/%s", w->s->schemas, w->part[0], w->part[1],
	    w->part[2]); break;
	}
	w->level++;
	rc = walk_level(dir, w->level < 3 ? w->want[w->level] : NULL, walk_cb, w);
	w->level--;
	return rc;
}

long
igs_store_list(struct igs_store *s, const char *vendor, const char *name, const char *format,
    int model, struct iglu_key **keys)
{
	struct walk w;
	int rc;

	memset(&w, 0, sizeof(w));
	w.s = s;
	w.want[0] = vendor;
	w.want[1] = name;
	w.want[2] = format;
	w.model = model;
	rc = walk_level(s->schemas, vendor, walk_cb, &w);
	if (rc < 0) {
		free(w.kv.v);
		return -1;
	}
	if (w.kv.n > 1)
		qsort(w.kv.v, w.kv.n, sizeof(*w.kv.v), key_cmp);
	*keys = w.kv.v;
	return (long)w.kv.n;
}

/* ---------- publishing (VersionCursor.scala) ---------- */

static int
ver_cmp3(int m1, int r1, int a1, int m2, int r2, int a2)
{
	if (m1 != m2)
		return m1 < m2 ? -1 : 1;
	if (r1 != r2)
		return r1 < r2 ? -1 : 1;
	return a1 < a2 ? -1 : a1 > a2;
}

#define INCONS_PREVIOUS_MISSING \
	"Preceding SchemaVer in the group is missing, check that schemas published in proper order"
#define INCONS_NEXT_REVISION "The schema version is not sequential"
#define INCONS_ALREADY_EXISTS "Schema already exists"
#define INCONS_SUPERSEDED_MISSING "Superseded schema version(s) do not exist"
#define INCONS_SUPERSEDED_INVALID \
	"Superseded schema version(s) must be below the superseding version"

/* VersionCursor.isVersionAllowed: NULL when version k may join existing[0..n). */
static const char *
version_allowed(const struct iglu_key *k, const struct iglu_key *ex, size_t n)
{
	size_t i;
	int sequential = 0, next_revision = 0, found = 0;

	if (k->model == 1 && k->revision == 0 && k->addition == 0)
		return NULL;                                    /* Initial */
	if (k->revision == 0 && k->addition == 0) {             /* StartModel */
		for (i = 0; i < n; i++)
			found |= ex[i].model == k->model - 1;
		return found ? NULL : INCONS_PREVIOUS_MISSING;
	}
	if (k->addition == 0) {                                 /* StartRevision */
		for (i = 0; i < n; i++)
			found |= ex[i].model == k->model && ex[i].revision == k->revision - 1;
		return found ? NULL : INCONS_PREVIOUS_MISSING;
	}
	for (i = 0; i < n; i++) {                               /* NonInitial */
		if (ex[i].model != k->model)
			continue;
		next_revision |= ex[i].revision == k->revision + 1;
		sequential |= ex[i].revision == k->revision && ex[i].addition == k->addition - 1;
	}
	if (next_revision)
		return INCONS_NEXT_REVISION;
	return sequential ? NULL : INCONS_PREVIOUS_MISSING;
}

static int
parse_ver(const char *v, int *m, int *r, int *a)
{
	struct iglu_key k;
	const char *code;

	if (v == NULL || igs_store_key("x", "x", "x", v, &k, &code) < 0)
		return -1;
	*m = k.model;
	*r = k.revision;
	*a = k.addition;
	return 0;
}

static int
write_doc(const char *path, const json_t *doc, char *err, size_t errlen)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	if (jsonw_pretty(&b, doc, 2) < 0 || buf_append_byte(&b, '\n') < 0) {
		buf_free(&b);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = atomicfile_write(path, b.data, b.len, 0644, err, errlen);
	buf_free(&b);
	return rc;
}

static int
ensure_parent(const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');

	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path);
	return atomicfile_mkdirs(dir, 0755, err, errlen);
}

/* Set "$supersededBy" on one stored schema (InMemory.updateSupersedingVersion: the greater of
 * the stored one and by). */
static int
set_superseded_by(struct igs_store *s, const struct iglu_key *k, const struct iglu_key *by,
    char *err, size_t errlen)
{
	const struct igs_schema *cur;
	char path[PATH_MAX], ver[40];
	int m, r, a, rc;
	json_t *doc;

	if (igs_store_get(s, k, &cur, err, errlen) != 1)
		return -1;
	if (parse_ver(json_string_value(json_object_get(cur->doc, "$supersededBy")), &m, &r, &a) == 0 &&
	    ver_cmp3(m, r, a, by->model, by->revision, by->addition) >= 0)
		return 0;
	snprintf(ver, sizeof(ver), "%d-%d-%d", by->model, by->revision, by->addition);
	doc = json_deep_copy(cur->doc);
	json_object_set_new(doc, "$supersededBy", json_string(ver));
	full_path(s, 0, k, path, sizeof(path));
	rc = write_doc(path, doc, err, errlen);
	json_decref(doc);
	return rc;
}

static int
write_meta(const char *mpath, const struct igs_meta *m, char *err, size_t errlen)
{
	char c[TIMEFMT_BUFSZ], u[TIMEFMT_BUFSZ];
	json_t *j;
	int rc;

	timefmt_instant(m->created_ms, c);
	timefmt_instant(m->updated_ms, u);
	j = json_pack("{s:s, s:s, s:b}", "createdAt", c, "updatedAt", u, "isPublic", m->is_public);
	if (j == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = ensure_parent(mpath, err, errlen) < 0 ? -1 : write_doc(mpath, j, err, errlen);
	json_decref(j);
	return rc;
}

static int
publish_locked(struct igs_store *s, const struct igs_publish *p, char *msg, size_t msglen)
{
	const struct iglu_key *k = p->key;
	struct iglu_key *ex = NULL, *sup = NULL;
	const struct igs_schema *cur;
	struct igs_meta meta;
	char path[PATH_MAX], mpath[PATH_MAX];
	size_t i, j, n_sup = json_array_size(p->supersedes);
	long n;
	int all_public = 1, exists = 0, status = 500;
	json_t *file = NULL, *v;
	const char *bad, *name;

	n = igs_store_list(s, k->vendor, k->name, NULL, 0, &ex);
	if (n < 0) {
		snprintf(msg, msglen, "out of memory");
		return 500;
	}
	for (i = 0; i < (size_t)n; i++) {
		int got = igs_store_get(s, &ex[i], &cur, msg, msglen);

		if (got < 0)
			goto out;
		if (got == 1 && !cur->meta.is_public)
			all_public = 0;
		if (key_cmp(&ex[i], k) == 0)
			exists = 1;
	}
	/* SchemaService.isSchemaAllowed: one visibility per vendor/name */
	if (n > 0 && p->is_public != all_public) {
		snprintf(msg, msglen, "Inconsistent schema availability. Cannot add %s schema, previous "
		    "versions are %s", p->is_public ? "public" : "private", all_public ? "public" : "private");
		status = 409;
		goto out;
	}
	/* VersionCursor.isAllowed; versions of every format count, as upstream's query does */
	for (i = 0; i < (size_t)n; i++)
		if (ex[i].model == k->model && ex[i].revision == k->revision &&
		    ex[i].addition == k->addition && !p->allow_patches) {
			snprintf(msg, msglen, INCONS_ALREADY_EXISTS);
			status = 409;
			goto out;
		}
	if ((bad = version_allowed(k, ex, (size_t)n)) != NULL) {
		snprintf(msg, msglen, "%s", bad);
		status = 409;
		goto out;
	}
	if (n_sup > 0 && (sup = calloc(n_sup, sizeof(*sup))) == NULL) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	for (i = 0; i < n_sup; i++) {
		int m, r, a, found = 0;

		if (parse_ver(json_string_value(json_array_get(p->supersedes, i)), &m, &r, &a) < 0) {
			snprintf(msg, msglen, INCONS_SUPERSEDED_MISSING);
			status = 409;
			goto out;
		}
		for (j = 0; j < (size_t)n; j++)
			found |= ver_cmp3(ex[j].model, ex[j].revision, ex[j].addition, m, r, a) == 0;
		if (!found) {
			snprintf(msg, msglen, INCONS_SUPERSEDED_MISSING);
			status = 409;
			goto out;
		}
		sup[i] = *k;
		sup[i].model = m;
		sup[i].revision = r;
		sup[i].addition = a;
	}
	for (i = 0; i < n_sup; i++)
		if (ver_cmp3(sup[i].model, sup[i].revision, sup[i].addition, k->model, k->revision,
		    k->addition) > 0) {
			snprintf(msg, msglen, INCONS_SUPERSEDED_INVALID);
			status = 409;
			goto out;
		}
	/* the file: $supersedes (when given), then the body; canonical_doc orders it on reads */
	file = json_object();
	if (n_sup > 0)
		json_object_set(file, "$supersedes", (json_t *)p->supersedes);
	json_object_foreach((json_t *)p->body, name, v)
		json_object_set(file, name, v);
	{
		json_t *doc = canonical_doc(k, file);

		json_decref(file);
		file = doc;
	}
	meta.is_public = p->is_public;
	meta.created_ms = meta.updated_ms = p->now_ms;
	if (exists && igs_store_get(s, k, &cur, msg, msglen) == 1)
		meta.created_ms = cur->meta.created_ms;
	if (file == NULL || full_path(s, 0, k, path, sizeof(path)) < 0 ||
	    full_path(s, 1, k, mpath, sizeof(mpath)) < 0) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	/* metadata first: a crash between the two leaves an unused metadata file, never a
	 * schema published with the wrong visibility */
	if (write_meta(mpath, &meta, msg, msglen) < 0 || ensure_parent(path, msg, msglen) < 0 ||
	    write_doc(path, file, msg, msglen) < 0)
		goto out;
	/* $supersedes: each superseded version, and those they superseded, now point here */
	for (i = 0; i < (size_t)n; i++) {
		int m, r, a, hit = 0;

		if (strcmp(ex[i].format, k->format) != 0 || igs_store_get(s, &ex[i], &cur, msg, msglen) != 1)
			continue;
		for (j = 0; j < n_sup; j++)
			hit |= key_cmp(&sup[j], &ex[i]) == 0;
		if (!hit && parse_ver(json_string_value(json_object_get(cur->doc, "$supersededBy")),
		    &m, &r, &a) == 0)
			for (j = 0; j < n_sup; j++)
				hit |= ver_cmp3(sup[j].model, sup[j].revision, sup[j].addition, m, r, a) == 0;
		if (hit && set_superseded_by(s, &ex[i], k, msg, msglen) < 0)
			goto out;
	}
	status = exists ? 200 : 201;
out:
	json_decref(file);
	free(ex);
	free(sup);
	return status;
}

int
igs_store_publish(struct igs_store *s, const struct igs_publish *p, char *msg, size_t msglen)
{
	int status;

	msg[0] = '\0';
	if (flock(s->lock_fd, LOCK_EX) < 0) {
		snprintf(msg, msglen, "%s: lock: %s", s->dir, strerror(errno));
		return 500;
	}
	status = publish_locked(s, p, msg, msglen);
	flock(s->lock_fd, LOCK_UN);
	return status;
}

int
igs_store_delete(struct igs_store *s, const struct iglu_key *k, char *err, size_t errlen)
{
	char path[PATH_MAX], mpath[PATH_MAX], ckey[512];
	int rc = 0;

	if (full_path(s, 0, k, path, sizeof(path)) < 0 || full_path(s, 1, k, mpath, sizeof(mpath)) < 0)
		return 0;
	if (flock(s->lock_fd, LOCK_EX) < 0) {
		snprintf(err, errlen, "%s: lock: %s", s->dir, strerror(errno));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT && errno != ENOTDIR) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = -1;
	} else {
		atomicfile_sync_parent(path);
		if (unlink(mpath) == 0)
			atomicfile_sync_parent(mpath);
	}
	flock(s->lock_fd, LOCK_UN);
	igs_store_path_of(k, ckey, sizeof(ckey));
	cache_drop(s, ckey);
	return rc;
}

/* ---------- opening ---------- */

/* Remove what a crash left: the temporaries of atomicfile, anywhere in the tree. */
static void
remove_temps(const char *dir, int depth)
{
	DIR *d;
	struct dirent *de;
	char path[PATH_MAX];

	if (depth > 4 || (d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (atomicfile_is_temp(de->d_name))
			unlink(path);
		else if (de->d_name[0] != '.' && (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN))
			remove_temps(path, depth + 1);
	}
	closedir(d);
}

struct igs_store *
igs_store_open(const char *dir, char *err, size_t errlen)
{
	struct igs_store *s = calloc(1, sizeof(*s));
	size_t n = strlen(dir);

	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->lock_fd = s->schemas_fd = s->metas_fd = -1;
	buf_init(&s->io, IGS_STORE_MAX_SCHEMA_BYTES + 1);
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if ((s->dir = strndup(dir, n)) == NULL ||
	    asprintf(&s->schemas, "%s/schemas", s->dir) < 0 ||
	    asprintf(&s->metas, "%s/meta", s->dir) < 0) {
		s->schemas = s->metas = NULL;
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (atomicfile_mkdirs(s->schemas, 0755, err, errlen) < 0 ||
	    atomicfile_mkdirs(s->metas, 0755, err, errlen) < 0)
		goto fail;
	s->lock_fd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->schemas_fd = open(s->schemas, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	s->metas_fd = open(s->metas, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s->lock_fd < 0 || s->schemas_fd < 0 || s->metas_fd < 0) {
		snprintf(err, errlen, "%s: %s", s->dir, strerror(errno));
		goto fail;
	}
	if (flock(s->lock_fd, LOCK_EX) == 0) {
		remove_temps(s->schemas, 0);
		remove_temps(s->metas, 0);
		flock(s->lock_fd, LOCK_UN);
	}
	return s;
fail:
	igs_store_free(s);
	return NULL;
}

void
igs_store_free(struct igs_store *s)
{
	if (s == NULL)
		return;
	cache_clear(s);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	if (s->schemas_fd >= 0)
		close(s->schemas_fd);
	if (s->metas_fd >= 0)
		close(s->metas_fd);
	buf_free(&s->io);
	free(s->dir);
	free(s->schemas);
	free(s->metas);
	free(s);
}
