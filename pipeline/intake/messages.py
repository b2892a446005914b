"""Every word a hospital clerk reads about a file, in Chinese and in English.

A receipt is written in the language of the file's headers (:func:`receipt_language`), and
everything in it (file-level reasons, the advice, row messages, field names, units, allowed
values) comes from here in that one language: no regular expression, no internal field name
(``visit_datetime``), no pointer to a document the hospital does not have. Field names are shown
as the labels clerks know from their own exports; code sets as their labels (Chinese) or label
and code (English).

Row messages are built when the expectation suite is generated (``pipeline/validation/suite.py``
stores both languages in each expectation's ``meta``) and may hold placeholders that are filled
per file: ``{earliest_date}``, ``{sender}``, ``{limit}``. File-level messages are rendered when
the receipt's language is known (:func:`file_message`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from pipeline import reference
from pipeline.contract import FIELD_BY_NAME, FIELDS

LANGS = ("zh", "en")

# Labels for the canonical fields: what a clerk calls the column.
FIELD_LABELS: dict[str, tuple[str, str]] = {
    "hospital_code": ("hospital code", "医院编码"),
    "case_id": ("case ID", "病例编号"),
    "report_type": ("report type", "报告类型"),
    "visit_datetime": ("visit date and time", "就诊时间"),
    "injury_datetime": ("injury date and time", "受伤时间"),
    "sex": ("sex", "性别"),
    "age": ("age", "年龄"),
    "age_unit": ("age unit", "年龄单位"),
    "residence_region": ("region of residence", "户籍地区编码"),
    "cause": ("injury cause", "伤害原因"),
    "place": ("place of injury", "伤害发生地点"),
    "activity": ("activity when injured", "伤害发生时活动"),
    "intent": ("intent", "伤害意图"),
    "injury_nature": ("nature of injury", "伤害性质"),
    "body_region": ("injured body part", "伤害部位"),
    "severity": ("severity", "伤害严重程度"),
    "outcome": ("outcome", "伤害结局"),
    "product_name": ("product name", "产品名称"),
    "product_category": ("product category code", "产品分类编码"),
    "brand": ("brand", "品牌"),
    "model": ("model", "型号"),
    "batch": ("batch", "批次"),
    "barcode": ("barcode", "条形码"),
    "product_relation": ("relation to the product", "伤害与产品关系"),
    "narrative": ("narrative", "伤害经过"),
    "patient_name": ("patient name", "患者姓名"),
    "patient_id_number": ("ID-card number", "身份证号"),
    "patient_phone": ("phone number", "联系电话"),
    "*": ("whole row", "整行"),
}

# What a text field's format is, in plain words (the contract keeps the pattern).
FORMATS: dict[str, tuple[str, str]] = {
    "hospital_code": (
        "{Field} must be two capital letters and three digits, e.g. GZ001",
        "“{field}”应为两个大写字母加三位数字，例如 GZ001",
    ),
    "case_id": (
        "{Field} may hold only letters, digits, '_' and '-' (at most 40 characters) and must "
        "start with a letter or digit",
        "“{field}”只能包含字母、数字、下划线和连字符（最长 40 个字符），并以字母或数字开头",
    ),
    "residence_region": (
        "{Field} must be a 6-digit administrative division code, e.g. 440104",
        "“{field}”应为 6 位行政区划代码，例如 440104",
    ),
    "product_category": (
        "{Field} must be two capital letters and two digits, e.g. TY11",
        "“{field}”应为两个大写字母加两位数字，例如 TY11",
    ),
    "barcode": (
        "{Field} must be 8 to 14 digits",
        "“{field}”应为 8 到 14 位数字",
    ),
}

UNIT_LABELS = {"years": ("years", "岁"), "months": ("months", "月"), "days": ("days", "天")}

# Row rules: (English, Chinese). {Field}/{field}: the field's label; {allowed}: a code set.
ROW_RULES: dict[str, tuple[str, str]] = {
    "required": ("{Field} is required and must not be blank", "“{field}”为必填项，不能为空"),
    "code_set": ("{Field} must be one of: {allowed}", "“{field}”只能填写：{allowed}"),
    "unknown_code": (
        "{Field} is not in the product taxonomy; leave it blank if unsure (Sentinel then "
        "assigns the category)",
        "“{field}”不在产品分类目录中；不确定时请留空，系统会自动分类",
    ),
    "code_not_valid_on_date": (
        "{Field} was not in use on the visit date; use the code valid at that time, or leave "
        "it blank",
        "“{field}”在就诊日期不在有效期内；请填写当时有效的编码，或留空",
    ),
    "invalid_datetime": (
        "{Field} is not a valid date and time; write it like 2026-03-01 14:30",
        "“{field}”不是有效的日期时间；请写成 2026-03-01 14:30 的形式",
    ),
    "not_a_number": ("{Field} must be a number", "“{field}”必须是数字"),
    "range": (
        "{Field} in {unit} must be between 0 and {limit}",
        "“{field}”以“{unit}”为单位时必须在 0 到 {limit} 之间",
    ),
    "format": ("{Field} has the wrong format", "“{field}”格式不正确"),
    "too_long": (
        "{Field} is longer than {limit} characters",
        "“{field}”超过 {limit} 个字符",
    ),
    "duplicate_key": (
        "the same case ID appears more than once in this file with different contents; keep "
        "one row per case",
        "同一病例编号在本文件中出现多次且内容不同；每个病例只保留一行",
    ),
    "hospital_mismatch": (
        "{Field} is not that of the sending hospital ({sender})",
        "“{field}”与报送医院（{sender}）不一致",
    ),
    "injury_after_visit": (
        "{Field} is after the visit date and time",
        "“{field}”晚于“就诊时间”",
    ),
    "visit_after_receipt": (
        "{Field} is after the time the file was received; check the date",
        "“{field}”晚于文件接收时间；请核对日期",
    ),
    "date_too_early": (
        "{Field} is before {earliest_date}, the earliest date this network accepts; check the year",
        "“{field}”早于本监测网络接受的最早日期 {earliest_date}；请核对年份",
    ),
    "extra_cells": (
        "the row has more cells than the header has columns; check for a stray comma or an "
        "unquoted value",
        "该行的单元格多于表头的列数；请检查是否有多余的逗号或未加引号的内容",
    ),
    "pseudonymised": (
        "{Field} could not be protected (pseudonymised); the row was not stored",
        "“{field}”未能完成假名化处理，此行未入库",
    ),
    "cell_too_large": (
        "{Field} holds more than {limit} characters, the most one cell may hold; the row was "
        "not stored",
        "“{field}”超过单元格上限 {limit} 个字符，此行未入库",
    ),
    # Against stored cases (pipeline/storage/ledger.py).
    "key_exists": (
        "this case ID was already sent with different contents; to change it, send the row "
        "with report type Correction",
        "该病例编号已报送过且内容不同；如需修改，请将“报告类型”填为“更正”后重新报送",
    ),
    "correction_unknown_case": (
        "this correction is for a case ID that was never sent; send it first with report type New",
        "要更正的病例从未报送过；请先以“新增”报送",
    ),
    "void_unknown_case": (
        "this void is for a case ID that was never sent; check the case ID",
        "要作废的病例从未报送过；请核对病例编号",
    ),
    "case_voided": (
        "this case was voided and cannot be corrected; send it again as a new case with a new "
        "case ID",
        "该病例已作废，不能更正；如需恢复，请以新的病例编号按“新增”报送",
    ),
}

# File-level reasons: message (en, zh) and advice (en, zh). Keys are the stored rule, or
# "<rule>.<variant>" for a more precise wording of the same rule.
_SPLIT = (
    "split the extract into smaller files (for example one per month) and send them one by one",
    "请将数据拆分为较小的文件（例如每月一个）分别报送",
)
_RESEND_CSV = (
    "save the extract as CSV (UTF-8 or GB18030) or as an Excel workbook (.xlsx) and send it again",
    "请将数据另存为 CSV（UTF-8 或 GB18030 编码）或 Excel 工作簿（.xlsx）后重新报送",
)
FILE_RULES: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    "unknown_sender": (
        (
            "the folder {hospital} is not a registered sentinel hospital",
            "文件夹 {hospital} 不是已登记的哨点医院",
        ),
        (
            "send the file from your hospital's own account; a hospital new to the network is "
            "registered by the network coordinator first",
            "请从本医院的账户报送；新加入监测网络的医院请先联系网络协调员登记",
        ),
    ),
    "inactive_sender": (
        (
            "hospital {hospital} is not active in the network on {date}",
            "医院 {hospital} 在 {date} 不在监测网络的有效期内",
        ),
        (
            "ask the network coordinator to check your hospital's membership dates",
            "请联系网络协调员核对本医院的入网日期",
        ),
    ),
    "unsupported_format": (
        ("files of type {suffix} are not accepted", "不接受 {suffix} 类型的文件"),
        (
            "send the extract as CSV (.csv), tab-separated text (.txt, .tsv) or an Excel "
            "workbook (.xlsx)",
            "请以 CSV（.csv）、制表符分隔文本（.txt、.tsv）或 Excel 工作簿（.xlsx）格式报送",
        ),
    ),
    "unsupported_format.xls": (
        (
            "old-style Excel workbooks (.xls) are not accepted",
            "不接受旧版 Excel 工作簿（.xls）",
        ),
        (
            "open it in Excel and save it as an Excel workbook (.xlsx) or as CSV, then send it "
            "again",
            "请在 Excel 中另存为 Excel 工作簿（.xlsx）或 CSV 后重新报送",
        ),
    ),
    "empty_file": (
        ("the file is empty", "文件是空的"),
        (
            "export the day's cases again and send the new file; on a day without cases, send "
            "nothing",
            "请重新导出当天的病例并再次报送；当天没有病例时无需报送",
        ),
    ),
    "no_header": (
        ("the first row holds no column names", "第一行没有列名（表头）"),
        ("put the column names in the first row", "请在第一行填写列名"),
    ),
    "no_rows": (
        ("the file has column names but no case rows", "文件只有表头，没有病例数据行"),
        (
            "if there were cases that day, export them again; on a day without cases, send nothing",
            "如当天有病例，请重新导出后报送；当天没有病例时无需报送",
        ),
    ),
    "undecodable_file": (
        (
            "the file is not text in UTF-8 or GB18030 and is not an Excel workbook",
            "文件既不是 UTF-8 或 GB18030 编码的文本，也不是 Excel 工作簿",
        ),
        _RESEND_CSV,
    ),
    "undecodable_file.nul": (
        (
            "line {line} holds a NUL byte: the file is not plain text (saved as UTF-16?)",
            "第 {line} 行含有空字节：文件不是普通文本（是否保存成了 UTF-16 编码？）",
        ),
        _RESEND_CSV,
    ),
    "mixed_encoding": (
        (
            "part of the file is UTF-8 (line {utf8_line}) and part GB18030 (line {gb_line}): "
            "it cannot be read safely",
            "文件一部分是 UTF-8 编码（第 {utf8_line} 行），一部分是 GB18030 编码（第 {gb_line} "
            "行），无法可靠读取",
        ),
        (
            "save the whole extract in one encoding (UTF-8 or GB18030) and send it again",
            "请将整个文件以同一种编码（UTF-8 或 GB18030）保存后重新报送",
        ),
    ),
    "control_characters": (
        (
            "line {line} holds a control character ({char}), which text may not contain",
            "第 {line} 行含有文本中不允许的控制字符（{char}）",
        ),
        (
            "remove the control characters (they usually come from text copied out of another "
            "program) and send the file again",
            "请删除这些控制字符（通常是从其他程序复制文字时带入的）后重新报送",
        ),
    ),
    "unreadable_file": (
        (
            "the file is not a readable Excel workbook (it may be damaged or cut short)",
            "文件不是可读取的 Excel 工作簿（可能已损坏或不完整）",
        ),
        (
            "export the workbook again, or save it as CSV, and send it again",
            "请重新导出工作簿，或另存为 CSV 后重新报送",
        ),
    ),
    "malformed_csv": (
        (
            "line {line} is not well-formed CSV: the quoting is broken",
            "第 {line} 行不符合 CSV 格式：引号使用不正确",
        ),
        (
            "export the file again from the hospital system (values holding commas, quotes or "
            "line breaks must be in double quotes)",
            "请从医院信息系统重新导出（含逗号、引号或换行的内容必须用双引号括起）",
        ),
    ),
    "malformed_csv.unclosed_quote": (
        (
            "line {line} is not well-formed CSV: a quoted value is never closed",
            "第 {line} 行不符合 CSV 格式：引号没有闭合",
        ),
        (
            "export the file again from the hospital system (values holding commas, quotes or "
            "line breaks must be in double quotes)",
            "请从医院信息系统重新导出（含逗号、引号或换行的内容必须用双引号括起）",
        ),
    ),
    "malformed_csv.after_quote": (
        (
            "line {line} is not well-formed CSV: text follows a closing quote",
            "第 {line} 行不符合 CSV 格式：右引号后还有多余的字符",
        ),
        (
            "export the file again from the hospital system (values holding commas, quotes or "
            "line breaks must be in double quotes)",
            "请从医院信息系统重新导出（含逗号、引号或换行的内容必须用双引号括起）",
        ),
    ),
    "ambiguous_columns": (
        (
            "the columns {first} and {second} both mean {field}",
            "列 {first} 与列 {second} 表示同一字段：{field}",
        ),
        ("keep one of the two columns and send the file again", "请只保留其中一列后重新报送"),
    ),
    "missing_required_columns": (
        ("required columns are missing: {fields}", "缺少必填列：{fields}"),
        ("add these columns: {accepted}", "请添加以下列：{accepted}"),
    ),
    "other_hospital_rows": (
        (
            "rows naming another hospital ({codes}) instead of {hospital}: {count}; the file looks "
            "misrouted",
            "有 {count} 行填写的是其他医院（{codes}），不是本院 {hospital}；文件可能报送错了",
        ),
        (
            "send only your hospital's cases from this account; if the hospital code in the "
            "export is wrong, correct it and send the file again",
            "本账户只能报送本院病例；如导出文件中的医院编码有误，请改正后重新报送",
        ),
    ),
    # Limits (pipeline/config.py IntakeLimits).
    "file_too_large": (
        (
            "the file is {size_mb} MB, more than the limit of {limit_mb} MB",
            "文件大小为 {size_mb} MB，超过上限 {limit_mb} MB",
        ),
        _SPLIT,
    ),
    "unpacked_too_large": (
        (
            "the workbook unpacks to more than {limit_mb} MB, the limit",
            "工作簿解压后超过上限 {limit_mb} MB",
        ),
        _SPLIT,
    ),
    "too_many_rows": (
        (
            "the file has more than {limit} data rows, the limit",
            "文件的数据行超过上限 {limit} 行",
        ),
        _SPLIT,
    ),
    "too_many_columns": (
        (
            "line {line} has {count} columns, more than the limit of {limit}",
            "第 {line} 行有 {count} 列，超过上限 {limit} 列",
        ),
        (
            "check that the extract has one column per field and no stray separators",
            "请检查导出文件：每个字段一列，没有多余的分隔符",
        ),
    ),
    # The landing zone as a boundary (pipeline/intake/landing.py).
    "symlink": (
        (
            "the file is a link to another place, not a file in the hospital's folder; it was "
            "not read",
            "该文件是指向其他位置的链接，不是本院文件夹中的文件，未被读取",
        ),
        (
            "put the file itself into the folder (copy it, do not link it)",
            "请将文件本身放入文件夹（复制，不要创建链接）",
        ),
    ),
    "symlinked_folder": (
        (
            "the hospital's folder is a link to another place; nothing in it was read",
            "本院文件夹是指向其他位置的链接，其中的文件均未被读取",
        ),
        (
            "the server's administrator must replace the link by a real folder",
            "请服务器管理员将该链接改为实际文件夹",
        ),
    ),
    "not_a_regular_file": (
        (
            "this is not an ordinary file (for example a pipe or a device); it was not read",
            "这不是普通文件（例如管道或设备文件），未被读取",
        ),
        (
            "put an ordinary file into the folder",
            "请在文件夹中放入普通文件",
        ),
    ),
    "bad_file_name": (
        (
            "the file name is not valid text (UTF-8); the file was not read",
            "文件名不是有效的文本（UTF-8），文件未被读取",
        ),
        (
            "rename the file using letters, digits, '-' and '_' and send it again",
            "请将文件改名（只用字母、数字、“-”和“_”）后重新报送",
        ),
    ),
    "unreadable_file.parts": (
        (
            "the workbook has more than {limit} parts; it is not an ordinary export",
            "工作簿包含的部件超过 {limit} 个，不是正常导出的文件",
        ),
        (
            "export the workbook again, or save it as CSV, and send it again",
            "请重新导出工作簿，或另存为 CSV 后重新报送",
        ),
    ),
    "unreadable_file.rows_lost": (
        (
            "the workbook could not be read completely (rows read: {read} of {found})",
            "工作簿未能完整读取（共 {found} 行，只读到 {read} 行）",
        ),
        (
            "export the workbook again, or save it as CSV, and send it again",
            "请重新导出工作簿，或另存为 CSV 后重新报送",
        ),
    ),
    "file_changed": (
        (
            "the file changed while it was being read; the new version is read as a new file",
            "文件在读取过程中被修改，修改后的版本将作为新文件读取",
        ),
        (
            "nothing to do once the upload has finished",
            "上传完成后无需处理",
        ),
    ),
}

STATUS_TEXT = {
    "accepted": ("accepted", "已接收"),
    "partially_accepted": ("partially accepted", "部分接收"),
    "rejected": ("rejected", "已拒收"),
    "duplicate": ("duplicate", "重复报送"),
}

DUPLICATE = (
    "identical to submission {original}, which was sent earlier; nothing was changed",
    "与此前的报送 {original} 完全相同，未做任何改动",
)


class _Keep(dict):
    """format_map helper: an unknown placeholder stays as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def _index(lang: str) -> int:
    return 1 if lang == "zh" else 0


