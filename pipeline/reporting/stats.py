"""Statistics of the quarterly summary: Poisson rates with exact intervals, the exact test of
a change between two rates, and design-based estimates from survey-weighted cases (NEISS).

Rates. A count ``x`` over an exposure ``t`` (hospital-weeks) has the exact (Garwood) 95%
interval ``[chi2(0.025; 2x) / 2, chi2(0.975; 2x + 2) / 2] / t``.

Change. Two counts with exposures compare by the exact conditional test of the rate ratio:
given ``n = x1 + x0``, ``x1 ~ Binomial(n, t1 / (t1 + t0))`` when the rates are equal; the
two-sided p-value sums the probabilities of outcomes no more likely than the one observed, and
the Clopper-Pearson interval of the binomial proportion gives the rate ratio's interval
(``p / (1 - p) * t0 / t1``). This is R's ``poisson.test(c(x1, x0), c(t1, t0))``.

Weighted estimates. The national estimate of a domain is the sum of the survey weights of its
cases; its variance comes from the design (strata, primary sampling units, with-replacement
approximation, Taylor linearisation): with ``z_hi`` the weighted count of PSU ``i`` of stratum
``h`` (every PSU of the design, zero when it has no case of the domain) and ``n_h`` PSUs in the
stratum, ``var = sum_h n_h / (n_h - 1) * sum_i (z_hi - mean_h z)^2``. A stratum with a single
PSU contributes nothing (R ``survey``'s ``lonely.psu = "certainty"``) and is reported. The 95%
interval is ``estimate +- 1.96 se``; NEISS's rule flags an estimate as unstable when it rests
on fewer than 20 cases, is under 1,200, or has a coefficient of variation over 33%.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

LEVEL = 0.95
Z95 = float(stats.norm.ppf(0.975))
# NEISS publication rule for unstable estimates.
MIN_CASES = 20
MIN_ESTIMATE = 1200.0
MAX_CV = 0.33
_RELATIVE_TOLERANCE = 1 + 1e-7  # as R's binom.test, for ties of the binomial probabilities


def poisson_interval(count: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact (Garwood) interval of a Poisson mean given one observed count."""
    alpha = 1 - level
    low = 0.0 if count == 0 else float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return low, high


def binomial_two_sided_p(x: int, n: int, p: float) -> float:
    """Two-sided exact binomial p-value: the probability of every outcome at most as likely as
    ``x`` (R's binom.test definition)."""
    if n == 0:
        return 1.0
    if p <= 0.0:
        return 1.0 if x == 0 else 0.0
    if p >= 1.0:
        return 1.0 if x == n else 0.0
    ks = np.arange(n + 1)
    probs = stats.binom.pmf(ks, n, p)
    observed = stats.binom.pmf(x, n, p)
    return float(min(1.0, probs[probs <= observed * _RELATIVE_TOLERANCE].sum()))


def clopper_pearson(x: int, n: int, level: float = LEVEL) -> tuple[float, float]:
    """Exact interval of a binomial proportion."""
    alpha = 1 - level
    low = 0.0 if x == 0 else float(stats.beta.ppf(alpha / 2, x, n - x + 1))
    high = 1.0 if x == n else float(stats.beta.ppf(1 - alpha / 2, x + 1, n - x))
    return low, high


@dataclass(frozen=True)
class RateComparison:
    """Two Poisson rates (per ``per`` units of exposure) and the exact test of their ratio."""

    count: int
    exposure: float
    count_before: int
    exposure_before: float
    per: float
    rate: float | None
    rate_low: float | None
    rate_high: float | None
    rate_before: float | None
    rate_ratio: float | None  # None when nothing was seen before (or no exposure)
    ratio_low: float | None
    ratio_high: float | None
    pvalue: float | None  # None when no comparison is possible

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def poisson_rate(count: int, exposure: float, per: float = 1.0) -> tuple[float, float, float]:
    """Rate per ``per`` units of exposure and its exact 95% interval."""
    low, high = poisson_interval(count)
    scale = per / exposure
    return count * scale, low * scale, high * scale


