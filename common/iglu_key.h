/*
 * iglu_key: Iglu's grammar, once: schema keys "iglu:vendor/name/format/M-R-A", SchemaVer, and
 * criteria whose version parts may be '*' (enriched-event.md §15.1; IGLU-CORE SchemaKey,
 * SchemaVer, SchemaCriterion). iglu_key_parse is the one parser of Iglu URIs in furrow:
 * INVALID_IGLUURI for a wrong shape, INVALID_SCHEMAVER for a bad version.
 */
#ifndef FURROW_IGLU_KEY_H
#define FURROW_IGLU_KEY_H

#include <stddef.h>

/* The longest vendor, name or format furrow accepts (IGLU-CORE has no bound), and a buffer
 * size that holds any key formatted as a URI. */
#define IGLU_PART_MAX 255
#define IGLU_URI_MAX  (5 + 3 * (IGLU_PART_MAX + 1) + 3 * 11)

/* A schema key "iglu:vendor/name/format/model-revision-addition" (enriched-event.md §15.1). */
struct iglu_key {
	char vendor[IGLU_PART_MAX + 1];
	char name[IGLU_PART_MAX + 1];
	char format[IGLU_PART_MAX + 1];
	int  model, revision, addition;
};

/* A schema criterion: a key whose model, revision or addition may be '*' (-1 here). */
struct iglu_criterion {
	char vendor[IGLU_PART_MAX + 1];
	char name[IGLU_PART_MAX + 1];
	char format[IGLU_PART_MAX + 1];
	int  model, revision, addition;
};

/* The one parser of Iglu's grammar (see iglu_key.c). Returns 0, or -1 with *code (may be NULL)
 * set to "INVALID_IGLUURI" for a wrong shape or "INVALID_SCHEMAVER" for a bad version. The
 * n form takes a length (the URI may come from a JSON string holding a NUL). */
int iglu_key_parse(const char *uri, struct iglu_key *key, const char **code);
int iglu_key_parsen(const char *uri, size_t len, struct iglu_key *key, const char **code);
/* A SchemaVer "M-R-A" at s[0..n): 0 or -1. */
int iglu_schemaver_parse(const char *s, size_t n, int *model, int *revision, int *addition);
/* 1 when a key built field by field follows the grammar. */
int iglu_key_valid(const struct iglu_key *key);
/* 1 unless the vendor is made only of dots: such a vendor is a "." or ".." segment in every
 * registry URL and file path, so it names no schema. The resolver never fetches it (an
 * HTTP client would normalise <uri>/schemas/../x/... to a document outside /schemas/), and
 * s3-sink never makes it a key segment. */
int iglu_key_path_safe(const struct iglu_key *key);
/* "iglu:v/n/f/M-R-A" into out (IGLU_URI_MAX bytes hold any key); returns out. */
char *iglu_key_format(const struct iglu_key *key, char *out, size_t outlen);
/* "iglu:v/n/f/M-R-A" where M, R, A may be '*' (IGLU-CORE SchemaCriterion.parse): 0 or -1. */
int iglu_criterion_parse(const char *s, struct iglu_criterion *c);
/* 1 when key matches the criterion. */
int iglu_criterion_matches(const struct iglu_criterion *c, const struct iglu_key *key);
/* Both at once, for a criterion used once. */
int iglu_key_matches(const struct iglu_key *key, const char *criterion);

#endif
