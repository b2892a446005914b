"""Issue 15, item 4: the received time is when Sentinel first saw the file (recorded in the
arrivals log and copied into the ledger), never the file's modification time. On main the
received time was the mtime: on a fresh clone every hospital showed a 23-27 day median lag."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import intake_helpers as h
import pytest
from typer.testing import CliRunner

from pipeline.config import SAMPLE_DIR
from pipeline.intake.arrivals import LOG_NAME, Arrival, Arrivals, read_manifest
from pipeline.services.intake import (
    dry_run,
    import_arrivals,
    ingest,
    list_arrivals,
    record_arrival,
)


def _received(settings, relpath: str) -> tuple[datetime, str]:
    sub = h.submission(settings, relpath)
    return sub["received_at"], sub["arrival_source"]


@pytest.mark.slow
def test_received_time_is_the_arrival_not_the_modification_time(settings, validator):
    path = h.write(
        settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", h.csv_bytes([h.case_row()])
    )
    os.utime(path, (0, 0))  # 1970: a copy or a checkout can set anything
    ingest(settings, validator=validator)
    assert _received(settings, "GZ001/GZ001_20260210.csv") == (h.RECEIVED, "manifest")
    sub = h.submission(settings, "GZ001/GZ001_20260210.csv")
    receipt = h.receipt_json(settings, sub["submission_id"])
    assert receipt["received_at"] == "2026-03-01T08:00:00Z"
    assert receipt["received_at_local"] == "2026-03-01 16:00:00"


@pytest.mark.slow
def test_a_file_copied_in_by_hand_is_received_when_first_seen(settings, validator):
    folder = settings.landing_dir / h.HOSPITAL
    folder.mkdir(parents=True)
    path = folder / "GZ001_20260210.csv"
    path.write_bytes(h.csv_bytes([h.case_row()]))  # no arrival recorded
    os.utime(path, (0, 0))
    before = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    ingest(settings, validator=validator)
    after = datetime.now(UTC).replace(tzinfo=None)
    received, source = _received(settings, "GZ001/GZ001_20260210.csv")
    assert source == "scan" and before <= received <= after
    (recorded,) = list_arrivals(settings)
    assert datetime.fromisoformat(recorded.received_at) == received
    # Touching or copying the file again changes nothing.
    os.utime(path, None)
    ingest(settings, validator=validator)
    assert _received(settings, "GZ001/GZ001_20260210.csv") == (received, "scan")
    assert len(list_arrivals(settings)) == 1


@pytest.mark.slow
def test_the_api_order_records_the_arrival_before_the_file_appears(settings, validator):
    """What the submission endpoint does: record the arrival, write the upload under a
    dot-name (ingest skips it), rename it into place."""
    data = h.csv_bytes([h.case_row()])
    import hashlib

    uploaded = datetime(2026, 3, 2, 1, 2, 3)
    arrival = record_arrival(
        settings, h.HOSPITAL, "GZ001_20260210.csv", hashlib.sha256(data).hexdigest(), len(data),
        received_at=uploaded,
    )  # fmt: skip
    assert arrival.source == "api"
    folder = settings.landing_dir / h.HOSPITAL
    folder.mkdir(parents=True)
    partial = folder / ".GZ001_20260210.csv.upload"
    partial.write_bytes(data[:100])
    assert ingest(settings, validator=validator).files == 0  # the dot-name is invisible
    partial.write_bytes(data)
    partial.rename(folder / "GZ001_20260210.csv")
    ingest(settings, validator=validator)
    assert _received(settings, "GZ001/GZ001_20260210.csv") == (uploaded, "api")
    # Recording again (a retried request) keeps the first arrival.
    again = record_arrival(settings, h.HOSPITAL, "GZ001_20260210.csv", arrival.sha256)
    assert again == arrival


def test_the_log_survives_a_torn_line_and_keeps_the_first_record(tmp_path):
    log = Arrivals(tmp_path)
    first = Arrival("GZ001", "GZ001/a.csv", "ab" * 32, "2026-03-01T08:00:00", "api", 10)
    log.record([first])
    with (tmp_path / LOG_NAME).open("a", encoding="utf-8") as handle:
        handle.write('{"hospital_code": "GZ001", "relpath": "GZ0')  # a writer killed mid-line
    later = Arrival("GZ001", "GZ001/a.csv", "ab" * 32, "2026-03-05T08:00:00", "scan", 10)
    other = Arrival("GZ001", "GZ001/b.csv", "cd" * 32, "2026-03-05T08:00:00", "scan", 10)
    assert Arrivals(tmp_path).record([later, other]) == [first, other]
    lines = (tmp_path / LOG_NAME).read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3 and json.loads(lines[-1])["relpath"] == "GZ001/b.csv"
    assert {a.relpath for a in Arrivals(tmp_path).all()} == {"GZ001/a.csv", "GZ001/b.csv"}


def _record_many(args: tuple[str, int]) -> None:
    directory, worker = args
    log = Arrivals(Path(directory))
    for i in range(40):
        shared = Arrival(
            "GZ001", f"GZ001/shared{i}.csv", f"{i:064x}", f"2026-03-01T08:{worker:02d}:00", "api"
        )
        own = Arrival(
            "GZ001", f"GZ001/w{worker}-{i}.csv", f"{i:064x}", "2026-03-01T09:00:00", "api"
        )
        log.record([shared, own])


@pytest.mark.slow
def test_concurrent_writers_leave_whole_lines_and_one_record_per_file(tmp_path):
    with multiprocessing.get_context("fork").Pool(4) as pool:
        pool.map(_record_many, [(str(tmp_path), w) for w in range(4)])
    lines = (tmp_path / LOG_NAME).read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 40 + 4 * 40
    assert len({(r["relpath"], r["sha256"]) for r in records}) == len(records)


@pytest.mark.slow
def test_a_dry_run_uses_the_recorded_arrival(settings, validator):
    rows = [h.case_row("C1", visit_datetime="2026-03-01 18:00", injury_datetime="")]
    path = h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260301.csv", h.csv_bytes(rows))
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator)
    # Received 16:00 China time: a visit at 18:00 that day is in the future.
    assert receipt["received_at"] == "2026-03-01T08:00:00Z"
    assert [e["rule"] for e in receipt["errors"]] == ["visit_after_receipt"]


def test_arrivals_commands(tmp_path, monkeypatch):
    from pipeline.cli import app

    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    manifest = tmp_path / "arrivals.csv"
    manifest.write_text(
        "file,sha256,bytes,received_at\nGZ001/GZ001_20260210.csv," + "a" * 64 + ",10,"
        "2026-02-11T01:30:00Z\n",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(app, ["arrivals", "import", str(manifest)])
    assert result.exit_code == 0 and "1 newly recorded" in result.output
    assert "0 newly recorded" in runner.invoke(app, ["arrivals", "import", str(manifest)]).output
    extract = tmp_path / "GZ001_20260212.csv"
    extract.write_bytes(h.csv_bytes([h.case_row()]))
    result = runner.invoke(
        app, ["arrivals", "record", str(extract), "--hospital", "GZ001", "--at", "2026-02-13T09:00:00+08:00"]
    )  # fmt: skip
    assert result.exit_code == 0 and "2026-02-13T01:00:00" in result.output
    listed = runner.invoke(app, ["arrivals", "list"])
    assert "GZ001_20260210.csv" in listed.output and "manifest" in listed.output
    bad = tmp_path / "bad.csv"
    bad.write_text("file,sha256,received_at\nGZ001/x.csv,ab,yesterday\n", encoding="utf-8")
    assert runner.invoke(app, ["arrivals", "import", str(bad)]).exit_code == 2


# ---- the shipped sample -----------------------------------------------------------------------


def test_the_sample_manifest_lists_every_landing_file_with_its_bytes():
    listed = {a.relpath: a for a in read_manifest(SAMPLE_DIR / "arrivals.csv")}
    landing = SAMPLE_DIR / "landing"
    files = {p.relative_to(landing).as_posix(): p for p in landing.rglob("*") if p.is_file()}
    assert set(listed) == set(files)
    import hashlib

    for relpath, path in files.items():
        assert listed[relpath].sha256 == hashlib.sha256(path.read_bytes()).hexdigest(), relpath


@pytest.mark.slow
def test_on_the_sample_the_late_hospital_is_late_and_the_others_on_time(tmp_path, validator):
    """The daily files of four hospitals for 2026-10-05..11-18, copied as a fresh clone has
    them (new modification times), the manifest imported: the hospital the generator made a
    late sender (GZ003, weekly uploads) shows as late in the weekly report's network health,
    the others on time. Main: every hospital 23-27 days, 0% within 7 days."""
    from sentinel_tools.sample import refdata
    from sentinel_tools.sample.generator import late_senders

    from pipeline.reporting.health import TARGETS, network_health
    from pipeline.storage.session import reader

    truth = json.loads((SAMPLE_DIR / "ground_truth.json").read_text(encoding="utf-8"))
    selected = [h_ for h_ in refdata.hospital_list() if h_.code in truth["hospitals"]]
    silent = {period["hospital"] for period in truth["silent_periods"]}
    late = late_senders(selected, silent)
    assert late == {"GZ003"} and silent == {"HZ001"}
    settings = h.make_settings(tmp_path)
    hospitals = ("GZ003", "HZ001", "GZ001", "CD001")
    for code in hospitals:
        for path in sorted((SAMPLE_DIR / "landing" / code).iterdir()):
            stamp = path.stem.split("_")[1]
            if stamp.isdigit() and "20261005" <= stamp <= "20261118":
                target = settings.landing_dir / code / path.name
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)  # a checkout: today's modification time
    import_arrivals(settings, SAMPLE_DIR / "arrivals.csv")
    ingest(settings, validator=validator)
    with reader(settings) as con:
        health = network_health(con, "2026-W45")
    rows = {r["hospital_code"]: r for r in health["hospitals"]}
    assert set(rows) == set(hospitals)
    for code in hospitals:
        row = rows[code]
        if code in late:
            assert row["within_7d"] < TARGETS["within_7d"] and "within_7d" in row["flags"], row
            assert row["median_lag_days"] > 3, row
        else:
            assert row["within_7d"] >= 0.97 and "within_7d" not in row["flags"], row
            assert row["median_lag_days"] <= 1.5, row
    received = h.query(settings, "SELECT DISTINCT arrival_source FROM submissions")
    assert received == [("manifest",)]
    first = h.submission(settings, "GZ001/GZ001_20261005.csv")
    assert first["received_at"] == datetime(2026, 10, 6, 1, 30)
    assert datetime.now() - timedelta(days=1) > first["received_at"]
