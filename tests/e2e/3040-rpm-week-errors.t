#!/bin/sh
# rpm-week's errors: each invalid item or patch gives 65 with a message that
# names the field, ids give 65 (malformed) or 66 (unknown), usage 64,
# configuration 78, output 74, a stopped database 75 after a bounded retry
# of reads, and no message ever carries PostgreSQL's own text.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"
unset RPM_TIMEZONE 2>/dev/null || :
: > "$TMP/allerr"

# rw ARGS...: runs rpm-week ARGS (like run) and keeps its standard error.
rw() {
	run rpm-week "$@"
	cat "$ERR" >> "$TMP/allerr"
}

# rwe VAR=VALUE... rpm-week ARGS...: rw with a changed environment.
rwe() {
	run env "$@"
	cat "$ERR" >> "$TMP/allerr"
}

# field KEY [FILE]: KEY of the JSON object on the first line of FILE ($OUT).
field() {
	"$PY" -c 'import json,sys
v=json.loads(open(sys.argv[2], encoding="utf-8").readline()).get(sys.argv[1])
print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1" "${2:-$OUT}"
}

# logged KEY VALUE TEXT: a JSON log line in $ERR has KEY equal to VALUE and
# a message containing TEXT.
logged() {
	"$PY" -c 'import json,sys
for l in open(sys.argv[1], encoding="utf-8"):
    try: o=json.loads(l)
    except ValueError: continue
    if str(o.get(sys.argv[2]))==sys.argv[3] and sys.argv[4] in o.get("message",""): sys.exit(0)
sys.exit(1)' "$ERR" "$1" "$2" "$3" || { diag "$ERR"; return 1; }
}

# pg_text_free FILE: FILE holds JSON log lines only, and none of them
# carries PostgreSQL's own text.
pg_text_free() {
	"$PY" -c 'import json,sys
pg=("ERROR:","NOTICE:","WARNING:","FATAL:","DETAIL:","HINT:","SQLSTATE",
    "invalid input syntax","violates","out of range","does not exist",
    "could not connect","Connection refused","connection to server","server closed",
    "terminating connection","the database system")
bad=0
for l in open(sys.argv[1], encoding="utf-8", errors="replace"):
    try: json.loads(l)
    except ValueError:
        bad=1; print("#   not a JSON log line: " + l.rstrip()[:300])
        continue
    if any(p in l for p in pg):
        bad=1; print("#   PostgreSQL text in: " + l.rstrip()[:300])
sys.exit(bad)' "$1"
}

items_count() { psql_q 'select count(*) from rpm_items'; }

# bad_item FIELD DESC JSON: add rejects the item on line 1 with 65, logs it
# (event item_invalid, line 1) with a message naming FIELD, and adds nothing.
bad_item() {
	printf '%s\n' "$3" > "$TMP/item"
	n=$(items_count)
	rw add "$W" < "$TMP/item"
	is "$RC" 65 "$2: exit 65"
	logged event item_invalid "$1"
	ok $? "$2: logged as item_invalid, naming '$1'"
	log_has line 1 && log_has code dataerr
	ok $? "$2: the log gives line 1, then the dataerr error"
	is "$(items_count):$(wc -c < "$OUT" | tr -d ' ')" "$n:0" "$2: nothing added or printed"
}

# bad_patch TEXT DESC JSON: update rejects the patch with 65, naming TEXT,
# and leaves the item as it was.
bad_patch() {
	printf '%s\n' "$3" > "$TMP/patch"
	rw update "$I" < "$TMP/patch"
	is "$RC" 65 "patch $2: exit 65"
	logged code dataerr "$1"
	ok $? "patch $2: the message names '$1'"
	is "$(psql_q "select title, status, due_date, updated_at from rpm_items where id = '$I'")" \
	    "$item_row" "patch $2: the item is unchanged"
}

long() { "$PY" -c 'import sys; sys.stdout.write("x" * int(sys.argv[1]))' "$1"; }

