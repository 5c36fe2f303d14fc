/*
 * enr_iab: iab_spiders_and_robots_enrichment (iglu:com.snowplowanalytics.snowplow.
 * enrichments/iab_spiders_and_robots_enrichment/1-0-*). Checks the user agent and IP against
 * the IAB/ABC International Spiders and Bots lists, as Snowplow's IAB client does, and adds
 * iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0
 * {spiderOrRobot, category, reason, primaryImpact}. The check, in this order:
 *  1. a configured includeUseragents substring: a browser;
 *  2. a configured excludeUseragents substring: FAILED_UA_EXCLUDE (SPIDER_OR_ROBOT, UNKNOWN);
 *  3. the IP in ip_exclude_current_cidr.txt (addresses or CIDR blocks): FAILED_IP_EXCLUDE;
 *  4. no user agent: a browser;
 *  5. no active entry of include_current.txt matches: FAILED_UA_INCLUDE;
 *  6. an entry of exclude_current.txt matches (and none of its exceptions): FAILED_UA_EXCLUDE,
 *     ACTIVE_ or INACTIVE_SPIDER_OR_ROBOT by its inactive date against derived_tstamp;
 *  7. otherwise a browser (PASSED_ALL).
 * The list files are '|'-separated, '#' starts a comment; matching is case-insensitive, by
 * substring or, with the start-of-string flag, by prefix.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "enr.h"

#define IAB_SCHEMA "iglu:com.iab.snowplow/spiders_and_robots/jsonschema/1-0-0"
#define IAB_FILE_MAX ((size_t)64 << 20)
#define IAB_NO_DATE INT64_MIN

struct iab_net {
	int           family;      /* AF_INET or AF_INET6 */
	unsigned char addr[16];
	int           prefix;
};

struct iab_ua {
	char    *pattern;          /* lower case */
	int      active;
	int      start_of_string;
	char   **exceptions;       /* lower case, exclude list only */
	size_t   n_exceptions;
	char    *impact;           /* "0", "1", "2" (exclude list only) */
	int64_t  inactive_ms;      /* IAB_NO_DATE when unset or unparseable */
};

struct iab_list {
	struct iab_ua *v;
	size_t         n;
};

struct iab {
	struct iab_net  *nets;
	size_t           n_nets;
	struct iab_list  include, exclude;
	char           **custom_include, **custom_exclude;
	size_t           n_custom_include, n_custom_exclude;
	char            *schema_uri;
};

static void
free_strs(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
free_list(struct iab_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].pattern);
		free(l->v[i].impact);
		free_strs(l->v[i].exceptions, l->v[i].n_exceptions);
	}
	free(l->v);
}

static void
iab_free(void *state)
{
	struct iab *b = state;

	if (b == NULL)
		return;
	free(b->nets);
	free_list(&b->include);
	free_list(&b->exclude);
	free_strs(b->custom_include, b->n_custom_include);
	free_strs(b->custom_exclude, b->n_custom_exclude);
	free(b->schema_uri);
	free(b);
}

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* Trimmed copy of s[0..len) with one level of "quotes" removed. */
static char *
field_dup(const char *s, size_t len)
{
	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len >= 2 && s[0] == '"' && s[len - 1] == '"') {
		s++;
		len -= 2;
	}
	return strndup(s, len);
}

/* MM/dd/yyyy at midnight UTC, in ms; IAB_NO_DATE when empty or invalid. */
static int64_t
parse_date(const char *s)
{
	int m, d, y, n = 0;
	struct tm tm;

	if (s == NULL || sscanf(s, "%d/%d/%d%n", &m, &d, &y, &n) != 3 || s[n] != '\0')
		return IAB_NO_DATE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;         /* lenient, like SimpleDateFormat: 13/01 rolls over */
	tm.tm_mday = d;
	return (int64_t)timegm(&tm) * 1000;
}

