"""retrain_models: retrain the product coder from stored cases of known category.

Monthly (1st, 03:00 China time) or on demand. Training never changes what is in production by
itself: ``train`` writes a new version under ``models/<name>/<version>/`` (artifact, metrics,
model card) without activating it - trained on the stored cases of known category (coders'
resolutions included) and the hand-written corpora, calibrated on the calibration set and
measured on the evaluation sets of ``tests/data/coding/`` -, ``compare`` sets its metrics
against the CURRENT version's, and ``promote`` points CURRENT at it only when the ``promote``
param is set and the new version is not worse (the rule of ``pipeline.services.coding``:
``promotion_decision`` on the held-out split, the held-out coder-labelled cases and the
independent set); the decision is recorded in the version's ``promotion.json`` either way.
After a promotion, run code_and_cluster with ``recode`` to re-code cases with the new version.

Training reads the published snapshot of the warehouse (no pool: it never waits for a writer). Models live in
``SENTINEL_MODELS_DIR`` (default: the repository's ``models/``).
"""

from __future__ import annotations

import logging

import pendulum
from _common import DEFAULT_ARGS
from airflow.sdk import CronTriggerTimetable, Param, dag, task

log = logging.getLogger("sentinel.dags.retrain_models")


@dag(
    dag_id="retrain_models",
    description="Retrain the product coder; promote it only when asked and not worse",
    schedule=CronTriggerTimetable("0 3 1 * *", timezone="Asia/Shanghai"),
    start_date=pendulum.datetime(2026, 1, 1, tz="Asia/Shanghai"),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["sentinel", "coding", "models"],
    doc_md=__doc__,
    params={
        "model": Param("product_coder", type="string", title="Model name"),
        "target_accuracy": Param(
            0.99,
            type="number",
            minimum=0.5,
            maximum=1.0,
            title="Accuracy required of automatic predictions",
        ),
        "promote": Param(False, type="boolean", title="Activate if not worse"),
    },
)
def retrain_models():
    @task
    def train(params: dict | None = None) -> dict:
        """Train a new version (not activated) from the published snapshot."""
        from pipeline.config import Settings
        from pipeline.services import coding

        params = params or {}
        name = params.get("model") or coding.DEFAULT_MODEL
        metrics = coding.train_model(
            Settings.from_env(),
            name=name,
            target_accuracy=float(params.get("target_accuracy", 0.99)),
            activate=False,
            progress=log.info,
        )
        return coding.candidate(metrics, name)

    @task
    def compare(candidate: dict) -> dict:
        """The candidate's held-out metrics against the CURRENT version's."""
        from pipeline.config import Settings
        from pipeline.services import coding

        verdict = coding.compare(Settings.from_env(), candidate)
        log.info("candidate vs current: %s", verdict)
        return verdict

    @task
    def promote(verdict: dict, params: dict | None = None) -> dict:
        """Point CURRENT at the candidate when asked and not worse (the coding service's rule)."""
        from pipeline.config import Settings
        from pipeline.services import coding

        result = coding.promote(Settings.from_env(), verdict, bool((params or {}).get("promote")))
        log.info("%s/%s: %s", result["name"], result["version"], result["reason"])
        return result

    promote(compare(train()))


retrain_models()
