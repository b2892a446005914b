"""E-mail notifications through a real SMTP server (aiosmtpd on 127.0.0.1): who gets what, in
which language, once; preferences respected; nothing of a patient in any e-mail."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket
from collections.abc import Iterator

import pytest
from tiny_warehouse import HOSTILE, OTHER_SUBMISSION, SUBMISSION
from web_helpers import WebEnv

from pipeline.appdb.audit import Actor
from pipeline.config import SmtpSettings
from pipeline.errors import ConfigError
from pipeline.services import accounts, notifications

NOW = dt.datetime(2026, 11, 21, 1, 0)  # a day after the tiny network's files arrived


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp() -> Iterator[tuple[int, list]]:
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self) -> None:
            self.messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((list(envelope.rcpt_tos), message))
            return "250 OK"

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, handler.messages
    finally:
        controller.stop()


def _with_emails(web: WebEnv) -> None:
    for username, lang in (
        ("u-analyst", "en"),
        ("u-supervisor", "zh"),
        ("u-clerk", "zh"),
        ("u-clerk-sh", "en"),
        ("u-coder", "en"),
    ):
        user = accounts.get_user(web.db, username)
        accounts.update_profile(
            web.db,
            Actor(user.id, username, "web"),
            NOW,
            language=lang,
            email=f"{username}@example.org",
        )
    # u-admin and the others keep no address: they get nothing.


def test_each_user_gets_what_they_chose_once(web: WebEnv, smtp) -> None:  # type: ignore[no-untyped-def]
    port, received = smtp
    _with_emails(web)
    settings = web.settings.with_overrides(
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none", sender="s@example.org")
    )
    messages, outcome = notifications.notify(settings, web.db, NOW)
    got = sorted((m.username, m.kind) for m in outcome.sent)
    assert got == [
        ("u-analyst", "followups_due"),
        ("u-analyst", "new_signals"),
        ("u-clerk", "receipts"),
        ("u-clerk-sh", "receipts"),
        ("u-supervisor", "new_signals"),
    ]
    assert len(received) == 5 and not outcome.failed
    by_user = {rcpt[0]: message for rcpt, message in received}
    analyst_signal = next(
        m for r, m in received if r == ["u-analyst@example.org"] and "signal" in m["Subject"]
    )
    assert "2026-W47" in analyst_signal["Subject"]
    assert (
        "Rice cooker" in analyst_signal.get_content() and "6 cases" in analyst_signal.get_content()
    )
    supervisor = by_user["u-supervisor@example.org"]
    assert "风险信号" in supervisor["Subject"] and "电饭煲" in supervisor.get_content()
    clerk = by_user["u-clerk@example.org"].get_content()
    assert (
        "GZ001_20261120.csv" in clerk
        and SUBMISSION not in by_user["u-clerk-sh@example.org"].get_content()
    )
    assert "部分接收" in clerk and "age_range: 2" in clerk  # the clerk's language, by rule
    assert "SH001" not in clerk and OTHER_SUBMISSION not in clerk  # only their own hospital
    for _rcpt, message in received:  # no narrative, no product text, no pseudonym
        body = message.get_content()
        assert "HYPERLINK" not in body and "<script" not in body and "pn_" not in body
        assert HOSTILE[:20] not in body
    # Sending again changes nothing.
    again = notifications.notify(settings, web.db, NOW)[1]
    assert not again.sent and again.skipped == 5 and len(received) == 5


def test_choices_are_respected_and_a_missing_server_is_a_clear_error(web: WebEnv, smtp) -> None:  # type: ignore[no-untyped-def]
    port, received = smtp
    _with_emails(web)
    analyst = accounts.get_user(web.db, "u-analyst")
    notifications.set_choices(web.db, Actor(analyst.id, "u-analyst", "web"), analyst, set())
    settings = web.settings.with_overrides(
        smtp=SmtpSettings(host="127.0.0.1", port=port, security="none")
    )
    outcome = notifications.notify(settings, web.db, NOW)[1]
    assert "u-analyst" not in {m.username for m in outcome.sent}
    assert "u-supervisor" in {m.username for m in outcome.sent}  # still hears of the signal
    # Without a configured server, an item not sent before is a configuration error that says
    # what to set, in both languages.
    unsent = notifications.Message(
        analyst.id, "u-analyst", "a@example.org", "receipts", "k", "s", "b"
    )
    with pytest.raises(ConfigError) as error:
        notifications.send(web.settings, web.db, [unsent], NOW)
    assert "SENTINEL_SMTP_HOST" in error.value.user_message("en")
    assert "未设置 SENTINEL_SMTP_HOST" in error.value.user_message("zh")
