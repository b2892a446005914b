"""Great Expectations Data Docs: built once per ingest run (not once per batch), each run's
site kept under ``data_docs/runs/``, pruned only by ``SENTINEL_DATA_DOCS_KEEP_RUNS``."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import intake_helpers as h
import pytest

from pipeline.config import ConfigError, Settings
from pipeline.services import intake
from pipeline.validation import runner


def _day_files(settings, day: int, hospitals=(h.HOSPITAL, h.OTHER_HOSPITAL)) -> None:
    """One file per hospital for 2026-02-<day> (received after its visits)."""
    for hospital in hospitals:
        rows = [
            h.case_row(f"D{day:02d}{i}", hospital=hospital, visit_datetime=f"2026-02-{day} 09:30")
            for i in range(3)
        ]
        name = f"{hospital}_202602{day:02d}.csv"
        h.write(
            settings.landing_dir / hospital / name,
            h.csv_bytes(rows),
            h.RECEIVED + timedelta(days=day),
        )


def _runs(settings) -> list[str]:
    root = settings.data_docs_dir / "runs"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def _validation_pages(settings, run: str) -> list:
    return list((settings.data_docs_dir / "runs" / run / "validations").rglob("*.html"))


@pytest.mark.slow
def test_docs_built_once_per_run_and_earlier_runs_kept(settings, monkeypatch):
    builds: list[str] = []
    original = runner.CaseValidator.build_docs

    def counted(self, keep_runs=0):
        builds.append(self.run_name)
        return original(self, keep_runs)

    monkeypatch.setattr(runner.CaseValidator, "build_docs", counted)
    # Three batches in the first run (max 32 files a batch): still one build.
    for day in range(10, 13):
        _day_files(settings, day, hospitals=[f"{h.HOSPITAL}"])
    monkeypatch.setattr(
        intake,
        "plan_batches",
        lambda files, **_: [[f] for f in files],  # one file a batch
    )
    first = intake.ingest(settings)
    assert first.batches == 3 and first.summary.statuses == {"accepted": 3}
    assert len(builds) == 1
    (run1,) = _runs(settings)
    assert len(_validation_pages(settings, run1)) == 3  # one page per batch's validation

    _day_files(settings, 13)
    second = intake.ingest(settings)
    assert second.summary.statuses == {"accepted": 2}
    assert len(builds) == 2
    run1_again, run2 = _runs(settings)
    assert run1_again == run1 and run2 > run1
    assert len(_validation_pages(settings, run1)) == 3  # the first run's pages are kept
    assert len(_validation_pages(settings, run2)) == 2  # two files, one a batch
    index = (settings.data_docs_dir / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="runs/([^/"]+)/index.html"', index) == [run2, run1]

    # An ingest with nothing new builds nothing and keeps both runs.
    assert intake.ingest(settings).files == 0
    assert len(builds) == 2 and _runs(settings) == [run1, run2]


@pytest.mark.slow
def test_retention_setting_prunes_oldest_runs(settings):
    keep_two = replace(settings, data_docs_keep_runs=2)
    for day in (10, 11, 12):
        _day_files(settings, day, hospitals=[h.HOSPITAL])
        intake.ingest(keep_two)
    runs = _runs(settings)
    assert len(runs) == 2  # the oldest of three is gone
    index = (settings.data_docs_dir / "index.html").read_text(encoding="utf-8")
    assert re.findall(r'href="runs/([^/"]+)/index.html"', index) == runs[::-1]
    # DAG stage tasks build their own batch's site (no shared validator).
    _day_files(settings, 13, hospitals=[h.HOSPITAL])
    (batch,) = intake.discover(settings)
    intake.stage(replace(settings, data_docs_keep_runs=0), batch)
    assert len(_runs(settings)) == 3  # 0 keeps every run


def test_retention_setting_from_environment(tmp_path):
    env = {"SENTINEL_HOME": str(tmp_path)}
    assert Settings.from_env(env).data_docs_keep_runs == 200
    assert Settings.from_env({**env, "SENTINEL_DATA_DOCS_KEEP_RUNS": "0"}).data_docs_keep_runs == 0
    assert Settings.from_env({**env, "SENTINEL_DATA_DOCS_KEEP_RUNS": "7"}).data_docs_keep_runs == 7
    with pytest.raises(ConfigError):
        Settings.from_env({**env, "SENTINEL_DATA_DOCS_KEEP_RUNS": "-1"})


def test_prune_keeps_the_current_run_and_index_escapes(tmp_path):
    for name in ("a", "b", "c<x>"):
        page = tmp_path / "runs" / name / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text("x")
    assert runner.prune_runs(tmp_path, 1, keep="a") == ["b"]
    index = runner.write_runs_index(tmp_path).read_text(encoding="utf-8")
    assert "c&lt;x&gt;" in index and "<x>" not in index
    assert runner.prune_runs(tmp_path, 0) == []
