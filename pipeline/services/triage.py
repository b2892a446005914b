"""Triage service: decisions on signals and their follow-up investigations.

Signals (and their cases) are read from the published snapshot; decisions, follow-ups and
results are written to the application database, each with its audit entry in the same
transaction, by an ``Actor`` (the signed-in user in the web app; ``--as USER`` at the command
line, recorded with channel ``cli``). The warehouse is never written here, so triage never
waits for a pipeline run.

Functions the CLI and the web app call (each opens what it needs and closes it):

* ``acting_user(settings, username, channel="cli")`` -> Actor (an enabled Sentinel user)
* ``decide(settings, actor, signal_id, decision, reason, week=None, expected=UNSET, db=None)``
* ``order_followups(settings, actor, signal_id, cases, note, week=None, force_case=False,
  db=None)``
* ``record_result(settings, actor, followup_id, reached=..., conclusion=..., product_role=...,
  brand=..., model=..., batch=..., signal_id=None, db=None)``
* ``followups(settings, signal_id=None, only_open=False, overdue=False, as_of=None)``
* ``state(settings, as_of=None)`` -> TriageState (what reports and packs read)
* ``alerts(settings, week=None, status=None, signal_id=None)`` / ``alert_details(...)``: the
  detectors' alerts, each under its signal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import duckdb
import pandas as pd

from pipeline.alerts import signal_store
from pipeline.alerts.weekly import build_signals
from pipeline.appdb.audit import Actor
from pipeline.appdb.db import AppDB
from pipeline.appdb.errors import NotPermitted
from pipeline.config import Settings
from pipeline.errors import BadInput, NotFound
from pipeline.reporting.context import alert_cases
from pipeline.services import accounts
from pipeline.storage.schema import Migration, MoveOut
from pipeline.storage.session import reader
from pipeline.triage import legacy, store
from pipeline.triage.store import UNSET, TriageState

ALERT_STATUSES = ("new", "ongoing", "resolved")


def _db(settings: Settings) -> AppDB:
    return accounts.open_appdb(settings)


def acting_user(settings: Settings, username: str | None, channel: str = "cli") -> Actor:
    """The Sentinel user a command acts as (``--as`` / ``SENTINEL_USER``): it must exist and be
    enabled; triage is never recorded under a free-text name or an operating-system login."""
    if not username:
        raise NotPermitted(
            username="(nobody)",
            role="none: name the Sentinel user you act as with --as USER or SENTINEL_USER",
        )
    db = _db(settings)
    try:
        return accounts.cli_actor(db, username, channel)
    finally:
        db.dispose()


def _signal(settings: Settings, signal_id: str, week: str | None) -> dict:
    with reader(settings) as con:
        return signal_store.load_signal(con, signal_id, week)


def decide(
    settings: Settings,
    actor: Actor,
    signal_id: str,
    decision: str,
    reason: str,
    *,
    week: str | None = None,
    expected: object = UNSET,
    db: AppDB | None = None,
) -> store.DecisionView:
    """Record a decision (confirm / dismiss / watch) on a signal; see
    :func:`pipeline.triage.store.record_decision` for the rules. ``db``: an open application
    database (the web app's), else one is opened for this call."""
    signal = _signal(settings, signal_id, week)
    return _in_transaction(
        settings,
        db,
        lambda session: store.record_decision(
            session, actor, signal, decision, reason, expected=expected
        ),
    )


def _in_transaction(settings: Settings, db: AppDB | None, step):  # type: ignore[no-untyped-def]
    if db is not None:
        with db.transaction() as session:
            return step(session)
    own = _db(settings)
    try:
        with own.transaction() as session:
            return step(session)
    finally:
        own.dispose()


def order_followups(
    settings: Settings,
    actor: Actor,
    signal_id: str,
    cases: Sequence[str],
    note: str,
    *,
    week: str | None = None,
    force_case: bool = False,
    db: AppDB | None = None,
) -> list[store.FollowUpView]:
    """Select cases of a signal for follow-up (due 10 working days later); the decision
    facet is left as it is."""
    keys = store.parse_case_keys(cases)
    with reader(settings) as con:
        signal = signal_store.load_signal(con, signal_id, week)
        stored = _stored_cases(con, keys) if force_case else set()
    return _in_transaction(
        settings,
        db,
        lambda session: store.order_followups(
            session, actor, signal, keys, note, stored=stored, force_case=force_case
        ),
    )


def _stored_cases(con: duckdb.DuckDBPyConnection, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return {
        f"{h}/{c}"
        for h, c in con.execute(
            "SELECT hospital_code, case_id FROM cases WHERE status = 'active' AND "
            "hospital_code || '/' || case_id IN (SELECT unnest(?::VARCHAR[]))",
            [keys],
        ).fetchall()
    }


def record_result(
    settings: Settings,
    actor: Actor,
    followup_id: str,
    *,
    reached: bool,
    conclusion: str,
    product_role: str | None = None,
    brand: str | None = None,
    model: str | None = None,
    batch: str | None = None,
    signal_id: str | None = None,
    db: AppDB | None = None,
) -> store.ResultView:
    """Record what a follow-up found (a later record supersedes, history is kept).
    ``signal_id``: refuse (not found) a follow-up of another signal; ``db``: an open
    application database (the web app's), else one is opened for this call."""
    return _in_transaction(
        settings,
        db,
        lambda session: store.record_result(
            session,
            actor,
            followup_id,
            reached=reached,
            conclusion=conclusion,
            product_role=product_role,
            brand=brand,
            model=model,
            batch=batch,
            signal_id=signal_id,
        ),
    )


def followups(
    settings: Settings,
    signal_id: str | None = None,
    only_open: bool = False,
    overdue: bool = False,
    as_of: date | None = None,
) -> pd.DataFrame:
    """Follow-ups with their latest result and status (open, overdue, completed)."""
    db = _db(settings)
    try:
        with db.transaction() as session:
            frame = store.followups(session, signal_id, as_of=as_of)
    finally:
        db.dispose()
    if overdue:
        return frame[frame["status"] == "overdue"].reset_index(drop=True)
    if only_open:
        return frame[frame["status"] != "completed"].reset_index(drop=True)
    return frame


def followup_history(settings: Settings, followup_id: str) -> pd.DataFrame:
    db = _db(settings)
    try:
        with db.transaction() as session:
            return store.followup_history(session, followup_id)
    finally:
        db.dispose()


def state(settings: Settings, as_of: date | None = None, db: AppDB | None = None) -> TriageState:
    """Every decision and follow-up (with status as of ``as_of``), for reports and packs.
    ``db``: an open application database (the web app's) to read from; without it one is
    opened (and upgraded) for this call. Alembic's upgrade is not thread-safe, so a
    multi-threaded caller passes its own."""
    if db is not None:
        with db.reading() as session:
            return store.load_state(session, as_of=as_of)
    db = _db(settings)
    try:
        with db.transaction() as session:
            return store.load_state(session, as_of=as_of)
    finally:
        db.dispose()


# ---- alerts under their signals ------------------------------------------------------------


def alerts(
    settings: Settings,
    week: str | None = None,
    status: str | None = None,
    signal_id: str | None = None,
) -> pd.DataFrame:
    """A week's alerts in the detectors' rank order, each with its signal and the signal's
    current decision (resolved alerts last, without a signal)."""
    if status and status not in ALERT_STATUSES:
        raise BadInput(f"--status {status!r} is not one of {', '.join(ALERT_STATUSES)}")
    with reader(settings) as con:
        week = week or con.execute("SELECT max(week) FROM alerts").fetchone()[0]
        if week is None:
            return pd.DataFrame()
        frame = con.execute(
            "SELECT * FROM alerts WHERE week = ? ORDER BY rank NULLS LAST, alert_id", [week]
        ).df()
        owner = signal_store.signal_of_alerts(con, week)
    frame["signal_id"] = frame["alert_id"].map(owner)
    current = state(settings).decisions
    decided = dict(zip(current["signal_id"], current["decision"], strict=True))
    frame["decision"] = frame["signal_id"].map(decided)
    if status:
        frame = frame[frame["status"] == status]
    if signal_id:
        frame = frame[frame["signal_id"] == signal_id]
    return frame.reset_index(drop=True)


def alert_details(settings: Settings, alert_id: str, week: str | None = None) -> dict:
    """An alert with its cases and the signal it belongs to that week."""
    with reader(settings) as con:
        rows = con.execute(
            "SELECT * FROM alerts WHERE alert_id = ? ORDER BY week DESC", [alert_id]
        ).df()
        if week:
            rows = rows[rows["week"] == week]
        if rows.empty:
            raise NotFound(
                f"alert {alert_id} not found{f' in week {week}' if week else ''}; "
                "`sentinel alerts list` shows the alert ids of a week"
            )
        live = rows[rows["status"] != "resolved"]
        alert = (live if not live.empty else rows).iloc[0].to_dict()
        alert = {k: (None if _missing(v) else v) for k, v in alert.items()}
        return {
            "alert": alert,
            "cases": alert_cases(con, alert),
            "signal_id": signal_store.signal_for_alert(con, alert_id, alert["week"]),
        }


def _missing(value: object) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ---- moving the warehouse's triage tables (schema 6) ---------------------------------------


def legacy_move_out(settings: Settings, actor: Actor) -> MoveOut:
    """The hook ``sentinel db upgrade`` gives the schema runner: before the migration that
    drops the warehouse's triage tables, build the signals of every stored alert week, copy
    every triage row into the application database (one transaction), and check that every
    legacy row is accounted for."""

    def move(con: duckdb.DuckDBPyConnection, migration: Migration) -> None:
        build_signals(con)
        rows = legacy.read_legacy(con)
        by_alert: dict[str, list[tuple[str, str]]] = {}
        for alert_id, week, signal_id in con.execute(
            "SELECT alert_id, week, signal_id FROM signal_alerts ORDER BY week"
        ).fetchall():
            by_alert.setdefault(alert_id, []).append((week, signal_id))

        def signal_of(alert_id: str, week: str | None) -> tuple[str, str] | None:
            found = by_alert.get(alert_id) or []
            if not found:
                return None
            exact = [(s, w) for w, s in found if w == week]
            if exact:
                return exact[0]
            earlier = [(s, w) for w, s in found if week is None or w <= week]
            chosen = earlier[-1] if earlier else (found[0][1], found[0][0])
            return chosen

        db = _db(settings)
        try:
            with db.transaction() as session:
                legacy.import_legacy(session, actor, rows, signal_of)
                missing = legacy.legacy_ids(rows) - legacy.imported_ids(session)
                if missing:  # rolls the import back; the warehouse keeps its tables
                    raise BadInput(
                        f"{len(missing)} triage rows could not be moved "
                        f"(e.g. {sorted(missing)[:3]}); nothing was changed"
                    )
        finally:
            db.dispose()

    return move
