"""Run Sentinel DAGs with ``dag.test()`` on the configured Airflow metadata DB.

Used by the README's main job (``--chain``) and by the DAG tests. Needs the Airflow environment
of ``scripts/airflow_env.sh`` (AIRFLOW_HOME, AIRFLOW_CONFIG, dags/ on PYTHONPATH, SENTINEL_*),
a migrated metadata DB and the ``sentinel_warehouse`` pool.

    python scripts/dag_test.py DAG_ID [--conf JSON ...] [--out RESULT.json]
    python scripts/dag_test.py --chain [--detect-weeks N] [--last-week W] [--out RESULT.json]

``dag.test()`` runs every task of one DAG run in this process, through the real task runner
(params, XCom, pools, asset events in the metadata DB), without a scheduler. ``--chain`` runs
what the scheduler chains through assets in production, in the same order:
ingest_daily -> code_and_cluster -> detect_weekly -> report_weekly, then evidence_pack for the
week's top signal, and prints one line per stage (stage, what it processed, seconds) and the
paths of the weekly report and the evidence pack. ``--log FILE`` sends Airflow's task logs
there instead of the terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

DAGS_DIR = Path(__file__).resolve().parent.parent / "dags"
CHAIN = ("ingest_daily", "code_and_cluster", "detect_weekly", "report_weekly", "evidence_pack")


def _parse(dag_id: str):
    from airflow.dag_processing.dagbag import BundleDagBag

    bag = BundleDagBag(dag_folder=DAGS_DIR, bundle_path=DAGS_DIR, bundle_name="dags-folder")
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    if dag_id not in bag.dags:
        raise SystemExit(f"no DAG {dag_id!r} in {DAGS_DIR}")
    return bag.dags[dag_id]


def check_pools(dag_id: str) -> dict[str, int]:
    """The pools of the metadata DB; fails when one the DAG uses is missing (its tasks would
    never run)."""
    from airflow.models.pool import Pool
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        pools = {p.pool: p.slots for p in session.scalars(select(Pool))}
    missing = {t.pool for t in _parse(dag_id).tasks} - set(pools)
    if missing:
        raise SystemExit(
            f"pools missing in the metadata DB: {sorted(missing)} (see "
            "scripts/airflow_env.sh: airflow pools set sentinel_warehouse 1 ...)"
        )
    return pools


def run_dag(dag_id: str, conf: dict) -> dict:
    """One ``dag.test(run_conf=conf)``: the run's state, tasks, XCom return values and the
    asset events it emitted."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.models.taskinstance import TaskInstance
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    # A fresh parse per run: resolving a run's params writes the conf values into the DAG's
    # Param objects, so a second dag.test() of the same DAG object would inherit them.
    started = time.monotonic()
    dr = _parse(dag_id).test(run_conf=conf)
    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id, TaskInstance.run_id == dr.run_id
            )
        ).all()
        events = session.execute(
            select(AssetModel.name, AssetModel.uri, AssetEvent.extra, AssetEvent.source_task_id)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id == dr.run_id)
        ).all()
        xcoms = session.execute(
            select(XComModel.task_id, XComModel.map_index, XComModel.value).where(
                XComModel.dag_id == dag_id,
                XComModel.run_id == dr.run_id,
                XComModel.key == "return_value",
            )
        ).all()
    return {
        "dag_id": dag_id,
        "run_id": dr.run_id,
        "state": str(dr.state),
        "conf": dr.conf,
        "seconds": round(time.monotonic() - started, 1),
        "asset_events": [{"name": n, "uri": u, "extra": e, "task_id": t} for n, u, e, t in events],
        "tasks": sorted(
            (
                {
                    "task_id": ti.task_id,
                    "map_index": ti.map_index,
                    "state": str(ti.state),
                    "pool": ti.pool,
                    "label": ti.rendered_map_index,
                }
                for ti in tis
            ),
            key=lambda t: (t["task_id"], t["map_index"]),
        ),
        "returns": {
            f"{t}[{m}]" if m >= 0 else t: XComModel.deserialize_value(_Row(v)) for t, m, v in xcoms
        },
    }


class _Row:
    """What ``XComModel.deserialize_value`` expects: an object with a ``value``."""

    def __init__(self, value: object) -> None:
        self.value = value


def _require_success(run: dict) -> dict:
    if run["state"] != "success":
        failed = [t["task_id"] for t in run["tasks"] if t["state"] != "success"]
        raise SystemExit(
            f"{run['dag_id']} run {run['run_id']} ended {run['state']} "
            f"(tasks not successful: {failed}); see the task logs above"
        )
    return run


def _count(value: object) -> int:
    """Sum of the integers in a task's return value (a count or a dict of counts)."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return sum(_count(v) for v in value.values())
    return 0


def _ledger_rows() -> tuple[int, int]:
    """(files, rows received) in the warehouse's ledger (0, 0 before the first ingest)."""
    from pipeline.config import Settings
    from pipeline.storage.session import reader

    settings = Settings.from_env()
    if not settings.warehouse_path.exists():
        return 0, 0
    with reader(settings) as con:  # the published snapshot, like every reader
        files, rows = con.execute(
            "SELECT count(*), coalesce(sum(rows_received), 0) FROM submissions"
        ).fetchone()
    return int(files), int(rows)


