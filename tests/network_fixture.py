"""A small but complete sentinel network for tests of the later stages.

Generated with the sample generator (4 hospitals x 60 weeks, all five hazard types), plus one
extract holding hostile text, then run through the same library calls as the main job:
ingest, product coding, hazard patterns, and the alerts of the last weeks. Built once per test
session (about half a minute); tests that write must work on ``copy_network``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

from pipeline.config import Settings

KEY = "small-network-test-pseudonym-key-0123456789"
DETECT_WEEKS = ("2026-W44", "2026-W45", "2026-W46", "2026-W47")
HOSTILE_NARRATIVE = (
    '<script>alert(1)</script> =HYPERLINK("http://x") '
    "<img src=x onerror=alert(2)> rice cooker lid popped open, scald"
)
# Clear-text identifiers in the hostile extract: they must never reach any output.
HOSTILE_IDENTIFIERS = {
    "patient_name": "欧阳娜娜",
    "patient_id_number": "44010419880512301X",
    "patient_phone": "13912345678",
}
HOSTILE_HEADERS = [
    "hospital_code",
    "case_id",
    "report_type",
    "visit_datetime",
    "injury_datetime",
    "sex",
    "age",
    "age_unit",
    "residence_region",
    "cause",
    "place",
    "activity",
    "intent",
    "injury_nature",
    "body_region",
    "severity",
    "outcome",
    "product_name",
    "product_category",
    "product_relation",
    "narrative",
    "brand",
    "model",
    "patient_name",
    "patient_id_number",
    "patient_phone",
]


def _hostile_extract(landing: Path) -> Path:
    """Three rice-cooker scalds whose text is hostile (HTML, script, spreadsheet formulas)."""
    rows = []
    for i, day in enumerate(("2026-11-18", "2026-11-19", "2026-11-20"), 1):
        rows.append(
            {
                "hospital_code": "GZ001",
                "case_id": f"HOSTILE{i}",
                "report_type": "new",
                "visit_datetime": f"{day} 09:30",
                "injury_datetime": f"{day} 08:45",
                "sex": "female",
                "age": "34",
                "age_unit": "years",
                "residence_region": "440104",
                "cause": "burn_scald",
                "place": "home",
                "activity": "vital_activity",
                "intent": "unintentional",
                "injury_nature": "burn",
                "body_region": "face",
                "severity": "moderate",
                "outcome": "admitted",
                "product_name": '=cmd|"/c calc"!A1 电饭煲',
                "product_category": "HA01",
                "product_relation": "normal_use_accident",
                "narrative": HOSTILE_NARRATIVE,
                "brand": "<b>厨乐宝</b>",
                "model": "@SUM(1+1)",
                **HOSTILE_IDENTIFIERS,
            }
        )
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=HOSTILE_HEADERS, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path = landing / "GZ001" / "GZ001_20261121_extra.csv"
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def build_small_network(root: Path) -> Settings:
    """Generate, ingest, code, cluster and detect a small network under ``root``."""

    from sentinel_tools.sample.generator import generate_network

    from pipeline.services import clustering, coding, detection, intake

    sample = root / "sample"
    generate_network(
        sample,
        seed=20261122,
        hospitals=4,
        weeks=60,
        end_date=date(2026, 11, 22),
        daily_weeks=2,
        scale=0.12,
    )
    extra = _hostile_extract(sample / "landing")
    settings = Settings(home=root / "home", landing_dir=sample / "landing", pseudonym_key=KEY)
    # Received times: the generator's intended arrivals, and the extra file's upload.
    intake.import_arrivals(settings, sample / "arrivals.csv")
    intake.record_arrival(
        settings,
        "GZ001",
        extra.name,
        hashlib.sha256(extra.read_bytes()).hexdigest(),
        received_at=datetime(2026, 11, 21, 8, 0, tzinfo=UTC),
    )
    intake.ingest(settings)
    coding.run(settings)
    clustering.refresh_patterns(settings)
    detection.detect(settings, list(DETECT_WEEKS))
    return settings


def copy_network(settings: Settings, dest: Path) -> Settings:
    """A writable copy of a built network (warehouse, lake, pattern state, outputs)."""
    shutil.copytree(settings.home, dest)
    return settings.with_overrides(home=dest)
