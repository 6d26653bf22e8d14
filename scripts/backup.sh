#!/usr/bin/env bash
# One backup of the database and stored files into BACKUP_DIR (default var/backups), keeping
# the newest BACKUP_KEEP. The same command runs on the Celery beat schedule
# (BACKUP_INTERVAL_HOURS); `manage.py restore_drill` proves the newest one restores.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -f .env ]; then set -a; . ./.env; set +a; fi
export DJANGO_DEBUG="${DJANGO_DEBUG:-1}"
exec .venv/bin/python manage.py backup_now "$@"
