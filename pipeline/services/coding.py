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
import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
from sqlalchemy.engine import make_url

from pipeline import reference
from pipeline.appdb import workspace
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.coding import NO_PRODUCT
from pipeline.coding import model as coder_model
from pipeline.coding.external import LabelledSetError
from pipeline.coding.predict import predict_csv
from pipeline.coding.promotion import MARGINS, promotion_decision
from pipeline.coding.store import (
    ReviewError,
    coding_summary,
    list_reviews,
    resolve_review,
    review_counts,
)
from pipeline.coding.store import run_coding as code_cases
from pipeline.coding.train import train
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.storage.session import Progress, Snapshots, open_reader, reader, writer

log = logging.getLogger("sentinel.coding")
WEB_MARK = "[web #{id}]"  # prefix of coding_review.note for a resolution made on the web

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
    """Apply the coders' pending web resolutions, then code every stored active case lacking a
    current coding (one writer session); returns the run summary. The resolutions' outcomes are
    recorded in the application database once the warehouse has committed and published."""
    coder = load_model(settings, model, version)
    db = _appdb_if_any(settings)
    try:
        pending = _pending(db)
        with writer(settings, progress) as con:
            outcomes = [_apply(con, r) for r in pending]
            summary = code_cases(con, coder, recode=recode, progress=progress).as_dict()
        if db is not None and outcomes:
            with db.transaction() as session:
                for resolution_id, status, outcome in outcomes:
                    workspace.settle_resolution(session, resolution_id, status, outcome)
    finally:
        if db is not None:
            db.dispose()
    counts: dict[str, int] = {}
    for _id, status, _text in outcomes:
        counts[status] = counts.get(status, 0) + 1
    summary["web_resolutions"] = counts
    if progress and outcomes:
        progress(f"web resolutions: {counts}")
    return summary


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


# ---- the coders' web queue: resolutions recorded in the application database, applied to the
# warehouse by the next coding run (the pipeline is the warehouse's only writer) -------------


def _appdb_if_any(settings: Settings) -> AppDB | None:
    """The application database, or None when this home has never had one (a pipeline-only
    installation: nothing can be pending)."""
    url = make_url(settings.app_database_url)
    if url.get_backend_name() == "sqlite" and (not url.database or not _exists(url.database)):
        return None
    from pipeline.appdb import schema

    schema.upgrade(settings.app_database_url)
    return AppDB.from_settings(settings)


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).expanduser().exists()


def _pending(db: AppDB | None) -> list[workspace.ResolutionView]:
    if db is None:
        return []
    with db.transaction() as session:
        return workspace.resolutions(session, status="pending")


def _apply(con: duckdb.DuckDBPyConnection, r: workspace.ResolutionView) -> tuple[int, str, str]:
    """Apply one web resolution in the writer session: (id, applied | stale | rejected, why).
    Idempotent: a resolution already in ``coding_review`` (marked with its id) is not applied
    twice, so a run that died after the warehouse committed settles it on the next run."""
    mark = WEB_MARK.format(id=r.id)
    done = con.execute(
        "SELECT review_id FROM coding_review WHERE hospital_code = ? AND case_id = ? "
        "AND status = 'resolved' AND starts_with(coalesce(note, ''), ?)",
        [r.hospital_code, r.case_id, mark],
    ).fetchall()
    if done:
        return r.id, "applied", f"review {done[0][0]}"
    case = con.execute(
        "SELECT version, status FROM cases WHERE hospital_code = ? AND case_id = ?",
        [r.hospital_code, r.case_id],
    ).fetchall()
    if not case or case[0][1] != "active":
        return r.id, "stale", "the case is no longer active"
    if int(case[0][0]) != r.case_version:
        return r.id, "stale", f"the case changed since (now version {case[0][0]})"
    note = f"{mark} {r.note}" if r.note else mark
    try:
        result = resolve_review(con, f"{r.hospital_code}:{r.case_id}", r.category, r.username, note)
    except ReviewError as exc:
        return r.id, "rejected", str(exc)
    return r.id, "applied", f"review {result['review_id']}"


@dataclass
class QueueItem:
    review_id: str
    hospital_code: str
    case_id: str
    case_version: int
    reason: str
    product_name: str | None
    narrative: str | None
    visit_date: date | None
    suggestions: list[dict]  # {code, probability | None, source}: model top, runner-up, hospital
    resolution: workspace.ResolutionView | None = None  # recorded on the web, not applied yet


@dataclass
class ReviewQueue:
    items: list[QueueItem]
    open_count: int  # open in the published snapshot
    pending: int  # of those, resolved on the web and waiting for the next coding run
    resolved: int  # resolved in the warehouse (all time)
    recent: list[workspace.ResolutionView] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return max(0, self.open_count - self.pending)

    @property
    def done_share(self) -> float:
        total = self.resolved + self.open_count
        return (self.resolved + self.pending) / total if total else 1.0


