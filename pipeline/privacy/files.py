"""``scrub_csv``: the scrubbing of intake applied to one column of any UTF-8 CSV file (what a
user runs before sharing narratives: ``sentinel privacy scrub``)."""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import pandas as pd

from pipeline.errors import BadInput
from pipeline.privacy.scrub import scrub_series

# ---- files ---------------------------------------------------------------------------------


class ScrubInputError(BadInput):
    """A file ``scrub_csv`` cannot work on; the message says what and where, in zh or en."""

    message_en = "{path}: {detail}"
    message_zh = "{path}：{detail}"

    def __init__(self, path: Path, en: str, zh: str) -> None:
        super().__init__(en, detail_zh=zh, path=path)
        self.path = path


@dataclass(frozen=True)
class ScrubSummary:
    rows: int
    changed: int
    output: Path


def _decoded_lines(path: Path, raw: Iterable[bytes]) -> Iterator[str]:
    """UTF-8 lines of a file (BOM dropped); a byte that is not UTF-8 stops with its line."""
    for number, line in enumerate(raw, 1):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError as exc:
            byte = line[exc.start]
            raise ScrubInputError(
                path,
                f"line {number}: not UTF-8 (byte 0x{byte:02x} at byte {exc.start + 1} of the "
                "line); save the file as UTF-8, e.g. iconv -f GB18030 -t UTF-8",
                f"第 {number} 行不是 UTF-8 编码（该行第 {exc.start + 1} 个字节 0x{byte:02x}）；"
                "请另存为 UTF-8，例如 iconv -f GB18030 -t UTF-8",
            ) from None
        yield text.removeprefix("\ufeff") if number == 1 else text


def _find_column(path: Path, header: list[str], column: str, what: str) -> int:
    names = [h.strip() for h in header]
    if column in names:
        return names.index(column)
    folded = [n.casefold() for n in names]
    if folded.count(column.casefold()) == 1:
        return folded.index(column.casefold())
    listed = ", ".join(names) or "(none)"
    raise ScrubInputError(
        path,
        f"no {what} column '{column}' (columns: {listed}); choose one with --column",
        f"没有名为“{column}”的列（现有列：{listed}）；请用 --column 指定",
    )


def scrub_csv(
    input_path: Path,
    output_path: Path,
    column: str = "text",
    name_column: str | None = None,
    chunk_rows: int = 100_000,
) -> ScrubSummary:
    """Scrub one column of a UTF-8 CSV file (what a user runs before sharing narratives):
    every other column, the header and the row order are kept. With ``name_column``, each
    row's name in that column is also removed from its text. The output appears only when
    the whole file was done (written to a temporary file, then renamed)."""
    input_path, output_path = Path(input_path), Path(output_path)
    if not input_path.is_file():
        raise ScrubInputError(input_path, "no such file", "找不到该文件")
    if output_path.resolve() == input_path.resolve():
        raise ScrubInputError(
            input_path, "the output would overwrite the input", "输出文件不能覆盖输入文件"
        )
    if not output_path.parent.is_dir():
        raise ScrubInputError(
            output_path, "the output folder does not exist", "输出文件所在的文件夹不存在"
        )
    csv.field_size_limit(1 << 26)
    with input_path.open("rb") as raw:
        has_bom = raw.read(3) == b"\xef\xbb\xbf"
    rows = changed = 0
    handle, tmp_name = tempfile.mkstemp(prefix=f".{output_path.name}.", dir=output_path.parent)
    tmp = Path(tmp_name)
    try:
        with (
            input_path.open("rb") as raw,
            open(handle, "w", encoding="utf-8-sig" if has_bom else "utf-8", newline="") as out,
        ):
            reader = csv.reader(_decoded_lines(input_path, raw))
            writer = csv.writer(out, lineterminator="\n")
            try:
                header = next(reader)
            except StopIteration:
                raise ScrubInputError(
                    input_path, "empty file (no header row)", "空文件（没有表头行）"
                ) from None
            except csv.Error as exc:
                raise ScrubInputError(
                    input_path, f"not a readable CSV file ({exc})", f"无法按 CSV 读取（{exc}）"
                ) from None
            at = _find_column(input_path, header, column, "text")
            name_at = _find_column(input_path, header, name_column, "name") if name_column else None
            writer.writerow(header)
            while True:
                try:
                    chunk = list(islice(reader, chunk_rows))
                except csv.Error as exc:
                    raise ScrubInputError(
                        input_path,
                        f"line {reader.line_num}: not a readable CSV row ({exc})",
                        f"第 {reader.line_num} 行无法按 CSV 读取（{exc}）",
                    ) from None
                if not chunk:
                    break
                texts = pd.Series([r[at] if at < len(r) else None for r in chunk], dtype=object)
                names = None
                if name_at is not None:
                    names = pd.Series(
                        [r[name_at] if name_at < len(r) else None for r in chunk], dtype=object
                    )
                scrubbed = scrub_series(texts, names).tolist()
                for row, before, after in zip(chunk, texts.tolist(), scrubbed, strict=True):
                    if after != before:
                        row[at] = after
                        changed += 1
                writer.writerows(chunk)
                rows += len(chunk)
        tmp.replace(output_path)
    finally:
        tmp.unlink(missing_ok=True)
    return ScrubSummary(rows=rows, changed=changed, output=output_path)
