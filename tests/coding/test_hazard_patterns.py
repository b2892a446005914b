"""Hazard purity and week-to-week stability on the sample network.

The fixture holds the sample's cases of the five injected hazards' product categories, read from
the landing files with the intake reader (``build_hazard_fixture.py``), with the generator's true
category: these tests measure clustering, the coder is measured by its model card.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline.clustering.engine import ClusterState
from pipeline.clustering.features import Idf
from pipeline.clustering.patterns import cluster_cases, new_state
from pipeline.clustering.quality import purity, stability

DATA = Path(__file__).with_name("data")
FIXTURE = DATA / "hazard_categories.csv.gz"
LAST_WEEK = "2026-W47"


@pytest.fixture(scope="module")
def frame():
    return pd.read_csv(FIXTURE, dtype=str)


@pytest.fixture(scope="module")
def sample_idf():
    """The IDF a refresh of the whole sample freezes (built with the fixture)."""
    data = np.load(DATA / "sample_idf.npz")
    return Idf(concepts=data["concepts"], terms=data["terms"], n_docs=int(data["n_docs"]))


def _assigned(assignments) -> pd.DataFrame:
    return pd.DataFrame(
        [(a.hospital_code, a.case_id, a.pattern_id) for a in assignments],
        columns=["hospital_code", "case_id", "pattern_id"],
    )


def _hazards(frame):
    return [
        {
            "id": hz,
            "category": group["category_code"].iloc[0],
            "cases": list(zip(group["hospital_code"], group["case_id"], strict=True)),
        }
        for hz, group in frame[frame["hazard_id"].notna()].groupby("hazard_id")
    ]


def test_each_hazard_falls_into_one_pattern(frame, sample_idf):
    assigned = _assigned(cluster_cases(new_state(frame, idf=sample_idf), frame))
    table = frame[["hospital_code", "case_id", "visit_week"]].merge(
        assigned, on=["hospital_code", "case_id"], how="left"
    )
    rows = purity(table, _hazards(frame))
    assert len(rows) == 5
    for row in rows:
        assert row["share_in_top_pattern"] >= 0.8, row
        assert row["top_pattern"].startswith(row["category"]), row
        # the pattern is about the hazard, not the whole category
        assert row["top_pattern_precision_since_onset"] >= 0.5, row


@pytest.mark.slow
def test_one_more_week_keeps_pattern_ids(frame, tmp_path):
    # the IDF is frozen from the data up to the first refresh, as in production
    before_frame = frame[frame["visit_week"] < LAST_WEEK]
    state = new_state(before_frame)
    before = _assigned(cluster_cases(state, before_frame))
    state.save(tmp_path / "state")
    resumed = ClusterState.load(tmp_path / "state")
    added = _assigned(cluster_cases(resumed, frame[frame["visit_week"] == LAST_WEEK]))
    after = pd.concat([before, added], ignore_index=True)
    assert stability(before, after)["share_kept"] == 1.0  # incremental: ids never change
    assert not set(added["case_id"]) & set(before["case_id"])
    # re-clustering everything from scratch with the extra week agrees almost everywhere
    scratch = _assigned(cluster_cases(new_state(frame), frame))
    assert stability(before, scratch)["share_kept"] >= 0.95
