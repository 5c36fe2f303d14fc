#!/usr/bin/env python3
"""Steady tracker load for the launcher's durability tests.

usage: steady_load.py PORT RATE ACKED [THREADS [BAD_EVERY]]

Sends RATE page views per second in all to the collector on 127.0.0.1:PORT, spread over THREADS
keep-alive connections (default 4), each event with its own event id (the tracker's `eid`), until
SIGTERM or SIGINT. Like a tracker, an event that is not answered 200 (503, a refused or reset
connection while a collector restarts) is sent again with the same id. Every id answered 200 is
appended to ACKED as soon as the answer is read (one per line, flushed), so the test can watch
progress and later reconcile the file id by id against what the pipeline delivered. On exit it
prints a JSON summary: ids acknowledged, attempts, and the answers other than 200 by kind.
With BAD_EVERY N, every Nth event goes to a path no adapter knows (/com.acme/v9), which enrich
turns into an adapter_failures bad row that carries the event id in its payload; those ids are
appended to ACKED.bad instead.
"""
import http.client
import json
import signal
import sys
import threading
import time
import uuid

port, rate, acked_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
threads = int(sys.argv[4]) if len(sys.argv) > 4 else 4
bad_every = int(sys.argv[5]) if len(sys.argv) > 5 else 0
stop = threading.Event()
lock = threading.Lock()
acked_file = open(acked_path, "a", buffering=1)
acked_bad_file = open(acked_path + ".bad", "a", buffering=1) if bad_every else None
summary = {"acked": 0, "attempts": 0, "answers": {}}


def count(kind):
    with lock:
        summary["answers"][kind] = summary["answers"].get(kind, 0) + 1


def worker(tid):
    interval = threads / rate
    next_at = time.monotonic() + tid * interval / threads
    conn = None
    eid = str(uuid.uuid4())
    n = 0
    while not stop.is_set():
        delay = next_at - time.monotonic()
        if delay > 0:
            stop.wait(delay)
            if stop.is_set():
                break
        next_at = max(next_at + interval, time.monotonic() - 1.0)
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            with lock:
                summary["attempts"] += 1
            bad = bad_every and n % bad_every == bad_every - 1
            path = "/com.acme/v9" if bad else "/i"
            conn.request("GET", "%s?e=pv&p=web&tv=load-1&aid=load&eid=%s&url=https%%3A%%2F%%2F"
                         "example.com%%2F%d" % (path, eid, tid))
            r = conn.getresponse()
            r.read()
            if r.status == 200:
                with lock:
                    (acked_bad_file if bad else acked_file).write(eid + "\n")
                    summary["acked"] += 1
                eid = str(uuid.uuid4())
                n += 1
            else:
                count(str(r.status))
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            count(type(e).__name__)
            if conn is not None:
                conn.close()
                conn = None
            stop.wait(0.02)


def on_signal(signum, frame):
    stop.set()


signal.signal(signal.SIGTERM, on_signal)
signal.signal(signal.SIGINT, on_signal)
ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
give_up = time.monotonic() + 600     # a test that forgot to stop it
while not stop.is_set() and time.monotonic() < give_up:
    stop.wait(0.2)
stop.set()
for t in ts:
    t.join()
acked_file.close()
if acked_bad_file:
    acked_bad_file.close()
print(json.dumps(summary, sort_keys=True))
