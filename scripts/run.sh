#!/usr/bin/env bash
# Set up and start the whole app: web (gunicorn), a Celery worker and Celery beat.
# Honours every variable in .env.example; Ctrl-C or SIGTERM stops all three.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .env ]; then
  set -a; . ./.env; set +a
fi
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
export PORT=${PORT:-8000}
mkdir -p var

PY=.venv/bin/python
echo "==> Migrating the database"
$PY manage.py migrate --noinput
if [ "$($PY manage.py shell -c 'from clinic.models import Patient; print(Patient.objects.exists())' 2>/dev/null | tail -n 1)" != "True" ]; then
  echo "==> Empty database: loading the demo clinic"
  $PY manage.py seed_demo
fi
case "$DJANGO_DEBUG" in
  1|true|True|yes|on) ;;
  *) $PY manage.py collectstatic --noinput >/dev/null ;;
esac

pids=()
stop() {
  trap - INT TERM EXIT
  echo
  echo "==> Stopping web, worker and beat"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit 0
}
trap stop INT TERM EXIT

reload=()
case "$DJANGO_DEBUG" in 1|true|True|yes|on) reload=(--reload) ;; esac
.venv/bin/gunicorn clinic.wsgi:application --bind "0.0.0.0:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - "${reload[@]}" &
pids+=($!)
.venv/bin/celery -A clinic worker --loglevel INFO --concurrency "${CELERY_CONCURRENCY:-2}" \
  --hostname "worker@%h" &
pids+=($!)
.venv/bin/celery -A clinic beat --loglevel INFO --schedule var/celerybeat-schedule &
pids+=($!)

sleep 2
cat <<MSG

  The clinic app is running at http://localhost:$PORT/
  Health: http://localhost:$PORT/healthz
  Demo logins (password: ${DEMO_PASSWORD:-clinic-demo}): reception, practitioner, manager
  Press Ctrl-C to stop web, worker and beat.

MSG
wait -n "${pids[@]}" || true
echo "==> One of web, worker or beat stopped; stopping the others." >&2
stop
