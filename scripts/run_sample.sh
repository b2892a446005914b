#!/usr/bin/env bash
# The main job on the shipped sample network: set up, ingest every extract, code product
# categories, refresh hazard patterns, detect the last complete week's alerts, summarise.
# Outputs go to $SENTINEL_HOME (default ./var): warehouse.duckdb, lake/, outbox/ (receipts),
# data_docs/ (Great Expectations Data Docs), patterns/ (clustering state).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export SENTINEL_HOME="${SENTINEL_HOME:-$(pwd)/var}"
export SENTINEL_LANDING="${SENTINEL_LANDING:-$(pwd)/data/sample/landing}"
if [ -z "${SENTINEL_PSEUDONYM_KEY:-}" ]; then
  # A local secret for the demo; production sets SENTINEL_PSEUDONYM_KEY from its secret store.
  mkdir -p "$SENTINEL_HOME/secrets" && chmod 700 "$SENTINEL_HOME/secrets"
  keyfile="$SENTINEL_HOME/secrets/pseudonym.key"
  [ -s "$keyfile" ] || .venv/bin/python -c "import secrets; print(secrets.token_hex(32))" > "$keyfile"
  chmod 600 "$keyfile"
  SENTINEL_PSEUDONYM_KEY="$(cat "$keyfile")"
  export SENTINEL_PSEUDONYM_KEY
fi
.venv/bin/sentinel network summary
.venv/bin/sentinel ingest
.venv/bin/sentinel coding run
.venv/bin/sentinel patterns refresh
.venv/bin/sentinel detect
.venv/bin/sentinel network report
