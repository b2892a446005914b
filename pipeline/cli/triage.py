"""``sentinel alerts list|show|triage`` and ``sentinel followup list|record``.

Listing reads the published snapshot (never waits for a pipeline run); recording is a short
writing run through :mod:`pipeline.services.triage`.
"""

from __future__ import annotations

from datetime import date

import typer

from pipeline.cli._common import num, pvalue, settings, table, when
from pipeline.errors import BadInput
from pipeline.escaping import terminal_text

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
    from pipeline.services import triage

    frame = triage.alerts(settings(), week, status, decision)
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
            num(r["rank"], 0),
            r["alert_id"],
            r["alert_type"],
            terminal_text(r["subject"], 40),
            r["status"],
            f"{num(r['observed'], 0)} / {num(r['expected'])}",
            num(r["threshold"]),
            pvalue(r["pvalue"]),
            r["hospitals"],
            f"{r['n_severe']}/{r['n_admitted']}/{r['n_died']}",
            (r["decision"] or "").replace("_", "-") if isinstance(r["decision"], str) else "-",
        ]
        for r in frame.to_dict("records")
    ]
    table(
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
    from pipeline.services import triage

    details = triage.alert_details(settings(), alert_id, week)
    alert, cases = details["alert"], details["cases"]
    history, follow = details["history"], details["followups"]
    typer.echo(
        f"alert {alert['alert_id']}  week {alert['week']}  rank "
        f"{num(alert['rank'], 0) or '-'}  status {alert['status']}"
    )
    typer.echo(f"  {alert['alert_type']}: {terminal_text(alert['subject'])}")
    typer.echo(
        f"  method {alert['method']}: observed {num(alert['observed'], 0)}, expected "
        f"{num(alert['expected'], 2)}, threshold {num(alert['threshold'], 2)}, "
        f"p {pvalue(alert['pvalue'])}, q {pvalue(alert['qvalue'])}"
    )
    typer.echo(
        f"  hospitals {alert['hospitals']}  severe {alert['n_severe']}  admitted "
        f"{alert['n_admitted']}  died {alert['n_died']}"
    )
    table(
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
                f"{num(c['age'], 0)}{(c['age_unit'] or 'y')[0]} {(c['sex'] or '?')[0]}",
                c["severity"],
                c["outcome"],
                terminal_text(c["product_name"], 30),
                " / ".join(terminal_text(c[k], 20) for k in ("brand", "model", "batch")),
                terminal_text(c["narrative"], narrative_width),
            ]
            for c in cases.to_dict("records")
        ],
    )
    if history.empty:
        typer.echo(f"triage: not yet triaged (sentinel alerts triage {alert_id} --decision ...)")
    else:
        table(
            "Triage history",
            ["when (UTC)", "week", "decision", "by", "reason"],
            [
                [
                    when(h["recorded_at"]),
                    h["week"],
                    h["decision"].replace("_", "-"),
                    h["actor"],
                    h["reason"],
                ]
                for h in history.to_dict("records")
            ],
        )
    if not follow.empty:
        _followtable(follow, "Follow-ups")


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
    from pipeline.services import triage

    out = triage.decide(
        settings(),
        alert_id,
        decision,
        actor,
        reason,
        week=week,
        cases=cases or [],
        force_case=force_case,
    )
    typer.echo(
        f"recorded {out['decision'].replace('_', '-')} on {alert_id} ({out['week']}) "
        f"by {actor}: event {out['event_id']}"
    )
    for followup_id in out["followup_ids"]:
        typer.echo(f"follow-up {followup_id} due {out['due_date']}")


# ---- sentinel followup ---------------------------------------------------------------------


def _followtable(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    table(
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
                f"{when(f['requested_at'])} {f['requested_by']}",
                terminal_text(f["due_date"])[:10],
                f["status"],
                "" if not isinstance(f["result_id"], str) else ("yes" if f["reached"] else "no"),
                terminal_text(f["product_role"]),
                " / ".join(
                    terminal_text(f[k], 20)
                    for k in ("brand_verified", "model_verified", "batch_verified")
                ),
                terminal_text(f["conclusion"], 60),
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
    from pipeline.services import triage

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as exc:
        raise BadInput(f"--as-of {as_of!r} is not a date YYYY-MM-DD") from exc
    frame = triage.followups(settings(), alert_id, only_open=only_open, overdue=overdue, as_of=day)
    if as_json:
        typer.echo(frame.to_json(orient="records", force_ascii=False, date_format="iso"))
        return
    if frame.empty:
        typer.echo("no follow-ups match", err=True)
        return
    _followtable(frame, f"Follow-ups ({len(frame)})")


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
    from pipeline.services import triage

    result_id = triage.record_result(
        settings(),
        followup_id,
        reached=reached,
        actor=actor,
        conclusion=conclusion,
        product_role=role,
        brand=brand,
        model=model,
        batch=batch,
    )
    typer.echo(f"recorded result {result_id} for follow-up {followup_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(followup_app, name="followup")
