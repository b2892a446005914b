"""Case frames straight from landing files (no warehouse): for benchmarks and tests.

Reads every extract with the intake reader and ``prepare_extract`` (headers, code-set labels,
dates, pseudonyms and scrubbing exactly as intake does), skips files intake would reject whole,
applies corrections and voids in file order and returns one row per current case with its
``visit_week``. It does not run the validation rules: rows intake would quarantine are kept.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.discover import file_order_key
from pipeline.intake.prepare import prepare_extract
from pipeline.intake.reader import FileRejected, read_extract
from pipeline.isoweek import format_iso_week as iso_week

_KEY = b"landing-frame-key-not-a-secret"


def read_landing_cases(
    landing: Path, hospitals: list[str] | None = None, max_files: int | None = None
) -> pd.DataFrame:
    frames = []
    landing = Path(landing)
    for folder in sorted(p for p in landing.iterdir() if p.is_dir()):
        if hospitals and folder.name not in hospitals:
            continue
        files = sorted(
            (p for p in folder.iterdir() if p.is_file()),
            key=lambda p: (file_order_key(p.name), p.name),
        )
        for order, path in enumerate(files[:max_files] if max_files else files):
            try:
                raw = read_extract(path)
                received = datetime.fromtimestamp(path.stat().st_mtime, UTC).replace(tzinfo=None)
                prepared = prepare_extract(raw, sender=folder.name, received_at=received, key=_KEY)
            except FileRejected:
                continue
            if prepared.missing_required or prepared.frame.empty:
                continue
            frame = prepared.frame[CASE_FIELD_NAMES + ["_visit_at"]].copy()
            frame = frame[frame["hospital_code"] == folder.name]
            frame["_order"] = order
            frame["_row"] = range(len(frame))
            frames.append(frame)
    if not frames:
        return pd.DataFrame(columns=[*CASE_FIELD_NAMES, "visit_week"])
    cases = pd.concat(frames, ignore_index=True)
    cases = cases[cases["case_id"].notna() & cases["_visit_at"].notna()]
    cases = cases.sort_values(["hospital_code", "_order", "_row"], kind="stable")
    cases = cases.drop_duplicates(["hospital_code", "case_id"], keep="last")
    cases = cases[cases["report_type"] != "void"]
    cases["visit_week"] = cases["_visit_at"].map(iso_week)
    cases["visit_datetime"] = cases["_visit_at"]
    return (
        cases.drop(columns=["_visit_at", "_order", "_row"])
        .sort_values(["hospital_code", "case_id"])
        .reset_index(drop=True)
    )
