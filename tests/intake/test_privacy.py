"""Patient identifiers never reach disk or the console in clear.

Files carrying clear names (Chinese and English), ID-card and phone numbers, in identifier
columns, inside narratives and product names, in an unknown column, in rows that fail rules
and in a file rejected whole, are staged and ingested (with Data Docs). Then every byte under
SENTINEL_HOME is scanned (raw, and decoded: HTML entities, JSON escapes, GB18030), every VARCHAR
value of every warehouse table is queried, every lake Parquet value is read, and the output of
``sentinel validate`` is checked.
"""

from __future__ import annotations

import html
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import intake_helpers as h
import pyarrow.parquet as pq
import pytest

from pipeline.services.intake import discover, ingest, load, stage

NAMES = ["王小明", "李四", "欧阳娜娜", "John Smith", "Mary O'Brien", "张伟"]
ID_NUMBERS = ["110105201801012345", "44010420150607123X", "310106199912311234"]
PHONES = ["13912345678", "13800138000", "15011112222", "020-87654321", "13700001111"]
SECRETS = NAMES + ID_NUMBERS + PHONES
# How they may also be written: phones with spaces or +86, the name in upper case.
VARIANTS = ["139 1234 5678", "+86 138-0013-8000", "JOHN SMITH", "44010420150607123x"]

NARRATIVES = [
    "患者王小明，电话13912345678，身份证110105201801012345，在家中从床上跌落致右臂骨折。",
    "姓名：李四，联系电话 139 1234 5678，骑电动车摔伤。",
    "患儿欧阳娜娜玩具小零件误吞，家长手机+86 138-0013-8000，证件号44010420150607123x。",
    "Patient JOHN SMITH (tel 15011112222) fell off a ladder at home.",
    "name: Mary O'Brien, burned by kettle; landline 020-87654321",
    "患者张伟，男，6岁，在学校从滑梯上摔下。",  # no name column value: the narrative alone
]


def _rows(hospital: str = h.HOSPITAL, prefix: str = "P") -> list[dict]:
    people = [
        ("王小明", "110105201801012345", "13912345678"),
        ("李四", "310106199912311234", "139 1234 5678"),
        ("欧阳娜娜", "44010420150607123X", "+86 138-0013-8000"),
        ("John Smith", "", "15011112222"),
        ("Mary O'Brien", "", "020-87654321"),
        ("", "", ""),
    ]
    rows = []
    for i, ((name, id_number, phone), narrative) in enumerate(
        zip(people, NARRATIVES, strict=True), 1
    ):
        rows.append(
            {
                **h.case_row(
                    f"{prefix}{i}",
                    hospital=hospital,
                    narrative=narrative,
                    product_name=f"{name}的自行车",
                    patient_name=name,
                    patient_id_number=id_number,
                    patient_phone=phone,
                ),
                "监护人电话": "13700001111",
            }
        )
    rows[1]["sex"] = "不明"  # fails a rule: the row goes to quarantine (row_json)
    rows[2]["narrative"] = NARRATIVES[2] + "很" * 2000  # too long: its value is echoed
    return rows


HEADERS = [*h.EN_HEADERS, "监护人电话"]


def _landing(settings) -> None:
    g, s = h.HOSPITAL, h.OTHER_HOSPITAL
    h.write(settings.landing_dir / g / "GZ001_20260210.csv", h.csv_bytes(_rows(), headers=HEADERS))
    h.write(
        settings.landing_dir / g / "GZ001_20260211.csv",
        h.csv_bytes(_rows(prefix="Q"), headers=HEADERS, language="zh", encoding="gb18030").replace(
            "监护人电话".encode("gb18030"), "家长电话".encode("gb18030")
        ),
    )
    h.write(
        settings.landing_dir / s / "SH001_20260210.xlsx", h.xlsx_bytes(_rows(s), headers=HEADERS)
    )
    # A file rejected whole (rows of another hospital): its rows are still quarantined.
    mixed = _rows(prefix="R")
    mixed[0]["hospital_code"] = h.OTHER_HOSPITAL
    h.write(settings.landing_dir / g / "GZ001_20260212.csv", h.csv_bytes(mixed, headers=HEADERS))


def _forms(secret: str) -> set[str]:
    return {secret, secret.upper(), secret.lower(), secret.replace(" ", "")}


NEEDLES = sorted({f for s in SECRETS + VARIANTS for f in _forms(s)}, key=len, reverse=True)
_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def _leaks(text: str) -> list[str]:
    views = {text, html.unescape(text)}
    views |= {_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), v) for v in list(views)}
    return sorted({n for n in NEEDLES for v in views if n in v})


