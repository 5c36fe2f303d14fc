/*
 * enr_currency: currency_conversion_config (iglu:com.snowplowanalytics.snowplow/
 * currency_conversion_config/jsonschema/1-0-0), upstream's CurrencyConversionEnrichment on
 * Snowplow's scala-forex 3.0 and Joda-Money, with Open Exchange Rates' historical rates.
 *
 * For every event: base_currency is set to the configuration's baseCurrency. tr_total,
 * tr_tax and tr_shipping (in tr_currency) and ti_price (in ti_currency) are converted when
 * both the amount and the currency are there, in that order, each as scala-forex's
 * convert(amount.doubleValue, currency).to(base).at(collector_tstamp):
 *  - the rate is the end-of-day rate of the collector timestamp's UTC day (EodRoundDown:
 *    historical/YYYY-MM-DD.json); a day before 1999-01-01 or after now is an error;
 *  - rates are cached per (from, to, day) as scala-forex's EOD cache holds them: a fetch
 *    stores (base, C, day) for every currency C of the answer (for a DEVELOPER account,
 *    whose answers are in USD: round6(1 / rate[base]) * rate[C], unless base is USD), and a
 *    conversion X -> base stores (X, base, day) = round6(1 / rate[X]) * rate[base]; a lookup
 *    takes (X, base, day), else round6(1 / (base, X, day)), else fetches. round6 is
 *    BigDecimal.divide(.., 6, HALF_EVEN); so a rate can depend on what was fetched before,
 *    exactly as upstream's does;
 *  - the amount is the exact binary value of the double (new BigDecimal(double)) times the
 *    rate, rounded HALF_EVEN to the base currency's decimal places (Joda-Money's toMoney),
 *    and printed as BigDecimal prints it ("12.30", "1234" for JPY). A conversion into the
 *    same currency only rounds, but still needs the day's answer, as upstream's does.
 * Failures (enrichment_failures, identifier "currency-conversion"): an unknown currency code
 * ("Unknown currency 'XYZ'", per amount), Open Exchange Rates errors ("Open Exchange Rates
 * error, type: [OtherErrors], message: [invalid_app_id]"); with any failure none of the four
 * *_base columns is written.
 *
 * The service's base URL is https://openexchangerates.org/api/ (upstream: http://), or
 * $FURROW_OER_URL (the tests serve recorded answers from a local server).
 */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "enr.h"
#include "flagval.h"
#include "jnum.h"
#include "timefmt.h"

#define CUR_IDENTIFIER   "currency-conversion"
#define CUR_DEFAULT_URL  "https://openexchangerates.org/api/"
#define CUR_RESPONSE_MAX ((size_t)1 << 20)
#define CUR_TIMEOUT_MS   10000L
#define CUR_CACHE_MAX    405900          /* scala-forex's eodCacheSize */
#define CUR_OER_FROM_MS  915148800000LL  /* 1999-01-01T00:00Z: OER's first day */
#define DEC_MAX          2400            /* digits of a decimal (a double's exact value fits) */

/*
 * ISO 4217 codes Joda-Money knows (its CurrencyData.csv) and their decimal places (the
 * pseudo-currencies' -1 is 0, as CurrencyUnit.getDecimalPlaces gives it).
 */