def field_label(name: str, lang: str) -> str:
    """What a clerk calls the field (fields added to the contract later fall back to its
    aliases: the first Chinese one, the first English one that is not the internal name)."""
    if name in FIELD_LABELS:
        return FIELD_LABELS[name][_index(lang)]
    field = FIELD_BY_NAME.get(name)
    if field is None:
        return name
    english = next((a for a in field.aliases_en if a != name and "_" not in a), None)
    english = english or name.replace("_", " ")
    if lang == "zh":
        return field.aliases_zh[0] if field.aliases_zh else english
    return english


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


def _join(items: Iterable[str], lang: str) -> str:
    return ("、" if lang == "zh" else ", ").join(items)


def quote(value: object, lang: str) -> str:
    """A value the sender wrote (a header, a suffix, a code): quoted as data."""
    text = str(value)
    return f"“{text}”" if lang == "zh" else f"'{text}'"


def allowed_values(codeset: str, lang: str) -> str:
    """A code set as a clerk reads it: Chinese labels, or English label and code."""
    rows = reference.load_codesets()
    rows = rows[rows["codeset"] == codeset].sort_values("sort_order", key=lambda s: s.astype(int))
    if lang == "zh":
        return _join(rows["label_zh"], lang)
    return _join(
        (f"{label} ({code})" for code, label in zip(rows["code"], rows["label_en"], strict=True)),
        lang,
    )


