"""What publishing a snapshot costs at 10x the shipped sample, against a plain ``cp``.

    python -m bench.publish [--home DIR] [--factor 10] [--out FILE.md]

Builds a warehouse by code: every table of a warehouse after the main job (``--home``, default
``var/`` of the README's main job) copied ``--factor`` times with the case keys, submission ids
and alert ids made unique per copy, so row counts and sizes are 10x the sample's. Then, in the
same run and on the same file, it times

* the publication a writing run ends with (``pipeline.storage.publish.publish``: copy, manifest
  row written into the copy and checkpointed, fsync, rename, pointer), in a child process so its
  peak RSS is its own;
* a plain ``cp`` of the same file (also a child process), plus ``sync`` of the copy.

Prints the warehouse size, seconds and peak RSS of each, and the ratio. The warehouse is built
with the session helper (``writer``) like any writing run; nothing touches ``--home``.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # allow `python bench/publish/run.py`
    sys.path.insert(0, str(ROOT))

from pipeline.config import Settings  # noqa: E402
from pipeline.storage import schema  # noqa: E402
from pipeline.storage.read_tables import DERIVED_TABLES  # noqa: E402
from pipeline.storage.session import reader, writer  # noqa: E402

# Columns made unique per copy (the keys of every table that has them).
KEYED = {
    "case_id",
    "submission_id",
    "alert_id",
    "review_id",
    "event_id",
    "followup_id",
    "result_id",
    "pattern_id",
    "signal_id",
}
INT_KEYED = {"refresh_seq"}
# Not copied: bookkeeping, reference tables (loaded by the schema) and the tables a snapshot's
# publisher derives (pipeline.storage.read_tables: the target's own publication builds them).
SKIP = {
    "schema_version",
    "publication",
    "ref_taxonomy",
    "ref_codesets",
    "ref_hospitals",
    *DERIVED_TABLES,
}


def _column(name: str, copy: int) -> str:
    """The column in copy number ``copy``: keys made unique, everything else as it is."""
    if copy and name in KEYED:
        return f'"{name}" || \'~{copy}\' AS "{name}"'
    if copy and name in INT_KEYED:
        return f'"{name}" + {copy * 1_000_000} AS "{name}"'
    return f'"{name}"'


def build(source: Settings, target: Settings, factor: int) -> dict[str, int]:
    """Every table of ``source``'s published snapshot, ``factor`` times, into ``target``."""
    counts: dict[str, int] = {}
    with reader(source) as src:
        tables = [
            t
            for (t,) in src.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY 1"
            ).fetchall()
            if t not in SKIP
        ]
        frames = {t: src.sql(f"SELECT * FROM {t}").to_arrow_table() for t in tables}
    with writer(target, create=True) as con:
        schema.initialise(con)
        for table, frame in frames.items():
            con.register("_src", frame)
            columns = [f.name for f in frame.schema]
            for k in range(factor):
                exprs = [_column(c, k) for c in columns]
                con.execute(
                    f"INSERT INTO {table} BY NAME SELECT {', '.join(exprs)} FROM _src"
                ).fetchall()
            con.unregister("_src")
            counts[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return counts


CHILD_PUBLISH = """
import sys, time
from pathlib import Path
from pipeline.config import Settings
from pipeline.storage import publish
settings = Settings(home=Path(sys.argv[1]), landing_dir=Path(sys.argv[1]))
started = time.perf_counter()
publish.publish(settings, 3, "bench.publish")
print(time.perf_counter() - started)
"""


def _child(args: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS MB) of a command, measured by GNU time (a fresh small parent, so
    the figure is the command's own, not this process's inherited at fork)."""
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "TIME %e %M", *args], capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise SystemExit(f"{args[:3]} failed: {proc.stderr[-2000:]}")
    line = next(ln for ln in proc.stderr.splitlines() if ln.startswith("TIME "))
    _, seconds, kb = line.split()
    return float(seconds), int(kb) / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=ROOT / "var", help="a home after the main job")
    parser.add_argument("--factor", type=int, default=10)
    parser.add_argument("--out", type=Path, help="also write the table here (Markdown)")
    args = parser.parse_args(argv)
    source = Settings.from_env().with_overrides(home=args.home.resolve())
    with tempfile.TemporaryDirectory(prefix="bench-publish-", dir=ROOT / "var") as tmp:
        target = Settings(home=Path(tmp) / "home", landing_dir=Path(tmp))
        started = time.perf_counter()
        counts = build(source, target, args.factor)
        built = time.perf_counter() - started
        size = target.warehouse_path.stat().st_size
        cp_target = Path(tmp) / "cp-copy.duckdb"
        cp_s, cp_rss = _child(["cp", str(target.warehouse_path), str(cp_target)])
        sync_started = time.perf_counter()
        subprocess.run(["sync", str(cp_target)], check=True)
        cp_s += time.perf_counter() - sync_started
        pub_s, pub_rss = _child([sys.executable, "-c", CHILD_PUBLISH, str(target.home)])
    rows = [
        "| step | seconds | peak RSS (MB) |",
        "|---|---|---|",
        f"| publish (copy + manifest + fsync + rename + pointer) | {pub_s:.2f} | {pub_rss:.0f} |",
        f"| cp + sync of the same file | {cp_s:.2f} | {cp_rss:.0f} |",
    ]
    text = "\n".join(
        [
            f"# Publishing a snapshot at {args.factor}x the sample",
            "",
            f"warehouse: {size / 1e6:.1f} MB, {counts.get('cases', 0):,} cases, "
            f"{counts.get('case_versions', 0):,} case versions, "
            f"{counts.get('submissions', 0):,} submissions, {counts.get('alerts', 0):,} alerts "
            f"(built in {built:.1f} s from {source.home})",
            "",
            *rows,
            "",
            f"publish / cp: {pub_s / cp_s:.2f}x",
            f"(bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB)",
            "",
        ]
    )
    print(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
