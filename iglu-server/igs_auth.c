/*
 * igs_auth: API keys and permissions (see igs_auth.h).
 */
#include "igs_auth.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomicfile.h"
#include "buf.h"
#include "uuid.h"

struct igs_key_entry {
	char uuid[IGS_UUID_LEN + 1];
	int  write;
	char vendor[IGS_VENDOR_MAX];    /* as given to keygen: "*" or a prefix */
};

struct igs_keys {
	char *path;
	char super[IGS_UUID_LEN + 1];
	struct igs_key_entry *v;
	size_t n, cap;
};

/* ---------- permissions ---------- */

void
igs_perm_noop(struct igs_perm *p)
{
	memset(p, 0, sizeof(*p));
}

void
igs_perm_super(struct igs_perm *p)
{
	memset(p, 0, sizeof(*p));
	p->wildcard = 1;
	p->schema = IGS_ACT_CREATE_VENDOR;
	p->key_create = p->key_delete = 1;
}

/* Permission.Vendor.parse: "*" or blank is every vendor; else the parts, with wildcard. */
static void
perm_vendor_parse(const char *s, struct igs_perm *p)
{
	const char *b = s, *e = s + strlen(s);

	while (b < e && isspace((unsigned char)*b))
		b++;
	while (e > b && isspace((unsigned char)e[-1]))
		e--;
	p->wildcard = 1;
	if ((e - b == 1 && *b == '*') || e == b)
		p->vendor[0] = '\0';
	else
		snprintf(p->vendor, sizeof(p->vendor), "%s", s);
}

/* Vendor.check: the wildcard vendor allows all; equal parts allow; a prefix of whole parts
 * allows when the permission is a wildcard. Parts are compared whole: "com.acme" does not
 * cover "com.acmex". Splitting on "." as Java's split does drops trailing empty parts. */
int
igs_perm_vendor_check(const struct igs_perm *p, const char *vendor)
{
	size_t n = strlen(p->vendor), m = strlen(vendor);

	while (m > 0 && vendor[m - 1] == '.')
		m--;            /* "com.acme." splits like "com.acme" */
	if (n == 0)
		return p->wildcard;
	if (n == m && memcmp(p->vendor, vendor, n) == 0)
		return 1;
	return p->wildcard && m > n && memcmp(p->vendor, vendor, n) == 0 && vendor[n] == '.';
}

int
igs_perm_can_read(const struct igs_perm *p, const char *vendor)
{
	if (p->schema == IGS_ACT_NONE && !p->key_create && !p->key_delete)
		return 0;
	return igs_perm_vendor_check(p, vendor);
}

int
igs_perm_can_create_schema(const struct igs_perm *p, const char *vendor)
{
	if (p->schema != IGS_ACT_NONE && p->schema != IGS_ACT_READ)
		return igs_perm_vendor_check(p, vendor);
	if (p->key_create || p->key_delete)
		return igs_perm_vendor_check(p, vendor);
	return 0;
}

int
igs_perm_can_create_key(const struct igs_perm *p, const char *vendor)
{
	return p->key_create && igs_perm_vendor_check(p, vendor);
}

int
igs_perm_can_validate(const struct igs_perm *p)
{
	return p->schema != IGS_ACT_NONE || p->key_create || p->key_delete;
}

json_t *
igs_perm_json(const struct igs_perm *p)
{
	static const char *names[] = { NULL, "READ", "BUMP", "CREATE", "CREATE_VENDOR" };
	json_t *keys = json_array();

	if (p->key_create)
		json_array_append_new(keys, json_string("CREATE"));
	if (p->key_delete)
		json_array_append_new(keys, json_string("DELETE"));
	return json_pack("{s:s, s:o, s:o}", "vendor", p->vendor,
	    "schema", p->schema == IGS_ACT_NONE ? json_null() : json_string(names[p->schema]),
	    "key", keys);
}

/* ---------- UUIDs ---------- */

