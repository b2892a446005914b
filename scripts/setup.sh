#!/usr/bin/env bash
# Create .venv and install the locked dependencies plus Sentinel itself and its developer tools
# (tools/: the sample generator, simulators; a worker may skip them) (idempotent).
# Needs only Python 3.11 and pip; everything comes from PyPI through the lock files.
#
#   bash scripts/setup.sh                 # requirements.lock: one machine (the default)
#   bash scripts/setup.sh --distributed   # requirements-distributed.lock: the same pins plus
#                                         # Celery, Redis and PostgreSQL drivers ([distributed])
#   bash scripts/setup.sh --moto          # also .venv-moto: moto's S3 server for the lake tests
#                                         # (its own environment: botocore and great-expectations
#                                         # need incompatible python-dateutil versions)
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
lock=requirements.lock
moto=0
for arg in "$@"; do
  case "$arg" in
    --distributed) lock=requirements-distributed.lock ;;
    --moto) moto=1 ;;
    *) echo "usage: $0 [--distributed] [--moto]" >&2; exit 2 ;;
  esac
done

# The distributed lock holds every pin of requirements.lock plus the [distributed] extra, so
# installing it over a default .venv only adds packages. A .venv that has had it keeps it
# (going back would mean removing packages): the stamp records the larger lock.
if [ "$lock" = requirements.lock ] && [ -f .venv/.sentinel-lock-name ] &&
  [ "$(cat .venv/.sentinel-lock-name)" = requirements-distributed.lock ]; then
  lock=requirements-distributed.lock
fi
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.sentinel-lock-sha
want=$(sha256sum "$lock" pyproject.toml tools/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r "$lock"
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m pip install --quiet --no-deps -e tools
  echo "$want" > "$stamp"
  echo "$lock" > .venv/.sentinel-lock-name
fi
# Byte-compile the installed packages: where PYTHONDONTWRITEBYTECODE=1 is set (CI, containers)
# Python never writes .pyc files, so every process would compile Great Expectations, Airflow
# and pandas again (about 13 s of each `sentinel` command's start-up on this machine). Reading
# .pyc files is not affected by that variable. Cheap when already compiled (timestamps only).
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
.venv/bin/python -m compileall -q -j 0 "$site" >/dev/null 2>&1 || true
echo "environment ready: $(pwd)/.venv ($lock)" >&2

if [ "$moto" = 1 ]; then
  if [ ! -x .venv-moto/bin/python ]; then
    "$PYTHON" -m venv .venv-moto
  fi
  want=$(sha256sum requirements-moto.lock | cut -d' ' -f1)
  if [ "$(cat .venv-moto/.lock-sha 2>/dev/null)" != "$want" ]; then
    .venv-moto/bin/python -m pip install --quiet --upgrade pip
    .venv-moto/bin/python -m pip install --quiet -r requirements-moto.lock
    echo "$want" > .venv-moto/.lock-sha
  fi
  echo "S3 test server ready: $(pwd)/.venv-moto/bin/moto_server" >&2
fi
