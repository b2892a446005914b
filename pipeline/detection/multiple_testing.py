"""Benjamini-Hochberg false discovery rate control across many series."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["bh_qvalues", "bh_reject"]


def bh_qvalues(pvalues: Any) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), same shape as ``pvalues``.

    ``q_(i) = min_{j >= i} p_(j) m / j`` over the ``m`` non-missing p-values, capped at 1;
    NaN stays NaN and does not count towards ``m`` (a week a method could not test is not a
    hypothesis). Equivalent to R ``p.adjust(p, "BH")`` on the non-missing values.
    """
    p = np.asarray(pvalues, dtype=float)
    q = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    m = ok.size
    if m == 0:
        return q
    if np.any((flat[ok] < 0) | (flat[ok] > 1)):
        raise ValueError("p-values must lie in [0, 1]")
    order = ok[np.argsort(flat[ok], kind="mergesort")]
    ranked = flat[order] * m / np.arange(1, m + 1)
    adj = np.minimum(np.minimum.accumulate(ranked[::-1])[::-1], 1.0)
    qflat = q.ravel()
    qflat[order] = adj
    return qflat.reshape(p.shape)


def bh_reject(pvalues: Any, q: float = 0.05) -> np.ndarray:
    """Boolean mask of hypotheses rejected at false discovery rate ``q``."""
    qv = bh_qvalues(pvalues)
    with np.errstate(invalid="ignore"):
        return qv <= q
