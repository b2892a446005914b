"""``sentinel evidence-pack --alert ID | --category CODE --from D --to D`` and
``sentinel evidence-pack verify ZIP``."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from pipeline.cli._common import parse_date, say, settings
from pipeline.errors import NotFound

app = typer.Typer(
    help="Build an evidence pack (zip) for an alert or a product category, or verify one.\n\n"
    "  sentinel evidence-pack --alert A1b2c3d4e5f6\n\n"
    "  sentinel evidence-pack --category HA01 --from 2026-09-01 --to 2026-11-30\n\n"
    "  sentinel evidence-pack [--week 2026-W47]   (the week's top-ranked alert)\n\n"
    "  sentinel evidence-pack verify var/evidence/evidence-A...zip",
    invoke_without_command=True,
)


@app.callback()
def evidence_pack(
    ctx: typer.Context,
    alert_id: str = typer.Option(None, "--alert", help="Alert id (`sentinel alerts list`)."),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the alert (default: its latest week in which it is not resolved).",
    ),
    category: str = typer.Option(
        None, "--category", help="Product category code, e.g. HA01 (instead of --alert)."
    ),
    date_from: str = typer.Option(None, "--from", help="First visit date, YYYY-MM-DD."),
    date_to: str = typer.Option(None, "--to", help="Last visit date, YYYY-MM-DD."),
    out: Path = typer.Option(
        None,
        "--out",
        help="Zip to write (default: "
        "$SENTINEL_HOME/evidence/evidence-<alert>-<week>.zip or "
        "evidence-<category>-<from>-<to>.zip).",
    ),
) -> None:
    """Write a deterministic evidence pack: the same request on the same data gives the same
    bytes. Without --alert or --category: the top-ranked alert of --week (default: the latest
    week with alerts). Prints the path of the zip."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.services import evidence

    started = time.perf_counter()
    say("building evidence pack ...")
    try:
        built = evidence.build(
            settings(),
            alert_id=alert_id,
            week=week,
            category=category,
            date_from=parse_date(date_from, "--from"),
            date_to=parse_date(date_to, "--to"),
            out=out,
        )
    except NotFound as exc:
        if not alert_id:
            raise
        raise NotFound(
            f"{exc.detail} (`sentinel alerts list [--week W]` shows the alert ids)"
        ) from exc
    if built.top_alert is not None:
        top = built.top_alert
        say(f"top alert of {top['week']}: {top['alert_id']} ({top['alert_type']} {top['subject']})")
    say(
        f"{built.size_bytes:,} bytes in {time.perf_counter() - started:.1f}s, "
        f"manifest sha256 {built.manifest_sha256}"
    )
    typer.echo(str(built.path))


@app.command("verify")
def verify(zip_path: Path = typer.Argument(..., help="Evidence pack to check.")) -> None:
    """Check a pack against its manifest: exit 0 when intact, 1 with the problems otherwise."""
    from pipeline.services import evidence

    problems = evidence.verify(zip_path)
    if problems:
        for problem in problems:
            typer.echo(f"FAIL {problem}")
        typer.echo(f"{zip_path}: {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK {zip_path}: every file matches manifest.json")


@app.command("requests")
def requests(
    build: bool = typer.Option(
        False, "--build", help="Build the pending requests (from the published snapshot)."
    ),
) -> None:
    """Evidence-pack requests made on the web (recall officers): list them, or build the
    pending ones (what the web app's background worker does; safe to run any time)."""
    from pipeline.services import accounts, evidence

    cfg = settings()
    db = accounts.open_appdb(cfg)
    try:
        if build:
            handled = evidence.build_requested(cfg, db)
            say(f"built {len(handled)} request(s)")
        for r in evidence.requests(db):
            typer.echo(
                f"{r.id}\t{r.status}\t{r.alert_id}\t{r.week}\t{r.requested_by}\t"
                f"{r.pack_name or ''}\t{(r.error or '')[:80]}"
            )
    finally:
        db.dispose()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="evidence-pack")
