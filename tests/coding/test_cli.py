"""The command line: sentinel model / coding / patterns."""

from __future__ import annotations

import json

import coding_helpers as h
import pytest
from typer.testing import CliRunner

from pipeline.cli import app as sentinel_app


def _app():
    return sentinel_app


def _run(args, env):
    result = CliRunner().invoke(_app(), args, env=env)
    assert result.exit_code == 0, result.output
    return result


def _json(result):
    text = result.stdout
    return json.loads(text[text.index("{") if text.lstrip().startswith("{") else text.index("[") :])


@pytest.mark.slow
def test_cli_end_to_end(con, settings):
    h.store(
        con,
        [
            h.case("C1", h.RICE_ZH),
            h.case("C2", h.TRAMPOLINE_EN, category=None),
            h.case("C4", h.RICE_EN, category="SP01"),
            *[h.case(f"R{i}", h.RICE_ZH, visit=h.week_start("2026-W10")) for i in range(5)],
        ],
    )
    con.close()
    env = {"SENTINEL_HOME": str(settings.home)}
    summary = _json(_run(["coding", "run"], env))
    assert summary["cases_coded"] == 8 and summary["reviews_opened"] == 1
    listing = _run(["coding", "review", "list"], env).stdout
    assert "GZ001:C4" in listing and "model_disagrees" in listing
    resolved = _json(
        _run(
            ["coding", "review", "resolve", "GZ001:C4", "--category", "HA01", "--by", "coder-li"],
            env,
        )
    )
    assert resolved["category"] == "HA01" and resolved["was_open"]
    bad = CliRunner().invoke(
        _app(),
        ["coding", "review", "resolve", "C4", "--category", "XX99", "--by", "coder-li"],
        env=env,
    )
    assert bad.exit_code == 2
    status = _json(_run(["coding", "status"], env))
    assert status["reviews"] == {"resolved": 1}
    refreshed = _json(_run(["patterns", "refresh"], env))
    assert refreshed["refresh_seq"] == 1 and refreshed["patterns"] >= 1
    patterns = json.loads(_run(["patterns", "list", "--json"], env).stdout)
    assert patterns[0]["pattern_id"] == "HA01-P001"
    assert "Rice cooker" in _run(["patterns", "list"], env).stdout
    versions = json.loads(_run(["model", "list"], env).stdout)
    assert any(v["current"] for v in versions)


def test_cli_without_warehouse_exits_not_found_and_bad_week_exits_2(settings):
    result = CliRunner().invoke(
        _app(), ["coding", "run"], env={"SENTINEL_HOME": str(settings.home)}
    )
    assert result.exit_code == 4 and "no warehouse" in result.output  # NotFound
    bad_week = CliRunner().invoke(
        _app(),
        ["patterns", "refresh", "--week", "2026-47"],
        env={"SENTINEL_HOME": str(settings.home)},
    )
    assert bad_week.exit_code == 2
