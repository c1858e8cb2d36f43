#!/usr/bin/env bash
# Throwaway PostgreSQL server for tests and local runs, no Docker needed.
#   scripts/pg-local.sh start DIR   -> prints the connection string (last line), also in DIR/connection-string
#   scripts/pg-local.sh stop DIR
set -euo pipefail

usage() { echo "usage: $0 start|stop DIR" >&2; exit 2; }
[[ $# -eq 2 ]] || usage
cmd=$1
mkdir -p "$2"
DIR=$(cd "$2" && pwd -P)   # absolute: used for -D and unix_socket_directories
DATA=$DIR/data             # subdir, because initdb wants an empty dir and DIR holds our own files
cd /                       # runuser postgres cannot stat root's cwd; avoids "could not change directory" noise

# initdb/postgres refuse to run as root, so run the server as the postgres OS user then.
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

find_bindir() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1; }
BIN=$(find_bindir)
if [[ -z $BIN || ! -x $BIN/initdb ]]; then
  [[ $cmd == stop ]] && exit 0   # nothing can be running without binaries
  if [[ $EUID -ne 0 ]]; then
    echo "pg-local: no PostgreSQL found under /usr/lib/postgresql/*/bin; install it: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
  echo "pg-local: installing postgresql via apt-get" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2 && apt-get install -y -qq postgresql >&2
  BIN=$(find_bindir)
fi

running() { [[ -f $DATA/PG_VERSION ]] && as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

case $cmd in
stop)
  if running; then as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2; fi
  ;;
start)
  if running && [[ -s $DIR/connection-string ]]; then cat "$DIR/connection-string"; exit 0; fi

  if [[ $EUID -eq 0 ]]; then
    chown postgres: "$DIR"
    # mktemp -d gives 0700 dirs; the postgres user must be able to reach DIR through its parents.
    runuser -u postgres -- test -x "$DIR" || { echo "pg-local: user postgres cannot access $DIR (chmod 755 its parents)" >&2; exit 1; }
  fi

  if [[ ! -f $DATA/PG_VERSION ]]; then
    as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
      || { cat "$DIR/initdb.log" >&2; exit 1; }
    # Unix socket in DIR avoids /var/run/postgresql permission issues; socket paths are capped at
    # ~107 bytes, so disable the socket (TCP only) for deep DIRs rather than fail at startup.
    sock=$DIR; (( ${#DIR} > 80 )) && sock=''
    # fsync stays on on purpose: tests must see the same durability semantics as production.
    cat >>"$DATA/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$sock'
max_connections = 300
shared_buffers = 128MB
fsync = on
EOF
  fi

  # First free port from 55432 up (bash /dev/tcp connect succeeds => port taken). Chosen per start
  # so a restarted DIR does not collide with something that grabbed its old port.
  # PG_LOCAL_PORT pins the port (an outage test restarts the server where its clients expect it).
  port=${PG_LOCAL_PORT:-55432}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    [[ -z ${PG_LOCAL_PORT:-} ]] || { echo "pg-local: port $port is taken" >&2; exit 1; }
    port=$((port + 1)); (( port < 55632 )) || { echo "pg-local: no free port" >&2; exit 1; }
  done

  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$DIR/postgres.log" -o "-p $port" -w -t 30 start >&2 \
    || { tail -n 30 "$DIR/postgres.log" >&2; exit 1; }
  for _ in $(seq 30); do
    "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres && break
    sleep 1
  done
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres || { echo "pg-local: server not ready after 30s" >&2; exit 1; }

  cs="Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=postgres"
  echo "$cs" >"$DIR/connection-string"
  echo "$cs"
  ;;
*) usage ;;
esac
