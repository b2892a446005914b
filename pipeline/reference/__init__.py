"""Versioned reference data: product taxonomy, code sets, hospital registry, NEISS crosswalks.

The CSV files in ``data/`` are the source of truth (UTF-8, comma-separated, header row). All
loaders read every column as text and convert only the typed columns listed in their docstring;
empty cells stay ``""`` (never NaN). Results are cached; every call returns a fresh copy.

Dates: ``valid_to`` / ``active_to`` are the *last* day (inclusive) a code or hospital is valid;
empty means still valid. A retired taxonomy code names its replacements in ``description_en``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from functools import cache, lru_cache
from pathlib import Path
from types import MappingProxyType

import pandas as pd

__all__ = [
    "DATA_DIR",
    "active_categories",
    "active_hospitals",
    "codes",
    "label_to_code",
    "city_code",
    "load_cities",
    "load_codesets",
    "load_hospitals",
    "load_neiss_codeset_crosswalk",
    "load_neiss_product_crosswalk",
    "load_taxonomy",
]

DATA_DIR = Path(__file__).resolve().parent / "data"

HOSPITAL_TYPES = ("children", "general_tertiary", "community")


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")


def _to_date(col: pd.Series) -> pd.Series:
    """Parse ISO dates; empty cells become ``None`` (object dtype of ``datetime.date``)."""
    return col.map(lambda v: dt.date.fromisoformat(v) if v else None).astype(object)


@lru_cache(maxsize=1)
def _taxonomy() -> pd.DataFrame:
    df = _read(DATA_DIR / "product_taxonomy.csv")
    df["priority"] = df["priority"].astype(int)
    df["valid_from"] = _to_date(df["valid_from"])
    df["valid_to"] = _to_date(df["valid_to"])
    return df


def load_taxonomy() -> pd.DataFrame:
    """All product categories, retired ones included.

    Typed columns: ``priority`` (int 0/1), ``valid_from`` / ``valid_to`` (``datetime.date`` or
    ``None``).
    """
    return _taxonomy().copy()


def active_categories(on: dt.date | None = None) -> pd.DataFrame:
    """Categories valid on ``on`` (default: today): valid_from <= on <= valid_to (or open)."""
    day = on or dt.date.today()
    if isinstance(day, dt.datetime):
        day = day.date()
    df = _taxonomy()
    mask = df["valid_from"].map(lambda d: d <= day) & df["valid_to"].map(
        lambda d: d is None or day <= d
    )
    return df[mask].reset_index(drop=True).copy()


@lru_cache(maxsize=1)
def _codesets() -> pd.DataFrame:
    df = _read(DATA_DIR / "codesets.csv")
    df["sort_order"] = df["sort_order"].astype(int)
    return df.sort_values(["codeset", "sort_order"], kind="stable").reset_index(drop=True)


def load_codesets() -> pd.DataFrame:
    """All enumerations (codeset, code, label_en, label_zh, sort_order int, iceci_note)."""
    return _codesets().copy()


@cache
def codes(codeset: str) -> tuple[str, ...]:
    """The codes of one code set in ``sort_order``; ``KeyError`` for an unknown code set."""
    df = _codesets()
    sub = df[df["codeset"] == codeset]
    if sub.empty:
        raise KeyError(f"unknown codeset: {codeset!r}")
    return tuple(sub["code"])


def label_to_code(codeset: str) -> Mapping[str, str]:
    """Map each code, its lower-cased English label and its Chinese label to the code.

    Keys are stripped; English keys are lower-case. Used by intake to accept either language
    (once per file and code set: built once per process, read-only)."""
    return MappingProxyType(_label_to_code(codeset))


@cache
def _label_to_code(codeset: str) -> dict[str, str]:
    codes(codeset)  # raises KeyError for an unknown code set
    df = _codesets()
    out: dict[str, str] = {}
    for row in df[df["codeset"] == codeset].itertuples(index=False):
        out[row.code] = row.code
        out[row.label_en.strip().lower()] = row.code
        out[row.label_zh.strip()] = row.code
    return out


@lru_cache(maxsize=8)
def _hospitals(path: str) -> pd.DataFrame:
    df = _read(Path(path))
    df["active_from"] = _to_date(df["active_from"])
    df["active_to"] = _to_date(df["active_to"])
    df["is_test"] = (
        df["is_test"].map(lambda v: v.strip().lower() in {"1", "true", "yes"}).astype(bool)
    )
    df["daily_volume"] = df["daily_volume"].astype(int)
    return df


def load_hospitals(path: Path | None = None) -> pd.DataFrame:
    """The sentinel hospital registry; ``path`` overrides the packaged ``hospitals.csv``.

    Typed columns: ``active_from`` / ``active_to`` (``datetime.date`` or ``None``),
    ``is_test`` (bool), ``daily_volume`` (int, typical injury cases reported per day).
    ``region_code`` stays text (6-digit GB/T 2260 code).
    """
    target = Path(path) if path is not None else DATA_DIR / "hospitals.csv"
    return _hospitals(str(target.resolve())).copy()


def active_hospitals(
    on: dt.date | None = None, path: Path | None = None, include_test: bool = False
) -> pd.DataFrame:
    """Hospitals in the network on ``on`` (default today); test hospitals only if asked."""
    day = on or dt.date.today()
    df = load_hospitals(path)
    mask = df["active_from"].map(lambda d: d <= day) & df["active_to"].map(
        lambda d: d is None or day <= d
    )
    if not include_test:
        mask &= ~df["is_test"]
    return df[mask].reset_index(drop=True)


@lru_cache(maxsize=1)
def _cities() -> pd.DataFrame:
    df = _read(DATA_DIR / "cities.csv")
    df["latitude"] = df["latitude"].astype(float)
    df["longitude"] = df["longitude"].astype(float)
    return df


def load_cities() -> pd.DataFrame:
    """The cities of the monitored network: ``city_code`` (the GB/T 2260 code of the
    prefecture-level city, its first four digits followed by 00), names, and the city centre's
    ``latitude`` / ``longitude`` (float, degrees, 0.01 precision) for the schematic map of the
    web app. A registry hospital's city is ``city_code(region_code)``."""
    return _cities().copy()


