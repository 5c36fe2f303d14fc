/*
 * mapping: Snowplow Mini 0.23.1's index settings and mappings, adapted so they load on every
 * engine furrow is tested with (sinks.md §2.9-2.11):
 *  - date format "date_optional_time" instead of Mini's camelCase "dateOptionalTime", which
 *    Elasticsearch 8 refuses ("Unknown pattern letter: t"); both name the same format;
 *  - the analysis block (keyword tokenizer + length filter) is dropped when the engine lacks the
 *    analysis-common module (the integ-test-zip distributions): the mapped types need no analyzer;
 *  - index.refresh_interval is 500ms rather than the engine's 1 s default, so that with
 *    es-sink's 200 ms flush delay an event is searchable within a second of being read.
 */
#include "mapping.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

#define MAPPING_DATE_FORMAT "date_optional_time"

static json_t *
mp_type(const char *type)
{
	return json_pack("{s:s}", "type", type);
}

/* Mini's "T": text with a keyword sub-field. */
static json_t *
mp_text(void)
{
	return json_pack("{s:s, s:{s:{s:s, s:i}}}", "type", "text", "fields", "keyword", "type",
	    "keyword", "ignore_above", 256);
}

static json_t *
mp_date(void)
{
	return json_pack("{s:s, s:s}", "type", "date", "format", MAPPING_DATE_FORMAT);
}

static json_t *
mp_obj(const char *type, json_t *props)
{
	return json_pack("{s:s, s:o}", "type", type, "properties", props);
}

