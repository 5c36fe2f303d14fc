#!/usr/bin/env python3
"""tests/tools/kinesis_throttle.py: a fault proxy in front of kinesalite for the throttling tests
(kinesalite never answers ProvisionedThroughputExceeded: the fault the real service gives under
load is made here, and only here).

usage: kinesis_throttle.py PORT UPSTREAM STATS [pass]

Every request goes to UPSTREAM unchanged, except PutRecords: every third request is refused whole
(HTTP 400, ProvisionedThroughputExceededException, nothing written); of the others, every
second record is left out of the request sent upstream and answered with ErrorCode
ProvisionedThroughputExceededException (a partial failure: those records were not written). So
exactly the records answered without an error are on the stream. STATS gets a JSON line of
counts after every PutRecords.

With "pass", nothing is refused: the proxy only notes, per request, the access key id of the
SigV4 Authorization header and whether an X-Amz-Security-Token came with it (kinesalite does not
check either), so a test can see which credentials signed.
"""
import http.server
import json
import re
import sys
import urllib.request

port, upstream, stats_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
passing = len(sys.argv) > 4 and sys.argv[4] == "pass"
stats = {"requests": 0, "refused": 0, "records_failed": 0, "records_ok": 0,
         "akids": [], "with_token": 0, "without_token": 0}


def forward(headers, body):
    req = urllib.request.Request(upstream, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        hdrs = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        if passing:
            m = re.search(r"Credential=([^/]+)/", self.headers.get("Authorization", ""))
            akid = m.group(1) if m else "-"
            if akid not in stats["akids"]:
                stats["akids"].append(akid)
            stats["with_token" if self.headers.get("X-Amz-Security-Token") else "without_token"] += 1
            self.save()
            self.reply(*forward(hdrs, body))
            return
        if not self.headers.get("X-Amz-Target", "").endswith(".PutRecords"):
            self.reply(*forward(hdrs, body))
            return
        stats["requests"] += 1
        req = json.loads(body)
        if stats["requests"] % 3 == 0:
            stats["refused"] += 1
            self.save()
            self.reply(400, json.dumps({"__type": "ProvisionedThroughputExceededException",
                                        "message": "Rate exceeded for shard (fault proxy)"}).encode())
            return
        recs = req["Records"]
        keep = [r for i, r in enumerate(recs) if i % 2 == 0]
        code, up = forward(hdrs, json.dumps(dict(req, Records=keep)).encode())
        if code != 200:
            self.reply(code, up)
            return
        ans = json.loads(up)["Records"]
        out, k = [], 0
        for i in range(len(recs)):
            if i % 2 == 0:
                out.append(ans[k])
                k += 1
            else:
                out.append({"ErrorCode": "ProvisionedThroughputExceededException",
                            "ErrorMessage": "Rate exceeded for shard (fault proxy)"})
        failed = len(recs) - len(keep)
        stats["records_failed"] += failed
        stats["records_ok"] += len(keep)
        self.save()
        self.reply(200, json.dumps({"FailedRecordCount": failed, "Records": out}).encode())

    def save(self):
        with open(stats_path, "w") as f:
            f.write(json.dumps(stats) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
