"""Markdown that shows hostile text as text.

``<``, ``>`` and ``&`` become HTML entities (so text stays text whether or not the renderer
passes raw HTML through); characters that open inline Markdown anywhere (emphasis, code, links,
tables, escapes) are backslash-escaped; characters that only mean something at the start of a
line (headings, lists, quotes, setext underlines) are escaped when the value starts with them.
Line breaks become spaces, so one value cannot add a line of its own.
"""

from __future__ import annotations

import re

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_INLINE = set("\\`*_{}[]|~")
_LINE_START = re.compile(r"^(?:[#+\-=]|\d+[.)])")


def md_escape(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    text = " ".join(str(value).split())
    out = "".join(_ENTITIES.get(ch) or ("\\" + ch if ch in _INLINE else ch) for ch in text)
    match = _LINE_START.match(out)
    if match:  # "# x", "- x", "1. x", "===": escape the marker's last character
        end = match.end() - 1
        out = out[:end] + "\\" + out[end:]
    return out
