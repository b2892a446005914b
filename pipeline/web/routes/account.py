"""My account: language, e-mail, password."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from pipeline.appdb.errors import AppDBError, InvalidInput
from pipeline.appdb.passwords import MIN_LENGTH
from pipeline.services import accounts as service
from pipeline.web.context import Ctx
from pipeline.web.policy import signed_in
from pipeline.web.render import page, redirect
from pipeline.web.routes.session import set_session_cookie

router = APIRouter()
NOTICES = {"saved": "account.saved", "password_changed": "account.password_changed"}


@router.get("/account")
def account(request: Request, ctx: Ctx = signed_in()) -> Response:
    notice = next((v for k, v in NOTICES.items() if request.query_params.get(k)), None)
    return page(
        ctx, "account.html", notice=notice, error=None, email=ctx.user.email if ctx.user else ""
    )


@router.post("/account")
def save_account(
    language: str = Form("zh", max_length=8),
    email: str = Form("", max_length=254),
    ctx: Ctx = signed_in(),
) -> Response:
    try:
        service.update_profile(ctx.state.db, ctx.actor(), ctx.now, language=language, email=email)
    except AppDBError as exc:
        return page(ctx, "account.html", status=400, notice=None, error=exc, email=email)
    response = redirect(ctx, "/account?saved=1")
    response.set_cookie(
        ctx.state.lang_cookie,
        language if language in ("zh", "en") else "zh",
        httponly=True,
        samesite="strict",
        path="/",
        secure=ctx.state.settings.web.cookie_secure,
        max_age=365 * 24 * 3600,
    )
    return response


@router.get("/account/password")
def password_form(ctx: Ctx = signed_in(during_password_change=True)) -> Response:
    return page(ctx, "password.html", error=None, min_length=MIN_LENGTH)


@router.post("/account/password")
def change_password(
    request: Request,
    current_password: str = Form("", max_length=1024),
    new_password: str = Form("", max_length=1024),
    confirm_password: str = Form("", max_length=1024),
    ctx: Ctx = signed_in(during_password_change=True),
) -> Response:
    state = ctx.state
    raw = request.cookies.get(state.session_cookie, "")
    try:
        if new_password != confirm_password:
            raise InvalidInput(
                "confirm_password", "the two new passwords differ", "两次输入的新密码不一致"
            )
        rotated = service.change_own_password(
            state.db, state.settings.web, ctx.actor(), raw, current_password, new_password, ctx.now
        )
    except AppDBError as exc:
        return page(ctx, "password.html", status=400, error=exc, min_length=MIN_LENGTH)
    response = redirect(None, "/account?password_changed=1")
    if rotated is not None:  # a new session id after a password change
        set_session_cookie(ctx, response, rotated[0])
    return response
