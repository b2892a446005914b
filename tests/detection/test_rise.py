"""Sustained-rise detectors: short-window (short histories) and auto-rise (glrnb / fallback)."""

import numpy as np
import pytest
from scipy import stats

from pipeline.detection import METHODS
from pipeline.detection.registry import detect_panel_frame
from pipeline.detection.rise import auto_rise, short_window


def test_window_totals_against_a_poisson_baseline_by_hand() -> None:
    # 20 weeks of exactly 2 cases: rate 2, no over-dispersion (phi = 1 -> Poisson).
    y = np.array([2.0] * 20 + [5, 5, 6, 6])
    out = short_window(y, window=4)
    row = out.iloc[0]
    assert row["index"] == 23 and row["expected"] == pytest.approx(2.0)
    # History = the 20 weeks before the window; predictive variance inflation 1 + L/20.
    rate = (40 + 0.5) / 20
    a_adj = 1 - (1 - 0.005) ** (1 / 4)
    pvals, above = [], []
    for length, total in ((1, 6), (2, 12), (3, 17), (4, 22)):
        mean, phi = rate * length, 1 + length / 20
        pvals.append(stats.nbinom.sf(total - 1, mean / (phi - 1), 1 / phi))
        above.append(total > stats.nbinom.ppf(1 - a_adj, mean / (phi - 1), 1 / phi))
    assert above == [False, False, True, True]  # the 3- and 4-week totals are abnormal
    assert row["pvalue"] == pytest.approx(1 - (1 - min(pvals)) ** 4)
    assert bool(row["alarm"])
    # Each week alone stays under its one-week (short-history) threshold.
    assert not METHODS["short-history"](y, evaluate=np.arange(20, 24))["alarm"].any()


def test_false_alarm_rate_stays_near_alpha_on_flat_series() -> None:
    rng = np.random.default_rng(3)
    series = [rng.negative_binomial(5 / 0.5, 1 / 1.5, 90).astype(float) for _ in range(600)]
    frame = detect_panel_frame("short-window", series, evaluate=[np.arange(60, 90)] * 600)
    # 18,000 null weeks at alpha 0.005: expect <= ~90 alarms (the window tests are
    # positively correlated, so the Sidak split is conservative).
    assert frame["alarm"].mean() <= 0.0075


def test_a_step_is_found_sooner_than_by_the_weekly_test() -> None:
    rng = np.random.default_rng(11)
    delays = {"short-history": [], "short-window": []}
    for _ in range(150):
        y = rng.poisson(5, 90).astype(float)
        y[70:] += rng.poisson(3, 20)
        for name, found in delays.items():
            frame = METHODS[name](y, evaluate=np.arange(70, 90))
            weeks = frame.loc[frame["alarm"], "index"]
            found.append(int(weeks.min()) - 70 if len(weeks) else 99)
    assert np.median(delays["short-window"]) < np.median(delays["short-history"])
    assert np.mean(np.array(delays["short-window"]) < 99) > np.mean(
        np.array(delays["short-history"]) < 99
    )


def test_history_excludes_the_window_and_needs_eight_weeks() -> None:
    y = np.ones(14)
    out = short_window(y, window=4, evaluate=np.arange(14))
    # first week with 8 history weeks before a 4-week window: index 11
    assert out["index"].tolist() == [11, 12, 13]
    # the 5-cases rule still applies: 4 cases in 4 weeks never alarm
    z = np.zeros(30)
    z[-4:] = 1
    assert not short_window(z)["alarm"].any()


def test_offset_uses_the_denominator() -> None:
    y = np.array([2.0] * 30 + [4, 4])
    den = np.array([100.0] * 30 + [200, 200])  # twice the reporting volume: no rise
    assert not short_window(y, denominator=den, population_offset=True)["alarm"].any()
    assert METHODS["auto-rise-offset"](y, denominator=den).iloc[0]["expected"] == pytest.approx(4.0)


def test_auto_rise_picks_glrnb_with_two_years_and_short_window_before() -> None:
    rng = np.random.default_rng(5)
    y = rng.poisson(6, 300).astype(float)
    out = auto_rise(y, evaluate=np.array([5, 60, 110, 299]))
    methods = dict(zip(out["index"], out["method"], strict=True))
    assert 5 not in methods
    assert methods[60] == "short-window"
    assert methods[110] == "glrnb(b=2)"
    assert methods[299] == "glrnb(b=5)"
    with pytest.raises(ValueError, match="window"):
        auto_rise(y, window=5)
