"""What the browser loads: vendored htmx (no CDN), no inline script or style the CSP would
block, message catalogs complete in both languages."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from pipeline.web.i18n import LANGS, Translator, negotiate
from pipeline.web.render import HTMX_CONFIG

WEB = Path(__file__).resolve().parents[2] / "pipeline" / "web"
TEMPLATES = sorted((WEB / "templates").glob("*.html"))


def test_vendored_htmx_matches_its_recorded_hash() -> None:
    readme = (WEB / "static" / "vendor" / "README.md").read_text()
    recorded = re.search(r"`([0-9a-f]{64})`", readme)
    assert recorded
    actual = hashlib.sha256((WEB / "static" / "vendor" / "htmx.min.js").read_bytes()).hexdigest()
    assert actual == recorded.group(1)
    assert (WEB / "static" / "vendor" / "htmx.LICENSE.txt").read_text().startswith("Zero-Clause")


def test_templates_load_nothing_from_elsewhere_and_nothing_inline() -> None:
    for path in TEMPLATES:
        text = path.read_text()
        assert not re.search(r"(src|href)=\"(https?:)?//", text), path.name
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), f"inline script in {path.name}"
        assert "<style" not in text and " style=" not in text, path.name
        assert not re.search(r"\son[a-z]+=", text), f"event handler attribute in {path.name}"
        assert "hx-on" not in text and "javascript:" not in text, path.name
        assert "|safe" not in text and "Markup(" not in text, f"unescaped output in {path.name}"


def test_download_links_are_never_boosted() -> None:
    """htmx would fetch a boosted download and swap the file (CSV with hostile text) into the
    page: every link to a file opts out of the boost."""
    for path in TEMPLATES:
        for link in re.findall(r"<a [^>]*\bdownload\b[^>]*>", path.read_text()):
            assert 'hx-boost="false"' in link, (path.name, link)
    assert "htmx:beforeSwap" in (WEB / "static" / "js" / "app.js").read_text()


def test_htmx_runs_without_eval_or_inline_styles() -> None:
    assert HTMX_CONFIG["allowEval"] is False
    assert HTMX_CONFIG["includeIndicatorStyles"] is False
    assert HTMX_CONFIG["historyCacheSize"] == 0  # no page (one-time password) in localStorage
    assert "style" not in HTMX_CONFIG["attributesToSettle"]  # settling writes inline styles


def test_catalogs_have_the_same_keys_and_every_used_key_exists() -> None:
    catalogs = {lang: json.loads((WEB / "locales" / f"{lang}.json").read_text()) for lang in LANGS}
    assert catalogs["zh"].keys() == catalogs["en"].keys()
    for lang, messages in catalogs.items():
        for key, text in messages.items():
            assert text.strip(), (lang, key)
    used: set[str] = set()
    sources = [*TEMPLATES, *WEB.rglob("*.py")]
    for path in sources:
        used |= set(re.findall(r"""\bt\(\s*["']([a-z0-9_.]+)["']""", path.read_text()))
        used |= set(
            re.findall(r"""["']((?:error|account|users|login)\.[a-z0-9_]+)["']""", path.read_text())
        )
    dynamic_prefixes = (
        "area.",
        "users.status.",
        "hospitals.type.",
        "users.enable",
        "users.disable",
    )
    used = {k for k in used if "." in k.strip(".") and not k.endswith((".", ".html"))}
    assert len(used) > 60  # the scan found the keys
    missing = {k for k in used if k not in catalogs["en"] and not k.startswith(dynamic_prefixes)}
    assert not missing, missing
    from pipeline.web.areas import AREAS

    for area in AREAS:
        for suffix in ("title", "text"):
            assert f"area.{area.key}.{suffix}" in catalogs["en"]
    for status in ("active", "disabled", "locked"):
        assert f"users.status.{status}" in catalogs["en"]
    for kind in ("children", "general_tertiary", "community"):
        assert f"hospitals.type.{kind}" in catalogs["en"]


def test_translator_and_negotiation() -> None:
    assert Translator("zh")("login.title") == "登录"
    assert Translator("en")("home.greeting", name="<b>") == "Welcome, <b>"  # escaped by Jinja
    assert Translator("xx").lang == "zh"
    assert negotiate("en-US,en;q=0.9,zh-CN;q=0.8") == "en"
    assert negotiate("fr-FR, zh-TW;q=0.5, en;q=0.4") == "zh"
    assert negotiate("zh;q=0, en;q=0.1") == "en"
    assert negotiate("de, fr") is None and negotiate(None) is None
    assert negotiate("garbage;;;,,,q=") is None
