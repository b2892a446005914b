"""bench.ingest: the measuring harness and the CI smoke run of the intake benchmark."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # bench/ is not part of the installed package
from bench.ingest.measure import run_measured  # noqa: E402


def _python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


@pytest.mark.slow  # waits out its 2 s bound
def test_a_run_past_its_bound_is_killed_and_reported(tmp_path):
    import psutil

    pidfile = tmp_path / "grandchild.pid"
    code = (
        "import subprocess, sys, time\n"
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pidfile)!r}, 'w').write(str(p.pid))\n"
        "time.sleep(60)\n"
    )
    run = run_measured("sleeper", _python(code), {}, timeout=2.0)
    assert run.timed_out and run.returncode is None
    assert 2.0 <= run.seconds < 15
    grandchild = int(pidfile.read_text())  # the whole process group went, not only the child

    def gone() -> bool:
        try:
            return psutil.Process(grandchild).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    deadline = time.monotonic() + 10  # SIGKILL is delivered asynchronously on a busy machine
    while not gone() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone()


@pytest.mark.slow  # starts child processes that allocate and hold memory: 1.1-2.3 s
def test_peak_rss_is_each_childs_own():
    ballast = bytearray(400 * 2**20)  # this process is big: a child must not inherit its size
    ballast[::4096] = b"x" * len(ballast[::4096])
    big = run_measured(
        "big", _python("b = bytearray(300 * 2**20); b[::4096] = b'x' * len(b[::4096])"), {}, 60
    )
    small = run_measured("small", _python("pass"), {}, 60)
    assert big.returncode == small.returncode == 0
    assert big.peak_mb > 300
    # Neither the largest earlier child's (RUSAGE_CHILDREN) nor this process's size at fork.
    assert small.peak_mb < 100
    del ballast


@pytest.mark.slow
def test_quick_bench_prints_the_table(tmp_path):
    out = tmp_path / "results"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.ingest",
            "--quick",
            "--out",
            str(out),
            "--cache",
            str(tmp_path / "cache"),
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "Every run completed and every row was accepted." in proc.stdout
    assert "| one extract of 6,000 rows | 6,000 |" in proc.stdout
    result = json.loads((out / "latest.json").read_text())
    works = [r["work"] for r in result["rows"]]
    assert works == [
        "one extract of 2,000 rows",
        "one extract of 6,000 rows",
        "10 daily files, one from each of 10 hospitals",
        "10 daily files of one hospital (10 days)",
    ]
    for row in result["rows"]:
        assert row["problems"] == []
        for step in ("baseline", "validate", "ingest"):
            assert row[step]["returncode"] == 0 and row[step]["seconds"] > 0
            assert row[step]["peak_mb"] > 50
        assert row["baseline"]["extra"]["rows"] == row["rows"]
        assert row["ingest"]["extra"]["statuses"] == {"accepted": row["files"]}
    stages = {s["stage"].split(" (")[0] for s in result["stages"]}
    assert {"sentinel coding run", "sentinel patterns refresh"} <= stages
    docs = [s for s in result["stages"] if s["stage"].startswith("Data Docs")]
    assert len(docs) == 2 and all(s["seconds"] > 0 for s in docs)
