"""The supervisors' approval queue: a risk notice drafted and submitted by the analyst from the
tiny (confirmed) signal, approved or returned in the browser's forms. Only supervisors; CSRF;
audited as the signed-in supervisor with channel ``web``; refusals say why; hostile comments
inert."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tiny_warehouse import SIGNAL_ID
from web_helpers import WebEnv, page_token

from pipeline.appdb.models import AuditEntry
from pipeline.services import accounts, notices, triage

HOSTILE = '<script>alert("c")</script><img src=x onerror="alert(4)"> =HYPERLINK("x")'


@pytest.fixture
def submitted(web: WebEnv) -> str:
    """A risk notice of the tiny signal, drafted and submitted by u-analyst (command line)."""
    actor = accounts.cli_actor(web.db, "u-analyst", "cli")
    drafted = notices.draft(web.settings, actor, SIGNAL_ID, "risk-notice")
    notices.submit(web.settings, actor, drafted.notice.notice_id)
    return drafted.notice.notice_id


def _status(web: WebEnv, notice_id: str) -> str:
    return notices.get(web.settings, notice_id, db=web.db)["notice"].status


def _audit(web: WebEnv) -> list[tuple[str, str, str, str | None]]:
    with web.db.transaction() as session:
        rows = session.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
        return [(r.action, r.actor_username, r.channel, r.object_id) for r in rows]


def test_a_supervisor_reads_and_approves_a_notice(web: WebEnv, submitted: str) -> None:
    supervisor = web.signed_in("u-supervisor")
    page = supervisor.get("/approvals")
    assert page.status_code == 200 and f'data-notice="{submitted}"' in page.text
    assert f'href="/signals/{SIGNAL_ID}?week=' in page.text
    assert "risk notice" in page.text and '<div class="document rendered"' in page.text
    # The notice's Markdown is rendered (a heading and a list), not shown as source.
    assert "<h1>Product injury risk notice: " in page.text and "<li><strong>" in page.text
    assert "\n# Product injury" not in page.text
    before = len(_audit(web))
    done = supervisor.post(
        f"/approvals/{submitted}/approve",
        data={"comment": "fine", "csrf_token": page_token(supervisor, "/approvals")},
    )
    assert done.status_code == 303 and done.headers["location"] == "/approvals?done=approve"
    after = supervisor.get(done.headers["location"]).text
    assert "Approved: the version is frozen." in after and 'id="nothing-waiting"' in after
    assert _status(web, submitted) == "approved"
    assert _audit(web)[before:] == [("notice.approve", "u-supervisor", "web", submitted)]
    # The signal page lists it, approved.
    signal = supervisor.get(f"/signals/{SIGNAL_ID}").text
    assert f'<tr data-notice="{submitted}" data-status="approved">' in signal
    # Approved is final: approving again is refused with the reason.
    again = supervisor.post(
        f"/approvals/{submitted}/approve", data={"csrf_token": page_token(supervisor)}
    )
    assert again.status_code == 400 and "only a submitted notice" in again.text


def test_returning_needs_a_comment_and_shows_it_inert(web: WebEnv, submitted: str) -> None:
    supervisor = web.signed_in("u-supervisor")
    token = page_token(supervisor, "/approvals")
    before = len(_audit(web))
    empty = supervisor.post(f"/approvals/{submitted}/return", data={"csrf_token": token})
    assert empty.status_code == 400 and "is required" in empty.text
    assert _status(web, submitted) == "submitted" and len(_audit(web)) == before
    done = supervisor.post(
        f"/approvals/{submitted}/return", data={"comment": HOSTILE, "csrf_token": token}
    )
    assert done.status_code == 303 and _status(web, submitted) == "returned"
    assert _audit(web)[before:] == [("notice.return", "u-supervisor", "web", submitted)]
    signal = supervisor.get(f"/signals/{SIGNAL_ID}").text
    assert "&lt;script&gt;alert(&#34;c&#34;)&lt;/script&gt;" in signal
    assert "<script>alert" not in signal and "<img src=x" not in signal


def test_a_refused_approval_echoes_the_comment_inert(web: WebEnv, submitted: str) -> None:
    # The signal is no longer confirmed: approving is refused, the comment kept, as text.
    actor = accounts.cli_actor(web.db, "u-analyst", "cli")
    triage.decide(web.settings, actor, SIGNAL_ID, "watch", "wait for more cases", db=web.db)
    supervisor = web.signed_in("u-supervisor")
    refused = supervisor.post(
        f"/approvals/{submitted}/approve",
        data={"comment": HOSTILE, "csrf_token": page_token(supervisor)},
    )
    assert refused.status_code == 400 and "no longer confirmed" in refused.text
    assert "<script>alert" not in refused.text and "&lt;script&gt;" in refused.text
    assert _status(web, submitted) == "submitted"


def test_only_supervisors_approve(web: WebEnv, submitted: str) -> None:
    for username in ("u-analyst", "u-recall", "u-admin", "u-clerk", "u-coder"):
        client = web.signed_in(username)
        token = page_token(client)
        assert client.get("/approvals").status_code == 403, username
        for action in ("approve", "return"):
            refused = client.post(
                f"/approvals/{submitted}/{action}", data={"comment": "x", "csrf_token": token}
            )
            assert refused.status_code == 403, (username, action)
    assert _status(web, submitted) == "submitted"


def test_approval_needs_the_csrf_token(web: WebEnv, submitted: str) -> None:
    supervisor = web.signed_in("u-supervisor")
    assert supervisor.post(f"/approvals/{submitted}/approve", data={}).status_code == 403
    forged = supervisor.post(
        f"/approvals/{submitted}/return", data={"comment": "x", "csrf_token": "forged"}
    )
    assert forged.status_code == 403 and _status(web, submitted) == "submitted"
    assert (
        supervisor.post(
            "/approvals/N-nothing/approve", data={"csrf_token": page_token(supervisor)}
        ).status_code
        == 404
    )


def test_zh_supervisor_reads_refusals_in_chinese(web: WebEnv, submitted: str) -> None:
    supervisor = web.signed_in("u-supervisor")
    token = page_token(supervisor)
    supervisor.post("/lang", data={"lang": "zh", "next": "/", "csrf_token": token})
    page = supervisor.get("/approvals").text
    assert "待审批的通报" in page and "风险通报" in page
    empty = supervisor.post(f"/approvals/{submitted}/return", data={"csrf_token": token})
    assert empty.status_code == 400 and "退回意见不能为空" in empty.text
