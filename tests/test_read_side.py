"""The published read side and the writers' lock, across real processes.

* a reader loop in another process during a full ingest sees no lock error and only whole
  published states (each snapshot's ledger and case counts equal its manifest and one of the
  published run manifests);
* ``sentinel report weekly``, ``network report``, ``alerts list`` and ``evidence-pack`` succeed
  while another process holds the warehouse for writing; ``ingest``, ``detect`` and
  ``coding run`` wait a bounded time and exit "busy" (exit 5) with one line, no traceback;
* an unwritable home and a full disk give one line and their exit codes.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Settings
from pipeline.errors import EXIT_CODES
from pipeline.storage import publish
from pipeline.storage.session import reader, writer

pytestmark = pytest.mark.slow  # real processes, real ingests

SENTINEL = Path(sys.executable).with_name("sentinel")
HOLD = textwrap.dedent(
    """
    import sys, time
    from pipeline.config import Settings
    from pipeline.storage.session import writer
    with writer(Settings.from_env()) as con:
        print("holding", flush=True)
        sys.stdin.readline()
    """
)


def _env(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(settings.home),
        SENTINEL_LANDING=str(settings.landing_dir),
        SENTINEL_PSEUDONYM_KEY=settings.pseudonym_key or "",
        LANG="C.UTF-8",
        **extra,
    )
    return env


def _sentinel(settings: Settings, *args: str, timeout: float = 300, **env: str):
    return subprocess.run(
        [str(SENTINEL), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(settings, **env),
    )


def test_reader_loop_during_ingest_sees_only_whole_published_states(small_network, tmp_path):
    """Ingest the network again from scratch, hospital by hospital (one published run each),
    while another process reads the published snapshot in a loop."""
    home = tmp_path / "home"
    settings = small_network.with_overrides(home=home)
    hospitals = sorted(p.name for p in settings.landing_dir.iterdir() if p.is_dir())
    # A first hospital, so that there is something published to read from the start.
    first = _sentinel(settings, "ingest", "--hospital", hospitals[0])
    assert first.returncode == 0, first.stderr[-2000:]
    loop = tmp_path / "reads.jsonl"
    script = textwrap.dedent(
        f"""
        import json, sys, time
        from pipeline.config import Settings
        from pipeline.storage.session import reader
        settings = Settings.from_env()
        out = open({str(loop)!r}, "w")
        stop = time.monotonic() + 600
        while time.monotonic() < stop:
            try:
                with reader(settings) as con:
                    row = con.execute(
                        "SELECT (SELECT count(*) FROM submissions), (SELECT count(*) FROM cases),"
                        " (SELECT list(seq) FROM publication),"
                        " (SELECT list(submissions) FROM publication),"
                        " (SELECT list(cases) FROM publication)").fetchall()[0]
                out.write(json.dumps({{"ok": list(row)}}) + "\\n")
            except Exception as exc:
                out.write(json.dumps({{"error": f"{{type(exc).__name__}}: {{exc}}"}}) + "\\n")
            out.flush()
            if sys.stdin.closed:
                break
            time.sleep(0.05)
        """
    )
    reader_proc = subprocess.Popen(
        [sys.executable, "-c", script],
        env=_env(settings),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for code in hospitals[1:]:
            run = _sentinel(settings, "ingest", "--hospital", code)
            assert run.returncode == 0, run.stderr[-2000:]
        time.sleep(1.0)
    finally:
        reader_proc.kill()
        reader_proc.wait(timeout=30)
    reads = [json.loads(line) for line in loop.read_text().splitlines() if line.strip()]
    errors = [r["error"] for r in reads if "error" in r]
    assert errors == []
    manifests = {
        json.loads(p.read_text())["seq"]: json.loads(p.read_text())
        for p in settings.published_dir.glob("warehouse-*.json")
    }
    seen = set()
    for r in (r["ok"] for r in reads):
        submissions, cases, (seq,), (m_submissions,), (m_cases,) = r
        # the snapshot's own manifest equals what it holds: never half of a run
        assert (submissions, cases) == (m_submissions, m_cases)
        if seq in manifests:
            assert (manifests[seq]["submissions"], manifests[seq]["cases"]) == (submissions, cases)
        seen.add(seq)
    assert len(reads) > 20 and len(seen) >= 2, (len(reads), seen)
    # the last published state is the whole ingest
    with reader(settings) as con:
        final = con.execute("SELECT count(*) FROM submissions").fetchone()[0]
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as live:
        assert final == live.execute("SELECT count(*) FROM submissions").fetchone()[0]


@pytest.fixture
def held(small_network_copy):
    """Another process holding the warehouse for writing (its lock and the DuckDB file)."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD],
        env=_env(small_network_copy),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "holding", proc.stderr.read()
    yield small_network_copy
    proc.stdin.close()
    proc.wait(timeout=60)