/* Parse one '|'-separated list file into l. exclude selects the 7-column layout. */
static int
load_ua_list(const char *path, int exclude, struct iab_list *l, char *err, size_t errlen)
{
	size_t len, cap = 0;
	char *text = enr_read_file(path, IAB_FILE_MAX, &len, err, errlen), *line, *save = NULL;

	if (text == NULL)
		return -1;
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *f[8] = { 0 };
		int nf = 0, k;
		const char *p = line;
		struct iab_ua *u;

		while (isspace((unsigned char)*p))
			p++;
		if (*p == '#' || *p == '\0')
			continue;
		for (;;) {
			const char *q = strchr(p, '|');
			size_t fl = q ? (size_t)(q - p) : strlen(p);
			if (nf < 8)
				f[nf++] = field_dup(p, fl);
			if (q == NULL)
				break;
			p = q + 1;
		}
		if (l->n == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct iab_ua *nv = realloc(l->v, nc * sizeof(*nv));
			if (nv == NULL) {
				for (k = 0; k < nf; k++)
					free(f[k]);
				free(text);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			l->v = nv;
			cap = nc;
		}
		u = &l->v[l->n++];
		memset(u, 0, sizeof(*u));
		u->pattern = f[0] ? f[0] : strdup("");
		lower(u->pattern);
		u->active = nf > 1 && f[1] && !strcmp(f[1], "1");
		if (exclude) {
			char *ex = nf > 2 ? f[2] : NULL, *tok, *s2 = NULL;
			if (ex) {
				lower(ex);
				u->exceptions = calloc(strlen(ex) / 2 + 2, sizeof(char *));
				for (tok = strtok_r(ex, ",", &s2); tok && u->exceptions;
				     tok = strtok_r(NULL, ",", &s2)) {
					char *t = field_dup(tok, strlen(tok));
					if (t && *t)
						u->exceptions[u->n_exceptions++] = t;
					else
						free(t);
				}
			}
			u->impact = nf > 4 && f[4] ? strdup(f[4]) : strdup("");
			u->start_of_string = nf > 5 && f[5] && !strcmp(f[5], "1");
			u->inactive_ms = parse_date(nf > 6 ? f[6] : NULL);
		} else {
			u->start_of_string = nf > 2 && f[2] && !strcmp(f[2], "1");
			u->inactive_ms = parse_date(nf > 3 ? f[3] : NULL);
		}
		for (k = 1; k < nf; k++)
			free(f[k]);
	}
	free(text);
	return 0;
}

static int
parse_ip(const char *s, int *family, unsigned char *addr)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*family = AF_INET6;
		return 0;
	}
	return -1;
}

static int
load_nets(struct iab *b, const char *path, char *err, size_t errlen)
{
	size_t len, cap = 0;
	char *text = enr_read_file(path, IAB_FILE_MAX, &len, err, errlen), *line, *save = NULL;

	if (text == NULL)
		return -1;
	for (line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save)) {
		char *t = field_dup(line, strlen(line)), *slash;
		struct iab_net n;

		if (t == NULL || *t == '\0' || *t == '#') {   /* blank lines and comments */
			free(t);
			continue;
		}
		memset(&n, 0, sizeof(n));
		slash = strchr(t, '/');
		if (slash)
			*slash = '\0';
		if (parse_ip(t, &n.family, n.addr) < 0) {
			snprintf(err, errlen, "%s: not an IP address or CIDR block: %s", path, line);
			free(t);
			free(text);
			return -1;
		}
		n.prefix = n.family == AF_INET ? 32 : 128;
		if (slash) {
			char *end;
			long pl = strtol(slash + 1, &end, 10);
			if (*end || end == slash + 1 || pl < 0 || pl > n.prefix) {
				snprintf(err, errlen, "%s: bad prefix length: %s", path, line);
				free(t);
				free(text);
				return -1;
			}
			n.prefix = (int)pl;
		}
		free(t);
		if (b->n_nets == cap) {
			size_t nc = cap ? cap * 2 : 64;
			struct iab_net *nv = realloc(b->nets, nc * sizeof(*nv));
			if (nv == NULL) {
				free(text);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			b->nets = nv;
			cap = nc;
		}
		b->nets[b->n_nets++] = n;
	}
	free(text);
	return 0;
}

