#!/usr/bin/env python3
"""Hold many TCP connections to the collector open, for its connection-limit tests.

  connflood.py PORT N MODE READYFILE

MODE idle: connect and send nothing. MODE slowloris: send the start of a request head
("GET /i?e=pv HTTP/1.1\\r\\nHost: x\\r\\n") and then one more header byte every few seconds, never
the empty line that ends the head. Once N connections were attempted and the connects have
settled, write READYFILE with counts ("attempted N connected C closed K") and keep
holding the sockets (and counting closes) until SIGTERM; then rewrite READYFILE with the final
counts. Connects still unanswered after 10 s (a listener that stopped accepting) count as pending.
"""
import errno
import os
import resource
import selectors
import signal
import socket
import sys
import time


def main():
    port, n, mode, ready = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sel = selectors.DefaultSelector()
    conns = {}
    closed = 0
    connected = 0
    head = b"GET /i?e=pv HTTP/1.1\r\nHost: x\r\n"
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(("127.0.0.1", port))
        if rc not in (0, errno.EINPROGRESS):
            s.close()
            closed += 1
            continue
        conns[s.fileno()] = s
        sel.register(s, selectors.EVENT_WRITE)
    # let the connects complete (a full backlog makes the kernel retry SYNs after a second)
    deadline = time.time() + 10
    pending = set(conns)
    while pending and time.time() < deadline:
        for key, ev in sel.select(timeout=0.5):
            fd = key.fd
            s = conns[fd]
            if fd in pending and ev & selectors.EVENT_WRITE:
                pending.discard(fd)
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if err:
                    sel.unregister(s)
                    s.close()
                    del conns[fd]
                    closed += 1
                    continue
                connected += 1
                if mode == "slowloris":
                    try:
                        s.send(head)
                    except OSError:
                        pass
                sel.modify(s, selectors.EVENT_READ)
            elif ev & selectors.EVENT_READ:
                closed += drop_if_closed(sel, conns, s)

    for fd in pending:
        sel.unregister(conns[fd])      # still held open, no longer watched

    def report():
        with open(ready + ".tmp", "w") as f:
            f.write("attempted %d connected %d closed %d pending %d\n" %
                    (n, connected, closed, len(pending)))
        os.rename(ready + ".tmp", ready)

    report()
    stop = []
    signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
    next_byte = time.time() + 5
    while not stop:
        for key, ev in sel.select(timeout=1):
            closed += drop_if_closed(sel, conns, key.fileobj)
        if mode == "slowloris" and time.time() >= next_byte:
            for s in list(conns.values()):
                try:
                    s.send(b"X")
                except OSError:
                    pass
            next_byte = time.time() + 5
    report()


def drop_if_closed(sel, conns, s):
    try:
        data = s.recv(65536)
    except BlockingIOError:
        return 0
    except OSError:
        data = b""
    if data:
        return 0
    sel.unregister(s)
    del conns[s.fileno()]
    s.close()
    return 1


if __name__ == "__main__":
    main()
