"""The signal page's forms in a real browser (Debian chromium through Playwright), in Chinese and
in English, against ``sentinel web`` on the tiny published warehouse (the server and flow
fixtures of ``test_web_workspace_browser``): an analyst records a follow-up result, drafts a
risk notice from the signal, edits it and submits it; a supervisor sees it rendered in the
approval queue and returns it with a comment; the analyst finds the comment on the signal page
and submits a new version. The provisional members are shown apart with their badge.

Screenshots: ``artifacts/screenshots/workspace-<role>-<lang>-<step>-<what>.png``. Hostile text
(the tiny warehouse's narratives, the comment, the edited text) stays text: no dialog, no
script error, no CSP violation, no element of theirs (checked by the flow fixture)."""

from __future__ import annotations

import re

import pytest
from test_web_workspace_browser import LANGS, flow, server  # noqa: F401  (fixtures)
from tiny_warehouse import PROVISIONAL, SIGNAL_ID, WEEK

pytestmark = pytest.mark.slow

HOSTILE = '<img src=x onerror="alert(11)"><script>alert(12)</script>'
BADGE = {"zh": "暂定", "en": "provisional"}
WORDS = {
    "zh": {"result_saved": "随访结果已记录", "submitted": "文件已提交审批", "returned": "退回"},
    "en": {
        "result_saved": "Follow-up result recorded",
        "submitted": "Document submitted for approval",
        "returned": "Returned by",
    },
}


def _no_live_markup(f) -> None:  # type: ignore[no-untyped-def]
    page = f.page
    assert page.evaluate("document.querySelectorAll('img[src=\"x\"], [onerror]').length") == 0
    scripts = page.evaluate("[...document.scripts].map(s => s.src || s.textContent)")
    assert all(s.endswith(".js") for s in scripts), scripts


@pytest.mark.parametrize("lang", LANGS)
def test_analyst_records_a_follow_up_result(flow, lang: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    f = flow("analyst", lang)
    f.go(f"/signals/{SIGNAL_ID}")
    row = f.page.locator("#followup-table tr[data-followup]").first
    row.locator("details.result-form summary").click()
    row.locator("input[name=reached][value=yes]").check()
    row.locator("select[name=product_role]").select_option("caused")
    row.locator("input[name=brand]").fill("<b>厨乐宝</b> " + lang)
    row.locator("textarea[name=conclusion]").fill(f"hinge broke {lang} {HOSTILE}")
    f.shot("result-form")
    row.locator("button.save-result").click()
    expect(f.page.locator("p.notice")).to_contain_text(WORDS[lang]["result_saved"])
    f.page.wait_for_load_state("networkidle")
    done = f.page.locator("#followup-table tr[data-followup]").first
    assert done.get_attribute("data-status") == "completed"
    assert f"hinge broke {lang} {HOSTILE}" in done.locator("dd.conclusion").inner_text()
    assert f"<b>厨乐宝</b> {lang}" in done.inner_text()
    _no_live_markup(f)
    f.assert_inert()
    f.shot("result-recorded")


@pytest.mark.parametrize("lang", LANGS)
def test_draft_submit_return_and_redraft(flow, lang: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    from playwright.sync_api import expect

    marker = f"checked-{lang}"
    a = flow("analyst", lang)
    a.go(f"/signals/{SIGNAL_ID}")
    a.page.click("#draft-links a.draft-risk-notice")
    a.page.wait_for_selector("#draft-form")
    a.page.wait_for_load_state("networkidle")
    text = a.page.input_value(f"#text-{lang}")
    assert text.startswith("# ") and a.page.locator(f"#preview-{lang} h1").count() == 1
    a.shot("draft-form")
    a.page.fill(f"#text-{lang}", text + f"\n**{marker}** {HOSTILE}\n")
    a.page.click("#submit-notice")
    expect(a.page.locator("p.notice")).to_contain_text(WORDS[lang]["submitted"])
    a.page.wait_for_load_state("networkidle")
    assert a.page.locator("#notice-table tr[data-status=submitted]").count() >= 1
    a.shot("draft-submitted")

    s = flow("supervisor", lang)
    s.go("/approvals")
    item = s.page.locator("article[data-notice]").filter(has_text=marker)
    assert item.count() == 1
    # Rendered: the analyst's bold text is a <strong>, the hostile markup is text.
    assert item.locator(f"div.document.rendered strong:text-is('{marker}')").count() == 1
    assert HOSTILE in item.locator("div.document.rendered").inner_text()
    _no_live_markup(s)
    s.shot("approval-rendered")
    comment = f"Name the hinge model {lang} {HOSTILE}"
    item.locator("textarea[name=comment]").fill(comment)
    item.locator("button.return").click()
    s.page.wait_for_url(re.compile(r"done=return"))
    s.page.wait_for_load_state("networkidle")
    s.shot("returned")

    a.go(f"/signals/{SIGNAL_ID}")
    back = a.page.locator("#notice-table tr[data-status=returned]").filter(has_text=comment)
    assert back.count() == 1
    assert WORDS[lang]["returned"] in back.locator(".returned-comment").inner_text()
    _no_live_markup(a)
    a.shot("returned-to-analyst")
    back.locator("a.redraft").click()
    a.page.wait_for_selector("#draft-form")
    a.page.wait_for_load_state("networkidle")
    assert comment in a.page.inner_text("#returned-comment")
    assert marker in a.page.input_value(f"#text-{lang}")  # the returned version's text
    a.page.fill(f"#text-{lang}", a.page.input_value(f"#text-{lang}") + "\nModel RC-1.\n")
    a.shot("redraft")
    a.page.click("#submit-notice")
    expect(a.page.locator("p.notice")).to_contain_text(WORDS[lang]["submitted"])
    a.page.wait_for_load_state("networkidle")
    a.shot("redraft-submitted")


@pytest.mark.parametrize("lang", LANGS)
def test_provisional_members_are_flagged(flow, lang: str) -> None:  # type: ignore[no-untyped-def]  # noqa: F811
    f = flow("analyst", lang)
    f.go(f"/signals/{SIGNAL_ID}?week={WEEK}")
    rows = f.page.locator("#provisional-cases tr[data-provisional]")
    assert sorted(rows.evaluate_all("rs => rs.map(r => r.dataset.provisional)")) == sorted(
        PROVISIONAL
    )
    for i in range(rows.count()):
        badge = rows.nth(i).locator(".badge.provisional")
        assert badge.is_visible() and badge.inner_text() == BADGE[lang]
    counted = f.page.locator("#signal-cases tr[data-case]").count()
    assert f.page.inner_text("#case-count") == str(counted)
    assert not set(PROVISIONAL) & set(
        f.page.locator("#signal-cases tr[data-case]").evaluate_all(
            "rs => rs.map(r => r.dataset.case)"
        )
    )
    f.page.locator("#provisional").scroll_into_view_if_needed()
    f.shot("provisional")
