"""The submission API with a signed-in clerk's session (the web upload page uses the same
endpoints as a hospital's system): the hospital is the clerk's binding, never the request's;
POST needs the session's CSRF token; other roles get 403 and a signed-out browser 401, as JSON;
a token, when sent, is what counts (a session does not rescue a wrong token)."""

from __future__ import annotations

from sqlalchemy import select
from web_helpers import WebEnv, page_token

from pipeline.appdb.audit import Actor
from pipeline.appdb.models import ApiSubmission, AuditEntry
from pipeline.services import api_tokens

CSV = (
    b"hospital_code,case_id,report_type,visit_datetime,sex,age,age_unit,narrative\r\n"
    b"GZ001,W1,new,2026-11-20 10:00,female,300,years,x\r\n"
)


def _post(client, path: str, token: str | None, name: str = "GZ001_20261120.csv", **extra):  # type: ignore[no-untyped-def]
    headers = {"x-csrf-token": token} if token else {}
    return client.post(path, files={"file": (name, CSV, "text/csv")}, headers={**headers, **extra})


def test_a_clerk_sends_and_checks_with_the_session(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")  # bound to GZ001
    token = page_token(clerk, "/hospitals/GZ001/upload")
    try:
        dry = _post(clerk, "/api/v1/validate", token)
        assert dry.status_code == 200, dry.text
        assert dry.json()["hospital_code"] == "GZ001" and dry.json()["language"] == "en"
        assert not (web.settings.landing_dir / "GZ001").exists()  # a dry run stores nothing
        # The form cannot choose the hospital: the clerk's binding is used.
        sent = clerk.post(
            "/api/v1/submissions",
            params={"hospital": "SH001", "hospital_code": "SH001"},
            files={"file": ("GZ001_20261120.csv", CSV, "text/csv")},
            data={"hospital_code": "SH001"},
            headers={"x-csrf-token": token},
        )
        assert sent.status_code == 202, sent.text
        sid = sent.json()["submission_id"]
        assert (web.settings.landing_dir / "GZ001" / "GZ001_20261120.csv").read_bytes() == CSV
        assert not (web.settings.landing_dir / "SH001").exists()
        with web.db.transaction() as session:
            row = session.get(ApiSubmission, sid)
            assert row is not None and row.hospital_code == "GZ001"
            assert row.token_id is None and row.user_id is not None
            entry = session.scalars(
                select(AuditEntry).where(AuditEntry.action == "api.submit")
            ).one()
            assert entry.actor_username == "u-clerk" and entry.channel == "web"
        # The status and the list answer the clerk's session too (GET: no CSRF token needed).
        status = clerk.get(f"/api/v1/submissions/{sid}")
        assert status.status_code == 200 and status.json()["hospital_code"] == "GZ001"
        listed = clerk.get("/api/v1/submissions").json()
        assert [s["submission_id"] for s in listed["submissions"]] == [sid]
    finally:
        web.app.state.api.worker.stop(60)


def test_session_calls_need_csrf_and_the_clerk_role(web: WebEnv) -> None:
    clerk = web.signed_in("u-clerk")
    page_token(clerk, "/hospitals/GZ001/upload")
    for path in ("/api/v1/submissions", "/api/v1/validate"):
        refused = _post(clerk, path, None)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "csrf", path
        forged = _post(clerk, path, "not-the-session-token")
        assert forged.status_code == 403 and forged.json()["error"]["code"] == "csrf", path
        cross = _post(clerk, path, page_token(clerk, "/"), **{"sec-fetch-site": "cross-site"})
        assert cross.status_code == 403, path
    assert not (web.settings.landing_dir / "GZ001").exists()
    coordinator = web.signed_in("u-coordinator")
    token = page_token(coordinator, "/network")
    denied = _post(coordinator, "/api/v1/submissions", token)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
    assert coordinator.get("/api/v1/submissions").status_code == 403
    anonymous = web.client()
    assert anonymous.get("/api/v1/submissions").status_code == 401
    # An Authorization header decides, session or not: a wrong token is 401 for the clerk too.
    wrong = clerk.get("/api/v1/submissions", headers={"authorization": "Bearer snt_" + "x" * 43})
    assert wrong.status_code == 401


def test_a_clerk_cannot_read_another_hospitals_submission(web: WebEnv) -> None:
    system = Actor(None, "os:test", "cli")
    sh_token = api_tokens.issue(web.db, web.settings, system, "SH001").token
    try:
        sent = web.client().post(
            "/api/v1/submissions",
            params={"filename": "SH001_20261120.csv"},
            content=CSV.replace(b"GZ001", b"SH001"),
            headers={"authorization": f"Bearer {sh_token}", "content-type": "text/csv"},
        )
        assert sent.status_code == 202, sent.text
        sid = sent.json()["submission_id"]
        clerk = web.signed_in("u-clerk")  # GZ001's
        assert clerk.get(f"/api/v1/submissions/{sid}").status_code == 404
        assert clerk.get("/api/v1/submissions").json()["submissions"] == []
    finally:
        web.app.state.api.worker.stop(60)
