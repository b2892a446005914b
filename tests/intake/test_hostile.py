"""Issue 16, the probes of the hostile-input table: each has a test here that failed on main
(094fad9) and passes now. Probe numbers follow the issue's table; probes 7, 8 (busy, read-only
home) are in tests/test_read_side.py, 9 (identifiers) in the privacy tests, 10 (audit log) in
tests/appdb; probe 13 is in tests/test_sample_generator.py.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import intake_helpers as h
import intake_hostile as x
import pytest
from typer.testing import CliRunner

from pipeline.services.intake import dry_run, ingest

CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _texts(settings, table: str, column: str) -> list[str]:
    return [v for (v,) in h.query(settings, f"SELECT {column} FROM {table}") if v is not None]


def _stored_cases(settings) -> set[str]:
    return {c for (c,) in h.query(settings, "SELECT case_id FROM case_versions")}


# ---- probe 1 ----------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(
    ("hostile", "rule"),
    [
        ("a\x00b\x07c\x1b[31m", "undecodable_file"),  # the probe's own bytes
        ("a\x07b", "control_characters"),
        ("\x1b[31mred\x1b[0m", "control_characters"),
        ("a\x9bb", "control_characters"),  # C1 CSI, one character
        ("a\x7fb", "control_characters"),
    ],
)
def test_probe1_control_characters_after_64k_are_refused(settings, validator, hostile, rule):
    """Control bytes after the first 64 KiB: the file is refused with the line named, nothing
    is stored, and no stored text holds a control character (main: 401 rows accepted)."""
    data, line = x.control_bytes_after_64k(hostile)
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", data)
    ingest(settings, validator=validator)
    sub = h.submission(settings, "GZ001/GZ001_20260210.csv")
    assert (sub["status"], sub["file_rule"], sub["rows_stored"]) == ("rejected", rule, 0)
    assert f"{line}" in sub["file_message"]
    assert _stored_cases(settings) == set()
    for table, column in (("quarantine", "row_json"), ("quarantine", "value")):
        assert not any(CONTROL.search(t) for t in _texts(settings, table, column))


# ---- probe 2 ----------------------------------------------------------------------------------

BOMB_CHILD = """
import json, resource, sys, time
from pathlib import Path
from pipeline.config import Settings
from pipeline.services.intake import dry_run
start = time.monotonic()
settings = Settings(home=Path(sys.argv[2]), landing_dir=Path(sys.argv[2]))
receipt = dry_run(Path(sys.argv[1]), "GZ001", settings)
print(json.dumps({
    "seconds": time.monotonic() - start,
    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rule": receipt["file_rule"],
    "message": receipt["file_message"],
}))
"""


def _dry_run_child(path: Path, tmp_path: Path) -> dict:
    """``dry_run`` of ``path`` in a fresh process: its result, time and peak memory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    result = subprocess.run(
        [sys.executable, "-c", BOMB_CHILD, str(path), str(tmp_path / "home")],
        capture_output=True,
        text=True,
        timeout=120,  # main ran until killed at 300 s
        env=env,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lie", "rule"), [(False, "unpacked_too_large"), (True, "unreadable_file")]
)
def test_probe2_zip_bomb_is_stopped_fast_in_bounded_memory(tmp_path, lie, rule):
    """A 1.6 GB-unpacked workbook (a few MB) is refused in seconds, with the limit in the
    receipt; one whose zip directory lies about the size ends at the declared size (CRC
    error). Main: no output, ~300 MB resident, killed at 300 s."""
    path = tmp_path / "GZ001_20260210.xlsx"
    path.write_bytes(x.zip_bomb_xlsx(1_600_000_000, lie=lie))
    assert path.stat().st_size < 8_000_000
    # What the child costs without a bomb (interpreter, pandas, GX): the baseline.
    small = tmp_path / "GZ001_20260211.xlsx"
    small.write_bytes(x.xlsx_lying_dimension(1))
    baseline = _dry_run_child(small, tmp_path)
    result = _dry_run_child(path, tmp_path)
    assert result["rule"] == rule, result
    assert result["seconds"] < 20, result
    assert result["rss_mb"] < baseline["rss_mb"] + 100, (result, baseline)
    if not lie:
        assert "1,024 MB" in result["message"]


