"""Chunked reading and validation (``SENTINEL_CHUNK_ROWS``) give the same stored cases,
quarantine and receipt as reading the file whole: a property over generated files with invalid
values, repeated case ids (file-wide uniqueness rule), exact duplicate rows, corrections,
names in narratives, narratives with line breaks (quoted multi-line fields across pieces),
UTF-8 with or without BOM or GB18030, CRLF line ends (the helper's), and sometimes a malformed
row anywhere (the file is rejected whole either way), ingested with a tiny chunk size (the
file streamed in pieces of 1-4 rows) and with the default."""

from __future__ import annotations

from dataclasses import replace

import intake_helpers as h
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline.config import IntakeLimits, Settings
from pipeline.services import intake

BAD = {
    "sex": "unknown-sex",
    "age": "-3",
    "visit_datetime": "2026-13-45",
    "product_category": "ZZ99",
    "residence_region": "99",
    "case_id": "",
}

row_st = st.fixed_dictionaries(
    {
        "case": st.integers(0, 7),  # few ids: repeated keys across chunks
        "bad": st.one_of(st.none(), st.sampled_from(sorted(BAD))),
        "report_type": st.sampled_from(["new", "new", "new", "correction"]),
        "name": st.sampled_from(["", "张伟", "John Smith"]),
        "age": st.integers(1, 90),
        "multiline": st.booleans(),
    }
)
layout_st = st.fixed_dictionaries(
    {
        "encoding": st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]),
        "broken_at": st.one_of(st.none(), st.none(), st.integers(0, 14)),
    }
)


def _rows(spec: list[dict]) -> list[dict]:
    rows = []
    for s in spec:
        overrides = {
            "report_type": s["report_type"],
            "age": s["age"],
            "patient_name": s["name"],
            "narrative": (f"{s['name']}在家摔倒，右臂骨折。" if s["name"] else "在家摔倒。")
            + ("\r\n送医后\n复诊。" if s["multiline"] else ""),
        }
        case_id = f"K{s['case']:03d}"
        if s["bad"] == "case_id":
            case_id = BAD["case_id"]
        elif s["bad"]:
            overrides[s["bad"]] = BAD[s["bad"]]
        rows.append(h.case_row(case_id, **overrides))
    return rows


def _file_bytes(rows: list[dict], layout: dict | None) -> bytes:
    layout = layout or {"encoding": "utf-8", "broken_at": None}
    encoding, at = layout["encoding"], layout["broken_at"]
    if at is None:
        return h.csv_bytes(rows, encoding=encoding)
    # A malformed record (text after a closing quote) after data row ``at``: the header and
    # rows before it, the broken record, then the other rows (their header line dropped).
    head = h.csv_bytes(rows[:at], encoding=encoding)
    tail = h.csv_bytes(rows[at:]).split(b"\r\n", 1)[1] if rows[at:] else b""
    tail = tail.decode("utf-8").encode(encoding.removesuffix("-sig"))
    return head + b'K999,"broken"x,1\r\n' + tail


def _ingest(root, rows: list[dict], chunk_rows: int, layout: dict | None = None) -> dict:
    base = h.make_settings(root)
    cfg: Settings = replace(base, intake=replace(IntakeLimits(), chunk_rows=chunk_rows))
    h.write(cfg.landing_dir / h.HOSPITAL / "GZ001_20260215.csv", _file_bytes(rows, layout))
    result = intake.ingest(cfg)
    assert result.files == 1
    snap = h.snapshot(cfg)
    snap["receipt"] = h.receipt_json(
        cfg, h.query(cfg, "SELECT submission_id FROM submissions")[0][0]
    )
    return snap


@pytest.mark.slow
@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=st.lists(row_st, min_size=1, max_size=14), chunk=st.integers(1, 4), layout=layout_st)
@example(  # a multi-line row split across pieces, BOM, and a broken row after the first piece
    spec=[
        {"case": i, "bad": None, "report_type": "new", "name": "张伟", "age": 30, "multiline": True}
        for i in range(5)
    ],
    chunk=2,
    layout={"encoding": "utf-8-sig", "broken_at": 3},
)
def test_chunked_equals_whole(tmp_path_factory, spec, chunk, layout):
    rows = _rows(spec)
    whole = _ingest(tmp_path_factory.mktemp("whole"), rows, IntakeLimits().chunk_rows, layout)
    chunked = _ingest(tmp_path_factory.mktemp("chunked"), rows, chunk, layout)
    assert chunked["tables"] == whole["tables"]
    assert chunked["lake"] == whole["lake"]
    assert chunked["receipts"] == whole["receipts"]
    assert chunked["receipt"] == whole["receipt"]


@pytest.mark.slow
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=st.lists(row_st, min_size=2, max_size=30), chunk=st.integers(1, 5))
def test_chunked_validation_names_the_same_errors(validator, registry, spec, chunk):
    """The validator alone: rows of one key stay together, so the file-wide duplicate_key rule
    flags the same rows; errors come back in the same order."""
    from pipeline.intake.submission import read_submission

    data = h.csv_bytes(_rows(spec))
    f = h.unlanded_file(data)
    staged = read_submission(f, registry, h.KEY.encode(), data=data)
    frame = staged.frame[~staged.frame["_duplicate"]]
    whole = validator.validate(frame, chunk_rows=None).errors
    chunked = validator.validate(frame, chunk_rows=chunk).errors
    assert chunked.to_dict("records") == whole.to_dict("records")
    # The property is not vacuous: the generator makes failing and repeated-key files.
    if any(s["bad"] for s in spec):
        assert not whole.empty


def test_chunk_rows_setting(tmp_path):
    env = {"SENTINEL_HOME": str(tmp_path)}
    assert Settings.from_env(env).intake.chunk_rows == 100_000
    assert Settings.from_env({**env, "SENTINEL_CHUNK_ROWS": "5000"}).intake.chunk_rows == 5000
