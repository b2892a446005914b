"""Triage of signals in the application database (SQLite and PostgreSQL): two facets, checked
transitions, roles, scrubbing, and an audit trail that plain SQL cannot rewrite unnoticed."""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from pipeline.appdb import audit, records
from pipeline.appdb.audit import Actor
from pipeline.appdb.errors import NotPermitted
from pipeline.appdb.models import AuditEntry, FollowUp, FollowUpResult, TriageDecision
from pipeline.triage import store
from pipeline.triage.store import TriageError, TriageNotFound

T0 = datetime(2026, 3, 16, 2, 0, 0)  # Monday 10:00 in China
SIGNAL = {
    "signal_id": "S0123456789a",
    "week": "2026-W11",
    "case_keys": json.dumps(["GZ001/C1", "GZ001/C2", "SH001/C3"]),
}


def _rows(db) -> dict[str, set]:  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return {
            model.__tablename__: {r.id for r in session.scalars(select(model))}
            for model in (TriageDecision, FollowUp, FollowUpResult, AuditEntry)
            if model is not AuditEntry
        } | {"audit_log": {e.seq for e in session.scalars(select(AuditEntry))}}


def _verify(db):  # type: ignore[no-untyped-def]
    with db.transaction() as session:
        return audit.verify_chain(session).problems + records.verify_rows(session)


def test_nothing_recorded_gives_empty_frames_with_their_columns(db, people) -> None:
    with db.transaction() as session:
        assert list(store.current_decisions(session).columns) == store.DECISION_COLUMNS
        assert store.current_decisions(session).empty
        assert list(store.followups(session).columns) == store.FOLLOWUP_VIEW_COLUMNS
        state = store.load_state(session)
    assert state.decision(SIGNAL["signal_id"]) is None
    assert state.investigation(SIGNAL["signal_id"])["state"] == "none"


def test_a_decision_is_stored_with_who_when_why_and_audited(db, people) -> None:
    li = people["li.analyst"]
    with db.transaction() as session:
        out = store.record_decision(session, li, SIGNAL, "watch", "rising, small n", at=T0)
    assert (out.decision, out.previous, out.actor, out.week) == (
        "watch",
        None,
        "li.analyst",
        "2026-W11",
    )
    with db.transaction() as session:
        row = store.current_decisions(session).iloc[0]
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        stored = session.get(TriageDecision, out.decision_id)
    assert (row["signal_id"], row["decision"], row["actor"], row["channel"]) == (
        SIGNAL["signal_id"],
        "watch",
        "li.analyst",
        "cli",
    )
    assert row["reason"] == "rising, small n" and row["recorded_at"] == T0
    assert stored.actor_user_id == li.user_id and stored.legacy_actor is None
    details = json.loads(entry.details)
    assert (entry.action, entry.object_id, entry.actor_user_id) == (
        "triage.decision",
        SIGNAL["signal_id"],
        li.user_id,
    )
    assert details["row"] == {
        "table": "triage_decisions",
        "id": out.decision_id,
        "hash": stored.row_hash,
    }
    assert stored.audit_seq == entry.seq
    assert _verify(db) == []


def test_ordering_a_followup_never_undoes_a_confirmation(db, people) -> None:
    """Issue 15: `alerts triage --decision follow-up` after `confirm` replaced the
    confirmation, and `notice render` then refused the confirmed alert."""
    li = people["li.analyst"]
    with db.transaction() as session:
        store.record_decision(session, li, SIGNAL, "confirm", "clear cluster", at=T0)
        store.order_followups(session, li, SIGNAL, ["GZ001/C1"], "verify the model", at=T0)
        store.order_followups(session, li, SIGNAL, ["SH001/C3"], "and this one")
    with db.transaction() as session:
        state = store.load_state(session, as_of=date(2026, 3, 16))
    assert state.decision(SIGNAL["signal_id"])["decision"] == "confirm"
    assert state.investigation(SIGNAL["signal_id"]) == {
        "state": "ordered",
        "ordered": 2,
        "completed": 0,
        "overdue": 0,
    }
    # The follow-up is not a decision at all: it cannot be recorded as one.
    with db.transaction() as session, pytest.raises(TriageError, match="followup order"):
        store.record_decision(session, li, SIGNAL, "follow-up", "need details")


