#!/usr/bin/env python3
"""Realistic tracker requests for the benchmarks, as tests/tools/mkraw.c reads them: a third GET
page views with two contexts (web_page, client_session in cx), a third POSTed self-describing
link_click events (ue_px, payload_data 1-0-4, with the same contexts), a third GET structured
events, N records in all (each kind as one line with "repeat"). Usage: raw_input.py N"""
import base64, json, sys, urllib.parse as up
n = int(sys.argv[1]) // 3
b64 = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
ctx = {"schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0", "data": [
    {"schema": "iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0",
     "data": {"id": "0e6a9d1c-8f5e-4b7e-9a51-3c1f2d4e5a6b"}},
    {"schema": "iglu:com.snowplowanalytics.snowplow/client_session/jsonschema/1-0-2",
     "data": {"userId": "85094061-2a4d-4b5e-9c6f-7a8b9c0d1e2f", "sessionId": "be9520e7-1111-4222-8333-444455556666",
              "sessionIndex": 29, "eventIndex": 12, "previousSessionId": None, "storageMechanism": "COOKIE_1",
              "firstEventId": "5a305bf5-0001-4000-8000-000000000001", "firstEventTimestamp": "2023-11-14T22:10:00.000Z"}}]}
common = {"aid": "shop", "p": "web", "tv": "js-3.17.0", "tna": "sp1", "duid": "85094061-2a4d-4b5e-9c6f-7a8b9c0d1e2f",
          "vid": "29", "sid": "be9520e7-1111-4222-8333-444455556666", "lang": "en-GB", "cs": "UTF-8",
          "res": "3440x1440", "vp": "1693x1302", "ds": "1678x9015", "cd": "24", "tz": "Europe/London", "cookie": "1",
          "dtm": "1699999999000", "stm": "1700000000500", "url": "https://shop.example.com/products/42?utm_source=news&utm_medium=email",
          "refr": "https://www.google.com/", "page": "Shoes - Shop", "cx": b64(json.dumps(ctx))}
hdr = ["Host: collector.example.com", "User-Agent: " + UA, "Accept: */*", "Accept-Language: en-GB,en;q=0.9", "Origin: https://shop.example.com"]
base = {"ua": UA, "nuid": "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b", "headers": hdr, "refr": "https://shop.example.com/", "repeat": n}
pv = dict(common, e="pv")
se = dict(common, e="se", se_ca="shop", se_ac="add-to-basket", se_la="sku-42", se_va="2.50")
del se["cx"]
ue = dict(common, e="ue", ue_px=b64(json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
     "data": {"schema": "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
              "data": {"targetUrl": "https://shop.example.com/basket", "elementId": "buy", "elementClasses": ["btn", "primary"]}}})))
body = json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4", "data": [ue]})
print(json.dumps(dict(base, path="/i", qs=up.urlencode(pv))))
print(json.dumps(dict(base, path="/com.snowplowanalytics.snowplow/tp2", ct="application/json", body=body, headers=hdr + ["Content-Type: application/json"])))
print(json.dumps(dict(base, path="/i", qs=up.urlencode(se))))