def test_readers_succeed_while_another_process_writes(held, tmp_path):
    week = "2026-W47"
    report = _sentinel(held, "report", "weekly", "--week", week)
    assert report.returncode == 0, report.stderr[-2000:]
    assert all(Path(p).exists() for p in report.stdout.split())
    network = _sentinel(held, "network", "report")
    assert network.returncode == 0, network.stderr[-2000:]
    listed = _sentinel(held, "alerts", "list", "--week", week, "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout), listed.stderr[-2000:]
    pack = _sentinel(held, "evidence-pack", "--week", week, "--out", str(tmp_path / "p.zip"))
    assert pack.returncode == 0, pack.stderr[-2000:]
    assert (tmp_path / "p.zip").exists()
    # Triage reads the snapshot and writes the application database: it never waits either.
    from triage_people import add_people_to_home

    add_people_to_home(held)
    signals = _sentinel(held, "signals", "list", "--week", week, "--json")
    assert signals.returncode == 0, signals.stderr[-2000:]
    first = json.loads(signals.stdout)[0]["signal_id"]
    decided = _sentinel(
        held,
        "signals",
        "decide",
        first,
        "--decision",
        "watch",
        "--reason",
        "r",
        "--as",
        "li.analyst",
    )
    assert decided.returncode == 0, decided.stderr[-2000:]


@pytest.mark.parametrize(
    "args",
    [
        ("ingest",),
        ("detect", "--week", "2026-W47"),
        ("coding", "run"),
        ("patterns", "refresh"),
        ("db", "upgrade"),
    ],
)
def test_writers_wait_then_exit_busy_in_one_line(held, args):
    started = time.monotonic()
    result = _sentinel(held, *args, SENTINEL_LOCK_TIMEOUT="2")
    waited = time.monotonic() - started
    assert result.returncode == EXIT_CODES["busy"], result.stderr[-2000:]
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith("error: the warehouse is busy") and "pid" in lines[-1]
    assert "Traceback" not in result.stderr and "Conflicting lock" not in result.stderr
    assert waited >= 2


def test_two_ingests_at_once_one_waits_and_both_succeed(small_network, tmp_path):
    settings = small_network.with_overrides(home=tmp_path / "home")
    procs = [
        subprocess.Popen(
            [str(SENTINEL), "ingest"],
            env=_env(settings, SENTINEL_LOCK_TIMEOUT="900"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout=900), p.stdout.read(), p.stderr.read()) for p in procs]
    assert [r[0] for r in results] == [0, 0], [r[2][-2000:] for r in results]
    files = sorted(json.loads(r[1])["files"] for r in results)
    assert files[0] == 0 and files[1] > 0  # the second saw everything already loaded
    assert "Traceback" not in results[0][2] + results[1][2]


def test_a_home_that_cannot_be_written_is_one_line_and_exit_6(tmp_path, monkeypatch):
    """As root, file permissions do not stop writes: the read-only file system is simulated
    at the one place the home is first written (the lock file)."""
    home = tmp_path / "home"
    home.mkdir()
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):  # type: ignore[no-untyped-def]
        if str(path).startswith(str(home)) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    landing = tmp_path / "landing"
    (landing / "GZ001").mkdir(parents=True)
    env = {
        "SENTINEL_HOME": str(home),
        "SENTINEL_LANDING": str(landing),
        "SENTINEL_PSEUDONYM_KEY": "k" * 32,
        "LANG": "C.UTF-8",
    }
    result = CliRunner().invoke(app, ["ingest"], env=env)
    assert result.exit_code == EXIT_CODES["home_not_writable"], result.output
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("error: cannot write under") and "Read-only file system" in line
    zh = CliRunner().invoke(app, ["--lang", "zh", "ingest"], env=env)
    assert zh.exit_code == EXIT_CODES["home_not_writable"]
    assert zh.stderr.strip().startswith("错误：无法写入")


def test_a_full_disk_during_publication_is_one_line_and_keeps_the_last_snapshot(
    small_network_copy, monkeypatch
):
    settings = small_network_copy
    before = publish.current(settings)
    assert before is not None

    def full(*_args, **_kwargs):  # type: ignore[no-untyped-def]
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(publish.shutil, "copyfile", full)
    env = {"SENTINEL_HOME": str(settings.home), "LANG": "C.UTF-8"}
    result = CliRunner().invoke(app, ["detect", "--week", "2026-W47"], env=env)
    assert result.exit_code == EXIT_CODES["disk_full"], result.output
    (line,) = [ln for ln in result.stderr.strip().splitlines() if ln.startswith("error")]
    assert "is full" in line and "Traceback" not in result.output
    assert publish.current(settings) == before  # readers keep the last whole state
    assert not list(settings.published_dir.glob("*.tmp"))
    with reader(settings) as con:  # and it still opens
        assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] > 0


def test_a_failed_run_publishes_nothing(small_network_copy):
    settings = small_network_copy
    before = publish.current(settings)
    with pytest.raises(RuntimeError), writer(settings) as con:
        con.execute("DELETE FROM alerts")
        raise RuntimeError("crash half way")
    assert publish.current(settings) == before
    with reader(settings) as con:
        assert con.execute("SELECT count(*) FROM alerts").fetchone()[0] > 0
