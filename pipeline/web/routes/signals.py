"""The analysts' (and supervisors') signal inbox and signal page. Read-only on today's alerts
(triage forms, follow-ups, notices and approvals come with the signals of issue 15)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from pipeline import reference
from pipeline.appdb.roles import Role
from pipeline.services import inbox as service
from pipeline.web import charts
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import page

router = APIRouter()
READERS = (Role.ANALYST, Role.SUPERVISOR)


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
    request: Request,
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
    filters = service.InboxFilter(
        status=status[:20],
        decision=decision[:20],
        family=family[:10],
        city=city[:10],
        severity=severity[:10],
        sort=sort[:10] or "rank",
    )
    result = service.inbox(
        ctx.state.settings,
        week[:10] or None,
        filters,
        lang=ctx.lang,
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
        statuses=service.STATUSES,
        decisions=service.DECISIONS,
        sorts=service.SORTS,
    )


@router.get("/signals/{week}/{alert_id}")
def signal(week: str, alert_id: str, ctx: Ctx = requires(*READERS)) -> Response:
    if not ctx.state.published():
        raise NoPublishedData()
    data = service.signal(
        ctx.state.settings,
        alert_id,
        week,
        lang=ctx.lang,
        snapshots=ctx.state.snapshots,
        db=ctx.state.db,
    )
    t = ctx.t
    labels = {k: t(f"signal.chart.{k}") for k in ("observed", "expected", "upper", "alarm")}
    return page(
        ctx,
        "signal.html",
        s=data,
        trend_chart=charts.trend(data["trend"], data["subject_label"], labels),
        city_map=charts.city_map(data["map_points"], t("signal.map_title")),
        mix={k: charts.hbars(v) for k, v in data["mix"].items()},
    )