start_pg
rw migrate
is "$RC" 0 "rpm-week migrate exits 0"
rw current
is "$RC" 0 "rpm-week current exits 0"
W=$(field id)
printf '%s\n' '{"title":"keep me","status":"ready","due_date":"2026-05-14"}' > "$TMP/item"
rw add "$W" < "$TMP/item"
is "$RC" 0 "added an item to patch later"
I=$(field id)
item_row=$(psql_q "select title, status, due_date, updated_at from rpm_items where id = '$I'")

# --- Every validation rule of an item.
bad_item title "title missing" '{"status":"ready"}'
bad_item title "title null" '{"title":null}'
bad_item title "title not a string" '{"title":42}'
bad_item title "title empty" '{"title":""}'
bad_item title "title empty after trimming" '{"title":" \t  "}'
bad_item title "title of 201 characters" "{\"title\":\"$(long 201)\"}"
bad_item title "title of 201 characters after trimming" "{\"title\":\"  $(long 201)  \"}"
bad_item status 'status "Backlog"' '{"title":"t","status":"Backlog"}'
bad_item status 'status "open"' '{"title":"t","status":"open"}'
bad_item status 'status a number' '{"title":"t","status":1}'
bad_item due_date 'due_date "2026-02-30"' '{"title":"t","due_date":"2026-02-30"}'
bad_item due_date 'due_date "tomorrow"' '{"title":"t","due_date":"tomorrow"}'
bad_item due_date 'due_date "2026-5-14"' '{"title":"t","due_date":"2026-5-14"}'
bad_item due_date 'due_date with a time' '{"title":"t","due_date":"2026-05-14T00:00:00Z"}'
bad_item due_date 'due_date a number' '{"title":"t","due_date":20260514}'
bad_item due_date 'due_date "0000-05-14" (no year 0 in PostgreSQL)' '{"title":"t","due_date":"0000-05-14"}'
bad_item owner_role "owner_role of 101 characters" "{\"title\":\"t\",\"owner_role\":\"$(long 101)\"}"
bad_item owner_user "owner_user not a string" '{"title":"t","owner_user":7}'
bad_item result "result of 2001 characters" "{\"title\":\"t\",\"result\":\"$(long 2001)\"}"
bad_item purpose "purpose of 2001 characters" "{\"title\":\"t\",\"purpose\":\"$(long 2001)\"}"
bad_item tags "tags not an array" '{"title":"t","tags":"ops"}'
bad_item tags "tags with a number" '{"title":"t","tags":["ops",1]}'
bad_item tags "tags with an empty string" '{"title":"t","tags":[""]}'
bad_item tags "tags with 51 entries" "{\"title\":\"t\",\"tags\":[$(i=0; while [ $i -lt 51 ]; do i=$((i + 1)); printf '"t%d"' $i; [ $i -lt 51 ] && printf ,; done)]}"
bad_item tags "a tag of 101 characters" "{\"title\":\"t\",\"tags\":[\"$(long 101)\"]}"
bad_item cialdini "cialdini an object" '{"title":"t","cialdini":{"a":1}}'
bad_item compliance_flags "compliance_flags with null" '{"title":"t","compliance_flags":[null]}'
bad_item map_json "map_json an array" '{"title":"t","map_json":[1,2]}'
bad_item map_json "map_json a string" '{"title":"t","map_json":"{}"}'
bad_item map_json "map_json over 64 KiB" "{\"title\":\"t\",\"map_json\":{\"k\":\"$(long 65536)\"}}"
bad_item colour "an unknown key" '{"title":"t","colour":"red"}'
bad_item created_by "created_by in an item" '{"title":"t","created_by":"me"}'
bad_item object "a line that is not an object" '["title","t"]'
bad_item JSON "a line that is not JSON" '{"title":"t",'

# --- The limits themselves are accepted.
"$PY" -c 'import json
x=lambda n: "x"*n
print(json.dumps({"title":"  "+x(200)+"  ","owner_role":x(100),"owner_user":x(100),
  "result":x(2000),"purpose":x(2000),"tags":["t%d"%i for i in range(49)]+[x(100)],
  "cialdini":[],"compliance_flags":["\u00e9"*100],"map_json":{"k":x(65536-8)},
  "due_date":"2028-02-29","status":"blocked"}))' > "$TMP/item"
