"""Every fault injected into the shipped sample ends in the state its ground truth expects.

Ingests only the files the faults name (with their originals and resends) so it stays fast;
the same checks hold on a full ingest of the sample (``check_fault`` is reused there).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipeline import reference
from pipeline.config import SAMPLE_DIR, Settings
from pipeline.contract import FIELD_BY_NAME
from pipeline.services.intake import import_arrivals, ingest
from pipeline.storage.warehouse import connect

pytestmark = pytest.mark.slow  # see tests/conftest.py

GROUND_TRUTH = SAMPLE_DIR / "ground_truth.json"
FILE_RULES = {
    "empty_file": {"empty_file"},
    "header_only": {"no_rows"},
    "garbage_file": {"undecodable_file", "unreadable_file"},
    "missing_column": {"missing_required_columns"},
    "wrong_hospital_file": {"other_hospital_rows"},
}


def _faults() -> list[dict]:
    return json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))["faults"]


def _submission(con: duckdb.DuckDBPyConnection, file: str) -> dict:
    relpath = file.removeprefix("landing/")
    cursor = con.execute("SELECT * FROM submissions WHERE file_name = ?", [relpath])
    row = cursor.fetchone()
    assert row is not None, f"{file} has no submission"
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def check_fault(con: duckdb.DuckDBPyConnection, fault: dict) -> None:
    """Assert the warehouse state a fault's ``expected`` outcome describes."""
    expected = fault["expected"]
    if expected == "no_files":
        rows = con.execute(
            "SELECT count(*) FROM submissions WHERE hospital_code = ? AND file_name >= ? "
            "AND file_name < ?",
            [
                fault["hospital"],
                f"{fault['hospital']}/{fault['hospital']}_{fault['start'].replace('-', '')}",
                f"{fault['hospital']}/{fault['hospital']}_{fault['end'].replace('-', '')}z",
            ],
        ).fetchone()[0]
        assert rows == 0
        return
    sub = _submission(con, fault["file"])
    assert (
        sub["rows_received"] == sub["rows_stored"] + sub["rows_quarantined"] + sub["rows_duplicate"]
    ), fault["id"]
    key = [fault["hospital"], fault.get("case_id")]
    if expected == "row_rejected":
        hits = con.execute(
            "SELECT field, rule, message_en FROM quarantine WHERE submission_id = ? "
            "AND source_row = ?",
            [sub["submission_id"], fault["row"]],
        ).fetchall()
        assert any(field == fault["field"] for field, _, _ in hits), (fault, hits)
        assert all(message for *_, message in hits)
    elif expected == "file_rejected":
        assert sub["status"] == "rejected", fault
        assert sub["file_rule"] in FILE_RULES[fault["type"]], (fault, sub["file_rule"])
        assert sub["file_message"]
        if fault.get("resent_as"):
            assert _submission(con, fault["resent_as"])["status"] in {
                "accepted",
                "partially_accepted",
            }
    elif expected == "duplicate_file":
        original = _submission(con, fault["original"])
        assert sub["status"] == "duplicate" and sub["duplicate_of"] == original["submission_id"]
        assert sub["rows_stored"] == 0 and sub["rows_duplicate"] == sub["rows_received"]
    elif expected == "duplicate_row":
        assert sub["rows_duplicate"] >= 1
        assert (
            con.execute(
                "SELECT count(*) FROM case_versions WHERE hospital_code = ? AND case_id = ?", key
            ).fetchone()[0]
            == 1
        )
    elif expected == "correction":
        field = fault["field"]
        version, value = con.execute(
            f"SELECT version, {field} FROM cases WHERE hospital_code = ? AND case_id = ?", key
        ).fetchone()
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # age is stored as a number
        want = str(fault["value"])
        codeset = FIELD_BY_NAME[field].codeset
        if codeset:  # senders may write the Chinese or English label; the code is stored
            want = reference.label_to_code(codeset).get(want.strip().lower(), want)
        assert version >= 2 and str(value) == want, (fault, version, value)
        assert (
            con.execute(
                "SELECT count(*) FROM case_versions WHERE hospital_code = ? AND case_id = ?", key
            ).fetchone()[0]
            >= 2
        )
    elif expected == "void":
        assert (
            con.execute(
                "SELECT status FROM cases WHERE hospital_code = ? AND case_id = ?", key
            ).fetchone()[0]
            == "void"
        )
    elif expected == "redacted":
        (narrative,) = con.execute(
            "SELECT narrative FROM cases WHERE hospital_code = ? AND case_id = ?", key
        ).fetchone()
        for secret in fault["identifiers"]:
            assert secret not in narrative, fault["id"]
    else:  # pragma: no cover - a new fault type needs a check here
        pytest.fail(f"no check for expected outcome {expected!r} ({fault['id']})")


