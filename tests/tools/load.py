#!/usr/bin/env python3
"""Load for the collector's SIGTERM test: THREADS keep-alive clients send GET /i until SECONDS
pass or the server stops answering; prints the number of 2xx answers received."""
import http.client
import sys
import threading
import time

port, seconds, threads = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
deadline = time.time() + seconds
lock = threading.Lock()
count = 0


def worker(tid):
    global count
    n = 0
    conn = None
    while time.time() < deadline:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/i?e=pv&tid=%d&n=%d" % (tid, n))
            r = conn.getresponse()
            r.read()
            n += 1
            if 200 <= r.status < 300:
                with lock:
                    count += 1
            if r.getheader("Connection", "").lower() == "close":
                conn.close()
                conn = None
        except (ConnectionRefusedError, ConnectionResetError, BrokenPipeError,
                http.client.RemoteDisconnected, TimeoutError, OSError) as e:
            if conn is not None:
                conn.close()
                conn = None
            if isinstance(e, ConnectionRefusedError):
                return
            time.sleep(0.01)


ts = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(count)
