"""Case search for analysts, supervisors and recall officers: the query builder, results with a
weekly chart and a paginated table, CSV / XLSX export, saved queries. Wiring only: the query is
parsed, searched and exported by ``pipeline.services.cases`` on the published snapshot."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.appdb.errors import AppDBError
from pipeline.appdb.roles import Role
from pipeline.services import cases as service
from pipeline.services.cases import AGE_GROUPS, CaseQuery
from pipeline.web import charts
from pipeline.web.context import Ctx, NoPublishedData
from pipeline.web.policy import requires
from pipeline.web.render import download, page, redirect

router = APIRouter()
SEARCHERS = (Role.ANALYST, Role.SUPERVISOR, Role.RECALL_OFFICER)


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        out.setdefault(key, []).append(value)
    return out


def _query(ctx: Ctx, params: dict[str, list[str]]) -> CaseQuery:
    return CaseQuery.parse(params, service.facets(ctx.state.settings.hospital_registry))


def _page_number(params: dict[str, list[str]]) -> int:
    raw = (params.get("page") or ["1"])[0]
    return int(raw) if raw.isdigit() and 0 < int(raw) < 100_000 else 1


def _render(ctx: Ctx, query: CaseQuery, params: dict[str, list[str]], **extra: object) -> Response:
    state = ctx.state
    if not state.published():
        raise NoPublishedData()
    known = service.facets(state.settings.hospital_registry)
    result = None
    chart = None
    searched = "search" in params or "page" in params or not query.is_empty
    if searched:
        result = service.search(
            state.settings,
            query,
            page=_page_number(params),
            page_size=state.settings.web.page_size,
            lang=ctx.lang,
            snapshots=state.snapshots,
        )
        chart = charts.weekly_bars(result.weeks, ctx.t("cases.chart_title"))
    with_query = query.params() + [("search", "1")]
    return page(
        ctx,
        "cases.html",
        known=known,
        query=query,
        result=result,
        chart=chart,
        age_groups=list(AGE_GROUPS),
        query_string=urlencode(with_query),
        export_string=urlencode(query.params()),
        saved=service.saved_queries(state.db, ctx.actor()),
        **{"notice": None, "error": None, "saved_name": "", **extra},
    )


@router.get("/cases")
def search(request: Request, ctx: Ctx = requires(*SEARCHERS)) -> Response:
    params = _params(request)
    saved = (params.get("saved") or [""])[0]
    if saved.isdigit():  # one of the user's saved queries
        name, query = service.load_query(
            ctx.state.db,
            ctx.actor(),
            int(saved),
            service.facets(ctx.state.settings.hospital_registry),
        )
        return _render(ctx, query, {"search": ["1"]}, saved_name=name)
    return _render(ctx, _query(ctx, params), params)


@router.get("/cases/export")
def export(request: Request, fmt: str = "csv", ctx: Ctx = requires(*SEARCHERS)) -> Response:
    query = _query(ctx, _params(request))
    result = service.export(
        ctx.state.settings,
        query,
        fmt,
        lang=ctx.lang,
        max_rows=ctx.state.settings.web.export_max_rows,
        snapshots=ctx.state.snapshots,
        today=ctx.now.date(),
    )
    service.record_export(ctx.state.db, ctx.actor(), query, fmt, result.rows)
    return download(ctx, result.content, result.filename, result.media_type)


@router.post("/cases/saved")
def save(
    request: Request,
    name: str = Form("", max_length=200),
    query_string: str = Form("", max_length=8000),
    ctx: Ctx = requires(*SEARCHERS),
) -> Response:
    from urllib.parse import parse_qs

    params = parse_qs(query_string, keep_blank_values=False)
    query = _query(ctx, params)
    try:
        saved = service.save_query(ctx.state.db, ctx.actor(), name, query)
    except AppDBError as exc:
        return _render(ctx, query, {**params, "search": ["1"]}, error=exc, saved_name=name)
    return redirect(ctx, f"/cases?saved={saved.id}")


@router.post("/cases/saved/{query_id}/delete")
def delete(query_id: int, ctx: Ctx = requires(*SEARCHERS)) -> Response:
    service.delete_query(ctx.state.db, ctx.actor(), query_id)
    return redirect(ctx, "/cases")
