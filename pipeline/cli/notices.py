"""``sentinel notice render --alert ID --kind ... --lang ...``."""

from __future__ import annotations

import typer

from pipeline.cli._common import settings
from pipeline.errors import BadInput

app = typer.Typer(
    help="Documents from confirmed alerts: risk notice (regulators), consumer "
    "safety warning, recall referral; HTML and Markdown.",
    no_args_is_help=True,
)


@app.command("render")
def render(
    alert_id: str = typer.Option(
        ..., "--alert", help="A confirmed alert (`sentinel alerts list --decision confirm`)."
    ),
    kind: str = typer.Option(
        "all", "--kind", help="risk-notice | safety-warning | recall-referral | all."
    ),
    lang: str = typer.Option("all", "--lang", help="zh | en | all."),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the alert (default: its latest week in which it is not resolved).",
    ),
) -> None:
    """Render the documents of a confirmed alert; refuses (exit 2) unless the alert's current
    decision is confirm. Prints the paths written."""
    from pipeline.notices.render import KINDS, LANGS
    from pipeline.services import notices

    if kind != "all" and kind not in KINDS:
        raise BadInput(f"--kind {kind!r} is not one of {', '.join(KINDS)}, all")
    if lang != "all" and lang not in LANGS:
        raise BadInput(f"--lang {lang!r} is not one of zh, en, all")
    kinds = KINDS if kind == "all" else (kind,)
    langs = LANGS if lang == "all" else (lang,)
    paths = notices.render(settings(), alert_id, kinds, langs, week=week)
    for path in paths:
        typer.echo(str(path))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="notice")
