"""A tiny hand-made warehouse for reporting tests: three hospitals, ~2.5 years of weekly cases,
a step rise of rice-cooker scalds at two hospitals from 2026-W18, one hostile narrative, a few
quarantined rows, one silent hospital, then ``sentinel detect``'s library call for two weeks.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.alerts.weekly import run_weeks
from pipeline.config import Settings
from pipeline.isoweek import iso_week_monday, week_range
from pipeline.storage.schema import initialise
from pipeline.storage.session import writer
from pipeline.storage.warehouse import CASE_FIELDS

HOSTILE = '<script>alert(1)</script> =HYPERLINK("http://x") <img src=x onerror=alert(2)>'
WEEKS = week_range("2024-W01", "2026-W20")
ALERT_WEEKS = ["2026-W19", "2026-W20"]
HOSPITALS = ("GZ001", "SH001", "BJ001")
SILENT = "BJ002"  # registered production hospital that reported only in 2024


def _row(hospital: str, n: int, week: str, category: str, rng: np.random.Generator) -> dict:
    visit = datetime.combine(iso_week_monday(week), datetime.min.time()) + timedelta(
        days=int(rng.integers(0, 7)), hours=int(rng.integers(0, 24))
    )
    lag = timedelta(hours=int(rng.choice([6, 20, 30, 200])))
    scald = category == "HA01"
    row = {name: None for name in CASE_FIELDS}
    row.update(
        {
            "hospital_code": hospital,
            "case_id": f"{hospital}-{n:06d}",
            "report_type": "new",
            "visit_datetime": visit,
            "injury_datetime": visit - timedelta(hours=1),
            "sex": "female" if n % 2 else "male",
            "age": float(rng.integers(1, 80)),
            "age_unit": "years",
            "residence_region": "440104" if hospital != "SH001" else "310106",
            "cause": "burn_scald" if scald else "fall",
            "place": "home",
            "activity": "housework",
            "intent": "unintentional",
            "injury_nature": "burn" if scald else "bruise",
            "body_region": "upper_limb",
            "severity": "severe" if n % 7 == 0 else "mild",
            "outcome": "admitted" if n % 7 == 0 else "treated_released",
            "product_name": "电饭煲" if scald else "其他",
            "product_category": category,
            "brand": "",
            "model": "",
            "batch": "",
            "barcode": "",
            "product_relation": "quality_related" if scald and n % 2 else "uncertain",
            "narrative": (
                "rice cooker lid burst steam scald at home"
                if scald
                else "fell at home while walking, bruised arm"
            ),
            "patient_name": "na_0123456789abcdef0123",
            "patient_id_number": None,
            "patient_phone": None,
        }
    )
    row["_received"] = visit + lag
    return row


def build(home: Path) -> Settings:
    """Write the tiny warehouse under ``home`` and return its Settings."""
    settings = Settings(home=home, landing_dir=home / "landing")
    rng = np.random.default_rng(7)
    rows: list[dict] = []
    for week in WEEKS:
        for hospital in (*HOSPITALS, SILENT):
            if hospital == SILENT and week >= "2025-W01":
                continue
            for category, mean in (("HA01", 1.5), ("TY04", 1.0), ("OT05", 12.0)):
                count = rng.poisson(mean)
                if category == "HA01" and week >= "2026-W18" and hospital != "BJ001":
                    count += 6
                for _ in range(count):
                    rows.append(_row(hospital, len(rows), week, category, rng))
    hostile = next(
        r
        for r in reversed(rows)
        if r["product_category"] == "HA01" and r["visit_datetime"].strftime("%G-W%V") == "2026-W19"
    )
    hostile["narrative"] = HOSTILE
    hostile["product_name"] = "=cmd|' /C calc'!A0"
    frame = pd.DataFrame(rows)
    frame["visit_week"] = [v.strftime("%G-W%V") for v in frame["visit_datetime"]]
    frame["received_at"] = frame.pop("_received")
    # One submission per hospital and week (received after the week's last visit).
    frame["submission_id"] = frame["hospital_code"] + "-" + frame["visit_week"]
    frame["version"], frame["status"], frame["content_hash"] = 1, "active", "h"
    frame["source_row"] = frame.groupby("submission_id").cumcount() + 1
    # A few cases missing key fields for the completeness metric.
    frame.loc[frame.index[::50], "residence_region"] = None
    subs = (
        frame.groupby("submission_id")
        .agg(
            hospital_code=("hospital_code", "first"),
            received_at=("received_at", "max"),
            rows_stored=("case_id", "size"),
        )
        .reset_index()
    )
    subs["rows_quarantined"] = np.where(subs["hospital_code"] == "SH001", 1, 0)
    subs["rows_received"] = subs["rows_stored"] + subs["rows_quarantined"]
    subs["status"] = "accepted"
    subs.loc[subs.index[:2], "status"] = "rejected"
    with writer(settings, create=True) as con:
        initialise(con)
        con.register("_cases", frame)
        con.execute("INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _cases")
        con.execute("INSERT INTO cases BY NAME SELECT * FROM _cases")
        con.register("_subs", subs)
        con.execute("""INSERT INTO submissions BY NAME SELECT submission_id, hospital_code,
            submission_id || '.csv' AS file_name, 'x' AS sha256, 1 AS size_bytes, received_at,
            received_at AS processed_at, status, rows_received, rows_stored, rows_quarantined,
            0 AS rows_duplicate FROM _subs""")
        quarantined = subs[subs["rows_quarantined"] > 0]
        con.register("_q", quarantined)
        con.execute(
            """INSERT INTO quarantine SELECT submission_id, hospital_code, 1, NULL,
            'age', '300', 'range', 'age out of range', '年龄超出范围', ? FROM _q""",
            [json.dumps({"age": "300"})],
        )
        # Statistics read final codings: the hospitals' own category codes, kept by the coder.
        con.execute("""INSERT INTO case_coding BY NAME SELECT hospital_code, case_id,
            version AS case_version, product_category AS category_code,
            true AS product_involved, 'hospital' AS source, 'tiny' AS model_name,
            'v0' AS model_version, product_category AS model_category,
            false AS needs_review, 'hospital_code' AS reason, 'x' AS input_hash,
            received_at AS coded_at FROM _cases""")
        run_weeks(con, ALERT_WEEKS)
    return settings


# ---- provisional pattern members (issue 20, item 7) ------------------------------------------

PATTERN = "HA01-P001"
PROVISIONAL_PHONE = "13912345678"  # a clear identifier slipped into a narrative: never shown
PROVISIONAL_NAME = "na_provisional_pseudonym_77"  # stored pseudonym: never shown
# (case_id, hospital, visit week, narrative, review reason, still pending at report time)
PROVISIONAL = (
    ("PROV-1", "GZ001", "2026-W19", HOSTILE, "unknown_product_name", True),
    (
        "PROV-2",
        "SH001",
        "2026-W18",
        f"压力锅盖弹开烫伤 电话{PROVISIONAL_PHONE}",
        "low_confidence",
        True,
    ),
    ("PROV-3", "GZ001", "2026-W19", "rice cooker steam scald, new brand", "model_disagrees", True),
    # Before any signal's window: never shown.
    ("PROV-OLD", "GZ001", "2025-W10", "rice cooker scald last year", "low_confidence", True),
    # Resolved by a coder after the last refresh: no longer provisional.
    ("PROV-DONE", "GZ001", "2026-W19", "rice cooker scald, resolved", "coder_resolved", False),
)
SHOWN = ("PROV-1", "PROV-2", "PROV-3")


def add_provisional(settings: Settings) -> None:
    """A hazard pattern of HA01 with some final members, and review-pending cases placed in it
    provisionally (as ``sentinel patterns refresh`` would), as in a warehouse after item 7. The
    signals are not re-detected: whatever the report counts must not change."""
    rng = np.random.default_rng(11)
    rows = []
    for case_id, hospital, week, narrative, _, _ in PROVISIONAL:
        row = _row(hospital, 0, week, "HA01", rng)
        row.pop("_received")
        row.update(
            case_id=case_id,
            narrative=narrative,
            product_name="压力锅",
            product_category=None,
            patient_name=PROVISIONAL_NAME,
            visit_week=week,
            received_at=row["visit_datetime"] + timedelta(hours=6),
            submission_id=f"{hospital}-{week}",
            version=1,
            status="active",
            content_hash="h",
            source_row=999,
        )
        rows.append(row)
    frame = pd.DataFrame(rows)
    reasons = pd.DataFrame(
        [(c, h, r, p) for c, h, _, _, r, p in PROVISIONAL],
        columns=["case_id", "hospital_code", "reason", "pending"],
    )
    with writer(settings) as con:
        con.register("_p", frame)
        con.execute("INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _p")
        con.execute("INSERT INTO cases BY NAME SELECT * FROM _p")
        con.register("_r", reasons)
        con.execute("""INSERT INTO case_coding BY NAME SELECT hospital_code, case_id,
            1 AS case_version, CASE WHEN pending THEN 'HA01' ELSE 'TY04' END AS category_code,
            true AS product_involved, CASE WHEN pending THEN 'model' ELSE 'coder' END AS source,
            'tiny' AS model_name, 'v0' AS model_version, 'HA01' AS model_category,
            pending AS needs_review, reason, 'x' AS input_hash,
            TIMESTAMP '2026-05-12 00:00:00' AS coded_at FROM _r""")
        con.execute(
            """INSERT INTO hazard_patterns VALUES (?, 'HA01', 'rice cooker lid steam scald',
            '电饭煲 蒸汽 烫伤', 'rice, cooker, steam', 'burn_scald', 'burn', 'upper_limb', 3,
            '2026-W18', '2026-W19', '2026-W18', TIMESTAMP '2026-05-12 00:00:00')""",
            [PATTERN],
        )
        con.execute(
            """INSERT INTO case_patterns SELECT hospital_code, case_id, ?, visit_week, 0.9,
            'HA01', 1 FROM cases WHERE product_category = 'HA01' AND visit_week = '2026-W19'
            ORDER BY hospital_code, case_id LIMIT 3""",
            [PATTERN],
        )
        con.execute(
            """INSERT INTO provisional_patterns SELECT hospital_code, case_id, 1,
            'HA01', ?, 0.61, reason, 1 FROM _r""",
            [PATTERN],
        )
