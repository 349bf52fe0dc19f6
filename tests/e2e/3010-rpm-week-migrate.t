#!/bin/sh
# rpm-week migrate: applies the migrations compiled into the tool (sql/0*.sql)
# in order, once each, under an advisory lock, recording them in
# schema_migrations.  A second run applies nothing; five runs at once on a
# fresh database apply each migration exactly once, and all exit 0.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"
unset RPM_TIMEZONE 2>/dev/null || :

# applied FILE: the migrate records of FILE as "name applied" lines.
applied() {
	"$PY" -c 'import json,sys
for l in open(sys.argv[1]):
    o=json.loads(l); print(o["migration"], json.dumps(o["applied"]))' "$1"
}

# pg_text_free FILE: FILE holds JSON log lines only, and none of them
# carries PostgreSQL's own text (notices, errors, SQL states).
pg_text_free() {
	"$PY" -c 'import json,sys
pg=("ERROR:","NOTICE:","WARNING:","FATAL:","DETAIL:","HINT:","SQLSTATE",
    "invalid input syntax","already exists","does not exist","violates")
bad=0
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try: json.loads(l)
    except ValueError:
        bad=1; print("#   not a JSON log line: " + l.rstrip())
        continue
    if any(p in l for p in pg):
        bad=1; print("#   PostgreSQL text in: " + l.rstrip())
sys.exit(bad)' "$1"
}

start_pg

# --- The first run applies both migrations, in order.
run rpm-week migrate
is "$RC" 0 "the first migrate exits 0"
is "$(applied "$OUT")" '001_rpm_schema.sql true
002_rpm_item_created_by.sql true' \
    "it prints one record per migration, in order, both applied"
log_has migration 001_rpm_schema.sql && log_has migration 002_rpm_item_created_by.sql
ok $? "it logs each migration it applied, with the key migration"
pg_text_free "$ERR"
ok $? "its standard error holds JSON log lines without PostgreSQL's text"
is "$(psql_q 'select name from schema_migrations order by applied_at, name')" \
    '001_rpm_schema.sql
002_rpm_item_created_by.sql' "schema_migrations records both, in order"
is "$(psql_q "select count(*) from pg_tables where schemaname = 'public'
    and tablename in ('rpm_weeks', 'rpm_items', 'rpm_exports')")" 3 \
    "the tables rpm_weeks, rpm_items and rpm_exports exist"
is "$(psql_q "select count(*) from information_schema.columns
    where table_name = 'rpm_items' and column_name = 'created_by'")" 1 \
    "002 added rpm_items.created_by"
applied_at=$(psql_q 'select name, applied_at from schema_migrations order by name')

# --- A second run applies nothing and is quiet about PostgreSQL.
run rpm-week migrate
is "$RC" 0 "the second migrate exits 0"
is "$(applied "$OUT")" '001_rpm_schema.sql false
002_rpm_item_created_by.sql false' "it prints both migrations as not applied"
log_has migration 001_rpm_schema.sql || log_has migration 002_rpm_item_created_by.sql
ok $((!$?)) "it logs no migration as applied"
pg_text_free "$ERR"
ok $? "its standard error holds JSON log lines without PostgreSQL's text (no NOTICE from CREATE TABLE IF NOT EXISTS)"
is "$(psql_q 'select count(*) from schema_migrations')" 2 "schema_migrations still has 2 rows"
is "$(psql_q 'select name, applied_at from schema_migrations order by name')" "$applied_at" \
    "the recorded times did not change"

# --- Five migrations at once on a fresh database.
psql_q 'create database fresh'
ok $? "created the database fresh"
fresh=${DATABASE_URL%/integration}/fresh
pids=
for i in 1 2 3 4 5; do
	(DATABASE_URL=$fresh rpm-week migrate > "$TMP/m$i.out" 2> "$TMP/m$i.err"
	echo $? > "$TMP/m$i.rc") &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
rcs=$(cat "$TMP"/m[1-5].rc | tr '\n' ' ')
is "$rcs" "0 0 0 0 0 " "five parallel migrates all exit 0"
for i in 1 2 3 4 5; do
	applied "$TMP/m$i.out" 2> /dev/null
done | sort | uniq -c | sed 's/^ *//' > "$TMP/counts"
is "$(cat "$TMP/counts")" '4 001_rpm_schema.sql false
1 001_rpm_schema.sql true
4 002_rpm_item_created_by.sql false
1 002_rpm_item_created_by.sql true' \
    "exactly one of them applied each migration; the others report applied false"
bad=0
for i in 1 2 3 4 5; do
	pg_text_free "$TMP/m$i.err" || bad=1
done
ok $bad "none of them wrote PostgreSQL's text to standard error"
DATABASE_URL=$fresh
is "$(psql_q 'select name from schema_migrations order by name')" '001_rpm_schema.sql
002_rpm_item_created_by.sql' "fresh's schema_migrations has the 2 migrations once each"
is "$(psql_q "select count(*) from pg_tables where schemaname = 'public'
    and tablename in ('rpm_weeks', 'rpm_items', 'rpm_exports', 'schema_migrations')")" 4 \
    "each table exists once"
is "$(psql_q "select count(*) from pg_indexes where indexname like 'idx_rpm_%'")" 5 \
    "each index exists once"
is "$(psql_q "select count(*) from information_schema.columns
    where table_name = 'rpm_items' and column_name = 'created_by'")" 1 \
    "rpm_items.created_by exists once"

# --- The migrated schema works: a week can be created.
run rpm-week current
is "$RC" 0 "rpm-week current works on the freshly migrated database"

done_testing
