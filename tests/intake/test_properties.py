"""Property tests: nothing a hospital can send crashes intake.

Arbitrary bytes, malformed CSV (random quoting, ragged rows, any Unicode including control
characters) and corrupted XLSX either reject the file with a rule and a message, or yield rows
(some of which may fail row rules). Reading is checked over many examples (``stage._read_one``,
no GX); the full path (validation, load, receipts) over a few examples of many files each,
sharing one validator.
"""

from __future__ import annotations

import io
import json
import random
import tempfile
import zipfile
from datetime import datetime
from pathlib import Path

import intake_helpers as h
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import reference
from pipeline.contract import FIELD_BY_NAME
from pipeline.intake.discover import LandingFile, sha256_file
from pipeline.intake.reader import decode_text
from pipeline.intake.submission import read_submission as _read_one
from pipeline.services.intake import dry_run, ingest

FAST = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SLOW = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
STATUSES = {"accepted", "partially_accepted", "rejected", "duplicate"}
REGISTRY = reference.load_hospitals()

# --- strategies ------------------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)  # control chars too
HEADERS = st.sampled_from(
    sorted({a for f in FIELD_BY_NAME.values() for a in (*f.aliases_en, *f.aliases_zh)})
)
VALID = h.case_row()


@st.composite
def cells(draw, header: str | None = None) -> str:
    """A cell: a valid value for its column, a label, or anything at all."""
    field = next(
        (f for f in FIELD_BY_NAME.values() if header in (*f.aliases_en, *f.aliases_zh)), None
    )
    choices = [
        ANY_TEXT,
        st.sampled_from(
            [
                "",
                " ",
                "男",
                "跌倒/坠落",
                "2026-02-30",
                "-1",
                "1e400",
                "nan",
                "NaT",
                "None",
                "２０２６-０２-１０",
                "13912345678",
                "EL90",
                '"',
                '""',
                "\\",
            ]
        ),
    ]
    if field is not None and field.name in VALID:  # optional fields (survey design) have none
        choices.append(st.just(VALID[field.name]))
    return draw(st.one_of(*choices))


@st.composite
def malformed_csv(draw) -> bytes:
    """CSV-ish text: real and random headers, ragged rows, stray quotes, any Unicode."""
    headers = draw(st.lists(st.one_of(HEADERS, ANY_TEXT), min_size=0, max_size=12))
    if draw(st.booleans()):
        headers = [*h.EN_HEADERS, *headers]
    delimiter = draw(st.sampled_from([",", "\t", ";"]))
    newline = draw(st.sampled_from(["\r\n", "\n", "\r"]))
    lines = []
    for row in [headers, *draw(st.lists(st.just(None), max_size=6))]:
        width = draw(st.integers(0, len(headers) + 3))
        values = (
            row
            if row is not None
            else [draw(cells(headers[i] if i < len(headers) else None)) for i in range(width)]
        )
        out = []
        for value in values:
            quoting = draw(st.sampled_from(["plain", "quoted", "stray", "plain", "plain"]))
            if quoting == "quoted":
                value = '"' + value.replace('"', '""') + '"'
            elif quoting == "stray":
                position = draw(st.integers(0, len(value)))
                value = value[:position] + '"' + value[position:]
            out.append(value)
        lines.append(delimiter.join(out))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    return text.encode(encoding)


