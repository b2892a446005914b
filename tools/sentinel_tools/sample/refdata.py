"""Reference data the sample generator needs, as plain lists of string dicts.

Uses the loaders in ``pipeline.reference`` when they exist and fall back to reading the packaged
CSV files directly, so the generator works while the reference package is being built. Values are
always strings (blank = empty string) and rows keep the order of the CSV file.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from pipeline.reference import DATA_DIR as REFERENCE_DATA_DIR

DATA_DIR = REFERENCE_DATA_DIR


def _read_csv(name: str) -> list[dict[str, str]]:
    with open(DATA_DIR / name, encoding="utf-8", newline="") as fh:
        return [{k: (v or "").strip() for k, v in row.items()} for row in csv.DictReader(fh)]


def _frame_rows(obj: object) -> list[dict[str, str]] | None:
    """Turn whatever a loader returned (DataFrame, list of dicts/dataclasses) into rows."""
    try:
        if hasattr(obj, "to_dict") and hasattr(obj, "columns"):
            records = obj.to_dict(orient="records")  # type: ignore[union-attr]
        elif isinstance(obj, list | tuple):
            records = []
            for item in obj:
                if isinstance(item, dict):
                    records.append(item)
                elif hasattr(item, "__dataclass_fields__"):
                    records.append({k: getattr(item, k) for k in item.__dataclass_fields__})
                else:
                    return None
        else:
            return None
    except Exception:  # pragma: no cover - defensive: fall back to the CSV
        return None
    rows = []
    for rec in records:
        row = {}
        for key, value in rec.items():
            if value is None or (isinstance(value, float) and value != value):
                row[str(key)] = ""
            elif isinstance(value, bool):
                row[str(key)] = "1" if value else "0"
            elif isinstance(value, date):
                row[str(key)] = value.isoformat()
            else:
                row[str(key)] = str(value).strip()
        rows.append(row)
    return rows


def _load(loader_name: str, csv_name: str, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:  # the reference package may not exist yet (or may not have this loader)
        import pipeline.reference as ref  # noqa: PLC0415

        loader = getattr(ref, loader_name, None)
        if loader is not None:
            rows = _frame_rows(loader())
            if rows and all(col in rows[0] for col in required):
                return rows
    except Exception:  # noqa: BLE001 - any problem with the loader: use the CSV
        pass
    return _read_csv(csv_name)


@lru_cache(maxsize=1)
def taxonomy() -> tuple[dict[str, str], ...]:
    cols = ("category_code", "name_en", "name_zh", "family_code", "valid_to")
    return tuple(_load("load_taxonomy", "product_taxonomy.csv", cols))


@lru_cache(maxsize=1)
def codesets() -> tuple[dict[str, str], ...]:
    cols = ("codeset", "code", "label_zh")
    return tuple(_load("load_codesets", "codesets.csv", cols))


@lru_cache(maxsize=1)
def hospitals() -> tuple[dict[str, str], ...]:
    cols = ("hospital_code", "hospital_type", "region_code", "is_test", "daily_volume")
    return tuple(_load("load_hospitals", "hospitals.csv", cols))


def codes(codeset: str) -> list[str]:
    return [r["code"] for r in codesets() if r["codeset"] == codeset]


def zh_labels(codeset: str) -> dict[str, str]:
    return {r["code"]: r["label_zh"] for r in codesets() if r["codeset"] == codeset}


def active_categories(on: date) -> list[str]:
    """Category codes valid on ``on`` (retired codes excluded)."""
    out = []
    for row in taxonomy():
        vf, vt = row.get("valid_from", ""), row.get("valid_to", "")
        if vf and date.fromisoformat(vf) > on:
            continue
        if vt and date.fromisoformat(vt) < on:
            continue
        out.append(row["category_code"])
    return out


def category(code: str) -> dict[str, str]:
    for row in taxonomy():
        if row["category_code"] == code:
            return row
    raise KeyError(code)


@dataclass(frozen=True)
class Hospital:
    code: str
    name_zh: str
    name_en: str
    type: str  # children | general_tertiary | community
    city_zh: str
    city_en: str
    region: str
    active_from: date | None
    active_to: date | None
    is_test: bool
    daily_volume: float


def _date_or_none(text: str) -> date | None:
    return date.fromisoformat(text[:10]) if text else None


def hospital_list() -> list[Hospital]:
    out = []
    for r in hospitals():
        out.append(
            Hospital(
                code=r["hospital_code"],
                name_zh=r.get("name_zh", ""),
                name_en=r.get("name_en", ""),
                type=r.get("hospital_type", "general_tertiary") or "general_tertiary",
                city_zh=r.get("city_zh", ""),
                city_en=r.get("city_en", ""),
                region=r["region_code"],
                active_from=_date_or_none(r.get("active_from", "")),
                active_to=_date_or_none(r.get("active_to", "")),
                is_test=r.get("is_test", "0").strip().lower() in ("1", "true", "yes"),
                daily_volume=float(r.get("daily_volume") or 10),
            )
        )
    return out


# GB/T 2260 district codes of the sentinel cities (city prefix -> districts), used for the
# residence of patients who live in a neighbouring district of the hospital's city.
CITY_DISTRICTS: dict[str, tuple[str, ...]] = {
    "1101": ("110101", "110102", "110105", "110106", "110107", "110108"),  # Beijing
    "3101": ("310101", "310104", "310105", "310106", "310107", "310109", "310110", "310115"),
    "4401": ("440103", "440104", "440105", "440106", "440111", "440112", "440113"),  # Guangzhou
    "4403": ("440303", "440304", "440305", "440306", "440307"),  # Shenzhen
    "5101": ("510104", "510105", "510106", "510107", "510108"),  # Chengdu
    "4201": ("420102", "420103", "420104", "420105", "420106", "420111"),  # Wuhan
    "3301": ("330102", "330105", "330106", "330108", "330109", "330110"),  # Hangzhou
    "6101": ("610102", "610103", "610104", "610111", "610112", "610113"),  # Xi'an
}


def city_districts(region: str) -> tuple[str, ...]:
    return CITY_DISTRICTS.get(region[:4], (region,))
