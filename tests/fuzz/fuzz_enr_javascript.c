/*
 * libFuzzer target: the JavaScript enrichment (enrich/enr_javascript.c) on hostile inputs. The
 * input is split on '\n': line 1 is a JavaScript expression whose value process returns (eval:
 * any result shape, toJSON, getters that throw, runaway loops caught by the time budget, heap
 * growth caught by the memory budget); line 2 is handed to every setter (setContexts,
 * setUnstruct_event, setDerived_contexts, setPii, string, integer, decimal and byte fields);
 * line 3 becomes the event's contexts when it is a JSON array; the rest are HTTP headers.
 * A line 1 starting with \x01 is instead the text JSON.stringify returns (arbitrary bytes for
 * the result reader, which reads Duktape's compact stringify text and leaves the rest to
 * json_loadb). One compiled script serves every input, as in enrich. Every column the script
 * writes must stay TSV-safe and UTF-8, the contexts and unstruct_event columns JSON, and every
 * derived context a {schema,data} object.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../enrich/enr.h"
#include "base64.h"
#include "thrift.h"
#include "utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct enrichments *fz_enr;

static const char FZ_SCRIPT[] =
    "var stringify0 = JSON.stringify;\n"
    "function process(event, params, headers) {\n"
    "  var v = event.getUser_id(), r, a = event.getApp_id() || 'null';\n"
    "  try { event.setContexts(v); } catch (e) {}\n"
    "  try { event.setUnstruct_event(v); } catch (e) {}\n"
    "  try { event.setDerived_contexts(v); } catch (e) {}\n"
    "  try { event.setPii(v); } catch (e) {}\n"
    "  try { event.setTr_total(v); } catch (e) {}\n"
    "  event.setPage_title(v + '|' + headers.join('\\t') + '|' + event.getContexts());\n"
    "  event.setSe_label(String(event.getUnstruct_event()) + event.getDerived_contexts());\n"
    "  event.setDomain_sessionidx(v);\n"
    "  if (v === 'drop') event.drop();\n"
    "  JSON.stringify = stringify0;\n"
    "  if (a.charAt(0) === '\\u0001') {\n"
    "    JSON.stringify = function () { return a.substring(1); };\n"
    "    return 1;\n"
    "  }\n"
    "  r = eval(a);\n"
    "  return r;\n"
    "}\n";

static void
fz_setup(void)
{
	char tmpl[] = "/tmp/furrow-fuzz-js.XXXXXX", path[4200], err[1024];
	char *dir = mkdtemp(tmpl), *b64 = malloc(base64_encoded_len(sizeof(FZ_SCRIPT) - 1) + 1);
	FILE *f;

	if (dir == NULL || b64 == NULL)
		abort();
	base64_encode((const uint8_t *)FZ_SCRIPT, sizeof(FZ_SCRIPT) - 1, b64);
	snprintf(path, sizeof(path), "%s/js.json", dir);
	if ((f = fopen(path, "w")) == NULL)
		abort();
	fprintf(f, "{\"schema\":\"iglu:com.snowplowanalytics.snowplow/javascript_script_config/"
	    "jsonschema/1-0-1\",\"data\":{\"vendor\":\"com.snowplowanalytics.snowplow\",\"name\":"
	    "\"javascript_script_config\",\"enabled\":true,\"parameters\":{\"script\":\"%s\","
	    "\"config\":{\"k\":[1,\"two\",{\"3\":null}]}}}}", b64);
	fclose(f);
	free(b64);
	fz_enr = enrichments_load(dir, NULL, err, sizeof(err));
	if (fz_enr == NULL) {
		fprintf(stderr, "fuzz_enr_javascript: %s\n", err);
		abort();
	}
	unlink(path);
	rmdir(dir);
}

static void
fz_set(struct enrich_event *ev, int col, const char *s, size_t len)
{
	free(ev->col[col]);
	ev->col[col] = NULL;
	if (len && (ev->col[col] = malloc(len + 1)) != NULL) {
		memcpy(ev->col[col], s, len);
		ev->col[col][len] = '\0';
	}
}

/* A column the script wrote: no TAB or line end, valid UTF-8, JSON where it is JSON. */
static void
fz_check(const struct enrich_event *ev, int col, int json)
{
	const char *c = ev->col[col];
	json_t *j;

	if (c == NULL)
		return;
	if (strpbrk(c, "\t\r\n") != NULL || utf8_valid_prefix(c, strlen(c)) != strlen(c))
		abort();
	if (json) {
		if ((j = json_loads(c, 0, NULL)) == NULL)
			abort();
		json_decref(j);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int cols[] = { COL_APP_ID, COL_USER_ID };
	struct enrich_event ev;
	struct thrift_payload *p = calloc(1, sizeof(*p));
	json_t *failures = json_array(), *e;
	const char *s = (const char *)data, *end = s + size;
	size_t i, f = 0;

	if (fz_enr == NULL)
		fz_setup();
	if (p == NULL || failures == NULL)
		abort();
	memset(&ev, 0, sizeof(ev));
	thrift_payload_init(p);
	ev.payload = p;
	while (s <= end && f < 8) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		size_t len = nl ? (size_t)(nl - s) : (size_t)(end - s);
		if (f < 2) {
			fz_set(&ev, cols[f], s, len);
		} else if (f == 2) {
			json_t *j = json_loadb(s, len, 0, NULL);
			if (json_is_array(j))
				ev.contexts = json_incref(j);
			json_decref(j);
		} else {
			thrift_payload_add_header(p, s, len);
		}
		f++;
		s += len + 1;
	}
	enrichments_apply(fz_enr, ENRICH_STAGE_LATE, &ev, failures);
	fz_check(&ev, COL_PAGE_TITLE, 0);
	fz_check(&ev, COL_SE_LABEL, 0);
	fz_check(&ev, COL_TR_TOTAL, 0);
	fz_check(&ev, COL_DOMAIN_SESSIONIDX, 0);
	fz_check(&ev, COL_CONTEXTS, 1);
	fz_check(&ev, COL_UNSTRUCT_EVENT, 1);
	json_array_foreach(ev.derived, i, e)
		if (!json_is_string(json_object_get(e, "schema")) || json_object_get(e, "data") == NULL)
			abort();
	for (i = 0; i < EVENT_NCOLS; i++)
		free(ev.col[i]);
	json_decref(ev.contexts);
	json_decref(ev.unstruct);
	json_decref(ev.derived);
	json_decref(ev.pii);
	json_decref(failures);
	thrift_payload_free(p);
	free(p);
	return 0;
}
