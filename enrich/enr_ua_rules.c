/*
 * enr_ua_rules: the two readers of a uap-core rules file (see enr_ua_rules.h).
 *
 * The scan accepts, line by line: blank lines; comment lines (any indentation); a top-level key
 * at column 0 ("name:", a comment may follow); list items "- key: 'value'" whose dashes share
 * one column D; more pairs "key: 'value'" of the same item at column D + 2. A value is a
 * single-quoted scalar closed on its line ('' stands for a quote; nothing else is special in
 * that style); a comment after it needs a space before the '#'. The whole file holds only
 * printable ASCII, tabs, newlines and the UTF-8 that libyaml reads as printable non-break
 * characters. Anything else (CR, plain or double-quoted values, flow style, anchors, tags, a
 * key without items, a repeated top-level key, document markers) makes the scan step aside for
 * libyaml. The scan checks the whole file before it calls back, as libyaml does, so a syntax
 * problem late in the file is reported the same way by either reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "enr_ua_rules.h"

#define UA_RULES_NAMES_MAX 8
#define SCAN_KEY_MAX 128   /* libyaml refuses simple keys over 1024 characters */

/* ---- the scan ---- */

struct scan_entry {
	int    which;   /* index in names, or -1 for an ignored list */
	size_t kv0, nkv;
};

struct scan {
	char               *arena;   /* decoded keys and values, NUL-terminated */
	size_t              used;
	struct ua_rules_kv *kv;
	size_t              nkv, capkv;
	struct scan_entry  *ent;
	size_t              nent, capent;
};

