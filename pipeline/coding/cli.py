"""``sentinel model train``, ``sentinel coding run|status|review``, ``sentinel patterns ...``.

Mounted by ``pipeline/cli.py`` through ``register(app)``. Heavy imports (scikit-learn, DuckDB,
pandas) happen inside the commands so ``sentinel --help`` stays fast.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from pipeline.config import SAMPLE_DIR, Settings

SAMPLE_TRUTH = SAMPLE_DIR / "ground_truth.json"

model_app = typer.Typer(
    help="Train and inspect model artifacts (models/<name>/<version>/).", no_args_is_help=True
)
coding_app = typer.Typer(
    help="Product coding of stored cases and the coder-review queue.", no_args_is_help=True
)
review_app = typer.Typer(help="The coder-review queue (coding_review).", no_args_is_help=True)
patterns_app = typer.Typer(
    help="Hazard patterns: incremental clustering within categories.", no_args_is_help=True
)
coding_app.add_typer(review_app, name="review")


def _echo(message: str) -> None:
    typer.echo(message, err=True)


def _print(payload: object) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=1, default=str))


def _connect(settings: Settings, read_only: bool = False):
    from pipeline.storage.warehouse import connect

    if not settings.warehouse_path.exists():
        _echo(f"error: no warehouse at {settings.warehouse_path}: run `sentinel ingest` first")
        raise typer.Exit(2)
    return connect(settings.warehouse_path, read_only=read_only)


# ---- sentinel model ------------------------------------------------------------------------


@model_app.command("train")
def model_train(
    name: str = typer.Option("product_coder", "--name", help="Model name (models/<name>/)."),
    version: str = typer.Option(None, "--version", help="Version label (default: next vN)."),
    activate: bool = typer.Option(
        True, "--activate/--no-activate", help="Point models/<name>/CURRENT at the new version."
    ),
    target_accuracy: float = typer.Option(
        0.99,
        "--target-accuracy",
        min=0.5,
        max=1.0,
        help="Accuracy required of automatically accepted predictions (sets the review threshold).",
    ),
) -> None:
    """Train the product coder on stored cases of known category; write the artifact, metrics
    and model card under models/<name>/<version>/."""
    from pipeline.coding.train import train

    settings = Settings.from_env()
    con = _connect(settings, read_only=True)
    try:
        _coder, metrics = train(
            con,
            settings.models_dir,
            name=name,
            version=version,
            target_accuracy=target_accuracy,
            activate=activate,
            progress=_echo,
        )
    except FileExistsError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(2) from exc
    finally:
        con.close()
    test = metrics["test"]
    _print(
        {
            "model": f"{name}/{metrics['model']['version']}",
            "top1_accuracy": round(test["top1_accuracy"], 4),
            "top2_accuracy": round(test["top2_accuracy"], 4),
            "macro_f1": round(test["macro"]["f1"], 4),
            "ece": round(test["calibration"]["ece"], 4),
            "review_threshold": test["at_threshold"]["threshold"],
            "review_share": round(test["at_threshold"]["review_share"], 4),
            "auto_accuracy": test["at_threshold"]["auto_accuracy"],
            "artifact_bytes": metrics["model"]["artifact_bytes"],
            "activated": activate,
        }
    )


@model_app.command("list")
def model_list(name: str = typer.Option("product_coder", "--name")) -> None:
    """Versions of a model with their headline metrics; marks the CURRENT one."""
    from pipeline.coding.model import current_version, read_metrics

    settings = Settings.from_env()
    base = settings.models_dir / name
    try:
        current = current_version(settings.models_dir, name)
    except FileNotFoundError:
        current = None
    rows = []
    for path in sorted(p for p in base.glob("*") if p.is_dir()):
        try:
            m = read_metrics(settings.models_dir, name, path.name)
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
    _print(rows)


# ---- sentinel coding -----------------------------------------------------------------------


@coding_app.command("run")
def coding_run(
    model_name: str = typer.Option("product_coder", "--model", help="Model name."),
    version: str = typer.Option(None, "--version", help="Model version (default: CURRENT)."),
    recode: bool = typer.Option(
        False,
        "--recode",
        help="Also re-code cases coded or checked "
        "by another model version (coder decisions are kept).",
    ),
) -> None:
    """Code every stored active case lacking a current coding (new cases, corrections)."""
    from pipeline.coding import model as coder_model
    from pipeline.coding.store import run_coding

    settings = Settings.from_env()
    coder = coder_model.load(settings.models_dir, model_name, version)
    con = _connect(settings)
    try:
        summary = run_coding(con, coder, recode=recode, progress=_echo)
    finally:
        con.close()
    _print(summary.as_dict())


@coding_app.command("status")
def coding_status() -> None:
    """How stored cases are coded: by source and reason, models used, review queue size."""
    from pipeline.coding.store import coding_summary

    con = _connect(Settings.from_env(), read_only=True)
    try:
        _print(coding_summary(con))
    finally:
        con.close()


@review_app.command("list")
def review_list(
    status: str = typer.Option("open", "--status", help="open | resolved | superseded | all"),
    hospital: str = typer.Option(None, "--hospital", help="Only this hospital."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
) -> None:
    """Review items (default: the open queue, oldest first)."""
    from pipeline.coding.store import list_reviews, review_counts

    if status not in ("open", "resolved", "superseded", "all"):
        _echo("error: --status must be open, resolved, superseded or all")
        raise typer.Exit(2)
    con = _connect(Settings.from_env(), read_only=True)
    try:
        frame = list_reviews(con, status=status, limit=limit, hospital=hospital)
        counts = review_counts(con)
    finally:
        con.close()
    if as_json:
        _print(frame.to_dict("records"))
        return
    typer.echo(f"review items: {counts or 'none'}; showing {len(frame)} ({status})")
    for r in frame.itertuples(index=False):
        prob = (
            ""
            if r.probability is None or r.probability != r.probability
            else f" p={r.probability:.2f}"
        )
        runner = (
            ""
            if not isinstance(r.runner_up, str)
            else (f", runner-up {r.runner_up} p={r.runner_up_probability:.2f}")
        )
        given = f" hospital={r.hospital_category}" if isinstance(r.hospital_category, str) else ""
        done = (
            f" -> {r.resolution} by {r.resolved_by} at {r.resolved_at}"
            if r.status == "resolved"
            else ""
        )
        text = r.narrative if isinstance(r.narrative, str) else ""
        typer.echo(
            f"{r.hospital_code}:{r.case_id} v{r.case_version} [{r.status}] {r.reason}:"
            f" suggested {r.suggested_category}{prob}{runner}{given}{done}"
        )
        typer.echo(
            f"    {r.product_name if isinstance(r.product_name, str) else '-'} | {text[:120]}"
        )


@review_app.command("resolve")
def review_resolve(
    case: str = typer.Argument(
        ..., help="HOSPITAL:CASE_ID (or a case id unique across hospitals)."
    ),
    category: str = typer.Option(
        ..., "--category", help="Taxonomy code, or NONE for no product involved."
    ),
    by: str = typer.Option(..., "--by", help="Name of the coder deciding."),
    note: str = typer.Option(None, "--note", help="Optional comment kept with the decision."),
) -> None:
    """Record a coder's category for a case (closes its open review item; audit kept)."""
    from pipeline.coding.store import ReviewError, resolve_review

    con = _connect(Settings.from_env())
    try:
        result = resolve_review(con, case, category, by, note)
    except ReviewError as exc:
        _echo(f"error: {exc}")
        raise typer.Exit(2) from exc
    finally:
        con.close()
    _print(result)


