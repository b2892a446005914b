"""Drafting a risk notice or a consumer safety warning from a signal, in the browser.

``GET /signals/{id}/notices/new?kind=`` shows the document the notices service generates from
the signal (or, with ``from=``, the text of a returned version with the supervisor's comment),
in both languages, editable, with a safe preview; ``POST /signals/{id}/notices`` drafts a new
version with the (edited) text and submits it for approval in one step
(``pipeline.services.notices.draft(..., texts=..., submit=True)``: the drafting rules, the
audit entries with the signed-in user, channel ``web``). The supervisors' queue (``/approvals``)
then holds it; a returned version comes back here with its comment."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from pipeline.appdb.errors import AppDBError
from pipeline.errors import BadInput, NotFound, SentinelError
from pipeline.notices.markdown import to_html
from pipeline.services import notices as service
from pipeline.services import signals
from pipeline.triage.store import TRIAGE_ROLES
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import page, redirect

router = APIRouter()
DRAFTERS = tuple(sorted(TRIAGE_ROLES, key=lambda r: r.value))
WEB_KINDS = ("risk-notice", "safety-warning")  # a recall referral builds a pack: the CLI's
LANGS = ("zh", "en")


def _kind(kind: str) -> str:
    if kind not in WEB_KINDS:
        raise BadInput(
            f"unknown document kind {kind[:40]!r} (one of {', '.join(WEB_KINDS)})",
            detail_zh=f"未知的文件类型 {kind[:40]!r}（可选 {', '.join(WEB_KINDS)}）",
        )
    return kind


def _returned(ctx: Ctx, signal_id: str, kind: str, from_id: str) -> dict | None:
    """A returned version of this signal's document: its texts and the supervisor's comment."""
    if not from_id:
        return None
    found = service.get(ctx.state.settings, from_id[:64], db=ctx.state.db)
    view = found["notice"]
    if view.signal_id != signal_id or view.kind != kind:
        raise NotFound(f"notice {from_id[:64]} is not a {kind} of signal {signal_id}")
    texts = {lang: found["documents"].get((lang, "md"), "") for lang in LANGS}
    return {"notice": view, "texts": texts}


def _form_page(
    ctx: Ctx,
    signal_id: str,
    week: str,
    kind: str,
    *,
    texts: dict[str, str] | None = None,
    returned: dict | None = None,
    override_reason: str = "",
    error: SentinelError | None = None,
    status: int = 200,
) -> Response:
    if not ctx.state.published():
        raise NoPublishedData()
    data = signals.details(
        ctx.state.settings,
        signal_id,
        week or None,
        ctx.lang,
        snapshots=ctx.state.snapshots,
        db=ctx.state.db,
    )
    sig = data["signal"]
    if texts is None and error is None:
        if returned is not None:
            texts = returned["texts"]
        else:
            try:
                texts = service.preview(
                    ctx.state.settings,
                    ctx.actor(),
                    signal_id,
                    kind,
                    week=sig["week"],
                    override_reason=override_reason or None,
                    db=ctx.state.db,
                )
            except (BadInput, AppDBError) as exc:
                if isinstance(exc, BadInput) and exc.kind == "not_found":
                    raise
                error, texts = exc, None
    confirmed = bool(data["decision"]) and data["decision"]["decision"] == "confirm"
    return page(
        ctx,
        "notice_draft.html",
        # A warning refused for unfinished follow-ups: ask for the override reason first.
        needs_override=texts is None and kind == "safety-warning" and confirmed,
        status=status,
        s=data,
        sig=sig,
        kind=kind,
        texts=texts,
        previews={lang: to_html(text) for lang, text in (texts or {}).items()},
        returned=returned,
        override_reason=override_reason,
        error=error,
    )


@router.get("/signals/{signal_id}/notices/new")
def new_notice(
    signal_id: str,
    kind: str = "risk-notice",
    week: str = "",
    override_reason: str = "",
    from_: str = Query("", alias="from", max_length=64),
    ctx: Ctx = requires(*DRAFTERS),
) -> Response:
    kind = _kind(kind[:40])
    returned = _returned(ctx, signal_id[:64], kind, from_)
    return _form_page(
        ctx,
        signal_id[:64],
        week[:10],
        kind,
        returned=returned,
        override_reason=override_reason[:2000],
    )


@router.post("/signals/{signal_id}/notices")
def submit_notice(
    signal_id: str,
    kind: str = Form("", max_length=40),
    week: str = Form("", max_length=10),
    text_zh: str = Form("", max_length=service.MAX_EDITED + 1000),
    text_en: str = Form("", max_length=service.MAX_EDITED + 1000),
    override_reason: str = Form("", max_length=4000),
    from_notice: str = Form("", max_length=64),
    ctx: Ctx = requires(*DRAFTERS),
) -> Response:
    """Draft a version with the analyst's text and submit it for approval."""
    kind = _kind(kind)
    signal_id = signal_id[:64]
    texts = {"zh": text_zh, "en": text_en}
    try:
        service.draft(
            ctx.state.settings,
            ctx.actor(),
            signal_id,
            kind,
            week=week or None,
            override_reason=override_reason or None,
            texts=texts,
            submit=True,
            db=ctx.state.db,
        )
    except (BadInput, AppDBError) as exc:
        if isinstance(exc, BadInput) and exc.kind == "not_found":
            raise
        returned = _returned(ctx, signal_id, kind, from_notice) if from_notice else None
        return _form_page(
            ctx,
            signal_id,
            week,
            kind,
            texts=texts,
            returned=returned,
            override_reason=override_reason,
            error=exc,
            status=400,
        )
    return redirect(
        ctx, f"/signals/{quote(signal_id, safe='')}?week={quote(week)}&done=notice_submitted"
    )