/* Object with every name in a space-separated list mapped to T. */
static json_t *
mp_texts(json_t *props, const char *names)
{
	char tmp[1024], *save, *tok;

	snprintf(tmp, sizeof(tmp), "%s", names);
	for (tok = strtok_r(tmp, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		json_object_set_new(props, tok, mp_text());
	return props;
}

static json_t *
mp_good_props(void)
{
	static const char *const kw[] = { "app_id", "platform", "event", "event_id",
	    "name_tracker", "v_tracker", "v_collector", "v_etl", "user_id", "user_ipaddress",
	    "user_fingerprint", "domain_userid", "domain_sessionid", "network_userid", "page_url",
	    "page_title", "page_referrer", "page_urlscheme", "page_urlhost", "page_urlpath",
	    "page_urlquery", "page_urlfragment", "refr_urlscheme", "refr_urlhost", "refr_urlpath",
	    "refr_urlquery", "refr_urlfragment", "refr_medium", "refr_source", "refr_term",
	    "mkt_medium", "mkt_source", "mkt_term", "mkt_content", "mkt_campaign", "se_category",
	    "se_action", "se_label", "useragent", "br_name", "br_family", "br_version", "br_type",
	    "br_renderengine", "br_lang", "br_colordepth", "os_name", "os_family",
	    "os_manufacturer", "os_timezone", "dvce_type", "doc_charset", NULL };
	static const char *const lg[] = { "domain_sessionidx", "page_urlport", "refr_urlport",
	    "pp_xoffset_min", "pp_xoffset_max", "pp_yoffset_min", "pp_yoffset_max", "br_viewwidth",
	    "br_viewheight", "dvce_screenwidth", "dvce_screenheight", "doc_width", "doc_height",
	    NULL };
	static const char *const bo[] = { "br_features_pdf", "br_features_flash",
	    "br_features_java", "br_features_director", "br_features_quicktime",
	    "br_features_realplayer", "br_features_windowsmedia", "br_features_gears",
	    "br_features_silverlight", "br_cookies", "dvce_ismobile", NULL };
	static const char *const dt[] = { "collector_tstamp", "etl_tstamp", "dvce_sent_tstamp",
	    "dvce_tstamp", NULL };
	json_t *p = json_object();
	int i;

	for (i = 0; kw[i]; i++)
		json_object_set_new(p, kw[i], json_pack("{s:s, s:b}", "type", "keyword", "index", 1));
	for (i = 0; lg[i]; i++)
		json_object_set_new(p, lg[i], mp_type("long"));
	for (i = 0; bo[i]; i++)
		json_object_set_new(p, bo[i], mp_type("boolean"));
	for (i = 0; dt[i]; i++)
		json_object_set_new(p, dt[i], mp_date());
	json_object_set_new(p, "geo_location", mp_type("geo_point"));
	return p;
}

/* The `error` object layout shared by data.failure.messages.message.error and failure_list. */
static json_t *
mp_error_obj(int reports_nested, int history_nested)
{
	json_t *p = mp_texts(json_object(), "error");
	json_t *hist_errors = mp_texts(json_object(), "error message");
	json_t *hist = json_object();

	json_object_set_new(p, "dataReports", mp_obj(reports_nested ? "nested" : "object",
	    mp_texts(json_object(), "keyword message path targets")));
	json_object_set_new(hist, "attempts", mp_type("long"));
	json_object_set_new(hist, "lastAttempt", mp_date());
	mp_texts(hist, "repository");
	json_object_set_new(hist, "errors", mp_obj(history_nested ? "nested" : "object",
	    hist_errors));
	json_object_set_new(p, "lookupHistory", mp_obj(history_nested ? "nested" : "object", hist));
	json_object_set_new(p, "schemaIssues", mp_obj("nested",
	    mp_texts(json_object(), "message path")));
	return p;
}

static json_t *
mp_bad_props(void)
{
	json_t *top = json_object(), *data = json_object(), *failure = json_object();
	json_t *msgs, *msg, *flist, *payload, *raw, *enriched, *enrichment;

	/* data.failure.messages */
	msgs = mp_texts(json_object(), "actual error_str expectation expectedMapping field json "
	    "schemaCriterion schemaKey value");
	enrichment = json_pack("{s:{s:s}, s:{s:s}}", "identifier", "type", "keyword", "schemaKey",
	    "type", "keyword");
	json_object_set_new(msgs, "enrichment", mp_obj("object", enrichment));
	json_object_set_new(msgs, "error", mp_obj("object", mp_error_obj(0, 1)));
	msg = mp_texts(json_object(), "error_str expectation field schemaKey value");
	json_object_set_new(msg, "error", mp_obj("object", mp_error_obj(1, 0)));
	json_object_set_new(msgs, "message", mp_obj("object", msg));

	/* data.failure */
	json_object_set_new(failure, "timestamp", mp_date());
	json_object_set_new(failure, "actualSizeBytes", mp_type("long"));
	json_object_set_new(failure, "maximumAllowedSizeBytes", mp_type("long"));
	json_object_set_new(failure, "fieldCount", mp_type("long"));
	json_object_set_new(failure, "loader", mp_type("keyword"));
	mp_texts(failure, "expectation type vendor version");
	json_object_set_new(failure, "error", mp_obj("object",
	    mp_texts(json_object(), "location message reason")));
	json_object_set_new(failure, "errors", mp_obj("object",
	    mp_texts(json_object(), "key message type value")));
	json_object_set_new(failure, "message", mp_obj("object",
	    mp_texts(json_object(), "error expectation payloadField value")));
	json_object_set_new(failure, "messages", mp_obj("nested", msgs));

	/* data.failure_list */
	flist = mp_texts(json_object(), "expected key message schemaCriterion schemaKey value");
	json_object_set_new(flist, "error", mp_obj("object", mp_error_obj(1, 0)));

	/* data.payload */
	payload = mp_texts(json_object(), "body collector contentType encoding event_id headers "
	    "hostname ipAddress networkUserId refererUri useragent v_collector v_etl vendor version");
	json_object_set_new(payload, "collector_tstamp", mp_date());
	json_object_set_new(payload, "timestamp", mp_date());
	json_object_set_new(payload, "contexts", json_pack("{s:s}", "type", "object"));
	json_object_set_new(payload, "derived_contexts", json_pack("{s:s}", "type", "object"));
	json_object_set_new(payload, "querystring", mp_obj("object",
	    mp_texts(json_object(), "name value")));
	raw = mp_texts(json_object(), "contentType encoding headers hostname ipAddress loaderName "
	    "parameters refererUri userId useragent vendor version");
	json_object_set_new(raw, "timestamp", mp_date());
	json_object_set_new(payload, "raw", mp_obj("object", raw));
	enriched = mp_texts(json_object(), "v_collector v_etl");
	json_object_set_new(enriched, "collector_tstamp", mp_type("text"));
	json_object_set_new(payload, "enriched", mp_obj("object", enriched));

	json_object_set_new(data, "failure", mp_obj("object", failure));
	json_object_set_new(data, "failure_list", mp_obj("object", flist));
	json_object_set_new(data, "failure_str", mp_text());
	json_object_set_new(data, "payload", mp_obj("object", payload));
	json_object_set_new(data, "payload_str", mp_text());
	json_object_set_new(data, "processor", mp_obj("object",
	    mp_texts(json_object(), "artifact version")));

	json_object_set_new(top, "schema", mp_type("keyword"));
	json_object_set_new(top, "data", mp_obj("object", data));
	return top;
}

json_t *
mapping_body(enum mapping_kind kind, int with_analysis)
{
	json_t *settings, *body;

	settings = json_pack("{s:{s:i, s:i, s:s}}", "index", "number_of_shards", 2,
	    "number_of_replicas", 0, "refresh_interval", "500ms");
	if (with_analysis)
		json_object_set_new(settings, "analysis", json_pack(
		    "{s:{s:{s:s, s:s, s:[s]}}, s:{s:{s:s, s:i}}}",
		    "analyzer", "default", "type", "custom", "tokenizer", "keyword", "filter",
		    "oversized-fields",
		    "filter", "oversized-fields", "type", "length", "max", 8191));
	body = json_pack("{s:o}", "settings", settings);
	if (kind == MAPPING_GOOD)
		json_object_set_new(body, "mappings", json_pack("{s:o}", "properties",
		    mp_good_props()));
	else if (kind == MAPPING_BAD)
		json_object_set_new(body, "mappings", json_pack("{s:o}", "properties",
		    mp_bad_props()));
	return body;
}

static int
mp_put(struct esclient *c, const char *path, enum mapping_kind kind, int with_analysis,
    long *status, struct buf *resp, char *err, size_t errlen)
{
	json_t *body = mapping_body(kind, with_analysis);
	char *s = json_dumps(body, JSON_COMPACT);
	int rc;

	json_decref(body);
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	buf_reset(resp);
	rc = esclient_request(c, "PUT", path, "application/json", s, strlen(s), status, resp, err,
	    errlen);
	free(s);
	return rc;
}

int
mapping_setup(struct esclient *c, const char *index, enum mapping_kind kind, char *err,
    size_t errlen)
{
	char path[600];
	struct buf resp;
	long status = 0;
	int rc = -1;

	buf_init(&resp, 0);
	snprintf(path, sizeof(path), "/%s", index);
	if (esclient_request(c, "HEAD", path, NULL, NULL, 0, &status, &resp, err, errlen) == -1)
		goto out;
	if (status == 200) {
		rc = 0;
		goto out;
	}
	if (status != 404) {
		snprintf(err, errlen, "HEAD %s: HTTP %ld", path, status);
		goto out;
	}
	if (mp_put(c, path, kind, 1, &status, &resp, err, errlen) == -1)
		goto out;
	if (status == 400 && resp.data && (strstr(resp.data, "Unknown filter type") ||
	    strstr(resp.data, "Unknown tokenizer") || strstr(resp.data, "analyzer") ||
	    strstr(resp.data, "analysis"))) {
		if (mp_put(c, path, kind, 0, &status, &resp, err, errlen) == -1)
			goto out;
	}
	if (status >= 200 && status < 300)
		rc = 1;
	else if (status == 400 && resp.data && strstr(resp.data, "resource_already_exists_exception"))
		rc = 0;
	else
		snprintf(err, errlen, "PUT %s: HTTP %ld: %.400s", path, status,
		    resp.data ? resp.data : "");
out:
	buf_free(&resp);
	return rc;
}
