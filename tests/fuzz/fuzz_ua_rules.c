/*
 * libFuzzer target: the two readers of a uap-core rules file (enrich/enr_ua_rules.c). The input
 * is a rules file; when the scan reads it, libyaml must read the same rules from it (or fail
 * with the same message), since the scan stands in for libyaml on uap-core's regexes.yaml.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../enrich/enr_ua_parser.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[512], err2[512];
	struct enr_ua_parser *a, *b;
	char *da, *db;

	a = enr_ua_parser_load_buf((const char *)data, size, 2, err, sizeof(err));
	if (a == NULL && !strcmp(err, "not in the subset of YAML the scan reads"))
		return 0;
	b = enr_ua_parser_load_buf((const char *)data, size, 1, err2, sizeof(err2));
	if ((a == NULL) != (b == NULL)) {
		fprintf(stderr, "scan: %s, libyaml: %s\n", a ? "ok" : err, b ? "ok" : err2);
		abort();
	}
	if (a == NULL) {
		if (strcmp(err, err2)) {
			fprintf(stderr, "scan: %s\nlibyaml: %s\n", err, err2);
			abort();
		}
		return 0;
	}
	da = enr_ua_parser_dump(a);
	db = enr_ua_parser_dump(b);
	if (da == NULL || db == NULL || strcmp(da, db)) {
		fprintf(stderr, "scan:\n%s\nlibyaml:\n%s\n", da ? da : "?", db ? db : "?");
		abort();
	}
	free(da);
	free(db);
	enr_ua_parser_free(a);
	enr_ua_parser_free(b);
	return 0;
}
