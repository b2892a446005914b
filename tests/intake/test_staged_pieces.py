"""A large file staged piece by piece (``chunk_rows`` smaller than the file: each prepared piece
validated and appended to ``rows.parquet``) gives the same staged submission (meta, rows read
back, errors, in order) as the same file staged whole: exact duplicate rows across pieces, a
case id repeated across pieces (the suite's file-wide uniqueness rule), rows naming another
hospital (a file-level rejection counted over every piece), invalid values, cells over the
length limit (reading's own row errors), a missing required column and a broken row."""

from __future__ import annotations

from dataclasses import replace

import intake_helpers as h
import pandas as pd
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from pipeline import reference
from pipeline.config import IntakeLimits
from pipeline.services import intake
from pipeline.validation.staging import read_staged, stage_batch, staged_submission_dirs

BAD = {"sex": "unknown-sex", "age": "-3", "visit_datetime": "2026-13-45", "case_id": ""}
CELL_LIMIT = 60

row_st = st.fixed_dictionaries(
    {
        "case": st.integers(0, 5),  # few ids: keys repeated across pieces
        "bad": st.one_of(st.none(), st.none(), st.sampled_from(sorted(BAD))),
        "other_hospital": st.integers(0, 9).map(lambda n: n == 0),
        "long_narrative": st.integers(0, 9).map(lambda n: n == 0),
        "repeat_of": st.one_of(st.none(), st.none(), st.integers(0, 30)),  # an exact duplicate
        "age": st.integers(1, 90),
    }
)
file_st = st.fixed_dictionaries(
    {
        "missing": st.sampled_from([None, None, None, "sex"]),
        "broken_at": st.one_of(st.none(), st.none(), st.none(), st.integers(0, 20)),
    }
)


def _rows(spec: list[dict]) -> list[dict]:
    rows: list[dict] = []
    for s in spec:
        if s["repeat_of"] is not None and s["repeat_of"] < len(rows):
            rows.append(dict(rows[s["repeat_of"]]))
            continue
        case_id = "" if s["bad"] == "case_id" else f"K{s['case']:03d}"
        overrides: dict[str, object] = {"age": s["age"]}
        if s["bad"] and s["bad"] != "case_id":
            overrides[s["bad"]] = BAD[s["bad"]]
        if s["long_narrative"]:
            overrides["narrative"] = "在家摔倒。" * 20  # over the cell limit: a row error
        hospital = h.OTHER_HOSPITAL if s["other_hospital"] else h.HOSPITAL
        rows.append(h.case_row(case_id, hospital=hospital, **overrides))
    return rows


def _file_bytes(rows: list[dict], shape: dict) -> bytes:
    headers = [c for c in h.EN_HEADERS if c != shape["missing"]]
    at = shape["broken_at"]
    if at is None or at > len(rows):
        return h.csv_bytes(rows, headers=headers)
    head = h.csv_bytes(rows[:at], headers=headers)
    tail = h.csv_bytes(rows[at:], headers=headers).split(b"\r\n", 1)[1]
    return head + b'K999,"broken"x,1\r\n' + tail


def _stage(root, data: bytes, chunk_rows: int, validator) -> tuple[dict, object, object]:
    base = h.make_settings(root)
    cfg = replace(
        base, intake=replace(IntakeLimits(), chunk_rows=chunk_rows, max_cell_chars=CELL_LIMIT)
    )
    h.write(cfg.landing_dir / h.HOSPITAL / "GZ001_20260215.csv", data)
    (batch,) = intake.discover(cfg)
    stage_batch(batch, cfg, validator, reference.load_hospitals())
    (directory,) = staged_submission_dirs(cfg)
    assert not [p for p in cfg.staging_dir.iterdir() if p.name.startswith(".")]  # no tmp left
    return read_staged(directory)


def _meta(meta: dict) -> dict:
    return {k: v for k, v in meta.items() if k not in {"path", "identity", "landing"}}


def _same_staging(tmp_path_factory, validator, spec, shape, chunk) -> tuple:
    data = _file_bytes(_rows(spec), shape)
    whole = _stage(tmp_path_factory.mktemp("whole"), data, 10_000, validator)
    pieces = _stage(tmp_path_factory.mktemp("pieces"), data, chunk, validator)
    # meta: counts, file rule and its parameters, columns (not where each copy was landed)
    assert _meta(pieces[0]) == _meta(whole[0])
    for mine, theirs in zip(pieces[1:], whole[1:], strict=True):
        if theirs is None:
            assert mine is None
        else:
            pd.testing.assert_frame_equal(mine, theirs)
    return whole