# ---- sentinel patterns ---------------------------------------------------------------------


@patterns_app.command("refresh")
def patterns_refresh(
    week: str = typer.Option(
        None,
        "--week",
        help="Process cases up to this ISO week (YYYY-Www; default: the latest week with cases).",
    ),
    rebuild: bool = typer.Option(
        False,
        "--rebuild",
        help="Forget the pattern state and cluster every case again (pattern ids are re-issued).",
    ),
) -> None:
    """Assign newly coded cases to hazard patterns (existing cases keep their pattern ids)."""
    import re

    from pipeline.clustering.service import refresh

    if week is not None and not re.fullmatch(r"[0-9]{4}-W[0-9]{2}", week):
        _echo("error: --week must look like 2026-W47")
        raise typer.Exit(2)
    settings = Settings.from_env()
    con = _connect(settings)
    try:
        result = refresh(con, settings, week=week, rebuild=rebuild, progress=_echo)
    finally:
        con.close()
    _print(result)


@patterns_app.command("list")
def patterns_list(
    category: str = typer.Option(None, "--category", help="Only this product category."),
    limit: int = typer.Option(50, "--limit", min=1),
    sort: str = typer.Option("cases", "--sort", help="cases | recent | id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
) -> None:
    """Hazard patterns with their labels and sizes."""
    from pipeline.clustering.service import list_patterns

    con = _connect(Settings.from_env(), read_only=True)
    try:
        frame = list_patterns(con, category=category, limit=limit, sort=sort)
    finally:
        con.close()
    if as_json:
        _print(frame.to_dict("records"))
        return
    for r in frame.itertuples(index=False):
        typer.echo(f"{r.pattern_id}  n={r.n_cases}  {r.first_week}..{r.last_week}  {r.label_en}")
        typer.echo(f"    {r.label_zh}  | terms: {r.top_terms}")


@patterns_app.command("evaluate")
def patterns_evaluate(
    ground_truth: Path = typer.Option(
        SAMPLE_TRUTH,
        "--ground-truth",
        exists=True,
        dir_okay=False,
        help="A sample's ground_truth.json.",
    ),
) -> None:
    """Hazard purity against a sample's injected hazards: share of each hazard's cases in its
    most common pattern, and that pattern's precision since the hazard's onset."""
    from pipeline.clustering.quality import hazard_purity

    con = _connect(Settings.from_env(), read_only=True)
    try:
        rows = hazard_purity(con, ground_truth)
    finally:
        con.close()
    _print(rows)


def register(app: typer.Typer) -> None:
    """Mount ``model``, ``coding`` and ``patterns`` on the ``sentinel`` app."""
    app.add_typer(model_app, name="model")
    app.add_typer(coding_app, name="coding")
    app.add_typer(patterns_app, name="patterns")
