"""Ledger semantics of ingest: duplicates, corrections, voids, key clashes, accounting and
idempotent re-runs."""

from __future__ import annotations

import intake_helpers as h
import pytest

from pipeline.services.intake import ingest

H = h.HOSPITAL


def _drop(settings, name: str, rows: list[dict], hospital: str = H, **kw) -> str:
    h.write(settings.landing_dir / hospital / name, h.csv_bytes(rows, **kw))
    return f"{hospital}/{name}"


def _ingest(settings, validator):
    return ingest(settings, validator=validator)


def _case(settings, case_id: str, hospital: str = H) -> dict:
    from pipeline.storage.warehouse import connect

    con = connect(settings.warehouse_path, read_only=True)
    try:
        cursor = con.execute(
            "SELECT * FROM cases WHERE hospital_code=? AND case_id=?", [hospital, case_id]
        )
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))
    finally:
        con.close()


def _quarantine(settings, file_name: str) -> list[tuple]:
    return h.query(
        settings,
        "SELECT q.source_row, q.case_id, q.field, q.rule FROM quarantine q "
        "JOIN submissions s USING (submission_id) WHERE s.file_name = ? "
        "ORDER BY 1, 3, 4",
        [file_name],
    )


def _assert_accounting(settings) -> None:
    rows = h.query(
        settings,
        "SELECT file_name, status, rows_received, rows_stored, "
        "rows_quarantined, rows_duplicate FROM submissions",
    )
    assert rows
    for name, status, received, stored, quarantined, duplicate in rows:
        assert received == stored + quarantined + duplicate, (name, status)
    # Quarantined rows are the distinct rows in quarantine (when rows could be read at all).
    mismatched = h.query(
        settings,
        """
        SELECT s.file_name FROM submissions s LEFT JOIN (
          SELECT submission_id, count(DISTINCT source_row) n FROM quarantine GROUP BY 1) q
          USING (submission_id)
        WHERE coalesce(q.n, 0) <> s.rows_quarantined AND q.n IS NOT NULL""",
    )
    assert mismatched == []
    # Stored rows are the versions the submission created.
    mismatched = h.query(
        settings,
        """
        SELECT s.file_name FROM submissions s LEFT JOIN (
          SELECT submission_id, count(*) n FROM case_versions GROUP BY 1) v USING (submission_id)
        WHERE coalesce(v.n, 0) <> s.rows_stored""",
    )
    assert mismatched == []


@pytest.mark.slow
def test_resend_under_another_name_is_a_duplicate(settings, validator):
    first = _drop(settings, "GZ001_20260210.csv", [h.case_row("C1"), h.case_row("C2")])
    _ingest(settings, validator)
    before = h.snapshot(settings)
    data = (settings.landing_dir / first).read_bytes()
    h.write(settings.landing_dir / H / "GZ001_20260210_resend.csv", data)
    result = _ingest(settings, validator)
    assert result.summary.statuses == {"duplicate": 1}
    original = h.submission(settings, first)
    resend = h.submission(settings, f"{H}/GZ001_20260210_resend.csv")
    assert resend["status"] == "duplicate" and resend["duplicate_of"] == original["submission_id"]
    assert (
        resend["rows_received"],
        resend["rows_stored"],
        resend["rows_quarantined"],
        resend["rows_duplicate"],
    ) == (2, 0, 0, 2)
    after = h.snapshot(settings)
    for table in ("cases", "case_versions", "quarantine", "ref_taxonomy", "ref_hospitals"):
        assert after["tables"][table] == before["tables"][table], table
    assert after["lake"] == before["lake"]
    new_receipts = set(after["receipts"]) - set(before["receipts"])
    assert {k: after["receipts"][k] for k in before["receipts"]} == before["receipts"]
    assert new_receipts == {
        f"{H}/{resend['submission_id']}.json",
        f"{H}/{resend['submission_id']}.md",
    }
    receipt = h.receipt_json(settings, resend["submission_id"])
    assert receipt["status"] == "duplicate"
    assert receipt["duplicate_of"] == original["submission_id"]
    _assert_accounting(settings)


