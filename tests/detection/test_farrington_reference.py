"""Reference check: the Python Farrington port against R surveillance::farringtonFlexible.

Runs R (Debian package r-cran-surveillance) through Rscript on Noufaily-design series plus a
few edge cases, with both reference settings, and requires the same alarm on >= 98 % of the
evaluated weeks and upper bounds within 1 % wherever R reports one. Skipped without R.
Run with ``-s`` to see the agreement figures.
"""

from __future__ import annotations

import numpy as np
import pytest
from sentinel_tools.rreference import (
    R_SETTINGS,
    compare_with_r,
    r_available,
    run_r_farrington,
)
from sentinel_tools.simulate import SCENARIOS, simulate_replicate

from pipeline.detection import farrington_noufaily, farrington_original

AVAILABLE, REASON = r_available()
pytestmark = [pytest.mark.slow, pytest.mark.skipif(not AVAILABLE, reason=REASON)]

ALPHA = 0.005
PY = {"original": farrington_original, "improved": farrington_noufaily}
# One scenario per parameter block, mixing trend and seasonality (ids: see simulate.py).
SCENARIO_IDS = (5, 7, 18, 20, 29, 33, 40)


def _series() -> tuple[list[np.ndarray], list[np.ndarray]]:
    series, evals = [], []
    for i, sid in enumerate(SCENARIO_IDS):
        rep = simulate_replicate(SCENARIOS[sid - 1], replicate=0, seed=424242)
        k = 3 + i  # a current outbreak so that some weeks alarm
        series.append(rep.outbreaks[k][0])
        evals.append(rep.evaluate)
    # Edge cases: sparse counts, and an all-zero history with a late cluster.
    rng = np.random.default_rng(99)
    sparse = rng.poisson(0.3, 340).astype(float)
    sparse[330:333] += [4, 3, 5]
    zeros = np.zeros(300)
    zeros[290:300] = [0, 1, 0, 2, 0, 3, 2, 2, 3, 6]
    series += [sparse, zeros]
    evals += [np.arange(291, 340), np.arange(270, 300)]
    return series, evals


@pytest.mark.parametrize("setting", ["original", "improved"])
def test_python_farrington_matches_r(setting: str) -> None:
    series, evals = _series()
    r = run_r_farrington(series, evals, R_SETTINGS[setting], alpha=ALPHA, processes=2)
    py = [PY[setting](y, evaluate=ev, alpha=ALPHA) for y, ev in zip(series, evals, strict=True)]
    agree = compare_with_r(py, r.results)
    print(f"\n[{setting}] {agree.as_dict()} (R {r.r_seconds:.1f}s)")
    assert agree.weeks == sum(ev.size for ev in evals)
    assert agree.alarm_agreement >= 0.98
    assert agree.upper_missing == 0
    assert agree.max_rel_upper_diff <= 0.01
    assert r.results["alarm"].sum() > 0  # the check is not vacuous


def test_population_offset_matches_r() -> None:
    rng = np.random.default_rng(5)
    pop = np.linspace(2.0e5, 3.5e5, 330) * (1 + 0.05 * np.sin(np.arange(330) / 9))
    y = rng.negative_binomial(pop * 4e-5 / 0.5, 1 / 1.5).astype(float)
    y[320:323] += [12, 15, 9]
    ev = np.arange(300, 330)
    for setting, fn in PY.items():
        r = run_r_farrington(
            [y],
            [ev],
            R_SETTINGS[setting],
            alpha=ALPHA,
            populations=[pop],
            population_offset=True,
        )
        py = [fn(y, evaluate=ev, alpha=ALPHA, denominator=pop, population_offset=True)]
        agree = compare_with_r(py, r.results)
        print(f"\n[{setting}, population offset] {agree.as_dict()}")
        assert agree.alarm_agreement >= 0.98
        assert agree.max_rel_upper_diff <= 0.01
