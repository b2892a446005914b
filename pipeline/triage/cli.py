"""``sentinel alerts list|show|triage`` and ``sentinel followup list|record``.

``register(app)`` also mounts ``sentinel notice`` and ``sentinel evidence-pack`` (one line in
``pipeline/cli.py`` for the whole alert-to-evidence workflow). Each command opens the
warehouse only for as long as it runs: DuckDB allows one writer, and the pipeline must not be
locked out by an analyst's open session.
"""

from __future__ import annotations

import re
import sys
from datetime import date

import typer

alerts_app = typer.Typer(
    help="Review the weekly hazard alerts: list, show, triage "
    "(confirm / dismiss / watch / follow-up).",
    no_args_is_help=True,
)
followup_app = typer.Typer(
    help="Follow-up investigations of selected cases (due 10 working "
    "days after the request): list and record results.",
    no_args_is_help=True,
)

ACTOR_HELP = "Who records this (your name or staff id); default: $SENTINEL_ACTOR."
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(2)


def _settings():  # type: ignore[no-untyped-def]
    from pipeline.config import Settings

    return Settings.from_env()


def _connect(read_only: bool):  # type: ignore[no-untyped-def]
    import duckdb

    from pipeline.storage.warehouse import connect

    settings = _settings()
    if not settings.warehouse_path.exists():
        raise _fail(f"no warehouse at {settings.warehouse_path}: run `sentinel ingest` first")
    try:
        return connect(settings.warehouse_path, read_only=read_only)
    except duckdb.IOException as exc:  # another process holds the write lock
        raise _fail(
            f"the warehouse is busy ({exc}); retry when the pipeline run has finished"
        ) from exc


def _text(value: object, width: int | None = None) -> str:
    """Terminal-safe text: no control characters (a narrative cannot move the cursor)."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = _CONTROL_RE.sub(" ", str(value))
    if width and len(text) > width:
        text = text[: width - 1] + "…"
    return text


def _table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(title=title, show_lines=False, title_justify="left")
    for column in columns:
        table.add_column(column, overflow="fold")
    for row in rows:  # Text cells: rich markup in a narrative stays text
        table.add_row(*[Text(_text(v)) for v in row])
    # Piped output (less, a file) gets room for the columns instead of 80-column wrapping.
    Console(soft_wrap=False, width=None if sys.stdout.isatty() else 200).print(table)


def _num(value: object, digits: int = 1) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    if number != number:
        return ""
    return f"{number:.{digits}f}" if digits else f"{number:.0f}"


def _p(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if number != number else f"{number:.2g}"


def _when(value: object) -> str:
    text = _text(value)
    return text[:16] if text else ""


# ---- sentinel alerts -----------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    week: str = typer.Option(
        None, "--week", help="ISO week, e.g. 2026-W47 (default: the latest week with alerts)."
    ),
    status: str = typer.Option(None, "--status", help="new | ongoing | resolved."),
    decision: str = typer.Option(
        None, "--decision", help="confirm | dismiss | watch | follow-up | none (not yet triaged)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The week's alerts in the detectors' rank order, with each alert's current decision."""
    from pipeline.triage.store import TriageError, list_alerts

    if status and status not in ("new", "ongoing", "resolved"):
        raise _fail(f"--status {status!r} is not one of new, ongoing, resolved")
    con = _connect(read_only=True)
    try:
        frame = list_alerts(con, week, status, decision)
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    finally:
        con.close()
    if frame.empty:
        typer.echo("no alerts" + (f" in {week}" if week else "") + " match", err=True)
        return
    if as_json:
        keep = [
            "week",
            "rank",
            "alert_id",
            "alert_type",
            "subject",
            "status",
            "observed",
            "expected",
            "threshold",
            "pvalue",
            "qvalue",
            "n_hospitals",
            "hospitals",
            "n_severe",
            "n_admitted",
            "n_died",
            "decision",
            "decided_by",
            "decided_at",
        ]
        typer.echo(frame[keep].to_json(orient="records", force_ascii=False, date_format="iso"))
        return
    rows = [
        [
            _num(r["rank"], 0),
            r["alert_id"],
            r["alert_type"],
            _text(r["subject"], 40),
            r["status"],
            f"{_num(r['observed'], 0)} / {_num(r['expected'])}",
            _num(r["threshold"]),
            _p(r["pvalue"]),
            r["hospitals"],
            f"{r['n_severe']}/{r['n_admitted']}/{r['n_died']}",
            (r["decision"] or "").replace("_", "-") if isinstance(r["decision"], str) else "-",
        ]
        for r in frame.to_dict("records")
    ]
    _table(
        f"Alerts {frame['week'].iloc[0]} ({len(frame)})",
        [
            "rank",
            "alert",
            "type",
            "subject",
            "status",
            "obs / exp",
            "threshold",
            "p",
            "hospitals",
            "severe/adm/died",
            "decision",
        ],
        rows,
    )


