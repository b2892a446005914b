"""Sign-in, sign-out, the language switch, the home page and the health check."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, Response

from pipeline.appdb.auth import Outcome
from pipeline.services import accounts as service
from pipeline.web.areas import areas_for
from pipeline.web.context import Ctx, WebError
from pipeline.web.i18n import LANGS
from pipeline.web.policy import public, signed_in
from pipeline.web.render import after_sign_in, page, redirect, safe_next

router = APIRouter()


@router.get("/healthz")
def healthz(ctx: Ctx = public()) -> Response:
    return PlainTextResponse("ok")


@router.get("/")
def home(ctx: Ctx = signed_in()) -> Response:
    return page(ctx, "home.html", areas=areas_for(ctx.user))


@router.get("/login")
def login_form(request: Request, next: str | None = None, ctx: Ctx = public()) -> Response:
    if ctx.user is not None:
        return redirect(ctx, after_sign_in(next))
    notice = "login.signed_out" if request.query_params.get("signed_out") else None
    if _cookie_will_be_dropped(ctx, request):
        notice = "login.insecure"
    return page(ctx, "login.html", next=safe_next(next), notice=notice, failed=False, username="")


def _cookie_will_be_dropped(ctx: Ctx, request: Request) -> bool:
    """Secure cookies over plain HTTP are kept only for loopback addresses: elsewhere the
    sign-in would silently not stick, so the page says so."""
    host = (request.url.hostname or "").strip("[]")
    loopback = host in ("localhost", "::1") or host.startswith("127.")
    return ctx.state.settings.web.cookie_secure and request.url.scheme != "https" and not loopback


@router.post("/login")
def login(
    request: Request,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=1024),
    next: str = Form("/", max_length=2000),
    ctx: Ctx = public(),
) -> Response:
    state = ctx.state
    client = request.client.host if request.client else None
    result = service.sign_in(
        state.db,
        state.settings.web,
        username,
        password,
        client,
        ctx.now,
        replace_session_id=request.cookies.get(state.session_cookie),
    )
    if result.outcome is not Outcome.OK:
        return page(
            ctx,
            "login.html",
            next=after_sign_in(next),
            notice=None,
            failed=True,
            username=username,
        )
    assert result.session_id and result.user
    target = "/account/password" if result.user.must_change_password else after_sign_in(next)
    response = redirect(None, target)
    _set_session_cookie(ctx, response, result.session_id)
    return response


def _set_session_cookie(ctx: Ctx, response: Response, raw_id: str) -> None:
    state = ctx.state
    response.set_cookie(
        state.session_cookie,
        raw_id,
        httponly=True,
        secure=state.settings.web.cookie_secure,
        samesite="strict",
        path="/",
        # No Max-Age: a browser session cookie; the server enforces idle and absolute expiry.
    )


@router.post("/logout")
def logout(request: Request, ctx: Ctx = signed_in(during_password_change=True)) -> Response:
    state = ctx.state
    service.sign_out(state.db, request.cookies.get(state.session_cookie), ctx.actor(), ctx.now)
    response = redirect(None, "/login?signed_out=1")
    response.delete_cookie(
        state.session_cookie, path="/", secure=state.settings.web.cookie_secure, httponly=True
    )
    return response


@router.post("/lang")
def switch_language(
    lang: str = Form(..., max_length=8),
    next: str = Form("/", max_length=2000),
    ctx: Ctx = public(),
) -> Response:
    """Switch the interface language; a signed-in user's preference is saved too."""
    if lang not in LANGS:
        raise WebError(400, "error.400")
    if ctx.user is not None:
        service.update_profile(ctx.state.db, ctx.actor(), ctx.now, language=lang)
    response = redirect(ctx, safe_next(next))
    response.set_cookie(
        ctx.state.lang_cookie,
        lang,
        httponly=True,
        samesite="strict",
        secure=ctx.state.settings.web.cookie_secure,
        path="/",
        max_age=365 * 24 * 3600,
    )
    return response


def set_session_cookie(ctx: Ctx, response: Response, raw_id: str) -> None:
    """For handlers that rotate the session (password change)."""
    _set_session_cookie(ctx, response, raw_id)
