#!/bin/bash
# fifo-setup.sh with Elasticsearch and S3 configured never loses an acknowledged event when a
# sink is killed (issue 10 §2). A steady 500 events/s with unique event ids, every 5th one a bad
# row (an unknown vendor path: an adapter_failures row that carries the event's id), and each of
# es-sink-good, es-sink-bad, s3-sink-good and s3-sink-bad killed with SIGKILL again and again:
#  A. FURROW_RESTART=on-failure: each death noticed and the sink restarted; the other sinks go on;
#  B. FURROW_RESTART=no: each death stops the pipeline in order; the next start resumes.
# Every kill comes after at least 100 more good events were answered 200. At the end every good
# id answered 200 must be in Elasticsearch's good index and in S3 under enriched/, and every bad
# one in the bad index and under bad/: none lost. (es-sink indexes with the event id as the
# document id, so Elasticsearch shows no duplicates; S3 does, and they are reported.)
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
. "$FURROW_ROOT/tests/setup-es.sh"
S3_WORKDIR=$T_TMP/s3 . "$FURROW_ROOT/tests/setup-s3.sh"

unavailable() {
	if [ "${CI:-}" = true ]; then fail "$1: $2"; else skip "$1" "$2"; fi
	done_testing; exit
}
cleanup_services() { es_cleanup >/dev/null 2>&1; s3_stop >/dev/null 2>&1; }
trap 'for p in $T_PIDS; do kill "$p" 2>/dev/null; done; for p in $T_PIDS; do wait "$p" 2>/dev/null; done; cleanup_services; t_cleanup' EXIT
es_start >"$T_TMP/es-start.log" 2>&1 || unavailable "Elasticsearch" "$(tail -n 3 "$T_TMP/es-start.log")"
s3_start >"$T_TMP/s3-start.log" 2>&1 || unavailable "S3 server" "$(tail -n 3 "$T_TMP/s3-start.log")"
s3_mb furrow-kill >/dev/null || unavailable "S3 bucket" "cannot create bucket"
ok "Elasticsearch $ES_VERSION at $ES_URL and S3 at $S3_ENDPOINT"

export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_STOP_TIMEOUT=60 FURROW_BIN
export FURROW_ES_URL=$ES_URL FURROW_S3_BUCKET=furrow-kill FURROW_S3_ENDPOINT=$S3_ENDPOINT
export FURROW_S3_REGION=$S3_REGION FURROW_ES_ARGS="--flush-ms 100" FURROW_S3_ARGS="--rotate-seconds 2"
export LOAD_BAD_EVERY=5
unset FURROW_PORT FURROW_RUN_DIR FURROW_KEEP_FILES
kills=${FURROW_TEST_KILLS:-10}
sinks="es-sink-good es-sink-bad s3-sink-good s3-sink-bad"

now_ms() { local t=${EPOCHREALTIME/./}; echo $(( ${t%???} )); }
restarted() { [ "$(pid_of "$1")" != "$2" ] && running "$1"; }

# ids INDEX: every id in the index (good: event_id; bad: the UUIDs in the row, the event's
# among them)
es_ids() {
	"$PYTHON" - "$ES_URL" "$1" <<'EOF'
import json, re, sys, urllib.request
url, index = sys.argv[1], sys.argv[2]
uuid = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
def post(path, body):
    req = urllib.request.Request(url + path, json.dumps(body).encode(),
                                 {"Content-Type": "application/json"})
    return json.load(urllib.request.urlopen(req))
urllib.request.urlopen(urllib.request.Request(url + "/" + index + "/_refresh", b"", method="POST"))
r = post("/" + index + "/_search?scroll=1m", {"size": 5000, "sort": ["_doc"]})
while r["hits"]["hits"]:
    for h in r["hits"]["hits"]:
        if index == "good":
            print(h["_source"]["event_id"])
        else:
            print("\n".join(set(uuid.findall(json.dumps(h["_source"])))))
    r = post("/_search/scroll", {"scroll": "1m", "scroll_id": r["_scroll_id"]})
EOF
}
# s3_ids PREFIX: the ids in every object under PREFIX (enriched: column 7, one line per event;
# bad/: the UUIDs of each row)
s3_ids() {
	local k
	for k in $(s3_ls furrow-kill "$1"); do
		s3_get furrow-kill "$k" "$T_TMP/obj.gz" || { echo "s3_get $k failed" >&2; continue; }
		if [ "$1" = enriched/ ]; then gunzip -c "$T_TMP/obj.gz" | cut -f 7
		else gunzip -c "$T_TMP/obj.gz" | grep -oE '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' | sort -u; fi
	done
}
# missing ACKED DELIVERED: ids of ACKED not in DELIVERED (a file of ids); duplicated: ids of
# ACKED in DELIVERED more than once
missing() { comm -23 <(sort -u "$1") <(sort -u "$2") | wc -l | tr -d ' '; }
duplicated() { sort "$2" | uniq -d | comm -12 - <(sort -u "$1") | wc -l | tr -d ' '; }
report() { # MODE: reconcile each sink's phase against Elasticsearch and S3
	local s f
	es_ids good >"$T_TMP/es.good"
	es_ids bad >"$T_TMP/es.bad"
	s3_ids enriched/ >"$T_TMP/s3.good"
	s3_ids bad/ >"$T_TMP/s3.bad"
	for s in $sinks; do
		f=$T_TMP/$1.$s.acked
		diag "$1: kill -9 of $s x $kills: answered 200: $(sort -u "$f" | wc -l) good, $(sort -u "$f.bad" | wc -l) bad;" \
			"missing: ES good $(missing "$f" "$T_TMP/es.good"), ES bad $(missing "$f.bad" "$T_TMP/es.bad")," \
			"S3 enriched $(missing "$f" "$T_TMP/s3.good"), S3 bad $(missing "$f.bad" "$T_TMP/s3.bad");" \
			"duplicated in S3 enriched: $(duplicated "$f" "$T_TMP/s3.good")"
		eq "$1: $s killed: every good event answered 200 is in Elasticsearch" 0 "$(missing "$f" "$T_TMP/es.good")"
		eq "$1: $s killed: every bad row answered 200 is in Elasticsearch" 0 "$(missing "$f.bad" "$T_TMP/es.bad")"
		eq "$1: $s killed: every good event answered 200 is in S3" 0 "$(missing "$f" "$T_TMP/s3.good")"
		eq "$1: $s killed: every bad row answered 200 is in S3" 0 "$(missing "$f.bad" "$T_TMP/s3.bad")"
	done
}

