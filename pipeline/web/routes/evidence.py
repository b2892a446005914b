"""The recall officers' page: confirmed signals with their evidence packs (every version on
disk, checked against its manifest), build on request (recorded, then built in the background
from the published snapshot), download."""

from __future__ import annotations

from fastapi import APIRouter, Form
from fastapi.responses import FileResponse, Response

from pipeline.appdb.roles import Role
from pipeline.services import evidence as service
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import apply_cookies, page, redirect

router = APIRouter()
OFFICERS = (Role.RECALL_OFFICER,)


@router.get("/evidence")
def evidence(ctx: Ctx = requires(*OFFICERS)) -> Response:
    state = ctx.state
    if not state.published():
        raise NoPublishedData()
    confirmed = service.confirmed_signals(
        state.settings, lang=ctx.lang, snapshots=state.snapshots, db=state.db
    )
    packs = {s["signal_id"]: service.packs(state.settings, s["signal_id"]) for s in confirmed}
    requests = service.requests(state.db)
    notice = "evidence.requested" if ctx.request.query_params.get("requested") else None
    return page(
        ctx, "evidence.html", confirmed=confirmed, packs=packs, requests=requests, notice=notice
    )


@router.post("/evidence/requests")
def request_pack(
    signal_id: str = Form("", max_length=24),
    week: str = Form("", max_length=10),
    ctx: Ctx = requires(*OFFICERS),
) -> Response:
    state = ctx.state
    service.request_pack(
        state.settings, state.db, ctx.actor(), signal_id, week, snapshots=state.snapshots
    )
    state.jobs.submit(lambda: service.build_requested(state.settings, state.db))
    return redirect(ctx, "/evidence?requested=1")


@router.get("/evidence/packs/{name}")
def download(name: str, ctx: Ctx = requires(*OFFICERS)) -> Response:
    path = service.pack_path(ctx.state.settings, name)
    service.record_download(ctx.state.db, ctx.actor(), path)
    response = FileResponse(path, media_type="application/zip", filename=path.name)
    apply_cookies(ctx, response)
    return response
