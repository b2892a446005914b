"""Reading and preparing extracts: encodings, XLSX, NEISS, and whole-file rejections."""

from __future__ import annotations

from datetime import datetime

import intake_helpers as h
import pandas as pd
import pytest

from pipeline.intake.prepare import prepare_extract
from pipeline.intake.reader import FileRejected, decode_text, read_extract
from pipeline.services.intake import dry_run

KEY = h.KEY.encode()


def _prepare(path, sender=h.HOSPITAL):
    raw = read_extract(path)
    return raw, prepare_extract(raw, sender=sender, received_at=h.RECEIVED, key=KEY)


def _first(prepared) -> dict:
    return prepared.frame.iloc[0].to_dict()


# --- encodings -------------------------------------------------------------------------------


def test_utf8_csv_english_headers(tmp_path):
    path = h.write(tmp_path / "x.csv", h.csv_bytes([h.case_row("C1"), h.case_row("C2")]))
    raw, prepared = _prepare(path)
    assert (raw.encoding, raw.file_format) == ("utf-8", "csv")
    assert raw.row_numbers == [1, 2]
    row = _first(prepared)
    assert row["case_id"] == "C1" and row["visit_datetime"] == "2026-02-10 09:30:00"
    assert row["narrative"] == "孩子骑儿童自行车时摔倒，右前臂骨折。"
    assert prepared.header_language == "en" and prepared.missing_required == []


def test_utf8_bom(tmp_path):
    path = h.write(tmp_path / "x.csv", h.csv_bytes([h.case_row()], encoding="utf-8-sig"))
    raw, prepared = _prepare(path)
    assert raw.encoding == "utf-8-sig"
    assert raw.headers[0] == "hospital_code"  # the BOM is not part of the first header
    assert _first(prepared)["hospital_code"] == h.HOSPITAL


@pytest.mark.parametrize("encoding", ["gb18030", "gbk"])
def test_gb18030_chinese_headers_and_labels(tmp_path, encoding):
    rows = [
        h.case_row(
            "C1",
            sex="男",
            cause="跌倒/坠落",
            place="家中",
            activity="休闲活动",
            intent="非故意",
            injury_nature="骨折",
            body_region="上肢",
            severity="中度",
            outcome="处理后离院",
            product_relation="正常使用中的意外",
            age_unit="岁",
        ),
        h.case_row(
            "C2",
            sex="女",
            cause="烧烫伤",
            injury_nature="烧烫伤",
            narrative="患儿被电饭煲蒸汽烫伤左手。",
        ),
    ]
    path = h.write(tmp_path / "x.csv", h.csv_bytes(rows, language="zh", encoding=encoding))
    raw, prepared = _prepare(path)
    assert raw.encoding == "gb18030"
    assert raw.headers[:3] == ["医院编码", "病例编号", "报告类型"]
    assert prepared.header_language == "zh" and prepared.unknown_columns == []
    first, second = (prepared.frame.iloc[i].to_dict() for i in (0, 1))
    assert (first["sex"], first["cause"], first["place"], first["activity"]) == (
        "male",
        "fall",
        "home",
        "leisure",
    )
    assert (first["intent"], first["injury_nature"], first["body_region"]) == (
        "unintentional",
        "fracture",
        "upper_limb",
    )
    assert (first["severity"], first["outcome"], first["product_relation"]) == (
        "moderate",
        "treated_released",
        "normal_use_accident",
    )
    assert first["age_unit"] == "years"
    assert first["narrative"] == "孩子骑儿童自行车时摔倒，右前臂骨折。"
    assert (second["sex"], second["cause"], second["injury_nature"]) == (
        "female",
        "burn_scald",
        "burn",
    )
    assert second["narrative"] == "患儿被电饭煲蒸汽烫伤左手。"


def test_gb18030_four_byte_characters_round_trip(tmp_path):
    # U+4DAE and U+20000 exist only in GB18030 (four-byte sequences), not in GBK.
    narrative = "患儿姓䶮𠀀，玩具卡喉。"
    path = h.write(
        tmp_path / "x.csv",
        h.csv_bytes([h.case_row(narrative=narrative)], language="zh", encoding="gb18030"),
    )
    raw, prepared = _prepare(path)
    assert raw.encoding == "gb18030"
    assert _first(prepared)["narrative"] == narrative


