/*
 * enr_ua_parser: ua_parser_config (iglu:com.snowplowanalytics.snowplow/ua_parser_config/
 * 1-0-*). Parses the useragent column with uap-core's regexes.yaml (read by enr_ua_rules,
 * matched with PCRE2, JIT-compiled) and adds the derived context
 * iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0, as upstream's
 * UaParserEnrichment does: useragent/os family and version parts, the assembled
 * "useragentVersion" ("Chrome 120.0.6099") and "osVersion", and "deviceFamily".
 *
 * The rules file is `uri` + `database` when the configuration names one, else uap-core's
 * file as Debian installs it (/usr/share/uap-core/regexes.yaml) or $FURROW_UAP_REGEXES.
 * The parse itself follows uap-core's specification: the first matching regex of each list
 * wins, replacements substitute $1..$9, no match gives the family "Other".
 *
 * What keeps it cheap. uap-core has some 1,200 regexes and a user agent usually matches late
 * in each list; running them one after another cost ~600k instructions per user agent and
 * compiling them all ~150M at start. So: each regex carries the strings one of which every
 * match contains (enr_ua_literal), and a regex none of whose strings occurs in the user agent
 * is skipped without running (a bitset of the user agent's byte pairs rules most strings out
 * before memmem; each string is looked up once per user agent); a regex is compiled and
 * JIT-compiled when a user agent first gets past its prefilter (a syntax error the load-time
 * scan can see is still reported at load; one it cannot fails the parses that reach it);
 * results are cached per user agent (set-associative, least recently used out), and the
 * derived contexts are shared between user agents that parse alike.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "enr.h"
#include "fnv.h"
#include "enr_ua_literal.h"
#include "enr_ua_parser.h"
#include "enr_ua_rules.h"

#define UA_DEFAULT_REGEXES "/usr/share/uap-core/regexes.yaml"
#define UA_CONTEXT_SCHEMA "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
#define UA_RULES_MAX_BYTES (64u << 20)  /* a rules file larger than this is refused */
#define UA_CACHE_WAYS 8                 /* user agent cache: 8-way set-associative, */
#define UA_CACHE_SETS 2048              /* 16384 user agents */
#define UA_CTX_MAX 16384                /* distinct derived contexts kept for sharing */
#define UA_UA_MAX 8192                  /* longer user agents are cut before matching */
#define UA_BG_BITS 4096                 /* byte-pair bitset of a user agent */
#define UA_BG_PER_LIT 4                 /* byte pairs of a string checked in the bitset */

enum { UA_UA, UA_OS, UA_DEV, UA_NLISTS };

static const char *const ua_list_names[UA_NLISTS] = {
	"user_agent_parsers", "os_parsers", "device_parsers",
};

/* Replacement keys per list, in output order. */
static const char *const ua_repl_keys[UA_NLISTS][5] = {
	{ "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement", NULL },
	{ "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
	  "os_v4_replacement" },
	{ "device_replacement", "brand_replacement", "model_replacement", NULL, NULL },
};
static const int ua_nfields[UA_NLISTS] = { 4, 5, 3 };

struct ua_rule {
	char       *regex;   /* the source; compiled when a user agent first needs it */
	uint32_t    opts;
	pcre2_code *re;
	int         broken;  /* did not compile */
	uint32_t    lit0;    /* one of lits[litref[lit0 .. lit0 + nlit)] occurs in every match; */
	uint32_t    nlit;    /* 0: no such strings known, the regex always runs */
	char       *repl[5];
};

struct ua_list {
	struct ua_rule *v;
	size_t          n, cap;
};

/* A required string (distinct per text and case mode). */
struct ua_lit {
	char     *s;         /* ASCII lower case when caseless */
	size_t    len;
	int       caseless;
	int       nbg;
	uint16_t  bg[UA_BG_PER_LIT];
};

/*
 * One set of the user agent cache, three cache lines (the table is aligned to them): the
 * hashes, the entries, their contexts. With user agents in random order a hit misses the CPU's
 * caches on the set, on the entry (one allocation, the user agent after its header) and on the
 * context whose count it raises; the context's address is in the set so that the last two
 * misses overlap instead of following one another.
 */
