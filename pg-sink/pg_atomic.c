/*
 * pg_atomic: atomic.events and the TSV -> row conversion (see pg_atomic.h).
 */
#include "pg_atomic.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "event.h"
#include "jsonw.h"
#include "pg_copy.h"
#include "sdkjson.h"
#include "swar.h"
#include "uuid.h"


/* storage/definitions.scala atomicColumns, in TSV order (the three JSON columns are not
 * columns); NOT NULL where the loader says so. */
const struct pgatomic_col pgatomic_cols[PGATOMIC_NCOLS] = {
	{ COL_APP_ID, "VARCHAR(255)", 0 },
	{ COL_PLATFORM, "VARCHAR(255)", 0 },
	{ COL_ETL_TSTAMP, "TIMESTAMP", 0 },
	{ COL_COLLECTOR_TSTAMP, "TIMESTAMP", 1 },
	{ COL_DVCE_CREATED_TSTAMP, "TIMESTAMP", 0 },
	{ COL_EVENT, "VARCHAR(128)", 0 },
	{ COL_EVENT_ID, "UUID", 1 },
	{ COL_TXN_ID, "INTEGER", 0 },
	{ COL_NAME_TRACKER, "VARCHAR(128)", 0 },
	{ COL_V_TRACKER, "VARCHAR(100)", 0 },
	{ COL_V_COLLECTOR, "VARCHAR(100)", 1 },
	{ COL_V_ETL, "VARCHAR(100)", 1 },
	{ COL_USER_ID, "VARCHAR(255)", 0 },
	{ COL_USER_IPADDRESS, "VARCHAR(128)", 0 },
	{ COL_USER_FINGERPRINT, "VARCHAR(128)", 0 }, /* loader: 50 */
	{ COL_DOMAIN_USERID, "VARCHAR(128)", 0 },
	{ COL_DOMAIN_SESSIONIDX, "INTEGER", 0 },
	{ COL_NETWORK_USERID, "VARCHAR(128)", 0 },
	{ COL_GEO_COUNTRY, "CHAR(2)", 0 },
	{ COL_GEO_REGION, "CHAR(3)", 0 },
	{ COL_GEO_CITY, "VARCHAR(75)", 0 },
	{ COL_GEO_ZIPCODE, "VARCHAR(15)", 0 },
	{ COL_GEO_LATITUDE, "DOUBLE PRECISION", 0 },
	{ COL_GEO_LONGITUDE, "DOUBLE PRECISION", 0 },
	{ COL_GEO_REGION_NAME, "VARCHAR(100)", 0 },
	{ COL_IP_ISP, "VARCHAR(100)", 0 },
	{ COL_IP_ORGANIZATION, "VARCHAR(128)", 0 }, /* loader: 100 */
	{ COL_IP_DOMAIN, "VARCHAR(128)", 0 }, /* loader: 100 */
	{ COL_IP_NETSPEED, "VARCHAR(100)", 0 },
	{ COL_PAGE_URL, "VARCHAR(10000)", 0 }, /* loader: 4096 */
	{ COL_PAGE_TITLE, "VARCHAR(2000)", 0 },
	{ COL_PAGE_REFERRER, "VARCHAR(10000)", 0 }, /* loader: 4096 */
	{ COL_PAGE_URLSCHEME, "VARCHAR(16)", 0 },
	{ COL_PAGE_URLHOST, "VARCHAR(255)", 0 },
	{ COL_PAGE_URLPORT, "INTEGER", 0 },
	{ COL_PAGE_URLPATH, "VARCHAR(3000)", 0 },
	{ COL_PAGE_URLQUERY, "VARCHAR(6000)", 0 },
	{ COL_PAGE_URLFRAGMENT, "VARCHAR(3000)", 0 },
	{ COL_REFR_URLSCHEME, "VARCHAR(16)", 0 },
	{ COL_REFR_URLHOST, "VARCHAR(255)", 0 },
	{ COL_REFR_URLPORT, "INTEGER", 0 },
	{ COL_REFR_URLPATH, "VARCHAR(6000)", 0 },
	{ COL_REFR_URLQUERY, "VARCHAR(6000)", 0 },
	{ COL_REFR_URLFRAGMENT, "VARCHAR(3000)", 0 },
	{ COL_REFR_MEDIUM, "VARCHAR(25)", 0 },
	{ COL_REFR_SOURCE, "VARCHAR(50)", 0 },
	{ COL_REFR_TERM, "VARCHAR(255)", 0 },
	{ COL_MKT_MEDIUM, "VARCHAR(255)", 0 },
	{ COL_MKT_SOURCE, "VARCHAR(255)", 0 },
	{ COL_MKT_TERM, "VARCHAR(255)", 0 },
	{ COL_MKT_CONTENT, "VARCHAR(500)", 0 },
	{ COL_MKT_CAMPAIGN, "VARCHAR(255)", 0 },
	{ COL_SE_CATEGORY, "VARCHAR(1000)", 0 },
	{ COL_SE_ACTION, "VARCHAR(1000)", 0 },
	{ COL_SE_LABEL, "VARCHAR(4096)", 0 }, /* loader: 1000 */
	{ COL_SE_PROPERTY, "VARCHAR(1000)", 0 },
	{ COL_SE_VALUE, "DOUBLE PRECISION", 0 },
	{ COL_TR_ORDERID, "VARCHAR(255)", 0 },
	{ COL_TR_AFFILIATION, "VARCHAR(255)", 0 },
	{ COL_TR_TOTAL, "DOUBLE PRECISION", 0 },
	{ COL_TR_TAX, "DOUBLE PRECISION", 0 },
	{ COL_TR_SHIPPING, "DOUBLE PRECISION", 0 },
	{ COL_TR_CITY, "VARCHAR(255)", 0 },
	{ COL_TR_STATE, "VARCHAR(255)", 0 },
	{ COL_TR_COUNTRY, "VARCHAR(255)", 0 },
	{ COL_TI_ORDERID, "VARCHAR(255)", 0 },
	{ COL_TI_SKU, "VARCHAR(255)", 0 },
	{ COL_TI_NAME, "VARCHAR(255)", 0 },
	{ COL_TI_CATEGORY, "VARCHAR(255)", 0 },
	{ COL_TI_PRICE, "DOUBLE PRECISION", 0 },
	{ COL_TI_QUANTITY, "INTEGER", 0 },
	{ COL_PP_XOFFSET_MIN, "INTEGER", 0 },
	{ COL_PP_XOFFSET_MAX, "INTEGER", 0 },
	{ COL_PP_YOFFSET_MIN, "INTEGER", 0 },
	{ COL_PP_YOFFSET_MAX, "INTEGER", 0 },
	{ COL_USERAGENT, "VARCHAR(1000)", 0 },
	{ COL_BR_NAME, "VARCHAR(50)", 0 },
	{ COL_BR_FAMILY, "VARCHAR(50)", 0 },
	{ COL_BR_VERSION, "VARCHAR(50)", 0 },
	{ COL_BR_TYPE, "VARCHAR(50)", 0 },
	{ COL_BR_RENDERENGINE, "VARCHAR(50)", 0 },
	{ COL_BR_LANG, "VARCHAR(255)", 0 },
	{ COL_BR_FEATURES_PDF, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_FLASH, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_JAVA, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_DIRECTOR, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_QUICKTIME, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_REALPLAYER, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_WINDOWSMEDIA, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_GEARS, "BOOLEAN", 0 },
	{ COL_BR_FEATURES_SILVERLIGHT, "BOOLEAN", 0 },
	{ COL_BR_COOKIES, "BOOLEAN", 0 },
	{ COL_BR_COLORDEPTH, "VARCHAR(12)", 0 },
	{ COL_BR_VIEWWIDTH, "INTEGER", 0 },
	{ COL_BR_VIEWHEIGHT, "INTEGER", 0 },
	{ COL_OS_NAME, "VARCHAR(50)", 0 },
	{ COL_OS_FAMILY, "VARCHAR(50)", 0 },
	{ COL_OS_MANUFACTURER, "VARCHAR(50)", 0 },
	{ COL_OS_TIMEZONE, "VARCHAR(255)", 0 }, /* loader: 50 */
	{ COL_DVCE_TYPE, "VARCHAR(50)", 0 },
	{ COL_DVCE_ISMOBILE, "BOOLEAN", 0 },
	{ COL_DVCE_SCREENWIDTH, "INTEGER", 0 },
	{ COL_DVCE_SCREENHEIGHT, "INTEGER", 0 },
	{ COL_DOC_CHARSET, "VARCHAR(128)", 0 },
	{ COL_DOC_WIDTH, "INTEGER", 0 },
	{ COL_DOC_HEIGHT, "INTEGER", 0 },
	{ COL_TR_CURRENCY, "CHAR(3)", 0 },
	{ COL_TR_TOTAL_BASE, "DOUBLE PRECISION", 0 },
	{ COL_TR_TAX_BASE, "DOUBLE PRECISION", 0 },
	{ COL_TR_SHIPPING_BASE, "DOUBLE PRECISION", 0 },
	{ COL_TI_CURRENCY, "CHAR(3)", 0 },
	{ COL_TI_PRICE_BASE, "DOUBLE PRECISION", 0 },
	{ COL_BASE_CURRENCY, "CHAR(3)", 0 },
	{ COL_GEO_TIMEZONE, "VARCHAR(64)", 0 },
	{ COL_MKT_CLICKID, "VARCHAR(1000)", 0 }, /* loader: 128 */
	{ COL_MKT_NETWORK, "VARCHAR(64)", 0 },
	{ COL_ETL_TAGS, "VARCHAR(500)", 0 },
	{ COL_DVCE_SENT_TSTAMP, "TIMESTAMP", 0 },
	{ COL_REFR_DOMAIN_USERID, "VARCHAR(128)", 0 },
	{ COL_REFR_DVCE_TSTAMP, "TIMESTAMP", 0 },
	{ COL_DOMAIN_SESSIONID, "VARCHAR(128)", 0 },
	{ COL_DERIVED_TSTAMP, "TIMESTAMP", 0 },
	{ COL_EVENT_VENDOR, "VARCHAR(1000)", 0 },
	{ COL_EVENT_NAME, "VARCHAR(1000)", 0 },
	{ COL_EVENT_FORMAT, "VARCHAR(128)", 0 },
	{ COL_EVENT_VERSION, "VARCHAR(128)", 0 },
	{ COL_EVENT_FINGERPRINT, "VARCHAR(128)", 0 },
	{ COL_TRUE_TSTAMP, "TIMESTAMP", 0 },
};

