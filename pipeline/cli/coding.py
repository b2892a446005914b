"""``sentinel model train``, ``sentinel coding run|status|review``, ``sentinel patterns ...``.

Wiring only: each command calls :mod:`pipeline.services.coding` or
:mod:`pipeline.services.clustering` (imported inside the command: they load scikit-learn).
"""

from __future__ import annotations

from pathlib import Path

import typer

from pipeline.cli._common import print_json, say, settings
from pipeline.config import SAMPLE_DIR

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
    calibration: Path = typer.Option(
        None,
        "--calibration",
        help="Labelled CSV not written by the generator: temperature, confidence model and "
        "auto-code threshold (never trained on).",
    ),
    evaluate: list[str] = typer.Option(
        [],
        "--evaluate",
        help="NAME=PATH of a labelled CSV to measure the model on (repeatable; measure only).",
    ),
) -> None:
    """Train the product coder on stored cases of known category; write the artifact, metrics
    and model card under models/<name>/<version>/."""
    from pipeline.services import coding

    metrics = coding.train_model(
        settings(),
        name=name,
        version=version,
        target_accuracy=target_accuracy,
        activate=activate,
        progress=say,
        calibration=calibration,
        evaluations=coding.parse_evaluations(evaluate),
    )
    print_json(coding.train_summary(metrics, name, activate))


@model_app.command("list")
def model_list(name: str = typer.Option("product_coder", "--name")) -> None:
    """Versions of a model with their headline metrics; marks the CURRENT one."""
    from pipeline.services import coding

    print_json(coding.list_models(settings(), name))


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
    from pipeline.services import coding

    print_json(coding.run(settings(), model_name, version, recode=recode, progress=say))


@coding_app.command("predict")
def coding_predict(
    input_csv: Path = typer.Argument(
        ..., help="UTF-8 CSV: narrative [, product_name, category_given]."
    ),
    output: Path = typer.Option(
        ..., "--output", "-o", help="CSV to write (input columns + decision)."
    ),
    model_name: str = typer.Option("product_coder", "--model", help="Model name."),
    version: str = typer.Option(None, "--version", help="Model version (default: CURRENT)."),
) -> None:
    """Code any narratives as the pipeline would: category, confidence, auto/review, top 3."""
    from pipeline.services import coding

    print_json(coding.predict(settings(), input_csv, output, model_name, version))


@coding_app.command("status")
def coding_status() -> None:
    """How stored cases are coded: by source and reason, models used, review queue size."""
    from pipeline.services import coding

    print_json(coding.status(settings()))


@review_app.command("list")
def review_list(
    status: str = typer.Option("open", "--status", help="open | resolved | superseded | all"),
    hospital: str = typer.Option(None, "--hospital", help="Only this hospital."),
    limit: int = typer.Option(50, "--limit", min=1),
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
) -> None:
    """Review items (default: the open queue, oldest first)."""
    from pipeline.services import coding

    frame, counts = coding.reviews(settings(), status=status, limit=limit, hospital=hospital)
    if as_json:
        print_json(frame.to_dict("records"))
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
    from pipeline.services import coding

    print_json(coding.resolve(settings(), case, category, by, note))


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
    from pipeline.services import clustering

    print_json(clustering.refresh_patterns(settings(), week=week, rebuild=rebuild, progress=say))


@patterns_app.command("list")
def patterns_list(
    category: str = typer.Option(None, "--category", help="Only this product category."),
    limit: int = typer.Option(50, "--limit", min=1),
    sort: str = typer.Option("cases", "--sort", help="cases | recent | id"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON records."),
) -> None:
    """Hazard patterns with their labels and sizes."""
    from pipeline.services import clustering

    frame = clustering.patterns(settings(), category=category, limit=limit, sort=sort)
    if as_json:
        print_json(frame.to_dict("records"))
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
    from pipeline.services import clustering

    print_json(clustering.purity(settings(), ground_truth))


def register(app: typer.Typer) -> None:
    """Mount ``model``, ``coding`` and ``patterns`` on the ``sentinel`` app."""
    app.add_typer(model_app, name="model")
    app.add_typer(coding_app, name="coding")
    app.add_typer(patterns_app, name="patterns")