struct ua_cache_entry {
	uint64_t  used;      /* u->clock at the last hit */
	size_t    len;
	char      ua[];
};

struct ua_cache_set {
	uint64_t               h[UA_CACHE_WAYS];
	struct ua_cache_entry *e[UA_CACHE_WAYS];
	json_t                *ctx[UA_CACHE_WAYS];
};

struct enr_ua_parser {
	struct ua_list         lists[UA_NLISTS];
	struct ua_lit         *lits;
	size_t                 nlits, caplits;
	uint32_t              *litref;
	size_t                 nlitref, caplitref;
	uint32_t              *lithash;   /* load time: lits by text, open addressing, index + 1 */
	size_t                 lithash_cap;
	uint32_t              *memo;      /* per string: gen << 1 | occurs, for the current UA */
	uint32_t               gen;
	pcre2_match_data      *md;
	char                  *lower;     /* the current user agent, ASCII lower case */
	size_t                 lowercap;
	char                  *schema_uri;
	struct ua_cache_set   *cache;
	uint64_t               clock;
	json_t                *ctxs;      /* derived contexts by parse result */
	int                    no_prefilter;
};

/* The user agent being parsed, with what the prefilter needs. */
struct ua_subject {
	const char *s, *lower;
	size_t      len;
	int         ascii;
	uint64_t    bits[UA_BG_BITS / 64], lbits[UA_BG_BITS / 64];
};

/*
 * The cache's hash of a user agent: eight bytes a step. FNV-1a, a byte a step with a multiply
 * in the chain, cost ~500 cycles on a 150-byte user agent: a tenth of the per-event cost of
 * all of Mini's enrichments.
 */
static uint64_t
ua_hash(const char *s, size_t len)
{
	uint64_t h = 0x9E3779B97F4A7C15ULL ^ len, w;

	for (; len >= 8; s += 8, len -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, s, len);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ h >> 29;
}

static unsigned
ua_bg(unsigned char a, unsigned char b)
{
	return ((unsigned)a << 6 ^ b) & (UA_BG_BITS - 1);
}

void
enr_ua_parser_free(struct enr_ua_parser *u)
{
	size_t i, j, k;

	if (u == NULL)
		return;
	for (i = 0; i < UA_NLISTS; i++) {
		for (j = 0; j < u->lists[i].n; j++) {
			pcre2_code_free(u->lists[i].v[j].re);
			free(u->lists[i].v[j].regex);
			for (k = 0; k < 5; k++)
				free(u->lists[i].v[j].repl[k]);
		}
		free(u->lists[i].v);
	}
	for (i = 0; i < u->nlits; i++)
		free(u->lits[i].s);
	free(u->lits);
	free(u->litref);
	free(u->lithash);
	free(u->memo);
	free(u->lower);
	pcre2_match_data_free(u->md);
	if (u->cache) {
		for (i = 0; i < UA_CACHE_SETS; i++)
			for (j = 0; j < UA_CACHE_WAYS; j++)
				if (u->cache[i].e[j]) {
					json_decref(u->cache[i].ctx[j]);
					free(u->cache[i].e[j]);
				}
		free(u->cache);
	}
	json_decref(u->ctxs);
	free(u->schema_uri);
	free(u);
}

