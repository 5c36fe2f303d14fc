/*
 * mkraw: build raw-stream lines (base64 Thrift CollectorPayload, enriched-event.md §1, §12) from
 * a readable description, one JSON object per input line, using common/thrift as the collector
 * does. Tests and benchmarks use it to make realistic records by hand.
 *
 *   {"path":"/i","qs":"e=pv&p=web","ip":"203.0.113.7","ts":1700000000000,
 *    "ua":"curl/8", "refr":"http://…", "body":"…", "ct":"application/json",
 *    "headers":["Host: x"], "hostname":"x", "nuid":"uuid", "collector":"…",
 *    "encoding":"UTF-8", "schema":"iglu:…"}
 *
 * Defaults: ip 203.0.113.7, ts 1700000000000, encoding UTF-8, collector
 * furrow-collector-0.1.0-stdout, the CollectorPayload schema. A key with null value is left
 * unset. "repeat":N writes the line N times. Build:
 *   cc -Icommon tests/tools/mkraw.c common/thrift.c common/base64.c common/buf.c -ljansson
 */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "thrift.h"

static void
set(json_t *o, const char *key, struct tstr *t, const char *dflt)
{
	json_t *v = json_object_get(o, key);

	if (v == NULL && dflt)
		thrift_tstr_set(t, dflt, strlen(dflt));
	else if (json_is_string(v))
		thrift_tstr_set(t, json_string_value(v), json_string_length(v));
}

int
main(void)
{
	char *line = NULL;
	size_t cap = 0, lineno = 0;

	while (getline(&line, &cap, stdin) > 0) {
		struct thrift_payload p;
		json_error_t err;
		json_t *o, *v;
		struct buf b;
		char *out;
		long long i, repeat = 1;

		lineno++;
		if (line[0] == '\n' || line[0] == '#')
			continue;
		o = json_loads(line, 0, &err);
		if (!json_is_object(o)) {
			fprintf(stderr, "mkraw: line %zu: %s\n", lineno, err.text);
			return 65;
		}
		thrift_payload_init(&p);
		set(o, "schema", &p.schema, THRIFT_PAYLOAD_SCHEMA);
		set(o, "ip", &p.ip_address, "203.0.113.7");
		v = json_object_get(o, "ts");
		p.timestamp = v ? json_integer_value(v) : 1700000000000LL;
		p.has_timestamp = 1;
		set(o, "encoding", &p.encoding, "UTF-8");
		set(o, "collector", &p.collector, "furrow-collector-0.1.0-stdout");
		set(o, "ua", &p.user_agent, NULL);
		set(o, "refr", &p.referer_uri, NULL);
		set(o, "path", &p.path, "/i");
		set(o, "qs", &p.querystring, NULL);
		set(o, "body", &p.body, NULL);
		set(o, "ct", &p.content_type, NULL);
		set(o, "hostname", &p.hostname, "collector.example.com");
		set(o, "nuid", &p.network_user_id, NULL);
		v = json_object_get(o, "headers");
		if (json_is_array(v)) {
			size_t k;
			for (k = 0; k < json_array_size(v); k++) {
				json_t *h = json_array_get(v, k);
				thrift_payload_add_header(&p, json_string_value(h), json_string_length(h));
			}
		}
		if ((v = json_object_get(o, "repeat")) != NULL)
			repeat = json_integer_value(v);
		buf_init(&b, 0);
		if (thrift_payload_encode(&p, &b) == -1)
			return 70;
		out = malloc(base64_encoded_len(b.len) + 1);
		base64_encode((const uint8_t *)b.data, b.len, out);
		for (i = 0; i < repeat; i++)
			printf("%s\n", out);
		free(out);
		buf_free(&b);
		thrift_payload_free(&p);
		json_decref(o);
	}
	free(line);
	return 0;
}