/* Printable for libyaml, and not one of its line breaks (NEL, LS, PS) nor a BOM. */
static int
scan_chars_ok(const unsigned char *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		unsigned c = s[i];
		uint32_t cp;
		size_t n, k;

		if (c < 0x80) {
			if (c == '\n' || c == '\t' || (c >= 0x20 && c < 0x7F)) {
				i++;
				continue;
			}
			return 0;
		}
		if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
			cp = c & 0x1F;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			cp = c & 0x0F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (len - i <= n)
			return 0;
		for (k = 1; k <= n; k++) {
			if ((s[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3F);
		}
		if ((n == 2 && cp < 0x800) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
			return 0;
		if (cp < 0xA0 || (cp >= 0xD800 && cp <= 0xDFFF) || cp == 0x2028 || cp == 0x2029 ||
		    cp == 0xFEFF || cp == 0xFFFE || cp == 0xFFFF)
			return 0;
		i += n + 1;
	}
	return 1;
}

static int
scan_key_start(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static int
scan_key_char(int c)
{
	return scan_key_start(c) || (c >= '0' && c <= '9');
}

/* The rest of a line after a value or a key: spaces, then a comment after a space, or nothing. */
static int
scan_line_end(const char *p, const char *e)
{
	const char *q = p;

	while (q < e && *q == ' ')
		q++;
	return q == e || (*q == '#' && q > p);
}

/* "key: 'value'" at p (up to e): decoded into the arena. 0, or -1 outside the subset. */
static int
scan_pair(struct scan *s, const char *p, const char *e)
{
	const char *k = p;
	char *key, *val;

	if (p >= e || !scan_key_start((unsigned char)*p))
		return -1;
	while (p < e && scan_key_char((unsigned char)*p))
		p++;
	if (p - k > SCAN_KEY_MAX || p + 1 >= e || p[0] != ':' || p[1] != ' ')
		return -1;
	key = s->arena + s->used;
	memcpy(key, k, (size_t)(p - k));
	s->used += (size_t)(p - k);
	s->arena[s->used++] = '\0';
	p++;
	while (p < e && *p == ' ')
		p++;
	if (p >= e || *p != '\'')
		return -1;
	p++;
	val = s->arena + s->used;
	for (;;) {
		if (p >= e)
			return -1;   /* continued on the next line: folding is libyaml's business */
		if (*p == '\'') {
			if (p + 1 < e && p[1] == '\'') {
				s->arena[s->used++] = '\'';
				p += 2;
				continue;
			}
			p++;
			break;
		}
		s->arena[s->used++] = *p++;
	}
	s->arena[s->used++] = '\0';
	if (!scan_line_end(p, e))
		return -1;
	if (s->nkv == s->capkv) {
		size_t nc = s->capkv ? s->capkv * 2 : 4096;
		struct ua_rules_kv *v = realloc(s->kv, nc * sizeof(*v));
		if (v == NULL)
			return -1;
		s->kv = v;
		s->capkv = nc;
	}
	s->kv[s->nkv].key = key;
	s->kv[s->nkv].val = val;
	s->nkv++;
	s->ent[s->nent - 1].nkv++;
	return 0;
}

static int
scan_new_entry(struct scan *s, int which)
{
	if (s->nent == s->capent) {
		size_t nc = s->capent ? s->capent * 2 : 1024;
		struct scan_entry *v = realloc(s->ent, nc * sizeof(*v));
		if (v == NULL)
			return -1;
		s->ent = v;
		s->capent = nc;
	}
	s->ent[s->nent].which = which;
	s->ent[s->nent].kv0 = s->nkv;
	s->ent[s->nent].nkv = 0;
	s->nent++;
	return 0;
}

/* Phase 1: the whole file into entries; 0, or -1 outside the subset. */
static int
scan_file(struct scan *s, const char *buf, size_t len, const char *const *names, int nnames,
    unsigned *seen)
{
	const char *p = buf, *end = buf + len;
	long dash = -1;           /* column of the current list's dashes */
	int which = -2;           /* current list: -2 none yet, -1 ignored, else its index */
	int items = 1;            /* the current top-level key has items */
	int entry_open = 0;
	char tops[64][64];
	int ntops = 0, i;

	if (!scan_chars_ok((const unsigned char *)buf, len))
		return -1;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p)), *q = p;
		long ind;

		if (e == NULL)
			e = end;
		while (q < e && *q == ' ')
			q++;
		ind = q - p;
		if (q == e || *q == '#') {
			/* blank or comment */
		} else if (ind == 0 && scan_key_start((unsigned char)*q)) {
			const char *k = q;
			size_t kl;
			while (q < e && scan_key_char((unsigned char)*q))
				q++;
			kl = (size_t)(q - k);
			if (q >= e || *q != ':' || !scan_line_end(q + 1, e) || !items)
				return -1;
			if (kl >= sizeof(tops[0]) || ntops == (int)(sizeof(tops) / sizeof(tops[0])))
				return -1;
			for (i = 0; i < ntops; i++)
				if (strlen(tops[i]) == kl && !memcmp(tops[i], k, kl))
					return -1;   /* repeated: libyaml's reading reports it */
			memcpy(tops[ntops], k, kl);
			tops[ntops++][kl] = '\0';
			which = -1;
			for (i = 0; i < nnames; i++)
				if (strlen(names[i]) == kl && !memcmp(names[i], k, kl)) {
					which = i;
					*seen |= 1u << i;
				}
			items = 0;
			dash = -1;
			entry_open = 0;
		} else if (which != -2 && *q == '-' && q + 1 < e && q[1] == ' ') {
			if (dash == -1)
				dash = ind;
			else if (ind != dash)
				return -1;
			if (scan_new_entry(s, which) < 0 || scan_pair(s, q + 2, e) < 0)
				return -1;
			items = 1;
			entry_open = 1;
		} else if (entry_open && ind == dash + 2) {
			if (scan_pair(s, q, e) < 0)
				return -1;
		} else {
			return -1;
		}
		p = e < end ? e + 1 : end;
	}
	return which == -2 || !items ? -1 : 0;
}

