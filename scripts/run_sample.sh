#!/usr/bin/env bash
# The main job on the shipped sample network, end to end through Airflow:
#   ingest_daily -> code_and_cluster -> detect_weekly (last 8 weeks) -> report_weekly
#   -> evidence_pack (the top alert), each a real DAG run (dag.test() on the SQLite metadata DB
#   of airflow_home/, LocalExecutor settings of airflow.cfg), then prints the paths of the
#   weekly report and the evidence pack.
# SENTINEL_RUNNER=cli runs the same library calls through the `sentinel` CLI instead.
# Outputs go to $SENTINEL_HOME (default ./var): warehouse.duckdb, lake/, outbox/ (receipts),
# data_docs/ (Great Expectations), patterns/, reports/, evidence/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# AIRFLOW_HOME, AIRFLOW_CONFIG, dags/ on PYTHONPATH, secrets (the pseudonymisation key is
# generated once under $SENTINEL_HOME/secrets/ for the demo), SENTINEL_HOME, SENTINEL_LANDING.
# shellcheck source=scripts/airflow_env.sh
source scripts/airflow_env.sh
started=$(date +%s)

# Received times: when each file of the sample was meant to arrive (data/sample/arrivals.csv,
# written by the generator). A fresh clone's file times mean nothing; a file found without a
# recorded arrival would be received "now".
manifest="$(dirname "$SENTINEL_LANDING")/arrivals.csv"
if [ -f "$manifest" ]; then
  sentinel arrivals import "$manifest"
fi
sentinel network summary
if [ "${SENTINEL_RUNNER:-airflow}" = "cli" ]; then
  sentinel ingest
  sentinel coding run
  sentinel patterns refresh
  read -r first_week last_week < <(python - <<'PY'
from pipeline.config import Settings
from pipeline.isoweek import add_weeks
from pipeline.services import detection

last = detection.latest_week(Settings.from_env())
print(add_weeks(last, -7), last)
PY
)
  sentinel detect --from "$first_week" --to "$last_week"
  sentinel report weekly --week "$last_week"
  sentinel evidence-pack --week "$last_week"
else
  echo "==> Airflow metadata DB: $AIRFLOW_HOME (airflow db migrate)" >&2
  airflow db migrate >/dev/null
  airflow pools set sentinel_warehouse 1 "DuckDB single writer" >/dev/null
  python scripts/dag_test.py --chain --detect-weeks 8 --out "$AIRFLOW_HOME/last_chain.json"
fi
sentinel network report
echo "main job finished in $(( $(date +%s) - started )) s; watch the runs: source scripts/airflow_env.sh && airflow standalone"
