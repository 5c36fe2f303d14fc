#!/bin/sh
# iglu-server's folder under stress: concurrent pushes of one key (one process and two sharing
# the folder), kill -9 in the middle of a write (at an exact system call, by strace's fault
# injection, and at random moments), and files changed behind the server's back.
. "$(dirname "$0")/../lib.sh"

IGS="$FURROW_BIN/iglu-server"
SUPER=4ed2d87a-6da5-48e8-a23b-36a26e61f974
export IGLU_SUPER_API_KEY=$SUPER
DIR="$T_TMP/reg"
F="$DIR/schemas/com.acme/c/jsonschema/1-0-0"

body() { printf '{"type":"object","description":"%s","properties":{"p":{"type":"string","maxLength":5,"description":"%s"}}}' "$1" "$1"; }
put() { # put PORT DESCRIPTION -> HTTP status
	curl -s -o /dev/null -w '%{http_code}' -X PUT "http://127.0.0.1:$1/api/schemas/com.acme/c/jsonschema/1-0-0?isPublic=true" \
	    -H "apikey: $SUPER" -H 'Content-Type: application/json' -d "$(body "$2")"
}
start() { # start PORT [flags]: the pid in $srv
	p=$1; shift
	"$IGS" -d "$DIR" -p "$p" --bind 127.0.0.1 --stats-interval 0 "$@" 2>>"$T_TMP/server.log" &
	srv=$!; T_PIDS="$T_PIDS $srv"
	wait_for 10 curl -sf "http://127.0.0.1:$p/api/meta/health"
}
stop() { kill "$1" 2>/dev/null; wait "$1" 2>/dev/null; }
desc_of() { jq -r .description "$F" 2>/dev/null; }
temps() { find "$DIR" -name '.*.tmp-*' | wc -l; }

