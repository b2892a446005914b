import numpy as np
import pytest
from sentinel_tools.simulate import (
    N_CURRENT,
    N_WEEKS,
    SCENARIOS,
    baseline_mean,
    simulate_replicate,
)

from pipeline.detection import bh_qvalues, bh_reject


def test_bh_matches_r_p_adjust() -> None:
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), "BH") -> all 0.05
    np.testing.assert_allclose(bh_qvalues([0.01, 0.02, 0.03, 0.04, 0.05]), [0.05] * 5)
    # R: p.adjust(c(0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205), "BH")
    p = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    expect = [0.008, 0.032, 0.0672, 0.0672, 0.0672, 0.08, 0.08457143, 0.205]
    np.testing.assert_allclose(bh_qvalues(p), expect, rtol=1e-6)
    q = bh_qvalues([0.04, np.nan, 0.01])
    assert np.isnan(q[1]) and q[2] == pytest.approx(0.02) and q[0] == pytest.approx(0.04)
    assert bh_reject(p, 0.05).tolist() == [True, True] + [False] * 6
    with pytest.raises(ValueError):
        bh_qvalues([1.5])


def test_simulation_design() -> None:
    assert len(SCENARIOS) == 42 and len({s.id for s in SCENARIOS}) == 42
    s = SCENARIOS[4]  # block 1, trend, annual
    assert (s.block, s.trend, s.m) == (1, True, 2 - 1)
    mu = baseline_mean(s)
    t = 10
    assert mu[t - 1] == pytest.approx(
        np.exp(
            0.1 + 0.0025 * t + 0.6 * np.cos(2 * np.pi * t / 52) + 0.6 * np.sin(2 * np.pi * t / 52)
        )
    )
    a = simulate_replicate(s, 3, seed=1)
    b = simulate_replicate(s, 3, seed=1)
    np.testing.assert_array_equal(a.counts, b.counts)
    assert a.counts.size == N_WEEKS and a.evaluate.size == N_CURRENT
    assert not np.array_equal(a.counts, simulate_replicate(s, 4, seed=1).counts)
    for k, (series, ob) in a.outbreaks.items():
        assert N_WEEKS - N_CURRENT <= ob.start <= ob.end < N_WEEKS
        assert ob.size >= 1 and series.sum() - a.counts.sum() == ob.size
        np.testing.assert_array_equal(series[: ob.start], a.counts[: ob.start])
        assert 1 <= k <= 10


def test_simulated_dispersion_and_outbreak_sizes() -> None:
    s = SCENARIOS[6 * 4 + 0]  # block 5: theta 2.5, phi 3, no trend, no season
    reps = [simulate_replicate(s, r, seed=9) for r in range(40)]
    x = np.concatenate([r.counts[:300] for r in reps])
    mu = np.exp(2.5)
    assert x.mean() == pytest.approx(mu, rel=0.05)
    assert x.var() / x.mean() == pytest.approx(3.0, rel=0.15)
    sizes = np.array([r.outbreaks[10][1].size for r in reps])
    assert sizes.mean() == pytest.approx(10 * np.sqrt(3 * mu), rel=0.1)
