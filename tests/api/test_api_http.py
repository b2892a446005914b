"""The submission API through real HTTP: ``sentinel web`` in a subprocess on 127.0.0.1 (see
api_server.py), every endpoint, every error status, token scoping, revocation, expiry,
idempotent retries, duplicates, the dry run and the language of error bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from api_server import SAMPLE, Server, wait_receipt

from pipeline.services import intake

pytestmark = pytest.mark.slow

GZ_FILE = SAMPLE / "GZ001" / "GZ001_20260928.csv"
GZ_FILE2 = SAMPLE / "GZ001" / "GZ001_20260929.csv"
SH_FILE = SAMPLE / "SH001" / "SH001_20260928.csv"


@pytest.fixture(scope="module")
def client(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def auth(token: str, **extra: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}", **extra}


def send_raw(client: httpx.Client, token: str, name: str, data: bytes, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/v1/submissions",
        params={"filename": name},
        content=data,
        headers=auth(token, **{"content-type": "text/csv", **headers}),
    )


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_submit_process_and_receipt(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001")
    data = GZ_FILE.read_bytes()
    r = send_raw(client, token, GZ_FILE.name, data)
    assert r.status_code == 202, r.text
    body = r.json()
    sid = body["submission_id"]
    assert body["status_url"] == f"/api/v1/submissions/{sid}" == r.headers["location"]
    assert body["new"] is True and body["size_bytes"] == len(data)
    # The whole file is in place under its name, nothing else (no dot-file) is there.
    assert (server.landing / "GZ001" / GZ_FILE.name).read_bytes() == data
    assert server.partial_files() == []
    arrivals = intake.list_arrivals(server.settings, "GZ001")
    assert [(a.relpath, a.source) for a in arrivals] == [(f"GZ001/{GZ_FILE.name}", "api")]

    done = wait_receipt(client, sid, token)
    assert done["status"] == "processed", done
    steps = [h["status"] for h in done["history"]]
    assert steps[0] == "received" and "processing" in steps and steps[-1] == "processed"
    receipt = done["receipt"]
    assert receipt["submission_id"] == sid and receipt["hospital_code"] == "GZ001"
    assert receipt["file_name"] == f"GZ001/{GZ_FILE.name}" and receipt["arrival_source"] == "api"
    assert receipt["rows_received"] == len(data.decode("utf-8-sig").strip().splitlines()) - 1
    assert receipt["status"] in ("accepted", "partial")
    assert receipt["language"] in ("zh", "en") and receipt["status_text"]
    # The same receipt as the one ingest wrote to the outbox.
    outbox = json.loads(
        (server.settings.outbox_dir / "GZ001" / f"{sid}.json").read_text(encoding="utf-8")
    )
    assert outbox["status"] == receipt["status"] and outbox["errors"] == receipt["errors"]


def test_multipart_upload(server: Server, client: httpx.Client) -> None:
    token = server.token("SH001")
    r = client.post(
        "/api/v1/submissions",
        files={"file": (SH_FILE.name, SH_FILE.read_bytes(), "text/csv")},
        headers=auth(token),
    )
    assert r.status_code == 202, r.text
    assert (server.landing / "SH001" / SH_FILE.name).read_bytes() == SH_FILE.read_bytes()
    done = wait_receipt(client, r.json()["submission_id"], token)
    assert done["receipt"]["hospital_code"] == "SH001"


def test_idempotent_retry_and_duplicates(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001")
    data = GZ_FILE2.read_bytes()
    first = send_raw(client, token, GZ_FILE2.name, data, **{"idempotency-key": "k-1"})
    again = send_raw(client, token, GZ_FILE2.name, data, **{"idempotency-key": "k-1"})
    assert first.status_code == again.status_code == 202
    sid = first.json()["submission_id"]
    assert again.json()["submission_id"] == sid and again.json()["new"] is False
    # Without a key too: the same bytes under the same name are the same submission.
    assert send_raw(client, token, GZ_FILE2.name, data).json()["submission_id"] == sid
    # The key reused for other bytes: refused, nothing written.
    other = send_raw(
        client, token, "GZ001_20261231.csv", data + b"\n", **{"idempotency-key": "k-1"}
    )
    assert other.status_code == 409 and error_of(other)["code"] == "idempotency_conflict"
    assert not (server.landing / "GZ001" / "GZ001_20261231.csv").exists()
    # Other bytes under a name already used: refused (the first file is never replaced).
    clash = send_raw(client, token, GZ_FILE2.name, data + b"\n")
    assert clash.status_code == 409 and error_of(clash)["code"] == "name_taken"
    assert (server.landing / "GZ001" / GZ_FILE2.name).read_bytes() == data
    # The same bytes under another name: a new submission, reported as a duplicate of the first.
    copy = send_raw(client, token, "GZ001_20260929_resent.csv", data)
    assert copy.status_code == 202 and copy.json()["duplicate_of"] == sid
    first_done = wait_receipt(client, sid, token)
    copy_done = wait_receipt(client, copy.json()["submission_id"], token)
    assert first_done["receipt"]["status"] != "duplicate"
    assert copy_done["receipt"]["status"] == "duplicate"
    assert copy_done["receipt"]["duplicate_of"] == sid
    assert copy_done["receipt"]["rows_stored"] == 0
    listed = client.get("/api/v1/submissions", headers=auth(token)).json()["submissions"]
    ids = [s["submission_id"] for s in listed]
    assert ids.count(sid) == 1


def test_scoping_another_hospitals_submission_is_not_found(
    server: Server, client: httpx.Client
) -> None:
    gz, sh = server.token("GZ001"), server.token("SH001")
    data = (SAMPLE / "GZ001" / "GZ001_20260930.csv").read_bytes()
    sid = send_raw(client, gz, "GZ001_20260930.csv", data).json()["submission_id"]
    assert client.get(f"/api/v1/submissions/{sid}", headers=auth(gz)).status_code == 200
    foreign = client.get(f"/api/v1/submissions/{sid}", headers=auth(sh))
    missing = client.get("/api/v1/submissions/S0000000000dead", headers=auth(sh))
    assert foreign.status_code == missing.status_code == 404
    assert error_of(foreign) == error_of(missing)  # existence is not revealed
    listed = client.get("/api/v1/submissions", headers=auth(sh)).json()
    assert listed["hospital_code"] == "SH001"
    assert sid not in {s["submission_id"] for s in listed["submissions"]}
    # A file sent with SH001's token lands in SH001's folder, whatever its name says.
    r = send_raw(client, sh, "GZ001_20990101.csv", b"a,b\n1,2\n")
    assert r.status_code == 202
    assert (server.landing / "SH001" / "GZ001_20990101.csv").exists()
    assert not (server.landing / "GZ001" / "GZ001_20990101.csv").exists()


def test_list_since(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001")
    everything = client.get("/api/v1/submissions", headers=auth(token)).json()["submissions"]
    assert everything, "earlier tests sent GZ001 files"
    future = client.get(
        "/api/v1/submissions", params={"since": "2999-01-01T00:00:00Z"}, headers=auth(token)
    )
    assert future.status_code == 200 and future.json()["submissions"] == []
    past = client.get("/api/v1/submissions", params={"since": "2000-01-01"}, headers=auth(token))
    assert len(past.json()["submissions"]) == len(everything)
    bad = client.get("/api/v1/submissions", params={"since": "yesterday"}, headers=auth(token))
    assert bad.status_code == 400 and error_of(bad)["code"] == "bad_since"


def test_validate_is_the_dry_run_and_writes_nothing(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001")
    path = SAMPLE / "GZ001" / "GZ001_20261001.csv"
    before = sorted(p.name for p in (server.landing / "GZ001").iterdir())
    r = client.post(
        "/api/v1/validate",
        params={"filename": path.name},
        content=path.read_bytes(),
        headers=auth(token, **{"content-type": "text/csv"}),
    )
    assert r.status_code == 200, r.text
    predicted = r.json()
    assert sorted(p.name for p in (server.landing / "GZ001").iterdir()) == before
    expected = intake.dry_run(path, "GZ001", server.settings)
    for key in ("status", "rows_received", "rows_stored", "rows_quarantined", "errors"):
        assert predicted[key] == expected[key], key
    hostile = client.post(
        "/api/v1/validate",
        params={"filename": "GZ001_bad.csv"},
        content=b"not,the,columns\n1,2,3\n",
        headers=auth(token, **{"content-type": "text/csv"}),
    )
    assert hostile.status_code == 200 and hostile.json()["status"] == "rejected"


def test_error_statuses(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001", language="en")
    # 401: none, unknown, revoked, expired
    assert error_of(client.get("/api/v1/submissions"))["code"] == "unauthorized"
    unknown = client.get("/api/v1/submissions", headers=auth("snt_" + "A" * 43))
    assert unknown.status_code == 401 and unknown.headers["www-authenticate"].startswith("Bearer")
    revoked = server.token("GZ001")
    assert client.get("/api/v1/submissions", headers=auth(revoked)).status_code == 200
    server.revoke("GZ001", revoked)
    assert client.get("/api/v1/submissions", headers=auth(revoked)).status_code == 401
    expired = server.expired_token("GZ001")
    assert client.get("/api/v1/submissions", headers=auth(expired)).status_code == 401
    # 400: empty body, a path in the name, a dot-name, no name, no multipart file part
    for name, data, code in (
        ("GZ001_x.csv", b"", "empty"),
        ("../GZ001_x.csv", b"a\n", "bad_filename"),
        (".hidden.csv", b"a\n", "bad_filename"),
        ("", b"a\n", "no_filename"),
    ):
        r = send_raw(client, token, name, data)
        assert r.status_code == 400 and error_of(r)["code"] == code, (name, r.text)
    r = client.post("/api/v1/submissions", files={"other": ("a.csv", b"a\n")}, headers=auth(token))
    assert r.status_code == 400 and error_of(r)["code"] == "no_file"
    # 415: a content type or an extension that is not an extract
    r = client.post(
        "/api/v1/submissions",
        params={"filename": "a.csv"},
        content=b"{}",
        headers=auth(token, **{"content-type": "application/json"}),
    )
    assert r.status_code == 415 and error_of(r)["code"] == "unsupported_media_type"
    r = send_raw(client, token, "GZ001_x.exe", b"MZ")
    assert r.status_code == 415 and error_of(r)["code"] == "unsupported_type"
    # 413: over the limit (1 MiB on this server), with Content-Length and chunked
    big = b"x" * (2 * 1024 * 1024)
    r = send_raw(client, token, "GZ001_big.csv", big)
    assert r.status_code == 413 and error_of(r)["code"] == "too_large"

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"y" * 65536

    r = client.post(
        "/api/v1/submissions",
        params={"filename": "GZ001_big2.csv"},
        content=chunks(),
        headers=auth(token, **{"content-type": "text/csv"}),
    )
    assert r.status_code == 413 and error_of(r)["code"] == "too_large"
    assert server.partial_files() == [] and not list(server.landing.rglob("GZ001_big*"))
    # 404: unknown submission and unknown API path, as JSON
    assert error_of(client.get("/api/v1/submissions/nope", headers=auth(token)))["code"] == (
        "not_found"
    )
    assert client.get("/api/v1/nothing", headers=auth(token)).status_code == 404
    assert "error" in client.get("/api/v1/nothing", headers=auth(token)).json()


def test_language_of_error_bodies(server: Server, client: httpx.Client) -> None:
    zh_token, en_token = server.token("GZ001"), server.token("GZ001", language="en")
    zh = error_of(send_raw(client, zh_token, "GZ001_x.exe", b"MZ"))
    en = error_of(send_raw(client, en_token, "GZ001_x.exe", b"MZ"))
    assert zh["lang"] == "zh" and "不支持" in zh["message"]
    assert en["lang"] == "en" and en["message"].startswith("Unsupported file type")
    # Accept-Language wins over the token's language; without a token it is all there is.
    asked = error_of(send_raw(client, zh_token, "GZ001_x.exe", b"MZ", **{"accept-language": "en"}))
    assert asked["lang"] == "en"
    anonymous = error_of(client.get("/api/v1/submissions", headers={"accept-language": "zh-CN"}))
    assert anonymous["lang"] == "zh" and "令牌" in anonymous["message"]


def test_rate_limit(server: Server, client: httpx.Client) -> None:
    token = server.token("GZ001")  # this server: 40 requests per token per minute
    statuses = [
        client.get("/api/v1/submissions", headers=auth(token)).status_code for _ in range(41)
    ]
    assert statuses[:40] == [200] * 40 and statuses[40] == 429
    r = client.get("/api/v1/submissions", headers=auth(token))
    assert r.status_code == 429 and error_of(r)["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60
    # Another token of the same hospital is not affected.
    assert client.get("/api/v1/submissions", headers=auth(server.token("GZ001"))).status_code == 200


def test_openapi_and_docs(client: httpx.Client) -> None:
    schema = client.get("/api/openapi.json").json()
    assert set(schema["paths"]) == {
        "/api/v1/submissions",
        "/api/v1/submissions/{submission_id}",
        "/api/v1/validate",
    }
    assert set(schema["paths"]["/api/v1/submissions"]) == {"get", "post"}
    page = client.get("/api/docs")
    assert page.status_code == 200 and "/api/v1/validate" in page.text
    assert "<script" not in page.text  # nothing from a CDN, nothing inline


def test_no_cookie_no_csrf_needed_and_audited(server: Server, client: httpx.Client) -> None:
    """A bearer-token POST needs no CSRF token and sets no cookie; every upload is audited."""
    token = server.token("GZ001")
    r = send_raw(client, token, "GZ001_20990102.csv", b"a,b\n1,2\n")
    assert r.status_code == 202 and "set-cookie" not in r.headers
    from pipeline.appdb.audit import verify_chain
    from pipeline.appdb.db import AppDB

    db = AppDB.from_settings(server.settings)
    try:
        with db.transaction() as session:
            report = verify_chain(session)
    finally:
        db.dispose()
    assert report.ok
    with AppDB.from_settings(server.settings) as db, db.transaction() as session:
        from sqlalchemy import select

        from pipeline.appdb.models import AuditEntry

        actions = [e.action for e in session.scalars(select(AuditEntry))]
    assert "api_token.issue" in actions and "api_token.revoke" in actions
    assert "api.submit" in actions
