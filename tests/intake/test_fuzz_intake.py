"""Issue 16, item 8: fuzzing the whole intake (Hypothesis, CSV and XLSX builders) and the
hostile-input corpus, with the invariants

* no traceback: ingest completes, every file gets a submission and a receipt;
* every row accounted for: received = stored + quarantined + duplicate for every submission,
  and a file whose bytes were not damaged reports exactly the rows it holds;
* nothing outside the landing zone read: the kernel (inotify) sees no open or read there,
  although links into it are planted among the files;
* no identifier stored: the clear names, ID-card and phone numbers of the rows appear in no
  table, lake file, receipt or staging file.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

import intake_helpers as h
import intake_hostile as x
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.services.intake import ingest

pytestmark = pytest.mark.slow  # many ingests; see the figures in docs/intake.md

STATUSES = {"accepted", "partially_accepted", "rejected", "duplicate"}
NAMES = ["欧阳娜娜", "诸葛小明", "端木蓉然", "慕容复生", "上官婉儿"]
HOSTILE_VALUES = [
    "",
    " ",
    "男",
    "跌倒/坠落",
    "2026-02-30",
    "1900-01-01",
    "-1",
    "1e400",
    "nan",
    "NaT",
    "=cmd|' /C calc'!A0",
    "<img src=x onerror=alert(1)>",
    '"',
    "\\",
    "２０２６-０２-１０",
    "GZ-001",
    "SH001",
    "correction",
    "void",
    "x" * 2100,
]
CONTROL = ["\x00", "\x07", "\x1b[31m", "\x9b", "\x7f"]


def _identity(rng: random.Random) -> dict[str, str]:
    region = rng.choice(["440104", "310106", "110105"])
    birth = f"{rng.randint(1950, 2020)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    return {
        "patient_name": rng.choice(NAMES),
        "patient_id_number": f"{region}{birth}{rng.randint(100, 999)}{rng.choice('0123456789X')}",
        "patient_phone": f"1{rng.choice('3589')}{rng.randint(10**8, 10**9 - 1)}",
    }


@st.composite
def extract(draw, number: int) -> dict:
    """One file: its rows (dicts), format, language, damage and name."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    rows = []
    for i in range(draw(st.integers(1, 6))):
        who = _identity(rng)
        # The name is in its column only: scrubbing names out of free text is measured by
        # bench/privacy; ID and phone numbers in the text are scrubbed by their patterns.
        narrative = f"电话{who['patient_phone']}，身份证{who['patient_id_number']}，摔伤。"
        row = h.case_row(f"F{number}R{i}", narrative=narrative, **who)
        for _ in range(draw(st.integers(0, 3))):
            field = draw(st.sampled_from(sorted(set(row) - {"patient_name"})))
            row[field] = draw(st.sampled_from(HOSTILE_VALUES))
        rows.append(row)
    if draw(st.booleans()) and rows:
        rows.append(dict(rows[0]))  # an exact repeat: a duplicate row
    fmt = draw(st.sampled_from(["csv", "csv", "xlsx", "raw_xlsx"]))
    damage = draw(st.sampled_from(["none", "none", "none", "control", "truncate", "garbage"]))
    return {
        "seed": rng.randint(0, 2**32),
        "rows": rows,
        "format": fmt,
        "language": draw(st.sampled_from(["en", "zh"])),
        "encoding": draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"])),
        "damage": damage,
        "control": draw(st.sampled_from(CONTROL)),
        "cut": draw(st.floats(0.1, 0.9)),
        "name": draw(
            st.sampled_from(
                [
                    f"GZ001_202601{number + 10:02d}",
                    f"GZ001_202601{number + 10:02d} <b>&\n",
                    f"GZ001_202601{number + 10:02d}_v2",
                ]
            )
        ),
    }


def _bytes(spec: dict) -> bytes:
    rows, language = spec["rows"], spec["language"]
    if spec["format"] == "xlsx":
        clean = [{k: "".join(c for c in v if c >= " ") for k, v in r.items()} for r in rows]
        data = h.xlsx_bytes(clean, language=language)
    elif spec["format"] == "raw_xlsx":
        data = x.raw_xlsx(x.sheet_xml(h.rows_table(rows, language=language)))
    else:
        encoding = (
            spec["encoding"] if language == "zh" or spec["encoding"] != "gb18030" else "utf-8"
        )
        data = h.csv_bytes(rows, language=language, encoding=encoding)
    if spec["damage"] == "control" and spec["format"] == "csv":
        data = data.replace("摔伤".encode(), f"摔{spec['control']}伤".encode(), 1)
    elif spec["damage"] == "truncate":
        data = data[: int(len(data) * spec["cut"])]
    elif spec["damage"] == "garbage":
        at = int(len(data) * spec["cut"])
        data = data[:at] + random.Random(spec["seed"]).randbytes(64) + data[at:]
    return data


