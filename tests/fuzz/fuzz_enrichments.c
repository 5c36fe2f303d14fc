/*
 * libFuzzer target: the configurable enrichments on hostile event values. The input is split
 * on '\n' into a user agent, a user_ipaddress, a page URL query, the referrer's scheme, host,
 * path and query, a Cookie header and a free header; Mini's default set plus anon_ip, cookie
 * and header extractors, campaign click ids and PII run over them (configurations written
 * once into a temporary directory; run from the repository root). Every column an enrichment
 * writes must stay TSV-safe and every derived context must be a {schema,data} object.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../enrich/enr.h"
#include "thrift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct enrichments *fz_enr;

static void
fz_write(const char *dir, const char *name, const char *text)
{
	char path[4200];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fputs(text, f);
	fclose(f);
}

static void
fz_setup(void)
{
	char tmpl[] = "/tmp/furrow-fuzz-enr.XXXXXX", cwd[2048], conf[8192], err[1024], cmd[4400];
	char *dir = mkdtemp(tmpl);

	if (dir == NULL || getcwd(cwd, sizeof(cwd)) == NULL)
		abort();
	snprintf(cmd, sizeof(cmd), "cp enrichments/default/campaign_attribution.json "
	    "enrichments/default/event_fingerprint_config.json enrichments/default/ua_parser_config.json '%s/'",
	    dir);
	if (system(cmd) != 0)
		abort();
	snprintf(conf, sizeof(conf),
	    "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/referer_parser/jsonschema/2-0-1\",\"data\":{"
	    "\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":\"referer_parser\",\"enabled\":true,"
	    "\"parameters\":{\"database\":\"referers.json\",\"internalDomains\":[\"a.b\"],"
	    "\"uri\":\"file://%s/enrichments/data\"}}}", cwd);
	fz_write(dir, "referer_parser.json", conf);
	fz_write(dir, "anon_ip.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/anon_ip/jsonschema/1-0-1\","
	    "\"data\":{\"name\":\"anon_ip\",\"vendor\":\"com.snowplowanalytics.snowplow\",\"enabled\":true,"
	    "\"parameters\":{\"anonOctets\":2,\"anonSegments\":3}}}");
	fz_write(dir, "cookie.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/cookie_extractor_config/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"cookie_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow\","
	    "\"enabled\":true,\"parameters\":{\"cookies\":[\"sp\",\"\",\"a\"]}}}");
	fz_write(dir, "header.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/http_header_extractor_config/jsonschema/1-0-0\","
	    "\"data\":{\"name\":\"http_header_extractor_config\",\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\","
	    "\"enabled\":true,\"parameters\":{\"headersPattern\":\".*\"}}}");
	fz_write(dir, "pii.json", "{\"schema\":\"iglu:com.snowplowanalytics.snowplow.enrichments/pii_enrichment_config/jsonschema/2-0-0\","
	    "\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow.enrichments\",\"name\":\"pii_enrichment_config\","
	    "\"emitEvent\":false,\"enabled\":true,\"parameters\":{\"pii\":[{\"pojo\":{\"field\":\"mkt_term\"}},"
	    "{\"json\":{\"field\":\"derived_contexts\",\"schemaCriterion\":\"iglu:org.ietf/http_cookie/jsonschema/1-*-*\",\"jsonPath\":\"$..value\"}}],"
	    "\"strategy\":{\"pseudonymize\":{\"hashFunction\":\"SHA-256\",\"salt\":\"s\"}}}}}");
	fz_enr = enrichments_load(dir, NULL, err, sizeof(err));
	if (fz_enr == NULL) {
		fprintf(stderr, "fuzz_enrichments: %s\n", err);
		abort();
	}
}

static int
fz_set(struct enrich_event *ev, int col, const char *s, size_t len)
{
	char *c = malloc(len + 1);

	if (c == NULL)
		return -1;
	memcpy(c, s, len);
	c[len] = '\0';
	free(ev->col[col]);
	ev->col[col] = len ? c : NULL;
	if (!len)
		free(c);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int cols[] = {
		COL_USERAGENT, COL_USER_IPADDRESS, COL_PAGE_URLQUERY, COL_REFR_URLSCHEME,
		COL_REFR_URLHOST, COL_REFR_URLPATH, COL_REFR_URLQUERY,
	};
	static const int checked[] = {
		COL_REFR_MEDIUM, COL_REFR_SOURCE, COL_REFR_TERM, COL_MKT_MEDIUM, COL_MKT_SOURCE,
		COL_MKT_TERM, COL_MKT_CONTENT, COL_MKT_CAMPAIGN, COL_MKT_CLICKID, COL_MKT_NETWORK,
		COL_EVENT_FINGERPRINT,
	};
	struct enrich_event ev;
	struct thrift_payload p;
	json_t *failures = json_array(), *e;
	const char *s = (const char *)data, *end = s + size;
	size_t i, f = 0;

	if (fz_enr == NULL)
		fz_setup();
	memset(&ev, 0, sizeof(ev));
	thrift_payload_init(&p);
	ev.payload = &p;
	while (s <= end && f < 9) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (f < 7)
			fz_set(&ev, cols[f], s, len);
		else
			thrift_payload_add_header(&p, s, len);
		f++;
		s += len + 1;
	}
	fz_set(&ev, COL_PAGE_URL, "http://x/", 9);
	fz_set(&ev, COL_PAGE_REFERRER, "http://y/", 9);
	fz_set(&ev, COL_PAGE_URLHOST, "a.b", 3);
	ev.params = calloc(2, sizeof(*ev.params));
	ev.params[0].name = strdup("e");
	ev.params[0].value = strdup("pv");
	ev.params[1].name = strdup("ua");
	ev.params[1].value = ev.col[COL_USERAGENT] ? strdup(ev.col[COL_USERAGENT]) : NULL;
	ev.n_params = 2;
	enrichments_apply(fz_enr, ENRICH_STAGE_EARLY, &ev, failures);
	enrichments_apply(fz_enr, ENRICH_STAGE_LATE, &ev, failures);
	for (i = 0; i < sizeof(checked) / sizeof(checked[0]); i++) {
		const char *c = ev.col[checked[i]];
		if (c && (*c == '\0' || strpbrk(c, "\t\r\n") != NULL))
			abort();
	}
	json_array_foreach(ev.derived, i, e)
		if (!json_is_string(json_object_get(e, "schema")) || json_object_get(e, "data") == NULL)
			abort();
	for (i = 0; i < EVENT_NCOLS; i++)
		free(ev.col[i]);
	for (i = 0; i < ev.n_params; i++) {
		free(ev.params[i].name);
		free(ev.params[i].value);
	}
	free(ev.params);
	json_decref(ev.derived);
	json_decref(failures);
	thrift_payload_free(&p);
	return 0;
}