rw add "$W" < "$TMP/item"
is "$RC" 0 "an item at every limit (200-character title, 100, 2000, 50 entries, 64 KiB) is added"
is "$(field title | wc -c | tr -d ' ')" 201 "its title has 200 characters"
rw add "$W" <<'EOF'
{"title":"😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀"}
EOF
is "$RC" 0 "a title of 200 emoji (800 bytes) is added: characters are counted, not bytes"

# --- A batch: the invalid items are skipped, the valid ones added, then 65.
printf '%s\n' '{"title":"first"}' '{"title":"t","status":"open"}' '' \
    '{"title":"t","due_date":"0000-01-01"}' 'not json' '{"title":"last"}' > "$TMP/batch"
rw add "$W" < "$TMP/batch"
is "$RC" 65 "a batch with invalid items: exit 65"
is "$(wc -l < "$OUT" | tr -d ' ')" 2 "the 2 valid items are printed"
is "$(psql_q "select count(*) from rpm_items where title in ('first', 'last')")" 2 \
    "the valid items before and after the invalid ones are added"
logged line 2 status && logged line 4 due_date && logged line 5 JSON
ok $? "each invalid item is logged with its line (blank lines counted) and what is wrong"
logged code dataerr "3 items were invalid"
ok $? "the final error counts the invalid items"

run rpm-week add "$W" < /dev/null
is "$RC" 65 "add with nothing on standard input: exit 65"

# --- Every validation rule of a patch.
bad_patch "nothing to update" "{}" '{}'
bad_patch title "title null" '{"title":null}'
bad_patch title "title blank" '{"title":"   "}'
bad_patch title "title of 201 characters" "{\"title\":\"$(long 201)\"}"
bad_patch status 'status "Backlog"' '{"status":"Backlog"}'
bad_patch status "status null" '{"status":null}'
bad_patch due_date 'due_date "2026-02-30"' '{"due_date":"2026-02-30"}'
bad_patch due_date 'due_date "tomorrow"' '{"due_date":"tomorrow"}'
bad_patch due_date 'due_date "0000-01-01"' '{"due_date":"0000-01-01"}'
bad_patch tags "tags with a number" '{"tags":[1]}'
bad_patch map_json "map_json an array" '{"map_json":[]}'
bad_patch colour "an unknown key" '{"colour":"red"}'
bad_patch object "not an object" '[1]'
bad_patch "one patch" "two objects" '{"title":"a"}
{"title":"b"}'
bad_patch "no patch" "nothing" ''

# --- Ids.
rw show not-a-uuid
is "$RC" 65 "show with a malformed week id: exit 65"
logged code dataerr "not-a-uuid"
ok $? "the message quotes the malformed id"
rw items 123e4567-e89b-12d3-a456-42661417400
is "$RC" 65 "items with a 35-character id: exit 65"
rw items "$W'--"
is "$RC" 65 "items with SQL after the id: exit 65"
rw add "x$W" < /dev/null
is "$RC" 65 "add with a malformed week id: exit 65"
printf '%s\n' '{"title":"x"}' > "$TMP/patch"
rw update "${I%?}g" < "$TMP/patch"
is "$RC" 65 "update with a malformed item id: exit 65"
logged code dataerr "item id"
ok $? "the message says it is not an item id"

unknown=3f2b8c1e-0d4a-4c5e-9b7a-1e2f3a4b5c6d
for cmd in show items; do
	rw $cmd $unknown
	is "$RC" 66 "$cmd of an unknown week: exit 66"
	logged code noinput "$unknown"
	ok $? "$cmd of an unknown week: the noinput message names the id"
done
printf '%s\n' '{"title":"x"}' > "$TMP/item"
rw add $unknown < "$TMP/item"
is "$RC" 66 "add to an unknown week: exit 66"
is "$(psql_q "select count(*) from rpm_items where title = 'x'")" 0 "nothing was added"
rw update $unknown < "$TMP/patch"
is "$RC" 66 "update of an unknown item: exit 66"
logged code noinput "$unknown"
ok $? "update of an unknown item: the noinput message names the id"
rw update "$W" < "$TMP/patch"
is "$RC" 66 "update with a week's id: exit 66"

