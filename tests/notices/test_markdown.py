"""A notice's Markdown rendered for the web (``pipeline.notices.markdown``): formatting renders,
hostile text stays text (no raw HTML, no event handler, no script or data link, no image), for
hand-picked payloads and for any text (hypothesis)."""

from __future__ import annotations

from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.escaping import md_escape
from pipeline.notices.markdown import document_html, title_of, to_html

ALLOWED_TAGS = {
    "p", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "ul", "ol", "li", "a", "code",
    "pre", "blockquote", "hr", "br", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
SAFE_HREF = ("http://", "https://", "mailto:")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return parser.tags


def _assert_inert(html: str) -> None:
    for tag, attrs in _tags(html):
        assert tag in ALLOWED_TAGS, (tag, html)
        allowed = (
            {"href", "rel"} if tag == "a" else {"align", "style"} if tag in ("th", "td") else set()
        )
        assert set(attrs) <= allowed, (tag, attrs, html)
        if tag in ("th", "td") and "style" in attrs:  # markdown-it's column alignment only
            assert attrs["style"] in ("text-align:left", "text-align:right", "text-align:center")
        if tag == "a":
            assert (attrs["href"] or "").lower().startswith(SAFE_HREF), attrs
            assert attrs["rel"] == "noopener noreferrer nofollow"


HOSTILE = [
    '<script>alert("x")</script>',
    '<img src=x onerror="alert(1)">',
    "<b onmouseover=alert(1)>bold</b>",
    "<div>\n<script>alert(2)</script>\n</div>",
    "[click](javascript:alert(3))",
    "[data](data:text/html;base64,PHNjcmlwdD5hbGVydCg0KTwvc2NyaXB0Pg==)",
    "[vb](vbscript:msgbox(5))",
    "<javascript:alert(6)>",
    "![pixel](https://evil.example/p.png)",
    '[x](https://ok.example "title" onclick="alert(7)")',
    "&lt;script&gt;alert(8)&lt;/script&gt;",
    '=HYPERLINK("http://e.x") @SUM(1+1)',
    "<iframe src=https://evil.example></iframe>",
    "<!-- comment --><style>body{display:none}</style>",
]


def test_hostile_payloads_stay_text() -> None:
    for payload in HOSTILE:
        html = to_html(payload)
        _assert_inert(html)
        lowered = html.lower()
        for live in ("<script", "<img", "<iframe", "<style", "<div", "<b "):
            assert live not in lowered, (payload, html)
        assert 'href="javascript' not in lowered and 'href="data' not in lowered
    # The payload is still readable, as text.
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in to_html(HOSTILE[0])
    assert "&lt;img src=x onerror=" in to_html(HOSTILE[1])
    # The generator's own escaping (entities) shows the characters, not markup.
    assert to_html(md_escape('<b>"x"</b>')).strip() == "<p>&lt;b&gt;&quot;x&quot;&lt;/b&gt;</p>"


def test_formatting_renders() -> None:
    html = to_html(
        "# Title\n\n*subtitle*\n\n- **Signal**: S1\n- two\n\n## Section\n\n"
        "A [source](https://example.org/a?b=1&c=2) and `code`.\n\n"
        "| case | age |\n| --- | --- |\n| GZ001/C1 | 3 |\n\n---\n\nfooter\n"
    )
    assert "<h1>Title</h1>" in html and "<h2>Section</h2>" in html
    assert "<em>subtitle</em>" in html and "<li><strong>Signal</strong>: S1</li>" in html
    assert (
        '<a href="https://example.org/a?b=1&amp;c=2" rel="noopener noreferrer nofollow">source</a>'
        in html
    )
    assert "<code>code</code>" in html and "<td>GZ001/C1</td>" in html and "<hr" in html
    _assert_inert(html)


def test_an_edited_document_is_a_full_page_with_the_title() -> None:
    text = "# Risk notice: <b>kettles</b>\n\nbody **x**\n"
    assert title_of(text) == "Risk notice: <b>kettles</b>"
    page = document_html(text, "en")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="en">' in page
    assert "<title>Risk notice: &lt;b&gt;kettles&lt;/b&gt;</title>" in page
    assert "<strong>x</strong>" in page and "<b>kettles</b>" not in page
    assert "default-src 'none'" in page  # the generated documents' own CSP


PIECES = list("<>&\"'=/\\()[]!*_`#-|: \n\tabx") + [
    "on",
    "onerror",
    "src",
    "href",
    "script",
    "javascript:",
    "data:",
    "img",
    "http://",
    "电饭煲",
    "&lt;",
    "&#60;",
]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=60).map("".join))
def test_any_text_renders_without_live_markup(text: str) -> None:
    _assert_inert(to_html(text))
