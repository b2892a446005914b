"""Loading and planning a staged submission piece by piece (``SENTINEL_CHUNK_ROWS`` rows of
``rows.parquet`` at a time, issue 21) gives exactly what one piece gives: the same warehouse
tables, lake files (byte for byte) and receipts, and the same plan for a dry run.

The files are staged by the real staging code (``stage_batch``: reading, preparation,
in-file duplicates, the staged directory format) with a stand-in for the GX validator that
flags the rows whose ``brand`` is ``BAD`` (this module tests the load, not the expectations),
so a property run costs no GX run. Cases recur across files and pieces: new, correction and
void rows of one case, resends identical to a stored version, ``key_exists``, exact in-file
duplicates, rows with row errors, an error of a row that is not among the rows, a missing age
or injury time in some pieces only (a column typed int64 in one piece and float64 in another,
dates of a piece without any typed at a coarser unit), two visit months, a whole-file
rejection and a resent identical file.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import intake_helpers as h
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import reference
from pipeline.config import Settings
from pipeline.services import intake
from pipeline.storage import lake, ledger, session
from pipeline.validation.runner import ERROR_COLUMNS
from pipeline.validation.staging import ERRORS, ROWS, read_meta, stage_batch

pytestmark = pytest.mark.slow  # a warehouse per example (DuckDB schema, two loads)

MONTHS = ["2026-01-20 10:00", "2026-02-10 09:30"]
NARRATIVES = ["在家摔倒，右臂骨折。", "骑车摔倒。"]
GHOST_ROW = 9_999  # an error of a row that is not among the rows


class FlaggingValidator:
    """Stands in for GX: one error per row whose brand is BAD (two for BAD2), and, with
    ``ghost``, one error of a row the file does not have."""

    def __init__(self, ghost: bool) -> None:
        self.ghost = ghost

    def validate(self, frame: pd.DataFrame, params: dict, chunk_rows: int):  # noqa: ARG002
        records = []
        for sid, row, brand in zip(
            frame["_submission_id"], frame["_row"], frame["brand"], strict=True
        ):
            if brand in ("BAD", "BAD2"):
                records.append((sid, row, "brand", brand, "flagged", "flagged", "标记"))
            if brand == "BAD2":
                records.append((sid, row, "age", "x", "other", "other", "其他"))
        if self.ghost and len(frame):
            sid = frame["_submission_id"].iloc[0]
            records.append((sid, GHOST_ROW, "age", None, "ghost", "ghost", "幽灵"))
        return type("Result", (), {"errors": pd.DataFrame(records, columns=ERROR_COLUMNS)})()

    def validate_unique_keys(self, frame: pd.DataFrame, params: dict, chunk_rows: int):  # noqa: ARG002
        """This stand-in has no uniqueness rule: none for the rows of keys in several pieces."""
        return type("Result", (), {"errors": pd.DataFrame(columns=ERROR_COLUMNS)})()


def _row(spec: dict) -> dict:
    return h.case_row(
        f"K{spec['case']}",
        report_type=spec["kind"],
        narrative=NARRATIVES[spec["text"]],
        visit_datetime=MONTHS[spec["month"]],
        injury_datetime="" if spec["no_injury_time"] else MONTHS[spec["month"]],
        age="" if spec["no_age"] else spec["case"] + 1,
        brand={0: "", 1: "BAD", 2: "BAD2"}[spec["bad"]],
    )


row_st = st.fixed_dictionaries(
    {
        "case": st.integers(0, 5),
        "kind": st.sampled_from(["new", "new", "correction", "void"]),
        "text": st.integers(0, 1),
        "month": st.integers(0, 1),
        "no_injury_time": st.booleans(),
        "no_age": st.sampled_from([False, False, False, True]),
        "bad": st.sampled_from([0, 0, 0, 0, 1, 2]),
        "repeat": st.sampled_from([False, False, False, False, True]),  # an exact duplicate
    }
)
file_st = st.lists(row_st, min_size=0, max_size=12)


def _file(specs: list[dict]) -> bytes:
    rows = []
    for spec in specs:
        rows.append(_row(spec))
        if spec["repeat"]:
            rows.append(dict(rows[-1]))
    return h.csv_bytes(rows)


def _land(root: Path, first: list[dict], second: list[dict], missing_column: bool) -> None:
    """Three files: ``first``, ``second`` a day later (without its ``sex`` column: rejected
    whole), and ``first`` again as another file (a duplicate file)."""
    landing = root / "landing" / h.HOSPITAL
    h.write(landing / "GZ001_20260301.csv", _file(first), h.RECEIVED)
    data = _file(second)
    if missing_column:
        rows = [_row(s) for s in second]
        headers = [c for c in h.EN_HEADERS if c != "sex"]
        data = h.csv_bytes(rows, headers=headers)
    h.write(landing / "GZ001_20260302.csv", data, h.RECEIVED + timedelta(days=1))
    h.write(landing / "GZ001_20260303.csv", _file(first), h.RECEIVED + timedelta(days=2))


def _with_chunk(s: Settings, chunk_rows: int) -> Settings:
    return replace(s, intake=replace(s.intake, chunk_rows=chunk_rows))


def _staged_dirs(s: Settings) -> list[Path]:
    return sorted(p for p in s.staging_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def _records(frame: pd.DataFrame) -> list[dict]:
    return [
        {k: (None if v is None or v != v else v) for k, v in r.items()}
        for r in frame.astype(object).to_dict("records")
    ]


def _check_plans(con, directory: Path, chunk_rows: int) -> None:
    """The piece-wise plans of a staged directory equal the plan of its frames."""
    meta = read_meta(directory)
    rows = pd.read_parquet(directory / ROWS) if (directory / ROWS).exists() else None
    errors = pd.read_parquet(directory / ERRORS) if rows is not None else None
    whole = ledger.plan_submission(con, meta, rows, errors)
    pieced = ledger.plan_staged(con, directory, chunk_rows)
    for name in ("status", "stored", "quarantined", "duplicate", "duplicate_of", "language"):
        assert getattr(pieced, name) == getattr(whole, name), name
    assert pieced.events == whole.events
    assert _records(pieced.quarantine) == _records(whole.quarantine)
    if rows is not None:
        # Carrying every decided case (no ``carry`` set): the versions themselves, too.
        pieces = [rows.iloc[i : i + chunk_rows] for i in range(0, len(rows), chunk_rows)]
        every = ledger.plan_pieces(con, meta, pieces, errors)
        if whole.versions.empty:
            assert every.versions.empty
        else:
            pd.testing.assert_frame_equal(every.versions, whole.versions)


def _run(root: Path, chunk_rows: int, check_plans: bool, ghost: bool = True) -> dict:
    """Stage the first file, load it, stage the other two, (plan them,) load them."""
    s = _with_chunk(h.make_settings(root), chunk_rows)
    batches = intake.discover(s)
    files = [f for batch in batches for f in batch]
    assert [f.relpath.rsplit("/", 1)[1] for f in files] == [
        "GZ001_20260301.csv",
        "GZ001_20260302.csv",
        "GZ001_20260303.csv",
    ]
    registry = reference.load_hospitals(s.hospital_registry)
    staging = _with_chunk(s, 10**6)  # the staged files do not depend on the load's pieces
    validator = FlaggingValidator(ghost)
    stage_batch(files[:1], staging, validator, registry)
    with session.writer(s, create=True, publish_snapshot=False) as con:
        ledger.load_staged(s, con)
    stage_batch(files[1:], staging, validator, registry)
    with session.writer(s, publish_snapshot=False) as con:
        if check_plans:
            for directory in _staged_dirs(s):
                _check_plans(con, directory, chunk_rows)
        ledger.load_staged(s, con)
    assert not list(s.staging_dir.glob(".*")), "temporary parts left behind"
    return h.snapshot(s)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    first=file_st,
    second=file_st,
    missing_column=st.sampled_from([False, False, False, True]),
    chunk_rows=st.integers(1, 4),
    ghost=st.booleans(),
)
def test_pieces_equal_one_piece(tmp_path_factory, first, second, missing_column, chunk_rows, ghost):
    roots = []
    for _ in range(2):
        root = tmp_path_factory.mktemp("pieces")
        _land(root, first, second, missing_column)
        roots.append(root)
    pieced = _run(roots[0], chunk_rows, check_plans=True, ghost=ghost)
    whole = _run(roots[1], 10**6, check_plans=False, ghost=ghost)
    assert pieced["tables"] == whole["tables"]
    assert pieced["lake"] == whole["lake"]
    assert pieced["receipts"] == whole["receipts"]
    for root in roots:
        shutil.rmtree(root)


def test_pieces_spread_a_case_across_pieces(tmp_path_factory):
    """A fixed example: a case new in one piece, corrected in the next, voided in a third;
    an identical resend of a stored case; a missing age in a later piece only."""
    first = [dict(case=0, kind="new", text=0, month=0, no_injury_time=False, no_age=False,
                  bad=0, repeat=False)]  # fmt: skip
    second = [
        dict(case=1, kind="new", text=0, month=0, no_injury_time=True, no_age=False, bad=0,
             repeat=True),
        dict(case=1, kind="correction", text=1, month=1, no_injury_time=False, no_age=False,
             bad=0, repeat=False),
        dict(case=0, kind="new", text=0, month=0, no_injury_time=False, no_age=False, bad=0,
             repeat=False),
        dict(case=2, kind="new", text=0, month=1, no_injury_time=False, no_age=True, bad=1,
             repeat=False),
        dict(case=1, kind="void", text=1, month=1, no_injury_time=False, no_age=False, bad=0,
             repeat=False),
        dict(case=3, kind="new", text=0, month=1, no_injury_time=False, no_age=True, bad=0,
             repeat=False),
    ]  # fmt: skip
    roots = []
    for _ in range(2):
        root = tmp_path_factory.mktemp("spread")
        _land(root, first, second, False)
        roots.append(root)
    pieced = _run(roots[0], 2, check_plans=True)
    whole = _run(roots[1], 10**6, check_plans=False)
    assert pieced == whole
    s = h.make_settings(roots[0])
    versions = h.query(
        s, "SELECT case_id, version, source_row FROM case_versions ORDER BY case_id, version"
    )
    # K1: new (row 1), its exact duplicate (row 2) dropped, correction (row 3), void (row 6);
    # K0's resend (row 4) is a duplicate of the stored version; K2's row is flagged.
    assert versions == [("K0", 1, 1), ("K1", 1, 1), ("K1", 2, 3), ("K1", 3, 6), ("K3", 1, 7)]
    versions_read = lake.read_versions(s.lake_location)
    assert str(versions_read["age"].dtype) == "float64"  # K3 has no age: as when typed whole


# ---- a crash between pieces -------------------------------------------------------------------

WORKER = """
import os, signal, sys
from pipeline.config import Settings
from pipeline.storage import lake, ledger, session
owner = {"ledger": ledger, "lake": lake, "MonthParts": lake.MonthParts}[sys.argv[1]]
name, at = sys.argv[2], int(sys.argv[3])
original = getattr(owner, name)
calls = [0]
def dying(*args, **kwargs):
    calls[0] += 1
    if calls[0] == at:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(*args, **kwargs)