# --- Usage.
usage() {	# usage DESC ARGS...
	desc=$1
	shift
	run rpm-week "$@" < /dev/null
	is "$RC" 64 "$desc: exit 64"
	log_has code usage
	ok $? "$desc: logged with code usage"
}
usage "no command"
usage "an unknown command" frobnicate
usage "items without its operand" items
usage "show without its operand" show
usage "add without its operand" add
usage "update without its operand" update
usage "current with an extra operand" current extra
usage "migrate with an extra operand" migrate extra
usage "show with an extra operand" show "$W" extra
usage "an unknown option" --bogus current
usage "--created-by without a value" add "$W" --created-by
usage "an empty --created-by" add --created-by '' "$W"
usage "a --created-by of 201 bytes" add --created-by "$(long 201)" "$W"
printf '%s\n' '{"title":"by a bad name"}' > "$TMP/item2"
run rpm-week add --created-by "$(printf 'ab\377')" "$W" < "$TMP/item2"
is "$RC" 64 "a --created-by that is not UTF-8: exit 64"
logged code usage created-by
ok $? "a --created-by that is not UTF-8: the usage message names --created-by"
is "$(psql_q "select count(*) from rpm_items where title = 'by a bad name'")" 0 \
    "a --created-by that is not UTF-8: nothing added"
run rpm-week -h
is "$RC" 0 "-h exits 0"
grep -q '^usage: rpm-week migrate' "$OUT"
ok $? "-h prints the usage to standard output"
run rpm-week --version
is "$RC" 0 "--version exits 0"
grep -q '^rpm-week ' "$OUT"
ok $? "--version prints the name and version"

# --- Configuration.
rwe -u DATABASE_URL rpm-week current
is "$RC" 78 "DATABASE_URL unset: exit 78"
logged code config DATABASE_URL
ok $? "DATABASE_URL unset: the message names DATABASE_URL"
rwe DATABASE_URL= rpm-week items "$W"
is "$RC" 78 "DATABASE_URL empty: exit 78"
rwe DATABASE_URL='not a connection string' rpm-week current
is "$RC" 78 "DATABASE_URL invalid: exit 78"
logged code config DATABASE_URL
ok $? "DATABASE_URL invalid: the message names DATABASE_URL"
weeks=$(psql_q 'select count(*) from rpm_weeks')
rw current
cp "$OUT" "$TMP/week"
rwe RPM_TIMEZONE=Mars/Base rpm-week current
is "$RC" 78 "RPM_TIMEZONE=Mars/Base: exit 78"
logged code config RPM_TIMEZONE
ok $? "RPM_TIMEZONE=Mars/Base: the message names RPM_TIMEZONE"
rwe 'RPM_TIMEZONE=Europe/Paris; drop table rpm_weeks' rpm-week current
is "$RC" 78 "an RPM_TIMEZONE that is not a zone name: exit 78"
is "$(psql_q 'select count(*) from rpm_weeks')" "$weeks" "no week was created"
rwe INTEGRATION_NOW=yesterday rpm-week current
is "$RC" 78 "INTEGRATION_NOW invalid: exit 78"
logged code config INTEGRATION_NOW
ok $? "INTEGRATION_NOW invalid: the message names INTEGRATION_NOW"

psql_q 'create database bare'
bare=${DATABASE_URL%/integration}/bare
rwe DATABASE_URL="$bare" rpm-week current
is "$RC" 78 "current without the schema: exit 78"
logged code config "rpm-week migrate"
ok $? "without the schema: the message says to run rpm-week migrate"
rwe DATABASE_URL="$bare" rpm-week items "$W"
is "$RC" 78 "items without the schema: exit 78"
rwe DATABASE_URL="$bare" rpm-week add "$W" < "$TMP/item"
is "$RC" 78 "add without the schema: exit 78"

