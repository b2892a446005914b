"""Evidence packs on the small network: contents, determinism, manifest verification, safety."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from evidence_helpers import (
    HOSTILE_ALERT,
    add_hostile_alert,
    identifier_needles,
    output_blobs,
    scan,
)

from pipeline.evidence.pack import (
    MANIFEST,
    top_alert,
    verify_evidence_pack,
)
from pipeline.storage.session import writer
from pipeline.storage.warehouse import connect


def build_evidence_pack(settings, **request):  # type: ignore[no-untyped-def]
    """The evidence service's build, returning the zip's path."""
    from pipeline.services import evidence

    return evidence.build(settings, **request).path


EXPECTED_FILES = {
    "cases.csv",
    "cases.parquet",
    "narratives.md",
    "narratives.txt",
    "counts_by_week.csv",
    "counts_by_hospital.csv",
    "counts_by_severity.csv",
    "followups.csv",
    "charts/trend.svg",
    "charts/by_hospital.svg",
    "charts/by_severity.svg",
    "summary.html",
    "provenance.json",
    MANIFEST,
}
HOSTILE_WEEK = {"category": "HA01", "date_from": date(2026, 11, 16), "date_to": date(2026, 11, 22)}


@pytest.fixture(scope="module")
def network(small_network, tmp_path_factory):
    """A copy of the small network with a hand-made alert over the hostile cases."""
    from network_fixture import copy_network

    settings = copy_network(small_network, tmp_path_factory.mktemp("evidence") / "home")
    add_hostile_alert(settings)
    return settings


@pytest.fixture(scope="module")
def top(network) -> dict:
    con = connect(network.warehouse_path, read_only=True)
    try:
        alert = top_alert(con)
    finally:
        con.close()
    assert alert is not None and alert["rank"] == 1
    return alert


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_pack_holds_every_file_and_a_manifest_of_their_hashes(network, top, tmp_path) -> None:
    path = build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "p.zip")
    files = _members(path)
    assert set(files) == EXPECTED_FILES
    manifest = json.loads(files[MANIFEST])
    listed = {e["name"]: e for e in manifest["files"]}
    assert set(listed) == EXPECTED_FILES - {MANIFEST}
    for name, entry in listed.items():
        assert entry["sha256"] == hashlib.sha256(files[name]).hexdigest()
        assert entry["size"] == len(files[name])
    assert verify_evidence_pack(path) == []

    keys = json.loads(top["case_keys"])
    rows = list(csv.DictReader(io.StringIO(files["cases.csv"].decode("utf-8-sig"))))
    assert sorted(f"{r['hospital_code']}/{r['case_id']}" for r in rows) == sorted(keys)
    provenance = json.loads(files["provenance.json"])
    assert provenance["request"] == {"alert_id": top["alert_id"], "week": top["week"]}
    assert provenance["detector"]["method"] == top["method"]
    assert provenance["coding_models"] and provenance["submissions"]
    assert all(len(s["sha256"]) == 64 for s in provenance["submissions"])
    assert "SELECT" in provenance["query"]
    hospitals = list(
        csv.DictReader(io.StringIO(files["counts_by_hospital.csv"].decode("utf-8-sig")))
    )
    assert sum(int(h["cases"]) for h in hospitals) == len(rows)


def test_parquet_matches_the_csv_without_a_pandas_index(network, top, tmp_path) -> None:
    import pyarrow.parquet as pq

    files = _members(build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "p.zip"))
    table = pq.read_table(io.BytesIO(files["cases.parquet"]))
    assert table.schema.metadata is None or b"pandas" not in table.schema.metadata
    rows = list(csv.DictReader(io.StringIO(files["cases.csv"].decode("utf-8-sig"))))
    assert table.column_names == list(rows[0])
    assert table.column("case_id").to_pylist() == [r["case_id"] for r in rows]


def test_same_request_same_bytes_even_after_unrelated_changes(network, top, tmp_path) -> None:
    first = build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "a.zip")
    second = build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    # Unrelated writes: a decision on another alert, a quarantine row, a new submission event.
    from pipeline.triage.store import record_decision

    with writer(network) as con:
        record_decision(con, HOSTILE_ALERT, "watch", "someone", "unrelated")
        con.execute(
            "INSERT INTO submission_events VALUES ('X', 1, 'received', "
            "TIMESTAMP '2026-11-23 00:00:00', NULL)"
        )
    third = build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "c.zip")
    assert third.read_bytes() == first.read_bytes()
    with zipfile.ZipFile(third) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_a_related_change_changes_the_pack(network, tmp_path) -> None:
    """The check above is not vacuous: a follow-up result on the pack's alert shows up."""
    from pipeline.triage.store import record_decision, record_followup_result

    before = build_evidence_pack(network, alert_id=HOSTILE_ALERT, out=tmp_path / "a.zip")
    with writer(network) as con:
        out = record_decision(
            con, HOSTILE_ALERT, "follow-up", "li", "check the cooker", cases=["GZ001/HOSTILE1"]
        )
        record_followup_result(
            con,
            out["followup_ids"][0],
            reached=True,
            actor="wang",
            conclusion="lid latch broke",
            product_role="caused",
            model="RC-9",
        )
    after = build_evidence_pack(network, alert_id=HOSTILE_ALERT, out=tmp_path / "b.zip")
    assert after.read_bytes() != before.read_bytes()
    followups = _members(after)["followups.csv"].decode("utf-8-sig")
    assert "lid latch broke" in followups and "RC-9" in followups


