"""Quarterly statistics against references: statsmodels (fast) and R's poisson.test (slow).

Finding (issue 15): the quarterly summary said "+48.4% deaths" (31 -> 46) with no rate, no
interval and no test; with equal exposure that change is not significant."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats import rates as sm_rates

from pipeline.reporting.stats import (
    binomial_two_sided_p,
    change_verdict,
    compare_rates,
    poisson_rate,
)

from .reporting_r import require_r, run_r

GRID = [
    (46, 13.0, 31, 13.0),  # the finding: deaths 31 -> 46 over the same exposure
    (46, 120.5, 31, 100.25),
    (0, 10.0, 5, 12.0),
    (7, 10.0, 0, 12.0),
    (1, 1.0, 1, 1.0),
    (150, 52.0, 90, 52.0),
    (3, 26.0, 12, 13.0),
    (600, 400.0, 540, 396.5),
]


def test_the_deaths_finding_is_no_significant_change() -> None:
    c = compare_rates(46, 13.0, 31, 13.0, per=100)
    assert c.pvalue == pytest.approx(0.1100156, abs=1e-6)
    assert c.rate_ratio == pytest.approx(46 / 31)
    assert c.ratio_low < 1 < c.ratio_high
    assert change_verdict(c, c.pvalue) == "no_change"
    strong = compare_rates(150, 52.0, 90, 52.0)
    assert change_verdict(strong, strong.pvalue) == "rise"
    assert change_verdict(compare_rates(90, 52.0, 150, 52.0), 0.001) == "fall"
    assert change_verdict(compare_rates(3, 10.0, 0, 0.0), None) == "not_comparable"


@pytest.mark.parametrize(("x1", "t1", "x0", "t0"), GRID)
def test_exact_test_matches_statsmodels(x1: int, t1: float, x0: int, t0: float) -> None:
    ours = compare_rates(x1, t1, x0, t0)
    reference = sm_rates.test_poisson_2indep(x1, t1, x0, t0, method="exact-cond")
    assert ours.pvalue == pytest.approx(reference.pvalue, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize(("count", "exposure"), [(0, 3.0), (1, 1.0), (31, 13.0), (600, 400.0)])
def test_rate_interval_matches_statsmodels(count: int, exposure: float) -> None:
    rate, low, high = poisson_rate(count, exposure, per=100)
    ref_low, ref_high = sm_rates.confint_poisson(count, exposure, method="exact-c")
    assert rate == pytest.approx(100 * count / exposure)
    assert low == pytest.approx(100 * ref_low, rel=1e-9, abs=1e-12)
    assert high == pytest.approx(100 * ref_high, rel=1e-9)


@settings(max_examples=60, deadline=None)
@given(
    x=st.integers(0, 80),
    extra=st.integers(0, 80),
    p=st.floats(0.05, 0.95),
)
def test_binomial_p_value_is_a_probability_and_matches_statsmodels(
    x: int, extra: int, p: float
) -> None:
    n = x + extra
    ours = binomial_two_sided_p(x, n, p)
    assert 0.0 <= ours <= 1.0
    if n:
        reference = sm_rates.test_poisson_2indep(x, p, extra, 1 - p, method="exact-cond").pvalue
        assert ours == pytest.approx(reference, rel=1e-7, abs=1e-12)


@pytest.mark.slow
def test_rate_comparison_matches_r_poisson_test(tmp_path) -> None:  # type: ignore[no-untyped-def]
    require_r()
    cases = [g for g in GRID if g[0] + g[2] > 0] + [
        (x1, 10.0, x0, 14.5) for x1, x0 in itertools.product((0, 2, 9, 40), (1, 5, 33))
    ]
    frame = pd.DataFrame(cases, columns=["x1", "t1", "x0", "t0"])
    out = run_r(
        """
d <- read.csv("in.csv")
res <- t(sapply(seq_len(nrow(d)), function(i) {
  r <- poisson.test(c(d$x1[i], d$x0[i]), c(d$t1[i], d$t0[i]))
  one <- poisson.test(d$x1[i], d$t1[i])
  c(r$p.value, r$conf.int[1], r$conf.int[2], r$estimate, one$conf.int[1], one$conf.int[2])
}))
colnames(res) <- c("p", "low", "high", "ratio", "rate_low", "rate_high")
write.csv(format(as.data.frame(res), digits = 15), "out.csv", row.names = FALSE)
""",
        {"in": frame},
        tmp_path,
    )
    for (x1, t1, x0, t0), ref in zip(cases, out.to_dict("records"), strict=True):
        ours = compare_rates(x1, t1, x0, t0)
        assert ours.pvalue == pytest.approx(float(ref["p"]), rel=1e-7, abs=1e-12)
        assert ours.ratio_low == pytest.approx(float(ref["low"]), rel=1e-7, abs=1e-12)
        high = float(ref["high"])
        assert (ours.ratio_high == math.inf and np.isinf(high)) or ours.ratio_high == (
            pytest.approx(high, rel=1e-7)
        )
        if x0 > 0:
            assert ours.rate_ratio == pytest.approx(float(ref["ratio"]), rel=1e-9)
        assert ours.rate_low == pytest.approx(float(ref["rate_low"]), rel=1e-7, abs=1e-12)
        assert ours.rate_high == pytest.approx(float(ref["rate_high"]), rel=1e-7)
