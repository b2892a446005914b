"""Builders for the coding tests: case rows written straight into a test warehouse."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

import pandas as pd

from pipeline.isoweek import format_iso_week as iso_week
from pipeline.storage.warehouse import CASE_FIELDS

# (category, product name, narrative, cause, nature, region): templates the shipped model knows
RICE_ZH = (
    "HA01",
    "电饭煲",
    "患儿在家碰翻桌上的电饭煲被烫伤，右手背浅II度烫伤。",
    "burn_scald",
    "burn",
    "upper_limb",
)
RICE_EN = (
    "HA01",
    "RICE COOKER",
    "3YOF KNOCKED OVER RICE COOKER AT HOME, SCALD BURN R HAND",
    "burn_scald",
    "burn",
    "upper_limb",
)
TRAMPOLINE_EN = (
    "SP01",
    "TRAMPOLINE",
    "7YOM JUMPING ON TRAMPOLINE AND FELL OFF, FX L WRIST",
    "fall",
    "fracture",
    "upper_limb",
)
TRAMPOLINE_ZH = (
    "SP01",
    "蹦床",
    "患儿在蹦床上跳跃时摔下，左腕部骨折。",
    "fall",
    "fracture",
    "upper_limb",
)
KNIFE_ZH = (
    "KW03",
    "菜刀",
    "患者切菜时被菜刀割伤左手食指，皮肤裂伤。",
    "cut_pierce",
    "cut",
    "upper_limb",
)
DOG_BITE = (None, None, "患者被狗咬伤右小腿，皮肤裂伤。", "animal", "cut", "lower_limb")


def case(
    case_id: str,
    template: tuple,
    *,
    hospital: str = "GZ001",
    category: str | None = "",
    version: int = 1,
    status: str = "active",
    visit: datetime | None = None,
    relation: str = "normal_use_accident",
    narrative: str | None = None,
    product_name: str | None = "",
) -> dict:
    """A stored case; ``category=""`` means: the template's category as the hospital code,
    ``None``: blank."""
    cat, name, text, cause, nature, region = template
    visit = visit or datetime(2026, 3, 2, 9, 0)
    row = {f: None for f in CASE_FIELDS}
    row.update(
        {
            "hospital_code": hospital,
            "case_id": case_id,
            "report_type": "new",
            "visit_datetime": visit,
            "injury_datetime": visit - timedelta(hours=1),
            "sex": "male",
            "age": 5.0,
            "age_unit": "years",
            "cause": cause,
            "place": "home",
            "activity": "leisure",
            "intent": "unintentional",
            "injury_nature": nature,
            "body_region": region,
            "severity": "mild",
            "outcome": "treated_released",
            "product_name": name if product_name == "" else product_name,
            "product_category": cat if category == "" else category,
            "product_relation": relation if cat else "other",
            "narrative": text if narrative is None else narrative,
        }
    )
    row.update(
        {
            "version": version,
            "status": status,
            "source_row": 1,
            "submission_id": "S" + hashlib.sha256(case_id.encode()).hexdigest()[:15],
            "content_hash": hashlib.sha256(f"{case_id}{version}".encode()).hexdigest(),
            "received_at": visit + timedelta(days=1),
            "visit_week": iso_week(pd.Timestamp(visit)),
        }
    )
    return row


def store(con, rows: list[dict]) -> None:
    """Insert or replace current cases (and their versions)."""
    frame = pd.DataFrame.from_records(rows)
    con.register("_t", frame)
    con.execute("INSERT OR REPLACE INTO cases BY NAME SELECT * FROM _t")
    con.execute("INSERT OR REPLACE INTO case_versions BY NAME SELECT * EXCLUDE (status) FROM _t")
    con.unregister("_t")


def week_start(iso: str) -> datetime:
    year, week = iso.split("-W")
    return datetime.combine(
        date.fromisocalendar(int(year), int(week), 1), datetime.min.time()
    ) + timedelta(hours=9)
