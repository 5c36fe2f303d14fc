#!/usr/bin/env python3
"""tests/tools/imds.py: a stand-in for the EC2 instance metadata service (IMDSv2), because the
tests do not run on EC2. It answers only what furrow's credential chain asks (common/aws.c),
the way the real service does:

  PUT /latest/api/token                 with X-aws-ec2-metadata-token-ttl-seconds: a session token
  GET /latest/meta-data/iam/security-credentials/        the role's name
  GET /latest/meta-data/iam/security-credentials/ROLE    {"Code": "Success", "AccessKeyId", ...}

A GET without a token this server issued is refused (401), as IMDSv2-only instances do. Every
credential set is new (ASIAFURROWIMDS1, 2, ...) and expires LIFETIME seconds after it is issued,
so that a test can make the refresh happen. GET /furrow-stand-in-ready answers 200 for a
readiness poll. STATE gets a JSON line of counts after each request.

usage: imds.py PORT LIFETIME STATE
"""
import http.server
import json
import os
import sys
import time

port, lifetime, state_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
ROLE = "furrow-test-role"
PREFIX = "/latest/meta-data/iam/security-credentials/"
state = {"tokens": 0, "creds": 0, "refused": 0, "akids": [], "expires": 0}
tokens = set()


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, code, body, ctype="text/plain"):
        body = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with open(state_path, "w") as f:
            f.write(json.dumps(state) + "\n")

    def do_PUT(self):
        ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds")
        if self.path != "/latest/api/token" or not ttl or not 1 <= int(ttl) <= 21600:
            state["refused"] += 1
            self.reply(400, "")
            return
        state["tokens"] += 1
        tok = "furrow-imds-token-%d-%s" % (state["tokens"], os.urandom(8).hex())
        tokens.add(tok)
        self.reply(200, tok)

    def do_GET(self):
        if self.path == "/furrow-stand-in-ready":     # the test's readiness poll, not counted
            self.reply(200, "")
            return
        if self.headers.get("X-aws-ec2-metadata-token") not in tokens:
            state["refused"] += 1
            self.reply(401, "")
            return
        if self.path == PREFIX:
            self.reply(200, ROLE)
        elif self.path == PREFIX + ROLE:
            state["creds"] += 1
            akid = "ASIAFURROWIMDS%d" % state["creds"]
            state["akids"].append(akid)
            state["expires"] = int(time.time() + lifetime)
            exp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(state["expires"]))
            self.reply(200, json.dumps({
                "Code": "Success", "LastUpdated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "Type": "AWS-HMAC", "AccessKeyId": akid,
                "SecretAccessKey": "imds-secret-%d-%s" % (state["creds"], os.urandom(8).hex()),
                "Token": "imds-session-%d-%s" % (state["creds"], os.urandom(16).hex()),
                "Expiration": exp}), "application/json")
        else:
            self.reply(404, "")


http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
