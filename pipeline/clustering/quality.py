"""How well patterns capture known hazards (sample ground truth) and how stable ids are.

- hazard purity: for each injected hazard, the share of its cases that fall into its most
  common pattern (the done-when target is >= 80 %), and that pattern's *precision*: the share
  of its cases since the hazard's onset week that belong to the hazard (a pattern that
  swallowed a whole category would score high on the first and low on the second);
- stability: the share of cases clustered before that keep their pattern id afterwards.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pandas as pd


def load_hazards(ground_truth: Path) -> list[dict]:
    doc = json.loads(Path(ground_truth).read_text(encoding="utf-8"))
    return [
        {
            "id": h["id"],
            "category": h.get("category_code", h.get("category")),
            "cases": [tuple(k) for k in h["cases"]],
        }
        for h in doc["hazards"]
    ]


def purity(assignments: pd.DataFrame, hazards: Iterable[dict]) -> list[dict]:
    """``assignments``: hospital_code, case_id, pattern_id (NULL = not in a pattern),
    visit_week, category_code for every stored case that could be clustered."""
    by_key = assignments.set_index(["hospital_code", "case_id"])
    rows = []
    for hz in hazards:
        keys = [k for k in hz["cases"] if k in by_key.index]
        found = by_key.loc[keys] if keys else by_key.iloc[0:0]
        patterns = found["pattern_id"].dropna()
        counts = patterns.value_counts()
        top = counts.index[0] if len(counts) else None
        share = float(counts.iloc[0] / len(hz["cases"])) if len(counts) else 0.0
        precision = None
        if top is not None:
            onset = found["visit_week"].min()
            members = by_key[(by_key["pattern_id"] == top) & (by_key["visit_week"] >= onset)]
            hazard_keys = set(hz["cases"])
            precision = float(sum(k in hazard_keys for k in members.index) / len(members))
        rows.append(
            {
                "hazard": hz["id"],
                "category": hz["category"],
                "cases": len(hz["cases"]),
                "stored": len(keys),
                "in_patterns": int(len(patterns)),
                "top_pattern": top,
                "share_in_top_pattern": round(share, 4),
                "top_pattern_precision_since_onset": None
                if precision is None
                else round(precision, 4),
                "patterns": {str(k): int(v) for k, v in counts.items()},
            }
        )
    return rows


def warehouse_assignments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return con.execute("""
        SELECT c.hospital_code, c.case_id, c.visit_week, p.pattern_id, p.category_code
        FROM cases c LEFT JOIN case_patterns p USING (hospital_code, case_id)
        WHERE c.status = 'active'""").df()


def hazard_purity(con: duckdb.DuckDBPyConnection, ground_truth: Path) -> list[dict]:
    return purity(warehouse_assignments(con), load_hazards(ground_truth))


def stability(before: pd.DataFrame, after: pd.DataFrame) -> dict:
    """Share of the cases in a pattern ``before`` that have the same pattern id ``after``
    (frames with hospital_code, case_id, pattern_id)."""
    merged = before.merge(
        after, on=["hospital_code", "case_id"], how="left", suffixes=("_before", "_after")
    )
    same = (merged["pattern_id_before"] == merged["pattern_id_after"]).sum()
    return {
        "cases_before": len(before),
        "kept_pattern_id": int(same),
        "share_kept": float(same / len(before)) if len(before) else 1.0,
    }
