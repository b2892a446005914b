"""Provisional pattern membership of cases waiting for a coder (issue 20, item 7).

A case in the coder-review queue has no final category, so it is in no pattern, no count and no
detection. Analysts should still see it next to the pattern it most likely belongs to: a new
product term (巴克球) is exactly what the review queue holds while a hazard emerges. So each
pattern refresh also places every review-pending case, *provisionally*, in the most similar
pattern of its top suggestion (the model's top category), with the same frozen case vectors
and the same similarity bar as final members - but without touching the clusterer state: a
provisional member moves no centroid, counts in no ``n_cases``, creates no pattern.

Tables and views (owner: clustering; created by migration
``pipeline/storage/migrations/0004_provisional_patterns.sql``):

- ``provisional_patterns``: one row per review-pending case placed in a pattern
  (``hospital_code``, ``case_id``, ``case_version``, ``suggested_category``, ``pattern_id``,
  ``similarity``, ``reason`` = the review reason, ``refresh_seq``); replaced as a whole by every
  refresh, so a resolved case leaves it at the next refresh (and, when coded into the
  category, joins the pattern as a final member).
- ``case_patterns_all`` (view): final members (``case_patterns``, ``provisional = false``) and
  provisional ones (``provisional = true``): what pattern pages, reports and evidence packs
  read to *show* members with their flag. Statistics, detection and purity read
  ``case_patterns`` / ``coded_cases`` only (``pattern_members(..., provisional=False)``).
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from pipeline.clustering.engine import ClusterState

COLUMNS = [
    "hospital_code",
    "case_id",
    "case_version",
    "suggested_category",
    "pattern_id",
    "similarity",
    "reason",
    "refresh_seq",
]


def pending_cases(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Active cases whose current coding waits for a coder, with the model's top suggestion
    (a product category) and the fields their vector is built from."""
    return con.execute("""
        SELECT c.hospital_code, c.case_id, c.version, k.model_category AS suggested_category,
               k.reason, c.product_name, c.narrative, c.cause, c.injury_nature, c.body_region,
               c.product_relation
        FROM cases c
        JOIN case_coding k ON k.hospital_code = c.hospital_code AND k.case_id = c.case_id
             AND k.case_version = c.version
        WHERE c.status = 'active' AND k.needs_review AND k.model_category IS NOT NULL
          AND k.model_category <> 'NONE'
        ORDER BY c.hospital_code, c.case_id""").df()


def place(state: ClusterState, pending: pd.DataFrame, seq: int, vectorise) -> pd.DataFrame:
    """The provisional pattern of each pending case: the most similar *pattern* (candidates
    are not shown) of its suggested category at or above the clustering threshold; cases
    without one are left out. ``vectorise(frame, state)`` builds the frozen case vectors."""
    rows: list[dict] = []
    if len(pending):
        vectors = vectorise(pending, state)
        for case, vec in zip(pending.itertuples(index=False), vectors, strict=True):
            cc = state.categories.get(case.suggested_category)
            if cc is None or len(cc) == 0:
                continue
            sims = cc.similarities(vec)
            is_pattern = np.array([pid is not None for pid in cc.pattern_id[: len(cc)]])
            sims = np.where(is_pattern & cc.alive[: len(cc)], sims, -1.0)
            best = int(np.argmax(sims))
            if sims[best] < state.params.threshold:
                continue
            rows.append(
                {
                    "hospital_code": case.hospital_code,
                    "case_id": case.case_id,
                    "case_version": int(case.version),
                    "suggested_category": case.suggested_category,
                    "pattern_id": cc.pattern_id[best],
                    "similarity": float(sims[best]),
                    "reason": case.reason,
                    "refresh_seq": seq,
                }
            )
    return pd.DataFrame.from_records(rows, columns=COLUMNS)


def replace(con: duckdb.DuckDBPyConnection, rows: pd.DataFrame) -> int:
    """Replace the provisional members (inside the refresh's transaction)."""
    con.execute("DELETE FROM provisional_patterns")
    if len(rows):
        con.register("_provisional", rows[COLUMNS])
        con.execute("INSERT INTO provisional_patterns BY NAME SELECT * FROM _provisional")
        con.unregister("_provisional")
    return len(rows)


def pattern_members(
    con: duckdb.DuckDBPyConnection, pattern_id: str, provisional: bool = True
) -> pd.DataFrame:
    """Members of a pattern, final first, each with its ``provisional`` flag (``provisional``
    False: final members only, what statistics may count)."""
    where = "" if provisional else "AND NOT provisional"
    return con.execute(
        f"""SELECT hospital_code, case_id, pattern_id, category_code, similarity, provisional,
                   review_reason
            FROM case_patterns_all WHERE pattern_id = ? {where}
            ORDER BY provisional, hospital_code, case_id""",
        [pattern_id],
    ).df()
