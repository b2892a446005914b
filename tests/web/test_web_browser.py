"""Real browser tests: Debian's chromium, driven by Playwright, against ``sentinel web`` started
in a subprocess on a free 127.0.0.1 port with a temporary home. Screenshots of every step go to
``artifacts/screenshots/`` (kept by CI)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from web_helpers import require_chromium, running_web_server

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
ADMIN_PASSWORD = "Ledger-violet-5520"
USER_PASSWORD = "Harbor-maple-7731"
MAX_FAILURES = 3
HOSTILE_NAME = '<script>alert("x")</script><img src=x onerror="alert(1)">=HYPERLINK("http://e.x")'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sentinel(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


@dataclass
class Server:
    url: str
    env: dict[str, str]
    log: Path

    def add_user(self, username: str, role: str, password: str, *extra: str) -> None:
        subprocess.run(
            _sentinel("users", "add", username, "--role", role, *extra),
            input=password + "\n",
            text=True,
            env=self.env,
            check=True,
            capture_output=True,
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    require_chromium()
    home = tmp_path_factory.mktemp("web_server")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(home), SENTINEL_LOGIN_MAX_FAILURES=str(MAX_FAILURES), PYTHONUNBUFFERED="1"
    )
    port = _free_port()
    server = Server(f"http://127.0.0.1:{port}", env, home / "server.log")
    server.add_user("admin", "admin", ADMIN_PASSWORD, "--lang", "en", "--display-name", "Ada")
    server.add_user("target", "analyst", USER_PASSWORD, "--lang", "en")
    command = _sentinel("web", "--host", "127.0.0.1", "--port", str(port))
    with running_web_server(command, env, server.url, server.log, 60):
        yield server
    log_text = server.log.read_text()
    assert "Traceback" not in log_text, log_text[-3000:]


@dataclass
class Watch:
    """What a page did that it must not: dialogs, CSP violations, script errors."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)