setattr(owner, name, dying)
settings = Settings.from_env(dict(os.environ))
with session.writer(settings, create=True, publish_snapshot=False) as con:
    ledger.load_staged(settings, con)
"""


def _crash_file_specs() -> list[dict]:
    base = dict(text=0, no_injury_time=False, no_age=False, bad=0, repeat=False)
    kinds = ["new", "new", "correction", "new", "void", "new", "correction", "new"]
    return [
        {**base, "case": i % 3, "kind": k, "month": i % 2, "text": i % 2}
        for i, k in enumerate(kinds)
    ]


@pytest.mark.parametrize(
    ("owner", "name", "at"),
    [
        # The first file is one piece (one call of each, two months); in the second file:
        ("ledger", "_decide_versions", 3),  # after its first piece was inserted and parted
        ("MonthParts", "add", 2),  # after its first piece's rows were inserted
        ("lake", "_write_month", 4),  # after its first month's lake file
        ("ledger", "submission_record", 2),  # every piece done, no lake file yet
    ],
)
def test_killed_between_pieces_then_rerun(tmp_path, owner, name, at):
    """SIGKILL the load half way through a submission's pieces (a real process); the next
    load completes to exactly the state of an uninterrupted one."""
    specs = _crash_file_specs()
    roots = {}
    for label in ("killed", "clean"):
        root = tmp_path / label
        landing = root / "landing" / h.HOSPITAL
        h.write(landing / "GZ001_20260301.csv", _file(specs[:2]), h.RECEIVED)
        h.write(landing / "GZ001_20260302.csv", _file(specs), h.RECEIVED + timedelta(days=1))
        s = _with_chunk(h.make_settings(root), 2)
        files = [f for batch in intake.discover(s) for f in batch]
        stage_batch(files, s, FlaggingValidator(ghost=False), reference.load_hospitals())
        roots[label] = s
    killed = roots["killed"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(killed.home),
        SENTINEL_LANDING=str(killed.landing_dir),
        SENTINEL_PSEUDONYM_KEY=h.KEY,
        SENTINEL_CHUNK_ROWS="2",
    )
    done = subprocess.run(
        [sys.executable, "-c", WORKER, owner, name, str(at)],
        env=env,
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()
    # The kill came inside the second submission: the first one is committed, the second not.
    assert h.query(killed, "SELECT count(*) FROM submissions") == [(1,)]
    assert len(_staged_dirs(killed)) == 1
    for s in roots.values():
        with session.writer(s, create=True, publish_snapshot=False) as con:
            ledger.load_staged(s, con)
        assert not list(s.staging_dir.glob(".*"))
    assert h.snapshot(killed) == h.snapshot(roots["clean"])