def _files_named(faults: list[dict]) -> set[str]:
    names: set[str] = set()
    for fault in faults:
        for key in ("file", "original_file", "original", "resent_as", "late_cases_in"):
            if fault.get(key):
                names.add(fault[key])
    return names


@pytest.fixture(scope="module")
def fault_warehouse(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    root = tmp_path_factory.mktemp("faults")
    for name in sorted(_files_named(_faults())):
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(SAMPLE_DIR / name, target)
    settings = Settings(
        home=root / "home", landing_dir=root / "landing", pseudonym_key="test-key-0123456789abcdef"
    )
    import_arrivals(settings, SAMPLE_DIR / "arrivals.csv")  # the received times
    ingest(settings)
    con = connect(settings.warehouse_path, read_only=True)
    yield con
    con.close()


@pytest.mark.parametrize("fault", _faults(), ids=lambda f: f"{f['id']}-{f['type']}")
def test_fault_ends_in_expected_state(
    fault_warehouse: duckdb.DuckDBPyConnection, fault: dict
) -> None:
    check_fault(fault_warehouse, fault)


def test_every_submission_balances(fault_warehouse: duckdb.DuckDBPyConnection) -> None:
    assert (
        fault_warehouse.execute(
            "SELECT count(*) FROM submissions WHERE rows_received <> "
            "rows_stored + rows_quarantined + rows_duplicate"
        ).fetchone()[0]
        == 0
    )


def test_full_sample_if_ingested(request: pytest.FixtureRequest) -> None:
    """Optional: point SENTINEL_CHECK_HOME at a full ingest of the sample to check it too."""
    import os

    home = os.environ.get("SENTINEL_CHECK_HOME")
    if not home:
        pytest.skip("set SENTINEL_CHECK_HOME to check a full ingest of the sample")
    con = connect(Path(home) / "warehouse.duckdb", read_only=True)
    for fault in _faults():
        check_fault(con, fault)


def _texts_written(home: Path, con: duckdb.DuckDBPyConnection) -> list[str]:
    """Every file under SENTINEL_HOME as text, plus every text value of every table (DuckDB
    compresses strings, so its file bytes alone prove nothing)."""
    texts = [
        p.read_bytes().decode("utf-8", errors="ignore")
        for p in home.rglob("*")
        if p.is_file() and p.suffix != ".duckdb"
    ]
    for (table,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall():
        columns = [
            c
            for (c, t) in con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
                [table],
            ).fetchall()
            if t == "VARCHAR"
        ]
        for column in columns:
            texts.extend(
                v
                for (v,) in con.execute(
                    f'SELECT DISTINCT "{column}" FROM {table} WHERE "{column}" IS NOT NULL'
                ).fetchall()
            )
    for parquet in home.rglob("*.parquet"):
        frame = pd.read_parquet(parquet)
        texts.extend(frame.select_dtypes(exclude="number").to_numpy().ravel())
    return [t for t in texts if isinstance(t, str)]


def _sample_identifiers() -> tuple[set[str], set[str]]:
    identifiers = json.loads(GROUND_TRUTH.read_text(encoding="utf-8"))["identifiers"]
    numbers = set(identifiers["id_numbers"]) | set(identifiers["phones"])
    # Two-character Chinese names are also ordinary words; three or more are distinctive.
    return numbers, {n for n in identifiers["names"] if len(n) >= 3}


def _leaks(texts: list[str], numbers: set[str], names: set[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        found |= set(re.findall(r"[0-9]{17}[0-9Xx]|[0-9]{11}", text)) & numbers
        for run in re.findall(r"[\u4e00-\u9fff·]{3,}|[A-Za-z]+(?: [A-Za-z]+)+", text):
            found |= {
                run[i:j] for i in range(len(run)) for j in range(i + 3, min(len(run), i + 20) + 1)
            } & names
    return found


def test_no_sample_identifier_is_written_anywhere(
    fault_warehouse: duckdb.DuckDBPyConnection,
) -> None:
    """The sample's clear names, ID-card and phone numbers appear nowhere Sentinel wrote."""
    numbers, names = _sample_identifiers()
    home = Path(fault_warehouse.execute("PRAGMA database_list").fetchall()[0][2]).parent
    landing = home.parent / "landing"
    # Positive control: the same scan finds them in what the hospitals sent.
    sent = [p.read_bytes().decode("utf-8", errors="ignore") for p in landing.rglob("*.csv")]
    assert len(_leaks(sent, numbers, names)) > 100
    leaks = _leaks(_texts_written(home, fault_warehouse), numbers, names)
    assert not leaks, sorted(leaks)[:20]
