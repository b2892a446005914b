"""Alert context on the tiny warehouse: alert rows, de-identified cases, re-run trends."""

from __future__ import annotations

import json
from datetime import date

import pandas as pd
import pytest

from pipeline.config import Settings
from pipeline.contract import IDENTIFIER_FIELDS
from pipeline.reporting.context import (
    CASE_COLUMNS,
    alert_cases,
    alert_trend,
    category_cases,
    load_alert,
)
from pipeline.storage.warehouse import connect

from .tinydata import HOSTILE


@pytest.fixture()
def con(tiny: Settings):  # type: ignore[no-untyped-def]
    con = connect(tiny.warehouse_path, read_only=True)
    yield con
    con.close()


def _alert(con, alert_type: str, week: str = "2026-W19") -> dict:  # type: ignore[no-untyped-def]
    rows = con.execute(
        "SELECT alert_id FROM alerts WHERE week = ? AND alert_type = ? "
        "AND status <> 'resolved' ORDER BY rank",
        [week, alert_type],
    ).fetchall()
    assert rows, f"the tiny warehouse should raise a {alert_type} alert in {week}"
    return load_alert(con, rows[0][0], week)


def test_the_step_rise_is_alerted(con) -> None:  # type: ignore[no-untyped-def]
    alert = _alert(con, "category")
    assert alert["subject"] == "HA01" and alert["observed"] > alert["threshold"]


def test_load_alert_defaults_to_the_latest_unresolved_week(con) -> None:  # type: ignore[no-untyped-def]
    first = _alert(con, "category")
    latest = load_alert(con, first["alert_id"])
    assert latest["week"] == "2026-W20" and latest["status"] == "ongoing"
    assert isinstance(latest["observed"], float) and latest["rank"] is not None
    with pytest.raises(LookupError, match="alert Anope not found"):
        load_alert(con, "Anope")
    with pytest.raises(LookupError):
        load_alert(con, first["alert_id"], "2020-W01")


def test_alert_cases_are_the_alerts_keys_deidentified_and_sorted(con) -> None:  # type: ignore[no-untyped-def]
    alert = _alert(con, "category")
    cases = alert_cases(con, alert)
    keys = json.loads(alert["case_keys"])
    assert list(cases.columns) == CASE_COLUMNS
    assert sorted(cases["hospital_code"] + "/" + cases["case_id"]) == sorted(keys)
    assert not set(cases.columns) & set(IDENTIFIER_FIELDS)
    order = cases[["visit_date", "hospital_code", "case_id"]].apply(tuple, axis=1).tolist()
    assert order == sorted(order)
    assert isinstance(cases["visit_date"].iloc[0], date)
    assert (cases["category_code"] == "HA01").all()
    assert HOSTILE in set(cases["narrative"])


def test_category_cases_filters_category_and_dates(con) -> None:  # type: ignore[no-untyped-def]
    frame = category_cases(con, "HA01", date(2026, 5, 4), date(2026, 5, 10))  # 2026-W19
    assert not frame.empty and set(frame["visit_week"]) == {"2026-W19"}
    assert set(frame["category_code"]) == {"HA01"}
    alert = _alert(con, "category")
    assert len(frame) == alert["observed"]


def test_series_trend_reproduces_the_stored_alert(con) -> None:  # type: ignore[no-untyped-def]
    alert = _alert(con, "category")
    trend = alert_trend(con, alert, weeks=10)
    assert list(trend.columns) == ["week", "observed", "expected", "upper", "alarm"]
    assert len(trend) == 10 and trend["week"].iloc[-1] == "2026-W19"
    last = trend.iloc[-1]
    assert last["observed"] == alert["observed"]
    assert last["expected"] == pytest.approx(alert["expected"])
    assert last["upper"] == pytest.approx(alert["threshold"])
    assert bool(last["alarm"]) and not trend["alarm"].iloc[:-2].any()


def test_unknown_alert_types_show_their_own_cases_per_week(con) -> None:  # type: ignore[no-untyped-def]
    alert = dict(_alert(con, "category"), alert_type="hospital_surge", subject="whatever")
    trend = alert_trend(con, alert, weeks=5)
    assert trend["expected"].isna().all() and trend["upper"].isna().all()
    own = alert_cases(con, alert).groupby("visit_week").size()
    assert trend["observed"].sum() == len(json.loads(alert["case_keys"])) > 0
    assert trend.set_index("week")["observed"].to_dict() == {
        w: float(own.get(w, 0)) for w in trend["week"]
    }
    assert trend["alarm"].tolist() == [False] * 4 + [True]


def test_new_term_trend_counts_narratives_with_the_term(con) -> None:  # type: ignore[no-untyped-def]
    alert = dict(
        _alert(con, "category"), alert_type="new_term", term="lid burst", subject="lid burst"
    )
    trend = alert_trend(con, alert, weeks=3)
    frame = category_cases(con, "HA01", date(2026, 4, 27), date(2026, 5, 10))
    per_week = frame[frame["narrative"].str.contains("lid burst")].groupby("visit_week").size()
    assert trend["observed"].tolist()[1:] == [
        float(per_week["2026-W18"]),
        float(per_week["2026-W19"]),
    ]
    assert pd.isna(trend["expected"]).all()