# ---- probe 3 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe3_dimension_header_is_not_trusted(tmp_path, settings, validator):
    """A sheet whose <dimension> says 1 data row but holds 5: all 5 are read (main: 1 / 1 / 0 /
    0, four rows silently lost)."""
    from openpyxl import load_workbook

    data = x.xlsx_lying_dimension(5)
    path = h.write(tmp_path / h.HOSPITAL / "GZ001_20260210.xlsx", data)
    # The probe is real: openpyxl's read-only mode trusts the header and loses the rows.
    book = load_workbook(path, read_only=True)
    assert len(list(book.worksheets[0].iter_rows())) == 2
    book.close()
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)
    assert (receipt["status"], receipt["rows_received"], receipt["rows_stored"]) == (
        "accepted",
        5,
        5,
    )


@pytest.mark.slow
def test_probe3_huge_cell_quarantines_its_row_not_the_file(tmp_path, settings, validator):
    """A cell over the cell limit (32,767 characters, Excel's own) quarantines its row with
    rule cell_too_large and the limit; the other rows are stored (main: the row was lost
    without an error)."""
    data = x.xlsx_huge_cell(40_000, row=2, rows=3)
    path = h.write(tmp_path / h.HOSPITAL / "GZ001_20260210.xlsx", data)
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)
    assert (receipt["status"], receipt["rows_received"], receipt["rows_stored"]) == (
        "partially_accepted",
        3,
        2,
    )
    errors = [(e["row"], e["field"], e["rule"]) for e in receipt["errors"]]
    assert (2, "narrative", "cell_too_large") in errors
    message = next(e["message"] for e in receipt["errors"] if e["rule"] == "cell_too_large")
    assert "32,767" in message


@pytest.mark.slow
def test_probe3_300_mb_cell_at_the_default_limits(tmp_path, settings, validator):
    """The probe's own size: a 300 MB cell. Its row is quarantined, the others are stored,
    and the reader never holds the cell (memory stays far below 300 MB of text)."""
    import resource

    data = x.xlsx_huge_cell(300 * 1024 * 1024, row=1, rows=4)
    path = h.write(tmp_path / h.HOSPITAL / "GZ001_20260210.xlsx", data)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)
    grew_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert (receipt["rows_received"], receipt["rows_stored"], receipt["rows_quarantined"]) == (
        4,
        3,
        1,
    )
    # The cut cell is still longer than a narrative may be: both are said.
    assert [e["rule"] for e in receipt["errors"]] == ["cell_too_large", "too_long"]
    assert grew_mb < 150, grew_mb
    assert time.monotonic() - started < 60


# ---- probe 4 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe4_links_out_of_the_landing_zone_are_refused(tmp_path, settings, validator):
    """A link in a hospital folder to a file outside, and a hospital folder that is a link:
    refused with their rules and receipts; the kernel sees nothing outside opened; no canary
    row anywhere (main: 18 outside rows stored as GZ001 cases, the folder's rows quarantined)."""
    outside = x.outside_files(tmp_path)
    x.link_out(settings.landing_dir, outside)
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260212.csv", h.csv_bytes([h.case_row()]))
    watch = h.AccessWatch(outside)
    try:
        ingest(settings, validator=validator)
        events = watch.events()
    finally:
        watch.close()
    assert events == []  # not one open or read of anything outside, by path or descriptor
    link = h.submission(settings, "GZ001/GZ001_20260211.csv")
    folder = h.submission(settings, h.OTHER_HOSPITAL)
    assert (link["status"], link["file_rule"], link["rows_received"]) == ("rejected", "symlink", 0)
    assert (folder["status"], folder["file_rule"]) == ("rejected", "symlinked_folder")
    assert h.submission(settings, "GZ001/GZ001_20260212.csv")["status"] == "accepted"
    everything = json.dumps(
        [h.query(settings, f"SELECT * FROM {t}") for t in ("cases", "quarantine", "submissions")],
        default=str,
    )
    assert x.CANARY not in everything
    assert x.CANARY not in json.dumps({k: str(v) for k, v in h.tree_bytes(settings.home).items()})
    receipt = h.receipt_json(settings, folder["submission_id"], h.OTHER_HOSPITAL)
    assert receipt["language"] == "zh" and "链接" in receipt["file_message"]
    # A re-run changes nothing (the refusals are in the ledger).
    before = h.snapshot(settings)
    ingest(settings, validator=validator)
    assert h.snapshot(settings)["tables"] == before["tables"]


