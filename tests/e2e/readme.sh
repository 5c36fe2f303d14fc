#!/bin/bash
# README.md, literally (issue 10 §1). In a fresh clone of this repository (plus the uncommitted
# changes of its tracked files), as a user with a clean environment:
#  1. the README's first command, `make run`, exactly as the README shows it (only the ports
#     set: FURROW_PORT, FURROW_INSPECT_PORT, FURROW_IGLU_PORT), then the "Try it" blocks read
#     from the README (their ports are the test's): events, inspect's Micro API, a schema
#     pushed to iglu-server and used at once; Ctrl-C
#     (SIGINT to the terminal's process group) stops it in order; furrow-data/ leaves
#     `git status` clean;
#  2. `make run` again, one more event, the README's `./fifo-setup.sh status` and its stop
#     command, `./fifo-setup.sh stop`: the pipeline resumed on the same data directory and stops
#     with 0;
#  3. the README's replay example, read from the README, against a real Elasticsearch (its URL
#     and the collector's port are this test's).
# The commands are taken from README.md, not copied here: change the README and this test runs
# the new commands.
. "$(dirname "$0")/../lib.sh"
. "$FURROW_ROOT/tests/setup-es.sh"
# make runs in its own session: stop it (and the pipeline) if the test ends early
trap '[ -z "${mpid:-}" ] || kill -INT -- "-$mpid" 2>/dev/null; make_wait 120 2>/dev/null; es_cleanup >/dev/null 2>&1; t_cleanup' EXIT

