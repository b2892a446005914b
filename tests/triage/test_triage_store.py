"""Triage and follow-up rules, and the append-only audit trail."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import pytest

from pipeline.triage import store
from pipeline.triage.store import TriageError

T0 = datetime(2026, 3, 16, 2, 0, 0)  # Monday 10:00 in China


def _snapshot(con) -> dict[str, set]:
    return {t: set(con.execute(f"SELECT * FROM {t}").fetchall()) for t in store.TRIAGE_TABLES}


def test_tables_are_empty_frames_before_anything_is_recorded(tiny_con) -> None:
    assert list(store.current_decisions(tiny_con).columns) == store.DECISION_COLUMNS
    assert store.current_decisions(tiny_con).empty
    assert list(store.followups(tiny_con).columns) == store.FOLLOWUP_VIEW_COLUMNS
    assert store.followups(tiny_con).empty


def test_a_decision_is_stored_with_who_when_why_and_audited(tiny_con) -> None:
    out = store.record_decision(tiny_con, "A1", "watch", "li.analyst", "rising, small n", at=T0)
    # Without --week the alert's latest unresolved week is used (W12 is 'resolved').
    assert out["week"] == "2026-W11"
    row = store.current_decisions(tiny_con).iloc[0]
    assert (row["alert_id"], row["decision"], row["actor"], row["reason"]) == (
        "A1",
        "watch",
        "li.analyst",
        "rising, small n",
    )
    assert row["recorded_at"] == T0
    audit = store.audit_trail(tiny_con, "A1")
    assert audit["action"].tolist() == ["triage.decision"]
    assert out["event_id"] in audit["details"].iloc[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"decision": "approve"}, "not one of"),
        ({"reason": "  "}, "reason is required"),
        ({"actor": ""}, "actor is required"),
        ({"alert_id": "A404"}, "not found"),
        ({"alert_id": "A2", "week": "2026-W10"}, "not found in week 2026-W10"),
        ({"decision": "confirm", "cases": ["GZ001/C1"]}, "only with the follow-up"),
        ({"decision": "follow-up"}, "needs the cases"),
        ({"decision": "follow-up", "cases": ["SH001/C9"]}, "not cases of alert A1"),
        ({"decision": "follow-up", "cases": ["GZ001-C1"]}, "not a case key"),
        ({"decision": "follow-up", "cases": ["GZ001/NOPE"], "force_case": True}, "no such stored"),
    ],
)
def test_invalid_requests_are_refused_and_write_nothing(tiny_con, kwargs, message) -> None:
    before = _snapshot(tiny_con)
    args = {"alert_id": "A1", "decision": "watch", "actor": "li", "reason": "r", **kwargs}
    with pytest.raises(TriageError, match=message):
        store.record_decision(
            tiny_con,
            args.pop("alert_id"),
            args.pop("decision"),
            args.pop("actor"),
            args.pop("reason"),
            **args,
        )
    assert _snapshot(tiny_con) == before


def test_follow_up_creates_one_followup_per_case_due_in_ten_working_days(tiny_con) -> None:
    out = store.record_decision(
        tiny_con,
        "A1",
        "follow-up",
        "li",
        "verify the kettle model",
        cases=["GZ001/C1, SH001/C3"],
        at=T0,
    )
    assert out["decision"] == "follow_up" and len(out["followup_ids"]) == 2
    table = store.followups(tiny_con, "A1", as_of=date(2026, 3, 16))
    assert sorted(table["case_id"]) == ["C1", "C3"]
    assert set(table["status"]) == {"open"}
    assert set(table["due_date"]) == {date(2026, 3, 30)}
    overdue = store.followups(tiny_con, "A1", as_of=date(2026, 3, 31))
    assert set(overdue["status"]) == {"overdue"}
    # The same case cannot be requested twice while its follow-up is pending.
    with pytest.raises(TriageError, match="already have an open follow-up"):
        store.record_decision(tiny_con, "A1", "follow-up", "li", "again", cases=["GZ001/C1"])
    # --force-case selects a stored case outside the alert.
    forced = store.record_decision(
        tiny_con, "A1", "follow-up", "li", "similar case", cases=["SH001/C9"], force_case=True
    )
    assert len(forced["followup_ids"]) == 1
    actions = store.audit_trail(tiny_con)["action"].tolist()
    assert actions.count("followup.request") == 3 and actions.count("triage.decision") == 2


def test_results_need_a_role_when_reached_and_a_known_followup(tiny_con) -> None:
    out = store.record_decision(
        tiny_con, "A1", "follow_up", "li", "check", cases=["GZ001/C2"], at=T0
    )
    fid = out["followup_ids"][0]
    with pytest.raises(TriageError, match="needs the product's role"):
        store.record_followup_result(
            tiny_con, fid, reached=True, actor="wang", conclusion="confirmed"
        )
    with pytest.raises(TriageError, match="not one of"):
        store.record_followup_result(
            tiny_con, fid, reached=True, actor="wang", conclusion="x", product_role="guilty"
        )
    with pytest.raises(TriageError, match="not found"):
        store.record_followup_result(
            tiny_con, "F404", reached=False, actor="wang", conclusion="no answer"
        )
    with pytest.raises(TriageError, match="conclusion is required"):
        store.record_followup_result(tiny_con, fid, reached=False, actor="wang", conclusion=" ")
    first = store.record_followup_result(
        tiny_con, fid, reached=False, actor="wang", conclusion="no answer twice"
    )
    assert store.followups(tiny_con).iloc[0]["product_role"] == "undetermined"
    second = store.record_followup_result(
        tiny_con,
        fid,
        reached=True,
        actor="wang",
        conclusion="lid latch fails",
        product_role="caused",
        brand="ACME",
        model="K-200",
        batch="2025-11",
    )
    row = store.followups(tiny_con, "A1").iloc[0]
    assert (row["result_id"], row["status"], row["product_role"], row["model_verified"]) == (
        second,
        "completed",
        "caused",
        "K-200",
    )
    assert bool(row["reached"]) is True
    history = store.followup_history(tiny_con, fid)
    assert history["result_id"].tolist() == [first, second]


def test_free_text_is_scrubbed_before_storage(tiny_con) -> None:
    phone, id_number = "13812345678", "110101199003071234"
    store.record_decision(
        tiny_con,
        "A1",
        "follow_up",
        "li",
        f"call mother on {phone}, ID {id_number}",
        cases=["GZ001/C1"],
        at=T0,
    )
    fid = store.followups(tiny_con).iloc[0]["followup_id"]
    store.record_followup_result(
        tiny_con,
        fid,
        reached=True,
        actor="wang",
        conclusion=f"患者张三，电话{phone}",
        product_role="caused",
        batch=f"batch {id_number}",
    )
    dump = "\n".join(
        str(row)
        for table in store.TRIAGE_TABLES
        for row in tiny_con.execute(f"SELECT * FROM {table}").fetchall()
    )
    assert phone not in dump and id_number not in dump and "张三" not in dump
    # Chinese placeholders in Chinese text, English ones in English text ("batch 1101...").
    assert "[电话]" in dump and "[PHONE]" in dump and "[ID]" in dump


def test_history_is_append_only_no_row_ever_changes(tiny_con) -> None:
    seen: list[dict[str, set]] = []
    store.record_decision(tiny_con, "A1", "watch", "li", "first look", at=T0)
    seen.append(_snapshot(tiny_con))
    out = store.record_decision(
        tiny_con, "A1", "follow-up", "li", "need details", cases=["GZ001/C1"], at=T0
    )  # same instant: still later
    seen.append(_snapshot(tiny_con))
    store.record_followup_result(
        tiny_con,
        out["followup_ids"][0],
        reached=True,
        actor="wang",
        conclusion="defective hinge",
        product_role="caused",
    )
    seen.append(_snapshot(tiny_con))
    store.record_decision(tiny_con, "A1", "confirm", "zhao", "verified by follow-up")
    seen.append(_snapshot(tiny_con))
    for older, newer in zip(seen, seen[1:], strict=False):
        for table in store.TRIAGE_TABLES:
            assert older[table] <= newer[table], f"a row of {table} changed or vanished"
    history = store.decision_history(tiny_con, "A1")
    assert history["decision"].tolist() == ["watch", "follow_up", "confirm"]
    assert history["recorded_at"].is_monotonic_increasing
    assert store.current_decisions(tiny_con).iloc[0]["decision"] == "confirm"
    assert len(store.audit_trail(tiny_con)) == sum(
        len(seen[-1][t]) for t in ("alert_triage", "followups", "followup_results")
    )


def test_ids_are_deterministic_from_content_and_time(tmp_path, tiny_con) -> None:
    a = store.record_decision(tiny_con, "A2", "dismiss", "li", "duplicate report", at=T0)
    assert re.fullmatch(r"T[0-9a-f]{16}", a["event_id"])
    again = store._sha("T", "A2", "2026-W11", "dismiss", "li", "duplicate report", T0.isoformat())
    assert a["event_id"] == again


def test_the_store_never_updates_or_deletes() -> None:
    source = Path(store.__file__).read_text(encoding="utf-8")
    # SQL in this module is upper case; none of it may rewrite or remove rows.
    assert not re.search(r"\b(UPDATE|DELETE|DROP|TRUNCATE|REPLACE|MERGE)\s", source)


def test_list_alerts_ranks_and_filters_by_decision(tiny_con) -> None:
    listed = store.list_alerts(tiny_con, week="2026-W11")
    assert listed["alert_id"].tolist() == ["A1", "A2"]
    store.record_decision(tiny_con, "A2", "confirm", "li", "clear cluster", at=T0)
    assert store.list_alerts(tiny_con, "2026-W11", decision="confirm")["alert_id"].tolist() == [
        "A2"
    ]
    assert store.list_alerts(tiny_con, "2026-W11", decision="none")["alert_id"].tolist() == ["A1"]
    assert store.list_alerts(tiny_con)["week"].unique().tolist() == ["2026-W12"]
