# tests/setup-kinesis.sh: a Kinesis API server and a DynamoDB API server on loopback for furrow's
# tests: kinesalite and dynalite from npm (in-memory stores), installed once into
# $FURROW_CACHE/npm-kinesis. Source it from bash:
#
#   . tests/setup-kinesis.sh
#   kinesis_start || exit      # install if needed, start both, wait until they answer; exports
#                              # FURROW_KINESIS_ENDPOINT, FURROW_DYNAMODB_ENDPOINT, test credentials
#   kinesis_stream NAME SHARDS # create a stream (ACTIVE when this returns)
#   kinesis_cleanup            # stop both
#
# What the local servers do not reproduce (so the tests cannot show it): SigV4 signature checks
# (they check that the Authorization header is well formed, not the signature), per-shard
# throughput limits and ProvisionedThroughputExceeded (a test that needs them puts a fault
# proxy in front), resharding's delays (a split is instant here), iterator expiry after five
# minutes, DynamoDB's capacity limits and eventual consistency.
. "$(dirname "${BASH_SOURCE[0]}")/fetchlock.sh"
_kin_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
KIN_PREFIX=${FURROW_CACHE:-$_kin_root/.cache}/npm-kinesis
KIN_PACKAGES="kinesalite@3.3.3 dynalite@4.0.0"
KIN_PIDS=

_kin_log() { echo "setup-kinesis: $*" >&2; }

_kinesis_install_unlocked() {
	local stamp="$KIN_PREFIX/.furrow-installed"
	mkdir -p "$KIN_PREFIX"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$KIN_PACKAGES" ]; then
		# shellcheck disable=SC2086
		npm install --prefix "$KIN_PREFIX" --no-audit --no-fund --loglevel=error $KIN_PACKAGES >&2 ||
			{ _kin_log "npm install failed"; return 1; }
		echo "$KIN_PACKAGES" >"$stamp"
	fi
}

_kin_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# _kin_wait URL SERVICE: poll until the server answers a listing, with a deadline
_kin_wait() {
	local deadline=$(($(date +%s) + 30))
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if [ "$2" = kinesis ]; then
			python3 "$_kin_root/tests/tools/kinesis.py" shards furrow-probe-none 2>&1 |
			    grep -q ResourceNotFound && return 0
		else
			curl -s -o /dev/null -X POST "$1" && return 0
		fi
		sleep 0.1
	done
	return 1
}

kinesis_start() {
	command -v node >/dev/null 2>&1 || { _kin_log "node not found"; return 1; }
	kinesis_install || return 1
	local kp dp
	kp=$(_kin_port) dp=$(_kin_port)
	KIN_LOG_DIR=${T_TMP:-$(mktemp -d)}
	"$KIN_PREFIX/node_modules/.bin/kinesalite" --port "$kp" --createStreamMs 0 \
	    --deleteStreamMs 0 --updateStreamMs 0 --shardLimit 1000 >"$KIN_LOG_DIR/kinesalite.log" 2>&1 &
	KIN_PIDS="$KIN_PIDS $!"
	"$KIN_PREFIX/node_modules/.bin/dynalite" --port "$dp" --createTableMs 0 --deleteTableMs 0 \
	    --updateTableMs 0 >"$KIN_LOG_DIR/dynalite.log" 2>&1 &
	KIN_PIDS="$KIN_PIDS $!"
	export FURROW_KINESIS_ENDPOINT=http://127.0.0.1:$kp/
	export FURROW_DYNAMODB_ENDPOINT=http://127.0.0.1:$dp/
	export FURROW_KINESIS_REGION=us-east-1
	export AWS_ACCESS_KEY_ID=AKIDFURROWTEST AWS_SECRET_ACCESS_KEY=furrow-test-secret
	unset AWS_SESSION_TOKEN AWS_PROFILE
	_kin_wait "$FURROW_KINESIS_ENDPOINT" kinesis || { _kin_log "kinesalite did not answer"; return 1; }
	_kin_wait "$FURROW_DYNAMODB_ENDPOINT" dynamodb || { _kin_log "dynalite did not answer"; return 1; }
}

kinesis_stream() { python3 "$_kin_root/tests/tools/kinesis.py" create "$1" "${2:-1}"; }

kinesis_cleanup() {
	local p
	for p in $KIN_PIDS; do kill "$p" 2>/dev/null; done
	for p in $KIN_PIDS; do wait "$p" 2>/dev/null; done
	KIN_PIDS=
}

# kinesis_install: the one-time download, serialised between tests running at once.
kinesis_install() { fetch_locked _kinesis_install_unlocked; }
