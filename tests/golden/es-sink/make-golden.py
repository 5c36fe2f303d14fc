#!/usr/bin/env python3
"""Writes the es-sink golden inputs (hand-designed enriched events, 131 TSV columns each).

    python3 tests/golden/es-sink/make-golden.py      # rewrites *.tsv next to this file

good.tsv: page views with custom and derived contexts, page pings, unstructured events,
structured events, transactions and items, geo fields: every column class of sinks.md §1.2.
invalid.tsv: lines es-sink must turn into generic_error bad rows (one per line).
conflict.tsv: three good events, the middle one carries a context field whose JSON type
differs from the others (a mapping conflict in Elasticsearch).
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

def ctx(*entities):
    return json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1",
                       "data": [{"schema": s, "data": d} for s, d in entities]}, separators=(",", ":"))

def ue(schema, data):
    return json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
                       "data": {"schema": schema, "data": data}}, separators=(",", ":"))

WEB_PAGE = "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0"
PERF = "iglu:org.w3/PerformanceTiming/jsonschema/1-0-0"
UA_PARSER = "iglu:com.snowplowanalytics.snowplow/ua_parser_context/jsonschema/1-0-0"
SCHEMA_ORG = "iglu:org.schema/WebPage/jsonschema/1-0-0"
LINK_CLICK = "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1"
ACME = "iglu:com.acme/myURLClick/jsonschema/2-1-0"

def base(n, event, **kw):
    e = {c: "" for c in COLS}
    e.update(app_id="shop", platform="web", etl_tstamp="2023-11-14 22:13:21.045",
             collector_tstamp="2023-11-14 22:13:%02d.000" % (n % 60),
             dvce_created_tstamp="2023-11-14 22:13:19.871", event=event,
             event_id="9f2b6a3e-1c4d-4e5f-8a7b-%012x" % n,
             name_tracker="sp", v_tracker="js-3.17.0", v_collector="furrow-collector-0.1.0-stdout",
             v_etl="furrow-enrich-0.1.0", user_ipaddress="203.0.113.%d" % (n % 250),
             domain_userid="c1f3e9a8-55b1-4d7e-9b0e-4a2f1c3d5e6f", domain_sessionidx=str(n % 7 + 1),
             network_userid="0b8e2c4a-7d1f-4e3b-a5c6-9f8e7d6c5b4a",
             page_url="https://shop.example.com/products/42?utm_source=news#top",
             page_title="Product 42 – Example Shop", page_urlscheme="https",
             page_urlhost="shop.example.com", page_urlport="443", page_urlpath="/products/42",
             page_urlquery="utm_source=news", page_urlfragment="top", useragent=UA,
             br_lang="en-GB", br_features_pdf="1", br_features_flash="0", br_features_java="0",
             br_features_director="0", br_features_quicktime="0", br_features_realplayer="0",
             br_features_windowsmedia="0", br_features_gears="0", br_features_silverlight="0",
             br_cookies="1", br_colordepth="24", br_viewwidth="1280", br_viewheight="720",
             os_timezone="Europe/London", dvce_screenwidth="1920", dvce_screenheight="1080",
             doc_charset="UTF-8", doc_width="1280", doc_height="3400",
             dvce_sent_tstamp="2023-11-14 22:13:19.902",
             domain_sessionid="7e1a3b5c-9d2f-4c6e-8a0b-1c2d3e4f5a6b",
             derived_tstamp="2023-11-14 22:13:20.214",
             event_fingerprint="f0e1d2c3b4a5968778695a4b3c2d1e0f")
    e.update(kw)
    return e

good = []
# page views with custom contexts, derived contexts and geo fields
for n in range(1, 6):
    good.append(base(n, "page_view", event_vendor="com.snowplowanalytics.snowplow",
        event_name="page_view", event_format="jsonschema", event_version="1-0-0",
        geo_country="US", geo_region="CA", geo_city="Mountain View", geo_zipcode="94043",
        geo_latitude=["37.443604", "51.5", "40", "-33.8688", "1.0E-4"][n - 1],
        geo_longitude=["-122.4124", "-0.1276", "-74", "151.2093", "103.8198"][n - 1],
        geo_region_name="California", geo_timezone="America/Los_Angeles",
        page_referrer="https://www.google.com/search?q=shoes", refr_urlscheme="https",
        refr_urlhost="www.google.com", refr_urlport="443", refr_urlpath="/search",
        refr_urlquery="q=shoes", refr_medium="search", refr_source="Google", refr_term="shoes",
        mkt_medium="email", mkt_source="news", mkt_campaign="autumn", mkt_clickid="Cj0KCQ",
        mkt_network="Google",
        contexts=ctx((WEB_PAGE, {"id": "a1b2c3d4-%04d" % n}),
                     (PERF, {"navigationStart": 1700000000000 + n, "loadEventEnd": 1700000001234}),
                     (SCHEMA_ORG, {"breadcrumb": ["Home", "Shoes"], "inLanguage": "en", "genre": "shop"})),
        derived_contexts=ctx((UA_PARSER, {"useragentFamily": "Chrome", "useragentMajor": "120",
                                          "osFamily": "Linux", "deviceFamily": "Other"})),
        user_id="user-%d@example.com" % n, true_tstamp="2023-11-14 22:13:19.5" if n == 3 else ""))
# page pings
for n in range(6, 9):
    good.append(base(n, "page_ping", pp_xoffset_min="0", pp_xoffset_max="+120",
        pp_yoffset_min="-15", pp_yoffset_max="2400", event_vendor="com.snowplowanalytics.snowplow",
        event_name="page_ping", event_format="jsonschema", event_version="1-0-0",
        contexts=ctx((WEB_PAGE, {"id": "a1b2c3d4-0001"}))))
# unstructured events
for n in range(9, 12):
    good.append(base(n, "unstruct", event_vendor="com.snowplowanalytics.snowplow",
        event_name="link_click", event_format="jsonschema", event_version="1-0-1",
        unstruct_event=ue(LINK_CLICK, {"targetUrl": "https://example.org/page%d" % n,
                                       "elementId": "nav-%d" % n, "elementClasses": ["a", "b"]}),
        contexts=ctx((WEB_PAGE, {"id": "a1b2c3d4-0002"}), (WEB_PAGE, {"id": "a1b2c3d4-0003"}))))
good.append(base(12, "unstruct", event_vendor="com.acme", event_name="myURLClick",
    event_format="jsonschema", event_version="2-1-0",
    unstruct_event=ue(ACME, {"url": "https://acme.test/x", "count": 3, "ratio": 0.25,
                             "nested": {"ok": True, "none": None}, "text": "tab\there \"q\" é ✓"})))
# structured events
for n in range(13, 16):
    good.append(base(n, "struct", se_category="checkout", se_action="add-to-basket",
        se_label="sku-%d" % n, se_property="size=42", se_value=["12.5", "3", "0.1"][n - 13],
        event_vendor="com.google.analytics", event_name="event", event_format="jsonschema",
        event_version="1-0-0"))
# transactions and items
good.append(base(16, "transaction", tr_orderid="order-1001", tr_affiliation="web",
    tr_total="199.99", tr_tax="33.33", tr_shipping="4.5", tr_city="London", tr_state="England",
    tr_country="GB", tr_currency="GBP", tr_total_base="232.44", tr_tax_base="38.74",
    tr_shipping_base="5.23", base_currency="USD", txn_id="-42",
    event_vendor="com.snowplowanalytics.snowplow", event_name="transaction",
    event_format="jsonschema", event_version="1-0-0"))
for n in range(17, 19):
    good.append(base(n, "transaction_item", ti_orderid="order-1001", ti_sku="SKU-%d" % n,
        ti_name="Running shoe", ti_category="shoes", ti_price="99.995", ti_quantity="2",
        ti_currency="GBP", ti_price_base="116.22", base_currency="USD",
        event_vendor="com.snowplowanalytics.snowplow", event_name="transaction_item",
        event_format="jsonschema", event_version="1-0-0"))
# odd but valid values: upper-case event_id, mobile, NaN double, timestamp fractions
good.append(base(19, "page_view", event_id="9F2B6A3E-1C4D-4E5F-8A7B-0C1D2E3F4A5B",
    dvce_ismobile="1", dvce_type="Mobile", etl_tstamp="2023-11-14 22:13:21.000",
    dvce_created_tstamp="2023-11-14 22:13:19.120000", refr_dvce_tstamp="2023-11-14 22:13:18.123456",
    refr_domain_userid="d00df00d-0000-4000-8000-000000000001"))
good.append(base(20, "page_view", app_id="", platform="mob", page_url="", page_title="",
    page_urlscheme="", page_urlhost="", page_urlport="", page_urlpath="", page_urlquery="",
    page_urlfragment="", br_features_pdf="", br_cookies="0", derived_tstamp=""))

def line(e):
    return "\t".join(e[c] for c in COLS)

here = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(here, "good.tsv"), "w") as f:
    for e in good:
        f.write(line(e) + "\n")

bad = []
bad.append("")                                             # NotTSV
bad.append("only\ttwo")                                    # FieldNumberMismatch
e = base(101, "page_view"); e["txn_id"] = "x"; e["br_cookies"] = "yes"
bad.append(line(e))                                        # RowDecodingError, two errors
e = base(102, "page_view"); e["collector_tstamp"] = ""
bad.append(line(e))                                        # required empty
e = base(103, "page_view"); e["event_id"] = "not-a-uuid"; e["etl_tstamp"] = "2023-02-30 00:00:00.000"
bad.append(line(e))
e = base(104, "page_view"); e["contexts"] = '{"schema":"iglu:com.acme/other/jsonschema/1-0-0","data":[]}'
bad.append(line(e))                                        # Unknown payload
e = base(105, "page_view"); e["unstruct_event"] = '{not json'
bad.append(line(e))
with open(os.path.join(here, "invalid.tsv"), "w") as f:
    for l in bad:
        f.write(l + "\n")

conf = []
for n, v in ((201, {"size": 42}), (202, {"size": "forty-two"}), (203, {"size": 43})):
    conf.append(base(n, "page_view", contexts=ctx(("iglu:com.acme/shoe/jsonschema/1-0-0", v))))
with open(os.path.join(here, "conflict.tsv"), "w") as f:
    for e in conf:
        f.write(line(e) + "\n")

# badrows.jsonl: bad rows of the types enrich and the collector write (enriched-event.md §14),
# for --input bad: each exercises some of the rename/stringify rules of sinks.md §2.2.
P = {"artifact": "furrow-enrich", "version": "0.1.0"}
RAW = {"vendor": "com.snowplowanalytics.snowplow", "version": "tp2",
       "parameters": [{"name": "e", "value": "pv"}, {"name": "eid", "value": "x"}],
       "contentType": "application/json", "loaderName": "furrow-collector-0.1.0-stdout",
       "encoding": "UTF-8", "hostname": "collector.example.com",
       "timestamp": "2023-11-14T22:13:20.000Z", "ipAddress": "203.0.113.9", "useragent": UA,
       "refererUri": None, "headers": ["Host: collector.example.com"], "userId": None}
CP = {"vendor": "com.snowplowanalytics.snowplow", "version": "tp2",
      "querystring": [{"name": "e", "value": "pv"}], "contentType": None, "body": None,
      "collector": "furrow-collector-0.1.0-stdout", "encoding": "UTF-8", "hostname": "c.example.com",
      "timestamp": "2023-11-14T22:13:20.000Z", "ipAddress": "203.0.113.9", "useragent": UA,
      "refererUri": None, "headers": [], "networkUserId": "0b8e2c4a-7d1f-4e3b-a5c6-9f8e7d6c5b4a"}
BR = "iglu:com.snowplowanalytics.snowplow.badrows/"
rows = [
    {"schema": BR + "size_violation/jsonschema/1-0-0", "data": {"processor": {"artifact": "furrow-collector", "version": "0.1.0"},
     "failure": {"timestamp": "2023-11-14T22:13:20.123Z", "maximumAllowedSizeBytes": 1000000, "actualSizeBytes": 2000001,
                 "expectation": "payload must be smaller than the limit"}, "payload": "aGVsbG8="}},
    {"schema": BR + "schema_violations/jsonschema/2-0-1", "data": {"processor": P,
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "messages": [
         {"field": "contexts", "value": "{oops", "error": "invalid json: expected json value got '{oops' (line 1, column 1)"},
         {"json": {"not": "iglu"}, "error": "INVALID_DATA_PAYLOAD"},
         {"schemaKey": "iglu:com.acme/a/jsonschema/1-0-0", "error": {"error": "ValidationError", "dataReports": [
             {"message": "$.x: integer found, string expected", "path": "$.x", "keyword": "type", "targets": ["integer", "string"]}]}},
         {"schemaKey": "iglu:com.acme/b/jsonschema/1-0-0", "error": {"error": "ResolutionError", "lookupHistory": [
             {"repository": "Iglu Central", "errors": [{"error": "NotFound"}], "attempts": 1, "lastAttempt": "2023-11-14T22:13:21.045Z"}]}}]},
     "payload": {"enriched": {"app_id": "shop", "collector_tstamp": "2023-11-14 22:13:20.000", "event_id": "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b",
                              "v_collector": "furrow-collector-0.1.0-stdout", "v_etl": "furrow-enrich-0.1.0"}, "raw": RAW}}},
    {"schema": BR + "enrichment_failures/jsonschema/2-0-1", "data": {"processor": P,
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "messages": [
         {"enrichment": None, "message": {"field": "page_url", "value": "http://bad url", "expectation": "a valid URI"}},
         {"enrichment": {"schemaKey": "iglu:com.snowplowanalytics.snowplow.enrichments/api_request_enrichment_config/jsonschema/1-0-0",
                         "identifier": "api-request"}, "message": {"error": "connection refused"}}]},
     "payload": {"enriched": {"app_id": "shop", "collector_tstamp": "2023-11-14 22:13:20.000"}, "raw": RAW}}},
    {"schema": BR + "adapter_failures/jsonschema/1-0-0", "data": {"processor": P,
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "vendor": "com.acme", "version": "v9", "messages": [
         {"field": "vendor/version", "value": "com.acme/v9", "expectation": "vendor/version combination is not supported"},
         {"actual": "x", "expectedMapping": {"a": "b"}, "expectation": "mapped"}]},
     "payload": CP}},
    {"schema": BR + "tracker_protocol_violations/jsonschema/1-0-1", "data": {"processor": P,
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "vendor": "com.snowplowanalytics.snowplow", "version": "tp2", "messages": [
         {"field": "data", "value": None, "expectation": "data needs to be a non-empty array"}]},
     "payload": CP}},
    {"schema": BR + "collector_payload_format_violation/jsonschema/1-0-0", "data": {"processor": P,
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "loader": "thrift", "message": {"error": "error deserializing raw event: Reached end of bytes"}},
     "payload": "AAAA"}},
    {"schema": BR + "generic_error/jsonschema/1-0-0", "data": {"processor": {"artifact": "furrow-es-sink", "version": "0.1.0"},
     "failure": {"timestamp": "2023-11-14T22:13:21.045Z", "errors": ["{\"type\":\"NotTSV\"}"]}, "payload": ""}},
]
with open(os.path.join(here, "badrows.jsonl"), "w") as f:
    for r in rows:
        f.write(json.dumps(r, separators=(",", ":"), ensure_ascii=False) + "\n")
