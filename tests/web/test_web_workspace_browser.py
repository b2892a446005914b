"""Each role's main flow in a real browser (Debian chromium through Playwright), in Chinese and in
English, against ``sentinel web`` started in a subprocess on the tiny published warehouse.

Every page a flow visits is screenshotted under ``artifacts/screenshots/workspace-<role>-<lang>-
<step>.png``. Every page that shows a narrative shows the hostile ones (script tag, event
handler, spreadsheet formulas) as text: no dialog opens, no element of theirs exists in the DOM,
no script error, no CSP violation (checked after every flow).
"""

from __future__ import annotations

import csv
import io
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
from tiny_warehouse import (
    ALERT_ID,
    HOSTILE,
    SIGNAL_ID,
    SUBMISSION,
    WEEK,
    build_tiny_warehouse,
    record_triage,
)
from web_helpers import TEST_PSEUDONYM_KEY, require_chromium, running_web_server

from pipeline.appdb.db import AppDB
from pipeline.services import accounts, notices

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "artifacts" / "screenshots"
PASSWORD = "Harbor-maple-7731"
USERS = {
    "analyst": ("w-analyst", "analyst", ()),
    "supervisor": ("w-supervisor", "supervisor", ()),
    "coder": ("w-coder", "coder", ()),
    "recall": ("w-recall", "recall_officer", ()),
    "coordinator": ("w-coordinator", "coordinator", ()),
    "clerk": ("w-clerk", "hospital_clerk", ("--hospital", "GZ001")),
}
LANGS = ["zh", "en"]
WORDS = {
    "zh": {
        "cases": "例符合条件",
        "pending": "已处理，下次运行生效",
        "intact": "完好",
        "dry_run": "未保存任何内容",
        "not_found": "页面不存在",
        "signals": "风险信号收件箱",
    },
    "en": {
        "cases": "matching cases",
        "pending": "resolved, applied at the next run",
        "intact": "intact",
        "dry_run": "Nothing was stored",
        "not_found": "This page does not exist",
        "signals": "Signal inbox",
    },
}


HOMES: dict[str, Path] = {}  # the server's SENTINEL_HOME


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _sentinel(*args: str) -> list[str]:
    return [sys.executable, "-m", "pipeline.cli", *args]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    home = tmp_path_factory.mktemp("workspace_server") / "home"
    settings = build_tiny_warehouse(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(
        SENTINEL_HOME=str(home),
        SENTINEL_LANDING=str(home / "landing"),  # files the clerk sends land here
        SENTINEL_PSEUDONYM_KEY=TEST_PSEUDONYM_KEY,  # a dry run needs the warehouse's key
        SENTINEL_API_BATCH_WAIT_MS="200",
        PYTHONUNBUFFERED="1",
    )
    HOMES["server"] = home
    for username, role, extra in USERS.values():
        subprocess.run(
            _sentinel("users", "add", username, "--role", role, "--lang", "en", *extra),
            input=PASSWORD + "\n",
            text=True,
            env=env,
            check=True,
            capture_output=True,
        )
    db = AppDB.from_settings(settings)
    try:  # the analyst confirmed the tiny signal: the recall officer's page lists it
        record_triage(db, settings, USERS["analyst"][0])
        # ... and submitted a risk notice from it: the supervisor's approval queue holds it.
        analyst = accounts.cli_actor(db, USERS["analyst"][0], "cli")
        drafted = notices.draft(settings, analyst, SIGNAL_ID, "risk-notice")
        notices.submit(settings, analyst, drafted.notice.notice_id)
    finally:
        db.dispose()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = home / "server.log"
    # 180 s: a loaded machine starts the app slowly.
    with running_web_server(_sentinel("web", "--port", str(port)), env, url, log, 180):
        yield url
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]


@dataclass
class Flow:
    page: object
    role: str
    lang: str
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    step: int = 0
    expected_404: set[str] = field(default_factory=set)  # pages the flow visits to get a 404

    def shot(self, what: str) -> None:
        self.step += 1
        SHOTS.mkdir(parents=True, exist_ok=True)
        name = f"workspace-{self.role}-{self.lang}-{self.step:02d}-{what}.png"
        self.page.screenshot(path=str(SHOTS / name), full_page=True)  # type: ignore[attr-defined]

    def go(self, path: str) -> None:
        self.page.goto(path)  # type: ignore[attr-defined]
        self.page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]

    def text(self) -> str:
        return self.page.inner_text("main")  # type: ignore[attr-defined]

    def assert_inert(self) -> None:
        """The hostile narrative is on the page as text, and none of its markup is live."""
        page = self.page
        assert HOSTILE[:30] in self.text()
        assert page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0  # type: ignore[attr-defined]
        scripts = page.evaluate("[...document.scripts].map(s => s.src || s.textContent)")  # type: ignore[attr-defined]
        assert all(s.endswith((".js",)) for s in scripts), scripts
        assert page.evaluate("document.querySelectorAll('[onerror]').length") == 0  # type: ignore[attr-defined]