def test_gb18030_file_is_not_taken_for_utf8():
    text = "医院编码,病例编号,性别\r\nGZ001,C1,男\r\n"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert decode_text(data) == (text, "gb18030")


def test_utf8_file_is_not_taken_for_gb18030():
    text = "医院编码,病例编号,性别\r\nGZ001,C1,男\r\n"
    assert decode_text(text.encode("utf-8")) == (text, "utf-8")


def test_mixed_encodings_are_rejected_not_garbled():
    # A UTF-8 file with one row appended from a GB18030 export: decoding the whole file as
    # GB18030 would silently turn the UTF-8 rows into mojibake.
    # (These UTF-8 bytes happen to be valid GB18030: "鐢靛姩杞﹀厖鐢垫椂璧风伀鐑т激".)
    head = "hospital_code,case_id,narrative\r\nGZ001,C1,电动车充电时起火烧伤\r\n".encode()
    tail = "GZ001,C2,电饭煲蒸汽烫伤\r\n".encode("gb18030")
    (head + tail).decode("gb18030")
    with pytest.raises(FileRejected) as info:
        decode_text(head + tail)
    assert info.value.rule == "mixed_encoding"
    # ... and when the UTF-8 part is not even valid GB18030 it is still the documented
    # mixed_encoding, naming a line of each part (issue 16, probe 12: it used to be reported
    # as undecodable_file).
    head = "hospital_code,case_id,narrative\r\nGZ001,C1,儿童自行车摔倒骨折\r\n".encode()
    with pytest.raises(FileRejected) as info:
        decode_text(head + tail)
    assert info.value.rule == "mixed_encoding"
    assert info.value.params == {"utf8_line": 2, "gb_line": 3}


def test_tab_separated_text(tmp_path):
    path = h.write(tmp_path / "x.txt", h.csv_bytes([h.case_row()], delimiter="\t"))
    raw, prepared = _prepare(path)
    assert raw.file_format == "tsv"
    assert _first(prepared)["cause"] == "fall"


# --- XLSX ------------------------------------------------------------------------------------


def test_xlsx_chinese_headers(tmp_path):
    rows = [h.case_row("C1", sex="男", cause="跌倒/坠落"), h.case_row("C2")]
    path = h.write(tmp_path / "x.xlsx", h.xlsx_bytes(rows, language="zh"))
    raw, prepared = _prepare(path)
    assert (raw.encoding, raw.file_format) == ("xlsx", "xlsx")
    assert prepared.header_language == "zh"
    first = _first(prepared)
    assert (first["sex"], first["cause"], first["case_id"]) == ("male", "fall", "C1")


