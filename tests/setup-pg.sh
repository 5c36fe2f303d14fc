# A throwaway PostgreSQL for the tests and the benchmark: Debian's postgresql package, a new
# cluster in a temporary directory (initdb), started with pg_ctl on a free port of 127.0.0.1
# and a Unix socket in that directory. PostgreSQL refuses to run as root, so as root the
# cluster belongs to the `postgres` system user the package creates (or, without it, to a
# `furrowpg` user made here); otherwise to the current user.
#
# Source it, then:
#   pg_setup            initdb + start; sets PG_DIR, PG_PORT, PG_URL (TCP, role furrow, no
#                       password in it), PGPASSWORD (exported), PSQL (superuser over the socket)
#   pg_sql SQL          run SQL as the superuser in database furrow, unaligned, tuples only
#   pg_stop / pg_start  stop (fast) and start the same cluster
#   pg_cleanup          stop and remove everything (also on EXIT when the caller traps it)
# Settings: PG_FSYNC=off (default: on) for tests that never crash PostgreSQL itself.

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}
PG_DIR= PG_PORT= PG_URL= PG_OWNER= PSQL=

pg_as() {   # run a command as the cluster's owner
	if [ -n "$PG_OWNER" ]; then runuser -u "$PG_OWNER" -- "$@"; else "$@"; fi
}

pg_setup() {
	[ -x "$PG_BIN/initdb" ] || { echo "setup-pg: no PostgreSQL server (apt-get install postgresql)" >&2; return 1; }
	if [ "$(id -u)" = 0 ]; then
		PG_OWNER=postgres
		if ! id postgres >/dev/null 2>&1; then
			id furrowpg >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin furrowpg
			PG_OWNER=furrowpg
		fi
	fi
	PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/furrow-pg.XXXXXX") || return 1
	chmod 755 "$PG_DIR"
	[ -z "$PG_OWNER" ] || chown "$PG_OWNER" "$PG_DIR"
	PG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
	pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
	    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
	# the tests' role logs in over TCP with a password (scram), the superuser over the socket
	cat >"$PG_DIR/data/pg_hba.conf" <<-EOF
	local all all trust
	host  all postgres 127.0.0.1/32 reject
	host  all all 127.0.0.1/32 scram-sha-256
	EOF
	cat >>"$PG_DIR/data/postgresql.conf" <<-EOF
	listen_addresses = '127.0.0.1'
	port = $PG_PORT
	unix_socket_directories = '$PG_DIR'
	max_connections = 20
	shared_buffers = 64MB
	fsync = ${PG_FSYNC:-on}
	log_min_messages = warning
	EOF
	pg_start || return 1
	PSQL="psql -X -q -h $PG_DIR -p $PG_PORT -U postgres"
	export PGPASSWORD=furrow-test-pw
	$PSQL -d postgres -c "CREATE ROLE furrow LOGIN PASSWORD '$PGPASSWORD'" \
	    -c "CREATE DATABASE furrow OWNER furrow" >/dev/null || return 1
	PG_URL="postgresql://furrow@127.0.0.1:$PG_PORT/furrow"
}

pg_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 start >/dev/null ||
	    { echo "setup-pg: PostgreSQL did not start" >&2; tail -n 20 "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1
}

# pg_sql SQL: run one statement; with no argument, read the SQL from stdin (a statement longer
# than an argument may be, e.g. thousands of event ids in an IN list).
pg_sql() {
	if [ $# -gt 0 ]; then
		$PSQL -d furrow -A -t -v ON_ERROR_STOP=1 -c "$1"
	else
		$PSQL -d furrow -A -t -v ON_ERROR_STOP=1 -f -
	fi
}

pg_cleanup() {
	[ -n "$PG_DIR" ] || return 0
	[ -f "$PG_DIR/data/postmaster.pid" ] && pg_stop
	rm -rf "$PG_DIR"
	PG_DIR=
}
