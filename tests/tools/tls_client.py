#!/usr/bin/env python3
"""TLS clients for the collector's HTTPS tests (tests/integration/collector_tls.sh).

  tls_client.py keepalive PORT CA STOPFILE   one keep-alive HTTPS connection sending GET /i until
        STOPFILE exists (then 20 more requests); prints "answered errors connections" where
        connections counts the TLS connections it had to open (1: never dropped)
  tls_client.py silent PORT SECONDS          a TCP connection that never starts the handshake
  tls_client.py trickle PORT SECONDS         a ClientHello record header, then one byte every
        0.3 s (a slowloris handshake); both print how many seconds the server took to close it,
        or "open" if it was still open after SECONDS
  tls_client.py subject PORT CA              the commonName of the certificate a new handshake gets
  tls_client.py garbage PORT N SEED          N connections that each send a real ClientHello with
        random bytes changed, cut short, or random bytes with a TLS record header, and the end of
        the stream, then read until the server closes (5 s at most each); prints how many the
        server closed
"""
import socket
import ssl
import sys
import time


def ctx_for(ca):
    c = ssl.create_default_context(cafile=ca)
    c.check_hostname = True
    return c


def keepalive(port, ca, stopfile):
    import os
    ctx = ctx_for(ca)
    answered = errors = conns = 0
    sock = None
    buf = b""
    after_stop = 0
    n = 0
    while after_stop < 20:
        if os.path.exists(stopfile):
            after_stop += 1
        if sock is None:
            raw = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock = ctx.wrap_socket(raw, server_hostname="localhost")
            conns += 1
        try:
            sock.sendall(b"GET /i?e=pv&tv=tls-keepalive&n=%d HTTP/1.1\r\nHost: localhost\r\n\r\n" % n)
            n += 1
            # read one response: head, then Content-Length bytes
            while b"\r\n\r\n" not in buf:
                d = sock.recv(65536)
                if not d:
                    raise ConnectionError("closed by the server")
                buf += d
            head, _, buf = buf.partition(b"\r\n\r\n")
            clen = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    clen = int(v)
            while len(buf) < clen:
                d = sock.recv(65536)
                if not d:
                    raise ConnectionError("closed mid-body")
                buf += d
            buf = buf[clen:]
            if head.startswith(b"HTTP/1.1 200 "):
                answered += 1
            else:
                errors += 1
            time.sleep(0.002)     # a steady client, not a flood: the output stays small
        except (OSError, ConnectionError) as e:
            print("error:", e, file=sys.stderr)
            errors += 1
            sock = None
            buf = b""
    print(answered, errors, conns)


def wait_close(sock, seconds):
    t0 = time.time()
    sock.settimeout(0.2)
    while time.time() - t0 < seconds:
        try:
            if sock.recv(4096) == b"":
                return "%.1f" % (time.time() - t0)
        except socket.timeout:
            pass
        except OSError:
            return "%.1f" % (time.time() - t0)
    return "open"


def silent(port, seconds):
    s = socket.create_connection(("127.0.0.1", port))
    print(wait_close(s, seconds))


def trickle(port, seconds):
    s = socket.create_connection(("127.0.0.1", port))
    t0 = time.time()
    # TLS record header: handshake (22), TLS 1.0 record version, 512 bytes to follow
    s.sendall(b"\x16\x03\x01\x02\x00")
    s.settimeout(0.3)
    while time.time() - t0 < seconds:
        try:
            s.sendall(b"\x01")
        except OSError:
            print("%.1f" % (time.time() - t0))
            return
        try:
            if s.recv(4096) == b"":
                print("%.1f" % (time.time() - t0))
                return
        except socket.timeout:
            pass
        except OSError:
            print("%.1f" % (time.time() - t0))
            return
    print("open")


def subject(port, ca):
    ctx = ctx_for(ca)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            cert = s.getpeercert()
            for rdn in cert["subject"]:
                for k, v in rdn:
                    if k == "commonName":
                        print(v)


def client_hello():
    """The bytes of a real ClientHello, from Python's own OpenSSL (memory BIOs, no socket)."""
    ctx = ssl.create_default_context()
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def garbage(port, n, seed):
    import random
    rnd = random.Random(seed)
    hello = client_hello()
    closed = 0
    for i in range(n):
        kind = i % 3
        if kind == 0:
            b = bytearray(hello)
            for _ in range(rnd.randint(1, 8)):
                b[rnd.randrange(len(b))] = rnd.randrange(256)
            data = bytes(b)
        elif kind == 1:
            data = hello[:rnd.randrange(1, len(hello))]
        else:
            data = bytes([0x16, 3, rnd.randrange(5)]) + bytes(rnd.randrange(256) for _ in range(rnd.randint(2, 600)))
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        try:
            s.sendall(data)
            # then the end of the stream: a record whose length was changed upwards would
            # otherwise wait for the handshake deadline
            s.shutdown(socket.SHUT_WR)
            s.settimeout(5)
            while s.recv(65536):
                pass
            closed += 1
        except socket.timeout:
            pass            # still open after 5 s: not closed
        except OSError:
            closed += 1     # reset: closed too
        finally:
            s.close()
    print(closed)


if __name__ == "__main__":
    cmd, port = sys.argv[1], int(sys.argv[2])
    if cmd == "keepalive":
        keepalive(port, sys.argv[3], sys.argv[4])
    elif cmd == "silent":
        silent(port, float(sys.argv[3]))
    elif cmd == "trickle":
        trickle(port, float(sys.argv[3]))
    elif cmd == "garbage":
        garbage(port, int(sys.argv[3]), int(sys.argv[4]))
    elif cmd == "subject":
        subject(port, sys.argv[3])
    else:
        sys.exit(64)
