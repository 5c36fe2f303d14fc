/*
 * pg_badrows: the bad-rows table and its rows (see pg_badrows.h).
 */
#include "pg_badrows.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "iglu.h"
#include "jsonschema.h"
#include "jsonw.h"
#include "pg_copy.h"

int
pgbad_create_sql(struct buf *out, const char *qschema)
{
	return buf_printf(out,
	    "CREATE TABLE IF NOT EXISTS %s.%s (\n"
	    "  row_id UUID NOT NULL,\n"
	    "  schema TEXT,\n"
	    "  schema_vendor VARCHAR(255),\n"
	    "  schema_name VARCHAR(255),\n"
	    "  schema_format VARCHAR(255),\n"
	    "  schema_version VARCHAR(32),\n"
	    "  failure_tstamp TIMESTAMP,\n"
	    "  processor_artifact TEXT,\n"
	    "  processor_version TEXT,\n"
	    "  failure JSONB,\n"
	    "  payload JSONB,\n"
	    "  load_tstamp TIMESTAMP NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')\n"
	    ");\n"
	    "CREATE UNIQUE INDEX IF NOT EXISTS %s_row_id_key ON %s.%s (row_id);\n",
	    qschema, PGBAD_TABLE, PGBAD_TABLE, qschema, PGBAD_TABLE);
}

static int
pgb_null(struct buf *row)
{
	return buf_append(row, "\t" PGCOPY_NULL, 3);
}

static int
pgb_text(struct buf *row, const char *s, size_t n)
{
	return buf_append_byte(row, '\t') == -1 ? -1 : pgcopy_field(row, s, n);
}

static int
pgb_string(struct buf *row, const json_t *v)
{
	return json_is_string(v) ? pgb_text(row, json_string_value(v), json_string_length(v)) :
	    pgb_null(row);
}

static int
pgb_json(struct buf *row, const json_t *v, struct buf *tmp)
{
	if (v == NULL)
		return pgb_null(row);
	buf_reset(tmp);
	if (jsonw_value(tmp, v) == -1)
		return -1;
	return pgb_text(row, tmp->data, tmp->len);
}

int
pgbad_row(const char *line, size_t len, struct buf *row, char key[PGBAD_KEY_LEN + 1],
    char *err, size_t errlen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	json_error_t jerr;
	json_t *doc, *schema, *data, *failure = NULL, *payload, *proc = NULL;
	struct iglu_key k;
	struct buf tmp;
	size_t start = row->len;
	int selfdesc, rc = -2;

	doc = jsonschema_json_loadb(line, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, 0, &jerr);
	if (doc == NULL) {
		snprintf(err, errlen, "cannot parse line as JSON: %s", jerr.text);
		return -1;
	}
	if (EVP_Digest(line, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen < 16) {
		json_decref(doc);
		return -2;
	}
	snprintf(key, PGBAD_KEY_LEN + 1, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7],
	    md[8], md[9], md[10], md[11], md[12], md[13], md[14], md[15]);
	buf_init(&tmp, 0);
	schema = json_object_get(doc, "schema");
	data = json_object_get(doc, "data");
	selfdesc = json_is_object(doc) && json_is_string(schema) && data != NULL;
	if (json_is_object(data)) {
		failure = json_object_get(data, "failure");
		proc = json_object_get(data, "processor");
	}
	payload = selfdesc ? (json_is_object(data) ? json_object_get(data, "payload") : data) : doc;
	if (buf_append(row, key, PGBAD_KEY_LEN) == -1 || pgb_string(row, selfdesc ? schema : NULL))
		goto out;
	if (selfdesc && iglu_key_parsen(json_string_value(schema), json_string_length(schema), &k,
	    NULL) == 0) {
		if (pgb_text(row, k.vendor, strlen(k.vendor)) || pgb_text(row, k.name, strlen(k.name)) ||
		    pgb_text(row, k.format, strlen(k.format)) ||
		    buf_printf(row, "\t%d-%d-%d", k.model, k.revision, k.addition))
			goto out;
	} else if (pgb_null(row) || pgb_null(row) || pgb_null(row) || pgb_null(row)) {
		goto out;
	}
	{
		const json_t *ts = json_is_object(failure) ? json_object_get(failure, "timestamp") : NULL;
		char t[PGCOPY_TS_BUFSZ];
		if (json_is_string(ts) && pgcopy_timestamp(json_string_value(ts),
		    json_string_length(ts), t) == 0) {
			if (pgb_text(row, t, strlen(t)))
				goto out;
		} else if (pgb_null(row)) {
			goto out;
		}
	}
	if (pgb_string(row, json_is_object(proc) ? json_object_get(proc, "artifact") : NULL) ||
	    pgb_string(row, json_is_object(proc) ? json_object_get(proc, "version") : NULL) ||
	    pgb_json(row, selfdesc ? failure : NULL, &tmp) || pgb_json(row, payload, &tmp) ||
	    buf_append_byte(row, '\n'))
		goto out;
	rc = 0;
out:
	if (rc != 0) {
		row->len = start;
		if (row->data)
			row->data[start] = '\0';
	}
	buf_free(&tmp);
	json_decref(doc);
	return rc;
}
