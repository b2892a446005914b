"""`sentinel signals list|show|decide`, `sentinel alerts list|show` and `sentinel followup
order|list|record` end to end, acting as Sentinel users (no free-text actor anywhere)."""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from pipeline.cli import app


def _run(home, *args: str, user: str | None = "li.analyst"):  # type: ignore[no-untyped-def]
    env = {"SENTINEL_HOME": str(home), "LANG": "C.UTF-8", "SENTINEL_USER": user or ""}
    return CliRunner().invoke(app, list(args), env=env)


def _signal(home, week: str, category: str) -> str:  # type: ignore[no-untyped-def]
    listed = _run(home, "signals", "list", "--week", week, "--json")
    assert listed.exit_code == 0, listed.output
    return next(s["signal_id"] for s in json.loads(listed.stdout) if s["category"] == category)


@pytest.mark.slow
def test_triage_workflow_through_the_cli(tiny_home) -> None:
    listed = _run(tiny_home, "signals", "list", "--week", "2026-W11")
    assert listed.exit_code == 0, listed.output
    ha01, ty04 = _signal(tiny_home, "2026-W11", "HA01"), _signal(tiny_home, "2026-W11", "TY04")
    assert listed.stdout.index(ha01) < listed.stdout.index(ty04)  # rank order
    assert "HA01 Rice cooker" in listed.stdout  # names beside codes

    confirmed = _run(
        tiny_home, "signals", "decide", ha01, "--decision", "confirm", "--reason", "clear"
    )
    assert confirmed.exit_code == 0, confirmed.output
    asked = _run(
        tiny_home,
        "followup",
        "order",
        ha01,
        "--cases",
        "GZ001/C1,SH001/C3",
        "--note",
        "need the model",
    )
    assert asked.exit_code == 0, asked.output
    followup_ids = re.findall(
        r"follow-up (F[0-9a-f]{16}) of \S+ due (\d{4}-\d{2}-\d{2})", asked.stdout
    )
    assert len(followup_ids) == 2
    recorded = _run(
        tiny_home,
        "followup",
        "record",
        followup_ids[0][0],
        "--reached",
        "--role",
        "caused",
        "--brand",
        "ACME",
        "--model",
        "K-1",
        "--conclusion",
        "latch defect",
        user="wang.supervisor",
    )
    assert recorded.exit_code == 0, recorded.output
    pending = _run(tiny_home, "followup", "list", "--open", "--as-of", "2000-01-01")
    assert pending.exit_code == 0
    assert followup_ids[1][0] in pending.stdout and followup_ids[0][0] not in pending.stdout

    # Ordering follow-ups left the confirmation in place.
    shown = _run(tiny_home, "signals", "show", ha01)
    assert shown.exit_code == 0, shown.output
    for text in ("confirmed (li.analyst", "follow-up in progress", "GZ001/C1", "K-1", "clear"):
        assert text in shown.stdout, text
    only_confirmed = _run(tiny_home, "signals", "list", "--decision", "confirm", "--json")
    assert [s["signal_id"] for s in json.loads(only_confirmed.stdout)] == [ha01]
    untriaged = _run(tiny_home, "signals", "list", "--week", "2026-W11", "--decision", "none")
    assert ty04 in untriaged.stdout and ha01 not in untriaged.stdout

    # Alerts stay inspectable under their signal.
    alerts = _run(tiny_home, "alerts", "list", "--week", "2026-W11", "--json")
    assert alerts.exit_code == 0, alerts.output
    owner = {a["alert_id"]: a["signal_id"] for a in json.loads(alerts.stdout)}
    assert owner == {"A1": ha01, "A2": ty04}
    shown_alert = _run(tiny_home, "alerts", "show", "A1", "--week", "2026-W11")
    assert shown_alert.exit_code == 0 and ha01 in shown_alert.stdout
    # Issue 15: `alerts list` showed `threshold 0.0`, `obs / exp 2 / 0.0` and codes only.
    table = _run(tiny_home, "alerts", "list", "--week", "2026-W11")
    assert table.exit_code == 0, table.output
    assert "HA01 Rice cooker" in table.stdout and "TY04 Magnetic toy" in table.stdout
    assert ">= 4" in table.stdout  # the alarm starts at 4 cases (upper bound 3)
    # Counts are integers: no "3.0" or "0.0" cell (p-values such as 0.001 are fine).
    assert not re.search(r"(?<![\d.])(?:0|3)\.0(?!\d)", table.stdout), table.stdout
    assert "obs / exp" not in table.stdout
    first = json.loads(alerts.stdout)[0]
    assert (first["week_count"], first["cases"], first["alarm_from"]) == (3, 3, 4)
    assert isinstance(first["week_count"], int)

    audit = _run(tiny_home, "audit", "verify")
    assert audit.exit_code == 0 and "intact" in audit.stdout
    from sqlalchemy import select

    from pipeline.appdb.db import AppDB
    from pipeline.appdb.models import AuditEntry

    db = AppDB(f"sqlite:///{tiny_home / 'app.db'}")
    try:
        with db.transaction() as session:
            entries = [
                (e.action, e.actor_username, e.channel)
                for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))
            ]
    finally:
        db.dispose()
    assert entries == [
        ("triage.decision", "li.analyst", "cli"),
        ("followup.order", "li.analyst", "cli"),
        ("followup.order", "li.analyst", "cli"),
        ("followup.result", "wang.supervisor", "cli"),
    ]


