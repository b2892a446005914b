"""The case-record expectation suite: built from the contract, committed as JSON, run by GX.

``build_suite_dict()`` derives every rule from ``pipeline.contract`` and the reference data;
``expectations/case_record.json`` is its committed output (a test keeps them equal). Each
expectation carries ``meta`` with the field, a stable rule code and messages in English and
Chinese (worded in :mod:`pipeline.intake.messages`: plain words, field labels, allowed values;
``{earliest_date}`` and ``{sender}`` are filled per file), so a failed expectation becomes a
precise row-level error the sender understands.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import reference
from pipeline.config import REPO_ROOT
from pipeline.contract import FIELDS
from pipeline.intake.messages import row_message

SUITE_NAME = "case_record"
SUITE_PATH = REPO_ROOT / "expectations" / f"{SUITE_NAME}.json"
AGE_LIMITS = {"years": 120, "months": 36, "days": 365}
PSEUDONYM_PATTERN = r"^(?:na|id|ph)_[0-9a-f]{20}$"
TAXONOMY_SET = "taxonomy"


def _exp(type_: str, field: str, rule: str, **kwargs: object) -> dict:
    """One expectation; its messages come from the wording catalogue."""
    bounded = rule == "too_long" or rule.startswith("range_")
    params = {"limit": kwargs["max_value"]} if bounded else {}
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {
            "field": field,
            "rule": rule,
            "message_en": row_message(rule, field, "en", **params),
            "message_zh": row_message(rule, field, "zh", **params),
        },
    }


def _field_rules(f) -> list[dict]:  # noqa: ANN001 - contract.Field
    rules: list[dict] = []
    name = f.name
    if f.required:
        rules.append(
            _exp(
                "expect_column_values_to_not_be_null",
                name,
                "required",
                column=name,
            )
        )
    if f.identifier:
        rules.append(
            _exp(
                "expect_column_values_to_match_regex",
                name,
                "pseudonymised",
                column=name,
                regex=PSEUDONYM_PATTERN,
            )
        )
        return rules
    if f.type == "enum":
        codes = list(reference.codes(f.codeset))
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "code_set",
                column=name,
                value_set=codes,
            )
        )
    elif f.type == "code":
        codes = sorted(reference.load_taxonomy()["category_code"])
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "unknown_code",
                column=name,
                value_set=codes,
            )
        )
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "code_not_valid_on_date",
                column=f"{name}__ok",
                value_set=[True],
            )
        )
    elif f.type == "datetime":
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "invalid_datetime",
                column=f"{name}__ok",
                value_set=[True],
            )
        )
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "date_too_early",
                column=f"{name}__not_early",
                value_set=[True],
            )
        )
    elif f.type == "number":
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "not_a_number",
                column=f"{name}__ok",
                value_set=[True],
            )
        )
        for unit, limit in AGE_LIMITS.items():
            rules.append(
                _exp(
                    "expect_column_values_to_be_between",
                    name,
                    f"range_{unit}",
                    column=f"_age_{unit}",
                    min_value=0,
                    max_value=limit,
                )
            )
    if f.pattern:
        rules.append(
            _exp(
                "expect_column_values_to_match_regex",
                name,
                "format",
                column=name,
                regex=f.pattern,
            )
        )
    if f.max_length:
        rules.append(
            _exp(
                "expect_column_value_lengths_to_be_between",
                name,
                "too_long",
                column=name,
                min_value=1,
                max_value=f.max_length,
            )
        )
    return rules


def build_suite_dict() -> dict:
    """The whole suite as a JSON-able dict (deterministic)."""
    expectations: list[dict] = []
    for f in FIELDS:
        expectations.extend(_field_rules(f))
    expectations += [
        _exp(
            "expect_compound_columns_to_be_unique",
            "case_id",
            "duplicate_key",
            column_list=["_submission_id", "hospital_code", "case_id"],
        ),
        _exp(
            "expect_column_pair_values_to_be_equal",
            "hospital_code",
            "hospital_mismatch",
            column_A="hospital_code",
            column_B="_sender",
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_pair_values_a_to_be_greater_than_b",
            "injury_datetime",
            "injury_after_visit",
            column_A="_visit_at",
            column_B="_injury_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_pair_values_a_to_be_greater_than_b",
            "visit_datetime",
            "visit_after_receipt",
            column_A="_received_at",
            column_B="_visit_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_values_to_be_in_set",
            "*",
            "extra_cells",
            column="_extra_cells__ok",
            value_set=[True],
        ),
    ]
    return {
        "name": SUITE_NAME,
        "meta": {
            "generated_by": "pipeline.validation.suite.build_suite_dict",
            "taxonomy_codes": len(reference.load_taxonomy()),
        },
        "expectations": expectations,
    }


def render_suite_json() -> str:
    return json.dumps(build_suite_dict(), ensure_ascii=False, indent=1, sort_keys=True) + "\n"


def load_suite_dict(path: Path = SUITE_PATH) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))