/* The index of string s (added when new), or -1 out of memory. */
static long
ua_lit_intern(struct enr_ua_parser *u, const char *s, size_t len, int caseless)
{
	uint64_t h = fnv_bytes(FNV_OFFSET + (uint64_t)caseless, s, len);
	size_t i, mask;
	struct ua_lit *l;

	if (u->nlits * 2 >= u->lithash_cap) {
		size_t nc = u->lithash_cap ? u->lithash_cap * 2 : 4096;
		uint32_t *t = calloc(nc, sizeof(*t));
		if (t == NULL)
			return -1;
		for (i = 0; i < u->nlits; i++) {
			size_t j = (size_t)fnv_bytes(FNV_OFFSET + (uint64_t)u->lits[i].caseless,
			    u->lits[i].s, u->lits[i].len) & (nc - 1);
			while (t[j])
				j = (j + 1) & (nc - 1);
			t[j] = (uint32_t)i + 1;
		}
		free(u->lithash);
		u->lithash = t;
		u->lithash_cap = nc;
	}
	mask = u->lithash_cap - 1;
	for (i = (size_t)h & mask; u->lithash[i]; i = (i + 1) & mask) {
		l = &u->lits[u->lithash[i] - 1];
		if (l->caseless == caseless && l->len == len && !memcmp(l->s, s, len))
			return (long)u->lithash[i] - 1;
	}
	if (u->nlits == u->caplits) {
		size_t nc = u->caplits ? u->caplits * 2 : 1024;
		struct ua_lit *v = realloc(u->lits, nc * sizeof(*v));
		if (v == NULL)
			return -1;
		u->lits = v;
		u->caplits = nc;
	}
	l = &u->lits[u->nlits];
	memset(l, 0, sizeof(*l));
	if ((l->s = malloc(len + 1)) == NULL)
		return -1;
	memcpy(l->s, s, len);
	l->s[len] = '\0';
	l->len = len;
	l->caseless = caseless;
	if (len >= 2) {
		/* byte pairs spread over the string: start, end and two between */
		size_t at[UA_BG_PER_LIT] = { 0, len - 2, (len - 2) / 3, 2 * (len - 2) / 3 };
		int k, m;
		for (k = 0; k < UA_BG_PER_LIT; k++) {
			uint16_t b = (uint16_t)ua_bg((unsigned char)s[at[k]], (unsigned char)s[at[k] + 1]);
			for (m = 0; m < l->nbg && l->bg[m] != b; m++)
				;
			if (m == l->nbg)
				l->bg[l->nbg++] = b;
		}
	}
	u->lithash[i] = (uint32_t)u->nlits + 1;
	return (long)u->nlits++;
}

/* Compile (and JIT-compile) a rule; 0, or -1 with err filled. */
static int
ua_rule_compile(struct ua_rule *r, char *err, size_t errlen)
{
	PCRE2_SIZE off;
	int ec;

	if (r->re)
		return 0;
	if (r->broken) {
		snprintf(err, errlen, "regex %s: does not compile", r->regex);
		return -1;
	}
	r->re = pcre2_compile((PCRE2_SPTR)r->regex, PCRE2_ZERO_TERMINATED, r->opts, &ec, &off, NULL);
	if (r->re == NULL) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "regex %s: %s at offset %zu", r->regex, (char *)msg, (size_t)off);
		r->broken = 1;
		return -1;
	}
	pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

