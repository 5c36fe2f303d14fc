#!/bin/bash
# kinesis: several enrich instances share a stream through the group's DynamoDB lease table
# (KCL's layout), against kinesalite and dynalite (tests/setup-kinesis.sh), under a steady
# tracker load (tests/tools/steady_load.py: the load is the pace, not a wait for readiness):
#  - two instances split the raw stream's four shards between them (lease stealing);
#  - a shard is split mid-stream: its parent is read to its end and checkpointed SHARD_END
#    before its children are leased, and the children are read;
#  - one instance is killed with SIGKILL: after the failover time the other takes its leases
#    over from their checkpoints; every event id answered 200 is on the enriched stream (zero
#    loss), and duplicates are bounded by what was read and not yet checkpointed;
#  - a clean stop checkpoints the last record of every shard and gives the leases back.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-kinesis.sh"
trap 'kill $load 2>/dev/null; kinesis_cleanup >/dev/null 2>&1; t_cleanup' EXIT

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
kinesis_start >"$T_TMP/kinesis-start.log" 2>&1 ||
    unavailable "kinesalite and dynalite" "$(tail -n 3 "$T_TMP/kinesis-start.log")"
ok "kinesalite at $FURROW_KINESIS_ENDPOINT, dynalite at $FURROW_DYNAMODB_ENDPOINT"
K="python3 $FURROW_ROOT/tests/tools/kinesis.py"
for s in raw:4 enriched:2 bad:1; do
	kinesis_stream "${s%%:*}" "${s#*:}" || unavailable "stream ${s%%:*}" "cannot create it"
done
export FURROW_KINESIS_FAILOVER_MS=3000

port=$(free_port)
"$FURROW_BIN/collector" -p "$port" --bind 127.0.0.1 -o kinesis:raw --bad kinesis:bad \
    --no-cookie 2>"$T_TMP/collector.err" &
pc=$!
check "collector ready" wait_for 30 curl -sf "http://127.0.0.1:$port/health"
enrich_bg() { # NAME
	FURROW_KINESIS_WORKER_ID=$1 "$FURROW_BIN/enrich" --source kinesis:raw \
	    --output kinesis:enriched --bad kinesis:bad --group enrich-grp 2>"$T_TMP/enrich-$1.err" &
}
owned_by() { $K leases enrich-grp | awk -v o="$1" '$2 == o && $4 != "SHARD_END"' | wc -l; }
holds() { [ "$(owned_by "$1")" -ge "$2" ]; }

python3 "$FURROW_ROOT/tests/tools/steady_load.py" "$port" 200 "$T_TMP/acked" 4 \
    >"$T_TMP/load.json" 2>/dev/null &
load=$!
enrich_bg a; pa=$!
check "instance a takes the four leases" wait_for 30 holds a 4
enrich_bg b; pb=$!
check "instance b steals its share: two each" wait_for 30 eval 'holds a 2 && holds b 2'

# ---- a split mid-stream ----
parent=$($K shards raw | awk '$3 == "open" {print $1; exit}')
$K split raw
eq "the split made two children of $parent" 2 "$($K shards raw | awk -v p="$parent" '$2 == p' | wc -l)"
parent_end() { $K leases enrich-grp | grep -q "^$parent .* SHARD_END$"; }
check "the parent is read to its end and checkpointed SHARD_END" wait_for 60 parent_end
children_leased() {
	[ "$($K leases enrich-grp | awk 'NR == FNR { if ($2 == p) c[$1] = 1; next }
	    ($1 in c) && $2 != "-"' p="$parent" <($K shards raw) - | wc -l)" -eq 2 ]
}
check "its two children are leased" wait_for 60 children_leased
# log lines start "enrich: <ISO time> ...": the parent's end comes before either child's lease
ts() { grep -h "$1" "$T_TMP"/enrich-*.err | awk '{print $2}' | sort | head -1; }
end_at=$(ts "shard $parent: read to its end")
child_at=$(for c in $($K shards raw | awk -v p="$parent" '$2 == p {print $1}'); do
	ts "shard $c: lease taken"; done | sort | head -1)
diag "parent ended at $end_at, first child leased at $child_at"
check "the parent ended before a child was taken" test -n "$end_at" -a -n "$child_at" -a \
    ! "$child_at" \< "$end_at"

# ---- SIGKILL one instance ----
n0=$(wc -l <"$T_TMP/acked")
kill -KILL $pa; wait $pa 2>/dev/null
t0=$(date +%s%N)
check "b takes a's leases over after the failover time" wait_for 60 holds b 5
t1=$(date +%s%N)
diag "lease failover: $(( (t1 - t0) / 1000000 )) ms after SIGKILL (failover time 3000 ms)"
eq "a holds nothing" 0 "$(owned_by a)"
# more load after the takeover, then stop it
more() { [ "$(wc -l <"$T_TMP/acked")" -ge $((n0 + 400)) ]; }
check "load goes on after the takeover" wait_for 60 more
kill -TERM $load; wait $load
acked=$(sort -u "$T_TMP/acked" | wc -l)
diag "$acked events answered 200"
kill -TERM $pc; wait $pc
eq "the collector stops with 0 (everything on the raw stream)" 0 $?

eids() { $K dump enriched | python3 -c '
import base64, sys
for l in sys.stdin:
    c = base64.b64decode(l).decode().split("\t")
    if c[0] == "load":
        print(c[6])'; }
all_in() { eids | sort -u >"$T_TMP/got"; [ "$(comm -23 <(sort -u "$T_TMP/acked") "$T_TMP/got" | wc -l)" -eq 0 ]; }
check "every event id answered 200 is on the enriched stream (zero loss)" wait_for 120 all_in
eids >"$T_TMP/all"
dups=$(( $(wc -l <"$T_TMP/all") - $(sort -u "$T_TMP/all" | wc -l) ))
diag "duplicates: $dups of $(wc -l <"$T_TMP/all")"
# a's uncheckpointed window is time (checkpoint interval + failover) times the rate, which a
# loaded machine stretches (11.6 s failover and 2,957 of 26,799 seen under load 30), so the bound
# is a share: reading a's shards again from their start would duplicate about half of them.
total=$(wc -l <"$T_TMP/all")
check "duplicates are bounded (< 20 % of the records: a's uncheckpointed window)" test "$dups" -lt $((total / 5))

# every lease not at SHARD_END has the last sequence number of its shard (or TRIM_HORIZON for a
# shard without records)
ckpt_done() {
	[ "$($K leases enrich-grp | awk '$4 != "SHARD_END" {print $1, $4}' | sort)" = \
	  "$(join <($K leases enrich-grp | awk '$4 != "SHARD_END" {print $1}' | sort) \
	      <($K lastseq raw | sort) | sed 's/ -$/ TRIM_HORIZON/')" ]
}
check "b checkpoints the last record of every open shard" wait_for 60 ckpt_done
kill -TERM $pb; wait $pb
eq "b stops with 0" 0 $?
eq "and gives its leases back" 0 "$(owned_by b)"

done_testing
