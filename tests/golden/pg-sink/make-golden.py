#!/usr/bin/env python3
"""Writes pg-sink's golden inputs (hand-designed enriched events, 131 TSV columns each).

    python3 tests/golden/pg-sink/make-golden.py      # rewrites *.tsv next to this file

golden.tsv: page views, pings, structured and self-describing events, a transaction and its
item, with contexts and derived contexts from the embedded registry (web_page,
ua_parser_context, link_click) and from iglu/ (com.acme/button_click 1-0-0,
com.acme/user_context): every atomic column class, every column type of the loader's type
suggestions, and the characters COPY's text format escapes (backslash, TAB and newline inside
JSON strings). Event ids are 00000000-0000-4000-8000-<12 hex digits of the line number>.
migrate.tsv: button_click 1-0-1 (two new optional properties: ALTER TABLE ADD COLUMN) and
2-0-0 (a breaking change: table com_acme_button_click_2), plus 1-0-0 once more.
refused.tsv: good events with, between them, lines PostgreSQL or pg-sink must refuse, one
per reason; "refused:" in app_id marks them (see the test for the reasons).
"""
import json, os

COLS = """app_id platform etl_tstamp collector_tstamp dvce_created_tstamp event event_id txn_id
name_tracker v_tracker v_collector v_etl user_id user_ipaddress user_fingerprint domain_userid
domain_sessionidx network_userid geo_country geo_region geo_city geo_zipcode geo_latitude
geo_longitude geo_region_name ip_isp ip_organization ip_domain ip_netspeed page_url page_title
page_referrer page_urlscheme page_urlhost page_urlport page_urlpath page_urlquery page_urlfragment
refr_urlscheme refr_urlhost refr_urlport refr_urlpath refr_urlquery refr_urlfragment refr_medium
refr_source refr_term mkt_medium mkt_source mkt_term mkt_content mkt_campaign contexts se_category
se_action se_label se_property se_value unstruct_event tr_orderid tr_affiliation tr_total tr_tax
tr_shipping tr_city tr_state tr_country ti_orderid ti_sku ti_name ti_category ti_price ti_quantity
pp_xoffset_min pp_xoffset_max pp_yoffset_min pp_yoffset_max useragent br_name br_family br_version
br_type br_renderengine br_lang br_features_pdf br_features_flash br_features_java
br_features_director br_features_quicktime br_features_realplayer br_features_windowsmedia
br_features_gears br_features_silverlight br_cookies br_colordepth br_viewwidth br_viewheight
os_name os_family os_manufacturer os_timezone dvce_type dvce_ismobile dvce_screenwidth
dvce_screenheight doc_charset doc_width doc_height tr_currency tr_total_base tr_tax_base
tr_shipping_base ti_currency ti_price_base base_currency geo_timezone mkt_clickid mkt_network
etl_tags dvce_sent_tstamp refr_domain_userid refr_dvce_tstamp derived_contexts domain_sessionid
derived_tstamp event_vendor event_name event_format event_version event_fingerprint
true_tstamp""".split()
assert len(COLS) == 131

UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
UA_PARSER = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
BUTTON = "iglu:com.acme/button_click/jsonschema/%s"
USER = "iglu:com.acme/user_context/jsonschema/1-0-0"


def js(v):
    return json.dumps(v, separators=(",", ":"), ensure_ascii=False)


def ctx(*entities):
    return js({"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
               "data": [{"schema": s, "data": d} for s, d in entities]})


def ue(schema, data):
    return js({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
               "data": {"schema": schema, "data": data}})


