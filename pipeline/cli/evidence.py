"""``sentinel evidence-pack --signal ID | --category CODE --from D --to D`` and
``sentinel evidence-pack verify ZIP|PACK_ID``."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from pipeline.cli._common import parse_date, say, settings
from pipeline.errors import NotFound

app = typer.Typer(
    help="Build an evidence pack (zip) for a signal or a product category, or verify one.\n\n"
    "  sentinel evidence-pack --signal S1b2c3d4e5f6\n\n"
    "  sentinel evidence-pack --category HA01 --from 2026-09-01 --to 2026-11-30\n\n"
    "  sentinel evidence-pack [--week 2026-W47]   (the week's top-ranked signal)\n\n"
    "  sentinel evidence-pack verify var/evidence/evidence-S...zip (or its pack id)",
    invoke_without_command=True,
)


@app.callback()
def evidence_pack(
    ctx: typer.Context,
    signal_id: str = typer.Option(None, "--signal", help="Signal id (`sentinel signals list`)."),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the signal: the pack holds its cases from onset to this week "
        "(default: its latest week).",
    ),
    category: str = typer.Option(
        None, "--category", help="Product category code, e.g. HA01 (instead of --signal)."
    ),
    date_from: str = typer.Option(None, "--from", help="First visit date, YYYY-MM-DD."),
    date_to: str = typer.Option(None, "--to", help="Last visit date, YYYY-MM-DD."),
    out: Path = typer.Option(
        None,
        "--out",
        help="Zip to write (default: "
        "$SENTINEL_HOME/evidence/evidence-<signal>-<week>-<manifest digest>.zip or "
        "evidence-<category>-<from>-<to>-<digest>.zip); never overwritten.",
    ),
) -> None:
    """Write a deterministic, versioned evidence pack: the same request on the same data gives
    the same bytes and the same file; new data gives a new file beside the old one. Without
    --signal or --category: the top-ranked signal of --week (default: the latest week with
    signals). Prints the path of the zip."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.services import evidence

    started = time.perf_counter()
    say("building evidence pack ...")
    try:
        built = evidence.build(
            settings(),
            signal_id=signal_id,
            week=week,
            category=category,
            date_from=parse_date(date_from, "--from"),
            date_to=parse_date(date_to, "--to"),
            out=out,
        )
    except NotFound as exc:
        if not signal_id:
            raise
        raise NotFound(
            f"{exc.detail} (`sentinel signals list [--week W]` shows the signal ids)"
        ) from exc
    if built.top_signal is not None:
        top = built.top_signal
        say(
            f"top signal of {top['week']}: {top['signal_id']} ({top['anchor']}, "
            f"{top['n_cases']} cases since {top['onset_week']})"
        )
    say(
        f"pack {built.pack_id}: {built.size_bytes:,} bytes in "
        f"{time.perf_counter() - started:.1f}s, manifest sha256 {built.manifest_sha256}"
    )
    typer.echo(str(built.path))


@app.command("verify")
def verify(
    reference: str = typer.Argument(
        ..., help="Evidence pack to check: a zip file, or a pack id under the evidence folder."
    ),
) -> None:
    """Check a pack against its manifest (and its name against the manifest hash): exit 0
    when intact, 1 with the problems otherwise."""
    from pipeline.services import evidence

    zip_path = evidence.resolve(settings(), reference)
    problems = evidence.verify(zip_path)
    if problems:
        for problem in problems:
            typer.echo(f"FAIL {problem}")
        typer.echo(f"{zip_path}: {len(problems)} problem(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK {zip_path}: every file matches manifest.json")
    from pipeline.evidence.pack import manifest_digest

    typer.echo(f"manifest sha256 {manifest_digest(zip_path)}")


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
                f"{r.id}\t{r.status}\t{r.signal_id}\t{r.week}\t{r.requested_by}\t"
                f"{r.pack_name or ''}\t{(r.error or '')[:80]}"
            )
    finally:
        db.dispose()


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="evidence-pack")
