"""What the benchmark runs in its measured child processes.

python -m bench.ingest.child copy OUT_DIR FILE...
    the baseline: DuckDB ``COPY (SELECT * FROM read_csv(FILE)) TO 'OUT_DIR/<n>.parquet'``
    for each file, one after the other in this process; prints the rows copied as JSON.
python -m bench.ingest.child sentinel STATS.json SENTINEL_ARGS...
    the ``sentinel`` command (its console entry point, in this process) with the time spent
    inside ``CaseValidator.build_docs`` (one Data Docs build a run) recorded in STATS.json;
    nothing else is changed, so the run is ``sentinel SENTINEL_ARGS...``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def copy(out_dir: Path, files: list[str]) -> int:
    import duckdb

    out_dir.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    rows = 0
    for i, name in enumerate(files):
        target = out_dir / f"{i:05d}.parquet"
        escaped = name.replace("'", "''")
        con.execute(f"COPY (SELECT * FROM read_csv('{escaped}')) TO '{target}' (FORMAT parquet)")
        rows += con.execute(f"SELECT count(*) FROM read_parquet('{target}')").fetchone()[0]
    print(json.dumps({"files": len(files), "rows": rows}))
    return 0


def sentinel_with_docs_timer(stats: Path, args: list[str]) -> int:
    from importlib.metadata import entry_points

    from pipeline.validation.runner import CaseValidator

    spent = {"data_docs_seconds": 0.0, "data_docs_builds": 0}
    original = CaseValidator.build_docs

    def timed(self, *a, **kw):
        started = time.perf_counter()
        try:
            return original(self, *a, **kw)
        finally:
            spent["data_docs_seconds"] += time.perf_counter() - started
            spent["data_docs_builds"] += 1

    CaseValidator.build_docs = timed
    (entry,) = entry_points(group="console_scripts", name="sentinel")
    command = entry.load()
    code = 0
    saved_argv = sys.argv
    sys.argv = ["sentinel", *args]  # the console entry point reads its arguments from argv
    try:
        command()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    finally:
        sys.argv = saved_argv
        stats.write_text(json.dumps(spent))
    return code


def main(argv: list[str]) -> int:
    if argv[:1] == ["copy"]:
        return copy(Path(argv[1]), argv[2:])
    if argv[:1] == ["sentinel"]:
        return sentinel_with_docs_timer(Path(argv[1]), argv[2:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
