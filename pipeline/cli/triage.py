"""``sentinel signals list|show|decide``, ``sentinel alerts list|show`` and ``sentinel followup
order|list|record``.

Listing reads the published snapshot and the application database (never waits for a pipeline
run); recording writes only the application database, as the Sentinel user named by ``--as``
(or ``$SENTINEL_USER``), through :mod:`pipeline.services.triage`.
"""

from __future__ import annotations

import json
from datetime import date

import typer

from pipeline.cli._common import AS_USER_HELP, acting, lang_of, settings, table, when
from pipeline.errors import BadInput
from pipeline.escaping import terminal_text

signals_app = typer.Typer(
    help="Signals (the alerts of one hazard, grouped): list, show, decide "
    "(confirm / dismiss / watch).",
    no_args_is_help=True,
)
alerts_app = typer.Typer(
    help="The detectors' weekly alerts, each under its signal: list, show.",
    no_args_is_help=True,
)
followup_app = typer.Typer(
    help="Follow-up investigations of a signal's cases (due 10 working days after the "
    "order): order, list, record results.",
    no_args_is_help=True,
)

AS_OPTION = typer.Option(None, "--as", envvar="SENTINEL_USER", help=AS_USER_HELP)


def _int(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""
    return "" if number != number else str(int(round(number)))


# ---- sentinel signals ----------------------------------------------------------------------


@signals_app.command("list")
def signals_list(
    ctx: typer.Context,
    week: str = typer.Option(
        None, "--week", help="ISO week, e.g. 2026-W47 (default: the latest week with signals)."
    ),
    status: str = typer.Option(
        None, "--status", help="new | ongoing | reopened | quiet | resolved | open."
    ),
    decision: str = typer.Option(
        None, "--decision", help="confirm | dismiss | watch | none (not yet triaged)."
    ),
    family: str = typer.Option(None, "--family", help="Product family code, e.g. HA."),
    city: str = typer.Option(None, "--city", help="City of residence, e.g. 440100."),
    severity: str = typer.Option(None, "--severity", help="died | severe | admitted | other."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The week's signals: ranked active ones, then quiet and resolved ones, each with its
    category name, cases since onset, decision and investigation."""
    from pipeline.services import signals

    lang = lang_of(ctx)
    box = signals.inbox(settings(), week, status, decision, family, city, severity, lang)
    frame = box.signals
    if frame.empty:
        typer.echo("no signals" + (f" in {box.week}" if box.week else "") + " match", err=True)
        return
    if as_json:
        keep = [
            "week",
            "rank",
            "signal_id",
            "title",
            "status",
            "category",
            "onset_week",
            "first_week",
            "quiet_weeks",
            "n_alerts",
            "n_cases",
            "n_hospitals",
            "n_severe",
            "n_admitted",
            "n_died",
            "cities",
            "decision",
            "investigation",
            "followups_ordered",
            "followups_completed",
        ]
        records = frame[keep].to_dict("records")
        for r in records:
            r["detectors"] = json.loads(
                frame.loc[frame["signal_id"] == r["signal_id"], "detectors"].iloc[0]
            )
        typer.echo(json.dumps(records, ensure_ascii=False, default=str))
        return
    from pipeline.reporting.explain import DECISION_NAMES, INVESTIGATION_NAMES, STATUS_NAMES

    rows = [
        [
            _int(r["rank"]) or "-",
            r["signal_id"],
            terminal_text(r["title"], 50),
            STATUS_NAMES[lang].get(r["status"], r["status"])
            + (f" ({r['quiet_weeks']})" if r["status"] in ("quiet", "resolved") else ""),
            f"{r['onset_week']}..{box.week}",
            str(r["n_cases"]),
            str(r["n_alerts"]),
            r["hospitals"],
            f"{r['n_severe']}/{r['n_admitted']}/{r['n_died']}",
            DECISION_NAMES[lang][r["decision"] if isinstance(r["decision"], str) else None],
            INVESTIGATION_NAMES[lang][r["investigation"]],
        ]
        for r in frame.to_dict("records")
    ]
    counts = ", ".join(f"{k} {v}" for k, v in box.counts.items() if v)
    table(
        f"Signals {box.week} ({len(frame)}; {counts})",
        [
            "rank",
            "signal",
            "product / hazard",
            "status",
            "window",
            "cases",
            "alerts",
            "hospitals",
            "severe/adm/died",
            "decision",
            "investigation",
        ],
        rows,
    )


@signals_app.command("show")
def signals_show(
    ctx: typer.Context,
    signal_id: str = typer.Argument(..., help="Signal id (from `sentinel signals list`)."),
    week: str = typer.Option(None, "--week", help="Week of the signal (default: its latest)."),
    narrative_width: int = typer.Option(90, "--width", help="Narrative characters shown."),
) -> None:
    """A signal: its evidence window, why it was raised (every member alert), its cases, its
    decision, follow-ups, notices and evidence packs."""
    from pipeline.reporting.explain import DECISION_NAMES, INVESTIGATION_NAMES, age_text
    from pipeline.services import signals

    lang = lang_of(ctx)
    info = signals.details(settings(), signal_id, week, lang)
    signal = info["signal"]
    typer.echo(
        f"signal {signal['signal_id']}  week {signal['week']}  rank "
        f"{_int(signal['rank']) or '-'}  status {info['status_label']}  first raised "
        f"{signal['first_week']}"
    )
    typer.echo(f"  {terminal_text(info['title'])}")
    typer.echo(f"  {terminal_text(info['window'])}")
    decision = info["decision"]
    typer.echo(
        "  decision: "
        + DECISION_NAMES[lang][decision["decision"] if decision else None]
        + (f" ({decision['actor']}, {when(decision['recorded_at'])})" if decision else "")
        + " · investigation: "
        + INVESTIGATION_NAMES[lang][info["investigation"]["state"]]
        + f" ({info['investigation']['completed']}/{info['investigation']['ordered']})"
    )
    typer.echo("why it was raised:")
    for member in info["members"]:
        typer.echo(f"  {member['week']} {member['alert_id']}: {terminal_text(member['why'])}")
    cases = info["cases"]
    table(
        f"Cases since onset ({len(cases)})",
        ["case", "visit", "age/sex", "severity", "outcome", "product", "brand/model", "narrative"],
        [
            [
                f"{c['hospital_code']}/{c['case_id']}",
                c["visit_date"],
                f"{age_text(c['age'], c['age_unit'], lang)} {(c['sex'] or '?')[0]}",
                c["severity"],
                c["outcome"],
                terminal_text(c["product_name"], 30),
                " / ".join(terminal_text(c[k], 20) for k in ("brand", "model")),
                terminal_text(c["narrative"], narrative_width),
            ]
            for c in cases.to_dict("records")
        ],
    )
    history = info["decisions"]
    if not history.empty:
        table(
            "Decisions",
            ["when (UTC)", "week", "decision", "was", "by", "reason"],
            [
                [
                    when(h["recorded_at"]),
                    h["week"],
                    h["decision"],
                    h["previous"] or "-",
                    f"{h['actor']} ({h['channel']})"
                    + (f" legacy: {h['legacy_actor']}" if h["legacy_actor"] else ""),
                    terminal_text(h["reason"], 60),
                ]
                for h in history.to_dict("records")
            ],
        )
    if not info["followups"].empty:
        _followtable(info["followups"], "Follow-ups")
    for notice in info["notices"]:
        typer.echo(f"notice {notice.notice_id}: {notice.kind} v{notice.version} {notice.status}")
    for pack in info["packs"]:
        typer.echo(
            f"evidence pack {pack['pack_id']}: {'verified' if pack['verified'] else 'FAILS'}"
        )


@signals_app.command("decide")
def signals_decide(
    signal_id: str = typer.Argument(..., help="Signal id (from `sentinel signals list`)."),
    decision: str = typer.Option(..., "--decision", help="confirm | dismiss | watch."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (required; stored scrubbed of identifiers)."
    ),
    week: str = typer.Option(
        None, "--week", help="The signal week you looked at (default: its latest)."
    ),
    expect: str = typer.Option(
        None,
        "--expect",
        help="The decision you saw (confirm | dismiss | watch | none): refused if someone "
        "decided meanwhile.",
    ),
    as_user: str = AS_OPTION,
) -> None:
    """Record the decision on a signal (append-only; the latest decision is the current one;
    follow-ups are ordered with `sentinel followup order` and never change it)."""
    from pipeline.services import triage
    from pipeline.triage.store import UNSET

    expected: object = UNSET
    if expect is not None:
        expected = None if expect.strip().lower() == "none" else expect.strip().lower()
    out = triage.decide(
        settings(), acting(as_user), signal_id, decision, reason, week=week, expected=expected
    )
    typer.echo(
        f"recorded {out.decision} on {signal_id} ({out.week}) by {out.actor}"
        + (f", was {out.previous}" if out.previous else "")
        + f": {out.decision_id}"
    )


# ---- sentinel alerts -----------------------------------------------------------------------


@alerts_app.command("list")
def alerts_list(
    ctx: typer.Context,
    week: str = typer.Option(
        None, "--week", help="ISO week, e.g. 2026-W47 (default: the latest week with alerts)."
    ),
    status: str = typer.Option(None, "--status", help="new | ongoing | resolved."),
    signal_id: str = typer.Option(None, "--signal", help="Only the alerts of this signal."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
) -> None:
    """The week's alerts in the detectors' rank order, each with its signal; names beside
    codes, counts as integers, the threshold in the terms of its method."""
    from pipeline.reporting.explain import alert_brief
    from pipeline.services import signals as signals_service
    from pipeline.services import triage

    frame = triage.alerts(settings(), week, status, signal_id)
    if frame.empty:
        typer.echo("no alerts" + (f" in {week}" if week else "") + " match", err=True)
        return
    lang = lang_of(ctx)
    names = signals_service.subject_labels(settings(), frame.to_dict("records"), lang)
    records = []
    for r, name in zip(frame.to_dict("records"), names, strict=True):
        brief = alert_brief(r)
        records.append({**r, **brief, "subject_label": name})
    if as_json:
        keep = [
            "week",
            "rank",
            "alert_id",
            "signal_id",
            "alert_type",
            "subject",
            "subject_label",
            "status",
            "method",
            "week_count",
            "expected",
            "alarm_from",
            "cases",
            "span",
            "pvalue",
            "qvalue",
            "n_hospitals",
            "hospitals",
            "n_severe",
            "n_admitted",
            "n_died",
            "decision",
        ]
        typer.echo(
            json.dumps(
                [{k: _json_value(r.get(k)) for k in keep} for r in records],
                ensure_ascii=False,
            )
        )
        return
    rows = [
        [
            _int(r["rank"]) or "-",
            r["alert_id"],
            r["signal_id"] if isinstance(r["signal_id"], str) else "-",
            r["alert_type"],
            terminal_text(r["subject_label"], 44),
            r["status"],
            f"{r['cases']} ({r['span']})",
            "" if r["week_count"] is None else str(r["week_count"]),
            r["expected"] or "",
            "" if r["alarm_from"] is None else f">= {r['alarm_from']}",
            r["pvalue"] or "",
            r["hospitals"] or "",
            f"{_int(r['n_severe'])}/{_int(r['n_admitted'])}/{_int(r['n_died'])}",
            r["decision"] if isinstance(r["decision"], str) else "-",
        ]
        for r in records
    ]
    table(
        f"Alerts {frame['week'].iloc[0]} ({len(frame)})",
        [
            "rank",
            "alert",
            "signal",
            "type",
            "subject",
            "status",
            "cases (span)",
            "this week",
            "expected",
            "alarm at",
            "p",
            "hospitals",
            "severe/adm/died",
            "signal decision",
        ],
        rows,
    )


def _json_value(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and value != value:
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) and not isinstance(value, str) else value


@alerts_app.command("show")
def alerts_show(
    ctx: typer.Context,
    alert_id: str = typer.Argument(..., help="Alert id (from `sentinel alerts list`)."),
    week: str = typer.Option(
        None,
        "--week",
        help="Week of the alert (default: its latest week in which it is not resolved).",
    ),
    narrative_width: int = typer.Option(90, "--width", help="Narrative characters shown."),
) -> None:
    """An alert: why it fired, the signal it belongs to, its cases."""
    from pipeline.reporting.explain import age_text, alert_sentence
    from pipeline.services import signals as signals_service
    from pipeline.services import triage

    lang = lang_of(ctx)
    details = triage.alert_details(settings(), alert_id, week)
    alert, cases = details["alert"], details["cases"]
    name = signals_service.subject_labels(settings(), [alert], lang)[0]
    typer.echo(
        f"alert {alert['alert_id']}  week {alert['week']}  rank "
        f"{_int(alert['rank']) or '-'}  status {alert['status']}  signal "
        f"{details['signal_id'] or '-'}"
    )
    typer.echo(f"  {alert['alert_type']}: {terminal_text(name)}")
    typer.echo(f"  {terminal_text(alert_sentence(alert, lang))}")
    table(
        f"Cases ({len(cases)})",
        ["case", "visit", "age/sex", "severity", "outcome", "product", "narrative"],
        [
            [
                f"{c['hospital_code']}/{c['case_id']}",
                c["visit_date"],
                f"{age_text(c['age'], c['age_unit'], lang)} {(c['sex'] or '?')[0]}",
                c["severity"],
                c["outcome"],
                terminal_text(c["product_name"], 30),
                terminal_text(c["narrative"], narrative_width),
            ]
            for c in cases.to_dict("records")
        ],
    )
    if details["signal_id"]:
        typer.echo(f"triage is on its signal: sentinel signals show {details['signal_id']}")


# ---- sentinel followup ---------------------------------------------------------------------


def _followtable(frame, title: str) -> None:  # type: ignore[no-untyped-def]
    table(
        title,
        [
            "follow-up",
            "signal",
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
                f["signal_id"],
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


@followup_app.command("order")
def followup_order(
    signal_id: str = typer.Argument(..., help="Signal id (from `sentinel signals list`)."),
    cases: list[str] = typer.Option(
        ..., "--cases", help="Cases to investigate, HOSPITAL/CASE_ID, comma-separated."
    ),
    note: str = typer.Option(
        ..., "--note", help="What to find out (required; stored scrubbed of identifiers)."
    ),
    week: str = typer.Option(None, "--week", help="Week of the signal (default: its latest)."),
    force_case: bool = typer.Option(
        False, "--force-case", help="Allow stored cases that are not among the signal's cases."
    ),
    as_user: str = AS_OPTION,
) -> None:
    """Order follow-ups (one per case, due 10 working days later, Chinese public holidays
    skipped). The signal's decision is not changed."""
    from pipeline.services import triage

    out = triage.order_followups(
        settings(), acting(as_user), signal_id, cases, note, week=week, force_case=force_case
    )
    for f in out:
        typer.echo(f"follow-up {f.followup_id} of {f.hospital_code}/{f.case_id} due {f.due_date}")


@followup_app.command("list")
def followup_list(
    signal_id: str = typer.Option(None, "--signal", help="Only this signal's follow-ups."),
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
    frame = triage.followups(settings(), signal_id, only_open=only_open, overdue=overdue, as_of=day)
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
        help="What the follow-up found (stored scrubbed of identifiers).",
    ),
    role: str = typer.Option(
        None,
        "--role",
        help="Product's role: caused | contributed | involved_not_causal | unrelated | "
        "undetermined (required when reached).",
    ),
    brand: str = typer.Option(None, "--brand", help="Brand verified."),
    model: str = typer.Option(None, "--model", help="Model verified."),
    batch: str = typer.Option(None, "--batch", help="Batch / lot verified."),
    as_user: str = AS_OPTION,
) -> None:
    """Record the result of a follow-up (a later record supersedes, history is kept)."""
    from pipeline.services import triage

    out = triage.record_result(
        settings(),
        acting(as_user),
        followup_id,
        reached=reached,
        conclusion=conclusion,
        product_role=role,
        brand=brand,
        model=model,
        batch=batch,
    )
    typer.echo(f"recorded result {out.result_id} for follow-up {followup_id}")


def register(app: typer.Typer) -> None:
    app.add_typer(signals_app, name="signals")
    app.add_typer(alerts_app, name="alerts")
    app.add_typer(followup_app, name="followup")
