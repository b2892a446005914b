"""Issue 16, probe 9: identifiers written the way real clerks write them, in narratives and
product fields, are gone from everything intake stores (warehouse values, lake values, every
byte under SENTINEL_HOME). On main before issue 16 all of these were stored in clear."""

from __future__ import annotations

import re

import intake_helpers as h
import pyarrow.parquet as pq
import pytest

from pipeline.services.intake import discover, load, stage

# (field, text) as typed by the hospital; SECRETS are the identifiers in them.
ROWS = [
    (
        "narrative",
        "患儿在家中从床上跌落。其母王秀英，身份证110105 19491231 0031，手机１３７１２３４５６７８。",
    ),
    (
        "narrative",
        "骑电动车摔伤。家属电话136.2222.3333，座机(020)87654321，邮箱wang.xiuying@163.com。",
    ),
    ("narrative", "误吞纽扣电池。邻居诸葛小明发现后送医，微信号wxy_19880101。"),
    (
        "narrative",
        "烫伤。家住北京市朝阳区建国路88号院3号楼1单元502室，护士端木蓉予包扎，医生慕容复建议随访。",
    ),
    ("product_name", "电热水壶（家属诸葛小明网购）"),
    ("model", "型号不详，照片在微信wxy_19880101"),
    ("batch", "批号20250918；电话136.2222.3333"),
]
PATIENT = "王秀英"  # the patient of every row; one row's brand is the patient's own name
SECRETS = [
    "110105 19491231 0031",
    "110105194912310031",
    "１３７１２３４５６７８",
    "13712345678",
    "136.2222.3333",
    "13622223333",
    "(020)87654321",
    "87654321",
    "wang.xiuying@163.com",
    "wxy_19880101",
    "建国路88号",
    "王秀英",
    "诸葛小明",
    "端木蓉",
    "慕容复",
]


def _rows() -> list[dict]:
    rows = []
    for i, (field, text) in enumerate(ROWS, 1):
        row = h.case_row(f"P9{i}", patient_name=PATIENT)
        row[field] = text
        rows.append(row)
    rows.append({**h.case_row("P9B", patient_name=PATIENT), "brand": PATIENT})
    return rows


def _leaks(text: str) -> set[str]:
    return {s for s in SECRETS if s in text}


pytestmark = pytest.mark.slow  # a real stage and load with Great Expectations


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    root = tmp_path_factory.mktemp("probe9")
    settings = h.make_settings(root)
    h.write(settings.landing_dir / h.HOSPITAL / "GZ001_20260210.csv", h.csv_bytes(_rows()))
    for batch in discover(settings):
        stage(settings, batch)
    load(settings)
    return settings


def test_the_rows_were_stored(home):
    assert h.query(home, "SELECT count(*) FROM cases")[0][0] == len(ROWS) + 1
    brands = {b for (b,) in h.query(home, "SELECT brand FROM cases WHERE brand IS NOT NULL")}
    assert brands == {"[姓名]"}  # the brand equal to the patient's name


def test_no_warehouse_value_holds_an_identifier(home):
    from pipeline.storage.warehouse import connect

    con = connect(home.warehouse_path, read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        found = {}
        for table, column in columns:
            values = con.execute(f'SELECT DISTINCT "{column}" FROM "{table}"').fetchall()
            leaks = set().union(*(_leaks(v) for (v,) in values if isinstance(v, str)))
            if leaks:
                found[f"{table}.{column}"] = sorted(leaks)
    finally:
        con.close()
    assert found == {}


def test_no_lake_value_and_no_byte_under_home_holds_an_identifier(home):
    files = sorted(p for p in home.home.rglob("*") if p.is_file())
    assert any(p.suffix == ".parquet" for p in files)
    found = {}
    for path in files:
        data = path.read_bytes()
        leaks = _leaks(data.decode("utf-8", "ignore")) | _leaks(data.decode("gb18030", "ignore"))
        if path.suffix == ".parquet":
            table = pq.read_table(path)
            leaks |= _leaks("\n".join(str(v) for c in table.columns for v in c.to_pylist()))
        if leaks:
            found[str(path.relative_to(home.home))] = sorted(leaks)
    assert found == {}


def test_narratives_keep_their_clinical_text_and_say_what_was_removed(home):
    narratives = [n for (n,) in h.query(home, "SELECT narrative FROM cases ORDER BY case_id")]
    joined = "\n".join(narratives)
    for placeholder in ("[身份证号]", "[电话]", "[邮箱]", "[社交账号]", "[地址]", "[姓名]"):
        assert placeholder in joined
    assert any(re.search("从床上跌落", n) for n in narratives)
