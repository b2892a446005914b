"""Coding service: train and promote the product coder, code stored cases, the review queue,
code any CSV of narratives.

Training reads the warehouse's labelled cases (coder resolutions included), the hand-written
corpora, and by default the calibration set and the evaluation sets of ``tests/data/coding/``
(``Settings.coding_data_dir``): calibration for the confidence model, the others measured only.

The promotion rule lives here: a trained version replaces CURRENT only when promotion is asked
for and ``pipeline.coding.promotion.promotion_decision`` finds it not worse than the current
version on the held-out split, the held-out coder-labelled cases and the independent
evaluation set (top-1, and auto-coded precision on the independent set; the margins are
``promotion.MARGINS``). Every decision is recorded in the candidate's directory
(``promotion.json``), promoted or not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.coding import model as coder_model
from pipeline.coding.external import LabelledSetError
from pipeline.coding.predict import predict_csv
from pipeline.coding.promotion import MARGINS, promotion_decision
from pipeline.coding.store import coding_summary, list_reviews, resolve_review, review_counts
from pipeline.coding.store import run_coding as code_cases
from pipeline.coding.train import train
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.storage.session import Progress, reader, writer

DEFAULT_MODEL = "product_coder"
CALIBRATION_FILE = "calibration.csv"
EVALUATION_FILES = {"independent": "independent_eval.csv", "neiss_real": "neiss_real_sample.csv"}
PROMOTION_RECORD = "promotion.json"
REVIEW_STATUSES = ("open", "resolved", "superseded", "all")


def load_model(settings: Settings, name: str = DEFAULT_MODEL, version: str | None = None):  # type: ignore[no-untyped-def]
    """The model ``models/<name>/<version>`` (default: CURRENT); NotFound when missing."""
    try:
        return coder_model.load(settings.models_dir, name, version)
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(f"model {name}/{version or 'CURRENT'}: {exc}") from exc


def parse_evaluations(items: list[str]) -> dict[str, Path] | None:
    """``NAME=PATH`` options -> {name: path}; None (the defaults) when there are none."""
    if not items:
        return None
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise BadInput(f"--evaluate {item!r}: expected NAME=PATH")
        out[key.strip()] = Path(value.strip())
    return out


def default_calibration(settings: Settings) -> Path | None:
    path = settings.coding_data_dir / CALIBRATION_FILE
    return path if path.exists() else None


def default_evaluations(settings: Settings) -> dict[str, Path]:
    return {
        k: settings.coding_data_dir / f
        for k, f in EVALUATION_FILES.items()
        if (settings.coding_data_dir / f).exists()
    }


def train_model(
    settings: Settings,
    name: str = DEFAULT_MODEL,
    version: str | None = None,
    target_accuracy: float = 0.99,
    activate: bool = True,
    progress: Progress | None = None,
    calibration: Path | None = None,
    evaluations: dict[str, Path] | None = None,
) -> dict:
    """Train on the published stored cases of known category plus the hand-written corpora;
    calibrate on ``calibration`` and measure on ``evaluations`` (default: the sets of
    ``settings.coding_data_dir``); returns the metrics."""
    calibration = calibration or default_calibration(settings)
    evaluations = default_evaluations(settings) if evaluations is None else evaluations
    with reader(settings) as con:
        try:
            _coder, metrics = train(
                con,
                settings.models_dir,
                name=name,
                version=version,
                target_accuracy=target_accuracy,
                activate=activate,
                progress=progress,
                calibration_path=calibration,
                evaluation_paths=evaluations,
            )
        except (FileExistsError, LabelledSetError) as exc:
            raise BadInput(str(exc)) from exc
    return metrics


def train_summary(metrics: dict, name: str, activated: bool) -> dict:
    test = metrics["test"]
    return {
        "model": f"{name}/{metrics['model']['version']}",
        "top1_accuracy": round(test["top1_accuracy"], 4),
        "top2_accuracy": round(test["top2_accuracy"], 4),
        "macro_f1": round(test["macro"]["f1"], 4),
        "ece": round(test["calibration"]["ece"], 4),
        "review_threshold": test["at_threshold"]["threshold"],
        "review_share": round(test["at_threshold"]["review_share"], 4),
        "auto_accuracy": test["at_threshold"]["auto_accuracy"],
        "artifact_bytes": metrics["model"]["artifact_bytes"],
        "activated": activated,
    }


def candidate(metrics: dict, name: str) -> dict:
    """What the promotion rule needs to find a trained version (its metrics.json)."""
    test = metrics["test"]
    indep = ((metrics.get("external") or {}).get("independent") or {}).get("overall") or {}
    return {
        "name": name,
        "version": metrics["model"]["version"],
        "top1": test["top1_accuracy"],
        "macro_f1": test["macro"]["f1"],
        "coder_top1": (metrics.get("coder_test") or {}).get("top1_accuracy"),
        "independent_top1": indep.get("top1_accuracy"),
        "independent_auto_precision": indep.get("auto_precision"),
    }


def compare(settings: Settings, cand: dict) -> dict:
    """The candidate against the CURRENT version (``promotion_decision`` on both metrics.json
    files): every check with both values, and the verdict."""
    current = coder_model.current_version(settings.models_dir, cand["name"])
    cand_metrics = coder_model.read_metrics(settings.models_dir, cand["name"], cand["version"])
    curr_metrics = coder_model.read_metrics(settings.models_dir, cand["name"], current)
    verdict = promotion_decision(cand_metrics, curr_metrics)
    return {
        **cand,
        "current": current,
        "not_worse": verdict.promote,
        "checks": verdict.checks,
        "rule": verdict.reason,
        "margins": dict(MARGINS),
    }


def promote(settings: Settings, verdict: dict, requested: bool) -> dict:
    """Point CURRENT at the candidate when promotion is requested and it is not worse; the
    decision is recorded in ``models/<name>/<version>/promotion.json`` either way."""
    if not requested or not verdict["not_worse"]:
        reason = (
            "promotion not requested"
            if not requested
            else f"worse than {verdict['current']}: {verdict.get('rule', '')}"
        )
        result = {**verdict, "promoted": False, "reason": reason}
    else:
        coder_model.set_current(settings.models_dir, verdict["name"], verdict["version"])
        result = {**verdict, "promoted": True, "reason": "not worse than the current version"}
    result["decided_at"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    record = coder_model.model_dir(settings.models_dir, verdict["name"], verdict["version"])
    tmp = record / (PROMOTION_RECORD + ".tmp")
    tmp.write_text(json.dumps(result, ensure_ascii=False, indent=1, default=str) + "\n")
    tmp.replace(record / PROMOTION_RECORD)
    return result


def list_models(settings: Settings, name: str = DEFAULT_MODEL) -> list[dict]:
    """Versions of a model with their headline metrics; marks the CURRENT one."""
    base = settings.models_dir / name
    try:
        current = coder_model.current_version(settings.models_dir, name)
    except FileNotFoundError:
        current = None
    rows = []
    for path in sorted(p for p in base.glob("*") if p.is_dir()):
        try:
            m = coder_model.read_metrics(settings.models_dir, name, path.name)
        except FileNotFoundError:
            continue
        rows.append(
            {
                "version": path.name,
                "current": path.name == current,
                "top1_accuracy": round(m["test"]["top1_accuracy"], 4),
                "macro_f1": round(m["test"]["macro"]["f1"], 4),
                "review_threshold": m["model"]["thresholds"]["review"],
                "trained_at": m["model"]["trained_at"],
            }
        )
    return rows


def run(
    settings: Settings,
    model: str = DEFAULT_MODEL,
    version: str | None = None,
    recode: bool = False,
    progress: Progress | None = None,
) -> dict:
    """Code every stored active case lacking a current coding; returns the run summary."""
    coder = load_model(settings, model, version)
    with writer(settings, progress) as con:
        return code_cases(con, coder, recode=recode, progress=progress).as_dict()


def predict(
    settings: Settings,
    input_csv: Path,
    output: Path,
    name: str = DEFAULT_MODEL,
    version: str | None = None,
) -> dict:
    """``sentinel coding predict``: the pipeline's decision for every row of a CSV."""
    return predict_csv(load_model(settings, name, version), input_csv, output)


def status(settings: Settings) -> dict:
    with reader(settings) as con:
        return coding_summary(con)


def reviews(
    settings: Settings, status: str = "open", limit: int = 50, hospital: str | None = None
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Review items (default: the open queue, oldest first) and the counts per status."""
    if status not in REVIEW_STATUSES:
        raise BadInput("--status must be open, resolved, superseded or all")
    with reader(settings) as con:
        return list_reviews(con, status=status, limit=limit, hospital=hospital), review_counts(con)


def resolve(settings: Settings, case: str, category: str, by: str, note: str | None) -> dict:
    """Record a coder's category for a case (closes its open review item)."""
    with writer(settings) as con:
        return resolve_review(con, case, category, by, note)