@pytest.fixture
def flow(browser, server: str, request: pytest.FixtureRequest) -> Iterator:  # type: ignore[no-untyped-def]
    contexts = []
    flows: list[Flow] = []

    def start(role: str, lang: str, javascript: bool = True) -> Flow:
        context = browser.new_context(
            base_url=server,
            locale="zh-CN" if lang == "zh" else "en-US",
            java_script_enabled=javascript,
            accept_downloads=True,
            viewport={"width": 1280, "height": 900},
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(30000)
        current = Flow(page, role + ("" if javascript else "-nojs"), lang)
        flows.append(current)

        def on_dialog(dialog) -> None:  # type: ignore[no-untyped-def]
            current.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)

        def on_console(message) -> None:  # type: ignore[no-untyped-def]
            url = str(message.location.get("url", ""))
            wanted_404 = "404" in message.text and url.split("/", 3)[-1] in current.expected_404
            if message.type == "error" and not wanted_404:
                current.errors.append(f"{message.text} at {url}")

        page.on("console", on_console)
        page.on("pageerror", lambda e: current.errors.append(str(e)))
        username = USERS[role][0]
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("#sign-in")
        page.wait_for_load_state()
        # The language of the flow: the switcher (saved as the user's preference).
        page.click(f"button[name=lang][value={lang}]")
        page.wait_for_load_state("networkidle")
        return current

    yield start
    for context in contexts:
        context.close()
    for current in flows:
        assert not current.dialogs, (current.role, current.dialogs)
        assert not current.errors, (current.role, current.errors)


@pytest.mark.parametrize("lang", LANGS)
def test_analyst_inbox_signal_and_case_search(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("analyst", lang)
    f.go("/signals")
    assert WORDS[lang]["signals"] in f.text()
    f.shot("inbox")
    f.page.select_option("#status", "new")  # htmx swaps the table in place
    f.page.wait_for_load_state("networkidle")
    assert f'data-signal="{SIGNAL_ID}"' in f.page.content()
    f.page.click(f"#signal-table a[href='/signals/{SIGNAL_ID}?week={WEEK}']")
    f.page.wait_for_selector("#trend-chart svg")  # a boosted link: htmx swaps the page in
    assert f.page.locator("#city-map g.city.hot").count() == 3
    assert f.page.locator(f"#member-alerts tr[data-alert='{ALERT_ID}']").count() == 1
    f.assert_inert()
    f.shot("signal")
    f.go("/cases")
    f.page.fill("#q", "HYPERLINK")
    f.page.click("#run-search")
    f.page.wait_for_selector("#case-table")
    assert WORDS[lang]["cases"] in f.text()
    f.assert_inert()
    f.shot("case-search")
    with f.page.expect_download() as download:
        f.page.click("#export-csv")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text("utf-8-sig"))))
    assert len(rows) == 3 and all(r["product_name"].startswith("'=") for r in rows)
    f.page.fill("#saved-name", "hostile" if lang == "en" else "恶意文本")
    f.page.click("#save-query")
    f.page.wait_for_selector("#saved-queries a")
    f.shot("saved-query")


