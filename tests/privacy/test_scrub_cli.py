"""``sentinel privacy scrub``: one column of any UTF-8 CSV, every other byte of meaning kept,
one-line errors in the user's language, no partial output."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.cli import app

ROWS = [
    ["id", "text", "who", "note"],
    ["1", "患者王秀英，电话 138 1234 5678，家住广州市天河区天河路123号。", "王秀英", "x"],
    ["2", 'plain, with a comma and "quotes"', "", "y"],
    ["3", "multi\nline: call (555) 123-4567", "John Smith", "z"],
    ["4", "John Smith came back; brand 格力", "John Smith", ""],
    ["5", "", "", "blank text"],
]


def _write(path: Path, rows: list[list[str]], bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        csv.writer(f).writerows(rows)
    return path


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def _run(*args: str):
    return CliRunner().invoke(app, list(args))


def test_scrubs_the_column_and_keeps_everything_else(tmp_path):
    src, out = _write(tmp_path / "in.csv", ROWS, bom=True), tmp_path / "out.csv"
    result = _run("privacy", "scrub", str(src), "--output", str(out), "--name-column", "who")
    assert result.exit_code == 0, result.output
    assert "5 rows, 3 changed" in result.stdout
    rows = _read(out)
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")  # a BOM stays a BOM (Excel users)
    assert [r[0] for r in rows] == ["id", "1", "2", "3", "4", "5"]
    assert [r[2:] for r in rows] == [r[2:] for r in ROWS]  # other columns untouched
    assert rows[1][1] == "患者[姓名]，电话 [电话]，家住[地址]。"
    assert rows[2][1] == ROWS[2][1]
    assert rows[3][1] == "multi\nline: call [PHONE]"
    # The row's own name, by literal matching; text holding Chinese gets Chinese placeholders.
    assert rows[4][1] == "[姓名] came back; brand 格力"
    assert rows[5][1] == ""


def test_the_default_column_is_text_and_any_column_can_be_chosen(tmp_path):
    src = _write(tmp_path / "in.csv", [["narrative"], ["电话13812345678"]])
    out = tmp_path / "out.csv"
    missing = _run("privacy", "scrub", str(src), "--output", str(out))
    assert missing.exit_code == 2
    assert "no text column 'text' (columns: narrative)" in missing.output
    assert not out.exists()
    chosen = _run("privacy", "scrub", str(src), "-o", str(out), "--column", "narrative")
    assert chosen.exit_code == 0 and _read(out) == [["narrative"], ["电话[电话]"]]


@pytest.mark.parametrize(
    ("make", "expected_en", "expected_zh"),
    [
        (lambda d: d / "nope.csv", "nope.csv: no such file", "nope.csv：找不到该文件"),
        (
            lambda d: (
                (d / "gb.csv").write_bytes("text\n患者王秀英\n".encode("gb18030")) and d / "gb.csv"
            ),
            "gb.csv: line 2: not UTF-8",
            "gb.csv：第 2 行不是 UTF-8 编码",
        ),
        (
            lambda d: (d / "empty.csv").write_bytes(b"") == 0 and d / "empty.csv",
            "empty.csv: empty file (no header row)",
            "empty.csv：空文件（没有表头行）",
        ),
        (
            lambda d: _write(d / "cols.csv", [["a", "b"], ["1", "2"]]),
            "cols.csv: no text column 'text' (columns: a, b); choose one with --column",
            "cols.csv：没有名为“text”的列（现有列：a, b）；请用 --column 指定",
        ),
    ],
)
def test_bad_input_is_one_line_in_the_users_language_and_writes_nothing(
    tmp_path, make, expected_en, expected_zh
):
    src, out = make(tmp_path), tmp_path / "out.csv"
    for lang, expected in (("en", expected_en), ("zh", expected_zh)):
        result = _run("--lang", lang, "privacy", "scrub", str(src), "--output", str(out))
        assert result.exit_code == 2, result.output
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], result.output
        assert "Traceback" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        p.name for p in tmp_path.iterdir() if p.name != "out.csv"
    )
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*"))


def test_a_bad_byte_deep_in_the_file_leaves_no_partial_output(tmp_path):
    rows = [["text"]] + [[f"患者王秀英电话1381234{i:04d}"] for i in range(2500)]
    src = _write(tmp_path / "in.csv", rows)
    src.write_bytes(src.read_bytes() + "患者\n".encode("gb18030"))
    out = tmp_path / "out.csv"
    result = _run("privacy", "scrub", str(src), "--output", str(out))
    assert result.exit_code == 2 and "line 2502: not UTF-8" in result.output
    assert not out.exists() and not list(tmp_path.glob(".out.csv.*"))


def test_the_output_may_not_overwrite_the_input(tmp_path):
    src = _write(tmp_path / "in.csv", [["text"], ["a"]])
    result = _run("privacy", "scrub", str(src), "--output", str(src))
    assert result.exit_code == 2 and "overwrite" in result.output
    assert _read(src) == [["text"], ["a"]]


@pytest.mark.slow
def test_a_real_process_prints_one_line_and_no_traceback(tmp_path):
    src = _write(tmp_path / "in.csv", [["text"], ["其母王秀英，微信号wxy_1988"]])
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SENTINEL_", "LANG", "LC_"))}
    command = [sys.executable, "-c", "from pipeline.cli import main; main()", "privacy", "scrub"]
    done = subprocess.run(
        [*command, str(src), "--output", str(tmp_path / "out.csv")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert _read(tmp_path / "out.csv") == [["text"], ["其母[姓名]，微信号[社交账号]"]]
    bad = subprocess.run(
        [*command, str(tmp_path / "missing.csv"), "--output", str(tmp_path / "o.csv")],
        env={**env, "LANG": "zh_CN.UTF-8"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == f"错误：{tmp_path / 'missing.csv'}：找不到该文件"
