#!/usr/bin/env bash
# The benchmark: `make bench` (SIZE=full) or `make bench SIZE=small`. Not part of `make test`.
#
# Each pass starts a throwaway PostgreSQL (scripts/pg_throwaway.sh), migrates, builds the
# synthetic clinic (manage.py bench_clinic), measures every scenario (manage.py bench_run),
# and stops the cluster. SIZE=full runs a small pass first, so the table can show whether the
# cost of each page grows with history (full/small ratio). Results: var/bench.json.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${1:-full}
case "$SIZE" in
  small | full) ;;
  *) echo "usage: $0 small|full" >&2; exit 2 ;;
esac

scripts/system_packages.sh
if ! command -v wrk >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "==> Installing wrk (load generator for the throughput scenario)"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null \
      || { apt-get update -qq && apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
  else
    echo "wrk is missing: sudo apt-get install -y wrk (the throughput scenario needs it)" >&2
    exit 1
  fi
fi

# Production settings (DEBUG off, cached templates, manifest static files), served on loopback.
unset CLINIC_TESTING DATABASE_URL
export DJANGO_SETTINGS_MODULE=bench.settings
export DJANGO_DEBUG=0
export DJANGO_SECRET_KEY="bench-$(python3 -c 'import secrets; print(secrets.token_hex(24))')"
export DJANGO_ALLOWED_HOSTS="testserver,127.0.0.1,localhost"
export DJANGO_SECURE_SSL_REDIRECT=0
export LOG_LEVEL=WARNING
PY=.venv/bin/python

mkdir -p var
"$PY" manage.py collectstatic --noinput -v0

cleanup() {
  if [ -n "${pg_dir:-}" ]; then scripts/pg_throwaway.sh stop "$pg_dir"; fi
  if [ -n "${redis_pid:-}" ]; then kill "$redis_pid" 2>/dev/null || true; fi
  if [ -n "${redis_dir:-}" ]; then rm -rf "$redis_dir"; fi
}
trap cleanup EXIT

redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
redis_dir=$(mktemp -d "${TMPDIR:-/tmp}/clinic-bench-redis.XXXXXX")
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
  >"$redis_dir/redis.log" 2>&1 &
redis_pid=$!
export CELERY_BROKER_URL="redis://127.0.0.1:$redis_port/0"

run_pass() {
  local size=$1
  shift
  local started
  started=$(scripts/pg_throwaway.sh start)
  pg_dir=$(echo "$started" | head -n 1)
  export "$(echo "$started" | tail -n 1)"
  echo "==> [$size] migrate (throwaway PostgreSQL in $pg_dir)"
  "$PY" manage.py migrate --noinput -v0
  echo "==> [$size] build the clinic"
  "$PY" manage.py bench_clinic --size "$size"
  echo "==> [$size] measure"
  "$PY" manage.py bench_run --size "$size" "$@"
  scripts/pg_throwaway.sh stop "$pg_dir"
  pg_dir=""
}

rm -f var/bench.json
if [ "$SIZE" = full ]; then
  run_pass small --throughput-seconds 0 --deliver 0
  run_pass full
else
  # A tenth of the clinic, and of the reminders to deliver (messages/s is a rate either way).
  run_pass small --throughput-seconds 5 --deliver 1000
fi
