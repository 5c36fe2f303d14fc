#!/bin/bash
# fifo-setup.sh's embedded default on a full disk (issue 10 §2): the data directory on a small
# tmpfs, a steady 500 events/s with unique event ids. When the disk fills, the collector answers
# 503 (trackers send again) and /sink-health says 503, enrich waits for room (it does not exit),
# no stage dies and the launcher does not stop; when space returns everything resumes, and every
# event answered 200 is in good.tsv.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/tools/launcher.sh"
export FURROW_BIND=127.0.0.1 FURROW_STATS_INTERVAL=1 FURROW_BIN
unset FURROW_ES_URL FURROW_S3_BUCKET FURROW_PORT FURROW_RUN_DIR FURROW_RESTART FURROW_STOP_TIMEOUT

mnt=$T_TMP/disk
mkdir -p "$mnt"
if [ "$(id -u)" != 0 ] || ! mount -t tmpfs -o size=64m tmpfs "$mnt" 2>/dev/null; then
	if [ "${CI:-}" = true ]; then fail "mount a 64 MB tmpfs (CI runs as root)"; else skip "full disk" "needs root to mount a tmpfs"; fi
	done_testing; exit
fi
cleanup_disk() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	for p in $T_PIDS; do wait "$p" 2>/dev/null; done
	umount "$mnt" 2>/dev/null || umount -l "$mnt"
	t_cleanup
}
trap cleanup_disk EXIT

sink_health() { curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$FURROW_PORT/sink-health"; }
sink_health_is() { [ "$(sink_health)" = "$1" ]; }
avail() { df -B1 --output=avail "$mnt" | tail -n 1 | tr -d ' '; }

# 64 MB: the steady load adds ~250 KB/s to raw.log, so the collector alone cannot fill the disk
# however slowly a loaded machine runs the steps below; the filler fills it, and removing the
# filler gives enrich room for all it has to write (with 4 MB, a slow run let raw.log take the
# whole disk before the filler, and no room came back).
data=$mnt/data
check "pipeline starts with its data directory on a 64 MB tmpfs" launcher_start "$data"
load_start "$T_TMP/acked"
check "load flows" acked_grows "$T_TMP/acked" 300
# enrich falls behind (held for a moment), then the disk fills: both the collector's appends to
# raw.log and enrich's to good.tsv find no room
kill -STOP "$(pid_of enrich)"
check "enrich behind: events still answered 200" acked_grows "$T_TMP/acked" 200
fill() { # all but a few KB (the collector's appends race with it: try again)
	local i
	for i in $(seq 1 50); do
		fallocate -l $(( $(avail) - 8192 )) "$mnt/filler" 2>/dev/null && return 0
		rm -f "$mnt/filler"
	done
	return 1
}
check "the disk is filled" fill
check "the disk fills: /sink-health answers 503" wait_for 30 sink_health_is 503
kill -CONT "$(pid_of enrich)"
n_full=$(acked "$T_TMP/acked")
stays_unhealthy() { # SECONDS: /sink-health answers 503 all that time
	local end=$(( $(date +%s) + $1 + 1 ))
	while [ "$(date +%s)" -lt "$end" ]; do sink_health_is 503 || return 1; sleep 0.1; done
}
check "while full: /sink-health stays 503 (2 s)" stays_unhealthy 2
check "while full: no event answered 200" test "$(acked "$T_TMP/acked")" -le $((n_full + 4))
check "while full: the launcher and every stage keep running" \
	test "$(alive_stages)" = " collector enrich iglu-server inspect" -a -n "$(proc_running "$LPID" && echo y)"
diag "answered 200 before the disk filled: $n_full; free: $(avail) bytes"
rm -f "$mnt/filler"
check "room again: /sink-health answers 200" wait_for 30 sink_health_is 200
check "room again: events flow" acked_grows "$T_TMP/acked" 500
# (its "waiting for room" line could not be written: its log is on the full disk too)
check "enrich waited for room and went on" grep -q 'output written again after' "$data/run/enrich.log"
load_stop
diag "load: $(cat "$T_TMP/load.json")"
check "trackers were answered 503 while the disk was full" test "$(jq '.answers["503"] // 0' "$T_TMP/load.json")" -gt 0
eq "no stage died" "" "$(grep 'ERROR' "$data.launcher.log")"
bash "$LAUNCHER" stop >/dev/null 2>&1
eq "clean stop" 0 $?
launcher_wait
reconcile "$T_TMP/acked" "$data/good.tsv"
diag "answered 200: $N_ACKED, delivered: $N_DELIVERED, lost: $N_LOST, duplicates: $N_DUPS"
eq "every event answered 200 is in good.tsv" 0 "$N_LOST"
eq "every good line is whole (131 columns)" "" "$(awk -F'\t' 'NF != 131 {print NR": "NF; exit}' "$data/good.tsv")"
if [ "$T_FAILED" != 0 ]; then
	diag "launcher:"; sed 's/^/#   /' "$data.launcher.log"
	for s in collector enrich; do diag "$s:"; tail -n 15 "$data/run/$s.log" | sed 's/^/#   /'; done
	ls -ls "$data" "$data"/raw.log.offsets | sed 's/^/#   /'
	cat "$data"/raw.log.offsets/* | sed 's/^/#   /'
fi
done_testing
