"""Small hand-built networks for the supervision figures (built in a second or two each).

Every row is written directly into a fresh warehouse (its own hospital registry), so each test
knows exactly what the ledger holds: which file arrived when (stored in UTC, as the ledger
records receipts), which rows were quarantined, which files were rejected or resent, which
hospitals are test hospitals. Hospitals send one file a day, ``lag_hours`` after the end of the
visit day (hospital local time, UTC+8).
"""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from pipeline.config import Settings
from pipeline.isoweek import iso_week_monday, week_range
from pipeline.storage.schema import initialise
from pipeline.storage.session import writer
from pipeline.storage.warehouse import CASE_FIELDS

UTC_OFFSET = timedelta(hours=8)
REGISTRY_COLUMNS = [
    "hospital_code",
    "name_zh",
    "name_en",
    "hospital_type",
    "city_zh",
    "city_en",
    "region_code",
    "active_from",
    "active_to",
    "is_test",
    "daily_volume",
]
CITIES = {
    "GZ": ("广州市", "Guangzhou", "440104"),
    "SH": ("上海市", "Shanghai", "310106"),
    "BJ": ("北京市", "Beijing", "110105"),
    "WH": ("武汉市", "Wuhan", "420102"),
    "TS": ("测试市", "Test city", "440104"),
}


@dataclass
class Hospital:
    code: str
    per_day: int = 2  # cases per visit day
    lag_hours: float = 10.0  # file arrival after the end of the visit day (local)
    is_test: bool = False
    last_day: date | None = None  # no visit (and no file) after this day
    first_day: date | None = None
    registered_only: bool = False  # in the registry, never sends anything


@dataclass
class Network:
    settings: Settings
    hospitals: list[Hospital]
    weeks: list[str]
    cases: pd.DataFrame = field(repr=False)
    submissions: pd.DataFrame = field(repr=False)


