"""The reference client of the submission API (``sentinel submit``): what a hospital's IT
would script. Standard library only (urllib), so it runs anywhere Python does.

The file is sent as the raw body with ``?filename=``; the ``Idempotency-Key`` is derived from
the file's name and SHA-256, so every retry of the same file is the same request and the server
answers with the first submission. Retries with exponential backoff on a lost connection, a
timeout, 429 (waiting at least Retry-After) and 5xx; any other 4xx is final.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from pipeline.errors import BadInput, NotFound, SentinelError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


class SubmitFailed(SentinelError):
    kind = "submit_failed"
    exit_code = 2


def read_token(path: Path) -> str:
    if not path.is_file():
        raise NotFound(f"no token file {path}", detail_zh=f"令牌文件 {path} 不存在")
    lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    if not lines:
        raise BadInput(f"token file {path} is empty", detail_zh=f"令牌文件 {path} 为空")
    return lines[-1]


def idempotency_key(name: str, data: bytes) -> str:
    return "sha256-" + hashlib.sha256(name.encode() + b"\0" + data).hexdigest()


def _request(
    method: str, url: str, token: str, data: bytes | None = None, headers: dict | None = None
) -> tuple[int, dict, dict]:
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Authorization", f"Bearer {token}")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # noqa: S310 (URL given by the user)
            return resp.status, dict(resp.headers), json.loads(resp.read() or b"{}")
    except urllib.error.HTTPError as err:
        body = err.read()
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = {"error": {"message": body[:200].decode("utf-8", "replace")}}
        return err.code, dict(err.headers), payload


def submit(
    path: Path,
    base_url: str,
    token: str,
    *,
    attempts: int = 6,
    backoff: float = 0.5,
    sleep=time.sleep,  # type: ignore[no-untyped-def]
) -> dict:
    """Send ``path``; returns the 202 body (submission id, status URL). Raises SubmitFailed
    with the server's message when the server refuses it or every attempt failed."""
    if not path.is_file():
        raise NotFound(f"no such file: {path}", detail_zh=f"文件不存在：{path}")
    data = path.read_bytes()
    url = (
        base_url.rstrip("/")
        + "/api/v1/submissions?"
        + urllib.parse.urlencode({"filename": path.name})
    )
    ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    headers = {"Content-Type": ctype, "Idempotency-Key": idempotency_key(path.name, data)}
    last = "no attempt"
    for attempt in range(max(1, attempts)):
        if attempt:
            sleep(min(30.0, backoff * 2 ** (attempt - 1)))
        try:
            status, resp_headers, body = _request("POST", url, token, data, headers)
        except (OSError, urllib.error.URLError) as exc:  # refused, reset, timed out
            last = f"connection failed: {exc}"
            continue
        if status == 202:
            return body
        message = (body.get("error") or {}).get("message", "") if isinstance(body, dict) else ""
        last = f"HTTP {status}: {message}"
        if status not in RETRY_STATUSES:
            raise SubmitFailed(f"{path.name}: {last}")
        if status == 429:
            retry_after = resp_headers.get("Retry-After") or resp_headers.get("retry-after")
            if retry_after and retry_after.isdigit():
                sleep(float(retry_after))
    raise SubmitFailed(f"{path.name}: gave up after {attempts} attempts ({last})")


def status(base_url: str, token: str, submission_id: str) -> tuple[int, dict]:
    url = f"{base_url.rstrip('/')}/api/v1/submissions/{urllib.parse.quote(submission_id)}"
    code, _, body = _request("GET", url, token)
    return code, body


def wait_for_receipt(
    base_url: str, token: str, submission_id: str, timeout: float = 120.0, every: float = 1.0
) -> dict:
    """Poll the status URL until the receipt is there (or the submission failed)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            code, body = status(base_url, token, submission_id)
        except OSError:
            code, body = 0, {}
        if code == 200 and (body.get("receipt") or body.get("status") == "failed"):
            return body
        if code not in (0, 200, 429, 500, 502, 503, 504):
            raise SubmitFailed(f"{submission_id}: HTTP {code}")
        if time.monotonic() > deadline:
            raise SubmitFailed(f"{submission_id}: no receipt after {timeout:.0f} s")
        time.sleep(every)