def test_decision_transitions_are_explicit_and_checked(db, people) -> None:
    li, wang = people["li.analyst"], people["wang.supervisor"]
    with db.transaction() as session:
        store.record_decision(session, li, SIGNAL, "watch", "small n", at=T0)
    with db.transaction() as session, pytest.raises(TriageError, match="already on the watch"):
        store.record_decision(session, li, SIGNAL, "watch", "still small")
    # A caller states what it saw; a decision recorded meanwhile makes it look again.
    with db.transaction() as session, pytest.raises(TriageError, match="someone decided"):
        store.record_decision(session, wang, SIGNAL, "confirm", "seen", expected=None)
    with db.transaction() as session:
        out = store.record_decision(session, wang, SIGNAL, "confirm", "seen", expected="watch")
        assert out.previous == "watch"
        store.record_decision(session, li, SIGNAL, "dismiss", "duplicates of one family")
    # A dismissed signal is not investigated.
    with db.transaction() as session, pytest.raises(TriageError, match="dismissed"):
        store.order_followups(session, li, SIGNAL, ["GZ001/C1"], "call")
    with db.transaction() as session:
        history = store.decision_history(session, SIGNAL["signal_id"])
    assert history["decision"].tolist() == ["watch", "confirm", "dismiss"]
    assert history["previous"].tolist()[1:] == ["watch", "confirm"]
    assert history["recorded_at"].is_monotonic_increasing


@pytest.mark.parametrize(
    ("who", "call", "error", "message"),
    [
        ("li.analyst", {"decision": "approve"}, TriageError, "not one of"),
        ("li.analyst", {"reason": "  "}, TriageError, "reason is required"),
        ("li.analyst", {"reason": "x" * 2001}, TriageError, "longer than"),
        ("chen.coder", {}, NotPermitted, "may not"),
        ("os", {}, NotPermitted, "not a Sentinel user"),
        ("li.analyst", {"cases": []}, TriageError, "needs the cases"),
        ("li.analyst", {"cases": ["SH001/C9"]}, TriageError, "not cases of signal"),
        ("li.analyst", {"cases": ["GZ001-C1"]}, TriageError, "not a case key"),
        ("li.analyst", {"cases": ["GZ001/NOPE"], "force_case": True}, TriageNotFound, "no such"),
        ("li.analyst", {"cases": ["GZ001/C1"], "note": ""}, TriageError, "note is required"),
    ],
)
def test_invalid_requests_are_refused_and_write_nothing(db, people, who, call, error, message):
    actor = people.get(who) or Actor(None, "os:root", "cli")
    before = _rows(db)
    with db.transaction() as session, pytest.raises(error, match=message):
        if "cases" in call:
            store.order_followups(
                session,
                actor,
                SIGNAL,
                call["cases"],
                call.get("note", "call"),
                stored={"SH001/C9"},
                force_case=call.get("force_case", False),
            )
        else:
            store.record_decision(
                session, actor, SIGNAL, call.get("decision", "watch"), call.get("reason", "r")
            )
    assert _rows(db) == before


def test_a_disabled_user_may_not_triage(db, people) -> None:
    from pipeline.appdb import accounts

    system = Actor(None, "os:test", "cli")
    with db.transaction() as session:
        accounts.set_disabled(session, system, "li.analyst", True)
    with db.transaction() as session, pytest.raises(NotPermitted):
        store.record_decision(session, people["li.analyst"], SIGNAL, "watch", "r")


def test_followups_are_due_in_ten_working_days_and_not_ordered_twice(db, people) -> None:
    li = people["li.analyst"]
    with db.transaction() as session:
        out = store.order_followups(
            session, li, SIGNAL, ["GZ001/C1, SH001/C3"], "verify the kettle model", at=T0
        )
    assert [f.case_id for f in out] == ["C1", "C3"]
    with db.transaction() as session:
        table = store.followups(session, SIGNAL["signal_id"], as_of=date(2026, 3, 16))
        overdue = store.followups(session, SIGNAL["signal_id"], as_of=date(2026, 3, 31))
    assert set(table["status"]) == {"open"} and set(table["due_date"]) == {date(2026, 3, 30)}
    assert set(overdue["status"]) == {"overdue"}
    with db.transaction() as session, pytest.raises(TriageError, match="already have an open"):
        store.order_followups(session, li, SIGNAL, ["GZ001/C1"], "again")
    with db.transaction() as session:  # a stored case outside the signal, when forced
        forced = store.order_followups(
            session, li, SIGNAL, ["SH001/C9"], "similar", stored={"SH001/C9"}, force_case=True
        )
    assert len(forced) == 1 and _verify(db) == []


def test_results_need_a_role_when_reached_and_the_latest_result_counts(db, people) -> None:
    li, wang = people["li.analyst"], people["wang.supervisor"]
    with db.transaction() as session:
        fid = store.order_followups(session, li, SIGNAL, ["GZ001/C2"], "check", at=T0)[0]
    fid = fid.followup_id
    for kwargs, message in (
        ({"reached": True}, "needs the product's role"),
        ({"reached": True, "product_role": "guilty"}, "not one of"),
        ({"reached": False, "conclusion": " "}, "conclusion is required"),
    ):
        with db.transaction() as session, pytest.raises(TriageError, match=message):
            store.record_result(session, wang, fid, **{"conclusion": "c", **kwargs})
    with db.transaction() as session, pytest.raises(TriageNotFound):
        store.record_result(session, wang, "F404", reached=False, conclusion="none")
    with db.transaction() as session:
        first = store.record_result(session, wang, fid, reached=False, conclusion="no answer")
        assert store.followups(session).iloc[0]["product_role"] == "undetermined"
        second = store.record_result(
            session,
            wang,
            fid,
            reached=True,
            conclusion="lid latch fails",
            product_role="caused",
            brand="ACME",
            model="K-200",
            batch="2025-11",
        )
        row = store.followups(session, SIGNAL["signal_id"]).iloc[0]
        history = store.followup_history(session, fid)
        state = store.load_state(session)
    assert (row["result_id"], row["status"], row["product_role"], row["model_verified"]) == (
        second.result_id,
        "completed",
        "caused",
        "K-200",
    )
    assert history["result_id"].tolist() == [first.result_id, second.result_id]
    assert state.investigation(SIGNAL["signal_id"])["state"] == "complete"
    # The signal's audit head names its latest record (evidence-pack provenance).
    seq, _, digest = state.audit_heads[SIGNAL["signal_id"]].partition(":")
    with db.transaction() as session:
        assert session.get(AuditEntry, int(seq)).entry_hash == digest


