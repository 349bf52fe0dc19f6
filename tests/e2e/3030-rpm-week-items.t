#!/bin/sh
# rpm-week add, items, update and show: items are stored as given (titles
# trimmed, SQL and emoji verbatim), listed by due date with the undated
# last, stamped with --created-by; 20 adds at once add 20 items; update
# changes only the fields of its patch and moves updated_at.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"
unset RPM_TIMEZONE 2>/dev/null || :

# field KEY [FILE [LINE]]: KEY of the JSON object on line LINE (1) of FILE ($OUT).
field() {
	"$PY" -c 'import json,sys
ls=open(sys.argv[2], encoding="utf-8").read().splitlines()
v=json.loads(ls[int(sys.argv[3])-1]).get(sys.argv[1])
s=json.dumps(v, ensure_ascii=False) if isinstance(v,(dict,list,bool)) or v is None else str(v)
sys.stdout.buffer.write(s.encode() + b"\n")' "$1" "${2:-$OUT}" "${3:-1}"
}

# column KEY [FILE]: KEY of every line of FILE ($OUT), one per line.
column() {
	"$PY" -c 'import json,sys
for l in open(sys.argv[2], encoding="utf-8"):
    v=json.loads(l).get(sys.argv[1])
    s=json.dumps(v, ensure_ascii=False) if isinstance(v,(dict,list,bool)) or v is None else str(v)
    sys.stdout.buffer.write(s.encode() + b"\n")' "$1" "${2:-$OUT}"
}

# clean_stderr: $ERR is empty.
clean_stderr() {
	[ ! -s "$ERR" ] || { diag "$ERR"; return 1; }
}

start_pg
run rpm-week migrate
is "$RC" 0 "rpm-week migrate exits 0"
run env INTEGRATION_NOW=2026-05-13T12:00:00Z rpm-week current
is "$RC" 0 "rpm-week current exits 0"
cp "$OUT" "$TMP/week"
W=$(field id)

# --- add: five items, one run, with --created-by.
sql="'); DROP TABLE rpm_items; --"
emoji="Launch 🚀 día ünïcode 日本 👩‍💻"
"$PY" -c 'import json,sys
items=[
 {"title":"  Call the supplier  ","due_date":"2026-05-15","status":"ready",
  "owner_role":"buyer","owner_user":"sam","result":"stock for June","purpose":"no gaps",
  "tags":["ops","urgent"],"cialdini":["reciprocity"],"compliance_flags":["age-21"],
  "map_json":{"steps":[1,2],"who":"me"}},
 {"title":sys.argv[1],"due_date":"2026-05-12"},
 {"title":sys.argv[2],"due_date":"2026-05-14","owner_user":"ana"},
 {"title":"No date, no status"},
 {"title":"Earliest","due_date":"2026-05-11","status":None},
]
out=sys.stdout.buffer
for i in items:
    out.write(json.dumps(i, ensure_ascii=False).encode() + b"\n")
out.write(b"\n")' "$sql" "$emoji" > "$TMP/items"
run rpm-week add --created-by planner "$W" < "$TMP/items"
is "$RC" 0 "add exits 0"
clean_stderr
ok $? "add logs nothing"
cp "$OUT" "$TMP/added"
is "$(wc -l < "$OUT" | tr -d ' ')" 5 "add prints the 5 items it created (the blank line is skipped)"
"$PY" -c 'import json,sys
keys=["id","week_id","title","result","purpose","map_json","owner_role","owner_user",
      "status","due_date","cialdini","compliance_flags","tags","created_at","updated_at","created_by"]
for l in open(sys.argv[1]):
    o=json.loads(l)
    assert sorted(o)==sorted(keys), sorted(o)
    assert o["week_id"]==sys.argv[2] and o["created_by"]=="planner", o
    assert o["created_at"]==o["updated_at"], o' "$OUT" "$W"
ok $? "each item has the record fields, the week's id and created_by planner"
is "$(field title "$OUT" 1)" "Call the supplier" "the title is trimmed"
"$PY" -c 'import json,sys
o=json.loads(open(sys.argv[1]).readline())
assert o["status"]=="ready" and o["due_date"]=="2026-05-15", o
assert o["owner_role"]=="buyer" and o["owner_user"]=="sam", o
assert o["result"]=="stock for June" and o["purpose"]=="no gaps", o
assert o["tags"]==["ops","urgent"] and o["cialdini"]==["reciprocity"], o
assert o["compliance_flags"]==["age-21"], o
assert o["map_json"]=={"steps":[1,2],"who":"me"}, o' "$OUT"
ok $? "every field of the first item is stored and printed as given"
is "$(field title "$OUT" 2)" "$sql" "a title holding SQL is stored verbatim"
is "$(field title "$OUT" 3)" "$emoji" "a title with emoji and accents is stored verbatim"
is "$(field status "$OUT" 4):$(field due_date "$OUT" 4)" "backlog:null" \
    "an item without status is in the backlog; without due date it has none"
is "$(field status "$OUT" 5)" backlog "a null status is the backlog too"
is "$(psql_q 'select count(*) from rpm_items')" 5 "rpm_items still exists and has 5 rows"
is "$(psql_q "select count(*) from rpm_items where title = \$q\$$sql\$q\$")" 1 \
    "the SQL title is in the table as it was given"
