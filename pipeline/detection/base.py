"""The one detector interface shared by every method in :mod:`pipeline.detection`.

A detector is a pure function::

    detect(counts, *, denominator=None, evaluate=None, alpha=DEFAULT_ALPHA, **params)
        -> pandas.DataFrame

``counts[i]`` is the count of ISO week ``i`` of a run of consecutive weeks (missing weeks are
0, never skipped). ``evaluate`` selects the weeks to test (bool mask or integer positions;
default: the last week); every earlier week is history. The result has one row per evaluated
week that has enough history for the method (weeks without enough history are omitted, never
faked), with the columns of :data:`RESULT_COLUMNS`:

* ``index``    position of the week in ``counts``
* ``observed`` the count of that week
* ``expected`` the baseline expectation for that week
* ``upper``    the alarm threshold: an alarm needs ``observed > upper``
* ``score``    ``(observed - expected) / (upper - expected)``: 1 means "at the threshold"; it is
  comparable across methods (denominator floored at half a case, see :func:`severity_score`)
* ``alarm``    bool
* ``pvalue``   one-sided p-value of ``observed`` under the baseline, NaN where the method has
  none

A row with NaN ``expected``/``upper`` means the method could not fit a baseline for that week
(e.g. the GLM did not converge); its ``alarm`` is False.

Many series at once (the batched paths) are :class:`pipeline.detection.series.WeeklySeries`, and
their results the flat arrays of :data:`pipeline.detection.series.Panel`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DEFAULT_ALPHA",
    "RESULT_COLUMNS",
    "WEEKS_PER_YEAR",
    "Detector",
    "DetectionInputError",
    "as_counts",
    "as_denominator",
    "empty_result",
    "enough_recent_cases",
    "evaluation_indices",
    "result_frame",
    "severity_score",
]

#: Default one-sided significance level of every method: 0.5 % false alarms per series-week
#: (Noufaily et al. 2013 used 99.5 % thresholds).
DEFAULT_ALPHA = 0.005

#: Season length in weeks. Like R surveillance with a numeric (non-date) epoch, "one year back"
#: is 52 weeks back, also across 53-week ISO years.
WEEKS_PER_YEAR = 52

RESULT_COLUMNS = ["index", "observed", "expected", "upper", "score", "alarm", "pvalue"]

#: Floor for ``upper - expected`` in :func:`severity_score` (half a case).
SCORE_MIN_MARGIN = 0.5

Detector = Callable[..., pd.DataFrame]


class DetectionInputError(ValueError):
    """Counts, denominators or evaluation weeks that a detector cannot use."""


def as_counts(counts: Any) -> np.ndarray:
    """Validate weekly counts: 1-D, finite, non-negative (returned as float64)."""
    arr = np.asarray(counts, dtype=float)
    if arr.ndim != 1:
        raise DetectionInputError(f"counts must be 1-D, got shape {arr.shape}")
    if arr.size == 0:
        raise DetectionInputError("counts is empty")
    if not np.all(np.isfinite(arr)):
        raise DetectionInputError("counts must be finite (missing weeks are 0, not NaN)")
    if np.any(arr < 0):
        raise DetectionInputError("counts must be non-negative")
    return arr


def as_denominator(denominator: Any, n: int) -> np.ndarray | None:
    """Validate an optional denominator (population, visits...): positive and finite."""
    if denominator is None:
        return None
    arr = np.asarray(denominator, dtype=float)
    if arr.shape != (n,):
        raise DetectionInputError(f"denominator must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        raise DetectionInputError("denominator must be finite and > 0 in every week")
    return arr


def evaluation_indices(evaluate: Any, n: int) -> np.ndarray:
    """Normalise ``evaluate`` (None, bool mask, or int positions) to sorted unique positions."""
    if evaluate is None:
        return np.array([n - 1], dtype=np.int64)
    arr = np.asarray(evaluate)
    if arr.dtype == bool:
        if arr.shape != (n,):
            raise DetectionInputError(f"boolean evaluate mask must have shape ({n},)")
        return np.flatnonzero(arr).astype(np.int64)
    arr = np.atleast_1d(arr)
    if arr.size == 0:
        return np.array([], dtype=np.int64)
    if not np.issubdtype(arr.dtype, np.integer):
        raise DetectionInputError("evaluate must be a bool mask or integer positions")
    arr = np.where(arr < 0, arr + n, arr).astype(np.int64)
    if np.any(arr < 0) or np.any(arr >= n):
        raise DetectionInputError(f"evaluate positions out of range for {n} weeks")
    return np.unique(arr)


def validate_alpha(alpha: float) -> float:
    alpha = float(alpha)
    if not 0.0 < alpha < 0.5:
        raise DetectionInputError(f"alpha must be in (0, 0.5), got {alpha}")
    return alpha


def severity_score(observed: np.ndarray, expected: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """``(observed - expected) / (upper - expected)``, the margin floored at half a case.

    1.0 means "exactly at the threshold", 2.0 "twice as far above the baseline as the
    threshold". The floor keeps discrete thresholds with tiny expectations (upper = 0,
    expected = 0.01) from producing huge scores.
    """
    observed = np.asarray(observed, dtype=float)
    expected = np.asarray(expected, dtype=float)
    upper = np.asarray(upper, dtype=float)
    margin = np.maximum(upper - expected, SCORE_MIN_MARGIN)
    with np.errstate(invalid="ignore"):
        return (observed - expected) / margin


def enough_recent_cases(
    counts: np.ndarray, index: np.ndarray, limit: tuple[int, int] | None
) -> np.ndarray:
    """R surveillance's ``limit54`` rule: at least ``limit[0]`` cases in the last ``limit[1]``
    weeks (current week included). ``None`` disables the rule."""
    index = np.asarray(index, dtype=np.int64)
    if limit is None:
        return np.ones(index.shape, dtype=bool)
    cases, period = int(limit[0]), int(limit[1])
    if cases < 0 or period <= 0:
        raise DetectionInputError("limit54 must be (cases >= 0, period > 0)")
    csum = np.concatenate([[0.0], np.cumsum(counts)])
    lo = np.maximum(index - period + 1, 0)
    return (csum[index + 1] - csum[lo]) >= cases


def result_frame(
    index: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    upper: np.ndarray,
    score: np.ndarray,
    alarm: np.ndarray,
    pvalue: np.ndarray,
) -> pd.DataFrame:
    """Assemble the standard result frame (fixed column order and dtypes)."""
    return pd.DataFrame(
        {
            "index": np.asarray(index, dtype=np.int64),
            "observed": np.asarray(observed, dtype=float),
            "expected": np.asarray(expected, dtype=float),
            "upper": np.asarray(upper, dtype=float),
            "score": np.asarray(score, dtype=float),
            "alarm": np.asarray(alarm, dtype=bool),
            "pvalue": np.asarray(pvalue, dtype=float),
        },
        columns=RESULT_COLUMNS,
    )


def empty_result() -> pd.DataFrame:
    e = np.array([], dtype=float)
    return result_frame(np.array([], dtype=np.int64), e, e, e, e, np.array([], bool), e)
