#!/bin/bash
# bench/metrics.sh: what --metrics-listen costs each stage (issue 16: at most 2 % of its
# throughput), for enrich, es-sink, s3-sink and pg-sink.
#
#   bench/metrics.sh [REPS]                        # default 5 (at least 3)
#   BENCH_STAGES="es-sink pg-sink" bench/metrics.sh 5
#   ES_URL=http://host:9200 bench/metrics.sh       # a running engine for es-sink
#   SCRAPE_INTERVALS="15 0.2" bench/metrics.sh     # seconds between scrapes (the default)
# Sizes: ENRICH_RECORDS (60000), ES_EVENTS (40000), S3_LINES (200000), PG_EVENTS (20000).
#
# The measure is the stage's own CPU time (user + system of the process and its threads, from
# wait4(2)), never wall time: the machine is shared, and the peers (Elasticsearch,
# S3Proxy, PostgreSQL) run on it too. For each stage, one server is started, the same input
# runs REPS times without the flag and REPS times with it for each scrape interval, interleaved
# (off, on at each interval; the order reversed every other repetition, ABBA-like) so that a slow
# spell of the machine hits every side alike and none always runs first, then the server is
# stopped before the next stage's starts. With the flag, a scraper fetches /metrics over ONE
# kept-alive HTTP/1.1 connection, as Prometheus does, every SCRAPE_INTERVALS seconds for the
# whole run (the first scrape as soon as the port is up): 15 s is Prometheus's usual interval
# (the real case: a run of a few seconds sees one scrape); 0.2 s, 75 times that, is a stress
# figure, an upper bound of the serving cost. The scraper reports its scrapes and connections
# (one connection per run when keep-alive works). Every run starts from the same state,
# prepared untimed: a fresh index (es-sink), an empty spool (s3-sink; it writes the same keys
# again), emptied tables (pg-sink).
#
# The report gives each run, the median of each side, and for each interval two costs: the
# median of the REPS paired ratios (each "on" run over the "off" run of the same repetition,
# which cancels drift between repetitions) and the ratio of the medians, and the spread of the
# "off" runs (max/min - 1): the noise floor. PASS when both costs are within 2 %, OVER when both
# exceed it, UNRESOLVED when they disagree (the noise is larger than the budget: more reps, a
# quieter machine).
#   enrich:  raw records from the golden requests (tests/golden/enrich/requests.jsonl, mkraw),
#            repeated; output and bad rows to /dev/null.
#   es-sink: distinct golden events (tests/golden/es-sink/good.tsv) into a real Elasticsearch
#            (tests/setup-es.sh), 500 documents per _bulk.
#   s3-sink: the same events (lines to s3-sink) into S3Proxy (tests/setup-s3.sh), an object per
#            20000 lines, gzip level 6 (the default); each run writes the same keys again.
#   pg-sink: distinct golden events with their entities (tests/golden/pg-sink/golden.tsv) into a
#            throwaway PostgreSQL (tests/setup-pg.sh): atomic.events and the entity tables.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
REPS=${1:-5}
NE=${ENRICH_RECORDS:-60000}
NS=${ES_EVENTS:-40000}
N3=${S3_LINES:-200000}
NP=${PG_EVENTS:-20000}
STAGES=${BENCH_STAGES:-enrich s3-sink pg-sink es-sink}
INTERVALS=${SCRAPE_INTERVALS:-15 0.2}
BIN=${FURROW_BIN:-$root/bin}
[ "$REPS" -ge 3 ] 2>/dev/null || { echo "bench: REPS must be at least 3" >&2; exit 64; }
for i in $INTERVALS; do
	awk -v i="$i" 'BEGIN { exit !(i + 0 > 0) }' || { echo "bench: bad scrape interval '$i'" >&2; exit 64; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
scraper="" es_up=0 s3_up=0 pg_up=0
cleanup() {
	[ -n "$scraper" ] && kill "$scraper" 2>/dev/null
	[ "$es_up" = 1 ] && es_cleanup
	[ "$s3_up" = 1 ] && s3_stop
	[ "$pg_up" = 1 ] && pg_cleanup
	rm -rf "$tmp"
}
trap cleanup EXIT
for s in $STAGES; do
	[ -x "$BIN/$s" ] || { echo "bench: no $BIN/$s: build first (make)" >&2; exit 1; }
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
has() { [[ " $STAGES " == *" $1 "* ]]; }
P=$(free_port)

# scrape PORT INTERVAL OUT: fetch /metrics over one kept-alive connection every INTERVAL
# seconds until SIGTERM, then write "SCRAPES CONNECTIONS" to OUT. Waits for the port to open;
# reconnects (and counts it) only when the server closes the connection.
scrape() {
	exec python3 -c '
import http.client, signal, sys, time
port, interval, out = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
scrapes = conns = 0
def done(*_):
    with open(out, "w") as f:
        f.write("%d %d\n" % (scrapes, conns))
    sys.exit(0)
signal.signal(signal.SIGTERM, done)
c = None
while True:
    try:
        if c is None:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.connect()
            conns += 1
        c.request("GET", "/metrics")
        r = c.getresponse()
        r.read()
        if r.status != 200:
            raise SystemExit("scrape: HTTP %d" % r.status)
        scrapes += 1
        if r.will_close:
            c.close(); c = None
        time.sleep(interval)
    except (ConnectionError, OSError, http.client.HTTPException):
        if c is not None:
            c.close(); c = None
        time.sleep(0.005)          # not up yet (or closed): retry soon
' "$@"
}
# cpu OUT IN CMD...: run CMD < IN > /dev/null, append its user+sys seconds to OUT (from wait4's
# rusage, to the microsecond: /usr/bin/time prints hundredths, 1 % of a one-second run); a
# failed run stops the benchmark (its time would mean nothing)
cpu() {
	python3 -c '
import os, sys
out, inp, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
pid = os.fork()
if pid == 0:
    os.dup2(os.open(inp, os.O_RDONLY), 0)
    os.dup2(os.open("/dev/null", os.O_WRONLY), 1)
    os.execvp(cmd[0], cmd)
_, status, ru = os.wait4(pid, 0)
if status != 0:
    sys.exit(1)
with open(out, "a") as f:
    f.write("%.4f\n" % (ru.ru_utime + ru.ru_stime))
' "$@" 2>>"$tmp/stage.err" || { echo "bench: failed: ${*:3}" >&2; tail -n 5 "$tmp/stage.err" >&2; exit 1; }
}
# measure NAME PREPARE IN CMD...: REPS repetitions of off and on at each interval, the order
# reversed every other repetition; PREPARE (a function, untimed) runs before each run
measure() {
	local name=$1 prep=$2 in=$3 r side sides; shift 3
	: >"$tmp/$name.off"
	for i in $INTERVALS; do : >"$tmp/$name.on$i"; : >"$tmp/$name.scrapes$i"; done
	echo "$name: + $* < $(basename "$in") > /dev/null   (on: + --metrics-listen 127.0.0.1:$P, scraped every $(echo $INTERVALS | sed 's/ / or /g') s over one kept-alive connection)"
	sides="off $INTERVALS"
	for r in $(seq 1 "$REPS"); do
		[ $((r % 2)) = 0 ] && sides=$(echo $sides | tr ' ' '\n' | tac | tr '\n' ' ')
		for side in $sides; do
			$prep
			if [ "$side" = off ]; then cpu "$tmp/$name.off" "$in" "$@"
			else run_on "$name" "$side" "$in" "$@"; fi
		done
		[ $((r % 2)) = 0 ] && sides="off $INTERVALS"
	done
}
run_on() {  # run_on NAME INTERVAL IN CMD...
	local name=$1 iv=$2 in=$3; shift 3
	rm -f "$tmp/scraped"
	scrape "$P" "$iv" "$tmp/scraped" & scraper=$!
	cpu "$tmp/$name.on$iv" "$in" "$@" --metrics-listen "127.0.0.1:$P"
	kill "$scraper"; wait "$scraper" 2>/dev/null; scraper=""
	cat "$tmp/scraped" >>"$tmp/$name.scrapes$iv" 2>/dev/null || echo "? ?" >>"$tmp/$name.scrapes$iv"
}
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
report() {  # report NAME UNITS N
	local off on pair spread i
	off=$(median <"$tmp/$1.off")
	echo "$1 CPU-s off:        $(tr '\n' ' ' <"$tmp/$1.off")"
	spread=$(sort -n "$tmp/$1.off" | awk '{ v[NR] = $1 } END { print v[NR] / v[1] - 1 }')
	for i in $INTERVALS; do
		on=$(median <"$tmp/$1.on$i")
		pair=$(paste "$tmp/$1.on$i" "$tmp/$1.off" | awk '{ print $1 / $2 - 1 }' | median)
		echo "$1 CPU-s on ${i}s: $(tr '\n' ' ' <"$tmp/$1.on$i")  (scrapes/connections per run: $(tr ' \n' '/ ' <"$tmp/$1.scrapes$i"))"
		awk -v off="$off" -v on="$on" -v pair="$pair" -v spread="$spread" -v n="$3" -v u="$2" -v name="$1" -v iv="$i" 'BEGIN {
		    v = (pair <= 0.02 && on / off - 1 <= 0.02) ? "PASS" : (pair > 0.02 && on / off - 1 > 0.02) ? "OVER" : "UNRESOLVED (the two measures disagree)"
		    printf "%s, scraped every %s s: median %.3f CPU-s off, %.3f on (%.0f vs %.0f %s per CPU-second); cost: paired median %+.2f %%, of medians %+.2f %%; noise: off runs spread %.1f %% (budget <= 2 %%) %s\n",
		        name, iv, off, on, n / off, n / on, u, pair * 100, (on / off - 1) * 100, spread * 100, v }' |
		    tee -a "$tmp/summary"
	done
}
nothing() { :; }

