"""Error pages: every failure is a page in the user's language, never a traceback.

Unexpected exceptions are logged with a short reference the page shows, so an operator can find
the traceback in the server log.
"""

from __future__ import annotations

import logging
import secrets
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope

from pipeline.errors import SentinelError
from pipeline.services.api_submissions import ApiProblem
from pipeline.web.context import (
    Ctx,
    NoPublishedData,
    PasswordChangeRequired,
    SignInRequired,
    WebError,
)
from pipeline.web.i18n import DEFAULT_LANG, clean_lang, negotiate
from pipeline.web.render import ENV, apply_cookies, retarget_to_page, template_values
from pipeline.web.state import web_state

log = logging.getLogger("sentinel.web")
KNOWN = {400, 401, 403, 404, 405, 413, 500}


def _ctx(request: Request) -> Ctx:
    """The request's context if its rule ran, else an anonymous one (unknown path, bad body)."""
    existing = getattr(request.state, "ctx", None)
    if isinstance(existing, Ctx):
        return existing
    state = web_state(request)
    lang = (
        clean_lang(request.cookies.get(state.lang_cookie))
        or negotiate(request.headers.get("accept-language"))
        or DEFAULT_LANG
    )
    nonce = request.cookies.get(state.pre_cookie)
    return Ctx(request, state, state.clock(), lang, None, nonce)


def error_page(
    request: Request,
    status: int,
    key: str | None = None,
    reference: str | None = None,
    detail: str | None = None,
) -> HTMLResponse:
    ctx = _ctx(request)
    code = status if status in KNOWN else (500 if status >= 500 else 400)
    tmpl = ENV.get_template("error.html")
    body = tmpl.render(
        template_values(
            ctx,
            {
                "status": status,
                "key": key or f"error.{code}",
                "reference": reference,
                "detail": detail,
            },
        )
    )
    response = HTMLResponse(body, status_code=status)
    if ctx.partial:
        retarget_to_page(response)
    apply_cookies(ctx, response)
    return response


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _api_json(request: Request, status: int, code: str, headers=None) -> Response:  # type: ignore[no-untyped-def]
    from pipeline.web.api import api_error_response  # noqa: PLC0415 (api imports this module's users)

    if getattr(request.state, "api_lang", None) is None:
        request.state.api_lang = negotiate(request.headers.get("accept-language")) or DEFAULT_LANG
    return api_error_response(request, status, code, headers)


API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
}


async def api_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiProblem)
    return _api_json(request, exc.status, exc.code, exc.headers)


def _sign_in_url(request: Request) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?next=" + quote(target, safe="/")


async def web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    htmx = request.headers.get("HX-Request") == "true"
    if isinstance(exc, SignInRequired):
        url = _sign_in_url(request) if request.method == "GET" else "/login"
        if htmx:
            return Response(status_code=401, headers={"HX-Redirect": url})
        if request.method in ("GET", "HEAD"):
            return RedirectResponse(url, status_code=303)
    if isinstance(exc, PasswordChangeRequired):
        if htmx:
            return Response(status_code=200, headers={"HX-Redirect": "/account/password"})
        return RedirectResponse("/account/password", status_code=303)
    response = error_page(request, exc.status, exc.key)
    response.headers.update(exc.headers)
    return response


# What a failure of the layers below means for the person at the browser.
STATUS_OF_KIND = {"bad_input": 400, "not_found": 404, "not_permitted": 403, "busy": 503}
# The server cannot do this until an operator acts: say what is missing (logged too), 503.
OPERATOR_KINDS = ("schema", "config", "key_mismatch", "home_not_writable", "disk_full")


async def sentinel_error(request: Request, exc: Exception) -> Response:
    """A service refused (bad query, unknown alert, snapshot of another schema ...): its own
    message, in the user's language, on an error page."""
    assert isinstance(exc, SentinelError)
    if isinstance(exc, NoPublishedData):
        ctx = _ctx(request)
        tmpl = ENV.get_template("no_data.html")
        response = HTMLResponse(tmpl.render(template_values(ctx, {})), status_code=200)
        apply_cookies(ctx, response)
        return response
    status = STATUS_OF_KIND.get(exc.kind, 503 if exc.kind in OPERATOR_KINDS else 500)
    if status >= 500 and exc.kind not in OPERATOR_KINDS:
        return await unexpected_error(request, exc)
    if exc.kind in OPERATOR_KINDS:
        log.error("%s on %s %s: %s", exc.kind, request.method, request.url.path, exc)
    lang = _ctx(request).lang
    return error_page(request, status, detail=exc.user_message(lang))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    if _is_api(request):
        code = API_CODES.get(
            exc.status_code, "bad_request" if exc.status_code < 500 else "internal"
        )
        return _api_json(request, exc.status_code, code, exc.headers)
    response = error_page(request, exc.status_code)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    # A missing or malformed form field: nothing a user of these forms can cause by typing.
    if _is_api(request):
        return _api_json(request, 400, "bad_request")
    return error_page(request, 400)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    reference = secrets.token_hex(4)
    log.error(
        "unhandled error %s on %s %s", reference, request.method, request.url.path, exc_info=exc
    )
    try:
        if _is_api(request):
            return _api_json(request, 500, "internal", {"X-Error-Reference": reference})
        return error_page(request, 500, reference=reference)
    except Exception:  # the error page itself failed: still no traceback
        log.exception("error page failed for %s", reference)
        return HTMLResponse(f"<!doctype html><title>500</title><p>Error {reference}</p>", 500)


async def render_unexpected(scope: Scope, exc: Exception) -> Response:
    """For ``SecurityHeaders``: the 500 page of an exception no handler caught."""
    return await unexpected_error(Request(scope), exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(WebError, web_error)
    app.add_exception_handler(SentinelError, sentinel_error)
    app.add_exception_handler(ApiProblem, api_problem)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(Exception, unexpected_error)
