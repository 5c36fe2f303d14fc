# tests/setup-s3.sh: a real S3 API server on loopback for furrow's tests (sinks.md §3.9).
#
# The server is S3Proxy (org.gaul:s3proxy, jar-with-dependencies from Maven Central, fetched once
# by mvn into .cache/s3proxy/, Maven's own downloads in .cache/m2/), filesystem backend.
# Unlike s3rver (npm), whose authentication middleware checks only that the access key id
# exists and leaves SigV4 signatures unverified ("Signature version 4 calculation is
# unimplemented" in s3rver 3.7.1), S3Proxy verifies SigV4 signatures (a wrong secret gives
# 403 SignatureDoesNotMatch, an unknown key 403 InvalidAccessKeyId) and compares
# x-amz-content-sha256 with the body (400 XAmzContentSHA256Mismatch), so the tests exercise
# furrow's signing for real. It does not implement session tokens (501 NotImplemented for
# x-amz-security-token), so AWS_SESSION_TOKEN is not exercised here.
#
# Interface (source it from bash; needs java, mvn, curl):
#   . tests/setup-s3.sh
#   s3_start            start on a free 127.0.0.1 port; exports S3_ENDPOINT (http://127.0.0.1:P),
#                       S3_PORT, S3_REGION, S3_DATA (backend directory), S3_PID,
#                       AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY. Returns non-zero if the server
#                       is not answering within S3_START_TIMEOUT seconds (default 60).
#   s3_stop             stop it (the data stays in S3_DATA)
#   s3_restart          s3_stop then start again on the same port and data
#   s3_mb BUCKET        create a bucket
#   s3_ls BUCKET [PFX]  list object keys, one per line (sorted)
#   s3_get BUCKET KEY OUTFILE
#   s3_put BUCKET KEY INFILE
#   s3_curl ARGS...     curl signed with the test credentials (GET/DELETE without a body)
# Variables read: S3_WORKDIR (where data and logs go; default a mktemp dir), FURROW_ROOT.
. "$(dirname "${BASH_SOURCE[0]}")/fetchlock.sh"
S3_PROXY_VERSION=${S3_PROXY_VERSION:-2.1.0}
S3_REGION=${S3_REGION:-us-east-1}
AWS_ACCESS_KEY_ID=${S3_TEST_KEY_ID:-AKIDFURROWTEST}
AWS_SECRET_ACCESS_KEY=${S3_TEST_SECRET:-furrow-test-secret}
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY S3_REGION
_s3_root=${FURROW_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
S3_EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

# The jar, fetched once into .cache/s3proxy (idempotent).
_s3_jar_unlocked() {
	jar="$_s3_root/.cache/s3proxy/s3proxy-$S3_PROXY_VERSION-jar-with-dependencies.jar"
	if [ ! -s "$jar" ]; then
		mkdir -p "$_s3_root/.cache/s3proxy"
		mvn -q -B -Dmaven.repo.local="$_s3_root/.cache/m2" dependency:copy \
		    -Dartifact="org.gaul:s3proxy:$S3_PROXY_VERSION:jar:jar-with-dependencies" \
		    -DoutputDirectory="$_s3_root/.cache/s3proxy" >&2 || return 1
	fi
	echo "$jar"
}

_s3_free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

_s3_launch() {
	cat >"$S3_WORKDIR/s3proxy.properties" <<PROPS
s3proxy.endpoint=http://127.0.0.1:$S3_PORT
s3proxy.authorization=aws-v2-or-v4
s3proxy.identity=$AWS_ACCESS_KEY_ID
s3proxy.credential=$AWS_SECRET_ACCESS_KEY
jclouds.provider=filesystem
jclouds.filesystem.basedir=$S3_DATA
PROPS
	# fds 3-9 closed: a test's FIFO write end must not stay open in the server.
	java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -jar "$S3_JAR" --properties "$S3_WORKDIR/s3proxy.properties" \
	    >>"$S3_WORKDIR/s3proxy.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
	S3_PID=$!
	export S3_PID
	deadline=$(( $(date +%s) + ${S3_START_TIMEOUT:-60} ))
	until curl -s -o /dev/null "$S3_ENDPOINT/"; do
		if [ "$(date +%s)" -ge "$deadline" ] || ! kill -0 "$S3_PID" 2>/dev/null; then
			echo "setup-s3: S3Proxy did not start; log: $S3_WORKDIR/s3proxy.log" >&2
			tail -n 20 "$S3_WORKDIR/s3proxy.log" >&2
			return 1
		fi
		sleep 0.1
	done
}

s3_start() {
	S3_JAR=$(s3_jar) || return 1
	S3_WORKDIR=${S3_WORKDIR:-$(mktemp -d "${TMPDIR:-/tmp}/furrow-s3.XXXXXX")}
	S3_DATA=$S3_WORKDIR/data
	mkdir -p "$S3_DATA"
	S3_PORT=$(_s3_free_port)
	S3_ENDPOINT=http://127.0.0.1:$S3_PORT
	export S3_WORKDIR S3_DATA S3_PORT S3_ENDPOINT S3_JAR
	_s3_launch
}

s3_stop() {
	[ -n "${S3_PID:-}" ] || return 0
	kill "$S3_PID" 2>/dev/null
	wait "$S3_PID" 2>/dev/null
	S3_PID=
}

s3_restart() {
	s3_stop
	_s3_launch
}

s3_curl() {
	curl -sS --aws-sigv4 "aws:amz:$S3_REGION:s3" -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
	    -H "x-amz-content-sha256: $S3_EMPTY_SHA" "$@"
}

# Keys hold only A-Z a-z 0-9 . _ - = / (sinks.md §3.3): only '=' needs escaping.
_s3_path() { printf '%s' "$1" | sed 's/=/%3D/g'; }

s3_mb() {
	code=$(s3_curl -o /dev/null -w '%{http_code}' -X PUT "$S3_ENDPOINT/$1")
	[ "$code" = 200 ]
}

s3_ls() {
	# The prefix goes in the query already encoded: libcurl 7.x signs the query as written.
	pfx=$(printf '%s' "${2:-}" | sed 's|/|%2F|g; s/=/%3D/g')
	body=$(s3_curl "$S3_ENDPOINT/$1?list-type=2&max-keys=1000&prefix=$pfx") || return 1
	case "$body" in *"<IsTruncated>true</IsTruncated>"*)
		echo "setup-s3: s3_ls: more than 1000 keys" >&2; return 1 ;;
	esac
	printf '%s' "$body" | grep -o '<Key>[^<]*</Key>' | sed 's/<Key>//; s/<\/Key>//' | sort
}

s3_get() {
	code=$(s3_curl -o "$3" -w '%{http_code}' "$S3_ENDPOINT/$1/$(_s3_path "$2")")
	[ "$code" = 200 ]
}

s3_put() {
	sha=$(sha256sum "$3" | cut -d' ' -f1)
	code=$(curl -sS -o /dev/null -w '%{http_code}' --aws-sigv4 "aws:amz:$S3_REGION:s3" \
	    -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $sha" \
	    -T "$3" "$S3_ENDPOINT/$1/$(_s3_path "$2")")
	[ "$code" = 200 ]
}

# s3_jar: the one-time download, serialised between tests running at once.
s3_jar() { fetch_locked _s3_jar_unlocked; }