@pytest.mark.parametrize("lang", LANGS)
def test_supervisor_reads_the_inbox(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("supervisor", lang)
    f.go("/signals")
    f.shot("inbox")
    f.go(f"/signals/{SIGNAL_ID}")
    f.assert_inert()
    f.shot("signal")


@pytest.mark.parametrize("lang", LANGS)
def test_supervisor_approves_the_waiting_notice(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    """The first language's flow approves the one submitted notice; the second finds the queue
    empty. Either way the signal page then lists the notice as approved."""
    from playwright.sync_api import expect

    f = flow("supervisor", lang)
    f.go("/approvals")
    waiting = f.page.locator("article[data-notice]").count()
    assert waiting in (0, 1)
    if waiting:
        # The notice's text, in the reader's language, rendered from its Markdown.
        assert SIGNAL_ID in f.page.inner_text("#document-1")
        assert f.page.locator("#document-1 h1").count() == 1
        f.shot("approvals")
        f.page.fill("#comment-1", '<img src=x onerror="alert(5)"> ok ' + lang)
        f.page.click("#decide-1 button.approve")
        expect(f.page.locator("#nothing-waiting")).to_be_visible()
        assert "done=approve" in f.page.url
    f.shot("approvals-done")
    f.go(f"/signals/{SIGNAL_ID}")
    assert f.page.locator("#notice-table tr[data-status=approved]").count() == 1
    f.assert_inert()


@pytest.mark.parametrize("lang", LANGS)
def test_analyst_triages_a_signal_in_the_browser(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    """Watch, then confirm again (the signal stays confirmed for the other flows), with a
    hostile reason shown as text; a follow-up ordered for a ticked case."""
    from playwright.sync_api import expect

    f = flow("analyst", lang)
    f.go(f"/signals/{SIGNAL_ID}")
    hostile = '<img src=x onerror="alert(7)"> =HYPERLINK("x") ' + lang
    for decision in ("watch", "confirm"):
        f.page.check(f"#decision-form input[name=decision][value={decision}]")
        f.page.fill("#reason", f"{decision} {hostile}")
        f.page.click("#decide")
        # The page after the post (the form is posted, the answer is a redirect): waited for.
        expect(f.page.locator("#triage-history")).to_contain_text(f"{decision} {hostile}")
        f.page.wait_for_load_state("networkidle")
    assert f.page.locator("p.notice").count() == 1
    f.assert_inert()
    case = "GZ001/C0006" if lang == "en" else "SH001/C0004"
    f.page.check(f"#signal-cases input[value='{case}']")
    f.page.fill("#note", "ask about the lid " + lang)
    f.page.click("#order-followups")
    expect(f.page.locator("#followup-table")).to_contain_text(case)
    f.page.wait_for_load_state("networkidle")
    assert "done=followups" in f.page.url
    f.assert_inert()
    f.shot("triaged")


@pytest.mark.parametrize("lang", LANGS)
def test_coder_resolves_from_the_keyboard(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("coder", lang)
    f.go("/coding")
    f.assert_inert()  # the hostile narrative is one of the open items
    f.shot("queue")
    before = f.page.locator("article.queue-item:not(.resolved)").count()
    # No mouse: the first suggestion has the focus; Enter takes it.
    focused = f.page.evaluate("document.activeElement.className")
    assert "suggestion" in focused
    f.page.keyboard.press("Enter")
    f.page.wait_for_selector("#just-resolved")  # htmx swapped the queue
    # The swap may still be settling (an earlier run's #just-resolved can match first): wait
    # for the queue to hold one open item fewer, then check it stays so.
    f.page.wait_for_function(
        "n => document.querySelectorAll('article.queue-item:not(.resolved)').length === n",
        arg=before - 1,
        timeout=20_000,
    )
    assert f.page.locator("article.queue-item:not(.resolved)").count() == before - 1
    assert WORDS[lang]["pending"] in f.text()
    f.shot("resolved")


@pytest.mark.parametrize("lang", LANGS)
def test_recall_officer_builds_and_downloads_a_pack(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("recall", lang)
    f.go("/evidence")
    assert WORDS[lang]["intact"] in f.text()
    f.shot("packs")
    f.page.click(".request-pack >> nth=0")
    f.page.wait_for_load_state("networkidle")
    deadline = time.monotonic() + 90
    built = re.compile(rf"evidence-{SIGNAL_ID}-{WEEK}-[0-9a-f]{{12}}\.zip")
    while not built.search(f.page.inner_text("#pack-requests")):
        assert time.monotonic() < deadline, "the pack was not built in time"
        time.sleep(1)
        f.go("/evidence")
    f.shot("built")
    with f.page.expect_download() as download:
        f.page.click("#pack-requests a >> nth=0")
    assert Path(download.value.path()).read_bytes()[:2] == b"PK"


@pytest.mark.parametrize("lang", LANGS)
def test_coordinator_drills_down_to_a_receipt(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("coordinator", lang)
    f.go("/network")
    f.shot("network")
    f.page.click("#health-table a[href='/hospitals/GZ001/submissions']")
    f.page.wait_for_selector("#submission-table")
    f.shot("submissions")
    f.page.click(f"#submission-table tr[data-submission='{SUBMISSION}'] a")
    f.page.wait_for_selector("#receipt-errors")
    assert "=HYPERLINK" in f.page.inner_text("#receipt-errors")  # the value, as text
    f.shot("receipt")


@pytest.mark.parametrize("lang", LANGS)
def test_clerk_sees_own_receipts_and_dry_runs_a_file(flow, lang: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    f = flow("clerk", lang)
    f.go("/")
    f.page.click("a[data-area='my_submissions']")
    f.page.wait_for_selector("#submission-table")
    f.shot("submissions")
    f.go(f"/hospitals/GZ001/submissions/{SUBMISSION}")
    f.shot("receipt")
    f.expected_404.add("hospitals/SH001/submissions")
    f.go("/hospitals/SH001/submissions")
    assert WORDS[lang]["not_found"] in f.text()
    f.shot("other-hospital-404")
    upload = tmp_path / "today.csv"
    upload.write_text(
        "hospital_code,case_id,report_type,visit_datetime,sex,age,age_unit,narrative\r\n"
        "GZ001,U1,new,2026-11-20 10:00,female,300,years,x\r\n",
        encoding="utf-8",
    )
    f.go("/hospitals/GZ001/upload")
    f.page.set_input_files("#file", str(upload))
    f.page.click("#check-file")
    # The page sends the file to /api/v1/validate and shows the receipt it returns (the first
    # dry run of the server loads Great Expectations: allow for it).
    f.page.wait_for_selector("#dry-run-note", timeout=180_000)
    assert WORDS[lang]["dry_run"] in f.text()
    f.shot("dry-run")


@pytest.mark.parametrize("lang", LANGS)
def test_clerk_checks_and_sends_a_file_through_the_api(flow, lang: str, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The upload page uses the submission API's endpoints with the clerk's session: the dry
    run (/api/v1/validate), then the file sent (/api/v1/submissions) and its receipt shown
    once the app's worker has processed it. Labels in the page's language; the receipt's own
    text in the file's header language (English headers here); hostile text stays text."""
    f = flow("clerk", lang)
    day = "20261121" if lang == "zh" else "20261122"
    upload = tmp_path / f"GZ001_{day}.csv"
    upload.write_text(
        "hospital_code,case_id,report_type,visit_datetime,sex,age,age_unit,narrative\r\n"
        f"GZ001,API-{lang},new,2026-11-20 10:00,female,300,years,"
        '"<img src=x onerror=alert(1)> =HYPERLINK(""http://x"")"\r\n',
        encoding="utf-8",
    )
    f.go("/hospitals/GZ001/upload")
    f.page.set_input_files("#file", str(upload))
    f.page.click("#check-file")
    f.page.wait_for_selector("#upload-dry-run", timeout=180_000)
    assert WORDS[lang]["dry_run"] in f.text()
    assert f.page.locator("#upload-errors tbody tr").count() >= 1  # the age is out of range
    assert not (HOMES["server"] / "landing" / "GZ001" / upload.name).exists()
    f.shot("api-dry-run")
    f.page.click("#send-file")
    f.page.wait_for_selector("#upload-sent")
    sid = f.page.get_attribute("#upload-sent", "data-submission")
    assert sid and sid in f.text()
    landed = HOMES["server"] / "landing" / "GZ001" / upload.name
    assert landed.read_bytes() == upload.read_bytes()
    f.page.wait_for_selector("#upload-receipt", timeout=240_000)
    receipt_text = f.page.inner_text("#upload-receipt")
    assert sid in receipt_text and upload.name in receipt_text
    assert f.page.evaluate("document.querySelectorAll('img[src=\"x\"]').length") == 0
    f.shot("api-receipt")
    f.page.click("#open-receipt")
    f.page.wait_for_selector("#receipt")
    assert sid in f.text()


@pytest.mark.parametrize("lang", LANGS)
def test_the_same_pages_without_javascript(flow, lang: str) -> None:  # type: ignore[no-untyped-def]
    f = flow("analyst", lang, javascript=False)
    f.go("/cases")
    f.page.fill("#q", "电饭煲")
    f.page.click("#run-search")
    f.page.wait_for_load_state()
    assert "/cases?" in f.page.url and f.page.locator("#case-table").count() == 1
    f.assert_inert() if "HYPERLINK" in f.text() else None
    f.shot("case-search")
    c = flow("coder", lang, javascript=False)
    c.go("/coding")
    c.page.click("article.queue-item:not(.resolved) button.suggestion >> nth=0")
    c.page.wait_for_load_state()
    assert WORDS[lang]["pending"] in c.text()
    c.shot("resolved")


def test_screenshots_exist_for_every_role_and_language() -> None:
    shots = {p.name for p in SHOTS.glob("workspace-*.png")}
    for role in USERS:
        for lang in LANGS:
            assert any(s.startswith(f"workspace-{role}-{lang}-") for s in shots), (role, lang)
    shutil.disk_usage(SHOTS)  # the folder CI keeps
