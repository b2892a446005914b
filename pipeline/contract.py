"""The case-record contract: the one definition of what a hospital extract row means.

Every other stage (sample generator, intake, validation suites, storage schema, the data
dictionary in docs/) derives from ``FIELDS``. Enum code values live in the reference code sets
(``pipeline/reference/data/codesets.csv``) and are looked up by ``Field.codeset``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

FieldType = Literal["text", "enum", "datetime", "number", "code"]


@dataclass(frozen=True)
class Field:
    """One canonical field of the case record."""

    name: str
    type: FieldType
    required: bool
    description: str
    aliases_en: tuple[str, ...] = ()
    aliases_zh: tuple[str, ...] = ()
    codeset: str | None = None
    pattern: str | None = None  # regular expression the value must match (text fields)
    max_length: int | None = None
    minimum: float | None = None
    maximum: float | None = None
    default: str | None = None  # value assumed when the column is absent or the cell blank
    identifier: bool = False  # patient identifier: never stored in clear


def _f(
    name: str,
    type_: FieldType,
    required: bool,
    description: str,
    en: tuple[str, ...],
    zh: tuple[str, ...],
    **kw: object,
) -> Field:
    return Field(name, type_, required, description, (name, *en), zh, **kw)  # type: ignore[arg-type]


FIELDS: tuple[Field, ...] = (
    _f(
        "hospital_code",
        "text",
        True,
        "Registered sentinel hospital; must match the sender.",
        ("hospital", "hospital id", "hospital code"),
        ("医院编码", "医院代码", "哨点医院编码"),
        pattern=r"^[A-Z]{2}[0-9]{3}$",
        max_length=5,
    ),
    _f(
        "case_id",
        "text",
        True,
        "Case identifier, unique within the hospital; with hospital_code it is the record key.",
        ("case id", "case number", "case no"),
        ("病例编号", "病例号", "监测卡编号"),
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,39}$",
        max_length=40,
    ),
    _f(
        "report_type",
        "enum",
        False,
        "new = first report; correction = replaces the stored case; void = retires it.",
        ("record type", "type"),
        ("报告类型", "记录类型"),
        codeset="report_type",
        default="new",
    ),
    _f(
        "visit_datetime",
        "datetime",
        True,
        "Date and time of the emergency visit; injury <= visit <= time received.",
        ("visit date", "visit time", "treatment date"),
        ("就诊时间", "就诊日期"),
    ),
    _f(
        "injury_datetime",
        "datetime",
        False,
        "Date and time the injury happened (blank when unknown).",
        ("injury date", "injury time"),
        ("受伤时间", "伤害发生时间"),
    ),
    _f("sex", "enum", True, "Patient sex.", ("gender",), ("性别",), codeset="sex"),
    _f(
        "age",
        "number",
        True,
        "Age as a number in age_unit; NEISS ages 201-223 mean 1-23 months.",
        ("age value",),
        ("年龄",),
        minimum=0,
        maximum=120,
    ),
    _f(
        "age_unit",
        "enum",
        False,
        "Unit of age.",
        ("age units",),
        ("年龄单位",),
        codeset="age_unit",
        default="years",
    ),
    _f(
        "residence_region",
        "text",
        False,
        "6-digit administrative division code (GB/T 2260) of residence.",
        ("region", "region code", "residence"),
        ("户籍地区编码", "常住地区编码", "居住地区划代码"),
        pattern=r"^(?:1[1-5]|2[1-3]|3[1-7]|4[1-6]|5[0-4]|6[1-5]|71|81|82)[0-9]{4}$",
        max_length=6,
    ),
    _f(
        "cause",
        "enum",
        True,
        "Injury mechanism (crosswalks to the ICECI mechanism).",
        ("mechanism", "injury cause"),
        ("伤害原因", "伤害机制"),
        codeset="cause",
    ),
    _f(
        "place",
        "enum",
        False,
        "Place of occurrence.",
        ("location", "injury place"),
        ("伤害发生地点", "发生地点"),
        codeset="place",
        default="unknown",
    ),
    _f(
        "activity",
        "enum",
        False,
        "Activity when injured.",
        ("injury activity",),
        ("伤害发生时活动", "发生时活动"),
        codeset="activity",
        default="unknown",
    ),
    _f(
        "intent",
        "enum",
        False,
        "Intent.",
        ("injury intent",),
        ("伤害意图", "意图"),
        codeset="intent",
        default="unknown",
    ),
    _f(
        "injury_nature",
        "enum",
        True,
        "Nature of the main injury.",
        ("diagnosis", "nature"),
        ("伤害性质",),
        codeset="injury_nature",
    ),
    _f(
        "body_region",
        "enum",
        True,
        "Body region of the main injury.",
        ("body part",),
        ("伤害部位", "受伤部位"),
        codeset="body_region",
    ),
    _f(
        "severity",
        "enum",
        True,
        "Clinical severity.",
        ("injury severity",),
        ("伤害严重程度", "严重程度"),
        codeset="severity",
    ),
    _f(
        "outcome",
        "enum",
        True,
        "Outcome of the visit.",
        ("disposition",),
        ("伤害结局", "结局"),
        codeset="outcome",
    ),
    _f(
        "product_name",
        "text",
        False,
        "Product as written by the hospital.",
        ("product", "product description"),
        ("产品名称", "涉及产品"),
        max_length=200,
    ),
    _f(
        "product_category",
        "code",
        False,
        "Taxonomy category code; blank means the classifier assigns it.",
        ("product code", "category code"),
        ("产品分类编码", "产品类别编码", "产品编码"),
        pattern=r"^[A-Z]{2}[0-9]{2}$",
        max_length=4,
    ),
    _f("brand", "text", False, "Brand of the product.", (), ("品牌",), max_length=100),
    _f(
        "model",
        "text",
        False,
        "Model of the product.",
        ("model number",),
        ("型号",),
        max_length=100,
    ),
    _f(
        "batch",
        "text",
        False,
        "Batch or lot of the product.",
        ("lot", "batch number"),
        ("批次", "批号"),
        max_length=100,
    ),
    _f(
        "barcode",
        "text",
        False,
        "Barcode (GTIN/EAN) of the product.",
        ("ean", "gtin"),
        ("条形码", "条码"),
        pattern=r"^[0-9]{8,14}$",
        max_length=14,
    ),
    _f(
        "product_relation",
        "enum",
        False,
        "Relation of the injury to the product.",
        ("relation to product",),
        ("伤害与产品关系", "与产品关系"),
        codeset="product_relation",
        default="uncertain",
    ),
    _f(
        "narrative",
        "text",
        True,
        "Free-text account of the injury (Chinese or English).",
        ("description", "comment", "narrative_1"),
        ("伤害经过", "简要描述", "伤害事件描述"),
        max_length=2000,
    ),
    # Survey design of a weighted sample (NEISS: Weight, Stratum, PSU). Hospitals of the
    # sentinel network do not send them; the NEISS reader fills them. Text here (the generic
    # format / length rules check them); the warehouse stores the weight as a number.
    _f(
        "survey_weight",
        "text",
        False,
        "Survey weight: how many cases nationally the case stands for (NEISS Weight).",
        ("survey weight", "neiss weight"),
        ("抽样权重", "调查权重"),
        pattern=r"^[0-9]{1,7}(?:\.[0-9]{1,6})?$",
        max_length=16,
    ),
    _f(
        "survey_stratum",
        "text",
        False,
        "Sampling stratum of the sending hospital (NEISS Stratum: C, L, M, S, V).",
        ("survey stratum", "neiss stratum"),
        ("抽样层",),
        pattern=r"^[A-Za-z0-9]{1,8}$",
        max_length=8,
    ),
    _f(
        "survey_psu",
        "text",
        False,
        "Primary sampling unit (NEISS PSU: the hospital), numbered within its stratum.",
        ("survey psu", "psu"),
        ("初级抽样单元",),
        pattern=r"^[A-Za-z0-9]{1,8}$",
        max_length=8,
    ),
    _f(
        "patient_name",
        "text",
        False,
        "Patient name: pseudonymised, never stored in clear.",
        ("name", "patient"),
        ("患者姓名", "姓名"),
        max_length=100,
        identifier=True,
    ),
    _f(
        "patient_id_number",
        "text",
        False,
        "ID-card number: pseudonymised, never stored in clear.",
        ("id number", "id card"),
        ("身份证号", "身份证号码"),
        max_length=40,
        identifier=True,
    ),
    _f(
        "patient_phone",
        "text",
        False,
        "Phone number: pseudonymised, never stored in clear.",
        ("phone", "telephone"),
        ("联系电话", "电话"),
        max_length=40,
        identifier=True,
    ),
)

FIELD_BY_NAME: dict[str, Field] = {f.name: f for f in FIELDS}
CASE_FIELD_NAMES: list[str] = [f.name for f in FIELDS]
REQUIRED_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.required)
IDENTIFIER_FIELDS: tuple[str, ...] = tuple(f.name for f in FIELDS if f.identifier)
KEY_FIELDS: tuple[str, str] = ("hospital_code", "case_id")
# The survey design fields: only weighted samples (NEISS files) carry them.
SURVEY_FIELDS: tuple[str, ...] = ("survey_weight", "survey_stratum", "survey_psu")


def normalise_header(header: str) -> str:
    """Fold a column header for alias matching: NFKC, case, spaces/underscores, BOM."""
    text = unicodedata.normalize("NFKC", header).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_\-]+", " ", text)


def _alias_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for field in FIELDS:
        for alias in (*field.aliases_en, *field.aliases_zh):
            key = normalise_header(alias)
            if index.setdefault(key, field.name) != field.name:
                raise AssertionError(f"header alias {alias!r} names two fields")
    return index


HEADER_ALIASES: dict[str, str] = _alias_index()


def canonical_field(header: str) -> str | None:
    """Map a Chinese or English header to its canonical field name (None if unknown)."""
    return HEADER_ALIASES.get(normalise_header(header))


def header_language(headers: list[str]) -> Literal["zh", "en"]:
    """The language of a file's headers, used for the sender's receipt."""
    zh = sum(1 for h in headers if re.search(r"[\u4e00-\u9fff]", h))
    return "zh" if zh * 2 >= max(len(headers), 1) else "en"
