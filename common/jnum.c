/*
 * jnum: shortest decimals of doubles and Java's number printing (see jnum.h).
 */
#include "jnum.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double POW10[] = { 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
#define TWO53 9007199254740992.0

static void
strip_zeros(uint64_t *mant, int *exp10)
{
	while (*mant != 0 && *mant % 10 == 0) {
		*mant /= 10;
		(*exp10)++;
	}
}

/* The general case: the fewest %e digits that strtod reads back. */
static int
decimal_slow(double a, uint64_t *mant, int *exp10)
{
	char tmp[40], *p;
	int prec, ndig = 0;
	uint64_t m = 0;

	for (prec = 0; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec, a);
		if (strtod(tmp, NULL) == a)
			break;
	}
	for (p = tmp; *p && *p != 'e'; p++) {
		if (*p == '.')
			continue;
		m = m * 10 + (uint64_t)(*p - '0');
		ndig++;
	}
	*exp10 = (int)strtol(p + 1, NULL, 10) - (ndig - 1);
	*mant = m;
	strip_zeros(mant, exp10);
	if (*mant < 10 && a < DBL_MIN) {
		/* Double.toString prints at least "d.d", the two digits nearest the exact value:
		 * for a subnormal of little precision they differ from "d.0" (4.9E-324, not 5E-324) */
		snprintf(tmp, sizeof(tmp), "%.1e", a);
		if (strtod(tmp, NULL) == a) {
			*mant = (uint64_t)(tmp[0] - '0') * 10 + (uint64_t)(tmp[2] - '0');
			*exp10 = (int)strtol(tmp + 4, NULL, 10) - 1;
			strip_zeros(mant, exp10);
		}
	}
	return 0;
}

int
jnum_decimal(double d, uint64_t *mant, int *exp10)
{
	double a = fabs(d);
	int p;

	if (!isfinite(a))
		return -1;
	*mant = 0;
	*exp10 = 0;
	if (a == 0)
		return 0;
	if (a < TWO53 && a == floor(a)) {
		/* an integer below 2^53: no shorter decimal lies within half a unit of it */
		*mant = (uint64_t)a;
		strip_zeros(mant, exp10);
		return 0;
	}
	if (a >= 1e-5 && a < TWO53) {
		/* the first number of fraction digits p at which some integer c reads back as
		 * c / 10^p == a; c and 10^p are exact doubles, so the division is strtod's rounding */
		for (p = 1; p <= 22; p++) {
			double s = a * POW10[p], c0 = nearbyint(s), best = -1, err = 0;
			int k;

			if (c0 + 1 >= TWO53)
				break;
			for (k = -1; k <= 1; k++) {
				double c = c0 + k, e;

				if (c <= 0 || c / POW10[p] != a)
					continue;
				e = fabs(fma(a, POW10[p], -c));
				if (best < 0 || e < err) {
					best = c;
					err = e;
				}
			}
			if (best >= 0) {
				*mant = (uint64_t)best;
				*exp10 = -p;
				strip_zeros(mant, exp10);
				return 0;
			}
		}
	}
	return decimal_slow(a, mant, exp10);
}

/* Java's layout of the digits of mant * 10^exp10 (Double.toString / Float.toString). */
static void
java_layout(int neg, uint64_t mant, int exp10, double a, char out[JNUM_BUFSZ])
{
	char digits[24];
	int nd, sci, i, n = 0;

	nd = snprintf(digits, sizeof(digits), "%llu", (unsigned long long)mant);
	sci = exp10 + nd - 1;              /* the exponent of the first digit */
	if (neg)
		out[n++] = '-';
	if (a >= 1e-3 && a < 1e7) {
		if (sci >= 0) {
			for (i = 0; i <= sci; i++)
				out[n++] = i < nd ? digits[i] : '0';
			out[n++] = '.';
			if (nd > sci + 1)
				for (i = sci + 1; i < nd; i++)
					out[n++] = digits[i];
			else
				out[n++] = '0';
		} else {
			out[n++] = '0';
			out[n++] = '.';
			for (i = 0; i < -sci - 1; i++)
				out[n++] = '0';
			for (i = 0; i < nd; i++)
				out[n++] = digits[i];
		}
		out[n] = '\0';
		return;
	}
	out[n++] = digits[0];
	out[n++] = '.';
	if (nd > 1)
		for (i = 1; i < nd; i++)
			out[n++] = digits[i];
	else
		out[n++] = '0';
	snprintf(out + n, (size_t)(JNUM_BUFSZ - n), "E%d", sci);
}

void
jnum_java_double(double d, char out[JNUM_BUFSZ])
{
	uint64_t mant;
	int exp10;

	if (isnan(d)) {
		snprintf(out, JNUM_BUFSZ, "NaN");
		return;
	}
	if (isinf(d)) {
		snprintf(out, JNUM_BUFSZ, "%sInfinity", d < 0 ? "-" : "");
		return;
	}
	if (d == 0) {
		snprintf(out, JNUM_BUFSZ, "%s", signbit(d) ? "-0.0" : "0.0");
		return;
	}
	jnum_decimal(d, &mant, &exp10);
	java_layout(d < 0, mant, exp10, fabs(d), out);
}

void
jnum_java_float(float f, char out[JNUM_BUFSZ])
{
	char e[40], *p;
	uint64_t mant = 0;
	int prec, nd = 0;

	if (isnan(f) || isinf(f) || f == 0) {
		jnum_java_double((double)f, out);
		return;
	}
	for (prec = 1; prec <= 9; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, (double)f);
		if (strtof(e, NULL) == f)
			break;
	}
	for (p = e; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9') {
			mant = mant * 10 + (uint64_t)(*p - '0');
			nd++;
		}
	prec = (int)strtol(p + 1, NULL, 10) - (nd - 1);
	strip_zeros(&mant, &prec);
	java_layout(f < 0, mant, prec, fabs((double)f), out);
}
