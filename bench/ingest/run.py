"""Intake benchmark: ``sentinel validate`` and ``sentinel ingest`` against a bare DuckDB copy.

    python -m bench.ingest [--quick] [--rows N ...] [--files N] [--no-stages] [--timeout S]
                           [--out DIR] [--cache DIR]

Builds (once, cached under ``bench/.cache/ingest``) deterministic extracts in the project's
own CSV format (``bench/ingest/extracts.py``): one hospital's year of cases as one file of
100,000, 300,000 and 1,000,000 rows, one daily file of about 30 rows from each of 200
hospitals (a generated registry, through ``SENTINEL_HOSPITAL_REGISTRY``), and 200 daily files
of one hospital. Then, each in its own child process with a time bound, back to back:

- baseline: DuckDB ``COPY (SELECT * FROM read_csv(...)) TO '....parquet'`` of the same files
  (the small files one after the other in one process: "reading them");
- ``sentinel validate FILE --hospital CODE`` (the clerk's dry run; for the small files one
  file), which must exit 0 (every row passes);
- ``sentinel ingest --landing DIR`` into an empty ``SENTINEL_HOME``, whose statuses must all be
  ``accepted``; the time spent building Great Expectations Data Docs inside it is recorded;
- on the 100,000-row warehouse: ``sentinel coding run`` and ``sentinel patterns refresh``.

Wall time and peak RSS are the child's own (``wait4``); ratios are against the baseline of the
same run. ``--quick`` (CI smoke) uses 2,000 and 6,000 rows and 10 small files each. Figures are
printed and written to ``bench/results/ingest/latest.json`` and ``latest.md``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/ingest/run.py`
    sys.path.insert(0, str(ROOT))

from bench.ingest.extracts import Extract, Workloads, build_workloads  # noqa: E402
from bench.ingest.measure import Run, run_measured  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "ingest"
OUT = ROOT / "bench" / "results" / "ingest"
SEED = 20261205
KEY = "bench-ingest-pseudonym-key-0123456789"
FULL = {"large": (100_000, 300_000, 1_000_000), "hospitals": 200, "days": 200, "timeout": 1800}
QUICK = {"large": (2_000, 6_000), "hospitals": 10, "days": 10, "timeout": 600}


@dataclass
class Row:
    """One line of the table: a workload and its measured runs."""

    work: str
    rows: int
    files: int
    baseline: Run | None = None
    validate: Run | None = None
    validate_files: int = 1
    ingest: Run | None = None
    problems: list[str] = field(default_factory=list)


class Bench:
    def __init__(self, workloads: Workloads, scratch: Path, timeout: float) -> None:
        self.w, self.scratch, self.timeout = workloads, scratch, timeout
        self.python = sys.executable
        self.sentinel = str(Path(sys.executable).with_name("sentinel"))
        self.runs: list[Run] = []

    def env(self, home: Path) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            SENTINEL_HOME=str(home),
            SENTINEL_HOSPITAL_REGISTRY=str(self.w.registry),
            SENTINEL_PSEUDONYM_KEY=KEY,
            PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        )
        return env

    def home(self, name: str) -> Path:
        path = self.scratch / name
        shutil.rmtree(path, ignore_errors=True)
        return path

    def measure(self, label: str, cmd: list[str], home: Path) -> Run:
        print(f"  {label} ...", end="", flush=True)
        run = run_measured(label, cmd, self.env(home), self.timeout, cwd=ROOT)
        state = "TIMEOUT" if run.timed_out else f"exit {run.returncode}"
        print(f" {run.seconds:.1f} s, {run.peak_mb:.0f} MB ({state})", flush=True)
        self.runs.append(run)
        return run

    def baseline(self, label: str, files: list[Extract]) -> Run:
        out = self.home(f"copy-{label}")
        cmd = [self.python, "-m", "bench.ingest.child", "copy", str(out)]
        run = self.measure(f"{label}: duckdb copy", cmd + [str(f.path) for f in files], out)
        if run.returncode == 0:
            run.extra.update(json.loads(run.stdout.strip().splitlines()[-1]))
        shutil.rmtree(out, ignore_errors=True)
        return run

    def validate(self, label: str, f: Extract) -> Run:
        home = self.home(f"validate-{label}")
        cmd = [self.sentinel, "validate", str(f.path), "--hospital", f.hospital, "--json"]
        run = self.measure(f"{label}: sentinel validate", cmd, home)
        if run.returncode in (0, 1, 2):
            receipt = json.loads(run.stdout)
            run.extra.update(status=receipt.get("status"), rows=receipt.get("rows_received"))
        shutil.rmtree(home, ignore_errors=True)
        return run

    def ingest(self, label: str, landing: Path, keep: bool = False) -> tuple[Run, Path]:
        home = self.home(f"ingest-{label}")
        stats = self.scratch / f"docs-{label}.json"
        cmd = [self.python, "-m", "bench.ingest.child", "sentinel", str(stats)]
        run = self.measure(
            f"{label}: sentinel ingest", cmd + ["ingest", "--landing", str(landing)], home
        )
        if run.returncode == 0:
            run.extra.update(json.loads(run.stdout[run.stdout.index("{") :]))
        if stats.exists():
            run.extra.update(json.loads(stats.read_text()))
        if not keep:
            shutil.rmtree(home, ignore_errors=True)
        return run, home

    def stage(self, label: str, args: list[str], home: Path) -> Run:
        run = self.measure(label, [self.sentinel, *args], home)
        if run.returncode == 0 and "{" in run.stdout:
            with contextlib.suppress(json.JSONDecodeError):
                run.extra.update(json.loads(run.stdout[run.stdout.index("{") :]))
        return run


def _check(row: Row) -> None:
    """Every figure must come from a run that did the whole job."""
    for name, run in (("copy", row.baseline), ("validate", row.validate), ("ingest", row.ingest)):
        if run is None:
            continue
        if run.timed_out:
            row.problems.append(f"{name}: timed out after {run.seconds:.0f} s")
        elif name == "validate" and run.returncode != 0:
            row.problems.append(f"validate: exit {run.returncode} (some rows did not pass)")
        elif run.returncode != 0:
            row.problems.append(f"{name}: exit {run.returncode}: {run.stderr[-300:]!r}")
    if row.baseline and row.baseline.returncode == 0 and row.baseline.extra["rows"] != row.rows:
        row.problems.append(f"copy read {row.baseline.extra['rows']} rows, expected {row.rows}")
    if row.ingest and row.ingest.returncode == 0:
        statuses = row.ingest.extra.get("statuses", {})
        if statuses != {"accepted": row.files}:
            row.problems.append(f"ingest statuses {statuses}, expected {row.files} accepted")


def run_all(workloads: Workloads, scratch: Path, timeout: float, refresh_rows: int) -> dict:
    bench = Bench(workloads, scratch, timeout)
    rows: list[Row] = []
    stages: list[tuple[str, Run]] = []
    for n, extract in sorted(workloads.large.items()):
        label = f"{n:,} rows"
        print(f"{label}, one extract of {extract.hospital}:", flush=True)
        row = Row(f"one extract of {n:,} rows", n, 1)
        row.baseline = bench.baseline(label, [extract])
        row.validate = bench.validate(label, extract)
        row.ingest, home = bench.ingest(label, extract.path.parent.parent, keep=n == refresh_rows)
        _check(row)
        rows.append(row)
        if n == refresh_rows and row.ingest.returncode == 0:
            stages.append(
                (
                    f"sentinel coding run ({n:,} cases)",
                    bench.stage(f"{label}: coding", ["coding", "run"], home),
                )
            )
            stages.append(
                (
                    f"sentinel patterns refresh ({n:,} cases)",
                    bench.stage(f"{label}: patterns", ["patterns", "refresh"], home),
                )
            )
            shutil.rmtree(home, ignore_errors=True)
    small = (
        ("many_hospitals", workloads.many_hospitals, "daily files, one from each of {h} hospitals"),
        ("one_hospital", workloads.one_hospital, "daily files of one hospital ({d} days)"),
    )
    for key, files, title in small:
        hospitals = len({f.hospital for f in files})
        work = f"{len(files)} " + title.format(h=hospitals, d=len(files))
        print(f"{work}:", flush=True)
        row = Row(work, sum(f.rows for f in files), len(files))
        row.baseline = bench.baseline(key, files)
        row.validate = bench.validate(key, files[len(files) // 2])
        row.ingest, _ = bench.ingest(key, Workloads.landing_of(files))
        _check(row)
        rows.append(row)
        if row.ingest.returncode == 0 and "data_docs_seconds" in row.ingest.extra:
            docs = row.ingest.extra
            stages.append(
                (
                    f"Data Docs builds inside the ingest of the {work} "
                    f"({docs['data_docs_builds']} builds)",
                    Run(
                        "data docs",
                        docs["data_docs_seconds"],
                        float("nan"),
                        0,
                        "",
                        "",
                        {"share_of_ingest": docs["data_docs_seconds"] / row.ingest.seconds},
                    ),
                )
            )
    return {"rows": rows, "stages": stages, "runs": bench.runs}


def _secs(run: Run | None) -> str:
    if run is None:
        return "-"
    if run.timed_out:
        return f"TIMEOUT>{run.seconds:.0f}"
    return f"{run.seconds:.1f}" if run.seconds < 100 else f"{run.seconds:.0f}"


def _gb(run: Run | None) -> str:
    return "-" if run is None or run.peak_mb != run.peak_mb else f"{run.peak_mb / 1024:.2f}"


def _ratio(run: Run | None, base: Run | None) -> str:
    if run is None or base is None or run.returncode != 0 or base.returncode != 0:
        return "-"
    return (
        f"{run.seconds / base.seconds:.0f}x"
        if run.seconds >= 10 * base.seconds
        else (f"{run.seconds / base.seconds:.1f}x")
    )


def markdown(result: dict, meta: dict) -> str:
    lines = [
        f"# bench.ingest ({meta['mode']}), {meta['started']}",
        "",
        f"Machine: {meta['machine']}; load average {meta['load_before']} before, "
        f"{meta['load_after']} after; total {meta['total_seconds']:.0f} s.",
        "",
        "| work | rows | baseline: duckdb copy s (peak GB) | sentinel validate s (peak GB) | "
        "ratio | sentinel ingest s (peak GB) | ratio | ingest per row / per file |",
        "|---|---:|---|---|---:|---|---:|---|",
    ]
    for r in result["rows"]:
        per = "-"
        if r.ingest and r.ingest.returncode == 0:
            per = (
                f"{r.ingest.seconds / r.files:.2f} s a file"
                if r.files > 1
                else f"{r.ingest.seconds / r.rows * 1e6:.0f} µs a row"
            )
        validate = f"{_secs(r.validate)} ({_gb(r.validate)})"
        if r.files > 1:
            validate += " one file"
        lines.append(
            f"| {r.work} | {r.rows:,} | {_secs(r.baseline)} ({_gb(r.baseline)}) | {validate} | "
            f"{_ratio(r.validate, r.baseline) if r.files == 1 else '-'} | "
            f"{_secs(r.ingest)} ({_gb(r.ingest)}) | {_ratio(r.ingest, r.baseline)} | {per} |"
        )
    lines += ["", "| stage | s | peak GB | note |", "|---|---:|---:|---|"]
    for title, run in result["stages"]:
        note = ""
        if "share_of_ingest" in run.extra:
            note = f"{run.extra['share_of_ingest']:.0%} of the ingest"
        elif run.returncode != 0:
            note = "TIMEOUT" if run.timed_out else f"exit {run.returncode}"
        lines.append(f"| {title} | {_secs(run)} | {_gb(run)} | {note} |")
    problems = [f"- {r.work}: {p}" for r in result["rows"] for p in r.problems]
    problems += [
        f"- {t}: {'timed out' if run.timed_out else f'exit {run.returncode}'}"
        for t, run in result["stages"]
        if run.returncode != 0
    ]
    lines += ["", "Problems:" if problems else "Every run completed and every row was accepted."]
    lines += problems
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="CI smoke run: small sizes")
    ap.add_argument("--timeout", type=float, help="time bound of each run, seconds")
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--cache", type=Path, default=CACHE, help="where extracts are kept")
    ap.add_argument("--rows", type=int, nargs="+", help="sizes of the large extracts")
    ap.add_argument("--files", type=int, help="small files: hospitals, and days of one")
    ap.add_argument("--no-stages", action="store_true", help="skip coding/patterns stages")
    args = ap.parse_args(argv)
    plan = dict(QUICK if args.quick else FULL)
    if args.rows:
        plan["large"] = tuple(args.rows)
    if args.files:
        plan["hospitals"] = plan["days"] = args.files
    timeout = args.timeout or plan["timeout"]
    started = time.monotonic()
    meta = {
        "mode": "quick" if args.quick else "full",
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "timeout": timeout,
    }
    workloads = build_workloads(
        args.cache,
        large_rows=plan["large"],
        small_hospitals=plan["hospitals"],
        small_days=plan["days"],
        small_rows=30,
        seed=SEED,
    )
    with tempfile.TemporaryDirectory(prefix="bench-ingest-") as scratch:
        refresh = -1 if args.no_stages else plan["large"][0]
        result = run_all(workloads, Path(scratch), timeout, refresh_rows=refresh)
    meta["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    meta["total_seconds"] = time.monotonic() - started
    text = markdown(result, meta)
    print()
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    payload = {
        **meta,
        "extracts": str(workloads.root),
        "rows": [
            {
                "work": r.work,
                "rows": r.rows,
                "files": r.files,
                "problems": r.problems,
                **{
                    k: getattr(r, k).to_dict() if getattr(r, k) else None
                    for k in ("baseline", "validate", "ingest")
                },
            }
            for r in result["rows"]
        ],
        "stages": [{"stage": t, **run.to_dict()} for t, run in result["stages"]],
    }
    (args.out / "latest.json").write_text(json.dumps(payload, indent=1, default=str))
    print(f"results: {args.out / 'latest.md'}")
    failed = any(r.problems for r in result["rows"]) or any(
        run.returncode != 0 for _, run in result["stages"]
    )
    return 1 if failed else 0
