# lib-pg.sh: a throwaway PostgreSQL 15 for the end-to-end tests that need a
# database.  Sourced after lib.sh:
#
#   . "$IG_SRCDIR/tests/e2e/lib.sh"
#   . "$IG_SRCDIR/tests/e2e/lib-pg.sh"
#   start_pg                      # exports PG_PORT, PG_DATA, DATABASE_URL
#   psql_q 'select 1'             # prints 1
#
# start_pg runs initdb into a new folder (as the postgres user when the
# tests run as root: the server refuses to run as root, and root's $TMP is
# private), starts the server on a free port of 127.0.0.1 with its unix
# socket inside that folder, and creates the database "integration".
# Authentication is "trust", which is safe only because nothing but the
# loopback address and a socket in a 0700 folder is listened on.  A missing
# server is a failure ("not ok" and exit 1), never a skip.
#
# The server is stopped (immediate mode) and its folder removed when the
# test exits, also on failure, INT or TERM.  A watchdog in its own session
# does the same if the test shell dies without running its EXIT trap
# (SIGKILL, e.g. after a meson timeout).

PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DIR=			# the server's folder: data, socket, log
PG_DATA=
PG_PORT=
PG_SOCKDIR=
PG_WATCHDOG=$TMP/pg-watchdog.pid
export PGCONNECT_TIMEOUT=10
# Nothing from the caller's environment may redirect the client.
unset PGHOST PGHOSTADDR PGPORT PGUSER PGDATABASE PGPASSWORD PGPASSFILE \
    PGSERVICE PGSERVICEFILE PGOPTIONS PGSSLMODE PGTARGETSESSIONATTRS \
    PGDATA DATABASE_URL 2>/dev/null || :

# pg_fail DESCRIPTION [FILE...]: a "not ok" line, FILEs as diagnostics, exit 1.
pg_fail() {
	ok 1 "$1"
	shift
	for f in "$@"; do
		[ -s "$f" ] && diag "$f"
	done
	exit 1
}

# pg_as CMD...: runs CMD as the postgres user when root, else as ourselves,
# from / so that the server user can always read its working directory.
pg_as() {
	if [ "$(id -u)" -eq 0 ]; then
		(cd / && runuser -u postgres -- "$@")
	else
		(cd / && "$@")
	fi
}

# pg_free_port: a free TCP port on 127.0.0.1.
pg_free_port() {
	"$PY" -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# pg_postmaster_pid: the running postmaster's pid, or nothing.
pg_postmaster_pid() {
	[ -n "$PG_DATA" ] && [ -f "$PG_DATA/postmaster.pid" ] || return 0
	pid=$(head -n 1 "$PG_DATA/postmaster.pid" 2>/dev/null)
	case $pid in
	'' | *[!0-9]*) return 0 ;;
	esac
	kill -0 "$pid" 2>/dev/null && echo "$pid"
	return 0
}

# pg_server_start: starts the server in $PG_DATA on $PG_PORT; status of pg_ctl.
pg_server_start() {
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_DIR/server.log" -w -t 30 \
	    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_SOCKDIR \
-c unix_socket_permissions=0700 -c fsync=off -c synchronous_commit=off \
-c full_page_writes=off -c max_connections=100" \
	    start > "$TMP/pg_ctl.out" 2>&1
}

# pg_watchdog: stops the server and removes its folder once this shell is
# gone.  Runs in its own session, with no tie to the test's output.
pg_watchdog() {
	command -v setsid > /dev/null 2>&1 || return 0
	# shellcheck disable=SC2016 # expanded by the watchdog shell
	setsid sh -c 'echo $$ > "$4"
while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
pid=$(head -n 1 "$2/postmaster.pid" 2>/dev/null)
case $pid in ""|*[!0-9]*) ;; *)
	kill -QUIT "$pid" 2>/dev/null
	i=0
	while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill -KILL "$pid" 2>/dev/null ;;
esac
rm -rf "$3"' sh "$$" "$PG_DATA" "$PG_DIR" "$PG_WATCHDOG" \
	    < /dev/null > /dev/null 2>&1 &
}

