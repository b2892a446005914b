"""Administration of users: list, add (generated password shown once), disable / enable,
set role, reset password. Everything goes through ``pipeline.services.accounts`` and is
audited there; without JavaScript every action is a plain form post."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.appdb.errors import AppDBError, UserNotFound
from pipeline.appdb.roles import Role
from pipeline.services import accounts as service
from pipeline.web.context import Ctx, WebError
from pipeline.web.policy import requires
from pipeline.web.render import page, redirect

router = APIRouter()
ADMIN = Role.ADMIN
NOTICES = {
    "saved": "users.saved",
    "disabled": "users.disabled_done",
    "enabled": "users.enabled_done",
}


def _hospital_choices(ctx: Ctx) -> list[tuple[str, str]]:
    frame = ctx.state.hospitals
    name = "name_zh" if ctx.lang == "zh" else "name_en"
    return [(str(r["hospital_code"]), str(r[name])) for _, r in frame.iterrows()]


def _filter(users: list, query: str) -> list:
    needle = query.strip().casefold()
    if not needle:
        return users
    return [
        u
        for u in users
        if needle in u.username
        or needle in u.display_name.casefold()
        or needle in (u.hospital_code or "").casefold()
        or needle in u.role.value
    ]


@router.get("/admin/users")
def users(request: Request, q: str = "", ctx: Ctx = requires(ADMIN)) -> Response:
    found = _filter(service.list_users(ctx.state.db), q[:100])
    notice = next((v for k, v in NOTICES.items() if request.query_params.get(k)), None)
    return page(ctx, "admin_users.html", users=found, q=q[:100], notice=notice)


@router.get("/admin/users/new")
def new_user_form(ctx: Ctx = requires(ADMIN)) -> Response:
    return page(
        ctx,
        "admin_user_new.html",
        error=None,
        form={},
        roles=list(Role),
        hospitals=_hospital_choices(ctx),
    )


@router.post("/admin/users")
def create_user(
    username: str = Form("", max_length=200),
    display_name: str = Form("", max_length=400),
    role: str = Form("", max_length=40),
    hospital_code: str = Form("", max_length=40),
    email: str = Form("", max_length=254),
    language: str = Form("zh", max_length=8),
    ctx: Ctx = requires(ADMIN),
) -> Response:
    form = {
        "username": username,
        "display_name": display_name,
        "role": role,
        "hospital_code": hospital_code,
        "email": email,
        "language": language,
    }
    try:
        user, password = service.add_user_with_generated_password(
            ctx.state.db,
            ctx.state.settings,
            ctx.actor(),
            username=username,
            role=role,
            display_name=display_name or None,
            hospital_code=hospital_code or None,
            email=email or None,
            language=language,
        )
    except AppDBError as exc:
        return page(
            ctx,
            "admin_user_new.html",
            status=400,
            error=exc,
            form=form,
            roles=list(Role),
            hospitals=_hospital_choices(ctx),
        )
    return page(
        ctx, "admin_password_once.html", status=201, target=user, password=password, created=True
    )


def _get(ctx: Ctx, username: str):  # type: ignore[no-untyped-def]
    try:
        return service.get_user(ctx.state.db, username)
    except UserNotFound:
        raise WebError(404, "error.404") from None


@router.get("/admin/users/{username}")
def user_detail(request: Request, username: str, ctx: Ctx = requires(ADMIN)) -> Response:
    target = _get(ctx, username)
    notice = next((v for k, v in NOTICES.items() if request.query_params.get(k)), None)
    return page(
        ctx,
        "admin_user.html",
        target=target,
        error=None,
        notice=notice,
        roles=list(Role),
        hospitals=_hospital_choices(ctx),
    )


def _set_disabled(ctx: Ctx, username: str, disabled: bool, back: str) -> Response:
    target = _get(ctx, username)
    try:
        updated = service.set_disabled(ctx.state.db, ctx.actor(), target.username, disabled)
    except AppDBError as exc:
        return page(
            ctx,
            "admin_user.html",
            status=400,
            target=target,
            error=exc,
            notice=None,
            roles=list(Role),
            hospitals=_hospital_choices(ctx),
        )
    if ctx.partial:  # the list's row buttons swap just their row
        return page(ctx, "admin_users.html", users=[updated], q="", notice=None, row_only=True)
    flag = "disabled" if disabled else "enabled"
    base = "/admin/users" if back == "list" else f"/admin/users/{updated.username}"
    return redirect(ctx, f"{base}?{flag}=1")


@router.post("/admin/users/{username}/disable")
def disable_user(
    username: str, back: str = Form("detail", max_length=10), ctx: Ctx = requires(ADMIN)
) -> Response:
    return _set_disabled(ctx, username, True, back)


@router.post("/admin/users/{username}/enable")
def enable_user(
    username: str, back: str = Form("detail", max_length=10), ctx: Ctx = requires(ADMIN)
) -> Response:
    return _set_disabled(ctx, username, False, back)


@router.post("/admin/users/{username}/role")
def set_role(
    username: str,
    role: str = Form("", max_length=40),
    hospital_code: str = Form("", max_length=40),
    ctx: Ctx = requires(ADMIN),
) -> Response:
    target = _get(ctx, username)
    try:
        service.set_role(
            ctx.state.db,
            ctx.state.settings,
            ctx.actor(),
            target.username,
            role,
            hospital_code or None,
        )
    except AppDBError as exc:
        return page(
            ctx,
            "admin_user.html",
            status=400,
            target=target,
            error=exc,
            notice=None,
            roles=list(Role),
            hospitals=_hospital_choices(ctx),
        )
    return redirect(ctx, f"/admin/users/{target.username}?saved=1")


@router.post("/admin/users/{username}/reset-password")
def reset_password(username: str, ctx: Ctx = requires(ADMIN)) -> Response:
    target = _get(ctx, username)
    updated, password = service.reset_password(ctx.state.db, ctx.actor(), target.username)
    return page(ctx, "admin_password_once.html", target=updated, password=password, created=False)
