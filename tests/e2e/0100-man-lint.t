#!/bin/sh
# 0100-man-lint.t: every manual page passes mandoc -Tlint at the warning
# level, and every page in section 1 has the sections a tool's page needs,
# in order.  mandoc must be installed: without it the test fails.
. "$IG_SRCDIR/tests/e2e/lib.sh"

sections1='NAME
SYNOPSIS
DESCRIPTION
ENVIRONMENT
EXIT STATUS
EXAMPLES
SEE ALSO'

pages=$(ls "$IG_SRCDIR"/man/*.[1-8] 2>/dev/null)
npages=0
n1=0
for p in $pages; do
	npages=$((npages + 1))
	case $p in *.1) n1=$((n1 + 1)) ;; esac
done
plan $((2 + npages + n1))

test "$npages" -gt 0
ok $? "man/ holds manual pages"
command -v mandoc > /dev/null 2>&1
ok $? "mandoc is installed"
if ! command -v mandoc > /dev/null 2>&1; then
	echo "#   install mandoc (Debian: apt-get install mandoc)"
fi

for p in $pages; do
	name=${p##*/}
	if command -v mandoc > /dev/null 2>&1; then
		mandoc -Tlint -Wwarning "$p" > "$OUT" 2>&1
		rc=$?
		[ "$rc" -eq 0 ] && [ ! -s "$OUT" ]
		ok $? "mandoc -Tlint -Wwarning $name prints nothing"
		diag "$OUT"
	else
		ok 1 "mandoc -Tlint -Wwarning $name prints nothing (no mandoc)"
	fi
done

# has_sections PAGE: whether the .Sh lines of PAGE include $sections1 in order.
has_sections() {
	sed -n 's/^\.Sh[ 	][ 	]*//p' "$1" | sed 's/"//g; s/[ 	]*$//' > "$TMP/sh"
	missing=
	cp "$TMP/sh" "$TMP/rest"
	echo "$sections1" | {
		while IFS= read -r want; do
			n=$(grep -n -x -F "$want" "$TMP/rest" | head -n 1 | cut -d: -f1)
			if [ -z "$n" ]; then
				echo "#   missing or out of order: $want"
				missing=1
				continue
			fi
			sed "1,${n}d" "$TMP/rest" > "$TMP/rest.new"
			mv "$TMP/rest.new" "$TMP/rest"
		done
		[ -z "$missing" ]
	}
}

for p in $pages; do
	case $p in *.1) ;; *) continue ;; esac
	name=${p##*/}
	has_sections "$p" > "$OUT"
	rc=$?
	ok $rc "$name has NAME SYNOPSIS DESCRIPTION ENVIRONMENT EXIT STATUS EXAMPLES SEE ALSO"
	cat "$OUT"
done

done_testing
