"""Issue 16, probe 9: what an analyst types (reason, note, conclusion) is scrubbed before the
triage tables and the audit log store it. On main before issue 16 the actor
"欧阳娜娜 13812345678" and the name 上官婉儿 in a reason were stored in clear. Since issue 18 the
actor is never free text (a Sentinel user); a free-text actor of the old warehouse tables is
kept only as a scrubbed legacy label when they are moved."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pytest
from sqlalchemy import select

from pipeline.appdb import records
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import NotPermitted
from pipeline.appdb.models import AuditEntry, FollowUp, FollowUpResult, TriageDecision
from pipeline.triage import legacy, store

T0 = datetime(2026, 3, 16, 2, 0, 0)
SIGNAL = {"signal_id": "S0123456789a", "week": "2026-W11", "case_keys": '["GZ001/C1"]'}
SECRETS = ("欧阳娜娜", "13812345678", "上官婉儿", "王秀英", "wxy_19880101")


def _dump(db) -> str:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        rows = [
            str(records.content(row))
            for model in (TriageDecision, FollowUp, FollowUpResult)
            for row in session.scalars(select(model))
        ]
        entries = [e.details + e.actor_username for e in session.scalars(select(AuditEntry))]
    return "\n".join(rows + entries)


def test_what_an_analyst_types_is_scrubbed_everywhere_it_is_stored(db, people) -> None:
    li, wang = people["li.analyst"], people["wang.supervisor"]
    with db.transaction() as session:
        store.record_decision(
            session, li, SIGNAL, "watch", "上官婉儿来电反映同型号电热水壶底座漏电", at=T0
        )
        fid = store.order_followups(session, li, SIGNAL, ["GZ001/C1"], "联系欧阳娜娜 13812345678")[
            0
        ].followup_id
        store.record_result(
            session,
            wang,
            fid,
            reached=True,
            conclusion="电话回访：其母王秀英确认型号，微信wxy_19880101",
            product_role="caused",
        )
    dump = _dump(db)
    for secret in SECRETS:
        assert secret not in dump, secret
    assert "同型号电热水壶底座漏电" in dump  # the reason itself is kept
    assert "[姓名]" in dump and "[电话]" in dump and "[社交账号]" in dump


def test_a_typed_actor_is_not_an_identity_and_legacy_actors_are_scrubbed(db, people) -> None:
    typed = Actor(None, "欧阳娜娜 13812345678", "cli")
    with db.transaction() as session, pytest.raises(NotPermitted):
        store.record_decision(session, typed, SIGNAL, "watch", "r")
    old = {
        "alert_triage": pd.DataFrame(
            [
                {
                    "event_id": "T0000000000000001",
                    "alert_id": "A1",
                    "week": "2026-W11",
                    "decision": "confirm",
                    "actor": "欧阳娜娜 13812345678",
                    "reason": "上官婉儿来电",
                    "recorded_at": pd.Timestamp(T0),
                }
            ]
        ),
        "audit_log": pd.DataFrame(
            [
                {
                    "event_id": "L0000000000000001",
                    "recorded_at": pd.Timestamp(T0),
                    "actor": "欧阳娜娜 13812345678",
                    "action": "triage.decision",
                    "object_type": "alert",
                    "object_id": "A1",
                    "details": '{"reason": "上官婉儿来电", "decision": "confirm"}',
                }
            ]
        ),
    }
    with db.transaction() as session:
        legacy.import_legacy(
            session, Actor(None, "os:operator", "cli"), old, lambda a, w: (SIGNAL["signal_id"], w)
        )
        moved = session.get(TriageDecision, "T0000000000000001")
    assert moved.legacy_actor == "[姓名] [电话]" and moved.reason == "[姓名]来电"
    dump = _dump(db)
    for secret in SECRETS:
        assert secret not in dump, secret