def _rewrite(src: Path, dest: Path, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dest, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info, data)


def test_verification_detects_tampering(network, top, tmp_path) -> None:
    good = build_evidence_pack(network, alert_id=top["alert_id"], out=tmp_path / "good.zip")
    assert verify_evidence_pack(good) == []

    def flip(name: str, data: bytes) -> bytes:  # one byte of one file
        if name != "cases.csv":
            return data
        return data[:100] + bytes([data[100] ^ 0x01]) + data[101:]

    _rewrite(good, tmp_path / "edited.zip", flip)
    problems = verify_evidence_pack(tmp_path / "edited.zip")
    assert len(problems) == 1 and problems[0].startswith("cases.csv: SHA-256")

    _rewrite(good, tmp_path / "dropped.zip", lambda n, d: None if n == "narratives.txt" else d)
    assert verify_evidence_pack(tmp_path / "dropped.zip") == [
        "narratives.txt: listed in the manifest but missing"
    ]

    raw = bytearray(good.read_bytes())  # a byte of the compressed stream itself
    with zipfile.ZipFile(good) as archive:
        info = archive.getinfo("summary.html")
    raw[info.header_offset + 30 + len(info.filename) + 10] ^= 0xFF
    (tmp_path / "corrupt.zip").write_bytes(bytes(raw))
    assert any(p.startswith("summary.html") for p in verify_evidence_pack(tmp_path / "corrupt.zip"))
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert verify_evidence_pack(tmp_path / "junk.zip")[0].endswith(
        "not a readable zip (File is not a zip file)"
    )


def test_hostile_text_is_inert_in_csv_and_summary(network, tmp_path) -> None:
    path = build_evidence_pack(network, **HOSTILE_WEEK, out=tmp_path / "cat.zip")
    files = _members(path)
    rows = list(csv.reader(io.StringIO(files["cases.csv"].decode("utf-8-sig"))))
    hostile = [r for r in rows if any("HYPERLINK" in c for c in r)]
    assert len(hostile) == 3  # the three hostile cases are in the category pack
    for name in ("cases.csv", "followups.csv", "counts_by_hospital.csv"):
        for row in csv.reader(io.StringIO(files[name].decode("utf-8-sig"))):
            for cell in row:
                assert not cell.startswith(
                    ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
                ), (name, cell)
    assert any(c.startswith("'=cmd|") for r in hostile for c in r)
    assert any(c == "'@SUM(1+1)" for r in hostile for c in r)

    html = files["summary.html"].decode("utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html and "<img" not in html and "<b>厨乐宝" not in html
    tags = _Tags()
    tags.feed(html)
    assert not {"script", "img", "iframe", "object"} & tags.names
    assert not [a for a in tags.attributes if a.startswith("on")]
    md = files["narratives.md"].decode("utf-8")
    assert "<script" not in md and "&lt;script&gt;" in md


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs) -> None:  # type: ignore[no-untyped-def]
        self.names.add(tag)
        self.attributes.update(name for name, _ in attrs)