int
pgatomic_column_list(struct buf *out, const char *prefix)
{
	size_t i;

	for (i = 0; i < PGATOMIC_NCOLS; i++)
		if ((i > 0 && buf_append_byte(out, ',') == -1) || buf_append_str(out, prefix) == -1 ||
		    buf_append_str(out, event_cols[pgatomic_cols[i].tsv].name) == -1)
			return -1;
	return 0;
}

int
pgatomic_create_sql(struct buf *out, const char *qschema)
{
	size_t i;

	if (buf_printf(out, "CREATE TABLE IF NOT EXISTS %s.events (\n", qschema) == -1)
		return -1;
	for (i = 0; i < PGATOMIC_NCOLS; i++)
		if (buf_printf(out, "  %s %s%s%s\n", event_cols[pgatomic_cols[i].tsv].name,
		    pgatomic_cols[i].type, pgatomic_cols[i].notnull ? " NOT NULL" : "",
		    i + 1 < PGATOMIC_NCOLS ? "," : "") == -1)
			return -1;
	/* the key that makes a replay a no-op (not in the loader's table) */
	return buf_printf(out, ");\nCREATE UNIQUE INDEX IF NOT EXISTS events_event_id_collector_"
	    "tstamp_key ON %s.events (event_id, collector_tstamp);\n", qschema);
}