static const struct {
	char code[4];
	int  dp;
} currencies[] = {
	{ "ADP", 0 }, { "AED", 2 }, { "AFN", 2 }, { "ALL", 2 }, { "AMD", 2 }, { "ANG", 2 },
	{ "AOA", 2 }, { "ARS", 2 }, { "ATS", 2 }, { "AUD", 2 }, { "AWG", 2 }, { "AZN", 2 },
	{ "BAM", 2 }, { "BBD", 2 }, { "BDT", 2 }, { "BEF", 2 }, { "BGN", 2 }, { "BHD", 3 },
	{ "BIF", 0 }, { "BMD", 2 }, { "BND", 2 }, { "BOB", 2 }, { "BOV", 2 }, { "BRL", 2 },
	{ "BSD", 2 }, { "BTN", 2 }, { "BWP", 2 }, { "BYN", 2 }, { "BYR", 0 }, { "BZD", 2 },
	{ "CAD", 2 }, { "CDF", 2 }, { "CHE", 2 }, { "CHF", 2 }, { "CHW", 2 }, { "CLF", 4 },
	{ "CLP", 0 }, { "CNY", 2 }, { "COP", 2 }, { "COU", 2 }, { "CRC", 2 }, { "CUC", 2 },
	{ "CUP", 2 }, { "CVE", 2 }, { "CYP", 2 }, { "CZK", 2 }, { "DEM", 2 }, { "DJF", 0 },
	{ "DKK", 2 }, { "DOP", 2 }, { "DZD", 2 }, { "EEK", 2 }, { "EGP", 2 }, { "ERN", 2 },
	{ "ESP", 0 }, { "ETB", 2 }, { "EUR", 2 }, { "FIM", 2 }, { "FJD", 2 }, { "FKP", 2 },
	{ "FRF", 2 }, { "GBP", 2 }, { "GEL", 2 }, { "GHS", 2 }, { "GIP", 2 }, { "GMD", 2 },
	{ "GNF", 0 }, { "GRD", 2 }, { "GTQ", 2 }, { "GYD", 2 }, { "HKD", 2 }, { "HNL", 2 },
	{ "HRK", 2 }, { "HTG", 2 }, { "HUF", 2 }, { "IDR", 2 }, { "IEP", 2 }, { "ILS", 2 },
	{ "INR", 2 }, { "IQD", 3 }, { "IRR", 2 }, { "ISK", 0 }, { "ITL", 0 }, { "JMD", 2 },
	{ "JOD", 3 }, { "JPY", 0 }, { "KES", 2 }, { "KGS", 2 }, { "KHR", 2 }, { "KMF", 0 },
	{ "KPW", 2 }, { "KRW", 0 }, { "KWD", 3 }, { "KYD", 2 }, { "KZT", 2 }, { "LAK", 2 },
	{ "LBP", 2 }, { "LKR", 2 }, { "LRD", 2 }, { "LSL", 2 }, { "LTL", 2 }, { "LUF", 2 },
	{ "LVL", 2 }, { "LYD", 3 }, { "MAD", 2 }, { "MDL", 2 }, { "MGA", 2 }, { "MKD", 2 },
	{ "MMK", 2 }, { "MNT", 2 }, { "MOP", 2 }, { "MRO", 2 }, { "MRU", 2 }, { "MTL", 2 },
	{ "MUR", 2 }, { "MVR", 2 }, { "MWK", 2 }, { "MXN", 2 }, { "MXV", 2 }, { "MYR", 2 },
	{ "MZN", 2 }, { "NAD", 2 }, { "NGN", 2 }, { "NIO", 2 }, { "NLG", 2 }, { "NOK", 2 },
	{ "NPR", 2 }, { "NZD", 2 }, { "OMR", 3 }, { "PAB", 2 }, { "PEN", 2 }, { "PGK", 2 },
	{ "PHP", 2 }, { "PKR", 2 }, { "PLN", 2 }, { "PTE", 0 }, { "PYG", 0 }, { "QAR", 2 },
	{ "RON", 2 }, { "RSD", 2 }, { "RUB", 2 }, { "RUR", 2 }, { "RWF", 0 }, { "SAR", 2 },
	{ "SBD", 2 }, { "SCR", 2 }, { "SDG", 2 }, { "SEK", 2 }, { "SGD", 2 }, { "SHP", 2 },
	{ "SIT", 2 }, { "SKK", 2 }, { "SLL", 2 }, { "SOS", 2 }, { "SRD", 2 }, { "SSP", 2 },
	{ "STD", 2 }, { "STN", 2 }, { "SVC", 2 }, { "SYP", 2 }, { "SZL", 2 }, { "THB", 2 },
	{ "TJS", 2 }, { "TMT", 2 }, { "TND", 3 }, { "TOP", 2 }, { "TRY", 2 }, { "TTD", 2 },
	{ "TWD", 2 }, { "TZS", 2 }, { "UAH", 2 }, { "UGX", 0 }, { "USD", 2 }, { "USN", 2 },
	{ "UYI", 0 }, { "UYU", 2 }, { "UZS", 2 }, { "VEF", 2 }, { "VES", 2 }, { "VND", 0 },
	{ "VUV", 0 }, { "WST", 2 }, { "XAF", 0 }, { "XAG", 0 }, { "XAU", 0 }, { "XBA", 0 },
	{ "XBB", 0 }, { "XBC", 0 }, { "XBD", 0 }, { "XCD", 2 }, { "XDR", 0 }, { "XEU", 0 },
	{ "XFU", 0 }, { "XOF", 0 }, { "XPD", 0 }, { "XPF", 0 }, { "XPT", 0 }, { "XSU", 0 },
	{ "XTS", 0 }, { "XUA", 0 }, { "XXX", 0 }, { "YER", 2 }, { "ZAR", 2 }, { "ZMW", 2 },
	{ "ZWL", 2 },
};