# --- Output.
rpm-week current > /dev/full 2> "$ERR"
RC=$?
is "$RC" 74 "current writing to a full device: exit 74"
log_has code ioerr
ok $? "logged with code ioerr"
rpm-week items "$W" > /dev/full 2> "$ERR"
is "$?" 74 "items writing to a full device: exit 74"

# --- The database stopped.
now() { "$PY" -c 'import time; print("%.3f" % time.time())'; }
stop_pg
t0=$(now)
rw current
t1=$(now)
is "$RC" 75 "current with the database stopped: exit 75"
logged code tempfail "try again later"
ok $? "the message says to try again later"
"$PY" -c 'import sys; d=float(sys.argv[2])-float(sys.argv[1]); sys.exit(not 1.3 <= d < 10)' "$t0" "$t1"
ok $? "a read is retried for about 1.5 s before it gives up"
pg_text_free "$ERR"
ok $? "its log holds no PostgreSQL text"
rw items "$W"
is "$RC" 75 "items with the database stopped: exit 75"
t0=$(now)
rw add "$W" < "$TMP/item"
t1=$(now)
is "$RC" 75 "add with the database stopped: exit 75"
"$PY" -c 'import sys; d=float(sys.argv[2])-float(sys.argv[1]); sys.exit(not d < 1.2)' "$t0" "$t1"
ok $? "a write is not retried"
rw update "$I" < "$TMP/patch"
is "$RC" 75 "update with the database stopped: exit 75"
rw migrate
is "$RC" 75 "migrate with the database stopped: exit 75"
restart_pg
rw current
is "$RC" 0 "after restart_pg current works again"
is "$(cat "$OUT")" "$(cat "$TMP/week")" "and prints the same week"

# --- The database restarts while a read is retried: the bounded retry
# (0.5 s, then 1 s later) carries the read over the restart.
rw items "$W"
cp "$OUT" "$TMP/items"
stop_pg
(rpm-week items "$W" > "$TMP/r.out" 2> "$TMP/r.err"; echo $? > "$TMP/r.rc") &
reader=$!
sleep 0.2
restart_pg
wait $reader
cat "$TMP/r.err" >> "$TMP/allerr"
is "$(cat "$TMP/r.rc")" 0 "items started while the database was down succeeds once it is back"
is "$(cat "$TMP/r.out")" "$(cat "$TMP/items")" "and prints the week's items"

# --- The connection dies while a read's statement waits (for a lock held
# by another session): the statement runs again on a new connection.
"$PG_PSQL" -X -q -d "$DATABASE_URL" -c 'begin; lock table rpm_weeks in access exclusive mode;
    select pg_sleep(3); commit' > /dev/null 2>&1 &
locker=$!
waits() {	# waits SQL-COUNT: polls for up to 5 s until SQL-COUNT prints 1
	i=0
	while [ "$(psql_q "$1")" != 1 ] && [ $i -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
}
waits "select count(*) from pg_locks l join pg_class c on c.oid = l.relation
    where c.relname = 'rpm_weeks' and l.mode = 'AccessExclusiveLock' and l.granted"
(LOG_LEVEL=debug rpm-week items "$W" > "$TMP/s.out" 2> "$TMP/s.err"; echo $? > "$TMP/s.rc") &
reader=$!
waits "select count(*) from pg_stat_activity where application_name = 'rpm-week'
    and wait_event_type = 'Lock'"
is "$(psql_q "select count(pg_terminate_backend(pid)) from pg_stat_activity
    where application_name = 'rpm-week'")" 1 "terminated the read's connection while it waited for the lock"
wait $reader
wait $locker
is "$(cat "$TMP/s.rc")" 0 "the read succeeds on a new connection"
is "$(cat "$TMP/s.out")" "$(cat "$TMP/items")" "and prints the week's items"
cp "$TMP/s.err" "$ERR"
logged severity DEBUG "failed"
ok $? "the failed first try is logged at DEBUG only"
log_has severity ERROR
ok $((!$?)) "no ERROR is logged"

# --- Nothing anywhere carries PostgreSQL's own text.
pg_text_free "$TMP/allerr"
ok $? "no log line of this test carries PostgreSQL's text (ERROR:, invalid input syntax, ...)"

done_testing
