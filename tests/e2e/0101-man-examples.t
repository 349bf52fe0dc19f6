#!/bin/sh
# 0101-man-examples.t: runs every example command of every manual page
# (the "$ " lines of the EXAMPLES section, see man_examples.py) against the
# fake Lightspeed R-Series server, the fake BigQuery (with the sales
# table created) and a throwaway PostgreSQL (with the rpm-week tables
# migrated), in one scratch folder, in page order.
# An example passes when its command line exits 0 and logs no error.  A
# page in section 1 must have at least one example.
. "$IG_SRCDIR/tests/e2e/lib.sh"
. "$IG_SRCDIR/tests/e2e/lib-pg.sh"

pages=$(ls "$IG_SRCDIR"/man/*.[1-8] 2>/dev/null)
: > "$TMP/all"
n=0
bad_extract=0
for p in $pages; do
	name=${p##*/}
	if ! "$PY" "$IG_SRCDIR/tests/e2e/man_examples.py" "$p" > "$TMP/ex" 2> "$TMP/ex.err"; then
		bad_extract=$((bad_extract + 1))
		cat "$TMP/ex.err" >> "$TMP/extract.err"
	fi
	k=$(wc -l < "$TMP/ex")
	case $name in *.1) echo "$name $k" >> "$TMP/sec1" ;; esac
	while IFS= read -r cmd; do
		printf '%s\t%s\n' "$name" "$cmd" >> "$TMP/all"
	done < "$TMP/ex"
	n=$((n + k))
done
n1=0
[ -f "$TMP/sec1" ] && n1=$(wc -l < "$TMP/sec1")
plan $((1 + n1 + n))

test "$bad_extract" -eq 0
ok $? "examples can be extracted from every page"
[ -f "$TMP/extract.err" ] && diag "$TMP/extract.err"
if [ "$n1" -gt 0 ]; then
	while read -r name k; do
		test "$k" -gt 0
		ok $? "$name has examples"
	done < "$TMP/sec1"
fi

start_fake bq bigquery.py --project sandbox --no-auth
bq_env
bq-merge --create-table < /dev/null > /dev/null 2> "$TMP/create.err" ||
    { echo "# bq-merge --create-table failed:"; diag "$TMP/create.err"; }
start_fake ls lightspeed.py --sales 250
ls_env r
start_pg
rpm-week migrate > /dev/null 2> "$TMP/migrate.err" ||
    { echo "# rpm-week migrate failed:"; diag "$TMP/migrate.err"; }
export INTEGRATION_NOW=2026-05-14T12:00:00Z
mkdir "$TMP/scratch"
cd "$TMP/scratch" || exit 1

# error_logged FILE: whether FILE holds a log line of severity ERROR or
# CRITICAL, in JSON or in text form.
error_logged() {
	grep -q -e '"severity":"ERROR"' -e '"severity":"CRITICAL"' "$1" ||
	    grep -E -q '^[a-z][a-z0-9-]*: (error|critical): ' "$1"
}

i=0
while IFS= read -r line; do
	i=$((i + 1))
	name=${line%%	*}
	cmd=${line#*	}
	sh -c "$cmd" < /dev/null > "$TMP/ex.out" 2> "$TMP/ex.stderr"
	rc=$?
	desc=$(printf '%s: %s' "$name" "$cmd" | sed 's/#/\\#/g')
	if [ "$rc" -eq 0 ] && ! error_logged "$TMP/ex.stderr"; then
		ok 0 "$desc"
	else
		ok 1 "$desc"
		echo "#   exit status $rc; standard error:"
		diag "$TMP/ex.stderr"
		echo "#   standard output (first lines):"
		head -n 5 "$TMP/ex.out" | diag
	fi
done < "$TMP/all"

done_testing
