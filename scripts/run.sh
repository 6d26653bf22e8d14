#!/usr/bin/env bash
# Set up and start the whole app: web (gunicorn), a Celery worker and Celery beat.
# Honours every variable in .env.example; Ctrl-C or SIGTERM stops all three.
# The web server listens on BIND (default 127.0.0.1: this computer only). A worker or beat that
# dies is started again (scripts/keep_running.sh, within RESTART_LIMIT); gunicorn restarts its
# own workers, so the web server stopping, or a worker or beat past its limit, stops all.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ -f .env ]; then
  set -a; . ./.env; set +a
fi
export DJANGO_DEBUG=${DJANGO_DEBUG:-1}
export PORT=${PORT:-8000}
BIND=${BIND:-127.0.0.1}
mkdir -p var

# The programs, replaceable by stand-ins in tests/test_run_script.py.
PY=${RUN_PYTHON:-.venv/bin/python}
GUNICORN=${RUN_GUNICORN:-.venv/bin/gunicorn}
CELERY=${RUN_CELERY:-.venv/bin/celery}
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
names=()
stop() {
  local status=$1
  trap - INT TERM EXIT
  echo
  echo "==> Stopping web, worker and beat"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  exit "$status"
}
trap 'stop 0' INT TERM
trap 'stop $?' EXIT

reload=()
case "$DJANGO_DEBUG" in 1|true|True|yes|on) reload=(--reload) ;; esac
address=$BIND
case "$address" in
  \[*) ;;
  *:*) address="[$address]" ;; # an IPv6 address
esac
$GUNICORN clinic.wsgi:application --bind "$address:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - ${reload[@]+"${reload[@]}"} &
pids+=($!)
names+=("the web server")
scripts/keep_running.sh "Celery worker" $CELERY -A clinic worker --loglevel INFO \
  --concurrency "${CELERY_CONCURRENCY:-2}" --hostname "worker@%h" &
pids+=($!)
names+=("the Celery worker")
scripts/keep_running.sh "Celery beat" $CELERY -A clinic beat --loglevel INFO \
  --schedule var/celerybeat-schedule &
pids+=($!)
names+=("Celery beat")

case "$BIND" in
  127.*|localhost|::1|\[::1\]) reach="Only this computer can open it (set BIND=0.0.0.0 to share it)." ;;
  *) reach="Other computers: http://<this computer's name or address>:$PORT/ (listed in DJANGO_ALLOWED_HOSTS)." ;;
esac
sleep 2
cat <<MSG

  The clinic app is running at http://localhost:$PORT/
  $reach
  Health: http://localhost:$PORT/healthz
  Demo logins (password: ${DEMO_PASSWORD:-clinic-demo}): reception, practitioner, manager
  Press Ctrl-C to stop web, worker and beat.

MSG
wait -n "${pids[@]}" || true
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "==> ${names[$i]} stopped for good; stopping the others." >&2
  fi
done
stop 1
