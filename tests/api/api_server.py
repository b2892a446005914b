"""A real Sentinel server for the API tests: ``sentinel web`` in a subprocess on 127.0.0.1 on a
free port, with its own small SENTINEL_HOME (empty landing zone: files arrive through the API)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from pipeline.appdb import schema
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.config import Settings
from pipeline.services import api_tokens

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "data" / "sample" / "landing"
KEY = "api-test-pseudonym-key-0123456789"
SYSTEM = Actor(None, "os:test", "cli")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    home: Path
    env: dict[str, str]
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env)

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @classmethod
    def make(cls, home: Path, **extra: str) -> Server:
        home.mkdir(parents=True, exist_ok=True)
        (home / "landing").mkdir(exist_ok=True)
        env = {
            **os.environ,
            "SENTINEL_HOME": str(home),
            "SENTINEL_LANDING": str(home / "landing"),
            "SENTINEL_PSEUDONYM_KEY": KEY,
            "SENTINEL_COOKIE_SECURE": "0",
            "SENTINEL_LANG": "en",
            **extra,
        }
        server = cls(home, env)
        schema.upgrade(server.settings.app_database_url)
        return server

    def start(self, timeout: float = 180.0, same_port: bool = False) -> None:
        if not (same_port and self.port):
            self.port = free_port()
        log = (self.home / "server.log").open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "web", "--port", str(self.port)],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError((self.home / "server.log").read_text()[-3000:])
            try:
                if httpx.get(f"{self.url}/api/openapi.json", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.kill()  # never leave a server behind
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        """kill -9: no shutdown hook runs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def token(self, hospital: str, **kwargs: object) -> str:
        db = AppDB.from_settings(self.settings)
        try:
            return api_tokens.issue(db, self.settings, SYSTEM, hospital, **kwargs).token  # type: ignore[arg-type]
        finally:
            db.dispose()

    def revoke(self, hospital: str, token: str) -> None:
        db = AppDB.from_settings(self.settings)
        try:
            api_tokens.revoke(db, SYSTEM, hospital, token[: api_tokens.PREFIX_CHARS])
        finally:
            db.dispose()

    def expired_token(self, hospital: str) -> str:
        past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=3)
        return self.token(hospital, days=1, now=past)

    def partial_files(self) -> list[Path]:
        return [p for p in self.landing.rglob("*") if p.is_file() and p.name.startswith(".")]


def wait_receipt(client: httpx.Client, sid: str, token: str, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = client.get(f"/api/v1/submissions/{sid}", headers={"authorization": f"Bearer {token}"})
        assert r.status_code == 200, r.text
        body = r.json()
        final = body["history"] and body["history"][-1]["status"] in ("processed", "failed")
        if final and (body["receipt"] is not None or body["status"] == "failed"):
            return body
        time.sleep(0.5)
    raise AssertionError(f"no receipt for {sid} within {timeout} s")