# ---- concurrent pushes of one key, patches refused: exactly one wins ----
P1=$(free_port)
start "$P1"
pids=""
for i in $(seq 1 20); do (put "$P1" "v$i" >"$T_TMP/st.$i") & pids="$pids $!"; done
for p in $pids; do wait "$p"; done
codes=$(cat "$T_TMP"/st.* | fold -w3 | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
eq "20 concurrent pushes, patches refused: one 201, nineteen 409" "201x1 409x19 " "$codes"
winner=$(desc_of)
check "the file is one whole push ($winner)" sh -c 'jq -e ".properties.p.description == .description and (.description | test(\"^v[0-9]+$\"))" "$1" >/dev/null' _ "$F"
stop "$srv"

# ---- patches allowed, two processes on one folder: serialized by the folder's flock ----
rm -rf "$DIR"; rm -f "$T_TMP"/st.*
P2=$(free_port)
start "$P1" --allow-patches; s1=$srv
start "$P2" --allow-patches; s2=$srv
pids=""
for i in $(seq 1 30); do
	port=$P1; [ $((i % 2)) -eq 0 ] && port=$P2
	(put "$port" "w$i" >"$T_TMP/st.$i") & pids="$pids $!"
done
for p in $pids; do wait "$p"; done
codes=$(cat "$T_TMP"/st.* | fold -w3 | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
eq "30 pushes through two servers, patches allowed: one 201, 29 updates" "200x29 201x1 " "$codes"
check "the file is one whole push" sh -c 'jq -e ".properties.p.description == .description" "$1" >/dev/null' _ "$F"
eq "both servers serve the last write" "$(desc_of) $(desc_of)" \
    "$(curl -s "http://127.0.0.1:$P1/api/schemas/com.acme/c/jsonschema/1-0-0" | jq -r .description) $(curl -s "http://127.0.0.1:$P2/api/schemas/com.acme/c/jsonschema/1-0-0" | jq -r .description)"
eq "no temporary file is left" 0 "$(temps)"
stop "$s1"; stop "$s2"

# ---- kill -9 at exact points of a patch (strace -e inject) ----
if strace -o /dev/null true 2>/dev/null; then
	for point in "rename:when=2" "rename:when=1" "fsync:when=2" "fsync:when=1"; do
		rm -rf "$DIR"
		start "$P1" --allow-patches
		put "$P1" old >/dev/null
		stop "$srv"
		sc=${point%%:*}
		strace -f -o /dev/null -e trace="$sc" -e inject="$sc:signal=SIGKILL:${point#*:}" \
		    "$IGS" -d "$DIR" -p "$P1" --bind 127.0.0.1 --stats-interval 0 --allow-patches 2>>"$T_TMP/server.log" &
		tr_pid=$!
		wait_for 10 curl -sf "http://127.0.0.1:$P1/api/meta/health"
		code=$(put "$P1" new)
		wait "$tr_pid" 2>/dev/null
		eq "killed at $point: the push got no answer" 000 "$code"
		eq "killed at $point: the old version is intact" old "$(desc_of)"
		start "$P1" --allow-patches
		eq "killed at $point: after a restart the old version is served" old \
		    "$(curl -s "http://127.0.0.1:$P1/api/schemas/com.acme/c/jsonschema/1-0-0" | jq -r .description)"
		eq "killed at $point: the restart removed the temporary" 0 "$(temps)"
		eq "killed at $point: the next push works" 200 "$(put "$P1" newer)"
		stop "$srv"
	done
else
	skip "kill -9 at exact system calls" "strace cannot trace here"
fi

# ---- kill -9 at random moments while patches stream in ----
rm -rf "$DIR"
start "$P1" --allow-patches
put "$P1" a0 >/dev/null
stop "$srv"
bad=0
for round in 1 2 3 4 5 6 7 8; do
	start "$P1" --allow-patches
	( i=0; while put "$P1" "r$round-$i" >/dev/null; do i=$((i + 1)); done ) &
	pusher=$!
	sleep "0.$(shuf -i 1-4 -n 1)"    # a random moment, not a readiness wait
	kill -9 "$srv"; wait "$srv" 2>/dev/null; wait "$pusher" 2>/dev/null
	jq -e '.properties.p.description == .description' "$F" >/dev/null 2>&1 || { bad=$((bad + 1)); diag "round $round: $(head -c 200 "$F")"; }
done
eq "8 random kill -9 during pushes: the file is always one whole version" 0 "$bad"
start "$P1" --allow-patches
eq "and the server starts on it" 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/schemas/com.acme/c/jsonschema/1-0-0")"
eq "with no temporary left" 0 "$(temps)"

# ---- files changed behind the server's back are seen at once ----
G="$DIR/schemas/com.acme/hand/jsonschema/1-0-0"
mkdir -p "$(dirname "$G")"
printf '{"$schema":"http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#","self":{"vendor":"com.acme","name":"hand","format":"jsonschema","version":"1-0-0"},"type":"object","description":"one"}\n' >"$G"
eq "a file put there by hand is served, public" one "$(curl -s "http://127.0.0.1:$P1/api/schemas/com.acme/hand/jsonschema/1-0-0" | jq -r .description)"
sed -i 's/"one"/"two, a longer one"/' "$G"
eq "an edit is served at once" "two, a longer one" "$(curl -s "http://127.0.0.1:$P1/api/schemas/com.acme/hand/jsonschema/1-0-0" | jq -r .description)"
echo '{broken' >"$G"
eq "a broken file: 500, not a crash" 500 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/schemas/com.acme/hand/jsonschema/1-0-0")"
rm "$G"
eq "a removed file: 404" 404 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$P1/api/schemas/com.acme/hand/jsonschema/1-0-0")"
eq "the listing skips what is not a schema key" '["iglu:com.acme/c/jsonschema/1-0-0"]' \
    "$(mkdir -p "$DIR/schemas/com.acme/c/jsonschema/sub" && touch "$DIR/schemas/com.acme/c/jsonschema/1-0" "$DIR/schemas/com.acme/c/jsonschema/.hidden" && curl -s "http://127.0.0.1:$P1/api/schemas" | jq -c .)"
stop "$srv"
done_testing
