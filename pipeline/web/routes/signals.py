"""The analysts' (and supervisors') signal inbox, the signal page and its triage forms.

Everything is read and written through ``pipeline.services.signals`` (the week's signals from
the published snapshot, their decisions and follow-ups from the application database) and
``pipeline.services.triage`` (decisions and follow-up orders, audited with the signed-in user as
actor, channel ``web``). The triage rule of the routes is the service's own (``TRIAGE_ROLES``):
the forms are shown, and answered, only for those roles."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Form
from fastapi.responses import Response

from pipeline import reference
from pipeline.appdb.errors import AppDBError
from pipeline.appdb.roles import Role
from pipeline.errors import BadInput, SentinelError
from pipeline.services import signals as service
from pipeline.services import triage
from pipeline.triage.store import DECISIONS, PRODUCT_ROLES, TRIAGE_ROLES
from pipeline.web import charts
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import page, redirect
from pipeline.web.routes import drafts

router = APIRouter()
READERS = (Role.ANALYST, Role.SUPERVISOR)
TRIAGERS = tuple(sorted(TRIAGE_ROLES, key=lambda r: r.value))
STATUSES = ("new", "ongoing", "reopened", "quiet", "resolved")
DONE = {
    "decision": "signal.decision_saved",
    "followups": "signal.followups_saved",
    "result": "signal.result_saved",
    "notice_submitted": "signal.notice_submitted",
}


def _cities(ctx: Ctx) -> list[dict]:
    used = {
        reference.city_code(r)
        for r in reference.load_hospitals(ctx.state.settings.hospital_registry)["region_code"]
    }
    key = "name_zh" if ctx.lang == "zh" else "name_en"
    return [
        {"code": c["city_code"], "name": c[key]}
        for c in reference.load_cities().to_dict("records")
        if c["city_code"] in used
    ]


def _families(ctx: Ctx) -> list[dict]:
    taxonomy = reference.load_taxonomy()
    key = "family_zh" if ctx.lang == "zh" else "family_en"
    seen: dict[str, str] = {}
    for row in taxonomy.to_dict("records"):
        seen.setdefault(row["family_code"], row[key])
    return [{"code": k, "name": v} for k, v in seen.items()]


@router.get("/signals")
def inbox(
    week: str = "",
    status: str = "",
    decision: str = "",
    family: str = "",
    city: str = "",
    severity: str = "",
    sort: str = "rank",
    ctx: Ctx = requires(*READERS),
) -> Response:
    if not ctx.state.published():
        raise NoPublishedData()
    filters = {
        "status": status[:20],
        "decision": decision[:20],
        "family": family[:10],
        "city": city[:10],
        "severity": severity[:10],
        "sort": sort[:10] or "rank",
    }
    result = service.inbox(
        ctx.state.settings,
        week[:10] or None,
        filters["status"] or None,
        filters["decision"] or None,
        filters["family"] or None,
        filters["city"] or None,
        filters["severity"] or None,
        ctx.lang,
        sort=filters["sort"],
        snapshots=ctx.state.snapshots,
        db=ctx.state.db,
    )
    return page(
        ctx,
        "signals.html",
        inbox=result,
        filters=filters,
        families=_families(ctx),
        cities=_cities(ctx),
        statuses=STATUSES,
        decisions=("none", *DECISIONS),
        severities=service.SEVERITY_LEVELS,
        sorts=service.SORTS,
    )


def _records(frame) -> list[dict]:  # type: ignore[no-untyped-def]
    """DataFrame rows as plain dicts, missing values as None (templates test ``is none``)."""
    if frame is None or frame.empty:
        return []
    return [
        {k: (None if service._missing(v) else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]


def _signal_page(
    ctx: Ctx,
    signal_id: str,
    week: str | None,
    status: int = 200,
    error: SentinelError | None = None,
    form: dict | None = None,
    notice: str | None = None,
) -> Response:
    if not ctx.state.published():
        raise NoPublishedData()
    data = service.details(
        ctx.state.settings,
        signal_id[:64],
        (week or "")[:10] or None,
        ctx.lang,
        snapshots=ctx.state.snapshots,
        db=ctx.state.db,
    )
    t = ctx.t
    labels = {k: t(f"signal.chart.{k}") for k in ("observed", "expected", "upper", "alarm")}
    current = data["decision"]["decision"] if data["decision"] else None
    return page(
        ctx,
        "signal.html",
        status=status,
        s=data,
        sig=data["signal"],
        decisions_done=_records(data["decisions"]),
        followups=_records(data["followups"]),
        trend_chart=charts.trend(_records(data["trend"]), data["title"], labels),
        city_map=charts.city_map(data["map_points"], t("signal.map_title")),
        mix={k: charts.hbars(v) for k, v in data["mix"].items()},
        can_triage=ctx.can(*TRIAGERS),
        product_roles=PRODUCT_ROLES,
        draft_kinds=drafts.WEB_KINDS,
        current=current,
        choices=[d for d in DECISIONS if d != current],
        error=error,
        form=form or {},
        notice=notice,
    )


@router.get("/signals/{signal_id}")
def signal(
    signal_id: str, week: str = "", done: str = "", ctx: Ctx = requires(*READERS)
) -> Response:
    return _signal_page(ctx, signal_id, week, notice=DONE.get(done))


def _back(ctx: Ctx, signal_id: str, week: str, done: str) -> Response:
    return redirect(ctx, f"/signals/{quote(signal_id, safe='')}?week={quote(week)}&done={done}")


@router.post("/signals/{signal_id}/decision")
def decide(
    signal_id: str,
    decision: str = Form("", max_length=20),
    reason: str = Form("", max_length=4000),
    expected: str = Form("", max_length=20),
    week: str = Form("", max_length=10),
    ctx: Ctx = requires(*TRIAGERS),
) -> Response:
    """Record confirm / dismiss / watch with a reason. ``expected``: the decision the analyst
    saw ("" for none): refused if someone else decided meanwhile."""
    try:
        done = triage.decide(
            ctx.state.settings,
            ctx.actor(),
            signal_id[:64],
            decision,
            reason,
            week=week or None,
            expected=expected or None,
            db=ctx.state.db,
        )
    except (BadInput, AppDBError) as exc:
        if isinstance(exc, BadInput) and exc.kind == "not_found":
            raise
        form = {"decision": decision, "reason": reason}
        return _signal_page(ctx, signal_id, week, status=400, error=exc, form=form)
    return _back(ctx, done.signal_id, done.week, "decision")


@router.post("/signals/{signal_id}/followups")
def order_followups(
    signal_id: str,
    cases: list[str] = Form([]),
    note: str = Form("", max_length=4000),
    week: str = Form("", max_length=10),
    ctx: Ctx = requires(*TRIAGERS),
) -> Response:
    """Order a follow-up (call or visit) for the chosen cases of the signal."""
    chosen = [c[:60] for c in cases[:500]]
    try:
        triage.order_followups(
            ctx.state.settings,
            ctx.actor(),
            signal_id[:64],
            chosen,
            note,
            week=week or None,
            db=ctx.state.db,
        )
    except (BadInput, AppDBError) as exc:
        if isinstance(exc, BadInput) and exc.kind == "not_found":
            raise
        form = {"cases": chosen, "note": note}
        return _signal_page(ctx, signal_id, week, status=400, error=exc, form=form)
    return _back(ctx, signal_id, week, "followups")


@router.post("/signals/{signal_id}/followups/{followup_id}/result")
def record_result(
    signal_id: str,
    followup_id: str,
    reached: str = Form("", max_length=5),
    product_role: str = Form("", max_length=40),
    conclusion: str = Form("", max_length=4000),
    brand: str = Form("", max_length=400),
    model: str = Form("", max_length=400),
    batch: str = Form("", max_length=400),
    week: str = Form("", max_length=10),
    ctx: Ctx = requires(*TRIAGERS),
) -> Response:
    """Record what a follow-up of this signal found (a later result supersedes, both kept)."""
    try:
        if reached not in ("yes", "no"):
            raise BadInput(
                "say whether the patient or family was reached",
                detail_zh="请选择是否联系到患者或家属",
            )
        triage.record_result(
            ctx.state.settings,
            ctx.actor(),
            followup_id[:64],
            reached=reached == "yes",
            conclusion=conclusion,
            product_role=product_role or None,
            brand=brand or None,
            model=model or None,
            batch=batch or None,
            signal_id=signal_id[:64],
            db=ctx.state.db,
        )
    except (BadInput, AppDBError) as exc:
        if isinstance(exc, BadInput) and exc.kind == "not_found":
            raise
        form = {
            "result_for": followup_id[:64],
            "reached": reached,
            "product_role": product_role,
            "conclusion": conclusion,
            "brand": brand,
            "model": model,
            "batch": batch,
        }
        return _signal_page(ctx, signal_id, week, status=400, error=exc, form=form)
    return _back(ctx, signal_id, week, "result")


router.include_router(drafts.router)  # drafting a notice from the signal page