static int
load_strs(const json_t *a, const char *key, char ***out, size_t *n, char *err, size_t errlen)
{
	json_t *v;
	size_t i;

	*out = NULL;
	*n = 0;
	if (a == NULL || json_is_null(a))
		return 0;
	if (!json_is_array(a) || (*out = calloc(json_array_size(a) + 1, sizeof(char *))) == NULL) {
		snprintf(err, errlen, "parameters.%s: an array of strings is required", key);
		return -1;
	}
	json_array_foreach(a, i, v) {
		if (!json_is_string(v)) {
			snprintf(err, errlen, "parameters.%s[%zu]: a string is required", key, i);
			return -1;
		}
		(*out)[(*n)++] = strdup(json_string_value(v));
		lower((*out)[*n - 1]);
	}
	return 0;
}

static void *
iab_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	static const char *const keys[3] = { "ipFile", "excludeUseragentFile", "includeUseragentFile" };
	const json_t *p = json_object_get(ctx->data, "parameters");
	char path[3][4096], why[512];
	struct iab *b;
	int i;

	if ((b = calloc(1, sizeof(*b))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (i = 0; i < 3; i++) {
		const json_t *f = json_object_get(p, keys[i]);
		const char *uri = enr_json_str(f, "uri"), *db = enr_json_str(f, "database");
		if (uri == NULL || db == NULL) {
			snprintf(err, errlen, "parameters.%s: \"uri\" and \"database\" are required", keys[i]);
			goto fail;
		}
		if (enr_asset_path(ctx, uri, db, path[i], sizeof(path[i]), why, sizeof(why)) < 0) {
			snprintf(err, errlen, "parameters.%s: %s", keys[i], why);
			goto fail;
		}
	}
	if (load_nets(b, path[0], err, errlen) < 0 ||
	    load_ua_list(path[1], 1, &b->exclude, err, errlen) < 0 ||
	    load_ua_list(path[2], 0, &b->include, err, errlen) < 0 ||
	    load_strs(json_object_get(p, "includeUseragents"), "includeUseragents",
	        &b->custom_include, &b->n_custom_include, err, errlen) < 0 ||
	    load_strs(json_object_get(p, "excludeUseragents"), "excludeUseragents",
	        &b->custom_exclude, &b->n_custom_exclude, err, errlen) < 0)
		goto fail;
	b->schema_uri = strdup(ctx->schema_uri);
	return b;
fail:
	iab_free(b);
	return NULL;
}

static int
net_contains(const struct iab_net *n, int family, const unsigned char *a)
{
	int full = n->prefix / 8, rest = n->prefix % 8;

	if (n->family != family || memcmp(n->addr, a, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((n->addr[full] ^ a[full]) & (0xff << (8 - rest)) & 0xff) == 0;
}

static int
ua_match(const struct iab_ua *u, const char *ua)
{
	return u->start_of_string ? !strncmp(ua, u->pattern, strlen(u->pattern)) :
	    strstr(ua, u->pattern) != NULL;
}

static int
any_substring(char *const *v, size_t n, const char *ua)
{
	size_t i;

	for (i = 0; ua && i < n; i++)
		if (strstr(ua, v[i]))
			return 1;
	return 0;
}

int
enr_iab_check(void *state, const char *useragent, const char *ip, int64_t at_ms,
    int *spider, const char **category, const char **reason, const char **impact,
    char *error, size_t errlen)
{
	struct iab *b = state;
	char *ua = useragent ? strdup(useragent) : NULL;
	unsigned char addr[16];
	int family = 0, have_ip = ip && parse_ip(ip, &family, addr) == 0;
	size_t i;
	int rc = 0;

	if (ua)
		lower(ua);
	*spider = 1;
	*category = "SPIDER_OR_ROBOT";
	*impact = "UNKNOWN";
	if (any_substring(b->custom_include, b->n_custom_include, ua))
		goto browser;
	if (any_substring(b->custom_exclude, b->n_custom_exclude, ua)) {
		*reason = "FAILED_UA_EXCLUDE";
		goto out;
	}
	for (i = 0; have_ip && i < b->n_nets; i++)
		if (net_contains(&b->nets[i], family, addr)) {
			*reason = "FAILED_IP_EXCLUDE";
			goto out;
		}
	if (ua == NULL)
		goto browser;
	for (i = 0; i < b->include.n; i++) {
		const struct iab_ua *u = &b->include.v[i];
		if (ua_match(u, ua) && (u->active ||
		        (u->inactive_ms != IAB_NO_DATE && at_ms < u->inactive_ms)))
			break;
	}
	if (i == b->include.n) {
		*reason = "FAILED_UA_INCLUDE";
		goto out;
	}
	for (i = 0; i < b->exclude.n; i++) {
		const struct iab_ua *u = &b->exclude.v[i];
		if (!u->active && u->inactive_ms == IAB_NO_DATE)
			continue;
		if (ua_match(u, ua) && !any_substring(u->exceptions, u->n_exceptions, ua)) {
			if (!strcmp(u->impact, "0"))
				*impact = "PAGE_IMPRESSIONS";
			else if (!strcmp(u->impact, "1"))
				*impact = "AD_IMPRESSIONS";
			else if (!strcmp(u->impact, "2"))
				*impact = "PAGE_AND_AD_IMPRESSIONS";
			else {
				snprintf(error, errlen, "Invalid value of impression flag: '%s'", u->impact);
				rc = -1;
				goto out;
			}
			*category = (u->inactive_ms == IAB_NO_DATE || at_ms < u->inactive_ms) ?
			    "ACTIVE_SPIDER_OR_ROBOT" : "INACTIVE_SPIDER_OR_ROBOT";
			*reason = "FAILED_UA_EXCLUDE";
			goto out;
		}
	}
browser:
	*spider = 0;
	*category = "BROWSER";
	*reason = "PASSED_ALL";
	*impact = "NONE";
out:
	free(ua);
	return rc;
}

/* "yyyy-MM-dd HH:mm:ss.SSS" (UTC) to ms; -1 when it does not parse. */
static int
tsv_to_ms(const char *s, int64_t *ms)
{
	struct tm tm;
	int y, mo, d, h, mi, sec, frac, n = 0;

	if (s == NULL || sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d.%3d%n", &y, &mo, &d, &h, &mi, &sec,
	        &frac, &n) != 7 || s[n] != '\0')
		return -1;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

static int
iab_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	struct iab *b = state;
	const char *ua = ev->col[COL_USERAGENT], *ip = ev->col[COL_USER_IPADDRESS];
	const char *category, *reason, *impact;
	unsigned char addr[16];
	char error[256];
	int64_t at;
	int spider, family;
	const char *p;

	if (tsv_to_ms(ev->col[COL_DERIVED_TSTAMP], &at) < 0)
		return 0;                  /* upstream: no derived_tstamp, no check */
	for (p = ua; p && *p && (unsigned char)*p <= 0x20; p++)
		;
	if (p == NULL || *p == '\0')
		ua = NULL;                 /* blank user agents count as absent */
	if (ip && parse_ip(ip, &family, addr) < 0)
		ip = NULL;
	if (ua == NULL && ip == NULL)
		return 0;
	if (enr_iab_check(b, ua, ip, at, &spider, &category, &reason, &impact, error,
	        sizeof(error)) < 0) {
		enr_add_failure(failures, b->schema_uri, "iab-spiders-and-robots",
		    json_pack("{s:s}", "error", error));
		return -1;
	}
	enrich_event_add_derived(ev, json_pack("{s:s,s:{s:b,s:s,s:s,s:s}}", "schema", IAB_SCHEMA,
	    "data", "spiderOrRobot", spider, "category", category, "reason", reason,
	    "primaryImpact", impact));
	return 0;
}

const struct enr_module enr_iab = {
	"com.snowplowanalytics.snowplow.enrichments", "iab_spiders_and_robots_enrichment", 1,
	ENRICH_STAGE_EARLY, 10, "iab-spiders-and-robots", iab_load, iab_apply, iab_free,
};
