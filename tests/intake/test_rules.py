"""Every rule of the case-record suite can fail, and the receipt says row, field, value, rule.

One extract holds a valid row and one row per rule violation; it is validated once (dry run)
and each test looks at its own row, so the module costs a single GX run.
"""

from __future__ import annotations

import json
from datetime import datetime

import intake_helpers as h
import pandas as pd
import pytest

from pipeline.contract import CASE_FIELD_NAMES
from pipeline.intake.prepare import prepare_extract
from pipeline.intake.reader import read_extract
from pipeline.intake.receipts import build_receipt, render_markdown
from pipeline.services.intake import dry_run
from pipeline.validation.suite import load_suite_dict

LONG = "很" * 2001
# (case_id, overrides, expected (field, rule) pairs, expected value of the first pair or ...)
CASES: dict[str, tuple[dict, set[tuple[str, str]], object]] = {
    "required": ({"sex": ""}, {("sex", "required")}, None),
    "required_narrative": ({"narrative": "  "}, {("narrative", "required")}, None),
    "code_set": ({"cause": "bogus"}, {("cause", "code_set")}, "bogus"),
    "code_set_zh": ({"place": "月球"}, {("place", "code_set")}, "月球"),
    "unknown_code": ({"product_category": "ZZ99"}, {("product_category", "unknown_code")}, "ZZ99"),
    "code_not_valid_on_date": (
        {"product_category": "EL90"},
        {("product_category", "code_not_valid_on_date")},
        "EL90",
    ),
    "invalid_datetime": (
        {"visit_datetime": "2026-02-30", "injury_datetime": ""},
        {("visit_datetime", "invalid_datetime")},
        "2026-02-30",
    ),
    "invalid_injury_datetime": (
        {"injury_datetime": "昨天"},
        {("injury_datetime", "invalid_datetime")},
        "昨天",
    ),
    "not_a_number": ({"age": "four"}, {("age", "not_a_number")}, "four"),
    "range_years": ({"age": "130"}, {("age", "range_years")}, "130"),
    "range_negative": ({"age": "-1"}, {("age", "range_years")}, "-1"),
    "range_months": ({"age": "40", "age_unit": "months"}, {("age", "range_months")}, "40"),
    "range_days": ({"age": "400", "age_unit": "天"}, {("age", "range_days")}, "400"),
    "format_region": ({"residence_region": "990101"}, {("residence_region", "format")}, "990101"),
    "format_barcode": ({"barcode": "12AB5678"}, {("barcode", "format")}, "12AB5678"),
    "format_case_id": ({}, {("case_id", "format")}, "bad id"),
    "too_long": ({"narrative": LONG}, {("narrative", "too_long")}, LONG),
    "too_long_region": (
        {"residence_region": "4401041"},
        {("residence_region", "too_long"), ("residence_region", "format")},
        "4401041",
    ),
    "too_long_brand": ({"brand": "B" * 101}, {("brand", "too_long")}, "B" * 101),
    "hospital_other_format": (
        {"hospital_code": "GZ-001"},
        {
            ("hospital_code", "hospital_mismatch"),
            ("hospital_code", "format"),
            ("hospital_code", "too_long"),
        },
        "GZ-001",
    ),
    "hospital_unregistered": (
        {"hospital_code": "ZZ999"},
        {("hospital_code", "hospital_mismatch")},
        "ZZ999",
    ),
    "hospital_blank": ({"hospital_code": ""}, {("hospital_code", "required")}, None),
    "injury_after_visit": (
        {"injury_datetime": "2026-02-10 10:00"},
        {("injury_datetime", "injury_after_visit")},
        "2026-02-10 10:00:00",
    ),
    "visit_after_receipt": (
        {"visit_datetime": "2026-12-01 10:00", "injury_datetime": ""},
        {("visit_datetime", "visit_after_receipt")},
        "2026-12-01 10:00:00",
    ),
    "report_type": ({"report_type": "update"}, {("report_type", "code_set")}, "update"),
    # Issue 16, probe 6: implausibly early dates (before SENTINEL_EARLIEST_DATE, 2000-01-01).
    "date_too_early": (
        {"visit_datetime": "1900-01-01", "injury_datetime": "", "product_category": ""},
        {("visit_datetime", "date_too_early")},
        "1900-01-01 00:00:00",
    ),
    "date_too_early_1753": (
        {
            "visit_datetime": "1753-01-01 08:00",
            "injury_datetime": "1753-01-01 07:00",
            "product_category": "",
        },
        {("visit_datetime", "date_too_early"), ("injury_datetime", "date_too_early")},
        ...,
    ),
    "injury_too_early": (
        {"injury_datetime": "1900-01-01 08:00"},
        {("injury_datetime", "date_too_early")},
        "1900-01-01 08:00:00",
    ),
}
ACCEPTED = {
    "lower_case_hospital": {"hospital_code": "gz001"},
    "code_valid_before_retirement": {
        "product_category": "EL90",
        "visit_datetime": "2023-12-31 23:00",
        "injury_datetime": "2023-12-31 22:00",
    },
    "blank_optionals": {
        "injury_datetime": "",
        "residence_region": "",
        "product_category": "",
        "barcode": "",
        "place": "",
        "activity": "",
        "intent": "",
        "report_type": "",
        "age_unit": "",
        "product_relation": "",
    },
    "english_labels": {
        "sex": "Female",
        "cause": "Burn/scald",
        "outcome": "admitted",
        "severity": "SEVERE",
    },
    "slash_dates": {"visit_datetime": "2026/02/10 09:30", "injury_datetime": "2026年02月10日"},
    "edge_ages": {"age": "36", "age_unit": "months"},
}


