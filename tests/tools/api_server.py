#!/usr/bin/env python3
"""A small real HTTP server for the API request and currency conversion enrichments' tests.

    api_server.py PORTFILE [DOCROOT]

Listens on 127.0.0.1 (a free port, written to PORTFILE once listening) and answers:
  GET  /user/<id>            200 {"record":{"id":<id>,"name":"User <id>","tags":["a","b"]},"n":<hits>}
  GET  /slow/<ms>/<id>       the same after sleeping <ms> milliseconds (/slow/<id>: 2000)
  GET  /status/<code>        that status, a JSON body {"error":"..."}
  GET  /garbage              200 with a body that is not JSON
  GET  /empty                200 {}
  GET  /auth/<id>            200 as /user with the header Authorization: Basic dXNlcjpwYXNz, else 401
  GET  /flaky/<id>           200 the first time for an id, then 500
  POST|PUT /echo             200 {"method":..., "body":<the JSON body>, "contentType":...}
  GET  /hits                 200 {"<path>": count, ...} of every request so far
  GET  /oer/historical/<day>.json?app_id=K[&base=B]
                             Open Exchange Rates' historical API from recorded answers:
                             DOCROOT/<day>.json, or DOCROOT/<day>-<B>.json with a base; app_id
                             "invalid" gets OER's 401 error body, "garbage" a body that is not
                             JSON; a day without a file OER's 400 "not_available"
Every request is counted before it is answered.
"""
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HITS = {}
LOCK = threading.Lock()
DOCROOT = sys.argv[2] if len(sys.argv) > 2 else None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def count(self):
        path = self.path.split("?")[0]
        with LOCK:
            HITS[path] = HITS.get(path, 0) + 1
            return HITS[path]

    def user(self, uid, n):
        return json.dumps({"record": {"id": uid, "name": "User " + uid, "tags": ["a", "b"]}, "n": n})

    def do_GET(self):
        n = self.count()
        parts = self.path.split("?")[0].strip("/").split("/")
        if parts[0] == "user" and len(parts) == 2:
            return self.send(200, self.user(parts[1], n))
        if parts[0] == "slow" and len(parts) in (2, 3):
            time.sleep(int(parts[1]) / 1000.0 if len(parts) == 3 else 2.0)
            return self.send(200, self.user(parts[-1], n))
        if parts[0] == "status" and len(parts) == 2:
            return self.send(int(parts[1]), json.dumps({"error": "status " + parts[1]}))
        if parts[0] == "garbage":
            return self.send(200, "<html>this is not JSON</html>", "text/html")
        if parts[0] == "empty":
            return self.send(200, "{}")
        if parts[0] == "auth" and len(parts) == 2:
            if self.headers.get("Authorization") != "Basic dXNlcjpwYXNz":
                return self.send(401, json.dumps({"error": "unauthorized"}))
            return self.send(200, self.user(parts[1], n))
        if parts[0] == "flaky" and len(parts) == 2:
            if n == 1:
                return self.send(200, self.user(parts[1], n))
            return self.send(500, json.dumps({"error": "flaky"}))
        if parts[0] == "hits":
            with LOCK:
                return self.send(200, json.dumps(HITS))
        if parts[:2] == ["oer", "historical"] and len(parts) == 3 and DOCROOT:
            q = dict(kv.split("=", 1) for kv in (self.path.split("?", 1) + [""])[1].split("&") if "=" in kv)
            if q.get("app_id") == "invalid":
                return self.send(401, json.dumps({"error": True, "status": 401, "message": "invalid_app_id",
                                                  "description": "Invalid App ID provided."}))
            if q.get("app_id") == "garbage":
                return self.send(200, "<html>Service Unavailable</html>", "text/html")
            day = parts[2][:-len(".json")] if parts[2].endswith(".json") else parts[2]
            name = day + ("-" + q["base"] if "base" in q else "") + ".json"
            path = os.path.join(DOCROOT, name)
            if "/" not in name and os.path.isfile(path):
                with open(path, "rb") as f:
                    return self.send(200, f.read())
            return self.send(400, json.dumps({"error": True, "status": 400, "message": "not_available",
                                              "description": "Historical rates for the requested date are not available."}))
        return self.send(404, json.dumps({"error": "not found"}))

    def do_body(self):
        self.count()
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return self.send(200, json.dumps({"method": self.command, "body": body,
                                          "contentType": self.headers.get("Content-Type")}))

    do_POST = do_body
    do_PUT = do_body


def main():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    tmp = sys.argv[1] + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