# start_pg: initdb, start, create the database "integration"; exports
# PG_PORT, PG_DATA, PG_SOCKDIR and DATABASE_URL.
start_pg() {
	[ -z "$PG_DIR" ] || pg_fail "start_pg: PostgreSQL is already started"
	for b in initdb pg_ctl postgres createdb; do
		[ -x "$PG_BIN/$b" ] ||
		    pg_fail "PostgreSQL 15 server binaries in $PG_BIN ($b is missing; run scripts/setup.sh)"
	done
	PG_PSQL=$PG_BIN/psql
	[ -x "$PG_PSQL" ] || PG_PSQL=$(command -v psql) ||
	    pg_fail "psql is installed (run scripts/setup.sh)"
	if [ "$(id -u)" -eq 0 ]; then
		command -v runuser > /dev/null 2>&1 ||
		    pg_fail "runuser is installed (to run PostgreSQL as postgres)"
		id postgres > /dev/null 2>&1 ||
		    pg_fail "the postgres user exists (run scripts/setup.sh)"
		# Root's TMPDIR may be private: the server's folder is in /tmp.
		PG_DIR=$(mktemp -d /tmp/ig-pg.XXXXXX) ||
		    pg_fail "mktemp made the PostgreSQL folder"
		chown postgres: "$PG_DIR" ||
		    pg_fail "chown gave the PostgreSQL folder to postgres"
	else
		PG_DIR=$(mktemp -d "${TMPDIR:-/tmp}/ig-pg.XXXXXX") ||
		    pg_fail "mktemp made the PostgreSQL folder"
	fi
	chmod 0700 "$PG_DIR"
	PG_DATA=$PG_DIR/data
	PG_SOCKDIR=$PG_DIR
	pg_watchdog

	pg_as "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth=trust \
	    --encoding=UTF8 --locale=C.UTF-8 --no-sync --no-instructions \
	    > "$TMP/initdb.out" 2>&1 ||
	    pg_fail "initdb created a PostgreSQL 15 cluster" "$TMP/initdb.out"
	# Trust only the socket in our folder and the IPv4 loopback.
	printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' |
	    pg_as tee "$PG_DATA/pg_hba.conf" > /dev/null ||
	    pg_fail "wrote pg_hba.conf"

	# Another process may take the port between the probe and the bind.
	try=0
	while :; do
		try=$((try + 1))
		PG_PORT=$(pg_free_port) || pg_fail "found a free port on 127.0.0.1"
		pg_server_start && break
		if [ $try -lt 3 ] && [ -z "$(pg_postmaster_pid)" ] &&
		    grep -q 'could not bind\|already in use' "$PG_DIR/server.log" 2>/dev/null; then
			continue
		fi
		pg_fail "PostgreSQL 15 started on 127.0.0.1:$PG_PORT" \
		    "$TMP/pg_ctl.out" "$PG_DIR/server.log"
	done
	export PG_PORT PG_DATA PG_SOCKDIR
	export DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/integration"
	"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres integration \
	    > "$TMP/createdb.out" 2>&1 ||
	    pg_fail "created the database integration" "$TMP/createdb.out" "$PG_DIR/server.log"
}

# stop_pg: fast shutdown; the folder stays, for restart_pg.
stop_pg() {
	[ -n "$PG_DIR" ] || pg_fail "stop_pg: PostgreSQL is not started"
	pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m fast -w -t 30 stop \
	    > "$TMP/pg_ctl.out" 2>&1 ||
	    pg_fail "PostgreSQL stopped" "$TMP/pg_ctl.out" "$PG_DIR/server.log"
}

# restart_pg: starts the stopped server again, same port and data.
restart_pg() {
	[ -n "$PG_DIR" ] || pg_fail "restart_pg: PostgreSQL is not started"
	[ -z "$(pg_postmaster_pid)" ] || stop_pg
	pg_server_start ||
	    pg_fail "PostgreSQL restarted on 127.0.0.1:$PG_PORT" \
	    "$TMP/pg_ctl.out" "$PG_DIR/server.log"
}

# psql_q SQL: runs SQL against DATABASE_URL and prints the result (unaligned,
# tuples only); the status is psql's, non-zero on any error.
psql_q() {
	"$PG_PSQL" -X -A -t -q -v ON_ERROR_STOP=1 -d "$DATABASE_URL" -c "$1"
}

# pg_cleanup: stops the server at once and removes its folder.  Idempotent;
# runs from the EXIT trap before lib.sh's t_cleanup.
pg_cleanup() {
	if [ -f "$PG_WATCHDOG" ]; then
		wd=$(cat "$PG_WATCHDOG" 2>/dev/null)
		[ -n "$wd" ] && kill "$wd" 2>/dev/null
		rm -f "$PG_WATCHDOG"
	fi
	[ -n "$PG_DIR" ] || return 0
	if [ -n "$(pg_postmaster_pid)" ]; then
		pg_as "$PG_BIN/pg_ctl" -D "$PG_DATA" -m immediate -w -t 10 stop \
		    > /dev/null 2>&1
		pid=$(pg_postmaster_pid)
		if [ -n "$pid" ]; then
			pkill -KILL -P "$pid" 2>/dev/null
			kill -KILL "$pid" 2>/dev/null
		fi
	fi
	rm -rf "$PG_DIR"
	PG_DIR=
}
trap 'pg_cleanup; t_cleanup' EXIT