def base(n, event, **kw):
    e = {c: "" for c in COLS}
    e.update(app_id="shop", platform="web", etl_tstamp="2023-11-14 22:13:21.045",
             collector_tstamp="2023-11-14 22:13:%02d.%03d" % (n % 60, n * 7 % 1000),
             dvce_created_tstamp="2023-11-14 22:13:19.871", event=event,
             event_id="00000000-0000-4000-8000-%012x" % n, name_tracker="sp",
             v_tracker="js-3.17.0", v_collector="furrow-collector-0.1.0-stdout",
             v_etl="furrow-enrich-0.1.0", user_ipaddress="203.0.113.%d" % n,
             domain_userid="c1f3e9a8-55b1-4d7e-9b0e-4a2f1c3d5e6f", domain_sessionidx=str(n % 7 + 1),
             network_userid="5d0f7e1c-3b2a-4c9d-8e7f-6a5b4c3d2e1f", page_url="https://shop.example/p/%d" % n,
             page_urlscheme="https", page_urlhost="shop.example", page_urlport="443",
             page_urlpath="/p/%d" % n, useragent=UA, br_lang="en-US", br_cookies="1",
             br_colordepth="24", br_viewwidth="1280", br_viewheight="800", os_timezone="Europe/Berlin",
             dvce_screenwidth="1920", dvce_screenheight="1080", doc_charset="UTF-8",
             doc_width="1280", doc_height="3000", dvce_sent_tstamp="2023-11-14 22:13:19.999",
             domain_sessionid="7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d",
             derived_tstamp="2023-11-14 22:13:20.100")
    e.update(kw)
    return e


def line(e):
    return "\t".join(e[c] for c in COLS)


UA_CTX = (UA_PARSER, {"useragentFamily": "Chrome", "useragentMajor": "120", "useragentMinor": "0",
                      "useragentPatch": None, "useragentVersion": "Chrome 120.0", "osFamily": "Linux",
                      "osMajor": None, "osMinor": None, "osPatch": None, "osPatchMinor": None,
                      "osVersion": "Linux", "deviceFamily": "Other"})

golden = [
    base(1, "page_view", page_title="Home", page_referrer="https://search.example/?q=shoes",
         refr_urlscheme="https", refr_urlhost="search.example", refr_urlport="443", refr_urlpath="/",
         refr_urlquery="q=shoes", refr_medium="search", refr_source="Example", refr_term="shoes",
         mkt_medium="cpc", mkt_source="example", mkt_term="shoes", mkt_content="ad1", mkt_campaign="winter",
         mkt_clickid="abc123", mkt_network="Example",
         geo_country="DE", geo_region="BE", geo_city="Berlin", geo_zipcode="10115",
         geo_latitude="52.52", geo_longitude="13.405", geo_region_name="Berlin", geo_timezone="Europe/Berlin",
         br_features_pdf="1", br_features_flash="0", br_features_java="0", br_features_director="0",
         br_features_quicktime="0", br_features_realplayer="0", br_features_windowsmedia="0",
         br_features_gears="0", br_features_silverlight="0", dvce_ismobile="0",
         contexts=ctx((WEB_PAGE, {"id": "a1b2c3d4-0001"}),
                      (USER, {"userType": "premium", "plan": "gold", "age": 41, "address": {"city": "Berlin"}})),
         derived_contexts=ctx(UA_CTX), event_fingerprint="e3b0c44298fc1c149afbf4c8996fb924",
         true_tstamp="2023-11-14 22:13:18.500", user_id="alice@example.com",
         user_fingerprint="4048966212", txn_id="12345", refr_domain_userid="aaaa-bbbb",
         refr_dvce_tstamp="2023-11-14 22:13:10.123"),
    base(2, "page_view", page_title="Ünïcødé \\ back\\slash \"quote\" 'single' €", contexts=ctx(
        (WEB_PAGE, {"id": "a1b2c3d4-0002"}),
        (USER, {"userType": None, "plan": None, "age": 7, "address": None}))),
    base(3, "page_ping", pp_xoffset_min="0", pp_xoffset_max="100", pp_yoffset_min="-5",
         pp_yoffset_max="2400", contexts=ctx((WEB_PAGE, {"id": "a1b2c3d4-0002"}))),
    base(4, "struct", se_category="shop", se_action="add-to-basket", se_label="sku-42",
         se_property="size:42", se_value="12.5"),
    base(5, "struct", se_category="video", se_action="play", se_value="1.0E7"),
    base(6, "unstruct", unstruct_event=ue(LINK_CLICK, {
        "targetUrl": "https://shop.example/out", "elementId": "cta", "elementClasses": ["btn", "primary"],
        "elementContent": "Buy\tnow\nplease \\o/"}),
        event_vendor="com.snowplowanalytics.snowplow", event_name="link_click", event_format="jsonschema",
        event_version="1-0-1"),
    base(7, "unstruct", unstruct_event=ue(BUTTON % "1-0-0", {
        "label": "Add to basket", "position": 3, "clickedAt": "2023-11-14T23:13:20.123+01:00",
        "meta": {"source": "nav", "ratio": 0.25}, "tags": ["a", "b"], "kind": 7,
        "id": "6F9619FF-8B86-D011-B42D-00C04FC964FF", "day": "2023-11-14", "code": "XYZ", "flag": True,
        "count": 9007199254740993, "opaque": {"x": [1, 2, {"y": None}], "tab": "a\tb"},
        "HTMLSize": 2999999999}),
        contexts=ctx((USER, {"userType": "free", "age": 30, "address": {"city": "Köln"}}),
                     (USER, {"userType": "enterprise", "age": 31, "address": {"city": "Bonn"}})),
        event_vendor="com.acme", event_name="button_click", event_format="jsonschema", event_version="1-0-0"),
    base(8, "unstruct", unstruct_event=ue(BUTTON % "1-0-0", {"label": "minimal", "meta": {"source": "footer"}}),
         event_vendor="com.acme", event_name="button_click", event_format="jsonschema", event_version="1-0-0"),
    base(9, "transaction", tr_orderid="order-1", tr_affiliation="web", tr_total="99.99", tr_tax="15.96",
         tr_shipping="4.5", tr_city="Berlin", tr_state="BE", tr_country="DE", tr_currency="EUR",
         tr_total_base="109.5", tr_tax_base="17.47", tr_shipping_base="4.93", base_currency="USD"),
    base(10, "transaction_item", ti_orderid="order-1", ti_sku="sku-42", ti_name="Shoe", ti_category="shoes",
         ti_price="49.99", ti_quantity="2", ti_currency="EUR", ti_price_base="54.74", base_currency="USD"),
    base(11, "page_view", app_id="", platform="mob", dvce_ismobile="1", geo_latitude="-33.8688",
         geo_longitude="151.2093", derived_contexts=ctx(UA_CTX)),
    base(12, "page_view", event_id="00000000-0000-4000-8000-00000000000C", page_title="upper-case event id"),
]