@pytest.mark.slow
def test_correction_replaces_and_void_retires(settings, validator):
    """Corrections and voids, sent in later runs and within one run (applied in file order)."""
    _drop(settings, "GZ001_20260210.csv", [h.case_row("C1"), h.case_row("C2")])
    _ingest(settings, validator)
    fixed = _drop(
        settings,
        "GZ001_20260211.csv",
        [h.case_row("C1", report_type="correction", severity="severe", outcome="admitted")],
    )
    # The same correction again (in a file with other content) changes nothing.
    again = _drop(
        settings,
        "GZ001_20260212.csv",
        [
            h.case_row("C1", report_type="correction", severity="severe", outcome="admitted"),
            h.case_row("C5"),
        ],
    )
    void = _drop(
        settings, "GZ001_20260213.csv", [h.case_row("C2", report_type="作废")], language="zh"
    )
    # A correction of the voided case is refused; voiding it again is a no-op duplicate.
    late = _drop(
        settings,
        "GZ001_20260214.csv",
        [
            h.case_row("C2", report_type="correction", age="5"),
            h.case_row("C2-B", report_type="new"),
        ],
    )
    revoid = _drop(settings, "GZ001_20260215.csv", [h.case_row("C2", report_type="void")])
    _ingest(settings, validator)

    assert h.submission(settings, fixed)["status"] == "accepted"
    current = _case(settings, "C1")
    assert (current["version"], current["status"], current["severity"]) == (2, "active", "severe")
    assert current["submission_id"] == h.submission(settings, fixed)["submission_id"]
    versions = h.query(
        settings,
        "SELECT version, severity, report_type FROM case_versions "
        "WHERE case_id='C1' ORDER BY version",
    )
    assert versions == [(1, "moderate", "new"), (2, "severe", "correction")]

    sub = h.submission(settings, again)
    assert (sub["status"], sub["rows_stored"], sub["rows_duplicate"]) == ("accepted", 1, 1)

    assert h.submission(settings, void)["status"] == "accepted"
    retired = _case(settings, "C2")
    assert (retired["version"], retired["status"], retired["report_type"]) == (2, "void", "void")
    assert h.query(settings, "SELECT count(*) FROM case_versions WHERE case_id='C2'") == [(2,)]

    assert _quarantine(settings, late) == [(1, "C2", "report_type", "case_voided")]
    assert h.submission(settings, late)["status"] == "partially_accepted"
    sub = h.submission(settings, revoid)
    assert (sub["rows_stored"], sub["rows_duplicate"], sub["rows_quarantined"]) == (0, 1, 0)
    assert _case(settings, "C2")["version"] == 2

    # The lake holds every version: one file per submission (and visit month) that stored any.
    lake = h.tree_bytes(settings.lake_dir)
    storing = h.query(settings, "SELECT submission_id FROM submissions WHERE rows_stored > 0")
    assert sorted(lake) == sorted(
        f"case_versions/visit_month=2026-02/{sid}.parquet" for (sid,) in storing
    )
    from pipeline.storage.lake import read_versions

    assert (
        len(read_versions(settings.lake_dir))
        == h.query(settings, "SELECT count(*) FROM case_versions")[0][0]
        == 6
    )
    _assert_accounting(settings)


