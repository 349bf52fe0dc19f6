#!/bin/sh
# rpm-week current: the week (Monday to Sunday in RPM_TIMEZONE, UTC by
# default) that contains now (INTEGRATION_NOW), created on first use and
# the same row every time after; 20 runs at once create one week.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"
unset RPM_TIMEZONE 2>/dev/null || :

# week FILE: "week_start week_end" of the week object in FILE.
week() {
	"$PY" -c 'import json,sys
o=json.loads(open(sys.argv[1]).readline()); print(o["week_start"], o["week_end"])' "$1"
}

# field KEY [FILE]: KEY of the JSON object on the first line of FILE ($OUT).
field() {
	"$PY" -c 'import json,sys
v=json.loads(open(sys.argv[2], encoding="utf-8").readline()).get(sys.argv[1])
s=json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else str(v)
sys.stdout.buffer.write(s.encode() + b"\n")' "$1" "${2:-$OUT}"
}

# current NOW [ZONE]: runs rpm-week current at NOW, in ZONE when given.
current() {
	if [ -n "${2:-}" ]; then
		run env INTEGRATION_NOW="$1" RPM_TIMEZONE="$2" rpm-week current
	else
		run env INTEGRATION_NOW="$1" rpm-week current
	fi
}

# check_week NOW ZONE START END DESC: the week of NOW in ZONE (or the
# default when ZONE is -) runs from START to END; sets ID to its id.
check_week() {
	z=$2
	[ "$z" = - ] && z=
	current "$1" "$z"
	is "$RC" 0 "$5: exit 0"
	is "$(week "$OUT")" "$3 $4" "$5: week $3 to $4"
	ID=$(field id)
	current "$1" "$z"
	is "$RC:$(field id)" "0:$ID" "$5: the same week again, same id"
}

start_pg
run rpm-week migrate
is "$RC" 0 "rpm-week migrate exits 0"

# --- The week object.
current 2026-05-11T08:00:00Z
is "$RC" 0 "current on a Monday morning exits 0"
is "$(wc -l < "$OUT" | tr -d ' ')" 1 "it prints one line"
"$PY" -c 'import json,sys,re
o=json.loads(open(sys.argv[1]).readline())
assert list(o)==["id","week_start","week_end","version","status","created_at","updated_at"], list(o)
assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", o["id"]), o
assert o["week_start"]=="2026-05-11" and o["week_end"]=="2026-05-17", o
assert o["version"]==1 and o["status"]=="active", o
assert o["created_at"].endswith("+00:00") and o["updated_at"]==o["created_at"], o' "$OUT"
ok $? "it is one object: id, week_start, week_end, version 1, status active, created_at = updated_at in UTC"
monday=$(field id)
is "$(psql_q 'select count(*) from rpm_weeks')" 1 "the week was created"

# --- Days of one week, in UTC.
check_week 2026-05-11T08:00:00Z - 2026-05-11 2026-05-17 "Monday 11 May 2026"
is "$ID" "$monday" "Monday: the week created before"
check_week 2026-05-11T00:00:00Z - 2026-05-11 2026-05-17 "Monday 11 May at midnight"
is "$ID" "$monday" "Monday at midnight: the same week"
check_week 2026-05-13T15:30:00Z - 2026-05-11 2026-05-17 "Wednesday 13 May"
is "$ID" "$monday" "Wednesday: the same week"
check_week 2026-05-17T23:59:59Z - 2026-05-11 2026-05-17 "Sunday 17 May 23:59:59"
is "$ID" "$monday" "Sunday late evening: the same week, not the next"
check_week 2026-05-17T23:59:59.999999Z - 2026-05-11 2026-05-17 "Sunday 17 May 23:59:59.999999"
is "$ID" "$monday" "the last microsecond of Sunday: the same week"
check_week 2026-05-18T00:00:00Z - 2026-05-18 2026-05-24 "Monday 18 May at midnight"
next=$ID
[ "$next" != "$monday" ]
ok $? "the next Monday starts another week"
check_week 2026-05-18T01:00:00+02:00 - 2026-05-11 2026-05-17 "18 May 01:00 +02:00 (17 May in UTC)"
is "$ID" "$monday" "an offset in INTEGRATION_NOW counts: the week of 11 May"

