"""Message catalogs (``locales/<lang>.json``) and the choice of language for a request.

A signed-in user's preference wins; otherwise the language cookie set by the switcher; otherwise
the browser's Accept-Language; otherwise Chinese.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LOCALES_DIR = Path(__file__).resolve().parent / "locales"
_ACCEPT_RE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?"
)


@cache
def catalog(lang: str) -> dict[str, str]:
    return json.loads((LOCALES_DIR / f"{lang}.json").read_text(encoding="utf-8"))


class Translator:
    """``t("key", name=...)``: the message in this language (English, then the key, if missing)."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGS else DEFAULT_LANG
        self._messages = catalog(self.lang)
        self._fallback = catalog("en")

    def __call__(self, key: str, **params: object) -> str:
        template = self._messages.get(key) or self._fallback.get(key) or key
        return template.format(**params) if params else template


def negotiate(accept_language: str | None) -> str | None:
    """The best of zh / en for an Accept-Language header, or None if it names neither."""
    best: tuple[float, int, str] | None = None
    for index, part in enumerate((accept_language or "").split(",")[:20]):
        match = _ACCEPT_RE.match(part)
        if not match:
            continue
        tag, q = match.group(1).lower(), match.group(2)
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        primary = tag.split("-")[0]
        if primary not in LANGS or weight <= 0:
            continue
        candidate = (-weight, index, primary)
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else None


def clean_lang(value: str | None) -> str | None:
    return value if value in LANGS else None