def _byte_leaks(data: bytes) -> set[str]:
    leaks = set(_leaks(data.decode("utf-8", errors="ignore")))
    leaks |= set(_leaks(data.decode("gb18030", errors="ignore")))
    leaks |= {n for n in NEEDLES if n.encode("utf-16-le") in data}
    if data.startswith(b"PK\x03\x04"):  # XLSX and other zip containers: scan the members
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for name in archive.namelist():
                    leaks |= _byte_leaks(archive.read(name))
        except zipfile.BadZipFile:
            pass
    return leaks


def _scan_bytes(root: Path) -> dict[str, list[str]]:
    """Raw bytes of every file (and the values of every Parquet file, which is compressed)."""
    found = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        leaks = _byte_leaks(path.read_bytes())
        if path.suffix == ".parquet":
            leaks |= set(_parquet_leaks(path))
        if leaks:
            found[str(path.relative_to(root))] = sorted(leaks)
    return found


def _parquet_leaks(path: Path) -> list[str]:
    table = pq.read_table(path)
    text = "\n".join(str(v) for column in table.columns for v in column.to_pylist())
    return _leaks(text + "\n" + str(table.schema.metadata))


def _scan_warehouse(settings) -> dict[str, list[str]]:
    from pipeline.storage.warehouse import connect

    found: dict[str, list[str]] = {}
    con = connect(settings.warehouse_path, read_only=True)
    try:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_schema = 'main'"
        ).fetchall()
        assert len(columns) > 50
        for table, column in columns:
            values = con.execute(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
            leaks = sorted({n for (v,) in values for n in _leaks(v)})
            if leaks:
                found[f"{table}.{column}"] = leaks
    finally:
        con.close()
    return found


def _scan_lake(settings) -> dict[str, list[str]]:
    files = sorted(settings.lake_dir.rglob("*.parquet"))
    assert files
    return {path.name: leaks for path in files if (leaks := _parquet_leaks(path))}


def _new_temp_entries(before: set[str]) -> list[Path]:
    root = Path(tempfile.gettempdir())
    return [root / name for name in set(os.listdir(root)) - before]


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    """Stage (and scan staging), then load: a home that went through a full ingest."""
    root = tmp_path_factory.mktemp("privacy")
    settings = h.make_settings(root)
    _landing(settings)
    temp_before = set(os.listdir(tempfile.gettempdir()))
    batches = discover(settings)
    for batch in batches:
        stage(settings, batch)  # with Data Docs, as ingest does
    staging = {
        "bytes": _scan_bytes(settings.staging_dir),
        "files": len(list(settings.staging_dir.rglob("*.parquet"))),
    }
    load(settings)
    ingest(settings)  # nothing new: a no-op
    new_temp = _new_temp_entries(temp_before)
    return settings, staging, new_temp


@pytest.mark.slow
def test_identifiers_reach_the_pipeline(ingested):
    """The scan is meaningful: the files were read, rows stored, quarantined and documented."""
    settings, staging, _ = ingested
    assert staging["files"] >= 4
    statuses = dict(h.query(settings, "SELECT file_name, status FROM submissions"))
    assert statuses == {
        "GZ001/GZ001_20260210.csv": "partially_accepted",
        "GZ001/GZ001_20260211.csv": "partially_accepted",
        "GZ001/GZ001_20260212.csv": "rejected",
        "SH001/SH001_20260210.xlsx": "partially_accepted",
    }
    assert h.query(settings, "SELECT count(*) FROM cases")[0][0] == 12
    pseudonyms = h.query(
        settings, "SELECT DISTINCT patient_name FROM cases WHERE patient_name IS NOT NULL"
    )
    assert all(re.fullmatch(r"na_[0-9a-f]{20}", p) for (p,) in pseudonyms)
    # The same patient links across files and formats (one pseudonym per name).
    assert len(pseudonyms) == 3
    narratives = [n for (n,) in h.query(settings, "SELECT narrative FROM cases")]
    assert any("[姓名]" in n and "[电话]" in n and "[身份证号]" in n for n in narratives)
    assert list(settings.data_docs_dir.rglob("*.html"))


@pytest.mark.slow
def test_the_scan_finds_clear_identifiers(ingested):
    """Positive control: in the landing files (UTF-8, GB18030, XLSX) the scan finds them all."""
    settings = ingested[0]
    found = _scan_bytes(settings.landing_dir)
    assert set(found) == {
        "GZ001/GZ001_20260210.csv",
        "GZ001/GZ001_20260211.csv",
        "GZ001/GZ001_20260212.csv",
        "SH001/SH001_20260210.xlsx",
    }
    written = set(SECRETS + VARIANTS) - {"13800138000"}  # only sent as +86 138-0013-8000
    for leaks in found.values():
        assert written <= set(leaks)


@pytest.mark.slow
def test_staging_holds_no_identifier(ingested):
    assert ingested[1]["bytes"] == {}


@pytest.mark.slow
def test_no_file_under_home_holds_an_identifier(ingested):
    settings = ingested[0]
    assert _scan_bytes(settings.home) == {}


@pytest.mark.slow
def test_warehouse_values_hold_no_identifier(ingested):
    assert _scan_warehouse(ingested[0]) == {}


@pytest.mark.slow
def test_lake_values_hold_no_identifier(ingested):
    assert _scan_lake(ingested[0]) == {}


@pytest.mark.slow
def test_nothing_with_identifiers_left_in_temp(ingested):
    """Nothing written outside SENTINEL_HOME (e.g. GX's default Data Docs site in /tmp)."""
    leaks = {}
    for entry in ingested[2]:
        if entry.is_dir():
            leaks.update(_scan_bytes(entry))
        elif entry.is_file() and (found := _leaks(entry.read_bytes().decode("utf-8", "ignore"))):
            leaks[str(entry)] = found
    assert leaks == {}


VALIDATE = (
    "import typer\n"
    "from pipeline.cli.intake import register\n"
    "app = typer.Typer()\n"
    "register(app)\n"
    "app()\n"
)


def _validate_cli_file(tmp_path: Path) -> Path:
    rows = _rows()
    return h.write(
        tmp_path / "GZ001_20260210.csv", h.csv_bytes(rows, headers=HEADERS, language="zh")
    )


@pytest.mark.slow
def test_validate_cli_output_holds_no_identifier(tmp_path):
    """``sentinel validate`` in a real process: its stdout and stderr."""
    path = _validate_cli_file(tmp_path)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENTINEL_")}
    env.update(SENTINEL_HOME=str(tmp_path / "home"), SENTINEL_PSEUDONYM_KEY=h.KEY)
    result = subprocess.run(
        [sys.executable, "-c", VALIDATE, "validate", str(path), "--hospital", h.HOSPITAL],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1, result.stderr  # some rows fail
    # Chinese headers, a Chinese receipt: field labels and messages, no internal names.
    assert "| 性别 |" in result.stdout and "超过 2000 个字符" in result.stdout
    assert _leaks(result.stdout) == []
    assert _leaks(result.stderr) == []
    assert not (tmp_path / "home").exists()  # a dry run stores nothing


@pytest.mark.slow
def test_validate_cli_json_holds_no_identifier(tmp_path, monkeypatch):
    import typer
    from typer.testing import CliRunner

    from pipeline.cli.intake import register

    path = _validate_cli_file(tmp_path)
    monkeypatch.setenv("SENTINEL_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SENTINEL_PSEUDONYM_KEY", h.KEY)
    app = typer.Typer()
    register(app)
    result = CliRunner().invoke(app, ["validate", str(path), "--hospital", h.HOSPITAL, "--json"])
    assert result.exit_code == 1, result.output
    receipt = json.loads(result.stdout)
    assert receipt["rows_received"] == 6 and receipt["rows_quarantined"] == 2
    assert _leaks(result.stdout) == [] and _leaks(result.stderr) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "患者王小明，电话13912345678，身份证110105201801012345",
            "患者[姓名]，电话[电话]，身份证[身份证号]",
        ),
        ("患儿欧阳娜娜，女，3岁", "患儿[姓名]，女，3岁"),
        ("伤者李明 在路上被撞", "伤者[姓名] 在路上被撞"),
        # The label stays and only the name goes; text without Chinese gets English placeholders.
        ("姓名：李四，联系电话 139 1234 5678", "姓名：[姓名]，联系电话 [电话]"),
        ("name: John Smith, tel +86 138-0013-8000", "name: [NAME], tel [PHONE]"),
        ("ID 44010420150607123x; 020-87654321", "ID [ID]; [PHONE]"),
        # Narrative words after the role word are not names.
        ("患者跌倒，右臂骨折。", "患者跌倒，右臂骨折。"),
        ("患儿摔伤。", "患儿摔伤。"),
        ("患者车祸后，送医。", "患者车祸后，送医。"),
        ("患者高处坠落，", "患者高处坠落，"),
        ("患者于家中跌倒，", "患者于家中跌倒，"),
        ("患者查体：神清", "患者查体：神清"),
        ("4 YOM FELL OFF BED, DX: FRACTURE", "4 YOM FELL OFF BED, DX: FRACTURE"),
    ],
)
def test_scrub_text(text, expected):
    from pipeline.privacy import scrub_text

    assert scrub_text(text) == expected
