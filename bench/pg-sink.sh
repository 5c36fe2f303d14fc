#!/bin/bash
# bench/pg-sink.sh: rows per CPU-second of pg-sink against psql's \copy of the same rows,
# already converted, into the same tables of a throwaway PostgreSQL (tests/setup-pg.sh).
#
#   bench/pg-sink.sh [EVENTS] [REPS]        # defaults 100000 and 3
#
# Two cases:
#   atomic    the golden events of tests/golden/pg-sink/golden.tsv with their contexts,
#             derived contexts and self-describing event emptied: atomic.events alone;
#   shredded  the golden events as they are: atomic.events and five entity tables.
# The baseline: the rows pg-sink would load, converted beforehand and not timed (the atomic
# ones by awk from the TSV, checked equal to `pg-sink --dump`; the entity rows by
# `pg-sink --dump`), loaded with one `psql -c "\copy ..."` per table over the same TCP
# connection settings (role furrow, password from PGPASSWORD). pg-sink reads the TSV and does
# everything itself, batches of its default size.
#
# CPU: the client's user+sys time (/usr/bin/time), and PostgreSQL's own: the change, over the
# run, in the postmaster's CPU plus its children's (utime+stime+cutime+cstime of the postmaster,
# which collects the exited backends, plus utime+stime of the live auxiliary processes, from
# /proc). Autovacuum is off so it does not land in one run or the other. The tables are
# emptied (TRUNCATE, not timed) before each run; runs alternate (pg-sink first in odd
# repetitions, psql first in even ones). Reported per run and as the median of the ratios.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
N=${1:-100000}
REPS=${2:-3}
SINK=${FURROW_BIN:-$root/bin}/pg-sink
G=$root/tests/golden/pg-sink
tmp=$(mktemp -d "${TMPDIR:-/tmp}/furrow-bench.XXXXXX")
. "$root/tests/setup-pg.sh"
cleanup() { pg_cleanup; rm -rf "$tmp"; }
trap cleanup EXIT

[ -x "$SINK" ] || { echo "bench: build first (make)" >&2; exit 1; }
command -v /usr/bin/time >/dev/null || { echo "bench: needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
pg_setup || exit 1
echo "autovacuum = off" >>"$PG_DIR/data/postgresql.conf"
pg_stop && pg_start || exit 1
TCK=$(getconf CLK_TCK)
PM=$(head -n 1 "$PG_DIR/data/postmaster.pid")
echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') at $PG_URL (data in $PG_DIR), CPU ticks/s $TCK"

# ---- inputs ----
gen() { # gen N EMPTY_JSON: N distinct events from the golden ones
	awk -F '\t' -v OFS='\t' -v n="$1" -v empty="$2" '{ l[NR] = $0 } END {
	    for (i = 0; i < n; i++) { $0 = l[i % NR + 1]; $7 = sprintf("bbbbbbbb-0000-4000-8000-%012d", i);
	    if (empty) { $53 = ""; $59 = ""; $123 = "" } print } }' "$G/golden.tsv"
}
gen "$N" 1 >"$tmp/atomic.tsv"
gen "$N" 0 >"$tmp/shredded.tsv"
gen 24 0 | sed 's/bbbbbbbb/cccccccc/' >"$tmp/warm.tsv"
# the atomic rows, converted by awk: the three JSON columns out, empty as \N, '\' doubled
awk -F '\t' '{ out = ""; n = 0; for (i = 1; i <= NF; i++) { if (i == 53 || i == 59 || i == 123) continue;
    v = $i; gsub(/\\/, "&&", v); if (v == "") v = "\\N"; out = out (n++ ? "\t" : "") v } print out }' \
    "$tmp/atomic.tsv" >"$tmp/copy.atomic.events"
"$SINK" --dump --resolver "$G/resolver.json" --schemas "$root/schemas" <"$tmp/atomic.tsv" 2>/dev/null | cut -f 2- >"$tmp/dump.atomic"
cmp -s "$tmp/dump.atomic" "$tmp/copy.atomic.events" || { echo "bench: awk's rows differ from pg-sink --dump" >&2; exit 1; }
"$SINK" --dump --resolver "$G/resolver.json" --schemas "$root/schemas" <"$tmp/shredded.tsv" 2>/dev/null >"$tmp/dump.shredded"
awk -F '\t' -v d="$tmp/copy.shredded." '{ t = $1; sub(/^[^\t]*\t/, ""); print > (d t) }' "$tmp/dump.shredded"
rows_atomic=$N
rows_shredded=$(wc -l <"$tmp/dump.shredded")
echo "input: $N events; atomic: $(wc -c <"$tmp/atomic.tsv") bytes of TSV, $rows_atomic rows;" \
    "shredded: $(wc -c <"$tmp/shredded.tsv") bytes, $rows_shredded rows in $(ls "$tmp"/copy.shredded.* | wc -l) tables"

# the tables, made by pg-sink itself (events with its unique index, the entity tables)
"$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$root/schemas" --setup --stats-interval 0 -q <"$tmp/warm.tsv" || exit 1
tables=$(pg_sql "SELECT string_agg('atomic.' || quote_ident(tablename), ', ') FROM pg_tables WHERE schemaname = 'atomic'")

