"""Build the pre-versioning warehouse of ``tests/test_upgrade.py`` with main at 0caf446.

Run with that revision's code (not this one), e.g.::

    git worktree add /tmp/legacy 0caf446
    cd /tmp/legacy && PYTHONPATH=/tmp/legacy <repo>/.venv/bin/python \
        <repo>/tests/data/legacy_warehouse/make.py <repo>/tests/data/legacy_warehouse/export

It generates a small network with the sample generator of that revision, runs the library
calls of the main job (ingest, product coding, hazard patterns, four weeks of detection), records
a triage decision, a follow-up and its result and a coder's review decision, then writes
``EXPORT DATABASE`` (Parquet, zstd) of the warehouse it built, with the export folder in
``load.sql`` replaced by ``@EXPORT@``. The export is committed; nothing at test time needs the
old code.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

import duckdb

from pipeline.alerts.weekly import run_weeks
from pipeline.clustering.service import refresh
from pipeline.coding import model as coder_model
from pipeline.coding.store import list_reviews, resolve_review, run_coding
from pipeline.config import Settings
from pipeline.intake.service import ingest
from pipeline.sample.generator import generate_network
from pipeline.storage.warehouse import connect
from pipeline.triage.store import record_decision, record_followup_result

WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def main(out: Path) -> None:
    root = Path(tempfile.mkdtemp(prefix="legacy-warehouse-"))
    generate_network(
        root / "sample",
        seed=20261122,
        hospitals=3,
        weeks=40,
        end_date=date(2026, 11, 22),
        daily_weeks=2,
        scale=0.03,
    )
    settings = Settings(
        home=root / "home",
        landing_dir=root / "sample" / "landing",
        pseudonym_key="legacy-warehouse-pseudonym-key-0123456789",
    )
    ingest(settings)
    con = connect(settings.warehouse_path)
    try:
        run_coding(con, coder_model.load(settings.models_dir))
        # A coder's decision before clustering and detection, so that re-detecting with the
        # same cases must give the same alerts.
        review = list_reviews(con, limit=1)
        if not review.empty:
            first = review.iloc[0]
            resolve_review(
                con, f"{first['hospital_code']}:{first['case_id']}", "HA01", "coder.zhang"
            )
        refresh(con, settings)
        run_weeks(con, WEEKS)
        top = con.execute(
            "SELECT alert_id, case_keys FROM alerts WHERE week = ? AND rank = 1", [WEEKS[-1]]
        ).fetchone()
        case = top[1].strip('[]"').split('", "')[0]
        out_ = record_decision(
            con, top[0], "follow_up", "analyst.li", "call the family", cases=[case]
        )
        record_followup_result(
            con,
            out_["followup_ids"][0],
            reached=True,
            actor="wang",
            conclusion="lid latch broke",
            product_role="caused",
        )
        record_decision(con, top[0], "confirm", "analyst.li", "confirmed by follow-up")
    finally:
        con.close()
    con = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        con.execute(f"EXPORT DATABASE '{out}' (FORMAT parquet, COMPRESSION zstd)")
    finally:
        con.close()
    # load.sql names the files by absolute path: make it relocatable (the test substitutes).
    load = out / "load.sql"
    load.write_text(load.read_text().replace(str(out), "@EXPORT@"))
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve())