def stage_line(dag_id: str, run: dict, before: tuple[int, int] = (0, 0)) -> str:
    """One short line for a finished run: stage, what it processed, seconds."""
    returns = run.get("returns", {})
    if dag_id == "ingest_daily":
        files, rows = _ledger_rows()
        what = f"{files - before[0]:,} files, {rows - before[1]:,} rows"
    elif dag_id == "code_and_cluster":
        coded = returns.get("code", {})
        patterns = returns.get("patterns", {})
        what = (
            f"{_count(coded.get('cases_coded', coded.get('cases', 0))):,} cases coded "
            f"({_count(coded.get('reviews_opened', 0)):,} to review), "
            f"{_count(patterns.get('assigned', 0)):,} assigned to patterns"
        )
    elif dag_id == "detect_weekly":
        weeks = returns.get("detect", {})
        what = f"{_count(weeks):,} alerts over {len(weeks)} weeks"
    elif dag_id == "report_weekly":
        what = f"report {returns.get('report', {}).get('week', '?')}"
    elif dag_id == "evidence_pack":
        problems = returns.get("verify", {}).get("problems")
        what = "pack built, verified" if problems == [] else f"pack problems: {problems}"
    else:
        what = ", ".join(sorted(returns)) or "-"
    return f"{dag_id:<17} {run['seconds']:>7.1f} s  {what}"


@contextmanager
def quiet(log_path: Path | None):
    """Send everything written to stdout/stderr (Airflow's task logs included, at the file
    descriptor level) to ``log_path``; yields a stream on the original stdout for progress
    lines. Without a path, yields stdout and changes nothing."""
    if log_path is None:
        yield sys.stdout
        return
    log_path.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    console = os.fdopen(os.dup(saved[0]), "w", buffering=1)
    with log_path.open("ab") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            yield console
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            console.close()


def chain(
    detect_weeks: int, last_week: str | None = None, console: TextIO | None = None
) -> list[dict]:
    """The whole pipeline through Airflow, in asset order; prints one line per stage and the
    outputs' paths on ``console`` (default stdout)."""
    runs = []
    out = console or sys.stdout

    def step(dag_id: str, conf: dict) -> dict:
        print(f"==> {dag_id} {json.dumps(conf) if conf else ''}", file=sys.stderr, flush=True)
        before = _ledger_rows() if dag_id == "ingest_daily" else (0, 0)
        run = run_dag(dag_id, conf)
        print(f"<== {dag_id}: {run['state']} in {run['seconds']} s", file=sys.stderr, flush=True)
        if run["state"] == "success":
            print(stage_line(dag_id, run, before), file=out, flush=True)
        else:
            print(f"{dag_id:<17} FAILED ({run['state']}) after {run['seconds']} s", file=out)
        run = _require_success(run)
        runs.append(run)
        return run

    for dag_id in CHAIN:
        check_pools(dag_id)
    step("ingest_daily", {})
    step("code_and_cluster", {})
    from pipeline.config import Settings
    from pipeline.isoweek import add_weeks
    from pipeline.services import detection

    if last_week is None:
        last_week = detection.latest_week(Settings.from_env())
    # Several weeks, so that signal statuses (new / ongoing / quiet / resolved) have a history.
    step(
        "detect_weekly", {"week_from": add_weeks(last_week, 1 - detect_weeks), "week_to": last_week}
    )
    report = step("report_weekly", {"week": last_week})["returns"]["report"]
    pack = step("evidence_pack", {"week": report["week"]})["returns"]
    print(f"weekly report ({report['week']}):", file=out)
    for key in sorted(report["paths"]):
        print(f"  {key:4} {report['paths'][key]}", file=out)
    print(f"evidence pack of the top signal: {pack['verify']['path']}", file=out, flush=True)
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dag_id", nargs="?", help="DAG to run (omit with --chain)")
    parser.add_argument(
        "--conf",
        action="append",
        default=[],
        help="run conf as JSON; repeat for several runs (default: one run, {})",
    )
    parser.add_argument("--chain", action="store_true", help="run the whole pipeline")
    parser.add_argument(
        "--detect-weeks",
        type=int,
        default=8,
        help="with --chain: weeks detect_weekly evaluates, ending on the last "
        "complete week (default 8)",
    )
    parser.add_argument(
        "--last-week",
        help="with --chain: the last week to detect and report "
        "(default: the last complete week with cases)",
    )
    parser.add_argument("--out", type=Path, help="write the runs as JSON here")
    parser.add_argument(
        "--log",
        type=Path,
        help="with --chain: append Airflow's task logs (everything on stdout/stderr) to this "
        "file and print only one line per stage",
    )
    args = parser.parse_args(argv)
    if args.chain == bool(args.dag_id):
        parser.error("give a DAG id or --chain")
    if args.chain:
        with quiet(args.log) as console:
            try:
                runs = chain(args.detect_weeks, args.last_week, console)
            except SystemExit as exc:
                # the reason (a failed run) goes to the console too, not only to the log
                print(exc, file=console, flush=True)
                raise
            pools = check_pools(CHAIN[0])  # parses the DAGs again: its log lines go to the log
    else:
        pools = check_pools(args.dag_id)
        runs = [run_dag(args.dag_id, json.loads(c)) for c in (args.conf or ["{}"])]
    if args.out:
        args.out.write_text(json.dumps({"pools": pools, "runs": runs}, default=str))
    return 0  # a failed run without --chain is a result (see its state), not an error


if __name__ == "__main__":
    sys.exit(main())