@alerts_app.command("show")
def alerts_show(
    alert_id: str = typer.Argument(..., help="Alert id (from `sentinel alerts list`)."),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the alert (default: its latest week in which it is not resolved).",
    ),
    narrative_width: int = typer.Option(90, "--width", help="Narrative characters shown."),
) -> None:
    """An alert's details: why it fired, its cases, triage history and follow-ups."""
    from pipeline.reporting.context import alert_cases
    from pipeline.triage.store import TriageError, decision_history, find_alert, followups

    con = _connect(read_only=True)
    try:
        alert = find_alert(con, alert_id, week)
        cases = alert_cases(con, alert)
        history = decision_history(con, alert_id)
        follow = followups(con, alert_id)
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    finally:
        con.close()
    typer.echo(
        f"alert {alert['alert_id']}  week {alert['week']}  rank "
        f"{_num(alert['rank'], 0) or '-'}  status {alert['status']}"
    )
    typer.echo(f"  {alert['alert_type']}: {_text(alert['subject'])}")
    typer.echo(
        f"  method {alert['method']}: observed {_num(alert['observed'], 0)}, expected "
        f"{_num(alert['expected'], 2)}, threshold {_num(alert['threshold'], 2)}, "
        f"p {_p(alert['pvalue'])}, q {_p(alert['qvalue'])}"
    )
    typer.echo(
        f"  hospitals {alert['hospitals']}  severe {alert['n_severe']}  admitted "
        f"{alert['n_admitted']}  died {alert['n_died']}"
    )
    _table(
        f"Cases ({len(cases)})",
        [
            "case",
            "visit",
            "age/sex",
            "severity",
            "outcome",
            "product",
            "brand/model/batch",
            "narrative",
        ],
        [
            [
                f"{c['hospital_code']}/{c['case_id']}",
                c["visit_date"],
                f"{_num(c['age'], 0)}{(c['age_unit'] or 'y')[0]} {(c['sex'] or '?')[0]}",
                c["severity"],
                c["outcome"],
                _text(c["product_name"], 30),
                " / ".join(_text(c[k], 20) for k in ("brand", "model", "batch")),
                _text(c["narrative"], narrative_width),
            ]
            for c in cases.to_dict("records")
        ],
    )
    if history.empty:
        typer.echo(f"triage: not yet triaged (sentinel alerts triage {alert_id} --decision ...)")
    else:
        _table(
            "Triage history",
            ["when (UTC)", "week", "decision", "by", "reason"],
            [
                [
                    _when(h["recorded_at"]),
                    h["week"],
                    h["decision"].replace("_", "-"),
                    h["actor"],
                    h["reason"],
                ]
                for h in history.to_dict("records")
            ],
        )
    if not follow.empty:
        _follow_table(follow, "Follow-ups")


@alerts_app.command("triage")
def alerts_triage(
    alert_id: str = typer.Argument(..., help="Alert id (from `sentinel alerts list`)."),
    decision: str = typer.Option(..., "--decision", help="confirm | dismiss | watch | follow-up"),
    actor: str = typer.Option(..., "--actor", envvar="SENTINEL_ACTOR", help=ACTOR_HELP),
    reason: str = typer.Option(
        ..., "--reason", help="Why (required; stored scrubbed of ID and phone numbers)."
    ),
    cases: list[str] = typer.Option(
        None,
        "--cases",
        help="Follow-up only: cases to investigate, HOSPITAL/CASE_ID, comma-separated.",
    ),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the alert (default: its latest week in which it is not resolved).",
    ),
    force_case: bool = typer.Option(
        False,
        "--force-case",
        help="Allow follow-up of stored cases that are not among the alert's cases.",
    ),
) -> None:
    """Record a decision on an alert (append-only; the latest decision is the current one).

    follow-up creates one follow-up per selected case, due 10 working days later (Chinese
    public holidays skipped).
    """
    from pipeline.triage.store import TriageError, record_decision

    con = _connect(read_only=False)
    try:
        out = record_decision(
            con,
            alert_id,
            decision,
            actor,
            reason,
            week=week,
            cases=cases or [],
            force_case=force_case,
        )
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    finally:
        con.close()
    typer.echo(
        f"recorded {out['decision'].replace('_', '-')} on {alert_id} ({out['week']}) "
        f"by {actor}: event {out['event_id']}"
    )
    for followup_id in out["followup_ids"]:
        typer.echo(f"follow-up {followup_id} due {out['due_date']}")


