#!/bin/sh
# The PostgreSQL harness itself (lib-pg.sh): start_pg starts a throwaway
# PostgreSQL 15 on 127.0.0.1 only, psql_q talks to it, stop_pg and
# restart_pg keep port and data, and the clean-up leaves no server and no
# folder behind.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"

start_pg
ok 0 "start_pg started PostgreSQL on 127.0.0.1:$PG_PORT"
is "$DATABASE_URL" "postgresql://postgres@127.0.0.1:$PG_PORT/integration" \
    "DATABASE_URL names the database integration on the loopback port"
is "$(psql_q 'select 1')" 1 "psql_q 'select 1' prints 1"
is "$(psql_q 'select current_database()')" integration "psql_q connects to integration"
is "$(psql_q 'show listen_addresses')" 127.0.0.1 "the server listens on 127.0.0.1 only"
psql_q 'select version()' | grep -q '^PostgreSQL 15\.'
ok $? "the server is PostgreSQL 15"
is "$(psql_q 'show server_encoding')" UTF8 "the database is UTF8"
psql_q 'select gen_random_uuid()' |
    grep -Eq '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'
ok $? "gen_random_uuid() gives a version-4 UUID"
[ -S "$PG_SOCKDIR/.s.PGSQL.$PG_PORT" ] && [ "$PG_SOCKDIR" != "$TMP" ]
ok $? "the unix socket is in the server's own folder"
if [ "$(id -u)" -eq 0 ]; then
	is "$(stat -c %U:%a "$PG_SOCKDIR")" postgres:700 "as root the folder is postgres's, mode 0700"
else
	is "$(stat -c %a "$PG_SOCKDIR")" 700 "the folder is mode 0700"
fi
psql_q 'create table t (n int); insert into t values (42)'
ok $? "psql_q created a table"
run psql_q 'select nonsense from nowhere'
[ "$RC" -ne 0 ] && grep -q 'does not exist' "$ERR"
ok $? "psql_q fails on an SQL error"

# --- stop_pg and restart_pg: same port, same data.
port=$PG_PORT
stop_pg
run psql_q 'select 1'
[ "$RC" -ne 0 ]
ok $? "psql fails once stop_pg stopped the server"
[ -z "$(pg_postmaster_pid)" ]
ok $? "no postmaster is left after stop_pg"
restart_pg
is "$PG_PORT" "$port" "restart_pg keeps the port"
is "$(psql_q 'select 1')" 1 "psql works again after restart_pg"
is "$(psql_q 'select n from t')" 42 "the data survived the restart"

# --- The clean-up: no server, no folder, and a second call is harmless.
dir=$PG_SOCKDIR
pid=$(pg_postmaster_pid)
[ -n "$pid" ] && [ -d "$dir" ]
ok $? "the postmaster runs and its folder exists before the clean-up"
pg_cleanup
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
kill -0 "$pid" 2>/dev/null
ok $((!$?)) "pg_cleanup stopped the postmaster"
[ ! -e "$dir" ]
ok $? "pg_cleanup removed the server's folder"
pg_cleanup
ok $? "pg_cleanup a second time is harmless"
run psql_q 'select 1'
[ "$RC" -ne 0 ]
ok $? "psql fails after the clean-up"

done_testing