def row_message(rule: str, field: str, lang: str, **params: object) -> str:
    """The message of a row rule for ``field`` (placeholders not given stay as written)."""
    index = _index(lang)
    if rule.startswith("range_"):
        unit = rule.removeprefix("range_")
        template = ROW_RULES["range"][index]
        params = {"unit": UNIT_LABELS.get(unit, (unit, unit))[index], **params}
    elif rule == "format" and field in FORMATS:
        template = FORMATS[field][index]
    else:
        template = ROW_RULES[rule][index]
    if rule == "code_set" and "allowed" not in params:
        codeset = FIELD_BY_NAME[field].codeset if field in FIELD_BY_NAME else None
        params = {**params, "allowed": allowed_values(codeset, lang) if codeset else ""}
    label = field_label(field, lang)
    text = template.format_map(_Keep(field=label, Field=_sentence_start(label), **params))
    return _sentence_start(text) if lang == "en" else text


def fill(message: str, params: Mapping[str, object]) -> str:
    """Fill the per-file placeholders of a stored row message."""
    if "{" not in message:
        return message
    return message.format_map(_Keep({k: str(v) for k, v in params.items()}))


def _render_param(name: str, value: object, lang: str) -> str:
    if name == "fields":
        return _join((field_label(str(f), lang) for f in value), lang)  # type: ignore[union-attr]
    if name == "accepted":
        return _join((accepted_headers(str(f), lang) for f in value), lang)  # type: ignore[union-attr]
    if name == "field":
        return field_label(str(value), lang)
    if name in ("first", "second", "suffix", "hospital"):
        return quote(value, lang) if name != "hospital" else str(value)
    if name == "codes":
        return _join((str(v) for v in value), lang)  # type: ignore[union-attr]
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def accepted_headers(field: str, lang: str) -> str:
    """A field with the headers accepted for it, in the receipt's language."""
    spec = FIELD_BY_NAME.get(field)
    label = field_label(field, lang)
    if spec is None:
        return label
    if lang == "zh":
        heads = list(spec.aliases_zh)
        return (
            f"{label}（表头可写：{_join((quote(h, lang) for h in heads), lang)}）"
            if heads
            else label
        )
    heads = [a for a in spec.aliases_en if "_" not in a] or [label]
    return f"{label} (headers accepted: {_join((quote(h, lang) for h in heads), lang)})"