def test_probe4_a_file_swapped_for_a_link_after_listing_is_not_read(tmp_path, settings):
    """Between listing and reading, the file becomes a link to a file outside: nothing is
    read through it."""
    from pipeline import reference
    from pipeline.intake.discover import scan_landing
    from pipeline.intake.submission import read_submission

    outside = x.outside_files(tmp_path)
    path = h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260211.csv", b"x" * 10)
    (listed,) = scan_landing(settings.landing_dir)
    path.unlink()
    os.symlink(outside / "GZ001_20260210.csv", path)
    listed = listed.__class__(**{**listed.to_dict(), "received_at": "2026-03-01T08:00:00"})
    watch = h.AccessWatch(outside)
    try:
        staged = read_submission(listed, reference.load_hospitals(), h.KEY.encode())
        assert watch.events() == []
    finally:
        watch.close()
    assert staged.meta["file_rule"] == "symlink" and staged.frame is None


def test_probe4_pipes_and_devices_are_refused_not_opened(settings):
    """A FIFO in a hospital folder would block a reader forever: it is refused unopened."""
    from pipeline.intake.discover import scan_landing

    folder = settings.landing_dir / h.HOSPITAL
    folder.mkdir(parents=True)
    os.mkfifo(folder / "GZ001_20260210.csv")
    (listed,) = scan_landing(settings.landing_dir)
    assert listed.refusal == "not_a_regular_file"


# ---- probe 5 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe5_names_and_headers_are_data_in_receipts_and_logs(settings, validator):
    """A file name with a newline and an <img onerror> tag, and the same in a column header:
    inert in the Markdown receipt (main: written raw), on one log line each."""
    h.write(settings.landing_dir / h.HOSPITAL / x.HOSTILE_NAME, h.csv_bytes([h.case_row("N1")]))
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260213.csv", x.hostile_header_csv())
    lines: list[str] = []
    ingest(settings, validator=validator, progress=lines.append)
    receipts = [p.read_text(encoding="utf-8") for p in settings.outbox_dir.rglob("*.md")]
    assert len(receipts) == 2
    for text in receipts:
        assert "<img" not in text and "onerror=alert" in text.replace("\\", "")
        assert not any(line.startswith("# heading") for line in text.splitlines())
        assert not any(line.startswith("<") for line in text.splitlines())
    assert all("\n" not in line for line in lines)
    # The JSON keeps the names as they were (it is data, escaped by JSON itself).
    sub = h.query(settings, "SELECT file_name FROM submissions ORDER BY file_name")
    assert (f"{h.HOSPITAL}/{x.HOSTILE_NAME}",) in sub
    from pipeline.intake.discover import batch_label, scan_landing

    labels = [batch_label([f]) for f in scan_landing(settings.landing_dir)]
    assert all("\n" not in label for label in labels)


# ---- probe 6 ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe6_implausibly_early_dates_are_quarantined(settings, validator):
    """Visits on 1900-01-01 and 1753-01-01, an injury in 1900 with a 2026 visit: each row is
    quarantined with rule date_too_early naming the earliest date (main: accepted)."""
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", x.early_dates_csv())
    ingest(settings, validator=validator)
    sub = h.submission(settings, "GZ001/GZ001_20260210.csv")
    assert (sub["rows_stored"], sub["rows_quarantined"]) == (1, 3)
    found = h.query(
        settings,
        "SELECT source_row, field, message_en FROM quarantine WHERE rule = 'date_too_early' "
        "ORDER BY 1, 2",
    )
    assert [(r, f) for r, f, _ in found] == [
        (1, "visit_datetime"),
        (2, "injury_datetime"),
        (2, "visit_datetime"),
        (3, "injury_datetime"),
    ]
    assert all("2000-01-01" in m for *_, m in found)
    assert _stored_cases(settings) == {"OK"}


