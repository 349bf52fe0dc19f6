#!/bin/sh
# setup.sh: installs every Debian 12 package that building, testing and the
# benchmarks need.  Quick when they are all there already (no apt-get run).
set -eu

PACKAGES="meson ninja-build pkg-config gcc libc6-dev
libcurl4-openssl-dev libjansson-dev libssl-dev
python3 curl jq mandoc valgrind procps openssl nodejs
postgresql-15 libpq-dev"

missing=
for p in $PACKAGES; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# The end-to-end tests run PostgreSQL as this user (postgresql-common
# creates it); its absence after the packages are in is an error.
check_postgres_user() {
	getent passwd postgres >/dev/null 2>&1 && return 0
	echo "setup: the postgres user is missing (reinstall postgresql-common)" >&2
	exit 1
}
[ -z "$missing" ] && { check_postgres_user; exit 0; }

echo "setup: installing$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "setup: not root and no sudo: install these packages:$missing" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
check_postgres_user
