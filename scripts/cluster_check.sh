#!/usr/bin/env bash
# The distributed deployment, tested for real (docs/operations.md section 5): PostgreSQL metadata
# DB, Redis broker, CeleryExecutor with two workers, the lake on S3 (moto), the DAG chain through
# the real scheduler, compared with a dag.test() run of the same input. Run by .ci/run.
#
#   bash scripts/cluster_check.sh [--keep]     # --keep: leave the working directory for a look
#
# Installs what is missing (Debian: postgresql, redis-server; PyPI: .venv with
# requirements-distributed.lock, .venv-moto), starts everything on 127.0.0.1 and free ports, and
# stops everything it started by process id, also on failure (trap). Prints its run time.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
export DEBIAN_FRONTEND=noninteractive

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "cluster-check: installing ${need[*]} (Debian)" >&2
  apt-get update -qq && apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
bash scripts/setup.sh --distributed --moto

work=$(mktemp -d /tmp/sentinel-cluster-XXXXXX)
keep=0
[ "${1:-}" = "--keep" ] && keep=1
child=""
cleanup() {
  status=$?
  # The Python driver stops what it started; should it have been killed itself, stop what its
  # pid file lists (each a process group leader), by process id.
  if [ -n "$child" ] && kill -0 "$child" 2>/dev/null; then
    kill -TERM "$child" 2>/dev/null || true
    wait "$child" 2>/dev/null || true
  fi
  if [ -f "$work/pids" ]; then
    while read -r pid name; do
      if kill -0 "$pid" 2>/dev/null; then
        echo "cluster-check: stopping leftover $name (pid $pid)" >&2
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      fi
    done < "$work/pids"
  fi
  if [ "$keep" = 1 ] || [ "$status" != 0 ]; then
    echo "cluster-check: working directory kept: $work" >&2
  else
    rm -rf "$work"
  fi
  echo "cluster-check: total $(( $(date +%s) - started )) s (installs included)" >&2
  exit "$status"
}
trap cleanup EXIT INT TERM

.venv/bin/python scripts/cluster_check.py --work "$work" &
child=$!
wait "$child"