/* The decimal places of a currency Joda-Money knows, or -1. */
static int
currency_dp(const char *code)
{
	size_t lo = 0, hi = sizeof(currencies) / sizeof(currencies[0]);

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(code, currencies[mid].code);
		if (c == 0)
			return currencies[mid].dp;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

/* ---- decimals: value = (-1)^neg * digits * 10^-scale, digits most significant first ---- */

struct dec {
	unsigned char d[DEC_MAX];
	int           n;         /* number of digits, >= 1 */
	int           scale;     /* >= 0 */
	int           neg;
};

static void
dec_trim(struct dec *a)
{
	int z = 0;

	while (z < a->n - 1 && a->d[z] == 0)
		z++;
	if (z) {
		memmove(a->d, a->d + z, (size_t)(a->n - z));
		a->n -= z;
	}
	if (a->n == 1 && a->d[0] == 0)
		a->neg = 0;
}

static void
dec_zero(struct dec *a)
{
	a->n = 1;
	a->d[0] = 0;
	a->scale = 0;
	a->neg = 0;
}

/* a *= m (small), in place. -1 past DEC_MAX. */
static int
dec_mul_small(struct dec *a, unsigned m)
{
	unsigned carry = 0;
	int i;

	for (i = a->n - 1; i >= 0; i--) {
		unsigned v = a->d[i] * m + carry;
		a->d[i] = (unsigned char)(v % 10);
		carry = v / 10;
	}
	while (carry) {
		if (a->n == DEC_MAX)
			return -1;
		memmove(a->d + 1, a->d, (size_t)a->n);
		a->d[0] = (unsigned char)(carry % 10);
		carry /= 10;
		a->n++;
	}
	return 0;
}

static void
dec_from_u64(struct dec *a, uint64_t v)
{
	char t[24];
	int i;

	snprintf(t, sizeof(t), "%llu", (unsigned long long)v);
	a->n = (int)strlen(t);
	for (i = 0; i < a->n; i++)
		a->d[i] = (unsigned char)(t[i] - '0');
	a->scale = 0;
	a->neg = 0;
}

/* new BigDecimal(double): the exact value. -1 for NaN or infinity. */
static int
dec_from_double(struct dec *a, double x)
{
	int e, k;
	double f;
	uint64_t m;

	if (!isfinite(x))
		return -1;
	f = frexp(fabs(x), &e);                 /* x = f * 2^e, 0.5 <= f < 1 */
	m = (uint64_t)ldexp(f, 53);             /* x = m * 2^(e - 53) */
	k = e - 53;
	while (m && (m & 1) == 0 && k < 0) {
		m >>= 1;
		k++;
	}
	dec_from_u64(a, m);
	if (k >= 0) {
		for (; k > 0; k--)
			if (dec_mul_small(a, 2) < 0)
				return -1;
	} else {
		a->scale = -k;                      /* m * 2^k = m * 5^-k / 10^-k */
		for (; k < 0; k++)
			if (dec_mul_small(a, 5) < 0)
				return -1;
	}
	a->neg = x < 0;
	dec_trim(a);
	return 0;
}

/* A JSON number as the decimal it was written as (the shortest decimal of the double
 * jansson read, which is the text for rates of up to 15 significant digits). */
static int
dec_from_json(struct dec *a, const json_t *j)
{
	uint64_t mant;
	int exp10;
	double v;

	if (json_is_integer(j)) {
		json_int_t i = json_integer_value(j);
		dec_from_u64(a, (uint64_t)(i < 0 ? -(uint64_t)i : (uint64_t)i));
		a->neg = i < 0;
		return 0;
	}
	v = json_real_value(j);
	if (!json_is_real(j) || jnum_decimal(v, &mant, &exp10) < 0)
		return -1;
	dec_from_u64(a, mant);
	if (exp10 >= 0) {
		for (; exp10 > 0; exp10--)
			if (dec_mul_small(a, 10) < 0)
				return -1;
	} else {
		a->scale = -exp10;
	}
	a->neg = v < 0;
	dec_trim(a);
	return 0;
}

/* r = a * b, exact (scales add). */
static int
dec_mul(struct dec *r, const struct dec *a, const struct dec *b)
{
	static unsigned acc[2 * DEC_MAX];
	int i, j, n = a->n + b->n;

	if (n > DEC_MAX)
		return -1;
	memset(acc, 0, sizeof(acc[0]) * (size_t)n);
	for (i = a->n - 1; i >= 0; i--)
		for (j = b->n - 1; j >= 0; j--)
			acc[i + j + 1] += (unsigned)a->d[i] * b->d[j];
	for (i = n - 1; i > 0; i--) {
		acc[i - 1] += acc[i] / 10;
		acc[i] %= 10;
	}
	for (i = 0; i < n; i++)
		r->d[i] = (unsigned char)acc[i];
	r->n = n;
	r->scale = a->scale + b->scale;
	r->neg = a->neg != b->neg;
	dec_trim(r);
	return 0;
}

/* Compare digit strings x[0..xn) and y[0..yn) (no leading zeros but a lone 0). */
static int
mag_cmp(const unsigned char *x, int xn, const unsigned char *y, int yn)
{
	if (xn != yn)
		return xn < yn ? -1 : 1;
	return memcmp(x, y, (size_t)xn);
}

/* x -= y in place (x >= y), then drop leading zeros. */
static void
mag_sub(unsigned char *x, int *xn, const unsigned char *y, int yn)
{
	int i, j, borrow = 0, z = 0;

	for (i = *xn - 1, j = yn - 1; i >= 0; i--, j--) {
		int v = x[i] - borrow - (j >= 0 ? y[j] : 0);
		borrow = v < 0;
		x[i] = (unsigned char)(v < 0 ? v + 10 : v);
	}
	while (z < *xn - 1 && x[z] == 0)
		z++;
	memmove(x, x + z, (size_t)(*xn - z));
	*xn -= z;
}

/* r = 1 / b rounded HALF_EVEN to 6 decimal places (BigDecimal.ONE.divide(b, 6, HALF_EVEN)).
 * -1 for division by zero. */
static int
dec_inverse6(struct dec *r, const struct dec *b)
{
	static unsigned char rem[DEC_MAX + 2], twice[DEC_MAX + 2];
	int rn = 1, tn, digits = b->scale + 7, i, c, carry, up;

	if ((b->n == 1 && b->d[0] == 0) || digits > DEC_MAX)
		return -1;
	/* long division of 10^(scale+6) ("1" and scale+6 zeros) by b's digits */
	rem[0] = 0;
	r->n = 0;
	for (i = 0; i < digits; i++) {
		unsigned char next = i == 0 ? 1 : 0, qd = 0;
		if (rn == 1 && rem[0] == 0)
			rem[0] = next;                  /* rem = rem * 10 + next */
		else
			rem[rn++] = next;
		while (mag_cmp(rem, rn, b->d, b->n) >= 0) {
			mag_sub(rem, &rn, b->d, b->n);
			qd++;
		}
		r->d[r->n++] = qd;
	}
	/* HALF_EVEN: compare twice the remainder with the divisor */
	for (i = rn - 1, carry = 0; i >= 0; i--) {
		int v = rem[i] * 2 + carry;
		twice[i + 1] = (unsigned char)(v % 10);
		carry = v / 10;
	}
	twice[0] = (unsigned char)carry;
	tn = rn + 1;
	if (twice[0] == 0) {
		memmove(twice, twice + 1, (size_t)rn);
		tn = rn;
	}
	c = mag_cmp(twice, tn, b->d, b->n);
	up = c > 0 || (c == 0 && (r->d[r->n - 1] & 1));
	r->scale = 6;
	r->neg = b->neg;
	if (up) {
		for (i = r->n - 1; i >= 0 && r->d[i] == 9; i--)
			r->d[i] = 0;
		if (i >= 0) {
			r->d[i]++;
		} else {
			memmove(r->d + 1, r->d, (size_t)r->n);
			r->d[0] = 1;
			r->n++;
		}
	}
	dec_trim(r);
	return 0;
}

/* a rounded HALF_EVEN to dp decimal places (setScale). */
static int
dec_round(struct dec *a, int dp)
{
	int cut, i, up = 0;

	if (a->scale <= dp) {
		for (; a->scale < dp; a->scale++)
			if (dec_mul_small(a, 10) < 0)
				return -1;
		return 0;
	}
	cut = a->scale - dp;                       /* digits to drop */
	if (cut > a->n) {                          /* all of it is below the rounding digit */
		dec_zero(a);
		a->scale = dp;
		return 0;
	}
	{
		int first = a->n - cut, rest = 0;
		int rd = a->d[first];
		for (i = first + 1; i < a->n; i++)
			rest |= a->d[i];
		if (rd > 5 || (rd == 5 && rest))
			up = 1;
		else if (rd == 5)
			up = first > 0 ? a->d[first - 1] & 1 : 0;
		a->n = first;
		if (a->n == 0) {
			a->d[0] = 0;
			a->n = 1;
		}
	}
	a->scale = dp;
	if (up) {
		for (i = a->n - 1; i >= 0 && a->d[i] == 9; i--)
			a->d[i] = 0;
		if (i >= 0)
			a->d[i]++;
		else {
			if (a->n == DEC_MAX)
				return -1;
			memmove(a->d + 1, a->d, (size_t)a->n);
			a->d[0] = 1;
			a->n++;
		}
	}
	dec_trim(a);
	return 0;
}

/* BigDecimal.toString for scales that keep it plain (here 0 to 6). */
static void
dec_format(const struct dec *a, struct buf *out)
{
	int i, intdigits = a->n - a->scale;

	buf_reset(out);
	if (a->neg)
		buf_append_byte(out, '-');
	if (intdigits <= 0) {
		buf_append_str(out, "0");
	} else {
		for (i = 0; i < intdigits; i++)
			buf_append_byte(out, (unsigned char)('0' + a->d[i]));
	}
	if (a->scale > 0) {
		buf_append_byte(out, '.');
		for (i = intdigits; i < 0; i++)
			buf_append_byte(out, '0');
		for (i = intdigits > 0 ? intdigits : 0; i < a->n; i++)
			buf_append_byte(out, (unsigned char)('0' + a->d[i]));
	}
}

static int
dec_text(const struct dec *a, char *out, size_t outlen)
{
	struct buf b;
	int rc;

	buf_init(&b, 0);
	dec_format(a, &b);
	rc = b.len < outlen ? 0 : -1;
	snprintf(out, outlen, "%s", b.data ? b.data : "0");
	buf_free(&b);
	return rc;
}

/* A decimal back from its text (a rate from the cache). */
static int
dec_parse(struct dec *a, const char *s)
{
	const char *dot;

	a->neg = *s == '-';
	if (*s == '-')
		s++;
	a->n = 0;
	dot = strchr(s, '.');
	a->scale = dot ? (int)strlen(dot + 1) : 0;
	for (; *s; s++) {
		if (*s == '.')
			continue;
		if (!isdigit((unsigned char)*s) || a->n == DEC_MAX)
			return -1;
		a->d[a->n++] = (unsigned char)(*s - '0');
	}
	if (a->n == 0)
		return -1;
	dec_trim(a);
	return 0;
}

/* ---- the enrichment ---- */

enum account { ACC_DEVELOPER, ACC_ENTERPRISE, ACC_UNLIMITED };

struct cur {
	char          *schema_uri;
	char          *api_key;
	char           base[4];
	int            base_dp;
	enum account   account;
	char          *url;          /* the service's base URL, ending in '/' */
	json_t        *rates;        /* the EOD cache: "FROM TO YYYY-MM-DD" -> rate text */
	CURL          *curl;
	struct buf     resp;
};

static void
cur_free(void *state)
{
	struct cur *c = state;

	if (c == NULL)
		return;
	free(c->schema_uri);
	if (c->api_key) {
		memset(c->api_key, 0, strlen(c->api_key));
		free(c->api_key);
	}
	free(c->url);
	json_decref(c->rates);
	if (c->curl)
		curl_easy_cleanup(c->curl);
	buf_free(&c->resp);
	free(c);
}

static void *
cur_load(const struct enr_ctx *ctx, char *err, size_t errlen)
{
	const json_t *p = json_object_get(ctx->data, "parameters");
	const char *key = enr_json_str(p, "apiKey"), *base = enr_json_str(p, "baseCurrency");
	const char *acc = enr_json_str(p, "accountType"), *env = getenv("FURROW_OER_URL");
	struct cur *c;

	if (key == NULL || base == NULL || acc == NULL) {
		snprintf(err, errlen, "parameters: \"apiKey\", \"baseCurrency\", \"rateAt\" and "
		    "\"accountType\" are required");
		return NULL;
	}
	if (currency_dp(base) < 0) {
		snprintf(err, errlen, "Unknown currency '%s'", base);
		return NULL;
	}
	if (strcmp(acc, "DEVELOPER") && strcmp(acc, "ENTERPRISE") && strcmp(acc, "UNLIMITED")) {
		snprintf(err, errlen, "accountType [%s] is not one of DEVELOPER, ENTERPRISE, and "
		    "UNLIMITED", acc);
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	buf_init(&c->resp, CUR_RESPONSE_MAX);
	snprintf(c->base, sizeof(c->base), "%s", base);
	c->base_dp = currency_dp(base);
	c->account = !strcmp(acc, "DEVELOPER") ? ACC_DEVELOPER : !strcmp(acc, "ENTERPRISE") ?
	    ACC_ENTERPRISE : ACC_UNLIMITED;
	c->schema_uri = strdup(ctx->schema_uri);
	c->api_key = strdup(key);
	if (env && *env) {
		if (asprintf(&c->url, "%s%s", env, env[strlen(env) - 1] == '/' ? "" : "/") < 0)
			c->url = NULL;
	} else {
		c->url = strdup(CUR_DEFAULT_URL);
	}
	c->rates = json_object();
	c->curl = curl_easy_init();
	if (c->schema_uri == NULL || c->api_key == NULL || c->url == NULL || c->rates == NULL ||
	    c->curl == NULL) {
		snprintf(err, errlen, "out of memory");
		cur_free(c);
		return NULL;
	}
	/* the environment's URL checked as a flag's would be (common/flagval) */
	if (env && *env && flagval_http_url("FURROW_OER_URL", env, FLAGVAL_PATH_MAX, err,
	    errlen) == -1) {
		cur_free(c);
		return NULL;
	}
	return c;
}

static size_t
write_cb(char *p, size_t size, size_t nmemb, void *arg)
{
	return buf_append(arg, p, size * nmemb) == 0 ? size * nmemb : 0;
}

static void
cache_key(char *out, size_t outlen, const char *from, const char *to, const char *day)
{
	snprintf(out, outlen, "%s %s %s", from, to, day);
}

static void
cache_put(struct cur *c, const char *from, const char *to, const char *day, const struct dec *r)
{
	char key[64], text[DEC_MAX + 8];

	if (json_object_size(c->rates) >= CUR_CACHE_MAX)
		json_object_clear(c->rates);
	cache_key(key, sizeof(key), from, to, day);
	if (dec_text(r, text, sizeof(text)) == 0)
		json_object_set_new(c->rates, key, json_string(text));
}

static int
cache_get(struct cur *c, const char *from, const char *to, const char *day, struct dec *r)
{
	char key[64];
	const char *t;

	cache_key(key, sizeof(key), from, to, day);
	t = json_string_value(json_object_get(c->rates, key));
	return t != NULL && dec_parse(r, t) == 0;
}

/* "Open Exchange Rates error, type: [...], message: [...]" */
static void
oer_error(char *err, size_t errlen, const char *type, const char *msg)
{
	snprintf(err, errlen, "Open Exchange Rates error, type: [%s], message: [%s]", type, msg);
}

/*
 * OerClient.getHistoricalCurrencyValue for the day: fetch the day's rates and fill the cache
 * (extractHistoricalCurrency). Returns the answer's rates object (a new reference), or NULL
 * with err.
 */
static json_t *
fetch_day(struct cur *c, const char *day, char *err, size_t errlen)
{
	char url[2048];
	CURLcode rc;
	json_error_t jerr;
	json_t *j, *rates, *v;
	const char *code;
	struct dec base_rate, inv, r, x;
	int have_inv = 0;

	snprintf(url, sizeof(url), "%shistorical/%s.json?app_id=%s%s%s", c->url, day, c->api_key,
	    c->account == ACC_DEVELOPER ? "" : "&base=", c->account == ACC_DEVELOPER ? "" : c->base);
	buf_reset(&c->resp);
	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &c->resp);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, CUR_TIMEOUT_MS);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT_MS, 2000L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	memset(url, 0, sizeof(url));               /* it holds the key */
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		/* upstream's transport throws: "an error happened while converting the currency" */
		snprintf(err, errlen, "an error happened while converting the currency: %s",
		    curl_easy_strerror(rc));
		return NULL;
	}
	/* whatever the status, the body decides (scalaj's asString, then circe) */
	j = json_loadb(c->resp.data ? c->resp.data : "", c->resp.len, 0, &jerr);
	if (j == NULL) {
		char m[300];
		snprintf(m, sizeof(m), "OER response is not JSON: %s", jerr.text);
		oer_error(err, errlen, "OtherErrors", m);
		return NULL;
	}
	if (json_is_string(json_object_get(j, "message"))) {
		oer_error(err, errlen, "OtherErrors", json_string_value(json_object_get(j, "message")));
		json_decref(j);
		return NULL;
	}
	rates = json_incref(json_object_get(j, "rates"));
	json_decref(j);
	if (!json_is_object(rates)) {
		json_decref(rates);
		oer_error(err, errlen, "OtherErrors", "OER response couldn't be decoded");
		return NULL;
	}
	json_object_foreach(rates, code, v) {
		if (!json_is_number(v)) {
			json_decref(rates);
			oer_error(err, errlen, "OtherErrors", "OER response couldn't be decoded");
			return NULL;
		}
	}
	if (c->account == ACC_DEVELOPER && strcmp(c->base, "USD") != 0) {
		if (dec_from_json(&base_rate, json_object_get(rates, c->base)) < 0) {
			snprintf(err, errlen, "an error happened while converting the currency: key not "
			    "found: %s", c->base);
			json_decref(rates);
			return NULL;
		}
		if (dec_inverse6(&inv, &base_rate) < 0) {
			snprintf(err, errlen, "an error happened while converting the currency: "
			    "Division by zero");
			json_decref(rates);
			return NULL;
		}
		have_inv = 1;
	}
	json_object_foreach(rates, code, v) {
		if (currency_dp(code) < 0 || dec_from_json(&x, v) < 0)
			continue;           /* not a currency Joda-Money knows: skipped, as upstream */
		if (have_inv) {
			if (dec_mul(&r, &inv, &x) < 0)
				continue;
			cache_put(c, c->base, code, day, &r);
		} else {
			cache_put(c, c->base, code, day, &x);
		}
	}
	return rates;
}

