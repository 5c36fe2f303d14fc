#!/usr/bin/env python3
"""The expected amounts of tests/unit/test_enr_currency.c and tests/integration/enrich_currency.sh,
computed with Python's decimal module (exact) following scala-forex 3.0 and Joda-Money step by
step: the rates of tests/golden/currency/2023-11-14*.json, the EOD cache as OerClient fills it,
BigDecimal.ONE.divide(rate, 6, HALF_EVEN), new BigDecimal(amount.doubleValue) and
Money.toMoney(HALF_EVEN) at the base currency's decimal places. Run it to print them."""
from decimal import Decimal, ROUND_HALF_EVEN, getcontext
getcontext().prec = 5000
def r6(x):
    return (Decimal(1) / x).quantize(Decimal('0.000001'), ROUND_HALF_EVEN)
def money(amount, rate, dp):
    v = Decimal(float(amount)) * rate if rate is not None else Decimal(float(amount))
    q = Decimal(1).scaleb(-dp)
    return v.quantize(q, ROUND_HALF_EVEN)
R = {"AED":"3.6731","CHF":"0.888551","EUR":"0.921405","GBP":"0.810045","JPY":"151.4865","KWD":"0.30885","USD":"1"}
R = {k: Decimal(v) for k,v in R.items()}
# DEVELOPER, base EUR
cache = {}
def fetch_dev(base):
    inv = r6(R[base]) if base != "USD" else None
    for c, v in R.items():
        cache[(base, c)] = inv * v if inv is not None else v
def rate(x, base):
    if (x, base) in cache: return cache[(x, base)]
    if (base, x) in cache: return r6(cache[(base, x)])
    fetch_dev(base)
    fr, to = R[x], R[base]
    if x == base: return to
    rt = r6(fr) * to
    cache[(x, base)] = rt
    return rt
base = "EUR"
print("GBP 12.3 ->", money("12.3", rate("GBP", base), 2))
print("GBP 1.23 ->", money("1.23", rate("GBP", base), 2))
print("GBP 0.5 ->", money("0.5", rate("GBP", base), 2))
print("JPY 1500 ->", money("1500", rate("JPY", base), 2))
print("KWD 3.333 ->", money("3.333", rate("KWD", base), 2))
print("EUR 10.005 ->", money("10.005", None, 2))
print("EUR 10.015 ->", money("10.015", None, 2))
print("rate GBP", rate("GBP", base), "JPY", rate("JPY", base))
# base USD developer
cache = {}
print("USD base: GBP 12.3 ->", money("12.3", rate("GBP","USD"), 2), "JPY 1500 ->", money("1500", rate("JPY","USD"), 2))
# base JPY (0 dp)
cache = {}
print("JPY base: GBP 12.3 ->", money("12.3", rate("GBP","JPY"), 0), "USD -7.5 ->", money("-7.5", rate("USD","JPY"), 0))
# ENTERPRISE base EUR: rates relative to EUR
RE = {"EUR":Decimal("1"),"GBP":Decimal("0.879138"),"JPY":Decimal("164.408"),"USD":Decimal("1.085299")}
cache = {}
def rate_e(x, base):
    if (x, base) in cache: return cache[(x, base)]
    if (base, x) in cache: return r6(cache[(base, x)])
    for c, v in RE.items(): cache[(base, c)] = v
    fr, to = RE[x], RE[base]
    if x == base: return to
    rt = r6(fr) * to
    cache[(x, base)] = rt
    return rt
print("ENT EUR: GBP 12.3 ->", money("12.3", rate_e("GBP","EUR"), 2), "USD 99.99 ->", money("99.99", rate_e("USD","EUR"), 2))
