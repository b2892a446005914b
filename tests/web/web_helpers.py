"""Helpers of the web tests (imported by the tests and their conftest)."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.roles import Role
from pipeline.config import TEST_PASSWORD_COST, Settings, WebSettings
from pipeline.services import accounts
from pipeline.web import create_app

REPO = Path(__file__).resolve().parents[2]
GOOD = "orchid-Lantern-4417"
# username -> (role, hospital); one per role, a second clerk elsewhere and a target to act on.
USERS: dict[str, tuple[str, str | None]] = {
    "u-admin": ("admin", None),
    "u-analyst": ("analyst", None),
    "u-supervisor": ("supervisor", None),
    "u-coder": ("coder", None),
    "u-recall": ("recall_officer", None),
    "u-coordinator": ("coordinator", None),
    "u-clerk": ("hospital_clerk", "GZ001"),
    "u-clerk-sh": ("hospital_clerk", "SH001"),
    "target-user": ("analyst", None),
}
BY_ROLE: dict[Role, str] = {
    Role.ADMIN: "u-admin",
    Role.ANALYST: "u-analyst",
    Role.SUPERVISOR: "u-supervisor",
    Role.CODER: "u-coder",
    Role.RECALL_OFFICER: "u-recall",
    Role.COORDINATOR: "u-coordinator",
    Role.HOSPITAL_CLERK: "u-clerk",
}
_TOKEN_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
_META_RE = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


# A test-only pseudonym key: a dry run against a published warehouse requires one (intake).
TEST_PSEUDONYM_KEY = "web-tests-pseudonym-key-not-secret"


def settings_for(home, **web: object) -> Settings:  # type: ignore[no-untyped-def]
    """Settings of a test home: cheap password hashes (the production cost is 0.14 s a hash)."""
    return Settings(
        home=home,
        landing_dir=home / "landing",
        pseudonym_key=TEST_PSEUDONYM_KEY,
        web=WebSettings(password_cost=TEST_PASSWORD_COST, **web),  # type: ignore[arg-type]
    )


class ManualJobs:
    """The web app's background worker, run by the test when it wants (``run_all``): a fast test
    does not build evidence packs behind its back."""

    def __init__(self) -> None:
        self.queued: list = []

    def submit(self, job) -> bool:  # type: ignore[no-untyped-def]
        self.queued.append(job)
        return True

    def run_all(self) -> list:
        done, self.queued = self.queued, []
        return [job() for job in done]

    def wait(self, timeout: float = 30.0) -> bool:
        return True


class FakeClock:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class WebEnv:
    settings: Settings
    clock: FakeClock
    db: AppDB
    app: FastAPI
    clients: list[TestClient] = field(default_factory=list)

    @classmethod
    def start(cls, settings: Settings, start: dt.datetime, **web: object) -> WebEnv:
        if web:
            settings = settings.with_overrides(web=replace(settings.web, **web))
        clock = FakeClock(start)
        db = AppDB.from_settings(settings)
        app = create_app(settings, clock=clock, db=db)
        app.state.web.jobs = ManualJobs()
        return cls(settings, clock, db, app)

    def client(self, **headers: str) -> TestClient:
        client = TestClient(
            self.app,
            base_url="https://testserver",
            follow_redirects=False,
            raise_server_exceptions=False,
            headers={"accept-language": "en", **headers},
        )
        self.clients.append(client)
        return client

    def signed_in(self, username: str, password: str = GOOD) -> TestClient:
        client = self.client()
        response = login(client, username, password)
        assert response.status_code == 303, response.text
        return client

    def close(self) -> None:
        for client in self.clients:
            client.close()
        self.app.state.web.jobs.wait(30)
        self.app.state.web.snapshots.close()
        self.db.dispose()


def token_from(html: str) -> str:
    match = _TOKEN_RE.search(html) or _META_RE.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def page_token(client: TestClient, path: str = "/") -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return token_from(response.text)


def login(client: TestClient, username: str, password: str, next: str = "/") -> httpx.Response:
    token = page_token(client, "/login")
    return client.post(
        "/login",
        data={"username": username, "password": password, "next": next, "csrf_token": token},
    )


def session_cookie(client: TestClient) -> str | None:
    return client.cookies.get("__Host-sentinel-session")


def populate(db: AppDB, settings: Settings) -> None:
    system = Actor(None, "os:test", "cli")
    for username, (role, hospital) in USERS.items():
        accounts.add_user(
            db,
            settings,
            system,
            username=username,
            role=role,
            password=GOOD,
            hospital_code=hospital,
            display_name=f"{username} name",
            language="en",
        )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]


def require_chromium() -> None:
    """Debian's chromium drives the browser tests: CI installs it (missing there: a failure)."""
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is required in CI (.ci/run installs it)")
        pytest.skip(f"{CHROMIUM} not installed")


@contextmanager
def running_web_server(
    command: list[str], env: dict[str, str], url: str, log: Path, start_timeout: float
) -> Iterator[subprocess.Popen]:
    """``sentinel web`` (``command``) started with its output in ``log``, yielded once
    ``/healthz`` answers, terminated on exit (killed after 15 s). RuntimeError with the log
    when it exits or does not answer within ``start_timeout`` seconds."""
    with log.open("w") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=REPO)
        try:
            deadline = time.monotonic() + start_timeout
            while True:
                try:
                    with urllib.request.urlopen(f"{url}/healthz", timeout=2) as reply:
                        if reply.status == 200:
                            break
                except OSError:
                    pass
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("sentinel web did not start:\n" + log.read_text())
                time.sleep(0.3)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