/* ForexLookupWhen.at(day): the rate X -> base, or -1 with err. */
static int
rate_at(struct cur *c, const char *from, const char *day, int64_t day_ms, struct dec *rate,
    char *err, size_t errlen)
{
	struct dec back, fr, to;
	json_t *rates;

	if (cache_get(c, from, c->base, day, rate))
		return 0;
	if (cache_get(c, c->base, from, day, &back)) {
		if (dec_inverse6(rate, &back) < 0) {
			snprintf(err, errlen, "an error happened while converting the currency: "
			    "Division by zero");
			return -1;
		}
		return 0;
	}
	if (day_ms < CUR_OER_FROM_MS || day_ms > timefmt_now_ms()) {
		char m[96];
		snprintf(m, sizeof(m), "Exchange rate unavailable on the date [%sT00:00Z[UTC]]", day);
		oer_error(err, errlen, "ResourcesNotAvailable", m);
		return -1;
	}
	if ((rates = fetch_day(c, day, err, errlen)) == NULL)
		return -1;
	if (dec_from_json(&fr, json_object_get(rates, from)) < 0 || currency_dp(from) < 0 ||
	    dec_from_json(&to, json_object_get(rates, c->base)) < 0) {
		char m[96];
		snprintf(m, sizeof(m), "Currency not found in the API, invalid currency %s",
		    dec_from_json(&fr, json_object_get(rates, from)) < 0 ? from : c->base);
		oer_error(err, errlen, "IllegalCurrency", m);
		json_decref(rates);
		return -1;
	}
	json_decref(rates);
	if (strcmp(from, c->base) == 0) {
		*rate = to;
		return 0;
	}
	if (dec_inverse6(&back, &fr) < 0 || dec_mul(rate, &back, &to) < 0) {
		snprintf(err, errlen, "an error happened while converting the currency: Division by "
		    "zero");
		return -1;
	}
	cache_put(c, from, c->base, day, rate);
	return 0;
}

