"""The public NEISS annual tab-separated layout as a second sender format.

NEISS codes are mapped onto the canonical record through the reference crosswalks. NEISS has
no mechanism, intent or severity field: mechanism is derived from the diagnosis where the
diagnosis implies it (burns, poisoning, ...) and is 'unknown' otherwise; severity is derived
from the disposition (admitted/transferred/died = severe, held for observation = moderate,
treated and released = mild). Ages 201-223 are 1-23 months; age 0 is unknown. The survey
design (``Weight``, ``Stratum``, ``PSU``) is kept in ``survey_weight``, ``survey_stratum`` and
``survey_psu`` for the weighted estimates of the quarterly summary.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.intake.reader import RawExtract

NEISS_REQUIRED = (
    "CPSC_Case_Number",
    "Treatment_Date",
    "Age",
    "Sex",
    "Body_Part",
    "Diagnosis",
    "Disposition",
    "Product_1",
    "Narrative_1",
)
CAUSE_FROM_NATURE = {"burn": "burn_scald", "poisoning": "poisoning"}
SEVERITY_FROM_OUTCOME = {
    "treated_released": "mild",
    "observed": "moderate",
    "transferred": "severe",
    "admitted": "severe",
    "died": "severe",
}


def _crosswalk(neiss_format: str) -> dict[str, str]:
    table = reference.load_neiss_codeset_crosswalk()
    rows = table[table["neiss_format"] == neiss_format]
    return {str(int(c)): code for c, code in zip(rows["neiss_code"], rows["code"], strict=True)}


def _code_key(text: str) -> str:
    """NEISS codes compare as integers ("07" is 7); anything else stays as written. (Only ASCII
    digits: ``int()`` rejects some characters ``isdigit()`` accepts, such as "²".)"""
    return str(int(text)) if text.isascii() and text.isdigit() else text


def _lookup(series: pd.Series, mapping: dict[str, str]) -> list[str | None]:
    out: list[str | None] = []
    for value in series:
        text = str(value).strip()
        key = _code_key(text)
        # A code NEISS does not define stays as written so validation names the bad value.
        out.append(mapping.get(key, text) or None if text else None)
    return out


def _age(text: str) -> tuple[str | None, str]:
    """A NEISS age code as (age, unit): 0 = unknown, 201-223 = 1-23 months, else years.
    Anything that is not a whole number stays as written, for validation to name it."""
    try:
        number = float(text)
    except ValueError:
        return text or None, "years"
    if not math.isfinite(number) or not number.is_integer():
        return text, "years"
    code = int(number)
    if code == 0:
        return None, "years"
    if 201 <= code <= 223:
        return str(code - 200), "months"
    return str(code), "years"


def neiss_to_canonical(
    raw: RawExtract, sender: str
) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    index = {h.strip().lower(): i for i, h in enumerate(raw.headers)}
    missing = [c for c in NEISS_REQUIRED if c.lower() not in index]

    def column(name: str) -> pd.Series:
        i = index.get(name.lower())
        cells = [(row[i] if i is not None and i < len(row) else "").strip() for row in raw.rows]
        return pd.Series(cells, dtype=object)

    frame = pd.DataFrame(
        {"hospital_code": sender, "case_id": column("CPSC_Case_Number"), "report_type": "new"},
        index=range(len(raw.rows)),
    )
    frame["visit_datetime"] = column("Treatment_Date")
    frame["sex"] = _lookup(column("Sex"), _crosswalk("GENDER"))

    ages = [_age(text) for text in column("Age")]
    frame["age"] = [age for age, _ in ages]
    frame["age_unit"] = [unit for _, unit in ages]

    frame["body_region"] = _lookup(column("Body_Part"), _crosswalk("BDYPT"))
    frame["injury_nature"] = _lookup(column("Diagnosis"), _crosswalk("DIAG"))
    frame["outcome"] = _lookup(column("Disposition"), _crosswalk("DISP"))
    frame["place"] = _lookup(column("Location"), _crosswalk("LOC"))
    frame["cause"] = [CAUSE_FROM_NATURE.get(n or "", "unknown") for n in frame["injury_nature"]]
    frame["severity"] = [SEVERITY_FROM_OUTCOME.get(o or "", "mild") for o in frame["outcome"]]
    frame["intent"] = "unknown"
    frame["product_relation"] = "uncertain"

    products = reference.load_neiss_product_crosswalk()
    products = products.assign(key=products["neiss_code"].map(lambda c: str(int(c))))
    by_code = products.set_index("key")
    categories, names = [], []
    for code in column("Product_1"):
        key = _code_key(code)
        if key in by_code.index:
            categories.append(by_code.at[key, "category_code"] or None)
            names.append(by_code.at[key, "neiss_label"])
        else:
            categories.append(None)
            names.append(f"NEISS product {code}" if code else None)
    frame["product_category"] = categories
    frame["product_name"] = names
    narrative = column("Narrative_1")
    if "narrative_2" in index:
        narrative = (narrative + " " + column("Narrative_2")).str.strip()
    frame["narrative"] = narrative.where(narrative != "", None)
    # The survey design, kept for weighted national estimates (blank when the file has none).
    for field, name in (
        ("survey_weight", "Weight"),
        ("survey_stratum", "Stratum"),
        ("survey_psu", "PSU"),
    ):
        values = column(name)
        frame[field] = values.where(values != "", None)
    frame = frame.astype(object).where(frame.notna(), None)
    frame["_row"] = np.asarray(raw.row_numbers, dtype="int64")
    frame["_extra_cells__ok"] = True
    return frame, "en", [], missing