migrate = [
    base(21, "unstruct", unstruct_event=ue(BUTTON % "1-0-1", {
        "label": "new version", "meta": {"source": "nav"}, "variant": "B", "score": 0.75}),
        event_vendor="com.acme", event_name="button_click", event_format="jsonschema", event_version="1-0-1"),
    base(22, "unstruct", unstruct_event=ue(BUTTON % "1-0-0", {"label": "old version", "meta": {"source": "nav"}}),
         event_vendor="com.acme", event_name="button_click", event_format="jsonschema", event_version="1-0-0"),
    base(23, "unstruct", unstruct_event=ue(BUTTON % "2-0-0", {"text": "major two", "position": 5}),
         event_vendor="com.acme", event_name="button_click", event_format="jsonschema", event_version="2-0-0"),
]

refused = []
for n in range(31, 41):
    refused.append(base(n, "page_view", page_title="good %d" % n))
# PostgreSQL refuses these (the row named by COPY's error context): ...
refused.insert(2, base(41, "page_view", app_id="refused:" + "x" * 300))          # VARCHAR(255)
refused.insert(5, base(42, "page_view", app_id="refused:geo", geo_country="DEU"))  # CHAR(2)
refused.insert(7, base(43, "page_view", app_id="refused:txn", txn_id="twelve"))    # INTEGER
refused.insert(9, base(44, "unstruct", app_id="refused:entity",                    # VARCHAR(100)
                       unstruct_event=ue(BUTTON % "1-0-0", {"label": "y" * 101, "meta": {"source": "nav"}})))
# ... and pg-sink itself these
refused.insert(11, base(45, "unstruct", app_id="refused:cast",
                        unstruct_event=ue(BUTTON % "1-0-0", {"label": "z", "position": "three",
                                                             "meta": {"source": "nav"}})))
refused.insert(12, base(46, "unstruct", app_id="refused:unknown",
                        unstruct_event=ue("iglu:com.acme/nowhere/jsonschema/1-0-0", {"a": 1})))

here = os.path.dirname(os.path.abspath(__file__))
for name, events in (("golden.tsv", golden), ("migrate.tsv", migrate), ("refused.tsv", refused)):
    with open(os.path.join(here, name), "w", encoding="utf-8") as f:
        for e in events:
            f.write(line(e) + "\n")
        if name == "refused.tsv":
            f.write("refused:columns\tonly\tthree\n")   # not an enriched event at all
