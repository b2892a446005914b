"""One ``patterns refresh`` of bench.patterns, run as its own process with a chosen copy of the
code (``--code``: a directory holding a ``pipeline`` package, the current tree or an older
commit extracted by the benchmark). Prints one JSON line: the refresh's result, its own wall
and CPU seconds, and the checksums of the pattern tables afterwards.

    python bench/patterns/child.py --code DIR --home HOME [--week YYYY-Www]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

RUN_TIMES = {"hazard_patterns": ("updated_at",), "pattern_refreshes": ("processed_at",)}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--code", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--week")
    args = parser.parse_args()
    sys.path.insert(0, str(args.code.resolve()))  # this copy's `pipeline`, nothing else
    import pipeline
    from pipeline.clustering.patterns import refresh
    from pipeline.config import Settings
    from pipeline.storage.warehouse import connect, table_checksums

    assert Path(pipeline.__file__).resolve().is_relative_to(args.code.resolve())
    settings = Settings.from_env({"SENTINEL_HOME": str(args.home)})
    con = connect(settings.warehouse_path)
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        result = refresh(con, settings, week=args.week)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        sums = table_checksums(con, exclude=RUN_TIMES)
    finally:
        con.close()
    print(
        json.dumps(
            {
                "result": {k: v for k, v in result.items() if k != "state"},
                "wall": wall,
                "cpu": cpu,
                "checksums": {k: v for k, v in sums.items() if "pattern" in k},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