@pytest.mark.slow
def test_bad_input_exits_2_unknown_ids_4_and_no_user_10(tiny_home) -> None:
    not_found, not_permitted = 4, 10  # docs/operations.md: exit codes
    ha01 = _signal(tiny_home, "2026-W11", "HA01")
    cases = [
        (("signals", "decide", ha01, "--decision", "approve", "--reason", "r"), "not one of", 2),
        (
            ("signals", "decide", "S404", "--decision", "watch", "--reason", "r"),
            "sentinel signals list",
            not_found,
        ),
        (
            ("followup", "order", ha01, "--cases", "SH001/C9", "--note", "r"),
            "--force-case",
            2,
        ),
        (
            ("followup", "record", "F404", "--not-reached", "--conclusion", "x"),
            "not found",
            not_found,
        ),
        (("alerts", "show", "A404"), "not found", not_found),
        (("alerts", "list", "--status", "odd"), "--status", 2),
        (("signals", "list", "--status", "odd"), "--status", 2),
    ]
    for args, message, code in cases:
        result = _run(tiny_home, *args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    # No Sentinel user named: refused before anything is written.
    missing = _run(
        tiny_home, "signals", "decide", ha01, "--decision", "watch", "--reason", "r", user=None
    )
    assert missing.exit_code == not_permitted and "--as" in missing.stderr
    coder = _run(
        tiny_home,
        "signals",
        "decide",
        ha01,
        "--decision",
        "watch",
        "--reason",
        "r",
        user="chen.coder",
    )
    assert coder.exit_code == not_permitted and "coder" in coder.stderr
    unknown = _run(
        tiny_home, "signals", "decide", ha01, "--decision", "watch", "--reason", "r", user="eve"
    )
    assert unknown.exit_code == not_found
    # The free-text actor is gone from every command.
    for args in (
        ("signals", "decide", ha01, "--decision", "watch", "--reason", "r", "--actor", "x"),
        ("followup", "record", "F1", "--not-reached", "--conclusion", "x", "--actor", "x"),
    ):
        assert _run(tiny_home, *args).exit_code == 2
    assert "intact: 0 entries" in _run(tiny_home, "audit", "verify").stdout


def test_a_missing_warehouse_is_a_clear_error(tmp_path) -> None:
    result = _run(tmp_path, "signals", "list")
    assert result.exit_code == 4 and "no warehouse" in result.stderr
