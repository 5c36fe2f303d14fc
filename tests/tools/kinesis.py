#!/usr/bin/env python3
"""tests/tools/kinesis.py: a small client of the Kinesis and DynamoDB JSON APIs for the tests,
against kinesalite and dynalite (tests/setup-kinesis.sh). The local servers check that a request
carries a well-formed SigV4 Authorization header, not its signature, so this tool sends one with
a placeholder signature (the furrow binaries sign for real with libcurl).

  kinesis.py create STREAM SHARDS          create a stream and wait until it is ACTIVE
  kinesis.py dump STREAM                   every record's data, base64, one per line, all shards
  kinesis.py dumpkeys STREAM               "partitionkey<TAB>base64 data" per record
  kinesis.py count STREAM                  the number of records in all shards
  kinesis.py split STREAM                  split the first open shard in two at its middle
  kinesis.py merge STREAM                  merge the first two adjacent open shards (by hash
                                           key range); prints "shard adjacentshard"
  kinesis.py shards STREAM                 "shardId parent open|closed adjacentparent" per shard
  kinesis.py lastseq STREAM                "shardId sequence" of each shard's last record ("-")
  kinesis.py put STREAM < lines             put each base64 line as one record (random keys)
  kinesis.py leases TABLE                  "leaseKey owner counter checkpoint" per lease
Endpoints from FURROW_KINESIS_ENDPOINT and FURROW_DYNAMODB_ENDPOINT.
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

AUTH = ("AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/{svc}/aws4_request, "
        "SignedHeaders=host;x-amz-date, Signature=0000")


def call(svc, op, body):
    if svc == "kinesis":
        url, target, ver = os.environ["FURROW_KINESIS_ENDPOINT"], "Kinesis_20131202", "1.1"
    else:
        url, target, ver = os.environ["FURROW_DYNAMODB_ENDPOINT"], "DynamoDB_20120810", "1.0"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST", headers={
        "Content-Type": "application/x-amz-json-" + ver,
        "X-Amz-Target": target + "." + op,
        "X-Amz-Date": time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()),
        "Authorization": AUTH.format(svc=svc)})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read() or b"{}")
    except urllib.error.HTTPError as e:
        raise SystemExit("kinesis.py: %s: %s" % (op, e.read().decode()))


def shards(stream):
    out, tok = [], None
    while True:
        b = {"NextToken": tok} if tok else {"StreamName": stream}
        r = call("kinesis", "ListShards", b)
        out += r["Shards"]
        tok = r.get("NextToken")
        if not tok:
            return out


def records(stream):
    for s in shards(stream):
        it = call("kinesis", "GetShardIterator", {"StreamName": stream, "ShardId": s["ShardId"],
                  "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
        while it:
            r = call("kinesis", "GetRecords", {"ShardIterator": it, "Limit": 10000})
            for rec in r["Records"]:
                yield rec
            if not r["Records"] and r.get("MillisBehindLatest", 0) == 0:
                break
            it = r.get("NextShardIterator")


def main():
    cmd, arg = sys.argv[1], sys.argv[2]
    if cmd == "create":
        call("kinesis", "CreateStream", {"StreamName": arg, "ShardCount": int(sys.argv[3])})
        deadline = time.time() + 30
        while call("kinesis", "DescribeStream", {"StreamName": arg})[
                "StreamDescription"]["StreamStatus"] != "ACTIVE":
            if time.time() > deadline:
                raise SystemExit("kinesis.py: %s not ACTIVE" % arg)
            time.sleep(0.05)
    elif cmd == "dump":
        for r in records(arg):
            print(r["Data"])
    elif cmd == "dumpkeys":
        for r in records(arg):
            print("%s\t%s" % (r["PartitionKey"], r["Data"]))
    elif cmd == "count":
        print(sum(1 for _ in records(arg)))
    elif cmd == "shards":
        for s in shards(arg):
            print(s["ShardId"], s.get("ParentShardId", "-"),
                  "closed" if "EndingSequenceNumber" in s["SequenceNumberRange"] else "open",
                  s.get("AdjacentParentShardId", "-"))
    elif cmd == "split":
        s = [s for s in shards(arg) if "EndingSequenceNumber" not in s["SequenceNumberRange"]][0]
        lo, hi = int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])
        call("kinesis", "SplitShard", {"StreamName": arg, "ShardToSplit": s["ShardId"],
             "NewStartingHashKey": str((lo + hi) // 2)})
        deadline = time.time() + 30
        while call("kinesis", "DescribeStream", {"StreamName": arg})[
                "StreamDescription"]["StreamStatus"] != "ACTIVE":
            if time.time() > deadline:
                raise SystemExit("kinesis.py: %s not ACTIVE after the split" % arg)
            time.sleep(0.05)
    elif cmd == "merge":
        op = sorted((s for s in shards(arg) if "EndingSequenceNumber" not in s["SequenceNumberRange"]),
                    key=lambda s: int(s["HashKeyRange"]["StartingHashKey"]))
        pair = [(a, b) for a, b in zip(op, op[1:]) if int(a["HashKeyRange"]["EndingHashKey"]) + 1 ==
                int(b["HashKeyRange"]["StartingHashKey"])]
        if not pair:
            raise SystemExit("kinesis.py: %s has no two adjacent open shards" % arg)
        a, b = pair[0]
        call("kinesis", "MergeShards", {"StreamName": arg, "ShardToMerge": a["ShardId"],
             "AdjacentShardToMerge": b["ShardId"]})
        deadline = time.time() + 30
        while call("kinesis", "DescribeStream", {"StreamName": arg})[
                "StreamDescription"]["StreamStatus"] != "ACTIVE":
            if time.time() > deadline:
                raise SystemExit("kinesis.py: %s not ACTIVE after the merge" % arg)
            time.sleep(0.05)
        print(a["ShardId"], b["ShardId"])
    elif cmd == "lastseq":
        for s in shards(arg):
            last = "-"
            it = call("kinesis", "GetShardIterator", {"StreamName": arg, "ShardId": s["ShardId"],
                      "ShardIteratorType": "TRIM_HORIZON"})["ShardIterator"]
            while it:
                r = call("kinesis", "GetRecords", {"ShardIterator": it, "Limit": 10000})
                if r["Records"]:
                    last = r["Records"][-1]["SequenceNumber"]
                elif r.get("MillisBehindLatest", 0) == 0:
                    break
                it = r.get("NextShardIterator")
            print(s["ShardId"], last)
    elif cmd == "put":
        import uuid
        batch = []
        for line in list(sys.stdin) + [None]:
            if line is not None and line.strip():
                batch.append({"Data": line.strip(), "PartitionKey": str(uuid.uuid4())})
            if batch and (line is None or len(batch) == 500):
                while batch:
                    r = call("kinesis", "PutRecords", {"StreamName": arg, "Records": batch})
                    batch = [b for b, res in zip(batch, r["Records"]) if "ErrorCode" in res]
    elif cmd == "leases":
        r = call("dynamodb", "Scan", {"TableName": arg, "ConsistentRead": True})
        for it in sorted(r["Items"], key=lambda i: i["leaseKey"]["S"]):
            print(it["leaseKey"]["S"], it.get("leaseOwner", {}).get("S", "-"),
                  it["leaseCounter"]["N"], it["checkpoint"]["S"])
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
