"""Detection benchmark: Noufaily et al. (2013) simulation, Python detectors vs R surveillance.

    python -m bench.detection [--replicates 10] [--quick] [--no-r] [--processes N]

For each of the 42 scenarios and each replicate: one series without a current outbreak (false
positives over the last 49 weeks) and one series per outbreak size k = 1..10 (detected if any
week from the outbreak's start to its last week alarms). All detectors run at alpha = 0.005.
R's farringtonFlexible (original and improved settings) runs on the same series; its results
are cached under bench/.cache/detection keyed by generator version, seed, alpha, R control and
R package version, so reruns only compute what changed. Runtime of Python vs R is measured
afresh on a subset in every run; a scale test times one week of detection for 5,000 series with
5 years of history. Results: bench/results/detection/ (CSV, markdown, JSON).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/detection/run.py`
    sys.path.insert(0, str(ROOT))

from sentinel_tools.rreference import (  # noqa: E402
    R_SETTINGS,
    compare_with_r,
    r_available,
    r_surveillance_version,
    run_r_farrington,
)
from sentinel_tools.simulate import (  # noqa: E402
    GENERATOR_VERSION,
    OUTBREAK_KS,
    SCENARIOS,
    Scenario,
    simulate_replicate,
)

from pipeline.detection.registry import detect_panel_frame  # noqa: E402
from pipeline.detection.series_io import run_detect_series  # noqa: E402
from pipeline.isoweek import week_from_ordinal, week_ordinal  # noqa: E402

ALPHA = 0.005
PY_METHODS = (
    "farrington-noufaily",
    "farrington-original",
    "glrnb",
    "auto",
    "auto-rise",
    "short-window",
    "ears-c1",
    "ears-c2",
    "ears-c3",
    "short-history",
)
R_TO_PY = {"original": "farrington-original", "improved": "farrington-noufaily"}
CACHE = ROOT / "bench" / ".cache" / "detection"
OUT = ROOT / "bench" / "results" / "detection"


@dataclass
class Unit:
    """One (scenario, replicate): the FPR series and the outbreak series."""

    scenario: Scenario
    replicate: int
    fpr_series: np.ndarray
    fpr_eval: np.ndarray
    pod_series: list[np.ndarray]
    pod_eval: list[np.ndarray]  # outbreak weeks start..end


def build_units(replicates: int, seed: int) -> list[Unit]:
    units = []
    for sc in SCENARIOS:
        for r in range(replicates):
            rep = simulate_replicate(sc, r, seed=seed)
            pods, evs = [], []
            for k in OUTBREAK_KS:
                series, ob = rep.outbreaks[k]
                pods.append(series)
                evs.append(np.arange(ob.start, ob.end + 1))
            units.append(Unit(sc, r, rep.counts, rep.evaluate, pods, evs))
    return units


def flatten(units: list[Unit]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """All series of all units, FPR series first then the 10 outbreak series, unit by unit."""
    series, evals = [], []
    for u in units:
        series.append(u.fpr_series)
        evals.append(u.fpr_eval)
        series.extend(u.pod_series)
        evals.extend(u.pod_eval)
    return series, evals


def summarise(units: list[Unit], alarms: list[np.ndarray], method: str) -> pd.DataFrame:
    """Per-scenario FPR and POD(k) from per-series alarm vectors (flatten() order)."""
    per = 1 + len(OUTBREAK_KS)
    rows = []
    for i, u in enumerate(units):
        block = alarms[i * per : (i + 1) * per]
        rows.append(
            {
                "scenario": u.scenario.id,
                "fp": int(block[0].sum()),
                "weeks": int(u.fpr_eval.size),
                **{f"det_k{k}": bool(block[j + 1].any()) for j, k in enumerate(OUTBREAK_KS)},
            }
        )
    df = pd.DataFrame(rows).groupby("scenario").agg("sum")
    out = pd.DataFrame({"fpr": df["fp"] / df["weeks"]})
    n_rep = len(units) // len(SCENARIOS)
    for k in OUTBREAK_KS:
        out[f"pod_k{k}"] = df[f"det_k{k}"] / n_rep
    out.insert(0, "method", method)
    return out.reset_index()


def frame_alarms(frame: pd.DataFrame, evals: list[np.ndarray]) -> list[np.ndarray]:
    """Per-series alarm vectors aligned with ``evals`` from a detect_panel_frame result."""
    bounds = np.searchsorted(frame["series"].to_numpy(), np.arange(len(evals) + 1))
    idx, alarm = frame["index"].to_numpy(), frame["alarm"].to_numpy()
    out = []
    for i, ev in enumerate(evals):
        a = np.zeros(ev.size, dtype=bool)
        sl = slice(bounds[i], bounds[i + 1])
        a[np.searchsorted(ev, idx[sl])] = alarm[sl]
        out.append(a)
    return out


def run_python(units: list[Unit], method: str) -> tuple[list[np.ndarray], float]:
    series, evals = flatten(units)
    t0 = time.perf_counter()
    frame = detect_panel_frame(method, series, evaluate=evals, alpha=ALPHA)
    elapsed = time.perf_counter() - t0
    return frame_alarms(frame, evals), elapsed


def _cache_key(setting: str, seed: int) -> str:
    payload = json.dumps(
        {
            "generator": GENERATOR_VERSION,
            "seed": seed,
            "alpha": ALPHA,
            "control": R_SETTINGS[setting],
            "surveillance": r_surveillance_version(),
            "design": "fpr49+pod-start-end-v1",
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


def run_r_cached(
    units: list[Unit], setting: str, seed: int, processes: int
) -> tuple[list[pd.DataFrame], int]:
    """R results per unit (rows: series 0..10 within the unit), computing only missing units."""
    key = _cache_key(setting, seed)
    folder = CACHE / setting
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"s{u.scenario.id:02d}_r{u.replicate:03d}_{key}.csv" for u in units]
    todo = [i for i, p in enumerate(paths) if not p.exists()]
    if todo:
        print(f"  R {setting}: computing {len(todo)} of {len(units)} units ...", flush=True)
        series, evals = flatten([units[i] for i in todo])
        run = run_r_farrington(series, evals, R_SETTINGS[setting], alpha=ALPHA, processes=processes)
        per = 1 + len(OUTBREAK_KS)
        res = run.results
        for j, i in enumerate(todo):
            part = res[(res["series"] >= j * per) & (res["series"] < (j + 1) * per)].copy()
            part["series"] -= j * per
            tmp = paths[i].with_suffix(".tmp")
            part.to_csv(tmp, index=False)
            tmp.replace(paths[i])  # atomic: an interrupted run leaves no half file
    return [pd.read_csv(p) for p in paths], len(todo)


def r_alarms(units: list[Unit], parts: list[pd.DataFrame]) -> list[np.ndarray]:
    alarms = []
    for u, part in zip(units, parts, strict=True):
        evs = [u.fpr_eval, *u.pod_eval]
        for s, ev in enumerate(evs):
            sub = part[part["series"] == s]
            a = np.zeros(ev.size, dtype=bool)
            a[np.searchsorted(ev, sub["index"].to_numpy())] = sub["alarm"].to_numpy() == 1
            alarms.append(a)
    return alarms


def timing(units: list[Unit], n_series: int) -> list[dict[str, float | str | int]]:
    """Fresh runtime comparison on the FPR series of the first units (49 weeks each)."""
    pick = units[:: max(1, len(units) // n_series)][:n_series]
    series = [u.fpr_series for u in pick]
    evals = [u.fpr_eval for u in pick]
    rows = []
    for setting, method in R_TO_PY.items():
        t0 = time.perf_counter()
        detect_panel_frame(method, series, evaluate=evals, alpha=ALPHA)
        py = time.perf_counter() - t0
        r = run_r_farrington(series, evals, R_SETTINGS[setting], alpha=ALPHA, processes=1)
        rows.append(
            {
                "setting": setting,
                "series": len(series),
                "weeks": int(sum(e.size for e in evals)),
                "python_s": py,
                "r_compute_s": r.r_seconds,
                "r_wall_s": r.wall_seconds,
                "speedup_compute": r.r_seconds / py,
                "speedup_wall": r.wall_seconds / py,
            }
        )
    return rows


def scale_test(n_series: int = 5000, seed: int = 7) -> dict[str, float | int]:
    """One week of detection for n_series series with 5 years (+4 weeks) of history."""
    rng = np.random.default_rng(seed)
    weeks = 5 * 52 + 4
    t = np.arange(weeks)
    means = rng.gamma(1.5, 4.0, n_series)[:, None] * np.exp(
        0.3 * np.sin(2 * np.pi * (t[None, :] + rng.integers(0, 52, (n_series, 1))) / 52)
    )
    counts = rng.negative_binomial(means / 0.5, 1 / 1.5).astype(float)
    series = list(counts)
    out: dict[str, float | int] = {"series": n_series, "weeks_of_history": weeks - 1}
    for method in ("auto", "farrington-noufaily", "glrnb"):
        t0 = time.perf_counter()
        frame = detect_panel_frame(method, series, alpha=ALPHA)
        out[f"{method}_s"] = time.perf_counter() - t0
        out[f"{method}_alarms"] = int(frame["alarm"].sum())
    # The same through the CSV contract (read, validate, detect, write).
    first = week_ordinal("2019-W01")
    labels = np.array([week_from_ordinal(first + i) for i in range(weeks)])
    long = pd.DataFrame(
        {
            "series": np.repeat([f"s{i:05d}" for i in range(n_series)], weeks),
            "week": np.tile(labels, n_series),
            "count": counts.astype(int).ravel(),
        }
    )
    long = long[long["count"] > 0]
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.csv", Path(tmp) / "out.csv"
        long.to_csv(inp, index=False)
        t0 = time.perf_counter()
        run_detect_series(inp, "auto", outp, from_week=labels[-1], to_week=labels[-1])
        out["detect_series_csv_auto_s"] = time.perf_counter() - t0
    return out


def markdown(table: pd.DataFrame, extra: dict) -> str:
    lines = ["# Detection benchmark (Noufaily et al. 2013 design)", ""]
    lines.append(
        f"42 scenarios x {extra['replicates']} replicates, alpha = {ALPHA} one-sided, "
        f"seed {extra['seed']}, R surveillance {extra['surveillance']}."
    )
    lines += ["", "## Mean over scenarios", ""]
    cols = ["fpr", *[f"pod_k{k}" for k in OUTBREAK_KS]]
    summ = table.groupby("method", sort=False)[cols].mean()
    summ["max_fpr"] = table.groupby("method", sort=False)["fpr"].max()
    summ["scen_fpr_gt_0.5%"] = (
        table.assign(b=table["fpr"] > ALPHA).groupby("method", sort=False)["b"].sum()
    )
    head = (
        "| method | FPR | max FPR | scen. FPR>0.5% | "
        + " | ".join(f"POD k={k}" for k in OUTBREAK_KS)
        + " |"
    )
    lines += [head, "|" + "---|" * (4 + len(OUTBREAK_KS))]
    for m, r in summ.iterrows():
        pods = " | ".join(f"{r[f'pod_k{k}']:.3f}" for k in OUTBREAK_KS)
        lines.append(
            f"| {m} | {r['fpr'] * 100:.2f}% | {r['max_fpr'] * 100:.2f}% | "
            f"{int(r['scen_fpr_gt_0.5%'])} | {pods} |"
        )
    if extra.get("agreement"):
        lines += ["", "## Agreement with R on all benchmark weeks", ""]
        for s, a in extra["agreement"].items():
            lines.append(
                f"- {s}: alarm agreement {a['alarm_agreement'] * 100:.3f}% of {a['weeks']} "
                f"weeks; max relative upper-bound difference {a['max_rel_upper_diff']:.2e} "
                f"over {a['upper_compared']} weeks"
            )
    if extra.get("timing"):
        lines += ["", "## Runtime (same series, measured in this run)", ""]
        lines.append(
            "| setting | series | weeks | Python s | R compute s | R wall s | "
            "speed-up (compute) | speed-up (wall) |"
        )
        lines.append("|---|---|---|---|---|---|---|---|")
        for t in extra["timing"]:
            lines.append(
                f"| {t['setting']} | {t['series']} | {t['weeks']} | {t['python_s']:.2f} | "
                f"{t['r_compute_s']:.1f} | {t['r_wall_s']:.1f} | {t['speedup_compute']:.0f}x | "
                f"{t['speedup_wall']:.0f}x |"
            )
    sc = extra["scale"]
    lines += ["", "## Scale: one week, 5,000 series, 5 years of history", ""]
    for k, v in sc.items():
        lines.append(f"- {k}: {v:.2f}" if isinstance(v, float) else f"- {k}: {v}")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--replicates", type=int, default=10)
    ap.add_argument("--quick", action="store_true", help="2 replicates, 20 timing series")
    ap.add_argument("--seed", type=int, default=20130601)
    ap.add_argument("--no-r", action="store_true", help="skip R (Python detectors only)")
    ap.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--timing-series", type=int, default=200)
    ap.add_argument("--scale-series", type=int, default=5000)
    ap.add_argument("--out", type=Path, default=OUT)
    args = ap.parse_args(argv)
    if args.quick:
        args.replicates = min(args.replicates, 2)
        args.timing_series = min(args.timing_series, 20)

    t_start = time.perf_counter()
    print(f"simulating 42 scenarios x {args.replicates} replicates ...", flush=True)
    units = build_units(args.replicates, args.seed)
    tables = []
    py_alarms: dict[str, list[np.ndarray]] = {}
    py_time = {}
    for m in PY_METHODS:
        alarms, secs = run_python(units, m)
        py_alarms[m] = alarms
        py_time[m] = secs
        tables.append(summarise(units, alarms, m))
        print(f"  {m:22s} {secs:6.1f}s", flush=True)

    extra: dict = {
        "replicates": args.replicates,
        "seed": args.seed,
        "surveillance": None,
        "python_seconds": py_time,
    }
    use_r = not args.no_r and r_available()[0]
    if use_r:
        extra["surveillance"] = r_surveillance_version()
        extra["agreement"] = {}
        for setting, pym in R_TO_PY.items():
            parts, computed = run_r_cached(units, setting, args.seed, args.processes)
            ra = r_alarms(units, parts)
            tables.append(summarise(units, ra, f"R {setting}"))
            # Agreement: Python frames vs R rows, series by series.
            series, evals = flatten(units)
            frames = detect_panel_frame(pym, series, evaluate=evals, alpha=ALPHA)
            per = 1 + len(OUTBREAK_KS)
            r_all = pd.concat(
                [p.assign(series=p["series"] + i * per) for i, p in enumerate(parts)],
                ignore_index=True,
            )
            extra["agreement"][setting] = compare_with_r(frames, r_all).as_dict()
            print(
                f"  R {setting}: {computed} units computed, agreement "
                f"{extra['agreement'][setting]}",
                flush=True,
            )
        print(f"timing on {args.timing_series} series (R single process) ...", flush=True)
        extra["timing"] = timing(units, args.timing_series)
    else:
        print("R/surveillance not available: skipping the R comparison", flush=True)

    print(f"scale test: {args.scale_series} series ...", flush=True)
    extra["scale"] = scale_test(args.scale_series)
    table = pd.concat(tables, ignore_index=True)
    meta = {sc.id: sc for sc in SCENARIOS}
    table.insert(1, "block", table["scenario"].map(lambda i: meta[i].block))
    table.insert(2, "trend", table["scenario"].map(lambda i: meta[i].trend))
    table.insert(3, "season_m", table["scenario"].map(lambda i: meta[i].m))

    args.out.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out / "per_scenario.csv", index=False, float_format="%.5f")
    md = markdown(table, extra)
    (args.out / "summary.md").write_text(md, encoding="utf-8")
    extra["total_seconds"] = time.perf_counter() - t_start
    (args.out / "summary.json").write_text(json.dumps(extra, indent=2, default=str))
    print()
    print(md)
    print(f"total {extra['total_seconds']:.0f}s; results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
