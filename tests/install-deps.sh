#!/bin/sh
# Install what furrow needs on Debian: `build` for compiling, `test` for the whole test suite
# (the test Elasticsearch and the npm test clients are fetched by tests/setup-*.sh themselves).
# As root this runs apt-get; otherwise it prints the exact command and fails if anything is missing.
set -eu
mode=${1:-build}
pkgs="make gcc pkg-config libevent-dev libjansson-dev libcurl4-openssl-dev zlib1g-dev libpcre2-dev libyaml-dev libmaxminddb-dev libssl-dev libpq-dev librdkafka-dev"
# duktape-dev: the source of the JavaScript enrichment's engine (built by the Makefile)
pkgs="$pkgs duktape-dev"
if [ "$mode" = test ]; then
	pkgs="$pkgs check curl jq python3 clang libclang-rt-14-dev uap-core libmaxmind-db-writer-perl
	      nodejs npm default-jre-headless maven unzip chromium nginx-light wrk procps psmisc xxd strace postgresql kcat openssl libnss3-tools prometheus"
fi
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# nodejs/npm/java/maven may come from outside Debian's packages on some machines: accept the commands.
for c in node:nodejs npm:npm java:default-jre-headless mvn:maven; do
	cmd=${c%%:*}; pkg=${c#*:}
	if command -v "$cmd" >/dev/null 2>&1; then
		missing=$(echo "$missing" | tr ' ' '\n' | grep -vx "$pkg" | tr '\n' ' ')
	fi
done
missing=$(echo $missing)
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ]; then
	echo "install-deps: installing: $missing" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
else
	echo "install-deps: missing packages; run: sudo apt-get install -y $missing" >&2
	exit 69
fi
