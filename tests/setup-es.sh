# tests/setup-es.sh: a real Elasticsearch or OpenSearch for furrow's tests, from the
# integ-test-zip distributions on Maven Central (sinks.md §2.11). Source it from bash:
#
#   . tests/setup-es.sh
#   es_start || exit          # fetch if needed, start, wait until ready; sets ES_URL
#   curl "$ES_URL/_cat/indices"
#   es_stop                   # stop it (ES_RUN_DIR and its data are kept for es_start)
#   es_start                  # start again on the same port with the same data
#   es_cleanup                # stop if running and delete the run directory
#
# Settings (environment, all optional):
#   FURROW_ES_ENGINE   elasticsearch (default) or opensearch
#   FURROW_ES_VERSION  default 8.17.0 for elasticsearch, 2.18.0 for opensearch (both run on
#                      Java 17; Elasticsearch 9.x and OpenSearch 3.x need Java 21)
#   FURROW_CACHE       download cache, default <repo>/.cache (git-ignored)
#   FURROW_ES_HEAP     JVM heap, default 512m
# Exported after es_start: ES_URL (http://127.0.0.1:<port>), ES_PORT, ES_PID, ES_RUN_DIR,
# ES_ENGINE, ES_VERSION. Functions return non-zero (with a message on stderr) on failure, e.g.
# when Maven Central is unreachable; callers then skip their tests.
#
# How it runs: the zip is fetched once with `mvn dependency:copy` and unpacked into the cache;
# every start uses a fresh copy of config/ in ES_RUN_DIR (jvm.options without the gc log),
# path.data and path.logs in ES_RUN_DIR, discovery.type=single-node, loopback only, a free
# ephemeral HTTP port, security off (8.x), disk thresholds off. As root it runs the engine as
# user nobody, since both engines refuse to run as root. Readiness is polled
# (GET /_cluster/health?wait_for_status=yellow) against a deadline; there are no fixed sleeps.

. "$(dirname "${BASH_SOURCE[0]}")/fetchlock.sh"
_es_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ES_ENGINE=${FURROW_ES_ENGINE:-elasticsearch}
if [ "$ES_ENGINE" = opensearch ]; then
	ES_VERSION=${FURROW_ES_VERSION:-2.18.0}
	_es_group=org.opensearch.distribution.integ-test-zip
else
	ES_VERSION=${FURROW_ES_VERSION:-8.17.0}
	_es_group=org.elasticsearch.distribution.integ-test-zip
fi
_es_cache=${FURROW_CACHE:-$_es_root/.cache}/$ES_ENGINE
ES_HOME_DIR=$_es_cache/$ES_ENGINE-$ES_VERSION
ES_URL=${ES_URL:-}
ES_PORT=${ES_PORT:-}
ES_PID=${ES_PID:-}
ES_RUN_DIR=${ES_RUN_DIR:-}

_es_log() { echo "setup-es: $*" >&2; }

# es_fetch: download and unpack once; later calls use the cache.
_es_fetch_unlocked() {
	[ -x "$ES_HOME_DIR/bin/$ES_ENGINE" ] && return 0
	command -v mvn >/dev/null 2>&1 || { _es_log "mvn not found"; return 1; }
	command -v unzip >/dev/null 2>&1 || { _es_log "unzip not found"; return 1; }
	mkdir -p "$_es_cache"
	local zip=$_es_cache/$ES_ENGINE-$ES_VERSION.zip
	if [ ! -s "$zip" ]; then
		_es_log "fetching $_es_group:$ES_ENGINE:$ES_VERSION:zip from Maven Central"
		mvn -q -B dependency:copy -Dartifact="$_es_group:$ES_ENGINE:$ES_VERSION:zip" \
		    -DoutputDirectory="$_es_cache" >&2 || { _es_log "mvn failed"; rm -f "$zip"; return 1; }
	fi
	local tmp=$_es_cache/unpack.$$
	rm -rf "$tmp" && mkdir -p "$tmp" && unzip -q "$zip" -d "$tmp" || { rm -rf "$tmp"; return 1; }
	rm -rf "$ES_HOME_DIR"
	mv "$tmp/$ES_ENGINE-$ES_VERSION" "$ES_HOME_DIR" && rm -rf "$tmp"
}

_es_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_es_java_home() {
	if [ -n "${JAVA_HOME:-}" ]; then echo "$JAVA_HOME"; return; fi
	local j; j=$(readlink -f "$(command -v java)") || return 1
	dirname "$(dirname "$j")"
}

# es_ready: 0 when the HTTP API answers and the cluster is at least yellow.
es_ready() {
	curl -fsS -m 2 -o /dev/null "$ES_URL/_cluster/health?wait_for_status=yellow&timeout=1s" 2>/dev/null
}