# block SECTION N: the Nth indented code block under "## SECTION" of the clone's README, one
# command per NUL-terminated record (continuation lines joined).
block() {
	python3 - "$clone/README.md" "$1" "$2" <<'EOF'
import sys
path, section, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
blocks, cur, inside = [], None, False
for line in open(path, encoding="utf-8").read().split("\n"):
    if line.startswith("## "):
        inside = line[3:].strip() == section
        cur = None
        continue
    if not inside:
        continue
    if line.startswith("    "):
        if cur is None:
            cur = []
            blocks.append(cur)
        cur.append(line[4:])
    else:
        cur = None
cmds, acc = [], ""
for line in blocks[n - 1]:
    acc += line
    if line.endswith("\\"):
        acc += "\n"
        continue
    cmds.append(acc)
    acc = ""
sys.stdout.write("".join(c + "\0" for c in cmds))
EOF
}
# A user's shell: no FURROW_* or MAKE* settings from the test harness, SIGINT not ignored (as
# in a terminal's foreground job), its own process group (what Ctrl-C is sent to).
as_user() { setsid env -i --default-signal=INT,QUIT PATH="$PATH" HOME="$HOME" LANG=C.UTF-8 "$@"; }
# make_run LOG: the README's first command in the clone, in the background, as a user; sets mpid
# (make's pid, which leads the process group Ctrl-C goes to)
make_run() {
	rm -f "$T_TMP/mpid"
	(cd "$clone" && as_user FURROW_PORT="$port" FURROW_INSPECT_PORT="$iport" FURROW_IGLU_PORT="$gport" bash -c 'echo $$ >"$0"; exec '"${first[0]}" "$T_TMP/mpid" \
		>"$1" 2>&1 &)
	wait_for 10 test -s "$T_TMP/mpid"
	mpid=$(cat "$T_TMP/mpid")
}
# make_wait: wait for make (not a child of this shell) to end
make_wait() { wait_for "$1" sh -c "! kill -0 $mpid 2>/dev/null"; }
ready_or_gone() { [ -f "$1" ] || ! kill -0 "$mpid" 2>/dev/null; }
stages_left() {
	local f left=""
	for f in "$1"/run/*.pid; do
		[ -e "$f" ] || continue
		sed 's/.*) //' "/proc/$(cat "$f")/stat" 2>/dev/null | grep -q '^[^ZX]' && left="$left $(basename "$f" .pid)"
	done
	echo "$left"
}

if ! git -C "$FURROW_ROOT" rev-parse HEAD >/dev/null 2>&1; then
	if [ "${CI:-}" = true ]; then fail "the source tree is a git checkout"; else skip "README in a fresh clone" "not a git checkout"; fi
	done_testing; exit
fi
clone=$T_TMP/clone
git clone -q --no-checkout "$FURROW_ROOT" "$clone" && git -C "$clone" checkout -q "$(git -C "$FURROW_ROOT" rev-parse HEAD)"
check "a fresh clone" test -f "$clone/README.md"
if [ -n "$(git -C "$FURROW_ROOT" status --porcelain --untracked-files=no)" ]; then
	git -C "$FURROW_ROOT" diff HEAD --binary | git -C "$clone" apply --whitespace=nowarn
	check "the uncommitted changes of tracked files applied" test $? = 0
fi
# make check has just built this tree (with -Werror): give the clone that build output, newer
# than its sources, so that the README's `make run` below relinks at most instead of compiling
# everything again (minutes of CPU inside make check's 30-minute budget). `make run` itself is
# run exactly as written; FURROW_README_FRESH_BUILD=1 makes it build from nothing.
if [ "${FURROW_README_FRESH_BUILD:-0}" != 1 ] && [ -d "$FURROW_ROOT/build" ] && [ -d "$FURROW_ROOT/bin" ]; then
	tar -C "$FURROW_ROOT" --exclude=build/san --exclude=build/test-logs --exclude=build/tests \
	    --exclude=build/jvm --exclude=build/fuzz -cf - build bin | tar -C "$clone" -xmf -
	diag "build output copied from $FURROW_ROOT (FURROW_README_FRESH_BUILD=1 builds from nothing)"
fi
status_before=$(git -C "$clone" status --porcelain)

# ---- 1. make run, Try it, Ctrl-C ----
mapfile -d '' first < <(block "The two commands" 1)
eq "the README's first command" "make run" "${first[0]}"
port=$(free_port) iport=$(free_port) gport=$(free_port)
# a README command with the test's ports
ported() { local c=${1//8080/$port}; c=${c//9090/$iport}; echo "${c//8081/$gport}"; }
make_run "$T_TMP/run1.log"
if wait_for 900 ready_or_gone "$clone/furrow-data/run/ready" && [ -f "$clone/furrow-data/run/ready" ]; then
	ok "make run: the pipeline is ready (data directory furrow-data/)"
else
	fail "make run: the pipeline is ready"; tail -n 30 "$T_TMP/run1.log" | sed 's/^/# /'
	done_testing; exit
fi

mapfile -d '' try < <(block "Try it" 1)
check "Try it: two requests and a look at good.tsv" test "${#try[@]}" = 3
for c in "${try[@]}"; do diag "Try it: ${c//$'\n'/ }"; done
out=$(cd "$clone" && bash -c "$(ported "${try[0]}")" && bash -c "$(ported "${try[1]}")")
eq "Try it: the page view is answered 200, the structured event ok" "200 ok" "$(echo $out)"
lines() { [ "$(wc -l <"$clone/furrow-data/good.tsv" 2>/dev/null || echo 0)" -ge "$1" ]; }
check "both events reach good.tsv" wait_for 10 lines 2
out=$(cd "$clone" && bash -c "${try[2]}")
eq "Try it: app_id and event of the last two events" "demo page_view| struct" \
	"$(echo "$out" | awk -F'\t' '{ s = s (NR > 1 ? "|" : "") $1 " " $3 } END { print s }')"
tstamps_and_ids() { # collector_tstamp "YYYY-MM-DD HH:MM:SS.mmm", event_id a UUID
	echo "$1" | awk -F'\t' 'NF != 4 || $2 !~ /^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9:.]+$/ ||
		$4 !~ /^[0-9a-f-]+$/ || length($4) != 36 { bad = 1 } END { exit bad }'
}
check "Try it: collector_tstamp and a UUID event_id" tstamps_and_ids "$out"

mapfile -d '' see < <(block "Try it" 2)
check "See your events: two requests to inspect" test "${#see[@]}" = 2
out=$(cd "$clone" && bash -c "$(ported "${see[0]}")")
eq "inspect: /micro/all waits for the two events" '{"total":2,"good":2,"bad":0,"timedOut":false}' "$out"
eq "inspect: the structured event's action" play "$(cd "$clone" && bash -c "$(ported "${see[1]}")")"

mapfile -d '' push < <(block "Try it" 3)
check "Push your own schema: push, send, look at good and bad" test "${#push[@]}" = 4
eq "iglu-server: the schema is created with the generated super key" \
    '{"message":"Schema created","updated":false,"location":"iglu:com.example/button_click/jsonschema/1-0-0","status":201}' \
    "$(cd "$clone" && bash -c "$(ported "${push[0]}")")"
eq "an event of the new schema and an invalid one, sent at once" ok \
    "$(cd "$clone" && bash -c "$(ported "${push[1]}")")"
eq "the valid one is good, with the pushed schema" '{"label":"Buy"}' \
    "$(cd "$clone" && bash -c "$(ported "${push[2]}")")"
eq "the invalid one is bad, with a readable reason" \
    'iglu:com.example/button_click/jsonschema/1-0-0: $.label: integer found, string expected' \
    "$(cd "$clone" && bash -c "$(ported "${push[3]}")")"
check "the pushed schema is a plain file in the data directory" \
    test -s "$clone/furrow-data/iglu/schemas/com.example/button_click/jsonschema/1-0-0"

kill -INT -- "-$mpid"      # Ctrl-C
check "Ctrl-C: make ends" make_wait 120
check "Ctrl-C: the launcher stopped in order with status 0" grep -q 'stopped (status 0)' "$T_TMP/run1.log"
eq "Ctrl-C: no stage left running" "" "$(stages_left "$clone/furrow-data")"
eq "furrow-data/ does not show in git status" "$status_before" "$(git -C "$clone" status --porcelain)"

# ---- 2. make run again, the README's stop command ----
stop_cmd=$(grep -o '`./fifo-setup.sh stop`' "$clone/README.md" | head -n 1 | tr -d '`')
eq "the README's stop command" "./fifo-setup.sh stop" "$stop_cmd"
make_run "$T_TMP/run2.log"
wait_for 300 ready_or_gone "$clone/furrow-data/run/ready"
check "make run again: ready" test -f "$clone/furrow-data/run/ready"
eq "one more page view" 200 "$(cd "$clone" && bash -c "$(ported "${try[0]}")")"
check "it joins the three of the first run in good.tsv" wait_for 10 lines 4
status_cmd=$(grep -o '`./fifo-setup.sh status`' "$clone/README.md" | head -n 1 | tr -d '`')
eq "the README's status command" "./fifo-setup.sh status" "$status_cmd"
shows_counters() { # (the stages log their counters every 10 s)
	out=$(cd "$clone" && as_user bash -c "$status_cmd" 2>&1) || return 1
	echo "$out" | grep -q '^enrich .* running *lines [0-9]' && echo "$out" | grep -q 'raw.log group enrich: [0-9]* bytes'
}
check "$status_cmd exits 0 and shows enrich's counters and backlog" wait_for 30 shows_counters
(cd "$clone" && as_user bash -c "$stop_cmd" >"$T_TMP/stop.log" 2>&1)
eq "$stop_cmd exits 0" 0 $?
check "make run ends after the stop" make_wait 60
check "make run exits 0 after the stop (no error from make)" sh -c "! grep -q '^make: \*\*\*' '$T_TMP/run2.log'"
eq "no stage left running" "" "$(stages_left "$clone/furrow-data")"

# ---- 3. the replay example, against a real Elasticsearch ----
mapfile -d '' replay < <(block "Try it" 4)
for c in "${replay[@]}"; do diag "replay: ${c//$'\n'/ }"; done
if ! es_start >"$T_TMP/es-start.log" 2>&1; then
	if [ "${CI:-}" = true ]; then fail "Elasticsearch for the replay example"; else skip "the replay example" "no Elasticsearch: $(tail -n 1 "$T_TMP/es-start.log")"; fi
	done_testing; exit
fi
rport=$(free_port)
script=""
for c in "${replay[@]}"; do
	c=${c//8080/$rport}
	c=${c//http:\/\/localhost:9200/$ES_URL}
	script="$script$c"$'\n'
	# what a person does between the lines: wait for the server to answer, and for it to end
	case "${c%%#*}" in
	*'&'*) script="$script"'for i in $(seq 100); do curl -sf http://127.0.0.1:'"$rport"'/health >/dev/null && break; sleep 0.1; done'$'\n' ;;
	*'kill %1'*) script="$script"'wait %1'$'\n' ;;
	esac
done
(cd "$clone" && bash -c "$script" >"$T_TMP/replay.log" 2>&1)
eq "replay: the capture holds the page view" 1 "$(wc -l <"$clone/capture.raw")"
eq "replay: events.tsv holds it enriched (131 columns)" "1 131" \
	"$(wc -l <"$clone/events.tsv" | tr -d ' ') $(awk -F'\t' '{print NF}' "$clone/events.tsv")"
eq "replay: no bad rows" 0 "$(cat "$clone/bad.json" 2>/dev/null | wc -l)"
curl -s -XPOST "$ES_URL/good/_refresh" >/dev/null
eq "replay: the event is in Elasticsearch's good index" 1 \
	"$(curl -s "$ES_URL/good/_count" -H 'Content-Type: application/json' \
		-d '{"query":{"term":{"page_urlpath":"/replay"}}}' | jq -r .count)"
[ "$T_FAILED" = 0 ] || for f in run1 run2 stop replay; do sed "s/^/# $f: /" "$T_TMP/$f.log"; done
done_testing