def test_probe6_earliest_date_is_configurable(tmp_path):
    from pipeline.config import Settings

    settings = Settings.from_env(
        {"SENTINEL_HOME": str(tmp_path), "SENTINEL_EARLIEST_DATE": "2014-01-01"}
    )
    assert str(settings.intake.earliest_date) == "2014-01-01"
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="SENTINEL_EARLIEST_DATE"):
        Settings.from_env({"SENTINEL_HOME": str(tmp_path), "SENTINEL_EARLIEST_DATE": "2014"})


@pytest.mark.slow
def test_probe6_a_later_network_start_refuses_older_visits(tmp_path, validator):
    from datetime import date

    settings = h.make_settings(tmp_path)
    settings = settings.with_overrides(
        intake=settings.intake.__class__(earliest_date=date(2026, 2, 15))
    )
    path = h.write(tmp_path / h.HOSPITAL / "x.csv", h.csv_bytes([h.case_row("C1")]))
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)
    assert {(e["field"], e["rule"]) for e in receipt["errors"]} == {
        ("visit_datetime", "date_too_early"),
        ("injury_datetime", "date_too_early"),
    }
    assert all("2026-02-15" in e["message"] for e in receipt["errors"])


# ---- probe 11 ---------------------------------------------------------------------------------


@pytest.mark.slow
def test_probe11_another_pseudonym_key_is_refused(tmp_path, monkeypatch, validator):
    """The key changes between runs: ingest and validate stop with KeyMismatch, exit code 8,
    one line, nothing changed (main: a resent file became 18/18 key_exists)."""
    from pipeline.cli import app

    settings = h.make_settings(tmp_path)
    rows = [h.case_row(f"C{i}", patient_name="王小明") for i in range(18)]
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", h.csv_bytes(rows))
    ingest(settings, validator=validator)
    fingerprint = h.query(settings, "SELECT fingerprint FROM pseudonym_key")
    assert len(fingerprint) == 1 and h.KEY not in fingerprint[0][0]
    before = h.snapshot(settings)
    # The clerk resends the same cases; the operator changed the key meanwhile.
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260211.csv", h.csv_bytes(rows))
    monkeypatch.setenv("SENTINEL_HOME", str(settings.home))
    monkeypatch.setenv("SENTINEL_LANDING", str(settings.landing_dir))
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", "another-key-0123456789abcdef")
    for args in (
        ["--lang", "en", "ingest"],
        [
            "--lang",
            "zh",
            "validate",
            str(settings.landing_dir / h.HOSPITAL / "GZ001_20260211.csv"),
            "--hospital",
            h.HOSPITAL,
        ],
    ):
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 8, result.output
        lines = [line for line in result.output.splitlines() if line.startswith(("error", "错误"))]
        assert len(lines) == 1 and "Traceback" not in result.output
    assert "pseudonym key does not match" in CliRunner().invoke(app, ["ingest"]).output
    assert h.snapshot(settings) == before
    # With the right key the resend is what it is: 18 duplicates of stored cases.
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", h.KEY)
    assert CliRunner().invoke(app, ["ingest"]).exit_code == 0
    resent = h.submission(settings, "GZ001/GZ001_20260211.csv")
    assert (resent["rows_duplicate"], resent["rows_quarantined"]) == (18, 0)


@pytest.mark.slow
def test_probe11_the_dag_request_check_refuses_another_key(tmp_path, validator):
    from pipeline.errors import KeyMismatch
    from pipeline.services.intake import check_request

    settings = h.make_settings(tmp_path)
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", h.csv_bytes([h.case_row()]))
    ingest(settings, validator=validator)
    other = settings.with_overrides(pseudonym_key="another-key-0123456789abcdef")
    with pytest.raises(KeyMismatch) as info:
        check_request(other)
    assert info.value.exit_code == 8 and "假名化密钥" in info.value.user_message("zh")


# ---- probe 12 ---------------------------------------------------------------------------------


def test_probe12_mixed_utf8_and_gb18030_is_mixed_encoding(tmp_path, settings):
    """Main reported undecodable_file; the documented rule is mixed_encoding, with a line of
    each part."""
    path = h.write(tmp_path / h.HOSPITAL / "GZ001_20260210.csv", x.mixed_encoding_csv())
    receipt = dry_run(path, h.HOSPITAL, settings, received_at=h.RECEIVED)
    assert receipt["file_rule"] == "mixed_encoding"
    assert "第 1 行" in receipt["file_message"] and "第 3 行" in receipt["file_message"]