# es_start [DEADLINE_SECONDS]: start (fetching first if needed) and wait until ready.
es_start() {
	local deadline jh user=""
	es_fetch || return 1
	# The deadline is for starting, not downloading (a fetch can wait for another test's).
	deadline=$(( $(date +%s) + ${1:-120} ))
	jh=$(_es_java_home) || { _es_log "java not found"; return 1; }
	if [ -z "$ES_RUN_DIR" ]; then
		ES_RUN_DIR=$(mktemp -d "${TMPDIR:-/tmp}/furrow-$ES_ENGINE.XXXXXX")
		cp -R "$ES_HOME_DIR/config" "$ES_RUN_DIR/config"
		sed -i '/Xlog:gc/d;/Xloggc/d;/HeapDump/d;/ErrorFile/d;/GCLogFile/d;/PrintGC/d;/PrintTenuring/d' \
		    "$ES_RUN_DIR/config/jvm.options"
		mkdir -p "$ES_RUN_DIR/data" "$ES_RUN_DIR/logs" "$ES_RUN_DIR/tmp"
	fi
	[ -n "$ES_PORT" ] || ES_PORT=$(_es_free_port)
	ES_URL=http://127.0.0.1:$ES_PORT
	local tport; tport=$(_es_free_port)
	local -a args=(-d -p "$ES_RUN_DIR/pid" -Ediscovery.type=single-node
	    -Epath.data="$ES_RUN_DIR/data" -Epath.logs="$ES_RUN_DIR/logs"
	    -Ehttp.host=127.0.0.1 -Ehttp.port="$ES_PORT" -Etransport.port="$tport"
	    -Ecluster.routing.allocation.disk.threshold_enabled=false -Enode.name=furrow-test)
	[ "$ES_ENGINE" = elasticsearch ] && args+=(-Expack.security.enabled=false)
	if [ "$(id -u)" = 0 ]; then
		user=nobody
		chown -R nobody "$ES_RUN_DIR"
	fi
	rm -f "$ES_RUN_DIR/pid"
	local heap=${FURROW_ES_HEAP:-512m}
	local -a envs=(ES_JAVA_HOME="$jh" OPENSEARCH_JAVA_HOME="$jh"
	    ES_PATH_CONF="$ES_RUN_DIR/config" OPENSEARCH_PATH_CONF="$ES_RUN_DIR/config"
	    ES_TMPDIR="$ES_RUN_DIR/tmp" OPENSEARCH_TMPDIR="$ES_RUN_DIR/tmp"
	    ES_JAVA_OPTS="-Xms$heap -Xmx$heap" OPENSEARCH_JAVA_OPTS="-Xms$heap -Xmx$heap")
	if [ -n "$user" ]; then
		(cd "$ES_RUN_DIR" && runuser -u "$user" -- env "${envs[@]}" \
		    "$ES_HOME_DIR/bin/$ES_ENGINE" "${args[@]}") >"$ES_RUN_DIR/start.log" 2>&1
	else
		(cd "$ES_RUN_DIR" && env "${envs[@]}" "$ES_HOME_DIR/bin/$ES_ENGINE" "${args[@]}") \
		    >"$ES_RUN_DIR/start.log" 2>&1
	fi || { _es_log "$ES_ENGINE failed to start:"; tail -n 20 "$ES_RUN_DIR/start.log" >&2; return 1; }
	while [ ! -s "$ES_RUN_DIR/pid" ]; do
		[ "$(date +%s)" -ge "$deadline" ] && { _es_log "no pid file"; return 1; }
		sleep 0.1
	done
	ES_PID=$(cat "$ES_RUN_DIR/pid")
	while ! es_ready; do
		if ! kill -0 "$ES_PID" 2>/dev/null || [ "$(date +%s)" -ge "$deadline" ]; then
			_es_log "$ES_ENGINE did not become ready:"; tail -n 20 "$ES_RUN_DIR/start.log" >&2
			es_stop
			return 1
		fi
		sleep 0.2
	done
	export ES_URL ES_PORT ES_PID ES_RUN_DIR ES_ENGINE ES_VERSION
	_es_log "$ES_ENGINE $ES_VERSION ready at $ES_URL (pid $ES_PID)"
}

# es_stop: stop the running engine (SIGTERM, then SIGKILL after 30 s) and wait for it to exit.
es_stop() {
	[ -n "$ES_PID" ] || return 0
	local deadline=$(( $(date +%s) + 30 ))
	kill "$ES_PID" 2>/dev/null
	while kill -0 "$ES_PID" 2>/dev/null; do
		if [ "$(date +%s)" -ge "$deadline" ]; then kill -9 "$ES_PID" 2>/dev/null; break; fi
		sleep 0.1
	done
	# the port must be free again before a restart reuses it
	while curl -s -m 1 -o /dev/null "$ES_URL" 2>/dev/null; do
		[ "$(date +%s)" -ge $(( deadline + 5 )) ] && break
		sleep 0.1
	done
	ES_PID=
}

# es_cleanup: stop and delete the run directory (data and logs).
es_cleanup() {
	es_stop
	[ -n "$ES_RUN_DIR" ] && rm -rf "$ES_RUN_DIR"
	ES_RUN_DIR= ES_PORT= ES_URL=
}

# es_refresh INDEX...: make everything indexed so far searchable.
es_refresh() {
	local i
	for i in "$@"; do curl -fsS -o /dev/null -X POST "$ES_URL/$i/_refresh" || return 1; done
}

# es_count INDEX [QUERY_JSON]: number of documents (after a refresh).
es_count() {
	es_refresh "$1" >/dev/null 2>&1
	if [ $# -ge 2 ]; then
		curl -fsS -H 'Content-Type: application/json' "$ES_URL/$1/_count" -d "$2" | jq -r .count
	else
		curl -fsS "$ES_URL/$1/_count" | jq -r .count
	fi
}

# es_fetch: the one-time download, serialised between tests running at once.
es_fetch() { fetch_locked _es_fetch_unlocked; }