def city_code(region_code: object) -> str | None:
    """The prefecture-level city of a 6-digit district code (``440104`` -> ``440100``)."""
    text = str(region_code or "").strip()
    return text[:4] + "00" if len(text) == 6 and text.isdigit() else None


@lru_cache(maxsize=1)
def _neiss_products() -> pd.DataFrame:
    df = _read(DATA_DIR / "neiss_product_crosswalk.csv")
    df["neiss_code"] = df["neiss_code"].astype(int)
    return df


def load_neiss_product_crosswalk() -> pd.DataFrame:
    """NEISS product code -> taxonomy category, one row per NEISS PROD code.

    Columns: ``neiss_code`` (int), ``neiss_label``, ``category_code`` (empty when unmapped),
    ``status`` (``mapped`` / ``unmapped``), ``reason`` (why unmapped; empty when mapped).
    Rebuild with ``python -m sentinel_tools.neiss_crosswalk``.
    """
    return _neiss_products().copy()


@lru_cache(maxsize=1)
def _neiss_codesets() -> pd.DataFrame:
    df = _read(DATA_DIR / "neiss_codeset_crosswalk.csv")
    df["neiss_code"] = df["neiss_code"].astype(int)
    return df


def load_neiss_codeset_crosswalk() -> pd.DataFrame:
    """NEISS code sets -> Sentinel code sets (``neiss_code`` int; ``code`` empty = no equivalent).

    Formats: BDYPT -> body_region, DIAG -> injury_nature, DISP -> outcome, LOC -> place,
    GENDER -> sex, AGELTTWO -> age_unit. AGELTTWO is expanded to one row per age value:
    0 = age unknown (``code`` empty, leave age blank), 2..120 = age in ``years``,
    201..223 = ``months`` (age = value - 200); NEISS has no ``days``. Other empty codes:
    BDYPT 87 (not stated), DISP 0 (no injury) and 9 (unknown).
    """
    return _neiss_codesets().copy()
