import math
import statistics

import numpy as np
import pytest
from scipy import stats

from pipeline.detection import ears_c1, ears_c2, ears_c3
from pipeline.detection.base import DetectionInputError


def test_c1_hand_calculation() -> None:
    counts = [1, 2, 3, 4, 5, 6, 7, 20]
    out = ears_c1(counts, alpha=0.005)
    assert len(out) == 1
    row = out.iloc[0]
    # baseline 1..7: mean 4, sd sqrt(28/6) = 2.160247; z(0.995) = 2.575829
    assert row["index"] == 7
    assert row["expected"] == pytest.approx(4.0)
    assert row["upper"] == pytest.approx(4 + 2.575829 * 2.160247, rel=1e-6)
    assert row["score"] == pytest.approx(16 / (2.575829 * 2.160247), rel=1e-6)
    assert bool(row["alarm"])
    assert row["pvalue"] == pytest.approx(stats.norm.sf(16 / 2.160247), rel=1e-6)


def test_c2_uses_guard_band() -> None:
    # Weeks t-2 and t-1 are huge; C2 must ignore them (baseline t-9..t-3).
    counts = [3, 5, 3, 5, 3, 5, 3, 100, 100, 6]
    out = ears_c2(counts, alpha=0.005)
    row = out.iloc[0]
    base = counts[0:7]
    m, s = statistics.mean(base), statistics.stdev(base)
    assert row["expected"] == pytest.approx(m)
    assert row["upper"] == pytest.approx(m + stats.norm.ppf(0.995) * s)
    assert not row["alarm"]  # 6 < 3.857 + 2.576 * 1.069 = 6.61
    assert ears_c1(counts, alpha=0.005).iloc[-1]["expected"] > 20  # C1 does see them


def test_c3_is_sum_of_positive_c2_excesses() -> None:
    rng = np.random.default_rng(3)
    counts = rng.poisson(10, 30).astype(float)
    counts[-3:] += [6, 7, 8]
    out = ears_c3(counts, evaluate=np.arange(11, 30), alpha=0.005)

    def c2(t: int) -> float:
        base = counts[t - 9 : t - 2]
        return (counts[t] - statistics.mean(base)) / max(statistics.stdev(base), 1.0)

    h = stats.norm.ppf(0.995) - 1.0
    for _, row in out.iterrows():
        t = int(row["index"])
        c3 = sum(max(0.0, c2(i) - 1.0) for i in (t - 2, t - 1, t))
        assert row["score"] == pytest.approx(c3 / h)
        assert bool(row["alarm"]) == (c3 > h)
    assert bool(out.iloc[-1]["alarm"])


def test_c3_alarm_equals_c2_when_previous_weeks_quiet() -> None:
    counts = [10, 12, 9, 11, 10, 12, 9, 11, 10, 10, 11, 30]
    c2 = ears_c2(counts).iloc[-1]
    c3 = ears_c3(counts).iloc[-1]
    assert bool(c2["alarm"]) and bool(c3["alarm"])
    assert c3["upper"] == pytest.approx(c2["upper"])


def test_min_sigma_floor_for_flat_baseline() -> None:
    out = ears_c1([0, 0, 0, 0, 0, 0, 0, 1])
    assert out.iloc[0]["upper"] == pytest.approx(stats.norm.ppf(0.995) * 1.0)
    assert not out.iloc[0]["alarm"]
    assert math.isfinite(out.iloc[0]["score"])


def test_short_series_gives_no_rows_and_bad_input_raises() -> None:
    assert ears_c1([1, 2, 3]).empty
    assert ears_c3([1] * 11).empty and len(ears_c3([1] * 12)) == 1
    with pytest.raises(DetectionInputError):
        ears_c1([1, -1, 2])
    with pytest.raises(DetectionInputError):
        ears_c1([1, float("nan"), 2])
    with pytest.raises(DetectionInputError):
        ears_c1([1, 2, 3], alpha=0.7)
