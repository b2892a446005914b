"""Disproportionality of product x injury-type pairs (pharmacovigilance practice).

Input: one row per (product, outcome) pair with the 2x2 margins

* ``n11`` cases with this product and this outcome,
* ``n1.`` cases with this product (any outcome),
* ``n.1`` cases with this outcome (any product),
* ``n..`` all cases,

so the table is ``a = n11, b = n1. - n11, c = n.1 - n11, d = n.. - n1. - n.1 + n11``.

Measures (vectorised over all rows):

* PRR = ``(a / (a + b)) / (c / (c + d))`` with the Yates-corrected chi-square; signal by the
  Evans et al. (2001) criteria ``PRR >= 2, chi2 >= 4, n11 >= 3``.
* ROR = ``a d / (b c)`` with the 95 % Woolf (log) interval ``exp(log ROR +- 1.96 sqrt(1/a +
  1/b + 1/c + 1/d))``; when a cell is 0 all four get +0.5 (Haldane-Anscombe); signal when the
  lower limit > 1 and ``n11 >= 3``.
* Information component with Noren et al. (2013) shrinkage: ``IC = log2((n11 + 0.5) /
  (E11 + 0.5))``, ``E11 = n1. n.1 / n..``; lower 95 % credibility limit by their closed-form
  approximation ``IC025 = IC - 3.3 (n11 + 0.5)^-1/2 - 2 (n11 + 0.5)^-3/2`` (or, with
  ``ic_method="gamma"``, the exact ``log2`` of the 2.5 % quantile of Gamma(n11 + 0.5,
  rate E11 + 0.5)); signal when ``IC025 > 0``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["INPUT_COLUMNS", "disproportionality"]

INPUT_COLUMNS = ("n11", "n1.", "n.1", "n..")


def disproportionality(
    table: pd.DataFrame,
    *,
    min_cases: int = 3,
    prr_threshold: float = 2.0,
    chi2_threshold: float = 4.0,
    yates: bool = True,
    ci_level: float = 0.95,
    ic_method: str = "approx",
) -> pd.DataFrame:
    """PRR/chi2, ROR with CI, IC/IC025 and signal flags for every row of ``table``.

    Returns a copy of ``table`` with columns ``prr, chi2, ror, ror_lo, ror_hi, e11, ic, ic025,
    signal_prr, signal_ror, signal_ic``. Raises ``ValueError`` on missing columns, negative or
    inconsistent margins.
    """
    missing = [c for c in INPUT_COLUMNS if c not in table.columns]
    if missing:
        raise ValueError(f"disproportionality input lacks columns {missing}")
    if ic_method not in ("approx", "gamma"):
        raise ValueError("ic_method must be 'approx' or 'gamma'")
    n11 = table["n11"].to_numpy(dtype=float)
    n1_ = table["n1."].to_numpy(dtype=float)
    n_1 = table["n.1"].to_numpy(dtype=float)
    n = table["n.."].to_numpy(dtype=float)
    a, b, c = n11, n1_ - n11, n_1 - n11
    d = n - n1_ - n_1 + n11
    bad = (np.minimum.reduce([a, b, c, d]) < 0) | ~np.isfinite(a + b + c + d)
    if bad.any():
        rows = list(table.index[bad][:5])
        raise ValueError(f"inconsistent 2x2 margins (a negative cell) in rows {rows}")

    with np.errstate(divide="ignore", invalid="ignore"):
        prr = (a / (a + b)) / (c / (c + d))
        num = np.abs(a * d - b * c)
        if yates:
            num = np.maximum(num - n / 2.0, 0.0)
        chi2 = n * num**2 / ((a + b) * (c + d) * (a + c) * (b + d))

        zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
        aa, bb, cc, dd = (np.where(zero, x + 0.5, x) for x in (a, b, c, d))
        ror = aa * dd / (bb * cc)
        z = stats.norm.ppf(0.5 + ci_level / 2.0)
        se = np.sqrt(1 / aa + 1 / bb + 1 / cc + 1 / dd)
        ror_lo = np.exp(np.log(ror) - z * se)
        ror_hi = np.exp(np.log(ror) + z * se)

        e11 = n1_ * n_1 / n
        ic = np.log2((n11 + 0.5) / (e11 + 0.5))
        if ic_method == "approx":
            ic025 = ic - 3.3 * (n11 + 0.5) ** -0.5 - 2.0 * (n11 + 0.5) ** -1.5
        else:
            ic025 = np.log2(stats.gamma.ppf(0.025, n11 + 0.5, scale=1.0 / (e11 + 0.5)))

    out = table.copy()
    out["prr"] = prr
    out["chi2"] = chi2
    out["ror"] = ror
    out["ror_lo"] = ror_lo
    out["ror_hi"] = ror_hi
    out["e11"] = e11
    out["ic"] = ic
    out["ic025"] = ic025
    enough = n11 >= min_cases
    out["signal_prr"] = enough & (prr >= prr_threshold) & (chi2 >= chi2_threshold)
    out["signal_ror"] = enough & (ror_lo > 1.0)
    out["signal_ic"] = ic025 > 0
    return out
