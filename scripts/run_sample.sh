#!/usr/bin/env bash
# The main job on the shipped sample network, end to end through Airflow:
#   ingest_daily -> code_and_cluster -> detect_weekly (last 8 weeks) -> report_weekly
#   -> evidence_pack (the top signal), each a real DAG run (dag.test() on the SQLite metadata DB
#   of airflow_home/, LocalExecutor settings of airflow.cfg), then prints the paths of the
#   weekly report and the evidence pack. The terminal shows one line per stage (stage, what it
#   processed, seconds); Airflow's task logs and the full tables go to var/logs/main-job-*.log.
# SENTINEL_RUNNER=cli runs the same library calls through the `sentinel` CLI instead.
# Outputs go to $SENTINEL_HOME (default ./var): warehouse.duckdb, lake/, outbox/ (receipts),
# data_docs/ (Great Expectations), patterns/, reports/, evidence/.
set -euo pipefail
cd "$(dirname "$0")/.."
# One short line per stage on the terminal (stage, what it processed, seconds); everything else
# (pip, Airflow's task logs, the CLI's tables) goes to the log file printed first.
mkdir -p var/logs
log="$(pwd)/var/logs/main-job-$(date -u +%Y%m%dT%H%M%SZ).log"
echo "logs (Airflow task logs, setup, full tables): $log"
started=$(date +%s)

# stage NAME COMMAND...: run COMMAND with its output in the log; print NAME, the seconds it took
# and the command's last output line (or the end of the log when it fails).
stage() {
  local name="$1" t0 out ms
  shift
  t0=$(date +%s%N)
  echo "==> $name: $*" >>"$log"
  if ! "$@" >>"$log" 2>&1; then
    printf '%-17s FAILED; the end of %s:\n' "$name" "$log"
    tail -n 20 "$log"
    exit 1
  fi
  out=$(tail -n 1 "$log")
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  printf '%-17s %5d.%01d s  %s\n' "$name" $((ms / 1000)) $((ms % 1000 / 100)) "$out"
}

stage setup bash scripts/setup.sh
# AIRFLOW_HOME, AIRFLOW_CONFIG, dags/ on PYTHONPATH, secrets (the pseudonymisation key is
# generated once under $SENTINEL_HOME/secrets/ for the demo), SENTINEL_HOME, SENTINEL_LANDING.
# shellcheck source=scripts/airflow_env.sh
source scripts/airflow_env.sh

# Received times: when each file of the sample was meant to arrive (data/sample/arrivals.csv,
# written by the generator). A fresh clone's file times mean nothing; a file found without a
# recorded arrival would be received "now".
manifest="$(dirname "$SENTINEL_LANDING")/arrivals.csv"
if [ -f "$manifest" ]; then
  stage arrivals sentinel arrivals import "$manifest"
fi
stage landing sentinel network summary --brief
if [ "${SENTINEL_RUNNER:-airflow}" = "cli" ]; then
  stage ingest sentinel ingest
  stage coding sentinel coding run
  stage patterns sentinel patterns refresh
  read -r first_week last_week < <(python - <<'PY'
from pipeline.config import Settings
from pipeline.isoweek import add_weeks
from pipeline.services import detection

last = detection.latest_week(Settings.from_env())
print(add_weeks(last, -7), last)
PY
)
  stage detect sentinel detect --from "$first_week" --to "$last_week"
  stage report_weekly sentinel report weekly --week "$last_week"
  stage evidence_pack sentinel evidence-pack --week "$last_week"
else
  stage airflow_db sh -c 'airflow db migrate && airflow pools set sentinel_warehouse 1 \
    "DuckDB single writer" && echo "metadata DB ready: $AIRFLOW_HOME"'
  # dag_test.py prints one line per DAG run and the outputs' paths; Airflow's logs go to $log.
  python scripts/dag_test.py --chain --detect-weeks 8 --out "$AIRFLOW_HOME/last_chain.json" \
    --log "$log"
fi
sentinel network report >>"$log" 2>&1
sentinel network report --brief
echo "main job finished in $(( $(date +%s) - started )) s; full tables and task logs: $log"
echo "watch the runs: source scripts/airflow_env.sh && airflow standalone"
