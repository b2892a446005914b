"""The coordinators' network view and every hospital's submissions and receipts (a clerk sees
only their own hospital's: another hospital's pages answer 404), and the clerks' dry-run upload.
Wiring only: ``pipeline.services.network`` reads the published snapshot, the dry run is
``pipeline.services.intake.dry_run_upload`` (the same check as ``sentinel validate``)."""

from __future__ import annotations

from fastapi import APIRouter, File, UploadFile
from fastapi.responses import Response

from pipeline.appdb.roles import Role
from pipeline.errors import BadInput
from pipeline.services import intake, network
from pipeline.web import charts
from pipeline.web.context import Ctx, NoPublishedData, WebError
from pipeline.web.policy import requires
from pipeline.web.render import page

router = APIRouter()
WATCHERS = (Role.COORDINATOR, Role.ADMIN)
WITH_CLERKS = (Role.COORDINATOR, Role.ADMIN, Role.HOSPITAL_CLERK)


def _names(ctx: Ctx) -> dict[str, str]:
    column = "name_zh" if ctx.lang == "zh" else "name_en"
    frame = ctx.state.hospitals
    return dict(zip(frame["hospital_code"], frame[column], strict=True))


def _known_hospital(ctx: Ctx, code: str) -> str:
    code = code.upper()
    if code not in _names(ctx):
        raise WebError(404, "error.404")
    return code


@router.get("/network")
def health(week: str = "", ctx: Ctx = requires(*WATCHERS)) -> Response:
    if not ctx.state.published():
        raise NoPublishedData()
    data = network.health(ctx.state.settings, week[:10] or None, snapshots=ctx.state.snapshots)
    return page(ctx, "network.html", data=data, names=_names(ctx))


@router.get("/hospitals/{code}/submissions")
def submissions(code: str, ctx: Ctx = requires(*WITH_CLERKS, hospital_param="code")) -> Response:
    code = _known_hospital(ctx, code)
    if not ctx.state.published():
        raise NoPublishedData()
    state = ctx.state
    rows = network.submissions(state.settings, code, snapshots=state.snapshots)
    history = network.submission_history(state.settings, code, snapshots=state.snapshots)
    chart = charts.weekly_bars(history, ctx.t("submissions.chart"), key="received")
    return page(
        ctx,
        "submissions.html",
        code=code,
        name=_names(ctx)[code],
        rows=rows,
        chart=chart,
        history=history,
    )


@router.get("/hospitals/{code}/submissions/{submission_id}")
def receipt(
    code: str, submission_id: str, ctx: Ctx = requires(*WITH_CLERKS, hospital_param="code")
) -> Response:
    code = _known_hospital(ctx, code)
    found = network.submission(
        ctx.state.settings, submission_id[:200], snapshots=ctx.state.snapshots
    )
    if found["submission"]["hospital_code"] != code:  # another hospital's: does not exist here
        raise WebError(404, "error.404")
    return page(ctx, "receipt.html", code=code, name=_names(ctx)[code], **found, dry_run=False)


@router.get("/hospitals/{code}/upload")
def upload_form(
    code: str, ctx: Ctx = requires(Role.HOSPITAL_CLERK, hospital_param="code")
) -> Response:
    code = _known_hospital(ctx, code)
    return page(
        ctx, "upload.html", code=code, error=None, limit=ctx.state.settings.web.upload_max_mb
    )


@router.post("/hospitals/{code}/upload")
def upload(
    code: str,
    file: UploadFile = File(...),
    ctx: Ctx = requires(Role.HOSPITAL_CLERK, hospital_param="code"),
) -> Response:
    code = _known_hospital(ctx, code)
    limit = ctx.state.settings.web.upload_max_mb * 1024 * 1024
    content = file.file.read(limit + 1)
    try:
        if len(content) > limit:
            raise BadInput(
                f"the file is larger than {limit // (1024 * 1024)} MB",
                detail_zh=f"文件超过 {limit // (1024 * 1024)} MB",
            )
        result = intake.dry_run_upload(
            ctx.state.settings, code, file.filename or "", content, lang=ctx.lang
        )
    except BadInput as exc:
        return page(
            ctx,
            "upload.html",
            status=400,
            code=code,
            error=exc,
            limit=ctx.state.settings.web.upload_max_mb,
        )
    return page(
        ctx,
        "receipt.html",
        code=code,
        name=_names(ctx)[code],
        submission=None,
        events=[],
        receipt=result,
        dry_run=True,
    )