/* One entry of a list (enr_ua_rules' callback). */
static int
ua_add_rule_cb(void *arg, int which, size_t index, const struct ua_rules_kv *kv, size_t n,
    char *err, size_t errlen)
{
	struct enr_ua_parser *u = arg;
	struct ua_list *l = &u->lists[which];
	struct ua_literal_set req;
	const char *regex = NULL, *flag = NULL;
	struct ua_rule *r;
	char *scratch;
	size_t i;
	int k;

	if (l->n == l->cap) {
		size_t nc = l->cap ? l->cap * 2 : 256;
		struct ua_rule *v = realloc(l->v, nc * sizeof(*v));
		if (v == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		l->v = v;
		l->cap = nc;
	}
	r = &l->v[l->n];
	memset(r, 0, sizeof(*r));
	for (i = 0; i < n; i++) {
		if (!strcmp(kv[i].key, "regex"))
			regex = kv[i].val;
		else if (!strcmp(kv[i].key, "regex_flag"))
			flag = kv[i].val;
		else
			for (k = 0; k < ua_nfields[which]; k++)
				if (!strcmp(kv[i].key, ua_repl_keys[which][k]) && r->repl[k] == NULL &&
				    (r->repl[k] = strdup(kv[i].val)) == NULL)
					goto oom;
	}
	l->n++;   /* from here on, freed with the parser */
	if (regex == NULL) {
		snprintf(err, errlen, "parser %zu: no regex", index);
		return -1;
	}
	if ((r->regex = strdup(regex)) == NULL || (scratch = malloc(strlen(regex) + 1)) == NULL)
		goto oom;
	r->opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	if (flag && strchr(flag, 'i'))
		r->opts |= PCRE2_CASELESS;
	if (ua_literal_required(regex, (r->opts & PCRE2_CASELESS) != 0, scratch, &req) < 0) {
		/* malformed as far as the scan sees: PCRE2 has the last word, now */
		free(scratch);
		return ua_rule_compile(r, err, errlen);
	}
	if (u->nlitref + (size_t)req.n > u->caplitref) {
		size_t nc = u->caplitref ? u->caplitref * 2 : 2048;
		uint32_t *v;
		while (nc < u->nlitref + (size_t)req.n)
			nc *= 2;
		if ((v = realloc(u->litref, nc * sizeof(*v))) == NULL) {
			free(scratch);
			goto oom;
		}
		u->litref = v;
		u->caplitref = nc;
	}
	r->lit0 = (uint32_t)u->nlitref;
	for (k = 0; k < req.n; k++) {
		long id = ua_lit_intern(u, req.s[k], req.len[k], (r->opts & PCRE2_CASELESS) != 0);
		if (id < 0) {
			free(scratch);
			goto oom;
		}
		u->litref[u->nlitref++] = (uint32_t)id;
	}
	r->nlit = (uint32_t)req.n;
	free(scratch);
	return 0;
oom:
	snprintf(err, errlen, "out of memory");
	return -1;
}

struct enr_ua_parser *
enr_ua_parser_load_buf(const char *buf, size_t len, int how, char *err, size_t errlen)
{
	struct enr_ua_parser *u;
	unsigned seen = 0;
	int rc;

	if ((u = calloc(1, sizeof(*u))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	rc = ua_rules_read(buf, len, how == 1 ? UA_RULES_LIBYAML : how == 2 ? UA_RULES_SCAN :
	    UA_RULES_ANY, ua_list_names, UA_NLISTS, ua_add_rule_cb, u, &seen, err, errlen);
	if (rc == UA_RULES_NOT_SCANNED)
		snprintf(err, errlen, "not in the subset of YAML the scan reads");
	if (rc == 0 && !(seen & 1)) {
		snprintf(err, errlen, "not a uap-core regexes file (no user_agent_parsers)");
		rc = -1;
	}
	free(u->lithash);
	u->lithash = NULL;
	u->lithash_cap = 0;
	if (rc == 0 && ((u->memo = calloc(u->nlits + 1, sizeof(*u->memo))) == NULL ||
	    (u->md = pcre2_match_data_create(20, NULL)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
	}
	if (rc != 0) {
		enr_ua_parser_free(u);
		return NULL;
	}
	return u;
}

struct enr_ua_parser *
enr_ua_parser_load(const char *path, char *err, size_t errlen)
{
	struct enr_ua_parser *u;
	char why[512];
	size_t len;
	char *buf;

	if ((buf = enr_read_file(path, UA_RULES_MAX_BYTES, &len, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return NULL;
	}
	u = enr_ua_parser_load_buf(buf, len, 0, why, sizeof(why));
	free(buf);
	if (u == NULL)
		snprintf(err, errlen, "%s: %s", path, why);
	return u;
}

int
enr_ua_parser_compile_all(struct enr_ua_parser *u, char *err, size_t errlen)
{
	size_t i, j;

	for (i = 0; i < UA_NLISTS; i++)
		for (j = 0; j < u->lists[i].n; j++)
			if (ua_rule_compile(&u->lists[i].v[j], err, errlen) < 0)
				return -1;
	return 0;
}

void
enr_ua_parser_set_prefilter(struct enr_ua_parser *u, int on)
{
	u->no_prefilter = !on;
}

char *
enr_ua_parser_dump(const struct enr_ua_parser *u)
{
	struct buf b;
	size_t i, j, k;

	buf_init(&b, 0);
	for (i = 0; i < UA_NLISTS; i++)
		for (j = 0; j < u->lists[i].n; j++) {
			const struct ua_rule *r = &u->lists[i].v[j];
			buf_printf(&b, "%s %zu caseless=%d regex=%s", ua_list_names[i], j,
			    (r->opts & PCRE2_CASELESS) != 0, r->regex ? r->regex : "(none)");
			for (k = 0; k < 5; k++)
				if (r->repl[k])
					buf_printf(&b, " %s=%s", ua_repl_keys[i][k], r->repl[k]);
			for (k = 0; k < r->nlit; k++)
				buf_printf(&b, " lit=%s", u->lits[u->litref[r->lit0 + k]].s);
			buf_append_byte(&b, '\n');
		}
	if (b.data == NULL)
		return strdup("");
	buf_append_byte(&b, '\0');
	return (char *)b.data;
}

/* Substitute $1..$9 of the match into repl. */
static char *
substitute(const char *repl, const char *s, PCRE2_SIZE *ov, int rc)
{
	struct buf b;
	const char *p;

	buf_init(&b, 0);
	for (p = repl; *p; p++) {
		if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
			int g = p[1] - '0';
			if (g < rc && ov[2 * g] != PCRE2_UNSET)
				buf_append(&b, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
			p++;
		} else {
			buf_append_byte(&b, (uint8_t)*p);
		}
	}
	if (b.data == NULL)
		return strdup("");
	return b.data;
}

static char *
trimmed_or_null(char *s)
{
	size_t a = 0, l;

	if (s == NULL)
		return NULL;
	while (s[a] == ' ' || s[a] == '\t')
		a++;
	l = strlen(s + a);
	while (l && (s[a + l - 1] == ' ' || s[a + l - 1] == '\t'))
		l--;
	if (l == 0) {
		free(s);
		return NULL;
	}
	memmove(s, s + a, l);
	s[l] = '\0';
	return s;
}

/* Prepare ua[0..len) for the prefilter; -1 out of memory. */
static int
ua_subject_init(struct enr_ua_parser *u, struct ua_subject *sub, const char *ua, size_t len)
{
	size_t i;
	int hi = 0;

	if (len + 1 > u->lowercap) {
		size_t nc = len + 1 > 256 ? len + 1 : 256;
		char *p = realloc(u->lower, nc);
		if (p == NULL)
			return -1;
		u->lower = p;
		u->lowercap = nc;
	}
	memset(sub->bits, 0, sizeof(sub->bits));
	memset(sub->lbits, 0, sizeof(sub->lbits));
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)ua[i];
		hi |= c;
		u->lower[i] = (char)(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
	}
	u->lower[len] = '\0';
	for (i = 0; i + 1 < len; i++) {
		unsigned b = ua_bg((unsigned char)ua[i], (unsigned char)ua[i + 1]);
		unsigned lb = ua_bg((unsigned char)u->lower[i], (unsigned char)u->lower[i + 1]);
		sub->bits[b >> 6] |= 1ULL << (b & 63);
		sub->lbits[lb >> 6] |= 1ULL << (lb & 63);
	}
	sub->s = ua;
	sub->lower = u->lower;
	sub->len = len;
	/*
	 * Caseless strings are looked for in the ASCII-lower-cased user agent, which is exact
	 * for an ASCII one only: with UTF, PCRE2 also matches k to U+212A and s to U+017F.
	 */
	sub->ascii = !(hi & 0x80);
	/* a new generation of memo entries; on wrap-around all are forgotten */
	if (++u->gen >= 0x7FFFFFFFu) {
		memset(u->memo, 0, (u->nlits + 1) * sizeof(*u->memo));
		u->gen = 1;
	}
	return 0;
}

/* Whether string id occurs in the subject (looked for once per subject). */
static int
ua_lit_occurs(struct enr_ua_parser *u, const struct ua_subject *sub, uint32_t id)
{
	const struct ua_lit *l = &u->lits[id];
	uint32_t m = u->memo[id];
	const uint64_t *bits;
	int yes = 1, k;

	if (m >> 1 == u->gen)
		return (int)(m & 1);
	if (l->caseless && !sub->ascii) {
		yes = 1;
	} else {
		bits = l->caseless ? sub->lbits : sub->bits;
		for (k = 0; k < l->nbg && yes; k++)
			yes = (bits[l->bg[k] >> 6] >> (l->bg[k] & 63)) & 1;
		if (yes)
			yes = memmem(l->caseless ? sub->lower : sub->s, sub->len, l->s, l->len) != NULL;
	}
	u->memo[id] = u->gen << 1 | (uint32_t)yes;
	return yes;
}

/* First-match parse of one list; 0, or -1 (a regex that does not compile, out of memory). */
static int
ua_parse_list(struct enr_ua_parser *u, int which, const struct ua_subject *sub, char *out[5])
{
	struct ua_list *l = &u->lists[which];
	const char *ua = sub->s;
	char why[512];
	size_t i;
	uint32_t j;
	int k, nf = ua_nfields[which];

	for (k = 0; k < 5; k++)
		out[k] = NULL;
	for (i = 0; i < l->n; i++) {
		struct ua_rule *r = &l->v[i];
		PCRE2_SIZE *ov;
		int rc;

		if (r->nlit && !u->no_prefilter) {
			for (j = 0; j < r->nlit; j++)
				if (ua_lit_occurs(u, sub, u->litref[r->lit0 + j]))
					break;
			if (j == r->nlit)
				continue;   /* none of its strings: it cannot match */
		}
		if (r->re == NULL && ua_rule_compile(r, why, sizeof(why)) < 0)
			return -1;
		rc = pcre2_match(r->re, (PCRE2_SPTR)ua, sub->len, 0, 0, u->md, NULL);
		if (rc < 0)
			continue;
		ov = pcre2_get_ovector_pointer(u->md);
		for (k = 0; k < nf; k++) {
			const char *repl = r->repl[k];
			int g = k + 1;
			if (which == UA_DEV && k > 0)
				g = 1 + (k == 2 ? 0 : 99);   /* brand has no default group; model is $1 */
			if (repl != NULL)
				out[k] = substitute(repl, ua, ov, rc);
			else if (g < rc && ov[2 * g] != PCRE2_UNSET)
				out[k] = strndup(ua + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
			out[k] = trimmed_or_null(out[k]);
		}
		if (which == UA_DEV && out[0] && out[0][0] == '\0') {
			free(out[0]);
			out[0] = NULL;
		}
		break;
	}
	if (out[0] == NULL && (out[0] = strdup("Other")) == NULL) {
		for (k = 1; k < 5; k++) {
			free(out[k]);
			out[k] = NULL;
		}
		return -1;
	}
	return 0;
}

int
enr_ua_parser_parse_one(struct enr_ua_parser *u, int which, const char *ua, size_t len,
    char *out[5])
{
	struct ua_subject sub;
	int k;

	for (k = 0; k < 5; k++)
		out[k] = NULL;
	if (ua_subject_init(u, &sub, ua, len) < 0)
		return -1;
	return ua_parse_list(u, which, &sub, out);
}

static json_t *
jstr_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void
ua_key_add(struct buf *k, const char *s)
{
	/* \x01 ends a value, \x02 stands for none: neither is in a user agent's parse */
	if (s)
		buf_append_str(k, s);
	buf_append_byte(k, s ? 1 : 2);
}

/*
 * The context for the parse a (user agent), o (OS), dv (device): shared with every user agent
 * that parsed alike (a new reference), or NULL.
 */
static json_t *
ua_context_of(struct enr_ua_parser *u, char *a[5], char *o[5], char *dv[5])
{
	struct buf key, uv, ov;
	json_t *d, *c = NULL;
	int k;

	buf_init(&key, 0);
	for (k = 0; k < 4; k++)
		ua_key_add(&key, a[k]);
	for (k = 0; k < 5; k++)
		ua_key_add(&key, o[k]);
	ua_key_add(&key, dv[0]);
	buf_append_byte(&key, 0);
	if (key.data == NULL)
		return NULL;
	if (u->ctxs && (c = json_object_get(u->ctxs, (char *)key.data)) != NULL) {
		buf_free(&key);
		return json_incref(c);
	}
	buf_init(&uv, 0);
	buf_init(&ov, 0);
	buf_append_str(&uv, a[0]);
	if (a[1])
		buf_printf(&uv, " %s", a[1]);
	for (k = 2; k < 4; k++)
		if (a[k])
			buf_printf(&uv, ".%s", a[k]);
	buf_append_str(&ov, o[0]);
	if (o[1])
		buf_printf(&ov, " %s", o[1]);
	for (k = 2; k < 5; k++)
		if (o[k])
			buf_printf(&ov, ".%s", o[k]);
	d = json_object();
	json_object_set_new(d, "useragentFamily", jstr_or_null(a[0]));
	json_object_set_new(d, "useragentMajor", jstr_or_null(a[1]));
	json_object_set_new(d, "useragentMinor", jstr_or_null(a[2]));
	json_object_set_new(d, "useragentPatch", jstr_or_null(a[3]));
	json_object_set_new(d, "useragentVersion", jstr_or_null((char *)uv.data));
	json_object_set_new(d, "osFamily", jstr_or_null(o[0]));
	json_object_set_new(d, "osMajor", jstr_or_null(o[1]));
	json_object_set_new(d, "osMinor", jstr_or_null(o[2]));
	json_object_set_new(d, "osPatch", jstr_or_null(o[3]));
	json_object_set_new(d, "osPatchMinor", jstr_or_null(o[4]));
	json_object_set_new(d, "osVersion", jstr_or_null((char *)ov.data));
	json_object_set_new(d, "deviceFamily", jstr_or_null(dv[0]));
	buf_free(&uv);
	buf_free(&ov);
	c = json_pack("{s:s,s:o}", "schema", UA_CONTEXT_SCHEMA, "data", d);
	if (c && u->ctxs) {
		if (json_object_size(u->ctxs) >= UA_CTX_MAX)
			json_object_clear(u->ctxs);   /* bounded: start over (the cache keeps its refs) */
		json_object_set_nocheck(u->ctxs, (char *)key.data, c);
	}
	buf_free(&key);
	return c;
}

static json_t *
make_context(struct enr_ua_parser *u, const char *ua, size_t len)
{
	char *a[5] = { 0 }, *o[5] = { 0 }, *dv[5] = { 0 };
	struct ua_subject sub;
	json_t *c = NULL;
	int k;

	if (ua_subject_init(u, &sub, ua, len) == 0 && ua_parse_list(u, UA_UA, &sub, a) == 0 &&
	    ua_parse_list(u, UA_OS, &sub, o) == 0 && ua_parse_list(u, UA_DEV, &sub, dv) == 0)
		c = ua_context_of(u, a, o, dv);
	for (k = 0; k < 5; k++) {
		free(a[k]);
		free(o[k]);
		free(dv[k]);
	}
	return c;
}

json_t *
enr_ua_parser_context(struct enr_ua_parser *u, const char *ua)
{
	struct ua_cache_set *set;
	struct ua_cache_entry *e;
	size_t len = strlen(ua), w, victim;
	uint64_t h;
	json_t *c;

	if (len > UA_UA_MAX)
		len = UA_UA_MAX;
	if (u->cache == NULL)
		return make_context(u, ua, len);
	/*
	 * Set-associative, least recently used out: a direct-mapped or two-way cache loses a good
	 * share of its hits to collisions with a few thousand user agents in rotation. A hash of 0
	 * marks an empty way.
	 */
	h = ua_hash(ua, len) | 1;
	set = &u->cache[(size_t)((h >> 32 ^ h) >> 1 & (UA_CACHE_SETS - 1))];
	u->clock++;
	for (w = 0; w < UA_CACHE_WAYS; w++) {
		if (set->h[w] != h)
			continue;
		e = set->e[w];
		__builtin_prefetch(set->ctx[w], 1);
		/* shared, not copied: nothing modifies a derived entity in place except the PII
		 * enrichment, which copies an entity before it changes it */
		if (e->len == len && !memcmp(e->ua, ua, len)) {
			e->used = u->clock;
			return json_incref(set->ctx[w]);
		}
	}
	if ((c = make_context(u, ua, len)) == NULL)
		return NULL;
	for (w = 0, victim = 0; w < UA_CACHE_WAYS; w++) {
		if (set->h[w] == 0) {
			victim = w;
			break;
		}
		if (set->e[w]->used < set->e[victim]->used)
			victim = w;
	}
	if ((e = set->e[victim]) != NULL) {
		json_decref(set->ctx[victim]);
		free(e);
	}
	set->e[victim] = NULL;
	set->ctx[victim] = NULL;
	set->h[victim] = 0;
	if ((e = malloc(sizeof(*e) + len + 1)) != NULL) {
		memcpy(e->ua, ua, len);
		e->ua[len] = '\0';
		e->len = len;
		e->used = u->clock;
		set->ctx[victim] = json_incref(c);
		set->e[victim] = e;
		set->h[victim] = h;
	}
	return c;
}

static void *
ua_parser_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const char *uri = enr_json_str(p, "uri"), *db = enr_json_str(p, "database");
	const char *env = getenv("FURROW_UAP_REGEXES");
	char path[4096], why[512];
	struct enr_ua_parser *u;

	if (uri != NULL || db != NULL) {
		if (uri == NULL || db == NULL) {
			snprintf(err, errlen, "parameters: \"uri\" and \"database\" go together");
			return NULL;
		}
		if (enr_asset_path(ctx, uri, db, path, sizeof(path), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "Failed to initialize ua parser: [%s]", why);
			return NULL;
		}
	} else {
		snprintf(path, sizeof(path), "%s", env && *env ? env : UA_DEFAULT_REGEXES);
	}
	if ((u = enr_ua_parser_load(path, why, sizeof(why))) == NULL) {
		snprintf(err, errlen, "Failed to initialize ua parser: [%s]", why);
		return NULL;
	}
	/* sets on cache lines (64 bytes): sizeof(*u->cache) is a multiple of that */
	if ((u->cache = aligned_alloc(64, UA_CACHE_SETS * sizeof(*u->cache))) != NULL)
		memset(u->cache, 0, UA_CACHE_SETS * sizeof(*u->cache));
	if (u->cache == NULL || (u->schema_uri = strdup(ctx->schema_uri)) == NULL ||
	    (u->ctxs = json_object()) == NULL) {
		enr_ua_parser_free(u);
		snprintf(err, errlen, "Failed to initialize ua parser: [out of memory]");
		return NULL;
	}
	return u;
}

static int
ua_parser_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct enr_ua_parser *u = state;
	const char *ua = ev->col[COL_USERAGENT];
	json_t *c;

	if (ua == NULL && !ev->useragent_empty)
		return 0;
	if (ua == NULL)
		ua = "";   /* enrich 6.10: an empty User-Agent gives the all-"Other" context */
	if ((c = enr_ua_parser_context(u, ua)) == NULL) {
		enr_add_failure(failures, u->schema_uri, "ua-parser",
		    json_pack("{s:s,s:s,s:s}", "field", "useragent", "value", ua, "expectation",
		        "could not parse useragent"));
		return -1;
	}
	enrich_event_add_derived(ev, c);
	return 0;
}

static void
ua_parser_free(void *state)
{
	enr_ua_parser_free(state);
}

const struct enr_module enr_ua_parser = {
	"com.snowplowanalytics.snowplow", "ua_parser_config", 1, ENRICH_STAGE_EARLY, 20,
	"ua-parser", ua_parser_load, ua_parser_apply, ua_parser_free,
};