# ---- A: restart on failure ----
export FURROW_RESTART=on-failure FURROW_RESTART_MAX=3 FURROW_RESTART_STABLE=1
a=$T_TMP/A
check "A: pipeline starts with es-sink and s3-sink" launcher_start "$a"
for s in $sinks; do
	load_start "$T_TMP/A.$s.acked"
	up_since=$(now_ms)
	missed=""
	for i in $(seq 1 "$kills"); do
		acked_grows "$T_TMP/A.$s.acked" 100 || missed="$missed #$i:no-load"
		while [ $(( $(now_ms) - up_since )) -lt 1200 ]; do sleep 0.05; done
		old=$(pid_of "$s")
		kill -9 "$old"
		wait_for 30 restarted "$s" "$old" || missed="$missed #$i"
		up_since=$(now_ms)
	done
	eq "A: $s restarted after each of its $kills kills" "" "$missed"
	check "A: events flow after its last restart" acked_grows "$T_TMP/A.$s.acked" 200
	load_stop
	diag "A: load while $s was killed: $(cat "$T_TMP/load.json")"
	eq "A: $s: $kills deaths reported" "$kills" "$(grep -c "ERROR: $s was killed by signal 9" "$a.launcher.log")"
done
eq "A: no other stage died" "$((kills * 4))" "$(grep -c 'ERROR: .* was killed by signal 9' "$a.launcher.log")"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "A: clean stop" 0 $?
launcher_wait
eq "A: no stage left running" "" "$(alive_stages)"
eq "A: every sink read its log to the end" "" \
	"$(bash "$LAUNCHER" status | grep '^backlog' | grep -v ': 0 bytes$')"
report A
for f in good.tsv bad.json; do
	size=$(stat -c %s "$a/$f")
	diag "A: $f: $size bytes, $(allocated "$a/$f") on disk"
	check "A: $f is given back behind the sinks (at least 4 MB)" test $((size - $(allocated "$a/$f"))) -ge $((4 << 20))
done

# ---- B: no restart: each death stops the pipeline; the next start resumes ----
# (and FURROW_KEEP_FILES=1: what B appends to good.tsv stays on disk)
export FURROW_RESTART=no FURROW_KEEP_FILES=1
b=$T_TMP/B
cp -a "$a" "$b"     # the same logs and offsets: B goes on where A stopped
b_from=$(stat -c %s "$b/good.tsv")
launcher_start "$b" || fail "B: pipeline starts"
for s in $sinks; do
	load_start "$T_TMP/B.$s.acked"
	bad=""
	for i in $(seq 1 "$kills"); do
		[ -f "$b/run/ready" ] || launcher_start "$b" || bad="$bad #$i:start"
		acked_grows "$T_TMP/B.$s.acked" 100 || bad="$bad #$i:no-load"
		kill -9 "$(pid_of "$s")"
		launcher_wait
		[ "$LRC" = 1 ] || bad="$bad #$i:status=$LRC"
		[ -z "$(alive_stages)" ] || bad="$bad #$i:left:$(alive_stages)"
	done
	load_stop
	diag "B: load while $s was killed: $(cat "$T_TMP/load.json")"
	eq "B: each kill of $s stopped the pipeline (exit 1, nothing left running)" "" "$bad"
done
launcher_start "$b" || fail "B: final start"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "B: clean stop" 0 $?
launcher_wait
report B
eq "B: FURROW_KEEP_FILES=1: what B appended to good.tsv is all on disk" \
	$(( $(stat -c %s "$b/good.tsv") - b_from )) "$(allocated "$b/good.tsv" "$b_from")"
done_testing
