"""Run R's ``surveillance::farringtonFlexible`` on series, for reference checks and benchmarks.

Only used by tests and ``bench/detection``; the pipeline never needs R. Series go to R as a
long CSV (series, t, count, population, evaluate) and come back with R's upper bound, alarm,
expected count, p-value and score per evaluated week; R's own compute time (excluding start-up
and I/O) is reported too.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "R_SETTINGS",
    "Agreement",
    "RRun",
    "compare_with_r",
    "r_available",
    "r_surveillance_version",
    "run_r_farrington",
]

#: R ``control`` lists of the two reference settings (alpha added per call).
R_SETTINGS: dict[str, dict[str, Any]] = {
    "original": {
        "b": 5,
        "w": 3,
        "noPeriods": 1,
        "weightsThreshold": 1,
        "pastWeeksNotIncluded": 3,
        "pThresholdTrend": 0.05,
        "thresholdMethod": "delta",
        "powertrans": "2/3",
    },
    "improved": {
        "b": 5,
        "w": 3,
        "noPeriods": 10,
        "weightsThreshold": 2.58,
        "pastWeeksNotIncluded": 26,
        "pThresholdTrend": 1,
        "thresholdMethod": "nbPlugin",
    },
}

_R_SCRIPT = r"""
args <- commandArgs(trailingOnly = TRUE)
suppressPackageStartupMessages(library(surveillance))
d <- read.csv(args[1])
ctrl <- eval(parse(text = args[3]))
ctrl$glmWarnings <- FALSE
res <- list()
elapsed <- 0
for (s in split(d, d$series)) {
  sid <- s$series[1]
  s <- s[order(s$t), ]
  x <- sts(observed = matrix(s$count), frequency = 52, start = c(2000, 1),
           population = matrix(s$population))
  ctrl$range <- s$t[s$evaluate == 1]
  t0 <- proc.time()[["elapsed"]]
  r <- suppressWarnings(farringtonFlexible(x, control = ctrl))
  elapsed <- elapsed + proc.time()[["elapsed"]] - t0
  res[[length(res) + 1]] <- data.frame(
    series = sid, t = ctrl$range, upper = as.vector(upperbound(r)),
    alarm = as.integer(as.vector(alarms(r))), expected = r@control$expected[, 1],
    pvalue = r@control$pvalue[, 1], score = r@control$score[, 1])
}
write.csv(do.call(rbind, res), args[2], row.names = FALSE)
cat(elapsed, file = args[4])
"""


@dataclass
class RRun:
    results: pd.DataFrame  # series, index (0-based), upper, alarm, expected, pvalue, score
    r_seconds: float  # time inside farringtonFlexible, summed over processes
    wall_seconds: float  # including R start-up and CSV I/O


@lru_cache(maxsize=1)
def r_surveillance_version() -> str | None:
    """Version of the installed R surveillance package, or None if R/surveillance is absent."""
    if shutil.which("Rscript") is None:
        return None
    try:
        out = subprocess.run(
            ["Rscript", "-e", 'cat(as.character(packageVersion("surveillance")))'],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None


def r_available() -> tuple[bool, str]:
    """(available, reason) for skipping tests when R or surveillance is missing."""
    if shutil.which("Rscript") is None:
        return False, "Rscript not found (apt-get install r-cran-surveillance)"
    if r_surveillance_version() is None:
        return False, "R package 'surveillance' not installed (apt-get install r-cran-surveillance)"
    return True, ""


def _r_literal(control: dict[str, Any]) -> str:
    parts = []
    for key, value in control.items():
        if isinstance(value, bool):
            lit = "TRUE" if value else "FALSE"
        elif isinstance(value, str):
            lit = f'"{value}"'
        elif isinstance(value, (tuple, list)):
            lit = "c(" + ", ".join(str(v) for v in value) + ")"
        else:
            lit = repr(float(value)) if isinstance(value, float) else str(value)
        parts.append(f"{key} = {lit}")
    return "list(" + ", ".join(parts) + ")"


def _run_chunk(
    frame: pd.DataFrame, control: str, workdir: Path, tag: str
) -> tuple[pd.DataFrame, float]:
    inp, out, tim = workdir / f"in_{tag}.csv", workdir / f"out_{tag}.csv", workdir / f"t_{tag}"
    script = workdir / "run.R"
    frame.to_csv(inp, index=False)
    proc = subprocess.run(
        ["Rscript", str(script), str(inp), str(out), control, str(tim)],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"R farringtonFlexible failed:\n{proc.stderr[-4000:]}")
    return pd.read_csv(out), float(tim.read_text())


def run_r_farrington(
    series: Sequence[np.ndarray],
    evaluate: Sequence[np.ndarray],
    control: dict[str, Any],
    *,
    alpha: float,
    populations: Sequence[np.ndarray] | None = None,
    population_offset: bool = False,
    processes: int = 1,
) -> RRun:
    """Run R farringtonFlexible(control + alpha) on each series at its 0-based ``evaluate``.

    ``processes`` > 1 splits the series over that many concurrent Rscript processes.
    """
    ok, why = r_available()
    if not ok:
        raise RuntimeError(why)
    rows = []
    for sid, (y, ev) in enumerate(zip(series, evaluate, strict=True)):
        y = np.asarray(y, dtype=float)
        flag = np.zeros(y.size, dtype=int)
        flag[np.asarray(ev, dtype=int)] = 1
        pop = np.ones(y.size) if populations is None else np.asarray(populations[sid], float)
        rows.append(
            pd.DataFrame(
                {
                    "series": sid,
                    "t": np.arange(1, y.size + 1),
                    "count": y,
                    "population": pop,
                    "evaluate": flag,
                }
            )
        )
    data = pd.concat(rows, ignore_index=True)
    ctrl = dict(control, alpha=alpha, populationOffset=population_offset)
    literal = _r_literal(ctrl)
    ids = np.arange(len(series))
    chunks = [c for c in np.array_split(ids, max(1, min(processes, len(series)))) if c.size]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sentinel_r_") as tmp:
        workdir = Path(tmp)
        (workdir / "run.R").write_text(_R_SCRIPT)
        jobs = [
            (data[data["series"].isin(c)], literal, workdir, str(i)) for i, c in enumerate(chunks)
        ]
        with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
            done = list(pool.map(lambda j: _run_chunk(*j), jobs))
    wall = time.perf_counter() - t0
    res = pd.concat([d for d, _ in done], ignore_index=True)
    res["index"] = res.pop("t") - 1
    res = res.sort_values(["series", "index"]).reset_index(drop=True)
    return RRun(
        res[["series", "index", "upper", "alarm", "expected", "pvalue", "score"]],
        sum(s for _, s in done),
        wall,
    )


@dataclass
class Agreement:
    weeks: int  # evaluated weeks compared
    alarm_agreement: float  # share of weeks with the same alarm decision
    upper_compared: int  # weeks where R reports an upper bound
    max_rel_upper_diff: float  # max |py - R| / max(R, 1e-9) over those weeks
    upper_missing: int  # weeks where R has an upper bound and Python has none

    def as_dict(self) -> dict[str, float | int]:
        return dict(self.__dict__)


def compare_with_r(
    py_frames: Sequence[pd.DataFrame] | pd.DataFrame, r_results: pd.DataFrame
) -> Agreement:
    """Compare Python detector output with :func:`run_r_farrington`.

    ``py_frames`` is one frame per series (:func:`detect_panel`) or one frame with a
    ``series`` column (:func:`detect_panel_frame`). R reports no upper bound when its limit54
    rule applies or the GLM failed; those weeks count for the alarm comparison only (Python
    keeps the bound but raises no alarm).
    """
    if isinstance(py_frames, pd.DataFrame):
        py = py_frames[["series", "index", "upper", "alarm"]]
    else:
        py = pd.concat(
            [f[["index", "upper", "alarm"]].assign(series=i) for i, f in enumerate(py_frames)],
            ignore_index=True,
        )
    merged = r_results.merge(py, on=["series", "index"], how="left", suffixes=("_r", "_py"))
    alarm_r = merged["alarm_r"].fillna(0).astype(bool)
    alarm_py = merged["alarm_py"].fillna(False).astype(bool)
    has_r = merged["upper_r"].notna()
    up_r = merged.loc[has_r, "upper_r"].to_numpy(float)
    up_py = merged.loc[has_r, "upper_py"].to_numpy(float)
    missing = int(np.isnan(up_py).sum())
    with np.errstate(invalid="ignore"):
        rel = np.abs(up_py - up_r) / np.maximum(np.abs(up_r), 1e-9)
    rel = rel[~np.isnan(rel)]
    return Agreement(
        weeks=len(merged),
        alarm_agreement=float((alarm_r == alarm_py).mean()) if len(merged) else float("nan"),
        upper_compared=int(has_r.sum()),
        max_rel_upper_diff=float(rel.max()) if rel.size else 0.0,
        upper_missing=missing,
    )