def _suggestions(row: dict) -> list[dict]:
    out: list[dict] = []

    def add(code: object, probability: object, source: str) -> None:
        if isinstance(code, str) and code and code not in {s["code"] for s in out}:
            p = None if probability is None or probability != probability else float(probability)
            out.append({"code": code, "probability": p, "source": source})

    add(row.get("suggested_category"), row.get("probability"), "model")
    add(row.get("runner_up"), row.get("runner_up_probability"), "model")
    add(row.get("hospital_category"), None, "hospital")
    return out


def review_queue(
    settings: Settings,
    db: AppDB,
    *,
    limit: int = 20,
    offset: int = 0,
    hospital: str | None = None,
    snapshots: Snapshots | None = None,
) -> ReviewQueue:
    """The open review items (oldest first) with the model's suggestions and confidence, each
    with its pending web resolution if one was recorded, and the progress counts."""
    with open_reader(settings, snapshots) as con:
        frame = list_reviews(con, status="open", limit=limit + offset + 1000, hospital=hospital)
        counts = review_counts(con)
        visits = dict(
            ((h, c), d)
            for h, c, d in con.execute(
                "SELECT r.hospital_code, r.case_id, CAST(c.visit_datetime AS DATE) "
                "FROM coding_review r JOIN cases c USING (hospital_code, case_id) "
                "WHERE r.status = 'open'"
            ).fetchall()
        )
    with db.transaction() as session:
        pending = {
            (r.hospital_code, r.case_id): r for r in workspace.resolutions(session, "pending")
        }
        recent = workspace.resolutions(session)[-10:][::-1]
    items: list[QueueItem] = []
    for row in frame.to_dict("records"):
        key = (row["hospital_code"], row["case_id"])
        resolution = pending.get(key)
        if resolution is not None and resolution.case_version != int(row["case_version"]):
            resolution = None
        items.append(
            QueueItem(
                review_id=row["review_id"],
                hospital_code=row["hospital_code"],
                case_id=row["case_id"],
                case_version=int(row["case_version"]),
                reason=row["reason"],
                product_name=row.get("product_name")
                if isinstance(row.get("product_name"), str)
                else None,
                narrative=row.get("narrative") if isinstance(row.get("narrative"), str) else None,
                visit_date=visits.get(key),
                suggestions=_suggestions(row),
                resolution=resolution,
            )
        )
    # Waiting items first (the coder's work), already resolved ones after them.
    ordered = [i for i in items if i.resolution is None] + [i for i in items if i.resolution]
    open_count = int(counts.get("open", 0))
    waiting = sum(1 for i in items if i.resolution is not None)
    return ReviewQueue(
        items=ordered[offset : offset + limit],
        open_count=open_count,
        pending=waiting,
        resolved=int(counts.get("resolved", 0)),
        recent=recent,
    )


def record_resolution(
    settings: Settings,
    db: AppDB,
    actor: Actor,
    review_id: str,
    category: str,
    note: str | None = None,
    *,
    snapshots: Snapshots | None = None,
) -> workspace.ResolutionView:
    """A coder resolves an open review item on the web: checked against the published snapshot
    (the item is open, the category valid on the visit date), recorded and audited in the
    application database, applied to the warehouse by the next coding run."""
    code = (category or "").strip().upper()
    with open_reader(settings, snapshots) as con:
        rows = con.execute(
            "SELECT r.hospital_code, r.case_id, r.case_version, r.status, "
            "CAST(c.visit_datetime AS DATE) FROM coding_review r "
            "LEFT JOIN cases c USING (hospital_code, case_id) WHERE r.review_id = ?",
            [review_id],
        ).fetchall()
    if not rows:
        raise NotFound(f"no review item {review_id}", detail_zh=f"没有复核条目 {review_id}")
    hospital, case_id, version, status, visit = rows[0]
    if status != "open":
        raise BadInput(
            f"review item {review_id} is {status}, not open",
            detail_zh=f"复核条目 {review_id} 的状态为 {status}，不可再处理",
        )
    if code != NO_PRODUCT and not _valid_on(code, visit):
        raise BadInput(
            f"{code or '(empty)'} is not a product category valid on the visit date "
            f"(or {NO_PRODUCT}: no product involved)",
            detail_zh=f"{code or '（空）'} 不是就诊日期有效的产品类别（无产品参与请选 {NO_PRODUCT}）",
        )
    with db.transaction() as session:
        return workspace.record_resolution(
            session,
            actor,
            hospital_code=hospital,
            case_id=case_id,
            case_version=int(version),
            category=code,
            review_id=review_id,
            note=note,
        )


def _valid_on(code: str, visit: date | None) -> bool:
    taxonomy = reference.load_taxonomy().set_index("category_code")
    if code not in taxonomy.index:
        return False
    row = taxonomy.loc[code]
    if visit is None:
        return row["valid_to"] is None
    return row["valid_from"] <= visit and (row["valid_to"] is None or visit <= row["valid_to"])
