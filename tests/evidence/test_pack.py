"""Evidence packs on the small network: contents (the signal's whole evidence window),
determinism, versions that are never overwritten, manifest verification, safety."""

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
    HOSTILE_SIGNAL,
    add_hostile_signal,
    identifier_needles,
    output_blobs,
    scan,
)
from triage_people import add_people_to_home

from pipeline.alerts.signal_store import top_signal
from pipeline.evidence.pack import MANIFEST, PackExists, verify_evidence_pack
from pipeline.services import triage
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
    "members.csv",
    "provisional_cases.csv",
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
    """A copy of the small network with a hand-made signal over the hostile cases, and the
    test users in its application database."""
    from network_fixture import copy_network

    settings = copy_network(small_network, tmp_path_factory.mktemp("evidence") / "home")
    add_hostile_signal(settings)
    return settings


@pytest.fixture(scope="module")
def people(network) -> dict:
    return add_people_to_home(network)


@pytest.fixture(scope="module")
def top(network) -> dict:
    con = connect(network.warehouse_path, read_only=True)
    try:
        signal = top_signal(con)
    finally:
        con.close()
    assert signal is not None and signal["rank"] == 1
    return signal


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_pack_holds_every_file_and_a_manifest_of_their_hashes(network, top, tmp_path) -> None:
    path = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "p.zip")
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
    assert provenance["request"] == {"signal_id": top["signal_id"], "week": top["week"]}
    assert provenance["window"]["from_week"] == top["onset_week"]
    assert provenance["window"]["to_week"] == top["week"]
    assert {d["method"] for d in provenance["detectors"]} == set(top["detectors"])
    members = list(csv.DictReader(io.StringIO(files["members.csv"].decode("utf-8-sig"))))
    assert {m["alert_id"] for m in members} == set(top["alert_ids"])
    assert all(m["why_en"] and m["why_zh"] for m in members)
    assert provenance["audit_chain_head"] is None  # nothing triaged yet
    assert provenance["coding_models"] and provenance["submissions"]
    assert all(len(s["sha256"]) == 64 for s in provenance["submissions"])
    assert "SELECT" in provenance["query"]
    hospitals = list(
        csv.DictReader(io.StringIO(files["counts_by_hospital.csv"].decode("utf-8-sig")))
    )
    assert sum(int(h["cases"]) for h in hospitals) == len(rows)


def test_parquet_matches_the_csv_without_a_pandas_index(network, top, tmp_path) -> None:
    import pyarrow.parquet as pq

    files = _members(
        build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "p.zip")
    )
    table = pq.read_table(io.BytesIO(files["cases.parquet"]))
    assert table.schema.metadata is None or b"pandas" not in table.schema.metadata
    rows = list(csv.DictReader(io.StringIO(files["cases.csv"].decode("utf-8-sig"))))
    assert table.column_names == list(rows[0])
    assert table.column("case_id").to_pylist() == [r["case_id"] for r in rows]


def test_same_request_same_bytes_even_after_unrelated_changes(network, top, people, tmp_path):
    first = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "a.zip")
    second = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    # Unrelated writes: a decision on another signal, a new submission event.
    triage.decide(network, people["li.analyst"], HOSTILE_SIGNAL, "watch", "unrelated")
    with writer(network) as con:
        con.execute(
            "INSERT INTO submission_events VALUES ('X', 1, 'received', "
            "TIMESTAMP '2026-11-23 00:00:00', NULL)"
        )
    third = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "c.zip")
    assert third.read_bytes() == first.read_bytes()
    with zipfile.ZipFile(third) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.compress_type for i in infos} == {zipfile.ZIP_DEFLATED}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_a_related_change_makes_a_new_version_and_never_overwrites(network, people) -> None:
    """Issue 15: rebuilding a pack wrote the same file name with other bytes, so the hash a
    referral cited went stale and the cited pack no longer existed."""
    from pipeline.services import evidence

    before = evidence.build(network, signal_id=HOSTILE_SIGNAL)
    again = evidence.build(network, signal_id=HOSTILE_SIGNAL)
    assert again.path == before.path and again.manifest_sha256 == before.manifest_sha256
    assert before.path.name == f"{before.pack_id}.zip"
    assert before.pack_id == f"evidence-{HOSTILE_SIGNAL}-2026-W47-{before.manifest_sha256[:12]}"
    cited = before.path.read_bytes()
    li, wang = people["li.analyst"], people["wang.supervisor"]
    ordered = triage.order_followups(network, li, HOSTILE_SIGNAL, ["GZ001/HOSTILE1"], "cooker")
    triage.record_result(
        network,
        wang,
        ordered[0].followup_id,
        reached=True,
        conclusion="lid latch broke",
        product_role="caused",
        model="RC-9",
    )
    after = evidence.build(network, signal_id=HOSTILE_SIGNAL)
    assert after.path != before.path and after.manifest_sha256 != before.manifest_sha256
    # The cited pack is still there, byte for byte, and still verifies.
    assert before.path.read_bytes() == cited and verify_evidence_pack(before.path) == []
    files = _members(after.path)
    followups = files["followups.csv"].decode("utf-8-sig")
    assert "lid latch broke" in followups and "RC-9" in followups
    head = json.loads(files["provenance.json"])["audit_chain_head"]
    assert head and head.split(":")[0].isdigit()  # the signal's latest audited record
    # A file of that name with other content is never replaced.
    with pytest.raises(PackExists):
        evidence.build(network, signal_id=HOSTILE_SIGNAL, out=before.path)
    assert before.path.read_bytes() == cited
    # A renamed pack does not pass as another version.
    renamed = before.path.with_name(f"evidence-{HOSTILE_SIGNAL}-2026-W47-000000000000.zip")
    renamed.write_bytes(cited)
    assert any("the name says manifest" in p for p in verify_evidence_pack(renamed))
    renamed.unlink()


