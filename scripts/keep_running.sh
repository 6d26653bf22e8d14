#!/usr/bin/env bash
# Run a command and start it again whenever it stops, within a limit.
#
#   scripts/keep_running.sh NAME COMMAND [ARG...]
#
# make run uses it for the Celery worker and beat: a worker killed by a bad broker folder, a
# database hiccup or the out-of-memory killer comes back instead of leaving the clinic without
# emails. A command that stops more than RESTART_LIMIT times (default 5) within
# RESTART_WINDOW_SECONDS (default 600) is broken, not unlucky: this script then exits with
# status 1 and a message naming NAME, and make run stops everything. SIGTERM stops the command
# and this script (exit 0). RESTART_PAUSE_SECONDS (default 2) is the pause before a restart.
set -uo pipefail

name=$1
shift
limit=${RESTART_LIMIT:-5}
window=${RESTART_WINDOW_SECONDS:-600}
pause=${RESTART_PAUSE_SECONDS:-2}

child=""
stop() {
  trap - INT TERM
  # Every background job, not just $child: the signal may come before $child is set.
  local jobs
  jobs=$(jobs -p)
  if [ -n "$jobs" ]; then
    kill -TERM $jobs 2>/dev/null
    wait 2>/dev/null
  fi
  exit 0
}
trap stop INT TERM

restarts=() # when each earlier restart happened (epoch seconds)
while :; do
  "$@" &
  child=$!
  wait "$child"
  status=$?
  child=""
  now=$(date +%s)
  recent=()
  for at in ${restarts[@]+"${restarts[@]}"}; do
    if ((now - at < window)); then recent+=("$at"); fi
  done
  restarts=(${recent[@]+"${recent[@]}"})
  if ((${#restarts[@]} >= limit)); then
    echo "==> $name stopped (exit status $status) again after $limit restarts within" \
      "$window seconds; not restarting it. See its messages above." >&2
    exit 1
  fi
  restarts+=("$now")
  echo "==> $name stopped (exit status $status); restarting it" \
    "(restart ${#restarts[@]} of at most $limit within $window seconds)." >&2
  # In the background so a SIGTERM during the pause is handled at once.
  sleep "$pause" &
  child=$!
  wait "$child"
  child=""
done
