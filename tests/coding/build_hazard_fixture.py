"""Rebuild ``data/hazard_categories.csv.gz``: the sample cases of the injected hazards'
categories, read straight from the landing files with the intake reader (no warehouse).

    .venv/bin/python tests/coding/build_hazard_fixture.py

Columns: the clustering inputs, the category (the generator's true category: the fixture tests
clustering, not coding) and the hazard id from ``ground_truth_cases.csv``. ``sample_idf.npz``:
the IDF a refresh freezes from the whole sample (every case with a product), so the tests
cluster the subset exactly as a full refresh would. Takes a few minutes
(every landing file is read); rerun after regenerating the sample.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from pipeline.clustering.features import Idf, analyse  # noqa: E402
from pipeline.coding.landing import read_landing_cases  # noqa: E402

SAMPLE = REPO / "data" / "sample"
OUT = Path(__file__).with_name("data") / "hazard_categories.csv.gz"
IDF_OUT = Path(__file__).with_name("data") / "sample_idf.npz"
COLUMNS = [
    "hospital_code",
    "case_id",
    "visit_week",
    "visit_datetime",
    "product_name",
    "narrative",
    "cause",
    "injury_nature",
    "body_region",
    "product_relation",
    "category_code",
    "hazard_id",
]


def main() -> None:
    truth = pd.read_csv(SAMPLE / "ground_truth_cases.csv", dtype=str, keep_default_na=False)
    categories = sorted(set(truth.loc[truth["hazard_id"] != "", "true_category"]))
    cases = read_landing_cases(SAMPLE / "landing")
    with_product = cases.merge(
        truth[["hospital_code", "case_id", "true_category"]], on=["hospital_code", "case_id"]
    )
    with_product = with_product[with_product["true_category"] != ""]
    docs = (
        analyse(p, n)
        for p, n in zip(with_product["product_name"], with_product["narrative"], strict=True)
    )
    idf = Idf.fit((d.concepts, d.terms) for d in docs)
    np.savez_compressed(
        IDF_OUT, concepts=idf.concepts, terms=idf.terms, n_docs=np.array(idf.n_docs)
    )
    cases = cases.merge(
        truth[["hospital_code", "case_id", "true_category", "hazard_id"]],
        on=["hospital_code", "case_id"],
        how="inner",
    )
    cases = cases[cases["true_category"].isin(categories)].rename(
        columns={"true_category": "category_code"}
    )
    cases["visit_datetime"] = pd.to_datetime(cases["visit_datetime"]).dt.strftime(
        "%Y-%m-%d %H:%M:%S"
    )
    cases = cases[COLUMNS].sort_values(["visit_week", "visit_datetime", "hospital_code", "case_id"])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    cases.to_csv(OUT, index=False, compression={"method": "gzip", "mtime": 0})
    print(f"{len(cases)} cases of {', '.join(categories)} -> {OUT}")


if __name__ == "__main__":
    main()
