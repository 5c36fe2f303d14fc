#!/usr/bin/env python3
"""Decode furrow raw-stream lines (base64 Thrift CollectorPayload, enriched-event.md §12) into
one JSON object per line, independently of the C decoder. A line that is not valid padded
standard base64 or not a well-formed payload gives {"_error": "..."}; the exit status is 1 if
any line failed. Usage: collector_decode.py < raw > jsonl"""
import base64
import binascii
import json
import struct
import sys

NAMES = {100: "ipAddress", 200: "timestamp", 210: "encoding", 220: "collector",
         300: "userAgent", 310: "refererUri", 320: "path", 330: "querystring", 340: "body",
         350: "headers", 360: "contentType", 400: "hostname", 410: "networkUserId",
         31337: "schema"}


class Bad(Exception):
    pass


def take(b, pos, n):
    if pos + n > len(b):
        raise Bad("truncated at %d" % pos)
    return b[pos:pos + n], pos + n


def string(b, pos):
    raw, pos = take(b, pos, 4)
    (n,) = struct.unpack(">i", raw)
    if n < 0:
        raise Bad("negative length")
    s, pos = take(b, pos, n)
    return s.decode("utf-8"), pos   # the collector only writes valid UTF-8


def decode(b):
    pos, out, order = 0, {}, []
    while True:
        t, pos = take(b, pos, 1)
        t = t[0]
        if t == 0:
            break
        raw, pos = take(b, pos, 2)
        (fid,) = struct.unpack(">h", raw)
        if fid not in NAMES:
            raise Bad("unexpected field %d" % fid)
        if NAMES[fid] in out:
            raise Bad("field %d twice" % fid)
        order.append(fid)
        if t == 11:
            out[NAMES[fid]], pos = string(b, pos)
        elif t == 10 and fid == 200:
            raw, pos = take(b, pos, 8)
            (out["timestamp"],) = struct.unpack(">q", raw)
        elif t == 15 and fid == 350:
            et, pos = take(b, pos, 1)
            if et[0] != 11:
                raise Bad("headers element type %d" % et[0])
            raw, pos = take(b, pos, 4)
            (n,) = struct.unpack(">i", raw)
            hs = []
            for _ in range(n):
                h, pos = string(b, pos)
                hs.append(h)
            out["headers"] = hs
        else:
            raise Bad("field %d has type %d" % (fid, t))
    if pos != len(b):
        raise Bad("%d bytes after STOP" % (len(b) - pos))
    if order != sorted(order):
        raise Bad("fields out of order: %s" % order)
    out["_size"] = len(b)
    return out


def main():
    failed = 0
    for line in sys.stdin.buffer:
        if not line.endswith(b"\n"):
            print(json.dumps({"_error": "line without newline"}))
            failed = 1
            continue
        line = line[:-1]
        try:
            if len(line) % 4 != 0:
                raise Bad("base64 length %d not a multiple of 4" % len(line))
            b = base64.b64decode(line, validate=True)
            print(json.dumps(decode(b), ensure_ascii=False))
        except (Bad, binascii.Error, UnicodeDecodeError) as e:
            print(json.dumps({"_error": str(e)}))
            failed = 1
    sys.exit(failed)


if __name__ == "__main__":
    main()