EXAMPLE = [
    {"case": 1, "bad": None, "other_hospital": False, "long_narrative": False, "repeat_of": None},
    {"case": 2, "bad": "age", "other_hospital": False, "long_narrative": False, "repeat_of": None},
    {"case": 3, "bad": None, "other_hospital": False, "long_narrative": True, "repeat_of": None},
    {"case": 4, "bad": None, "other_hospital": True, "long_narrative": False, "repeat_of": None},
    {"case": 1, "bad": "sex", "other_hospital": False, "long_narrative": False, "repeat_of": None},
    {"case": 0, "bad": None, "other_hospital": False, "long_narrative": False, "repeat_of": 0},
    {"case": 5, "bad": None, "other_hospital": True, "long_narrative": False, "repeat_of": None},
    {"case": 2, "bad": None, "other_hospital": False, "long_narrative": False, "repeat_of": None},
]


@pytest.mark.slow
@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spec=st.lists(row_st, min_size=1, max_size=22),
    shape=file_st,
    chunk=st.integers(3, 7),
)
@example(  # keys K001 and K002 and an exact duplicate each across pieces of 3 rows
    spec=[{**s, "age": 30} for s in EXAMPLE], shape={"missing": None, "broken_at": None}, chunk=3
)
@example(  # a missing column, a broken row in the last piece
    spec=[{**s, "age": 30} for s in EXAMPLE], shape={"missing": "sex", "broken_at": 7}, chunk=3
)
def test_staging_in_pieces_equals_staging_whole(tmp_path_factory, validator, spec, shape, chunk):
    meta, rows, errors = _same_staging(tmp_path_factory, validator, spec, shape, chunk)
    if spec == [{**s, "age": 30} for s in EXAMPLE] and shape["broken_at"] is None:
        # Not vacuous: the cross-piece cases are there in the whole file's staging.
        assert meta["rows_duplicate_in_file"] == 1 and rows["_duplicate"].sum() == 1
        assert meta["file_rule"] == "other_hospital_rows"
        assert meta["file_params"]["count"] == 2
        flagged = errors.loc[errors["rule"] == "duplicate_key", "_row"].tolist()
        assert sorted(flagged) == [1, 2, 5, 8]  # K001 rows 1 and 5, K002 rows 2 and 8
        assert errors[["_row", "rule"]].values.tolist() == [
            [5, "code_set"],
            [2, "range_years"],
            [1, "duplicate_key"],
            [2, "duplicate_key"],
            [5, "duplicate_key"],
            [8, "duplicate_key"],
            [4, "hospital_mismatch"],
            [7, "hospital_mismatch"],
            [3, "cell_too_large"],
        ]


@pytest.mark.slow
@pytest.mark.parametrize("broken_at", [None, 7])
def test_dry_run_in_pieces_equals_whole(tmp_path, validator, broken_at):
    """``sentinel validate`` of a large file (staged piece by piece into a temporary folder,
    planned from there) predicts the receipt of the file checked whole; nothing is left."""
    data = _file_bytes(
        _rows([{**s, "age": 30} for s in EXAMPLE]), {"missing": None, "broken_at": broken_at}
    )
    receipts = []
    for chunk_rows in (10_000, 3):
        base = h.make_settings(tmp_path / str(chunk_rows))
        cfg = replace(
            base, intake=replace(IntakeLimits(), chunk_rows=chunk_rows, max_cell_chars=CELL_LIMIT)
        )
        receipt = intake.dry_run_data(
            "GZ001_20260215.csv",
            data,
            h.HOSPITAL,
            cfg,
            received_at="2026-03-01T08:00:00Z",
            validator=validator,
        )
        receipts.append(receipt)
        dry = cfg.staging_dir / "dry-run"
        assert not dry.exists() or not list(dry.iterdir())  # the temporary folder is gone
    assert receipts[1] == receipts[0]
    if broken_at is None:
        assert receipts[0]["file_rule"] == "other_hospital_rows"
        assert receipts[0]["rows_quarantined"] == 8