/* One InvalidValue of the SDK's RowDecodingError (sinks.md §1.3 wording). */
static int
pga_error(struct buf *err, int *n, int col, const char *v, size_t vlen, const char *what)
{
	char msg[320];
	const char *name = event_cols[col].name;

	if (what == NULL)
		snprintf(msg, sizeof(msg), "Field '%s cannot be empty", name);
	else
		snprintf(msg, sizeof(msg), "Cannot parse key '%s with value %.*s into %s", name,
		    (int)(vlen > 200 ? 200 : vlen), v, what);
	if (buf_append_str(err, (*n)++ ? "," : "{\"type\":\"RowDecodingError\",\"errors\":[") ||
	    buf_printf(err, "{\"type\":\"InvalidValue\",\"key\":\"%s\",\"value\":", name) ||
	    jsonw_string(err, v, vlen) || buf_append_str(err, ",\"message\":") ||
	    jsonw_string(err, msg, strlen(msg)) || buf_append_byte(err, '}'))
		return -1;
	return 0;
}

int
pgatomic_row(const char *line, size_t len, struct buf *row, struct pgatomic_event *ev,
    struct buf *err)
{
	const char *field[EVENT_NCOLS];
	size_t flen[EVENT_NCOLS], nf = 0, start = row->len, i;
	const unsigned char *p = (const unsigned char *)line, *end = p + len;
	static const int required[] = { COL_COLLECTOR_TSTAMP, COL_EVENT_ID, COL_V_COLLECTOR,
	    COL_V_ETL };
	char *o, saved;
	int nerr = 0;

