"""Hospitals of the registry (``pipeline.reference``): the list for administrators and
coordinators, one hospital's page also for that hospital's clerks (others get 404)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from pipeline.appdb.roles import Role
from pipeline.services import accounts as service
from pipeline.web.context import Ctx, WebError
from pipeline.web.policy import requires
from pipeline.web.render import page

router = APIRouter()


def _rows(ctx: Ctx) -> list[dict[str, object]]:
    frame = ctx.state.hospitals
    rows = []
    for _, r in frame.iterrows():
        rows.append(
            {
                "code": r["hospital_code"],
                "name": r["name_zh"] if ctx.lang == "zh" else r["name_en"],
                "type": r["hospital_type"],
                "city": r["city_zh"] if ctx.lang == "zh" else r["city_en"],
                "region": r["region_code"],
                "active_from": r["active_from"],
                "active_to": r["active_to"],
                "is_test": bool(r["is_test"]),
                "daily_volume": int(r["daily_volume"]),
            }
        )
    return rows


def _clerks(ctx: Ctx) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for user in service.list_users(ctx.state.db):
        if user.hospital_code:
            out.setdefault(user.hospital_code, []).append(user.username)
    return out


@router.get("/hospitals")
def hospitals(ctx: Ctx = requires(Role.ADMIN, Role.COORDINATOR)) -> Response:
    return page(ctx, "hospitals.html", hospitals=_rows(ctx), clerks=_clerks(ctx))


@router.get("/hospitals/{code}")
def hospital(
    code: str,
    ctx: Ctx = requires(Role.ADMIN, Role.COORDINATOR, Role.HOSPITAL_CLERK, hospital_param="code"),
) -> Response:
    match = [r for r in _rows(ctx) if r["code"] == code.upper()]
    if not match:
        raise WebError(404, "error.404")
    show_clerks = ctx.can(Role.ADMIN, Role.COORDINATOR)
    return page(
        ctx,
        "hospital.html",
        hospital=match[0],
        clerks=_clerks(ctx).get(str(match[0]["code"]), []) if show_clerks else None,
    )
