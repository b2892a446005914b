"""`sentinel report weekly|quarterly` print the paths they wrote; bad input exits 2."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.config import Settings


@pytest.fixture()
def env(tiny: Settings, tmp_path: Path) -> dict[str, str]:
    shutil.copy(tiny.warehouse_path, tmp_path / "warehouse.duckdb")
    return {"SENTINEL_HOME": str(tmp_path)}


@pytest.mark.slow
def test_weekly_prints_paths(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["report", "weekly", "--week", "2026-W19", "--lang", "en"], env=env
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert [Path(line).name for line in lines] == [
        "weekly-report-2026-W19-en.html",
        "weekly-report-2026-W19.json",
    ]
    assert all(Path(line).exists() for line in lines)


@pytest.mark.slow
def test_weekly_default_week_is_the_latest_alert_week(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["report", "weekly"], env=env)
    assert result.exit_code == 0, result.output
    names = [Path(line).name for line in result.stdout.strip().splitlines()]
    assert names == [
        "weekly-report-2026-W20-zh.html",
        "weekly-report-2026-W20-en.html",
        "weekly-report-2026-W20.json",
    ]


@pytest.mark.parametrize(
    "args,message",
    [
        (["report", "weekly", "--lang", "fr"], "--lang must be"),
        (["report", "weekly", "--week", "2026W19"], "not an ISO week"),
        (["report", "quarterly", "--quarter", "2026-Q7"], "not a quarter"),
    ],
)
def test_bad_input_exits_2(env: dict[str, str], args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 2 and "error:" in result.output and message in result.output


def test_quarterly_prints_paths(env: dict[str, str]) -> None:
    result = CliRunner().invoke(app, ["report", "quarterly", "--quarter", "2026-Q1"], env=env)
    assert result.exit_code == 0, result.output
    names = sorted(Path(line).name for line in result.stdout.strip().splitlines())
    assert names == [
        "quarterly-patterns-2026-Q1.csv",
        "quarterly-summary-2026-Q1.csv",
        "quarterly-summary-2026-Q1.html",
        "quarterly-summary-2026-Q1.json",
    ]