def _workbook(rows: list[list[object]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


VALID_XLSX = h.xlsx_bytes([h.case_row("C1"), h.case_row("C2", sex="男")], language="zh")


@st.composite
def corrupted_xlsx(draw) -> bytes:
    """A valid workbook with bytes flipped, cut short, or members rewritten."""
    data = bytearray(VALID_XLSX)
    kind = draw(st.sampled_from(["flip", "truncate", "both", "member"]))
    if kind == "member":
        # Keep the zip valid but corrupt one member (the XML openpyxl parses).
        with zipfile.ZipFile(io.BytesIO(VALID_XLSX)) as source:
            members = {name: source.read(name) for name in source.namelist()}
        name = draw(st.sampled_from(sorted(members)))
        body = bytearray(members[name])
        for _ in range(draw(st.integers(1, 8))):
            if body:
                body[draw(st.integers(0, len(body) - 1))] = draw(st.integers(0, 255))
        if draw(st.booleans()):
            body = body[: draw(st.integers(0, len(body)))]
        members[name] = bytes(body)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
            for member, content in members.items():
                target.writestr(member, content)
        return buffer.getvalue()
    if kind in ("flip", "both"):
        for _ in range(draw(st.integers(1, 16))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    if kind in ("truncate", "both"):
        data = data[: draw(st.integers(0, len(data)))]
    return bytes(data)


@st.composite
def xlsx_with_odd_cells(draw) -> bytes:
    """A workbook with typed and odd cells (numbers, dates, booleans, long text)."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    odd = st.one_of(
        st.integers(-(10**12), 10**15),
        st.floats(allow_nan=True, allow_infinity=True),
        st.booleans(),
        st.datetimes(min_value=datetime(1900, 1, 1)),
        ANY_TEXT.map(lambda t: ILLEGAL_CHARACTERS_RE.sub("", t)),
        st.none(),
    )
    headers = h.EN_HEADERS if draw(st.booleans()) else draw(st.lists(HEADERS, max_size=8))
    rows = [list(headers)]
    for _ in range(draw(st.integers(0, 4))):
        rows.append([draw(odd) for _ in range(draw(st.integers(0, len(headers) + 2)))])
    return _workbook(rows)


NEISS_LIKE = st.lists(
    st.one_of(
        st.sampled_from(["0", "1", "2", "57", "204", "1807", "01/15/2026", "13/45/2026", ""]),
        ANY_TEXT,
    ),
    min_size=0,
    max_size=len(h.NEISS_HEADERS) + 2,
)


@st.composite
def neiss_file(draw) -> bytes:
    rows = [h.NEISS_HEADERS] + draw(st.lists(NEISS_LIKE, min_size=1, max_size=4))
    text = "\n".join(
        "\t".join(c.replace("\t", " ").replace("\n", " ").replace("\r", " ") for c in row)
        for row in rows
    )
    return text.encode("utf-8")


ANY_FILE = st.one_of(
    st.tuples(st.sampled_from([".csv", ".txt", ".xlsx", ".tsv", ".xls"]), st.binary(max_size=3000)),
    st.tuples(st.sampled_from([".csv", ".txt"]), malformed_csv()),
    st.tuples(st.just(".xlsx"), corrupted_xlsx()),
    st.tuples(st.just(".xlsx"), xlsx_with_odd_cells()),
    st.tuples(st.just(".txt"), neiss_file()),
)

# --- helpers ---------------------------------------------------------------------------------


def _landing_file(path: Path, hospital: str = h.HOSPITAL) -> LandingFile:
    """``path`` is ``<landing>/<hospital>/<name>``."""
    return LandingFile(
        hospital_code=hospital,
        path=str(path),
        relpath=f"{hospital}/{path.name}",
        sha256=sha256_file(path),
        size_bytes=path.stat().st_size,
        received_at=h.RECEIVED.isoformat(timespec="seconds"),
        order_key=f"9|{path.name}",
        landing=str(path.parent.parent),
    )


def _check_staged(staged) -> None:
    meta = staged.meta
    if meta["file_rule"]:
        assert isinstance(meta["file_rule"], str) and meta["file_message"]
    else:
        assert staged.frame is not None and len(staged.frame) == meta["rows_received"] > 0
        assert staged.frame["_row"].is_unique
    if staged.frame is not None:
        assert set(FIELD_BY_NAME) <= set(staged.frame.columns)
    json.dumps(meta, ensure_ascii=False, allow_nan=False)


def _read(tmp: Path, suffix: str, data: bytes):
    path = tmp / h.HOSPITAL / f"extract{suffix}"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    staged = _read_one(_landing_file(path), REGISTRY, h.KEY.encode())
    _check_staged(staged)
    return staged


# --- reading: many examples ------------------------------------------------------------------


@FAST
@given(
    suffix=st.sampled_from([".csv", ".txt", ".xlsx", ".tsv", ".xls"]), data=st.binary(max_size=4000)
)
def test_arbitrary_bytes_never_crash_reading(tmp_path, suffix, data):
    _read(tmp_path, suffix, data)


@pytest.mark.slow
@FAST
@given(data=malformed_csv(), suffix=st.sampled_from([".csv", ".txt"]))
def test_malformed_csv_never_crashes_reading(tmp_path, data, suffix):
    _read(tmp_path, suffix, data)


@pytest.mark.slow
@FAST
@given(data=corrupted_xlsx())
def test_corrupted_xlsx_never_crashes_reading(tmp_path, data):
    staged = _read(tmp_path, ".xlsx", data)
    if staged.meta["file_rule"] is None:
        assert staged.meta["encoding"] == "xlsx"


@pytest.mark.slow
@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=xlsx_with_odd_cells())
def test_odd_xlsx_cells_never_crash_reading(tmp_path, data):
    _read(tmp_path, ".xlsx", data)


@pytest.mark.slow
@settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=neiss_file())
def test_neiss_like_files_never_crash_reading(tmp_path, data):
    staged = _read(tmp_path, ".txt", data)
    assert staged.meta["file_format"] in {"neiss", None}


COMMON_HANZI = [
    bytes([hi, lo]).decode("gb2312")
    for hi in range(0xB0, 0xD8)
    for lo in range(0xA1, 0xFF)
    if (hi, lo) <= (0xD7, 0xF9)
]
CHINESE_TEXT = st.text(
    st.one_of(
        st.sampled_from(COMMON_HANZI),
        st.sampled_from(list('，。；：、（）“”《》—…·０１２ABC abc123,"\n')),
    ),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(body=CHINESE_TEXT)
def test_gb18030_is_never_decoded_as_something_else(body):
    """A Chinese-headed GB18030 file decodes to exactly its text (never as UTF-8 mojibake)."""
    text = "医院编码,病例编号,伤害经过\n" + body
    assert decode_text(text.encode("gb18030")) == (text, "gb18030")
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")


# --- the whole path: a few examples of many files --------------------------------------------


@pytest.mark.slow
@SLOW
@given(
    files=st.lists(ANY_FILE, min_size=6, max_size=10),
    valid=st.lists(
        st.dictionaries(st.sampled_from(sorted(VALID)), ANY_TEXT, max_size=4),
        min_size=1,
        max_size=3,
    ),
)
def test_ingest_never_crashes(validator, files, valid):
    """Random files plus nearly valid ones (random values in a few fields): ingest completes,
    every file gets a submission, a receipt, and rows that add up."""
    with tempfile.TemporaryDirectory() as tmp:
        settings_ = h.make_settings(Path(tmp))
        folder = settings_.landing_dir / h.HOSPITAL
        for i, (suffix, data) in enumerate(files):
            h.write(folder / f"GZ001_202602{i + 10:02d}_{i}{suffix}", data)
        rows = [h.case_row(**{"case_id": f"V{i}", **over}) for i, over in enumerate(valid)]
        h.write(folder / "GZ001_20260201.csv", h.csv_bytes(rows))
        result = ingest(settings_, validator=validator)
        assert result.files == len(files) + 1
        ledger = h.query(
            settings_,
            "SELECT submission_id, status, rows_received, rows_stored, "
            "rows_quarantined, rows_duplicate, file_rule, file_message "
            "FROM submissions",
        )
        assert len(ledger) == len(files) + 1
        for sid, status, received, stored, quarantined, duplicate, rule, message in ledger:
            assert status in STATUSES
            assert received == stored + quarantined + duplicate
            assert (rule is None) or message
            receipt = h.receipt_json(settings_, sid)
            assert receipt["status"] == status
            for error in receipt["errors"]:
                assert error["row"] >= 1 and error["field"] and error["rule"]
                assert error["message"] and error["field_label"]
        assert list(settings_.staging_dir.iterdir()) == []


@pytest.mark.slow
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(file=ANY_FILE)
def test_dry_run_never_crashes(validator, file):
    suffix, data = file
    with tempfile.TemporaryDirectory() as tmp:
        path = h.write(Path(tmp) / f"extract{suffix}", data)
        receipt = dry_run(path, h.HOSPITAL, h.make_settings(Path(tmp)), validator=validator)
    assert receipt["status"] in STATUSES
    assert receipt["file_rule"] is None or receipt["file_message"]
    json.dumps(receipt, ensure_ascii=False, allow_nan=False)


@pytest.mark.slow
def test_seeded_corruptions_of_every_byte_region(tmp_path):
    """Deterministic sweep: flip one byte at 100 spread positions of a valid workbook."""
    rng = random.Random(20260301)
    for position in range(0, len(VALID_XLSX), max(1, len(VALID_XLSX) // 100)):
        data = bytearray(VALID_XLSX)
        data[position] ^= rng.randrange(1, 256)
        _read(tmp_path, ".xlsx", bytes(data))


@pytest.mark.parametrize("cut", [0, 1, 4, 30, 100, 1000, -100, -22, -1])
def test_truncated_workbooks(tmp_path, cut):
    staged = _read(tmp_path, ".xlsx", VALID_XLSX[:cut])
    assert staged.meta["file_rule"] in {"unreadable_file", "empty_file"}
