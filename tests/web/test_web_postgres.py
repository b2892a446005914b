"""The web app on PostgreSQL: sign in, manage a user, sign out, and an intact audit chain."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from appdb_urls import pg_schema_url
from sqlalchemy import select
from web_helpers import GOOD, WebEnv, login, page_token, populate

from pipeline.appdb import audit, schema
from pipeline.appdb.db import AppDB
from pipeline.appdb.models import AuditEntry
from pipeline.config import Settings


@pytest.fixture
def pg_web(tmp_path: Path) -> Iterator[WebEnv]:
    for url in pg_schema_url():
        settings = Settings(home=tmp_path, landing_dir=tmp_path / "landing", app_db_url=url)
        schema.upgrade(url)
        seed = AppDB(url)
        populate(seed, settings)
        seed.dispose()
        env = WebEnv.start(settings, dt.datetime(2026, 12, 1, 9, 0))
        try:
            yield env
        finally:
            env.close()


def test_sign_in_manage_sign_out_on_postgresql(pg_web: WebEnv) -> None:
    admin = pg_web.signed_in("u-admin")
    token = page_token(admin, "/admin/users")
    assert admin.post("/admin/users/target-user/disable", data={"csrf_token": token}).status_code
    assert "disabled" in admin.get("/admin/users/target-user").text
    assert login(pg_web.client(), "target-user", GOOD).status_code == 200  # refused
    for _ in range(pg_web.settings.web.login_max_failures):
        login(pg_web.client(), "u-coder", "wrong-password-1")
    assert login(pg_web.client(), "u-coder", GOOD).status_code == 200  # locked
    assert admin.post("/logout", data={"csrf_token": token}).status_code == 303
    assert admin.get("/").status_code == 303
    with pg_web.db.transaction() as session:
        report = audit.verify_chain(session)
        actions = list(session.scalars(select(AuditEntry.action)))
    assert report.ok and {"auth.sign_in", "user.disable", "auth.lockout", "auth.sign_out"} <= set(
        actions
    )


@pytest.mark.slow
def test_triage_forms_on_postgresql(tmp_path: Path) -> None:
    """A decision and a follow-up order through the signal page's forms, recorded in a
    PostgreSQL application database with their audit entries (chain intact)."""
    from tiny_warehouse import SIGNAL_ID, WEEK, build_tiny_warehouse, record_triage
    from web_helpers import settings_for

    from pipeline.appdb.models import FollowUp, TriageDecision

    home = tmp_path / "home"
    build_tiny_warehouse(home)
    for url in pg_schema_url():
        settings = settings_for(home).with_overrides(app_db_url=url)
        schema.upgrade(url)
        seed = AppDB(url)
        populate(seed, settings)
        record_triage(seed, settings)
        seed.dispose()
        env = WebEnv.start(settings, dt.datetime(2026, 12, 1, 9, 0))
        try:
            analyst = env.signed_in("u-analyst")
            token = page_token(analyst, f"/signals/{SIGNAL_ID}")
            decided = analyst.post(
                f"/signals/{SIGNAL_ID}/decision",
                data={
                    "decision": "watch",
                    "reason": "pg",
                    "expected": "confirm",
                    "week": WEEK,
                    "csrf_token": token,
                },
            )
            ordered = analyst.post(
                f"/signals/{SIGNAL_ID}/followups",
                data={"cases": ["SH001/C0004"], "note": "pg", "week": WEEK, "csrf_token": token},
            )
            assert decided.status_code == 303 and ordered.status_code == 303
            with env.db.transaction() as session:
                assert audit.verify_chain(session).ok
                decisions = session.scalars(select(TriageDecision.decision)).all()
                follow = session.scalars(select(FollowUp.case_id)).all()
                actions = list(session.scalars(select(AuditEntry.action)))
            assert sorted(decisions) == ["confirm", "watch"]
            assert sorted(follow) == ["C0000", "C0004"]
            assert actions.count("triage.decision") == 2 and actions.count("followup.order") == 2
        finally:
            env.close()
