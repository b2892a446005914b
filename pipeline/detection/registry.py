"""Name -> detector registry (``METHODS``) and a batched entry point for many series."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from pipeline.detection.base import (
    DEFAULT_ALPHA,
    DetectionInputError,
    Detector,
)
from pipeline.detection.ears import ears_c1, ears_c2, ears_c3, ears_panel_arrays
from pipeline.detection.fallback import (
    auto,
    auto_panel_arrays,
    short_history,
    short_history_panel_arrays,
)
from pipeline.detection.farrington import (
    NOUFAILY,
    ORIGINAL,
    farrington_noufaily,
    farrington_original,
    farrington_panel_arrays,
)
from pipeline.detection.glrnb import glrnb, glrnb_panel_arrays
from pipeline.detection.rise import (
    auto_rise,
    auto_rise_panel_arrays,
    short_window,
    short_window_panel_arrays,
)
from pipeline.detection.series import (
    Panel,
    WeeklySeries,
    panel_frame,
    split_panel,
)
from pipeline.isoweek import week_from_ordinal

__all__ = [
    "METHODS",
    "METHOD_SUMMARIES",
    "OFFSET_METHODS",
    "detect_panel",
    "detect_panel_frame",
    "detect_series",
    "get_method",
]


def farrington_original_offset(counts: Any, **kw: Any) -> pd.DataFrame:
    """``farrington-original`` on rates: offset ``log(denominator)`` (denominator required)."""
    return farrington_original(counts, population_offset=True, **kw)


def farrington_noufaily_offset(counts: Any, **kw: Any) -> pd.DataFrame:
    """``farrington-noufaily`` on rates: offset ``log(denominator)`` (denominator required)."""
    return farrington_noufaily(counts, population_offset=True, **kw)


def auto_offset(counts: Any, **kw: Any) -> pd.DataFrame:
    """``auto`` on rates: every sub-method uses the denominator (required)."""
    return auto(counts, population_offset=True, **kw)


def auto_rise_offset(counts: Any, **kw: Any) -> pd.DataFrame:
    """``auto-rise`` on rates: every sub-method uses the denominator (required)."""
    return auto_rise(counts, population_offset=True, **kw)


METHODS: dict[str, Detector] = {
    "farrington-original": farrington_original,
    "farrington-noufaily": farrington_noufaily,
    "farrington-original-offset": farrington_original_offset,
    "farrington-noufaily-offset": farrington_noufaily_offset,
    "ears-c1": ears_c1,
    "ears-c2": ears_c2,
    "ears-c3": ears_c3,
    "glrnb": glrnb,
    "short-history": short_history,
    "auto": auto,
    "auto-offset": auto_offset,
    "short-window": short_window,
    "auto-rise": auto_rise,
    "auto-rise-offset": auto_rise_offset,
}

#: One line per method for ``sentinel detection methods`` (details: docs/detection.md).
METHOD_SUMMARIES: dict[str, str] = {
    "farrington-original": "Farrington 1996: b=5, w=3, 1 period, trend if p<0.05, delta threshold",
    "farrington-noufaily": "Noufaily 2013: b=5, w=3, 10 periods, 26 wk excluded, NB plug-in",
    "farrington-original-offset": "farrington-original on count/denominator (log offset)",
    "farrington-noufaily-offset": "farrington-noufaily on count/denominator (log offset)",
    "ears-c1": "CDC EARS C1: 7-week baseline ending last week",
    "ears-c2": "CDC EARS C2: 7-week baseline with a 2-week guard band",
    "ears-c3": "CDC EARS C3: sum of C2 excesses over 3 weeks",
    "glrnb": "NB GLR for a rise starting in the last 2 weeks over a Noufaily baseline",
    "short-history": "NB threshold from <= 52 weeks of history (>= 8 needed), 2-week guard",
    "auto": "noufaily (b=5) / noufaily (b=2..4) / short-history by history length",
    "auto-offset": "auto on count/denominator",
    "short-window": "short-history on totals of the last 1..4 weeks (steps, ramps)",
    "auto-rise": "glrnb (b=2..5, window 4) / short-window by history length",
    "auto-rise-offset": "auto-rise on count/denominator",
}

#: Methods that need a denominator.
OFFSET_METHODS = frozenset(name for name in METHODS if name.endswith("-offset"))


def get_method(name: str) -> Detector:
    try:
        return METHODS[name]
    except KeyError:
        raise DetectionInputError(
            f"unknown method {name!r}; choose one of: {', '.join(METHODS)}"
        ) from None


def _farrington_batched(settings: Any, offset: bool) -> Callable[..., Panel]:
    st = replace(settings, population_offset=offset)

    def run(series, evaluate, denominators, alpha, **params):  # type: ignore[no-untyped-def]
        b = params.pop("b", None)
        if params:
            raise DetectionInputError(f"unsupported parameters {sorted(params)}")
        s = st if b is None else replace(st, b=b)
        return farrington_panel_arrays(
            series, evaluate=evaluate, denominators=denominators, alpha=alpha, settings=s
        )

    return run


def _kw(fn: Callable[..., Panel], **fixed: Any) -> Callable[..., Panel]:
    def run(series, evaluate, denominators, alpha, **params):  # type: ignore[no-untyped-def]
        return fn(
            series, evaluate=evaluate, denominators=denominators, alpha=alpha, **fixed, **params
        )

    return run


_PANELS: dict[str, Callable[..., Panel]] = {
    "farrington-original": _farrington_batched(ORIGINAL, False),
    "farrington-noufaily": _farrington_batched(NOUFAILY, False),
    "farrington-original-offset": _farrington_batched(ORIGINAL, True),
    "farrington-noufaily-offset": _farrington_batched(NOUFAILY, True),
    "ears-c1": _kw(partial(ears_panel_arrays, "c1")),
    "ears-c2": _kw(partial(ears_panel_arrays, "c2")),
    "ears-c3": _kw(partial(ears_panel_arrays, "c3")),
    "glrnb": _kw(glrnb_panel_arrays),
    "short-history": _kw(short_history_panel_arrays),
    "auto": _kw(auto_panel_arrays),
    "auto-offset": _kw(auto_panel_arrays, population_offset=True),
    "short-window": _kw(short_window_panel_arrays),
    "auto-rise": _kw(auto_rise_panel_arrays),
    "auto-rise-offset": _kw(auto_rise_panel_arrays, population_offset=True),
}


def _panel(
    method: str,
    series: Sequence[Any],
    evaluate: Sequence[Any] | None,
    denominators: Sequence[Any] | None,
    alpha: float,
    params: dict[str, Any],
) -> Panel:
    get_method(method)
    if method in OFFSET_METHODS and denominators is None:
        raise DetectionInputError(f"method {method!r} needs denominators")
    for name, arg in (("evaluate", evaluate), ("denominators", denominators)):
        if arg is not None and len(arg) != len(series):
            raise DetectionInputError(f"{name} must have one entry per series")
    return _PANELS[method](series, evaluate, denominators, alpha, **params)


def detect_panel(
    method: str,
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    **params: Any,
) -> list[pd.DataFrame]:
    """Run ``method`` on many series; the same frames as calling ``METHODS[method]`` per series.

    GLM-based methods fit all (series, week) problems in one batch, which is what makes a
    national weekly run fast.
    """
    panel = _panel(method, series, evaluate, denominators, alpha, params)
    return split_panel(panel, len(series))


def detect_panel_frame(
    method: str,
    series: Sequence[Any],
    *,
    evaluate: Sequence[Any] | None = None,
    denominators: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    **params: Any,
) -> pd.DataFrame:
    """Like :func:`detect_panel` but one frame for all series, with a ``series`` column (the
    position in ``series``); avoids building one DataFrame per series."""
    return panel_frame(_panel(method, series, evaluate, denominators, alpha, params))


def detect_series(
    series: WeeklySeries,
    method: str,
    *,
    rows: Sequence[int] | None = None,
    evaluate: Sequence[Any] | None = None,
    alpha: float = DEFAULT_ALPHA,
    **params: Any,
) -> pd.DataFrame:
    """Run ``method`` on ``rows`` of ``series`` (default: all), each over its own weeks with its
    own denominators. ``evaluate``: per selected row, positions within that series (default:
    its last week). The frame of :func:`detect_panel_frame` (``series`` = position in ``rows``)
    plus ``row`` (the row of ``series``) and ``week``."""
    rows = list(range(len(series))) if rows is None else [int(r) for r in rows]
    views = [series.view(r) for r in rows]
    dens = [v.denominator for v in views]
    frame = detect_panel_frame(
        method,
        [v.counts for v in views],
        evaluate=evaluate,
        denominators=dens if dens and dens[0] is not None else None,
        alpha=alpha,
        **params,
    )
    positions = frame["series"].to_numpy()
    frame["row"] = np.asarray(rows, dtype=np.int64)[positions] if len(frame) else []
    first = np.asarray([v.first_ordinal for v in views], dtype=np.int64)
    ordinals = first[positions] + frame["index"].to_numpy() if len(frame) else []
    frame["week"] = [week_from_ordinal(int(o)) for o in ordinals]
    return frame
