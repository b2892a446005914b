"""CDC EARS C1, C2 and C3 (Hutwagner et al. 2003; R ``surveillance::earsC``).

For short histories: the baseline is the mean ``m`` and standard deviation ``s`` (n - 1
denominator) of 7 weeks.

* C1: baseline weeks ``t-7 .. t-1``; statistic ``C1 = (y_t - m) / s``.
* C2: baseline weeks ``t-9 .. t-3`` (two guard weeks); ``C2 = (y_t - m) / s``.
* C3: ``C3_t = sum over i in {t-2, t-1, t} of max(0, C2_i - 1)`` (CDC definition: the positive
  standardized excesses of the current and two previous weeks).

Thresholds: C1/C2 alarm when ``C > z_{1-alpha}`` i.e. ``y_t > m + z s``; C3 alarms when
``C3 > z_{1-alpha} - 1`` (so with quiet previous weeks C3 alarms exactly when C2 does; at
alpha = 0.00135 this is CDC's classical 3 sd for C1/C2 and 2 for C3). ``s`` is floored at
``min_sigma`` (default 1 case): sparse weekly counts often have a 7-week sd of 0, which would
turn a single case into an infinite excess.

Scores are ``C / z`` (C1, C2) and ``C3 / (z - 1)`` (C3), so ``score > 1`` means alarm.
``pvalue`` is the normal tail ``1 - Phi(C)`` for C1/C2 (the approximation the threshold uses)
and NaN for C3. Note: surveillance 1.20.3's ``earsC(method = "C3")`` computes its upper bound
from the two previous weeks only, so its C3 alarms differ from this CDC definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import stats

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    DetectionInputError,
    as_counts,
    as_denominator,
    evaluation_indices,
    result_frame,
    validate_alpha,
)
from pipeline.detection.series import (
    Panel,
    concat_panels,
    make_panel,
)

__all__ = ["ears_c1", "ears_c2", "ears_c3", "ears_panel_arrays", "ears_stats"]


def ears_stats(
    counts: np.ndarray, baseline: int = 7, lag: int = 1, min_sigma: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean, sd (floored) and standardized statistic for every week (NaN without history).

    ``lag`` is the distance from the current week to the most recent baseline week (1 for C1,
    3 for C2).
    """
    y = np.asarray(counts, dtype=float)
    n = y.size
    m = np.full(n, np.nan)
    s = np.full(n, np.nan)
    first = baseline + lag - 1  # first week with a full baseline
    if n > first:
        win = sliding_window_view(y, baseline)  # win[j] = y[j : j + baseline]
        stop = n - lag - baseline + 1
        m[first:] = win[:stop].mean(axis=1)
        s[first:] = win[:stop].std(axis=1, ddof=1)
    s = np.maximum(s, min_sigma)
    with np.errstate(invalid="ignore"):
        c = (y - m) / s
    return m, s, c


def _c12_arrays(
    y: np.ndarray, ev: np.ndarray, alpha: float, baseline: int, min_sigma: float, lag: int
) -> tuple[np.ndarray, ...]:
    if baseline < 3:
        raise DetectionInputError("EARS baseline must be >= 3 weeks")
    m, s, c = ears_stats(y, baseline, lag, min_sigma)
    ev = ev[ev >= baseline + lag - 1]
    z = stats.norm.ppf(1.0 - alpha)
    upper = m[ev] + z * s[ev]
    return ev, y[ev], m[ev], upper, c[ev] / z, y[ev] > upper, stats.norm.sf(c[ev])


def _c3_arrays(
    y: np.ndarray,
    ev: np.ndarray,
    alpha: float,
    baseline: int,
    min_sigma: float,
    threshold: float | None,
) -> tuple[np.ndarray, ...]:
    if baseline < 3:
        raise DetectionInputError("EARS baseline must be >= 3 weeks")
    m, s, c2 = ears_stats(y, baseline, 3, min_sigma)
    h = stats.norm.ppf(1.0 - alpha) - 1.0 if threshold is None else float(threshold)
    if h <= 0:
        raise DetectionInputError("C3 threshold must be > 0")
    ev = ev[ev >= baseline + 4]
    excess = np.maximum(c2 - 1.0, 0.0)
    lagsum = excess[ev - 1] + excess[ev - 2]
    c3 = excess[ev] + lagsum
    upper = np.where(lagsum <= h, m[ev] + s[ev] * (1.0 + h - lagsum), 0.0)
    return ev, y[ev], m[ev], upper, c3 / h, c3 > h, np.full(ev.size, np.nan)


def _one(
    counts: Any, denominator: Any, evaluate: Any, alpha: float
) -> tuple[np.ndarray, np.ndarray, float]:
    y = as_counts(counts)
    as_denominator(denominator, y.size)  # accepted for interface uniformity, not used
    return y, evaluation_indices(evaluate, y.size), validate_alpha(alpha)


def ears_panel_arrays(
    variant: str,
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    baseline: int = 7,
    min_sigma: float = 1.0,
    threshold: float | None = None,
) -> Panel:
    """EARS ``variant`` ("c1", "c2", "c3") on many series, as a flat :data:`Panel`."""
    panels = []
    for i, counts in enumerate(series):
        y, ev, a = _one(
            counts,
            None if denominators is None else denominators[i],
            None if evaluate is None else evaluate[i],
            alpha,
        )
        if variant == "c3":
            arrays = _c3_arrays(y, ev, a, baseline, min_sigma, threshold)
        elif variant in ("c1", "c2"):
            if threshold is not None:
                raise DetectionInputError("threshold applies to ears-c3 only")
            arrays = _c12_arrays(y, ev, a, baseline, min_sigma, 1 if variant == "c1" else 3)
        else:
            raise DetectionInputError(f"unknown EARS variant {variant!r}")
        panels.append(make_panel(i, *arrays))
    return concat_panels(panels)


def ears_c1(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    baseline: int = 7,
    min_sigma: float = 1.0,
) -> pd.DataFrame:
    """EARS C1: baseline = the 7 weeks before the current one; ``alpha=0.005``,
    ``min_sigma=1``. Needs ``baseline`` weeks of history. ``denominator`` is ignored."""
    y, ev, a = _one(counts, denominator, evaluate, alpha)
    return result_frame(*_c12_arrays(y, ev, a, baseline, min_sigma, 1))


def ears_c2(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    baseline: int = 7,
    min_sigma: float = 1.0,
) -> pd.DataFrame:
    """EARS C2: baseline = weeks ``t-9 .. t-3`` (2 guard weeks); ``alpha=0.005``,
    ``min_sigma=1``. Needs ``baseline + 2`` weeks of history. ``denominator`` is ignored."""
    y, ev, a = _one(counts, denominator, evaluate, alpha)
    return result_frame(*_c12_arrays(y, ev, a, baseline, min_sigma, 3))


def ears_c3(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    baseline: int = 7,
    min_sigma: float = 1.0,
    threshold: float | None = None,
) -> pd.DataFrame:
    """EARS C3 (CDC): sum of ``max(0, C2 - 1)`` over the current and two previous weeks.

    Alarm when ``C3 > threshold`` (default ``z_{1-alpha} - 1``, 1.58 at ``alpha=0.005``).
    ``upper`` is the current-week count at which C3 reaches the threshold given the two
    previous weeks (0 when those alone already exceed it, in which case the alarm is raised
    whatever this week's count). Needs ``baseline + 4`` weeks of history.
    """
    y, ev, a = _one(counts, denominator, evaluate, alpha)
    return result_frame(*_c3_arrays(y, ev, a, baseline, min_sigma, threshold))
