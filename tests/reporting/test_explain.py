"""What an alert's numbers mean, said once (pipeline.reporting.explain): counts as integers,
every count named with its span, thresholds in the method's terms, no empty p-values
(issue 15: `threshold 0.0`, `obs / exp 2 / 0.0`, "6 cases" headed over "2 cases against 0.02
expected", `p = –`, a raw JSON dump of the detector parameters)."""

from __future__ import annotations

import json

import pytest

from pipeline.reporting import explain

PARAMS = json.dumps(
    {
        "version": "alerts-1",
        "method": "auto-offset",
        "rise_method": "auto-rise-offset",
        "rise_window": 4,
        "alpha": 0.005,
        "fdr": 0.05,
        "fdr_scope": "all",
        "new_pattern_window": 4,
        "new_pattern_min_cases": 3,
        "new_pattern_min_hospitals": 2,
        "new_term_history": 104,
        "new_term_min_cases": 3,
        "new_term_min_hospitals": 2,
    }
)


def _alert(**kw) -> dict:  # type: ignore[no-untyped-def]
    base = {
        "week": "2026-W44",
        "alert_type": "category",
        "subject": "FD01",
        "category": "FD01",
        "method": "auto-rise-offset",
        "observed": 2.0,
        "expected": 0.0213,
        "threshold": 0.0,
        "pvalue": 3e-5,
        "qvalue": 0.0053,
        "n_hospitals": 3,
        "case_keys": json.dumps([f"BJ001/C{i}" for i in range(6)]),
        "params": PARAMS,
    }
    return {**base, **kw}


def test_a_rise_alert_names_both_counts_with_their_spans() -> None:
    text = explain.alert_sentence(_alert(), "en")
    assert "had 2 cases in 2026-W44 against 0.021 expected" in text
    assert "the alarm starts at 1 case this week" in text  # observed > 0.0: from 1 case
    assert "The rise window 2026-W41 to 2026-W44 holds 6 cases." in text
    assert "p < 0.0001" in text and "q = 0.0053" in text
    assert "threshold 0.0" not in text and "2.0" not in text and "0.0 " not in text
    zh = explain.alert_sentence(_alert(), "zh")
    assert "2026-W44 有 2 例，期望 0.021 例" in zh and "共 6 例" in zh
    brief = explain.alert_brief(_alert())
    assert brief == {
        "week_count": 2,
        "expected": "0.021",
        "alarm_from": 1,
        "cases": 6,
        "span": "2026-W41..2026-W44",
        "pvalue": "<0.0001",
        "qvalue": "0.0053",
    }


def test_methods_without_a_p_value_or_baseline_state_their_rule() -> None:
    term = _alert(
        alert_type="new_term",
        subject="自热火锅",
        term="自热火锅",
        method="new-term",
        observed=3.0,
        expected=0.0,
        threshold=3.0,
        pvalue=None,
        qvalue=None,
        case_keys=json.dumps(["A/1", "B/2", "C/3"]),
    )
    text = explain.alert_sentence(term, "en")
    assert text.startswith("“自热火锅” appears in 3 cases at 3 hospitals in 2026-W44")
    assert "at least 3 cases at 2 hospitals" in text and "p =" not in text and "–" not in text
    assert explain.alert_brief(term)["week_count"] is None  # no weekly count test here
    terms = _alert(alert_type="category_term", term="ii, 火锅", method="category-new-term")
    assert "“ii”, “火锅”" in explain.alert_sentence(terms, "en")
    pattern = _alert(alert_type="new_pattern", subject="FD01-P001", method="new-pattern")
    assert "6 cases in the weeks 2026-W41 to 2026-W44" in explain.alert_sentence(pattern, "en")


def test_settings_are_a_sentence_not_a_dump() -> None:
    text = explain.settings_sentence(json.loads(PARAMS), "en")
    assert text.startswith("Weekly test auto-offset and sustained-rise test auto-rise-offset")
    assert "{" not in text and '"' not in text and "alpha 0.005" in text
    assert "{" not in explain.settings_sentence(json.loads(PARAMS), "zh")


@pytest.mark.parametrize(
    ("age", "unit", "lang", "text"),
    [
        (37.0, "years", "en", "37 years"),
        (1.0, "years", "en", "1 year"),
        (8.0, "months", "en", "8 months"),
        (1.0, "days", "en", "1 day"),
        (37.0, "years", "zh", "37岁"),
        (8.0, "months", "zh", "8个月"),
        (None, "years", "en", "age unknown"),
    ],
)
def test_ages_are_integers_with_units(age, unit, lang, text) -> None:
    assert explain.age_text(age, unit, lang) == text


def test_counts_and_plurals() -> None:
    assert explain.plural(1, "death", "deaths") == "1 death"
    assert explain.plural(0, "death", "deaths") == "0 deaths"
    assert explain.count(3.0) == 3 and explain.count(None) == 0
    assert explain.fmt_expected(0.0) == "0" and explain.fmt_expected(12.345) == "12.3"
    assert explain.fmt_p(float("nan")) is None
