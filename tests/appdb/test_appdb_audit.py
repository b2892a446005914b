"""The hash-chained audit log: appends chain up, and verify_chain names the entry where an
edit, deletion, insertion, reordering or truncation happened (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pipeline.appdb import audit
from pipeline.appdb.audit import Actor, ChainHead
from pipeline.appdb.db import AppDB

ALICE = Actor(7, "alice", "web")
BOB = Actor(None, "os:bob", "cli")


def _fill(db: AppDB, count: int = 6) -> ChainHead:
    with db.transaction() as session:
        for i in range(1, count + 1):
            audit.append(
                session,
                ALICE if i % 2 else BOB,
                "user.create" if i % 3 else "user.disable",
                "user",
                f"user{i}",
                {"n": i, "text": "中文 <b>", "nested": {"z": 1, "a": [1, 2]}},
            )
        return audit.chain_head(session)


def _unprotect(db: AppDB) -> None:
    """What an attacker with the owner's rights does first: remove the append-only triggers."""
    with db.transaction() as session:
        if db.dialect == "sqlite":
            session.execute(text("DROP TRIGGER audit_log_no_update"))
            session.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            session.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))


def _sql(db: AppDB, statement: str, **params: object) -> None:
    with db.transaction() as session:
        session.execute(text(statement), params)


def _verify(db: AppDB, expected: ChainHead | None = None) -> audit.ChainReport:
    with db.transaction() as session:
        return audit.verify_chain(session, expected)


def test_chain_links_and_verifies(db: AppDB) -> None:
    head = _fill(db)
    report = _verify(db, head)
    assert report.ok, report.problems
    assert report.entries == 6 and report.head == head and head.seq == 6
    with db.transaction() as session:
        rows = session.execute(
            text("SELECT seq, prev_hash, entry_hash, details FROM audit_log ORDER BY seq")
        ).all()
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.entry_hash
    assert rows[0].details == '{"n":1,"nested":{"a":[1,2],"z":1},"text":"中文 <b>"}'
    assert ChainHead.parse(str(head)) == head


def test_empty_log_verifies(db: AppDB) -> None:
    report = _verify(db)
    assert report.ok and report.entries == 0 and report.head.seq == 0


def test_database_refuses_update_and_delete(db: AppDB) -> None:
    _fill(db, 2)
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(db, "UPDATE audit_log SET actor_username = 'mallory' WHERE seq = 1")
    with pytest.raises(DBAPIError, match="append-only"):
        _sql(db, "DELETE FROM audit_log WHERE seq = 2")
    assert _verify(db).ok


def test_edit_is_detected_at_that_entry(db: AppDB) -> None:
    _fill(db)
    _unprotect(db)
    _sql(db, "UPDATE audit_log SET actor_username = 'mallory' WHERE seq = 3")
    report = _verify(db)
    assert not report.ok
    assert report.first_problem is not None
    assert (report.first_problem.seq, report.first_problem.kind) == (3, "altered")


def test_edit_of_details_is_detected(db: AppDB) -> None:
    _fill(db)
    _unprotect(db)
    _sql(db, "UPDATE audit_log SET details = :d WHERE seq = 5", d='{"n":99}')
    problem = _verify(db).first_problem
    assert problem is not None and (problem.seq, problem.kind) == (5, "altered")


def test_edit_with_recomputed_hash_breaks_the_next_link(db: AppDB) -> None:
    """A forger who recomputes the edited entry's own hash still breaks the link after it."""
    _fill(db)
    _unprotect(db)
    with db.transaction() as session:
        entry = session.get(audit.AuditEntry, 2)
        assert entry is not None
        entry.actor_username = "mallory"
        forged = audit.entry_hash(entry)
    _sql(
        db,
        "UPDATE audit_log SET actor_username = 'mallory', entry_hash = :h WHERE seq = 2",
        h=forged,
    )
    problem = _verify(db).first_problem
    assert problem is not None and (problem.seq, problem.kind) == (3, "broken_link")


