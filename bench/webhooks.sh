#!/bin/sh
# Benchmark enrich on webhook requests against the same events sent with the tracker protocol.
#
#   sh bench/webhooks.sh [RECORDS] [REPS]   (defaults 20000 and 3; run from the repository root
#                                            after make)
#
# Webhook records, one event each, a quarter of each kind: an Iglu webhook POST (a link_click as
# JSON), a Mailgun "delivered" webhook, a SendGrid "processed" webhook and a Google Analytics
# page-view hit (with its hit, user and general contexts); the requests are upstream's spec
# examples (tests/golden/webhooks/vectors.jsonl). The tp2 records carry exactly the events
# those webhooks become (the same ue_pr, and co for GA) in a payload_data 1-0-4 POST, so both
# files hold the same events, validated against the same schemas, in records of about the same
# size. enrich runs over each file REPS times, the two interleaved; the figure is events per
# CPU-second (user + sys; enrich is single-threaded), median of the runs. The goal is a ratio
# webhook / tp2 of at least 0.8. Every command is printed before it runs.
set -eu
N=${1:-20000}
REPS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=${BENCH_DIR:-$ROOT/.cache/bench-webhooks}
mkdir -p "$W"
run() { echo "+ $*" >&2; "$@"; }

run cc -O2 -I"$ROOT/common" -o "$W/mkraw" "$ROOT/tests/tools/mkraw.c" "$ROOT/common/thrift.c" \
    "$ROOT/common/base64.c" "$ROOT/common/buf.c" -ljansson

python3 - "$N" "$ROOT/tests/golden/webhooks/vectors.jsonl" "$W/webhooks.jsonl" "$W/tp2.jsonl" <<'PY'
import json, sys
n, vectors, wh_out, tp_out = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
V = {v["id"]: v for v in map(json.loads, open(vectors))}
UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36"
link = {"targetUrl": "https://shop.example.com/basket", "elementId": "buy",
        "elementClasses": ["btn", "primary"], "elementTarget": "_self"}
iglu = {"id": "iglu-bench", "path": "/com.snowplowanalytics.iglu/v1",
        "qs": "schema=iglu%3Acom.snowplowanalytics.snowplow%2Flink_click%2Fjsonschema%2F1-0-1",
        "ct": "application/json", "body": json.dumps(link),
        "events": [{"tv": "com.snowplowanalytics.iglu-v1", "e": "ue", "p": "app", "ue_pr": json.dumps(
            {"schema": "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0",
             "data": {"schema": "iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1",
                      "data": link}}, separators=(",", ":"))}]}
kinds = [iglu, V["mailgun-e1"], V["sendgrid-processed"], V["ga-e4"]]
hdr = ["Host: collector.example.com", "User-Agent: " + UA]
with open(wh_out, "w") as wh, open(tp_out, "w") as tp:
    for v in kinds:
        req = {"path": v["path"], "qs": v["qs"], "ua": UA, "headers": hdr,
               "nuid": "9f2b6a3e-1c4d-4e5f-8a7b-0c1d2e3f4a5b", "repeat": n // len(kinds)}
        if v["body"] is not None:
            req["body"] = v["body"]
            if v["ct"]:
                req["ct"] = v["ct"]
                req["headers"] = hdr + ["Content-Type: " + v["ct"]]
        wh.write(json.dumps(req) + "\n")
        ev = {k: x for k, x in v["events"][0].items() if k in ("e", "p", "ue_pr", "co")}
        ev["tv"] = "bench-1"
        body = json.dumps({"schema": "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4",
                           "data": [ev]}, separators=(",", ":"))
        tp.write(json.dumps({"path": "/com.snowplowanalytics.snowplow/tp2", "qs": "", "ua": UA,
                             "nuid": req["nuid"], "ct": "application/json", "body": body,
                             "headers": hdr + ["Content-Type: application/json"],
                             "repeat": n // len(kinds)}) + "\n")
PY
for k in webhooks tp2; do
	echo "+ $W/mkraw < $W/$k.jsonl | interleave > $W/$k.raw" >&2
	"$W/mkraw" <"$W/$k.jsonl" >"$W/$k.grouped"
	# interleave the kinds (mkraw writes each request's repeats together)
	python3 -c '
import sys
l = open(sys.argv[1]).read().splitlines(); k = len(l) // 4
open(sys.argv[2], "w").write("".join(l[j * k + i] + "\n" for i in range(k) for j in range(4)))' \
	    "$W/$k.grouped" "$W/$k.raw"
done
records=$(wc -l <"$W/webhooks.raw")
# the events are the same; the tp2 records are larger because ue_pr travels as an escaped
# JSON string inside payload_data
echo "records: $records each; bytes per record: webhooks $(($(wc -c <"$W/webhooks.raw") / records))," \
    "tp2 $(($(wc -c <"$W/tp2.raw") / records))"

# Both files must give the same good events (columns other than the per-run ones).
for k in webhooks tp2; do
	run "$ROOT/bin/enrich" -q --bad "$W/$k.bad" <"$W/$k.raw" >"$W/$k.tsv"
done
echo "check: webhooks good $(wc -l <"$W/webhooks.tsv") bad $(wc -l <"$W/webhooks.bad");" \
    "tp2 good $(wc -l <"$W/tp2.tsv") bad $(wc -l <"$W/tp2.bad")"
if [ "$(cut -f 53,59 "$W/webhooks.tsv" | sort | md5sum)" != "$(cut -f 53,59 "$W/tp2.tsv" | sort | md5sum)" ]; then
	echo "bench/webhooks.sh: the two files do not give the same events" >&2
	exit 1
fi
rm -f "$W/webhooks.bad" "$W/tp2.bad"

: >"$W/times"
i=1
while [ "$i" -le "$REPS" ]; do
	for k in webhooks tp2; do
		echo "+ /usr/bin/time -f '%U %S' $ROOT/bin/enrich -q --bad /dev/null < $W/$k.raw > /dev/null" >&2
		/usr/bin/time -f "%U %S" -o "$W/time" "$ROOT/bin/enrich" -q --bad /dev/null \
		    <"$W/$k.raw" >/dev/null
		echo "$k $(awk '{ print $1 + $2 }' "$W/time" | tail -1)" >>"$W/times"
	done
	i=$((i + 1))
done
python3 - "$records" "$W/times" <<'PY'
import statistics, sys
n = int(sys.argv[1])
t = {"webhooks": [], "tp2": []}
for line in open(sys.argv[2]):
    k, s = line.split()
    t[k].append(float(s))
rate = {k: n / statistics.median(v) for k, v in t.items()}
for k in ("webhooks", "tp2"):
    print("%-8s %8.0f events per CPU-second  (CPU s per run: %s)" %
          (k, rate[k], " ".join("%.2f" % x for x in t[k])))
r = rate["webhooks"] / rate["tp2"]
print("ratio webhooks / tp2: %.2f (goal >= 0.80: %s)" % (r, "met" if r >= 0.8 else "NOT met"))
PY