# ---- sentinel followup ---------------------------------------------------------------------


def _follow_table(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    _table(
        title,
        [
            "follow-up",
            "alert",
            "case",
            "requested",
            "due",
            "status",
            "reached",
            "role",
            "brand/model/batch",
            "conclusion",
        ],
        [
            [
                f["followup_id"],
                f["alert_id"],
                f"{f['hospital_code']}/{f['case_id']}",
                f"{_when(f['requested_at'])} {f['requested_by']}",
                _text(f["due_date"])[:10],
                f["status"],
                "" if not isinstance(f["result_id"], str) else ("yes" if f["reached"] else "no"),
                _text(f["product_role"]),
                " / ".join(
                    _text(f[k], 20) for k in ("brand_verified", "model_verified", "batch_verified")
                ),
                _text(f["conclusion"], 60),
            ]
            for f in frame.to_dict("records")
        ],
    )


@followup_app.command("list")
def followup_list(
    alert_id: str = typer.Option(None, "--alert", help="Only this alert's follow-ups."),
    only_open: bool = typer.Option(
        False, "--open", help="Only follow-ups without a result (open or overdue)."
    ),
    overdue: bool = typer.Option(False, "--overdue", help="Only overdue follow-ups."),
    as_of: str = typer.Option(
        None, "--as-of", help="Date for open/overdue (default: today in China), YYYY-MM-DD."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """Follow-ups with their latest result and status (open, overdue, completed)."""
    from pipeline.triage.store import followups

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise _fail(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from exc
    con = _connect(read_only=True)
    try:
        frame = followups(con, alert_id, as_of=day)
    finally:
        con.close()
    if overdue:
        frame = frame[frame["status"] == "overdue"]
    elif only_open:
        frame = frame[frame["status"] != "completed"]
    if as_json:
        typer.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
        return
    if frame.empty:
        typer.echo("no follow-ups match", err=True)
        return
    _follow_table(frame, f"Follow-ups ({len(frame)})")


@followup_app.command("record")
def followup_record(
    followup_id: str = typer.Argument(..., help="Follow-up id (from `sentinel followup list`)."),
    reached: bool = typer.Option(
        ..., "--reached/--not-reached", help="Whether the patient or family was reached."
    ),
    conclusion: str = typer.Option(
        ...,
        "--conclusion",
        help="What the follow-up found (stored scrubbed of ID and phone numbers).",
    ),
    actor: str = typer.Option(..., "--actor", envvar="SENTINEL_ACTOR", help=ACTOR_HELP),
    role: str = typer.Option(
        None,
        "--role",
        help="Product's role: caused | contributed | "
        "involved_not_causal | unrelated | undetermined (required when "
        "reached).",
    ),
    brand: str = typer.Option(None, "--brand", help="Brand verified."),
    model: str = typer.Option(None, "--model", help="Model verified."),
    batch: str = typer.Option(None, "--batch", help="Batch / lot verified."),
) -> None:
    """Record the result of a follow-up (a later record supersedes, history is kept)."""
    from pipeline.triage.store import TriageError, record_followup_result

    con = _connect(read_only=False)
    try:
        result_id = record_followup_result(
            con,
            followup_id,
            reached=reached,
            actor=actor,
            conclusion=conclusion,
            product_role=role,
            brand=brand,
            model=model,
            batch=batch,
        )
    except TriageError as exc:
        raise _fail(str(exc)) from exc
    finally:
        con.close()
    typer.echo(f"recorded result {result_id} for follow-up {followup_id}")


def register(app: typer.Typer) -> None:
    """Mount alerts, followup, notice and evidence-pack."""
    from pipeline.evidence.cli import register as register_evidence
    from pipeline.notices.cli import register as register_notices

    app.add_typer(alerts_app, name="alerts")
    app.add_typer(followup_app, name="followup")
    register_notices(app)
    register_evidence(app)
