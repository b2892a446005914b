# Airflow environment for Sentinel on one machine. Source it (bash or zsh), do not run it:
#
#   source scripts/airflow_env.sh
#   airflow db migrate
#   airflow pools set sentinel_warehouse 1 "DuckDB single writer"
#   airflow dags test ingest_daily            # one run in this process, no scheduler needed
#   airflow standalone                        # UI on http://localhost:8080 + scheduler etc.
#
# Exports AIRFLOW_HOME (<repo>/airflow_home: metadata DB, logs, generated secrets),
# AIRFLOW_CONFIG (<repo>/airflow.cfg), the DAG folder, stable Airflow secrets, the Sentinel
# settings the tasks read (SENTINEL_HOME, SENTINEL_LANDING, SENTINEL_PSEUDONYM_KEY), puts dags/ on
# PYTHONPATH and .venv/bin on PATH. Variables already set are kept, so CI or production can override any of them.

_sentinel_src="${BASH_SOURCE[0]:-${(%):-%x}}"
SENTINEL_REPO="$(cd "$(dirname "$_sentinel_src")/.." && pwd)"
unset _sentinel_src
export SENTINEL_REPO

export AIRFLOW_HOME="${AIRFLOW_HOME:-$SENTINEL_REPO/airflow_home}"
export AIRFLOW_CONFIG="${AIRFLOW_CONFIG:-$SENTINEL_REPO/airflow.cfg}"
export AIRFLOW__CORE__DAGS_FOLDER="${AIRFLOW__CORE__DAGS_FOLDER:-$SENTINEL_REPO/dags}"
export AIRFLOW__CORE__LOAD_EXAMPLES="${AIRFLOW__CORE__LOAD_EXAMPLES:-False}"
mkdir -p "$AIRFLOW_HOME"
# The DAG processor and the task runner put the DAG folder on sys.path (it is the DAG bundle),
# but plain DagBag users (`airflow dags list --local`, IDEs) do not: DAG files import _common.
case ":${PYTHONPATH:-}:" in
  *":$SENTINEL_REPO/dags:"*) ;;
  *) export PYTHONPATH="$SENTINEL_REPO/dags${PYTHONPATH:+:$PYTHONPATH}" ;;
esac

case ":$PATH:" in
  *":$SENTINEL_REPO/.venv/bin:"*) ;;
  *) [ -d "$SENTINEL_REPO/.venv/bin" ] && export PATH="$SENTINEL_REPO/.venv/bin:$PATH" ;;
esac

# A secret generated once and kept (mode 600) under $1; prints it.
_sentinel_secret() {
  local file="$1" kind="$2"
  if [ ! -s "$file" ]; then
    mkdir -p "$(dirname "$file")" && chmod 700 "$(dirname "$file")"
    (umask 077 && "$SENTINEL_REPO/.venv/bin/python" - "$kind" > "$file" <<'PY'
import base64, os, secrets, sys
if sys.argv[1] == "fernet":  # what cryptography.fernet.Fernet.generate_key() returns
    print(base64.urlsafe_b64encode(os.urandom(32)).decode())
else:
    print(secrets.token_hex(32))
PY
    )
  fi
  cat "$file"
}

# The scheduler signs task tokens and the API server checks them: both need the same secret.
if [ -z "${AIRFLOW__API_AUTH__JWT_SECRET:-}" ]; then
  AIRFLOW__API_AUTH__JWT_SECRET="$(_sentinel_secret "$AIRFLOW_HOME/secrets/jwt_secret" hex)"
  export AIRFLOW__API_AUTH__JWT_SECRET
fi
if [ -z "${AIRFLOW__CORE__FERNET_KEY:-}" ]; then
  AIRFLOW__CORE__FERNET_KEY="$(_sentinel_secret "$AIRFLOW_HOME/secrets/fernet_key" fernet)"
  export AIRFLOW__CORE__FERNET_KEY
fi

# Sentinel's own settings (read by the tasks through pipeline.config.Settings.from_env()).
export SENTINEL_HOME="${SENTINEL_HOME:-$SENTINEL_REPO/var}"
export SENTINEL_LANDING="${SENTINEL_LANDING:-$SENTINEL_REPO/data/sample/landing}"
if [ -z "${SENTINEL_PSEUDONYM_KEY:-}" ]; then
  # The same local key as scripts/run_sample.sh, so the CLI and the DAGs pseudonymise alike;
  # production sets SENTINEL_PSEUDONYM_KEY from its secret store.
  SENTINEL_PSEUDONYM_KEY="$(_sentinel_secret "$SENTINEL_HOME/secrets/pseudonym.key" hex)"
  export SENTINEL_PSEUDONYM_KEY
fi
unset -f _sentinel_secret
