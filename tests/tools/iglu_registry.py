#!/usr/bin/env python3
"""A tiny Iglu registry for furrow's resolver tests (loopback only).

usage: iglu_registry.py ROOT PORTFILE

Serves ROOT/schemas/<vendor>/<name>/<format>/<version> under several prefixes that each
behave differently, so one server covers every case of enriched-event.md section 15.2:
  /ok/...       the file, or 404
  /key/...      the file when the request has the header "apikey: secret", else 403
  /e500/...     500
  /e403/...     403
  /hang/...     never answers (sleeps 30 s)
  /garbage/...  200 with a body that is not JSON
  /moved/...    301 to the same path under /ok/
  /static/...   any file under ROOT, dot segments resolved, as a plain static web server
                (or a bucket) serves it: what a resolver must never be tricked into using
  /stats        JSON: how many requests each prefix received
It binds 127.0.0.1 on an ephemeral port and writes the port to PORTFILE when ready.
"""
import http.server
import json
import os
import sys
import threading
import time

ROOT, PORTFILE = os.path.realpath(sys.argv[1]), sys.argv[2]
counts = {}
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body, ctype="application/json"):
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        parts = self.path.split("/", 2)
        prefix = parts[1] if len(parts) > 1 else ""
        rest = parts[2] if len(parts) > 2 else ""
        if prefix == "stats":
            with lock:
                return self.reply(200, json.dumps(counts))
        with lock:
            counts[prefix] = counts.get(prefix, 0) + 1
        if prefix == "e500":
            return self.reply(500, "internal error")
        if prefix == "e403":
            return self.reply(403, "forbidden")
        if prefix == "hang":
            time.sleep(30)
            return self.reply(500, "late")
        if prefix == "moved":
            self.send_response(301)
            self.send_header("Location", "/ok/" + rest)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if prefix == "static":
            path = os.path.normpath(os.path.join(ROOT, rest))
            if not path.startswith(ROOT + "/") or not os.path.isfile(path):
                return self.reply(404, "not found")
            with open(path) as f:
                return self.reply(200, f.read())
        if prefix == "garbage":
            return self.reply(200, "<html>this is not a schema</html>", "text/html")
        if prefix == "key" and self.headers.get("apikey") != "secret":
            return self.reply(403, "bad key")
        if prefix not in ("ok", "key") or not rest.startswith("schemas/") or ".." in rest:
            return self.reply(404, "not found")
        path = os.path.join(ROOT, rest)
        if not os.path.isfile(path):
            return self.reply(404, "not found")
        with open(path) as f:
            return self.reply(200, f.read())


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
tmp = PORTFILE + ".tmp"
with open(tmp, "w") as f:
    f.write(str(server.server_address[1]))
os.rename(tmp, PORTFILE)
server.serve_forever()
