"""``sentinel notice draft|submit|approve|return|list|queue|show``: documents drafted from a
confirmed signal and their approval (wiring only: :mod:`pipeline.services.notices`)."""

from __future__ import annotations

import typer

from pipeline.cli._common import AS_USER_HELP, acting, settings, table, when
from pipeline.errors import BadInput

app = typer.Typer(
    help="Documents from confirmed signals (risk notice for regulators, consumer safety "
    "warning, recall referral), drafted by an analyst and approved or returned by a "
    "supervisor; an approved document is frozen.",
    no_args_is_help=True,
)
AS_OPTION = typer.Option(None, "--as", envvar="SENTINEL_USER", help=AS_USER_HELP)


def _show(view) -> None:  # type: ignore[no-untyped-def]
    typer.echo(
        f"notice {view.notice_id}: {view.kind} v{view.version} of {view.signal_id} "
        f"({view.week}) {view.status}"
        + (f" by {view.decided_by}" if view.decided_by else "")
        + f"; content sha256 {view.content_sha256}"
    )


@app.command("draft")
def draft(
    signal_id: str = typer.Option(
        ..., "--signal", help="A confirmed signal (`sentinel signals list --decision confirm`)."
    ),
    kind: str = typer.Option(..., "--kind", help="risk-notice | safety-warning | recall-referral."),
    week: str = typer.Option(None, "--week", help="Week of the signal (default: its latest)."),
    override_reason: str = typer.Option(
        None,
        "--override-reason",
        help="Safety warning only: why it goes out before the follow-up investigation is "
        "complete (recorded with the notice).",
    ),
    as_user: str = AS_OPTION,
) -> None:
    """Draft a new version of a document (zh and en, HTML and Markdown) from a confirmed
    signal; prints the notice and the files written. A recall referral builds (or finds) the
    signal's evidence pack and cites its id and manifest hash."""
    from pipeline.services import notices

    out = notices.draft(
        settings(),
        acting(as_user),
        signal_id,
        kind,
        week=week,
        override_reason=override_reason,
    )
    _show(out.notice)
    for path in out.paths:
        typer.echo(str(path))


@app.command("submit")
def submit(
    notice_id: str = typer.Argument(..., help="Notice id (from `sentinel notice list`)."),
    as_user: str = AS_OPTION,
) -> None:
    """Submit a draft for a supervisor's approval."""
    from pipeline.services import notices

    _show(notices.submit(settings(), acting(as_user), notice_id))


@app.command("approve")
def approve(
    notice_id: str = typer.Argument(..., help="Notice id (from `sentinel notice queue`)."),
    comment: str = typer.Option(None, "--comment", help="Optional comment."),
    as_user: str = AS_OPTION,
) -> None:
    """Approve a submitted notice (a supervisor other than its drafter): it is frozen."""
    from pipeline.services import notices

    _show(notices.approve(settings(), acting(as_user), notice_id, comment))


@app.command("return")
def return_notice(
    notice_id: str = typer.Argument(..., help="Notice id (from `sentinel notice queue`)."),
    comment: str = typer.Option(..., "--comment", help="What to change (required)."),
    as_user: str = AS_OPTION,
) -> None:
    """Return a submitted notice to its drafter with a comment."""
    from pipeline.services import notices

    _show(notices.return_notice(settings(), acting(as_user), notice_id, comment))


def _list(views, title: str) -> None:  # type: ignore[no-untyped-def]
    if not views:
        typer.echo("no notices match", err=True)
        return
    table(
        title,
        ["notice", "signal", "kind", "version", "status", "drafted", "decided", "comment"],
        [
            [
                v.notice_id,
                f"{v.signal_id} ({v.week})",
                v.kind,
                str(v.version),
                v.status,
                f"{when(v.drafted_at)} {v.drafted_by}",
                f"{when(v.decided_at)} {v.decided_by}" if v.decided_by else "",
                v.last_comment or "",
            ]
            for v in views
        ],
    )


@app.command("list")
def list_notices(
    signal_id: str = typer.Option(None, "--signal", help="Only this signal's notices."),
    status: str = typer.Option(None, "--status", help="draft | submitted | approved | returned."),
) -> None:
    """Notices, newest first."""
    from pipeline.services import notices

    views = notices.list_notices(settings(), signal_id, status)
    _list(views, f"Notices ({len(views)})")


@app.command("queue")
def queue() -> None:
    """Submitted notices waiting for a supervisor."""
    from pipeline.services import notices

    views = notices.queue(settings())
    _list(views, f"Waiting for approval ({len(views)})")


@app.command("show")
def show(
    notice_id: str = typer.Argument(..., help="Notice id."),
    lang: str = typer.Option(None, "--lang", help="Print the document: zh | en."),
    fmt: str = typer.Option("md", "--format", help="md | html (with --lang)."),
) -> None:
    """A notice's status and history; with --lang, its text."""
    from pipeline.services import notices

    info = notices.get(settings(), notice_id)
    _show(info["notice"])
    for step in info["history"]:
        typer.echo(
            f"  {when(step['at'])} {step['action']} by {step['by']}"
            + (f": {step['comment']}" if step["comment"] else "")
        )
    if lang:
        key = (lang, fmt)
        if key not in info["documents"]:
            raise BadInput(f"no document in {lang}/{fmt} (zh or en, md or html)")
        typer.echo(info["documents"][key])


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="notice")
