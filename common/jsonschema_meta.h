/*
 * jsonschema_meta: the two meta-schemas the validator knows without any registry: JSON Schema
 * draft-04 (http://json-schema.org/draft-04/schema#) and Iglu's self-describing meta-schema
 * (iglu:com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0, enriched-event.md §15.4).
 * Both are written out here from their published definitions so that checking a schema never
 * needs the network or the embedded registry.
 */
#ifndef FURROW_JSONSCHEMA_META_H
#define FURROW_JSONSCHEMA_META_H

extern const char JSONSCHEMA_META_DRAFT04[];
extern const char JSONSCHEMA_META_SELFDESC[];

#define JSONSCHEMA_DRAFT04_URI  "http://json-schema.org/draft-04/schema"
#define JSONSCHEMA_SELFDESC_URI \
	"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0"
#define JSONSCHEMA_SELFDESC_IGLU "iglu:com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0"

#endif
