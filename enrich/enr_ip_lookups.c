/*
 * enr_ip_lookups: ip_lookups (iglu:com.snowplowanalytics.snowplow/ip_lookups/2-0-*), with
 * libmaxminddb. Each configured database ("geo", "isp", "domain", "connectionType"; each
 * {uri, database}) is opened at startup; per event user_ipaddress is looked up in each, as
 * Snowplow's scala-maxmind-iplookups does:
 *  - geo (GeoLite2/GeoIP2 City): geo_country = country.iso_code, geo_region and
 *    geo_region_name = the most specific subdivision's iso_code and English name, geo_city,
 *    geo_zipcode = postal.code, geo_latitude / geo_longitude (Java Float.toString form; 0.0
 *    when the record has no location), geo_timezone = location.time_zone;
 *  - isp (GeoIP2 ISP): ip_isp = isp, ip_organization = organization;
 *  - domain: ip_domain; connectionType: ip_netspeed = connection_type.
 *  - asn (GeoLite2-ASN, ip_lookups 2-0-1): the derived context
 *    iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1 {number, organization}.
 * An address that is not an IP literal or not in a database sets nothing: IP lookups never
 * fail an event.
 */
#include <errno.h>
#include <maxminddb.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "enr.h"
#include "jnum.h"
#include "jsonw.h"

enum { IPL_GEO, IPL_ISP, IPL_DOMAIN, IPL_CONN, IPL_ASN, IPL_N };

static const char *const ipl_keys[IPL_N] = { "geo", "isp", "domain", "connectionType", "asn" };

#define IPL_ASN_SCHEMA "iglu:com.snowplowanalytics.snowplow/asn/jsonschema/1-0-1"

struct ip_lookups {
	MMDB_s db[IPL_N];
	int    open[IPL_N];
};

static void
ip_lookups_free(void *state)
{
	struct ip_lookups *l = state;
	int i;

	if (l == NULL)
		return;
	for (i = 0; i < IPL_N; i++)
		if (l->open[i])
			MMDB_close(&l->db[i]);
	free(l);
}

