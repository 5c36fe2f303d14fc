#!/bin/bash
# es-sink reading a durable log (--source log:PATH --group NAME): the group's offset is committed
# only after Elasticsearch accepted a batch (or its rejects were written as bad rows), so kill -9
# while Elasticsearch is down, or a stop before it answers, loses nothing: the next es-sink sends
# the documents again (idempotent through _id) and the counts reconcile by event id.
# The endpoint is the scripted fake (fake_es.py): a real Elasticsearch cannot be made to refuse
# every request on cue; es_sink_elasticsearch.sh covers the real engine.
. "$(dirname "$0")/../lib.sh"

SINK=$FURROW_BIN/es-sink
GOLD=$FURROW_ROOT/tests/golden/es-sink
FAKE=$FURROW_ROOT/tests/integration/fake_es.py

fake() { # fake MODE NAME: start a fake server, set URL and LOG
	LOG=$T_TMP/$2.log
	bg python3 "$FAKE" "$T_TMP/$2.port" "$LOG" "$1"
	wait_for 10 test -s "$T_TMP/$2.port" || { fail "fake server $2 did not start"; return 1; }
	URL=http://127.0.0.1:$(cat "$T_TMP/$2.port")
}
# events FILE TAG: the golden events with event ids of their own (column 7)
events() {
	awk -F '\t' -v OFS='\t' -v tag="$2" '{ $7 = sprintf("%08d-0000-4000-8000-%012d", tag, NR); print }' \
	    "$GOLD/good.tsv" >>"$1"
}
ids_sent() { jq -r '.ids[]' "$1" 2>/dev/null | sort -u; }
offset() { cat "$T_TMP/good.tsv.offsets/$1" 2>/dev/null | sed 's/^0*//; s/^$/0/'; }
size() { stat -c %s "$T_TMP/good.tsv"; }
run_sink() { # run_sink NAME ARGS...: es-sink on the log in the background, pid in SPID
	"$SINK" --url "$URL" --stats-interval 0 --retry-base-ms 10 --retry-max-ms 50 --flush-ms 20 \
	    --source "log:$T_TMP/good.tsv" --group es --bad "$T_TMP/sink-bad.json" "${@:2}" \
	    2>>"$T_TMP/$1.err" &
	SPID=$!
	T_PIDS="$T_PIDS $SPID"
}

events "$T_TMP/good.tsv" 1
events "$T_TMP/expected" 1

# ---- kill -9 while Elasticsearch refuses everything: nothing is committed ----
fake always503 down1
run_sink a
check "retrying while Elasticsearch is down" wait_for 20 sh -c "[ \$(wc -l <'$LOG' 2>/dev/null || echo 0) -ge 3 ]"
kill -9 "$SPID"; wait "$SPID" 2>/dev/null
eq "nothing committed while nothing was accepted" 0 "$(offset es)"

# ---- the next es-sink sends everything and commits the end of the log ----
fake ok up1
run_sink b
check "offset reaches the end of the log" wait_for 20 sh -c "[ \$(cat '$T_TMP/good.tsv.offsets/es' | sed 's/^0*//') = $(size) ]"
eq "every event of the log was accepted" "$(cut -f 7 "$T_TMP/expected" | sort -u)" "$(ids_sent "$LOG")"

# ---- the log grows: the running es-sink follows it ----
events "$T_TMP/good.tsv" 2
events "$T_TMP/expected" 2
check "a growing log is followed" wait_for 20 sh -c "[ \$(cat '$T_TMP/good.tsv.offsets/es' | sed 's/^0*//') = $(size) ]"
eq "the appended events were accepted" "$(cut -f 7 "$T_TMP/expected" | sort -u)" "$(ids_sent "$LOG")"
kill -TERM "$SPID"; wait "$SPID"
eq "SIGTERM: exit 0" 0 $?

# ---- SIGTERM while Elasticsearch is down: exit 0, nothing diverted, nothing committed ----
before=$(offset es)
events "$T_TMP/good.tsv" 3
events "$T_TMP/expected" 3
fake always503 down2
run_sink c --term-timeout 1
check "retrying the new events" wait_for 20 sh -c "[ \$(wc -l <'$LOG' 2>/dev/null || echo 0) -ge 2 ]"
kill -TERM "$SPID"; wait "$SPID"
eq "stop during an outage: exit 0 (nothing lost)" 0 $?
check "... and says the documents are sent again" grep -q 'sent again' "$T_TMP/c.err"
eq "no document diverted to --bad" 0 "$(cat "$T_TMP/sink-bad.json" 2>/dev/null | wc -l)"
eq "the offset did not move" "$before" "$(offset es)"
fake ok up2
run_sink d
check "after the outage: offset at the end" wait_for 20 sh -c "[ \$(cat '$T_TMP/good.tsv.offsets/es' | sed 's/^0*//') = $(size) ]"
eq "after the outage: the events of the outage were accepted" \
    "$(awk -F '\t' '$7 ~ /^00000003/ { print $7 }' "$T_TMP/expected" | sort -u)" "$(ids_sent "$LOG")"
kill -TERM "$SPID"; wait "$SPID"

# ---- a line that is not an event: a bad row, committed with its batch ----
printf 'not an enriched event\n' >>"$T_TMP/good.tsv"
run_sink e
check "a bad line is committed too" wait_for 20 sh -c "[ \$(cat '$T_TMP/good.tsv.offsets/es' | sed 's/^0*//') = $(size) ]"
kill -TERM "$SPID"; wait "$SPID"
eq "one bad row" 1 "$(wc -l <"$T_TMP/sink-bad.json")"

# ---- reconciliation: every event in the log reached the endpoint ----
all_sent=$(cat "$T_TMP"/up*.log | jq -r '.ids[]' | sort -u)
eq "reconciled by event id: in = accepted" "$(cut -f 7 "$T_TMP/expected" | sort -u | wc -l)" \
    "$(comm -12 <(cut -f 7 "$T_TMP/expected" | sort -u) <(echo "$all_sent") | wc -l)"

# ---- flags ----
"$SINK" --source "$T_TMP/good.tsv" --group x --dump >/dev/null 2>"$T_TMP/g.err"
eq "a group without a log: usage error (exit 64)" 64 $?
check "... and says a group needs a log" grep -q 'needs a log' "$T_TMP/g.err"
"$SINK" --source "log:$T_TMP/good.tsv" --group '../x' --dump >/dev/null 2>"$T_TMP/g.err"
eq "a group name with a slash: usage error (exit 64)" 64 $?
done_testing
