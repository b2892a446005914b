"""Provisional pattern members in the weekly report (issue 20, item 7): cases waiting for coder
review are shown apart and flagged, under the key ``provisional``, and never counted: every
other number of the signal is the same as without them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.services.reporting import weekly as write_weekly_report

from .test_weekly_report import fetches
from .tinydata import (
    HOSTILE,
    PATTERN,
    PROVISIONAL_NAME,
    PROVISIONAL_PHONE,
    SHOWN,
    add_provisional,
)

WEEK = "2026-W20"  # the HA01 signal links Guangzhou and Shanghai cases this week


def _copy(tiny: Settings, home: Path) -> Settings:
    home.mkdir(parents=True)
    shutil.copy(tiny.warehouse_path, home / "warehouse.duckdb")
    return tiny.with_overrides(home=home)


@pytest.fixture(scope="module")
def reports(tiny: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The week's report without, then with, provisional members (same signals)."""
    root = tmp_path_factory.mktemp("provisional-report")
    plain = _copy(tiny, root / "plain")
    with_prov = _copy(tiny, root / "prov")
    add_provisional(with_prov)
    return {
        "plain": write_weekly_report(plain, WEEK),
        "prov": write_weekly_report(with_prov, WEEK),
        "prov_w19": write_weekly_report(with_prov, "2026-W19"),
        "settings": with_prov,
    }


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _signal(data: dict) -> dict:
    (signal,) = [s for s in data["signals"] if s["category"] == "HA01"]
    return signal


def test_provisional_members_are_listed_apart_with_their_count(reports: dict) -> None:
    prov = _signal(_json(reports["prov"]["json"]))["provisional"]
    assert prov["n_cases"] == 3
    assert sorted(c["case_id"] for c in prov["cases"]) == sorted(SHOWN)
    assert prov["patterns"] == [{"code": PATTERN, "n": 3}]
    for case in prov["cases"]:
        assert case["pattern_id"] == PATTERN and case["suggested_category"] == "HA01"
        assert case["review_reason"] in (
            "unknown_product_name",
            "low_confidence",
            "model_disagrees",
        )
    # Without provisional rows, the key is there and empty.
    assert _signal(_json(reports["plain"]["json"]))["provisional"] == {
        "n_cases": 0,
        "patterns": [],
        "cases": [],
    }


def test_provisional_members_follow_the_signals_own_rule(reports: dict) -> None:
    """In 2026-W19 the signal's specific member is HA01 in Shanghai: only the Shanghai case."""
    prov = _signal(_json(reports["prov_w19"]["json"]))["provisional"]
    assert [c["case_id"] for c in prov["cases"]] == ["PROV-2"]
    assert prov["n_cases"] == 1


def test_provisional_members_are_never_counted(reports: dict) -> None:
    plain = _signal(_json(reports["plain"]["json"]))
    prov = _signal(_json(reports["prov"]["json"]))
    assert prov["provisional"]["n_cases"] > 0
    del plain["provisional"], prov["provisional"]
    # n_cases, hospitals, regions, severity, outcome, ages, terms, examples, trend, risk ...
    assert prov == plain
    keys = {f"{e['hospital_code']}/{e['case_id']}" for e in prov["examples"]}
    assert not any(k.split("/")[1].startswith("PROV") for k in keys)
    assert sum(h["n"] for h in prov["hospitals"]) == prov["n_cases"]
    assert sum(r["n"] for r in prov["severity"]) == prov["n_cases"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_html_flags_them_in_both_languages(reports: dict, lang: str) -> None:
    html = reports["prov"][lang].read_text(encoding="utf-8")
    title = {"zh": "待编码员复核的暂定病例", "en": "Provisional: waiting for coder review"}[lang]
    count = {"zh": "待编码员复核的暂定病例 3 例", "en": "3 provisional cases waiting"}[lang]
    assert title in html and count in html
    section = html.split('id="provisional-', 1)[1].split("</table>", 1)[0]
    for case_id in SHOWN:
        assert case_id in section
    assert section.count('<tr class="provisional">') == 3
    assert "PROV-OLD" not in html and "PROV-DONE" not in html
    # The counted examples table holds none of them.
    examples = html.split('<table class="examples">', 1)[1].split("</table>", 1)[0]
    assert "PROV-" not in examples
    plain = reports["plain"][lang].read_text(encoding="utf-8")
    assert title in plain  # the section says there are none
    assert '<tr class="provisional">' not in plain


def test_hostile_text_and_identifiers_stay_out(reports: dict) -> None:
    for key in ("zh", "en", "json"):
        text = reports["prov"][key].read_text(encoding="utf-8")
        assert HOSTILE not in text  # escaped in the HTML, \u003c in the JSON
        assert PROVISIONAL_PHONE not in text
        assert PROVISIONAL_NAME not in text
    html = reports["prov"]["en"].read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert fetches(html) == []


def test_same_data_same_bytes(reports: dict) -> None:
    before = {k: reports["prov"][k].read_bytes() for k in ("zh", "en", "json")}
    again = write_weekly_report(reports["settings"], WEEK)
    for key, data in before.items():
        assert again[key].read_bytes() == data, key


def test_a_quiet_signal_counts_its_provisional_members_apart(reports: dict) -> None:
    """A quiet signal (still open, no alert this week) has no section: the summary table gives
    its provisional members' count in a column of their own."""
    from pipeline.storage.session import writer

    settings = reports["settings"]
    with writer(settings) as con:
        con.execute("""INSERT INTO signal_weeks SELECT * REPLACE ('2026-W21' AS week,
            'quiet' AS status, 1 AS quiet_weeks, NULL AS rank) FROM signal_weeks
            WHERE week = '2026-W20' AND category = 'HA01'""")
    paths = write_weekly_report(settings, "2026-W21")
    data = _json(paths["json"])
    (quiet,) = data["quiet"]
    assert quiet["provisional"] == {"n_cases": 3}
    assert quiet["n_cases"] == _signal(_json(reports["prov"]["json"]))["n_cases"]
    html = paths["en"].read_text(encoding="utf-8")
    assert '<td class="n provisional">3</td>' in html


def test_every_provisional_number_checks_against_the_warehouse(reports: dict) -> None:
    """The report-number check (own SQL) over the report with provisional members: their
    count, per-pattern counts, ages and similarities, in both weeks."""
    from pipeline.storage.session import reader

    from .report_numbers import check

    for key in ("prov", "prov_w19"):
        data = _json(Path(reports[key]["json"]))
        assert _signal(data)["provisional"]["n_cases"] > 0 or key == "prov_w19"
        with reader(reports["settings"]) as con:
            problems, count = check(con, data, reports["settings"].app_database_url)
        assert problems == [], problems[:10]
        assert count > 0
