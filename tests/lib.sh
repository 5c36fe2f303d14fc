# Shared helpers for furrow's shell tests (tests/integration, tests/e2e).
# Source it, call ok/fail/check, and end with `done_testing`. Output is TAP-like so that
# tests/run.sh can count it: "ok N - name", "not ok N - name", "ok N - name # SKIP why".
set -u
FURROW_ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FURROW_BIN=${FURROW_BIN:-$FURROW_ROOT/bin}
T_N=0
T_FAILED=0
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/furrow-test.XXXXXX")
T_PIDS=""

ok()   { T_N=$((T_N + 1)); echo "ok $T_N - $*"; }
fail() { T_N=$((T_N + 1)); T_FAILED=$((T_FAILED + 1)); echo "not ok $T_N - $*"; }
skip() { T_N=$((T_N + 1)); echo "ok $T_N - $1 # SKIP ${2:-}"; }
diag() { echo "# $*"; }

# check NAME COMMAND...: one test that passes when COMMAND succeeds.
check() {
	name=$1; shift
	if "$@"; then ok "$name"; else fail "$name"; fi
}

# eq NAME EXPECTED ACTUAL
eq() {
	if [ "$2" = "$3" ]; then ok "$1"; else fail "$1"; diag "expected: $2"; diag "actual:   $3"; fi
}

# wait_for SECONDS COMMAND...: poll COMMAND every 50 ms until it succeeds or the deadline passes.
wait_for() {
	deadline=$(( $(date +%s) + $1 )); shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.05
	done
	return 0
}

# A free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# bg COMMAND...: start in the background and remember the pid for cleanup.
bg() { "$@" & T_PIDS="$T_PIDS $!"; }

t_cleanup() {
	for p in $T_PIDS; do kill "$p" 2>/dev/null; done
	for p in $T_PIDS; do wait "$p" 2>/dev/null; done
	rm -rf "$T_TMP"
}
trap t_cleanup EXIT

done_testing() {
	echo "1..$T_N"
	[ "$T_FAILED" -eq 0 ]
}
