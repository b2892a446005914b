"""retrain_models: retrain the product coder from stored cases of known category.

Monthly (1st, 03:00 China time) or on demand. Training never changes what is in production by
itself: ``train`` writes a new version under ``models/<name>/<version>/`` (artifact, metrics,
model card) without activating it, ``compare`` sets its held-out metrics against the CURRENT
version, and ``promote`` points CURRENT at it only when the ``promote`` param is set and the new
version is not worse (top-1 accuracy at most 0.5 points and macro-F1 at most 1 point lower).
After a promotion, run code_and_cluster with ``recode`` to re-code cases with the new version.

Training reads the warehouse (pool ``sentinel_warehouse``). Models live in
``SENTINEL_MODELS_DIR`` (default: the repository's ``models/``).
"""

from __future__ import annotations

import logging

import pendulum
from _common import DEFAULT_ARGS, WAREHOUSE_POOL, WAREHOUSE_QUEUE
from airflow.sdk import CronTriggerTimetable, Param, dag, task

log = logging.getLogger("sentinel.dags.retrain_models")
MAX_TOP1_DROP, MAX_F1_DROP = 0.005, 0.01


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
    @task(pool=WAREHOUSE_POOL, queue=WAREHOUSE_QUEUE)
    def train(params: dict | None = None) -> dict:
        """Train a new version (not activated); returns its name, version and metrics."""
        from pipeline.coding.train import train as train_model
        from pipeline.config import Settings
        from pipeline.storage.warehouse import connect

        params = params or {}
        settings = Settings.from_env()
        name = params.get("model") or "product_coder"
        con = connect(settings.warehouse_path, read_only=True)
        try:
            _coder, metrics = train_model(
                con,
                settings.models_dir,
                name=name,
                target_accuracy=float(params.get("target_accuracy", 0.99)),
                activate=False,
                progress=log.info,
            )
        finally:
            con.close()
        return {
            "name": name,
            "version": metrics["model"]["version"],
            "top1": metrics["test"]["top1_accuracy"],
            "macro_f1": metrics["test"]["macro"]["f1"],
        }

    @task
    def compare(candidate: dict) -> dict:
        """The candidate's held-out metrics against the CURRENT version's."""
        from pipeline.coding.model import current_version, read_metrics
        from pipeline.config import Settings

        models_dir = Settings.from_env().models_dir
        current = current_version(models_dir, candidate["name"])
        m = read_metrics(models_dir, candidate["name"], current)["test"]
        verdict = {
            **candidate,
            "current": current,
            "current_top1": m["top1_accuracy"],
            "current_macro_f1": m["macro"]["f1"],
        }
        verdict["not_worse"] = bool(
            candidate["top1"] >= m["top1_accuracy"] - MAX_TOP1_DROP
            and candidate["macro_f1"] >= m["macro"]["f1"] - MAX_F1_DROP
        )
        log.info("candidate vs current: %s", verdict)
        return verdict

    @task
    def promote(verdict: dict, params: dict | None = None) -> dict:
        """Point CURRENT at the candidate when asked and not worse."""
        from pipeline.coding.model import set_current
        from pipeline.config import Settings

        params = params or {}
        if not params.get("promote"):
            log.info(
                "promote not requested; %s/%s stays inactive", verdict["name"], verdict["version"]
            )
            return {**verdict, "promoted": False}
        if not verdict["not_worse"]:
            log.warning(
                "%s/%s is worse than %s: not promoted",
                verdict["name"],
                verdict["version"],
                verdict["current"],
            )
            return {**verdict, "promoted": False}
        set_current(Settings.from_env().models_dir, verdict["name"], verdict["version"])
        return {**verdict, "promoted": True}

    promote(compare(train()))


retrain_models()
