"""The weekly report on the tiny warehouse: signals in rank order, what each says (numbers and
words), determinism, inert hostile text, no identifiers, no external resources, the two triage
facets and follow-up results read from the application database."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from triage_people import add_people_to_home

from pipeline.config import Settings
from pipeline.reporting.weekly import MAX_EXAMPLES, ReportError
from pipeline.services import triage
from pipeline.services.reporting import weekly as write_weekly_report
from pipeline.storage.warehouse import connect

from .tinydata import HOSTILE

WEEK = "2026-W19"


class Fetches(HTMLParser):
    """Collects what a browser would load or run: elements that fetch or execute, src /
    event-handler attributes, links other than in-page anchors, CSS url() / @import."""

    LOADERS = {
        "script",
        "link",
        "img",
        "iframe",
        "object",
        "embed",
        "audio",
        "video",
        "source",
        "image",
    }  # <use> is checked by its href (in-page #ids only)

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._style = False

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
        if tag in self.LOADERS:
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            value = value or ""
            if (
                name == "src"
                or name.startswith("on")
                or (name in ("href", "xlink:href", "action") and not value.startswith("#"))
                or ("url(" in value and "url(#" not in value)
            ):
                self.found.append(f"{tag} {name}={value}")
        self._style = tag == "style"

    def handle_data(self, data: str) -> None:
        if self._style and ("@import" in data or re.search(r"url\((?!#)", data)):
            self.found.append("css fetch")


def fetches(html: str) -> list[str]:
    parser = Fetches()
    parser.feed(html)
    return parser.found


@pytest.fixture(scope="module")
def report(tiny: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    home = tmp_path_factory.mktemp("weekly-report")
    shutil.copy(tiny.warehouse_path, home / "warehouse.duckdb")
    return write_weekly_report(tiny.with_overrides(home=home), WEEK)


def test_paths_and_languages(report: dict[str, Path]) -> None:
    assert set(report) == {"zh", "en", "json"}
    assert report["zh"].name == f"weekly-report-{WEEK}-zh.html"
    assert report["json"].name == f"weekly-report-{WEEK}.json"
    assert report["en"].parent.name == WEEK
    assert "产品伤害风险周报" in report["zh"].read_text(encoding="utf-8")
    assert "Weekly product-injury hazard report" in report["en"].read_text(encoding="utf-8")


def test_summary_follows_signal_rank_and_every_signal_has_its_section(
    tiny: Settings, report: dict[str, Path]
) -> None:
    con = connect(tiny.warehouse_path, read_only=True)
    try:
        expected = [
            s
            for (s,) in con.execute(
                "SELECT signal_id FROM signal_weeks WHERE week = ? AND rank IS NOT NULL "
                "ORDER BY rank",
                [WEEK],
            ).fetchall()
        ]
        live_alerts = con.execute(
            "SELECT count(*) FROM alerts WHERE week = ? AND status <> 'resolved'", [WEEK]
        ).fetchone()[0]
    finally:
        con.close()
    data = json.loads(report["json"].read_text(encoding="utf-8"))
    assert [s["signal_id"] for s in data["signals"]] == expected and expected
    assert sum(len(s["members"]) for s in data["signals"]) == live_alerts  # none dropped
    html = report["en"].read_text(encoding="utf-8")
    summary = html[html.index('id="summary"') : html.index('class="alert"')]
    assert re.findall(r'href="#signal-(S[0-9a-f]+)"', summary) == expected
    for signal_id in expected:
        assert f'<section class="alert" id="signal-{signal_id}">' in html
    assert 'id="network-health"' in html and "Monitoring-site supervision" in html


def test_each_signal_explains_itself(report: dict[str, Path]) -> None:
    data = json.loads(report["json"].read_text(encoding="utf-8"))
    html = report["en"].read_text(encoding="utf-8")
    top = data["signals"][0]
    assert top["category"] == "HA01"
    lead = top["lead"]
    assert lead["alert_type"] in ("category", "pattern", "category_region")
    assert lead["observed"] > lead["threshold"] and isinstance(lead["observed"], int)
    assert len(top["trend"]) == 26 and top["trend"][-1]["alarm"]
    assert top["trend"][-1]["upper"] == pytest.approx(lead["threshold"])
    assert min(top["n_cases"], 5) <= len(top["examples"]) <= MAX_EXAMPLES
    assert sum(h["n"] for h in top["hospitals"]) == top["n_cases"]
    assert sum(r["signal_cases"] for r in top["trend"]) <= top["n_cases"]
    assert top["risk"]["level"] in {"serious", "high", "medium", "low"}
    assert top["evidence_command"] == (
        f"sentinel evidence-pack --signal {top['signal_id']} --week {WEEK}"
    )
    assert top["evidence_command"] in html
    assert html.count("<svg") >= len(data["signals"])
    assert "HA01 Rice cooker" in html
    assert f"{top['onset_week']} to {WEEK}: {top['n_cases']} cases" in html
    assert "Not triaged yet." in html and "No follow-up ordered." in html


def test_numbers_and_words_not_codes_and_dumps(report: dict[str, Path]) -> None:
    """Issue 15: `threshold 0.0`, `obs / exp 2 / 0.0`, a headline count that disagreed with
    the explanation, `p = –` and a raw JSON dump of the detector parameters."""
    data = json.loads(report["json"].read_text(encoding="utf-8"))
    for lang in ("en", "zh"):
        html = report[lang].read_text(encoding="utf-8")
        assert "p = –" not in html and "p = —" not in html and "p=–" not in html
        assert '"alpha"' not in html and "&#34;alpha&#34;" not in html and "{&#34;" not in html
        assert "threshold 0.0" not in html and "/ 0.0" not in html
    html = report["en"].read_text(encoding="utf-8")
    assert "Detector settings: Weekly test auto-offset" in html
    for signal in data["signals"]:
        for member in signal["members"]:
            # Every count is an integer; the sentence names the count and its span.
            assert isinstance(member["observed"], int) and isinstance(member["n_cases"], int)
            if member["alarm_from"] is not None:
                assert f"had {member['observed']} case" in html
                assert f"the alarm starts at {member['alarm_from']} case" in html


def test_hostile_text_is_inert_and_nothing_is_loaded(report: dict[str, Path]) -> None:
    for lang in ("zh", "en"):
        html = report[lang].read_text(encoding="utf-8")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<script" not in html and "<img" not in html
        assert fetches(html) == []
    raw = report["json"].read_text(encoding="utf-8")
    assert "<script>" not in raw and json.loads(raw)  # escaped as \u003c, still valid JSON
    assert HOSTILE in raw.replace("\\u003c", "<").replace("\\u003e", ">").replace(
        "\\u0026", "&"
    ).replace('\\"', '"')


def test_the_fetch_detector_is_not_blind() -> None:
    assert fetches(
        '<p>x</p><img src="a.png"><a href="http://x">y</a><a href="#top">z</a>'
        "<style>body{background:url(http://x)}</style>"
    ) == ["<img>", "img src=a.png", "a href=http://x", "css fetch"]
    assert fetches("<p>&lt;img src=x onerror=alert(2)&gt;</p>") == []


def test_no_identifier_pseudonyms_in_any_output(report: dict[str, Path]) -> None:
    for path in report.values():
        text = path.read_text(encoding="utf-8")
        assert "na_0123456789abcdef0123" not in text
        assert "patient_name" not in text


def test_same_data_same_bytes(tiny: Settings, report: dict[str, Path], tmp_path: Path) -> None:
    shutil.copy(tiny.warehouse_path, tmp_path / "warehouse.duckdb")
    again = write_weekly_report(tiny.with_overrides(home=tmp_path), WEEK)
    for key in ("zh", "en", "json"):
        assert again[key].read_bytes() == report[key].read_bytes(), key


@pytest.mark.slow  # builds triage decisions and follow-ups, then the report: 2-2.6 s
def test_triage_facets_and_followup_results_appear(tiny: Settings, tmp_path: Path) -> None:
    shutil.copy(tiny.warehouse_path, tmp_path / "warehouse.duckdb")
    settings = tiny.with_overrides(home=tmp_path)
    people = add_people_to_home(settings)
    con = connect(settings.warehouse_path, read_only=True)
    try:
        signal_id, keys = con.execute(
            "SELECT signal_id, case_keys FROM signal_weeks WHERE week = ? AND rank = 1", [WEEK]
        ).fetchone()
    finally:
        con.close()
    case = json.loads(keys)[0]
    triage.decide(settings, people["li.analyst"], signal_id, "confirm", "clear step <b>rise</b>")
    ordered = triage.order_followups(
        settings, people["li.analyst"], signal_id, [case], "check the lid <b>latch</b>"
    )
    triage.record_result(
        settings,
        people["wang.supervisor"],
        ordered[0].followup_id,
        reached=True,
        conclusion="lid latch broke; batch B-2026-04 =SUM(1)",
        product_role="caused",
        brand="厨乐宝",
        model="CL-5",
        batch="B-2026-04",
    )
    paths = write_weekly_report(settings, WEEK, langs=("en",))
    data = json.loads(paths["json"].read_text(encoding="utf-8"))
    top = data["signals"][0]
    # The follow-up did not replace the confirmation: two facets.
    assert top["triage"]["decision"] == "confirm" and top["triage"]["actor"] == "li.analyst"
    assert top["investigation"] == {"state": "complete", "ordered": 1, "completed": 1, "overdue": 0}
    assert top["followups"][0]["status"] == "completed"
    assert top["followups"][0]["product_role"] == "caused"
    html = paths["en"].read_text(encoding="utf-8")
    assert "clear step &lt;b&gt;rise&lt;/b&gt;" in html and "<b>rise" not in html
    assert "lid latch broke" in html and "厨乐宝 / CL-5 / B-2026-04" in html
    assert "the product caused the injury" in html
    assert "confirmed by li.analyst" in html and "follow-up complete: 1 of 1" in html


def test_bad_input_is_refused(tiny: Settings) -> None:
    with pytest.raises(ReportError, match="ISO week"):
        write_weekly_report(tiny, "2026-19")
    with pytest.raises(ReportError, match="language"):
        write_weekly_report(tiny, WEEK, langs=("fr",))
