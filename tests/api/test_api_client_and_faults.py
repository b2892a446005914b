"""The reference client (``sentinel submit``) and the fault test: the server is killed with
SIGKILL while uploads are in flight and restarted; every upload either completed exactly once
or failed visibly to its client, nothing is half-present in the landing zone, and the client's
retry succeeds."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from api_server import REPO, SAMPLE, Server, wait_receipt

from pipeline.services import api_client
from pipeline.storage.session import reader

pytestmark = pytest.mark.slow


def _cli(server: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args],
        env=server.env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_tokens_cli_and_submit_client(server: Server, tmp_path: Path) -> None:
    issued = _cli(server, "tokens", "issue", "--hospital", "BJ001", "--label", "his")
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip().splitlines()[-1]
    assert token.startswith("snt_") and len(token) > 40
    listed = _cli(server, "tokens", "list", "--hospital", "BJ001")
    assert token[:12] in listed.stdout and token not in listed.stdout  # never the secret
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    path = SAMPLE / "BJ001" / "BJ001_20260928.csv"
    sent = _cli(server, "submit", str(path), "--url", server.url, "--token-file", str(token_file))
    assert sent.returncode == 0, sent.stderr
    first = json.loads(sent.stdout)
    again = json.loads(
        _cli(
            server, "submit", str(path), "--url", server.url, "--token-file", str(token_file)
        ).stdout
    )
    assert again["submission_id"] == first["submission_id"] and again["new"] is False
    waited = _cli(
        server,
        "submit",
        str(path),
        "--url",
        server.url,
        "--token-file",
        str(token_file),
        "--wait",
    )
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["receipt"]["submission_id"] == first["submission_id"]
    # A refused file fails visibly: one line, exit code 2, no traceback.
    bad = tmp_path / "BJ001_x.exe"
    bad.write_bytes(b"MZ")
    refused = _cli(server, "submit", str(bad), "--url", server.url, "--token-file", str(token_file))
    assert refused.returncode == 2 and "415" in refused.stderr
    assert "Traceback" not in refused.stderr
    # A revoked token: 401, final (no retries), visible.
    revoked = _cli(server, "tokens", "revoke", token[:12], "--hospital", "BJ001")
    assert revoked.returncode == 0, revoked.stderr
    after = _cli(server, "submit", str(path), "--url", server.url, "--token-file", str(token_file))
    assert after.returncode == 2 and "401" in after.stderr


def _half_upload(server: Server, token: str, name: str, data: bytes) -> socket.socket:
    """Send the headers and half of the body, then stall: an upload surely in flight."""
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = (
        f"POST /api/v1/submissions?filename={name} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    ).encode()
    sock.sendall(head + data[: len(data) // 2])
    return sock


def test_kill_9_during_uploads(tmp_path: Path) -> None:
    server = Server.make(tmp_path / "home")
    server.start()
    try:
        files = sorted(
            p for h in ("GZ001", "SH001", "WH001", "CD001") for p in (SAMPLE / h).glob("*.csv")
        )[:24]
        tokens = {h: server.token(h) for h in {p.parent.name for p in files}}
        stalled_path = SAMPLE / "HZ001" / "HZ001_20260928.csv"
        tokens["HZ001"] = server.token("HZ001")
        stalled = _half_upload(
            server, tokens["HZ001"], stalled_path.name, stalled_path.read_bytes()
        )
        time.sleep(0.3)
        outcomes: dict[Path, object] = {}

        def send(path: Path) -> None:
            try:
                outcomes[path] = api_client.submit(
                    path, server.url, tokens[path.parent.name], attempts=12, backoff=0.5
                )
            except Exception as exc:  # noqa: BLE001 - a failure must be visible: kept and checked
                outcomes[path] = exc

        threads = [threading.Thread(target=send, args=(p,)) for p in files]
        for t in threads:
            t.start()
        time.sleep(0.4)  # some uploads answered, others in flight
        server.kill()
        # Nothing half-present, even before the restart cleans up: a partial upload is only
        # ever a dot-file, which ingest never reads.
        half = [p for p in server.landing.rglob("*") if p.is_file() and not p.name.startswith(".")]
        for p in half:
            assert p.read_bytes() == (SAMPLE / p.parent.name / p.name).read_bytes(), p
        stalled.close()
        server.start(same_port=True)
        for t in threads:
            t.join(120)
        assert server.partial_files() == []  # cleaned at start
        failures = {p: o for p, o in outcomes.items() if isinstance(o, Exception)}
        assert len(outcomes) == len(files)
        assert not failures, failures  # every client's retries got through after the restart
        # The stalled client never got a 202 (its connection died); its retry succeeds.
        assert not (server.landing / "HZ001" / stalled_path.name).exists()
        retried = api_client.submit(stalled_path, server.url, tokens["HZ001"])
        with httpx.Client(base_url=server.url, timeout=60) as client:
            for path, body in [*outcomes.items(), (stalled_path, retried)]:
                assert isinstance(body, dict)
                done = wait_receipt(client, body["submission_id"], tokens[path.parent.name])
                assert done["receipt"] is not None, done
                assert (server.landing / path.parent.name / path.name).read_bytes() == (
                    path.read_bytes()
                )
        sids = [b["submission_id"] for b in [*outcomes.values(), retried]]  # type: ignore[index]
        with reader(server.settings) as con:
            counts = dict(
                con.execute(
                    "SELECT submission_id, count(*) FROM submissions GROUP BY submission_id"
                ).fetchall()
            )
        assert all(counts.get(sid) == 1 for sid in sids), counts  # processed exactly once
        assert len(counts) == len(set(sids))
    finally:
        server.stop()