echo "reps: $REPS per side, order reversed every other repetition; scrape intervals: $INTERVALS s; $(nproc) CPUs; load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- enrich ----
if has enrich; then
	cc -O2 -I"$root/common" -o "$tmp/mkraw" "$root/tests/tools/mkraw.c" "$root/common/thrift.c" \
	    "$root/common/base64.c" "$root/common/buf.c" -ljansson || exit 1
	"$tmp/mkraw" <"$root/tests/golden/enrich/requests.jsonl" >"$tmp/one.raw"
	awk -v n="$NE" '{ l[NR] = $0 } END { for (i = 0; i < n; i++) print l[i % NR + 1] }' "$tmp/one.raw" >"$tmp/in.raw"
	echo "enrich input: $NE records ($(wc -c <"$tmp/in.raw") bytes)"
	E="$BIN/enrich -q --schemas $root/schemas --resolver $root/tests/golden/enrich/resolver.json --stats-interval 0 --bad /dev/null"
	$E <"$tmp/in.raw" >/dev/null 2>&1          # warm the page cache
	measure enrich nothing "$tmp/in.raw" $E
	report enrich records "$NE"
fi

# the golden enriched events, each with its own event_id
events() { # events N FILE
	awk -F'\t' -v OFS='\t' -v n="$1" '
	    { l[NR] = $0 } END { for (i = 0; i < n; i++) { $0 = l[i % NR + 1];
	      $7 = sprintf("aaaaaaaa-1c4d-4e5f-8a7b-%012x", i); print } }' "$2"
}