def _case_id(name: str) -> str:
    return "bad id" if name == "format_case_id" else name.replace("_", "-")[:40]


@pytest.fixture(scope="module")
def receipt(tmp_path_factory, validator):
    tmp = tmp_path_factory.mktemp("rules")
    settings = h.make_settings(tmp)
    rows = [h.case_row("VALID")]
    rows += [h.case_row(_case_id(name), **over) for name, (over, _, _) in CASES.items()]
    rows += [h.case_row(_case_id(name), **over) for name, over in ACCEPTED.items()]
    # duplicate_key: the same case twice with different contents (an exact repeat is a
    # duplicate row, not an error).
    rows += [
        h.case_row("DUP-KEY", age="5"),
        h.case_row("DUP-KEY", age="6"),
        h.case_row("SAME-ROW"),
        h.case_row("SAME-ROW"),
    ]
    table = h.rows_table(rows)
    table.append([*h.rows_table([h.case_row("EXTRA-CELLS")])[1], "", "surplus"])
    path = h.write(tmp / h.HOSPITAL / "rules.csv", h.table_bytes(table))
    result = dry_run(path, h.HOSPITAL, settings, validator=validator, received_at=h.RECEIVED)
    result["_rows"] = {r["case_id"]: i for i, r in enumerate(rows, 1)}
    result["_rows"]["EXTRA-CELLS"] = len(rows) + 1
    return result


def _errors_of(receipt: dict, case_id: str) -> list[dict]:
    row = receipt["_rows"][case_id]
    return [e for e in receipt["errors"] if e["row"] == row]


def test_valid_row_passes(receipt):
    assert _errors_of(receipt, "VALID") == []
    assert receipt["file_rule"] is None and receipt["status"] == "partially_accepted"


@pytest.mark.parametrize("name", list(ACCEPTED))
def test_accepted_variants(receipt, name):
    assert _errors_of(receipt, _case_id(name)) == []


@pytest.mark.parametrize("name", list(CASES))
def test_rule_fails_with_row_field_value_rule_message(receipt, name):
    _, expected, value = CASES[name]
    errors = _errors_of(receipt, _case_id(name))
    assert {(e["field"], e["rule"]) for e in errors} == expected
    first = next(e for e in errors if (e["field"], e["rule"]) == sorted(expected)[0])
    if len(expected) == 1:
        assert first["value"] == value
    for error in errors:
        # One language (the headers' English), placeholders filled, the field named by the
        # label a clerk knows (issue 15: no internal field names).
        assert error["message"] and "{" not in error["message"]
        assert error["field"] == "*" or error["field_label"].lower() in error["message"].lower()
        assert "_" not in error["field"] or error["field"] not in error["message"]


def test_duplicate_key_flags_both_rows(receipt):
    rows = [i for i, e in enumerate(receipt["errors"]) if e["rule"] == "duplicate_key"]
    flagged = {receipt["errors"][i]["row"] for i in rows}
    first = receipt["_rows"]["DUP-KEY"]
    assert flagged == {first - 1, first}  # _rows keeps the last occurrence
    assert {receipt["errors"][i]["value"] for i in rows} == {"DUP-KEY"}