/* One amount: the converted text into out (empty: nothing to convert), or -1 with a failure
 * already added. */
static int
convert(struct cur *c, struct enrich_event *ev, int amount_col, int currency_col,
    const char *field, char *out, size_t outlen, json_t *failures)
{
	const char *amount = ev->col[amount_col], *code = ev->col[currency_col];
	char err[1024], day[16], ts[40];
	int64_t day_ms;
	struct dec a, rate, r;
	double v;

	out[0] = '\0';
	if (amount == NULL || code == NULL)
		return 0;
	if (currency_dp(code) < 0) {
		snprintf(err, sizeof(err), "Unknown currency '%s'", code);
		enr_add_failure(failures, c->schema_uri, CUR_IDENTIFIER, json_pack("{s:s,s:s,s:s}",
		    "field", field, "value", code, "expectation", err));
		return -1;
	}
	day_ms = ev->collector_tstamp_ms - ((ev->collector_tstamp_ms % 86400000) + 86400000) %
	    86400000;
	timefmt_tsv(day_ms, ts);
	snprintf(day, sizeof(day), "%.10s", ts);
	if (rate_at(c, code, day, day_ms, &rate, err, sizeof(err)) < 0)
		goto fail;
	v = strtod(amount, NULL);              /* BigDecimal.doubleValue */
	if (dec_from_double(&a, v) < 0) {
		snprintf(err, sizeof(err), "an error happened while converting the currency: "
		    "Infinite or NaN");
		goto fail;
	}
	if (strcmp(code, c->base) == 0)
		r = a;
	else if (dec_mul(&r, &a, &rate) < 0) {
		snprintf(err, sizeof(err), "an error happened while converting the currency: the "
		    "amount is too large");
		goto fail;
	}
	if (dec_round(&r, c->base_dp) < 0 || dec_text(&r, out, outlen) < 0) {
		snprintf(err, sizeof(err), "an error happened while converting the currency: the "
		    "amount is too large");
		goto fail;
	}
	return 0;
fail:
	out[0] = '\0';
	enr_add_failure(failures, c->schema_uri, CUR_IDENTIFIER, json_pack("{s:s}", "error", err));
	return -1;
}

