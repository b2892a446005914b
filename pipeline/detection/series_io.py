"""Weekly series CSV in -> detection results CSV out (the ``detect-series`` contract).

INPUT (UTF-8 CSV, header required, extra columns ignored):

* ``series``  non-empty text, the series key (e.g. a product category or hazard pattern);
* ``week``    ISO week ``YYYY-Www``;
* ``count``   non-negative integer;
* ``denominator`` (optional column) positive number, e.g. cases of all causes or visits.

Many series may share one file, in any row order; a (series, week) pair may appear once.
Missing weeks:

* without a ``denominator`` column, a series runs from its first week to the last week of the
  whole file and every week without a row counts 0 (a week without cases has no row);
* with a ``denominator`` column, a series runs from its first to its own last week and every
  week in between must have a row - a denominator cannot be invented, so a gap is an error.

OUTPUT columns ``series, week, observed, expected, upper, score, alarm`` (alarm 0/1), one row
per week that could be evaluated (weeks without enough history for the method, or whose
baseline could not be fitted, are skipped, not faked), sorted by series and week.
``from_week``/``to_week`` restrict the evaluated weeks (inclusive); earlier weeks are history
and later weeks are ignored.

Bad input raises :class:`SeriesInputError` naming the file, the row (file line number, header
= line 1) and the column.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.detection.base import DEFAULT_ALPHA, DetectionInputError
from pipeline.detection.registry import OFFSET_METHODS, detect_panel_frame, get_method
from pipeline.detection.series import WeeklySeries
from pipeline.isoweek import is_iso_week, week_from_ordinal, week_ordinal

__all__ = [
    "OUTPUT_COLUMNS",
    "SeriesInputError",
    "SeriesRunSummary",
    "read_series_csv",
    "run_detect_series",
]

REQUIRED_COLUMNS = ("series", "week", "count")
OUTPUT_COLUMNS = ["series", "week", "observed", "expected", "upper", "score", "alarm"]


class SeriesInputError(ValueError):
    """Unusable series input; ``file``, ``row`` (line number or None) and ``column`` say where."""

    def __init__(
        self, file: Path | str, message: str, *, row: int | None = None, column: str | None = None
    ) -> None:
        self.file = str(file)
        self.row = row
        self.column = column
        self.message = message
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"column '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")


@dataclass(frozen=True)
class SeriesRunSummary:
    series: int
    evaluated_weeks: int
    alarms: int
    output: Path


def _line(idx: int) -> int:
    return int(idx) + 2  # data row 0 is line 2 (header is line 1)


def read_series_csv(path: Path) -> WeeklySeries:
    """Parse and validate the input file (see module docstring)."""
    path = Path(path)
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise SeriesInputError(path, "file not found") from None
    except UnicodeDecodeError as exc:
        raise SeriesInputError(path, f"not UTF-8 text ({exc.reason})") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise SeriesInputError(path, f"not a readable CSV file ({exc})") from None
    raw.columns = [str(c).strip() for c in raw.columns]
    for col in REQUIRED_COLUMNS:
        if col not in raw.columns:
            raise SeriesInputError(
                path,
                f"missing required column (have: {', '.join(raw.columns)})",
                row=1,
                column=col,
            )
    if raw.empty:
        raise SeriesInputError(path, "no data rows")
    has_den = "denominator" in raw.columns

    series = raw["series"].str.strip()
    bad = np.flatnonzero((series == "").to_numpy())
    if bad.size:
        raise SeriesInputError(path, "empty series key", row=_line(bad[0]), column="series")

    weeks = raw["week"].str.strip()
    # Parse each distinct week label once (a national file repeats a few hundred labels).
    wcodes, uniq = pd.factorize(weeks)
    uniq_ord = np.array([week_ordinal(w) if is_iso_week(w) else -1 for w in uniq], np.int64)
    ordinal = uniq_ord[wcodes]
    bad = np.flatnonzero(ordinal < 0)
    if bad.size:
        raise SeriesInputError(
            path,
            f"not an existing ISO week 'YYYY-Www': {weeks.iloc[bad[0]]!r}",
            row=_line(bad[0]),
            column="week",
        )

    counts = pd.to_numeric(raw["count"].str.strip(), errors="coerce").to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.flatnonzero(~np.isfinite(counts) | (counts < 0) | (counts != np.round(counts)))
    if bad.size:
        raise SeriesInputError(
            path,
            f"count must be a non-negative integer, got {raw['count'].iloc[bad[0]]!r}",
            row=_line(bad[0]),
            column="count",
        )

    den = None
    if has_den:
        den = pd.to_numeric(raw["denominator"].str.strip(), errors="coerce").to_numpy(float)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(~np.isfinite(den) | (den <= 0))
        if bad.size:
            raise SeriesInputError(
                path,
                f"denominator must be a positive number, got {raw['denominator'].iloc[bad[0]]!r}",
                row=_line(bad[0]),
                column="denominator",
            )

    frame = pd.DataFrame({"series": series, "ord": ordinal})
    dup = frame.duplicated(["series", "ord"], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(
            np.flatnonzero(
                (frame["series"] == frame["series"].iloc[i]).to_numpy()
                & (frame["ord"] == frame["ord"].iloc[i]).to_numpy()
            )[0]
        )
        raise SeriesInputError(
            path,
            f"duplicate week {weeks.iloc[i]} for series {series.iloc[i]!r} "
            f"(first at row {_line(first)})",
            row=_line(i),
            column="week",
        )

    codes, keys = pd.factorize(series, sort=True)
    last_global = int(ordinal.max())
    out: list[tuple[str, int, np.ndarray, np.ndarray | None]] = []
    order = np.lexsort((ordinal, codes))
    bounds = np.searchsorted(codes[order], np.arange(len(keys) + 1))
    for j, key in enumerate(keys):
        rows = order[bounds[j] : bounds[j + 1]]
        o = ordinal[rows]
        start = int(o[0])
        end = int(o[-1]) if has_den else last_global
        y = np.zeros(end - start + 1)
        y[o - start] = counts[rows]
        d = None
        if den is not None:
            if o.size != end - start + 1:
                present = set(o.tolist())
                gap = next(w for w in range(start, end + 1) if w not in present)
                raise SeriesInputError(
                    path,
                    f"series {key!r} has no row for week {week_from_ordinal(gap)}; with a "
                    "denominator column every week between a series' first and last week "
                    "needs a row",
                    column="week",
                )
            d = den[rows]
        out.append((str(key), start, y, d))
    return WeeklySeries.from_series(
        [o[0] for o in out], [o[1] for o in out], [o[2] for o in out], [o[3] for o in out]
    )


def run_detect_series(
    input_csv: Path,
    method: str,
    output_csv: Path,
    alpha: float | None = None,
    from_week: str | None = None,
    to_week: str | None = None,
) -> SeriesRunSummary:
    """Detect on every series of ``input_csv`` with ``method`` and write ``output_csv``.

    ``alpha`` None means the method's default (0.005). Raises :class:`SeriesInputError` for bad
    input and :class:`~pipeline.detection.base.DetectionInputError` for a bad method/alpha.
    """
    input_csv, output_csv = Path(input_csv), Path(output_csv)
    get_method(method)  # fail fast on an unknown name, before reading a big file
    lo = hi = None
    for label, value in (("from", from_week), ("to", to_week)):
        if value is not None and not is_iso_week(value):
            raise DetectionInputError(f"--{label} must be an ISO week 'YYYY-Www', got {value!r}")
    if from_week is not None:
        lo = week_ordinal(from_week)
    if to_week is not None:
        hi = week_ordinal(to_week)
    if lo is not None and hi is not None and hi < lo:
        raise DetectionInputError(f"--to {to_week} is before --from {from_week}")

    all_series = read_series_csv(input_csv)
    if method in OFFSET_METHODS and all_series.denominator is None:
        raise SeriesInputError(
            input_csv, f"method {method!r} needs a 'denominator' column", column="denominator"
        )
    counts, dens, evals, firsts, keys = [], [], [], [], []
    for s in all_series:
        n = s.counts.size
        ords = s.first_ordinal + np.arange(n)
        keep = n if hi is None else int(np.searchsorted(ords, hi, side="right"))
        if keep == 0:
            continue  # the series starts after --to
        ev = np.arange(keep)
        if lo is not None:
            ev = ev[ords[:keep] >= lo]
        counts.append(s.counts[:keep])
        dens.append(None if s.denominator is None else s.denominator[:keep])
        evals.append(ev)
        firsts.append(s.first_ordinal)
        keys.append(s.key)

    has_den = bool(dens) and dens[0] is not None
    res = detect_panel_frame(
        method,
        counts,
        evaluate=evals,
        denominators=dens if has_den else None,
        alpha=DEFAULT_ALPHA if alpha is None else alpha,
    )
    res = res[res["upper"].notna()]
    ords = np.asarray(firsts, dtype=np.int64)[res["series"].to_numpy()] + res["index"].to_numpy()
    uniq, inv = np.unique(ords, return_inverse=True)
    labels = np.array([week_from_ordinal(int(o)) for o in uniq], dtype=object)
    result = pd.DataFrame(
        {
            "series": np.asarray(keys, dtype=object)[res["series"].to_numpy()],
            "week": labels[inv] if len(res) else np.array([], dtype=object),
            "observed": res["observed"].to_numpy(),
            "expected": res["expected"].to_numpy(),
            "upper": res["upper"].to_numpy(),
            "score": res["score"].to_numpy(),
            "alarm": res["alarm"].to_numpy().astype(int),
        },
        columns=OUTPUT_COLUMNS,
    )
    output_csv.parent.mkdir(parents=True, exist_ok=True)
    result.to_csv(output_csv, index=False, float_format="%.6g", columns=OUTPUT_COLUMNS)
    return SeriesRunSummary(
        series=len(all_series),
        evaluated_weeks=len(result),
        alarms=int(result["alarm"].sum()) if len(result) else 0,
        output=output_csv,
    )