static void *
ip_lookups_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	struct ip_lookups *l;
	char path[4096], why[512];
	int i, rc;

	if (!json_is_object(p)) {
		snprintf(err, errlen, "parameters: an object is required");
		return NULL;
	}
	if ((l = calloc(1, sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < IPL_N; i++) {
		json_t *d = json_object_get(p, ipl_keys[i]);
		const char *uri, *db;

		if (d == NULL)
			continue;
		uri = enr_json_str(d, "uri");
		db = enr_json_str(d, "database");
		if (uri == NULL || db == NULL) {
			snprintf(err, errlen, "parameters.%s: \"uri\" and \"database\" are required",
			    ipl_keys[i]);
			goto fail;
		}
		if (enr_asset_path(ctx, uri, db, path, sizeof(path), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "parameters.%s: %s", ipl_keys[i], why);
			goto fail;
		}
		rc = MMDB_open(path, MMDB_MODE_MMAP, &l->db[i]);
		if (rc != MMDB_SUCCESS) {
			snprintf(err, errlen, "parameters.%s: %s: %s%s%s", ipl_keys[i], path,
			    MMDB_strerror(rc), rc == MMDB_IO_ERROR ? ": " : "",
			    rc == MMDB_IO_ERROR ? strerror(errno) : "");
			goto fail;
		}
		l->open[i] = 1;
	}
	return l;
fail:
	ip_lookups_free(l);
	return NULL;
}

/* A UTF-8 string at path (NULL-terminated list) into the column; 1 when found. */
static int
set_str(struct enrich_event *ev, int col, MMDB_entry_s *e, const char *const *path)
{
	MMDB_entry_data_s d;

	if (MMDB_aget_value(e, &d, path) != MMDB_SUCCESS || !d.has_data ||
	    d.type != MMDB_DATA_TYPE_UTF8_STRING)
		return 0;
	enr_set_tsv_safe(ev, col, d.utf8_string, d.data_size);
	return 1;
}

static void
set_coord(struct enrich_event *ev, int col, MMDB_entry_s *e, const char *key)
{
	const char *path[] = { "location", key, NULL };
	MMDB_entry_data_s d;
	float f = 0;
	char s[64];

	if (MMDB_aget_value(e, &d, path) == MMDB_SUCCESS && d.has_data) {
		if (d.type == MMDB_DATA_TYPE_DOUBLE)
			f = (float)d.double_value;
		else if (d.type == MMDB_DATA_TYPE_FLOAT)
			f = d.float_value;
	}
	jnum_java_float(f, s);
	enrich_event_set_str(ev, col, s);
}

static void
lookup_geo(struct enrich_event *ev, MMDB_entry_s *e)
{
	static const char *const country[] = { "country", "iso_code", NULL };
	static const char *const city[] = { "city", "names", "en", NULL };
	static const char *const postal[] = { "postal", "code", NULL };
	static const char *const tz[] = { "location", "time_zone", NULL };
	MMDB_entry_data_s d;
	const char *subs[] = { "subdivisions", NULL, NULL };

	set_str(ev, COL_GEO_COUNTRY, e, country);
	/* the most specific subdivision is the last one */
	if (MMDB_aget_value(e, &d, subs) == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_ARRAY && d.data_size > 0) {
		char idx[24];
		const char *iso[] = { "subdivisions", idx, "iso_code", NULL };
		const char *name[] = { "subdivisions", idx, "names", "en", NULL };
		snprintf(idx, sizeof(idx), "%u", d.data_size - 1);
		set_str(ev, COL_GEO_REGION, e, iso);
		set_str(ev, COL_GEO_REGION_NAME, e, name);
	}
	set_str(ev, COL_GEO_CITY, e, city);
	set_str(ev, COL_GEO_ZIPCODE, e, postal);
	set_coord(ev, COL_GEO_LATITUDE, e, "latitude");
	set_coord(ev, COL_GEO_LONGITUDE, e, "longitude");
	set_str(ev, COL_GEO_TIMEZONE, e, tz);
}

/* upstream makeAsnContext: "number" always, "organization" when the record has one */
static void
lookup_asn(struct enrich_event *ev, MMDB_entry_s *e)
{
	static const char *const num[] = { "autonomous_system_number", NULL };
	static const char *const org[] = { "autonomous_system_organization", NULL };
	MMDB_entry_data_s d;
	json_t *data;

	if (MMDB_aget_value(e, &d, num) != MMDB_SUCCESS || !d.has_data)
		return;
	if (d.type == MMDB_DATA_TYPE_UINT32)
		data = json_pack("{s:I}", "number", (json_int_t)d.uint32);
	else if (d.type == MMDB_DATA_TYPE_UINT16)
		data = json_pack("{s:I}", "number", (json_int_t)d.uint16);
	else if (d.type == MMDB_DATA_TYPE_UINT64)
		data = json_pack("{s:I}", "number", (json_int_t)d.uint64);
	else
		return;
	if (data == NULL)
		return;
	if (MMDB_aget_value(e, &d, org) == MMDB_SUCCESS && d.has_data &&
	    d.type == MMDB_DATA_TYPE_UTF8_STRING)
		json_object_set_new(data, "organization", jsonw_string_new(d.utf8_string, d.data_size));
	enrich_event_add_derived(ev, json_pack("{s:s,s:o}", "schema", IPL_ASN_SCHEMA, "data", data));
}

static int
ip_lookups_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	static const char *const isp[] = { "isp", NULL };
	static const char *const org[] = { "organization", NULL };
	static const char *const dom[] = { "domain", NULL };
	static const char *const conn[] = { "connection_type", NULL };
	struct ip_lookups *l = state;
	const char *ip = ev->col[COL_USER_IPADDRESS];
	int i;

	(void)failures;
	if (ip == NULL)
		return 0;
	for (i = 0; i < IPL_N; i++) {
		MMDB_lookup_result_s r;
		int gai = 0, mm = 0;

		if (!l->open[i])
			continue;
		r = MMDB_lookup_string(&l->db[i], ip, &gai, &mm);
		if (gai != 0)
			return 0;               /* not an IP literal: nothing to look up */
		if (mm != MMDB_SUCCESS || !r.found_entry)
			continue;
		switch (i) {
		case IPL_GEO:
			lookup_geo(ev, &r.entry);
			break;
		case IPL_ISP:
			set_str(ev, COL_IP_ISP, &r.entry, isp);
			set_str(ev, COL_IP_ORGANIZATION, &r.entry, org);
			break;
		case IPL_DOMAIN:
			set_str(ev, COL_IP_DOMAIN, &r.entry, dom);
			break;
		case IPL_CONN:
			set_str(ev, COL_IP_NETSPEED, &r.entry, conn);
			break;
		case IPL_ASN:
			lookup_asn(ev, &r.entry);
			break;
		}
	}
	return 0;
}

const struct enr_module enr_ip_lookups = {
	"com.snowplowanalytics.snowplow", "ip_lookups", 2, ENRICH_STAGE_LATE, 10, "ip-lookups",
	ip_lookups_load, ip_lookups_apply, ip_lookups_free,
};