def compare_rates(
    count: int, exposure: float, count_before: int, exposure_before: float, per: float = 1.0
) -> RateComparison:
    """Rate now vs before with the exact conditional test (R ``poisson.test``)."""
    rate = rate_low = rate_high = rate_before = None
    if exposure > 0:
        rate, rate_low, rate_high = poisson_rate(count, exposure, per)
    if exposure_before > 0:
        rate_before = count_before * per / exposure_before
    ratio = ratio_low = ratio_high = pvalue = None
    total = count + count_before
    if exposure > 0 and exposure_before > 0 and total > 0:
        share = exposure / (exposure + exposure_before)
        pvalue = binomial_two_sided_p(count, total, share)
        p_low, p_high = clopper_pearson(count, total)
        odds = exposure_before / exposure
        if count_before > 0:
            ratio = (count / exposure) / (count_before / exposure_before)
        ratio_low = p_low / (1 - p_low) * odds
        ratio_high = p_high / (1 - p_high) * odds if p_high < 1 else math.inf
    return RateComparison(
        count,
        exposure,
        count_before,
        exposure_before,
        per,
        rate,
        rate_low,
        rate_high,
        rate_before,
        ratio,
        ratio_low,
        ratio_high,
        pvalue,
    )


def change_verdict(comparison: RateComparison, qvalue: float | None, fdr: float = 0.05) -> str:
    """'rise', 'fall', 'no_change' (not significant after Benjamini-Hochberg at ``fdr``) or
    'not_comparable' (no exposure or no case in either period)."""
    if comparison.pvalue is None or qvalue is None:
        return "not_comparable"
    if qvalue >= fdr:
        return "no_change"
    before = comparison.count_before / comparison.exposure_before
    now = comparison.count / comparison.exposure
    return "rise" if now > before else "fall"


# ---- survey-weighted estimates ---------------------------------------------------------------


@dataclass(frozen=True)
class SurveyEstimate:
    cases: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    cv: float | None
    unstable: bool
    reasons: tuple[str, ...]  # 'cases' (< 20), 'estimate' (< 1,200), 'cv' (> 33%)

    def as_dict(self) -> dict:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["reasons"] = list(self.reasons)
        return out


def unstable_reasons(cases: int, estimate: float, cv: float | None) -> tuple[str, ...]:
    """Why NEISS would flag the estimate as unstable (empty: stable)."""
    reasons = []
    if cases < MIN_CASES:
        reasons.append("cases")
    if estimate < MIN_ESTIMATE:
        reasons.append("estimate")
    if cv is None or cv > MAX_CV:
        reasons.append("cv")
    return tuple(reasons)


def _psu_totals(design: pd.DataFrame, values: np.ndarray) -> pd.DataFrame:
    """Weighted totals of ``values`` per (stratum, psu) over every PSU of the design."""
    frame = pd.DataFrame(
        {
            "stratum": design["stratum"].to_numpy(),
            "psu": design["psu"].to_numpy(),
            "z": design["weight"].to_numpy(dtype=float) * values,
        }
    )
    return frame.groupby(["stratum", "psu"], sort=True)["z"].sum().reset_index()


def survey_total(design: pd.DataFrame, values: np.ndarray) -> tuple[float, float, list[str]]:
    """Estimated total of ``values`` (e.g. a 0/1 domain indicator) under a stratified,
    clustered design (columns weight, stratum, psu; PSU codes nested in strata), its
    linearisation standard error, and the strata that have a single PSU."""
    z = _psu_totals(design, values)
    total = float(z["z"].sum())
    variance = 0.0
    lonely = []
    for stratum, group in z.groupby("stratum", sort=True):
        n = len(group)
        if n < 2:
            lonely.append(str(stratum))
            continue
        deviations = group["z"].to_numpy() - group["z"].mean()
        variance += n / (n - 1) * float((deviations**2).sum())
    return total, math.sqrt(variance), lonely


def survey_estimate(design: pd.DataFrame, in_domain: np.ndarray) -> SurveyEstimate:
    """The weighted national estimate of the cases where ``in_domain`` is true, with its 95%
    interval and NEISS's stability flag (``design``: every weighted case of the period)."""
    indicator = np.asarray(in_domain, dtype=float)
    estimate, se, _ = survey_total(design, indicator)
    cases = int(indicator.sum())
    cv = se / estimate if estimate > 0 else None
    reasons = unstable_reasons(cases, estimate, cv)
    return SurveyEstimate(
        cases=cases,
        estimate=estimate,
        se=se,
        ci_low=estimate - Z95 * se,
        ci_high=estimate + Z95 * se,
        cv=cv,
        unstable=bool(reasons),
        reasons=reasons,
    )
