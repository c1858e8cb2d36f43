#!/usr/bin/env bash
# The PostgreSQL server scripts/run.sh keeps for this checkout (reused across runs, data persists).
#   scripts/local-db.sh dir     -> prints where its files live
#   scripts/local-db.sh start   -> starts it if needed (scripts/pg-local.sh); the last line is the connection string
#   scripts/local-db.sh stop
# Where: $REPO/.local/pg, unless we are root in a checkout the postgres OS user cannot reach (a fresh VM's /root is
# 0700). As root the server runs as postgres (initdb refuses root), so it then lives in
# /var/lib/webhookreceiver/<hash of the checkout's path>/pg, owned by postgres; one per checkout.
set -euo pipefail

usage() { echo "usage: $0 dir|start|stop" >&2; exit 2; }
[[ $# -eq 1 ]] || usage
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
SHARED_ROOT=/var/lib/webhookreceiver

# Whether the user the server will run as can traverse the checkout. Before PostgreSQL is installed there is no
# postgres user yet: nobody stands in (neither is in root's group), so the answer does not change after the install.
reachable_by_server() {
  local user=postgres
  id -u postgres >/dev/null 2>&1 || user=nobody
  (cd / && runuser -u "$user" -- test -x "$REPO") 2>/dev/null
}

db_dir() {
  if [[ $EUID -ne 0 ]] || reachable_by_server; then
    echo "$REPO/.local/pg"
  else
    echo "$SHARED_ROOT/$(printf %s "$REPO" | sha256sum | cut -c1-16)/pg"
  fi
}

DIR=$(db_dir)
case $1 in
dir) echo "$DIR" ;;
start)
  if [[ $DIR == "$REPO"/* ]]; then
    mkdir -p "$REPO/.local"
    # root: postgres must traverse .local too (a umask of 077 would make it 0700).
    [[ $EUID -ne 0 ]] || chmod 755 "$REPO/.local"
  else
    # 755 whatever root's umask: postgres must traverse both levels; the files below belong to postgres.
    (umask 022; mkdir -p "${DIR%/pg}")
    chmod 755 "$SHARED_ROOT" "${DIR%/pg}"
    echo "$REPO" >"${DIR%/pg}/checkout"   # which checkout this server belongs to
  fi
  exec bash "$REPO/scripts/pg-local.sh" start "$DIR"
  ;;
stop)
  # Nothing to stop if it was never created (pg-local.sh would create DIR).
  [[ -d $DIR ]] || exit 0
  exec bash "$REPO/scripts/pg-local.sh" stop "$DIR"
  ;;
*) usage ;;
esac
