"""The signal page's other forms: a follow-up's result; drafting a risk notice or consumer
warning from the signal (prefilled, edited, submitted for approval) and its way back to the
analyst when returned; the tiny signal's provisional members shown apart and never counted.
Who may (triage roles), CSRF, the audit entries with the signed-in user and channel ``web``,
refusals in the user's language, hostile text inert. The tiny signal starts confirmed by
u-analyst with one open follow-up (GZ001/C0000)."""

from __future__ import annotations

import re

from sqlalchemy import select
from tiny_warehouse import PROVISIONAL, PROVISIONAL_PATTERN, SIGNAL_ID, WEEK
from web_helpers import WebEnv, page_token

from pipeline.appdb.audit import verify_chain
from pipeline.appdb.models import AuditEntry, FollowUp, FollowUpResult
from pipeline.services import accounts, notices, triage

PAGE = f"/signals/{SIGNAL_ID}"
NEW = f"/signals/{SIGNAL_ID}/notices/new"
SUBMIT = f"/signals/{SIGNAL_ID}/notices"
HOSTILE = '<script>alert("f")</script><img src=x onerror="alert(9)"> =HYPERLINK("x")'
ESCAPED = "&lt;script&gt;alert(&#34;f&#34;)&lt;/script&gt;"


def _audit(web: WebEnv) -> list[tuple[str, str, str, str | None]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return [(r.action, r.actor_username, r.channel, r.object_id) for r in rows]


def _followup_id(web: WebEnv) -> str:
    with web.db.transaction() as session:
        (row,) = session.scalars(select(FollowUp)).all()
        return row.id


def _results(web: WebEnv) -> list[tuple[bool, str, str, str | None, str, str]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(FollowUpResult).order_by(FollowUpResult.recorded_at)).all()
        return [
            (r.reached, r.product_role, r.conclusion, r.brand_verified, r.recorded_by, r.channel)
            for r in rows
        ]


def _result_url(followup_id: str) -> str:
    return f"/signals/{SIGNAL_ID}/followups/{followup_id}/result"


# ---- follow-up results ---------------------------------------------------------------------


def test_an_analyst_records_a_follow_up_result(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    fid = _followup_id(web)
    page = analyst.get(PAGE).text
    assert f'action="{_result_url(fid)}"' in page
    assert f'<tr data-followup="{fid}" data-status="overdue">' in page  # due 2026-11-24
    before = len(_audit(web))
    done = analyst.post(
        _result_url(fid),
        data={
            "reached": "yes",
            "product_role": "caused",
            "conclusion": "hinge broke " + HOSTILE,
            "brand": "<b>厨乐宝</b>",
            "model": "RC-1",
            "week": WEEK,
            "csrf_token": page_token(analyst, PAGE),
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?week={WEEK}&done=result"
    assert _results(web) == [
        (True, "caused", "hinge broke " + HOSTILE, "<b>厨乐宝</b>", "u-analyst", "web")
    ]
    assert _audit(web)[before:] == [("followup.result", "u-analyst", "web", fid)]
    with web.db.transaction() as session:
        assert verify_chain(session).ok
    after = analyst.get(done.headers["location"]).text
    assert "Follow-up result recorded." in after
    assert f'<tr data-followup="{fid}" data-status="completed">' in after
    row = after.split(f'<tr data-followup="{fid}"')[1].split("</tr>")[0]
    assert "caused the injury" in row and "reached" in row and "RC-1" in row
    assert ESCAPED in row and "&lt;b&gt;厨乐宝&lt;/b&gt;" in row
    assert "<script>alert" not in after and "<img src=x" not in after
    # The investigation is complete now: counted on the page.
    assert "complete (1/1)" in after


def test_a_result_that_breaks_a_rule_is_refused_with_the_form_kept(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    fid = _followup_id(web)
    token = page_token(analyst, PAGE)
    before = len(_audit(web))
    form = {"reached": "yes", "conclusion": "no role " + HOSTILE, "week": WEEK, "csrf_token": token}
    refused = analyst.post(_result_url(fid), data=form)
    assert refused.status_code == 400 and "needs the product&#39;s role" in refused.text
    assert ESCAPED in refused.text and "<script>alert" not in refused.text  # kept, inert
    assert '<details class="result-form" open>' in refused.text
    nothing = analyst.post(
        _result_url(fid), data={"conclusion": "x", "week": WEEK, "csrf_token": token}
    )
    assert nothing.status_code == 400 and "was reached" in nothing.text
    empty = analyst.post(
        _result_url(fid), data={"reached": "no", "conclusion": " ", "csrf_token": token}
    )
    assert empty.status_code == 400 and "conclusion is required" in empty.text
    assert _results(web) == [] and len(_audit(web)) == before
    # An unreached follow-up needs no role: 'undetermined'.
    done = analyst.post(
        _result_url(fid),
        data={"reached": "no", "conclusion": "no answer", "week": WEEK, "csrf_token": token},
    )
    assert done.status_code == 303 and _results(web)[0][:2] == (False, "undetermined")


def test_a_follow_up_of_another_signal_or_none_is_not_found(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, PAGE)
    form = {"reached": "no", "conclusion": "x", "csrf_token": token}
    assert analyst.post(_result_url("F-nothing"), data=form).status_code == 404
    other = f"/signals/S-other-signal/followups/{_followup_id(web)}/result"
    assert analyst.post(other, data=form).status_code == 404
    assert _results(web) == []


def test_only_triage_roles_record_results_and_only_with_the_token(web: WebEnv) -> None:
    fid = _followup_id(web)
    form = {"reached": "no", "conclusion": "x", "week": WEEK}
    for username in ("u-coder", "u-recall", "u-coordinator", "u-clerk", "u-admin"):
        client = web.signed_in(username)
        refused = client.post(_result_url(fid), data={**form, "csrf_token": page_token(client)})
        assert refused.status_code == 403, username
    analyst = web.signed_in("u-analyst")
    assert analyst.post(_result_url(fid), data=form).status_code == 403  # no token
    forged = analyst.post(_result_url(fid), data={**form, "csrf_token": "forged"})
    assert forged.status_code == 403
    assert web.client().post(_result_url(fid), data=form).status_code == 401
    assert _results(web) == []
    # A supervisor may.
    supervisor = web.signed_in("u-supervisor")
    done = supervisor.post(_result_url(fid), data={**form, "csrf_token": page_token(supervisor)})
    assert done.status_code == 303 and _results(web)[0][4:] == ("u-supervisor", "web")


def test_zh_refusal_of_a_result(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst)
    analyst.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": token})
    page = analyst.get(PAGE).text
    assert "记录随访结果" in page and "产品作用" in page
    refused = analyst.post(
        _result_url(_followup_id(web)),
        data={"reached": "yes", "conclusion": "x", "week": WEEK, "csrf_token": token},
    )
    assert refused.status_code == 400 and "已联系到的随访须填写产品作用" in refused.text


# ---- drafting a notice from the signal -----------------------------------------------------


def _textareas(html: str) -> dict[str, str]:
    import html as htmllib

    return {
        m.group(1): htmllib.unescape(m.group(2))
        for m in re.finditer(r'<textarea id="text-(zh|en)" name="text_\w+"[^>]*>(.*?)</textarea>',
                             html, re.S)
    }  # fmt: skip


def test_draft_edit_submit_return_and_redraft(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    signal_page = analyst.get(PAGE).text
    assert f'href="{NEW}?kind=risk-notice&amp;week={WEEK}"' in signal_page
    form_page = analyst.get(f"{NEW}?kind=risk-notice&week={WEEK}")
    assert form_page.status_code == 200
    texts = _textareas(form_page.text)
    assert texts["en"].startswith("# Product injury risk notice: ")
    assert texts["zh"].startswith("# 产品伤害风险通报：")
    # The prefilled text is the service's own draft, and its preview is rendered.
    assert '<div class="document rendered" id="preview-en"><h1>Product injury' in form_page.text
    edited = texts["en"].replace(
        "## Hazard", "## Hazard\n\n**Checked by the analyst.** " + HOSTILE, 1
    )
    assert edited != texts["en"]
    before = len(_audit(web))
    done = analyst.post(
        SUBMIT,
        data={
            "kind": "risk-notice",
            "week": WEEK,
            "text_zh": texts["zh"],
            "text_en": edited,
            "csrf_token": page_token(analyst, PAGE),
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"{PAGE}?week={WEEK}&done=notice_submitted"
    (view,) = notices.list_notices(web.settings, SIGNAL_ID, db=web.db)
    assert (view.kind, view.version, view.status, view.drafted_by) == (
        "risk-notice",
        1,
        "submitted",
        "u-analyst",
    )
    assert _audit(web)[before:] == [
        ("notice.draft", "u-analyst", "web", view.notice_id),
        ("notice.submit", "u-analyst", "web", view.notice_id),
    ]
    docs = notices.get(web.settings, view.notice_id, db=web.db)["documents"]
    assert docs[("en", "md")] == edited.strip() + "\n"
    assert docs[("zh", "md")] == texts["zh"]  # unchanged: the generated text and HTML kept
    assert "<strong>Checked by the analyst.</strong>" in docs[("en", "html")]
    assert "<script>" not in docs[("en", "html")] and "&lt;script&gt;" in docs[("en", "html")]
    after = analyst.get(done.headers["location"]).text
    assert "Document submitted for approval." in after
    assert f'<tr data-notice="{view.notice_id}" data-status="submitted">' in after
    # The supervisor's queue holds it, rendered, the hostile text inert.
    supervisor = web.signed_in("u-supervisor")
    queue = supervisor.get("/approvals").text
    item = queue.split(f'data-notice="{view.notice_id}"')[1].split("</article>")[0]
    assert "<strong>Checked by the analyst.</strong>" in item
    assert "&lt;script&gt;" in item and "<script>alert" not in queue and "<img src=x" not in queue
    # Returned with a comment: it comes back to the analyst with that comment.
    returned = supervisor.post(
        f"/approvals/{view.notice_id}/return",
        data={"comment": "Name the hinge model. " + HOSTILE, "csrf_token": page_token(supervisor)},
    )
    assert returned.status_code == 303
    back = analyst.get(PAGE).text
    row = back.split(f'<tr data-notice="{view.notice_id}" data-status="returned">')[1]
    row = row.split("</tr>")[0]
    assert "Returned by u-supervisor:" in row and "Name the hinge model. " + ESCAPED in row
    redraft = f"{NEW}?kind=risk-notice&amp;week={WEEK}&amp;from={view.notice_id}"
    assert f'href="{redraft}"' in row
    again = analyst.get(redraft.replace("&amp;", "&"))
    assert again.status_code == 200
    assert "Version 1 was returned" in again.text
    assert 'id="returned-comment">Name the hinge model. ' + ESCAPED in again.text
    assert _textareas(again.text)["en"] == edited.strip() + "\n"  # the returned text
    assert f'name="from_notice" value="{view.notice_id}"' in again.text
    second = analyst.post(
        SUBMIT,
        data={
            "kind": "risk-notice",
            "week": WEEK,
            "text_zh": texts["zh"],
            "text_en": edited.replace("Checked", "Hinge model RC-1 checked"),
            "from_notice": view.notice_id,
            "csrf_token": page_token(analyst, PAGE),
        },
    )
    assert second.status_code == 303
    latest = notices.list_notices(web.settings, SIGNAL_ID, db=web.db)[0]
    assert (latest.version, latest.status) == (2, "submitted")


def test_a_draft_that_breaks_a_rule_is_refused_with_the_text_kept(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst, PAGE)
    before = len(_audit(web))
    # A consumer warning while the follow-up has no result: needs an override reason.
    warning = analyst.get(f"{NEW}?kind=safety-warning&week={WEEK}")
    assert warning.status_code == 200 and "needs the follow-up investigation complete" in (
        warning.text
    )
    assert 'id="draft-form"' not in warning.text and 'id="override-form"' in warning.text
    with_reason = analyst.get(
        f"{NEW}?kind=safety-warning&week={WEEK}&override_reason=deaths+reported+" + HOSTILE
    )
    assert with_reason.status_code == 200 and 'id="draft-form"' in with_reason.text
    assert _textareas(with_reason.text)["en"].startswith("# Consumer safety warning: ")
    override = with_reason.text.split('<textarea id="override" name="override_reason"')[1]
    assert "deaths reported " + ESCAPED in override.split("</textarea>")[0]
    assert "<script>alert" not in with_reason.text
    refused = analyst.post(
        SUBMIT,
        data={
            "kind": "safety-warning",
            "week": WEEK,
            "text_zh": "# 警示\n",
            "text_en": "# Warning " + HOSTILE,
            "csrf_token": token,
        },
    )
    assert refused.status_code == 400 and "override" in refused.text
    assert ESCAPED in refused.text and "<script>alert" not in refused.text
    empty = analyst.post(
        SUBMIT,
        data={"kind": "risk-notice", "week": WEEK, "text_zh": " ", "text_en": "x",
              "csrf_token": token},
    )  # fmt: skip
    assert empty.status_code == 400 and "zh text of the document is empty" in empty.text
    referral = analyst.post(
        SUBMIT, data={"kind": "recall-referral", "text_zh": "x", "csrf_token": token}
    )
    assert referral.status_code == 400 and "unknown document kind" in referral.text
    assert notices.list_notices(web.settings, SIGNAL_ID, db=web.db) == []
    assert len(_audit(web)) == before
    # With the override reason the warning is drafted and submitted.
    done = analyst.post(
        SUBMIT,
        data={
            "kind": "safety-warning",
            "week": WEEK,
            "text_zh": "# 消费者安全警示\n\n请停止使用。\n",
            "text_en": "# Consumer safety warning\n\nStop using it.\n",
            "override_reason": "deaths reported",
            "csrf_token": token,
        },
    )
    assert done.status_code == 303
    (view,) = notices.list_notices(web.settings, SIGNAL_ID, db=web.db)
    assert (view.kind, view.status, view.override_reason) == (
        "safety-warning",
        "submitted",
        "deaths reported",
    )


def test_drafting_needs_a_confirmed_signal_and_a_triage_role(web: WebEnv) -> None:
    actor = accounts.cli_actor(web.db, "u-analyst", "cli")
    triage.decide(web.settings, actor, SIGNAL_ID, "watch", "wait", db=web.db)
    analyst = web.signed_in("u-analyst")
    page = analyst.get(PAGE).text
    assert 'id="draft-needs-confirm"' in page and 'id="draft-links"' not in page
    form = analyst.get(f"{NEW}?kind=risk-notice")
    assert form.status_code == 200 and "is not confirmed" in form.text
    assert 'id="draft-form"' not in form.text
    for username in ("u-coder", "u-recall", "u-coordinator", "u-clerk", "u-admin"):
        client = web.signed_in(username)
        assert client.get(f"{NEW}?kind=risk-notice").status_code == 403, username
        refused = client.post(
            SUBMIT,
            data={"kind": "risk-notice", "text_zh": "x", "csrf_token": page_token(client)},
        )
        assert refused.status_code == 403, username
    no_token = analyst.post(SUBMIT, data={"kind": "risk-notice", "text_zh": "x"})
    assert no_token.status_code == 403
    assert notices.list_notices(web.settings, SIGNAL_ID, db=web.db) == []


def test_zh_draft_page(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    token = page_token(analyst)
    analyst.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": token})
    assert "起草风险通报" in analyst.get(PAGE).text
    page = analyst.get(f"{NEW}?kind=risk-notice&week={WEEK}").text
    assert "提交审批" in page and "中文文本（Markdown）" in page
    refused = analyst.post(
        SUBMIT,
        data={"kind": "risk-notice", "week": WEEK, "text_zh": "", "text_en": "x",
              "csrf_token": token},
    )  # fmt: skip
    assert refused.status_code == 400 and "文件的中文文本不能为空" in refused.text


# ---- provisional members -------------------------------------------------------------------


def test_provisional_members_are_shown_apart_and_never_counted(web: WebEnv) -> None:
    analyst = web.signed_in("u-analyst")
    page = analyst.get(PAGE).text
    counted = re.findall(r'<tr data-case="([^"]+)">', page)
    shown = re.findall(r'<tr data-provisional="([^"]+)">', page)
    assert sorted(shown) == sorted(PROVISIONAL)
    assert not set(shown) & set(counted)
    # The page's numbers are the counted cases' only.
    assert f'id="case-count">{len(counted)}<' in page
    hospitals = page.split('id="hospital-table"')[1].split("</table>")[0]
    assert sum(int(n) for n in re.findall(r'<td class="num">(\d+)</td>', hospitals)) == len(counted)
    section = page.split('<section id="provisional"')[1].split("</section>")[0]
    assert "2 provisional cases (not counted in this signal)." in section
    assert section.count('<span class="badge provisional" data-status="provisional">') == 3
    assert PROVISIONAL_PATTERN in section and "low confidence" in section
    assert "Provisional members: waiting for coder review" in section
    zh = web.signed_in("u-supervisor")
    zh.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": page_token(zh)})
    zh_page = zh.get(PAGE).text
    assert "暂定成员：待编码员复核" in zh_page and "暂定病例 2 例（不计入本信号）。" in zh_page
    assert ">暂定</span>" in zh_page
