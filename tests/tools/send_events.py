#!/usr/bin/env python3
"""Send N page views to a collector as a tracker does: one GET /i each, with its own event id
(uuid5 of PREFIX-i, as kafka_frames.py events makes them), at most RATE per second, and each
one again until it is answered 200 (a 503 or a refused connection is retried after 50 ms, for
at most DEADLINE seconds). Prints the number answered 200 and the number of retries.

usage: send_events.py PORT N PREFIX RATE [DEADLINE]"""
import http.client
import sys
import time
import uuid

port, n, prefix, rate = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
deadline = time.time() + (float(sys.argv[5]) if len(sys.argv) > 5 else 300)
conn, ok, retries, t0 = None, 0, 0, time.time()
for i in range(n):
    eid = uuid.uuid5(uuid.NAMESPACE_URL, "%s-%d" % (prefix, i))
    path = "/i?e=pv&p=web&tv=py-1&aid=%s&eid=%s&url=http%%3A%%2F%%2Fexample.com%%2F%d" % (prefix, eid, i)
    while time.time() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                ok += 1
                break
        except (OSError, http.client.HTTPException):
            if conn is not None:
                conn.close()
            conn = None
        retries += 1
        time.sleep(0.05)
    ahead = t0 + (i + 1) / rate - time.time()
    if ahead > 0:
        time.sleep(ahead)
print(ok, retries)
