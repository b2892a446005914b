"""``sentinel patterns refresh`` before and after the combined matcher and the kept analyses,
on the same network in the same run.

    python -m bench.patterns [--home DIR] [--factor 3] [--before REV] [--quick] [--out DIR]

Builds a network by code from a warehouse after the main job (``--home``, default ``var/``):
its ``cases``, ``case_versions`` and ``case_coding`` copied ``--factor`` times, each copy with
its own case ids and a copy number appended to every narrative (`` [k]``: digits, which neither
the lexicon nor the term features read, so a copy is analysed like its original while its
content is new: nothing is found in the kept analyses that was not analysed in this run). The
pattern tables start empty. Then, for the code of ``--before`` (default: main before this
change, extracted with ``git archive``) and the current tree, each on its own copy of that
warehouse, three refreshes in a row, each in its own process (``bench/patterns/child.py``):

1. everything up to the second-to-last visit week (every case new: the first refresh of a
   network, or ``--rebuild``);
2. the last week (the weekly refresh: a week of new cases, relabelling the patterns they join);
3. again (nothing new).

Per refresh: wall and CPU seconds of the refresh call, the process's peak RSS (wait4, through
a small launcher), and whether the pattern tables (``case_patterns``, ``hazard_patterns``,
``pattern_processed``, ``pattern_refreshes``, ``provisional_patterns``; run times left out)
are identical between the two codes. ``--quick`` (smoke test) uses factor 1 and the first
5,000 cases. Results in ``bench/results/patterns/latest.md`` and ``latest.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/patterns/run.py`
    sys.path.insert(0, str(ROOT))

from bench.ingest.measure import Run, run_measured  # noqa: E402
from pipeline.config import Settings  # noqa: E402
from pipeline.storage import schema  # noqa: E402
from pipeline.storage.session import reader, writer  # noqa: E402

BEFORE = "a58700a"  # main before the combined matcher (issue 21 item 5)
OUT = ROOT / "bench" / "results" / "patterns"
CHILD = Path(__file__).with_name("child.py")
TABLES = ("cases", "case_versions", "case_coding")


def build(source: Settings, target: Settings, factor: int, limit: int | None) -> dict:
    """The network: ``TABLES`` of ``source``'s published snapshot, ``factor`` times (``limit``:
    only the first cases in visit order)."""
    keep = (
        "SELECT hospital_code, case_id FROM cases ORDER BY visit_datetime, hospital_code, case_id"
    )
    keep += f" LIMIT {int(limit)}" if limit else ""
    with reader(source) as src:
        frames = {
            t: src.sql(
                f"SELECT t.* FROM {t} t JOIN ({keep}) k USING (hospital_code, case_id)"
            ).to_arrow_table()
            for t in TABLES
        }
    with writer(target, create=True) as con:
        schema.initialise(con)
        for table, frame in frames.items():
            con.register("_src", frame)
            columns = [f.name for f in frame.schema]
            for k in range(factor):
                exprs = []
                for c in columns:
                    if k and c == "case_id":
                        exprs.append(f"case_id || '~{k}' AS case_id")
                    elif k and c == "narrative":
                        exprs.append(f"narrative || ' [{k}]' AS narrative")
                    else:
                        exprs.append(f'"{c}"')
                con.execute(f"INSERT INTO {table} BY NAME SELECT {', '.join(exprs)} FROM _src")
            con.unregister("_src")
        weeks = [
            w
            for (w,) in con.execute(
                "SELECT DISTINCT visit_week FROM coded_cases WHERE product_involved "
                "AND category_code IS NOT NULL ORDER BY 1"
            ).fetchall()
        ]
        counts = {
            "cases": con.execute("SELECT count(*) FROM cases").fetchone()[0],
            "coded_with_product": con.execute(
                "SELECT count(*) FROM coded_cases WHERE product_involved "
                "AND category_code IS NOT NULL"
            ).fetchone()[0],
            "distinct_narratives": con.execute(
                "SELECT count(DISTINCT (product_name, narrative)) FROM cases"
            ).fetchone()[0],
            "last_week_cases": con.execute(
                "SELECT count(*) FROM coded_cases WHERE product_involved AND category_code IS "
                "NOT NULL AND visit_week = ?",
                [weeks[-1]],
            ).fetchone()[0],
        }
    return {"weeks": weeks, **counts}


def extract(rev: str, dest: Path) -> str:
    """The ``pipeline`` package of commit ``rev`` under ``dest``; returns the full hash."""
    full = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--verify", f"{rev}^{{commit}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    dest.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", full, "pipeline"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return full


def refresh(label: str, code: Path, home: Path, week: str | None, timeout: float) -> Run:
    cmd = [sys.executable, str(CHILD), "--code", str(code), "--home", str(home)]
    if week:
        cmd += ["--week", week]
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env["PYTHONPATH"] = ""
    print(f"  {label} ...", flush=True)
    run = run_measured(label, cmd, env, timeout, cwd=home)
    if run.returncode == 0:
        run.extra = json.loads(run.stdout.strip().splitlines()[-1])
        print(
            f"  {label}: {run.extra['wall']:.1f} s wall, {run.extra['cpu']:.1f} s CPU, "
            f"peak {run.peak_mb:.0f} MB",
            flush=True,
        )
    else:
        print(f"  {label}: FAILED ({run.returncode}): {run.stderr[-1500:]}", flush=True)
    return run


def markdown(meta: dict, stages: list[dict]) -> str:
    lines = [
        f"# bench.patterns ({meta['mode']}), {meta['started']}",
        "",
        f"Machine: {meta['machine']}; load average {meta['load_before']} before, "
        f"{meta['load_after']} after; total {meta['total_seconds']:.0f} s.",
        f"Network: {meta['network']['cases']:,} cases ({meta['network']['coded_with_product']:,} "
        f"coded with a product, {meta['network']['distinct_narratives']:,} distinct narratives), "
        f"{meta['factor']}x `{meta['source']}`; before = `{meta['before'][:10]}`, "
        f"after = the working tree.",
        "",
        "| refresh | new cases | before: wall s / CPU s / peak MB | after: wall s / CPU s / "
        "peak MB | CPU ratio | narratives analysed (after) | tables identical |",
        "|---|---:|---|---|---:|---:|---|",
    ]
    for s in stages:
        b, a = s["before"], s["after"]

        def cell(run: dict) -> str:
            if run["returncode"] != 0:
                return "failed"
            return f"{run['extra']['wall']:.1f} / {run['extra']['cpu']:.1f} / {run['peak_mb']:.0f}"

        ok = b["returncode"] == 0 and a["returncode"] == 0
        ratio = f"{b['extra']['cpu'] / max(a['extra']['cpu'], 1e-9):.1f}x" if ok else "-"
        analysed = a["extra"]["result"].get("narratives_analysed", "-") if ok else "-"
        same = "yes" if ok and b["extra"]["checksums"] == a["extra"]["checksums"] else "**NO**"
        new = a["extra"]["result"].get("new_cases", "-") if ok else "-"
        lines.append(
            f"| {s['title']} | {new:,} | {cell(b)} | {cell(a)} | {ratio} | "
            f"{analysed if isinstance(analysed, str) else f'{analysed:,}'} | {same} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=ROOT / "var", help="a home after the main job")
    parser.add_argument("--factor", type=int, default=3)
    parser.add_argument("--before", default=BEFORE, help="git revision of the 'before' code")
    parser.add_argument("--quick", action="store_true", help="factor 1, the first 5,000 cases")
    parser.add_argument("--timeout", type=float, default=3600)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    factor, limit = (1, 5000) if args.quick else (args.factor, None)
    started = time.monotonic()
    meta = {
        "mode": "quick" if args.quick else "full",
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        "load_before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "factor": factor,
        "source": str(args.home),
    }
    source = Settings.from_env().with_overrides(home=args.home.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-patterns-") as tmp:
        tmp = Path(tmp)
        meta["before"] = extract(args.before, tmp / "before-code")
        base = Settings(home=tmp / "network", landing_dir=tmp)
        network = build(source, base, factor, limit)
        meta["network"] = network
        print(
            f"network: {network['cases']:,} cases, {network['coded_with_product']:,} coded with "
            f"a product, weeks {network['weeks'][0]} .. {network['weeks'][-1]}",
            flush=True,
        )
        homes = {}
        for side in ("before", "after"):
            homes[side] = tmp / f"home-{side}"
            homes[side].mkdir()
            shutil.copy(base.warehouse_path, homes[side] / "warehouse.duckdb")
        code = {"before": tmp / "before-code", "after": ROOT}
        plan = [
            (f"first refresh, up to {network['weeks'][-2]}", network["weeks"][-2]),
            (f"the next week, {network['weeks'][-1]}", network["weeks"][-1]),
            ("nothing new", None),
        ]
        stages = []
        for title, week in plan:
            print(f"{title}:", flush=True)
            stage = {"title": title}
            for side in ("before", "after"):
                stage[side] = refresh(
                    f"{side}", code[side], homes[side], week, args.timeout
                ).to_dict()
            stages.append(stage)
    meta["load_after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    meta["total_seconds"] = time.monotonic() - started
    text = markdown(meta, stages)
    print()
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.md").write_text(text, encoding="utf-8")
    (args.out / "latest.json").write_text(
        json.dumps({"meta": meta, "stages": stages}, indent=1), encoding="utf-8"
    )
    failed = [s["title"] for s in stages for side in ("before", "after") if s[side]["returncode"]]
    differ = [
        s["title"]
        for s in stages
        if not failed and s["before"]["extra"]["checksums"] != s["after"]["extra"]["checksums"]
    ]
    if failed or differ:
        print(f"FAILED: {failed or ''} tables differ: {differ or ''}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