def test_xlsx_typed_cells(tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    row = h.case_row("C1")
    sheet.append(h.EN_HEADERS)
    values = [row[k] for k in h.EN_HEADERS]
    values[h.EN_HEADERS.index("visit_datetime")] = datetime(2026, 2, 10, 9, 30)
    values[h.EN_HEADERS.index("age")] = 4  # a number cell
    values[h.EN_HEADERS.index("barcode")] = 6901234567892
    sheet.append([None if v == "" else v for v in values])
    sheet.append([])  # a blank row is skipped but keeps the sender's numbering
    sheet.append([None if v == "" else v for v in values[:1]] + ["C2"] + values[2:])
    path = tmp_path / "x.xlsx"
    workbook.save(path)
    raw, prepared = _prepare(path)
    assert raw.row_numbers == [1, 3]
    first = _first(prepared)
    assert first["visit_datetime"] == "2026-02-10 09:30:00"
    assert first["age"] == "4" and first["barcode"] == "6901234567892"


# --- NEISS -----------------------------------------------------------------------------------


def test_neiss_codes_through_crosswalks(tmp_path):
    rows = [
        h.neiss_row("260115001"),  # defaults: age 204, male, head, fracture, released, home
        h.neiss_row(
            "260115002",
            Age="35",
            Sex="2",
            Body_Part="34",
            Diagnosis="48",
            Disposition="4",
            Location="9",
            Product_1="5040",
            Narrative_1="35YOF SCALDED WRIST, ADMITTED",
        ),
        h.neiss_row(
            "260115003",
            Age="0",
            Sex="0",
            Diagnosis="68",
            Disposition="5",
            Location="0",
            Product_1="4321",
        ),
        h.neiss_row("260115004", Product_1="1001"),  # a NEISS code with no taxonomy category
    ]
    path = h.write(tmp_path / "neiss.txt", h.neiss_bytes(rows))
    raw, prepared = _prepare(path, sender=h.OTHER_HOSPITAL)
    assert raw.file_format == "neiss" and prepared.missing_required == []
    a, b, c, d = (prepared.frame.iloc[i].to_dict() for i in range(4))
    assert a["hospital_code"] == h.OTHER_HOSPITAL and a["case_id"] == "260115001"
    assert (a["age"], a["age_unit"], a["sex"]) == ("4", "months", "male")
    assert (a["body_region"], a["injury_nature"], a["outcome"], a["place"]) == (
        "head",
        "fracture",
        "treated_released",
        "home",
    )
    assert (a["severity"], a["cause"], a["report_type"]) == ("mild", "unknown", "new")
    assert a["visit_datetime"] == "2026-01-15 00:00:00"
    assert (a["product_category"], a["product_name"]) == ("BM03", "FLOORS OR FLOORING MATERIALS")
    assert a["narrative"].startswith("4 MOM FELL OFF BED")
    assert (b["age"], b["age_unit"], b["sex"], b["body_region"]) == (
        "35",
        "years",
        "female",
        "upper_limb",
    )
    assert (b["injury_nature"], b["cause"], b["outcome"], b["severity"], b["place"]) == (
        "burn",
        "burn_scald",
        "admitted",
        "severe",
        "sports_area",
    )
    assert b["product_category"] == "VE07"
    assert pd.isna(c["age"])  # NEISS age 0 = unknown
    assert (c["sex"], c["cause"], c["outcome"], c["severity"], c["place"]) == (
        "unknown",
        "poisoning",
        "observed",
        "moderate",
        "unknown",
    )
    assert pd.isna(c["product_category"]) and c["product_name"] == "NEISS product 4321"
    assert pd.isna(d["product_category"]) and d["product_name"] == "ELECTRIC FENCES"


@pytest.mark.slow
def test_neiss_missing_required_column(tmp_path, settings):
    headers = [x for x in h.NEISS_HEADERS if x != "Diagnosis"]
    data = "\t".join(headers) + "\n" + "\t".join(h.neiss_row()[x] for x in headers) + "\n"
    path = h.write(tmp_path / "neiss.txt", data.encode())
    receipt = dry_run(path, h.OTHER_HOSPITAL, settings)
    assert receipt["file_rule"] == "missing_required_columns"
    assert "Diagnosis" in receipt["file_message"]


ODD_CODES = ["--5", "²", "٣", "1_0", "-1", "abc", "1.5"]


@pytest.mark.slow
def test_neiss_odd_code_cells_never_crash(tmp_path, settings, validator):
    rows = [
        h.neiss_row(
            f"26011500{i}",
            Sex=bad,
            Body_Part=bad,
            Diagnosis=bad,
            Disposition=bad,
            Location=bad,
            Product_1=bad,
            Age=bad,
        )
        for i, bad in enumerate(ODD_CODES, 1)
    ]
    path = h.write(tmp_path / "neiss.txt", h.neiss_bytes(rows))
    receipt = dry_run(path, h.OTHER_HOSPITAL, settings, validator=validator)
    assert receipt["file_rule"] is None and receipt["status"] == "rejected"
    for number, bad in enumerate(ODD_CODES, 1):
        errors = [e for e in receipt["errors"] if e["row"] == number]
        assert {(e["field"], e["rule"]) for e in errors} >= {
            ("sex", "code_set"),
            ("body_region", "code_set"),
            ("injury_nature", "code_set"),
            ("outcome", "code_set"),
            ("place", "code_set"),
        }, bad
        assert {e["value"] for e in errors if e["field"] == "sex"} == {bad}


# --- whole-file rejections -------------------------------------------------------------------


def _receipt(tmp_path, settings, name: str, data: bytes, hospital: str = h.HOSPITAL) -> dict:
    path = h.write(tmp_path / "in" / hospital / name, data)
    return dry_run(path, hospital, settings)


def _assert_rejected(receipt: dict, rule: str) -> None:
    assert receipt["status"] == "rejected"
    assert receipt["file_rule"] == rule
    assert receipt["file_message"]
    assert receipt["rows_stored"] == 0


def _without(column: str) -> list[str]:
    return [c for c in h.EN_HEADERS if c != column]


REJECTIONS = {
    "empty": ("x.csv", b"", "empty_file"),
    "blank": ("x.csv", b" \r\n\r\n\t", "empty_file"),
    "bom only": ("x.csv", b"\xef\xbb\xbf", "empty_file"),
    "commas only": ("x.csv", b",,,\r\n,,\r\n", "empty_file"),
    "header only": ("x.csv", h.csv_bytes([]), "no_rows"),
    "header only xlsx": ("x.xlsx", h.xlsx_bytes([]), "no_rows"),
    "garbage": ("x.csv", bytes(range(256)) * 8, "undecodable_file"),
    "nul bytes": (
        "x.csv",
        h.csv_bytes([h.case_row()]).replace(b"C0001", b"C\x0001"),
        "undecodable_file",
    ),
    "not a workbook": ("x.xlsx", b"PK\x03\x04 this is not a zip", "unreadable_file"),
    "legacy xls": ("x.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, "unsupported_format"),
    "pdf": ("x.pdf", b"%PDF-1.4", "unsupported_format"),
    "bad quoting": ("x.csv", b'hospital_code,case_id\r\nGZ001,"C1"x,\r\n', "malformed_csv"),
    "missing column": (
        "x.csv",
        h.csv_bytes([h.case_row()], headers=_without("sex")),
        "missing_required_columns",
    ),
    "ambiguous": (
        "x.csv",
        h.csv_bytes([h.case_row()], headers=[*h.EN_HEADERS, "sex"]),
        "ambiguous_columns",
    ),
    "other hospital": (
        "x.csv",
        h.csv_bytes([h.case_row("C1"), h.case_row("C2", hospital=h.OTHER_HOSPITAL)]),
        "other_hospital_rows",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", REJECTIONS, ids=list(REJECTIONS))
def test_file_rejections(tmp_path, settings, case):
    name, data, rule = REJECTIONS[case]
    _assert_rejected(_receipt(tmp_path, settings, name, data), rule)


@pytest.mark.slow
def test_missing_required_column_names_the_field(tmp_path, settings):
    receipt = _receipt(
        tmp_path, settings, "x.csv", h.csv_bytes([h.case_row()], headers=_without("narrative"))
    )
    assert "narrative" in receipt["file_message"]
    assert receipt["rows_quarantined"] == 1


def test_ambiguous_columns_chinese_and_english(tmp_path, settings):
    data = h.csv_bytes([h.case_row()], headers=[*h.EN_HEADERS]).replace(
        b"patient_phone", "性别".encode()
    )
    receipt = _receipt(tmp_path, settings, "x.csv", data)
    _assert_rejected(receipt, "ambiguous_columns")
    assert "sex" in receipt["file_message"]


@pytest.mark.slow
def test_unknown_and_inactive_sender(tmp_path, settings):
    data = h.csv_bytes([h.case_row(hospital="ZZ999")])
    _assert_rejected(_receipt(tmp_path, settings, "x.csv", data, "ZZ999"), "unknown_sender")
    # WH002 left the network on 2024-06-30; the file arrives in 2026.
    data = h.csv_bytes([h.case_row(hospital="WH002")])
    _assert_rejected(_receipt(tmp_path, settings, "x.csv", data, "WH002"), "inactive_sender")


@pytest.mark.slow
def test_unknown_columns_are_reported_not_rejected(tmp_path, settings, validator):
    rows = [{**h.case_row(), "ward": "3A"}]
    path = h.write(tmp_path / "x.csv", h.csv_bytes(rows, headers=[*h.EN_HEADERS, "ward"]))
    receipt = dry_run(path, h.HOSPITAL, settings, validator=validator)
    assert receipt["status"] == "accepted" and receipt["unknown_columns"] == ["ward"]
