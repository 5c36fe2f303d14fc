#!/usr/bin/env python3
"""A scripted fake Elasticsearch _bulk endpoint for es-sink's failure-path tests.

    fake_es.py PORTFILE LOGFILE MODE

Listens on a free loopback port (written to PORTFILE once listening) and appends one JSON line
per request to LOGFILE: {"method","path","headers":{...},"ndocs","ids":[...]}.
Modes: ok | item429 (first response rejects its 2nd item with 429, later all accepted) |
fail503 (the first 3 requests get 503) | split413 (bodies with more than 2 documents get 413) |
always503 | item400 (every 3rd item rejected with mapper_parsing_exception).
"""
import hashlib, json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

portfile, logfile, mode = sys.argv[1], sys.argv[2], sys.argv[3]
lock = threading.Lock()
count = [0]

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def do_PUT(self):
        n = int(self.headers.get("Content-Length", 0))
        self.rfile.read(n)
        self.reply(200, {"acknowledged": True})
    def do_POST(self):
        n = int(self.headers.get("Content-Length", 0))
        raw = self.rfile.read(n)
        body = raw.decode()
        lines = body.split("\n")
        actions = [json.loads(l) for l in lines[0::2] if l]
        ids = [a["index"].get("_id") for a in actions]
        indexes = [a["index"].get("_index") for a in actions]
        with lock:
            count[0] += 1
            k = count[0]
            with open(logfile, "a") as f:
                f.write(json.dumps({"method": "POST", "path": self.path, "n": k,
                                    "headers": {h.lower(): v for h, v in self.headers.items()},
                                    "ndocs": len(actions), "ids": ids, "indexes": indexes,
                                    "trailing_newline": body.endswith("\n"),
                                    "body_sha256": hashlib.sha256(raw).hexdigest()}) + "\n")
        ok = {"index": {"status": 201, "result": "created"}}
        if mode == "fail503" and k <= 3 or mode == "always503":
            return self.reply(503, {"error": "unavailable", "status": 503})
        if mode == "split413" and len(actions) > 2:
            return self.reply(413, {"error": "too large"})
        items = [ok] * len(actions)
        errors = False
        if mode == "item429" and k == 1 and len(actions) > 1:
            items = list(items)
            items[1] = {"index": {"status": 429, "error": {"type": "es_rejected_execution_exception",
                        "reason": "rejected execution of coordinating operation"}}}
            errors = True
        if mode == "item400":
            items = [{"index": {"status": 400, "error": {"type": "mapper_parsing_exception",
                      "reason": "failed to parse field [x]"}}} if (i % 3 == 2) else ok
                     for i in range(len(actions))]
            errors = any(i["index"]["status"] == 400 for i in items)
        self.reply(200, {"took": 1, "errors": errors, "items": items})

srv = ThreadingHTTPServer(("127.0.0.1", 0), H)
with open(portfile + ".tmp", "w") as f:
    f.write(str(srv.server_address[1]))
import os
os.rename(portfile + ".tmp", portfile)
srv.serve_forever()
