/*
 * enr_ua_rules: reading a uap-core rules file (regexes.yaml) for the ua_parser enrichment. The
 * file is YAML; uap-core writes it in a small regular subset (block lists of block mappings
 * whose values are one-line single-quoted scalars, and comments), which a dedicated scan reads
 * at a fraction of libyaml's cost. Any file outside that subset goes through libyaml, and both
 * readers give the same entries for the same file (a fuzz target holds them to it).
 */
#ifndef FURROW_ENR_UA_RULES_H
#define FURROW_ENR_UA_RULES_H

#include <stddef.h>

/* A key and its scalar value, in the order the entry has them. */
struct ua_rules_kv {
	const char *key;
	const char *val;
};

/* One entry (list `which`, the index-th of its list); returns 0, or -1 with err filled. */
typedef int (*ua_rules_entry_cb)(void *arg, int which, size_t index, const struct ua_rules_kv *kv,
    size_t n, char *err, size_t errlen);

enum ua_rules_how {
	UA_RULES_ANY,      /* the scan, libyaml for a file outside its subset */
	UA_RULES_LIBYAML,  /* libyaml only */
	UA_RULES_SCAN,     /* the scan only: UA_RULES_NOT_SCANNED for a file outside the subset */
};
#define UA_RULES_NOT_SCANNED (-2)

/*
 * Read buf[0..len): call cb for each entry of the top-level lists named names[0..nnames), in
 * file order (other top-level keys are ignored). *seen gets a bit per list found. Returns 0, -1
 * with err filled ("invalid YAML: ...", "not a uap-core regexes file ...", "<list>: ..."), or
 * UA_RULES_NOT_SCANNED.
 */
int ua_rules_read(const char *buf, size_t len, enum ua_rules_how how, const char *const *names,
    int nnames, ua_rules_entry_cb cb, void *arg, unsigned *seen, char *err, size_t errlen);

#endif
