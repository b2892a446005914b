"""The whole pipeline through Airflow, end to end, and the same result as the CLI/library.

``scripts/dag_test.py --chain`` (what the README's main job runs) on the landing zone of the
shared small network: ingest_daily -> code_and_cluster -> detect_weekly -> report_weekly ->
evidence_pack, each a real ``dag.test()`` run on a migrated SQLite metadata DB. The
``small_network`` fixture built the same network through plain library calls, so the two
warehouses must agree (alerts and signals included), and the evidence pack of the week's top
signal must be byte-identical.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest_airflow import REPO
from network_fixture import DETECT_WEEKS, HOSTILE_IDENTIFIERS, KEY

from pipeline.storage.warehouse import table_checksums

pytestmark = pytest.mark.slow  # see tests/conftest.py

# Columns that record when something ran (wall clock), not what was decided.
RUN_TIMES = {
    "submissions": ("processed_at",),
    "submission_events": ("event_at",),
    "case_coding": ("coded_at",),
    "coding_review": ("opened_at", "resolved_at"),
    "hazard_patterns": ("updated_at",),
}
COMPARED = (
    "submissions",
    "cases",
    "case_versions",
    "quarantine",
    "case_coding",
    "coding_review",
    "hazard_patterns",
    "case_patterns",
    "alerts",
    "alert_series",
    "signal_weeks",
    "signal_alerts",
)


def _checksums(db: Path) -> dict[str, str]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        sums = table_checksums(con, exclude=RUN_TIMES)
    finally:
        con.close()
    return {t: sums.get(t) for t in COMPARED}


def _tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-6000:] if log.exists() else ""


def test_main_job_chain_through_airflow(small_network, airflow_home, tmp_path):
    home = tmp_path / "home"
    # The same received times (the arrivals recorded when the files came in), so the two
    # warehouses can be compared.
    shutil.copytree(small_network.arrivals_dir, home / "arrivals")
    env = {
        **os.environ,
        "SENTINEL_HOME": str(home),
        "SENTINEL_PSEUDONYM_KEY": KEY,
        "SENTINEL_LANDING": str(small_network.landing_dir),
    }
    out = tmp_path / "chain.json"
    log = tmp_path / "logs" / "main-job.log"
    proc = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "dag_test.py"),
            "--chain",
            "--detect-weeks",
            str(len(DETECT_WEEKS)),
            "--last-week",
            DETECT_WEEKS[-1],
            "--out",
            str(out),
            "--log",
            str(log),
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-6000:] + _tail(log)
    runs = {r["dag_id"]: r for r in json.loads(out.read_text())["runs"]}

    # Main-job output (issue 15 item 7): one short line per stage (stage, seconds, what it
    # processed) and the outputs' paths on the terminal; Airflow's task logs in the log file.
    lines = proc.stdout.strip().splitlines()
    stages = [line for line in lines if line.split()[0] in runs]
    assert [line.split()[0] for line in stages] == list(runs), proc.stdout
    assert all(line.split()[2] == "s" and float(line.split()[1]) > 0 for line in stages)
    assert "files," in stages[0] and "rows" in stages[0]
    assert len(lines) <= len(runs) + 6, proc.stdout
    assert len(proc.stderr.splitlines()) <= 5, proc.stderr[-3000:]
    logged = log.read_text(encoding="utf-8", errors="replace")
    assert len(logged.splitlines()) > 100 and "ingest_daily" in logged and "Task" in logged

    # Every DAG of the chain ran, every task succeeded, and the assets chained them.
    assert list(runs) == [
        "ingest_daily",
        "code_and_cluster",
        "detect_weekly",
        "report_weekly",
        "evidence_pack",
    ]
    for run in runs.values():
        assert run["state"] == "success", run
        assert all(t["state"] == "success" for t in run["tasks"]), run["tasks"]
    emitted = {r["dag_id"]: {e["name"] for e in r["asset_events"]} for r in runs.values()}
    assert emitted["ingest_daily"] == {"sentinel_cases"}
    assert emitted["code_and_cluster"] == {"sentinel_patterns"}
    assert emitted["detect_weekly"] == {"sentinel_alerts"}
    assert emitted["report_weekly"] == {"sentinel_reports"}

    # The warehouse holds exactly what the library calls produced from the same files.
    assert _checksums(home / "warehouse.duckdb") == _checksums(small_network.warehouse_path)

    # The report and the pack, at the paths the job printed.
    report = runs["report_weekly"]["returns"]["report"]
    assert report["week"] == DETECT_WEEKS[-1]
    assert set(report["paths"]) == {"zh", "en", "json"}
    for path in report["paths"].values():
        assert Path(path).is_file() and Path(path).stat().st_size > 1000
        assert path in proc.stdout
    english = Path(report["paths"]["en"]).read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in english
    data = json.loads(Path(report["paths"]["json"]).read_text(encoding="utf-8"))
    assert data["week"] == DETECT_WEEKS[-1]

    pack = Path(runs["evidence_pack"]["returns"]["verify"]["path"])
    assert str(pack) in proc.stdout
    with zipfile.ZipFile(pack) as archive:
        names = set(archive.namelist())
        assert {"manifest.json", "cases.csv", "cases.parquet", "provenance.json"} <= names
        everything = b"".join(archive.read(n) for n in sorted(names))
    for value in HOSTILE_IDENTIFIERS.values():
        assert value.encode() not in everything

    # The pack of the week's top signal, with its versioned name; printed by the job.
    from pipeline.alerts.signal_store import top_signal
    from pipeline.services import evidence
    from pipeline.storage.session import reader

    with reader(small_network) as con:
        top = top_signal(con, DETECT_WEEKS[-1])
    assert pack.name.startswith(f"evidence-{top['signal_id']}-{top['week']}-")
    assert "evidence pack of the top signal" in proc.stdout
    rows = zipfile.ZipFile(pack).read("cases.csv").decode("utf-8-sig").strip().splitlines()
    assert len(rows) - 1 == top["n_cases"]  # every case since the signal's onset

    # Same request through the library on the network built without Airflow: same bytes.
    again = evidence.build(
        small_network, signal_id=top["signal_id"], week=top["week"], out=tmp_path / "library.zip"
    ).path
    assert again.read_bytes() == pack.read_bytes()
