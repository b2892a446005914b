"""`sentinel alerts list|show|triage` and `sentinel followup list|record` end to end."""

from __future__ import annotations

import re

import duckdb
from typer.testing import CliRunner

from pipeline.cli import app


def _run(home, *args: str, actor: str | None = "li.analyst"):  # type: ignore[no-untyped-def]
    env = {"SENTINEL_HOME": str(home)}
    if actor:
        env["SENTINEL_ACTOR"] = actor
    return CliRunner().invoke(app, list(args), env=env)


def test_triage_workflow_through_the_cli(tiny_home) -> None:
    listed = _run(tiny_home, "alerts", "list", "--week", "2026-W11")
    assert listed.exit_code == 0, listed.output
    assert listed.stdout.index("A1") < listed.stdout.index("A2")

    asked = _run(
        tiny_home,
        "alerts",
        "triage",
        "A1",
        "--decision",
        "follow-up",
        "--reason",
        "need the model",
        "--cases",
        "GZ001/C1,SH001/C3",
    )
    assert asked.exit_code == 0, asked.output
    followup_ids = re.findall(r"follow-up (F[0-9a-f]{16}) due (\d{4}-\d{2}-\d{2})", asked.stdout)
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
        actor="wang",
    )
    assert recorded.exit_code == 0, recorded.output
    pending = _run(tiny_home, "followup", "list", "--open", "--as-of", "2000-01-01")
    assert pending.exit_code == 0
    assert followup_ids[1][0] in pending.stdout and followup_ids[0][0] not in pending.stdout

    confirmed = _run(
        tiny_home,
        "alerts",
        "triage",
        "A1",
        "--decision",
        "confirm",
        "--reason",
        "latch defect verified",
    )
    assert confirmed.exit_code == 0
    shown = _run(tiny_home, "alerts", "show", "A1")
    assert shown.exit_code == 0, shown.output
    for text in ("follow-up", "confirm", "latch defect verified", "GZ001/C1", "K-1"):
        assert text in shown.stdout
    only_confirmed = _run(
        tiny_home, "alerts", "list", "--week", "2026-W11", "--decision", "confirm", "--json"
    )
    assert '"alert_id":"A1"' in only_confirmed.stdout and "A2" not in only_confirmed.stdout

    con = duckdb.connect(str(tiny_home / "warehouse.duckdb"), read_only=True)
    try:
        actions = [
            a
            for (a,) in con.execute(
                "SELECT action FROM audit_log ORDER BY recorded_at, event_id"
            ).fetchall()
        ]
    finally:
        con.close()
    # One audit row per write; rows of one transaction share its timestamp.
    assert sorted(actions[:3]) == ["followup.request", "followup.request", "triage.decision"]
    assert actions[3:] == ["followup.result", "triage.decision"]


def test_bad_input_exits_2_and_unknown_ids_exit_4_with_an_error(tiny_home) -> None:
    not_found = 4  # docs/operations.md: exit codes
    cases = [
        (("alerts", "triage", "A1", "--decision", "approve", "--reason", "r"), "not one of", 2),
        (
            ("alerts", "triage", "A404", "--decision", "watch", "--reason", "r"),
            "sentinel alerts list",
            not_found,
        ),
        (
            (
                "alerts",
                "triage",
                "A1",
                "--decision",
                "follow-up",
                "--reason",
                "r",
                "--cases",
                "SH001/C9",
            ),
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
    ]
    for args, message, code in cases:
        result = _run(tiny_home, *args)
        assert result.exit_code == code, (args, result.output)
        assert message in result.stderr, (args, result.stderr)
    # No actor: refused by the CLI before anything is written.
    missing = _run(
        tiny_home, "alerts", "triage", "A1", "--decision", "watch", "--reason", "r", actor=None
    )
    assert missing.exit_code == 2 and "--actor" in missing.output


def test_a_missing_warehouse_is_a_clear_error(tmp_path) -> None:
    result = _run(tmp_path, "alerts", "list")
    assert result.exit_code == 4 and "no warehouse" in result.stderr
