"""The request context every handler receives from its policy rule, and the errors that
become error pages (``pipeline.web.errors``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field

from fastapi import Request

from pipeline.appdb.accounts import UserView
from pipeline.appdb.audit import Actor
from pipeline.appdb.auth import ActiveSession
from pipeline.appdb.roles import Role
from pipeline.errors import NotFound
from pipeline.services.api_submissions import Sender
from pipeline.services.api_tokens import TokenView
from pipeline.web.i18n import Translator
from pipeline.web.state import WebState


class WebError(Exception):
    """An error page: ``status`` and a catalog key for its message."""

    def __init__(self, status: int, key: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(key)
        self.status, self.key, self.headers = status, key, headers or {}


class NoPublishedData(NotFound):
    """Nothing has been published yet (no main job run): the page says so."""

    def __init__(self) -> None:
        super().__init__("nothing has been published yet", detail_zh="尚无已发布的数据")


class SignInRequired(WebError):
    def __init__(self) -> None:
        super().__init__(401, "error.401")


class PasswordChangeRequired(WebError):
    def __init__(self) -> None:
        super().__init__(303, "account.must_change")


def anon_token(secret: bytes, nonce: str) -> str:
    digest = hmac.new(secret, f"anon-csrf:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


@dataclass
class Ctx:
    """Who is asking, in which language, with which CSRF token."""

    request: Request
    state: WebState
    now: dt.datetime
    lang: str
    session: ActiveSession | None
    pre_nonce: str | None  # the anonymous visitor's nonce (cookie), if any
    new_pre_nonce: bool = False
    extra_cookies: dict[str, str] = field(default_factory=dict)

    @property
    def user(self) -> UserView | None:
        return self.session.user if self.session else None

    @property
    def t(self) -> Translator:
        return Translator(self.lang)

    @property
    def csrf_token(self) -> str:
        if self.session is not None:
            return self.session.csrf_secret
        if self.pre_nonce is None:  # first page of an anonymous visitor: set the cookie
            self.pre_nonce, self.new_pre_nonce = secrets.token_urlsafe(24), True
        return anon_token(self.state.secret, self.pre_nonce)

    @property
    def is_htmx(self) -> bool:
        return self.request.headers.get("HX-Request") == "true"

    @property
    def is_boosted(self) -> bool:
        return self.request.headers.get("HX-Boosted") == "true"

    @property
    def partial(self) -> bool:
        """An htmx request for a fragment (a boosted one wants the whole page)."""
        return self.is_htmx and not self.is_boosted

    def actor(self) -> Actor:
        user = self.user
        if user is None:
            raise SignInRequired()
        return Actor(user.id, user.username, "web")

    def require_hospital(self, hospital_code: str | None) -> None:
        """404 (not 403) when a clerk reaches another hospital's object: its existence is
        not revealed."""
        user = self.user
        if (
            user is not None
            and user.role is Role.HOSPITAL_CLERK
            and (hospital_code or "").upper() != (user.hospital_code or "")
        ):
            raise WebError(404, "error.404")

    def can(self, *roles: Role) -> bool:
        return self.user is not None and self.user.role in roles


@dataclass
class ApiCtx:
    """A submission-API request: who sends (a hospital's token, or a clerk's signed-in session
    on the web upload page) and the language of its messages."""

    request: Request
    state: WebState
    sender: Sender
    lang: str
    now: dt.datetime
    token: TokenView | None = None

    @property
    def hospital(self) -> str:
        return self.sender.hospital_code
