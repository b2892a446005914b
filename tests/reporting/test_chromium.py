"""The weekly report in headless Debian Chromium: it renders (the screenshot is not blank),
the expected sections are in the DOM, and hostile narratives are plain text, not elements.

Skipped when chromium is not installed, except under CI (``CI`` set), where it must run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

from pipeline.config import Settings
from pipeline.services.reporting import weekly as write_weekly_report

from .tinydata import HOSTILE

pytestmark = pytest.mark.slow  # see tests/conftest.py

WEEK = "2026-W19"


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is required under CI (apt-get install chromium fonts-wqy-zenhei)")
    pytest.skip("chromium is not installed (apt-get install chromium fonts-wqy-zenhei)")


def _run(args: list[str], tmp: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            _chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-extensions",
            "--no-first-run",
            f"--user-data-dir={tmp / 'profile'}",
            *args,
        ],
        capture_output=True,
        timeout=120,
        env={**os.environ, "HOME": str(tmp)},
        check=False,
    )


class Dom(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:  # type: ignore[override]
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


@pytest.fixture(scope="module")
def rendered(tiny: Settings, tmp_path_factory: pytest.TempPathFactory) -> dict:
    chromium_tmp = tmp_path_factory.mktemp("chromium")
    _chromium()  # skip (or fail under CI) before doing any work
    home = tmp_path_factory.mktemp("chromium-report")
    shutil.copy(tiny.warehouse_path, home / "warehouse.duckdb")
    paths = write_weekly_report(tiny.with_overrides(home=home), WEEK)
    out = {}
    for lang in ("zh", "en"):
        url = paths[lang].resolve().as_uri()
        png = chromium_tmp / f"{lang}.png"
        shot = _run(
            [f"--screenshot={png}", "--window-size=1280,4000", "--hide-scrollbars", url],
            chromium_tmp,
        )
        assert png.exists(), shot.stderr.decode(errors="replace")[-2000:]
        dom = _run(["--dump-dom", url], chromium_tmp)
        assert dom.returncode == 0, dom.stderr.decode(errors="replace")[-2000:]
        out[lang] = {"png": png, "dom": dom.stdout.decode("utf-8")}
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_screenshot_is_not_blank(rendered: dict, lang: str) -> None:
    from PIL import Image, ImageStat

    image = Image.open(rendered[lang]["png"]).convert("L")
    assert image.size == (1280, 4000)
    stat = ImageStat.Stat(image)
    assert stat.stddev[0] > 20  # text, tables and charts, not a flat page
    histogram = image.histogram()
    dark = sum(histogram[:128]) / (image.size[0] * image.size[1])
    assert 0.005 < dark < 0.5  # some ink, but not a black (crashed) render
    # The top of the page (title, summary table) has content too.
    top = ImageStat.Stat(image.crop((0, 0, 1280, 800)))
    assert top.stddev[0] > 20


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_dom_has_the_sections_and_hostile_text_is_text(rendered: dict, lang: str) -> None:
    dom = Dom()
    dom.feed(rendered[lang]["dom"])
    ids = {attrs.get("id") for _, attrs in dom.tags}
    assert {"summary", "network-health"} <= ids
    alerts = [
        attrs["id"]
        for tag, attrs in dom.tags
        if tag == "section" and "alert" in (attrs.get("class") or "")
    ]
    assert alerts and all(a.startswith("signal-S") for a in alerts)
    assert sum(1 for tag, _ in dom.tags if tag == "svg") >= len(alerts)
    tags = [tag for tag, _ in dom.tags]
    # The page has no script at all, and the narrative's <img onerror> never became one.
    assert "script" not in tags and "img" not in tags
    assert not any(name.startswith("on") for _, attrs in dom.tags for name in attrs)
    text = "".join(dom.text)
    assert HOSTILE in text
    assert ("产品伤害风险周报" if lang == "zh" else "Weekly product-injury hazard report") in text
    assert ("哨点医院监测质量" if lang == "zh" else "Monitoring-site supervision") in text
