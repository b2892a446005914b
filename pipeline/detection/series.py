"""The one series type of detection: many weekly count series on one axis of ISO weeks.

:class:`WeeklySeries` carries what every detector needs and every caller builds: the weeks (a
run of consecutive ISO weeks), one row of metadata per series (``series_id`` and whatever the
series counts: a category, a pattern, a category x city, or a key from a CSV file), the counts,
the denominators (one shared vector, one per series, or none) and where each series starts and
stops on the axis. The weekly alerts build it from the warehouse
(:func:`pipeline.alerts.series.build_panel`), ``sentinel detect-series`` from a CSV file
(:func:`pipeline.detection.series_io.read_series_csv`); :func:`detect` runs one method on it.

The per-series state a detector returns lives here too: :data:`Panel`, flat arrays with one
entry per evaluated (series, week) - ``series`` (row), ``index`` (position within the series),
``observed``, ``expected``, ``upper``, ``score``, ``alarm``, ``pvalue`` and, for the automatic
methods, ``method``. Building one DataFrame per series costs more than the statistics for small
series, so batched detectors fill these arrays and a frame is built once at the end.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipeline.detection.base import RESULT_COLUMNS
from pipeline.isoweek import week_from_ordinal, week_ordinal

__all__ = [
    "Panel",
    "SeriesView",
    "WeeklySeries",
    "concat_panels",
    "make_panel",
    "panel_frame",
    "split_panel",
]


@dataclass(frozen=True)
class SeriesView:
    """One series of a :class:`WeeklySeries`: its key, first week and own weeks only."""

    key: str
    first_ordinal: int  # week ordinal of counts[0]
    counts: np.ndarray
    denominator: np.ndarray | None


@dataclass(frozen=True)
class WeeklySeries:
    """Many weekly series over the same consecutive ISO weeks (see the module docstring)."""

    weeks: list[str]
    meta: pd.DataFrame  # one row per series; ``series_id`` names it
    counts: np.ndarray  # (n_series, n_weeks)
    denominator: np.ndarray | None = None  # (n_weeks,) shared, (n_series, n_weeks) or None
    start: np.ndarray = field(default=None)  # type: ignore[assignment]  # first position
    stop: np.ndarray = field(default=None)  # type: ignore[assignment]  # one past the last

    def __post_init__(self) -> None:
        n, t = self.counts.shape
        if self.start is None:
            object.__setattr__(self, "start", np.zeros(n, dtype=np.int64))
        if self.stop is None:
            object.__setattr__(self, "stop", np.full(n, t, dtype=np.int64))
        if len(self.meta) != n or len(self.weeks) != t:
            raise ValueError("meta rows / weeks do not match the counts' shape")

    @classmethod
    def from_series(
        cls,
        keys: Sequence[str],
        first_ordinals: Sequence[int],
        counts: Sequence[np.ndarray],
        denominators: Sequence[np.ndarray | None] | None = None,
    ) -> WeeklySeries:
        """Series of their own lengths and first weeks, laid out on one common axis."""
        if not keys:
            return cls([], pd.DataFrame({"series_id": []}), np.zeros((0, 0)))
        firsts = np.asarray(first_ordinals, dtype=np.int64)
        lengths = np.asarray([len(c) for c in counts], dtype=np.int64)
        lo, hi = int(firsts.min()), int((firsts + lengths).max())
        matrix = np.zeros((len(keys), hi - lo))
        dens = None
        if denominators is not None and any(d is not None for d in denominators):
            dens = np.full((len(keys), hi - lo), np.nan)
        for i, c in enumerate(counts):
            a = int(firsts[i]) - lo
            matrix[i, a : a + len(c)] = c
            if dens is not None and denominators[i] is not None:  # type: ignore[index]
                dens[i, a : a + len(c)] = denominators[i]  # type: ignore[index]
        return cls(
            weeks=[week_from_ordinal(o) for o in range(lo, hi)],
            meta=pd.DataFrame({"series_id": [str(k) for k in keys]}),
            counts=matrix,
            denominator=dens,
            start=firsts - lo,
            stop=firsts - lo + lengths,
        )

    def __len__(self) -> int:
        return self.counts.shape[0]

    def __iter__(self) -> Iterator[SeriesView]:
        return (self.view(i) for i in range(len(self)))

    @property
    def first_ordinal(self) -> int:
        return week_ordinal(self.weeks[0])

    def view(self, i: int) -> SeriesView:
        a, b = int(self.start[i]), int(self.stop[i])
        return SeriesView(
            key=str(self.meta["series_id"].iloc[i]),
            first_ordinal=self.first_ordinal + a,
            counts=self.counts[i, a:b],
            denominator=self.denominator_of(i),
        )

    def denominator_of(self, i: int) -> np.ndarray | None:
        """Series ``i``'s denominators over its own weeks (None without denominators)."""
        if self.denominator is None:
            return None
        a, b = int(self.start[i]), int(self.stop[i])
        row = self.denominator if self.denominator.ndim == 1 else self.denominator[i]
        return row[a:b]


