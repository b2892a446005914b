"""The case-record expectation suite: built from the contract, committed as JSON, run by GX.

``build_suite_dict()`` derives every rule from ``pipeline.contract`` and the reference data;
``expectations/case_record.json`` is its committed output (a test keeps them equal). Each
expectation carries ``meta`` with the field, a stable rule code and messages in English and
Chinese, so a failed expectation becomes a precise row-level error for the sender.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline import reference
from pipeline.config import REPO_ROOT
from pipeline.contract import FIELDS

SUITE_NAME = "case_record"
SUITE_PATH = REPO_ROOT / "expectations" / f"{SUITE_NAME}.json"
AGE_LIMITS = {"years": 120, "months": 36, "days": 365}
PSEUDONYM_PATTERN = r"^(?:na|id|ph)_[0-9a-f]{20}$"
TAXONOMY_SET = "taxonomy"


def _exp(type_: str, field: str, rule: str, en: str, zh: str, **kwargs: object) -> dict:
    return {
        "type": type_,
        "kwargs": kwargs,
        "meta": {"field": field, "rule": rule, "message_en": en, "message_zh": zh},
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
                f"{name} is required but blank",
                f"{name}（必填）为空",
                column=name,
            )
        )
    if f.identifier:
        rules.append(
            _exp(
                "expect_column_values_to_match_regex",
                name,
                "pseudonymised",
                f"{name} was not pseudonymised",
                f"{name} 未经假名化处理",
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
                f"{name} must be one of: {', '.join(codes)}",
                f"{name} 必须是代码表 {f.codeset} 中的值",
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
                f"{name} is not a code of the product taxonomy",
                f"{name} 不是产品分类目录中的编码",
                column=name,
                value_set=codes,
            )
        )
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "code_not_valid_on_date",
                f"{name} was not valid on the visit date (see valid_from/valid_to)",
                f"{name} 在就诊日期不在有效期内",
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
                f"{name} is not a valid date and time (use YYYY-MM-DD HH:MM)",
                f"{name} 不是有效的日期时间（格式 YYYY-MM-DD HH:MM）",
                column=f"{name}__ok",
                value_set=[True],
            )
        )
    elif f.type == "number":
        rules.append(
            _exp(
                "expect_column_values_to_be_in_set",
                name,
                "not_a_number",
                f"{name} is not a number",
                f"{name} 不是数字",
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
                    f"{name} must be between 0 and {limit} {unit}",
                    f"{name} 必须在 0 到 {limit} 之间（单位：{unit}）",
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
                f"{name} has the wrong format (expected {f.pattern})",
                f"{name} 格式不正确（应符合 {f.pattern}）",
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
                f"{name} is longer than {f.max_length} characters",
                f"{name} 超过 {f.max_length} 个字符",
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
            "case_id appears more than once in this file with different contents",
            "同一文件中病例编号重复且内容不同",
            column_list=["_submission_id", "hospital_code", "case_id"],
        ),
        _exp(
            "expect_column_pair_values_to_be_equal",
            "hospital_code",
            "hospital_mismatch",
            "hospital_code does not match the sending hospital",
            "医院编码与报送医院不一致",
            column_A="hospital_code",
            column_B="_sender",
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_pair_values_a_to_be_greater_than_b",
            "injury_datetime",
            "injury_after_visit",
            "injury_datetime is after visit_datetime",
            "受伤时间晚于就诊时间",
            column_A="_visit_at",
            column_B="_injury_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_pair_values_a_to_be_greater_than_b",
            "visit_datetime",
            "visit_after_receipt",
            "visit_datetime is later than the time the file was received",
            "就诊时间晚于文件接收时间",
            column_A="_received_at",
            column_B="_visit_at",
            or_equal=True,
            ignore_row_if="either_value_is_missing",
        ),
        _exp(
            "expect_column_values_to_be_in_set",
            "*",
            "extra_cells",
            "the row has more cells than the header has columns",
            "该行的单元格数多于表头列数",
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