def test_free_text_is_scrubbed_before_storage(db, people) -> None:
    phone, id_number = "13812345678", "110101199003071234"
    li, wang = people["li.analyst"], people["wang.supervisor"]
    with db.transaction() as session:
        store.record_decision(session, li, SIGNAL, "watch", f"mother {phone}", at=T0)
        fid = store.order_followups(
            session, li, SIGNAL, ["GZ001/C1"], f"call mother on {phone}, ID {id_number}"
        )[0].followup_id
        store.record_result(
            session,
            wang,
            fid,
            reached=True,
            conclusion=f"患者张三，电话{phone}",
            product_role="caused",
            batch=f"batch {id_number}",
        )
    with db.transaction() as session:
        dump = "\n".join(
            str(records.content(row))
            for model in (TriageDecision, FollowUp, FollowUpResult)
            for row in session.scalars(select(model))
        ) + "\n".join(e.details for e in session.scalars(select(AuditEntry)))
    assert phone not in dump and id_number not in dump and "张三" not in dump
    # Chinese placeholders in Chinese text, English ones in English text ("batch 1101...").
    assert "[电话]" in dump and "[PHONE]" in dump and "[ID]" in dump


def _drop_protection(db) -> None:  # type: ignore[no-untyped-def]
    """What someone with the owner's rights does first: remove the append-only triggers."""
    with db.transaction() as session:
        if db.dialect == "sqlite":
            names = session.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
            ).scalars()
            for name in list(names):
                session.execute(text(f"DROP TRIGGER {name}"))
        else:
            for table in ("triage_decisions", "followups", "followup_results", "audit_log"):
                session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))


def test_plain_sql_cannot_rewrite_triage_unnoticed(db, people) -> None:
    """Issue 16 probe 10: an UPDATE or DELETE of triage or audit rows in plain SQL went
    unnoticed (and `alerts show` printed the edited actor)."""
    li = people["li.analyst"]
    with db.transaction() as session:
        decided = store.record_decision(session, li, SIGNAL, "confirm", "clear", at=T0)
        fid = store.order_followups(session, li, SIGNAL, ["GZ001/C1"], "call")[0].followup_id
    # Refused by the database itself.
    for statement in (
        "UPDATE triage_decisions SET actor_username = 'attacker'",
        "DELETE FROM followups",
        "UPDATE audit_log SET actor_username = 'attacker'",
    ):
        with pytest.raises(Exception, match="append-only"), db.transaction() as session:
            session.execute(text(statement))
    assert _verify(db) == []
    # With the triggers gone, every kind of change is still found.
    _drop_protection(db)
    with db.transaction() as session:
        session.execute(
            text("UPDATE triage_decisions SET actor_username = 'attacker' WHERE id = :i"),
            {"i": decided.decision_id},
        )
    kinds = {p.kind for p in _verify(db)}
    assert "row_altered" in kinds
    with db.transaction() as session:
        session.execute(text("DELETE FROM followups WHERE id = :i"), {"i": fid})
    assert "row_missing" in {p.kind for p in _verify(db)}
    with db.transaction() as session:
        session.execute(
            text(
                "INSERT INTO triage_decisions (id, signal_id, week, decision, reason, "
                "actor_user_id, actor_username, channel, recorded_at, audit_seq, row_hash) "
                "VALUES ('Tforged', :s, '2026-W11', 'dismiss', 'x', NULL, 'x', 'cli', "
                ":t, 1, 'x')"
            ),
            {"s": SIGNAL["signal_id"], "t": T0},
        )
    assert "unaudited_row" in {p.kind for p in _verify(db)}


def test_the_store_never_updates_or_deletes() -> None:
    from pipeline.notices import workflow

    for module in (store, records, workflow):
        source = Path(module.__file__).read_text(encoding="utf-8")
        assert not re.search(r"\b(UPDATE|DELETE|DROP|TRUNCATE|REPLACE|MERGE)\s", source)
        assert not re.search(r"\.(delete|update)\(", source)