def _rewrite(src: Path, dest: Path, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dest, "w") as new:
        for info in old.infolist():
            data = change(info.filename, old.read(info.filename))
            if data is not None:
                new.writestr(info, data)


def test_verification_detects_tampering(network, top, tmp_path) -> None:
    good = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "good.zip")
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
        build_evidence_pack(network, signal_id=HOSTILE_SIGNAL, out=tmp_path / "al.zip"),
    ]
    blobs = output_blobs(packs)
    assert len(blobs) == 2 * (len(EXPECTED_FILES) + 1) - 1  # a category pack has no members
    assert scan(blobs, needles) == []


def test_requests_are_validated(network, tmp_path) -> None:
    with pytest.raises(LookupError, match="not found"):
        build_evidence_pack(network, signal_id="S000000000")
    with pytest.raises(ValueError, match="not both"):
        build_evidence_pack(network, signal_id=HOSTILE_SIGNAL, category="HA01")
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
    built = runner.invoke(app, ["evidence-pack", "--signal", HOSTILE_SIGNAL], env=env)
    assert built.exit_code == 0, built.output
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path.parent == network.evidence_dir
    assert path.name.startswith(f"evidence-{HOSTILE_SIGNAL}-2026-W47-")
    ok = runner.invoke(app, ["evidence-pack", "verify", str(path)], env=env)
    assert ok.exit_code == 0 and "OK" in ok.stdout
    by_id = runner.invoke(app, ["evidence-pack", "verify", path.stem], env=env)  # the pack id
    assert by_id.exit_code == 0 and "OK" in by_id.stdout
    _rewrite(path, tmp_path / "bad.zip", lambda n, d: d + b"x" if n == "provenance.json" else d)
    bad = runner.invoke(app, ["evidence-pack", "verify", str(tmp_path / "bad.zip")], env=env)
    assert bad.exit_code == 1 and "provenance.json" in bad.stdout
    unknown = runner.invoke(app, ["evidence-pack", "--signal", "Snope"], env=env)
    assert unknown.exit_code == 4 and "sentinel signals list" in unknown.stderr  # NotFound
    missing = runner.invoke(app, ["evidence-pack", "verify", "evidence-nope"], env=env)
    assert missing.exit_code == 4


def test_cli_without_signal_or_category_packs_the_weeks_top_signal(network) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    con = connect(network.warehouse_path, read_only=True)
    try:
        top = top_signal(con, "2026-W47")
    finally:
        con.close()
    env = {"SENTINEL_HOME": str(network.home)}
    built = CliRunner().invoke(app, ["evidence-pack", "--week", "2026-W47"], env=env)
    assert built.exit_code == 0, built.output
    assert f"top signal of 2026-W47: {top['signal_id']}" in built.stderr
    path = Path(built.stdout.strip().splitlines()[-1])
    assert path.name.startswith(f"evidence-{top['signal_id']}-2026-W47-")
    empty = CliRunner().invoke(app, ["evidence-pack", "--week", "2020-W01"], env=env)
    assert empty.exit_code == 4 and "no ranked signals in week 2020-W01" in empty.stderr


def test_a_signal_pack_holds_its_whole_evidence_window(network, top, tmp_path) -> None:
    """Issue 15: the pack of a pattern alert covered the alert's 4-week window (17 cases, 1
    death) while the hazard had 24 cases and 2 deaths since its onset. A signal's pack holds
    every case linked to it from its onset week to the week, states that window and counts
    deaths and severe cases over it."""
    path = build_evidence_pack(network, signal_id=top["signal_id"], out=tmp_path / "w.zip")
    files = _members(path)
    rows = list(csv.DictReader(io.StringIO(files["cases.csv"].decode("utf-8-sig"))))
    con = connect(network.warehouse_path, read_only=True)
    try:
        alert_keys = {
            k
            for (raw,) in con.execute(
                "SELECT a.case_keys FROM signal_alerts m JOIN alerts a USING (week, alert_id) "
                "WHERE m.signal_id = ? AND m.week = ?",
                [top["signal_id"], top["week"]],
            ).fetchall()
            for k in json.loads(raw)
        }
    finally:
        con.close()
    keys = {f"{r['hospital_code']}/{r['case_id']}" for r in rows}
    assert alert_keys <= keys  # the week's alerts' cases, and more: the whole window
    weeks = {r["visit_week"] for r in rows}
    assert min(weeks) >= top["onset_week"] and max(weeks) <= top["week"]
    assert len(rows) == top["n_cases"]
    assert sum(r["outcome"] == "died" for r in rows) == top["n_died"]
    summary = files["summary.html"].decode("utf-8")
    assert f"{top['onset_week']} to {top['week']}: {top['n_cases']} cases" in summary
