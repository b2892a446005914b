"""Provisional pattern members in evidence packs (issue 20, item 7), on the tiny warehouse of
tests/reporting: listed apart and flagged (provisional_cases.csv, provenance, summary.html),
never in cases.csv, the counts, the trend or the charts; same request, same bytes."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from datetime import date
from pathlib import Path

import pytest
from evidence_helpers import output_blobs, scan
from reporting.tinydata import (
    HOSTILE,
    PATTERN,
    PROVISIONAL_NAME,
    PROVISIONAL_PHONE,
    SHOWN,
    add_provisional,
)

from pipeline.evidence.pack import MANIFEST, verify_evidence_pack
from pipeline.services import evidence
from pipeline.storage.warehouse import connect

WEEK = "2026-W20"
COUNTED = (
    "cases.csv",
    "cases.parquet",
    "narratives.md",
    "narratives.txt",
    "counts_by_week.csv",
    "counts_by_hospital.csv",
    "counts_by_severity.csv",
    "charts/trend.svg",
    "charts/by_hospital.svg",
    "charts/by_severity.svg",
)


def _home(tiny, root: Path, provisional: bool):  # type: ignore[no-untyped-def]
    root.mkdir(parents=True)
    shutil.copy(tiny.warehouse_path, root / "warehouse.duckdb")
    settings = tiny.with_overrides(home=root)
    add_provisional(settings)
    if not provisional:  # the same cases, codings and pattern, no provisional placement
        from pipeline.storage.session import writer

        with writer(settings) as con:
            con.execute("DELETE FROM provisional_patterns")
    return settings


@pytest.fixture(scope="module")
def homes(tiny, tmp_path_factory) -> dict:  # type: ignore[no-untyped-def]
    root = tmp_path_factory.mktemp("provisional-pack")
    return {"plain": _home(tiny, root / "plain", False), "prov": _home(tiny, root / "prov", True)}


@pytest.fixture(scope="module")
def signal_id(homes) -> str:  # type: ignore[no-untyped-def]
    con = connect(homes["prov"].warehouse_path, read_only=True)
    try:
        (sid,) = con.execute(
            "SELECT signal_id FROM signal_weeks WHERE week = ? AND category = 'HA01'", [WEEK]
        ).fetchone()
    finally:
        con.close()
    return sid


def _files(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rows(data: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.fixture(scope="module")
def packs(homes, signal_id, tmp_path_factory) -> dict:  # type: ignore[no-untyped-def]
    out = tmp_path_factory.mktemp("packs")
    return {
        key: evidence.build(homes[key], signal_id=signal_id, week=WEEK, out=out / f"{key}.zip").path
        for key in ("plain", "prov")
    }


def test_provisional_cases_are_in_their_own_file_flagged(packs) -> None:  # type: ignore[no-untyped-def]
    files = _files(packs["prov"])
    rows = _rows(files["provisional_cases.csv"])
    assert sorted(r["case_id"] for r in rows) == sorted(SHOWN)
    assert {r["provisional"] for r in rows} == {"waiting for coder review"}
    assert {r["pattern_id"] for r in rows} == {PATTERN}
    assert {r["suggested_category"] for r in rows} == {"HA01"}
    provenance = json.loads(files["provenance.json"])
    prov = provenance["provisional"]
    assert prov["n_cases"] == 3 and prov["counted"] is False
    assert prov["file"] == "provisional_cases.csv"
    assert prov["patterns"] == [{"pattern_id": PATTERN, "cases": 3}]
    assert prov["submissions"]  # where they came from, with checksums
    manifest = {e["name"] for e in json.loads(files[MANIFEST])["files"]}
    assert manifest == set(files) - {MANIFEST}
    assert "provisional_cases.csv" in manifest
    assert verify_evidence_pack(packs["prov"]) == []


def test_provisional_cases_are_never_counted(packs) -> None:  # type: ignore[no-untyped-def]
    plain, prov = _files(packs["plain"]), _files(packs["prov"])
    for name in COUNTED:  # byte for byte the same as without provisional members
        assert prov[name] == plain[name], name
    assert b"PROV-" not in b"".join(prov[name] for name in COUNTED)
    a, b = json.loads(plain["provenance.json"]), json.loads(prov["provenance.json"])
    assert a["n_cases"] == b["n_cases"] == len(_rows(prov["cases.csv"]))
    assert a["signal"] == b["signal"]
    assert _rows(plain["provisional_cases.csv"]) == []


def test_summary_shows_them_flagged_and_apart(packs) -> None:  # type: ignore[no-untyped-def]
    html = _files(packs["prov"])["summary.html"].decode("utf-8")
    head = "Provisional: waiting for coder review 待编码员复核的暂定病例 (3)"
    assert head in html
    counted, provisional = html.split('<h2 id="provisional">', 1)
    provisional = provisional.split("<h2>", 1)[0]
    assert "PROV-" not in counted.split("<h2>Cases", 1)[1]
    assert provisional.count('<tr class="provisional">') == 3
    for case_id in SHOWN:
        assert case_id in provisional
    plain = _files(packs["plain"])["summary.html"].decode("utf-8")
    assert "Provisional: waiting for coder review 待编码员复核的暂定病例 (0)" in plain


def test_inert_text_and_no_identifiers(packs) -> None:  # type: ignore[no-untyped-def]
    needles = {
        "phone": PROVISIONAL_PHONE.encode(),
        "pseudonym": PROVISIONAL_NAME.encode(),
    }
    assert scan(output_blobs([packs["prov"]]), needles) == []
    files = _files(packs["prov"])
    summary = files["summary.html"]
    assert HOSTILE.encode() not in summary and b"<script" not in summary
    assert b"&lt;script&gt;alert(1)&lt;/script&gt;" in summary
    cells = [
        c
        for row in csv.reader(io.StringIO(files["provisional_cases.csv"].decode("utf-8-sig")))
        for c in row
    ]
    assert cells and not any(c[:1] in ("=", "+", "-", "@") for c in cells)


def test_same_request_same_bytes(homes, signal_id, packs, tmp_path) -> None:  # type: ignore[no-untyped-def]
    again = evidence.build(homes["prov"], signal_id=signal_id, week=WEEK, out=tmp_path / "a.zip")
    assert again.path.read_bytes() == packs["prov"].read_bytes()


def test_a_category_pack_lists_the_categorys_provisional_members(homes, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = evidence.build(
        homes["prov"],
        category="HA01",
        date_from=date(2026, 4, 27),
        date_to=date(2026, 5, 17),
        out=tmp_path / "c.zip",
    ).path
    files = _files(path)
    rows = _rows(files["provisional_cases.csv"])
    assert sorted(r["case_id"] for r in rows) == sorted(SHOWN)  # not PROV-OLD, not PROV-DONE
    assert b"PROV-" not in files["cases.csv"]
