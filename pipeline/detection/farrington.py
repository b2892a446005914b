"""Farrington flexible (R ``surveillance::farringtonFlexible``), reproduced in Python.

Ported from the R source of surveillance 1.20.3 (``farringtonFlexible``,
``algo.farrington.data.glm``, ``blocks``, ``algo.farrington.glm``,
``algo.farrington.fitGLM.flexible``, ``algo.farrington.assign.weights``,
``anscombe.residuals``, ``algo.farrington.threshold.farrington`` and
``algo.farrington.threshold.noufaily``), for a numeric weekly epoch (one year = 52 weeks).
For each evaluated week ``k``:

1. Reference data: the ``2w+1``-week windows centred ``52, 104, ..., 52b`` weeks back; with
   ``no_periods > 1`` also the weeks between the windows, cut into ``no_periods - 1`` seasonal
   blocks (a factor in the GLM). The last ``past_weeks_not_included`` weeks and week ``k`` are
   dropped.
2. Quasi-Poisson GLM ``count ~ 1 [+ t] [+ block] [+ offset(log population)]``; if it does not
   converge with the trend, without; if that fails too the week gets no result.
3. Reweighting: Anscombe residuals ``s`` of the first fit; weights ``s^-2`` for
   ``s > weights_threshold`` (1 otherwise), scaled by a common factor so they sum to the
   number of reference weeks; refit with them.
   Dispersion ``phi = max(1, Pearson dispersion)``.
4. The trend is kept only if its p-value is ``< p_threshold_trend``, ``b >= 3`` and the
   prediction does not exceed the largest reference count; otherwise steps 2-3 are redone
   without it.
5. Threshold: ``delta`` - 2/3-power transformed normal prediction interval (Farrington 1996);
   ``nbPlugin`` - ``(1 - alpha)`` quantile of a negative binomial with mean ``exp(eta)`` and
   variance ``phi * mean`` (Noufaily 2013); ``muan`` - the same with the mean replaced by its
   upper ``(1 - alpha)`` confidence limit.
6. Alarm when ``observed > upper``, ``observed > 0`` and at least ``limit54[0]`` cases fell in
   the last ``limit54[1]`` weeks (R's ``limit54``, default (5, 4), used by both settings).

Deliberate differences from R (documented in docs/detection.md): ``expected``/``upper`` are
reported even when the ``limit54`` rule suppresses the alarm (R reports NA), and ``score`` is
:func:`~pipeline.detection.base.severity_score` on the count scale (R's nbPlugin score mixes
the link and count scales). Alarms and upper bounds are R's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    WEEKS_PER_YEAR,
    DetectionInputError,
    as_counts,
    as_denominator,
    enough_recent_cases,
    evaluation_indices,
    severity_score,
    validate_alpha,
)
from pipeline.detection.glm import BatchGLMFit, fit_quasipoisson_batch
from pipeline.detection.series import (
    Panel,
    concat_panels,
    make_panel,
    split_panel,
)

__all__ = [
    "NOUFAILY",
    "ORIGINAL",
    "FarringtonSettings",
    "farrington_flexible",
    "farrington_noufaily",
    "farrington_original",
    "farrington_panel",
    "farrington_panel_arrays",
    "min_history_weeks",
]

# Problems fitted per batch: bounds memory (B x n x p floats) while keeping numpy calls large.
_CHUNK = 4096


@dataclass(frozen=True)
class FarringtonSettings:
    """Control parameters, named after R's ``farringtonFlexible(control = list(...))``."""

    b: int = 5  # years back
    w: int = 3  # half-width of the reference windows
    reweight: bool = True
    weights_threshold: float = 2.58
    trend: bool = True
    p_threshold_trend: float = 0.05
    limit54: tuple[int, int] | None = (5, 4)
    powertrans: str = "2/3"  # delta method only: "2/3", "1/2" or "none"
    population_offset: bool = False
    no_periods: int = 1
    past_weeks_not_included: int | None = None  # None = w, as in R
    threshold_method: str = "delta"  # "delta", "nbPlugin" or "muan"
    # Reproduce R's use of the reweighting weights as IRLS weights in summary()/predict() (see
    # _fit_path). False gives the textbook dispersion for the trend test and prediction SE.
    r_weights_quirk: bool = True

    def validated(self) -> FarringtonSettings:
        if self.b < 1 or self.w < 0:
            raise DetectionInputError("need b >= 1 and w >= 0")
        if self.no_periods < 1:
            raise DetectionInputError("no_periods must be >= 1")
        if self.threshold_method not in ("delta", "nbPlugin", "muan"):
            raise DetectionInputError(f"unknown threshold_method {self.threshold_method!r}")
        if self.powertrans not in ("2/3", "1/2", "none"):
            raise DetectionInputError(f"unknown powertrans {self.powertrans!r}")
        gap = WEEKS_PER_YEAR - 2 * self.w - 1
        if self.no_periods > 1 and self.no_periods - 1 > gap:
            raise DetectionInputError(f"no_periods - 1 must be <= {gap} for w={self.w}")
        return self

    @property
    def pwni(self) -> int:
        return self.w if self.past_weeks_not_included is None else self.past_weeks_not_included


