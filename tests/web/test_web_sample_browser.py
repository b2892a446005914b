"""HZ03 (magnet balls) on the shipped sample shows its provisional member in the browser (issue
20, item 7): the signal page lists the review-pending case its rule links, flagged with a badge
and a text in Chinese and English, and counts only the finally coded cases.

The home is the main job's on ``data/sample`` through the CLI (``SENTINEL_RUNNER=cli
scripts/run_sample.sh``'s stages: arrivals, ingest, coding, patterns, detection of the last 8
weeks), built here into a temporary home (about 15 minutes on 2 cores), or copied from
``SENTINEL_SAMPLE_HOME`` when that names a home the same chain already ran in. Which signal is
HZ03's is read from the generator's ground truth, not from the code under test: the signal of
the last week that counts most of HZ03's true cases. docs/coding.md ("Provisional pattern
membership") records what that run shows: signal S0f35e4551a9 (TY04, 22 cases) with one
provisional member, GZ001-20261018-0016 (a magnet construction toy, low confidence).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from test_web_workspace_browser import SHOTS, _free_port
from web_helpers import TEST_PSEUDONYM_KEY, require_chromium, running_web_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample"
PASSWORD = "Harbor-maple-7731"
DOCUMENTED_MEMBER = "GZ001/GZ001-20261018-0016"
BADGE = {"zh": "暂定", "en": "provisional"}
TITLE = {"zh": "暂定成员：待编码员复核", "en": "Provisional members: waiting for coder review"}


def _sentinel(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


def _run(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        _sentinel(*args),
        env=env,
        cwd=REPO,
        input=stdin,
        text=True,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, f"sentinel {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _build(home: Path, env: dict[str, str]) -> None:
    """The main job's CLI stages on the shipped sample (scripts/run_sample.sh)."""
    _run(env, "arrivals", "import", str(SAMPLE / "arrivals.csv"))
    _run(env, "ingest")
    _run(env, "coding", "run")
    _run(env, "patterns", "refresh")
    weeks = subprocess.run(
        [
            sys.executable,
            "-c",
            "from pipeline.config import Settings; from pipeline.isoweek import add_weeks; "
            "from pipeline.services import detection; "
            "last = detection.latest_week(Settings.from_env()); print(add_weeks(last, -7), last)",
        ],
        env=env,
        cwd=REPO,
        text=True,
        capture_output=True,
        check=True,
    ).stdout.split()
    _run(env, "detect", "--from", weeks[0], "--to", weeks[1])


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> dict:
    require_chromium()
    home = tmp_path_factory.mktemp("sample_web") / "home"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(home),
        SENTINEL_LANDING=str(SAMPLE / "landing"),
        PYTHONUNBUFFERED="1",
    )
    given = os.environ.get("SENTINEL_SAMPLE_HOME")
    if given:
        shutil.copytree(given, home, symlinks=True)
    else:
        env["SENTINEL_PSEUDONYM_KEY"] = TEST_PSEUDONYM_KEY
        _build(home, env)
    return {"home": home, "env": env}


def _hz03(home: Path) -> dict:
    """HZ03's signal, from the ground truth: the latest week's signal counting most of its true
    cases; with its counted cases and the review-pending cases placed in a pattern."""
    truth = pd.read_csv(SAMPLE / "ground_truth_cases.csv", dtype=str, keep_default_na=False)
    true = truth[truth["hazard_id"].str.startswith("HZ03")]
    keys = set(true["hospital_code"] + "/" + true["case_id"])
    assert len(keys) == 14
    con = duckdb.connect(str(home / "warehouse.duckdb"), read_only=True)
    try:
        week = con.execute("SELECT max(week) FROM signal_weeks").fetchone()[0]
        rows = con.execute(
            "SELECT signal_id, n_cases, case_keys FROM signal_weeks WHERE week = ?", [week]
        ).fetchall()
        signal_id, n_cases, case_keys = max(rows, key=lambda r: len(keys & set(json.loads(r[2]))))
        waiting = {
            f"{h}/{c}": category
            for h, c, category in con.execute(
                """SELECT p.hospital_code, p.case_id, p.suggested_category
                FROM provisional_patterns p
                JOIN cases c ON c.hospital_code = p.hospital_code AND c.case_id = p.case_id
                JOIN case_coding k ON k.hospital_code = c.hospital_code
                     AND k.case_id = c.case_id AND k.case_version = c.version
                WHERE k.needs_review AND c.status = 'active'"""
            ).fetchall()
        }
    finally:
        con.close()
    counted = set(json.loads(case_keys))
    assert len(keys & counted) >= 10, "HZ03's signal should count most of its true cases"
    return {
        "signal_id": signal_id,
        "week": week,
        "n_cases": n_cases,
        "counted": counted,
        "waiting": waiting,
    }


@pytest.fixture(scope="module")
def server(sample: dict) -> Iterator[str]:
    env = sample["env"]
    _run(env, "users", "add", "hz-analyst", "--role", "analyst", "--lang", "en", stdin=PASSWORD)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = sample["home"] / "server.log"
    with running_web_server(_sentinel("web", "--port", str(port)), env, url, log, 90):
        yield url
    assert "Traceback" not in log.read_text()


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_hz03_shows_its_provisional_member(browser, server: str, sample: dict, lang: str) -> None:  # type: ignore[no-untyped-def]
    hz03 = _hz03(sample["home"])
    context = browser.new_context(
        base_url=server,
        locale="zh-CN" if lang == "zh" else "en-US",
        viewport={"width": 1280, "height": 900},
    )
    errors: list[str] = []
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (errors.append("dialog " + d.message), d.dismiss()))
        page.goto("/login")
        page.fill("#username", "hz-analyst")
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_load_state()
        page.click(f"button[name=lang][value={lang}]")
        page.wait_for_load_state("networkidle")
        page.goto(f"/signals/{hz03['signal_id']}?week={hz03['week']}")
        page.wait_for_selector("#provisional")
        section = page.locator("#provisional")
        assert TITLE[lang] in section.inner_text()
        shown = page.locator("#provisional-cases tr[data-provisional]").evaluate_all(
            "rs => rs.map(r => r.dataset.provisional)"
        )
        assert DOCUMENTED_MEMBER in shown, shown
        for key in shown:  # each one waits for a coder, placed in a TY04 pattern, uncounted
            assert hz03["waiting"].get(key) == "TY04", key
            assert key not in hz03["counted"], key
            row = page.locator(f"#provisional-cases tr[data-provisional='{key}']")
            badge = row.locator(".badge.provisional")
            assert badge.is_visible() and badge.inner_text() == BADGE[lang]
        # The page's numbers are the signal's counted cases only.
        assert page.inner_text("#case-count") == str(hz03["n_cases"])
        listed = page.locator("#signal-cases tr[data-case]").evaluate_all(
            "rs => rs.map(r => r.dataset.case)"
        )
        assert set(listed) == hz03["counted"] and not set(listed) & set(shown)
        SHOTS.mkdir(parents=True, exist_ok=True)
        section.scroll_into_view_if_needed()
        page.screenshot(
            path=str(SHOTS / f"workspace-analyst-{lang}-sample-hz03-provisional.png"),
            full_page=True,
        )
    finally:
        context.close()
    assert not errors, errors
