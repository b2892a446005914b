"""A task that fails for good sends an e-mail through the DAGs' failure callback.

A local SMTP server (aiosmtpd on 127.0.0.1) receives what Airflow sends; the SMTP host, port and
TLS come from the ``smtp_default`` connection in the environment, the recipients from
``SENTINEL_FAILURE_EMAIL``, exactly as an operator configures them (docs/operations.md).
"""

from __future__ import annotations

import email
import email.policy
import socket
import sys

import pytest
from conftest_airflow import DAGS_DIR, run_dag_tests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    """An SMTP server on 127.0.0.1 that keeps every message it receives."""
    from aiosmtpd.controller import Controller

    class Keep:
        def __init__(self) -> None:
            self.messages: list[tuple[str, list[str], email.message.Message]] = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd API
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
            return "250 Message accepted for delivery"

    handler = Keep()
    controller = Controller(handler, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, handler.messages
    finally:
        controller.stop()


def _body(message) -> str:
    part = message.get_body(preferencelist=("html", "plain"))
    return part.get_content() if part is not None else ""


@pytest.mark.slow
def test_failed_task_sends_an_email(airflow_home, smtp_server, tmp_path, monkeypatch):
    port, received = smtp_server
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT",
        f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true"
        "&from_email=sentinel%40airflow.example&timeout=10&retry_limit=1",
    )
    monkeypatch.setenv("SENTINEL_FAILURE_EMAIL", "ops@example.org, oncall@example.org")
    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SENTINEL_LANDING", str(tmp_path))
    # No pseudonym key: discover fails at once (AirflowFailException, no retries).
    monkeypatch.delenv("SENTINEL_PSEUDONYM_KEY", raising=False)

    result = run_dag_tests("ingest_daily", [{}], tmp_path)

    run = result["runs"][0]
    assert run["state"] == "failed"
    assert {t["task_id"]: t["state"] for t in run["tasks"]}["discover"] == "failed"
    assert len(received) == 1, result["log"][-3000:]
    sender, recipients, message = received[0]
    assert sender == "sentinel@airflow.example"
    assert recipients == ["ops@example.org", "oncall@example.org"]
    assert "ingest_daily.discover" in message["Subject"]
    body = _body(message)
    assert "SENTINEL_PSEUDONYM_KEY must be set" in body
    assert run["run_id"] in body


@pytest.mark.slow
def test_no_recipients_no_email(airflow_home, smtp_server, tmp_path, monkeypatch):
    port, received = smtp_server
    monkeypatch.setenv(
        "AIRFLOW_CONN_SMTP_DEFAULT", f"smtp://127.0.0.1:{port}?disable_tls=true&disable_ssl=true"
    )
    monkeypatch.delenv("SENTINEL_FAILURE_EMAIL", raising=False)
    monkeypatch.delenv("SENTINEL_PSEUDONYM_KEY", raising=False)
    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SENTINEL_LANDING", str(tmp_path))

    result = run_dag_tests("ingest_daily", [{}], tmp_path)

    assert result["runs"][0]["state"] == "failed"
    assert received == []


@pytest.mark.slow
def test_failure_message_escapes_what_it_quotes(monkeypatch):
    """The error text goes into HTML: markup in it stays inert."""
    sys.path.insert(0, str(DAGS_DIR))
    try:
        import _common
    finally:
        sys.path.remove(str(DAGS_DIR))

    sent = {}

    class FakeNotifier:
        def __init__(self, **kw):
            sent.update(kw)

        def notify(self, context):
            sent["context"] = context

    import airflow.providers.smtp.notifications.smtp as smtp

    monkeypatch.setattr(smtp, "SmtpNotifier", FakeNotifier)
    monkeypatch.setenv("SENTINEL_FAILURE_EMAIL", "ops@example.org")

    class TI:
        dag_id, task_id, run_id, try_number, map_index = "d", "t", "r1", 3, 2
        log_url = "http://127.0.0.1:8080/log"

    _common.notify_failure({"ti": TI(), "exception": ValueError("<script>x</script>")})
    assert sent["to"] == ["ops@example.org"]
    assert sent["subject"] == "[Sentinel] task failed: d.t[2] (r1)"
    assert "&lt;script&gt;x&lt;/script&gt;" in sent["html_content"]
    assert "<script>" not in sent["html_content"]
