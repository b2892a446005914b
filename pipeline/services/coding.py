"""Coding service: train and promote the product coder, code stored cases, the review queue.

The promotion rule lives here (it used to live only in ``dags/retrain_models.py``): a trained
version replaces CURRENT only when promotion is asked for and its held-out metrics are not
worse than the current version's (top-1 accuracy at most 0.5 points lower and macro-F1 at most
1 point lower).
"""

from __future__ import annotations

import pandas as pd

from pipeline.coding import model as coder_model
from pipeline.coding.store import coding_summary, list_reviews, resolve_review, review_counts
from pipeline.coding.store import run_coding as code_cases
from pipeline.coding.train import train
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.storage.session import Progress, reader, writer

DEFAULT_MODEL = "product_coder"
MAX_TOP1_DROP, MAX_F1_DROP = 0.005, 0.01
REVIEW_STATUSES = ("open", "resolved", "superseded", "all")


def load_model(settings: Settings, name: str = DEFAULT_MODEL, version: str | None = None):  # type: ignore[no-untyped-def]
    """The model ``models/<name>/<version>`` (default: CURRENT); NotFound when missing."""
    try:
        return coder_model.load(settings.models_dir, name, version)
    except (FileNotFoundError, ValueError) as exc:
        raise NotFound(f"model {name}/{version or 'CURRENT'}: {exc}") from exc


def train_model(
    settings: Settings,
    name: str = DEFAULT_MODEL,
    version: str | None = None,
    target_accuracy: float = 0.99,
    activate: bool = True,
    progress: Progress | None = None,
) -> dict:
    """Train on the published stored cases of known category; returns the metrics."""
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
            )
        except FileExistsError as exc:
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
    """What the promotion rule needs of a trained version."""
    return {
        "name": name,
        "version": metrics["model"]["version"],
        "top1": metrics["test"]["top1_accuracy"],
        "macro_f1": metrics["test"]["macro"]["f1"],
    }


def compare(settings: Settings, cand: dict) -> dict:
    """The candidate's held-out metrics against the CURRENT version's, and the verdict."""
    current = coder_model.current_version(settings.models_dir, cand["name"])
    m = coder_model.read_metrics(settings.models_dir, cand["name"], current)["test"]
    verdict = {
        **cand,
        "current": current,
        "current_top1": m["top1_accuracy"],
        "current_macro_f1": m["macro"]["f1"],
    }
    verdict["not_worse"] = bool(
        cand["top1"] >= m["top1_accuracy"] - MAX_TOP1_DROP
        and cand["macro_f1"] >= m["macro"]["f1"] - MAX_F1_DROP
    )
    return verdict


def promote(settings: Settings, verdict: dict, requested: bool) -> dict:
    """Point CURRENT at the candidate when promotion is requested and it is not worse."""
    if not requested or not verdict["not_worse"]:
        reason = "promotion not requested" if not requested else f"worse than {verdict['current']}"
        return {**verdict, "promoted": False, "reason": reason}
    coder_model.set_current(settings.models_dir, verdict["name"], verdict["version"])
    return {**verdict, "promoted": True, "reason": "not worse than the current version"}


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