def test_exact_repeat_is_duplicate_not_error(receipt):
    assert _errors_of(receipt, "SAME-ROW") == []
    assert receipt["rows_duplicate"] == 1


def test_extra_cells(receipt):
    errors = _errors_of(receipt, "EXTRA-CELLS")
    assert [(e["field"], e["rule"]) for e in errors] == [("*", "extra_cells")]


def test_counts_add_up(receipt):
    bad = len({e["row"] for e in receipt["errors"]})
    assert receipt["rows_quarantined"] == bad
    assert (
        receipt["rows_stored"] + receipt["rows_quarantined"] + receipt["rows_duplicate"]
        == receipt["rows_received"]
    )


def test_every_suite_rule_is_exercised(receipt):
    """A rule added to the suite must get a test here."""
    suite_rules = {e["meta"]["rule"] for e in load_suite_dict()["expectations"]}
    tested = {e["rule"] for e in receipt["errors"]} | {"pseudonymised"}
    assert suite_rules <= tested, suite_rules - tested


def test_markdown_receipt_lists_each_error(receipt):
    text = render_markdown({k: v for k, v in receipt.items() if not k.startswith("_")})
    row = receipt["_rows"]["code-set"]
    assert (
        f"| {row} | injury cause | bogus | Injury cause must be one of: Traffic (traffic), "
        "Fall (fall)"
    ) in text
    assert text.count(" must be one of: ") == sum(
        e["rule"] == "code_set" for e in receipt["errors"]
    )
    assert len([line for line in text.splitlines() if line.startswith("| ")]) == 1 + len(
        receipt["errors"]
    )


@pytest.mark.slow
def test_pseudonymised_rule_catches_clear_identifiers(tmp_path, validator):
    path = h.write(tmp_path / "x.csv", h.csv_bytes([h.case_row("C1", patient_name="王小明")]))
    raw = read_extract(path)
    frame = prepare_extract(
        raw, sender=h.HOSPITAL, received_at=h.RECEIVED, key=h.KEY.encode()
    ).frame
    frame["_submission_id"], frame["_sender"] = "S1", h.HOSPITAL
    assert validator.validate(frame).errors.empty
    frame.loc[0, "patient_name"] = "王小明"  # as if pseudonymisation had been skipped
    frame.loc[0, "patient_phone"] = "13912345678"
    errors = validator.validate(frame).errors
    assert set(zip(errors["field"], errors["rule"], strict=True)) == {
        ("patient_name", "pseudonymised"),
        ("patient_phone", "pseudonymised"),
    }
    # The receipt never echoes an identifier value.
    receipt = build_receipt({}, [{"source_row": 1, **e} for e in errors.to_dict("records")])
    assert "王小明" not in json.dumps(receipt, ensure_ascii=False)
    assert "13912345678" not in json.dumps(receipt, ensure_ascii=False)


@pytest.mark.slow
def test_failed_expectation_never_passes_silently(tmp_path, validator):
    """An expectation that raises (here: a helper column is missing) must not count as a pass."""
    path = h.write(tmp_path / "x.csv", h.csv_bytes([h.case_row("C1", age="500")]))
    frame = prepare_extract(
        read_extract(path), sender=h.HOSPITAL, received_at=h.RECEIVED, key=h.KEY.encode()
    ).frame
    frame["_submission_id"], frame["_sender"] = "S1", h.HOSPITAL
    with pytest.raises(RuntimeError, match="_age_years"):
        validator.validate(frame.drop(columns=["_age_years"]))


@pytest.mark.slow
def test_visit_times_are_local_but_receipt_time_is_utc(tmp_path, settings, validator):
    """A file received at 16:30 UTC on 10 Feb is 00:30 on 11 Feb in China: a visit at 00:10
    Beijing time on 11 Feb is not in the future."""
    rows = [
        h.case_row("C1", visit_datetime="2026-02-11 00:10", injury_datetime="2026-02-11 00:01"),
        h.case_row("C2", visit_datetime="2026-02-11 00:40", injury_datetime=""),
    ]
    path = h.write(tmp_path / h.HOSPITAL / "x.csv", h.csv_bytes(rows))
    receipt = dry_run(
        path, h.HOSPITAL, settings, validator=validator, received_at=datetime(2026, 2, 10, 16, 30)
    )
    assert [(e["row"], e["rule"]) for e in receipt["errors"]] == [(2, "visit_after_receipt")]


