"""What the app holds for its lifetime (``app.state.web``): settings, the application
database, the clock, the template environment and the key that signs sign-in form tokens."""

from __future__ import annotations

import datetime as dt
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import Request

from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.storage import publish
from pipeline.storage.session import Snapshots

Clock = Callable[[], dt.datetime]  # naive UTC


def load_secret(settings: Settings) -> bytes:
    """``SENTINEL_WEB_SECRET``, or a random key kept in ``<home>/secrets/web-secret`` (created
    once, mode 0600, shared by every worker of this home). It only signs the sign-in form's
    CSRF token; sessions do not depend on it."""
    if settings.web.secret_key:
        return settings.web.secret_key.encode("utf-8")
    path: Path = settings.secrets_dir / "web-secret"
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    value = path.read_text().strip()
    if len(value) < 32:
        raise RuntimeError(f"{path} holds no usable key; delete it to create a new one")
    return value.encode("ascii")


@dataclass
class WebState:
    settings: Settings
    db: AppDB
    clock: Clock
    secret: bytes
    hospitals: object  # pandas.DataFrame of the registry, loaded once
    snapshots: Snapshots  # the published read side, kept open across requests
    jobs: object = None  # pipeline.web.jobs.Jobs: bounded background work (evidence packs)

    def published(self) -> bool:
        return publish.current(self.settings) is not None

    @property
    def cookie_prefix(self) -> str:
        # __Host- cookies: Secure, Path=/, no Domain; the browser refuses them otherwise.
        return "__Host-" if self.settings.web.cookie_secure else ""

    @property
    def session_cookie(self) -> str:
        return f"{self.cookie_prefix}sentinel-session"

    @property
    def pre_cookie(self) -> str:
        return f"{self.cookie_prefix}sentinel-pre"

    lang_cookie = "sentinel-lang"


def web_state(request: Request) -> WebState:
    return request.app.state.web