def _suffix(spec: dict) -> str:
    return ".csv" if spec["format"] == "csv" else ".xlsx"


FUZZ = settings(
    max_examples=int(os.environ.get("SENTINEL_FUZZ_EXAMPLES", "12")),
    deadline=None,
    derandomize=True,  # the same examples on every CI run (raise the count to explore)
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)


def _check_invariants(root: Path, settings_, written: dict[str, tuple[dict, bytes]]) -> None:
    ledger = h.query(
        settings_,
        "SELECT submission_id, file_name, status, rows_received, rows_stored, rows_quarantined, "
        "rows_duplicate, file_rule FROM submissions",
    )
    names = {row[1] for row in ledger}
    assert set(written) <= names  # every file has a submission
    for sid, name, status, received, stored, quarantined, duplicate, rule in ledger:
        assert status in STATUSES
        assert received == stored + quarantined + duplicate, name
        receipt = h.receipt_json(settings_, sid, name.split("/", 1)[0])
        assert receipt["status"] == status and receipt["language"] in ("zh", "en")
        if name in written:
            spec, data = written[name]
            intact = spec["damage"] == "none" or (
                spec["damage"] == "control" and spec["format"] != "csv"
            )
            if intact and rule is None:
                assert received == len(spec["rows"]), (name, received, len(spec["rows"]))
    assert list(settings_.staging_dir.iterdir()) == []
    # No identifier stored: tables, lake, receipts, staging (the landing holds them, in clear).
    secrets = set()
    for spec, _ in written.values():
        for row in spec["rows"]:
            for field in ("patient_name", "patient_id_number", "patient_phone"):
                if len(row[field]) >= 4 and row[field] not in HOSTILE_VALUES:
                    secrets.add(row[field])
    texts = [json.dumps(h.query(settings_, f"SELECT * FROM {t}"), default=str, ensure_ascii=False)
             for t in ("cases", "case_versions", "quarantine", "submissions")]  # fmt: skip
    for path in settings_.home.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".md", ".jsonl"):
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
        elif path.is_file() and path.suffix == ".parquet":
            texts.append(pd.read_parquet(path).to_json(force_ascii=False))
    leaked = {s for s in secrets for t in texts if s in t}
    assert leaked == set(), leaked


@FUZZ
@given(files=st.lists(st.integers(0, 9), min_size=2, max_size=5, unique=True).flatmap(
    lambda numbers: st.tuples(*[extract(n) for n in numbers])
), link=st.booleans())  # fmt: skip
def test_fuzzed_landing_keeps_every_invariant(validator, files, link):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        settings_ = h.make_settings(root)
        folder = settings_.landing_dir / h.HOSPITAL
        written: dict[str, tuple[dict, bytes]] = {}
        for spec in files:
            data = _bytes(spec)
            name = spec["name"] + _suffix(spec)
            h.write(folder / name, data)
            written[f"{h.HOSPITAL}/{name}"] = (spec, data)
        outside = x.outside_files(root)
        if link:
            x.link_out(settings_.landing_dir, outside)
        watch = h.AccessWatch(outside)
        try:
            ingest(settings_, validator=validator)
            events = watch.events()
        finally:
            watch.close()
        assert events == []  # nothing outside the landing zone was opened or read
        _check_invariants(root, settings_, written)
        stored = {c for (c,) in h.query(settings_, "SELECT case_id FROM case_versions")}
        assert not any(c.startswith(x.CANARY) for c in stored)


def test_the_whole_corpus_in_one_landing_zone(tmp_path, validator):
    """Every probe file of the corpus side by side (plus links out): ingest completes, each
    has its receipt, the rows add up, nothing outside is read, a rerun changes nothing."""
    settings_ = h.make_settings(tmp_path)
    folder = settings_.landing_dir / h.HOSPITAL
    for name, data in x.corpus().values():
        h.write(folder / name, data)
    outside = x.outside_files(tmp_path)
    x.link_out(settings_.landing_dir, outside)
    watch = h.AccessWatch(outside)
    try:
        result = ingest(settings_, validator=validator)
        assert watch.events() == []
    finally:
        watch.close()
    assert result.files == len(x.corpus()) + 2
    ledger = h.query(
        settings_,
        "SELECT rows_received, rows_stored, rows_quarantined, rows_duplicate FROM submissions",
    )
    assert all(r == s + q + d for r, s, q, d in ledger) and len(ledger) == result.files
    before = h.snapshot(settings_)
    assert ingest(settings_, validator=validator).files == 0
    assert h.snapshot(settings_) == before