static int
scan_read(const char *buf, size_t len, const char *const *names, int nnames, ua_rules_entry_cb cb,
    void *arg, unsigned *seen, char *err, size_t errlen)
{
	struct scan s;
	size_t counts[UA_RULES_NAMES_MAX] = { 0 }, i;
	char why[512];
	int rc = 0;

	memset(&s, 0, sizeof(s));
	if ((s.arena = malloc(len + 1)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	*seen = 0;
	if (scan_file(&s, buf, len, names, nnames, seen) < 0) {
		rc = UA_RULES_NOT_SCANNED;
		*seen = 0;
	}
	for (i = 0; rc == 0 && i < s.nent; i++) {
		int w = s.ent[i].which;
		if (w < 0)
			continue;
		if (cb(arg, w, counts[w]++, s.kv + s.ent[i].kv0, s.ent[i].nkv, why, sizeof(why)) < 0) {
			snprintf(err, errlen, "%s: %s", names[w], why);
			rc = -1;
		}
	}
	free(s.arena);
	free(s.kv);
	free(s.ent);
	return rc;
}

/* ---- libyaml ---- */

static const char *
yaml_scalar(yaml_document_t *d, int id)
{
	yaml_node_t *n = yaml_document_get_node(d, id);

	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static int
libyaml_list(yaml_document_t *d, yaml_node_t *seq, int which, ua_rules_entry_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct ua_rules_kv *kv = NULL;
	size_t cap = 0, index = 0;
	yaml_node_item_t *it;
	int rc = 0;

	if (seq == NULL || seq->type != YAML_SEQUENCE_NODE) {
		snprintf(err, errlen, "a list of parsers is expected");
		return -1;
	}
	for (it = seq->data.sequence.items.start; rc == 0 && it < seq->data.sequence.items.top;
	    it++, index++) {
		yaml_node_t *m = yaml_document_get_node(d, *it);
		yaml_node_pair_t *p;
		size_t n = 0, want;

		if (m == NULL || m->type != YAML_MAPPING_NODE) {
			snprintf(err, errlen, "parser %zu: a mapping is expected", index);
			rc = -1;
			break;
		}
		want = (size_t)(m->data.mapping.pairs.top - m->data.mapping.pairs.start);
		if (want > cap) {
			struct ua_rules_kv *v = realloc(kv, want * sizeof(*v));
			if (v == NULL) {
				snprintf(err, errlen, "out of memory");
				rc = -1;
				break;
			}
			kv = v;
			cap = want;
		}
		for (p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
			const char *k = yaml_scalar(d, p->key), *v = yaml_scalar(d, p->value);
			if (k == NULL || v == NULL)
				continue;
			kv[n].key = k;
			kv[n++].val = v;
		}
		rc = cb(arg, which, index, kv, n, err, errlen);
	}
	free(kv);
	return rc;
}

static int
libyaml_read(const char *buf, size_t len, const char *const *names, int nnames,
    ua_rules_entry_cb cb, void *arg, unsigned *seen, char *err, size_t errlen)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_node_t *root;
	yaml_node_pair_t *p;
	char why[512];
	int i, rc = 0;

	*seen = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, &doc)) {
		snprintf(err, errlen, "invalid YAML: %s (line %zu)",
		    parser.problem ? parser.problem : "?", (size_t)parser.problem_mark.line + 1);
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_parser_delete(&parser);
	root = yaml_document_get_root_node(&doc);
	if (root == NULL || root->type != YAML_MAPPING_NODE) {
		snprintf(err, errlen, "not a uap-core regexes file (a mapping is expected)");
		rc = -1;
	}
	for (p = root ? root->data.mapping.pairs.start : NULL; rc == 0 && p < root->data.mapping.pairs.top;
	    p++) {
		const char *k = yaml_scalar(&doc, p->key);
		for (i = 0; k && rc == 0 && i < nnames; i++) {
			if (strcmp(k, names[i]))
				continue;
			if (*seen & (1u << i)) {
				snprintf(err, errlen, "%s: appears twice", names[i]);
				rc = -1;
			} else if (libyaml_list(&doc, yaml_document_get_node(&doc, p->value), i, cb, arg, why,
			        sizeof(why)) < 0) {
				snprintf(err, errlen, "%s: %s", names[i], why);
				rc = -1;
			}
			*seen |= 1u << i;
		}
	}
	yaml_document_delete(&doc);
	return rc;
}

int
ua_rules_read(const char *buf, size_t len, enum ua_rules_how how, const char *const *names,
    int nnames, ua_rules_entry_cb cb, void *arg, unsigned *seen, char *err, size_t errlen)
{
	int rc;

	if (nnames > UA_RULES_NAMES_MAX) {
		snprintf(err, errlen, "too many lists");
		return -1;
	}
	if (how != UA_RULES_LIBYAML) {
		rc = scan_read(buf, len, names, nnames, cb, arg, seen, err, errlen);
		if (rc != UA_RULES_NOT_SCANNED || how == UA_RULES_SCAN)
			return rc;
	}
	return libyaml_read(buf, len, names, nnames, cb, arg, seen, err, errlen);
}