#: Farrington et al. (1996) as configured in the brief / Noufaily et al. (2013) comparison.
ORIGINAL = FarringtonSettings(
    b=5,
    w=3,
    weights_threshold=1.0,
    trend=True,
    p_threshold_trend=0.05,
    no_periods=1,
    past_weeks_not_included=3,
    threshold_method="delta",
    powertrans="2/3",
)

#: Noufaily et al. (2013) improved settings; "trend always kept" is R's pThresholdTrend = 1.
NOUFAILY = FarringtonSettings(
    b=5,
    w=3,
    weights_threshold=2.58,
    trend=True,
    p_threshold_trend=1.0,
    no_periods=10,
    past_weeks_not_included=26,
    threshold_method="nbPlugin",
)


def min_history_weeks(settings: FarringtonSettings) -> int:
    """Weeks of history needed before an evaluated week: ``52 b + w``."""
    return WEEKS_PER_YEAR * settings.b + settings.w


@dataclass(frozen=True)
class _Layout:
    L: int  # window length: 52 b + w + 1, the evaluated week is the last one
    rows: np.ndarray  # window positions used in the GLM
    X_trend: np.ndarray
    X_flat: np.ndarray
    x0_trend: np.ndarray
    x0_flat: np.ndarray


@lru_cache(maxsize=64)
def _layout(b: int, w: int, p: int, pwni: int) -> _Layout:
    """Design matrices for one evaluated week, relative to it (same for every week)."""
    L = WEEKS_PER_YEAR * b + w + 1
    now = L - 1  # 0-based position of the evaluated week
    f = np.full(L, np.nan)
    f[now - w : now + 1] = p
    for i in range(1, b + 1):
        ref = now - WEEKS_PER_YEAR * i
        f[ref - w : ref + w + 1] = p
        if p != 1:
            # R blocks(): the weeks between this window and the next are split into p - 1
            # blocks, the first `rest` of them one week longer.
            period = WEEKS_PER_YEAR - 2 * w - 1
            lengths = np.full(p - 1, period // (p - 1))
            lengths[: period % (p - 1)] += 1
            starts = ref + w + 1 + np.concatenate([[0], np.cumsum(lengths)])
            for j in range(1, p):
                f[starts[j - 1] : starts[j]] = j
    f[max(now - pwni, 0) : now + 1] = np.nan
    rows = np.flatnonzero(~np.isnan(f))
    levels = f[rows].astype(int)
    # wtime in years relative to the evaluated week: predictions are invariant to this affine
    # reparametrisation of R's 1-based week index, and the normal equations are better scaled.
    wtime = (rows - now) / WEEKS_PER_YEAR
    cols_flat = [np.ones(rows.size)]
    x0_flat = [1.0]
    if p != 1:
        present = np.unique(levels)
        for lev in present[1:]:  # treatment contrasts, first level as reference (R default)
            cols_flat.append((levels == lev).astype(float))
            x0_flat.append(1.0 if lev == p else 0.0)
    X_flat = np.column_stack(cols_flat)
    X_trend = np.column_stack([cols_flat[0], wtime, *cols_flat[1:]])
    x0f = np.array(x0_flat)
    x0t = np.concatenate([[1.0, 0.0], x0f[1:]])
    return _Layout(L, rows, X_trend, X_flat, x0t, x0f)


def _anscombe_weights(
    fit: BatchGLMFit, X: np.ndarray, y: np.ndarray, threshold: float
) -> np.ndarray:
    """Farrington reweighting: Anscombe residuals of ``fit`` -> prior weights of the refit."""
    phi = np.maximum(fit.dispersion, 1.0)[:, None]
    h = fit.hat_values(X)
    mu = fit.mu
    with np.errstate(divide="ignore", invalid="ignore"):
        s = 1.5 * (y ** (2.0 / 3.0) * mu ** (-1.0 / 6.0) - np.sqrt(mu))
        s = s / np.sqrt(phi * (1.0 - h))
        big = s > threshold
        inv2 = np.where(big, s**-2.0, 1.0)
        gamma = y.shape[1] / inv2.sum(axis=1, keepdims=True)
        return np.where(big, gamma * s**-2.0, gamma)


def _fit_path(
    X: np.ndarray, y: np.ndarray, off: np.ndarray, st: FarringtonSettings
) -> tuple[np.ndarray, BatchGLMFit, np.ndarray]:
    """``algo.farrington.fitGLM.flexible`` for one formula: fit, then reweight and refit."""
    first = fit_quasipoisson_batch(X, y, offset=off)
    if not st.reweight:
        return first.converged, first, first.dispersion
    omega = _anscombe_weights(first, X, y, st.weights_threshold)
    # R does not check convergence of the reweighted fit, only of the first one.
    second = fit_quasipoisson_batch(X, y, prior_weights=omega, offset=off)
    if st.r_weights_quirk:
        # fitGLM.flexible overwrites model$weights (IRLS working weights w * mu) with the prior
        # weights omega, so the later summary.glm()/predict.glm() calls compute the dispersion
        # as sum(omega * ((y - mu) / mu)^2) / df - about phi / mean. It drives the trend test
        # and the prediction standard error; phi itself is computed before the overwrite.
        with np.errstate(divide="ignore", invalid="ignore"):
            r2 = np.where(omega > 0, omega * ((y - second.mu) / second.mu) ** 2, 0.0)
            disp_inf = r2.sum(axis=1) / np.maximum(second.df_residual, 1)
    else:
        disp_inf = second.dispersion
    return first.converged, second, disp_inf


def _core(
    Y: np.ndarray, P: np.ndarray | None, st: FarringtonSettings, alpha: float
) -> dict[str, np.ndarray]:
    """Farrington for ``B`` windows ``Y`` (B, L) whose last column is the evaluated week."""
    lay = _layout(st.b, st.w, st.no_periods, st.pwni)
    B = Y.shape[0]
    y = Y[:, lay.rows]
    if st.population_offset:
        if P is None:
            raise DetectionInputError("population_offset=True needs a denominator")
        logP = np.log(P)
        off, off0 = logP[:, lay.rows], logP[:, -1]
    else:
        off, off0 = np.zeros_like(y), np.zeros(B)

    eta = np.full(B, np.nan)
    se = np.full(B, np.nan)
    phi = np.full(B, np.nan)
    slope = np.zeros(B)  # trend per week on the log scale (0 without trend)
    ok = np.zeros(B, dtype=bool)
    do_trend = np.zeros(B, dtype=bool)

    need_flat = np.ones(B, dtype=bool)
    if st.trend:
        conv, fitT, dispT = _fit_path(lay.X_trend, y, off, st)
        e, s = fitT.predict_link(lay.x0_trend, off0, dispersion=dispT)
        with np.errstate(divide="ignore", invalid="ignore"):
            se_b = np.sqrt(fitT.cov_unscaled[:, 1, 1] * dispT)
            tval = fitT.coef[:, 1] / se_b
        pval = 2.0 * stats.t.sf(np.abs(tval), np.maximum(fitT.df_residual, 1))
        with np.errstate(over="ignore"):
            fit_resp = np.exp(e)
        do_trend = conv & (pval < st.p_threshold_trend) & (st.b >= 3) & (fit_resp <= y.max(axis=1))
        eta[do_trend], se[do_trend] = e[do_trend], s[do_trend]
        phi[do_trend] = np.maximum(fitT.dispersion[do_trend], 1.0)
        slope[do_trend] = fitT.coef[do_trend, 1] / WEEKS_PER_YEAR
        ok |= do_trend
        need_flat = ~do_trend
    idx = np.flatnonzero(need_flat)
    if idx.size:
        conv, fitN, dispN = _fit_path(lay.X_flat, y[idx], off[idx], st)
        e, s = fitN.predict_link(lay.x0_flat, off0[idx], dispersion=dispN)
        good = idx[conv]
        eta[good], se[good] = e[conv], s[conv]
        phi[good] = np.maximum(fitN.dispersion[conv], 1.0)
        ok[good] = True

    obs = Y[:, -1]
    upper, pvalue, expected = _threshold(eta, se, phi, obs, st, alpha)
    ok &= np.isfinite(upper)
    return {
        "eta": eta,
        "se": se,
        "phi": phi,
        "slope": slope,
        "do_trend": do_trend & ok,
        "ok": ok,
        "expected": np.where(ok, expected, np.nan),
        "upper": np.where(ok, upper, np.nan),
        "pvalue": np.where(ok, pvalue, np.nan),
    }


def nb_quantile(q: float, mean: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``q`` quantile of the count distribution with mean ``mean`` and variance ``phi * mean``:
    negative binomial (size ``mean / (phi - 1)``, prob ``1 / phi``) if ``phi > 1``, else Poisson
    (as ``algo.farrington.threshold.noufaily``)."""
    mean = np.asarray(mean, dtype=float)
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mean.shape)
    out = np.full(mean.shape, np.nan)
    valid = np.isfinite(mean) & np.isfinite(phi) & (mean >= 0)
    nb = valid & (phi > 1)
    po = valid & ~nb
    if nb.any():
        out[nb] = stats.nbinom.ppf(q, mean[nb] / (phi[nb] - 1.0), 1.0 / phi[nb])
    if po.any():
        out[po] = stats.poisson.ppf(q, mean[po])
    return out


def nb_sf_ge(y: np.ndarray, mean: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """``P(Y >= y)`` for the distribution of :func:`nb_quantile` (R: NB unless phi == 1)."""
    y = np.asarray(y, dtype=float)
    mean = np.asarray(mean, dtype=float)
    phi = np.broadcast_to(np.asarray(phi, dtype=float), mean.shape)
    out = np.full(mean.shape, np.nan)
    valid = np.isfinite(mean) & np.isfinite(phi) & (mean >= 0)
    nb = valid & (phi != 1)
    po = valid & ~nb
    if nb.any():
        out[nb] = stats.nbinom.sf(y[nb] - 1, mean[nb] / (phi[nb] - 1.0), 1.0 / phi[nb])
    if po.any():
        out[po] = stats.poisson.sf(y[po] - 1, mean[po])
    return out


def _threshold(
    eta: np.ndarray,
    se_link: np.ndarray,
    phi: np.ndarray,
    obs: np.ndarray,
    st: FarringtonSettings,
    alpha: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Upper bound, p-value and expected count (R's threshold functions)."""
    z = stats.norm.ppf(1.0 - alpha)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        mu0 = np.exp(eta)
        if st.threshold_method == "delta":
            se_resp = se_link * mu0
            tau = phi + se_resp**2 / mu0
            if st.powertrans == "2/3":
                sd, ex = np.sqrt(4.0 / 9.0 * mu0 ** (1.0 / 3.0) * tau), 2.0 / 3.0
            elif st.powertrans == "1/2":
                sd, ex = np.sqrt(0.25 * tau), 0.5
            else:
                sd, ex = np.sqrt(mu0 * tau), 1.0
            upper = (mu0**ex + z * sd) ** (1.0 / ex)
            pvalue = stats.norm.sf(obs**ex, loc=mu0**ex, scale=sd)
            return upper, pvalue, mu0
        # nbPlugin: the fitted mean; muan: its upper (1 - alpha) confidence limit.
        mq = mu0 if st.threshold_method == "nbPlugin" else np.exp(eta + z * se_link)
        mq = np.where(np.isfinite(mq), mq, np.nan)  # R: mu0Quantile == Inf -> NA
        upper = nb_quantile(1.0 - alpha, mq, phi)
        pvalue = nb_sf_ge(obs, mq, phi)
        return upper, pvalue, mu0


def _check_series(
    series: Sequence[Any],
    evaluate: Sequence[Any] | None,
    denominators: Sequence[Any] | None,
) -> tuple[list[np.ndarray], list[np.ndarray], list[np.ndarray | None]]:
    counts = [as_counts(c) for c in series]
    evs = [
        evaluation_indices(None if evaluate is None else evaluate[i], len(c))
        for i, c in enumerate(counts)
    ]
    dens: list[np.ndarray | None]
    if denominators is None:
        dens = [None] * len(counts)
    else:
        dens = [as_denominator(d, len(c)) for d, c in zip(denominators, counts, strict=True)]
    return counts, evs, dens


def farrington_windows(
    counts: Sequence[np.ndarray],
    evaluate: Sequence[np.ndarray],
    denominators: Sequence[np.ndarray | None],
    settings: FarringtonSettings,
    alpha: float,
) -> tuple[list[np.ndarray], dict[str, np.ndarray]]:
    """Run the core on every evaluable (series, week); returns kept positions and results.

    Weeks with fewer than ``52 b + w`` weeks of history are dropped (R stops with an error).
    """
    st = settings.validated()
    L = WEEKS_PER_YEAR * st.b + st.w + 1
    kept = [ev[ev >= L - 1] for ev in evaluate]
    n_total = sum(k.size for k in kept)
    keys = ("eta", "se", "phi", "slope", "do_trend", "ok", "expected", "upper", "pvalue")
    out = {k: np.empty(n_total, dtype=bool if k in ("do_trend", "ok") else float) for k in keys}
    if n_total == 0:
        return kept, out
    # Gather windows lazily in chunks: all problems share one relative design.
    owners = np.repeat(np.arange(len(kept)), [k.size for k in kept])
    weeks = np.concatenate(kept)
    offs = np.arange(-(L - 1), 1)
    need_pop = st.population_offset
    if need_pop and any(d is None for i, d in enumerate(denominators) if kept[i].size):
        raise DetectionInputError("population_offset=True needs a denominator for every series")
    for start in range(0, n_total, _CHUNK):
        sl = slice(start, min(start + _CHUNK, n_total))
        Y = np.stack([counts[o][k + offs] for o, k in zip(owners[sl], weeks[sl], strict=True)])
        P = (
            np.stack(
                [denominators[o][k + offs] for o, k in zip(owners[sl], weeks[sl], strict=True)]
            )  # type: ignore[index]
            if need_pop
            else None
        )
        res = _core(Y, P, st, alpha)
        for key in keys:
            out[key][sl] = res[key]
    return kept, out


def farrington_panel_arrays(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    settings: FarringtonSettings = FarringtonSettings(),
) -> Panel:
    """Farrington for many series at once (one batched GLM fit), as a flat :data:`Panel`."""
    alpha = validate_alpha(alpha)
    counts, evs, dens = _check_series(series, evaluate, denominators)
    return farrington_panel_validated(counts, evs, dens, alpha, settings)


def farrington_panel_validated(
    counts: list[np.ndarray],
    evs: list[np.ndarray],
    dens: list[np.ndarray | None],
    alpha: float,
    settings: FarringtonSettings,
) -> Panel:
    """:func:`farrington_panel_arrays` on inputs already checked by the caller."""
    kept, res = farrington_windows(counts, evs, dens, settings, alpha)
    owners = np.repeat(np.arange(len(kept)), [k.size for k in kept])
    if owners.size == 0:
        return concat_panels([])
    idx = np.concatenate(kept)
    obs = np.concatenate([c[k] for c, k in zip(counts, kept, strict=True)])
    enough = np.concatenate(
        [enough_recent_cases(c, k, settings.limit54) for c, k in zip(counts, kept, strict=True)]
    )
    upper, expected = res["upper"], res["expected"]
    with np.errstate(invalid="ignore"):
        alarm = np.isfinite(upper) & (obs > upper) & (obs != 0) & enough
    score = severity_score(obs, expected, upper)
    return make_panel(owners, idx, obs, expected, upper, score, alarm, res["pvalue"])


def farrington_panel(
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    settings: FarringtonSettings = FarringtonSettings(),
) -> list[pd.DataFrame]:
    """:func:`farrington_flexible` for many series at once: one result frame per series."""
    panel = farrington_panel_arrays(
        series, evaluate=evaluate, denominators=denominators, alpha=alpha, settings=settings
    )
    return split_panel(panel, len(series))


def farrington_flexible(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    b: int = 5,
    w: int = 3,
    reweight: bool = True,
    weights_threshold: float = 2.58,
    trend: bool = True,
    p_threshold_trend: float = 0.05,
    limit54: tuple[int, int] | None = (5, 4),
    powertrans: str = "2/3",
    population_offset: bool = False,
    no_periods: int = 1,
    past_weeks_not_included: int | None = None,
    threshold_method: str = "delta",
) -> pd.DataFrame:
    """Farrington flexible with R ``farringtonFlexible``'s parameters and defaults.

    Defaults are R's (``b=5, w=3, reweight=TRUE, weightsThreshold=2.58, trend=TRUE,
    pThresholdTrend=0.05, limit54=c(5,4), powertrans="2/3", noPeriods=1,
    pastWeeksNotIncluded=w, thresholdMethod="delta"``) except ``alpha`` (0.005 here, 0.05 in
    R). Needs ``52 b + w`` weeks of history before an evaluated week; earlier weeks are
    omitted from the result. ``population_offset=True`` models ``count / denominator``
    (offset ``log(denominator)``) and requires ``denominator``.
    """
    settings = FarringtonSettings(
        b=b,
        w=w,
        reweight=reweight,
        weights_threshold=weights_threshold,
        trend=trend,
        p_threshold_trend=p_threshold_trend,
        limit54=limit54,
        powertrans=powertrans,
        population_offset=population_offset,
        no_periods=no_periods,
        past_weeks_not_included=past_weeks_not_included,
        threshold_method=threshold_method,
    )
    return _one_series(counts, evaluate, denominator, alpha, settings)


def farrington_original(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    population_offset: bool = False,
    b: int = 5,
) -> pd.DataFrame:
    """Original Farrington (1996) settings: ``b=5, w=3, noPeriods=1, weightsThreshold=1,
    pastWeeksNotIncluded=3``, trend kept only if significant at 0.05 (and ``b >= 3``, no
    extrapolation), 2/3-power delta-method threshold, ``limit54=(5, 4)``, ``alpha=0.005``.
    Needs ``52 b + 3`` weeks of history."""
    st = replace(ORIGINAL, b=b, population_offset=population_offset)
    return _one_series(counts, evaluate, denominator, alpha, st)


def farrington_noufaily(
    counts: Any,
    *,
    denominator: Any = None,
    evaluate: Any = None,
    alpha: float = DEFAULT_ALPHA,
    population_offset: bool = False,
    b: int = 5,
) -> pd.DataFrame:
    """Noufaily et al. (2013) improved settings: ``b=5, w=3, noPeriods=10,
    weightsThreshold=2.58, pastWeeksNotIncluded=26``, trend always kept (R
    ``pThresholdTrend=1``; still dropped when ``b < 3`` or it would extrapolate), negative
    binomial plug-in threshold (``nbPlugin``), alarm needs >= 5 cases in the last 4 weeks
    (``limit54=(5, 4)``), ``alpha=0.005``. Needs ``52 b + 3`` weeks of history."""
    st = replace(NOUFAILY, b=b, population_offset=population_offset)
    return _one_series(counts, evaluate, denominator, alpha, st)


def _one_series(
    counts: Any, evaluate: Any, denominator: Any, alpha: float, settings: FarringtonSettings
) -> pd.DataFrame:
    """The single-series form of :func:`farrington_panel` behind every public detector."""
    return farrington_panel(
        [counts],
        evaluate=[evaluate],
        denominators=None if denominator is None else [denominator],
        alpha=alpha,
        settings=settings,
    )[0]