@pytest.mark.slow
def test_sender_activity_uses_the_local_date(tmp_path, settings):
    """XA002 joined on 2025-09-01: a file received at 17:00 UTC on 31 August arrived on
    1 September in China; one received at 15:00 UTC (23:00 local) on 31 August did not."""
    rows = [
        h.case_row("C1", hospital="XA002", visit_datetime="2025-08-31 20:00", injury_datetime="")
    ]
    early = h.write(tmp_path / "XA002" / "a.csv", h.csv_bytes(rows))
    late = h.write(tmp_path / "XA002" / "b.csv", h.csv_bytes(rows))
    receipt = dry_run(early, "XA002", settings, received_at=datetime(2025, 8, 31, 15, 0))
    assert receipt["file_rule"] == "inactive_sender"
    from pipeline import reference
    from pipeline.intake.discover import LandingFile, sha256_file
    from pipeline.intake.submission import read_submission as _read_one

    item = LandingFile(
        "XA002", str(late), "XA002/b.csv", sha256_file(late), 1, "2025-08-31T17:00:00", "9|b.csv"
    )
    assert _read_one(item, reference.load_hospitals(), h.KEY.encode()).meta["file_rule"] is None


@pytest.mark.slow
def test_chinese_receipt_for_chinese_headers(tmp_path, settings, validator):
    rows = [h.case_row("C1", sex="男"), h.case_row("C2", sex="外星人")]
    path = h.write(
        tmp_path / h.HOSPITAL / "x.csv", h.csv_bytes(rows, language="zh", encoding="gb18030")
    )
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator)
    assert receipt["header_language"] == "zh" and receipt["status"] == "partially_accepted"
    assert [(e["row"], e["field"], e["value"], e["rule"]) for e in receipt["errors"]] == [
        (2, "sex", "外星人", "code_set")
    ]
    text = render_markdown(receipt)
    # Issue 15: the Chinese wrong-code message names the allowed values by their labels.
    assert "报送回执" in text and "部分接收" in text
    assert "| 2 | 性别 | 外星人 | “性别”只能填写：男、女、未知 |" in text


@pytest.mark.slow
def test_contract_fields_all_reach_validation(tmp_path, validator):
    """The prepared frame carries every contract field (the suite addresses them by name)."""
    path = h.write(
        tmp_path / "x.csv",
        h.csv_bytes(
            [h.case_row()],
            headers=[
                "hospital_code",
                "case_id",
                "visit_datetime",
                "sex",
                "age",
                "cause",
                "injury_nature",
                "body_region",
                "severity",
                "outcome",
                "narrative",
            ],
        ),
    )
    frame = prepare_extract(
        read_extract(path), sender=h.HOSPITAL, received_at=h.RECEIVED, key=h.KEY.encode()
    ).frame
    assert set(CASE_FIELD_NAMES) <= set(frame.columns)
    frame["_submission_id"], frame["_sender"] = "S1", h.HOSPITAL
    outcome = validator.validate(frame)
    assert outcome.success, outcome.errors.to_dict("records")
    assert pd.isna(frame.loc[0, "injury_datetime"]) and frame.loc[0, "place"] == "unknown"


def test_receipt_is_strict_json(receipt):
    """Blank values are null, never NaN (which is not JSON)."""
    body = {k: v for k, v in receipt.items() if not k.startswith("_")}
    assert json.loads(json.dumps(body, allow_nan=False)) == body


@pytest.mark.slow
def test_gx_is_quiet_and_writes_nothing_outside_home(tmp_path):
    """Importing GX and building a validator logs no INFO flood ("Skipping registering
    function ...") even with INFO logging configured, and the ephemeral context's default Data
    Docs site (a fresh /tmp directory) is never built."""
    import subprocess
    import sys

    code = (
        "import logging, sys\n"
        "logging.basicConfig(level=logging.INFO, stream=sys.stderr)\n"
        "from pathlib import Path\n"
        "from pipeline.validation.runner import CaseValidator\n"
        "validator = CaseValidator(data_docs_dir=Path(sys.argv[1]))\n"
        "print(validator.docs_site_names, len(validator._checkpoint.actions))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "docs")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "great_expectations" not in result.stderr, result.stderr[:2000]
    # Data Docs go to our site only, built once per run (no per-batch action).
    assert result.stdout.strip() == "['sentinel'] 0"