# ---- es-sink ----
if has es-sink; then
	. "$root/tests/setup-es.sh"
	if [ -z "${ES_URL:-}" ]; then
		FURROW_ES_HEAP=${FURROW_ES_HEAP:-1g} es_start 240 || { echo "es-sink: no Elasticsearch: skipped"; exit 1; }
		es_up=1
	fi
	echo "es-sink engine: $ES_ENGINE $ES_VERSION at $ES_URL"
	events "$NS" "$root/tests/golden/es-sink/good.tsv" >"$tmp/events.tsv"
	echo "es-sink input: $NS events ($(wc -c <"$tmp/events.tsv") bytes)"
	S="$BIN/es-sink -q --url $ES_URL --index bench_metrics --batch-docs 500 --batch-bytes 1000000000 --stats-interval 0 --bad /dev/null"
	es_fresh() { curl -s -o /dev/null -X DELETE "$ES_URL/bench_metrics"; $S --setup-only || exit 1; }
	es_fresh; $S <"$tmp/events.tsv" || exit 1       # warm-up
	measure es-sink es_fresh "$tmp/events.tsv" $S
	report es-sink documents "$NS"
	[ "$es_up" = 1 ] && { es_cleanup; es_up=0; }
fi

# ---- s3-sink ----
if has s3-sink; then
	S3_WORKDIR=$tmp/s3 FURROW_ROOT=$root
	. "$root/tests/setup-s3.sh"
	s3_start || { echo "s3-sink: no S3Proxy: skipped"; exit 1; }
	s3_up=1
	s3_mb bench || exit 1
	echo "s3-sink server: S3Proxy at $S3_ENDPOINT"
	events "$N3" "$root/tests/golden/es-sink/good.tsv" >"$tmp/lines.tsv"
	echo "s3-sink input: $N3 lines ($(wc -c <"$tmp/lines.tsv") bytes)"
	S3="$BIN/s3-sink -q --bucket bench --endpoint $S3_ENDPOINT --path-style --spool $tmp/spool --prefix bench/ --rotate-records 20000 --stats-interval 0"
	s3_prep() { rm -rf "$tmp/spool"; }
	s3_prep; $S3 <"$tmp/lines.tsv" || exit 1                 # warm-up
	measure s3-sink s3_prep "$tmp/lines.tsv" $S3
	report s3-sink lines "$N3"
	s3_stop; s3_up=0