int
igs_uuid_parse(const char *s, size_t len, char out[IGS_UUID_LEN + 1])
{
	static const size_t width[5] = { 8, 4, 4, 4, 12 };
	size_t g = 0, i = 0, o = 0;

	if (len == 0 || len > IGS_UUID_LEN)
		return -1;
	for (g = 0; g < 5; g++) {
		size_t start = i, digits;

		while (i < len && s[i] != '-') {
			if (!isxdigit((unsigned char)s[i]))
				return -1;
			i++;
		}
		digits = i - start;
		if (digits == 0 || digits > width[g])
			return -1;
		/* left-pad the group with zeros, as Long.parseLong then the bit layout does */
		memset(out + o, '0', width[g] - digits);
		o += width[g] - digits;
		for (; start < i; start++)
			out[o++] = (char)tolower((unsigned char)s[start]);
		if (g < 4) {
			if (i >= len)
				return -1;
			out[o++] = '-';
			i++;
		}
	}
	if (i != len)
		return -1;
	out[o] = '\0';
	return 0;
}

/* ---------- the keys file ---------- */

static int
keys_add(struct igs_keys *k, const char *uuid, int write, const char *vendor)
{
	if (k->n == k->cap) {
		size_t ncap = k->cap ? k->cap * 2 : 16;
		struct igs_key_entry *nv = realloc(k->v, ncap * sizeof(*nv));

		if (nv == NULL)
			return -1;
		k->v = nv;
		k->cap = ncap;
	}
	memcpy(k->v[k->n].uuid, uuid, IGS_UUID_LEN + 1);
	k->v[k->n].write = write;
	snprintf(k->v[k->n].vendor, sizeof(k->v[k->n].vendor), "%s", vendor);
	k->n++;
	return 0;
}

