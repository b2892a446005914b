"""Unit tests of the Farrington port that do not need R (see test_farrington_reference.py)."""

import numpy as np
import pandas as pd
import pytest
from sentinel_tools.simulate import SCENARIOS, simulate_replicate

from pipeline.detection import (
    METHODS,
    RESULT_COLUMNS,
    farrington_flexible,
    farrington_noufaily,
    farrington_original,
)
from pipeline.detection.base import DetectionInputError
from pipeline.detection.farrington import NOUFAILY, ORIGINAL, _layout, min_history_weeks
from pipeline.detection.registry import detect_panel


def _nb_series(n: int, mean: float, seed: int, phi: float = 1.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.negative_binomial(mean / (phi - 1), 1 / phi, n).astype(float)


def test_reference_layout_matches_r_blocks() -> None:
    # Original: 5 windows of 7 weeks; the current window is excluded by pastWeeksNotIncluded=3.
    lay = _layout(5, 3, 1, 3)
    assert lay.rows.size == 35
    assert lay.X_flat.shape == (35, 1) and lay.X_trend.shape == (35, 2)
    # Noufaily: all weeks from 52*5+3 back to 27 back (26 excluded + the current week).
    lay = _layout(5, 3, 10, 26)
    assert lay.rows.size == 52 * 5 + 3 + 1 - 27
    assert lay.X_flat.shape[1] == 10  # intercept + 9 seasonal-block dummies
    assert min_history_weeks(NOUFAILY) == 263 == min_history_weeks(ORIGINAL)


def test_result_frame_contract_and_history_requirement() -> None:
    y = _nb_series(300, 8.0, 1)
    out = farrington_noufaily(y, evaluate=np.arange(250, 300))
    assert list(out.columns) == RESULT_COLUMNS
    assert out["index"].min() == 263  # earlier weeks lack 5 years + 3 weeks of history
    assert out["alarm"].dtype == bool
    assert farrington_noufaily(y[:263]).empty
    default = farrington_original(y)
    assert default["index"].tolist() == [299]


def test_flat_series_gives_no_alarm() -> None:
    y = np.full(400, 7.0)
    for name in ("farrington-original", "farrington-noufaily", "glrnb", "auto"):
        out = METHODS[name](y, evaluate=np.arange(300, 400))
        assert len(out) == 100
        assert not out["alarm"].any(), name


def test_injected_step_outbreak_is_detected() -> None:
    y = _nb_series(400, 10.0, 7)
    y[390:393] += [25, 30, 25]
    for name in ("farrington-original", "farrington-noufaily", "glrnb", "auto"):
        out = METHODS[name](y, evaluate=np.arange(350, 400)).set_index("index")
        assert out.loc[390:392, "alarm"].any(), name
        assert not out.loc[350:389, "alarm"].any(), name


def test_deterministic_and_panel_equals_single() -> None:
    rep = simulate_replicate(SCENARIOS[10], 0, seed=5)
    a = farrington_noufaily(rep.counts, evaluate=rep.evaluate)
    b = farrington_noufaily(rep.counts, evaluate=rep.evaluate)
    pd.testing.assert_frame_equal(a, b)
    series = [rep.counts, rep.outbreaks[4][0]]
    panel = detect_panel("farrington-noufaily", series, evaluate=[rep.evaluate, rep.evaluate])
    pd.testing.assert_frame_equal(panel[0], a)
    single = farrington_noufaily(series[1], evaluate=rep.evaluate)
    pd.testing.assert_frame_equal(panel[1], single)


def test_constant_population_offset_changes_nothing() -> None:
    y = _nb_series(330, 6.0, 11)
    den = np.full(y.size, 2500.0)
    ev = np.arange(280, 330)
    plain = farrington_noufaily(y, evaluate=ev)
    off = farrington_noufaily(y, evaluate=ev, denominator=den, population_offset=True)
    np.testing.assert_allclose(off["upper"], plain["upper"])
    np.testing.assert_allclose(off["expected"], plain["expected"], rtol=1e-9)


def test_population_offset_follows_the_denominator() -> None:
    # Counts proportional to a doubling population: as a rate nothing happens.
    rng = np.random.default_rng(2)
    den = np.linspace(1000, 2000, 330)
    y = rng.poisson(den * 0.01).astype(float)
    ev = np.arange(300, 330)
    off = METHODS["farrington-noufaily-offset"](y, evaluate=ev, denominator=den)
    assert not off["alarm"].any()
    np.testing.assert_allclose(off["expected"], den[ev] * 0.01, rtol=0.25)
    with pytest.raises(DetectionInputError):
        farrington_noufaily(y, population_offset=True)


def test_limit54_rule_suppresses_sparse_alarms() -> None:
    y = np.zeros(300)
    y[::40] = 1.0
    y[-1] = 4.0  # far above a near-zero baseline but only 4 cases in the last 4 weeks
    out = farrington_noufaily(y)
    assert out.iloc[0]["observed"] > out.iloc[0]["upper"]
    assert not out.iloc[0]["alarm"]
    assert farrington_flexible(y, limit54=None, no_periods=10).iloc[0]["alarm"]


def test_threshold_methods_and_bad_settings() -> None:
    y = _nb_series(300, 12.0, 4)
    delta = farrington_flexible(y, threshold_method="delta").iloc[0]
    nb = farrington_flexible(y, threshold_method="nbPlugin").iloc[0]
    muan = farrington_flexible(y, threshold_method="muan").iloc[0]
    assert nb["upper"] == np.floor(nb["upper"])  # a count quantile
    assert muan["upper"] >= nb["upper"]  # plugs in the upper confidence limit of the mean
    assert delta["upper"] > delta["expected"]
    with pytest.raises(DetectionInputError):
        farrington_flexible(y, threshold_method="quantile")
    with pytest.raises(DetectionInputError):
        farrington_flexible(y, no_periods=60)
    with pytest.raises(DetectionInputError):
        farrington_flexible(y, evaluate=[400])