def file_message(rule: str, lang: str, params: Mapping[str, object] | None = None) -> str:
    """The file-level reason in ``lang``; ``params`` may name a variant (``variant``)."""
    params = dict(params or {})
    key = f"{rule}.{params['variant']}" if params.get("variant") else rule
    (message, _advice) = FILE_RULES.get(key, FILE_RULES.get(rule, (("{rule}", "{rule}"), ("", ""))))
    rendered = {k: _render_param(k, v, lang) for k, v in params.items()}
    return message[_index(lang)].format_map(_Keep(rule=rule, **rendered))


def file_advice(rule: str, lang: str, params: Mapping[str, object] | None = None) -> str:
    params = dict(params or {})
    key = f"{rule}.{params['variant']}" if params.get("variant") else rule
    (_message, advice) = FILE_RULES.get(key, FILE_RULES.get(rule, (("", ""), ("", ""))))
    rendered = {k: _render_param(k, v, lang) for k, v in params.items()}
    return advice[_index(lang)].format_map(_Keep(**rendered))


def status_text(status: str, lang: str) -> str:
    return STATUS_TEXT.get(status, (status, status))[_index(lang)]


def duplicate_message(original: str, lang: str) -> str:
    return DUPLICATE[_index(lang)].format(original=original)


def receipt_language(value: object) -> str:
    return "en" if value == "en" else "zh"


