"""The load decides versions over columns (``ledger._decide_versions``); this checks it against
the row-by-row rule written out independently here (each row in file order against its case as
the earlier rows left it), and the column-wise content hashes against ``content_hash``."""

from __future__ import annotations

import json
from datetime import datetime

import duckdb
import hypothesis.strategies as st
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from pipeline.contract import SURVEY_FIELDS
from pipeline.storage.ledger import (
    CONTENT_FIELDS,
    QUARANTINE_COLUMNS,
    _decide_versions,
    _quarantine_records,
    content_hash,
    content_hashes,
)
from pipeline.storage.warehouse import CASE_FIELDS

RECEIVED = datetime(2026, 3, 1, 8, 0)
TEXT = st.one_of(st.none(), st.sampled_from(["a", "b", 'q"\\\n', "张三\u2028"]))


def _reference(rows: list[dict], stored: dict[str, tuple[int, str, str]]):
    """The rule as the issue states it, one row at a time in file order."""
    state = dict(stored)
    kept, errors, duplicates = [], [], 0
    for row in sorted(rows, key=lambda r: r["_row"]):
        digest, cur, kind = content_hash(row), state.get(row["case_id"]), row["report_type"]
        rule = None
        if kind == "new":
            if cur is None:
                new = (1, "active")
            elif cur[2] == digest and cur[1] == "active":
                duplicates += 1
                continue
            else:
                rule = "key_exists"
        elif kind == "correction":
            if cur is None:
                rule = "correction_unknown_case"
            elif cur[1] == "void":
                rule = "case_voided"
            elif cur[2] == digest:
                duplicates += 1
                continue
            else:
                new = (cur[0] + 1, "active")
        else:
            if cur is None:
                rule = "void_unknown_case"
            elif cur[1] == "void":
                duplicates += 1
                continue
            else:
                new = (cur[0] + 1, "void")
        if rule:
            errors.append((row["_row"], rule))
            continue
        state[row["case_id"]] = (*new, digest)
        kept.append((row["_row"], row["case_id"], *new, digest))
    return kept, errors, duplicates


def _row(i: int, case: str, kind: str, narrative: str | None, weight: str | None) -> dict:
    row = {f: None for f in CASE_FIELDS}
    row.update(
        hospital_code="BJ001",
        case_id=case,
        report_type=kind,
        visit_datetime="2026-02-10 09:30:00",
        age="7",
        narrative=narrative,
        survey_weight=weight,
        _row=i,
        _duplicate=False,
    )
    return row


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["C1", "C2", "C3", "C4", "C5"]),
        st.sampled_from(["new", "correction", "void"]),
        TEXT,
        st.sampled_from([None, None, "15.7"]),
    ),
    max_size=14,
)
STORED = st.dictionaries(
    st.sampled_from(["C1", "C2", "C3", "C4"]),
    st.tuples(st.integers(1, 3), st.sampled_from(["active", "void"]), TEXT),
)


@pytest.mark.slow  # ~4 s: 150 files decided against DuckDB
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs=ROWS, stored=STORED, order=st.randoms(use_true_random=False))
def test_columnar_decisions_equal_row_by_row(specs, stored, order) -> None:
    rows = [_row(i + 1, *spec) for i, spec in enumerate(specs)]
    order.shuffle(rows)  # the file order is _row, not the frame's order
    # A stored case's hash: that of a row with the given narrative (so resends can match).
    current = {
        case: (v, s, content_hash(_row(0, case, "new", text, None)))
        for case, (v, s, text) in stored.items()
    }
    con = duckdb.connect()
    con.execute(
        "CREATE TABLE cases (hospital_code VARCHAR, case_id VARCHAR, version INTEGER, "
        "status VARCHAR, content_hash VARCHAR)"
    )
    for case, (v, s, h) in current.items():
        con.execute("INSERT INTO cases VALUES ('BJ001', ?, ?, ?, ?)", [case, v, s, h])
    frame = pd.DataFrame.from_records(rows, columns=[*CASE_FIELDS, "_row", "_duplicate"])
    versions, errors, duplicates = _decide_versions(con, "S1", frame, RECEIVED)
    kept, want_errors, want_duplicates = _reference(rows, current)
    got = (
        []
        if versions.empty
        else list(
            zip(
                versions["source_row"].tolist(),
                versions["case_id"].tolist(),
                versions["version"].tolist(),
                versions["status"].tolist(),
                versions["content_hash"].tolist(),
                strict=True,
            )
        )
    )
    assert got == kept
    got_errors = [] if errors.empty else list(zip(errors["_row"], errors["rule"], strict=True))
    assert got_errors == want_errors
    assert duplicates == want_duplicates
    if not versions.empty:
        assert (versions["submission_id"] == "S1").all()
        assert (versions["received_at"] == pd.Timestamp(RECEIVED)).all()
        assert versions["visit_week"].notna().all()


