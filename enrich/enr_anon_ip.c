/*
 * enr_anon_ip: the anon_ip enrichment (iglu:com.snowplowanalytics.snowplow/anon_ip/1-0-*).
 * Masks the last anonOctets octets of an IPv4 user_ipaddress and the last anonSegments
 * segments of an IPv6 one with "x", exactly as upstream's AnonIpEnrichment does it:
 *  - IPv4 (and anything with a '.' that is not IPv6): split on '.', keep 4 - n parts, pad
 *    with "x" to the original number of parts;
 *  - IPv6: printed in Java's long form (eight lower-case groups, no "::"), keep 8 - n
 *    segments, pad to eight with "x"; an IPv4-mapped address is masked as IPv4 (with its
 *    literal "::FFFF:" prefix kept);
 *  - an invalid value with ':' is split on ':' as written; anything else ("unknown") is kept.
 * It runs late, after ip_lookups, so the lookups see the full address.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "enr.h"

struct anon_ip {
	int octets;    /* 1..4 */
	int segments;  /* 1..8 */
};

static void *
anon_ip_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	json_t *o = json_object_get(p, "anonOctets"), *s = json_object_get(p, "anonSegments");
	struct anon_ip *a;
	double ov, sv;

	/* The schema says "number" for anonOctets; upstream then reads it as an Int. */
	if (!json_is_number(o)) {
		snprintf(err, errlen, "parameters.anonOctets: a number from 1 to 4 is required");
		return NULL;
	}
	ov = json_number_value(o);
	if (ov != (int)ov || ov < 1 || ov > 4) {
		snprintf(err, errlen, "IPv4 address octets to anonymize must be 1, 2, 3 or 4. "
		    "Value: %g was given", ov);
		return NULL;
	}
	sv = ov;
	if (s != NULL) {
		if (!json_is_integer(s)) {
			snprintf(err, errlen, "parameters.anonSegments: an integer from 1 to 8 is required");
			return NULL;
		}
		sv = (double)json_integer_value(s);
		if (sv < 1 || sv > 8) {
			snprintf(err, errlen, "IPv6 address segments to anonymize must be 1, 2, 3, 4, 5, "
			    "6, 7 or 8. Value %g was given", sv);
			return NULL;
		}
	}
	if ((a = malloc(sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	a->octets = (int)ov;
	a->segments = (int)sv;
	return a;
}

/* Java's String.split(sep) on a one-character separator: trailing empty parts dropped.
 * Appends "keep" parts then "x" up to total (or the part count when total < 0). */
static int
mask_split(struct buf *out, const char *s, char sep, int keep_from_end, int total)
{
	const char *parts[512];
	size_t lens[512];
	int n = 0, i, keep, target;
	const char *p = s;

	for (;;) {
		const char *q = strchr(p, sep);
		size_t l = q ? (size_t)(q - p) : strlen(p);
		if (n == 512)
			return -1;
		parts[n] = p;
		lens[n] = l;
		n++;
		if (q == NULL)
			break;
		p = q + 1;
	}
	while (n > 1 && lens[n - 1] == 0)   /* Java drops trailing empty strings */
		n--;
	if (n == 1 && lens[0] == 0 && *s != '\0')
		n = 0;                          /* ":::".split(":") is empty */
	target = total < 0 ? n : total;
	keep = (total < 0 ? 4 : 8) - keep_from_end;
	if (keep > n)
		keep = n;
	if (keep < 0)
		keep = 0;
	for (i = 0; i < target; i++) {
		if (i && buf_append_byte(out, (uint8_t)sep) < 0)
			return -1;
		if (i < keep ? buf_append(out, parts[i], lens[i]) : buf_append_byte(out, 'x'))
			return -1;
	}
	return 0;
}

static int
anon_v4(struct buf *out, const char *ip, int octets)
{
	static const char prefix[] = "::FFFF:";

	if (!strncmp(ip, prefix, 7)) {
		/* upstream removes every occurrence of the prefix, then masks the rest */
		struct buf rest;
		const char *p = ip, *q;
		int rc;

		buf_init(&rest, 0);
		while ((q = strstr(p, prefix)) != NULL) {
			buf_append(&rest, p, (size_t)(q - p));
			p = q + 7;
		}
		buf_append_str(&rest, p);
		rc = buf_append_str(out, prefix) < 0 ? -1 :
		    mask_split(out, rest.data ? rest.data : "", '.', octets, -1);
		buf_free(&rest);
		return rc;
	}
	return mask_split(out, ip, '.', octets, -1);
}

int
enr_anon_ip_mask(const char *ip, int octets, int segments, struct buf *out)
{
	unsigned char a6[16];
	struct in_addr a4;

	if (inet_pton(AF_INET, ip, &a4) == 1)
		return anon_v4(out, ip, octets);
	if (inet_pton(AF_INET6, ip, a6) == 1) {
		static const unsigned char mapped[12] = { 0,0,0,0,0,0,0,0,0,0,0xff,0xff };
		char longform[64];
		int i, n = 0;

		if (!memcmp(a6, mapped, 12))
			return anon_v4(out, ip, octets);
		for (i = 0; i < 8; i++)
			n += snprintf(longform + n, sizeof(longform) - (size_t)n, "%s%x", i ? ":" : "",
			    (unsigned)(a6[2 * i] << 8 | a6[2 * i + 1]));
		return mask_split(out, longform, ':', segments, 8);
	}
	if (strchr(ip, '.') != NULL || *ip == '\0')
		return anon_v4(out, ip, octets);
	if (strchr(ip, ':') != NULL)
		return mask_split(out, ip, ':', segments, 8);
	return 1;
}

static int
anon_ip_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct anon_ip *a = state;
	const char *ip = ev->col[COL_USER_IPADDRESS];
	struct buf out;
	int rc;

	(void)failures;
	if (ip == NULL)
		return 0;
	buf_init(&out, 0);
	rc = enr_anon_ip_mask(ip, a->octets, a->segments, &out);
	if (rc == 0)
		rc = enrich_event_set(ev, COL_USER_IPADDRESS, out.data, out.len);
	else
		rc = 0;
	buf_free(&out);
	return rc < 0 ? 0 : 0;   /* upstream: anonymisation never fails an event */
}

static void
anon_ip_free(void *state)
{
	free(state);
}

const struct enr_module enr_anon_ip = {
	"com.snowplowanalytics.snowplow", "anon_ip", 1, ENRICH_STAGE_LATE, 20, "anon-ip",
	anon_ip_load, anon_ip_apply, anon_ip_free,
};
