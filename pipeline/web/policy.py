"""Declared route policy: every route says who may use it, in its signature.

A handler takes its request context from exactly one rule::

    @router.get("/hospitals/{code}")
    def hospital(code: str, ctx: Ctx = requires(Role.ADMIN, Role.COORDINATOR,
                                                Role.HOSPITAL_CLERK, hospital_param="code")):

``requires(*roles)`` admits signed-in users of those roles (signed out: sign in first; another
role: 403). ``hospital_param`` names the path parameter holding a hospital code: a clerk of
another hospital gets 404, as if the object did not exist. ``public()`` admits everyone.
Every rule also enforces CSRF on state-changing methods (a token in the form field
``csrf_token`` or the ``X-CSRF-Token`` header; cross-site requests are refused outright) and
sends a user who must change their password to do that first.

The policy table is read from the app's own routes (``policy_table``), so it cannot drift from
what is served: ``check_policy`` (run by ``create_app``) refuses an app with a route that has no
rule or two, and the test suite requests every route as every role against this table.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.routing import Mount

from pipeline.appdb.roles import ALL_ROLES, Role
from pipeline.services import accounts, api_tokens
from pipeline.services.api_submissions import ApiProblem, Sender
from pipeline.web.context import (
    ApiCtx,
    Ctx,
    PasswordChangeRequired,
    SignInRequired,
    WebError,
    anon_token,
)
from pipeline.web.i18n import DEFAULT_LANG, clean_lang, negotiate
from pipeline.web.state import web_state

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
PUBLIC_MOUNTS = frozenset({"static"})  # mounted apps without rules: static files only


class UndeclaredRoute(RuntimeError):
    """A route without exactly one policy rule."""


@dataclass(frozen=True, eq=False)
class Rule:
    roles: frozenset[Role] | None  # None: public
    hospital_param: str | None = None
    during_password_change: bool = False  # reachable while a password change is pending

    @property
    def public(self) -> bool:
        return self.roles is None

    def allows(self, role: Role | None) -> bool:
        """What this rule admits, before any per-object check (the authorization matrix)."""
        return self.public or (role is not None and role in (self.roles or ()))

    async def __call__(self, request: Request) -> Ctx:
        ctx = await _context(request)
        request.state.ctx = ctx  # error pages render in the same language
        if not self.public and ctx.user is None:
            raise SignInRequired()
        if request.method not in SAFE_METHODS:
            await _check_csrf(request, ctx, accept_anonymous=self.public)
        user = ctx.user
        if self.roles is not None and user is not None and user.role not in self.roles:
            raise WebError(403, "error.403")
        if self.hospital_param is not None:
            ctx.require_hospital(str(request.path_params.get(self.hospital_param, "")))
        if (
            user is not None
            and user.must_change_password
            and not (self.public or self.during_password_change)
        ):
            raise PasswordChangeRequired()
        return ctx


def requires(
    *roles: Role, hospital_param: str | None = None, during_password_change: bool = False
) -> Any:
    if not roles:
        raise ValueError("requires() needs at least one role; use public() for everyone")
    return Depends(Rule(frozenset(roles), hospital_param, during_password_change))


def signed_in(during_password_change: bool = False) -> Any:
    """Any signed-in user, whatever the role."""
    return Depends(Rule(ALL_ROLES, None, during_password_change))


def public() -> Any:
    return Depends(Rule(None))


async def _context(request: Request) -> Ctx:
    state = web_state(request)
    now = state.clock()
    raw = request.cookies.get(state.session_cookie)
    # A database round trip (and, on SQLite, the file's write lock when last_seen is due):
    # in the thread pool, never on the event loop, which every other request needs.
    active = (
        await run_in_threadpool(accounts.current_session, state.db, state.settings.web, raw, now)
        if raw
        else None
    )
    lang = (
        (active.user.preferred_language if active else None)
        or clean_lang(request.cookies.get(state.lang_cookie))
        or negotiate(request.headers.get("accept-language"))
        or DEFAULT_LANG
    )
    nonce = request.cookies.get(state.pre_cookie)
    if nonce is not None and not (16 <= len(nonce) <= 64):
        nonce = None
    return Ctx(request=request, state=state, now=now, lang=lang, session=active, pre_nonce=nonce)


async def _check_csrf(request: Request, ctx: Ctx, accept_anonymous: bool) -> None:
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise WebError(403, "error.csrf")
    token = request.headers.get("x-csrf-token")
    if token is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            value = (await request.form()).get("csrf_token")
            token = value if isinstance(value, str) else None
    if not token:
        raise WebError(403, "error.csrf")
    if ctx.session is not None and hmac.compare_digest(token, ctx.session.csrf_secret):
        return
    if accept_anonymous and ctx.pre_nonce is not None:
        expected = anon_token(ctx.state.secret, ctx.pre_nonce)
        if hmac.compare_digest(token, expected):
            return
    raise WebError(403, "error.csrf")


@dataclass(frozen=True, eq=False)
class BearerRule(Rule):
    """The submission API's rule. A hospital's system sends its bearer token
    (``Authorization: Bearer ...``): no session, no cookie, hence no CSRF check (a browser never
    sends the header by itself); unknown, revoked and expired tokens get the same 401. Without
    an ``Authorization`` header, a signed-in user of ``roles`` (the clerks: the web upload page
    uses the same endpoints) is admitted with the session, CSRF-checked on POST, for the
    hospital the clerk is bound to (never one named by the request); signed out: 401, another
    role or a clerk without a hospital: 403. Either way the sender's hospital scopes every
    object (another hospital's submission: 404), errors are JSON, and over the rate limit (per
    token, per user) the answer is 429 with Retry-After."""

    bearer: bool = True

    async def __call__(self, request: Request) -> ApiCtx:  # type: ignore[override]
        state = web_state(request)
        header_lang = negotiate(request.headers.get("accept-language"))
        request.state.api_lang = header_lang or DEFAULT_LANG
        if "authorization" not in request.headers and self.roles:
            return await self._session(request, header_lang)
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        token = None
        if scheme.lower() == "bearer" and value.strip():
            token = await run_in_threadpool(
                api_tokens.authenticate, state.db, value.strip(), state.clock()
            )
        if token is None:
            raise ApiProblem(401, "unauthorized", {"WWW-Authenticate": 'Bearer realm="sentinel"'})
        lang = header_lang or token.language
        request.state.api_lang = lang
        wait = request.app.state.api.limiter.hit(("token", token.id))
        if wait:
            raise ApiProblem(429, "rate_limited", {"Retry-After": str(wait)})
        return ApiCtx(
            request=request,
            state=state,
            sender=Sender.of_token(token),
            lang=lang,
            now=state.clock(),
            token=token,
        )

    async def _session(self, request: Request, header_lang: str | None) -> ApiCtx:
        ctx = await _context(request)
        user = ctx.user
        if user is None:
            raise ApiProblem(401, "unauthorized", {"WWW-Authenticate": 'Bearer realm="sentinel"'})
        lang = ctx.lang  # the signed-in user's language, as on the page
        request.state.api_lang = lang
        if user.role not in (self.roles or ()) or not user.hospital_code:
            raise ApiProblem(403, "forbidden")
        if user.must_change_password:
            raise ApiProblem(403, "password_change")
        if request.method not in SAFE_METHODS:
            try:
                await _check_csrf(request, ctx, accept_anonymous=False)
            except WebError:
                raise ApiProblem(403, "csrf") from None
        wait = request.app.state.api.limiter.hit(("user", user.id))
        if wait:
            raise ApiProblem(429, "rate_limited", {"Retry-After": str(wait)})
        sender = Sender.of_clerk(user.id, user.username, user.hospital_code)
        return ApiCtx(request=request, state=ctx.state, sender=sender, lang=lang, now=ctx.now)


def api_token() -> Any:
    """The rule of every ``/api/v1`` route: a hospital's token, or a signed-in clerk's session
    (see :class:`BearerRule`)."""
    return Depends(BearerRule(frozenset({Role.HOSPITAL_CLERK})))


def _rules_of(route: APIRoute) -> list[Rule]:
    found: list[Rule] = []
    stack = list(route.dependant.dependencies)
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Rule):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def rule_of(route: APIRoute) -> Rule | None:
    rules = _rules_of(route)
    return rules[0] if len(rules) == 1 else None


def policy_table(app: FastAPI) -> dict[tuple[str, str], Rule]:
    """(method, path) -> the rule declared by that route."""
    table: dict[tuple[str, str], Rule] = {}
    for route in app.routes:
        if isinstance(route, APIRoute):
            rule = rule_of(route)
            if rule is not None:
                for method in sorted(route.methods):
                    table[(method, route.path)] = rule
    return table


def check_policy(routes: Iterable[object]) -> None:
    """Refuse an app with a route that declares no rule, or more than one."""
    problems: list[str] = []
    for route in routes:
        if isinstance(route, APIRoute):
            count = len(_rules_of(route))
            if count != 1:
                what = "no policy rule" if count == 0 else f"{count} policy rules"
                problems.append(f"{sorted(route.methods)} {route.path}: {what}")
        elif isinstance(route, Mount):
            if route.name not in PUBLIC_MOUNTS:
                problems.append(f"mount {route.path}: not a declared public mount")
        else:
            problems.append(f"{route!r}: not an API route, so it cannot declare a rule")
    if problems:
        raise UndeclaredRoute("routes without a declared policy: " + "; ".join(problems))
