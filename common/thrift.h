/*
 * thrift: Snowplow's CollectorPayload 1-0-0 in the Thrift binary protocol
 * (enriched-event.md §12). The collector encodes one per tracking request; enrich decodes them.
 *
 * The decoder treats its input as hostile: every length and count is checked against the bytes
 * that remain before anything is read or allocated, nesting of skipped unknown fields is bounded,
 * and a known field id with an unexpected type is skipped and left unset, as Java's generated
 * reader does.
 */
#ifndef FURROW_THRIFT_H
#define FURROW_THRIFT_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define THRIFT_PAYLOAD_SCHEMA "iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0"

/* Field ids (enriched-event.md §12.1, after the 2015 renumbering). */
enum thrift_payload_field {
	TP_FIELD_IP_ADDRESS      = 100,
	TP_FIELD_TIMESTAMP       = 200,
	TP_FIELD_ENCODING        = 210,
	TP_FIELD_COLLECTOR       = 220,
	TP_FIELD_USER_AGENT      = 300,
	TP_FIELD_REFERER_URI     = 310,
	TP_FIELD_PATH            = 320,
	TP_FIELD_QUERYSTRING     = 330,
	TP_FIELD_BODY            = 340,
	TP_FIELD_HEADERS         = 350,
	TP_FIELD_CONTENT_TYPE    = 360,
	TP_FIELD_HOSTNAME        = 400,
	TP_FIELD_NETWORK_USER_ID = 410,
	TP_FIELD_SCHEMA          = 31337,
};

/* Thrift type bytes (§12.2). */
enum thrift_type {
	TTYPE_STOP = 0, TTYPE_BOOL = 2, TTYPE_BYTE = 3, TTYPE_DOUBLE = 4, TTYPE_I16 = 6,
	TTYPE_I32 = 8, TTYPE_I64 = 10, TTYPE_STRING = 11, TTYPE_STRUCT = 12, TTYPE_MAP = 13,
	TTYPE_SET = 14, TTYPE_LIST = 15,
};

/* A Thrift string: bytes plus length, NUL-terminated for convenience. s == NULL means unset. */
struct tstr {
	char   *s;
	size_t  len;
};

struct thrift_payload {
	struct tstr  schema;           /* 31337 */
	struct tstr  ip_address;       /* 100 */
	int64_t      timestamp;        /* 200, ms since the epoch */
	int          has_timestamp;
	struct tstr  encoding;         /* 210 */
	struct tstr  collector;        /* 220 */
	struct tstr  user_agent;       /* 300 */
	struct tstr  referer_uri;      /* 310 */
	struct tstr  path;             /* 320 */
	struct tstr  querystring;      /* 330 */
	struct tstr  body;             /* 340 */
	struct tstr *headers;          /* 350 */
	size_t       n_headers;
	int          has_headers;
	struct tstr  content_type;     /* 360 */
	struct tstr  hostname;         /* 400 */
	struct tstr  network_user_id;  /* 410 */
};

/* Initialise to all-unset. */
void thrift_payload_init(struct thrift_payload *p);
/* Free every owned string. The struct is left all-unset. */
void thrift_payload_free(struct thrift_payload *p);

/* Set a string field to a copy of s[0..len). Returns 0 or -1 on allocation failure. */
int thrift_tstr_set(struct tstr *t, const char *s, size_t len);
/* Append a copy of a header line. Returns 0 or -1. */
int thrift_payload_add_header(struct thrift_payload *p, const char *s, size_t len);

/*
 * Append the binary encoding to out, fields in ascending id order, unset optional fields left
 * out; schema, ip_address, timestamp, encoding and collector are always written (empty if unset).
 * Returns 0, or -1 if out's cap was reached.
 */
int thrift_payload_encode(const struct thrift_payload *p, struct buf *out);

/*
 * Decode len bytes into p (which must be initialised; it is freed first). Returns 0, or -1 with
 * a reason in err ("Reached end of bytes ...", "negative length ...", ...). On failure p is left
 * freed.
 */
int thrift_payload_decode(const uint8_t *data, size_t len, struct thrift_payload *p,
    char *err, size_t errlen);

#endif
