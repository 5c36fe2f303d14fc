#!/usr/bin/env python3
"""Small raw HTTP client for the collector's tests.

  rawhttp.py PORT                 send stdin as is, print the whole answer (until close or
                                  --timeout seconds of silence)
  rawhttp.py PORT --slow SECONDS  send stdin one byte per SECONDS; print the answer
  rawhttp.py PORT --status        print only the status code of the first answer ("none" if the
                                  server closed without one)
  rawhttp.py PORT --half          send stdin, then close our side without reading (truncation)
  rawhttp.py PORT --shut          send stdin, then shut our write side (a half-close: no more
                                  request bytes) and read the answer as usual
"""
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    args = sys.argv[2:]
    data = sys.stdin.buffer.read()
    timeout = 10.0
    if "--timeout" in args:
        timeout = float(args[args.index("--timeout") + 1])
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        if "--slow" in args:
            delay = float(args[args.index("--slow") + 1])
            for i in range(len(data)):
                try:
                    s.sendall(data[i:i + 1])
                except OSError:
                    break
                time.sleep(delay)
        else:
            try:
                s.sendall(data)
            except OSError:
                pass
        if "--half" in args:
            s.close()
            return
        if "--shut" in args:
            s.shutdown(socket.SHUT_WR)
        got = b""
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            got += chunk
            if "--status" in args and b"\r\n" in got:
                break
    finally:
        s.close()
    if "--status" in args:
        line = got.split(b"\r\n", 1)[0].split(b" ")
        print(line[1].decode() if len(line) > 1 else "none")
    else:
        sys.stdout.buffer.write(got)


if __name__ == "__main__":
    main()
