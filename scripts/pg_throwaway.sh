#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster in a temporary folder.
#   scripts/pg_throwaway.sh start   -> prints the folder, then DATABASE_URL=... on the last line
#   scripts/pg_throwaway.sh stop DIR
# Works as root (runs the server as the 'postgres' user, or 'nobody') and as an ordinary user.
set -euo pipefail

pg_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    if [ -x "$dir/initdb" ]; then echo "$dir"; fi
  done | sort -V | tail -n 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PG_OWNER" -- "$@"
  else
    "$@"
  fi
}

BIN=$(pg_bin)
if [ -z "$BIN" ]; then
  echo "PostgreSQL server binaries not found (apt-get install postgresql)." >&2
  exit 1
fi
if id postgres >/dev/null 2>&1; then PG_OWNER=postgres; else PG_OWNER=nobody; fi

case "${1:-}" in
  start)
    dir=$(mktemp -d "${TMPDIR:-/tmp}/clinic-pg.XXXXXX")
    chmod 755 "$dir"
    [ "$(id -u)" -eq 0 ] && chown "$PG_OWNER" "$dir"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    as_owner "$BIN/initdb" -D "$dir/data" -U clinic --auth=trust --encoding=UTF8 --no-locale >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
    as_owner "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
      start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
    as_owner "$BIN/createdb" -h 127.0.0.1 -p "$port" -U clinic clinic
    echo "$dir"
    echo "DATABASE_URL=postgres://clinic@127.0.0.1:$port/clinic"
    ;;
  stop)
    dir=${2:?usage: pg_throwaway.sh stop DIR}
    as_owner "$BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start | stop DIR" >&2
    exit 2
    ;;
esac