static int
cur_apply(void *state, struct enrich_event *ev, json_t *failures)
{
	static const struct {
		int amount, currency, base;
		const char *field;
	} fields[] = {
		{ COL_TR_TOTAL, COL_TR_CURRENCY, COL_TR_TOTAL_BASE, "tr_currency" },
		{ COL_TR_TAX, COL_TR_CURRENCY, COL_TR_TAX_BASE, "tr_currency" },
		{ COL_TR_SHIPPING, COL_TR_CURRENCY, COL_TR_SHIPPING_BASE, "tr_currency" },
		{ COL_TI_PRICE, COL_TI_CURRENCY, COL_TI_PRICE_BASE, "ti_currency" },
	};
	char out[4][128];
	size_t i;
	int failed = 0;

	enrich_event_set_str(ev, COL_BASE_CURRENCY, ((struct cur *)state)->base);
	for (i = 0; i < 4; i++)
		if (convert(state, ev, fields[i].amount, fields[i].currency, fields[i].field, out[i],
		    sizeof(out[i]), failures) < 0)
			failed = 1;
	if (failed)
		return -1;
	for (i = 0; i < 4; i++)
		if (out[i][0])
			enrich_event_set_str(ev, fields[i].base, out[i]);
	return 0;
}

const struct enr_module enr_currency = {
	"com.snowplowanalytics.snowplow", "currency_conversion_config", 1, ENRICH_STAGE_EARLY, 25,
	CUR_IDENTIFIER, cur_load, cur_apply, cur_free,
};
