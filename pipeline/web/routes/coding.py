"""The coders' review queue: the model's suggestions with their confidence, resolution from the
keyboard (access keys 1-3 pick a suggestion, 0 = no product involved, the first suggestion has
the focus), a progress counter. A resolution is recorded in the application database and shown
as "resolved, applied at the next coding run" until the pipeline applies it."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import Response

from pipeline.appdb.roles import Role
from pipeline.coding import NO_PRODUCT
from pipeline.errors import BadInput
from pipeline.services import cases as case_service
from pipeline.services import coding as service
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import page, redirect

router = APIRouter()
CODERS = (Role.CODER,)


def _queue_page(ctx: Ctx, offset: int = 0, status: int = 200, **extra: object) -> Response:
    state = ctx.state
    if not state.published():
        raise NoPublishedData()
    queue = service.review_queue(
        state.settings, state.db, limit=15, offset=max(0, offset), snapshots=state.snapshots
    )
    known = case_service.facets(state.settings.hospital_registry)
    return page(
        ctx,
        "coding.html",
        status=status,
        queue=queue,
        known=known,
        offset=max(0, offset),
        no_product=NO_PRODUCT,
        **{"error": None, "just": None, **extra},
    )


@router.get("/coding")
def queue(offset: int = 0, ctx: Ctx = requires(*CODERS)) -> Response:
    return _queue_page(ctx, offset=min(offset, 100_000))


@router.post("/coding/resolve")
def resolve(
    review_id: str = Form("", max_length=200),
    category: str = Form("", max_length=20),
    other_category: str = Form("", max_length=20),
    note: str = Form("", max_length=2000),
    ctx: Ctx = requires(*CODERS),
) -> Response:
    chosen = other_category.strip() or category
    try:
        done = service.record_resolution(
            ctx.state.settings,
            ctx.state.db,
            ctx.actor(),
            review_id,
            chosen,
            note or None,
            snapshots=ctx.state.snapshots,
        )
    except BadInput as exc:
        return _queue_page(ctx, status=400, error=exc)
    if ctx.partial:
        return _queue_page(ctx, just=done)
    return redirect(ctx, f"/coding?resolved={done.id}")
