#!/usr/bin/env bash
# Create .venv and install the locked dependencies plus Sentinel itself and its developer tools
# (tools/: the sample generator, simulators; a worker may skip them) (idempotent).
# Needs only Python 3.11 and pip; everything comes from PyPI through requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.sentinel-lock-sha
want=$(sha256sum requirements.lock pyproject.toml tools/pyproject.toml | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -r requirements.lock
  .venv/bin/python -m pip install --quiet --no-deps -e .
  .venv/bin/python -m pip install --quiet --no-deps -e tools
  echo "$want" > "$stamp"
fi
echo "environment ready: $(pwd)/.venv" >&2