def test_deletion_in_the_middle_is_detected(db: AppDB) -> None:
    _fill(db)
    _unprotect(db)
    _sql(db, "DELETE FROM audit_log WHERE seq = 4")
    report = _verify(db)
    kinds = {(p.seq, p.kind) for p in report.problems}
    assert (5, "missing") in kinds and (5, "broken_link") in kinds
    assert report.first_problem is not None and report.first_problem.seq == 5


def test_deleting_the_first_entry_is_detected(db: AppDB) -> None:
    _fill(db)
    _unprotect(db)
    _sql(db, "DELETE FROM audit_log WHERE seq = 1")
    problem = _verify(db).first_problem
    assert problem is not None and problem.seq == 2 and problem.kind == "missing"


def test_insertion_is_detected(db: AppDB) -> None:
    """An entry slipped in between 3 and 4 (the later ones renumbered to make room)."""
    _fill(db)
    _unprotect(db)
    for seq in (6, 5, 4):
        _sql(db, "UPDATE audit_log SET seq = :new WHERE seq = :old", new=seq + 1, old=seq)
    _sql(
        db,
        "INSERT INTO audit_log (seq, at, actor_user_id, actor_username, channel, action, "
        "object_type, object_id, details, prev_hash, entry_hash) SELECT 4, at, NULL, 'mallory', "
        "'cli', 'user.create', 'user', 'ghost', '{}', entry_hash, :h FROM audit_log WHERE seq = 3",
        h="f" * 64,
    )
    problem = _verify(db).first_problem
    assert problem is not None and problem.seq == 4 and problem.kind == "altered"


def test_reordering_is_detected(db: AppDB) -> None:
    _fill(db)
    _unprotect(db)
    _sql(db, "UPDATE audit_log SET seq = 100 WHERE seq = 2")
    _sql(db, "UPDATE audit_log SET seq = 2 WHERE seq = 3")
    _sql(db, "UPDATE audit_log SET seq = 3 WHERE seq = 100")
    problem = _verify(db).first_problem
    assert problem is not None and problem.seq == 2 and problem.kind == "altered"


def test_truncating_the_end_is_caught_by_a_recorded_head(db: AppDB) -> None:
    head = _fill(db)
    _unprotect(db)
    _sql(db, "DELETE FROM audit_log WHERE seq >= 5")
    assert _verify(db).ok  # a shorter chain is still a chain: hence the recorded head
    report = _verify(db, head)
    assert report.first_problem is not None
    assert (report.first_problem.seq, report.first_problem.kind) == (5, "missing")


def test_rewriting_the_tail_is_caught_by_a_recorded_head(db: AppDB) -> None:
    head = _fill(db)
    _unprotect(db)
    _sql(db, "DELETE FROM audit_log WHERE seq >= 4")
    with db.transaction() as session:  # a consistent but different history from entry 4 on
        for i in range(3):
            audit.append(session, Actor(None, "mallory", "cli"), "user.create", "user", f"x{i}")
    assert _verify(db).ok
    report = _verify(db, head)
    assert report.first_problem is not None
    assert (report.first_problem.seq, report.first_problem.kind) == (6, "head_mismatch")


def test_append_rolls_back_with_the_callers_transaction(db: AppDB) -> None:
    _fill(db, 2)
    with pytest.raises(RuntimeError), db.transaction() as session:
        audit.append(session, ALICE, "user.create", "user", "ghost")
        raise RuntimeError("the action failed")
    report = _verify(db)
    assert report.ok and report.entries == 2


def test_concurrent_appenders_never_fork_the_chain(db: AppDB) -> None:
    """Four threads, each appending in its own transactions: one contiguous, valid chain."""
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            for i in range(10):
                with db.transaction() as session:
                    audit.append(session, ALICE, "test.append", "thread", f"{n}-{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    report = _verify(db)
    assert report.ok, report.problems
    assert report.entries == 40 and report.head.seq == 40
