"""A tiny published warehouse for the fast web tests, written row by row with the warehouse's own
migrations and session helper (no ingest, no model, no detector: under a second).

What it holds is chosen by hand so that each page has something to show and the tests can
predict every number: 40 cases of GZ001 / SH001 / BJ001 over 8 weeks, three of them with a
hostile narrative and product fields; coding with two open review items; one ranked alert with
its stored series, grouped into its signal (``build_signals``), two review-pending cases
placed provisionally in an HA01 pattern (``PROVISIONAL``), which an analyst confirmed and
ordered a follow-up on (application database, :func:`record_triage`); submissions (one partial with quarantined rows, one
of SH001) with their events and one receipt in the outbox.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd

from pipeline.alerts import signal_store
from pipeline.alerts.weekly import build_signals
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.evidence.pack import MANIFEST, manifest, write_zip
from pipeline.isoweek import format_iso_week
from pipeline.services import accounts
from pipeline.storage import schema
from pipeline.storage.session import reader, writer
from pipeline.triage import store as triage_store

HOSTILE = (
    '<script>alert("n")</script><img src=x onerror="alert(2)"> =HYPERLINK("http://e.x") '
    "@SUM(1+1) 电饭煲盖子弹开烫伤"
)
HOSTILE_PRODUCT = '=cmd|"/c calc"!A1 电饭煲'
ALERT_ID = "A-HA01"
WEEK = "2026-W47"
SIGNAL_ID = "S000db0877f3"  # the signal build_signals forms of ALERT_ID (checked when built)
PACK_FILES = {"cases.csv": b"hospital_code,case_id\r\nGZ001,C0000\r\n", "summary.html": b"<p>x</p>"}
PACK_FILES[MANIFEST] = json.dumps(manifest(PACK_FILES)).encode()
_DIGEST = hashlib.sha256(PACK_FILES[MANIFEST]).hexdigest()[:12]
PACK = f"evidence-{SIGNAL_ID}-{WEEK}-{_DIGEST}.zip"
BROKEN_PACK = f"evidence-{SIGNAL_ID}-2026-W46-{_DIGEST}.zip"
SUBMISSION = "GZ001-20261120-aaaa"
OTHER_SUBMISSION = "SH001-20261120-bbbb"
REVIEW_OPEN = "GZ001:C0003:1"
REVIEW_OTHER = "BJ001:C0002:1"
REVIEW_HOSTILE = "GZ001:C0036:1"
WAITING = ("C0002", "C0003", "C0005", "C0036")  # cases whose coding waits for a coder
# Waiting cases a pattern refresh placed provisionally in an HA01 pattern (their coding says
# TY04, the suggestion HA01): the signal's rule links them, shown apart and never counted.
PROVISIONAL = ("GZ001/C0003", "BJ001/C0005")
PROVISIONAL_PATTERN = "HA01-P001"
START = datetime(2026, 9, 28, 10, 0)  # Monday of 2026-W40


def _cases() -> pd.DataFrame:
    rows = []
    hospitals = ["GZ001", "SH001", "BJ001"]
    for i in range(40):
        hospital = hospitals[i % 3]
        visit = START + timedelta(days=i * 49 // 40)
        hostile = i in (36, 37, 38)
        category = "HA01" if (i % 2 == 0 or hostile) else "TY04"
        rows.append(
            {
                "hospital_code": hospital,
                "case_id": f"C{i:04d}",
                "version": 1,
                "status": "active",
                "content_hash": f"h{i}",
                "submission_id": SUBMISSION if hospital == "GZ001" else OTHER_SUBMISSION,
                "source_row": i + 2,
                "received_at": visit + timedelta(days=1),
                "visit_week": format_iso_week(visit.date()),
                "report_type": "new",
                "visit_datetime": visit,
                "injury_datetime": visit - timedelta(hours=1),
                "sex": "female" if i % 2 else "male",
                "age": float(3 + i),
                "age_unit": "years",
                "residence_region": {"GZ001": "440104", "SH001": "310106", "BJ001": "110105"}[
                    hospital
                ],
                "cause": "burn_scald" if category == "HA01" else "foreign_body",
                "place": "home",
                "activity": "vital_activity",
                "intent": "unintentional",
                "injury_nature": "burn" if category == "HA01" else "foreign_body",
                "body_region": "face" if category == "HA01" else "trunk",
                "severity": "severe" if i % 7 == 0 else "moderate" if i % 3 == 0 else "mild",
                "outcome": "died" if i == 14 else "admitted" if i % 5 == 0 else "treated_released",
                "product_name": HOSTILE_PRODUCT
                if hostile
                else ("电饭煲" if category == "HA01" else "磁力珠"),
                "product_category": category if i % 4 else None,
                "brand": "<b>厨乐宝</b>" if hostile else None,
                "model": "@SUM(1+1)" if hostile else None,
                "batch": None,
                "barcode": None,
                "product_relation": "normal_use_accident",
                "narrative": HOSTILE
                if hostile
                else (
                    "rice cooker lid popped open, steam scald 电饭煲"
                    if category == "HA01"
                    else "child swallowed magnet balls 误吞磁力珠"
                ),
                "patient_name": f"pn_{i:020d}",
                "patient_id_number": f"id_{i:020d}",
                "patient_phone": None,
            }
        )
    return pd.DataFrame(rows)


def build_tiny_warehouse(home: Path) -> Settings:
    settings = Settings(home=home, landing_dir=home / "landing")
    cases = _cases()
    versions = cases.drop(columns=["status"])
    coding = pd.DataFrame(
        {
            "hospital_code": cases["hospital_code"],
            "case_id": cases["case_id"],
            "case_version": 1,
            "category_code": [
                "HA01" if "电饭煲" in str(p) or "rice" in str(n) else "TY04"
                for p, n in zip(cases["product_name"], cases["narrative"], strict=True)
            ],
            "product_involved": True,
            "source": "model",
            "model_name": "product_coder",
            "model_version": "v1",
            "probability": 0.97,
            "runner_up": "HA02",
            "runner_up_probability": 0.02,
            "model_category": "HA01",
            "needs_review": [cid in WAITING for cid in cases["case_id"]],
            "reason": ["low_confidence" if cid in WAITING else "model" for cid in cases["case_id"]],
            "input_hash": "x",
            "coded_at": START,
        }
    )
    review = pd.DataFrame(
        [
            {
                "review_id": rid,
                "hospital_code": h,
                "case_id": c,
                "case_version": 1,
                "input_hash": "x",
                "reason": "low_confidence",
                "hospital_category": None,
                "suggested_category": "HA01",
                "probability": 0.41,
                "runner_up": "HA02",
                "runner_up_probability": 0.33,
                "model_name": "product_coder",
                "model_version": "v1",
                "status": "open",
                "opened_at": START,
                "resolution": None,
                "resolved_by": None,
                "resolved_at": None,
                "note": None,
            }
            for rid, h, c in (
                (REVIEW_OPEN, "GZ001", "C0003"),
                (REVIEW_OTHER, "BJ001", "C0002"),
                (REVIEW_HOSTILE, "GZ001", "C0036"),
                ("BJ001:C0005:1", "BJ001", "C0005"),
            )
        ]
    )
    for col in ("hospital_category", "resolution", "resolved_by", "note"):
        review[col] = review[col].astype(object)
    review["resolved_at"] = pd.Series([None] * len(review), dtype="datetime64[us]")
    ha01 = cases[coding["category_code"] == "HA01"]
    keys = json.dumps(
        [f"{h}/{c}" for h, c in zip(ha01["hospital_code"], ha01["case_id"], strict=True)]
    )
    alerts = pd.DataFrame(
        [
            {
                "week": WEEK,
                "alert_id": ALERT_ID,
                "alert_type": "category",
                "subject": "HA01",
                "category": "HA01",
                "pattern_id": None,
                "region": None,
                "term": None,
                "method": "farrington_flexible",
                "observed": 6.0,
                "expected": 1.5,
                "threshold": 4.2,
                "score": 3.1,
                "pvalue": 0.001,
                "qvalue": 0.01,
                "status": "new",
                "n_hospitals": 3,
                "hospitals": json.dumps(["GZ001", "SH001", "BJ001"]),
                "n_severe": 3,
                "n_admitted": 2,
                "n_died": 1,
                "priority": 9.5,
                "rank": 1,
                "case_keys": keys,
                "params": "{}",
            }
        ]
    )
    weeks = [format_iso_week((START + timedelta(weeks=k)).date()) for k in range(8)]
    series = pd.DataFrame(
        [
            {
                "week": WEEK,
                "alert_id": ALERT_ID,
                "series_week": w,
                "observed": float(2 + k),
                "denominator": 5.0 + k,
                "expected": 1.5,
                "upper": 4.2,
                "alarm": k >= 5,
            }
            for k, w in enumerate(weeks)
        ]
    )
    submissions = pd.DataFrame(
        [
            {
                "submission_id": sid,
                "hospital_code": h,
                "file_name": f"{h}_20261120.csv",
                "sha256": "0" * 64,
                "size_bytes": 1234,
                "received_at": datetime(2026, 11, 20, 9, 0),
                "processed_at": datetime(2026, 11, 20, 9, 5),
                "file_format": "csv",
                "encoding": "utf-8",
                "header_language": "en",
                "status": status,
                "rows_received": 16,
                "rows_stored": stored,
                "rows_quarantined": 16 - stored,
                "rows_duplicate": 0,
                "file_rule": None,
                "file_message": None,
                "file_detail": None,
                "duplicate_of": None,
                "unknown_columns": None,
            }
            for sid, h, status, stored in (
                (SUBMISSION, "GZ001", "partially_accepted", 14),
                (OTHER_SUBMISSION, "SH001", "accepted", 16),
            )
        ]
    )
    events = pd.DataFrame(
        [
            {
                "submission_id": SUBMISSION,
                "seq": 1,
                "status": "received",
                "event_at": datetime(2026, 11, 20, 9, 0),
                "detail": None,
            },
            {
                "submission_id": SUBMISSION,
                "seq": 2,
                "status": "partially_accepted",
                "event_at": datetime(2026, 11, 20, 9, 5),
                "detail": None,
            },
        ]
    )
    quarantine = pd.DataFrame(
        [
            {
                "submission_id": SUBMISSION,
                "hospital_code": "GZ001",
                "source_row": row,
                "case_id": f"Q{row}",
                "field": "age",
                "value": '=HYPERLINK("http://q.x")',
                "rule": "age_range",
                "message_en": "age must be between 0 and 120 years",
                "message_zh": "年龄必须在 0 至 120 岁之间",
                "row_json": "{}",
            }
            for row in (5, 9)
        ]
    )
    tables = {
        "cases": cases,
        "case_versions": versions,
        "case_coding": coding,
        "coding_review": review,
        "alerts": alerts,
        "alert_series": series,
        "submissions": submissions,
        "submission_events": events,
        "quarantine": quarantine,
    }
    with writer(settings, create=True) as con:
        schema.initialise(con)
        for name, frame in tables.items():
            con.register("_rows", frame)
            con.execute(f"INSERT INTO {name} BY NAME SELECT * FROM _rows")
            con.unregister("_rows")
        for key in PROVISIONAL:
            hospital, case_id = key.split("/")
            con.execute(
                "INSERT INTO provisional_patterns VALUES (?, ?, 1, 'HA01', ?, 0.74, "
                "'low_confidence', 1)",
                [hospital, case_id, PROVISIONAL_PATTERN],
            )
        build_signals(con)  # the alert's signal, as detection stores it
        formed = signal_store.signal_for_alert(con, ALERT_ID, WEEK)
        assert formed == SIGNAL_ID, f"the tiny alert now forms signal {formed}: set SIGNAL_ID"
    outbox = settings.outbox_dir / "GZ001"
    outbox.mkdir(parents=True, exist_ok=True)
    receipt = {
        "submission_id": SUBMISSION,
        "hospital_code": "GZ001",
        "file_name": "GZ001_20261120.csv",
        "sha256": "0" * 64,
        "received_at": "2026-11-20 09:00:00",
        "status": "partially_accepted",
        "rows_received": 16,
        "rows_stored": 14,
        "rows_quarantined": 2,
        "rows_duplicate": 0,
        "file_rule": None,
        "file_message": None,
        "duplicate_of": None,
        "header_language": "en",
        "file_format": "csv",
        "encoding": "utf-8",
        "file_detail": None,
        "unknown_columns": [],
        "errors": [
            {
                "row": row,
                "field": "age",
                "value": '=HYPERLINK("http://q.x")',
                "rule": "age_range",
                "message_en": "age must be between 0 and 120 years",
                "message_zh": "年龄必须在 0 至 120 岁之间",
            }
            for row in (5, 9)
        ],
    }
    (outbox / f"{SUBMISSION}.json").write_text(json.dumps(receipt, ensure_ascii=False))
    # Two packs of the signal: an intact one and one whose file no longer matches its manifest.
    write_zip(settings.evidence_dir / PACK, PACK_FILES)
    write_zip(settings.evidence_dir / BROKEN_PACK, {**PACK_FILES, "cases.csv": b"changed"})
    return settings


def record_triage(db: AppDB, settings: Settings, analyst: str = "u-analyst") -> None:
    """The analyst's follow-up (ordered 2026-11-10, due 10 working days later: 2026-11-24) and
    confirmation (2026-11-23) of the tiny signal, in the application database."""
    actor = accounts.cli_actor(db, analyst, "web")
    with reader(settings) as con:
        signal = signal_store.load_signal(con, SIGNAL_ID, WEEK)
    with db.transaction() as session:
        triage_store.order_followups(
            session,
            actor,
            signal,
            ["GZ001/C0000"],
            "check the lid hinge",
            at=datetime(2026, 11, 10, 9, 0),
        )
        triage_store.record_decision(
            session,
            actor,
            signal,
            "confirm",
            "three hospitals, one death",
            at=datetime(2026, 11, 23, 10, 0),
        )
