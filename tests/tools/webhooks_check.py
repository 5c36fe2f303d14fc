#!/usr/bin/env python3
"""Send every webhook vector (tests/golden/webhooks/vectors.jsonl) to a running furrow collector,
then check, vector by vector, the raw record it stored (path, query string, content type and
body passed through unchanged) and what furrow-enrich makes of that record: the good events'
columns (unstruct_event = the expected ue_pr byte for byte, v_tracker, platform, contexts, the
mapped tracker-protocol fields, the replaced context) or the adapter_failures bad row's
messages. Prints one line per check: "PASS name" or "FAIL name: why".

Usage: webhooks_check.py VECTORS PORT RAW_FILE ENRICH SCHEMAS RESOLVER WORKDIR"""
import base64
import http.client
import json
import os
import subprocess
import sys
import time

VECTORS, PORT, RAW, ENRICH, SCHEMAS, RESOLVER, WORK = sys.argv[1:8]
TOOLS = os.path.dirname(os.path.abspath(__file__))
NOW_MS = 1700000100000

COL = {"app_id": 0, "platform": 1, "collector_tstamp": 3, "event": 5, "event_id": 6,
       "v_tracker": 9, "v_collector": 10, "user_ipaddress": 13, "network_userid": 17,
       "page_url": 29, "contexts": 52, "unstruct_event": 58, "tr_orderid": 59, "tr_total": 61,
       "tr_tax": 62, "tr_shipping": 63, "ti_name": 69, "ti_price": 71, "ti_quantity": 72,
       "useragent": 77, "tr_currency": 108, "ti_currency": 112, "event_vendor": 125,
       "event_name": 126, "event_format": 127, "event_version": 128, "true_tstamp": 130}
# tracker-protocol parameters an adapter sets, and the column each lands in
PARAM_COL = {"aid": "app_id", "cv": "v_collector", "tr_id": "tr_orderid", "tr_cu": "tr_currency",
             "ti_cu": "ti_currency", "ti_nm": "ti_name", "ti_qu": "ti_quantity", "ip": "user_ipaddress",
             "url": "page_url", "eid": "event_id"}

results = []


def res(ok, name, why=""):
    results.append("PASS %s" % name if ok else "FAIL %s: %s" % (name, why))


def send(v):
    c = http.client.HTTPConnection("127.0.0.1", int(PORT), timeout=10)
    path = v["path"] + ("?" + v["qs"] if v["qs"] else "")
    headers = {"User-Agent": "furrow-webhook-test/" + v["id"]}
    if v["body"] is None:
        c.request("GET", path, headers=headers)
    else:
        if v["ct"] is not None:
            headers["Content-Type"] = v["ct"]
        c.request("POST", path, body=v["body"].encode("utf-8"), headers=headers)
    r = c.getresponse()
    r.read()
    c.close()
    return r.status


def ts(ms):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + ".%03d" % (ms % 1000)


def same_failures(want, got):
    if len(want) != len(got):
        return False
    for w, g in zip(want, got):
        w, g = dict(w), dict(g)
        if w.get("expectedMapping") == "*":
            w.pop("expectedMapping")
            g.pop("expectedMapping", None)
        if w != g:
            return False
    return True


def inner_schema(ue_pr):
    s = json.loads(ue_pr)["data"]["schema"][5:].split("/")
    return s[0], s[1], s[2], s[3]


def check_events(v, good, bad):
    name = v["id"]
    want = v.get("events")
    if "count" in v:
        res(len(good) + len(bad) == v["count"] and not any(
            "adapter_failures" in b["schema"] for b in bad), name + ": events",
            "%d good, %d bad" % (len(good), len(bad)))
        return
    if v.get("valid", True):
        if len(good) != len(want) or bad:
            res(False, name + ": events", "%d good, %d bad: %s" % (len(good), len(bad),
                json.dumps(bad[0]["data"]["failure"])[:600] if bad else ""))
            return
        for k, (e, cols) in enumerate(zip(want, good)):
            why = []
            vendor, ename, fmt, ver = inner_schema(e["ue_pr"])
            exp = {"unstruct_event": e["ue_pr"], "v_tracker": e["tv"], "platform": e["p"],
                   "event": "unstruct", "event_vendor": vendor, "event_name": ename,
                   "event_format": fmt, "event_version": ver, "contexts": e.get("co", "")}
            for p, c in PARAM_COL.items():
                if e.get(p) and not (p == "ti_qu"):
                    exp[c] = e[p]
            if e.get("ttm"):
                exp["true_tstamp"] = ts(int(e["ttm"]))
            ctx = v.get("ctx")
            if ctx:
                exp["collector_tstamp"] = ts(ctx["ts"])
                if "ip" in ctx:
                    exp["user_ipaddress"] = ctx["ip"]
                if "ua" in ctx:
                    exp["useragent"] = ctx["ua"]
                    exp["network_userid"] = ""      # a replaced context has no user id
            else:
                exp["useragent"] = "furrow-webhook-test/" + v["id"]
            for c, val in exp.items():
                if cols[COL[c]] != val:
                    why.append("%s: %r, expected %r" % (c, cols[COL[c]][:300], val[:300]))
            res(not why, "%s: event %d" % (name, k), "; ".join(why))
    else:
        # upstream's own sample data does not validate against Iglu Central: the event still
        # carries the adapter's parameters, in a schema_violations row
        sv = [b for b in bad if "schema_violations" in b["schema"]]
        got = [dict((p["name"], p["value"]) for p in b["data"]["payload"]["raw"]["parameters"])
               for b in sv]
        ues = sorted(g.get("ue_pr") for g in got) + sorted(c[COL["unstruct_event"]] for c in good)
        wanted = sorted(e["ue_pr"] for e in want)
        res(len(good) + len(sv) == len(want) and len(sv) > 0 and
            sorted(x for x in ues if x) == wanted, name + ": events (invalid upstream data)",
            "%d good, %d schema_violations" % (len(good), len(sv)))


