"""Reading stored signals (``signal_weeks``, ``signal_alerts``; written by detection).

Every reader (the CLI, reports, evidence packs, notices, the web app) goes through these, on the
published snapshot.
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd

from pipeline.alerts.signals import ACTIVE_STATUSES, OPEN_STATUSES, STATUSES
from pipeline.errors import NotFound
from pipeline.isoweek import week_ordinal


class SignalNotFound(NotFound):
    """No such signal (or not in the week asked for)."""


def _plain(value: object) -> object:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating) and np.isnan(value):
        return None
    item = getattr(value, "item", None)
    return item() if callable(item) and isinstance(value, np.generic) else value


def _record(row: pd.Series | dict) -> dict:
    items = row.items() if isinstance(row, dict) else row.to_dict().items()
    out = {k: _plain(v) for k, v in items}
    for key in ("categories", "alert_ids", "subjects", "detectors"):
        if isinstance(out.get(key), str):
            out[key] = json.loads(out[key])
    return out


def latest_week(con: duckdb.DuckDBPyConnection) -> str | None:
    """The latest week with stored signal rows."""
    weeks = [w for (w,) in con.execute("SELECT DISTINCT week FROM signal_weeks").fetchall()]
    return max(weeks, key=week_ordinal) if weeks else None


def signal_weeks(con: duckdb.DuckDBPyConnection) -> list[str]:
    weeks = [w for (w,) in con.execute("SELECT DISTINCT week FROM signal_weeks").fetchall()]
    return sorted(weeks, key=week_ordinal)


def week_signals(
    con: duckdb.DuckDBPyConnection, week: str, statuses: tuple[str, ...] | None = None
) -> pd.DataFrame:
    """The signals of ``week``: ranked active ones first, then quiet, then resolved ones."""
    frame = con.execute(
        "SELECT * FROM signal_weeks WHERE week = ? "
        "ORDER BY rank NULLS LAST, CASE status WHEN 'resolved' THEN 1 ELSE 0 END, "
        "quiet_weeks, signal_id",
        [week],
    ).df()
    if statuses:
        frame = frame[frame["status"].isin(statuses)]
    return frame.reset_index(drop=True)


def load_signal(con: duckdb.DuckDBPyConnection, signal_id: str, week: str | None = None) -> dict:
    """The stored row of ``signal_id`` in ``week`` (default: its latest week), as plain
    values with the JSON lists decoded."""
    rows = con.execute(
        "SELECT * FROM signal_weeks WHERE signal_id = ? ORDER BY week", [signal_id]
    ).df()
    if week is not None:
        rows = rows[rows["week"] == week]
    if rows.empty:
        where = f" in week {week}" if week else ""
        raise SignalNotFound(
            f"signal {signal_id} not found{where}; `sentinel signals list` shows the signals of "
            "a week",
            detail_zh=f"未找到信号 {signal_id}{f'（{week}）' if week else ''}；"
            "`sentinel signals list` 列出某一周的信号",
        )
    rows = rows.assign(_o=rows["week"].map(week_ordinal)).sort_values("_o")
    return _record(rows.iloc[-1].drop("_o"))


def history(con: duckdb.DuckDBPyConnection, signal_id: str) -> pd.DataFrame:
    """Every stored week of a signal, oldest first (status, counts, rank)."""
    frame = con.execute(
        "SELECT week, status, n_alerts, n_cases, n_died, rank, onset_week, quiet_weeks "
        "FROM signal_weeks WHERE signal_id = ?",
        [signal_id],
    ).df()
    return frame.sort_values("week", key=lambda s: s.map(week_ordinal)).reset_index(drop=True)


def members(
    con: duckdb.DuckDBPyConnection, signal_id: str, week: str | None = None
) -> pd.DataFrame:
    """The alert rows of a signal: of ``week`` only, or (None) of every week up to its latest,
    newest first."""
    where, args = ("AND m.week = ?", [signal_id, week]) if week else ("", [signal_id])
    frame = con.execute(
        f"""
        SELECT a.* FROM signal_alerts m
        JOIN alerts a ON a.week = m.week AND a.alert_id = m.alert_id
        WHERE m.signal_id = ? {where}""",
        args,
    ).df()
    if frame.empty:
        return frame
    frame = frame.assign(_o=frame["week"].map(week_ordinal))
    return (
        frame.sort_values(["_o", "rank", "alert_id"], ascending=[False, True, True])
        .drop(columns="_o")
        .reset_index(drop=True)
    )


def member_records(con: duckdb.DuckDBPyConnection, signal_ids: list[str]) -> dict[str, list[dict]]:
    """``members(con, id).to_dict("records")`` (every week, newest first) of several signals
    from one query: signal id -> its rows (a text column with no value for a signal holds
    None, as in a query of that signal alone; else a missing text is NaN, as there)."""
    if not signal_ids:
        return {}
    frame = con.execute(
        """
        SELECT m.signal_id AS _signal, a.* FROM signal_alerts m
        JOIN alerts a ON a.week = m.week AND a.alert_id = m.alert_id
        WHERE m.signal_id IN (SELECT unnest(?))""",
        [list(signal_ids)],
    ).df()
    texts = [c for c in frame.columns if c != "_signal" and frame[c].dtype == "str"]
    grouped: dict[str, list[dict]] = {signal_id: [] for signal_id in signal_ids}
    for row in frame.to_dict("records"):
        grouped[row.pop("_signal")].append(row)
    for rows in grouped.values():
        for column in texts:
            if all(pd.isna(r[column]) for r in rows):
                for r in rows:
                    r[column] = None
        rows.sort(key=lambda r: (-week_ordinal(r["week"]), r["rank"], r["alert_id"]))
    return grouped


def signal_of_alerts(con: duckdb.DuckDBPyConnection, week: str) -> dict[str, str]:
    """alert_id -> signal_id for one week."""
    return dict(
        con.execute(
            "SELECT alert_id, signal_id FROM signal_alerts WHERE week = ?", [week]
        ).fetchall()
    )


def signal_for_alert(con: duckdb.DuckDBPyConnection, alert_id: str, week: str) -> str | None:
    """The signal an alert belonged to in ``week`` (None when not live that week)."""
    row = con.execute(
        "SELECT signal_id FROM signal_alerts WHERE alert_id = ? AND week = ?", [alert_id, week]
    ).fetchone()
    return row[0] if row else None


def case_keys(signal: dict) -> list[tuple[str, str]]:
    raw = signal.get("case_keys")
    keys = json.loads(raw) if isinstance(raw, str) else list(raw or [])
    return [tuple(k.split("/", 1)) for k in keys]  # type: ignore[misc]


def lead_alert(members: pd.DataFrame) -> dict | None:
    """The member alert that explains a signal best (``members`` as :func:`members` returns
    them, newest first): of the latest week it fired, a series alert (it has a baseline and a
    threshold) before the others, the most specific series first, then by rank."""
    if members.empty:
        return None
    latest = members[members["week"] == members["week"].iloc[0]]
    order = {"pattern": 0, "category_region": 1, "category": 2}
    series = latest[latest["alert_type"].isin(tuple(order))]
    if not series.empty:
        series = series.assign(_k=series["alert_type"].map(order)).sort_values(["_k", "rank"])
        row = series.drop(columns="_k").iloc[0]
    else:
        row = latest.sort_values("rank", na_position="last").iloc[0]
    return {k: _plain(v) for k, v in row.to_dict().items()}


def top_signal(con: duckdb.DuckDBPyConnection, week: str | None = None) -> dict | None:
    """The rank-1 signal of ``week`` (default: the latest week with a ranked signal)."""
    if week is None:
        weeks = [
            w
            for (w,) in con.execute(
                "SELECT DISTINCT week FROM signal_weeks WHERE rank IS NOT NULL"
            ).fetchall()
        ]
        if not weeks:
            return None
        week = max(weeks, key=week_ordinal)
    found = con.execute(
        "SELECT signal_id FROM signal_weeks WHERE week = ? AND rank IS NOT NULL "
        "ORDER BY rank, signal_id LIMIT 1",
        [week],
    ).fetchone()
    return load_signal(con, found[0], week) if found else None


__all__ = [
    "ACTIVE_STATUSES",
    "OPEN_STATUSES",
    "STATUSES",
    "SignalNotFound",
    "case_keys",
    "history",
    "latest_week",
    "lead_alert",
    "load_signal",
    "members",
    "signal_for_alert",
    "signal_of_alerts",
    "signal_weeks",
    "top_signal",
    "week_signals",
]
