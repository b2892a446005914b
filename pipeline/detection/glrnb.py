"""Negative-binomial window GLR for sustained rises (``glrnb``).

Farrington-type detectors test one week at a time; an outbreak spread over several weeks (the
usual shape: half the cases in the first week, the rest in the next one or two) may stay under
every weekly threshold while its total is clearly abnormal. This chart asks whether the mean
rose by an unknown factor ``e^kappa >= 1`` at an unknown change point within the last
``window`` weeks (default 2, at most 4), like R ``surveillance::glrnb`` (generalized likelihood
ratio, change in the intercept, ``dir = "inc"``), but evaluated week by week without chart
state, so every week's result depends only on the data up to that week:

* Baseline ``mu_t``: the Noufaily-fitted Farrington GLM (b=5 years, w=3, 10 seasonal periods,
  reweighting at 2.58, last 26 weeks excluded, trend kept unless it would extrapolate) - the
  same fit as ``farrington-noufaily`` - predicted for each week of the window, with its
  dispersion ``phi`` and the standard error ``se`` of the fitted log-mean.
* For each change point (1..window weeks back) the quasi-Poisson GLR statistic for a step
  increase, ``(S log(S/E) - (S - E)) / phi`` (``S`` = observed and ``E`` = baseline total since
  the change point), is increasing in ``S``, so it is calibrated by the distribution of ``S``
  under the baseline: negative binomial with mean ``E`` and variance ``(phi + E se^2) E`` - the
  NB sum of the weekly counts plus the uncertainty of the fitted level (the predictive
  distribution; without the second term false alarms run above ``alpha``).
* Alarm when some change point is significant at the Sidak level
  ``1 - (1 - alpha)^(1/window)`` (so at most about ``alpha`` false alarms per week), the current
  week has at least one case and the ``limit54`` rule (>= 5 cases in the last 4 weeks) holds.

``upper`` is the smallest current-week count that triggers the alarm given the previous weeks,
``pvalue`` the Sidak-adjusted smallest change-point p-value, ``expected`` the current week's
baseline. Differences from R's glrnb: the threshold comes from ``alpha`` (no ARL-calibrated
``c.ARL``), no restart after an alarm, and a Farrington baseline refitted every week instead of
a harmonic GLM fitted once. Window 2 was chosen on the Noufaily benchmark (see
docs/detection.md): longer windows lose more to the Sidak correction than they gain there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    DetectionInputError,
    as_counts,
    as_denominator,
    enough_recent_cases,
    evaluation_indices,
    severity_score,
    validate_alpha,
)
from pipeline.detection.farrington import NOUFAILY, farrington_windows, nb_quantile, nb_sf_ge
from pipeline.detection.series import (
    Panel,
    concat_panels,
    make_panel,
    split_panel,
)

__all__ = ["glrnb", "glrnb_panel", "glrnb_panel_arrays"]


def glrnb_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = 2,
    b: int = 5,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
    predictive: bool = True,
) -> Panel:
    """:func:`glrnb` for many series (one batched baseline fit), as a flat :data:`Panel`."""
    alpha = validate_alpha(alpha)
    # Textbook prediction SE (R's weights quirk only changes the SE under these settings).
    st = replace(NOUFAILY, b=b, population_offset=population_offset, r_weights_quirk=False)
    if not 1 <= window <= st.w + 1:
        raise DetectionInputError(f"window must be between 1 and {st.w + 1} weeks")
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
    kept, res = farrington_windows(counts, evs, dens, st, alpha)
    a_adj = 1.0 - (1.0 - alpha) ** (1.0 / window)
    lags = np.arange(window)
    sizes = [k.size for k in kept]
    if sum(sizes) == 0:
        return concat_panels([])
    owners = np.repeat(np.arange(len(kept)), sizes)
    k = np.concatenate(kept)
    # Counts of weeks k - j (column j) and the 5-cases rule, gathered series by series.
    obs = np.concatenate(
        [y[kk[:, None] - lags[None, :]] for y, kk in zip(counts, kept, strict=True)]
    )
    enough = np.concatenate(
        [enough_recent_cases(y, kk, limit54) for y, kk in zip(counts, kept, strict=True)]
    )
    eta, slope, phi, ok, se = (res[c] for c in ("eta", "slope", "phi", "ok", "se"))
    # Baseline of week k - j: same seasonal block, trend extrapolated back j weeks.
    log_mu = eta[:, None] - slope[:, None] * lags[None, :]
    if population_offset:
        logd = np.concatenate(
            [
                np.log(d[kk[:, None] - lags[None, :]]) - np.log(d[kk])[:, None]  # type: ignore[index]
                for d, kk in zip(dens, kept, strict=True)
            ]
        )
        log_mu = log_mu + logd
    with np.errstate(over="ignore"):
        mu = np.exp(log_mu)
    S = np.cumsum(obs, axis=1)  # S[:, L-1] = total of the last L weeks
    E = np.cumsum(mu, axis=1)
    if predictive:
        # Var(S) = phi E + Var(E_hat); the window weeks share the fitted level, so
        # Var(E_hat) ~ (E se_link)^2: an NB with dispersion phi + E se_link^2.
        phis = phi[:, None] + E * (se[:, None] ** 2)
    else:
        phis = np.broadcast_to(phi[:, None], E.shape)
    crit = nb_quantile(1.0 - a_adj, E, phis)
    p_cp = nb_sf_ge(S, E, phis)
    y_now = obs[:, 0]
    with np.errstate(invalid="ignore"):
        upper = np.maximum(np.min(crit - (S - y_now[:, None]), axis=1), 0.0)
        alarm = ok & np.any(crit < S, axis=1) & (y_now > 0) & enough
    pvalue = 1.0 - (1.0 - np.min(p_cp, axis=1)) ** window
    expected = np.where(ok, mu[:, 0], np.nan)
    upper = np.where(ok, upper, np.nan)
    pvalue = np.where(ok, pvalue, np.nan)
    score = severity_score(y_now, expected, upper)
    return make_panel(owners, k, y_now, expected, upper, score, alarm, pvalue)


def glrnb_panel(series: Sequence[Any], **kwargs: Any) -> list[pd.DataFrame]:
    """:func:`glrnb` for many series: one result frame per series."""
    return split_panel(glrnb_panel_arrays(series, **kwargs), len(series))


def glrnb(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    window: int = 2,
    b: int = 5,
    population_offset: bool = False,
    limit54: tuple[int, int] | None = (5, 4),
    predictive: bool = True,
) -> pd.DataFrame:
    """NB window GLR: step increase starting within the last ``window`` (2, max 4) weeks
    over a Noufaily-Farrington baseline (``b=5`` years), predictive NB calibration
    (``predictive=True``); ``alpha=0.005`` per week (Sidak over change points);
    ``limit54=(5, 4)``. Needs ``52 b + 3`` weeks of history."""
    return glrnb_panel(
        [counts],
        evaluate=[evaluate],
        denominators=None if denominator is None else [denominator],
        alpha=alpha,
        window=window,
        b=b,
        population_offset=population_offset,
        limit54=limit54,
        predictive=predictive,
    )[0]
