"""The coder-feedback loop end to end (issue 20, item 4): cases the model cannot code go to
review, coders resolve them, ``retrain_models`` (run by Airflow's ``dag.test``) trains a new
version on the warehouse's labelled cases including the coders' resolutions, measures it, and
records its promotion decision."""

from __future__ import annotations

import json
import shutil

import coding_helpers as h
import pytest
from conftest_airflow import run_dag_tests

pytestmark = pytest.mark.slow  # Airflow, a full training (hand-written corpora included)

# a product name the shipped model cannot read: coded cases go to review
NEW_NAME = "zorbix wobble pod"
NEW_TEXT = "4YOM FELL OFF ZORBIX WOBBLE POD AT HOME, CONTUSION FOREHEAD"


def test_resolved_reviews_train_a_new_version_and_its_promotion_is_recorded(
    airflow_home, con, settings, tmp_path, monkeypatch
):
    from pipeline.coding import model as coder_model
    from pipeline.coding.promotion import promotion_decision
    from pipeline.config import REPO_ROOT
    from pipeline.services import coding

    # the models directory: a copy of the shipped CURRENT version
    models = tmp_path / "models"
    current = coder_model.current_version(REPO_ROOT / "models")
    shutil.copytree(
        REPO_ROOT / "models" / "product_coder" / current, models / "product_coder" / current
    )
    coder_model.set_current(models, "product_coder", current)
    templates = [h.RICE_ZH, h.RICE_EN, h.TRAMPOLINE_EN, h.TRAMPOLINE_ZH, h.KNIFE_ZH]
    rows = [h.case(f"K{i:03d}", templates[i % 5]) for i in range(100)]
    rows += [
        h.case(
            f"U{i:03d}", h.TRAMPOLINE_EN, category=None, product_name=NEW_NAME, narrative=NEW_TEXT
        )
        for i in range(60)
    ]
    h.store(con, rows)
    con.close()
    settings = settings.with_overrides(models_root=models)
    monkeypatch.setenv("SENTINEL_HOME", str(settings.home))
    monkeypatch.setenv("SENTINEL_MODELS_DIR", str(models))

    coding.run(settings)
    queue, _counts = coding.reviews(settings, status="open", limit=1000)
    pending = sorted(queue["case_id"])
    assert pending == [f"U{i:03d}" for i in range(60)]
    assert set(queue["reason"]) <= {"unknown_product_name", "low_confidence"}
    for case_id in pending:  # the coders decide: a sports product (SP06 playground equipment)
        coding.resolve(settings, f"GZ001:{case_id}", "SP06", "coder-li", None)

    result = run_dag_tests("retrain_models", [{"promote": True}], tmp_path, timeout=900)
    (run,) = result["runs"]
    assert run["state"] == "success", result["log"][-5000:]
    (trained,) = [
        p.name for p in (models / "product_coder").iterdir() if p.is_dir() and p.name != current
    ]
    metrics = coder_model.read_metrics(models, "product_coder", trained)
    # the coders' resolutions are training labels, and their held-out part is measured alone
    assert metrics["data"]["by_source"]["coder"] == 60
    assert metrics["coder_test"]["cases"] >= 1
    assert metrics["coder_test"]["top1_accuracy"] == 1.0  # it learned the coders' category
    assert set(metrics["external"]) == {"independent", "neiss_real"}
    assert metrics["data"]["handwritten"]  # the hand-written corpora are always trained on
    # the decision is recorded next to the candidate and matches the rule
    record = json.loads((models / "product_coder" / trained / "promotion.json").read_text())
    expected = promotion_decision(
        metrics, coder_model.read_metrics(models, "product_coder", current)
    )
    assert record["promoted"] == expected.promote and record["checks"] == expected.checks
    assert record["current"] == current and record["version"] == trained
    now = coder_model.current_version(models, "product_coder")
    assert now == (trained if expected.promote else current)