@pytest.fixture
def open_page(browser, server: Server, request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    contexts = []
    watches: list[Watch] = []
    SHOTS.mkdir(parents=True, exist_ok=True)
    test_name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name.replace("[", "-").rstrip("]"))

    def make(locale: str = "en-US", javascript: bool = True):  # type: ignore[no-untyped-def]
        context = browser.new_context(
            base_url=server.url, locale=locale, java_script_enabled=javascript
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(15000)
        watch = Watch()
        watches.append(watch)

        def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
            watch.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.on("console", lambda m: m.type == "error" and watch.console_errors.append(m.text))
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
        return page, watch

    def shot(page, step: str | None = None) -> None:  # type: ignore[no-untyped-def]
        name = test_name if step is None else f"{test_name}--{step}"
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    make.shot = shot  # type: ignore[attr-defined]
    yield make
    for context in contexts:
        context.close()
    for watch in watches:
        csp = [m for m in watch.console_errors if "Content Security Policy" in m]
        assert not csp, csp
        assert not watch.page_errors, watch.page_errors
        assert not watch.dialogs, watch.dialogs


def _sign_in(page, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in")  # a full page load (the sign-in form is not boosted)
    page.wait_for_load_state()


def _sign_out(page) -> None:  # type: ignore[no-untyped-def]
    page.click("#sign-out")
    page.wait_for_url(re.compile(r"/login\?signed_out=1$"))


TEXT = {
    "en": {
        "sign_in": "Sign in",
        "welcome": "Welcome",
        "must_change": "Please choose a new password",
        "changed": "Your password was changed",
        "my_hospital": "My hospital",
        "not_found": "This page does not exist",
        "failed": "Sign-in failed",
        "signed_out": "You have signed out",
    },
    "zh": {
        "sign_in": "登录",
        "welcome": "欢迎",
        "must_change": "请先设置新密码",
        "changed": "密码已修改",
        "my_hospital": "本院信息",
        "not_found": "页面不存在",
        "failed": "登录失败",
        "signed_out": "您已退出登录",
    },
}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_admin_creates_a_clerk_who_signs_in_and_changes_the_password(
    open_page,
    server: Server,
    lang: str,  # type: ignore[no-untyped-def]
) -> None:
    text = TEXT[lang]
    locale = "zh-CN" if lang == "zh" else "en-US"
    page, _ = open_page(locale)
    page.goto("/")
    assert page.url.endswith("/login?next=/")
    assert text["sign_in"] in page.inner_text("h1")
    open_page.shot(page, "1-login")
    _sign_in(page, "admin", ADMIN_PASSWORD)
    if lang == "zh":  # the admin prefers English: switch with the header button
        page.click("form.lang button[value=zh]")
        page.wait_for_selector("html[lang=zh-CN]")
    assert text["welcome"] in page.inner_text("h1")
    open_page.shot(page, "2-home")
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-sentinel-session")
    # Debian chromium keeps a Secure cookie on http://127.0.0.1 (a potentially trustworthy
    # origin), with its attributes intact.
    assert cookie["secure"] and cookie["httpOnly"] and cookie["sameSite"] == "Strict"

    page.click("a[data-area=users]")
    page.click("#add-user")
    clerk = f"clerk-{lang}"
    page.fill("#username", clerk)
    page.fill("#display_name", "王小梅" if lang == "zh" else "Mei Wang")
    page.select_option("#role", "hospital_clerk")
    page.select_option("#hospital_code", "GZ001")
    page.select_option("#language", lang)
    open_page.shot(page, "3-new-clerk")
    page.click("#create-user")
    password = page.inner_text("#one-time-password").strip()
    assert re.fullmatch(r"[A-Za-z0-9]{5}(-[A-Za-z0-9]{5}){3}", password)
    open_page.shot(page, "4-one-time-password")
    _sign_out(page)
    assert text["signed_out"] in page.inner_text("main")

    clerk_page, _ = open_page(locale)
    _sign_in(clerk_page, clerk, password)
    assert clerk_page.url.endswith("/account/password")
    assert text["must_change"] in clerk_page.inner_text("#must-change")
    open_page.shot(clerk_page, "5-must-change")
    clerk_page.fill("#current_password", password)
    clerk_page.fill("#new_password", "Quiet-river-2468")
    clerk_page.fill("#confirm_password", "Quiet-river-2468")
    clerk_page.click("#change-password")
    clerk_page.wait_for_url(re.compile(r"/account\?password_changed=1$"))
    assert text["changed"] in clerk_page.inner_text("main")
    open_page.shot(clerk_page, "6-changed")
    clerk_page.click("a[href='/']")
    clerk_page.wait_for_load_state("networkidle")
    clerk_page.click("a[data-area=my_hospital]")
    clerk_page.wait_for_url(re.compile(r"/hospitals/GZ001$"))
    assert "GZ001" in clerk_page.inner_text("h1")
    clerk_page.goto("/hospitals/SH001")
    assert text["not_found"] in clerk_page.inner_text("#error-message")
    clerk_page.goto("/admin/users")
    assert "403" in clerk_page.inner_text("h1")
    open_page.shot(clerk_page)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lockout_after_wrong_passwords(open_page, server: Server, lang: str) -> None:  # type: ignore[no-untyped-def]
    text = TEXT[lang]
    username = f"lockme-{lang}"
    server.add_user(username, "coder", USER_PASSWORD, "--lang", lang)
    page, _ = open_page("zh-CN" if lang == "zh" else "en-US")
    for i in range(MAX_FAILURES):
        _sign_in(page, username, f"wrong-password-{i}")
        assert text["failed"] in page.inner_text("#login-error")
    _sign_in(page, username, USER_PASSWORD)  # right password, locked account: same message
    assert text["failed"] in page.inner_text("#login-error")
    assert not any(c["name"] == "__Host-sentinel-session" for c in page.context.cookies())
    _sign_in(page, "no-such-user", USER_PASSWORD)
    assert text["failed"] in page.inner_text("#login-error")
    open_page.shot(page)


def test_hostile_names_are_shown_inert(open_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page, watch = open_page()
    _sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin/users/new")
    page.fill("#username", "hostile")
    page.fill("#display_name", HOSTILE_NAME)
    page.select_option("#role", "analyst")
    page.click("#create-user")
    page.wait_for_selector("#one-time-password")
    page.goto("/admin/users/new")  # and as a user name, which is refused and echoed
    page.fill("#username", HOSTILE_NAME[:60])
    page.select_option("#role", "analyst")
    page.click("#create-user")
    page.wait_for_selector("#form-error")
    assert "<script>" in page.inner_text("#form-error")
    for path in ("/admin/users", "/admin/users/hostile", "/admin/users?q=hostile"):
        page.goto(path)
        page.wait_for_load_state("networkidle")
        injected = page.evaluate(
            "() => document.querySelectorAll('main img, main svg, main script, "
            "main [onerror], main [onload]').length"
        )
        assert injected == 0, path
    assert HOSTILE_NAME in page.inner_text("#user-rows")  # shown as the text it is
    page.goto("/admin/users/hostile")
    assert HOSTILE_NAME in page.inner_text("#target-name")
    open_page.shot(page)
    time.sleep(0.5)  # a delayed onerror would have fired by now
    assert watch.dialogs == []


def test_htmx_enhances_search_and_row_actions(open_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page, _ = open_page()
    _sign_in(page, "admin", ADMIN_PASSWORD)
    page.goto("/admin/users")
    page.evaluate("() => { window.__sentinelMarker = 42 }")  # survives only without a reload
    page.fill("#q", "target")
    page.wait_for_function(
        "() => document.querySelectorAll('#user-rows tr').length === 1", timeout=10000
    )
    row = page.locator("#user-rows tr[data-username=target]")
    row.locator("button").click()
    page.wait_for_selector("#user-rows tr[data-username=target] [data-status=disabled]")
    open_page.shot(page, "disabled")
    page.locator("#user-rows tr[data-username=target] button").click()
    page.wait_for_selector("#user-rows tr[data-username=target] [data-status=active]")
    assert page.evaluate("() => window.__sentinelMarker") == 42  # no full page load
    open_page.shot(page)


def test_every_page_works_without_javascript(open_page, server: Server) -> None:  # type: ignore[no-untyped-def]
    page, _ = open_page(javascript=False)
    _sign_in(page, "admin", ADMIN_PASSWORD)
    # admin: users, hospitals, the network view (workspace pages) and the account
    assert page.url.endswith("/") and page.locator("#areas a").count() == 4
    page.goto("/admin/users?q=target")
    page.locator("#user-rows tr[data-username=target] button").click()
    page.wait_for_url(re.compile(r"/admin/users\?disabled=1$"))
    assert page.locator("#user-rows tr[data-username=target] [data-status=disabled]").count()
    page.goto("/admin/users/target")
    page.click("#toggle-disabled")
    page.wait_for_url(re.compile(r"/admin/users/target\?enabled=1$"))
    page.click("form.lang button[value=zh]")
    page.wait_for_selector("html[lang=zh-CN]")
    assert "用户管理" in page.inner_text("header")
    page.goto("/account")
    page.select_option("#language", "en")
    page.click("#save-account")
    page.wait_for_url(re.compile(r"/account\?saved=1$"))
    assert "Your settings were saved" in page.inner_text("main")
    open_page.shot(page)
    _sign_out(page)


def test_screenshots_folder_is_not_committed() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", str(SHOTS / "x.png")], cwd=REPO, check=False
    )
    assert ignored.returncode == 0 or shutil.which("git") is None
