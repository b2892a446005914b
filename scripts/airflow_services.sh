#!/usr/bin/env bash
# Start, stop and list Sentinel's long-running Airflow components on this machine, each in its
# own process group with a pid file, logs under $AIRFLOW_HOME/services/.
#
#   source scripts/airflow_env.sh      # or your own AIRFLOW_* / SENTINEL_* environment
#   bash scripts/airflow_services.sh start
#   bash scripts/airflow_services.sh status
#   bash scripts/airflow_services.sh stop     # leaves no scheduler, worker or server behind
#
# start: api-server, scheduler, dag-processor and triggerer; with the CeleryExecutor also a
# Celery worker (queues $SENTINEL_WORKER_QUEUES, default "default,sentinel_warehouse"). Airflow's
# own log servers listen on every interface, so every component runs with --skip-serve-logs and
# scripts/airflow_log_server.py serves the task logs on $SENTINEL_LOG_SERVER_HOST (default
# 127.0.0.1), port [logging] worker_log_server_port. The API server listens on [api] host
# (127.0.0.1 in airflow.cfg).
#
# stop: SIGTERM to each process group, newest first (a Celery worker finishes its running tasks:
# warm shutdown), then SIGKILL to what is still there after $SENTINEL_STOP_TIMEOUT seconds
# (default 60); exits 1 if anything survived.
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
: "${AIRFLOW_HOME:?set AIRFLOW_HOME (source scripts/airflow_env.sh)}"
run_dir="$AIRFLOW_HOME/services"
AIRFLOW_BIN="${AIRFLOW_BIN:-$(command -v airflow || echo "$REPO/.venv/bin/airflow")}"
PYTHON_BIN="$(dirname "$AIRFLOW_BIN")/python"

start_one() {  # name, command...
  local name="$1"
  shift
  if [ -f "$run_dir/$name.pid" ] && kill -0 "$(cat "$run_dir/$name.pid")" 2>/dev/null; then
    echo "$name already running (pid $(cat "$run_dir/$name.pid"))"
    return
  fi
  # setsid: the component leads its own process group, so stop reaches its children too.
  setsid "$@" >"$run_dir/$name.log" 2>&1 < /dev/null &
  echo $! > "$run_dir/$name.pid"
  echo "started $name (pid $!, log $run_dir/$name.log)"
}

alive() {  # pid -> is any process of its group alive?
  pgrep -g "$1" >/dev/null 2>&1
}

case "${1:-}" in
  start)
    mkdir -p "$run_dir"
    executor="$("$AIRFLOW_BIN" config get-value core executor)"
    start_one log-server "$PYTHON_BIN" "$REPO/scripts/airflow_log_server.py" \
      --host "${SENTINEL_LOG_SERVER_HOST:-127.0.0.1}"
    start_one api-server "$AIRFLOW_BIN" api-server
    start_one scheduler "$AIRFLOW_BIN" scheduler --skip-serve-logs
    start_one dag-processor "$AIRFLOW_BIN" dag-processor
    start_one triggerer "$AIRFLOW_BIN" triggerer --skip-serve-logs
    if [ "$executor" = CeleryExecutor ]; then
      start_one celery-worker "$AIRFLOW_BIN" celery worker --skip-serve-logs \
        --queues "${SENTINEL_WORKER_QUEUES:-default,sentinel_warehouse}"
    fi
    ;;
  stop)
    [ -d "$run_dir" ] || { echo "nothing started from $run_dir"; exit 0; }
    pids=()
    for name in celery-worker triggerer dag-processor scheduler api-server log-server; do
      file="$run_dir/$name.pid"
      [ -f "$file" ] || continue
      pid="$(cat "$file")"
      if alive "$pid"; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        pids+=("$pid:$name")
      fi
      rm -f "$file"
    done
    deadline=$(( $(date +%s) + ${SENTINEL_STOP_TIMEOUT:-60} ))
    left=1
    while [ "$left" = 1 ] && [ "$(date +%s)" -lt "$deadline" ]; do
      left=0
      for entry in ${pids[@]+"${pids[@]}"}; do
        alive "${entry%%:*}" && left=1
      done
      [ "$left" = 1 ] && sleep 0.5
    done
    status=0
    for entry in ${pids[@]+"${pids[@]}"}; do
      pid="${entry%%:*}"
      if alive "$pid"; then
        echo "${entry#*:} (group $pid) did not stop in time: SIGKILL" >&2
        kill -KILL -- "-$pid" 2>/dev/null || true
        sleep 1
        alive "$pid" && status=1
      fi
      echo "stopped ${entry#*:} (pid $pid)"
    done
    exit "$status"
    ;;
  status)
    for file in "$run_dir"/*.pid; do
      [ -f "$file" ] || continue
      pid="$(cat "$file")"
      if alive "$pid"; then state=running; else state=stopped; fi
      echo "$(basename "$file" .pid): $state (pid $pid)"
    done
    ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
