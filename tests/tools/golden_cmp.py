#!/usr/bin/env python3
"""Compare enrich output with golden files, field by field.

usage: golden_cmp.py EXPECTED.tsv ACTUAL.tsv EXPECTED-BAD.jsonl ACTUAL-BAD.jsonl

TSV lines are compared column by column and a mismatch names the column; "*" in an expected
field matches anything. Bad rows are compared as JSON; a "*" string in the expected document
matches any value. Prints one line per difference; exit 1 when there is any."""
import json
import sys

COLS = ("app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id "
        "name_tracker v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint "
        "domain_userid domain_sessionidx network_userid geo_country geo_region geo_city "
        "geo_zipcode geo_latitude geo_longitude geo_region_name ip_isp ip_organization ip_domain "
        "ip_netspeed page_url page_title page_referrer page_urlscheme page_urlhost page_urlport "
        "page_urlpath page_urlquery page_urlfragment refr_urlscheme refr_urlhost refr_urlport "
        "refr_urlpath refr_urlquery refr_urlfragment refr_medium refr_source refr_term mkt_medium "
        "mkt_source mkt_term mkt_content mkt_campaign contexts se_category se_action se_label "
        "se_property se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax "
        "tr_shipping tr_city tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price "
        "ti_quantity pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent "
        "br_name br_family br_version br_type br_renderengine br_lang br_features_pdf "
        "br_features_flash br_features_java br_features_director br_features_quicktime "
        "br_features_realplayer br_features_windowsmedia br_features_gears "
        "br_features_silverlight br_cookies br_colordepth br_viewwidth br_viewheight os_name "
        "os_family os_manufacturer os_timezone dvce_type dvce_ismobile dvce_screenwidth "
        "dvce_screenheight doc_charset doc_width doc_height tr_currency tr_total_base tr_tax_base "
        "tr_shipping_base ti_currency ti_price_base base_currency geo_timezone mkt_clickid "
        "mkt_network etl_tags dvce_sent_tstamp refr_domain_userid refr_dvce_tstamp "
        "derived_contexts domain_sessionid derived_tstamp event_vendor event_name event_format "
        "event_version event_fingerprint true_tstamp").split()
assert len(COLS) == 131

diffs = []


def lines(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        return [l[:-1] if l.endswith("\n") else l for l in f]


def cmp_tsv(exp, act):
    if len(exp) != len(act):
        diffs.append("good events: expected %d lines, got %d" % (len(exp), len(act)))
    for n, (e, a) in enumerate(zip(exp, act), 1):
        ef, af = e.split("\t"), a.split("\t")
        if len(af) != 131:
            diffs.append("good line %d: %d fields, expected 131" % (n, len(af)))
            continue
        for i, (x, y) in enumerate(zip(ef, af)):
            if x != "*" and x != y:
                diffs.append("good line %d column %d %s: expected %r, got %r" % (n, i + 1, COLS[i], x, y))


def cmp_json(e, a, path):
    if e == "*":
        return
    if isinstance(e, dict) and isinstance(a, dict):
        for k in list(e) + [k for k in a if k not in e]:
            if k not in a or k not in e:
                diffs.append("%s.%s: %s" % (path, k, "missing" if k not in a else "unexpected"))
            else:
                cmp_json(e[k], a[k], path + "." + k)
    elif isinstance(e, list) and isinstance(a, list):
        if len(e) != len(a):
            diffs.append("%s: expected %d elements, got %d" % (path, len(e), len(a)))
        for i, (x, y) in enumerate(zip(e, a)):
            cmp_json(x, y, "%s[%d]" % (path, i))
    elif e != a or type(e) != type(a):
        diffs.append("%s: expected %r, got %r" % (path, e, a))


def cmp_bad(exp, act):
    if len(exp) != len(act):
        diffs.append("bad rows: expected %d lines, got %d" % (len(exp), len(act)))
    for n, (e, a) in enumerate(zip(exp, act), 1):
        try:
            aj = json.loads(a)
        except ValueError as err:
            diffs.append("bad line %d: not JSON: %s" % (n, err))
            continue
        cmp_json(json.loads(e), aj, "bad line %d" % n)


cmp_tsv(lines(sys.argv[1]), lines(sys.argv[2]))
cmp_bad(lines(sys.argv[3]), lines(sys.argv[4]))
for d in diffs[:100]:
    print(d)
sys.exit(1 if diffs else 0)
