"""A warehouse built by main before schema versioning (0caf446) upgrades without losing anything.

``tests/data/legacy_warehouse/export`` is an ``EXPORT DATABASE`` of a small network that the
old code ingested, coded, clustered, detected (four weeks) and triaged (see ``make.py`` there
for how it was made). The test imports it, runs ``sentinel db upgrade``, and checks that every
table keeps its rows and their content (the triage tables move to the application database,
schema 6: every row of them is accounted for there, and the audit chain verifies), that the
schema is the latest with no drift, that the readers work on it, and that re-detecting its last
week with today's code gives the very alerts the old code stored (the detectors did not
change).
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Settings
from pipeline.storage import schema
from pipeline.storage.warehouse import table_checksums

EXPORT = Path(__file__).parent / "data" / "legacy_warehouse" / "export"
LAST_WEEK = "2026-W47"
TRIAGE_TABLES = ("alert_triage", "followups", "followup_results", "audit_log")


def _import_legacy(path: Path) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute((EXPORT / "schema.sql").read_text())
        con.execute((EXPORT / "load.sql").read_text().replace("@EXPORT@", str(EXPORT)))
    finally:
        con.close()


def _snapshot(path: Path) -> tuple[dict[str, int], dict[str, str], dict[str, list[str]]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            t
            for (t,) in con.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
        ]
        counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}
        columns = {
            t: [
                c
                for (c,) in con.execute(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
                    "ORDER BY ordinal_position",
                    [t],
                ).fetchall()
            ]
            for t in tables
        }
        return counts, table_checksums(con), columns
    finally:
        con.close()


@pytest.fixture
def legacy(tmp_path) -> Settings:
    settings = Settings(home=tmp_path / "home", landing_dir=tmp_path / "landing")
    settings.home.mkdir()
    _import_legacy(settings.warehouse_path)
    return settings


def test_the_legacy_warehouse_is_what_main_built(legacy) -> None:
    counts, _, columns = _snapshot(legacy.warehouse_path)
    assert "schema_version" not in counts and "alert_series" not in counts
    for table in ("cases", "alerts", "alert_triage", "followup_results", "case_patterns"):
        assert counts[table] > 0, table
    con = duckdb.connect(str(legacy.warehouse_path), read_only=True)
    try:
        assert schema.current_version(con) == 0
    finally:
        con.close()


@pytest.mark.slow
def test_upgrade_keeps_every_row_and_value_and_readers_work(legacy, tmp_path) -> None:
    counts_before, sums_before, columns_before = _snapshot(legacy.warehouse_path)
    env = {"SENTINEL_HOME": str(legacy.home), "LANG": "C.UTF-8"}
    runner = CliRunner()

    status = runner.invoke(app, ["db", "status"], env=env)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout)["current"] == 0
    upgraded = runner.invoke(app, ["db", "upgrade"], env=env)
    assert upgraded.exit_code == 0, upgraded.output
    after = json.loads(upgraded.stdout)
    assert after["current"] == after["latest"] == schema.latest_version()
    assert after["pending"] == [] and after["drift"] == []
    assert after["published"]["schema"] == schema.latest_version()

    counts_after, sums_after, columns_after = _snapshot(legacy.warehouse_path)
    # Later migrations add columns (survey design, arrival source): appended, NULL on every
    # row stored before them; every earlier column keeps every value.
    added = {
        t: [c for c in columns_after[t] if c not in columns_before[t]]
        for t in columns_before
        if t in columns_after
    }
    con = duckdb.connect(str(legacy.warehouse_path), read_only=True)
    try:
        kept_sums = table_checksums(con, exclude={t: tuple(c) for t, c in added.items()})
        for table, columns in added.items():
            for column in columns:
                filled = con.execute(f"SELECT count({column}) FROM {table}").fetchone()[0]
                assert filled == 0, (table, column)
    finally:
        con.close()
    for table, count in counts_before.items():
        if table in TRIAGE_TABLES:
            assert table not in counts_after, table  # moved out (below)
            continue
        assert counts_after[table] == count, table
        assert columns_after[table][: len(columns_before[table])] == columns_before[table], table
        assert kept_sums[table] == sums_before[table], table
    assert {"schema_version", "alert_series", "publication", "signal_weeks"} <= set(counts_after)
    _triage_moved_to_the_application_database(legacy, env)

    # Upgrading again changes nothing.
    again = runner.invoke(app, ["db", "upgrade"], env=env)
    assert again.exit_code == 0 and json.loads(again.stdout)["current"] == after["current"]
    assert _snapshot(legacy.warehouse_path)[1] == sums_after

    # Readers work on the upgraded warehouse (alerts from before schema 2 have no stored
    # series: their trend shows the weekly counts of their subject).
    report = runner.invoke(app, ["report", "weekly", "--week", LAST_WEEK, "--lang", "en"], env=env)
    assert report.exit_code == 0, report.output
    listed = runner.invoke(app, ["alerts", "list", "--week", LAST_WEEK, "--json"], env=env)
    assert listed.exit_code == 0 and len(json.loads(listed.stdout)) > 0
    signals = runner.invoke(app, ["signals", "list", "--week", LAST_WEEK, "--json"], env=env)
    assert signals.exit_code == 0 and any(s["decision"] for s in json.loads(signals.stdout))

    # Today's detectors on the same cases give the alerts the old code stored.
    con = duckdb.connect(str(legacy.warehouse_path), read_only=True)
    try:
        old = con.execute(
            "SELECT * EXCLUDE (params) FROM alerts WHERE week = ? ORDER BY alert_id", [LAST_WEEK]
        ).fetchall()
    finally:
        con.close()
    detected = runner.invoke(app, ["detect", "--week", LAST_WEEK], env=env)
    assert detected.exit_code == 0, detected.output
    con = duckdb.connect(str(legacy.warehouse_path), read_only=True)
    try:
        new = con.execute(
            "SELECT * EXCLUDE (params) FROM alerts WHERE week = ? ORDER BY alert_id", [LAST_WEEK]
        ).fetchall()
        stored = con.execute(
            "SELECT count(DISTINCT alert_id) FROM alert_series WHERE week = ?", [LAST_WEEK]
        ).fetchone()[0]
        live = con.execute(
            "SELECT count(*) FROM alerts WHERE week = ? AND status <> 'resolved'", [LAST_WEEK]
        ).fetchone()[0]
    finally:
        con.close()
    assert new == old and len(new) > 0
    assert stored == live  # every live alert now has its series stored


def _legacy_rows() -> dict:
    con = duckdb.connect(":memory:")
    try:
        con.execute((EXPORT / "schema.sql").read_text())
        con.execute((EXPORT / "load.sql").read_text().replace("@EXPORT@", str(EXPORT)))
        return {t: con.execute(f"SELECT * FROM {t}").df() for t in TRIAGE_TABLES}
    finally:
        con.close()


def _triage_moved_to_the_application_database(legacy: Settings, env: dict) -> None:
    """Every legacy triage row is in the application database: decisions as decisions of the
    alert's signal (the old follow_up decision as the follow-ups' note, never replacing the
    confirmation), follow-ups and results with their ids and contents, every old audit row as
    an entry of the hash chain, old actors as scrubbed legacy labels; `audit verify` passes."""
    from sqlalchemy import select

    from pipeline.appdb.models import AuditEntry, FollowUp, FollowUpResult, TriageDecision
    from pipeline.services import accounts
    from pipeline.triage.legacy import imported_ids, legacy_ids

    old = _legacy_rows()
    db = accounts.open_appdb(legacy)
    try:
        with db.transaction() as session:
            assert legacy_ids(old) <= imported_ids(session)  # nothing lost
            decisions = {d.id: d for d in session.scalars(select(TriageDecision))}
            follow = {f.id: f for f in session.scalars(select(FollowUp))}
            results = {r.id: r for r in session.scalars(select(FollowUpResult))}
            entries = list(session.scalars(select(AuditEntry)))
    finally:
        db.dispose()
    for row in old["alert_triage"].to_dict("records"):
        if row["decision"] == "follow_up":
            assert row["event_id"] not in decisions
            continue
        moved = decisions[row["event_id"]]
        assert (moved.decision, moved.reason, moved.legacy_actor) == (
            row["decision"],
            row["reason"],
            row["actor"],
        )
        assert moved.recorded_at == row["recorded_at"].to_pydatetime()
        assert moved.signal_id.startswith("S") and moved.actor_username.startswith("os:")
    orders = old["alert_triage"][old["alert_triage"]["decision"] == "follow_up"]
    for row in old["followups"].to_dict("records"):
        moved = follow[row["followup_id"]]
        assert (moved.hospital_code, moved.case_id, moved.legacy_actor) == (
            row["hospital_code"],
            row["case_id"],
            row["requested_by"],
        )
        assert moved.note in set(orders["reason"])
    for row in old["followup_results"].to_dict("records"):
        moved = results[row["result_id"]]
        assert (moved.followup_id, moved.product_role, moved.conclusion) == (
            row["followup_id"],
            row["product_role"],
            row["conclusion"],
        )
    assert sum(e.action == "legacy.audit" for e in entries) == len(old["audit_log"])
    verified = CliRunner().invoke(app, ["audit", "verify"], env=env)
    assert verified.exit_code == 0 and "intact" in verified.stdout, verified.output
    # The legacy fixture's analyst confirmed after ordering a follow-up: still confirmed.
    confirmed = [d for d in decisions.values() if d.decision == "confirm"]
    assert confirmed


def test_a_writer_on_a_legacy_warehouse_says_to_run_db_upgrade(legacy) -> None:
    """The triage tables are never dropped by an ordinary writer: it stops and says how."""
    result = CliRunner().invoke(
        app,
        ["detect", "--week", LAST_WEEK],
        env={"SENTINEL_HOME": str(legacy.home), "LANG": "C.UTF-8"},
    )
    assert result.exit_code == 9, result.output
    assert "sentinel db upgrade" in result.stderr and "alert_triage (2 rows)" in result.stderr
    con = duckdb.connect(str(legacy.warehouse_path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM alert_triage").fetchone()[0] == 2
    finally:
        con.close()


def test_a_table_of_another_shape_stops_the_upgrade(legacy) -> None:
    con = duckdb.connect(str(legacy.warehouse_path))
    try:
        con.execute("ALTER TABLE alerts ADD COLUMN surprise VARCHAR")
    finally:
        con.close()
    result = CliRunner().invoke(
        app, ["db", "upgrade"], env={"SENTINEL_HOME": str(legacy.home), "LANG": "C.UTF-8"}
    )
    assert result.exit_code == 9, result.output  # SchemaError
    assert "alerts has columns" in result.stderr and "surprise" in result.stderr
