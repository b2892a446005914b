"""The supervisors' approval queue: notices and warnings submitted from confirmed signals, each
with its text (in the reader's language) and history; approve (optional comment) or return to
the drafter (comment required). Everything goes through ``pipeline.services.notices``, which
checks the approver's role, refuses a supervisor approving their own draft, freezes an approved
version and audits every step with the signed-in user (channel ``web``)."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import Response

from pipeline.appdb.errors import AppDBError
from pipeline.errors import BadInput, SentinelError
from pipeline.notices.markdown import to_html
from pipeline.notices.workflow import APPROVER_ROLES
from pipeline.services import notices as service
from pipeline.web.context import Ctx
from pipeline.web.policy import requires
from pipeline.web.render import page, redirect

router = APIRouter()
APPROVERS = tuple(sorted(APPROVER_ROLES, key=lambda r: r.value))
DONE = {"approve": "approvals.approved", "return": "approvals.returned"}


def _queue_page(
    ctx: Ctx,
    status: int = 200,
    error: SentinelError | None = None,
    notice: str | None = None,
    failed: str | None = None,
    comment: str = "",
) -> Response:
    items = service.waiting(ctx.state.settings, db=ctx.state.db)
    for item in items:
        docs = item["documents"]
        text = docs.get((ctx.lang, "md")) or docs.get(("zh", "md")) or ""
        item["html"] = to_html(text)  # Markdown rendered safely: no raw HTML, safe links only
    return page(
        ctx,
        "approvals.html",
        status=status,
        items=items,
        error=error,
        notice=notice,
        failed=failed,
        comment=comment,
    )


@router.get("/approvals")
def queue(done: str = "", ctx: Ctx = requires(*APPROVERS)) -> Response:
    return _queue_page(ctx, notice=DONE.get(done))


def _step(ctx: Ctx, notice_id: str, action: str, comment: str) -> Response:
    settings, actor, db = ctx.state.settings, ctx.actor(), ctx.state.db
    try:
        if action == "approve":
            service.approve(settings, actor, notice_id, comment or None, db=db)
        else:
            service.return_notice(settings, actor, notice_id, comment, db=db)
    except (BadInput, AppDBError) as exc:
        if isinstance(exc, BadInput) and exc.kind == "not_found":
            raise
        return _queue_page(ctx, status=400, error=exc, failed=notice_id, comment=comment)
    return redirect(ctx, f"/approvals?done={quote(action)}")


@router.post("/approvals/{notice_id}/approve")
def approve(
    notice_id: str,
    comment: str = Form("", max_length=4000),
    ctx: Ctx = requires(*APPROVERS),
) -> Response:
    return _step(ctx, notice_id[:64], "approve", comment)


@router.post("/approvals/{notice_id}/return")
def return_notice(
    notice_id: str,
    comment: str = Form("", max_length=4000),
    ctx: Ctx = requires(*APPROVERS),
) -> Response:
    return _step(ctx, notice_id[:64], "return", comment)