@settings(max_examples=100, deadline=None)
@given(
    values=st.lists(
        st.tuples(st.one_of(st.none(), st.text(max_size=6)), st.sampled_from([None, "4.85"])),
        min_size=1,
        max_size=8,
    )
)
def test_column_hashes_equal_row_hashes(values) -> None:
    rows = []
    for text, weight in values:
        row = {f: None for f in CONTENT_FIELDS}
        row.update(narrative=text, sex="male", survey_weight=weight)
        rows.append(row)
    frame = pd.DataFrame.from_records(rows, columns=[*CONTENT_FIELDS, *SURVEY_FIELDS])
    assert content_hashes(frame) == [content_hash(r) for r in rows]
    # Without survey columns at all: the hash of a row without a design.
    plain = frame.drop(columns=list(SURVEY_FIELDS))
    assert content_hashes(plain) == [
        content_hash({**r, **{f: None for f in SURVEY_FIELDS}}) for r in rows
    ]


def _reference_quarantine(meta: dict, rows: pd.DataFrame, errors: pd.DataFrame) -> list[dict]:
    """One record per error, looked up row by row (the first row of that number)."""
    out = []
    for err in errors.to_dict("records"):
        match = rows[rows["_row"] == err["_row"]]
        row = None if match.empty else match.iloc[0]
        out.append(
            {
                "submission_id": meta["submission_id"],
                "hospital_code": meta["hospital_code"],
                "source_row": int(err["_row"]),
                "case_id": None if row is None else row["case_id"],
                **{k: err[k] for k in ("field", "value", "rule", "message_en", "message_zh")},
                "row_json": "{}"
                if row is None
                else json.dumps(
                    {f: (None if pd.isna(row[f]) else str(row[f])) for f in CASE_FIELDS},
                    ensure_ascii=False,
                    sort_keys=True,
                ),
            }
        )
    return out


@settings(max_examples=100, deadline=None)
@given(
    specs=st.lists(st.tuples(st.integers(1, 6), TEXT), max_size=8),
    failing=st.lists(st.tuples(st.integers(1, 8), st.sampled_from(["sex", "age"])), max_size=8),
)
def test_quarantine_records_equal_row_by_row(specs, failing) -> None:
    rows = pd.DataFrame.from_records(
        [_row(n, f"C{i}", "new", text, None) for i, (n, text) in enumerate(specs)],
        columns=[*CASE_FIELDS, "_row", "_duplicate"],
    )
    errors = pd.DataFrame(
        {
            "_row": [n for n, _ in failing],
            "field": [f for _, f in failing],
            "value": [None] * len(failing),
            "rule": "required",
            "message_en": "m",
            "message_zh": "信息",
        }
    )
    meta = {"submission_id": "S1", "hospital_code": "BJ001"}
    got = _quarantine_records(meta, rows, errors)
    assert list(got.columns) == QUARANTINE_COLUMNS
    # As the loader's frame was built before: from the records, pandas inferring the types.
    want = pd.DataFrame.from_records(
        _reference_quarantine(meta, rows, errors), columns=QUARANTINE_COLUMNS
    )
    pd.testing.assert_frame_equal(got, want)
