"""A notice's Markdown as safe HTML (the approval queue, the draft form's preview, the HTML
document of an edited draft).

markdown-it-py in CommonMark mode with tables, and nothing that lets text become live markup:

* raw HTML is off: ``<b>`` or ``<script>`` in the text is shown as text, never passed through;
* images are off (a notice has none; an ``<img>`` would fetch from anywhere);
* a link keeps its target only for ``http``, ``https`` and ``mailto`` (anything else, e.g.
  ``javascript:`` or ``data:``, stays plain text) and opens with ``rel="noopener noreferrer
  nofollow"``;
* a fenced block's info string is dropped (no ``class`` attribute from the text);
* entities the generator writes to keep text inert (``&lt;``) render as the character, escaped.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markupsafe import Markup

SAFE_SCHEMES = ("http://", "https://", "mailto:")
TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"


def _safe_link(url: str) -> bool:
    return url.strip().lower().startswith(SAFE_SCHEMES)


@cache
def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table").disable("image")
    md.validateLink = _safe_link  # type: ignore[method-assign]

    def link_open(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].attrSet("rel", "noopener noreferrer nofollow")
        return renderer.renderToken(tokens, idx, options, env)

    md.add_render_rule("link_open", link_open)
    fence = md.renderer.rules["fence"]

    def plain_fence(renderer, tokens, idx, options, env):  # type: ignore[no-untyped-def]
        tokens[idx].info = ""  # no class="language-..." from the text
        return fence(tokens, idx, options, env)

    md.add_render_rule("fence", plain_fence)
    return md


def to_html(text: str | None) -> Markup:
    """Markdown -> an HTML fragment that is safe to put into a page as it is."""
    return Markup(_parser().render(text or ""))


def title_of(text: str) -> str:
    """The first level-one heading's text (the document's title), else ''."""
    for line in (text or "").splitlines():
        if line.startswith("# "):
            tokens = _parser().parseInline(line[2:].strip())
            return "".join(t.content for t in tokens[0].children or [] if t.type == "text")
    return ""


def document_html(text: str, lang: str) -> str:
    """A standalone HTML document of a Markdown text (an analyst's edited draft), styled like
    the generated ones."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template("edited.html.j2").render(
        lang=lang, title=title_of(text), body=to_html(text)
    )