is "$(psql_q "select encode(convert_to(title, 'UTF8'), 'hex') from rpm_items where owner_user = 'ana'")" \
    "$(printf '%s' "$emoji" | od -An -tx1 | tr -d ' \n')" \
    "the emoji title is in the table byte for byte"
is "$(psql_q "select count(*) from rpm_items where created_by = 'planner'")" 5 \
    "--created-by is stored in created_by"

# --- Two more, without --created-by: the ties of the order.
printf '%s\n' '{"title":"Second on the 12th","due_date":"2026-05-12"}' \
    '{"title":"Another undated","owner_role":"lead"}' > "$TMP/more"
run rpm-week add "$W" < "$TMP/more"
is "$RC" 0 "a second add exits 0"
is "$(column created_by | sort -u)" null "without --created-by, created_by is null"

# --- items: by due date, undated last, ties by creation.
run rpm-week items "$W"
is "$RC" 0 "items exits 0"
clean_stderr
ok $? "items logs nothing"
is "$(column title)" "Earliest
$sql
Second on the 12th
$emoji
Call the supplier
No date, no status
Another undated" "items lists by due date, ties and the undated in creation order, undated last"
is "$(column due_date | tr '\n' ' ')" \
    "2026-05-11 2026-05-12 2026-05-12 2026-05-14 2026-05-15 null null " "the due dates ascend, nulls last"
"$PY" -c 'import json,sys
a={json.loads(l)["id"]:l.strip() for l in open(sys.argv[1])}
b={json.loads(l)["id"]:l.strip() for l in open(sys.argv[2])}
assert all(a[k]==b[k] for k in a), "differs"' "$TMP/added" "$OUT"
ok $? "items prints the records as add printed them"

# --- show: the week.
run rpm-week show "$W"
is "$RC" 0 "show exits 0"
is "$(cat "$OUT")" "$(cat "$TMP/week")" "show prints the week as current printed it"
upper=$(printf '%s' "$W" | tr a-f A-F)
run rpm-week show "$upper"
is "$RC:$(field id)" "0:$W" "show takes the id in upper case too"

# --- update: only the fields given; updated_at moves.
I=$(field id "$TMP/added" 4)
created=$(field created_at "$TMP/added" 4)
printf '%s\n' '{"status":"doing","owner_role":"lead","tags":["x","y"],"title":"  Renamed  "}' > "$TMP/patch"
run rpm-week update "$I" < "$TMP/patch"
is "$RC" 0 "update exits 0"
clean_stderr
ok $? "update logs nothing"
is "$(wc -l < "$OUT" | tr -d ' ')" 1 "update prints one item"
is "$(field id)|$(field status)|$(field owner_role)|$(field tags)|$(field title)" \
    "$I|doing|lead|[\"x\", \"y\"]|Renamed" "update changed status, owner_role, tags and the trimmed title"
is "$(field due_date)|$(field created_by)|$(field created_at)|$(field owner_user)" \
    "null|planner|$created|null" "the other fields kept their values"
is "$(psql_q "select updated_at > created_at from rpm_items where id = '$I'")" t \
    "updated_at is later than created_at"
[ "$(field updated_at)" != "$created" ]
ok $? "the printed updated_at moved"

C=$(field id "$TMP/added" 1)
run rpm-week update "$C" <<'EOF'
{"due_date": null, "tags": null, "result": "done by Friday", "map_json": {"a": {"b": [true, null]}}}
EOF
is "$RC" 0 "an update with nulls exits 0"
is "$(field due_date)|$(field tags)|$(field result)|$(field map_json)" \
    'null|null|done by Friday|{"a": {"b": [true, null]}}' \
    "a null due_date and null tags clear them; result and map_json are replaced"
is "$(field status)|$(field owner_role)|$(field cialdini)" 'ready|buyer|["reciprocity"]' \
    "fields absent from the patch are unchanged"
is "$(psql_q "select due_date is null from rpm_items where id = '$C'")" t \
    "the due date is null in the table"

run rpm-week update "$C" <<'EOF'
{"due_date": "2026-05-10"}
EOF
is "$RC:$(field due_date)" "0:2026-05-10" "a due date can be set again"
run rpm-week items "$W"
column title > "$TMP/titles"
is "$(head -n 1 "$TMP/titles")" "Call the supplier" "items follows the new due date"

# --- 20 adds at once, one item each, into another week.
run env INTEGRATION_NOW=2026-05-20T12:00:00Z rpm-week current
W2=$(field id)
pids=
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	(printf '{"title":"parallel %02d","due_date":"2026-05-2%d"}\n' $i $((i % 5)) |
	    rpm-week add --created-by "worker$i" "$W2" > "$TMP/a$i.out" 2> "$TMP/a$i.err"
	echo $? > "$TMP/a$i.rc") &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
is "$(cat "$TMP"/a*.rc | sort | uniq -c | sed 's/^ *//')" "20 0" "20 concurrent adds all exit 0"
is "$(psql_q "select count(*), count(distinct title), count(distinct created_by)
    from rpm_items where week_id = '$W2'")" "20|20|20" "they created 20 items, each once"
run rpm-week items "$W2"
is "$RC:$(wc -l < "$OUT" | tr -d ' ')" "0:20" "items lists the 20"
is "$(column due_date | sort -c && echo sorted)" sorted "in due date order"
run rpm-week items "$W"
is "$(wc -l < "$OUT" | tr -d ' ')" 7 "the first week still has its 7 items"

done_testing