# ---- language purity (the receipt tests and the catalogue's own test use these) -------------

# Words a Chinese receipt may carry in Latin letters: file formats, encodings, units.
LATIN_IN_CHINESE = {"csv", "xlsx", "xls", "tsv", "txt", "utf", "gb", "gbk", "mb", "sha", "excel"}
_LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")
_CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”]")


def english_words(text: str) -> list[str]:
    """Latin-letter words of ``text`` that are English (codes with digits such as GZ001, TY11,
    U+0007 and the allowed format names do not count)."""
    return [
        w
        for w in _LATIN_WORD.findall(text)
        if not any(c.isdigit() for c in w) and w.lower() not in LATIN_IN_CHINESE and len(w) > 1
    ]


def chinese_characters(text: str) -> list[str]:
    return _CJK.findall(text)


def all_messages() -> list[tuple[str, str, str]]:
    """(what, en, zh) for every template of the catalogue (for the purity test)."""
    out = [(f"row:{k}", en, zh) for k, (en, zh) in ROW_RULES.items()]
    out += [(f"format:{k}", en, zh) for k, (en, zh) in FORMATS.items()]
    for key, ((m_en, m_zh), (a_en, a_zh)) in FILE_RULES.items():
        out += [(f"file:{key}", m_en, m_zh), (f"advice:{key}", a_en, a_zh)]
    out += [(f"status:{k}", en, zh) for k, (en, zh) in STATUS_TEXT.items()]
    out += [(f"label:{k}", en, zh) for k, (en, zh) in FIELD_LABELS.items()]
    out += [("duplicate", *DUPLICATE)]
    return out


__all__ = [
    "FIELDS",
    "FILE_RULES",
    "ROW_RULES",
    "accepted_headers",
    "all_messages",
    "allowed_values",
    "chinese_characters",
    "english_words",
    "field_label",
    "file_advice",
    "file_message",
    "fill",
    "quote",
    "receipt_language",
    "row_message",
    "status_text",
]