def _registry(path: Path, hospitals: list[Hospital]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.DictWriter(handle, REGISTRY_COLUMNS)
        out.writeheader()
        for h in hospitals:
            zh, en, region = CITIES[h.code[:2]]
            out.writerow(
                {
                    "hospital_code": h.code,
                    "name_zh": f"{zh}{h.code}医院",
                    "name_en": f"{en} hospital {h.code}",
                    "hospital_type": "general_tertiary",
                    "city_zh": zh,
                    "city_en": en,
                    "region_code": region,
                    "active_from": "2020-01-01",
                    "active_to": "",
                    "is_test": "1" if h.is_test else "0",
                    "daily_volume": str(h.per_day),
                }
            )


def _case(h: Hospital, n: int, visit: datetime, category: str) -> dict:
    row = {name: None for name in CASE_FIELDS}
    severe = n % 5 == 0
    row.update(
        {
            "hospital_code": h.code,
            "case_id": f"{h.code}-{n:05d}",
            "report_type": "new",
            "visit_datetime": visit,
            "injury_datetime": visit - timedelta(hours=1),
            "sex": "female" if n % 2 else "male",
            "age": float(3 + n % 70),
            "age_unit": "years",
            "residence_region": None if n % 9 == 0 else CITIES[h.code[:2]][2],
            "cause": "burn_scald" if category == "HA01" else "fall",
            "place": "unknown" if n % 11 == 0 else "home",
            "activity": "housework",
            "intent": "unintentional",
            "injury_nature": "burn" if category == "HA01" else "bruise",
            "body_region": "upper_limb",
            "severity": "severe" if severe else "mild",
            "outcome": "admitted" if severe else "treated_released",
            "product_name": "电饭煲" if category == "HA01" else "楼梯",
            # every third case the hospital leaves the category to the classifier
            "product_category": None if n % 3 == 0 else category,
            "product_relation": "quality_related" if n % 4 == 0 else "uncertain",
            "narrative": (
                f"rice cooker lid opened, steam scald on arm, case {n}"
                if category == "HA01"
                else ("fell" if n % 13 == 0 else f"slipped on the stairs at home and fell {n}")
            ),
        }
    )
    return row


def build_network(
    home: Path,
    hospitals: list[Hospital],
    first_week: str,
    last_week: str,
    *,
    empty_weeks: tuple[str, ...] = (),
    test_only_weeks: tuple[str, ...] = (),
    quarantined: dict[str, int] | None = None,
    rejected_files: dict[str, date] | None = None,
    duplicate_files: dict[str, date] | None = None,
) -> Network:
    """A warehouse under ``home`` holding the cases of ``hospitals`` visited from
    ``first_week`` to ``last_week``: one file per hospital and visit day.

    ``empty_weeks``: no case at all; ``test_only_weeks``: only test hospitals' cases;
    ``quarantined``: per hospital, rows quarantined in each of its files (an extra bad row per
    file, rule ``range_years``); ``rejected_files``: per hospital, an empty file (rejected,
    ``empty_file``) arriving on that local day at 12:00; ``duplicate_files``: per hospital, a
    byte-identical resend of its file of that day, arriving a day later."""
    home.mkdir(parents=True, exist_ok=True)
    registry = home / "hospitals.csv"
    _registry(registry, hospitals)
    settings = Settings(home=home, landing_dir=home / "landing", hospital_registry=registry)
    quarantined = quarantined or {}
    weeks = week_range(first_week, last_week)
    cases: list[dict] = []
    files: list[dict] = []
    bad_rows: list[dict] = []
    n = 0
    for h in hospitals:
        if h.registered_only:
            continue
        for week in weeks:
            if week in empty_weeks or (week in test_only_weeks and not h.is_test):
                continue
            monday = iso_week_monday(week)
            for offset in range(7):
                day = monday + timedelta(days=offset)
                if (h.last_day and day > h.last_day) or (h.first_day and day < h.first_day):
                    continue
                received_local = datetime.combine(day + timedelta(days=1), datetime.min.time())
                received_local += timedelta(hours=h.lag_hours)
                sid = f"S-{h.code}-{day:%Y%m%d}"
                rows = []
                for i in range(h.per_day):
                    n += 1
                    visit = datetime.combine(day, datetime.min.time()) + timedelta(hours=9 + i)
                    category = "HA01" if n % 4 == 0 else "OT05"
                    case = _case(h, n, visit, category)
                    case.update(
                        submission_id=sid,
                        source_row=i + 1,
                        received_at=received_local - UTC_OFFSET,
                    )
                    rows.append(case)
                bad = quarantined.get(h.code, 0)
                for j in range(bad):
                    bad_rows.append(
                        {
                            "submission_id": sid,
                            "hospital_code": h.code,
                            "source_row": len(rows) + 1 + j,
                            "case_id": f"{h.code}-BAD-{day:%Y%m%d}-{j}",
                            "field": "age",
                            "value": "300",
                            "rule": "range_years",
                            "message_en": "age must be between 0 and 120 years",
                            "message_zh": "年龄必须在0到120岁之间",
                            "row_json": json.dumps({"age": "300"}),
                        }
                    )
                cases.extend(rows)
                files.append(
                    {
                        "submission_id": sid,
                        "hospital_code": h.code,
                        "file_name": f"{h.code}/{h.code}_{day:%Y%m%d}.csv",
                        "sha256": hashlib.sha256(sid.encode()).hexdigest(),
                        "received_at": received_local - UTC_OFFSET,
                        "status": "accepted" if not bad else "partially_accepted",
                        "rows_received": len(rows) + bad,
                        "rows_stored": len(rows),
                        "rows_quarantined": bad,
                        "rows_duplicate": 0,
                        "file_rule": None,
                    }
                )
    by_sid = {f["submission_id"]: f for f in files}
    for code, day in (duplicate_files or {}).items():
        original = by_sid[f"S-{code}-{day:%Y%m%d}"]
        files.append(
            {
                **original,
                "submission_id": f"D-{code}-{day:%Y%m%d}",
                "file_name": f"{code}/{code}_{day:%Y%m%d}_resend.csv",
                "received_at": original["received_at"] + timedelta(days=1),
                "status": "duplicate",
                "rows_stored": 0,
                "rows_quarantined": 0,
                "rows_duplicate": original["rows_received"],
            }
        )
    for code, day in (rejected_files or {}).items():
        files.append(
            {
                "submission_id": f"R-{code}-{day:%Y%m%d}",
                "hospital_code": code,
                "file_name": f"{code}/{code}_{day:%Y%m%d}_empty.csv",
                "sha256": hashlib.sha256(f"empty{code}{day}".encode()).hexdigest(),
                "received_at": datetime.combine(day, datetime.min.time())
                + timedelta(hours=12)
                - UTC_OFFSET,
                "status": "rejected",
                "rows_received": 0,
                "rows_stored": 0,
                "rows_quarantined": 0,
                "rows_duplicate": 0,
                "file_rule": "empty_file",
            }
        )
    frame = pd.DataFrame(
        cases, columns=[*CASE_FIELDS, "submission_id", "source_row", "received_at"]
    )
    frame["visit_week"] = [v.strftime("%G-W%V") for v in frame["visit_datetime"]]
    frame["version"], frame["status"] = 1, "active"
    frame["content_hash"] = [hashlib.sha256(c.encode()).hexdigest() for c in frame["case_id"]]
    subs = pd.DataFrame(files)
    with writer(settings, create=True) as con:
        initialise(con, registry)
        if not frame.empty:
            con.register("_cases", frame)
            con.execute("INSERT INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _cases")
            con.execute("INSERT INTO cases BY NAME SELECT * FROM _cases")
            # The classifier agrees with the hospital except on every 7th case.
            con.execute("""INSERT INTO case_coding BY NAME SELECT hospital_code, case_id,
                version AS case_version,
                coalesce(product_category, 'OT05') AS category_code,
                true AS product_involved,
                CASE WHEN product_category IS NULL THEN 'model' ELSE 'hospital' END AS source,
                'test' AS model_name, 'v0' AS model_version,
                CASE WHEN right(case_id, 1) = '7' THEN 'TY04'
                     ELSE coalesce(product_category, 'OT05') END AS model_category,
                false AS needs_review, 'test' AS reason, 'x' AS input_hash,
                received_at AS coded_at FROM _cases""")
            con.unregister("_cases")
        if not subs.empty:
            con.register("_subs", subs)
            con.execute("""INSERT INTO submissions BY NAME SELECT submission_id, hospital_code,
                file_name, sha256, 1 AS size_bytes, received_at, received_at AS processed_at,
                status, rows_received, rows_stored, rows_quarantined, rows_duplicate, file_rule
                FROM _subs""")
            con.unregister("_subs")
        if bad_rows:
            con.register("_q", pd.DataFrame(bad_rows))
            con.execute("INSERT INTO quarantine BY NAME SELECT * FROM _q")
            con.unregister("_q")
    return Network(settings, hospitals, weeks, frame, subs)
