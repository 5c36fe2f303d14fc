#!/bin/bash
# Several stages appending bad rows to one --bad file (the launcher's sink-bad.json, a user's
# shared bad.json): every row is written whole, under the file's lock, so no two rows interleave
# (issue 10 §3: two es-sinks through stdio once left 3,215 unparsable lines in 40,000).
# Four es-sinks and two enrich processes write at once; every line must parse, and the counts
# must add up.
. "$(dirname "$0")/../lib.sh"

GOLD=$FURROW_ROOT/tests/golden/es-sink
# 5,000 lines that are not enriched events, long enough (4 KiB) to cross PIPE_BUF and stdio buffers
python3 -c '
import sys
for i in range(5000):
    sys.stdout.write("not-an-event-%05d\t%s\n" % (i, "x" * (4000 + i % 700)))
' >"$T_TMP/junk.tsv"
# 3,000 raw lines that are not base64 Thrift (enrich turns each into a bad row)
python3 -c '
import sys
for i in range(3000):
    sys.stdout.write("%d-%s\n" % (i, "@" * (3000 + i % 900)))
' >"$T_TMP/junk.raw"

pids=""
for i in 1 2 3 4; do
	"$FURROW_BIN/es-sink" --dump --stats-interval 0 --bad "$T_TMP/shared.json" <"$T_TMP/junk.tsv" \
	    >/dev/null 2>>"$T_TMP/err" &
	pids="$pids $!"
done
for i in 1 2; do
	"$FURROW_BIN/enrich" --stats-interval 0 --bad "$T_TMP/shared.json" <"$T_TMP/junk.raw" \
	    >/dev/null 2>>"$T_TMP/err" &
	pids="$pids $!"
done
rc=0
for p in $pids; do wait "$p" || rc=$?; done
eq "six writers exit 0" 0 "$rc"
eq "every row is there: 4 x 5000 + 2 x 3000" 26000 "$(wc -l <"$T_TMP/shared.json")"
eq "every line is one whole JSON document" 0 \
    "$(python3 -c '
import json, sys
bad = 0
for line in open(sys.argv[1], "rb"):
    try:
        json.loads(line)
    except Exception:
        bad += 1
print(bad)' "$T_TMP/shared.json")"
eq "each writer's rows are all there (es-sink payloads)" 4 \
    "$(grep -c 'not-an-event-04999' "$T_TMP/shared.json")"
done_testing
