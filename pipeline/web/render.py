"""Templates: one Jinja2 environment with autoescaping on for everything, so user text (names,
messages echoing input) is inert wherever it appears."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from pipeline.appdb.roles import role_label
from pipeline.web.context import Ctx

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"

# htmx settings (read from a meta tag, so no inline script): no eval, no inline indicator style
# (the CSP forbids both), no page snapshots in localStorage (a page may show a one-time
# password), error pages swapped in like any page.
HTMX_CONFIG = {
    "allowEval": False,
    "allowScriptTags": False,
    "includeIndicatorStyles": False,
    "selfRequestsOnly": True,
    "historyCacheSize": 0,
    "refreshOnHistoryMiss": True,
    # Settling copies these attributes from the old element to the new one and back; "style"
    # would be written as an inline style, which the CSP refuses (and no page uses one).
    "attributesToSettle": ["class", "width", "height"],
    "responseHandling": [
        {"code": "204", "swap": False},
        {"code": "[23]..", "swap": True},
        {"code": "[45]..", "swap": True, "error": True},
    ],
}


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["htmx_config"] = json.dumps(HTMX_CONFIG, separators=(",", ":"))
    env.globals["role_label"] = role_label
    return env


ENV = make_environment()


def template_values(ctx: Ctx, values: dict[str, Any]) -> dict[str, Any]:
    from pipeline.web.areas import areas_for  # areas import the route paths only

    return {
        "ctx": ctx,
        "t": ctx.t,
        "lang": ctx.lang,
        "user": ctx.user,
        "csrf_token": ctx.csrf_token,
        "path": ctx.request.url.path,
        "nav": areas_for(ctx.user),
        **values,
    }


def apply_cookies(ctx: Ctx, response: Response) -> None:
    state = ctx.state
    if ctx.new_pre_nonce and ctx.pre_nonce:
        response.set_cookie(
            state.pre_cookie,
            ctx.pre_nonce,
            httponly=True,
            secure=state.settings.web.cookie_secure,
            samesite="strict",
            path="/",
        )
    response.headers["X-CSRF-Token"] = ctx.csrf_token  # app.js refreshes its meta tag from it


def page(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    """A whole page, or for an htmx fragment request the template's ``fragment`` block if
    it has one."""
    tmpl = ENV.get_template(template)
    data = template_values(ctx, values)
    whole_page = not (ctx.partial and "fragment" in tmpl.blocks)
    if whole_page:
        body = tmpl.render(data)
    else:
        body = "".join(tmpl.blocks["fragment"](tmpl.new_context(data)))
    response = HTMLResponse(body, status_code=status)
    if whole_page and ctx.partial:
        retarget_to_page(response)
    apply_cookies(ctx, response)
    return response


def retarget_to_page(response: HTMLResponse) -> None:
    """An htmx fragment request answered with a whole page (an error, a form with errors):
    htmx replaces the page body instead of the fragment's target."""
    response.headers["HX-Retarget"] = "body"
    response.headers["HX-Reswap"] = "innerHTML"


def fragment(ctx: Ctx, template: str, status: int = 200, **values: Any) -> HTMLResponse:
    response = HTMLResponse(ENV.get_template(template).render(template_values(ctx, values)), status)
    apply_cookies(ctx, response)
    return response


def redirect(ctx: Ctx | None, url: str) -> RedirectResponse:
    """303 See Other (after a POST); htmx follows it and swaps the page it lands on."""
    response = RedirectResponse(url, status_code=303)
    if ctx is not None:
        apply_cookies(ctx, response)
    return response


def safe_next(value: str | None, default: str = "/") -> str:
    """A local path to return to after sign-in: never another site (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    if any(ch in value for ch in "\r\n\t"):
        return default
    return value


def after_sign_in(value: str | None) -> str:
    """Where to go after signing in: a local page, never the sign-in page again."""
    target = safe_next(value)
    return "/" if target.startswith("/login") else target


def download(ctx: Ctx, content: bytes, filename: str, media_type: str) -> Response:
    """A file to save (never shown inline: ``attachment``; the name is ASCII-safe)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in filename)[:120]
    response = Response(content, media_type=media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    apply_cookies(ctx, response)
    return response
