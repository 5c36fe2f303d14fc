# tests/fetchlock.sh: serialise the one-time downloads of tests that run at once (tests/run.sh
# runs several tests concurrently; two of them fetching Elasticsearch, Kafka or npm packages into
# the same cache would unpack over each other). Sourced by the tests/setup-*.sh scripts.
#
#   fetch_locked CMD [ARG...]   run CMD holding an exclusive lock on the download cache
#
# CMD runs in a subshell, so variables it sets do not survive: the fetch functions only write
# files (and print a path, which the caller may capture).
_fetchlock_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fetch_locked() {
	local lock=${FURROW_CACHE:-$_fetchlock_root/.cache}/.fetch.lock
	mkdir -p "${lock%/*}"
	( flock 9 || exit 1; "$@" ) 9>"$lock"
}
