#!/usr/bin/env python3
"""Kafka messages to and from files for the Kafka tests, byte for byte (kcat carries the bytes).

  kafka_frames.py lines2bin DELIM < raw-lines > stream     base64 lines -> binary records joined
                                                            by DELIM, for `kcat -P -D DELIM`
  kafka_frames.py frames [b64] < kcat-out > lines          kcat -f '%R%s' output (a big-endian
                                                            int32 length, then the bytes) -> one
                                                            line per message: its base64 with b64,
                                                            else the bytes; a message holding a
                                                            newline is an error (exit 1)
  kafka_frames.py events N PREFIX > requests.jsonl         N tracker requests for mkraw, each
                                                            with its own event id PREFIX-<i>
                                                            turned into a UUID
"""
import base64
import struct
import sys
import uuid


def lines2bin(delim):
    out = sys.stdout.buffer
    first = True
    for line in sys.stdin.buffer:
        line = line.rstrip(b"\r\n")
        if not line:
            continue
        rec = base64.b64decode(line + b"=" * (-len(line) % 4))
        if delim in rec:
            sys.exit("a record holds the delimiter")
        if not first:
            out.write(delim)
        out.write(rec)
        first = False


def frames(b64):
    data = sys.stdin.buffer.read()
    out = sys.stdout.buffer
    i = 0
    while i < len(data):
        if i + 4 > len(data):
            sys.exit("truncated frame")
        (n,) = struct.unpack(">i", data[i:i + 4])
        i += 4
        m = b"" if n < 0 else data[i:i + n]
        if len(m) != max(n, 0):
            sys.exit("truncated frame")
        i += max(n, 0)
        if b64:
            out.write(base64.b64encode(m) + b"\n")
        else:
            if b"\n" in m:
                sys.exit("a message holds a newline")
            out.write(m + b"\n")


def events(n, prefix):
    for i in range(n):
        eid = str(uuid.uuid5(uuid.NAMESPACE_URL, "%s-%d" % (prefix, i)))
        print('{"path":"/i","qs":"e=pv&p=web&tv=js-3.0.0&aid=%s&eid=%s&url=http%%3A%%2F%%2Fexample.com%%2F%d"}'
              % (prefix, eid, i))


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "lines2bin":
        lines2bin(sys.argv[2].encode())
    elif mode == "frames":
        frames(len(sys.argv) > 2 and sys.argv[2] == "b64")
    elif mode == "events":
        events(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit(__doc__)