@pytest.mark.slow
def test_unknown_case_and_key_clash_are_quarantined(settings, validator):
    _drop(settings, "GZ001_20260210.csv", [h.case_row("C1")])
    _ingest(settings, validator)
    name = _drop(
        settings,
        "GZ001_20260211.csv",
        [
            h.case_row("C9", report_type="correction"),
            h.case_row("C8", report_type="void"),
            h.case_row("C1", age="7"),  # a "new" row for a stored key, different contents
            h.case_row("C3"),
        ],
    )
    same = _drop(
        settings,
        "GZ001_20260212.csv",
        [
            h.case_row("C1"),  # a "new" row identical to the stored case: duplicate
            h.case_row("C4"),
        ],
    )
    _ingest(settings, validator)
    assert _quarantine(settings, name) == [
        (1, "C9", "report_type", "correction_unknown_case"),
        (2, "C8", "report_type", "void_unknown_case"),
        (3, "C1", "report_type", "key_exists"),
    ]
    sub = h.submission(settings, name)
    assert (
        sub["status"],
        sub["rows_received"],
        sub["rows_stored"],
        sub["rows_quarantined"],
        sub["rows_duplicate"],
    ) == ("partially_accepted", 4, 1, 3, 0)
    other = h.submission(settings, same)
    assert (
        other["status"],
        other["rows_received"],
        other["rows_stored"],
        other["rows_quarantined"],
        other["rows_duplicate"],
    ) == ("accepted", 2, 1, 0, 1)
    assert _quarantine(settings, same) == []
    assert _case(settings, "C1")["age"] == 4 and _case(settings, "C1")["version"] == 1
    receipt = h.receipt_json(settings, sub["submission_id"])
    assert [(e["row"], e["field"], e["value"], e["rule"]) for e in receipt["errors"]] == [
        (1, "report_type", "correction", "correction_unknown_case"),
        (2, "report_type", "void", "void_unknown_case"),
        (3, "report_type", "new", "key_exists"),
    ]
    assert all(e["message"] for e in receipt["errors"])  # in the receipt's language
    stored = h.query(
        settings,
        "SELECT message_en, message_zh FROM quarantine WHERE submission_id = ?",
        [sub["submission_id"]],
    )
    assert len(stored) == 3 and all(en and zh for en, zh in stored)  # both kept
    _assert_accounting(settings)


@pytest.mark.slow
def test_same_case_in_two_hospitals_is_two_cases(settings, validator):
    _drop(settings, "20260210.csv", [h.case_row("C1")])
    _drop(
        settings,
        "20260210.csv",
        [h.case_row("C1", hospital=h.OTHER_HOSPITAL, age="9")],
        hospital=h.OTHER_HOSPITAL,
    )
    result = _ingest(settings, validator)
    assert result.summary.statuses == {"accepted": 2}
    assert _case(settings, "C1")["age"] == 4
    assert _case(settings, "C1", h.OTHER_HOSPITAL)["age"] == 9


@pytest.fixture
def busy_landing(settings):
    """Files of every kind for two hospitals, including rejected and unreadable ones."""
    _drop(
        settings,
        "GZ001_20260210.csv",
        [h.case_row("C1"), h.case_row("C2"), h.case_row("C2"), h.case_row("C3", sex="x")],
    )
    _drop(
        settings,
        "GZ001_20260211.csv",
        [h.case_row("C1", report_type="correction", age="5"), h.case_row("C4", hospital="ZZ999")],
    )
    h.write(
        settings.landing_dir / H / "GZ001_20260212.csv",
        h.csv_bytes([h.case_row("C5")], headers=[*h.EN_HEADERS, "性别"]),
    )  # ambiguous
    h.write(settings.landing_dir / H / "GZ001_20260213.csv", b"\x00\x01garbage")
    h.write(settings.landing_dir / H / "GZ001_20260214.xlsx", h.xlsx_bytes([h.case_row("C6")]))
    h.write(
        settings.landing_dir / H / "GZ001_20260215.csv",
        h.csv_bytes([h.case_row("C7"), h.case_row("C8", hospital=h.OTHER_HOSPITAL)]),
    )
    h.write(settings.landing_dir / H / "GZ001_20260216.csv", h.csv_bytes([]))
    h.write(settings.landing_dir / H / "notes.pdf", b"%PDF-1.4")
    _drop(
        settings,
        "SH001_20260210.csv",
        [h.case_row("C1", hospital=h.OTHER_HOSPITAL)],
        hospital=h.OTHER_HOSPITAL,
        language="zh",
        encoding="gb18030",
    )
    h.write(
        settings.landing_dir / h.OTHER_HOSPITAL / "neiss_20260211.txt",
        h.neiss_bytes([h.neiss_row("1"), h.neiss_row("2", Age="0")]),
    )
    return settings