	memset(ev, 0, sizeof(*ev));
	/* one pass: split, and write the row as it goes (every byte at most doubled, every field
	 * at most a TAB and \N more) */
	if (buf_reserve(row, 2 * len + 3 * EVENT_NCOLS + 2) == -1)
		return -2;
	o = row->data + start;
	for (;;) {
		const unsigned char *q = p;

		if (nf < EVENT_NCOLS && nf != COL_CONTEXTS && nf != COL_UNSTRUCT_EVENT &&
		    nf != COL_DERIVED_CONTEXTS) {
			if (nf > 0)
				*o++ = '\t';
			if (q == end || *q == '\t') {
				*o++ = '\\';
				*o++ = 'N';
			}
			/* eight bytes at a time while none of them is special */
			while (end - q >= 8) {
				uint64_t w;
				memcpy(&w, q, 8);
				if (swar_has_byte(w, '\t') | swar_has_byte(w, '\\') | swar_has_byte(w, '\n') |
				    swar_has_byte(w, '\r'))
					break;
				memcpy(o, q, 8);
				o += 8;
				q += 8;
			}
			for (; q < end && *q != '\t'; q++) {
				unsigned char e = pgcopy_escape[*q];
				if (e) {
					*o++ = '\\';
					*o++ = (char)e;
				} else {
					*o++ = (char)*q;
				}
			}
		} else if ((q = memchr(q, '\t', (size_t)(end - q))) == NULL) {
			q = end;
		}
		if (nf < EVENT_NCOLS) {
			field[nf] = (const char *)p;
			flen[nf] = (size_t)(q - p);
		}
		nf++;
		if (q == end)
			break;
		p = q + 1;
	}
	saved = row->data[start];
	row->data[start] = '\0';            /* not the row's until it is checked */
	if (nf == 1)
		return buf_append_str(err, "{\"type\":\"NotTSV\"}") == -1 ? -2 : -1;
	if (nf != EVENT_NCOLS)
		return buf_printf(err, "{\"type\":\"FieldNumberMismatch\",\"fieldCount\":%zu}", nf) ==
		    -1 ? -2 : -1;
	for (i = 0; i < 4; i++)
		if (flen[required[i]] == 0 && pga_error(err, &nerr, required[i], "", 0, NULL) == -1)
			return -2;
	if (flen[COL_EVENT_ID] > 0 && !uuid_is_valid(field[COL_EVENT_ID], flen[COL_EVENT_ID]) &&
	    pga_error(err, &nerr, COL_EVENT_ID, field[COL_EVENT_ID], flen[COL_EVENT_ID],
	    "UUID") == -1)
		return -2;
	if (flen[COL_COLLECTOR_TSTAMP] > 0 && sdkjson_timestamp(field[COL_COLLECTOR_TSTAMP],
	    flen[COL_COLLECTOR_TSTAMP], NULL, NULL) == -1 && pga_error(err, &nerr,
	    COL_COLLECTOR_TSTAMP, field[COL_COLLECTOR_TSTAMP], flen[COL_COLLECTOR_TSTAMP],
	    "datetime") == -1)
		return -2;
	if (nerr > 0)
		return buf_append_str(err, "]}") == -1 ? -2 : -1;

	ev->json[PGATOMIC_CONTEXTS] = field[COL_CONTEXTS];
	ev->json_len[PGATOMIC_CONTEXTS] = flen[COL_CONTEXTS];
	ev->json[PGATOMIC_DERIVED] = field[COL_DERIVED_CONTEXTS];
	ev->json_len[PGATOMIC_DERIVED] = flen[COL_DERIVED_CONTEXTS];
	ev->json[PGATOMIC_UNSTRUCT] = field[COL_UNSTRUCT_EVENT];
	ev->json_len[PGATOMIC_UNSTRUCT] = flen[COL_UNSTRUCT_EVENT];
	ev->event_id = field[COL_EVENT_ID];
	ev->event_id_len = flen[COL_EVENT_ID];
	ev->tstamp = field[COL_COLLECTOR_TSTAMP];
	ev->tstamp_len = flen[COL_COLLECTOR_TSTAMP];
	for (i = 0; i < UUID_STR_LEN; i++) {
		char c = field[COL_EVENT_ID][i];
		ev->key[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	ev->key[UUID_STR_LEN] = ' ';
	/* the instant as text: the SDK's grammar holds (checked above), so two spellings of one
	 * instant differ only in the date-time separator and the fraction's trailing zeros */
	i = flen[COL_COLLECTOR_TSTAMP];
	if (i > sizeof(ev->key) - UUID_STR_LEN - 2)
		i = sizeof(ev->key) - UUID_STR_LEN - 2;
	memcpy(ev->key + UUID_STR_LEN + 1, field[COL_COLLECTOR_TSTAMP], i);
	ev->key[UUID_STR_LEN + 1 + 10] = ' ';
	if (i > 19) {
		while (i > 19 && ev->key[UUID_STR_LEN + i] == '0')
			i--;
		if (i == 20)
			i = 19;              /* "." with no digit left */
	}
	ev->key[UUID_STR_LEN + 1 + i] = '\0';
	row->data[start] = saved;
	*o++ = '\n';
	row->len = (size_t)(o - row->data);
	row->data[row->len] = '\0';
	return 0;
}
