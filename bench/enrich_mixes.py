#!/usr/bin/env python3
"""Three record mixes for bench/enrich-mixes.sh, as tests/tools/mkraw.c reads them.

  enrich_mixes.py MIX N [VARIANTS]

MIX is pv2 (GET page views with two contexts, web_page and client_session), tp2x10 (POSTed
payload_data batches of 10 self-describing link_click events, each with the two contexts) or
cx50 (GET page views with 50 contexts: web_page, client_session, geolocation_context,
desktop_context and performance-like timing entities in rotation). N records in all, made of
VARIANTS (default 100) distinct records repeated round-robin: ids and counters differ between
variants, so caches see a realistic mix of repeated and new JSON texts rather than one record."""
import base64, json, sys, urllib.parse as up

mix, n = sys.argv[1], int(sys.argv[2])
variants = int(sys.argv[3]) if len(sys.argv) > 3 else 100
b64 = lambda s: base64.urlsafe_b64encode(s.encode()).decode().rstrip("=")
UA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15"
SP = "iglu:com.snowplowanalytics.snowplow/"
hdr = ["Host: collector.example.com", "User-Agent: " + UA, "Accept: */*", "Accept-Language: en-GB,en;q=0.9",
       "Origin: https://shop.example.com"]


def uuid(v, k):
    return "%08x-%04x-4%03x-8%03x-%012x" % (v * 7919 + k, k, v % 4096, k % 4096, v * 1000003 + k)


def web_page(v):
    return {"schema": SP + "web_page/jsonschema/1-0-0", "data": {"id": uuid(v, 1)}}


def session(v):
    return {"schema": SP + "client_session/jsonschema/1-0-2", "data": {
        "userId": uuid(v // 10, 2), "sessionId": uuid(v // 5, 3), "sessionIndex": 1 + v // 5, "eventIndex": v % 40,
        "previousSessionId": None, "storageMechanism": "COOKIE_1", "firstEventId": uuid(v // 5, 4),
        "firstEventTimestamp": "2023-11-14T22:10:00.000Z"}}


def geo(v, k):
    return {"schema": SP + "geolocation_context/jsonschema/1-1-0", "data": {
        "latitude": 51.5 + (v % 100) / 1000.0, "longitude": -0.12 - k / 1000.0, "latitudeLongitudeAccuracy": 10.5,
        "altitude": None, "bearing": None, "speed": 0.0, "timestamp": 1700000000000 + v}}


def desktop(v, k):
    return {"schema": SP + "desktop_context/jsonschema/1-0-0", "data": {
        "osType": "Windows", "osVersion": "10.0.%d" % (19041 + k), "osServicePack": "", "osIs64Bit": True,
        "deviceManufacturer": "Dell", "deviceModel": "XPS %d" % (v % 20), "deviceProcessorCount": 8}}


def link(v, k):
    return {"schema": SP + "link_click/jsonschema/1-0-1", "data": {
        "targetUrl": "https://shop.example.com/p/%d/%d" % (v, k), "elementId": "buy-%d" % k,
        "elementClasses": ["btn", "primary"], "elementTarget": "_self"}}


def contexts(items):
    return b64(json.dumps({"schema": SP + "contexts/jsonschema/1-0-0", "data": items}))


def common(v):
    return {"aid": "shop", "p": "web", "tv": "js-3.17.0", "tna": "sp1", "duid": uuid(v // 10, 2),
            "vid": str(1 + v // 5), "sid": uuid(v // 5, 3), "lang": "en-GB", "cs": "UTF-8", "res": "3440x1440",
            "vp": "1693x1302", "ds": "1678x9015", "cd": "24", "tz": "Europe/London", "cookie": "1",
            "eid": uuid(v, 9), "dtm": str(1699999999000 + v), "stm": str(1700000000500 + v),
            "url": "https://shop.example.com/products/%d?utm_source=news&utm_medium=email" % v,
            "refr": "https://www.google.com/", "page": "Shoes - Shop"}


def record(v):
    base = {"ua": UA, "nuid": uuid(v // 10, 5), "headers": hdr, "refr": "https://shop.example.com/"}
    if mix == "pv2":
        q = dict(common(v), e="pv", cx=contexts([web_page(v), session(v)]))
        return dict(base, path="/i", qs=up.urlencode(q))
    if mix == "cx50":
        items = [web_page(v), session(v)]
        k = 0
        while len(items) < 50:
            items.append([geo, desktop, link][k % 3](v, k))
            k += 1
        q = dict(common(v), e="pv", cx=contexts(items))
        return dict(base, path="/i", qs=up.urlencode(q))
    if mix == "tp2x10":
        evs = []
        for k in range(10):
            e = dict(common(v * 10 + k), e="ue", cx=contexts([web_page(v), session(v)]))
            e["ue_px"] = b64(json.dumps({"schema": SP + "unstruct_event/jsonschema/1-0-0", "data": link(v, k)}))
            evs.append(e)
        body = json.dumps({"schema": SP + "payload_data/jsonschema/1-0-4", "data": evs})
        return dict(base, path="/com.snowplowanalytics.snowplow/tp2", ct="application/json", body=body,
                    headers=hdr + ["Content-Type: application/json"])
    sys.exit("enrich_mixes.py: unknown mix: " + mix)


lines = [json.dumps(record(v)) for v in range(variants)]
for i in range(n):
    print(lines[i % variants])