@pytest.mark.slow
def test_rows_received_add_up_for_every_submission(busy_landing, validator):
    settings = busy_landing
    result = _ingest(settings, validator)
    assert result.files == 10
    _assert_accounting(settings)
    statuses = dict(h.query(settings, "SELECT file_name, status FROM submissions"))
    assert statuses == {
        "GZ001/GZ001_20260210.csv": "partially_accepted",
        "GZ001/GZ001_20260211.csv": "partially_accepted",
        "GZ001/GZ001_20260212.csv": "rejected",
        "GZ001/GZ001_20260213.csv": "rejected",
        "GZ001/GZ001_20260214.xlsx": "accepted",
        "GZ001/GZ001_20260215.csv": "rejected",
        "GZ001/GZ001_20260216.csv": "rejected",
        "GZ001/notes.pdf": "rejected",
        "SH001/SH001_20260210.csv": "accepted",
        "SH001/neiss_20260211.txt": "partially_accepted",
    }
    rules = dict(
        h.query(
            settings, "SELECT file_name, file_rule FROM submissions WHERE file_rule IS NOT NULL"
        )
    )
    assert rules == {
        "GZ001/GZ001_20260212.csv": "ambiguous_columns",
        "GZ001/GZ001_20260213.csv": "undecodable_file",
        "GZ001/GZ001_20260215.csv": "other_hospital_rows",
        "GZ001/GZ001_20260216.csv": "no_rows",
        "GZ001/notes.pdf": "unsupported_format",
    }
    # Every receipt agrees with the ledger.
    for sid, hospital, status, received, stored, quarantined, duplicate in h.query(
        settings,
        "SELECT submission_id, hospital_code, status, rows_received, rows_stored, "
        "rows_quarantined, rows_duplicate FROM submissions",
    ):
        receipt = h.receipt_json(settings, sid, hospital)
        assert (
            receipt["status"],
            receipt["rows_received"],
            receipt["rows_stored"],
            receipt["rows_quarantined"],
            receipt["rows_duplicate"],
        ) == (status, received, stored, quarantined, duplicate)
    assert list(settings.staging_dir.iterdir()) == []


@pytest.mark.slow
def test_dry_run_agrees_with_ingest(busy_landing, validator):
    """Without stored cases in play, a dry run's receipt says what ingest then says."""
    from pipeline.services.intake import dry_run

    settings = busy_landing
    names = ["GZ001_20260210.csv", "GZ001_20260212.csv", "GZ001_20260215.csv", "neiss_20260211.txt"]
    files = sorted(p for p in settings.landing_dir.rglob("*") if p.name in names)
    dry = {
        p.relative_to(settings.landing_dir).as_posix(): dry_run(
            p, p.parent.name, settings, validator=validator
        )
        for p in files
    }
    _ingest(settings, validator)
    keys = (
        "status",
        "rows_received",
        "rows_stored",
        "rows_quarantined",
        "rows_duplicate",
        "file_rule",
        "file_format",
        "encoding",
        "header_language",
        "errors",
    )
    for name, sid, hospital in h.query(
        settings, "SELECT file_name, submission_id, hospital_code FROM submissions"
    ):
        if name not in dry:
            continue
        stored = h.receipt_json(settings, sid, hospital)
        assert {k: dry[name][k] for k in keys} == {k: stored[k] for k in keys}, name


@pytest.mark.slow
def test_rerun_changes_nothing(busy_landing, validator):
    settings = busy_landing
    _ingest(settings, validator)
    before = h.snapshot(settings)
    assert _ingest(settings, validator).files == 0
    assert h.snapshot(settings) == before
    # A new ingest with a new validator (Data Docs on) still changes nothing.
    assert ingest(settings).files == 0
    assert h.snapshot(settings) == before


@pytest.mark.slow
def test_ingest_recovers_from_a_warehouse_without_tables(settings, validator):
    """A run killed right after the warehouse file was created, before its schema."""
    import duckdb

    settings.warehouse_path.parent.mkdir(parents=True)
    duckdb.connect(str(settings.warehouse_path)).close()
    _drop(settings, "GZ001_20260210.csv", [h.case_row("C1")])
    assert _ingest(settings, validator).summary.statuses == {"accepted": 1}