copy_args() { # copy_args CASE: the baseline, one \copy per table file, into COPY_ARGS
	local f t
	COPY_ARGS=()
	for f in "$tmp"/copy."$1".*; do
		t=${f##*/copy."$1".}
		COPY_ARGS+=(-c "\\copy atomic.\"$t\" FROM '$f'")
	done
}
server_ticks() { # the postmaster's CPU (with the backends it collected) and its live children's
	python3 - "$PM" <<-'EOF'
	import os, sys
	pm = sys.argv[1]
	def f(pid):
	    with open("/proc/%s/stat" % pid) as s:
	        return s.read().rsplit(")", 1)[1].split()
	t = f(pm)
	n = sum(int(x) for x in t[11:15])
	for pid in os.listdir("/proc"):
	    if pid.isdigit() and pid != pm:
	        try:
	            s = f(pid)
	        except OSError:
	            continue
	        if s[1] == pm:
	            n += int(s[11]) + int(s[12])
	print(n)
	EOF
}
quiet() { # no client backend left: every one the postmaster started for a client has exited
	! ps -o args= --ppid "$PM" | grep -qE '^postgres: (furrow|postgres) '
}
calc() { awk "BEGIN { printf \"%.3f\", $1 }"; }

# run NAME CASE: one timed run; sets R_ROWS R_WALL R_CLIENT R_SERVER
run() {
	pg_sql "TRUNCATE $tables" >/dev/null
	wait_quiet
	local s0 s1
	s0=$(server_ticks)
	if [ "$1" = pg-sink ]; then
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" "$SINK" --url "$PG_URL" --resolver "$G/resolver.json" --schemas "$root/schemas" \
		    --stats-interval 0 --bad "$tmp/bad.json" <"$tmp/$2.tsv" 2>"$tmp/sink.err" || { cat "$tmp/sink.err"; exit 1; }
	else
		copy_args "$2"
		/usr/bin/time -f '%e %U %S' -o "$tmp/time" psql -X -q -v ON_ERROR_STOP=1 "$PG_URL" \
		    "${COPY_ARGS[@]}" || exit 1
	fi
	wait_quiet
	s1=$(server_ticks)
	R_ROWS=$(pg_sql "SELECT (SELECT count(*) FROM atomic.events)" )
	[ "$2" = shredded ] && R_ROWS=$(( R_ROWS + $(pg_sql "SELECT sum(n) FROM (
	    SELECT count(*) n FROM atomic.com_snowplowanalytics_snowplow_web_page_1 UNION ALL
	    SELECT count(*) FROM atomic.com_acme_user_context_1 UNION ALL SELECT count(*) FROM atomic.com_acme_button_click_1
	    UNION ALL SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_ua_parser_context_1 UNION ALL
	    SELECT count(*) FROM atomic.com_snowplowanalytics_snowplow_link_click_1) x") ))
	wait_quiet
	read -r R_WALL u s <"$tmp/time"
	R_CLIENT=$(calc "$u + $s")
	R_SERVER=$(calc "($s1 - $s0) / $TCK")
}
wait_quiet() { local i; for i in $(seq 1 200); do quiet && return 0; sleep 0.05; done; echo "bench: backends linger" >&2; }
psql_copy_shown() { local a; copy_args "$1"; for a in "${COPY_ARGS[@]}"; do printf " '%s'" "$a"; done; }
echo
echo "commands (each run starts on empty tables, TRUNCATE not timed):"
echo "  pg-sink: /usr/bin/time -f '%e %U %S' $SINK --url $PG_URL --resolver $G/resolver.json --schemas $root/schemas --stats-interval 0 --bad $tmp/bad.json < $tmp/CASE.tsv"
echo "  psql (atomic):  /usr/bin/time -f '%e %U %S' psql -X -q -v ON_ERROR_STOP=1 $PG_URL$(psql_copy_shown atomic)"
echo "  psql (shredded): /usr/bin/time -f '%e %U %S' psql -X -q -v ON_ERROR_STOP=1 $PG_URL$(psql_copy_shown shredded)"
echo "  PostgreSQL's CPU: /proc/$PM/stat (utime+stime+cutime+cstime) + /proc/<child>/stat (utime+stime) of its children, before and after"
echo

for c in atomic shredded; do
	ratios_total="" ratios_client=""
	for rep in $(seq 1 "$REPS"); do
		if [ $((rep % 2)) = 1 ]; then order="pg-sink psql"; else order="psql pg-sink"; fi
		for who in $order; do
			run "$who" "$c"
			tot=$(calc "$R_CLIENT + $R_SERVER")
			rps=$(calc "$R_ROWS / $tot")
			printf '%-8s rep %d %-7s rows %7d  wall %6.2f s  client %6.2f s  server %6.2f s  total %6.2f s  %8.0f rows/CPU-s\n' \
			    "$c" "$rep" "$who" "$R_ROWS" "$R_WALL" "$R_CLIENT" "$R_SERVER" "$tot" "$rps"
			eval "rps_${who/-/_}=$rps; cl_${who/-/_}=$R_CLIENT; sv_${who/-/_}=$R_SERVER"
		done
		grep -q ' bad=0 ' "$tmp/sink.err" || echo "  pg-sink wrote bad rows: $(grep ' exit: ' "$tmp/sink.err")"
		r=$(calc "$rps_pg_sink / $rps_psql")
		ratios_total="$ratios_total $r"
		printf '%-8s rep %d ratio pg-sink/psql (rows per CPU-second, client + server): %s  (server CPU %s vs %s s, client CPU %s vs %s s)\n' \
		    "$c" "$rep" "$r" "$sv_pg_sink" "$sv_psql" "$cl_pg_sink" "$cl_psql"
	done
	med=$(echo $ratios_total | tr ' ' '\n' | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
	echo "$c: median ratio $med over $REPS repetitions$([ "$c" = atomic ] && echo " (goal >= 0.8)")"
	echo
done
