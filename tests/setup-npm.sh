# tests/setup-npm.sh: the npm test clients, installed once into .cache/npm (git-ignored).
# Source it from bash and call npm_setup; it exports NODE_PATH so that `node script.js` finds
# the packages. Pinned versions keep runs repeatable; the second run installs nothing.
#   @snowplow/node-tracker, @snowplow/browser-tracker (+ link click plugin): real trackers
#   playwright-core: drives Debian's chromium (no browser download)
#   snowplow-analytics-sdk: Snowplow's JavaScript Analytics SDK, the reference TSV parser
. "$(dirname "${BASH_SOURCE[0]}")/fetchlock.sh"
_npm_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
NPM_PREFIX=${FURROW_CACHE:-$_npm_root/.cache}/npm
NPM_PACKAGES="@snowplow/node-tracker@4.8.0 @snowplow/browser-tracker@4.6.8
	@snowplow/browser-plugin-link-click-tracking@4.6.8 playwright-core@1.65.1
	snowplow-analytics-sdk@0.1.0"

# _npm_install: the one-time install (serialised between tests running at once).
_npm_install() {
	local stamp="$NPM_PREFIX/.furrow-installed" want
	want=$(echo $NPM_PACKAGES)
	mkdir -p "$NPM_PREFIX"
	if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
		# shellcheck disable=SC2086
		npm install --prefix "$NPM_PREFIX" --no-audit --no-fund --loglevel=error $want >&2 ||
			{ echo "setup-npm.sh: npm install failed" >&2; return 1; }
		echo "$want" >"$stamp"
	fi
}

npm_setup() {
	fetch_locked _npm_install || return 1
	export NODE_PATH="$NPM_PREFIX/node_modules${NODE_PATH:+:$NODE_PATH}"
}
