"""Short-history fallback and the ``auto`` method selector.

``short_history``: for series with less than two years of weeks, where Farrington cannot
build reference windows. Rule for week ``t``:

* history = the up to ``max_history`` (52) weeks ending ``guard`` (2) weeks before ``t`` (the
  guard keeps the start of a rising outbreak out of its own baseline, as in EARS C2); at least
  ``min_history`` (8) weeks are required, otherwise the week is not evaluated;
* rate ``r = (sum y + 0.5) / sum n`` over the history (``n`` = denominator when
  ``population_offset``, else 1 per week; the 0.5 is a Jeffreys-style prior count so that an
  all-zero history does not give a zero threshold); the reported ``expected`` is the plain
  ``n_t sum y / sum n``;
* dispersion ``phi = max(1, Pearson chi2 / (weeks - 1))``;
* threshold: the ``1 - alpha`` quantile of the predictive distribution of this week's count,
  a negative binomial with mean ``mu_t = r n_t`` and variance ``phi mu_t (1 + n_t / sum n)``
  (the factor adds the estimation variance of ``r``, which matters with a few weeks);
* alarm when ``observed > upper``, ``observed > 0`` and >= 5 cases in the last 4 weeks.

``auto``: per evaluated week, ``farrington-noufaily`` with b = 5 when five years (+3 weeks)
of history exist, the same settings with ``b`` = the number of whole years (2-4) when two or
more exist, ``short-history`` otherwise - and ``short-history`` also for a week whose
Farrington GLM did not converge. The result carries an extra ``method`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
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
from pipeline.detection.farrington import (
    NOUFAILY,
    farrington_panel_validated,
    nb_quantile,
    nb_sf_ge,
)
from pipeline.detection.series import (
    Panel,
    concat_panels,
    make_panel,
    split_panel,
)

__all__ = [
    "auto",
    "auto_panel",
    "auto_panel_arrays",
    "short_history",
    "short_history_panel_arrays",
]


def _short_history_arrays(
    y: np.ndarray,
    den: np.ndarray | None,
    ev: np.ndarray,
    alpha: float,
    guard: int,
    max_history: int,
    min_history: int,
    population_offset: bool,
    limit54: tuple[int, int] | None,
) -> tuple[np.ndarray, ...]:
    if guard < 0 or min_history < 2 or max_history < min_history:
        raise DetectionInputError("need guard >= 0 and 2 <= min_history <= max_history")
    if population_offset and den is None:
        raise DetectionInputError("population_offset=True needs a denominator")
    n_w = den if population_offset and den is not None else np.ones_like(y)
    hi = ev - guard  # history is [lo, hi)
    lo = np.maximum(hi - max_history, 0)
    ev = ev[(hi - lo) >= min_history]
    hi = ev - guard
    lo = np.maximum(hi - max_history, 0)
    cy = np.concatenate([[0.0], np.cumsum(y)])
    cn = np.concatenate([[0.0], np.cumsum(n_w)])
    cyy = np.concatenate([[0.0], np.cumsum(y * y / n_w)])
    sy, sn, syy = cy[hi] - cy[lo], cn[hi] - cn[lo], cyy[hi] - cyy[lo]
    weeks = hi - lo
    rate = sy / sn
    with np.errstate(divide="ignore", invalid="ignore"):
        # Pearson chi2 = sum (y - r n)^2 / (r n) = sum y^2 / n / r - 2 sum y + r sum n
        chi2 = np.where(rate > 0, syy / rate - 2 * sy + rate * sn, 0.0)
        phi = np.maximum(1.0, chi2 / (weeks - 1))
    mu = (sy + 0.5) / sn * n_w[ev]
    phi_pred = phi * (1.0 + n_w[ev] / sn)  # plug-in variance + variance of the estimated rate
    upper = nb_quantile(1.0 - alpha, mu, phi_pred)
    obs = y[ev]
    pvalue = nb_sf_ge(obs, mu, phi_pred)
    expected = rate * n_w[ev]
    enough = enough_recent_cases(y, ev, limit54)
    alarm = (obs > upper) & (obs > 0) & enough
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


def short_history_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    guard: int = 2,
    max_history: int = 52,
    min_history: int = 8,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
) -> Panel:
    """:func:`short_history` for many series, as a flat :data:`Panel`."""
    alpha = validate_alpha(alpha)
    counts, evs, dens = _prepare(series, evaluate, denominators)
    return concat_panels(
        [
            make_panel(
                i,
                *_short_history_arrays(
                    y, d, ev, alpha, guard, max_history, min_history, population_offset, limit54
                ),
            )
            for i, (y, d, ev) in enumerate(zip(counts, dens, evs, strict=True))
        ]
    )


def short_history(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    guard: int = 2,
    max_history: int = 52,
    min_history: int = 8,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
) -> pd.DataFrame:
    """Short-history fallback (see module docstring): predictive NB threshold from the mean
    and dispersion of up to 52 weeks ending 2 weeks before (>= 8 weeks required);
    ``alpha=0.005``, ``limit54=(5, 4)``."""
    y = as_counts(counts)
    den = as_denominator(denominator, y.size)
    ev = evaluation_indices(evaluate, y.size)
    arrays = _short_history_arrays(
        y,
        den,
        ev,
        validate_alpha(alpha),
        guard,
        max_history,
        min_history,
        population_offset,
        limit54,
    )
    return result_frame(*arrays)


def auto_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    b: int = 5,
    min_years: int = 2,
    population_offset: bool = False,
) -> Panel:
    """:func:`auto` for many series as a flat :data:`Panel` (with a ``method`` array);
    Farrington weeks are fitted in one batch per ``b``."""
    alpha = validate_alpha(alpha)
    if not 2 <= min_years <= b:
        raise DetectionInputError("need 2 <= min_years <= b")
    counts, evs, dens = _prepare(series, evaluate, denominators)
    w = NOUFAILY.w
    years = [np.minimum((ev - w) // WEEKS_PER_YEAR, b) for ev in evs]
    panels: list[Panel] = []
    covered = [np.array([], dtype=np.int64) for _ in counts]
    for bb in range(min_years, b + 1):
        sel = [ev[yr == bb] for ev, yr in zip(evs, years, strict=True)]
        if not any(s.size for s in sel):
            continue
        st = replace(NOUFAILY, b=bb, population_offset=population_offset)
        if population_offset and any(d is None for d in dens):
            raise DetectionInputError("population_offset=True needs a denominator")
        p = farrington_panel_validated(
            counts, sel, dens if population_offset else [None] * len(counts), alpha, st
        )
        fitted = np.isfinite(p["upper"])  # weeks whose GLM failed go to short-history
        p = {k: v[fitted] for k, v in p.items()}
        p["method"] = np.full(p["index"].size, f"farrington-noufaily(b={bb})", dtype=object)
        panels.append(p)
        bounds = np.searchsorted(p["series"], np.arange(len(counts) + 1))
        for i in range(len(counts)):
            covered[i] = np.concatenate([covered[i], p["index"][bounds[i] : bounds[i + 1]]])
    for i, (y, d, ev) in enumerate(zip(counts, dens, evs, strict=True)):
        rest = np.setdiff1d(ev, covered[i], assume_unique=True)
        if rest.size:
            arrays = _short_history_arrays(y, d, rest, alpha, 2, 52, 8, population_offset, (5, 4))
            panels.append(make_panel(i, *arrays, method="short-history"))
    return concat_panels(panels, with_method=True)


def auto_panel(series: Sequence[Any], **kwargs: Any) -> list[pd.DataFrame]:
    """:func:`auto` for many series: one result frame (with ``method``) per series."""
    return split_panel(auto_panel_arrays(series, **kwargs), len(series))


def auto(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    b: int = 5,
    min_years: int = 2,
    population_offset: bool = False,
) -> pd.DataFrame:
    """Pick per week: Noufaily-Farrington (b=5) with >= 5 years + 3 weeks of history, with
    b = whole years (2-4) with >= 2 years, else ``short-history``; ``alpha=0.005``. Extra
    column ``method`` names the detector used for each week."""
    return auto_panel(
        [counts],
        evaluate=[evaluate],
        denominators=None if denominator is None else [denominator],
        alpha=alpha,
        b=b,
        min_years=min_years,
        population_offset=population_offset,
    )[0]
