"""Sustained rises (steps, ramps) in series with short or long histories.

Farrington and the short-history fallback test one week at a time. A product hazard usually
adds a few cases every week from its onset (a step) or more and more (a ramp); each week may
stay under its weekly threshold while two or three weeks together are clearly abnormal. These
detectors test the total of the last ``L`` weeks for every ``L = 1..window``:

* ``short-window`` (history shorter than two years): baseline rate ``r`` and dispersion
  ``phi`` exactly as ``short-history`` (up to ``max_history`` = 52 weeks, at least 8), but the
  history ends before the first week of the window, so no week under test is part of its own
  baseline. The total ``S_L`` of the last ``L`` weeks is compared with the predictive
  distribution of that total: negative binomial with mean ``E_L = r N_L`` (``N_L`` = sum of
  the denominators of those weeks, or ``L``) and variance ``phi E_L (1 + N_L / N_hist)`` - the
  NB sum of ``L`` weekly counts plus the estimation variance of ``r``. ``L = 1`` is the
  short-history test itself (with a history one guard week shorter or longer).
* ``glrnb`` (history of two years or more): the NB window GLR over a Noufaily-Farrington
  baseline (see :mod:`pipeline.detection.glrnb`), with ``b`` = the whole years available
  (2-5), window at most 4.

Both take the Sidak level ``1 - (1 - alpha)^(1/window)`` per window length, so the chance of
a false alarm in a week stays about ``alpha`` (the window totals are positively correlated,
which makes this conservative). Alarm when some ``S_L`` exceeds its threshold, the current
week has a case and the 5-cases rule holds. ``observed``/``expected`` are the current week's
count and baseline, ``upper`` the smallest current count that alarms given the previous weeks
(as glrnb), ``pvalue`` the Sidak-adjusted smallest window p-value.

``auto-rise`` picks per evaluated week as ``auto`` does: glrnb with b = whole years when at
least two years (+3 weeks) exist and its GLM converged, ``short-window`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    WEEKS_PER_YEAR,
    DetectionInputError,
    as_counts,
    as_denominator,
    enough_recent_cases,
    evaluation_indices,
    result_frame,
    severity_score,
    validate_alpha,
)
from pipeline.detection.farrington import NOUFAILY, nb_quantile, nb_sf_ge
from pipeline.detection.glrnb import glrnb_panel_arrays
from pipeline.detection.series import (
    Panel,
    concat_panels,
    make_panel,
    split_panel,
)

__all__ = [
    "DEFAULT_WINDOW",
    "auto_rise",
    "auto_rise_panel_arrays",
    "short_window",
    "short_window_panel_arrays",
]

#: Window totals of 1..4 weeks: a step of a few cases a week is usually clear after 2-3 weeks;
#: 4 is glrnb's maximum (w + 1) and keeps the Sidak price moderate.
DEFAULT_WINDOW = 4


def _short_window_arrays(
    y: np.ndarray,
    den: np.ndarray | None,
    ev: np.ndarray,
    alpha: float,
    window: int,
    max_history: int,
    min_history: int,
    population_offset: bool,
    limit54: tuple[int, int] | None,
) -> tuple[np.ndarray, ...]:
    if window < 1 or min_history < 2 or max_history < min_history:
        raise DetectionInputError("need window >= 1 and 2 <= min_history <= max_history")
    if population_offset and den is None:
        raise DetectionInputError("population_offset=True needs a denominator")
    n_w = den if population_offset and den is not None else np.ones_like(y)
    hi = ev - window + 1  # history [lo, hi) ends before the window's first week
    lo = np.maximum(hi - max_history, 0)
    ev = ev[(hi - lo) >= min_history]
    hi = ev - window + 1
    lo = np.maximum(hi - max_history, 0)
    cy = np.concatenate([[0.0], np.cumsum(y)])
    cn = np.concatenate([[0.0], np.cumsum(n_w)])
    cyy = np.concatenate([[0.0], np.cumsum(y * y / n_w)])
    sy, sn, syy = cy[hi] - cy[lo], cn[hi] - cn[lo], cyy[hi] - cyy[lo]
    rate = sy / sn
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.where(rate > 0, syy / rate - 2 * sy + rate * sn, 0.0)
        phi = np.maximum(1.0, chi2 / (hi - lo - 1))
    prior_rate = (sy + 0.5) / sn  # the 0.5 keeps an all-zero history from a zero threshold
    lengths = np.arange(1, window + 1)
    # Window totals of the last L weeks (column L-1) and their denominators.
    S = cy[ev + 1][:, None] - cy[ev[:, None] + 1 - lengths[None, :]]
    N = cn[ev + 1][:, None] - cn[ev[:, None] + 1 - lengths[None, :]]
    E = prior_rate[:, None] * N
    phis = phi[:, None] * (1.0 + N / sn[:, None])
    a_adj = 1.0 - (1.0 - alpha) ** (1.0 / window)
    crit = nb_quantile(1.0 - a_adj, E, phis)
    p_win = nb_sf_ge(S, E, phis)
    obs = y[ev]
    upper = np.maximum(np.min(crit - (S - obs[:, None]), axis=1), 0.0)
    enough = enough_recent_cases(y, ev, limit54)
    alarm = np.any(crit < S, axis=1) & (obs > 0) & enough
    pvalue = 1.0 - (1.0 - np.min(p_win, axis=1)) ** window
    expected = rate * n_w[ev]
    return ev, obs, expected, upper, severity_score(obs, expected, upper), alarm, pvalue


def _prepare(
    series: Sequence[Any], evaluate: Sequence[Any] | None, denominators: Sequence[Any] | None
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray | None]]:
    counts = [as_counts(c) for c in series]
    evs = [
        evaluation_indices(None if evaluate is None else evaluate[i], len(c))
        for i, c in enumerate(counts)
    ]
    dens = (
        [None] * len(counts)
        if denominators is None
        else [as_denominator(d, len(c)) for d, c in zip(denominators, counts, strict=True)]
    )
    return counts, evs, dens


def short_window_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = DEFAULT_WINDOW,
    max_history: int = 52,
    min_history: int = 8,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
) -> Panel:
    """:func:`short_window` for many series, as a flat :data:`Panel`."""
    alpha = validate_alpha(alpha)
    counts, evs, dens = _prepare(series, evaluate, denominators)
    return concat_panels(
        [
            make_panel(
                i,
                *_short_window_arrays(
                    y, d, ev, alpha, window, max_history, min_history, population_offset, limit54
                ),
            )
            for i, (y, d, ev) in enumerate(zip(counts, dens, evs, strict=True))
        ]
    )


def short_window(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = DEFAULT_WINDOW,
    max_history: int = 52,
    min_history: int = 8,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
) -> pd.DataFrame:
    """Totals of the last 1..``window`` (4) weeks against a predictive NB from up to 52 weeks
    before the window (>= 8 needed); Sidak over window lengths; ``alpha=0.005``,
    ``limit54=(5, 4)``."""
    y = as_counts(counts)
    arrays = _short_window_arrays(
        y,
        as_denominator(denominator, y.size),
        evaluation_indices(evaluate, y.size),
        validate_alpha(alpha),
        window,
        max_history,
        min_history,
        population_offset,
        limit54,
    )
    return result_frame(*arrays)


def auto_rise_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = DEFAULT_WINDOW,
    b: int = 5,
    min_years: int = 2,
    population_offset: bool = False,
) -> Panel:
    """:func:`auto_rise` for many series as a flat :data:`Panel` (with a ``method`` array)."""
    alpha = validate_alpha(alpha)
    if not 2 <= min_years <= b:
        raise DetectionInputError("need 2 <= min_years <= b")
    if not 1 <= window <= NOUFAILY.w + 1:
        raise DetectionInputError(f"window must be between 1 and {NOUFAILY.w + 1} weeks")
    counts, evs, dens = _prepare(series, evaluate, denominators)
    if population_offset and any(d is None for d in dens):
        raise DetectionInputError("population_offset=True needs a denominator")
    years = [np.minimum((ev - NOUFAILY.w) // WEEKS_PER_YEAR, b) for ev in evs]
    panels: list[Panel] = []
    covered = [np.array([], dtype=np.int64) for _ in counts]
    for bb in range(min_years, b + 1):
        sel = [ev[yr == bb] for ev, yr in zip(evs, years, strict=True)]
        if not any(s.size for s in sel):
            continue
        p = glrnb_panel_arrays(
            counts,
            evaluate=sel,
            denominators=dens if population_offset else None,
            alpha=alpha,
            window=window,
            b=bb,
            population_offset=population_offset,
        )
        fitted = np.isfinite(p["upper"])  # weeks whose GLM failed go to short-window
        p = {k: v[fitted] for k, v in p.items()}
        p["method"] = np.full(p["index"].size, f"glrnb(b={bb})", dtype=object)
        panels.append(p)
        bounds = np.searchsorted(p["series"], np.arange(len(counts) + 1))
        for i in range(len(counts)):
            covered[i] = np.concatenate([covered[i], p["index"][bounds[i] : bounds[i + 1]]])
    for i, (y, d, ev) in enumerate(zip(counts, dens, evs, strict=True)):
        rest = np.setdiff1d(ev, covered[i], assume_unique=True)
        if rest.size:
            arrays = _short_window_arrays(
                y, d, rest, alpha, window, 52, 8, population_offset, (5, 4)
            )
            panels.append(make_panel(i, *arrays, method="short-window"))
    return concat_panels(panels, with_method=True)


def auto_rise(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = DEFAULT_WINDOW,
    b: int = 5,
    min_years: int = 2,
    population_offset: bool = False,
) -> pd.DataFrame:
    """Per week: glrnb (b = whole years, 2-5) with >= 2 years + 3 weeks of history, else
    ``short-window``; window totals of 1..``window`` (4) weeks; ``alpha=0.005``. Extra column
    ``method`` names the detector used for each week."""
    return split_panel(
        auto_rise_panel_arrays(
            [counts],
            evaluate=[evaluate],
            denominators=None if denominator is None else [denominator],
            alpha=alpha,
            window=window,
            b=b,
            min_years=min_years,
            population_offset=population_offset,
        ),
        1,
    )[0]
