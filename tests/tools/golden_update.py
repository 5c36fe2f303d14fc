#!/usr/bin/env python3
"""Rewrite tests/golden/enrich/expected*.{tsv,jsonl} from an enrich run, masking what varies:
random event ids ("*" where the raw event has no eid) and Iglu lookup histories (times).
Review the diff before committing: the golden files are the contract.

usage: golden_update.py GOOD.tsv BAD.jsonl GOLDEN_DIR"""
import json
import sys

good, bad, gdir = sys.argv[1:4]
with open(gdir + "/expected.tsv", "w", encoding="utf-8", newline="\n") as out:
    for line in open(good, encoding="utf-8", newline="\n"):
        f = line.rstrip("\n").split("\t")
        if not f[6].startswith("5a305bf5"):
            f[6] = "*"          # the golden requests give every event an eid starting so
        out.write("\t".join(f) + "\n")


def mask(x):
    if isinstance(x, dict):
        if x.get("error") == "ResolutionError":
            x["lookupHistory"] = "*"
        for v in x.values():
            mask(v)
    elif isinstance(x, list):
        for v in x:
            mask(v)


with open(gdir + "/expected-bad.jsonl", "w", encoding="utf-8", newline="\n") as out:
    for line in open(bad, encoding="utf-8"):
        j = json.loads(line)
        p = j["data"].get("payload")
        if isinstance(p, dict) and "enriched" in p:
            raw = p["raw"]["parameters"]
            if not any(x["name"] == "eid" and x["value"] for x in raw) and p["enriched"]["event_id"]:
                p["enriched"]["event_id"] = "*"
        mask(j)
        out.write(json.dumps(j, ensure_ascii=False, separators=(",", ":")) + "\n")
