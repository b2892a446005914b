"""Labelled narratives from outside the warehouse: the calibration and evaluation sets.

``read_labelled`` reads a UTF-8 CSV of independently written narratives (columns ``narrative``,
``category_code``; optional ``product_name``, ``lang``, ``style``, ``id``, ``provenance``) or a
sample of real NEISS records (``narrative``, ``Product_1``, optional ``Product_2``: NEISS product
codes, mapped to categories through the crosswalk; records whose first product is not mapped
are left out). The result has ``text`` (``model_text``), ``label`` and, for NEISS records,
``also_right`` (the category of the second product, a right answer as well).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from pipeline import reference
from pipeline.coding.model import model_text


class LabelledSetError(ValueError):
    """A labelled CSV cannot be read (missing file or column)."""


def read_labelled(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise LabelledSetError(f"{path}: no such file")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    if "narrative" not in frame.columns:
        raise LabelledSetError(f"{path}: no 'narrative' column")
    if "category_code" in frame.columns:
        frame["label"] = frame["category_code"].str.strip()
        frame["also_right"] = ""
    elif "Product_1" in frame.columns:
        crosswalk = reference.load_neiss_product_crosswalk()
        mapped = crosswalk[crosswalk["category_code"] != ""]
        pairs = zip(mapped["neiss_code"], mapped["category_code"], strict=True)
        to_cat = {int(c): cat for c, cat in pairs}

        def cat(code: str) -> str:
            code = str(code).strip()
            return to_cat.get(int(code), "") if code.isdigit() else ""

        frame["label"] = frame["Product_1"].map(cat)
        second = frame["Product_2"] if "Product_2" in frame.columns else ""
        frame["also_right"] = pd.Series(second, index=frame.index).map(cat)
        frame = frame[frame["label"] != ""].copy()
        frame["lang"] = frame.get("lang", "en")
        frame["style"] = frame.get("style", "neiss_real")
    else:
        raise LabelledSetError(f"{path}: no 'category_code' (or NEISS 'Product_1') column")
    if "product_name" not in frame.columns:
        frame["product_name"] = ""
    for col, default in (("lang", ""), ("style", "")):
        if col not in frame.columns:
            frame[col] = default
    frame = frame[frame["label"] != ""].reset_index(drop=True)
    frame["product_name"] = frame["product_name"].where(frame["product_name"] != "", None)
    frame["text"] = [
        model_text(p, n) for p, n in zip(frame["product_name"], frame["narrative"], strict=True)
    ]
    return frame
