/*
 * badrow: envelopes and the two generic bad-row types (see badrow.h).
 */
#include "badrow.h"

#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "timefmt.h"
#include "version.h"

json_t *
badrow_new(const char *schema, const char *artifact, json_t *failure, json_t *payload)
{
	json_t *row, *data, *proc;

	proc = json_pack("{s:s, s:s}", "artifact", artifact, "version", FURROW_VERSION);
	data = json_object();
	row = json_object();
	if (!proc || !data || !row) {
		json_decref(proc);
		json_decref(data);
		json_decref(row);
		json_decref(failure);
		json_decref(payload);
		return NULL;
	}
	json_object_set_new(data, "processor", proc);
	json_object_set_new(data, "failure", failure ? failure : json_null());
	json_object_set_new(data, "payload", payload ? payload : json_null());
	json_object_set_new(row, "schema", json_string(schema));
	json_object_set_new(row, "data", data);
	return row;
}

int
badrow_write(const json_t *row, struct buf *out)
{
	size_t len = out->len;

	if (jsonw_value(out, row) == -1 || buf_append_byte(out, '\n') == -1) {
		out->len = len;     /* never half a row */
		if (out->data != NULL)
			out->data[len] = '\0';
		return -1;
	}
	return 0;
}

json_t *
badrow_generic_error(const char *artifact, const char *payload, size_t len, const char *error)
{
	char ts[TIMEFMT_BUFSZ];
	json_t *failure;

	timefmt_instant(timefmt_now_ms(), ts);
	failure = json_pack("{s:s, s:[o]}", "timestamp", ts, "errors",
	    jsonw_string_new(error, strlen(error)));
	return badrow_new(BADROW_GENERIC_ERROR, artifact, failure, jsonw_string_new(payload, len));
}

json_t *
badrow_size_violation(const char *artifact, long long max_bytes, long long actual_bytes,
    const char *expectation, const char *payload, size_t payload_len)
{
	char ts[TIMEFMT_BUFSZ];
	json_t *failure;
	size_t elen = strlen(expectation);

	timefmt_instant(timefmt_now_ms(), ts);
	if (elen > 256)
		elen = 256;
	failure = json_pack("{s:s, s:I, s:I, s:o}", "timestamp", ts,
	    "maximumAllowedSizeBytes", (json_int_t)max_bytes,
	    "actualSizeBytes", (json_int_t)actual_bytes,
	    "expectation", jsonw_string_new(expectation, elen));
	return badrow_new(BADROW_SIZE_VIOLATION, artifact, failure,
	    jsonw_string_new(payload, payload_len));
}

static const char *const type_names[BADROW_T_N] = {
	"size_violation", "generic_error", "collector_payload_format_violation",
	"adapter_failures", "tracker_protocol_violations", "schema_violations",
	"enrichment_failures", "other",
};

enum badrow_type
badrow_type_of(const char *schema)
{
	size_t pl = sizeof(BADROW_SCHEMA_PREFIX) - 1, i;

	if (schema == NULL || strncmp(schema, BADROW_SCHEMA_PREFIX, pl) != 0)
		return BADROW_T_OTHER;
	schema += pl;
	for (i = 0; i < BADROW_T_OTHER; i++) {
		size_t n = strlen(type_names[i]);
		if (strncmp(schema, type_names[i], n) == 0 && schema[n] == '/')
			return (enum badrow_type)i;
	}
	return BADROW_T_OTHER;
}

const char *
badrow_type_name(enum badrow_type t)
{
	return t < BADROW_T_N ? type_names[t] : "other";
}