def main():
    vectors = [json.loads(l) for l in open(VECTORS)]
    for v in vectors:
        st = send(v)
        res(st == 200, v["id"] + ": collector answers 200", "status %d" % st)
    deadline = time.time() + 20
    while time.time() < deadline:
        n = sum(1 for _ in open(RAW)) if os.path.exists(RAW) else 0
        if n >= len(vectors):
            break
        time.sleep(0.05)
    lines = open(RAW).read().splitlines()
    res(len(lines) == len(vectors), "one raw record per request",
        "%d records for %d requests" % (len(lines), len(vectors)))
    decoded = subprocess.run([sys.executable, os.path.join(TOOLS, "collector_decode.py")],
                             input="\n".join(lines) + "\n", capture_output=True, text=True)
    recs = [json.loads(l) for l in decoded.stdout.splitlines()]
    for v, line, rec in zip(vectors, lines, recs):
        name = v["id"]
        # the collector passes the request through unchanged
        exp_body = v["body"] if v["body"] is not None else None
        why = []
        if rec.get("path") != v["path"]:
            why.append("path %r" % rec.get("path"))
        if rec.get("querystring", "") != v["qs"]:
            why.append("querystring %r" % rec.get("querystring"))
        if rec.get("body") != exp_body:
            why.append("body %r" % (rec.get("body") or "")[:80])
        if v["body"] is not None and rec.get("contentType") != v["ct"]:
            why.append("contentType %r" % rec.get("contentType"))
        res(not why, name + ": stored unchanged", "; ".join(why))
        # enrich that one record
        good_f, bad_f = os.path.join(WORK, "good.tsv"), os.path.join(WORK, "bad.jsonl")
        if os.path.exists(bad_f):
            os.remove(bad_f)                     # --bad appends
        env = dict(os.environ, FURROW_ENRICH_NOW_MS=str(NOW_MS))
        with open(good_f, "w") as g:
            p = subprocess.run([ENRICH, "--schemas", SCHEMAS, "--resolver", RESOLVER, "--bad", bad_f,
                                "-q"], input=line + "\n", stdout=g, stderr=subprocess.PIPE, text=True,
                               env=env)
        if p.returncode != 0:
            res(False, name + ": enrich", "exit %d: %s" % (p.returncode, p.stderr[-300:]))
            continue
        good = [l.split("\t") for l in open(good_f).read().splitlines()]
        bad = [json.loads(l) for l in open(bad_f).read().splitlines()] if os.path.exists(bad_f) else []
        if v.get("pipeline") == "nuid":
            # a non-UUID nuid= on the query string becomes the collector's network user id,
            # which enrich refuses for the whole payload, as upstream does (collector.md §5.1)
            ok = (not good and len(bad) == 1 and "collector_payload_format_violation" in bad[0]["schema"]
                  and bad[0]["data"]["failure"]["message"].get("payloadField") == "networkUserId")
            res(ok, name + ": nuid refused by enrich", json.dumps(bad)[:300])
        elif "fail" in v:
            af = [b for b in bad if b["schema"].endswith("/adapter_failures/jsonschema/1-0-0")]
            ok = (not good and len(bad) == 1 and len(af) == 1 and
                  same_failures(v["fail"], af[0]["data"]["failure"]["messages"]))
            vend, ver = v["path"][1:].split("/")
            ok = ok and af[0]["data"]["failure"]["vendor"] == vend and \
                af[0]["data"]["failure"]["version"] == ver
            res(ok, name + ": adapter_failures",
                json.dumps(bad[0]["data"]["failure"]["messages"])[:600] if bad else
                "%d good lines" % len(good))
        else:
            check_events(v, good, bad)
    for r in results:
        print(r)


main()