# --- Across year boundaries.
check_week 2025-12-31T12:00:00Z - 2025-12-29 2026-01-04 "Wednesday 31 December 2025"
dec=$ID
check_week 2026-01-04T20:00:00Z - 2025-12-29 2026-01-04 "Sunday 4 January 2026"
is "$ID" "$dec" "the week that spans the new year is one week"
check_week 2027-01-01T00:00:00Z - 2026-12-28 2027-01-03 "Friday 1 January 2027"
check_week 2024-02-29T12:00:00Z - 2024-02-26 2024-03-03 "29 February 2024"

# --- RPM_TIMEZONE: the local date decides.
check_week 2026-05-18T03:00:00Z America/Chicago 2026-05-11 2026-05-17 \
    "18 May 03:00 UTC in America/Chicago (still Sunday 17 May there)"
is "$ID" "$monday" "America/Chicago: the week of 11 May, the row created before"
check_week 2026-05-18T03:00:00Z - 2026-05-18 2026-05-24 "the same instant in UTC"
is "$ID" "$next" "UTC: the week of 18 May"
check_week 2026-05-17T16:00:00Z Asia/Tokyo 2026-05-18 2026-05-24 \
    "17 May 16:00 UTC in Asia/Tokyo (already Monday 18 May there)"
is "$ID" "$next" "Asia/Tokyo: the week of 18 May"
check_week 2026-05-18T03:00:00Z UTC 2026-05-18 2026-05-24 "RPM_TIMEZONE=UTC"
is "$ID" "$next" "RPM_TIMEZONE=UTC is the default"
run env INTEGRATION_NOW=2026-05-18T03:00:00Z RPM_TIMEZONE= rpm-week current
is "$RC:$(field id)" "0:$next" "an empty RPM_TIMEZONE counts as unset (UTC)"

is "$(psql_q 'select count(*) from rpm_weeks')" 5 "five weeks were created in all, each once"
is "$(psql_q 'select count(*) from rpm_weeks where week_end = week_start + 6
    and extract(isodow from week_start) = 1')" 5 "every week runs from a Monday to a Sunday"

# --- Without INTEGRATION_NOW: the week of today.
run rpm-week current
is "$RC" 0 "current without INTEGRATION_NOW exits 0"
"$PY" -c 'import json,sys,datetime
o=json.loads(open(sys.argv[1]).readline())
s=datetime.date.fromisoformat(o["week_start"]); e=datetime.date.fromisoformat(o["week_end"])
t=datetime.datetime.now(datetime.timezone.utc).date()
assert s.isoweekday()==1 and e-s==datetime.timedelta(days=6) and s<=t<=e, (o, t)' "$OUT"
ok $? "it is the week, Monday to Sunday, that contains today in UTC"

# --- 20 at once on an empty database create one week.
psql_q 'create database empty'
empty=${DATABASE_URL%/integration}/empty
run env DATABASE_URL="$empty" rpm-week migrate
is "$RC" 0 "migrated the database empty"
pids=
i=0
while [ $i -lt 20 ]; do
	i=$((i + 1))
	(DATABASE_URL=$empty INTEGRATION_NOW=2026-06-03T10:00:00Z rpm-week current \
	    > "$TMP/c$i.out" 2> "$TMP/c$i.err"
	echo $? > "$TMP/c$i.rc") &
	pids="$pids $!"
done
# shellcheck disable=SC2086
wait $pids
is "$(cat "$TMP"/c*.rc | sort | uniq -c | sed 's/^ *//')" "20 0" "20 concurrent runs all exit 0"
DATABASE_URL=$empty
is "$(psql_q 'select count(*) from rpm_weeks')" 1 "they created exactly one week"
row=$(psql_q 'select id from rpm_weeks')
i=0
: > "$TMP/ids"
while [ $i -lt 20 ]; do
	i=$((i + 1))
	field id "$TMP/c$i.out" >> "$TMP/ids" 2> /dev/null
done
is "$(sort -u "$TMP/ids")" "$row" "all 20 printed the id of that week"
is "$(psql_q 'select week_start, week_end from rpm_weeks')" "2026-06-01|2026-06-07" \
    "it is the week of 1 June 2026"

done_testing