fi

# ---- pg-sink ----
if has pg-sink; then
	. "$root/tests/setup-pg.sh"
	pg_setup || { echo "pg-sink: no PostgreSQL: skipped"; exit 1; }
	pg_up=1
	echo "autovacuum = off" >>"$PG_DIR/data/postgresql.conf"
	pg_stop && pg_start || exit 1
	echo "pg-sink server: PostgreSQL at $PG_URL"
	G=$root/tests/golden/pg-sink
	events "$NP" "$G/golden.tsv" >"$tmp/pg.tsv"
	echo "pg-sink input: $NP events with their entities ($(wc -c <"$tmp/pg.tsv") bytes)"
	PS="$BIN/pg-sink -q --url $PG_URL --resolver $G/resolver.json --schemas $root/schemas --stats-interval 0 --bad /dev/null"
	$PS --setup <"$tmp/pg.tsv" || exit 1     # creates the tables; warm-up
	tables=$(pg_sql "SELECT string_agg(format('%I.%I', table_schema, table_name), ', ') FROM information_schema.tables WHERE table_schema = 'atomic'")
	echo "pg-sink tables: $tables"
	pg_prep() { pg_sql "TRUNCATE $tables" >/dev/null || exit 1; }
	measure pg-sink pg_prep "$tmp/pg.tsv" $PS
	report pg-sink events "$NP"
	loaded=$(pg_sql "SELECT count(*) FROM atomic.events")
	[ "$loaded" = "$NP" ] || echo "bench: pg-sink: $loaded events in atomic.events after the last run, not $NP" >&2
fi

echo "---- summary ----"
cat "$tmp/summary"
