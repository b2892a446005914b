"""The public NEISS annual tab-separated layout as a second sender format.

NEISS codes are mapped onto the canonical record through the reference crosswalks. NEISS has
no mechanism, intent or severity field: mechanism is derived from the diagnosis where the
diagnosis implies it (burns, poisoning, ...) and is 'unknown' otherwise; severity is derived
from the disposition (admitted/transferred/died = severe, held for observation = moderate,
treated and released = mild). Ages 201-223 are 1-23 months; age 0 is unknown.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline import reference
from pipeline.intake.reader import RawExtract

NEISS_REQUIRED = ("CPSC_Case_Number", "Treatment_Date", "Age", "Sex", "Body_Part",
                  "Diagnosis", "Disposition", "Product_1", "Narrative_1")
CAUSE_FROM_NATURE = {"burn": "burn_scald", "poisoning": "poisoning"}
SEVERITY_FROM_OUTCOME = {"treated_released": "mild", "observed": "moderate",
                         "transferred": "severe", "admitted": "severe", "died": "severe"}


def _crosswalk(neiss_format: str) -> dict[str, str]:
    table = reference.load_neiss_codeset_crosswalk()
    rows = table[table["neiss_format"] == neiss_format]
    return {str(int(c)): code for c, code in zip(rows["neiss_code"], rows["code"], strict=True)}


def _lookup(series: pd.Series, mapping: dict[str, str]) -> list[str | None]:
    out: list[str | None] = []
    for value in series:
        text = str(value).strip()
        key = str(int(text)) if text.lstrip("-").isdigit() else text
        # A code NEISS does not define stays as written so validation names the bad value.
        out.append(mapping.get(key, text) or None if text else None)
    return out


def neiss_to_canonical(
    raw: RawExtract, sender: str
) -> tuple[pd.DataFrame, str, list[str], list[str]]:
    index = {h.strip().lower(): i for i, h in enumerate(raw.headers)}
    missing = [c for c in NEISS_REQUIRED if c.lower() not in index]

    def column(name: str) -> pd.Series:
        i = index.get(name.lower())
        cells = [(row[i] if i is not None and i < len(row) else "").strip() for row in raw.rows]
        return pd.Series(cells, dtype=object)

    frame = pd.DataFrame({"hospital_code": sender, "case_id": column("CPSC_Case_Number"),
                          "report_type": "new"}, index=range(len(raw.rows)))
    frame["visit_datetime"] = column("Treatment_Date")
    frame["sex"] = _lookup(column("Sex"), _crosswalk("GENDER"))

    age = pd.to_numeric(column("Age"), errors="coerce")
    months = age.between(201, 223)
    frame["age"] = [None if (pd.isna(a) or a == 0) else str(int(a - 200 if m else a))
                    for a, m in zip(age, months, strict=True)]
    frame.loc[age.isna() & (column("Age") != ""), "age"] = column("Age")[age.isna()]
    frame["age_unit"] = np.where(months, "months", "years")

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
        key = str(int(code)) if code.isdigit() else code
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
    frame = frame.astype(object).where(frame.notna(), None)
    frame["_row"] = np.asarray(raw.row_numbers, dtype="int64")
    frame["_extra_cells__ok"] = True
    return frame, "en", [], missing
