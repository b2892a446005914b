"""The contract is the single definition: docs, suite and code sets must agree with it."""

from __future__ import annotations

import json

import pytest

from pipeline import reference
from pipeline.cli.docs import DATA_DICTIONARY
from pipeline.contract import (
    FIELDS,
    HEADER_ALIASES,
    REQUIRED_FIELDS,
    canonical_field,
    header_language,
    normalise_header,
)
from pipeline.data_dictionary import render_data_dictionary
from pipeline.validation.suite import SUITE_PATH, render_suite_json


def test_data_dictionary_is_generated_from_the_contract() -> None:
    assert DATA_DICTIONARY.read_text(encoding="utf-8") == render_data_dictionary(), (
        "docs/data-dictionary.md drifted: run `sentinel docs data-dictionary`"
    )


def test_committed_suite_matches_the_contract() -> None:
    assert SUITE_PATH.read_text(encoding="utf-8") == render_suite_json(), (
        "expectations/case_record.json drifted: run `sentinel docs expectations`"
    )


def test_every_field_is_covered_by_the_suite() -> None:
    suite = json.loads(SUITE_PATH.read_text(encoding="utf-8"))
    covered = {e["meta"]["field"] for e in suite["expectations"]}
    assert {f.name for f in FIELDS} <= covered
    for expectation in suite["expectations"]:
        meta = expectation["meta"]
        assert meta["rule"] and meta["message_en"] and meta["message_zh"]


def test_enum_fields_name_existing_code_sets() -> None:
    for f in FIELDS:
        if f.type == "enum":
            assert reference.codes(f.codeset), f.name
            if f.default:
                assert f.default in reference.codes(f.codeset)


def test_every_field_has_chinese_and_english_headers() -> None:
    for f in FIELDS:
        assert f.aliases_zh, f.name
        assert f.name in f.aliases_en
        for alias in (*f.aliases_en, *f.aliases_zh):
            assert canonical_field(alias) == f.name


def test_required_fields_are_the_record_key_and_clinical_core() -> None:
    assert {"hospital_code", "case_id", "visit_datetime", "narrative"} <= set(REQUIRED_FIELDS)
    assert not {f.name for f in FIELDS if f.identifier} & set(REQUIRED_FIELDS)


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Hospital_Code", "hospital_code"),
        ("\ufeff病例编号", "case_id"),
        ("Visit Date", "visit_datetime"),
        ("性别", "sex"),
        ("伤害经过", "narrative"),
        ("  身份证号 ", "patient_id_number"),
        ("case-id", "case_id"),
        ("unknown column", None),
    ],
)
def test_header_mapping(header: str, field: str | None) -> None:
    assert canonical_field(header) == field


def test_normalise_header_folds_width_case_and_separators() -> None:
    assert normalise_header("ＶＩＳＩＴ＿ＤＡＴＥ") == "visit date"
    assert len(HEADER_ALIASES) > len(FIELDS) * 3


def test_header_language() -> None:
    assert header_language(["医院编码", "病例编号", "sex"]) == "zh"
    assert header_language(["hospital_code", "case_id", "性别"]) == "en"