static int
keys_save(const struct igs_keys *k, char *err, size_t errlen)
{
	struct buf b;
	size_t i;
	int rc;

	if (k->path == NULL)
		return 0;
	buf_init(&b, 0);
	buf_append_str(&b, "# iglu-server API keys: <uuid> read|write <vendor prefix, * for all>\n");
	for (i = 0; i < k->n; i++)
		if (buf_printf(&b, "%s %s %s\n", k->v[i].uuid, k->v[i].write ? "write" : "read",
		    k->v[i].vendor[0] ? k->v[i].vendor : "*") < 0) {
			buf_free(&b);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	rc = atomicfile_write(k->path, b.data, b.len, 0600, err, errlen);
	buf_free(&b);
	return rc;
}

struct igs_keys *
igs_keys_open(const char *path, char *err, size_t errlen)
{
	struct igs_keys *k = calloc(1, sizeof(*k));
	FILE *f;
	char line[512];
	unsigned lineno = 0;

	if (k == NULL || (path != NULL && (k->path = strdup(path)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (path == NULL)
		return k;
	f = fopen(path, "r");
	if (f == NULL) {
		if (errno == ENOENT)
			return k;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		char id[64], kind[16], vendor[IGS_VENDOR_MAX], canon[IGS_UUID_LEN + 1];
		char *p = line;

		lineno++;
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		if (sscanf(p, "%63s %15s %127s", id, kind, vendor) != 3 ||
		    igs_uuid_parse(id, strlen(id), canon) < 0 ||
		    (strcmp(kind, "read") != 0 && strcmp(kind, "write") != 0)) {
			snprintf(err, errlen, "%s: line %u: expected \"<uuid> read|write <vendor prefix>\"",
			    path, lineno);
			fclose(f);
			goto fail;
		}
		if (k->n >= IGS_KEYS_MAX || keys_add(k, canon, kind[0] == 'w',
		    strcmp(vendor, "*") == 0 ? "" : vendor) < 0) {
			snprintf(err, errlen, "%s: too many keys", path);
			fclose(f);
			goto fail;
		}
	}
	fclose(f);
	return k;
fail:
	igs_keys_free(k);
	return NULL;
}

void
igs_keys_free(struct igs_keys *k)
{
	if (k == NULL)
		return;
	free(k->path);
	free(k->v);
	free(k);
}

int
igs_keys_set_super(struct igs_keys *k, const char *uuid)
{
	return igs_uuid_parse(uuid, strlen(uuid), k->super);
}

int
igs_keys_have_super(const struct igs_keys *k)
{
	return k->super[0] != '\0';
}

size_t
igs_keys_count(const struct igs_keys *k)
{
	return k->n;
}

void
igs_keys_lookup(const struct igs_keys *k, const char *uuid, struct igs_perm *out)
{
	size_t i;

	igs_perm_noop(out);
	if (k->super[0] != '\0' && strcmp(uuid, k->super) == 0) {
		igs_perm_super(out);
		return;
	}
	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i].uuid, uuid) == 0) {
			/* Storage.addKeyPair: ReadOnlyAny or Write, narrowed to the vendor */
			perm_vendor_parse(k->v[i].vendor, out);
			out->schema = k->v[i].write ? IGS_ACT_CREATE_VENDOR : IGS_ACT_READ;
			return;
		}
}

int
igs_keys_generate(struct igs_keys *k, const char *vendor_prefix,
    char read[IGS_UUID_LEN + 1], char write[IGS_UUID_LEN + 1], char *err, size_t errlen)
{
	struct igs_perm tmp;

	if (k->n + 2 > IGS_KEYS_MAX) {
		snprintf(err, errlen, "too many keys (%d)", IGS_KEYS_MAX);
		return -1;
	}
	perm_vendor_parse(vendor_prefix, &tmp);
	if (strlen(vendor_prefix) >= IGS_VENDOR_MAX || strpbrk(vendor_prefix, " \t\r\n") != NULL) {
		snprintf(err, errlen, "vendor prefix is too long or has blanks");
		return -1;
	}
	if (uuid_v4(read) < 0 || uuid_v4(write) < 0) {
		snprintf(err, errlen, "no random numbers: %s", strerror(errno));
		return -1;
	}
	if (keys_add(k, read, 0, tmp.vendor) < 0 || keys_add(k, write, 1, tmp.vendor) < 0) {
		if (k->n > 0 && strcmp(k->v[k->n - 1].uuid, read) == 0)
			k->n--;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (keys_save(k, err, errlen) < 0) {
		k->n -= 2;
		return -1;
	}
	return 0;
}

int
igs_keys_delete(struct igs_keys *k, const char *uuid, char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		if (strcmp(k->v[i].uuid, uuid) == 0) {
			struct igs_key_entry gone = k->v[i];

			memmove(&k->v[i], &k->v[i + 1], (k->n - i - 1) * sizeof(*k->v));
			k->n--;
			if (keys_save(k, err, errlen) < 0) {
				/* put it back where it was: memory and file stay the same */
				memmove(&k->v[i + 1], &k->v[i], (k->n - i) * sizeof(*k->v));
				k->v[i] = gone;
				k->n++;
				return -1;
			}
			return 0;
		}
	return 0;
}

int
igs_keys_read_super_file(const char *path, int create, char out[IGS_UUID_LEN + 1],
    int *created, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char line[128];
	size_t n;

	*created = 0;
	if (f == NULL && errno == ENOENT && create) {
		char fresh[IGS_UUID_LEN + 2];

		if (uuid_v4(fresh) < 0) {
			snprintf(err, errlen, "no random numbers: %s", strerror(errno));
			return -1;
		}
		memcpy(out, fresh, IGS_UUID_LEN + 1);
		fresh[IGS_UUID_LEN] = '\n';
		if (atomicfile_write(path, fresh, IGS_UUID_LEN + 1, 0600, err, errlen) < 0)
			return -1;
		*created = 1;
		return 0;
	}
	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fgets(line, sizeof(line), f) == NULL)
		line[0] = '\0';
	fclose(f);
	n = strcspn(line, "\r\n");
	if (igs_uuid_parse(line, n, out) < 0) {
		snprintf(err, errlen, "%s: the first line is not a UUID", path);
		return -1;
	}
	return 0;
}