def test_no_identifier_reaches_any_file_of_the_pack(network, small_network, tmp_path) -> None:
    needles = identifier_needles(network)
    assert {
        "pseudonym patient_name",
        "pseudonym patient_id_number",
        "pseudonym patient_phone",
    } <= set(needles)
    raw = small_network.landing_dir / "GZ001" / "GZ001_20261121_extra.csv"
    # Positive control: the scan finds the clear-text identifiers in the raw extract.
    assert len(scan(output_blobs([raw]), needles)) == 3
    packs = [
        build_evidence_pack(network, **HOSTILE_WEEK, out=tmp_path / "cat.zip"),
        build_evidence_pack(network, alert_id=HOSTILE_ALERT, out=tmp_path / "al.zip"),
    ]
    blobs = output_blobs(packs)
    assert len(blobs) == 2 * (len(EXPECTED_FILES) + 1)
    assert scan(blobs, needles) == []


def test_requests_are_validated(network, tmp_path) -> None:
    with pytest.raises(LookupError, match="not found"):
        build_evidence_pack(network, alert_id="A000000000")
    with pytest.raises(ValueError, match="not both"):
        build_evidence_pack(network, alert_id=HOSTILE_ALERT, category="HA01")
    with pytest.raises(ValueError, match="--category CODE --from DATE --to DATE"):
        build_evidence_pack(network, category="HA01", date_from=date(2026, 1, 1))
    with pytest.raises(LookupError, match="not in the product taxonomy"):
        build_evidence_pack(
            network, category="ZZ99", date_from=date(2026, 1, 1), date_to=date(2026, 2, 1)
        )
    assert not list(network.evidence_dir.glob("*.tmp"))


def test_cli_builds_verifies_and_explains_unknown_ids(network, tmp_path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    env = {"SENTINEL_HOME": str(network.home)}
    runner = CliRunner()
    built = runner.invoke(app, ["evidence-pack", "--alert", HOSTILE_ALERT], env=env)
    assert built.exit_code == 0, built.output
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path == network.evidence_dir / f"evidence-{HOSTILE_ALERT}-2026-W47.zip"
    ok = runner.invoke(app, ["evidence-pack", "verify", str(path)], env=env)
    assert ok.exit_code == 0 and "OK" in ok.stdout
    _rewrite(path, tmp_path / "bad.zip", lambda n, d: d + b"x" if n == "provenance.json" else d)
    bad = runner.invoke(app, ["evidence-pack", "verify", str(tmp_path / "bad.zip")], env=env)
    assert bad.exit_code == 1 and "provenance.json" in bad.stdout
    unknown = runner.invoke(app, ["evidence-pack", "--alert", "Anope"], env=env)
    assert unknown.exit_code == 4 and "sentinel alerts list" in unknown.stderr  # NotFound


def test_cli_without_alert_or_category_packs_the_weeks_top_alert(network) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app
    from pipeline.evidence.pack import top_alert
    from pipeline.storage.warehouse import connect

    con = connect(network.warehouse_path, read_only=True)
    try:
        top = top_alert(con, "2026-W47")
    finally:
        con.close()
    env = {"SENTINEL_HOME": str(network.home)}
    built = CliRunner().invoke(app, ["evidence-pack", "--week", "2026-W47"], env=env)
    assert built.exit_code == 0, built.output
    assert f"top alert of 2026-W47: {top['alert_id']}" in built.stderr
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path == network.evidence_dir / f"evidence-{top['alert_id']}-2026-W47.zip"
    empty = CliRunner().invoke(app, ["evidence-pack", "--week", "2020-W01"], env=env)
    assert empty.exit_code == 4 and "no ranked alerts in week 2020-W01" in empty.stderr
