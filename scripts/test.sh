#!/usr/bin/env bash
# The whole suite: lint, Django checks, then pytest on SQLite and on a real PostgreSQL.
# Extra arguments go to both pytest runs (e.g. scripts/test.sh -k patients).
# Pass 1 (SQLite) runs every test; pass 2 (PostgreSQL) runs only the tests that use the
# database (CLINIC_DB_TESTS_ONLY=1, see tests/conftest.py): the others cannot behave
# differently on another database and pass 1 already ran them.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/system_packages.sh

export CLINIC_TESTING=1
PYTEST_ARGS=(-n "${PYTEST_WORKERS:-2}" --dist loadfile "$@")

echo "==> ruff (lint and format)"
.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "==> mypy with django-stubs (clinic, bookings, treatments; cache in var/mypy_cache)"
env -u DATABASE_URL .venv/bin/mypy

echo "==> manage.py check / makemigrations --check"
env -u DATABASE_URL .venv/bin/python manage.py check --fail-level WARNING
env -u DATABASE_URL .venv/bin/python manage.py makemigrations --check --dry-run >/dev/null \
  || { echo "Model changes without a migration: run manage.py makemigrations" >&2; exit 1; }

echo "==> pytest pass 1 of 2: database SQLite"
env -u DATABASE_URL .venv/bin/pytest "${PYTEST_ARGS[@]}"

if [ -n "${DATABASE_URL:-}" ]; then
  echo "==> pytest pass 2 of 2: database PostgreSQL at DATABASE_URL (database tests only)"
  CLINIC_DB_TESTS_ONLY=1 .venv/bin/pytest "${PYTEST_ARGS[@]}"
else
  started=$(scripts/pg_throwaway.sh start)
  pg_dir=$(echo "$started" | head -n 1)
  trap 'scripts/pg_throwaway.sh stop "$pg_dir"' EXIT
  export "$(echo "$started" | tail -n 1)"
  echo "==> pytest pass 2 of 2: database PostgreSQL (throwaway cluster in $pg_dir;" \
    "database tests only)"
  CLINIC_DB_TESTS_ONLY=1 .venv/bin/pytest "${PYTEST_ARGS[@]}"
fi
echo "==> all checks passed on SQLite and PostgreSQL"
