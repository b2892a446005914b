"""Issue 15, item 5: ``sentinel validate`` predicts the ingest outcome, on every file of the
shipped sample, in ingest order.

Each hospital's files are taken in the order ingest applies them; round *r* dry-runs the *r*-th
file of every hospital against the published warehouse (``dry_run_files``, what ``sentinel
validate`` calls for one file), then ingests those files, and every prediction must equal the receipt ingest wrote: status, counts,
file rule, messages, advice, every row error, the duplicate's original, the received time
(main: a file repeating 5 stored cases was predicted 33 stored / 0 duplicate, then 28 / 5).
"""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from pipeline.config import SAMPLE_DIR, Settings
from pipeline.intake.discover import scan_landing
from pipeline.services.intake import dry_run_files, import_arrivals, ingest
from pipeline.validation.runner import CaseValidator

pytestmark = pytest.mark.slow  # the whole sample: a few minutes

KEY = "sample-validate-test-key-0123456789"
COMPARED = (
    "submission_id",
    "status",
    "rows_received",
    "rows_stored",
    "rows_quarantined",
    "rows_duplicate",
    "file_rule",
    "file_message",
    "advice",
    "duplicate_of",
    "language",
    "errors",
    "rows_rejected_with_file",
    "received_at",
    "arrival_source",
    "unknown_columns",
)


def test_validate_predicts_ingest_for_every_sample_file(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", landing_dir=tmp_path / "landing", pseudonym_key=KEY)
    settings.landing_dir.mkdir()
    import_arrivals(settings, SAMPLE_DIR / "arrivals.csv")
    source = SAMPLE_DIR / "landing"
    by_hospital: dict[str, list] = {}
    for f in scan_landing(source):  # ingest's own order: hospital, then date in the name
        by_hospital.setdefault(f.hospital_code, []).append(f)
    validator = CaseValidator(data_docs_dir=None)
    started = time.monotonic()
    compared = statuses = 0
    seen: dict[str, int] = {}
    for r in range(max(len(files) for files in by_hospital.values())):
        batch = [files[r] for files in by_hospital.values() if r < len(files)]
        # What `sentinel validate` calls, for the round's files in one validation run (each is
        # predicted as if it were the only file sent: they are of different hospitals).
        receipts = dry_run_files(
            [(source / f.relpath, f.hospital_code) for f in batch], settings, validator
        )
        predicted = {f.relpath: r for f, r in zip(batch, receipts, strict=True)}
        for f in batch:
            target = settings.landing_dir / f.relpath
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source / f.relpath, target)
        result = ingest(settings, validator=validator)
        assert result.files == len(batch)
        for f in batch:
            receipt = predicted[f.relpath]
            path = settings.outbox_dir / f.hospital_code / f"{receipt['submission_id']}.json"
            actual = json.loads(path.read_text(encoding="utf-8"))
            for key in COMPARED:
                assert receipt[key] == actual[key], (f.relpath, key, receipt[key], actual[key])
            compared += 1
            seen[actual["status"]] = seen.get(actual["status"], 0) + 1
        statuses = len(seen)
    total = sum(len(files) for files in by_hospital.values())
    assert compared == total >= 600
    # The sample exercises every outcome, so every kind of prediction was checked.
    assert statuses == 4 and set(seen) == {
        "accepted",
        "partially_accepted",
        "rejected",
        "duplicate",
    }
    print(f"{compared} files predicted and ingested in {time.monotonic() - started:.0f} s: {seen}")