# --- per-series results in flat arrays ---------------------------------------------------------

Panel = dict[str, np.ndarray]

_PANEL_KEYS = ("series", *RESULT_COLUMNS)


def make_panel(
    series: int | np.ndarray,
    index: np.ndarray,
    observed: np.ndarray,
    expected: np.ndarray,
    upper: np.ndarray,
    score: np.ndarray,
    alarm: np.ndarray,
    pvalue: np.ndarray,
    method: np.ndarray | str | None = None,
) -> Panel:
    index = np.asarray(index, dtype=np.int64)
    n = index.size
    panel: Panel = {
        "series": np.broadcast_to(np.asarray(series, dtype=np.int64), (n,)).copy(),
        "index": index,
        "observed": np.asarray(observed, dtype=float),
        "expected": np.asarray(expected, dtype=float),
        "upper": np.asarray(upper, dtype=float),
        "score": np.asarray(score, dtype=float),
        "alarm": np.asarray(alarm, dtype=bool),
        "pvalue": np.asarray(pvalue, dtype=float),
    }
    if method is not None:
        panel["method"] = np.broadcast_to(np.asarray(method, dtype=object), (n,)).copy()
    return panel


def concat_panels(panels: list[Panel], with_method: bool = False) -> Panel:
    """Concatenate panels, ordered by (series, index)."""
    keys = [*_PANEL_KEYS, "method"] if with_method else list(_PANEL_KEYS)
    if not panels:
        empty = make_panel(
            0,
            np.array([], np.int64),
            *([np.array([])] * 4),
            np.array([], bool),
            np.array([]),
            method=np.array([], object) if with_method else None,
        )
        return {k: empty[k] for k in keys}
    out = {k: np.concatenate([p[k] for p in panels]) for k in keys}
    order = np.lexsort((out["index"], out["series"]))
    return {k: v[order] for k, v in out.items()}


def panel_frame(panel: Panel) -> pd.DataFrame:
    """One DataFrame for the whole panel: ``series`` (input position) + result columns."""
    cols = [c for c in (*_PANEL_KEYS, "method") if c in panel]
    return pd.DataFrame({c: panel[c] for c in cols}, columns=cols)


def split_panel(panel: Panel, n_series: int) -> list[pd.DataFrame]:
    """Per-series result frames (the single-series API)."""
    bounds = np.searchsorted(panel["series"], np.arange(n_series + 1))
    cols = [c for c in (*RESULT_COLUMNS, "method") if c in panel]
    frames = []
    for i in range(n_series):
        sl = slice(bounds[i], bounds[i + 1])
        frames.append(pd.DataFrame({c: panel[c][sl] for c in cols}, columns=cols))
    return frames
